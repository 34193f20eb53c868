"""The one fold of a run's event stream: what every view of a run reads.

The window's ``RunState``, the run summary (``engine.summary``), the recorder's outcome row
(``engine.runs.outcome``), the lesson checks and the promises (``engine.expectations``) and a
replay all read one ``RunFold``, so they cannot disagree about the current step, the latest and
the best evaluation, or what a rewind leaves. It keeps three scopes, each with its own rule:

* **the timeline** — the steps, evaluations and best score the model is really on. A rewind cuts
  it by ``engine.rewind``'s rule (what is at or before the step stays; the fresh evaluation at
  that step replaces the old one) and a reset (``RunStarted``) starts it over.
* **since the start** — the divergences, hints, changes and temperatures of this start: a reset
  clears them, a rewind keeps them (a lesson asks whether the run blew up, even if the student
  then rewound to before it).
* **the session log** (``SessionLog``) — everything that happened, whatever became of the
  timeline: every change the student made, the first divergence, the test set's opening, errors,
  how it ended. The run summary reports it.

Judging a lesson ("the validation loss turned up 20% above its minimum", "the loss spiked to
30x chance") needs the whole curve, so the fold keeps every step's loss and gradient norm (8
bytes a column; ``max_rows`` bounds it for a window running for hours) and one small point per
evaluation and split; the full evaluations (probabilities, confusion) only for the latest few.
Torch-free: the GUI process imports it.
"""

from __future__ import annotations

import math
from array import array
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from trainscope.engine import events as ev
from trainscope.engine.measures import mean_confidence, rare_class_recall
from trainscope.engine.rewind import survives, surviving_count

if TYPE_CHECKING:
    from collections.abc import Iterable

#: An evaluation point (~400 bytes) costs ~50 step rows (24 bytes each): a bounded history keeps
#: at most ``max_rows / 64`` points per split, thinning the older half 2:1 past that.
POINTS_PER_ROW_BUDGET = 64
RATE_WINDOW_S = 1.0  # the shown steps/s is over about this much training


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
    _, rare_recall = rare_class_recall(evaluation)
    return EvaluationPoint(
        step=evaluation.step,
        epoch=evaluation.epoch,
        loss=evaluation.loss,
        accuracy=evaluation.accuracy,
        train_loss=evaluation.train_loss,
        train_accuracy=evaluation.train_accuracy,
        ece=evaluation.calibration.ece,
        mean_confidence=mean_confidence(evaluation),
        zero_rule_accuracy=evaluation.zero_rule_accuracy,
        rare_recall=rare_recall,
        temperature=evaluation.temperature,
        slice_accuracy=evaluation.slice_accuracy,
    )


#: Full evaluations kept per split, so a rewind can bring back the one the model now matches.
RECENT_EVALUATIONS = 16
#: Evaluation costs kept for the run summary's median (bounded for long runs).
RECENT_EVALUATION_COSTS = 10_000
#: Step rows a long-lived fold keeps (``RunFold.bounded``): ~12 MiB.
BOUNDED_ROWS = 1 << 19


@dataclass
class SessionLog:
    """What happened in the session, whatever became of the timeline: a rewind or a reset keeps it.

    The run summary reports every change the student made and the first divergence even when a
    rewind later undid them; the recorder files a run as completed once it reached its end.
    """

    changes: list[ev.ParamChanged] = field(default_factory=list)
    hints: list[ev.Hint] = field(default_factory=list)
    first_divergence: ev.Diverged | None = None
    test_opened_at: int | None = None
    errors: list[str] = field(default_factory=list)
    finished_reason: str | None = None
    completed: bool = False
    ended: bool = False
    failed: bool = False  # the training thread or the worker died
    timed_steps: int = 0
    timed_seconds: float = 0.0
    eval_ms: deque[float] = field(default_factory=lambda: deque(maxlen=RECENT_EVALUATION_COSTS))

    @property
    def mean_steps_per_second(self) -> float:
        return self.timed_steps / self.timed_seconds if self.timed_seconds > 0 else 0.0


@dataclass
class RunFold:
    """Everything any view may ask about one session's run (see the module docstring's scopes)."""

    #: Most step rows kept (evaluation points: see ``POINTS_PER_ROW_BUDGET``); None keeps all.
    #: Past it the older half is thinned 2:1, keeping the worse loss of each pair, so spikes and
    #: divergences stay visible to the checks while a window running for hours holds bounded
    #: memory.
    max_rows: int | None = None
    #: False keeps no step rows at all (the recorder's outcome row needs only the scalars).
    keep_steps: bool = True
    # ----- the timeline -----
    run: ev.RunStarted | None = None
    step: int = 0
    epoch: float = 0.0
    #: Over the newest batches that add up to ``RATE_WINDOW_S`` of training: one batch's own
    #: figure swung 21-77 steps/s at pace 40 (a batch holds 1-2 steps there).
    steps_per_second: float = 0.0
    recent_batches: deque = field(default_factory=deque, repr=False)  # (steps, seconds)
    recent_steps: int = 0
    recent_seconds: float = 0.0
    settings: dict = field(default_factory=dict)  # the values in force now
    # Machine arrays, 8 bytes a step: a live window keeps this for hours at ~1000 steps/s.
    steps: array = field(default_factory=lambda: array("q"))
    losses: array = field(default_factory=lambda: array("d"))
    grad_norms: array = field(default_factory=lambda: array("d"))
    points: dict[str, list[EvaluationPoint]] = field(default_factory=dict)
    latest: dict[str, ev.Evaluation] = field(default_factory=dict)
    recent: dict[str, deque[ev.Evaluation]] = field(default_factory=dict)
    best: EvaluationPoint | None = None
    """The lowest finite validation loss on the timeline (a rewind past it finds the next)."""
    diverging: bool = False
    """A divergence no rewind or reset has recovered from yet."""
    # ----- since the start -----
    starts: int = 0  # RunStarted events seen: more than one means the run was reset
    diverged: list[ev.Diverged] = field(default_factory=list)
    hints: list[ev.Hint] = field(default_factory=list)
    changes: list[ev.ParamChanged] = field(default_factory=list)
    temperatures: list[ev.TemperatureFitted] = field(default_factory=list)
    completed: bool = False
    # ----- the session -----
    session: SessionLog = field(default_factory=SessionLog)

    @classmethod
    def bounded(cls, keep_steps: bool = True) -> RunFold:
        """For a window or a recorder that may run for hours: old steps thin past ~0.5M rows."""
        return cls(max_rows=BOUNDED_ROWS, keep_steps=keep_steps)

    @classmethod
    def from_events(cls, events: Iterable[object]) -> RunFold:
        fold = cls()
        for event in events:
            fold.update(event)
        return fold

    def update(self, event: object) -> None:
        """Fold one event in; event types no view needs are ignored."""
        if isinstance(event, ev.StepMetrics):
            self._add_steps(event)
        elif isinstance(event, ev.Evaluation):
            self._add_evaluation(event)
        elif isinstance(event, ev.RunStarted):
            self._start(event)
        elif isinstance(event, ev.Rewound):
            self._cut(event.to_step)
        elif isinstance(event, ev.ReplaySeeked):
            # A replay jumped: its events follow again from the first, as a fresh session.
            RunFold.__init__(self, max_rows=self.max_rows, keep_steps=self.keep_steps)
        else:
            self._record(event)

    def _start(self, event: ev.RunStarted) -> None:
        """A first start, or a reset: the timeline starts over at step 0; the session log stays."""
        starts, session = self.starts + 1, self.session
        RunFold.__init__(self, max_rows=self.max_rows, keep_steps=self.keep_steps, session=session)
        self.run, self.starts, self.settings = event, starts, dict(event.settings)

    def _add_to_rate(self, count: int, seconds: float) -> None:
        """The shown rate: steps over time across the batches of the last ``RATE_WINDOW_S``."""
        recent = self.recent_batches
        recent.append((count, seconds))
        self.recent_steps += count
        self.recent_seconds += seconds
        while len(recent) > 1 and self.recent_seconds - recent[0][1] >= RATE_WINDOW_S:
            old_count, old_seconds = recent.popleft()
            self.recent_steps -= old_count
            self.recent_seconds -= old_seconds
        self.steps_per_second = self.recent_steps / self.recent_seconds

    def _add_steps(self, event: ev.StepMetrics) -> None:
        count = len(event.steps)
        if count:
            self.step = int(event.steps[-1])
        self.epoch = float(event.epoch)
        if event.steps_per_second > 0:
            self.session.timed_steps += count
            self.session.timed_seconds += count / event.steps_per_second
            self._add_to_rate(count, count / event.steps_per_second)
        if not self.keep_steps:
            return
        self.steps.frombytes(np.asarray(event.steps, dtype=np.int64).tobytes())
        self.losses.frombytes(np.asarray(event.loss, dtype=np.float64).tobytes())
        self.grad_norms.frombytes(np.asarray(event.grad_norm, dtype=np.float64).tobytes())
        if self.max_rows is not None and len(self.steps) > self.max_rows:
            self._thin_old_steps()

    def _add_evaluation(self, evaluation: ev.Evaluation) -> None:
        """Append its point; a second evaluation of the same step replaces the first (fresher)."""
        split, step = evaluation.split, evaluation.step
        points = self.points.setdefault(split, [])
        recent = self.recent.setdefault(split, deque(maxlen=RECENT_EVALUATIONS))
        replaced = bool(points) and points[-1].step == step
        if replaced:
            points.pop()
        if recent and recent[-1].step == step:
            recent.pop()
        point = point_of(evaluation)
        points.append(point)
        recent.append(evaluation)
        self.latest[split] = evaluation
        if self.max_rows is not None and len(points) > self.max_rows // POINTS_PER_ROW_BUDGET:
            half = len(points) // 2
            points[:half] = points[:half:2]
        if split != "validation":
            return
        self.session.eval_ms.append(evaluation.duration_ms)
        if replaced and self.best is not None and self.best.step == step:
            self._find_best()
        elif math.isfinite(point.loss) and (self.best is None or point.loss < self.best.loss):
            self.best = point

    def _find_best(self) -> None:
        finite = [point for point in self.points.get("validation", []) if math.isfinite(point.loss)]
        self.best = min(finite, key=lambda point: point.loss) if finite else None

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

    def _record(self, event: object) -> None:
        session = self.session
        if isinstance(event, ev.ParamChanged):
            self.changes.append(event)
            session.changes.append(event)
            self.settings[event.key] = event.new
        elif isinstance(event, ev.Hint):
            self.hints.append(event)
            session.hints.append(event)
        elif isinstance(event, ev.Diverged):
            self.diverged.append(event)
            self.diverging = True
            session.first_divergence = session.first_divergence or event
        elif isinstance(event, ev.TemperatureFitted):
            self.temperatures.append(event)
        elif isinstance(event, ev.TestSetOpened) and session.test_opened_at is None:
            session.test_opened_at = event.step
        elif isinstance(event, ev.Finished):
            session.ended = True
            if event.reason == "completed":
                self.completed = session.completed = True
            if session.finished_reason != "completed":
                session.finished_reason = event.reason
        elif isinstance(event, ev.Error):
            session.errors.append(event.message)
            session.failed = True

    def _cut(self, to_step: int) -> None:
        """Forget what the timeline did after ``to_step`` (``engine.rewind``): the evaluation
        there stays until the loop's fresh one at that step replaces it, and the latest full
        evaluation of each split becomes the newest one that survives."""
        keep = surviving_count(np.asarray(self.steps), to_step)
        del self.steps[keep:], self.losses[keep:], self.grad_norms[keep:]
        for split, points in self.points.items():
            self.points[split] = [point for point in points if survives(point.step, to_step)]
        for split, recent in self.recent.items():
            while recent and not survives(recent[-1].step, to_step):
                recent.pop()
            if recent:
                self.latest[split] = recent[-1]
            else:
                self.latest.pop(split, None)
        if self.best is not None and not survives(self.best.step, to_step):
            self._find_best()
        self.step, self.diverging = to_step, False

    # ----- reading ----------------------------------------------------------------------------
    def evaluations(self, split: str = "validation") -> list[EvaluationPoint]:
        return self.points.get(split, [])

    def since(self, step: int) -> RunFold:
        """The same run seen from ``step`` on: later steps and the evaluations at or after it."""
        window = RunFold(run=self.run, step=self.step, epoch=self.epoch, completed=self.completed)
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
        window.session = self.session
        return window

    @property
    def latest_validation(self) -> ev.Evaluation | None:
        return self.latest.get("validation")

    @property
    def chance_loss(self) -> float:
        return self.run.chance_loss if self.run is not None else math.log(2)

    @property
    def hint_kinds(self) -> list[str]:
        return [hint.kind for hint in self.hints]
