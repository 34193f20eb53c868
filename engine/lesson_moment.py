"""The lesson's moment: the evaluation from which what the lesson promises is on screen.

A scenario's ``[expect]`` table states its phenomenon ("validation loss rises 20% above its
minimum", "the stuck-at-chance hint fires"). Judged on the run *so far*, the first evaluation at
which every promise holds is the moment the student can see it — the moment the lesson panel
says "look now, try this", and from which a bench measures how long the student has to act
before the run ends. Whether the run reached its planned end (``completed``) is left out: it is
about the end, not the phenomenon. Some phenomena are there from the first evaluation (a flat
loss, a cost curve far from 0.5): their files name a ``moment_step`` by which the student has
watched it long enough to read it, and the moment waits for that step. Torch-free, so the window can ask it after every evaluation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trainscope.engine import events as ev
from trainscope.engine.expectations import check
from trainscope.engine.run_fold import RunFold

if TYPE_CHECKING:
    from collections.abc import Iterable

    from trainscope.engine.scenario import Scenario

#: Promises about the run's end, not about what the student is shown during it.
END_ONLY = ("completed",)
#: CURRICULUM "Pace": the moment comes no sooner than this after the start, and then leaves
#: at least this long to act by hand before the run ends (seconds, at the lesson's pace).
MOMENT_AT_LEAST_S, ACT_AT_LEAST_S = 10.0, 15.0


def promises_hold(scenario: Scenario, history: RunFold) -> bool:
    """Whether every phenomenon the lesson promises is visible in ``history`` already (and the
    run has reached the lesson's ``moment_step``)."""
    promises = [promise for promise in scenario.expect if promise.name not in END_ONLY]
    evaluations = history.evaluations()
    if not promises or not evaluations or evaluations[-1].step < scenario.moment_step:
        return False
    return all(outcome.held for outcome in check(promises, history, scenario.decision))


class MomentWatch:
    """Follows a lesson's run batch by batch and notes the step of its moment, once per run."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.step: int | None = None

    def observe(self, events: Iterable[ev.Event], history: RunFold) -> bool:
        """Fold in a batch (already in ``history``); True when the moment has just come."""
        evaluated = False
        for event in events:
            if isinstance(event, ev.RunStarted):
                self.step = None  # a reset is a new run: its moment is still to come
            # A hint follows the evaluation that completed its evidence: either may be the
            # last piece of the moment.
            validation = isinstance(event, ev.Evaluation) and event.split == "validation"
            evaluated = evaluated or validation or isinstance(event, ev.Hint)
        if self.step is not None or not evaluated or not promises_hold(self.scenario, history):
            return False
        self.step = history.evaluations()[-1].step
        return True


def first_moment(scenario: Scenario, events: Iterable[ev.Event]) -> int | None:
    """The step of the first validation evaluation at which the lesson's promises hold."""
    history, watch = RunFold(), MomentWatch(scenario)
    for event in events:
        history.update(event)
        if watch.observe((event,), history):
            return watch.step
    return None
