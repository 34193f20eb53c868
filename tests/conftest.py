"""Shared test fixtures: no test may leave a training thread or a child process running."""

from __future__ import annotations

import atexit
import multiprocessing
import os
import shutil
import tempfile
import threading
import time

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Every run is recorded by default into the user's data folder ($XDG_DATA_HOME/trainscope):
# the whole test session — and every subprocess it starts — records into a scratch folder.
_TEST_DATA_HOME = tempfile.mkdtemp(prefix="trainscope-test-data-")
os.environ["XDG_DATA_HOME"] = _TEST_DATA_HOME
atexit.register(shutil.rmtree, _TEST_DATA_HOME, ignore_errors=True)


LEFTOVER_GRACE_S = 60.0


def _leftovers() -> list[str]:
    threads = [
        t.name for t in threading.enumerate() if t.name.startswith("trainscope") and t.is_alive()
    ]
    children = [f"pid {child.pid}" for child in multiprocessing.active_children()]
    return threads + children


@pytest.fixture(autouse=True)
def no_leftover_threads_or_processes():
    """Fail any test that leaves a training thread or a worker process behind.

    A run that was told to stop ends once it reaches its next command check, which on a busy
    machine can take many seconds (a thread still importing torch or building its data), so
    this waits for the threads to end; the grace is only a ceiling that a real leak, a run
    never told to stop, always exceeds.
    """
    yield
    deadline = time.monotonic() + LEFTOVER_GRACE_S
    while _leftovers() and time.monotonic() < deadline:
        time.sleep(0.05)
    left = _leftovers()
    assert not left, f"test left running: {left}"
