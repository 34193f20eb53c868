"""Drive a real lesson run the way a learner would, one known step at a time.

Mid-run actions are applied at a known step by letting the run reach its planned end (the
session pauses there as "finished"), sending the commands, then asking for exactly ``n`` more
steps, so every run is reproducible from its seed. ``engine.lesson_checks`` measures lessons
with it; the tests drive sessions with its ``collect_until``.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import TYPE_CHECKING

from trainscope.engine import commands as cmd
from trainscope.engine import events as ev
from trainscope.engine.run_fold import RunFold
from trainscope.engine.session import ThreadSession

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from trainscope.engine.config import RunConfig

#: Only a hang-catcher: on a shared, busy machine a lesson run may take many times its usual
#: time, and ``collect_until`` fails at once on the run's own Error event anyway.
RUN_TIMEOUT_S = 600.0


def collect_until(
    session: ThreadSession,
    events: list[ev.Event],
    condition: Callable[[list[ev.Event]], bool],
    timeout: float = RUN_TIMEOUT_S,
) -> list[ev.Event]:
    """Drain the session into ``events`` until ``condition(events)`` holds; fail after ``timeout``.

    It also fails at once when the session reports an Error: waiting longer cannot help then.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events.extend(session.drain())
        if condition(events):
            return events
        errors = [event for event in events if isinstance(event, ev.Error)]
        if errors:
            raise RuntimeError(f"the session failed: {errors[0].message}\n{errors[0].detail}")
        time.sleep(0.005)
    raise TimeoutError(f"condition not met within {timeout}s; last events: {events[-5:]}")


def validation_evaluations(events: list[ev.Event]) -> list[ev.Evaluation]:
    return [e for e in events if isinstance(e, ev.Evaluation) and e.split == "validation"]


class LessonRun:
    """One live session plus every event it has produced so far."""

    def __init__(self, config: RunConfig) -> None:
        self.session = ThreadSession(config)
        self.events: list[ev.Event] = []
        self.session.start()

    @property
    def history(self) -> RunFold:
        return RunFold.from_events(self.events)

    def to_end(self) -> LessonRun:
        """Wait for the planned end (or a divergence, which pauses the run)."""
        collect_until(
            self.session,
            self.events,
            lambda events: any(
                isinstance(e, ev.Diverged)
                or (isinstance(e, ev.Finished) and e.reason == "completed")
                for e in events
            ),
        )
        return self

    def current_step(self) -> int:
        """Send an Evaluate and wait for it: every command sent before it has been applied."""
        seen = len(self.events)
        self.session.send(cmd.Evaluate())
        collect_until(
            self.session,
            self.events,
            lambda events: bool(validation_evaluations(events[seen:])),
        )
        self._settle()
        return validation_evaluations(self.events)[-1].step

    def _settle(self, quiet_s: float = 0.2) -> None:
        """Drain until no new events came for ``quiet_s``.

        Commands sent before the Evaluate (a temperature fit, a reset) evaluate too, and the
        first of those evaluations may arrive before the later commands ran.
        """
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < quiet_s:
            fresh = [e for e in self.session.drain() if not isinstance(e, ev.Resources)]
            if fresh:
                self.events.extend(fresh)
                quiet_since = time.monotonic()
            time.sleep(0.005)

    def apply(self, commands: list[cmd.Command]) -> int:
        """Send ``commands`` and return the step the run stands at once they are applied."""
        for command in commands:
            self.session.send(command)
        return self.current_step()

    def train(self, steps: int) -> int:
        """Take exactly ``steps`` more optimizer steps; returns the step reached."""
        target = self.current_step() + steps
        seen = len(self.events)
        self.session.send(cmd.Step(steps))
        collect_until(
            self.session,
            self.events,
            lambda events: any(e.step == target for e in validation_evaluations(events[seen:])),
        )
        self.current_step()  # let a second evaluation of the last step arrive first
        return target

    def close(self) -> None:
        self.session.close()


@contextmanager
def lesson_run(config: RunConfig) -> Iterator[LessonRun]:
    run = LessonRun(config)
    try:
        yield run
    finally:
        run.close()


def finished_run(config: RunConfig) -> RunFold:
    """Run ``config`` to its planned end and return its history."""
    with lesson_run(config) as run:
        return run.to_end().history
