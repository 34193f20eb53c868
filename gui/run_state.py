"""Everything the panels show, read from the run's one fold; no Qt here on purpose.

The window drains events once per frame and calls ``apply``: it folds each event into the run's
``RunFold`` (``engine.run_fold``: the step, the latest and best evaluations, the settings, the
hints — what the run summary, the lesson checks and the recorder read too) and then keeps what
only a screen needs: the curves as drawable series (the newest steps exact, older ones in
buckets), the markers, the rewind's ghost, the threshold and the version counters. Panels
compare those counters with the ones they last drew and redraw only what changed. Keeping this
plain Python + numpy makes it testable without a display and reusable for replay and comparison.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from trainscope.engine import events as ev
from trainscope.engine.metrics import lowest_recall_class
from trainscope.engine.rewind import survives
from trainscope.engine.run_fold import RunFold
from trainscope.gui.ghost import RewindGhost, cut_off
from trainscope.gui.insight_state import InsightState
from trainscope.gui.series import CompactingSeries, GrowableSeries

if TYPE_CHECKING:
    from collections.abc import Iterable

MarkerKind = Literal["param", "rewind", "diverged", "test_opened", "reset", "hint"]

#: Short names for a hint's line on the time charts: a chart has little room beside the line
#: (the hints panel has the full title, the evidence and the suggestion).
HINT_MARKER_LABELS = {
    "diverged": "blowing up",
    "stuck_at_chance": "stuck at chance",
    "overfitting": "overfitting",
    "no_better_than_baseline": "at the baseline",
    "minority_recall_collapse": "rare class missed",
    "overconfident": "overconfident",
    "vanishing_gradients": "vanishing gradients",
    "exploding_gradients": "exploding gradients",
    "dead_units": "dead units",
}

SMOOTHING_STEPS = 50
"""The smoothed loss is an EMA whose span is about this many steps (alpha = 2 / (span + 1))."""

MAX_MESSAGES = 50

TRAIN_COLUMNS = ("step", "loss", "smoothed_loss", "batch_accuracy", "grad_norm", "lr")
EVALUATION_COLUMNS = ("step", "val_loss", "val_accuracy", "train_loss", "train_accuracy")


@dataclass(frozen=True, slots=True)
class Marker:
    """Something worth a vertical line on a time chart: a setting changed, a rewind, a divergence."""

    step: int
    kind: MarkerKind
    label: str


def format_value(value: float | int | str | np.number) -> str:
    """Compact display of a setting: 3 significant digits, no '1e-05' zero padding."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, int, np.integer)):
        return str(int(value))
    number = float(value)
    if not math.isfinite(number):
        return str(number)
    text = f"{number:.3g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def param_label(key: str, old: float | int | str, new: float | int | str) -> str:
    """The marker text for a changed setting, e.g. 'lr 0.001 → 0.1'."""
    return f"{key} {format_value(old)} → {format_value(new)}"


class RunState:
    """The GUI's model of one session's run (a reset starts over inside the same object)."""

    def __init__(self) -> None:
        self.fold = RunFold.bounded()
        """The run's one fold: what the summary, the lesson checks and replay read as well."""
        self._identity = object()
        # The newest steps exact, older ones in min/max/mean buckets: bounded memory however
        # long the run (the run store on disk keeps every step).
        self.train = CompactingSeries(TRAIN_COLUMNS)
        self.evaluations = GrowableSeries(EVALUATION_COLUMNS, capacity=256)
        self.markers: list[Marker] = []
        self.state = "idle"
        self.messages: list[str] = []
        self.threshold, self.cost_fp, self.cost_fn = 0.5, 1.0, 1.0
        self._chosen_positive: int | None = None  # K > 2: picked once per run, or by the user
        self._positive_is_provisional = False  # picked from the untrained model at step 0
        self._ema: float | None = None
        # Panels remember these and redraw only when one they depend on has moved.
        self.series_version = self.evaluation_version = self.markers_version = 0
        self.threshold_version = self.run_version = self.status_version = 0
        self.hints_version = 0
        self.ghost: RewindGhost | None = None
        """The curves the latest rewind cut off (see ``_on_rewound``); None until one cuts any."""
        self.ghost_version = 0
        self._handlers = {
            ev.RunStarted: self._on_run_started,
            ev.StepMetrics: self._on_step_metrics,
            ev.Evaluation: self._on_evaluation,
            ev.ParamChanged: self._on_param_changed,
            ev.CommandRefused: self._on_command_refused,
            ev.StateChanged: self._on_state_changed,
            ev.Rewound: self._on_rewound,
            ev.TestSetOpened: self._on_test_opened,
            ev.Diverged: self._on_diverged,
            ev.Finished: self._on_finished,
            ev.Error: self._on_error,
            ev.ReplaySeeked: self._on_replay_seeked,
            ev.Hint: self._on_hint,
        }
        self.insights = InsightState()  # the newest boundary, layer health, resources…
        self._handlers.update(self.insights.handlers())

    @property
    def run_key(self) -> tuple[object, int]:
        """Which run this is, unique across RunState objects (panels may be handed another one)."""
        return (self._identity, self.run_version)

    # ----- read from the fold ------------------------------------------------------------
    @property
    def run(self) -> ev.RunStarted | None:
        return self.fold.run

    @property
    def step(self) -> int:
        return self.fold.step

    @property
    def epoch(self) -> float:
        return self.fold.epoch

    @property
    def steps_per_second(self) -> float:
        return self.fold.steps_per_second

    @property
    def settings(self) -> dict:
        """The values in force now: the run's start, then every change."""
        return self.fold.settings

    @property
    def hints(self) -> list[ev.Hint]:
        """Diagnosis hints of this run, oldest first (the hints panel shows the newest on top)."""
        return self.fold.hints

    @property
    def latest_by_split(self) -> dict[str, ev.Evaluation]:
        return self.fold.latest

    @property
    def best_step(self) -> int | None:
        return self.fold.best.step if self.fold.best is not None else None

    @property
    def best_val_loss(self) -> float | None:
        return self.fold.best.loss if self.fold.best is not None else None

    @property
    def latest_validation(self) -> ev.Evaluation | None:
        return self.fold.latest_validation

    @property
    def latest_test(self) -> ev.Evaluation | None:
        return self.fold.latest.get("test")

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.run.class_names if self.run is not None else ()

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def is_binary(self) -> bool:
        """Two classes: threshold analysis applies and P(positive) is column 1."""
        return self.n_classes == 2

    @property
    def positive_class(self) -> int | None:
        """The class the threshold view treats as positive: class 1 of two, else one-vs-rest.

        With more than two classes it is chosen once per run, at the first validation
        evaluation of a trained model (the class with the lowest recall; the untrained model's
        step-0 evaluation only gives a provisional one), and kept until the user picks another:
        a default that followed every evaluation would jump under the user's eyes. None until
        then. Only the threshold view (and the confusion matrix's mark) follow it; every other
        prediction stays the arg-max.
        """
        return 1 if self.is_binary else self._chosen_positive

    def set_positive_class(self, index: int) -> None:
        """The user's pick of the one-vs-rest positive class (kept until the next run)."""
        index = int(index)
        if self.is_binary or not 0 <= index < self.n_classes:
            raise ValueError(
                f"the positive class must be one of {self.n_classes} classes (got {index})"
            )
        self._chosen_positive, self._positive_is_provisional = index, False

    def set_threshold(self, threshold: float) -> None:
        """Move the decision threshold (clamped to [0, 1]); panels redraw from cached probabilities."""
        threshold = min(max(float(threshold), 0.0), 1.0)
        if threshold != self.threshold:
            self.threshold = threshold
            self.threshold_version += 1

    def set_costs(self, cost_fp: float, cost_fn: float) -> None:
        """Set what one false positive and one false negative cost (both >= 0)."""
        cost_fp, cost_fn = float(cost_fp), float(cost_fn)
        if cost_fp < 0 or cost_fn < 0 or not math.isfinite(cost_fp + cost_fn):
            raise ValueError(f"costs must be finite and 0 or more (got {cost_fp}, {cost_fn})")
        if (cost_fp, cost_fn) != (self.cost_fp, self.cost_fn):
            self.cost_fp, self.cost_fn = cost_fp, cost_fn
            self.threshold_version += 1

    def apply(self, events: Iterable[ev.Event]) -> None:
        """Fold a frame's worth of events in, in order: into the run's fold, then the drawables."""
        for event in events:
            self.fold.update(event)
            handler = self._handlers.get(type(event))
            if handler is not None:
                handler(event)

    def _add_marker(self, step: int, kind: MarkerKind, label: str) -> None:
        self.markers.append(Marker(int(step), kind, label))
        self.markers_version += 1

    def _add_message(self, text: str) -> None:
        self.messages.append(text)
        del self.messages[:-MAX_MESSAGES]
        self.status_version += 1

    def _on_run_started(self, event: ev.RunStarted) -> None:
        """A first start, or a reset: either way the history starts over at step 0 (the fold
        starts its timeline and hints over too: old advice no longer holds)."""
        self.insights.on_run_started()
        self.train.clear()
        self.evaluations.clear()
        self.markers = []
        self._set_ghost(None)  # a reset or a new run is a fresh start, not a comparison
        self._ema = None
        self._chosen_positive = None  # the next run picks its own, at its first evaluation
        self._positive_is_provisional = False
        if self.state == "diverged":
            self.state = "paused"  # a reset clears the divergence; StateChanged follows
        if self.fold.starts > 1:
            self.markers.append(Marker(0, "reset", "reset"))
        self.run_version += 1
        self.series_version += 1
        self.evaluation_version += 1
        self.markers_version += 1
        self.status_version += 1
        self.hints_version += 1

    def _on_step_metrics(self, event: ev.StepMetrics) -> None:
        loss = np.asarray(event.loss, dtype=np.float64)
        self.train.append(
            event.steps, loss, self._smooth(loss), event.batch_accuracy, event.grad_norm, event.lr
        )
        self.series_version += 1
        self.status_version += 1

    def _smooth(self, loss: np.ndarray) -> np.ndarray:
        """EMA of the loss; a non-finite loss shows as a gap but does not poison later values."""
        alpha = 2.0 / (SMOOTHING_STEPS + 1)
        smoothed = np.empty_like(loss)
        ema = self._ema
        for i, value in enumerate(loss.tolist()):
            if not math.isfinite(value):
                smoothed[i] = math.nan
                continue
            ema = value if ema is None else ema + alpha * (value - ema)
            smoothed[i] = ema
        self._ema = ema
        return smoothed

    def _on_evaluation(self, event: ev.Evaluation) -> None:
        if event.split == "validation":
            undecided = self._chosen_positive is None or self._positive_is_provisional
            if undecided and self.n_classes > 2:
                self._chosen_positive = lowest_recall_class(event.confusion)
                self._positive_is_provisional = event.step == 0
            replaced = self.evaluations.last("step") == event.step  # re-evaluated after a rewind
            if replaced:
                self.evaluations.truncate_after(event.step - 1)
            self.evaluations.append(
                event.step, event.loss, event.accuracy, event.train_loss, event.train_accuracy
            )
            self.series_version += 1
        self.evaluation_version += 1

    def _on_param_changed(self, event: ev.ParamChanged) -> None:
        self._add_marker(event.step, "param", param_label(event.key, event.old, event.new))
        self.status_version += 1

    def _on_command_refused(self, event: ev.CommandRefused) -> None:
        self._add_message(event.message)

    def _on_state_changed(self, event: ev.StateChanged) -> None:
        """A diverged run pauses itself; keep saying "diverged" until it runs, rewinds or resets."""
        if not (self.state == "diverged" and event.state == "paused"):
            self.state = event.state
        self.status_version += 1

    def _on_rewound(self, event: ev.Rewound) -> None:
        """History after ``to_step`` no longer holds: cut the curves, markers and evaluations there
        (``engine.rewind``'s rule; the series' ``truncate_after`` keeps rows at or before a step).

        What is cut becomes the ghost, the "before" of a before-and-after. Only the latest
        rewind's ghost is kept: it is the attempt the student just abandoned and the one the
        curve now running is meant to beat; a stack of faded curves from every rewind would
        bury the comparison (and grow with the session). A rewind that cuts nothing (the run
        was at its checkpoint) keeps the ghost there is.
        """
        to_step = event.to_step
        ghost = cut_off(self.train, self.evaluations, event.from_step, to_step)
        if ghost is not None:
            self._set_ghost(ghost)
        self.train.truncate_after(to_step)
        self.evaluations.truncate_after(to_step)
        last_smoothed = self.train.last("smoothed_loss")
        self._ema = (
            last_smoothed if last_smoothed is not None and math.isfinite(last_smoothed) else None
        )
        self.markers = [marker for marker in self.markers if survives(marker.step, to_step)]
        self._add_marker(to_step, "rewind", f"rewind from {event.from_step}")
        if self.state == "diverged":
            self.state = "paused"
        self.series_version += 1
        self.evaluation_version += 1
        self.status_version += 1

    def _set_ghost(self, ghost: RewindGhost | None) -> None:
        if ghost is not None or self.ghost is not None:
            self.ghost = ghost
            self.ghost_version += 1

    def _on_test_opened(self, event: ev.TestSetOpened) -> None:
        self._add_marker(event.step, "test_opened", "test set opened")

    def _on_diverged(self, event: ev.Diverged) -> None:
        self.state = "diverged"
        self._add_marker(event.step, "diverged", f"diverged (loss {format_value(event.loss)})")
        self._add_message(event.message)

    def _on_finished(self, event: ev.Finished) -> None:
        self.state = "finished" if event.reason == "completed" else "stopped"
        self.status_version += 1

    def _on_hint(self, event: ev.Hint) -> None:
        """Mark the hint's step on the time charts (unless a divergence marks it); the fold keeps it."""
        self.hints_version += 1
        already_marked = any(
            marker.step == event.step and marker.kind == "diverged" for marker in self.markers
        )
        if not already_marked:
            self._add_marker(event.step, "hint", HINT_MARKER_LABELS.get(event.kind, "hint"))

    def _on_replay_seeked(self, event: ev.ReplaySeeked) -> None:
        """A replay jumped: the run follows again from its first event, as a first start (the
        fold started over, so the RunStarted that follows is no reset marker)."""
        self.messages = []
        self.status_version += 1

    def _on_error(self, event: ev.Error) -> None:
        self.state = "error"
        self._add_message(event.message)
