"""What to draw of a long series: bounded point counts at any run length.

A chart is about 1000 pixels wide; a run can hold millions of steps. These turn a
``GrowableSeries`` or ``CompactingSeries`` into x/y arrays a plot can take every frame at a
cost that does not grow with the run: a strided view for smooth curves, an incrementally
folded min/max envelope (``PeakDecimator``) for noisy ones, and a window of steps (exact where
the series still holds them, bucket envelopes or means further back) for a zoomed-in view.
"""

from __future__ import annotations

import math

import numpy as np

from trainscope.gui.series import Envelope, GrowableSeries, group_starts, steps_between


def means(
    series: GrowableSeries, name: str, start: float = -math.inf, stop: float = math.inf
) -> tuple[np.ndarray, np.ndarray]:
    """A smooth column with ``start <= step < stop``: bucket means (mid-bucket), then exact rows."""
    keys = series.column(series.names[0])
    rows = steps_between(keys, start, stop)
    x, y = keys[rows], series.column(name)[rows]
    history = series.history
    if history is None or not len(history):
        return x, y
    buckets = steps_between(history.first, start, stop)
    if buckets.stop == buckets.start:
        return x, y
    return (
        np.concatenate((history.middle(buckets), x)),
        np.concatenate((history.mean(name, buckets), y)),
    )


def drawable(envelope: Envelope) -> tuple[np.ndarray, np.ndarray]:
    """x and y for one curve: a bucket becomes its low and high at its first step, a row one point.

    Exact rows (low is high) pass through as they are, so a short or zoomed-in curve is drawn
    from the data itself.
    """
    x, low, high = envelope
    if low is high:
        return x, low
    exact = low == high
    if exact.all():
        return x, low
    repeats = np.where(exact, 1, 2)
    ys = np.column_stack((low, high)).ravel()
    keep = np.ones(ys.shape, dtype=bool)
    keep[1::2] = ~exact
    return np.repeat(x, repeats), ys[keep]


def strided_means(
    series: GrowableSeries, name: str, max_points: int
) -> tuple[np.ndarray, np.ndarray]:
    """About ``max_points`` points of a smooth column over the whole run (bucket means, then rows).

    Costs O(max_points) at any run length: each part is strided before anything is copied, and
    the newest row is always the last point so a live curve reaches the present.
    """
    history = series.history
    buckets = len(history) if history is not None else 0
    exact = len(series)
    stride = max(1, math.ceil((buckets + exact) / max_points))
    keys, values = series.column(series.names[0]), series.column(name)
    if buckets == 0:
        if stride == 1:
            return keys, values
        xs, ys = keys[::stride], values[::stride]
    else:
        assert history is not None  # buckets > 0
        picked = slice(None, None, stride)
        offset = (-buckets) % stride
        xs = np.concatenate((history.middle(picked), keys[offset::stride]))
        ys = np.concatenate((history.mean(name, picked), values[offset::stride]))
    if exact and (not len(xs) or xs[-1] != keys[-1]):
        xs, ys = np.append(xs, keys[-1]), np.append(ys, values[-1])
    return xs, ys


class PeakDecimator:
    """Min/max envelope of one column in step-aligned buckets, folded in incrementally.

    A frame costs the same at any run length: each call folds only the steps that arrived since
    the last one. Buckets cover ``bucket`` consecutive steps and are drawn as their lowest and
    highest value at their first step (pyqtgraph's "peak" look: spikes survive). When there
    are more than ``max_buckets`` of them, neighbours merge and the width doubles. While the
    series holds at most ``2 * max_buckets`` exact rows and no history, the exact data is
    returned (no decimation); ``max_buckets=None`` turns decimation off. A bucket of only NaN
    stays NaN (a gap) and an inf survives as its maximum, so a diverging stretch still shows.
    Works on a ``GrowableSeries`` or a ``CompactingSeries`` (whose buckets nest inside these:
    both widths are powers of two and this one is always the wider).
    """

    def __init__(self, series: GrowableSeries, column: str, max_buckets: int | None = 2048) -> None:
        self.series = series
        self.column = column
        self.max_buckets = max_buckets
        self._buckets = GrowableSeries(
            ("x", "low", "high"), capacity=max((max_buckets or 1) * 2, 16)
        )
        self._reset()

    def _reset(self) -> None:
        self._generation = self.series.generation
        self._buckets.clear()
        self._width = 0  # 0: not decimating yet
        self._folded_until = -math.inf  # steps before this are inside completed buckets

    @property
    def bucket(self) -> int:
        """Steps per drawn bucket (1 while the exact data is returned)."""
        return max(self._width, 1)

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        """x and y to draw: exact while short, else the envelope (about 4 * max_buckets points)."""
        series = self.series
        if series.generation != self._generation:
            self._reset()
        history = series.history
        has_history = history is not None and len(history) > 0
        short = len(series) <= 2 * (self.max_buckets or 0) and not has_history
        if self.max_buckets is None or (self._width == 0 and short):
            return drawable(series.envelope(self.column))
        if self._width == 0:
            self._start(series)
        self._fold_complete(series.last(series.names[0]))
        x, low, high = self._buckets.view()
        tail_x, tail_low, tail_high = series.envelope(self.column, self._folded_until)
        if len(tail_x):
            x = np.append(x, tail_x[0])
            low = np.append(low, np.fmin.reduce(tail_low))
            high = np.append(high, np.fmax.reduce(tail_high))
        return np.repeat(x, 2), np.column_stack((low, high)).ravel()

    def _start(self, series: GrowableSeries) -> None:
        span = max(series.last(series.names[0]) - (series.first_key or 0.0), 1.0)
        width = 1 << max(0, math.ceil(math.log2(span / self.max_buckets)))
        history = series.history
        if history is not None:
            width = max(width, history.width)
        self._width = width
        self._folded_until = math.floor((series.first_key or 0.0) / width) * width

    def _fold_complete(self, newest: float) -> None:
        """Fold every bucket that can no longer change (all its steps are at most ``newest``)."""
        while True:
            boundary = math.floor((newest + 1) / self._width) * self._width
            if boundary <= self._folded_until:
                return
            x, low, high = self.series.envelope(self.column, self._folded_until, boundary)
            if len(x):
                starts = group_starts(np.floor_divide(x, self._width))
                self._buckets.append(
                    x[starts], np.fmin.reduceat(low, starts), np.fmax.reduceat(high, starts)
                )
            self._folded_until = boundary
            while len(self._buckets) > self.max_buckets:
                self._merge_pairs()

    def _merge_pairs(self) -> None:
        """Double the bucket width and merge the buckets that now share one.

        A last bucket left half-complete at the new width is taken out again (its steps are
        folded once more on the way back through ``_fold_complete``).
        """
        x, low, high = (column.copy() for column in self._buckets.view())
        self._width *= 2
        starts = group_starts(np.floor_divide(x, self._width))
        x, low, high = x[starts], np.fmin.reduceat(low, starts), np.fmax.reduceat(high, starts)
        boundary = math.floor(self._folded_until / self._width) * self._width
        if boundary < self._folded_until:
            complete = x < boundary
            x, low, high = x[complete], low[complete], high[complete]
            self._folded_until = boundary
        self._buckets.clear()
        self._buckets.append(x, low, high)


def peak_bins(envelope: Envelope, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """``drawable`` with at most about ``max_points`` points: neighbours merged, peaks kept.

    For a zoomed-out window of a few hundred thousand steps: the chart could not show more
    than a few points per pixel anyway, and setting them all would cost milliseconds a frame.
    """
    x, low, high = envelope
    if len(x) <= max_points:
        return drawable(envelope)
    starts = np.arange(0, len(x), math.ceil(2 * len(x) / max_points))
    merged = (x[starts], np.fmin.reduceat(low, starts), np.fmax.reduceat(high, starts))
    return drawable(merged)


def thinned(x: np.ndarray, y: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """Every n-th point of a smooth curve (and its last), so at most about ``max_points``."""
    stride = math.ceil(len(x) / max_points) if max_points else 1
    if stride <= 1:
        return x, y
    if (len(x) - 1) % stride == 0:  # the last point is already on the stride
        return x[::stride], y[::stride]
    return np.append(x[::stride], x[-1]), np.append(y[::stride], y[-1])
