"""Layer health: a row per layer, the update ratios against the healthy band, one histogram."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from tests import event_factory
from trainscope.gui.panels.layer_health_panel import WAITING, LayerHealthPanel, ratio_position
from trainscope.gui.run_state import RunState


@pytest.fixture
def panel(qtbot, theme) -> LayerHealthPanel:
    widget = LayerHealthPanel(theme)
    qtbot.addWidget(widget)
    widget.resize(450, 600)
    widget.show()
    return widget


@pytest.fixture
def state() -> RunState:
    state = RunState()
    state.apply([event_factory.run_started(10), event_factory.layer_health(step=700)])
    return state


def _column(panel: LayerHealthPanel, column: int) -> list[str]:
    return [panel.table.item(row, column).text() for row in range(panel.table.rowCount())]


def test_before_the_first_event_it_says_when_it_is_collected(panel: LayerHealthPanel) -> None:
    panel.safe_refresh(RunState())
    assert panel.waiting_label.isVisible()
    assert panel.waiting_label.text() == WAITING
    assert not panel.table.isVisible()
    assert not panel.histogram_widget.isVisible()
    assert "1e-4" in panel.explanation_label.text()


def test_one_row_per_layer_with_its_numbers(panel: LayerHealthPanel, state: RunState) -> None:
    panel.safe_refresh(state)
    assert not panel.waiting_label.isVisible()
    assert panel.table.isVisible()
    assert _column(panel, 0) == ["dense 1", "dense 2", "output"]
    assert panel.table.item(0, 0).toolTip() == "dense 1 (64→128)"
    assert _column(panel, 1) == ["0.031", "0.052", "0.21"]
    assert _column(panel, 3) == ["1.2e-03", "4.0e-04", "3.0e-05"]
    assert _column(panel, 4) == ["4%", "62%", "—"]  # the output layer has no ReLU
    palette = panel.theme.palette
    colors = [panel.table.item(row, 3).foreground().color() for row in range(3)]
    assert colors == [QColor(palette.best), QColor(palette.best), QColor(palette.diverged)]
    assert panel.last_error is None


def test_update_ratios_sit_on_a_log_axis_beside_the_healthy_band(
    panel: LayerHealthPanel, state: RunState
) -> None:
    panel.safe_refresh(state)
    x, y = panel.ratio_dots.getData()
    np.testing.assert_allclose(x, np.log10([1.2e-3, 4.0e-4, 3.0e-5]))
    assert panel.healthy_band.getRegion() == pytest.approx((-4.0, -2.0))
    ticks = dict(panel.ratio_plot.getAxis("bottom")._tickLevels[0])
    assert ticks[-3] == "1e-3"
    assert ratio_position(0.0) < -6
    assert ratio_position(float("inf")) > 0


def test_the_histogram_follows_the_chosen_layer(
    panel: LayerHealthPanel, state: RunState, qtbot
) -> None:
    panel.safe_refresh(state)
    health = state.insights.layer_health
    _, counts = panel.histogram.getData()
    np.testing.assert_array_equal(counts, health.activation_counts[0])
    assert "dense 1 at step 700 · 4% of units dead" in panel.plot_title(panel.histogram_plot)
    panel.layer_combo.setCurrentIndex(2)
    _, counts = panel.histogram.getData()
    np.testing.assert_array_equal(counts, health.activation_counts[2])
    assert "dead" not in panel.plot_title(panel.histogram_plot)
    rect = panel.table.visualItemRect(panel.table.item(1, 0))
    qtbot.mouseClick(panel.table.viewport(), Qt.LeftButton, pos=rect.center())
    assert panel.layer_combo.currentIndex() == 1
    _, counts = panel.histogram.getData()
    np.testing.assert_array_equal(counts, health.activation_counts[1])


def test_a_new_run_waits_again(panel: LayerHealthPanel, state: RunState) -> None:
    panel.safe_refresh(state)
    state.apply([event_factory.run_started(10)])
    panel.safe_refresh(state)
    assert panel.waiting_label.isVisible()
    assert not panel.table.isVisible()
