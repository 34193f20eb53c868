"""The run-store CLI functions and flags main.py will wire in."""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
from pathlib import Path

import pytest

from tests.engine.runs.helpers import lesson_config, rerecord
from trainscope.engine.errors import TrainScopeError
from trainscope.engine.runs.cli import (
    add_runs_arguments,
    export_run,
    import_archive,
    list_runs_text,
    run_runs_command,
    start_recording,
)
from trainscope.engine.runs.store import RunStore

REPO = Path(__file__).resolve().parents[3]


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_runs_arguments(parser)
    return parser.parse_args(argv)


def test_list_export_import_round_trip(recorded, tmp_path):
    _, _, live = recorded
    mine, theirs = tmp_path / "mine", tmp_path / "theirs"
    assert list_runs_text(mine) == f"no recorded runs yet in {mine}"
    run_id = rerecord(mine / "runs.sqlite", live, name="lr sweep 1")
    text = list_runs_text(mine).splitlines()
    assert text[0].split()[:4] == ["id", "created", "status", "steps"]
    assert text[1].split()[0] == str(run_id)
    assert "completed" in text[1]
    assert "lr sweep 1 (moons)" in text[1]
    archive = export_run(mine, run_id, "archive", tmp_path / "run.zip")
    new_id = import_archive(theirs, archive)
    with RunStore.open_dir(theirs) as store:
        assert store.get_run(new_id).name == "lr sweep 1"


def test_runs_flags(recorded, tmp_path):
    _, _, live = recorded
    rerecord(tmp_path / "runs.sqlite", live)
    out = io.StringIO()
    assert run_runs_command(_parse("--runs", "--runs-dir", str(tmp_path)), out) == 0
    assert "completed" in out.getvalue()
    target = tmp_path / "export"
    args = _parse(
        "--runs-dir", str(tmp_path), "--export", "1", "--format", "csv", "--out", str(target)
    )
    assert run_runs_command(args, out) == 0
    assert (target / "train_steps.csv").exists()
    with pytest.raises(TrainScopeError, match="--export needs --out"):
        run_runs_command(_parse("--export", "1"), out)
    assert run_runs_command(_parse("--runs-dir", str(tmp_path)), out) is None  # train as usual


def test_an_unusable_store_costs_only_the_recording(tmp_path, caplog):
    (tmp_path / "runs.sqlite").write_bytes(b"garbage " * 100)
    assert start_recording(lesson_config(), tmp_path) is None
    assert "will not be recorded" in caplog.text
    recorder = start_recording(lesson_config(), tmp_path / "fresh")
    assert recorder is not None
    recorder.finish()


def test_the_window_side_modules_import_neither_torch_nor_qt():
    code = (
        "import sys; import trainscope.engine.runs, trainscope.engine.runs.replay, trainscope.engine.runs.store, trainscope.engine.runs.export, "
        "trainscope.engine.runs.archive, trainscope.engine.runs.cli, trainscope.engine.runs.compare, trainscope.engine.runs.fork, "
        "trainscope.engine.runs.tensorboard_export, trainscope.engine.runs.checkpoints; "
        "bad = [m for m in ('torch', 'PySide6', 'pyqtgraph', 'sklearn') if m in sys.modules]; "
        "sys.exit(str(bad) if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
