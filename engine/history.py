"""A run's history, folded from its events into compact series that checks can read.

The run summary keeps only the last and best evaluation; judging a lesson ("the validation loss
turned up 20% above its minimum", "the loss spiked to 30x chance") needs the whole curve. This
keeps every step's loss and gradient norm, one small point per evaluation and split, the latest
full evaluation per split, and the run's diverged/hint/change events. A rewind cuts the history
back to the step it returned to, and a reset starts it over, so it always describes the timeline
the model is really on. Torch-free.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from trainscope.engine import events as ev
from trainscope.engine.measures import rarest_class
from trainscope.engine.rewind import survives, surviving_count

if TYPE_CHECKING:
    from collections.abc import Iterable

#: An evaluation point (~400 bytes) costs ~50 step rows (24 bytes each): a bounded history keeps
#: at most ``max_rows / 64`` points per split, thinning the older half 2:1 past that.
POINTS_PER_ROW_BUDGET = 64


@dataclass(frozen=True, slots=True)
class EvaluationPoint:
    """The scalars of one evaluation; ``rare_recall`` is the recall of the rarest class."""

    step: int
    epoch: float
    loss: float
    accuracy: float
    train_loss: float
    train_accuracy: float
    ece: float
    mean_confidence: float
    zero_rule_accuracy: float
    rare_recall: float
    temperature: float
    slice_accuracy: dict[str, float] | None


def point_of(evaluation: ev.Evaluation) -> EvaluationPoint:
    """Reduce an evaluation to its scalars (the probabilities stay with the latest only)."""
    counts = np.bincount(evaluation.labels, minlength=len(evaluation.recall))
    rare = rarest_class(counts)
    confidence = evaluation.probabilities.max(axis=1) if len(evaluation.labels) else np.zeros(1)
    return EvaluationPoint(
        step=evaluation.step,
        epoch=evaluation.epoch,
        loss=evaluation.loss,
        accuracy=evaluation.accuracy,
        train_loss=evaluation.train_loss,
        train_accuracy=evaluation.train_accuracy,
        ece=evaluation.calibration.ece,
        mean_confidence=float(np.mean(confidence)),
        zero_rule_accuracy=evaluation.zero_rule_accuracy,
        rare_recall=float(evaluation.recall[rare]),
        temperature=evaluation.temperature,
        slice_accuracy=evaluation.slice_accuracy,
    )


@dataclass
class RunHistory:
    """Everything a check may ask about the current timeline of one run."""

    run: ev.RunStarted | None = None
    # Machine arrays, 8 bytes a step: a live window keeps this for hours at ~1000 steps/s.
    steps: array = field(default_factory=lambda: array("q"))
    losses: array = field(default_factory=lambda: array("d"))
    grad_norms: array = field(default_factory=lambda: array("d"))
    points: dict[str, list[EvaluationPoint]] = field(default_factory=dict)
    latest: dict[str, ev.Evaluation] = field(default_factory=dict)
    diverged: list[ev.Diverged] = field(default_factory=list)
    hints: list[ev.Hint] = field(default_factory=list)
    changes: list[ev.ParamChanged] = field(default_factory=list)
    temperatures: list[ev.TemperatureFitted] = field(default_factory=list)
    completed: bool = False
    #: Most step rows kept (evaluation points: see ``POINTS_PER_ROW_BUDGET``); None keeps all.
    #: Past it the older half is thinned 2:1, keeping the worse loss of each pair, so spikes and
    #: divergences stay visible to the checks while a window running for hours holds bounded
    #: memory.
    max_rows: int | None = None

    @classmethod
    def from_events(cls, events: Iterable[ev.Event]) -> RunHistory:
        history = cls()
        for event in events:
            history.update(event)
        return history

    def update(self, event: ev.Event) -> None:
        if isinstance(event, ev.RunStarted):
            RunHistory.__init__(self, max_rows=self.max_rows)  # a reset is a new timeline
            self.run = event
        elif isinstance(event, ev.StepMetrics):
            self.steps.frombytes(np.asarray(event.steps, dtype=np.int64).tobytes())
            self.losses.frombytes(np.asarray(event.loss, dtype=np.float64).tobytes())
            self.grad_norms.frombytes(np.asarray(event.grad_norm, dtype=np.float64).tobytes())
            if self.max_rows is not None and len(self.steps) > self.max_rows:
                self._thin_old_steps()
        elif isinstance(event, ev.Evaluation):
            self._add_evaluation(event)
        elif isinstance(event, ev.Rewound):
            self._cut(event.to_step)
        else:
            self._record(event)

    def _add_evaluation(self, evaluation: ev.Evaluation) -> None:
        """Append its point; a second evaluation of the same step replaces the first (fresher)."""
        points = self.points.setdefault(evaluation.split, [])
        if points and points[-1].step == evaluation.step:
            points.pop()
        points.append(point_of(evaluation))
        self.latest[evaluation.split] = evaluation
        if self.max_rows is not None and len(points) > self.max_rows // POINTS_PER_ROW_BUDGET:
            half = len(points) // 2
            points[:half] = points[:half:2]

    def _thin_old_steps(self) -> None:
        """Halve the older half of the step rows, keeping the worse (or non-finite) loss of a pair."""
        pairs = len(self.steps) // 4  # the older half, as pairs
        losses = np.asarray(self.losses)[: 2 * pairs].reshape(pairs, 2)
        badness = np.where(np.isfinite(losses), losses, np.inf)
        rows = 2 * np.arange(pairs) + np.argmax(badness, axis=1)
        for name, code in (("steps", "q"), ("losses", "d"), ("grad_norms", "d")):
            column = np.asarray(getattr(self, name))
            kept = np.concatenate((column[rows], column[2 * pairs :]))
            setattr(self, name, array(code, kept.tobytes()))

    def _record(self, event: ev.Event) -> None:
        if isinstance(event, ev.Diverged):
            self.diverged.append(event)
        elif isinstance(event, ev.Hint):
            self.hints.append(event)
        elif isinstance(event, ev.ParamChanged):
            self.changes.append(event)
        elif isinstance(event, ev.TemperatureFitted):
            self.temperatures.append(event)
        elif isinstance(event, ev.Finished) and event.reason == "completed":
            self.completed = True

    def _cut(self, to_step: int) -> None:
        """Forget what happened after ``to_step`` (``engine.rewind``): the evaluation there stays
        until the loop's fresh one at that step replaces it."""
        keep = surviving_count(np.asarray(self.steps), to_step)
        del self.steps[keep:], self.losses[keep:], self.grad_norms[keep:]
        for split, points in self.points.items():
            self.points[split] = [point for point in points if survives(point.step, to_step)]
        self.latest = {
            split: latest for split, latest in self.latest.items() if survives(latest.step, to_step)
        }

    # ----- reading ----------------------------------------------------------------------------
    def evaluations(self, split: str = "validation") -> list[EvaluationPoint]:
        return self.points.get(split, [])

    def since(self, step: int) -> RunHistory:
        """The same run seen from ``step`` on: later steps and the evaluations at or after it."""
        window = RunHistory(run=self.run, completed=self.completed)
        keep = np.asarray(self.steps) > step
        window.steps = array("q", np.asarray(self.steps)[keep].tobytes())
        window.losses = array("d", np.asarray(self.losses)[keep].tobytes())
        window.grad_norms = array("d", np.asarray(self.grad_norms)[keep].tobytes())
        window.points = {
            split: [point for point in points if point.step >= step]
            for split, points in self.points.items()
        }
        window.latest = dict(self.latest)
        window.diverged = [event for event in self.diverged if event.step > step]
        window.hints = [hint for hint in self.hints if hint.step >= step]
        window.changes = [change for change in self.changes if change.step > step]
        window.temperatures = [event for event in self.temperatures if event.step >= step]
        return window

    @property
    def chance_loss(self) -> float:
        return self.run.chance_loss if self.run is not None else math.log(2)

    @property
    def hint_kinds(self) -> list[str]:
        return [hint.kind for hint in self.hints]
