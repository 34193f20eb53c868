"""The lesson panel: the story, where to look, and try-this buttons that really change the run."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.gui.lesson_helpers import Answers, open_lesson
from tests.gui.window_helpers import of_type, wait_for_run, wait_for_steps
from trainscope.engine import events as ev
from trainscope.engine.scenario import load_scenario
from trainscope.gui import dialogs
from trainscope.gui.panels.lesson_panel import EMPTY_TEXT, LessonPanel, describe_action, reflow


def test_without_a_lesson_it_says_how_to_pick_one(qtbot, theme):
    panel = LessonPanel(theme)
    qtbot.addWidget(panel)
    panel.show()
    assert panel.empty_label.isVisible()
    assert panel.empty_label.text() == EMPTY_TEXT
    assert "Ctrl+O" in EMPTY_TEXT
    assert "--scenario" in EMPTY_TEXT


def test_a_lesson_shows_title_story_watch_notes_and_numbered_steps(qtbot, theme):
    panel = LessonPanel(theme)
    qtbot.addWidget(panel)
    panel.show()
    scenario = load_scenario("accuracy-lies")
    panel.show_scenario(scenario)
    assert panel.title_label.text() == "When accuracy lies"
    assert panel.story_label.text() == reflow(scenario.story)
    assert "\n" not in panel.story_label.text()
    watch = [panel.watch_box.itemAt(i).widget().text() for i in range(panel.watch_box.count())]
    assert len(watch) == 3
    assert '<a href="confusion">Confusion matrix</a>' in watch[1]
    assert panel.step_texts() == ["Do it  [1]", "Do it  [2]"]
    assert describe_action(scenario.try_this[0]) == "threshold 0.05"
    assert describe_action(scenario.try_this[1]) == "class weighting balanced"
    restart = load_scenario("underfitting").try_this[0]
    assert describe_action(restart) == "new run with hidden [32]"
    panel.show_scenario(None)
    assert panel.empty_label.isVisible()


def test_try_this_buttons_and_keys_send_their_commands(qtbot, tmp_path):
    window = open_lesson(qtbot, tmp_path, "accuracy-lies")
    wait_for_steps(qtbot, window, 10)
    lesson = window.panels["lesson"]
    shown: list[str] = []  # every status message: a hint may replace this one a frame later
    show_message = window.status.show_message

    def remember_and_show(text: str, error: bool = False) -> None:
        shown.append(text)
        show_message(text, error)

    window.status.show_message = remember_and_show
    qtbot.mouseClick(lesson.step_buttons[1], Qt.LeftButton)  # class weighting: a live setting
    log = window.session.log
    wait_for_run(qtbot, window, lambda: bool(of_type(log, ev.ParamChanged)))
    change = of_type(log, ev.ParamChanged)[0]
    assert (change.key, change.new) == ("class_weighting", "balanced")
    wait_for_run(qtbot, window, lambda: any("class weighting balanced" in text for text in shown))
    qtbot.keyClick(window, Qt.Key_1)  # the threshold: the window's own, no training needed
    assert window.state.threshold == 0.05
    wait_for_run(qtbot, window, lambda: window.panels["threshold"].threshold_spin.value() == 0.05)


def test_restart_scenario_starts_the_lessons_run_again_with_its_threshold(qtbot, tmp_path):
    window = open_lesson(qtbot, tmp_path, "accuracy-lies")
    wait_for_steps(qtbot, window, 30)
    first_session, first_run = window.session, window.state.run
    window.lessons.try_step(0)
    assert window.state.threshold == 0.05
    qtbot.mouseClick(window.panels["lesson"].restart_button, Qt.LeftButton)
    assert window.session is not first_session
    assert not first_session.is_alive()
    wait_for_run(qtbot, window, lambda: window.state.run is not first_run)
    assert window.state.run.scenario == "accuracy-lies"
    log = window.session.log
    wait_for_run(qtbot, window, lambda: bool(of_type(log, ev.StepMetrics)))
    assert of_type(log, ev.StepMetrics)[0].steps[0] == 1  # from step 0 again
    assert window.state.threshold == 0.5  # the lesson's decision threshold again
    assert window.config == window.lessons.lesson_config


def test_a_step_that_needs_a_new_model_asks_then_restarts_with_it(qtbot, tmp_path, monkeypatch):
    window = open_lesson(qtbot, tmp_path, "underfitting")
    wait_for_run(qtbot, window, lambda: window.state.run is not None)
    answers = Answers(answer=False)
    monkeypatch.setattr(dialogs, "confirm", answers)
    first_session = window.session
    lesson = window.panels["lesson"]
    assert lesson.step_texts() == ["New run…  [1]"]
    qtbot.mouseClick(lesson.step_buttons[0], Qt.LeftButton)
    assert answers.titles == ["Try this 1"]
    assert window.session is first_session
    answers.answer = True
    qtbot.mouseClick(lesson.step_buttons[0], Qt.LeftButton)
    assert window.session is not first_session
    assert window.config.model.hidden == (32,)
    assert window.config.scenario == "underfitting"
    wait_for_run(
        qtbot,
        window,
        lambda: window.state.run is not None and "-32-" in window.state.run.model_description,
    )


def test_a_watch_note_link_brings_its_panel_back(qtbot, tmp_path):
    window = open_lesson(qtbot, tmp_path, "calibration", start=False)
    window.docks["calibration"].close()
    watch = window.panels["lesson"].watch_box.itemAt(0).widget()
    watch.linkActivated.emit("calibration")
    assert window.docks["calibration"].isVisible()


def test_the_panel_says_now_when_the_lessons_moment_comes_and_again_after_a_restart(
    qtbot, tmp_path
):
    window = open_lesson(qtbot, tmp_path, "lr-too-low")  # moment_step 150: the flat line read
    lesson, controller = window.panels["lesson"], window.lessons
    assert not lesson.moment_label.isVisibleTo(lesson)
    wait_for_run(qtbot, window, lambda: controller.moment.step is not None)
    assert controller.moment.step >= 150  # never before the file's moment_step
    assert lesson.moment_label.isVisibleTo(lesson)
    text = lesson.moment_label.text()
    assert "Look at Loss" in text
    assert "press 1" in text
    assert "now is the moment" in window.status.message()
    controller.restart()
    wait_for_run(qtbot, window, lambda: window.state.step > 0 and window.state.step < 150)
    assert not lesson.moment_label.isVisibleTo(lesson)  # the new run's moment is still to come


def test_opening_a_lesson_sets_its_pace_and_its_run_goes_at_it(qtbot, tmp_path):
    window = open_lesson(qtbot, tmp_path, "accuracy-lies", start=False)
    assert window.lessons.open("overfitting")
    scenario = load_scenario("overfitting")
    assert window.controls.pace_control.pace == scenario.pace
    assert window.config.pace == scenario.pace
    assert window.status.fields["pace"].text() == f"pace {scenario.pace:g} steps/s"
