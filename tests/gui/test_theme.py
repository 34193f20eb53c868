"""One theme for every panel: interface size, classroom mode, and restyling live panels."""

from __future__ import annotations

from gui.panels.accuracy_panel import AccuracyPanel
from gui.panels.confusion_panel import ConfusionPanel
from gui.panels.loss_panel import LossPanel
from gui.panels.reliability_panel import ReliabilityPanel
from gui.panels.threshold_panel import ThresholdPanel
from gui.theme import MAX_SCALE, MIN_SCALE, Theme


def test_scale_is_clamped_and_classroom_is_bigger() -> None:
    assert Theme.for_scale(100).scale == MAX_SCALE and Theme.for_scale(0.01).scale == MIN_SCALE
    normal, classroom = Theme.for_scale(1.0), Theme.for_scale(1.0, classroom=True)
    assert classroom.classroom and classroom.pt(classroom.tick_font_pt) > normal.pt(
        normal.tick_font_pt
    )
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
        assert panel.theme is classroom and panel.last_error is None
        assert panel.font().pointSizeF() == classroom.pt(classroom.base_font_pt)
