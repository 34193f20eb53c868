"""Column store for curves that grow for as long as a run lasts.

Curves are appended to thousands of times per minute and drawn 30 times a second, so the data
lives in preallocated float64 arrays that double when full (amortized O(1) appends, no list of
Python floats to convert each frame) and ``view()`` hands out trimmed views without copying.
float64 keeps step numbers exact far past 2**24, where float32 would start rounding.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike


class GrowableSeries:
    """Equal-length float64 columns; the first column is the key (the step) and never decreases."""

    def __init__(self, names: Sequence[str], capacity: int = 1024) -> None:
        if not names:
            raise ValueError("a series needs at least one column")
        self.names: tuple[str, ...] = tuple(names)
        self._index = {name: i for i, name in enumerate(self.names)}
        self._data = np.full((len(self.names), max(int(capacity), 1)), np.nan, dtype=np.float64)
        self._length = 0
        self.generation = 0
        """Bumped whenever rows are removed, so derived caches (decimation) know to rebuild."""

    def __len__(self) -> int:
        return self._length

    @property
    def capacity(self) -> int:
        """How many rows fit before the next doubling."""
        return self._data.shape[1]

    def append(self, *columns: ArrayLike) -> None:
        """Append one block of rows: one array (or scalar) per column, all the same length."""
        if len(columns) != len(self.names):
            raise ValueError(
                f"expected {len(self.names)} columns ({', '.join(self.names)}), got {len(columns)}"
            )
        arrays = [np.atleast_1d(np.asarray(column, dtype=np.float64)) for column in columns]
        count = arrays[0].shape[0]
        if any(array.shape != (count,) for array in arrays):
            raise ValueError("all columns of one append must be 1-D and the same length")
        if count == 0:
            return
        self._reserve(self._length + count)
        for row, array in enumerate(arrays):
            self._data[row, self._length : self._length + count] = array
        self._length += count

    def _reserve(self, needed: int) -> None:
        """Double the capacity until ``needed`` rows fit; old views stay valid (they keep the old buffer)."""
        capacity = self.capacity
        if needed <= capacity:
            return
        while capacity < needed:
            capacity *= 2
        grown = np.full((len(self.names), capacity), np.nan, dtype=np.float64)
        grown[:, : self._length] = self._data[:, : self._length]
        self._data = grown

    def view(self) -> tuple[np.ndarray, ...]:
        """All columns, trimmed to the filled length, as read-only views (no copy)."""
        return tuple(self.column(name) for name in self.names)

    def column(self, name: str) -> np.ndarray:
        """One column as a read-only view of the filled part."""
        column = self._data[self._index[name], : self._length]
        column.flags.writeable = False
        return column

    def __getitem__(self, name: str) -> np.ndarray:
        return self.column(name)

    def last(self, name: str) -> float | None:
        """The newest value of a column, or None when the series is empty."""
        if self._length == 0:
            return None
        return float(self._data[self._index[name], self._length - 1])

    def truncate_after(self, step: float) -> int:
        """Drop every row whose key is greater than ``step`` (a rewind); return how many went."""
        keys = self._data[0, : self._length]
        keep = int(np.searchsorted(keys, step, side="right"))
        dropped = self._length - keep
        if dropped:
            self._data[:, keep : self._length] = np.nan
            self._length = keep
            self.generation += 1
        return dropped

    def clear(self) -> None:
        """Forget every row but keep the buffer, so a reset does not reallocate."""
        self._data[:, : self._length] = np.nan
        self._length = 0
        self.generation += 1


class PeakDecimator:
    """Min/max envelope of one column, folded in incrementally so a frame costs the same at any length.

    Rows are grouped into buckets of ``bucket`` consecutive steps; each bucket is drawn as its
    lowest and highest value at its first step (pyqtgraph's "peak" look: spikes survive).
    Completed buckets are kept; when there are more than ``max_buckets`` of them, neighbours are
    merged and the bucket size doubles. Each call only folds the rows that arrived since the
    last one. Up to ``2 * max_buckets`` rows the exact data is returned (no decimation at all);
    ``max_buckets=None`` turns decimation off. A bucket of only NaN stays NaN (a gap) and an
    inf survives as its maximum, so a diverging stretch still shows where it happened.
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
        self._bucket = 0  # 0: not decimating yet
        self._folded = 0  # rows already inside completed buckets

    @property
    def bucket(self) -> int:
        """Steps per drawn bucket (1 while the exact data is returned)."""
        return max(self._bucket, 1)

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        """x and y to draw: exact views while short, else the envelope (about 4 * max_buckets points)."""
        if self.series.generation != self._generation:
            self._reset()
        count = len(self.series)
        keys, values = self.series.column(self.series.names[0]), self.series.column(self.column)
        if self.max_buckets is None or (self._bucket == 0 and count <= 2 * self.max_buckets):
            return keys, values
        if self._bucket == 0:
            self._bucket = 1 << max(0, int(np.ceil(np.log2(count / self.max_buckets))))
        self._fold(keys, values, count)
        x, low, high = self._buckets.view()
        tail = slice(self._folded, count)
        if count > self._folded:
            x = np.append(x, keys[self._folded])
            low = np.append(low, np.fmin.reduce(values[tail]))
            high = np.append(high, np.fmax.reduce(values[tail]))
        return np.repeat(x, 2), np.column_stack((low, high)).ravel()

    def _fold(self, keys: np.ndarray, values: np.ndarray, count: int) -> None:
        """Fold every complete bucket of new rows in; merge neighbours while there are too many."""
        while True:
            complete = (count - self._folded) // self._bucket
            if complete:
                end = self._folded + complete * self._bucket
                block = values[self._folded : end].reshape(complete, self._bucket)
                self._buckets.append(
                    keys[self._folded : end : self._bucket],
                    np.fmin.reduce(block, axis=1),
                    np.fmax.reduce(block, axis=1),
                )
                self._folded = end
            if len(self._buckets) <= self.max_buckets:
                return
            self._merge_pairs()

    def _merge_pairs(self) -> None:
        """Halve the number of buckets; an odd last bucket is unfolded and refolded at the new size."""
        x, low, high = (column.copy() for column in self._buckets.view())
        if len(x) % 2:
            x, low, high = x[:-1], low[:-1], high[:-1]
            self._folded -= self._bucket
        self._buckets.clear()
        self._buckets.append(
            x[::2],
            np.fmin(low[::2], low[1::2]),
            np.fmax(high[::2], high[1::2]),
        )
        self._bucket *= 2
