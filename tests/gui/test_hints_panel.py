"""Hints: folded into RunState, listed newest first, flashed in the status bar, marked on charts."""

from __future__ import annotations

from tests import event_factory
from tests.gui.lesson_helpers import open_lesson
from tests.gui.window_helpers import wait_for_run
from trainscope.engine import events as ev
from trainscope.gui.panels.hints_panel import HintsPanel
from trainscope.gui.run_state import RunState


def _hint(step: int, kind: str, title: str) -> ev.Hint:
    return ev.Hint(
        step=step, kind=kind, title=title, evidence=f"evidence {step}", suggestion="try this"
    )


def test_run_state_keeps_hints_marks_them_and_forgets_them_on_a_new_run():
    state = RunState()
    state.apply([event_factory.run_started(10)])
    before = state.hints_version
    state.apply([_hint(140, "overfitting", "Overfitting")])
    assert [hint.title for hint in state.hints] == ["Overfitting"]
    assert state.hints_version == before + 1
    assert state.markers[-1].kind == "hint"
    assert state.markers[-1].label == "overfitting"
    state.apply([event_factory.run_started(10)])  # a reset: the diagnosis starts over too
    assert state.hints == []
    assert state.hints_version == before + 2


def test_the_panel_lists_hints_newest_first_and_says_what_it_watches_for(qtbot, theme):
    panel = HintsPanel(theme)
    qtbot.addWidget(panel)
    panel.show()
    state = RunState()
    state.apply([event_factory.run_started(2)])
    panel.refresh(state)
    assert panel.placeholder.isVisible()
    assert panel.cards == []
    state.apply([_hint(200, "no_better_than_baseline", "No better than guessing")])
    state.apply([_hint(225, "minority_recall_collapse", "The rare class is missed")])
    panel.refresh(state)
    assert panel.titles() == ["The rare class is missed", "No better than guessing"]
    assert not panel.placeholder.isVisible()
    newest = panel.cards[0].text()
    assert "step 225" in newest
    assert "evidence 225" in newest
    assert "Try: try this" in newest
    assert panel.cards[0].objectName() == "newestHintCard"


def test_a_hint_from_the_run_shows_in_the_panel_the_status_bar_and_on_the_loss_chart(
    qtbot, tmp_path
):
    window = open_lesson(qtbot, tmp_path, "lr-too-high")  # the loss blows up within steps
    hints = window.panels["hints"]
    wait_for_run(qtbot, window, lambda: bool(hints.cards))
    hint = window.state.hints[0]
    assert hints.titles()[0] == hint.title == "The loss is blowing up"
    assert window.status.message().startswith(f"hint at step {hint.step:,}: {hint.title}")
    loss = window.panels["loss"]
    wait_for_run(qtbot, window, lambda: "blowing up" in loss.markers.labels())
