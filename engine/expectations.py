"""What a scenario promises the learner will see, checked against a run's history.

A scenario's ``[expect]`` table states its phenomenon in a small fixed vocabulary, so the
promise is data and a test (or ``--json``) can check it. Every entry names a measurement from
``MEASURES`` and a bound: a number measure takes ``{ at_least = x }``, ``{ at_most = y }`` or
both; a flag measure takes ``true``/``false``; ``hints_include`` takes a list of hint kinds.
"Final" means the last evaluation of the run's current timeline; losses are nats. Torch-free.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from trainscope.engine.measures import validation_loss_rise
from trainscope.engine.run_fold import EvaluationPoint, RunFold
from trainscope.engine.thresholds import ThresholdTable

if TYPE_CHECKING:
    from trainscope.engine import events as ev


@dataclass(frozen=True)
class Decision:
    """The decision rule a binary lesson is judged by: threshold and what each mistake costs."""

    threshold: float = 0.5
    cost_false_positive: float = 1.0
    cost_false_negative: float = 1.0


@dataclass(frozen=True)
class Expectation:
    """One promise: a measure and its bound (``at_least``/``at_most``, a flag or hint kinds)."""

    name: str
    at_least: float | None = None
    at_most: float | None = None
    flag: bool | None = None
    kinds: tuple[str, ...] = ()

    def describe(self) -> str:
        """How the promise reads in a report, e.g. 'final_val_accuracy >= 0.95'."""
        if self.flag is not None:
            return f"{self.name} = {str(self.flag).lower()}"
        if self.kinds:
            return f"{self.name} {list(self.kinds)}"
        bounds = []
        if self.at_least is not None:
            bounds.append(f">= {self.at_least:g}")
        if self.at_most is not None:
            bounds.append(f"<= {self.at_most:g}")
        return f"{self.name} {' and '.join(bounds)}"


@dataclass(frozen=True)
class Outcome:
    """Whether one promise held, with the measured value in words."""

    name: str
    held: bool
    detail: str
    #: The measured number for a number measure (None for flags and hint lists).
    value: float | None = None

    def to_dict(self) -> dict:
        return {"name": self.name, "held": self.held, "detail": self.detail}


class MeasureUnavailable(Exception):
    """The run has nothing to measure this on (no evaluation, no deployment split …)."""


Measured = tuple[float, str]  # (value, where it was measured)


def _final(history: RunFold, split: str = "validation") -> EvaluationPoint:
    points = history.evaluations(split)
    if not points:
        raise MeasureUnavailable(f"the run has no {split} evaluation")
    return points[-1]


def _first(history: RunFold, split: str = "validation") -> EvaluationPoint:
    _final(history, split)
    return history.evaluations(split)[0]


def _at(point: EvaluationPoint, value: float, split: str = "validation") -> Measured:
    return value, f"{value:.4g} ({split}, step {point.step})"


def _relative_drop(first: float, last: float) -> float:
    return 1.0 - last / first if first > 0 else math.nan


def _loss_rise(history: RunFold) -> Measured:
    """The validation loss's rise above its minimum, as the overfitting hint measures it."""
    rise = validation_loss_rise(history.evaluations())
    if rise is None:
        raise MeasureUnavailable("the run has no validation evaluation")
    best, final = rise.lowest, rise.newest
    return (
        rise.relative,
        f"{rise.relative:.3f} (min {best.loss:.4f} at step {best.step}, "
        f"{final.loss:.4f} at step {final.step})",
    )


def _train_drop_per_epoch(history: RunFold) -> Measured:
    first, final = _first(history), _final(history)
    epochs = final.epoch - first.epoch
    if epochs <= 0:
        raise MeasureUnavailable("the run trained for no epochs")
    value = _relative_drop(first.train_loss, final.train_loss) / epochs
    return value, f"{value:.4f} per epoch over {epochs:.1f} epochs"


def _max_step_loss(history: RunFold) -> Measured:
    if not history.losses:
        raise MeasureUnavailable("the run took no steps")
    losses = np.asarray(history.losses)
    worst = float(np.max(np.where(np.isfinite(losses), losses, np.inf)))
    step = history.steps[int(np.argmax(np.where(np.isfinite(losses), losses, np.inf)))]
    value = worst / history.chance_loss
    return value, f"{value:.3g} (loss {worst:.4g} at step {step}, chance {history.chance_loss:.3f})"


def _deployment_drop(history: RunFold) -> Measured:
    validation, deployment = _final(history), _final(history, "deployment")
    drop = validation.accuracy - deployment.accuracy
    return drop, (
        f"{drop:.3f} (validation {validation.accuracy:.3f}, deployment {deployment.accuracy:.3f}"
        f" at step {deployment.step})"
    )


def _slices(history: RunFold) -> tuple[EvaluationPoint, dict[str, float]]:
    final = _final(history)
    if not final.slice_accuracy:
        raise MeasureUnavailable("the data has no slices")
    return final, final.slice_accuracy


def _worst_slice(history: RunFold) -> Measured:
    final, slices = _slices(history)
    name = min(slices, key=slices.__getitem__)
    return slices[
        name
    ], f"{slices[name]:.3f} ('{name}', step {final.step}; overall {final.accuracy:.3f})"


def _slice_gap(history: RunFold) -> Measured:
    final, slices = _slices(history)
    gap = max(slices.values()) - min(slices.values())
    shown = ", ".join(f"{name} {value:.3f}" for name, value in slices.items())
    return gap, f"{gap:.3f} ({shown} at step {final.step})"


def _cost_table(history: RunFold) -> tuple[ThresholdTable, ev.Evaluation]:
    latest = history.latest.get("validation")
    if latest is None or latest.probabilities.shape[1] != 2:
        raise MeasureUnavailable("threshold measures need a binary task with an evaluation")
    return ThresholdTable.from_scores(latest.probabilities[:, 1], latest.labels), latest


def _best_threshold_distance(history: RunFold, decision: Decision) -> Measured:
    table, latest = _cost_table(history)
    best = table.best_cost_threshold(decision.cost_false_positive, decision.cost_false_negative)
    distance = abs(best - 0.5)
    return distance, f"{distance:.3f} (cheapest threshold {best:.3f} at step {latest.step})"


def _cost_saving(history: RunFold, decision: Decision) -> Measured:
    table, latest = _cost_table(history)
    costs = (decision.cost_false_positive, decision.cost_false_negative)
    best = table.best_cost_threshold(*costs)
    at_half, at_best = table.at(0.5, *costs).expected_cost, table.at(best, *costs).expected_cost
    saving = 1.0 - at_best / at_half if at_half > 0 else 0.0
    return saving, f"{saving:.3f} (cost per case {at_half:.4g} at 0.5, {at_best:.4g} at {best:.3f})"


def _val_loss_jitter(history: RunFold) -> Measured:
    points = history.evaluations()
    late = points[len(points) // 2 :]
    if len(late) < 3:
        raise MeasureUnavailable("jitter needs at least six evaluations")
    losses = np.array([point.loss for point in late])
    jitter = float(np.mean(np.abs(np.diff(losses))) / np.mean(losses))
    return jitter, f"{jitter:.4f} (over the {len(late)} evaluations from step {late[0].step})"


def _grad_norm_growth(history: RunFold) -> Measured:
    norms = np.asarray(history.grad_norms)
    if len(norms) < 20:
        raise MeasureUnavailable("gradient growth needs at least 20 steps")
    tenth = max(1, len(norms) // 10)
    early, late = float(np.median(norms[:tenth])), float(np.median(norms[-tenth:]))
    growth = late / early if early > 0 else math.inf
    return growth, f"{growth:.3g} (median gradient norm {early:.3g} early, {late:.3g} late)"


NumberMeasure = Callable[[RunFold, Decision], Measured]


def _on_final(split: str, read: Callable[[EvaluationPoint], float]) -> NumberMeasure:
    def measure(history: RunFold, decision: Decision) -> Measured:
        final = _final(history, split)
        return _at(final, read(final), split)

    return measure


def _ignoring_decision(measure: Callable[[RunFold], Measured]) -> NumberMeasure:
    return lambda history, decision: measure(history)


def _chance_ratio(read: Callable[[EvaluationPoint], float], first: bool = False) -> NumberMeasure:
    def measure(history: RunFold, decision: Decision) -> Measured:
        point = _first(history) if first else _final(history)
        return _at(point, read(point) / history.chance_loss)

    return measure


def _drop(read: Callable[[EvaluationPoint], float]) -> NumberMeasure:
    def measure(history: RunFold, decision: Decision) -> Measured:
        first, final = _first(history), _final(history)
        value = _relative_drop(read(first), read(final))
        return (
            value,
            f"{value:.3f} ({read(first):.4f} at step {first.step} → {read(final):.4f} at step {final.step})",
        )

    return measure


#: Every number measure, with the sentence that documents it.
NUMBER_MEASURES: dict[str, tuple[NumberMeasure, str]] = {
    "final_val_accuracy": (
        _on_final("validation", lambda p: p.accuracy),
        "validation accuracy at the last evaluation",
    ),
    "final_train_accuracy": (
        _on_final("validation", lambda p: p.train_accuracy),
        "training accuracy (eval mode, the labels training sees) at the last evaluation",
    ),
    "final_val_loss": (
        _on_final("validation", lambda p: p.loss),
        "validation loss at the last evaluation",
    ),
    "final_train_loss": (
        _on_final("validation", lambda p: p.train_loss),
        "training loss (full pass, eval mode) at the last evaluation",
    ),
    "initial_val_loss_over_chance": (
        _chance_ratio(lambda p: p.loss, first=True),
        "validation loss at the first evaluation divided by ln K",
    ),
    "final_val_loss_over_chance": (
        _chance_ratio(lambda p: p.loss),
        "validation loss at the last evaluation divided by ln K",
    ),
    "final_train_loss_over_chance": (
        _chance_ratio(lambda p: p.train_loss),
        "training loss at the last evaluation divided by ln K",
    ),
    "val_loss_drop": (_drop(lambda p: p.loss), "1 - last / first validation loss"),
    "train_loss_drop": (_drop(lambda p: p.train_loss), "1 - last / first training loss"),
    "train_loss_drop_per_epoch": (
        _ignoring_decision(_train_drop_per_epoch),
        "train_loss_drop divided by the epochs between the first and last evaluation",
    ),
    "val_loss_rise_from_min": (
        _ignoring_decision(_loss_rise),
        "last validation loss / its minimum - 1",
    ),
    "generalization_gap": (
        _on_final("validation", lambda p: p.loss - p.train_loss),
        "validation loss minus training loss at the last evaluation",
    ),
    "train_val_accuracy_gap": (
        _on_final("validation", lambda p: p.train_accuracy - p.accuracy),
        "training minus validation accuracy at the last evaluation",
    ),
    "accuracy_distance_from_zero_rule": (
        _on_final("validation", lambda p: abs(p.accuracy - p.zero_rule_accuracy)),
        "|validation accuracy - always-the-majority accuracy| at the last evaluation",
    ),
    "accuracy_over_zero_rule": (
        _on_final("validation", lambda p: p.accuracy - p.zero_rule_accuracy),
        "validation accuracy minus always-the-majority accuracy at the last evaluation",
    ),
    "minority_recall": (
        _on_final("validation", lambda p: p.rare_recall),
        "recall of the rarest validation class at the last evaluation (argmax: threshold 0.5 for two classes)",
    ),
    "ece": (
        _on_final("validation", lambda p: p.ece),
        "validation expected calibration error at the last evaluation",
    ),
    "confidence_minus_accuracy": (
        _on_final("validation", lambda p: p.mean_confidence - p.accuracy),
        "mean top-label confidence minus accuracy at the last evaluation (> 0: overconfident)",
    ),
    "max_train_loss_over_chance": (
        _ignoring_decision(_max_step_loss),
        "largest single-step training loss divided by ln K (non-finite counts as infinite)",
    ),
    "final_deployment_accuracy": (
        _on_final("deployment", lambda p: p.accuracy),
        "deployment accuracy at the last evaluation",
    ),
    "deployment_accuracy_drop": (
        _ignoring_decision(_deployment_drop),
        "validation minus deployment accuracy at the last evaluation",
    ),
    "worst_slice_accuracy": (
        _ignoring_decision(_worst_slice),
        "lowest per-slice validation accuracy at the last evaluation",
    ),
    "slice_accuracy_gap": (
        _ignoring_decision(_slice_gap),
        "best minus worst slice validation accuracy at the last evaluation",
    ),
    "best_cost_threshold_distance_from_half": (
        _best_threshold_distance,
        "|cheapest threshold - 0.5| under the scenario's [decision] costs (two classes)",
    ),
    "cost_saving_at_best_threshold": (
        _cost_saving,
        "1 - expected cost at the cheapest threshold / at 0.5",
    ),
    "val_loss_jitter": (
        _ignoring_decision(_val_loss_jitter),
        "mean |change| of validation loss between evaluations over the second half, divided by its mean",
    ),
    "grad_norm_growth": (
        _ignoring_decision(_grad_norm_growth),
        "median gradient norm over the last tenth of steps / over the first tenth",
    ),
}

#: Flag measures: true/false facts about the run.
FLAG_MEASURES: dict[str, tuple[Callable[[RunFold], bool], str]] = {
    "diverged": (lambda history: bool(history.diverged), "the loss became NaN or infinite"),
    "completed": (lambda history: history.completed, "the run reached its planned end"),
    "no_hints": (lambda history: not history.hints, "no diagnosis hint fired"),
}
LIST_MEASURES = {"hints_include": "every listed hint kind fired"}
MEASURES: tuple[str, ...] = (*NUMBER_MEASURES, *FLAG_MEASURES, *LIST_MEASURES)


def check(
    expectations: Iterable[Expectation],
    source: RunFold | Iterable[ev.Event],
    decision: Decision | None = None,
) -> list[Outcome]:
    """Judge each expectation against a run: a ``RunFold`` (or summary's) or its events."""
    history = source if isinstance(source, RunFold) else _history_of(source)
    return [_judge(expectation, history, decision or Decision()) for expectation in expectations]


def _history_of(source: object) -> RunFold:
    recorded = getattr(source, "fold", None)  # a RunSummary carries one
    if isinstance(recorded, RunFold):
        return recorded
    return RunFold.from_events(source)  # type: ignore[arg-type]


def _judge(expectation: Expectation, history: RunFold, decision: Decision) -> Outcome:
    name = expectation.describe()
    if expectation.kinds:
        missing = [kind for kind in expectation.kinds if kind not in history.hint_kinds]
        fired = ", ".join(history.hint_kinds) or "none"
        return Outcome(name, not missing, f"fired: {fired}")
    if expectation.flag is not None:
        flag = FLAG_MEASURES[expectation.name][0](history)
        return Outcome(name, flag == expectation.flag, f"{str(flag).lower()}")
    try:
        value, detail = NUMBER_MEASURES[expectation.name][0](history, decision)
    except MeasureUnavailable as missing:
        return Outcome(name, False, f"not measurable: {missing}")
    held = math.isfinite(value) or value == math.inf
    if expectation.at_least is not None:
        held = held and value >= expectation.at_least
    if expectation.at_most is not None:
        held = held and value <= expectation.at_most
    return Outcome(name, bool(held), detail, float(value))


def measure(name: str, history: RunFold, decision: Decision | None = None) -> float:
    """The raw value of one number measure (tests compare runs with it)."""
    return NUMBER_MEASURES[name][0](history, decision or Decision())[0]
