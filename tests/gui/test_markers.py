"""Marker labels on the time charts never overlap each other or the charts' reference labels."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from PySide6.QtCore import QRectF

from tests import event_factory
from tests.gui.plot_gestures import wheel_zoom
from trainscope.engine import events as ev
from trainscope.engine.events import Hint, ParamChanged
from trainscope.gui.panels.accuracy_panel import AccuracyPanel
from trainscope.gui.panels.loss_panel import LossPanel
from trainscope.gui.panels.markers import LABEL_GAP_PX, Placement, short_label, stack_labels
from trainscope.gui.run_state import Marker, RunState


def crowded_state() -> RunState:
    """Four lr changes ten steps apart, a dropout change and a hint at the first one's step."""
    state = RunState()
    state.apply(event_factory.training_stream(10, lr_change_at=None))
    lr = 1e-3
    for step in (1000, 1010, 1020, 1030):
        state.apply([ParamChanged(step=step, key="lr", old=lr, new=lr * 2)])
        lr *= 2
    state.apply([ParamChanged(step=1000, key="dropout", old=0.0, new=0.5)])
    state.apply([Hint(step=1000, kind="overfitting", title="", evidence="", suggestion="")])
    state.apply([ev.TestSetOpened(step=1500)])
    return state


def shown_rects(panel: LossPanel | AccuracyPanel) -> list[QRectF]:
    return [
        line.label.sceneBoundingRect() for line in panel.markers.lines if line.label.isVisible()
    ]


def assert_laid_out_cleanly(
    panel: LossPanel | AccuracyPanel, others: list, at_least: int = 3
) -> None:
    """No two shown labels intersect, none covers a reference label, all lie inside the chart,
    and every marker in view can still be read (on the chart or in a label's tooltip)."""
    panel.plot_widget.grab()  # paint: every item's geometry is current
    rects = shown_rects(panel)
    assert len(rects) >= at_least
    for first, second in itertools.combinations(rects, 2):
        assert not first.intersects(second), (first, second)
    view = panel.plot.getViewBox().sceneBoundingRect()
    for rect in rects:
        assert view.contains(rect), (rect, view)
        for other in others:
            if other.isVisible():
                assert not rect.intersects(other.sceneBoundingRect())
    x_low, x_high = panel.plot.getViewBox().viewRange()[0]
    readable = " ".join(line.label.toolTip() for line in panel.markers.lines)
    for line in panel.markers.lines:
        if x_low <= line.step <= x_high:
            assert line.marker.label in readable


@pytest.fixture
def loss_panel(qtbot, theme) -> LossPanel:
    panel = LossPanel(theme)
    qtbot.addWidget(panel)
    panel.resize(520, 420)
    panel.show()
    return panel


def test_loss_chart_labels_do_not_overlap_at_two_zoom_levels(loss_panel: LossPanel) -> None:
    state = crowded_state()
    assert [marker.step for marker in state.markers].count(1000) == 3  # lr, dropout and the hint
    loss_panel.safe_refresh(state)
    others = [loss_panel.chance_line.label, loss_panel.best_line.label]
    assert_laid_out_cleanly(loss_panel, others)
    wheel_zoom(loss_panel.plot_widget)
    loss_panel.plot.getViewBox().setXRange(990, 1060, padding=0)  # the crowd, spread out
    loss_panel.safe_refresh(state)
    assert_laid_out_cleanly(loss_panel, others)
    assert "overfitting" in loss_panel.markers.shown_labels()
    assert sum(text.startswith("lr") for text in loss_panel.markers.shown_labels()) == 4


def test_a_narrow_chart_shortens_or_hides_labels_but_never_overlaps_them(
    loss_panel: LossPanel,
) -> None:
    loss_panel.resize(300, 300)
    loss_panel.safe_refresh(crowded_state())
    others = [loss_panel.chance_line.label, loss_panel.best_line.label]
    assert_laid_out_cleanly(loss_panel, others, at_least=2)
    shown = loss_panel.markers.shown_labels()
    assert len(shown) < len(loss_panel.markers.lines)  # no room for all seven
    assert "overfitting" in shown  # the diagnosis gets room before setting changes


def test_accuracy_chart_labels_do_not_overlap(qtbot, theme) -> None:
    panel = AccuracyPanel(theme)
    qtbot.addWidget(panel)
    panel.resize(520, 420)
    panel.show()
    panel.safe_refresh(crowded_state())
    others = [panel.zero_rule_line.label, panel.random_line.label]
    assert_laid_out_cleanly(panel, others)
    wheel_zoom(panel.plot_widget)
    panel.plot.getViewBox().setXRange(980, 1080, padding=0)
    assert_laid_out_cleanly(panel, others)


def test_labels_carry_their_full_text_and_step_as_a_tooltip(loss_panel: LossPanel) -> None:
    loss_panel.safe_refresh(crowded_state())
    first = loss_panel.markers.lines[0]
    assert first.label.toolTip().startswith("lr 0.001 → 0.002 (step 1000)")


def _boxes(placements: list[Placement | None], rows: list[tuple[float, float]]) -> list[QRectF]:
    return [
        QRectF(p.left_px, rows[p.row][0], p.right_px - p.left_px, rows[p.row][1] - rows[p.row][0])
        for p in placements
        if p is not None
    ]


def test_stack_labels_never_overlaps_whatever_the_crowd() -> None:
    rng = np.random.default_rng(3)
    rows = [(10.0 + 20 * row, 28.0 + 20 * row) for row in range(3)]
    for _ in range(50):
        count = int(rng.integers(1, 25))
        xs = sorted(rng.uniform(0, 600, count).tolist())
        widths = [(float(w), float(w) / 2) for w in rng.uniform(30, 160, count)]
        placements = stack_labels(xs, widths, (0.0, 600.0), rows)
        boxes = _boxes(placements, rows)
        for first, second in itertools.combinations(boxes, 2):
            gap = LABEL_GAP_PX - 0.01
            assert not first.adjusted(-gap, 0, gap, 0).intersects(second)
        assert all(box.left() >= 0.0 and box.right() <= 600.0 for box in boxes)


def test_stack_labels_shortens_then_hides_and_steps_around_obstacles() -> None:
    rows = [(0.0, 18.0)]
    placed = stack_labels([100.0, 110.0], [(80.0, 20.0), (80.0, 20.0)], (0.0, 400.0), rows)
    assert placed[0] is not None
    assert not placed[0].short
    assert placed[0].right
    assert placed[1] is None  # one row, and both sides of its line are taken, even when short
    placed = stack_labels([100.0, 200.0], [(80.0, 40.0), (120.0, 60.0)], (0.0, 270.0), rows)
    assert placed[1] is not None
    assert placed[1].short
    blocked = stack_labels([100.0], [(80.0, 40.0)], (0.0, 400.0), rows, [(0.0, 0.0, 400.0, 9.0)])
    assert blocked == [None]
    free_row = stack_labels(
        [100.0], [(80.0, 40.0)], (0.0, 400.0), [(0.0, 18.0), (20.0, 38.0)], [(0.0, 0.0, 400.0, 9.0)]
    )
    assert free_row[0] is not None
    assert free_row[0].row == 1


def test_short_labels_keep_what_matters() -> None:
    assert short_label(Marker(5, "param", "lr 0.001 → 0.1")) == "lr → 0.1"
    assert short_label(Marker(5, "rewind", "rewind from 300")) == "rewind"
    assert short_label(Marker(5, "diverged", "diverged (loss inf)")) == "diverged"
    assert short_label(Marker(5, "hint", "overfitting")) == "overfitting"
