"""Windows opened on a lesson, for the scenario, lesson, hints and classroom tests."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from tests.gui.window_helpers import open_window
from trainscope.engine.scenario import load_scenario

if TYPE_CHECKING:
    from pathlib import Path

    from trainscope.gui.main_window import MainWindow


def open_lesson(
    qtbot, folder: Path, scenario_id: str, steps: int | None = None, start: bool = True
) -> MainWindow:
    """A window telling ``scenario_id``, running its own run (cut to ``steps`` when given)."""
    scenario = load_scenario(scenario_id)
    config = scenario.run_config()
    if steps is not None:
        config = replace(config, steps=steps)
    window = open_window(qtbot, folder, config, start=False)
    window.lessons.show_lesson(scenario, config)
    if start:
        window.start_session(config)
    return window


class Answers:
    """Stands in for ``gui.dialogs.confirm``: records each question's title, gives a fixed answer."""

    def __init__(self, answer: bool = True) -> None:
        self.answer = answer
        self.titles: list[str] = []

    def __call__(self, parent, title: str, question: str, action: str = "Continue") -> bool:
        self.titles.append(title)
        return self.answer
