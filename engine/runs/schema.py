"""The run database's tables, how a connection is opened, and how old files are migrated.

One SQLite file in WAL mode: the recorder's writer thread appends while the window (or a
second process) reads, and a killed process loses only its uncommitted last fraction of a
second. ``schema_version`` holds one row; each entry of ``MIGRATIONS`` lifts a file by one
version, so a file written by an older TrainScope opens in a newer one, and a file from a newer
one is refused in one sentence instead of being misread.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.runs.errors import RunFileError

SCHEMA_VERSION = 1

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
        forked_from TEXT
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
MIGRATIONS: dict[int, tuple[str, ...]] = {}

BUSY_TIMEOUT_MS = 10_000


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
    connection.execute("PRAGMA journal_mode = WAL")
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
