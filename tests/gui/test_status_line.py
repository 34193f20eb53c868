"""The status bar says only what is true now: the plan while within it, what to do when
finished, and no message about a state the run has left."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import QStatusBar

from tests import event_factory
from trainscope.engine import events as ev
from trainscope.gui.run_state import RunState
from trainscope.gui.status_line import StatusLine, step_text


def started(max_steps: int | None) -> RunState:
    state = RunState()
    run = event_factory.run_started(2)
    state.apply([replace(run, max_steps=max_steps)])
    return state


def test_the_step_counter_shows_the_plan_only_while_within_it():
    state = started(600)
    state.apply([event_factory.small_step_metrics(120, [0.5])])
    assert step_text(state) == "step 120 / 600"
    state.apply([event_factory.small_step_metrics(5_829, [0.5])])  # past the planned end
    assert step_text(state) == "step 5,829"
    assert step_text(started(None)) == "step 0"


def test_finished_says_what_to_do_and_a_state_message_goes_when_the_run_goes_on(qtbot, theme):
    bar = QStatusBar()
    qtbot.addWidget(bar)
    line = StatusLine(bar, theme)
    state = started(600)
    state.apply([ev.Diverged(step=40, loss=float("nan"), message="the loss became nan")])
    line.show_run(state)
    assert line.message() == "the loss became nan"
    state.apply([ev.StateChanged(step=40, state="running")])
    line.show_run(state)
    assert line.message() == ""  # no longer true once the run goes on
    state.apply([ev.Finished(step=600, reason="completed")])
    line.show_run(state)
    assert line.fields["state"].text() == "finished — Space to go on"
    state.apply([ev.StateChanged(step=600, state="running")])
    line.show_run(state)
    assert line.fields["state"].text() == "running"
