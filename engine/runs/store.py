"""The run store: every recorded run in one SQLite file in the user's data folder.

``RunStore`` is what the run browser, the CLI and replay talk to: list, rename, annotate,
delete, and load a run's events back as the exact event dataclasses. Writing a live run is the
``RunRecorder``'s job (its own connection, on its own thread); the store only creates the row.
No torch here: the window process uses it.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from trainscope.engine.runs import schema
from trainscope.engine.runs.codec import decode_event
from trainscope.engine.runs.compaction import CompactionPolicy, CompactionReport, RunCompactor
from trainscope.engine.runs.configs import config_from_dict, config_to_dict, library_versions
from trainscope.engine.runs.errors import RunFileError, RunStoreError
from trainscope.engine.runs.liveness import owner_gone, this_host
from trainscope.engine.runs.paths import checkpoint_folder, database_path

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from trainscope.engine.config import RunConfig

T = TypeVar("T")

RUN_COLUMNS = (
    "id, uid, name, note, status, created, heartbeat, ended, pid, host, scenario, dataset, "
    "seed, device, config, versions, steps, final, test_opened_at, forked_from, stored_bytes, "
    "experiment"
)
EVENT_COLUMNS = "seq, t, kind, step, last_step, payload, arrays"


@dataclass(frozen=True)
class RunInfo:
    """One row of the run list: who, what, when, how it ended and its final numbers."""

    id: int
    uid: str
    name: str
    note: str
    status: str
    created: float  # time.time() when recording started
    ended: float | None
    scenario: str | None
    dataset: str
    seed: int
    device: str | None
    steps: int
    final: dict[str, Any]
    config: dict[str, Any]
    versions: dict[str, Any]
    test_opened_at: int | None
    forked_from: dict[str, Any] | None
    stored_bytes: int = 0  # its events as stored (payload + arrays), without SQLite's overhead
    experiment: dict[str, Any] | None = None  # the group an experiment's run belongs to

    @property
    def title(self) -> str:
        """What a list shows first: the scenario when there is one, else the dataset."""
        return self.scenario or self.dataset


@dataclass(frozen=True, slots=True)
class EventRow:
    """An event as stored, still encoded: replay and archives read these, decoding on demand."""

    seq: int
    t: float  # seconds since recording started
    kind: str
    step: int | None
    last_step: int | None
    payload: str
    arrays: bytes | None


def _guarded(method: Callable[..., T]) -> Callable[..., T]:
    """Turn SQLite's exceptions into one sentence naming the database file."""

    @functools.wraps(method)
    def wrapper(self: RunStore, *args: Any, **kwargs: Any) -> T:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                raise RunStoreError(
                    f"the run database {self.path} is busy in another program; try again"
                ) from None
            raise schema.damaged(self.path, error) from None
        except sqlite3.DatabaseError as error:
            raise schema.damaged(self.path, error) from None

    return wrapper


class RunStore:
    """An open run database; make as many as you like (each holds its own connection)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        if self.path.is_dir():
            raise RunFileError(f"the run database {self.path} is a folder, not a file")
        self._connection = schema.connect(self.path)
        self.mark_interrupted()

    @classmethod
    def open_dir(cls, runs_dir: str | os.PathLike[str] | None = None) -> RunStore:
        """The store in ``runs_dir`` (the CLI's --runs-dir), else in the user's data folder."""
        return cls(database_path(runs_dir))

    @property
    def runs_dir(self) -> Path:
        return self.path.parent

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ----- creating ---------------------------------------------------------------------------
    @_guarded
    def create_run(
        self,
        config: RunConfig,
        name: str | None = None,
        versions: dict[str, Any] | None = None,
        forked_from: dict[str, Any] | None = None,
        experiment: dict[str, Any] | None = None,
    ) -> int:
        """Add a "running" run owned by this process; the recorder fills in the rest."""
        now = time.time()
        what = "your model" if config.own_model else config.scenario or config.dataset.name
        default_name = f"{what} {time.strftime('%Y-%m-%d %H:%M')}"
        row = {
            "uid": uuid.uuid4().hex,
            "name": name or default_name,
            "status": "running",
            "created": now,
            "heartbeat": now,
            "pid": os.getpid(),
            "host": this_host(),
            "scenario": config.scenario,
            "dataset": "your data" if config.own_model else config.dataset.name,
            "seed": config.seed,
            "config": json.dumps(config_to_dict(config)),
            "versions": json.dumps(versions or library_versions()),
            "forked_from": json.dumps(forked_from) if forked_from else None,
            "experiment": json.dumps(experiment) if experiment else None,
        }
        with schema.transaction(self._connection):
            return self._insert_run(row)

    def _insert_run(self, row: dict[str, Any]) -> int:
        names = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        cursor = self._connection.execute(
            f"INSERT INTO runs ({names}) VALUES ({marks})", tuple(row.values())
        )
        return int(cursor.lastrowid or 0)

    @_guarded
    def add_imported_run(self, row: dict[str, Any], events: list[EventRow]) -> int:
        """Insert a complete run (from an archive) in one transaction: all of it or nothing."""
        row = {**row, "stored_bytes": sum(len(e.payload) + len(e.arrays or b"") for e in events)}
        with schema.transaction(self._connection):
            run_id = self._insert_run(row)
            self._connection.executemany(
                f"INSERT INTO events (run_id, {EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (run_id, e.seq, e.t, e.kind, e.step, e.last_step, e.payload, e.arrays)
                    for e in events
                ),
            )
        return run_id

    # ----- reading ----------------------------------------------------------------------------
    @_guarded
    def list_runs(self) -> list[RunInfo]:
        """Every run, newest first; a run whose recording process died reads as interrupted."""
        self.mark_interrupted()
        rows = self._connection.execute(
            f"SELECT {RUN_COLUMNS} FROM runs ORDER BY created DESC, id DESC"
        ).fetchall()
        return [_run_info(row) for row in rows]

    @_guarded
    def get_run(self, run_id: int) -> RunInfo:
        self.mark_interrupted()
        row = self._connection.execute(
            f"SELECT {RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,)
        ).fetchone()
        if row is None:
            raise RunStoreError(f"there is no run {run_id} in {self.path}")
        return _run_info(row)

    @_guarded
    def find_uid(self, uid: str) -> int | None:
        row = self._connection.execute("SELECT id FROM runs WHERE uid = ?", (uid,)).fetchone()
        return None if row is None else int(row[0])

    def run_config(self, run_id: int) -> RunConfig:
        """The config the run started with (settings changed live are in its events)."""
        return config_from_dict(self.get_run(run_id).config)

    def checkpoint_dir(self, run_id: int) -> Path:
        """Where the run's checkpoints live, next to the database."""
        return checkpoint_folder(self.runs_dir, self.get_run(run_id).uid)

    @_guarded
    def event_rows(
        self, run_id: int, after_seq: int = -1, limit: int = -1, kinds: tuple[str, ...] = ()
    ) -> list[EventRow]:
        """Encoded events in recording order, a page at a time (replay never loads it all)."""
        where = "run_id = ? AND seq > ?"
        params: list[Any] = [run_id, after_seq]
        if kinds:
            where += f" AND kind IN ({', '.join('?' for _ in kinds)})"
            params.extend(kinds)
        rows = self._connection.execute(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE {where} ORDER BY seq LIMIT ?",
            (*params, limit),
        ).fetchall()
        return [EventRow(*row) for row in rows]

    def iter_event_rows(self, run_id: int, page: int = 1000) -> Iterator[EventRow]:
        after = -1
        while rows := self.event_rows(run_id, after, page):
            yield from rows
            after = rows[-1].seq

    def iter_events(self, run_id: int) -> Iterator[object]:
        """The run's events one by one, decoded a page at a time (exports of long runs)."""
        self.get_run(run_id)  # a clear sentence for an unknown id
        for row in self.iter_event_rows(run_id):
            yield decode_event(row.payload, row.arrays)

    def load_events(self, run_id: int, kinds: tuple[str, ...] = ()) -> list[object]:
        """The run's events, rebuilt as the dataclasses the session emitted (or some kinds)."""
        if kinds:
            self.get_run(run_id)
            rows = self.event_rows(run_id, kinds=kinds)
            return [decode_event(row.payload, row.arrays) for row in rows]
        return list(self.iter_events(run_id))

    # ----- editing ----------------------------------------------------------------------------
    @_guarded
    def rename(self, run_id: int, name: str) -> None:
        name = name.strip()
        if not name:
            raise RunStoreError("a run name cannot be empty")
        self._update(run_id, "name", name)

    @_guarded
    def set_note(self, run_id: int, note: str) -> None:
        self._update(run_id, "note", note)

    def _update(self, run_id: int, column: str, value: object) -> None:
        self.get_run(run_id)
        with schema.transaction(self._connection):
            self._connection.execute(f"UPDATE runs SET {column} = ? WHERE id = ?", (value, run_id))

    @_guarded
    def delete(self, run_id: int) -> None:
        """Remove a run, its events and its checkpoints; a run still recording is refused."""
        info = self.get_run(run_id)
        if info.status == "running":
            raise RunStoreError(f"run {run_id} is still recording; stop it before deleting it")
        with schema.transaction(self._connection):
            self._connection.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        shutil.rmtree(checkpoint_folder(self.runs_dir, info.uid), ignore_errors=True)
        schema.reclaim_space(self._connection)

    @_guarded
    def compact(self, run_id: int, policy: CompactionPolicy | None = None) -> CompactionReport:
        """Thin a run's old history as the recorder does while recording (a run from before
        compaction, or one recorded with it off), then give the space back."""
        if self.get_run(run_id).status == "running":
            raise RunStoreError(f"run {run_id} is still recording; it compacts itself")
        report = RunCompactor(run_id, policy).compact(self._connection)
        if report.changed:
            schema.reclaim_space(self._connection)
        return report

    @property
    def file_bytes(self) -> int:
        """What the whole store takes on disk now (database and write-ahead log)."""
        return schema.store_file_bytes(self.path)

    @_guarded
    def mark_interrupted(self) -> None:
        """Runs left "running" by a process that has died become "interrupted"."""
        now = time.time()
        rows = self._connection.execute(
            "SELECT id, pid, host, heartbeat FROM runs WHERE status = 'running'"
        ).fetchall()
        gone = [
            (heartbeat, run_id)
            for run_id, pid, host, heartbeat in rows
            if owner_gone(pid, host, heartbeat, now)
        ]
        if gone:
            with schema.transaction(self._connection):
                self._connection.executemany(
                    "UPDATE runs SET status = 'interrupted', ended = ? "
                    "WHERE id = ? AND status = 'running'",
                    gone,
                )


def _run_info(row: tuple) -> RunInfo:
    values = dict(zip([name.strip() for name in RUN_COLUMNS.split(",")], row, strict=True))
    for name in ("final", "config", "versions"):
        values[name] = json.loads(values[name])
    forked_from = values.pop("forked_from")
    values["experiment"] = json.loads(values["experiment"]) if values["experiment"] else None
    for unused in ("heartbeat", "pid", "host"):
        values.pop(unused)
    return RunInfo(**values, forked_from=json.loads(forked_from) if forked_from else None)
