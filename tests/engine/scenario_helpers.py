"""Drive a scenario's run the way a learner would: to its end, then a "try this", then on.

Runs are real ``ThreadSession`` runs. Mid-run actions are applied at a known step by letting
the run reach its planned end (the session pauses there as "finished"), sending the commands,
then asking for exactly ``n`` more steps, so every run is reproducible from its seed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from engine import commands as cmd
from engine import events as ev
from engine.config import RunConfig
from engine.history import RunHistory
from engine.session import ThreadSession
from tests.engine.session_helpers import collect_until, of_type

RUN_TIMEOUT_S = 120.0


class ScenarioRun:
    """One live session plus every event it has produced so far."""

    def __init__(self, config: RunConfig) -> None:
        self.session = ThreadSession(config)
        self.events: list[ev.Event] = []
        self.session.start()

    @property
    def history(self) -> RunHistory:
        return RunHistory.from_events(self.events)

    def to_end(self) -> ScenarioRun:
        """Wait for the planned end (or a divergence, which pauses the run)."""
        collect_until(
            self.session,
            self.events,
            lambda events: (
                bool(of_type(events, ev.Diverged))
                or any(isinstance(e, ev.Finished) and e.reason == "completed" for e in events)
            ),
            timeout=RUN_TIMEOUT_S,
        )
        return self

    def current_step(self) -> int:
        """Send an Evaluate and wait for it: every command sent before it has been applied."""
        seen = len(self.events)
        self.session.send(cmd.Evaluate())
        collect_until(
            self.session,
            self.events,
            lambda events: any(
                isinstance(e, ev.Evaluation) and e.split == "validation" for e in events[seen:]
            ),
            timeout=RUN_TIMEOUT_S,
        )
        self._settle()
        return [e for e in of_type(self.events, ev.Evaluation) if e.split == "validation"][-1].step

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
            lambda events: any(
                isinstance(e, ev.Evaluation) and e.split == "validation" and e.step == target
                for e in events[seen:]
            ),
            timeout=RUN_TIMEOUT_S,
        )
        self.current_step()  # let a second evaluation of the last step arrive first
        return target

    def close(self) -> None:
        self.session.close()


@contextmanager
def scenario_run(config: RunConfig) -> Iterator[ScenarioRun]:
    run = ScenarioRun(config)
    try:
        yield run
    finally:
        run.close()


def finished_run(config: RunConfig) -> RunHistory:
    """Run ``config`` to its planned end and return its history."""
    with scenario_run(config) as run:
        return run.to_end().history
