"""One theme for every panel: interface size, classroom mode, and restyling live panels."""

from __future__ import annotations

from trainscope.gui.panels.accuracy_panel import AccuracyPanel
from trainscope.gui.panels.confusion_panel import ConfusionPanel
from trainscope.gui.panels.loss_panel import LossPanel
from trainscope.gui.panels.reliability_panel import ReliabilityPanel
from trainscope.gui.panels.threshold_panel import ThresholdPanel
from trainscope.gui.theme import MAX_SCALE, MIN_SCALE, Theme


def test_scale_is_clamped_and_classroom_is_bigger() -> None:
    assert Theme.for_scale(100).scale == MAX_SCALE
    assert Theme.for_scale(0.01).scale == MIN_SCALE
    normal, classroom = Theme.for_scale(1.0), Theme.for_scale(1.0, classroom=True)
    assert classroom.classroom
    assert classroom.pt(classroom.tick_font_pt) > normal.pt(normal.tick_font_pt)
    assert classroom.curve_width > normal.curve_width
    bigger = normal.scaled(1.25)
    assert bigger.pt(normal.base_font_pt) > normal.pt(normal.base_font_pt)
    assert normal.long_pen("#000000").widthF() == 1.0  # long series stay width-1 (PERF-NOTES)


def test_every_panel_restyles_live(qtbot, binary_state) -> None:
    theme = Theme.for_scale(1.0)
    panels = [
        cls(theme)
        for cls in (LossPanel, AccuracyPanel, ConfusionPanel, ReliabilityPanel, ThresholdPanel)
    ]
    for panel in panels:
        qtbot.addWidget(panel)
        panel.show()
        assert panel.safe_refresh(binary_state)
    classroom = Theme.for_scale(1.5, classroom=True)
    for panel in panels:
        panel.apply_theme(classroom)
        assert panel.safe_refresh(binary_state)
        panel.grab()
        assert panel.theme is classroom
        assert panel.last_error is None
        assert panel.font().pointSizeF() == classroom.pt(classroom.base_font_pt)


def _tick_texts(axis, values: list[float]) -> list[str]:
    """What the axis would print at ``values``, with the scale it really applies."""
    return axis.tickStrings(values, axis.autoSIPrefixScale * axis.scale, values[1] - values[0])


def test_restyled_axes_never_scale_ticks_by_a_factor_they_do_not_show(qtbot) -> None:
    """A loss axis once read 0-800 after a restyle: pyqtgraph's hidden SI scale (x1000)."""
    import pyqtgraph as pg

    from trainscope.gui.main_window import PANEL_TYPES

    themes = [Theme.for_scale(s, classroom=c) for c in (False, True) for s in (0.85, 1.0, 1.5)]
    for panel_type in PANEL_TYPES.values():
        panel = panel_type(themes[0])
        qtbot.addWidget(panel)
        plots = [item for item in _graphics_items(panel) if isinstance(item, pg.PlotItem)]
        for plot in plots:
            plot.setRange(xRange=(0, 0.9), yRange=(0, 0.8), padding=0)  # where SI would pick "m"
        for theme in themes:
            panel.apply_theme(theme)
            for plot in plots:
                for name in ("left", "bottom"):
                    axis = plot.getAxis(name)
                    assert _tick_texts(axis, [0.2, 0.4]) == ["0.2", "0.4"], (
                        f"{panel_type.__name__} {name} axis at scale {theme.scale}"
                    )


def _graphics_items(panel) -> list:
    """Every item in every pyqtgraph view inside ``panel``."""
    import pyqtgraph as pg

    return [item for view in panel.findChildren(pg.GraphicsView) for item in view.items()]
