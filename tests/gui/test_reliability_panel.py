"""The reliability diagram draws the evaluation's bins and names its calibration errors."""

from __future__ import annotations

import numpy as np
import pytest

from trainscope.gui.panels.reliability_panel import ReliabilityPanel, nice_ceiling


@pytest.fixture
def panel(qtbot, theme) -> ReliabilityPanel:
    widget = ReliabilityPanel(theme)
    qtbot.addWidget(widget)
    widget.resize(500, 600)
    widget.show()
    return widget


def test_bins_counts_and_errors_are_drawn(panel: ReliabilityPanel, ten_class_state) -> None:
    panel.safe_refresh(ten_class_state)
    calibration = ten_class_state.latest_validation.calibration
    filled = calibration.counts > 0
    x, y = panel.curve.getOriginalDataset()
    np.testing.assert_allclose(x, calibration.mean_confidence[filled])
    np.testing.assert_allclose(y, calibration.observed_frequency[filled])
    np.testing.assert_array_equal(panel.bars.opts["height"], calibration.counts)
    title = panel.plot_title(panel.curve_plot)
    assert title == f"Calibration — ECE {calibration.ece:.3f} · MCE {calibration.mce:.3f}"
    assert panel.count_plot.getAxis("bottom").labelText == "confidence (top-label)"
    assert panel.hint.toPlainText() == "below the diagonal = overconfident"
    panel.grab()
    assert panel.last_error is None


def test_binary_axis_names_the_positive_class_probability(panel, binary_state) -> None:
    panel.safe_refresh(binary_state)
    assert panel.count_plot.getAxis("bottom").labelText == "predicted P(positive)"
    assert panel.calibration is binary_state.latest_validation.calibration


def test_histogram_range_moves_in_steps_not_with_every_count(
    panel: ReliabilityPanel, ten_class_state
) -> None:
    panel.safe_refresh(ten_class_state)
    counts = ten_class_state.latest_validation.calibration.counts
    low, high = panel.count_plot.getViewBox().viewRange()[1]
    assert low <= 0
    assert counts.max() <= high <= 2.6 * counts.max()
    assert [nice_ceiling(v) for v in (0, 1, 3, 7, 20, 21, 260)] == [1, 1, 5, 10, 20, 50, 500]


def test_tooltip_says_what_is_binned_and_where_the_edges_fall(panel: ReliabilityPanel) -> None:
    for widget in (panel.curve_widget, panel.count_widget):
        tip = widget.toolTip()
        assert "two classes, P(class 1)" in tip
        assert "more classes, the top-label confidence" in tip
        assert "closed on the right" in tip
        assert "(0.9, 1.0]" in tip
        assert "calibration_curve" in tip
        assert "torchmetrics" in tip
        assert "closed on the left" in tip
        assert "exactly 1.0" in tip
