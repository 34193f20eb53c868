"""A panel exported as PNG is its charts at a useful size, not a screen grab with checkboxes."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QImage

from trainscope.gui.panel_image import MIN_WIDTH_PX, panel_image, save_panel_png
from trainscope.gui.panels.hints_panel import HintsPanel
from trainscope.gui.panels.loss_panel import LossPanel


@pytest.fixture
def loss_panel(qtbot, theme, ten_class_state) -> LossPanel:
    panel = LossPanel(theme)
    qtbot.addWidget(panel)
    panel.resize(327, 500)  # a loss dock's size in the default layout
    panel.show()
    panel.safe_refresh(ten_class_state)
    return panel


def colour_pixels(image: QImage, colour: str, step: int = 2) -> int:
    """Pixels of exactly ``colour`` (sampled every ``step`` pixels each way)."""
    wanted = QColor(colour).rgb()
    return sum(
        image.pixel(x, y) == wanted
        for x in range(0, image.width(), step)
        for y in range(0, image.height(), step)
    )


def test_the_export_is_the_chart_alone_at_least_1200_pixels_wide(loss_panel, tmp_path) -> None:
    path = tmp_path / "loss.png"
    assert save_panel_png(loss_panel, path) is None
    image = QImage(str(path))
    chart = loss_panel.plot_widget
    assert image.width() >= max(MIN_WIDTH_PX, 2 * chart.width())
    scale = image.width() / chart.width()
    assert image.height() == pytest.approx(chart.height() * scale, abs=2)  # no checkbox row
    assert image.height() < loss_panel.height() * scale - 20 * scale
    palette = loss_panel.theme.palette
    assert colour_pixels(image, palette.train) > 50  # the smoothed loss is drawn...
    assert colour_pixels(image, palette.validation) > 50  # ...and the validation loss


def test_the_export_leaves_the_chart_on_screen_as_it_was(loss_panel) -> None:
    cached = [item.cacheMode() for item in loss_panel.plot.scene().items()]
    legend_flags = loss_panel.plot.legend.flags()
    panel_image(loss_panel)
    assert [item.cacheMode() for item in loss_panel.plot.scene().items()] == cached
    assert loss_panel.plot.legend.flags() == legend_flags


def test_a_panel_without_charts_is_painted_whole_at_twice_its_size(qtbot, theme) -> None:
    panel = HintsPanel(theme)
    qtbot.addWidget(panel)
    panel.resize(700, 300)
    panel.show()
    image = panel_image(panel)
    assert (image.width(), image.height()) == (1400, 600)
