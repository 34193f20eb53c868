"""Greying out what a run the window did not build cannot take (``ev.ControlsLimited``).

A student's own model (``trainscope.show``) or loop (``trainscope.watch``) trains in their
process: the window cannot rebuild it for a new run, and a loop it does not own cannot be
rewound. The controls panel greys its own widgets (``ControlsPanel.limit``); this module does
the same for the menus' actions and Setup's button, each with the run's reason on hover, so
nothing on screen offers what would only be refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMenu

if TYPE_CHECKING:
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QAbstractButton

#: A limit's name → the window actions (``MainWindow.actions_by_name``) it greys.
ACTIONS = {
    "step": ("step",),
    "rewind": ("rewind",),
    "reset": ("reset",),
    "lr": ("lr_up", "lr_down"),
    "open_test_set": ("open_test",),
    "new_run": ("restart", "browse_scenarios", "restart_scenario"),
}
#: Action-name prefixes that start new runs of the bundled kind (the Experiments menu). A
#: lesson's "Try this" entries need a lesson open, which such a window never has.
NEW_RUN_PREFIXES = ("experiment_",)


class RunLimits:
    """The window's actions and buttons that follow the run's ``ControlsLimited``."""

    def __init__(
        self,
        actions: dict[str, QAction],
        buttons: dict[str, tuple[QAbstractButton, ...]],
        lessons: QMenu | None,
    ) -> None:
        self.actions, self.buttons, self.lessons = actions, buttons, lessons
        self.reasons: dict[str, str] = {}  # the limits in force (re-applied over a banner's button)
        self._own_tooltips: dict[object, str] = {}

    def apply(self, reasons: dict[str, str]) -> None:
        """Grey out each limited action and button with its reason; give back the others."""
        self.reasons = dict(reasons)
        for name, action in self.actions.items():
            self._set(action, self._reason_for(name, reasons))
        for name, buttons in self.buttons.items():
            for button in buttons:
                self._set(button, reasons.get(name))
        if self.lessons is not None:  # the lesson list, a submenu of Scenarios
            self._set(self.lessons.menuAction(), reasons.get("new_run"))

    @staticmethod
    def _reason_for(action: str, reasons: dict[str, str]) -> str | None:
        for limit, names in ACTIONS.items():
            if action in names and limit in reasons:
                return reasons[limit]
        if action.startswith(NEW_RUN_PREFIXES):
            return reasons.get("new_run")
        return None

    def _set(self, control: QAction | QAbstractButton, reason: str | None) -> None:
        own = self._own_tooltips.setdefault(control, control.toolTip())
        control.setEnabled(reason is None)
        control.setToolTip(own if reason is None else reason)
        if reason is not None and hasattr(control, "associatedObjects"):
            for menu in control.associatedObjects():
                if isinstance(menu, QMenu):
                    menu.setToolTipsVisible(True)  # a greyed entry says why on hover
