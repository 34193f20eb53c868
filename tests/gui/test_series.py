"""GrowableSeries and CompactingSeries keep curves in bounded float64 buffers; PeakDecimator bounds what is drawn."""

from __future__ import annotations

import numpy as np
import pytest

from tests.gui.series_helpers import COLUMNS, buckets_by_step, fill
from trainscope.gui.decimation import drawable
from trainscope.gui.series import CompactingSeries, GrowableSeries


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
    assert len(series) == 0
    assert series.last("loss") is None


def test_append_refuses_ragged_columns() -> None:
    series = GrowableSeries(("step", "loss"))
    with pytest.raises(ValueError, match="must be 1-D and the same length"):
        series.append([1, 2], [1.0])
    with pytest.raises(ValueError, match=r"expected 2 columns \(step, loss\), got 1"):
        series.append([1, 2])


def test_compaction_keeps_recent_steps_exact_and_old_peaks_and_means() -> None:
    rng = np.random.default_rng(3)
    steps = np.arange(1, 300_001)
    values = rng.normal(size=steps.size)
    values[1234] = 40.0  # an old spike
    values[5000:5100] = np.nan  # an old gap longer than a bucket
    series = CompactingSeries(COLUMNS[:3], recent_rows=50_000, first_width=64)
    fill(series, steps, values)
    assert series.total_rows == 300_000
    assert 50_000 <= len(series) <= 50_000 + 12_500 + 64
    exact_from = len(steps) - len(series)
    np.testing.assert_array_equal(series["step"], steps[exact_from:])  # recent: every step
    np.testing.assert_array_equal(series["loss"], values[exact_from:])
    history = series.history
    folded = slice(0, exact_from)
    low, high, mean = buckets_by_step(steps[folded], values[folded], history.width)
    np.testing.assert_allclose(history.low("loss"), low)
    np.testing.assert_allclose(history.high("loss"), high)
    np.testing.assert_allclose(history.mean("loss"), mean)
    x, y = drawable(series.envelope("loss"))
    assert np.nanmax(y) == 40.0
    assert np.nanmin(y) == np.nanmin(values)
    assert np.all(np.diff(x) >= 0)


def test_memory_per_step_is_bounded() -> None:
    series = CompactingSeries(COLUMNS)
    steps = np.arange(1, 3_000_001)
    values = np.sin(steps / 1000.0)
    fill(series, steps[:2_000_000], values[:2_000_000], block=20_000)
    at_2m = series.nbytes
    assert series.total_rows == 2_000_000
    assert at_2m < 20 * 2**20  # vs 96 MiB for 2M steps x 6 float64 columns, exact
    fill(series, steps[2_000_000:], values[2_000_000:], block=20_000)
    assert series.nbytes == at_2m  # flat: older steps live in a bounded number of buckets
    assert len(series.history) <= series.history.max_buckets


def test_buckets_merge_when_there_are_too_many() -> None:
    series = CompactingSeries(COLUMNS[:2], recent_rows=1000, max_buckets=64, first_width=4)
    steps = np.arange(1, 100_001)
    fill(series, steps, steps * 1.0)
    history = series.history
    assert len(history) <= 64
    assert history.width > 4
    exact_from = len(steps) - len(series)
    low, high, mean = buckets_by_step(steps[:exact_from], steps[:exact_from] * 1.0, history.width)
    np.testing.assert_allclose(history.low("loss"), low)
    np.testing.assert_allclose(history.high("loss"), high)
    np.testing.assert_allclose(history.mean("loss"), mean)


def test_rewind_into_compacted_history_drops_later_buckets_and_training_goes_on() -> None:
    series = CompactingSeries(COLUMNS[:2], recent_rows=10_000, first_width=64)
    steps = np.arange(1, 50_001)
    fill(series, steps, steps * 1.0)
    generation = series.generation
    exact_from = series["step"][0]
    series.truncate_after(20_000)  # older than every exact row
    assert len(series) == 0
    assert series.generation > generation
    assert series.history.last_step <= 20_000
    assert series.last("step") <= 20_000
    assert series.last("loss") <= 20_000
    assert series.total_rows == series.history.rows <= 20_000
    series.append(np.arange(20_001, 20_101), np.arange(20_001, 20_101) * 1.0)
    x, y = drawable(series.envelope("loss"))
    assert np.all(np.diff(x) >= 0)
    assert x[-1] == 20_100
    assert y.max() == 20_100
    assert exact_from > 20_000


def test_rewind_into_recent_steps_keeps_the_buckets() -> None:
    series = CompactingSeries(COLUMNS[:2], recent_rows=10_000, first_width=64)
    steps = np.arange(1, 50_001)
    fill(series, steps, steps * 1.0)
    buckets = len(series.history)
    series.truncate_after(45_000)
    assert len(series.history) == buckets
    assert series.last("step") == 45_000
    assert series.total_rows == 45_000
