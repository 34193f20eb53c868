"""safe_refresh keeps the app alive when one panel fails, and says so inside that panel."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pyqtgraph as pg

from trainscope.gui.panels.base import EvaluationThrottle, Panel, RedrawSlots
from trainscope.gui.panels.markers import MarkerLines
from trainscope.gui.run_state import Marker, RunState

if TYPE_CHECKING:
    from trainscope.gui.theme import Theme


class FlakyPanel(Panel):
    title = "Flaky"

    def __init__(self, theme: Theme) -> None:
        super().__init__(theme)
        self.fail = True
        self.calls = 0

    def refresh(self, state: RunState) -> None:
        self.calls += 1
        if self.fail:
            raise ZeroDivisionError("bins went empty\nsecond line")


def test_safe_refresh_logs_shows_one_red_line_and_recovers(qtbot, theme, caplog) -> None:
    panel = FlakyPanel(theme)
    qtbot.addWidget(panel)
    panel.show()
    with caplog.at_level(logging.ERROR):
        assert panel.safe_refresh(RunState()) is False
    assert "Flaky" in caplog.text
    assert "ZeroDivisionError" in caplog.text
    assert panel.error_label.isVisible()
    assert panel.error_label.text() == "Flaky: ZeroDivisionError: bins went empty"
    assert panel.safe_refresh(RunState()) is False  # still failing: still shown, still no raise
    assert caplog.text.count("failed to refresh") == 1  # logged once, not every frame
    panel.fail = False
    assert panel.safe_refresh(RunState()) is True
    assert not panel.error_label.isVisible()
    assert panel.last_error is None
    assert panel.calls == 3


def test_base_refresh_is_abstract(qtbot, theme) -> None:
    panel = Panel(theme)
    qtbot.addWidget(panel)
    assert panel.safe_refresh(RunState()) is False
    assert "NotImplementedError" in panel.error_label.text()


def test_evaluation_throttle_holds_back_only_fast_new_evaluations() -> None:
    now = [100.0]
    throttle = EvaluationThrottle(interval_s=0.25, clock=lambda: now[0])
    assert not throttle.holds(None, ("run", 1, 0), evaluation_index=1)  # first draw
    now[0] += 0.1
    assert throttle.holds(("run", 1, 0), ("run", 2, 0), evaluation_index=1)  # too soon
    assert not throttle.holds(("run", 1, 0), ("run", 2, 1), evaluation_index=1)  # a drag
    now[0] += 0.1
    assert throttle.holds(("run", 2, 1), ("run", 3, 1), evaluation_index=1)
    now[0] += 0.2
    assert not throttle.holds(("run", 2, 1), ("run", 3, 1), evaluation_index=1)  # drawn late
    assert not throttle.holds(("run", 3, 1), ("other run", 3, 1), evaluation_index=1)


def test_held_back_redraws_take_turns_one_a_frame() -> None:
    """Five panels whose intervals run out together draw on five frames, not all in one."""
    now, slots = [100.0], RedrawSlots()
    throttles = [
        EvaluationThrottle(interval_s=0.25, clock=lambda: now[0], slots=slots) for _ in range(5)
    ]
    for throttle in throttles:
        slots.next_frame()
        assert not throttle.holds(None, ("run", 1), evaluation_index=1)  # a first draw: at once
    now[0] += 0.3  # every interval is over, and a new evaluation has come
    drawn_per_frame = []
    pending = list(throttles)
    while pending:
        slots.next_frame()
        drawing = [t for t in pending if not t.holds(("run", 1), ("run", 2), evaluation_index=1)]
        drawn_per_frame.append(len(drawing))
        pending = [t for t in pending if t not in drawing]
        now[0] += 1 / 30
    assert drawn_per_frame == [1, 1, 1, 1, 1]
    slots.next_frame()  # a change that is not a new evaluation never waits for a turn
    assert slots.take()
    assert not throttles[0].holds(("run", 2), ("other run", 2), evaluation_index=1)


def test_marker_lines_add_new_markers_without_rebuilding_the_old_ones(qtbot, theme) -> None:
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    markers = MarkerLines(widget.getPlotItem(), theme)
    first = [Marker(100, "param", "lr 0.1 → 0.2")]
    markers.update(first)
    label = markers.lines[0].label
    markers.update([*first, Marker(200, "rewind", "rewind from 300")])
    assert markers.lines[0].label is label  # kept, not rebuilt
    assert markers.labels() == ["lr 0.1 → 0.2", "rewind from 300"]
    markers.update([Marker(50, "reset", "reset")])  # history cut: everything redrawn
    assert markers.labels() == ["reset"]
    assert [line.value() for line in markers.lines] == [50]
    assert label.scene() is None  # the old label left the plot
