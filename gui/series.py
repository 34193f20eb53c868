"""Column stores for curves that grow for as long as a run lasts, in bounded memory.

Curves are appended to thousands of times per minute and drawn 30 times a second, so the data
lives in preallocated float64 arrays that double when full (amortized O(1) appends, no list of
Python floats to convert each frame) and ``view()`` hands out trimmed views without copying.
float64 keeps step numbers exact far past 2**24, where float32 would start rounding.

A run can last hours, so ``CompactingSeries`` keeps only the newest rows exact and folds older
ones into step-aligned buckets (lowest, highest and mean per column): a zoomed-out chart drawn
from the buckets looks the same (spikes survive), a zoom into recent history still shows every
step, and the memory stays bounded however long the run. The run store on disk keeps every step.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

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

    @property
    def nbytes(self) -> int:
        """Bytes held by the buffer (filled or not): what this series costs in memory."""
        return self._data.nbytes

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

    def _drop_first(self, count: int) -> None:
        """Forget the oldest ``count`` rows, into a fresh buffer so views handed out stay valid."""
        kept = self._length - count
        fresh = np.full_like(self._data, np.nan)
        fresh[:, :kept] = self._data[:, count : self._length]
        self._data = fresh
        self._length = kept

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

    # The same reading interface as CompactingSeries, so decimation and drawing take either.
    @property
    def history(self) -> BucketHistory | None:
        return None

    @property
    def first_key(self) -> float | None:
        return float(self._data[0, 0]) if self._length else None

    def envelope(self, name: str, start: float = -math.inf, stop: float = math.inf) -> Envelope:
        """Rows with ``start <= key < stop`` as (x, low, high); exact rows have low is high."""
        keys = self.column(self.names[0])
        rows = steps_between(keys, start, stop)
        values = self.column(name)[rows]
        return keys[rows], values, values


Envelope = tuple[np.ndarray, np.ndarray, np.ndarray]


def steps_between(keys: np.ndarray, start: float, stop: float) -> slice:
    """The slice of sorted ``keys`` with ``start <= key < stop`` (two binary searches)."""
    first = 0 if start == -math.inf else int(np.searchsorted(keys, start, side="left"))
    end = len(keys) if stop == math.inf else int(np.searchsorted(keys, stop, side="left"))
    return slice(first, max(first, end))


class BucketHistory:
    """Older rows of a series, folded into buckets of ``width`` consecutive steps.

    Bucket ``b`` holds the rows whose step lies in ``[b * width, (b + 1) * width)``. Per value
    column it keeps the lowest and highest value (NaN ignored, inf kept: a divergence still
    shows) and the sum and count of the non-NaN values (their mean is the drawn "smooth" value).
    When there are more than ``max_buckets``, neighbours merge and the width doubles, so memory
    is bounded by ``max_buckets`` however long the run.
    """

    STATS = ("low", "high", "sum", "count")

    def __init__(self, values: Sequence[str], width: int, max_buckets: int) -> None:
        if width < 1 or width & (width - 1):
            raise ValueError(f"bucket width must be a power of two (got {width})")
        self.values = tuple(values)
        self.width = width
        self.max_buckets = max_buckets
        names = ["first", "last", "rows"]
        names += [f"{value}_{stat}" for value in self.values for stat in self.STATS]
        self.table = GrowableSeries(names, capacity=1024)

    def __len__(self) -> int:
        return len(self.table)

    @property
    def rows(self) -> int:
        """How many original rows the buckets hold."""
        return int(self.table["rows"].sum()) if len(self.table) else 0

    @property
    def nbytes(self) -> int:
        return self.table.nbytes

    @property
    def first(self) -> np.ndarray:
        """The first step of each bucket (where a bucket is drawn)."""
        return self.table["first"]

    @property
    def last_step(self) -> float | None:
        return self.table.last("last")

    def middle(self, rows: slice | np.ndarray = slice(None)) -> np.ndarray:
        """The step halfway through each bucket's rows (where its mean belongs on a chart)."""
        return (self.table["first"][rows] + self.table["last"][rows]) / 2.0

    def low(self, name: str) -> np.ndarray:
        return self.table[f"{name}_low"]

    def high(self, name: str) -> np.ndarray:
        return self.table[f"{name}_high"]

    def mean(self, name: str, rows: slice | np.ndarray = slice(None)) -> np.ndarray:
        """Mean of the non-NaN values of each bucket (NaN for a bucket of only NaN)."""
        total = self.table[f"{name}_sum"][rows]
        count = self.table[f"{name}_count"][rows]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / np.where(count > 0, count, 1.0), np.nan)

    def last_mean(self, name: str) -> float | None:
        if not len(self.table):
            return None
        return float(self.mean(name, slice(-1, None))[0])

    def fold(self, keys: np.ndarray, columns: dict[str, np.ndarray]) -> None:
        """Fold rows (keys ascending, all newer than every bucket's steps) in, then cap the count."""
        if not len(keys):
            return
        ids = np.floor_divide(keys, self.width)
        starts = group_starts(ids)
        blocks = [
            keys[starts],
            _last_of_groups(keys, starts),
            np.diff(np.append(starts, len(keys))),
        ]
        for name in self.values:
            values = columns[name]
            missing = np.isnan(values)
            blocks += [
                np.fmin.reduceat(values, starts),
                np.fmax.reduceat(values, starts),
                np.add.reduceat(np.where(missing, 0.0, values), starts),
                np.add.reduceat((~missing).astype(np.float64), starts),
            ]
        self.table.append(*blocks)
        self._regroup(self.width)  # the newest old bucket and the oldest new one may share an id
        while len(self.table) > self.max_buckets:
            self._regroup(self.width * 2)

    def _regroup(self, width: int) -> None:
        """Merge buckets that fall into one bucket of ``width`` steps (no-op when none do)."""
        first = self.table["first"]
        ids = np.floor_divide(first, width)
        self.width = width
        if len(ids) < 2 or not (ids[1:] == ids[:-1]).any():
            return
        starts = group_starts(ids)
        merged = [first[starts], _last_of_groups(self.table["last"], starts)]
        merged.append(np.add.reduceat(self.table["rows"], starts))
        for name in self.values:
            merged += [
                np.fmin.reduceat(self.low(name), starts),
                np.fmax.reduceat(self.high(name), starts),
                np.add.reduceat(self.table[f"{name}_sum"], starts),
                np.add.reduceat(self.table[f"{name}_count"], starts),
            ]
        self.table.clear()
        self.table.append(*merged)

    def truncate_after(self, step: float) -> None:
        """Drop every bucket holding a step after ``step``: a bucket is never half believed."""
        keep = int(np.searchsorted(self.table["last"], step, side="right"))
        if keep < len(self.table):
            self.table.truncate_after(self.table["first"][keep] - 0.5)

    def clear(self) -> None:
        self.table.clear()


def group_starts(ids: np.ndarray) -> np.ndarray:
    """Index of the first element of each run of equal ids."""
    return np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))


def _last_of_groups(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    ends = np.append(starts[1:], len(values)) - 1
    return values[ends]


class CompactingSeries(GrowableSeries):
    """A ``GrowableSeries`` that keeps the newest ``recent_rows`` rows exact and buckets the rest.

    Indexing (``series["loss"]``, ``view()``, ``len()``) sees the exact rows only, so code that
    pairs columns stays right; ``history`` holds the older steps as buckets, and ``envelope``
    and ``first_key`` cover both (``gui.decimation`` draws from them). Compaction runs once per ``recent_rows // 4``
    appended rows (a fresh buffer, so arrays already handed to a plot stay valid), keeping an
    append amortized O(1) and the memory near ``recent_rows * 8 B`` per column.
    """

    def __init__(
        self,
        names: Sequence[str],
        recent_rows: int = 200_000,
        max_buckets: int = 16_384,
        first_width: int = 64,
        capacity: int = 1024,
    ) -> None:
        super().__init__(names, capacity)
        self.recent_rows = max(int(recent_rows), 1)
        self._slack = max(self.recent_rows // 4, 1)
        self._history = BucketHistory(names[1:], first_width, max_buckets)
        self._history_rows = 0
        self.compactions = 0
        """Bumped whenever rows move into the history (a drawn window may need redrawing)."""

    @property
    def history(self) -> BucketHistory:
        return self._history

    @property
    def total_rows(self) -> int:
        """Every row appended since the last clear and still kept, exact or bucketed."""
        return self._history_rows + self._length

    @property
    def nbytes(self) -> int:
        return super().nbytes + self._history.nbytes

    @property
    def first_key(self) -> float | None:
        if len(self._history):
            return float(self._history.first[0])
        return super().first_key

    def append(self, *columns: ArrayLike) -> None:
        super().append(*columns)
        if self._length > self.recent_rows + self._slack:
            self._compact()

    def _compact(self) -> None:
        """Fold the oldest rows (up to a bucket boundary) so about ``recent_rows`` stay exact."""
        keys = self.column(self.names[0])
        width = self._history.width
        boundary = math.floor(keys[self._length - self.recent_rows] / width) * width
        count = int(np.searchsorted(keys, boundary, side="left"))
        if count == 0:
            return
        columns = {name: self.column(name)[:count] for name in self.names[1:]}
        self._history.fold(keys[:count], columns)
        self._history_rows += count
        self._drop_first(count)
        self.compactions += 1

    def last(self, name: str) -> float | None:
        """The newest value; once only buckets remain (a deep rewind), the last bucket's mean."""
        if self._length or not len(self._history):
            return super().last(name)
        if name == self.names[0]:
            return self._history.last_step
        return self._history.last_mean(name)

    def truncate_after(self, step: float) -> int:
        dropped = super().truncate_after(step)
        if self._length == 0 and len(self._history):
            before = self._history_rows
            self._history.truncate_after(step)
            self._history_rows = self._history.rows
            if self._history_rows != before:
                dropped += before - self._history_rows
                self.generation += 1
        return dropped

    def clear(self) -> None:
        super().clear()
        self._history.clear()
        self._history_rows = 0

    def envelope(self, name: str, start: float = -math.inf, stop: float = math.inf) -> Envelope:
        """Buckets and exact rows with ``start <= step < stop``, oldest first, as (x, low, high)."""
        x, low, high = super().envelope(name, start, stop)
        history = self._history
        if not len(history):
            return x, low, high
        rows = steps_between(history.first, start, stop)
        if rows.stop == rows.start:
            return x, low, high
        return (
            np.concatenate((history.first[rows], x)),
            np.concatenate((history.low(name)[rows], low)),
            np.concatenate((history.high(name)[rows], high)),
        )
