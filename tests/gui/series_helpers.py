"""Filling series the way a live run does, and brute-force references for their buckets."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from trainscope.gui.series import GrowableSeries

COLUMNS = ("step", "loss", "smoothed_loss", "batch_accuracy", "grad_norm", "lr")


def fill(series: GrowableSeries, steps: np.ndarray, values: np.ndarray, block: int = 997) -> None:
    """Append in frame-sized blocks, as a live run does; every value column gets ``values``."""
    for start in range(0, len(steps), block):
        part = slice(start, start + block)
        series.append(steps[part], *([values[part]] * (len(series.names) - 1)))


def buckets_by_step(steps: np.ndarray, values: np.ndarray, width: int) -> tuple:
    """Brute-force lowest / highest / mean per step-aligned bucket (the reference)."""
    ids = steps // width
    groups = [values[ids == bucket] for bucket in np.unique(ids)]
    return (
        np.array([np.nanmin(g) for g in groups]),
        np.array([np.nanmax(g) for g in groups]),
        np.array([np.nanmean(g) for g in groups]),
    )
