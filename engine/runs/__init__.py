"""Recorded runs: the SQLite run store, recorder, replay, comparison, fork, export and import.

Every run is recorded automatically (``RunRecorder``) into one database in the user's data
folder (``RunStore``); a recording replays through the same interface as a live session
(``ReplaySession``), compares with others (``compare_runs``), forks from a checkpoint
(``fork_config``) and leaves as CSV, TensorBoard, weights or a single-file archive.

Nothing imported here loads torch: the window process uses the store and replay. Only
checkpoint saving/loading (and the weights export) import torch, inside their functions.
"""

from __future__ import annotations

from trainscope.engine.runs.compare import Comparison, compare_runs
from trainscope.engine.runs.errors import RunFileError, RunStoreError
from trainscope.engine.runs.paths import default_runs_dir
from trainscope.engine.runs.recorder import RunRecorder
from trainscope.engine.runs.replay import SPEEDS, ReplaySeeked, ReplaySession, Seek, SetSpeed
from trainscope.engine.runs.store import RunInfo, RunStore

__all__ = [
    "SPEEDS",
    "Comparison",
    "ReplaySeeked",
    "ReplaySession",
    "RunFileError",
    "RunInfo",
    "RunRecorder",
    "RunStore",
    "RunStoreError",
    "Seek",
    "SetSpeed",
    "compare_runs",
    "default_runs_dir",
]
