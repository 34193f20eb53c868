"""Decimation draws a long series in bounded points: exact while short, peaks kept when long."""

from __future__ import annotations

import numpy as np

from tests.gui.series_helpers import COLUMNS, buckets_by_step, fill
from trainscope.gui.decimation import PeakDecimator, means, peak_bins, strided_means, thinned
from trainscope.gui.series import CompactingSeries, GrowableSeries


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
    assert y.max() == series["loss"].max()
    assert y.min() == series["loss"].min()


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
    assert x.max() <= 299
    assert np.nanmax(y) == 299.0
    assert not np.isnan(y).any()


def test_strided_means_cover_the_whole_run_in_bounded_points() -> None:
    series = CompactingSeries(COLUMNS[:3], recent_rows=20_000, first_width=64)
    steps = np.arange(1, 200_001)
    fill(series, steps, steps * 0.001)
    x, y = strided_means(series, "smoothed_loss", 4000)
    assert len(x) <= 4002
    assert x[0] < 100
    assert x[-1] == 200_000
    assert y[-1] == 200.0
    assert np.all(np.diff(x) > 0)
    np.testing.assert_allclose(y, x * 0.001)  # a bucket's mean sits mid-bucket
    x, y = means(series, "smoothed_loss", 150_000, 160_000)
    assert x[0] >= 150_000
    assert x[-1] < 160_000


def test_decimator_over_compacted_history_matches_brute_force() -> None:
    rng = np.random.default_rng(5)
    steps = np.arange(1, 400_001)
    values = rng.normal(size=steps.size)
    values[7] = 99.0
    series = CompactingSeries(COLUMNS[:2], recent_rows=30_000, first_width=64)
    decimator = PeakDecimator(series, "loss", max_buckets=512)
    for start in range(0, steps.size, 9_973):  # frames: the decimator folds as the data comes
        part = slice(start, start + 9_973)
        series.append(steps[part], values[part])
        x, y = decimator.data()
        assert len(x) <= 4 * 512 + 2
    low, high, _ = buckets_by_step(steps, values, decimator.bucket)
    np.testing.assert_allclose(y[0::2], low)
    np.testing.assert_allclose(y[1::2], high)
    assert y.max() == 99.0


def test_peak_bins_bound_a_wide_window_and_keep_its_peaks() -> None:
    series = CompactingSeries(COLUMNS[:2], recent_rows=50_000)
    steps = np.arange(1, 200_001)
    values = np.sin(steps / 50.0)
    values[123_456] = 9.0
    fill(series, steps, values)
    x, y = peak_bins(series.envelope("loss", 10_000, 190_000), 20_000)
    assert len(x) <= 20_002
    assert np.all(np.diff(x) >= 0)
    assert y.max() == 9.0
    assert y.min() == values[9_999:189_999].min()
    x, y = peak_bins(series.envelope("loss", 180_000, 181_000), 20_000)
    np.testing.assert_array_equal(x, np.arange(180_000, 181_000))  # narrow: every step
    x, y = thinned(np.arange(10.0), np.arange(10.0), 4)
    assert list(x) == [0, 3, 6, 9]
