"""Classroom mode: big type, the lesson's panels only, and the previous layout back after it."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from tests.gui.lesson_helpers import open_lesson
from tests.gui.window_helpers import (
    RecordingThreadSession,
    open_window,
    show_active,
    temp_settings,
    wait_for_run,
)
from trainscope.engine.cli import build_parser
from trainscope.engine.runs.cli import add_runs_arguments
from trainscope.engine.scenario import load_scenario
from trainscope.gui.app import prepare_window
from trainscope.gui.classroom import focus_docks
from trainscope.gui.main_window import MainWindow
from trainscope.gui.window_options import WindowOptions

OVERFITTING_DOCKS = {"lesson", "loss", "accuracy", "hints"}


def _visible(window: MainWindow) -> set[str]:
    return {name for name, dock in window.docks.items() if dock.isVisible()}


def _pt(label) -> float:
    """The point size a label is drawn in (its style sheet's, once polished)."""
    label.ensurePolished()
    return label.font().pointSizeF()


def _geometry(window: MainWindow) -> dict[str, tuple[int, int, int, int]]:
    """Where each dock on screen is (a tab behind another one is not on screen)."""
    docks = window.docks.items()
    return {name: d.geometry().getRect() for name, d in docks if not d.visibleRegion().isEmpty()}


def test_classroom_mode_enlarges_type_and_shows_only_the_lessons_panels(qtbot, tmp_path):
    window = open_lesson(qtbot, tmp_path, "overfitting", start=False)
    normal_theme, normal_docks = window.theme, _visible(window)
    story, hints = window.panels["lesson"].story_label, window.panels["hints"].placeholder
    normal_story_pt, normal_hints_pt = _pt(story), _pt(hints)
    geometry = _geometry(window)
    qtbot.keyClick(window, Qt.Key_F11)
    theme = window.theme
    assert theme.classroom
    assert window.actions_by_name["classroom"].isChecked()
    assert theme.pt(theme.base_font_pt) > normal_theme.pt(normal_theme.base_font_pt)
    assert theme.pt(theme.tick_font_pt) > normal_theme.pt(normal_theme.tick_font_pt)
    assert theme.curve_width > normal_theme.curve_width
    assert window.panels["loss"].theme is theme
    assert window.panels["lesson"].theme is theme
    assert _visible(window) == OVERFITTING_DOCKS
    assert _pt(story) > normal_story_pt
    assert _pt(hints) > normal_hints_pt
    qtbot.keyClick(window, Qt.Key_P, Qt.ControlModifier)  # the other key, back again
    assert not window.theme.classroom
    assert not window.classroom.active
    assert _visible(window) == normal_docks
    restored = _geometry(window)
    assert restored.keys() == geometry.keys()
    for name, rect in geometry.items():  # the same places, to a pixel or two of frame
        assert np.allclose(restored[name], rect, atol=4), name


def test_the_classroom_layout_follows_the_lesson(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, start=False)
    window.set_classroom(True)
    assert _visible(window) == {"lesson", "hints", *focus_docks(None)}
    window.lessons.show_lesson(_load("accuracy-lies"))
    assert _visible(window) == {"lesson", "accuracy", "confusion", "threshold", "hints"}
    window.actions_by_name["restore_layout"].trigger()  # in classroom mode: its own layout
    assert _visible(window) == {"lesson", "accuracy", "confusion", "threshold", "hints"}


def test_present_flag_opens_the_lesson_in_classroom_mode_without_remembering_it(qtbot, tmp_path):
    parser = build_parser()
    add_runs_arguments(parser)  # the whole command line, as trainscope.launch builds it
    args = parser.parse_args(["--scenario", "overfitting", "--present"])
    options = WindowOptions.from_args(args, load_scenario(args.scenario))
    assert options.present
    window = open_window(qtbot, tmp_path, start=False)
    prepare_window(window, window.config, options)
    assert window.lessons.scenario.id == "overfitting"
    assert window.panels["lesson"].title_label.text() == "Overfitting"
    assert window.theme.classroom
    assert _visible(window) == OVERFITTING_DOCKS
    window.close()
    again = MainWindow(
        window.config, session_factory=RecordingThreadSession, settings=temp_settings(tmp_path)
    )
    show_active(qtbot, again)
    assert not again.theme.classroom  # --present was for that launch only
    assert "setup" in again.docks
    assert again.docks["loss"].isVisible()
    assert again.docks["controls"].isVisible() or again.docks["lesson"].isVisible()
    prepare_window(again, again.config, WindowOptions())  # no flags: nothing changes
    assert again.lessons.scenario is None


@pytest.mark.parametrize(
    ("scenario_id", "steps", "hint_kind"),
    [("overfitting", 240, "overfitting"), ("accuracy-lies", 300, "minority_recall_collapse")],
)
def test_classroom_screenshot_shows_the_lesson_and_its_phenomenon(
    qtbot, tmp_path, scenario_id, steps, hint_kind
):
    window = open_lesson(qtbot, tmp_path, scenario_id, steps=steps)
    window.set_classroom(True)
    kinds = lambda: {hint.kind for hint in window.state.hints}  # noqa: E731
    wait_for_run(qtbot, window, lambda: window.state.state == "finished")
    assert hint_kind in kinds()
    hints = window.panels["hints"]
    wait_for_run(qtbot, window, lambda: bool(hints.cards) and hints.cards[0].isVisible())
    path = tmp_path / f"classroom-{scenario_id}.png"
    assert window.grab().save(str(path), "PNG")
    image = QImage(str(path)).convertToFormat(QImage.Format_RGB32)
    assert (image.width(), image.height()) == (1600, 1000)
    pixels = np.frombuffer(image.constBits(), np.uint32, image.width() * image.height())
    colours, counts = np.unique(pixels, return_counts=True)
    assert len(colours) > 200  # text, curves, a heatmap: not a blank or one-colour window
    assert counts.max() / counts.sum() < 0.8  # no single colour fills the window
    assert window.panels["lesson"].story_label.isVisible()


def _load(scenario_id: str):
    from trainscope.engine.scenario import load_scenario

    return load_scenario(scenario_id)
