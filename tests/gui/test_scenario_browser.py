"""Choosing a lesson: the browser lists every scenario, and opening one starts its run."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.gui.lesson_helpers import Answers
from tests.gui.window_helpers import (
    of_type,
    open_window,
    wait_for_run,
    wait_for_steps,
)
from trainscope.engine import events as ev
from trainscope.engine.scenario import list_scenarios
from trainscope.gui import dialogs
from trainscope.gui.scenario_browser import COLUMNS, ScenarioBrowser


def test_the_browser_lists_every_scenario_in_teaching_order(qtbot, theme):
    browser = ScenarioBrowser(theme, current="overfitting")
    qtbot.addWidget(browser)
    infos = list_scenarios()
    assert browser.ids() == [info.id for info in infos]
    headers = [browser.table.horizontalHeaderItem(i).text() for i in range(len(COLUMNS))]
    assert headers == list(COLUMNS)
    row = browser.ids().index("accuracy-lies")
    info = infos[row]
    texts = [browser.table.item(row, column).text() for column in range(3)]
    assert texts == [info.title, info.difficulty, info.summary]
    assert browser.chosen_id() == "overfitting"  # the open lesson is highlighted


def test_picking_a_scenario_asks_then_starts_its_run_and_tells_its_story(
    qtbot, tmp_path, monkeypatch
):
    window = open_window(qtbot, tmp_path)
    wait_for_steps(qtbot, window, 5)
    first_session = window.session
    answers = Answers(answer=False)
    monkeypatch.setattr(dialogs, "confirm", answers)
    window.actions_by_name["browse_scenarios"].trigger()
    browser = window.lessons.browser
    assert browser is not None
    assert browser.isVisible()
    browser.select("accuracy-lies")
    qtbot.mouseClick(browser.open_button, Qt.LeftButton)
    assert answers.titles == ["Open a lesson"]  # a run was going: asked, and told no
    assert window.session is first_session
    assert window.lessons.scenario is None
    answers.answer = True
    window.lessons.browse().select("accuracy-lies")
    qtbot.mouseClick(window.lessons.browser.open_button, Qt.LeftButton)
    assert window.session is not first_session
    assert not first_session.is_alive()
    wait_for_run(qtbot, window, lambda: bool(of_type(window.session.log, ev.RunStarted)))
    started = of_type(window.session.log, ev.RunStarted)[0]
    scenario = window.lessons.scenario
    assert scenario.id == "accuracy-lies"
    assert started.scenario == "accuracy-lies"
    assert started.dataset == scenario.dataset.name == "classification"
    assert started.max_steps == scenario.steps
    lesson = window.panels["lesson"]
    assert lesson.title_label.text() == "When accuracy lies"
    assert "94 of every 100 people" in lesson.story_label.text()
    assert window.docks["lesson"].isVisible()


def test_the_scenarios_menu_lists_the_lessons_and_opens_one(qtbot, tmp_path, monkeypatch):
    window = open_window(qtbot, tmp_path, start=False)
    monkeypatch.setattr(dialogs, "confirm", Answers())
    lessons = window.lessons
    lessons.fill_list_menu()  # what opening the menu does
    entries = {action.data(): action for action in lessons.list_menu.actions()}
    assert list(entries) == [info.id for info in list_scenarios()]
    entries["underfitting"].trigger()
    assert lessons.scenario.id == "underfitting"
    wait_for_run(
        qtbot,
        window,
        lambda: window.state.run is not None and window.state.run.scenario == "underfitting",
    )
    assert window.state.run.dataset == "circles"
