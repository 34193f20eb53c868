"""The run database's tables, how a connection is opened, and how old files are migrated.

One SQLite file in WAL mode: the recorder's writer thread appends while the window (or a
second process) reads, and a killed process loses only its uncommitted last fraction of a
second. ``schema_version`` holds one row; each entry of ``MIGRATIONS`` lifts a file by one
version, so a file written by an older TrainScope opens in a newer one, and a file from a newer
one is refused in one sentence instead of being misread.

Space: a new file uses incremental auto-vacuum, so deleting runs gives the space back
(``reclaim_space``); a file made before that is converted (one ``VACUUM``) the first time
runs are deleted from it. Version 2 keeps each run's stored size in ``runs.stored_bytes``
(the run browser shows it without reading the events); migrating a version-1 file adds the
column and fills it in once. Version 3 adds ``runs.experiment``: for a run that is one of an
experiment's, the group it belongs to (JSON: the experiment's uid and kind, the run's index,
label and varied value); NULL for a single run.
"""

from __future__ import annotations

import logging
import sqlite3
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

from trainscope.engine.runs.errors import RunFileError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 3

SCHEMA = (
    "CREATE TABLE schema_version (version INTEGER NOT NULL)",
    """CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        uid TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        created REAL NOT NULL,
        heartbeat REAL NOT NULL,
        ended REAL,
        pid INTEGER,
        host TEXT,
        scenario TEXT,
        dataset TEXT NOT NULL,
        seed INTEGER NOT NULL,
        device TEXT,
        config TEXT NOT NULL,
        versions TEXT NOT NULL,
        steps INTEGER NOT NULL DEFAULT 0,
        final TEXT NOT NULL DEFAULT '{}',
        test_opened_at INTEGER,
        forked_from TEXT,
        stored_bytes INTEGER NOT NULL DEFAULT 0,
        experiment TEXT
    )""",
    """CREATE TABLE events (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        t REAL NOT NULL,
        kind TEXT NOT NULL,
        step INTEGER,
        last_step INTEGER,
        payload TEXT NOT NULL,
        arrays BLOB,
        UNIQUE (run_id, seq)
    )""",
    "CREATE INDEX events_by_kind ON events (run_id, kind, seq)",
)

#: version n -> the statements that turn a version-n file into version n + 1.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        "ALTER TABLE runs ADD COLUMN stored_bytes INTEGER NOT NULL DEFAULT 0",
        "UPDATE runs SET stored_bytes = (SELECT COALESCE(SUM(length(payload) "
        "+ COALESCE(length(arrays), 0)), 0) FROM events WHERE events.run_id = runs.id)",
    ),
    2: ("ALTER TABLE runs ADD COLUMN experiment TEXT",),
}

BUSY_TIMEOUT_MS = 10_000
WAL_LIMIT_BYTES = 8 << 20  # the write-ahead log is cut back to this after each checkpoint
INCREMENTAL = 2  # PRAGMA auto_vacuum value


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) and migrate the database; a damaged file is one sentence."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except sqlite3.Error as error:
        raise RunFileError(f"the run database {path} cannot be opened ({error})") from None
    try:
        _configure(connection)
        _migrate(connection, path)
    except sqlite3.DatabaseError as error:
        connection.close()
        raise damaged(path, error) from None
    except RunFileError:
        connection.close()
        raise
    return connection


def damaged(path: Path, error: Exception) -> RunFileError:
    """The sentence for a file SQLite cannot read: what is wrong and what to do about it."""
    return RunFileError(
        f"the run database {path} is damaged or is not a TrainScope database ({error}); "
        "move it aside and TrainScope will start a new one"
    )


def _configure(connection: sqlite3.Connection) -> None:
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    # Only takes on a file with no tables yet, and only before WAL mode writes its header.
    connection.execute("PRAGMA auto_vacuum = INCREMENTAL")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute(f"PRAGMA journal_size_limit = {WAL_LIMIT_BYTES}")
    connection.execute(
        "PRAGMA synchronous = NORMAL"
    )  # WAL + NORMAL: a killed process loses nothing committed
    connection.execute("PRAGMA foreign_keys = ON")


def _migrate(connection: sqlite3.Connection, path: Path) -> None:
    with transaction(connection):
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        if "schema_version" not in tables:
            if tables - {"sqlite_sequence"}:
                raise RunFileError(f"{path} is an SQLite file but not a TrainScope run database")
            for statement in SCHEMA:
                connection.execute(statement)
            connection.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
            return
        version = _version(connection, path)
        if version > SCHEMA_VERSION:
            raise RunFileError(
                f"the run database {path} was written by a newer TrainScope (schema version "
                f"{version}; this one reads up to {SCHEMA_VERSION}); update TrainScope to open it"
            )
        while version < SCHEMA_VERSION:
            for statement in MIGRATIONS[version]:
                connection.execute(statement)
            version += 1
            connection.execute("UPDATE schema_version SET version = ?", (version,))
    connection.execute("SELECT count(*) FROM runs").fetchone()  # touch the main table's pages


def _version(connection: sqlite3.Connection, path: Path) -> int:
    rows = connection.execute("SELECT version FROM schema_version").fetchall()
    if len(rows) != 1 or not isinstance(rows[0][0], int):
        raise RunFileError(f"the run database {path} has a damaged schema version table")
    return rows[0][0]


def reclaim_space(connection: sqlite3.Connection) -> None:
    """Give the pages of deleted rows back to the file system (outside any transaction).

    An incremental-vacuum file frees them at once; an older file is converted with one
    ``VACUUM`` (seconds for a big file, once). A store busy in another program keeps its free
    pages — SQLite reuses them for the next rows — and says nothing: the delete itself held.
    """
    try:
        if connection.execute("PRAGMA auto_vacuum").fetchone()[0] == INCREMENTAL:
            connection.executescript("PRAGMA incremental_vacuum;")
        else:
            connection.executescript("PRAGMA auto_vacuum = INCREMENTAL; VACUUM;")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    except sqlite3.OperationalError as error:
        logger.info("space not reclaimed yet: %s", error)


def store_file_bytes(path: Path) -> int:
    """What the store takes on disk: the database and its write-ahead log."""
    total = 0
    for suffix in ("", "-wal"):
        with suppress(OSError):
            total += path.with_name(path.name + suffix).stat().st_size
    return total


@contextmanager
def transaction(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT, rolled back on any error (the connection is in autocommit)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
