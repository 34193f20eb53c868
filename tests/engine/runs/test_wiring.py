"""The run store wired in: headless runs are recorded, forks start from a checkpoint, the CLI."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.engine.session_helpers import collect_until, of_type, small_config
from trainscope.engine import events as ev
from trainscope.engine.headless import run_headless
from trainscope.engine.runs.checkpoints import list_checkpoints
from trainscope.engine.runs.cli import start_recording
from trainscope.engine.runs.fork import fork_config
from trainscope.engine.runs.paths import default_runs_dir
from trainscope.engine.runs.store import RunStore
from trainscope.engine.session import ThreadSession
from trainscope.engine.worker import ProcessSession

REPO = Path(__file__).resolve().parents[3]
STEPS = 60
SMALL_RUN = ["--dataset", "moons", "--n-samples", "400", "--hidden", "16", "--eval-every", "10"]


def test_tests_never_record_into_the_real_user_data_folder():
    assert str(default_runs_dir()).startswith(os.environ["XDG_DATA_HOME"])
    assert "trainscope-test-data-" in os.environ["XDG_DATA_HOME"]


@pytest.fixture(scope="module")
def headless_run(tmp_path_factory):
    """A headless run recorded into a fresh folder: (runs dir, run id, stderr text)."""
    runs_dir = tmp_path_factory.mktemp("runs")
    config = small_config(steps=STEPS)
    recorder = start_recording(config, runs_dir, "headless lesson")
    out, err = io.StringIO(), io.StringIO()
    assert run_headless(config, emit_json=True, out=out, err=err, recorder=recorder) == 0
    return runs_dir, recorder.run_id, err.getvalue()


def test_a_headless_run_is_recorded_with_its_events_status_and_checkpoints(headless_run):
    runs_dir, run_id, err = headless_run
    assert f"recorded as run {run_id} (completed)" in err
    with RunStore.open_dir(runs_dir) as store:
        info = store.get_run(run_id)
        events = store.load_events(run_id)
        saved = [step for step, _ in list_checkpoints(store.checkpoint_dir(run_id))]
    assert (info.name, info.status, info.steps) == ("headless lesson", "completed", STEPS)
    assert isinstance(events[0], ev.RunStarted)
    assert any(isinstance(e, ev.Finished) and e.reason == "completed" for e in events)
    steps = np.concatenate([e.steps for e in of_type(events, ev.StepMetrics)])
    np.testing.assert_array_equal(steps, np.arange(1, STEPS + 1))
    assert info.final["val_loss"] == pytest.approx(of_type(events, ev.Evaluation)[-1].loss)
    assert saved[-1] == STEPS  # the final weights, for a weights export or a fork


def _parent_evaluation(store: RunStore, run_id: int, step: int) -> ev.Evaluation:
    evaluations = [
        e
        for e in store.load_events(run_id, kinds=("Evaluation",))
        if e.split == "validation" and e.step == step
    ]
    return evaluations[-1]


@pytest.mark.parametrize("session_type", [ThreadSession, ProcessSession])
def test_a_fork_starts_from_the_checkpoint_step_with_its_weights(headless_run, session_type):
    runs_dir, run_id, _ = headless_run
    with RunStore.open_dir(runs_dir) as store:
        config, checkpoint = fork_config(store, run_id, STEPS, {"dropout": 0.3})
        parent = _parent_evaluation(store, run_id, STEPS)
    session = session_type(config, start_from=checkpoint)
    events: list = []
    session.start()
    try:
        collect_until(session, events, lambda e: bool(of_type(e, ev.Evaluation)))
    finally:
        session.close()
    started = of_type(events, ev.RunStarted)[0]
    first = of_type(events, ev.Evaluation)[0]
    assert started.settings["dropout"] == 0.3
    assert first.step == STEPS  # numbered on from the checkpoint, not from 0
    # Evaluation is deterministic: the same weights give the parent's numbers at that step.
    assert first.loss == pytest.approx(parent.loss, rel=1e-6)
    assert first.accuracy == parent.accuracy
    np.testing.assert_allclose(first.probabilities, parent.probabilities, rtol=1e-5, atol=1e-7)


def _main(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "main.py", *arguments],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_runs_export_and_import_archive_on_the_command_line(tmp_path):
    runs_dir, elsewhere = tmp_path / "runs", tmp_path / "elsewhere"
    trained = _main("--headless", *SMALL_RUN, "--steps", "30", "--runs-dir", str(runs_dir))
    assert trained.returncode == 0, trained.stderr[-2000:]
    unrecorded = _main(
        "--headless", *SMALL_RUN, "--steps", "5", "--runs-dir", str(runs_dir), "--no-record"
    )
    assert unrecorded.returncode == 0, unrecorded.stderr[-2000:]
    listed = _main("--runs", "--runs-dir", str(runs_dir))
    lines = listed.stdout.strip().splitlines()
    assert listed.returncode == 0
    assert len(lines) == 2
    assert "completed" in lines[1]
    assert "moons" in lines[1]
    archive = tmp_path / "run.zip"
    exported = _main(
        "--export", "1", "--format", "archive", "--out", str(archive), "--runs-dir", str(runs_dir)
    )
    assert exported.returncode == 0, exported.stderr
    assert archive.exists(), exported.stderr
    csv = _main(
        "--export",
        "1",
        "--format",
        "csv",
        "--out",
        str(tmp_path / "csv"),
        "--runs-dir",
        str(runs_dir),
    )
    assert csv.returncode == 0
    assert (tmp_path / "csv" / "train_steps.csv").exists()
    imported = _main("--import-archive", str(archive), "--runs-dir", str(elsewhere))
    assert imported.returncode == 0, imported.stderr
    assert "as run 1" in imported.stdout, imported.stderr
    with RunStore.open_dir(elsewhere) as store:
        assert [info.steps for info in store.list_runs()] == [30]
    missing = _main(
        "--export",
        "9",
        "--format",
        "csv",
        "--out",
        str(tmp_path / "x"),
        "--runs-dir",
        str(runs_dir),
    )
    assert missing.returncode == 2
    assert missing.stderr.count("\n") == 1
    card = json.loads((tmp_path / "csv" / "run.json").read_text())
    assert card["status"] == "completed"
