"""The worker-process session: same interface, and it never outlives its parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.engine.session_helpers import (
    collect_until,
    last_state,
    of_type,
    small_config,
    step_count,
    step_values,
)
from trainscope.engine import commands as cmd
from trainscope.engine import events as ev
from trainscope.engine.worker import ProcessSession, WarmWorker

REPO = Path(__file__).resolve().parents[2]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); read its state to tell.
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status


def test_worker_trains_and_obeys_commands():
    session = ProcessSession(small_config())
    session.start()
    try:
        events = collect_until(session, [], lambda e: step_count(e) >= 30)
        session.send(cmd.SetParam("lr", 0.02))
        collect_until(session, events, lambda e: bool(of_type(e, ev.ParamChanged)))
        change = of_type(events, ev.ParamChanged)[0]
        collect_until(session, events, lambda e: step_count(e) >= change.step + 3)
        assert step_values(events, "lr")[change.step] == 0.02
        session.send(cmd.Pause())
        collect_until(session, events, lambda e: last_state(e) == "paused")
    finally:
        session.close()
    assert not session.is_alive()


def test_killed_worker_is_reported_not_raised():
    session = ProcessSession(small_config())
    session.start()
    try:
        events = collect_until(session, [], lambda e: step_count(e) >= 5)
        os.kill(session.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not of_type(events, ev.Error):
            events.extend(session.drain())
            time.sleep(0.02)
        errors = of_type(events, ev.Error)
        assert errors
        assert "killed by signal 9" in errors[0].message
        assert session.drain() == []  # reported once, and drain keeps working
    finally:
        session.close()


def test_worker_dies_with_its_parent(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys, time
            sys.path.insert(0, {str(REPO)!r})
            from trainscope.engine.worker import ProcessSession
            from tests.engine.session_helpers import small_config
            if __name__ == "__main__":
                session = ProcessSession(small_config())
                session.start()
                print(session.pid, flush=True)
                time.sleep(60)
            """
        )
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        worker_pid = int(parent.stdout.readline())
        time.sleep(1.0)  # let the worker get going
        assert _pid_alive(worker_pid)
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and _pid_alive(worker_pid):
            time.sleep(0.05)
        assert not _pid_alive(worker_pid), "worker outlived its parent"
    finally:
        parent.kill()


def test_gui_side_engine_modules_do_not_import_torch():
    code = (
        "import sys; import trainscope.engine.worker, trainscope.engine.session, trainscope.engine.summary, trainscope.engine.cli, trainscope.engine.metrics, "
        "trainscope.engine.data, trainscope.engine.scenario, trainscope.engine.scenario_schema, trainscope.engine.diagnosis, trainscope.engine.expectations, "
        "trainscope.engine.run_fold, trainscope.engine.data_variants; print('torch' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_worker_relays_insights_when_asked():
    session = ProcessSession(small_config())
    session.start()
    try:
        session.send(cmd.SetInsights(boundary=True, layer_health=True))
        events = collect_until(
            session,
            [],
            lambda e: bool(of_type(e, ev.DecisionBoundary)) and bool(of_type(e, ev.LayerHealth)),
        )
    finally:
        session.close()
    assert of_type(events, ev.DataView)
    assert of_type(events, ev.ValidationInputs)
    assert of_type(events, ev.DecisionBoundary)[0].predicted_class.shape == (100, 100)


def test_a_warm_worker_trains_the_first_run_and_only_the_first():
    warm = WarmWorker()
    first = ProcessSession(small_config(), warm=warm)
    try:
        first.start()
        assert first.pid == warm_pid(warm)
        second = ProcessSession(small_config(), warm=warm)  # the warm one is taken:
        assert second.pid is None  # this one spawns a process of its own when started
        events = collect_until(first, [], lambda e: step_count(e) >= 10)
        assert of_type(events, ev.RunStarted)[0].seed == small_config().seed
    finally:
        first.close()
        warm.close()  # taken: closing it leaves the session's process to the session
    assert not first.is_alive()


def test_a_warm_worker_nobody_took_is_ended_by_close():
    warm = WarmWorker()
    pid = warm_pid(warm)
    warm.close()
    assert not _pid_alive(pid)
    assert warm.take() is None


def warm_pid(warm: WarmWorker) -> int:
    """The warm worker's process id, read without taking it."""
    return warm._process.pid  # noqa: SLF001  (a test looking inside)
