"""The curves a rewind cut off, kept as a faded "before" beside the run that goes on.

A try-this step such as "rewind and divide the learning rate by 10" is a before-and-after
experiment; once the rewind has cut the history, the student has only the "after" to look at.
``RewindGhost`` keeps what was cut (the smoothed training loss, the validation loss, both
accuracies) so the loss and accuracy charts can draw it faded under the live curves. It is
taken once per rewind, already thinned to a bounded number of points, so drawing it costs one
``setData`` per rewind and nothing per frame, however long the abandoned stretch was.

No Qt here: ``RunState`` holds it, and tests check it without a display.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from trainscope.gui.decimation import means, thinned

if TYPE_CHECKING:
    from trainscope.gui.series import GrowableSeries

MAX_GHOST_POINTS = 2000
"""Points per ghost curve, like the live smoothed loss: ~2 per pixel of a wide chart."""


@dataclass(frozen=True, slots=True)
class RewindGhost:
    """History after ``to_step`` as it was when the run rewound from ``from_step``.

    Each curve starts at ``to_step`` itself (the point the run went back to), so the ghost
    branches visibly off the live curve where the two histories part.
    """

    from_step: int
    to_step: int
    train_steps: np.ndarray
    train_smoothed_loss: np.ndarray
    evaluation_steps: np.ndarray
    validation_loss: np.ndarray
    train_accuracy: np.ndarray
    validation_accuracy: np.ndarray

    @property
    def last_step(self) -> float:
        """The newest step the ghost reaches (the chart's x range must include it)."""
        ends = [array[-1] for array in (self.train_steps, self.evaluation_steps) if len(array)]
        return float(max(ends)) if ends else float(self.to_step)


def cut_off(
    train: GrowableSeries, evaluations: GrowableSeries, from_step: int, to_step: int
) -> RewindGhost | None:
    """What a rewind to ``to_step`` is about to cut, or None when it cuts nothing.

    Call before the series are truncated. The smoothed loss comes as bucket means where the
    series has compacted that far back (``gui.decimation.means``); both parts are thinned to
    ``MAX_GHOST_POINTS``.
    """
    train_steps, smoothed = means(train, "smoothed_loss", to_step, math.inf)
    rows = slice(int(np.searchsorted(evaluations["step"], to_step, side="left")), None)
    evaluation_steps = evaluations["step"][rows]
    if not _beyond(train_steps, to_step) and not _beyond(evaluation_steps, to_step):
        return None
    train_steps, smoothed = thinned(train_steps, smoothed, MAX_GHOST_POINTS)
    picked = _thinned_rows(len(evaluation_steps))
    return RewindGhost(
        from_step=int(from_step),
        to_step=int(to_step),
        train_steps=np.array(train_steps),  # copies: the series reuse their buffers
        train_smoothed_loss=np.array(smoothed),
        evaluation_steps=np.array(evaluation_steps[picked]),
        validation_loss=np.array(evaluations["val_loss"][rows][picked]),
        train_accuracy=np.array(evaluations["train_accuracy"][rows][picked]),
        validation_accuracy=np.array(evaluations["val_accuracy"][rows][picked]),
    )


def _beyond(steps: np.ndarray, to_step: int) -> bool:
    """True when some step lies after ``to_step`` (a lone point at ``to_step`` is no history)."""
    return bool(len(steps)) and float(steps[-1]) > to_step


def _thinned_rows(count: int) -> np.ndarray:
    """Indices of at most about ``MAX_GHOST_POINTS`` evenly spaced rows, the last one included."""
    stride = max(1, math.ceil(count / MAX_GHOST_POINTS))
    rows = np.arange(0, count, stride)
    if count and rows[-1] != count - 1:
        rows = np.append(rows, count - 1)
    return rows
