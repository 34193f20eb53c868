"""Which lesson is open, and what its buttons do to the window's run.

The lesson panel and the Scenarios menu only ask ("open this lesson", "do step 2", "restart");
this controller answers through the window's own ways in (``gui.window_api``): ``start_session``
for a new run, ``send_command`` for a change to the running one and ``set_decision`` for the
lesson's threshold and costs, so a lesson changes a run exactly as the controls would. Anything
that would throw away a run in progress asks first.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QActionGroup

from trainscope.engine import events as ev
from trainscope.engine.errors import TrainScopeError
from trainscope.engine.experiment_plan import check_plan
from trainscope.engine.lesson_moment import MomentWatch
from trainscope.engine.scenario import Scenario, TryThis, list_scenarios, load_scenario
from trainscope.gui import dialogs
from trainscope.gui.panels.lesson_panel import MAX_KEYED_STEPS, LessonPanel, describe_action
from trainscope.gui.scenario_browser import ScenarioBrowser

if TYPE_CHECKING:
    from collections.abc import Mapping

    from PySide6.QtWidgets import QDockWidget, QMenu, QWidget

    from trainscope.engine.config import RunConfig
    from trainscope.engine.run_fold import RunFold
    from trainscope.gui.pace_control import PaceControl
    from trainscope.gui.window_api import (
        CommandSender,
        DecisionSetter,
        RunReader,
        RunStarter,
        StatusMessages,
        ThemeReader,
    )

RUNNING_STATES = ("running", "paused", "diverged")
STEP_MENU_TEXT_CHARS = 60


class LessonController(QObject):
    """Opens scenarios, restarts them and carries out their try-this steps."""

    lesson_changed = Signal(object)  # the new Scenario, or None

    def __init__(
        self,
        panel: LessonPanel,
        *,
        parent: QWidget,
        run: RunReader,
        starter: RunStarter,
        commands: CommandSender,
        decisions: DecisionSetter,
        status: StatusMessages,
        theme: ThemeReader,
        pace: PaceControl,
        docks: Mapping[str, QDockWidget],
    ) -> None:
        """``parent`` owns the dialogs it asks with; the rest are the window's ways in."""
        super().__init__(parent)
        self.parent_widget = parent
        self.run, self.starter, self.commands = run, starter, commands
        self.decisions, self.status, self.theme_source = decisions, status, theme
        self.pace, self.docks = pace, docks
        self.panel = panel
        self.scenario: Scenario | None = None
        self.lesson_config: RunConfig | None = None
        self.browser: ScenarioBrowser | None = None
        self.step_actions: list[QAction] = []
        self.on_lesson_run = False  # the run on screen is the open lesson's
        self.moment: MomentWatch | None = None
        self.list_menu: QMenu | None = None
        self.list_group = QActionGroup(self)
        self.list_group.setExclusionPolicy(QActionGroup.ExclusionPolicy.None_)
        self.list_group.triggered.connect(self.open_from_menu)
        panel.try_requested.connect(self.try_step)
        panel.restart_requested.connect(self.restart)
        panel.browse_requested.connect(self.browse)
        panel.panel_requested.connect(self.show_panel)

    # --- showing a lesson ----------------------------------------------------------------
    def show_lesson(self, scenario: Scenario | None, config: RunConfig | None = None) -> None:
        """Tell ``scenario`` in the lesson panel; ``config`` is its run (default: the file's)."""
        self.scenario = scenario
        self.lesson_config = config or (scenario.run_config() if scenario else None)
        self.panel.show_scenario(scenario)
        # An experiment lesson's promise is about all its runs: the Experiments view judges it.
        single_run = scenario is not None and scenario.experiment is None
        self.moment = MomentWatch(scenario) if single_run and scenario is not None else None
        self._update_step_actions()
        if scenario is not None:
            self._apply_decision(scenario)
            self.raise_lesson()
            QTimer.singleShot(0, self.raise_lesson)  # a tab cannot be raised before it is shown
        self.lesson_changed.emit(scenario)

    def follow(self, events: list[ev.Event], history: RunFold) -> None:
        """Announce the lesson's moment once per run: the first validation evaluation at which
        everything the lesson promises is on screen (``engine.lesson_moment``)."""
        if self.moment is None:
            return
        for event in events:
            if isinstance(event, ev.RunStarted):
                self.on_lesson_run = event.scenario == self.moment.scenario.id
                self.panel.show_moment(False)
        if self.on_lesson_run and self.moment.observe(events, history):
            self.panel.show_moment(True)
            self.raise_lesson()
            title = self.moment.scenario.title
            self.status.show_message(f"lesson: {title} — now is the moment")

    @Slot()
    def raise_lesson(self) -> None:
        self.show_panel("lesson")

    def _apply_decision(self, scenario: Scenario) -> None:
        """A lesson's threshold and costs belong to it: set them with its run."""
        decision = scenario.decision
        costs = (decision.cost_false_positive, decision.cost_false_negative)
        self.decisions.set_decision(decision.threshold, costs)

    def _update_step_actions(self) -> None:
        """Keys 1-9 (Scenarios menu) do the open lesson's steps; the rest are hidden and dead."""
        steps = self.scenario.try_this if self.scenario is not None else ()
        for index, action in enumerate(self.step_actions):
            step = steps[index] if index < len(steps) else None
            usable = step is not None and bool(describe_action(step))
            action.setVisible(usable)
            if step is not None and usable:
                text = textwrap.shorten(step.text, STEP_MENU_TEXT_CHARS, placeholder=" …")
                action.setText(f"Try this {index + 1}: {text}")

    def attach_menu(self, step_actions: list[QAction], list_menu: QMenu) -> None:
        """The menu's try-this actions (data: the step index) and the menu the lesson list fills."""
        self.step_actions = step_actions[:MAX_KEYED_STEPS]
        self.list_menu = list_menu
        list_menu.aboutToShow.connect(self.fill_list_menu)
        self._update_step_actions()

    @Slot()
    def fill_list_menu(self) -> None:
        """List every lesson in the menu, the first time it opens (reading them costs ~15 ms)."""
        if self.list_menu is None or self.list_menu.actions():
            return
        try:
            infos = list_scenarios()
        except TrainScopeError as error:
            self.status.show_message(str(error), error=True)
            return
        for info in infos:
            action = self.list_menu.addAction(f"{info.title}  ({info.difficulty})")
            action.setToolTip(info.summary)
            action.setData(info.id)
            self.list_group.addAction(action)

    # --- choosing and opening ------------------------------------------------------------
    @Slot()
    def browse(self) -> ScenarioBrowser:
        """Open the scenario browser (non-blocking); the choice arrives in ``ask_open``."""
        current = self.scenario.id if self.scenario is not None else None
        self.browser = ScenarioBrowser(self.theme_source.theme, current, self.parent_widget)
        self.browser.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.browser.scenario_chosen.connect(self.ask_open)
        self.browser.open()
        return self.browser

    @Slot(QAction)
    def open_from_menu(self, action: QAction) -> None:
        self.ask_open(str(action.data()))

    @Slot(str)
    def ask_open(self, scenario_id: str) -> None:
        """Open a lesson; if a run is going, ask first (opening one stops it)."""
        if self.run_is_going():
            question = "Open this lesson? The current run stops and the lesson's run starts."
            if not dialogs.confirm(self.parent_widget, "Open a lesson", question, "Open lesson"):
                return
        self.open(scenario_id)

    def open(self, scenario_id: str) -> bool:
        """Load the lesson, show it and start its run; a bad file is one sentence in the status bar."""
        try:
            scenario = load_scenario(scenario_id)
            config = scenario.run_config()
        except TrainScopeError as error:
            self.status.show_message(str(error), error=True)
            return False
        plan = None
        if scenario.experiment is not None:  # many runs: the Experiments view opens with them
            try:
                plan = check_plan(scenario.experiment.plan(config))
            except TrainScopeError as error:
                self.status.show_message(str(error), error=True)
                return False
        self.show_lesson(scenario, config)
        if scenario.pace is not None:  # a lesson unfolds at its own pace; ] or [ changes it
            self.pace.choose(scenario.pace)
        if plan is None:
            self.starter.start_session(config)
        else:
            self.starter.open_experiment(plan, scenario)
        self.status.show_message(f"lesson: {scenario.title}")
        return True

    def run_is_going(self) -> bool:
        session = self.run.session
        alive = session is not None and session.is_alive()
        return alive and self.run.state.state in RUNNING_STATES

    # --- the lesson's buttons ------------------------------------------------------------
    @Slot()
    def restart(self) -> None:
        """One click: the lesson's run again from step 0, with the lesson's threshold and costs."""
        if self.scenario is None or self.lesson_config is None:
            self.status.show_message("no lesson is open — Scenarios ▸ Browse scenarios…")
            return
        if self.scenario.experiment is not None:  # its experiment, all its runs, again
            self.open(self.scenario.id)
            return
        self._apply_decision(self.scenario)
        self.starter.start_session(self.lesson_config)
        self.status.show_message(f"lesson restarted: {self.scenario.title}")

    @Slot(int)
    def try_step(self, index: int) -> None:
        """Carry out try-this step ``index``: live commands now, or (after asking) a new run."""
        if self.scenario is None or not 0 <= index < len(self.scenario.try_this):
            return
        step = self.scenario.try_this[index]
        if self.scenario.experiment is not None:  # the lesson's experiment again, changed
            self._try_with_new_experiment(index, step)
            return
        if step.needs_restart:
            self._try_with_new_run(index, step)
            return
        for command in step.commands():
            self.commands.send_command(command)
        if step.threshold is not None:
            self.decisions.set_decision(step.threshold)
        session = self.run.session
        if session is None or not session.is_alive():
            return  # send_command already said why nothing happened
        # After the planned end the status bar's state says "finished — Space to go on".
        self.status.show_message(f"try this {index + 1}: {describe_action(step)}")

    @Slot(QAction)
    def try_from_menu(self, action: QAction) -> None:
        self.try_step(int(action.data()))

    def _try_with_new_run(self, index: int, step: TryThis) -> None:
        question = (
            f"This step needs a new run ({describe_action(step)}). The current run stops and "
            "the new one starts from step 0."
        )
        title = f"Try this {index + 1}"
        if not dialogs.confirm(self.parent_widget, title, question, "Start the new run"):
            return
        try:
            config = step.restart_config(self.run.config)
        except TrainScopeError as error:
            self.status.show_message(str(error), error=True)
            return
        self.starter.start_session(config)
        self.status.show_message(f"try this {index + 1}: {describe_action(step)}")

    def _try_with_new_experiment(self, index: int, step: TryThis) -> None:
        scenario, base = self.scenario, self.lesson_config
        if scenario is None or scenario.experiment is None or base is None:
            return
        question = (
            f"This step runs the lesson's experiment again ({describe_action(step)}): every "
            "run of it, from step 0. The experiment on screen stops."
        )
        if not dialogs.confirm(self.parent_widget, f"Try this {index + 1}", question, "Run it"):
            return
        try:
            plan = check_plan(scenario.experiment.plan(step.restart_config(base)))
        except TrainScopeError as error:
            self.status.show_message(str(error), error=True)
            return
        self.starter.open_experiment(plan, scenario, step.expect or None)
        self.status.show_message(f"try this {index + 1}: {describe_action(step)}")

    @Slot(str)
    def show_panel(self, dock_name: str) -> None:
        """A watch-for link: bring that panel forward (reopening it if it was closed)."""
        dock = self.docks.get(dock_name)
        if dock is not None:
            dock.show()
            dock.raise_()
