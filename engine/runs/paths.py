"""Where recorded runs live on disk: one folder holding the database and the checkpoints.

The folder is the user's data directory unless a caller (the CLI's ``--runs-dir``, a test)
names another, so two stores in one test never share state.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DATABASE_NAME = "runs.sqlite"
CHECKPOINTS_FOLDER = "checkpoints"


def default_runs_dir() -> Path:
    """The platform's per-user data folder for TrainScope ($XDG_DATA_HOME on Linux)."""
    xdg = os.environ.get("XDG_DATA_HOME")
    if xdg:
        return Path(xdg) / "trainscope"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "TrainScope"
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "TrainScope"
    return Path.home() / ".local" / "share" / "trainscope"


def resolve_runs_dir(runs_dir: str | os.PathLike[str] | None) -> Path:
    """An explicit folder wins; otherwise the default data folder."""
    return Path(runs_dir).expanduser() if runs_dir is not None else default_runs_dir()


def database_path(runs_dir: str | os.PathLike[str] | None) -> Path:
    return resolve_runs_dir(runs_dir) / DATABASE_NAME


def checkpoint_folder(runs_dir: Path, run_uid: str) -> Path:
    """Checkpoints are keyed by the run's uid, so a recreated database never reuses a folder."""
    return runs_dir / CHECKPOINTS_FOLDER / run_uid
