"""Measures that a hint and a lesson's promise both read, defined once.

The overfitting hint (``engine.diagnosis``) and the promise "the validation loss rises"
(``engine.expectations``) must not disagree about what a rise is, so both call
``validation_loss_rise``: the newest validation loss against the lowest one so far. Likewise
the minority-recall hint and the promise on ``minority_recall`` watch one class and its recall
(``rare_class_recall``: a collapse), and the overconfidence hint and the promise
``confidence_minus_accuracy`` one gap (``confidence_gap``, from ``mean_confidence``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence


class _LossPoint(Protocol):
    @property
    def step(self) -> int: ...
    @property
    def loss(self) -> float: ...


PointT = TypeVar("PointT", bound=_LossPoint)


@dataclass(frozen=True, slots=True)
class LossRise(Generic[PointT]):
    """How far the newest loss stands above the minimum: ``relative`` (0.2 = 20% above; NaN
    when the minimum is 0, where a share means nothing) and ``absolute`` (in loss units)."""

    lowest: PointT
    newest: PointT
    relative: float
    absolute: float


def validation_loss_rise(points: Sequence[PointT]) -> LossRise[PointT] | None:
    """The newest point's loss against the lowest of all points up to it; None without any.

    The newest point counts among the candidates for the lowest: a run at its best so far has
    risen by 0, not fallen below its own minimum.
    """
    if not points:
        return None
    newest = points[-1]
    lowest = min(points, key=lambda point: point.loss)
    relative = newest.loss / lowest.loss - 1.0 if lowest.loss > 0 else math.nan
    return LossRise(lowest, newest, relative, newest.loss - lowest.loss)


def rarest_class(counts: np.ndarray) -> int:
    """The class with the fewest examples among those present (``counts`` per class, the one a
    collapse forgets first): the minority-recall hint and the promise both watch this class."""
    return int(np.argmin(np.where(counts > 0, counts, counts.max(initial=0) + 1)))


class _Scored(Protocol):
    """What an evaluation offers the measures below (``engine.events.Evaluation`` has it)."""

    @property
    def probabilities(self) -> np.ndarray: ...
    @property
    def labels(self) -> np.ndarray: ...
    @property
    def recall(self) -> np.ndarray: ...
    @property
    def accuracy(self) -> float: ...


def mean_confidence(evaluation: _Scored) -> float:
    """The mean top-label probability: how sure the model says it is (0 with no examples)."""
    if not len(evaluation.labels):
        return 0.0
    return float(np.mean(np.max(evaluation.probabilities, axis=1)))


def confidence_gap(evaluation: _Scored) -> float:
    """Mean confidence minus accuracy: above 0 the model is surer than it is right (the
    overconfidence hint and the promise ``confidence_minus_accuracy`` read this one gap)."""
    return mean_confidence(evaluation) - float(evaluation.accuracy)


def rare_class_recall(evaluation: _Scored) -> tuple[int, float]:
    """The rarest class among the labels and its recall: what a collapse of the minority
    class forgets first (the minority-recall hint and the promise ``minority_recall``)."""
    counts = np.bincount(evaluation.labels, minlength=len(evaluation.recall))
    rare = rarest_class(counts)
    return rare, float(evaluation.recall[rare])
