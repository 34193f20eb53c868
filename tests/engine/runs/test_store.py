"""The run store: a real SQLite file — list, rename, note, delete, migrate, and refuse damage."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from tests.engine.runs.helpers import lesson_config
from trainscope.engine import events as ev
from trainscope.engine.runs.errors import RunFileError, RunStoreError
from trainscope.engine.runs.recorder import RunRecorder
from trainscope.engine.runs.schema import SCHEMA_VERSION
from trainscope.engine.runs.store import RunStore


def _finished_run(store: RunStore, name: str, status: str = "completed") -> int:
    recorder = RunRecorder(store, lesson_config(), name)
    recorder.record([ev.TestSetOpened(step=0), ev.Finished(step=5, reason="completed")])
    recorder.finish(status)
    return recorder.run_id


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_new_store_has_its_schema_version_and_wal(tmp_path):
    path = tmp_path / "deep" / "folder" / "runs.sqlite"
    RunStore(path).close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT version FROM schema_version").fetchall() == [
            (SCHEMA_VERSION,)
        ]
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_open_dir_uses_the_runs_dir_or_the_user_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    with RunStore.open_dir() as store:
        assert store.path == tmp_path / "xdg" / "trainscope" / "runs.sqlite"
    with RunStore.open_dir(tmp_path / "mine") as store:
        assert store.runs_dir == tmp_path / "mine"


def test_list_rename_note_delete(tmp_path):
    with RunStore(tmp_path / "runs.sqlite") as store:
        first = _finished_run(store, "first")
        second = _finished_run(store, "second", "stopped")
        store.checkpoint_dir(second).mkdir(parents=True)
        assert [info.name for info in store.list_runs()] == ["second", "first"]
        store.rename(first, "  baseline ")
        store.set_note(first, "lr 1e-3, the reference")
        info = store.get_run(first)
        assert (info.name, info.note, info.status, info.title) == (
            "baseline",
            "lr 1e-3, the reference",
            "completed",
            "moons",
        )
        folder = store.checkpoint_dir(second)
        store.delete(second)
        assert [info.id for info in store.list_runs()] == [first]
        assert not folder.exists()
        assert store.load_events(first)[0] == ev.TestSetOpened(step=0)
        with pytest.raises(RunStoreError, match="no run 99"):
            store.load_events(99)
        with pytest.raises(RunStoreError, match="cannot be empty"):
            store.rename(first, " ")


def test_a_run_still_recording_cannot_be_deleted(tmp_path):
    with RunStore(tmp_path / "runs.sqlite") as store:
        recorder = RunRecorder(store, lesson_config())
        try:
            with pytest.raises(RunStoreError, match="still recording"):
                store.delete(recorder.run_id)
        finally:
            recorder.finish()


def test_a_run_whose_process_died_is_interrupted(tmp_path):
    path = tmp_path / "runs.sqlite"
    with RunStore(path) as store:
        recorder = RunRecorder(store, lesson_config())
        recorder.finish("stopped")
        live = RunRecorder(store, lesson_config())
        with sqlite3.connect(path) as connection:
            connection.execute(
                "UPDATE runs SET status = 'running', pid = ? WHERE id = ?",
                (_dead_pid(), recorder.run_id),
            )
        statuses = {info.id: info.status for info in RunStore(path).list_runs()}
        live.finish("stopped")
    assert statuses == {recorder.run_id: "interrupted", live.run_id: "running"}


def test_a_silent_heartbeat_means_interrupted(tmp_path):
    path = tmp_path / "runs.sqlite"
    with RunStore(path) as store:
        run_id = _finished_run(store, "old")
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE runs SET status = 'running', heartbeat = heartbeat - 60")
    with RunStore(path) as store:
        assert store.get_run(run_id).status == "interrupted"


def test_a_store_from_a_newer_trainscope_is_refused(tmp_path):
    path = tmp_path / "runs.sqlite"
    RunStore(path).close()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(RunFileError, match="newer TrainScope"):
        RunStore(path)


@pytest.mark.parametrize("keep", [0.5, 0.1])
def test_a_truncated_database_is_one_sentence(tmp_path, keep):
    path = tmp_path / "runs.sqlite"
    with RunStore(path) as store:
        for index in range(30):
            _finished_run(store, f"run {index}")
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(
        RunFileError, match=r"is damaged or is not a TrainScope database .*move it aside"
    ):
        RunStore(path).list_runs()


def test_garbage_and_foreign_databases_are_refused(tmp_path):
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database at all " * 200)
    with pytest.raises(RunFileError, match="is damaged or is not a TrainScope database"):
        RunStore(garbage)
    foreign = tmp_path / "foreign.sqlite"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE invoices (id INTEGER)")
    with pytest.raises(RunFileError, match="not a TrainScope run database"):
        RunStore(foreign)
    with pytest.raises(RunFileError, match="is a folder"):
        RunStore(tmp_path)
