"""Crash safety: a run whose process is SIGKILLed is listed as interrupted, its events intact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from trainscope.engine import events as ev
from trainscope.engine.runs.store import RunStore

CHILD = Path(__file__).with_name("crash_child.py")


def _read_lines(stream, lines: list[tuple[float, str]]) -> None:
    for line in stream:
        lines.append((time.monotonic(), line.strip()))


def test_a_killed_recording_keeps_all_but_its_last_second(tmp_path):
    database = tmp_path / "runs.sqlite"
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(database)], stdout=subprocess.PIPE, text=True
    )
    lines: list[tuple[float, str]] = []
    reader = threading.Thread(target=_read_lines, args=(child.stdout, lines), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while not any(text.startswith("step") for _, text in lines):
            assert time.monotonic() < deadline, lines
            assert child.poll() is None, lines
            time.sleep(0.05)
        time.sleep(1.5)  # record a while, then kill it without warning
        killed_at = time.monotonic()
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
        reader.join(5)
    steps_reported = [
        int(text.split()[1])
        for at, text in lines
        if text.startswith("step") and at <= killed_at - 1.0
    ]
    must_have = max(steps_reported, default=0)

    with RunStore(database) as store:
        [info] = store.list_runs()
        events = store.load_events(info.id)
    assert info.status == "interrupted"
    assert info.name == "doomed"
    steps = np.concatenate([event.steps for event in events if isinstance(event, ev.StepMetrics)])
    np.testing.assert_array_equal(steps, np.arange(1, len(steps) + 1))  # no gap, no duplicate
    assert steps[-1] >= must_have > 0
    assert info.steps == steps[-1]
    assert isinstance(events[0], ev.RunStarted)
    assert any(isinstance(event, ev.Evaluation) for event in events)
