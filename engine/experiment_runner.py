"""Runs an experiment's runs side by side: at most ``parallel`` sessions at once, the rest queued.

Each run is the same engine session a single run uses (by default a worker process each, so
runs use separate cores and a crash takes down only its own run). ``poll`` is called by the
headless loop or by the window's frame timer: it starts queued runs as slots free up, drains
every live session, folds each run's events into its own ``RunSummary`` and ends a run when it
completes, diverges or fails. A failed run is marked failed and the others go on. Torch-free.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from trainscope.engine import commands as cmd
from trainscope.engine import events as ev
from trainscope.engine.summary import RunSummary

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from trainscope.engine.experiment_plan import ExperimentPlan, PlannedRun
    from trainscope.engine.session_protocol import Session

    SessionFactory = Callable[..., Session]  # (config, checkpoint_dir=...) -> a session
    #: Called once a run starts, with the run; returns where its checkpoints go, or None.
    RecordStart = Callable[[PlannedRun], "RunRecord | None"]

#: Statuses a run can end in; "queued", "running" and "paused" are the others.
ENDED = ("finished", "diverged", "failed", "stopped", "pruned")
BACKGROUND_NICE = 10


class RunRecord(Protocol):
    """What the runner needs from a run's recorder (``engine.runs.recorder.RunRecorder``)."""

    checkpoint_dir: Path
    run_id: int

    def record(self, events: list[ev.Event]) -> None: ...

    def finish(self) -> str: ...


def lower_priority(pid: int | None) -> None:
    """Make a run's worker process yield to everything else (``nice`` + ``BACKGROUND_NICE``).

    An experiment's runs fill every core; the window beside them must still draw when it
    wants to. Measured with 8 runs overlaid, two training: a frame took ~4.5 ms of CPU but its
    wall time doubled while the workers held both cores. A no-op for in-process sessions and
    where the system has no niceness (Windows)."""
    if pid is None or not hasattr(os, "setpriority"):
        return
    with contextlib.suppress(OSError):  # the worker may already be gone
        current = os.getpriority(os.PRIO_PROCESS, pid)
        os.setpriority(os.PRIO_PROCESS, pid, min(19, current + BACKGROUND_NICE))


def default_parallel(beside_window: bool) -> int:
    """Every core headless; one fewer beside the window, which needs one to draw; at least 1."""
    cores = os.cpu_count() or 1
    return max(1, cores - 1 if beside_window else cores)


@dataclass
class RunProgress:
    """One planned run as the runner sees it: its status and its summary (its evaluations)."""

    planned: PlannedRun
    status: str = "queued"
    summary: RunSummary = field(default_factory=RunSummary)
    pruned_at: int | None = None  # a search's pruner stopped this trial at that evaluation
    started: float | None = None
    ended: float | None = None
    record: RunRecord | None = None

    @property
    def seconds(self) -> float | None:
        if self.started is None:
            return None
        return (self.ended or time.monotonic()) - self.started

    @property
    def live(self) -> bool:
        return self.status in ("running", "paused")


class ExperimentRunner:
    """Starts, drains and ends the runs of ``plan``; ``poll`` returns each run's new events."""

    def __init__(
        self,
        plan: ExperimentPlan,
        parallel: int,
        session_factory: SessionFactory,
        record_start: RecordStart | None = None,
    ) -> None:
        if parallel < 1:
            raise ValueError("parallel must be at least 1")
        self.plan = plan
        self.parallel = parallel
        self._session_factory = session_factory
        self._record_start = record_start
        self.runs = [RunProgress(planned) for planned in plan.runs]
        self._sessions: dict[int, Session] = {}
        self._pace: float | None = None
        self._held = False  # "pause all": queued runs wait too

    @property
    def held(self) -> bool:
        """Paused all (queued runs wait too) until ``resume()``."""
        return self._held

    # ----- the loop -------------------------------------------------------------------------
    def poll(self) -> list[tuple[int, list[ev.Event]]]:
        """Start what may start, drain what runs, end what ended; (run index, events) pairs."""
        self._start_queued()
        batches = []
        for index, session in list(self._sessions.items()):
            events = session.drain()
            progress = self.runs[index]
            if events:
                self._fold(progress, events)
            if progress.status in ENDED or not session.is_alive():
                events = events + self._end(index)
            if events:
                batches.append((index, events))
        return batches

    @property
    def done(self) -> bool:
        return all(run.status in ENDED for run in self.runs)

    @property
    def counts(self) -> dict[str, int]:
        counted: dict[str, int] = {}
        for run in self.runs:
            counted[run.status] = counted.get(run.status, 0) + 1
        return counted

    # ----- steering -------------------------------------------------------------------------
    def set_pace(self, steps_per_second: float | None) -> None:
        """Every run, running or to come, holds this pace (None: as fast as it can)."""
        self._pace = steps_per_second
        for session in self._sessions.values():
            session.send(cmd.SetPace(steps_per_second))

    def pause(self, index: int | None = None) -> None:
        """Pause one run, or all (queued runs then wait too)."""
        for position in self._indices(index):
            if self.runs[position].status == "running":
                self._sessions[position].send(cmd.Pause())
        if index is None:
            self._held = True

    def resume(self, index: int | None = None) -> None:
        for position in self._indices(index):
            if self.runs[position].status == "paused":
                self._sessions[position].send(cmd.Resume())
        if index is None:
            self._held = False

    def send(self, index: int, command: cmd.Command) -> None:
        """A command for one live run (a person steering it from the normal panels)."""
        session = self._sessions.get(index)
        if session is not None:
            session.send(command)

    def stop(self, index: int | None = None) -> None:
        """End one run, or every run and the queue; what they showed is kept."""
        targets = range(len(self.runs)) if index is None else [index]
        for position in targets:
            progress = self.runs[position]
            if progress.status == "queued":
                progress.status = "stopped"
            elif progress.live:
                progress.status = "stopped"
                self._end(position)

    def close(self) -> None:
        self.stop()

    # ----- inside -----------------------------------------------------------------------------
    def _indices(self, index: int | None) -> list[int]:
        chosen = list(self._sessions) if index is None else [index]
        return [position for position in chosen if position in self._sessions]

    def _start_queued(self) -> None:
        if self._held:
            return
        for index, progress in enumerate(self.runs):
            if len(self._sessions) >= self.parallel:
                return
            if progress.status == "queued":
                self._start(index, progress)

    def _start(self, index: int, progress: RunProgress) -> None:
        config = progress.planned.config
        progress.record = self._record_start(progress.planned) if self._record_start else None
        checkpoint_dir = progress.record.checkpoint_dir if progress.record else None
        progress.started = time.monotonic()
        try:
            session = self._session_factory(config, checkpoint_dir=checkpoint_dir)
            session.start()
            lower_priority(getattr(session, "pid", None))
        except Exception as error:  # one run that cannot start must not stop the others
            progress.status, progress.ended = "failed", time.monotonic()
            progress.summary.update(
                ev.Error(message=f"the run could not start: {error}", detail="")
            )
            if progress.record is not None:
                progress.record.finish()
            return
        if self._pace is not None:
            session.send(cmd.SetPace(self._pace))
        self._sessions[index] = session
        progress.status = "running"

    def _fold(self, progress: RunProgress, events: list[ev.Event]) -> None:
        if progress.record is not None:
            progress.record.record(events)
        for event in events:
            progress.summary.update(event)
            if progress.status == "pruned":
                continue
            if isinstance(event, ev.Error):
                progress.status = "failed"
            elif isinstance(event, ev.Diverged) and progress.status != "failed":
                progress.status = "diverged"
            elif (
                isinstance(event, ev.Finished)
                and event.reason == "completed"
                and progress.status != "failed"
            ):
                progress.status = "finished"
            elif (
                isinstance(event, ev.StateChanged)
                and progress.live
                and event.state in ("running", "paused")
            ):
                progress.status = event.state

    def _end(self, index: int) -> list[ev.Event]:
        """Close the run's session; return what it said while closing (already folded)."""
        session = self._sessions.pop(index)
        session.close()
        progress = self.runs[index]
        tail = session.drain()
        if tail:
            self._fold(progress, tail)
        if progress.status not in ENDED:  # the process went away without saying why
            progress.status = "failed"
        progress.ended = time.monotonic()
        if progress.record is not None:
            progress.record.finish()
        return tail
