"""The menu bar: every keyboard shortcut is also a menu entry, so it can be found by looking.

The shortcuts are window-wide actions (see ``gui.keys`` for which control may keep a key):
Space pause/resume, → one step, R reset (asks first), ↑/↓ learning rate ×2/÷2, [ / ] pace,
Ctrl+= / Ctrl+- / Ctrl+0 interface size, Esc gives the keys back to the window; Ctrl+O opens
a lesson, Ctrl+R restarts it, 1-9 do its try-this steps, F11 or Ctrl+P toggles classroom mode.
The menus are given what their entries call — the controls, the lessons, the docks and the
window's own actions (``gui.window_api.WindowActions``) — and the ``QMainWindow`` they sit in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QActionGroup, QKeySequence

from trainscope.gui.panels.lesson_panel import MAX_KEYED_STEPS

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QWidget

    from trainscope.gui.controls import ControlsPanel
    from trainscope.gui.lesson_controller import LessonController
    from trainscope.gui.window_api import WindowActions


class MenuBuilder:
    """Adds named actions to menus and to the window itself (so they fire from any dock)."""

    def __init__(self, window: QWidget) -> None:
        self.window = window
        self.actions: dict[str, QAction] = {}

    def add(self, menu: QMenu, name: str, text: str, slot: Callable, *keys: str) -> QAction:
        action = QAction(text, self.window)
        action.setShortcuts([QKeySequence(key) for key in keys])
        action.triggered.connect(slot)
        menu.addAction(action)
        self.window.addAction(action)
        self.actions[name] = action
        return action


def build_menus(
    window: QMainWindow,
    actions: WindowActions,
    controls: ControlsPanel,
    docks: Mapping[str, QDockWidget],
    lessons: LessonController,
    classroom: bool,
) -> dict[str, QAction]:
    """The Run and View menus; returns their actions by name (tests and the window use them).

    ``classroom``: whether classroom mode is on now (its entry is checkable).
    """
    builder = MenuBuilder(window)
    run = window.menuBar().addMenu("&Run")
    builder.add(run, "pause", "Pause / resume", controls.toggle_pause, "Space")
    builder.add(run, "step", "One step", controls.step_once, "Right")
    builder.add(run, "rewind", "Rewind to the last checkpoint", controls.rewind)
    builder.add(run, "reset", "Reset…", controls.ask_reset, "R")
    run.addSeparator()
    builder.add(run, "lr_up", "Learning rate ×2", actions.double_lr, "Up")
    builder.add(run, "lr_down", "Learning rate ÷2", actions.halve_lr, "Down")
    run.addSeparator()
    pace = controls.pace_control
    builder.add(run, "pace_down", "Slower", pace.slower, "[")
    builder.add(run, "pace_up", "Faster", pace.faster, "]")
    run.addSeparator()
    builder.add(run, "open_test", "Open test set…", controls.ask_open_test_set)
    builder.add(run, "restart", "Restart the training process", actions.restart_session)
    view = window.menuBar().addMenu("&View")
    for dock in docks.values():
        view.addAction(dock.toggleViewAction())
    view.addSeparator()
    builder.add(view, "zoom_in", "Larger interface", actions.zoom_in, "Ctrl+=", "Ctrl++")
    builder.add(view, "zoom_out", "Smaller interface", actions.zoom_out, "Ctrl+-")
    builder.add(view, "zoom_reset", "Default interface size", actions.zoom_reset, "Ctrl+0")
    classroom_action = builder.add(
        view, "classroom", "Classroom mode", actions.set_classroom, "F11", "Ctrl+P"
    )
    classroom_action.setCheckable(True)
    classroom_action.setChecked(classroom)
    view.addSeparator()
    builder.add(view, "restore_layout", "Restore default layout", actions.restore_default_layout)
    builder.add(view, "leave_field", "Give the keys back to the window", actions.leave_field, "Esc")
    build_scenarios_menu(builder, window, lessons)
    return builder.actions


def build_scenarios_menu(
    builder: MenuBuilder, window: QMainWindow, lessons: LessonController
) -> None:
    """Open, restart and step through a lesson; the list of lessons fills in when first shown."""
    menu = window.menuBar().addMenu("&Scenarios")
    builder.add(menu, "browse_scenarios", "Browse scenarios…", lessons.browse, "Ctrl+O")
    builder.add(menu, "restart_scenario", "Restart scenario", lessons.restart, "Ctrl+R")
    menu.addSeparator()
    steps = QActionGroup(window)
    steps.setExclusionPolicy(QActionGroup.ExclusionPolicy.None_)
    steps.triggered.connect(lessons.try_from_menu)
    step_actions = []
    for index in range(MAX_KEYED_STEPS):
        action = QAction(f"Try this {index + 1}", window)
        action.setShortcut(QKeySequence(str(index + 1)))
        action.setData(index)
        steps.addAction(action)
        menu.addAction(action)
        window.addAction(action)
        builder.actions[f"try_{index + 1}"] = action
        step_actions.append(action)
    menu.addSeparator()
    lessons.attach_menu(step_actions, menu.addMenu("All lessons"))
