"""The pace control: a ladder from 1 step/s to max, [ and ] from anywhere, kept across runs."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.engine.session_helpers import small_config
from tests.gui.window_helpers import open_window, wait_for_steps
from trainscope.engine import commands as cmd
from trainscope.gui.pace_control import PACE_LADDER, PaceControl


def test_slower_and_faster_climb_the_ladder_from_any_pace(qtbot) -> None:
    control = PaceControl(60.0)
    qtbot.addWidget(control)
    chosen: list[float | None] = []
    control.pace_chosen.connect(chosen.append)
    control.slower()
    control.faster()
    control.faster()
    assert chosen == [30.0, 60.0, 120.0]
    assert control.value_label.text() == "pace: 120 steps/s"
    control.show_pace(75.0)  # a --pace between two rungs
    control.slower()
    control.show_pace(75.0)
    control.faster()
    assert chosen[-2:] == [60.0, 120.0]
    control.show_pace(PACE_LADDER[-2])
    control.faster()
    control.faster()  # already at max: nothing more to send
    assert chosen[-1] is None
    assert chosen.count(None) == 1
    assert control.value_label.text() == "pace: max"
    control.show_pace(1.0)
    control.slower()
    assert chosen[-1] is None  # the slowest rung stays put


def test_bracket_keys_pace_the_run_and_the_next_run_keeps_the_pace(qtbot, tmp_path) -> None:
    window = open_window(qtbot, tmp_path, small_config(pace=60.0))
    wait_for_steps(qtbot, window, 1)
    sent: list[cmd.Command] = []
    original_send = window.session.send
    window.session.send = lambda command: (sent.append(command), original_send(command))
    assert window.status.fields["pace"].text() == "pace 60 steps/s"
    qtbot.keyClick(window, Qt.Key_BracketLeft)
    assert sent == [cmd.SetPace(30.0)]
    assert window.status.fields["pace"].text() == "pace 30 steps/s"
    qtbot.keyClick(window, Qt.Key_BracketRight)
    qtbot.keyClick(window, Qt.Key_BracketRight)
    assert sent[-1] == cmd.SetPace(120.0)
    window.start_session(small_config(pace=None))  # e.g. a lesson opened from the browser
    assert window.config.pace == 120.0
    assert window.controls.pace_control.pace == 120.0
