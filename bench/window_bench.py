"""The window's costs, measured side by side in one run (medians over interleaved repeats).

Reports, for the same model and data (digits, MLP 64-128-128-10, batch 32):
- training steps/s with the full window live at ~30 Hz vs headless (an in-process ThreadSession),
  with 1k-point curves (a fresh run) and with 100k points of history per training curve;
- median and 95th-percentile frame cost (drain + fold + refresh + paint) at 1k and 100k points,
  split into refresh (``frame()``: drain, fold, panels) and paint (Qt, after it), and each
  panel's refresh cost per frame (``bench/frame_profile.py`` has a profile and the slowest frames);
- event-to-screen latency (StepMetrics leaving the training thread → painted);
- command-to-effect (SetParam sent → ParamChanged back from the worker) and its step;
- launch → visible window and launch → first training step (a real `main.py --timing` process);
- resident memory of the GUI and the worker (``--soak-minutes`` for a long soak).

Run:  QT_QPA_PLATFORM=offscreen .venv/bin/python bench/window_bench.py [--seconds 20] [--repeats 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
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
from trainscope.engine import commands as cmd  # noqa: E402
from trainscope.engine import events as ev  # noqa: E402
from trainscope.engine.config import DatasetSpec, ModelSpec, RunConfig  # noqa: E402
from trainscope.engine.session import ThreadSession  # noqa: E402
from trainscope.engine.summary import RunSummary  # noqa: E402
from trainscope.engine.worker import ProcessSession  # noqa: E402
from trainscope.gui.main_window import MainWindow  # noqa: E402

FRAME_S = 1 / 30
HISTORY_STEPS = 100_000
RSS_EVERY_S = 5.0


def bench_config() -> RunConfig:
    return RunConfig(
        dataset=DatasetSpec(name="digits"),
        model=ModelSpec(hidden=(128, 128)),
        eval_every=100,
        seed=0,
    )


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class ProbedSession:
    """Wraps the worker session: notes publish times and ParamChanged arrivals, and can prepend
    ``history`` synthetic steps so the curves hold 100k points (live steps are shifted after them)."""

    def __init__(self, config: RunConfig, history: int) -> None:
        self.inner = ProcessSession(config)
        self.history = history
        self.injected = history == 0
        self.newest_publish: float | None = None
        self.param_changes: list[tuple[float, ev.ParamChanged]] = []
        self.last_step = 0

    def start(self) -> None:
        self.inner.start()

    def send(self, command: cmd.Command) -> None:
        self.inner.send(command)

    def is_alive(self) -> bool:
        return self.inner.is_alive()

    def close(self) -> None:
        self.inner.close()

    @property
    def pid(self) -> int | None:
        return self.inner.pid

    def drain(self) -> list[ev.Event]:
        events = [self._shift(event) for event in self.inner.drain()]
        now = time.time()
        for event in events:
            if isinstance(event, ev.StepMetrics):
                self.newest_publish = max(self.newest_publish or 0.0, event.published_at)
                self.last_step = int(event.steps[-1])
            elif isinstance(event, ev.ParamChanged):
                self.param_changes.append((now, event))
        if not self.injected and any(isinstance(event, ev.RunStarted) for event in events):
            self.injected = True
            at = next(i for i, event in enumerate(events) if isinstance(event, ev.RunStarted)) + 1
            events.insert(at, _synthetic_history(self.history))
        return events

    def _shift(self, event: ev.Event) -> ev.Event:
        if self.history == 0:
            return event
        if isinstance(event, ev.StepMetrics):
            return dataclasses.replace(event, steps=event.steps + self.history)
        if hasattr(event, "step") and not isinstance(event, ev.RunStarted):
            return dataclasses.replace(event, step=event.step + self.history)
        return event


def _synthetic_history(n: int) -> ev.StepMetrics:
    rng = np.random.default_rng(0)
    steps = np.arange(1, n + 1, dtype=np.int64)
    loss = 2.3 * np.exp(-steps / 3000) + 0.05 + rng.normal(0, 0.05, n).clip(-0.04)
    ones = np.ones(n)
    return ev.StepMetrics(steps, loss, ones * 0.9, ones, ones * 1e-3, 0.0, 0.0, 0.0)


def run_headless(config: RunConfig, seconds: float) -> float:
    session = ThreadSession(config)
    summary = RunSummary()
    session.start()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.05)
        for event in session.drain():
            summary.update(event)
    session.close()
    return summary.steps_per_second


def run_window(app: QApplication, config: RunConfig, seconds: float, history: int) -> dict:
    """Drive the real window at 30 Hz ourselves, so each frame's paint is inside the timing."""
    settings = QSettings(tempfile.mktemp(suffix=".ini"), QSettings.IniFormat)
    probes: list[ProbedSession] = []

    def factory(run_config: RunConfig) -> ProbedSession:
        probes.append(ProbedSession(run_config, history))
        return probes[-1]

    window = MainWindow(config, session_factory=factory, settings=settings)
    window.resize(1600, 1000)
    window.show()
    app.processEvents()
    window.start_session(config)
    window.frame_timer.stop()
    probe = probes[-1]
    panel_costs, _ = timed_panels(window)
    frames, refreshes, latencies, rss = [], [], [], []
    commands_sent: list[tuple[float, int]] = []
    started = time.monotonic()
    next_frame = started
    while time.monotonic() - started < seconds:
        begin = time.perf_counter()
        probe.newest_publish = None
        window.frame()
        refreshes.append((time.perf_counter() - begin) * 1000)
        app.processEvents()
        frames.append((time.perf_counter() - begin) * 1000)
        if probe.newest_publish:
            latencies.append((time.time() - probe.newest_publish) * 1000)
        elapsed = time.monotonic() - started
        if (
            probe.last_step > 0
            and elapsed > 3
            and len(commands_sent) < int(elapsed - 3)
            and len(commands_sent) < 10
        ):
            value = 1e-3 if len(commands_sent) % 2 else 2e-3
            commands_sent.append((time.time(), probe.last_step))
            window.send_command(cmd.SetParam("lr", value))
        if probe.pid and (not rss or elapsed - rss[-1][0] >= RSS_EVERY_S):
            rss.append((elapsed, rss_mib(os.getpid()), rss_mib(probe.pid), window.state.step))
        next_frame += FRAME_S
        time.sleep(max(0.0, next_frame - time.monotonic()))
    effect = [
        (arrival - sent) * 1000
        for (sent, _), (arrival, _) in zip(commands_sent, probe.param_changes, strict=False)
    ]
    steps_after = [
        change.step - seen
        for (_, seen), (_, change) in zip(commands_sent, probe.param_changes, strict=False)
    ]
    rate = window.summary.steps_per_second
    train = window.state.train
    points = getattr(train, "total_rows", len(train))
    per_panel = {name: sum(costs) / max(len(frames), 1) for name, costs in panel_costs.items()}
    window.close()
    app.processEvents()
    warm = frames[len(frames) // 5 :]  # skip start-up frames
    warm_refresh = refreshes[len(refreshes) // 5 :]
    paints = [frame - refresh for frame, refresh in zip(warm, warm_refresh, strict=True)]
    return {
        "steps_per_second": rate,
        "points": points,
        "frame_median_ms": statistics.median(warm),
        "frame_p95_ms": float(np.percentile(warm, 95)),
        "refresh_median_ms": statistics.median(warm_refresh),
        "paint_median_ms": statistics.median(paints),
        **{f"panel_{name}_ms": cost for name, cost in per_panel.items()},
        "latency_median_ms": statistics.median(latencies) if latencies else float("nan"),
        "command_to_effect_ms": statistics.median(effect) if effect else float("nan"),
        "command_step_gap": statistics.median(steps_after) if steps_after else float("nan"),
        "rss_gui_mib": rss[-1][1] if rss else float("nan"),
        "rss_worker_mib": rss[-1][2] if rss else float("nan"),
        "rss_samples": rss,
    }


def launch_timings(repeats: int) -> tuple[float, float]:
    """Seconds from process launch to a visible window, and to the first training step."""
    shown, first = [], []
    for _ in range(repeats):
        launched = time.time()
        result = subprocess.run(
            [
                sys.executable,
                "main.py",
                "--timing",
                "--pace",
                "max",
                "--endless",
                "--quit-after",
                "15",
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
            timeout=120,
        )
        timing = json.loads(
            next(line for line in result.stderr.splitlines() if line.startswith("{"))
        )
        shown.append(timing["window_shown"] - launched)
        first.append(timing["first_step"] - launched)
    return statistics.median(shown), statistics.median(first)


def soak(app: QApplication, minutes: float) -> None:
    """Long run: print GUI and worker resident memory once a minute, and the frame figures."""
    global RSS_EVERY_S
    RSS_EVERY_S = 60.0
    result = run_window(app, bench_config(), minutes * 60, 0)
    print(
        f"soak {minutes:.0f} min: {result['points']} steps, {result['steps_per_second']:.0f} steps/s"
    )
    for elapsed, gui, worker, step in result.pop("rss_samples"):
        print(
            f"  t={elapsed / 60:5.1f} min  step {step:>8}  RSS gui {gui:6.0f} MiB  worker {worker:6.0f} MiB"
        )
    print(f"  frame median {result['frame_median_ms']:.1f} ms, p95 {result['frame_p95_ms']:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--soak-minutes", type=float, default=0)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    if args.soak_minutes:
        soak(app, args.soak_minutes)
        return
    config = bench_config()
    rows: dict[str, list] = {"headless": [], "window_1k": [], "window_100k": []}
    for _ in range(args.repeats):
        rows["headless"].append(run_headless(config, args.seconds))
        rows["window_1k"].append(run_window(app, config, args.seconds, 0))
        rows["window_100k"].append(run_window(app, config, args.seconds, HISTORY_STEPS))
    headless = statistics.median(rows["headless"])
    print(f"headless (ThreadSession)         : {headless:8.1f} steps/s (median of {args.repeats})")
    for name in ("window_1k", "window_100k"):
        results = rows[name]
        med = {
            key: statistics.median(r[key] for r in results)
            for key in results[0]
            if key != "rss_samples"
        }
        print(
            f"{name:<12} ({med['points']:>7.0f} pts): {med['steps_per_second']:8.1f} steps/s  "
            f"ratio {med['steps_per_second'] / headless:.3f}  frame median {med['frame_median_ms']:.1f} ms "
            f"p95 {med['frame_p95_ms']:.1f} ms  latency {med['latency_median_ms']:.0f} ms  "
            f"command→effect {med['command_to_effect_ms']:.0f} ms (step gap {med['command_step_gap']:.0f})  "
            f"RSS gui {med['rss_gui_mib']:.0f} MiB worker {med['rss_worker_mib']:.0f} MiB"
        )
        panels = ", ".join(
            f"{key[6:-3]} {value:.2f}" for key, value in med.items() if key.startswith("panel_")
        )
        print(
            f"{'':<27} refresh median {med['refresh_median_ms']:.1f} ms, paint median "
            f"{med['paint_median_ms']:.1f} ms; mean refresh ms per frame: {panels}"
        )
    shown, first = launch_timings(args.repeats)
    print(f"launch → window shown            : {shown:.2f} s (median)")
    print(f"launch → first training step     : {first:.2f} s (median)")


if __name__ == "__main__":
    main()
