"""Measures that a hint and a lesson's promise both read, defined once.

The overfitting hint (``engine.diagnosis``) and the promise "the validation loss rises"
(``engine.expectations``) must not disagree about what a rise is, so both call
``validation_loss_rise``: the newest validation loss against the lowest one so far. Likewise
the minority-recall hint and the promise on ``minority_recall`` watch one ``rarest_class``.
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
