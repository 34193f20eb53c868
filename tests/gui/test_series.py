"""GrowableSeries keeps curves in doubling float64 buffers; PeakDecimator bounds what is drawn."""

from __future__ import annotations

import numpy as np
import pytest

from gui.series import GrowableSeries, PeakDecimator


def test_append_grows_by_doubling_and_views_share_memory() -> None:
    series = GrowableSeries(("step", "value"), capacity=4)
    for start in range(0, 10, 3):
        steps = np.arange(start, start + 3)
        series.append(steps, steps * 2.0)
    assert len(series) == 12
    assert series.capacity == 16
    steps, values = series.view()
    assert steps.dtype == np.float64
    np.testing.assert_array_equal(values, np.arange(12) * 2.0)
    assert np.shares_memory(values, series.column("value"))
    assert not values.flags.writeable


def test_float64_keeps_large_steps_exact() -> None:
    series = GrowableSeries(("step",))
    series.append([2**24 + 1])
    assert series.last("step") == 2**24 + 1


def test_truncate_after_drops_later_rows_and_bumps_generation() -> None:
    series = GrowableSeries(("step", "loss"))
    series.append(np.arange(1, 11), np.linspace(1, 0, 10))
    generation = series.generation
    assert series.truncate_after(6) == 4
    np.testing.assert_array_equal(series["step"], np.arange(1, 7))
    assert series.generation == generation + 1
    assert series.truncate_after(100) == 0
    series.clear()
    assert len(series) == 0 and series.last("loss") is None


def test_append_refuses_ragged_columns() -> None:
    series = GrowableSeries(("step", "loss"))
    with pytest.raises(ValueError):
        series.append([1, 2], [1.0])
    with pytest.raises(ValueError):
        series.append([1, 2])


def _envelope(values: np.ndarray, bucket: int) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force min/max per bucket, the reference for the incremental decimator."""
    chunks = [values[i : i + bucket] for i in range(0, len(values), bucket)]
    return np.array([np.nanmin(c) for c in chunks]), np.array([np.nanmax(c) for c in chunks])


def test_decimator_is_exact_while_short_and_bounded_when_long() -> None:
    series = GrowableSeries(("step", "loss"))
    decimator = PeakDecimator(series, "loss", max_buckets=64)
    series.append(np.arange(100), np.arange(100.0))
    x, y = decimator.data()
    np.testing.assert_array_equal(y, np.arange(100.0))  # up to 2 * max_buckets: untouched
    rng = np.random.default_rng(0)
    for _ in range(50):  # arrives in frames, as in a live run
        start = len(series)
        series.append(np.arange(start, start + 997), rng.normal(size=997))
        x, y = decimator.data()
        assert len(x) <= 4 * 64 + 2
    low, high = _envelope(series["loss"], decimator.bucket)
    np.testing.assert_allclose(y[0::2], low)
    np.testing.assert_allclose(y[1::2], high)
    assert y.max() == series["loss"].max() and y.min() == series["loss"].min()  # spikes survive


def test_decimator_rebuilds_after_truncation_and_keeps_nan_gaps() -> None:
    series = GrowableSeries(("step", "loss"))
    decimator = PeakDecimator(series, "loss", max_buckets=16)
    values = np.arange(1000.0)
    values[500:700] = np.nan  # longer than a bucket (64 steps here): a whole bucket is NaN
    series.append(np.arange(1000), values)
    x, y = decimator.data()
    assert np.isnan(y).any()
    series.truncate_after(299)
    x, y = decimator.data()
    assert x.max() <= 299 and np.nanmax(y) == 299.0
    assert not np.isnan(y).any()
