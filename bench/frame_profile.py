"""Where a frame's time goes: per-panel refresh cost, paint cost, a cProfile, and memory per step.

The window is driven at 30 Hz by a synthetic session (no worker process, no training), so the
numbers are repeatable on a busy machine and a profile shows only the GUI's own work:
``--steps-per-frame`` steps arrive each frame with an evaluation every ``--eval-every`` steps,
after ``--history`` steps already in the curves, and a learning-rate change (a marker on the
time charts) once a second for the first ``--markers`` seconds, as window_bench sends them. ``--fast-forward`` pushes many steps per frame
to show what hours of training do to memory and to the frame cost in a minute.

Run:  QT_QPA_PLATFORM=offscreen .venv/bin/python bench/frame_profile.py [--history 100000]
      [--seconds 10] [--profile] [--classes 2] [--fast-forward 2000000]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from bench.panel_timing import timed_panels  # noqa: E402
from tests import event_factory  # noqa: E402
from trainscope.engine import commands as cmd  # noqa: E402
from trainscope.engine import events as ev  # noqa: E402
from trainscope.engine.config import RunConfig  # noqa: E402
from trainscope.engine.resources import resident_mib  # noqa: E402
from trainscope.gui.main_window import MainWindow  # noqa: E402

FRAME_S = 1 / 30
EVALUATION_POOL = 8  # distinct evaluations cycled through (computing them is not the GUI's cost)


class SyntheticSession:
    """Plays a healthy run in real time: a few steps per drain and an evaluation now and then."""

    def __init__(
        self, n_classes: int, history: int, steps_per_frame: int, eval_every: int, markers: int
    ) -> None:
        self.n_classes = n_classes
        self.history = history
        self.markers = markers
        self.frames = 0
        self.steps_per_frame = steps_per_frame
        self.eval_every = eval_every
        self.step = 0
        self.started = False
        self.alive = False
        labels = event_factory.synthetic_labels(n_classes, n=360)
        self.evaluations = [
            event_factory.evaluation(
                0,
                event_factory.synthetic_probabilities(labels, n_classes, 0.5 + i, seed=i),
                labels,
            )
            for i in range(EVALUATION_POOL)
        ]
        self.rng = np.random.default_rng(0)
        self.chance = float(np.log(n_classes))

    def start(self) -> None:
        self.alive = True

    def send(self, command: cmd.Command) -> None:
        pass

    def is_alive(self) -> bool:
        return self.alive

    def close(self) -> None:
        self.alive = False

    def drain(self) -> list[ev.Event]:
        events: list[ev.Event] = []
        if not self.started:
            self.started = True
            events.append(event_factory.run_started(self.n_classes))
            events.append(ev.StateChanged(step=0, state="running"))
            if self.history:
                events.append(self._steps(self.history))
        events.append(self._steps(self.steps_per_frame))
        self.frames += 1
        if self.frames % 30 == 0 and self.frames // 30 <= self.markers:
            old, new = (1e-3, 2e-3) if self.frames // 30 % 2 else (2e-3, 1e-3)
            events.append(ev.ParamChanged(step=self.step + 1, key="lr", old=old, new=new))
        if self.step // self.eval_every != (self.step - self.steps_per_frame) // self.eval_every:
            evaluation = self.evaluations[(self.step // self.eval_every) % EVALUATION_POOL]
            events.append(_at_step(evaluation, self.step))
        return events

    def _steps(self, count: int) -> ev.StepMetrics:
        steps = np.arange(self.step + 1, self.step + count + 1)
        self.step += count
        clean = 0.05 + (self.chance - 0.05) * np.exp(-steps / 3000.0)
        loss = np.abs(clean * (1.0 + 0.25 * self.rng.standard_normal(count)))
        metrics = event_factory.step_metrics(steps, loss)
        return _published(metrics)


def _published(metrics: ev.StepMetrics) -> ev.StepMetrics:
    import dataclasses

    return dataclasses.replace(metrics, published_at=time.time())


def _at_step(evaluation: ev.Evaluation, step: int) -> ev.Evaluation:
    import dataclasses

    return dataclasses.replace(evaluation, step=step)


def run(args: argparse.Namespace) -> None:
    app = QApplication.instance() or QApplication([])
    settings = QSettings(tempfile.mktemp(suffix=".ini"), QSettings.IniFormat)
    session = SyntheticSession(
        args.classes, args.history, args.steps_per_frame, args.eval_every, args.markers
    )
    window = MainWindow(RunConfig(), session_factory=lambda _config: session, settings=settings)
    window.resize(1600, 1000)
    window.show()
    app.processEvents()
    window.start_session()
    window.frame_timer.stop()
    if args.raw:
        window.panels["loss"].raw_checkbox.setChecked(True)
    panel_costs, this_frame = timed_panels(window)
    frames, refreshes, paints = [], [], []
    slowest: list[tuple[float, float, dict[str, float]]] = []
    profiler = cProfile.Profile() if args.profile else None
    started = time.monotonic()
    next_frame = started
    warmup = 2.0
    profiling = False
    rss = []
    while time.monotonic() - started < args.seconds:
        if profiler is not None and not profiling and time.monotonic() - started > warmup:
            profiler.enable()
            profiling = True
        this_frame.clear()
        began = time.perf_counter()
        window.frame()
        refreshed = time.perf_counter()
        app.processEvents()
        ended = time.perf_counter()
        if time.monotonic() - started > warmup:
            frames.append((ended - began) * 1000)
            refreshes.append((refreshed - began) * 1000)
            paints.append((ended - refreshed) * 1000)
            slowest.append((frames[-1], paints[-1], dict(this_frame)))
            slowest = sorted(slowest, key=lambda frame: -frame[0])[:5]
        if args.fast_forward and (
            not rss or window.state.step - rss[-1][0] >= args.fast_forward // 10
        ):
            rss.append((window.state.step, resident_mib(), _state_nbytes(window) / 2**20))
        if args.fast_forward and window.state.step >= args.fast_forward:
            break
        next_frame += FRAME_S
        time.sleep(max(0.0, next_frame - time.monotonic()))
    if profiler is not None:
        profiler.disable()
    window.close()
    app.processEvents()
    print(
        f"history {args.history:,} + {window.state.step - args.history:,} live steps, "
        f"{len(frames)} frames: frame median {statistics.median(frames):.2f} ms "
        f"p95 {np.percentile(frames, 95):.2f} ms | refresh (drain+fold+panels) median "
        f"{statistics.median(refreshes):.2f} ms | paint median {statistics.median(paints):.2f} ms"
    )
    for name, costs in panel_costs.items():
        warm = costs[len(costs) // 5 :] or [0.0]
        print(
            f"  {name:<12} refresh median {statistics.median(warm):6.3f} ms  "
            f"mean {statistics.fmean(warm):6.3f} ms  max {max(warm):7.2f} ms"
        )
    for total, paint, panels in slowest:
        busy = ", ".join(f"{name} {cost:.1f}" for name, cost in panels.items() if cost > 0.5)
        print(f"  slow frame {total:6.1f} ms: paint {paint:5.1f} ms; refresh ms: {busy}")
    for step, resident, nbytes in rss:
        print(f"  step {step:>10,}  RSS {resident:6.0f} MiB  RunState arrays {nbytes:6.1f} MiB")
    if profiler is not None:
        stats = pstats.Stats(profiler).strip_dirs()
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)


def _state_nbytes(window: MainWindow) -> int:
    """Bytes held by the run's curve arrays (an older GrowableSeries has no ``nbytes``)."""
    series = (window.state.train, window.state.evaluations)
    return sum(getattr(part, "nbytes", None) or part._data.nbytes for part in series)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--history", type=int, default=0)
    parser.add_argument("--steps-per-frame", type=int, default=25)
    parser.add_argument("--eval-every", type=int, default=100)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--markers", type=int, default=10, help="lr changes, one a second")
    parser.add_argument("--raw", action="store_true", help="show the raw per-batch loss too")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--fast-forward", type=int, default=0, help="stop at this step")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
