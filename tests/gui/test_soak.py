"""Soak: the real window with live training (worker process) for minutes on end.

It checks what would hurt a class an hour into a demo: the app keeps drawing, the worker stays
alive, the frame cost and the event loop's responsiveness do not grow with the run's length,
and memory does not run away. The length is ``TRAINSCOPE_SOAK_SECONDS`` (default 120, which
keeps the whole suite within its budget on two cores; `bench/window_bench.py --soak-minutes 30`
is the long one).
Like the 30 Hz plotting probe that found PySide6 6.12's crash, a hard crash here kills pytest.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QElapsedTimer, QObject, QTimer, Slot

from tests.gui.window_helpers import open_window, wait_for_run
from trainscope.engine.config import DatasetSpec, ModelSpec, RunConfig
from trainscope.engine.worker import ProcessSession

SOAK_SECONDS = float(os.environ.get("TRAINSCOPE_SOAK_SECONDS", "120"))
PROBE_INTERVAL_MS = 50


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS line")


class LatenessProbe(QObject):
    """A 50 ms timer that records how late each tick arrives: a busy GUI thread shows up here."""

    def __init__(self) -> None:
        super().__init__()
        self.lateness_ms: list[tuple[float, float]] = []
        self.clock = QElapsedTimer()
        self.clock.start()
        self.timer = QTimer(self)
        self.timer.setInterval(PROBE_INTERVAL_MS)
        self.timer.timeout.connect(self.tick)
        self.timer.start()

    @Slot()
    def tick(self) -> None:
        elapsed = self.clock.restart()
        self.lateness_ms.append((time.monotonic(), max(0.0, elapsed - PROBE_INTERVAL_MS)))


@pytest.mark.soak
def test_window_survives_minutes_of_live_training_without_slowing(qtbot, tmp_path):
    config = RunConfig(
        dataset=DatasetSpec(name="digits"), model=ModelSpec(hidden=(128, 128)), seed=1
    )
    window = open_window(qtbot, tmp_path, config, session_factory=ProcessSession)
    wait_for_run(qtbot, window, lambda: window.state.step > 0)
    probe = LatenessProbe()
    started = time.monotonic()
    samples = []  # (seconds, steps the window has drawn, recent frame cost, gui rss, worker rss)
    while (elapsed := time.monotonic() - started) < SOAK_SECONDS:
        qtbot.wait(5000)
        assert window.session is not None, "the worker died"
        assert window.session.is_alive(), "the worker died"
        recent_cost = statistics.median(window.frame_costs_ms()[-100:])
        samples.append(
            (
                elapsed,
                window.state.step,
                recent_cost,
                rss_mib(os.getpid()),
                rss_mib(window.session.pid),
            )
        )
    probe.timer.stop()
    steps_drawn = [sample[1] for sample in samples]
    assert all(b > a for a, b in zip(steps_drawn, steps_drawn[1:], strict=False)), (
        "the window stopped advancing"
    )
    third = max(1, len(samples) // 3)
    early = statistics.median(sample[2] for sample in samples[:third])
    late = statistics.median(sample[2] for sample in samples[-third:])
    assert late <= 2 * early + 2.0, f"frame cost grew: {early:.2f} ms → {late:.2f} ms"
    lateness = [value for at, value in probe.lateness_ms if at - started > SOAK_SECONDS / 3]
    early_lateness = [value for at, value in probe.lateness_ms if at - started <= SOAK_SECONDS / 3]
    assert statistics.median(lateness) <= 2 * statistics.median(early_lateness) + 10, (
        "the event loop slowed"
    )
    gui_growth = samples[-1][3] - samples[len(samples) // 3][3]
    worker_growth = samples[-1][4] - samples[len(samples) // 3][4]
    growth = f"memory grew: gui {gui_growth:.0f} MiB, worker {worker_growth:.0f} MiB"
    assert gui_growth < 150, growth
    assert worker_growth < 150, growth
