"""The window part of the insights benchmark: every insight panel shown vs all hidden vs headless.

The three insight panels share one tabbed dock, so only one shows at a time in the default
layout; "shown" floats them beside the main window so all three are on screen at once (and the
training process collects the boundary and layer health), "hidden" closes them. Headless is an
in-process ``ThreadSession`` with no insights. Throughput is the steady rate from the first
published step batch to the last, so start-up is not counted. Repeats are interleaved; medians.
Run:  QT_QPA_PLATFORM=offscreen .venv/bin/python bench/insights_window.py [--seconds 20] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from bench.insights_bench import steady_rate  # noqa: E402
from trainscope.engine import events as ev  # noqa: E402
from trainscope.engine.config import DatasetSpec, ModelSpec, RunConfig  # noqa: E402
from trainscope.engine.session import ThreadSession  # noqa: E402
from trainscope.engine.worker import ProcessSession  # noqa: E402
from trainscope.gui.insights_wiring import INSIGHT_DOCKS  # noqa: E402
from trainscope.gui.main_window import MainWindow  # noqa: E402

FRAME_S = 1 / 30
FLOATING_SIZE = (520, 420)


class Taps:
    """Keeps the step batches and insight events a session sends, for the figures."""

    def __init__(self) -> None:
        self.batches: list[ev.StepMetrics] = []
        self.boundary_ms: list[float] = []
        self.layer_ms: list[float] = []
        self.evaluations = 0

    def take(self, events: list[ev.Event]) -> list[ev.Event]:
        for event in events:
            if isinstance(event, ev.StepMetrics):
                self.batches.append(event)
            elif isinstance(event, ev.DecisionBoundary):
                self.boundary_ms.append(event.duration_ms)
            elif isinstance(event, ev.LayerHealth):
                self.layer_ms.append(event.duration_ms)
            elif isinstance(event, ev.Evaluation) and event.split == "validation":
                self.evaluations += 1
        return events

    def steady_rate(self) -> float:
        return steady_rate(self.batches)[0]


class TappedSession(ProcessSession):
    """The worker session, with its drained events passed through ``Taps``."""

    def __init__(self, config: RunConfig, taps: Taps, **options: object) -> None:
        super().__init__(config, **options)
        self.taps = taps

    def drain(self) -> list[ev.Event]:
        return self.taps.take(super().drain())


def run_headless(config: RunConfig, seconds: float) -> Taps:
    taps = Taps()
    session = ThreadSession(config)
    session.start()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.05)
        taps.take(session.drain())
    session.close()
    return taps


def run_window(app: QApplication, config: RunConfig, seconds: float, shown: bool) -> Taps:
    """The real window at 30 Hz with the insight panels floating (shown) or closed (hidden)."""
    taps = Taps()
    settings = QSettings(tempfile.mktemp(suffix=".ini"), QSettings.IniFormat)
    window = MainWindow(
        config,
        session_factory=lambda run_config, **options: TappedSession(run_config, taps, **options),
        settings=settings,
    )
    window.resize(1600, 1000)
    window.show()
    for offset, name in enumerate(INSIGHT_DOCKS):
        dock = window.docks[name]
        if shown:
            dock.setFloating(True)
            dock.resize(*FLOATING_SIZE)
            dock.move(40 + offset * 540, 40)
            dock.show()
        else:
            dock.close()
    app.processEvents()
    window.start_session(config)
    window.frame_timer.stop()
    started = time.monotonic()
    next_frame = started
    while time.monotonic() - started < seconds:
        window.frame()
        app.processEvents()
        next_frame += FRAME_S
        time.sleep(max(0.0, next_frame - time.monotonic()))
    window.close()
    app.processEvents()
    return taps


def bench_config(dataset: str) -> RunConfig:
    return RunConfig(dataset=DatasetSpec(name=dataset), model=ModelSpec(hidden=(128, 128)), seed=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--datasets", default="digits,moons")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    print(f"{args.seconds:.0f} s per run, {args.repeats} interleaved repeats, medians")
    print(
        f"{'data':<8}{'mode':<18}{'steps/s':>9}{'ratio':>8}{'boundary ms':>13}{'layers ms':>11}"
        f"{'boundaries/eval':>17}"
    )
    for dataset in args.datasets.split(","):
        config = bench_config(dataset)
        runs: dict[str, list[Taps]] = {"headless": [], "window, hidden": [], "window, shown": []}
        for _ in range(args.repeats):
            runs["headless"].append(run_headless(config, args.seconds))
            runs["window, hidden"].append(run_window(app, config, args.seconds, shown=False))
            runs["window, shown"].append(run_window(app, config, args.seconds, shown=True))
        headless = statistics.median(taps.steady_rate() for taps in runs["headless"])
        for mode, tapped in runs.items():
            rate = statistics.median(taps.steady_rate() for taps in tapped)
            boundary = [ms for taps in tapped for ms in taps.boundary_ms]
            layers = [ms for taps in tapped for ms in taps.layer_ms]
            per_eval = len(boundary) / max(1, sum(taps.evaluations for taps in tapped))
            print(
                f"{dataset:<8}{mode:<18}{rate:9.0f}{rate / headless:8.3f}"
                f"{statistics.median(boundary) if boundary else float('nan'):13.2f}"
                f"{statistics.median(layers) if layers else float('nan'):11.2f}{per_eval:17.0%}"
            )


if __name__ == "__main__":
    main()
