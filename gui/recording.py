"""Recording the window's runs: one recorder per live session, fed by the frame drain.

Why a separate object: the window only has to say "a session starts", "here are this frame's
events" and "the session is over"; where runs live, whether recording is on, and what a
broken store costs (the recording, never the run) are this module's business. The recorder's
own thread encodes and writes, so ``record`` is a list append on the GUI thread.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from trainscope.engine.errors import TrainScopeError
from trainscope.engine.runs.recorder import RunRecorder
from trainscope.engine.runs.store import RunStore

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from trainscope.engine.config import RunConfig

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str] | None


class RunLibrary:
    """Where the window records and browses runs (``--runs-dir``; None: the user data folder)."""

    def __init__(self, runs_dir: PathLike = None, record: bool = True, name: str | None = None):
        self.runs_dir = runs_dir
        self.record = record
        self._first_name = name  # --run-name names the first run of the launch only

    def open_store(self) -> RunStore:
        """A store for the calling thread (SQLite connections stay on the thread that made them)."""
        return RunStore.open_dir(self.runs_dir)

    def new_recorder(
        self, config: RunConfig, forked_from: dict[str, Any] | None = None
    ) -> RunRecorder:
        name, self._first_name = self._first_name, None
        with self.open_store() as store:
            return RunRecorder(store, config, name, forked_from=forked_from)


class WindowRecording:
    """The recorder of the window's current live session, if any."""

    def __init__(self, library: RunLibrary | None) -> None:
        self.library = library
        self.recorder: RunRecorder | None = None
        self.last_run_id: int | None = None  # the newest run this window recorded
        self._failure_reported = False

    @property
    def checkpoint_dir(self) -> Path | None:
        return self.recorder.checkpoint_dir if self.recorder is not None else None

    def begin(self, config: RunConfig, forked_from: dict[str, Any] | None = None) -> str | None:
        """Start recording a session about to start; a sentence when it cannot be recorded."""
        self.finish()
        if self.library is None or not self.library.record:
            return None
        try:
            self.recorder = self.library.new_recorder(config, forked_from)
        except (TrainScopeError, OSError) as error:
            log.warning("this run will not be recorded: %s", error)
            return f"this run is not being recorded: {error}"
        self.last_run_id = self.recorder.run_id
        self._failure_reported = False
        return None

    def record(self, events: Iterable[object]) -> str | None:
        """Hand a frame's events to the writer thread; a sentence the first time writing failed."""
        recorder = self.recorder
        if recorder is None:
            return None
        recorder.record(events)
        if recorder.failure and not self._failure_reported:
            self._failure_reported = True
            return f"this run is no longer being recorded ({recorder.failure})"
        return None

    def finish(self) -> str | None:
        """File the run (status judged from its events); a sentence if that failed."""
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return None
        try:
            recorder.finish()
        except TrainScopeError as error:
            log.warning("run %s: %s", recorder.run_id, error)
            return f"the recording could not be finished: {error}"
        return None
