"""The run store's user-facing errors: each is one sentence, never a traceback."""

from __future__ import annotations

from trainscope.engine.errors import TrainScopeError


class RunFileError(TrainScopeError):
    """A run file (the SQLite database, a run archive, a checkpoint) is damaged, foreign or tampered.

    Raised at the boundary where a file is opened or imported, so the user learns in one
    sentence which file is at fault and what to do, and nothing inside it is ever executed.
    """


class RunStoreError(TrainScopeError):
    """A request to the run store cannot be met (no such run, still recording, no checkpoint)."""
