"""The 2-D plane the decision-boundary panel draws, and the way back from it to model inputs.

Two-feature data is drawn in its own units (x = first feature, y = second). Wider data is drawn
over the first two principal components of the standardized training inputs, every other
direction held at the training mean — a slice through input space, which the panel says in
words, because a boundary in that slice is not the whole story.

Numpy only: the worker builds the grid from it, and the window uses it to preview the points of
a data set before a run starts (a noise or sample-count change shows at once).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from trainscope.engine.data import PreparedData, prepare_data
from trainscope.engine.errors import TrainScopeError
from trainscope.engine.events import DataPreview, DataView

if TYPE_CHECKING:
    from trainscope.engine.config import DatasetSpec

MARGIN = 0.1  # the plane's ranges cover the points plus this share of their spread on each side


@dataclass(frozen=True)
class Plane:
    """Maps plane coordinates to standardized model inputs: ``inputs = center + xy @ axes``."""

    center: np.ndarray  # (D,) float64
    axes: np.ndarray  # (2, D) float64

    def to_inputs(self, xy: np.ndarray) -> np.ndarray:
        """(n, 2) plane coordinates → (n, D) float32 standardized inputs."""
        return (self.center + np.asarray(xy, dtype=np.float64) @ self.axes).astype(np.float32)

    def to_plane(self, inputs: np.ndarray) -> np.ndarray:
        """(n, D) standardized inputs → (n, 2) float32 plane coordinates (least squares)."""
        offsets = np.asarray(inputs, dtype=np.float64) - self.center
        return (offsets @ np.linalg.pinv(self.axes)).astype(np.float32)


def plane_for(data: PreparedData) -> tuple[Plane, str, str, str]:
    """The plane for this data, its axis labels, and the note saying what is held fixed."""
    n_features = data.n_features
    if n_features == 1:
        raise ValueError("a decision boundary needs at least two input features")
    if n_features == 2:
        std = np.asarray(data.feature_std, dtype=np.float64)
        mean = np.asarray(data.feature_mean, dtype=np.float64)
        plane = Plane(center=-mean / std, axes=np.diag(1.0 / std))
        return plane, data.feature_names[0], data.feature_names[1], ""
    train = np.asarray(data.train_x, dtype=np.float64)
    center = train.mean(axis=0)
    covariance = np.cov(train - center, rowvar=False)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    order = np.argsort(eigenvalues)[::-1][:2]
    axes = eigenvectors[:, order].T
    axes = axes * np.where(axes.sum(axis=1, keepdims=True) < 0, -1.0, 1.0)  # stable signs
    explained = float(eigenvalues[order].sum() / max(eigenvalues.sum(), 1e-12))
    note = (
        f"first two principal components of {n_features} features ({explained:.0%} of the "
        "variance); every other direction held at the training mean"
    )
    return Plane(center=center, axes=axes), "PC 1", "PC 2", note


def data_view(data: PreparedData) -> tuple[DataView, Plane]:
    """The points of the training and validation splits on the plane, with the grid's extent."""
    plane, x_label, y_label, note = plane_for(data)
    train_xy = plane.to_plane(data.train_x)
    validation_xy = plane.to_plane(data.validation_x)
    every = np.concatenate((train_xy, validation_xy))
    low, high = every.min(axis=0), every.max(axis=0)
    spread = np.maximum(high - low, 1e-6)
    low, high = low - MARGIN * spread, high + MARGIN * spread
    view = DataView(
        x_label=x_label,
        y_label=y_label,
        note=note,
        x_range=(float(low[0]), float(high[0])),
        y_range=(float(low[1]), float(high[1])),
        train_xy=train_xy,
        train_y=np.asarray(data.train_y, dtype=np.int64),
        validation_xy=validation_xy,
        validation_y=np.asarray(data.validation_y, dtype=np.int64),
    )
    return view, plane


def grid_points(view: DataView, size: int) -> np.ndarray:
    """(size * size, 2) plane coordinates of a size x size grid, row-major from the lowest y."""
    xs = np.linspace(*view.x_range, size)
    ys = np.linspace(*view.y_range, size)
    grid_x, grid_y = np.meshgrid(xs, ys)
    return np.column_stack((grid_x.ravel(), grid_y.ravel()))


def preview(spec: DatasetSpec, seed: int) -> DataPreview:
    """The points ``spec`` would give, or the one sentence saying why it gives none."""
    try:
        prepared = prepare_data(spec, seed)
        view, _plane = data_view(prepared)
    except (TrainScopeError, ValueError) as error:
        return DataPreview(spec, seed, None, (), str(error))
    return DataPreview(spec, seed, view, tuple(prepared.class_names), None)
