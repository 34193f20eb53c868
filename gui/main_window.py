"""The main window: one session, one ``RunState``, a frame timer, and every panel in a dock.

The window owns the loop the architecture describes: a ``QTimer`` on the GUI thread drains the
session about 30 times a second, folds the events into the ``RunState`` (and its one ``RunFold``),
and asks each *visible* panel to redraw at most once. Training never waits for painting and a
slow panel never slows training; a panel that raises shows its own error and the rest go on.
The window sends commands and reads events — it never sees the model or the optimizer, and it
never imports torch (the worker process does).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import replace
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QCoreApplication, QEvent, QSettings, QSize, Qt, QTimer, Slot
from PySide6.QtWidgets import QApplication, QMainWindow, QToolBar

from trainscope.engine import commands as cmd
from trainscope.engine import events as ev
from trainscope.engine.config import RunConfig
from trainscope.engine.errors import TrainScopeError
from trainscope.engine.summary import RunSummary
from trainscope.engine.worker import ProcessSession
from trainscope.gui.app_icon import application_icon
from trainscope.gui.banner import ProblemBanner
from trainscope.gui.classroom import ClassroomLayout
from trainscope.gui.controls import ControlsPanel
from trainscope.gui.docks import VerticalScroller, make_dock
from trainscope.gui.experiments_menu import ExperimentTools
from trainscope.gui.insights_wiring import InsightsWiring
from trainscope.gui.keys import FocusedControlKeepsArrows, keep_arrows_in_editors
from trainscope.gui.lesson_controller import LessonController
from trainscope.gui.menus import MenuBuilder, build_menus
from trainscope.gui.panels.accuracy_panel import AccuracyPanel
from trainscope.gui.panels.base import EvaluationThrottle, RedrawSlots
from trainscope.gui.panels.boundary_panel import BoundaryPanel
from trainscope.gui.panels.confusion_panel import ConfusionPanel
from trainscope.gui.panels.hints_panel import HintsPanel
from trainscope.gui.panels.layer_health_panel import LayerHealthPanel
from trainscope.gui.panels.lesson_panel import LessonPanel
from trainscope.gui.panels.loss_panel import LossPanel
from trainscope.gui.panels.mistakes_panel import MistakesPanel
from trainscope.gui.panels.reliability_panel import ReliabilityPanel
from trainscope.gui.panels.threshold_panel import ThresholdPanel
from trainscope.gui.recording import RunLibrary, WindowRecording
from trainscope.gui.run_limits import RunLimits
from trainscope.gui.run_state import RunState
from trainscope.gui.runs_menu import RunTools
from trainscope.gui.setup_panel import SetupPanel
from trainscope.gui.status_line import StatusLine
from trainscope.gui.theme import Theme
from trainscope.gui.window_layout import DEFAULT_SIZE, WindowLayout
from trainscope.gui.window_settings import WindowSettings

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from PySide6.QtGui import QCloseEvent

    from trainscope.engine.expectations import Expectation
    from trainscope.engine.experiment_plan import ExperimentPlan
    from trainscope.engine.scenario import Scenario
    from trainscope.engine.session_protocol import Session
    from trainscope.gui.panels.base import Panel

log = logging.getLogger(__name__)

FRAME_INTERVAL_MS = 33  # ~30 Hz: smooth to the eye, and 60 Hz would cost training speed
HISTORY = 2000  # frames of cost / latency kept for the benchmark
STATUS_INTERVAL_S = 0.2  # the step count at 5 Hz reads fine; relabelling it at 30 Hz cost ~0.5 ms
STOP_WAIT_S = 3.0  # the most a close waits for the run's last events (a slow evaluation)
STOP_POLL_S = 0.005
ZOOM_STEP = 1.15
PANEL_TYPES: dict[str, type[Panel]] = {
    "lesson": LessonPanel,
    "hints": HintsPanel,
    "loss": LossPanel,
    "accuracy": AccuracyPanel,
    "confusion": ConfusionPanel,
    "calibration": ReliabilityPanel,
    "threshold": ThresholdPanel,
    "boundary": BoundaryPanel,  # the three insight panels share one tabbed dock (gui.docks)
    "mistakes": MistakesPanel,
    "layer_health": LayerHealthPanel,
}


def fresh_state_after(old: RunState) -> RunState:
    """An empty ``RunState`` for a new session whose version counters all move past the old ones.

    Panels redraw when a counter differs from the one they last drew; starting the new state's
    counters at the old values + 1 makes sure no panel mistakes the new run for one it drew.
    """
    new = RunState()
    for name in vars(old):
        if name.endswith("_version"):
            setattr(new, name, getattr(old, name) + 1)
    new.threshold, new.cost_fp, new.cost_fn = old.threshold, old.cost_fp, old.cost_fn
    return new


class MainWindow(QMainWindow):
    """TrainScope's window; ``start_session(config)`` begins a run (the app calls it after the first paint)."""

    def __init__(
        self,
        config: RunConfig | None = None,
        session_factory: Callable[[RunConfig], Session] = ProcessSession,
        settings: QSettings | None = None,
        runs: RunLibrary | None = None,
        size: tuple[int, int] | None = None,
    ) -> None:
        """``size``: the window's size in pixels (``--size``; the app passes the screen's)."""
        super().__init__()
        self.setWindowTitle("TrainScope")
        self.setWindowIcon(application_icon())
        self.recording = WindowRecording(runs)  # None: live runs are not recorded
        self.config = config or RunConfig()
        self.session_factory = session_factory
        self.session: Session | None = None
        self.state = RunState()
        self.window_settings = WindowSettings(settings if settings is not None else QSettings())
        self.theme = Theme.for_scale(self.window_settings.scale(), self.window_settings.classroom())
        self._remembered_classroom = self.theme.classroom  # --present does not change it
        self._awaiting_new_run = False
        self._last_error: str | None = None
        self._status_drawn: tuple[int, int] | None = None
        self._status_drawn_at = 0.0
        self._frame_costs: deque[float] = deque(maxlen=HISTORY)
        self._latencies: deque[float] = deque(maxlen=HISTORY)
        self.setFont(self.theme.font())
        self._build_panels()
        self._build_banner()
        self.status = StatusLine(self.statusBar(), self.theme)
        self._follow_pace(self.config.pace)
        for key, value in self.config.settings.items():  # the run's values before it starts,
            self.controls.show_setting(key, value)  # not the widgets' own defaults ("sgd", 1)
        self.lessons = LessonController(
            cast("LessonPanel", self.panels["lesson"]),  # PANEL_TYPES makes it one
            parent=self,
            run=self,
            starter=self,
            commands=self,
            decisions=self,
            status=self.status,
            theme=self,
            pace=self.controls.pace_control,
            docks=self.docks,
        )
        self.actions_by_name = build_menus(
            self, self, self.controls, self.docks, self.lessons, self.theme.classroom
        )
        self.runs = RunTools(  # replay, run browser, Runs and Export menus
            self,
            runs,
            run=self,
            starter=self,
            status=self.status,
            theme=self,
            docks=self.docks,
            recording=self.recording,
        )
        self.actions_by_name.update(self.runs.actions)
        experiment_menu = MenuBuilder(self)
        self.experiments = ExperimentTools(self, experiment_menu)  # the Experiments menu
        self.actions_by_name.update(experiment_menu.actions)
        self.limits = RunLimits(
            self.actions_by_name,
            {"new_run": (self.setup.apply_button, self.banner.restart_button)},
            self.lessons.list_menu,
        )
        self._key_filter = FocusedControlKeepsArrows(self)
        keep_arrows_in_editors(self, self._key_filter)
        self.resize(*(size or DEFAULT_SIZE))
        self.layout_keeper = WindowLayout(self, self.docks, self.window_settings)
        self.layout_keeper.arrange_default(self.theme.scale)
        self._layout_was_restored = self.layout_keeper.restore_saved()
        if size is not None and self._layout_was_restored and self.size() != QSize(*size):
            self.resize(*size)  # --size wins over the remembered size, in the default layout
            self.layout_keeper.arrange_default()
            self._layout_was_restored = False
        self.banner_bar.hide()  # a saved layout must not bring back an old problem
        self.classroom = ClassroomLayout(self, self.docks)
        self.layout_keeper.held = lambda: self.classroom.active
        self.lessons.lesson_changed.connect(self.classroom.follow_lesson)
        self.classroom.follow(self.theme.classroom, self.lessons.scenario)
        self.insight_wiring = InsightsWiring(  # SetInsights, the insight tabs, previews
            self,
            run=self,
            panels=self.panels,
            docks=self.docks,
            status=self.status,
            layout=self.layout_keeper,
            classroom=self.classroom,
            layout_was_restored=self._layout_was_restored,
        )
        self.setup.data_preview_requested.connect(self.insight_wiring.preview_data)
        self.frame_timer = QTimer(self)
        self.frame_timer.setInterval(FRAME_INTERVAL_MS)
        self.frame_timer.timeout.connect(self.frame)

    # --- building ------------------------------------------------------------------------
    def _build_panels(self) -> None:
        self.panels: dict[str, Panel] = {
            name: panel_type(self.theme) for name, panel_type in PANEL_TYPES.items()
        }
        self.controls = ControlsPanel(self.theme)
        self.setup = SetupPanel(self.theme, self.config)
        self.docks = {
            "controls": make_dock(self, "controls", "Controls", VerticalScroller(self.controls)),
            "setup": make_dock(self, "setup", "Setup", VerticalScroller(self.setup)),
        }
        for name, panel in self.panels.items():
            self.docks[name] = make_dock(self, name, panel.title, panel)
        # Held-back evaluation redraws take turns, one a frame (see RedrawSlots).
        self.redraw_slots = RedrawSlots()
        for panel in self.panels.values():
            throttle = getattr(panel, "throttle", None)
            if isinstance(throttle, EvaluationThrottle):
                throttle.slots = self.redraw_slots
        self.controls.command_requested.connect(self.send_command)
        self.setup.apply_requested.connect(self.start_session)
        threshold = self.panels["threshold"]
        threshold.threshold_changed.connect(self._on_threshold_changed)
        threshold.costs_changed.connect(self._on_costs_changed)
        threshold.positive_class_changed.connect(self._on_positive_class_changed)

    def _build_banner(self) -> None:
        """A toolbar row above every dock: full width, and hidden while all is well."""
        self.banner = ProblemBanner(self.theme)
        self.banner.restart_requested.connect(self.restart_session)
        self.banner_bar = QToolBar("Problem")
        self.banner_bar.setObjectName("problemBar")
        self.banner_bar.setMovable(False)
        self.banner_bar.setFloatable(False)
        self.banner_bar.toggleViewAction().setVisible(False)
        self.banner_bar.addWidget(self.banner)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.banner_bar)

    # --- the session ---------------------------------------------------------------------
    def open_experiment(
        self,
        plan: ExperimentPlan,
        lesson: Scenario | None = None,
        promises: tuple[Expectation, ...] | None = None,
    ) -> None:
        """An experiment lesson's runs in the Experiments view, its first run in the panels."""
        self.experiments.open(plan, lesson=lesson, show_first=True, promises=promises)

    @Slot(object)
    def start_session(
        self,
        config: RunConfig | None = None,
        *,
        session_factory: Callable[[RunConfig], Session] | None = None,
        start_from: str | Path | None = None,
        forked_from: dict | None = None,
    ) -> None:
        """Close any current session and start a new one; panels keep the old run until RunStarted.

        A live run is recorded (a fork from ``start_from``, noted as ``forked_from``); a
        ``session_factory`` given here (a replay) replaces the live session and is not recorded.
        """
        # The pace is the window's, not the run's: every run it starts goes at the chosen pace.
        config = replace(config or self.config, pace=self.controls.pace_control.pace)
        self.shutdown_session()
        problem = None if session_factory else self.recording.begin(config, forked_from)
        extras = {"checkpoint_dir": self.recording.checkpoint_dir, "start_from": start_from}
        try:
            if session_factory is not None:
                session = session_factory(config)
            else:
                passed = {key: value for key, value in extras.items() if value is not None}
                session = self.session_factory(config, **passed)
        except TrainScopeError as error:
            self.recording.finish()
            self.status.show_message(str(error), error=True)
            return
        self.config, self.session = config, session
        self._awaiting_new_run, self._last_error = True, None
        # The old run stays on screen until the new one announces itself, but it is not going
        # on: say so at once instead of a frozen "running".
        self.state.state = "starting"
        self.state.status_version += 1
        self.banner_bar.hide()
        self.controls.new_session()
        self.limits.apply({})  # the new run says itself what it cannot take
        self.setup.show_config(config)
        session.start()
        self.status.show_message(problem or "starting the training process…", error=bool(problem))
        if not self.frame_timer.isActive():
            self.frame_timer.start()

    @Slot()
    def restart_session(self) -> None:
        self.start_session(self.config)

    @property
    def awaiting_new_run(self) -> bool:
        """A session was started and has not announced its run yet (its old run is on screen).

        Read-only for the helpers (``gui.window_api.RunReader``): only the window starts runs.
        """
        return self._awaiting_new_run

    def shutdown_session(self) -> None:
        """Stop the run and wait (briefly) for its last events, so --json sees the whole run.

        A session that has not announced its run yet (the worker still importing torch) has
        nothing to keep: it is not waited for, so closing the window early is as quick as late.
        """
        session, self.session = self.session, None
        if session is None:
            return
        session.send(cmd.Stop())
        announced = not self._awaiting_new_run
        deadline = time.monotonic() + STOP_WAIT_S
        while session.is_alive() and time.monotonic() < deadline:
            events = self._recorded(session.drain())
            self.state.apply(events)
            announced = announced or any(isinstance(event, ev.RunStarted) for event in events)
            if not announced:
                break
            time.sleep(STOP_POLL_S)
        self.state.apply(self._recorded(session.drain()))
        session.close()
        problem = self.recording.finish()
        if problem:
            self.status.show_message(problem, error=True)

    def _recorded(self, drained: Sequence[ev.Event]) -> list[ev.Event]:
        """Hand events to the run's recorder (a list append); a broken store costs only that."""
        events = list(drained)
        problem = self.recording.record(events) if events else None
        if problem:
            self.status.show_message(problem, error=True)
        return events

    @property
    def summary(self) -> RunSummary:
        """The run's final JSON (``--json``), read from the fold the run state keeps."""
        return RunSummary(self.state.fold)

    def _follow_pace(self, pace: float | None) -> None:
        """Show the pace in the controls and the status bar, and keep the status bar following."""
        pace_control = self.controls.pace_control
        pace_control.show_pace(pace)
        self.status.show_pace(pace)
        pace_control.pace_chosen.connect(self.status.show_pace)

    @Slot(object)
    def send_command(self, command: cmd.Command) -> None:
        if self.session is None or not self.session.is_alive():
            self.status.show_message(
                "the training process is not running — press Restart to train again", error=True
            )
            return
        self.session.send(command)

    # --- the frame -----------------------------------------------------------------------
    @Slot()
    def frame(self) -> None:
        """Drain, fold, redraw what is visible, update the status bar; timed for the benchmark."""
        started = time.perf_counter()
        events = self._recorded(self.session.drain()) if self.session is not None else []
        if events:
            self._take_events(events)
        self._check_session_health()
        drawn = self._refresh_visible_panels()
        self.insight_wiring.after_frame()
        published_at = _newest_publish_time(events)
        if published_at and self.panels["loss"] in drawn:
            self._latencies.append((time.time() - published_at) * 1000.0)
        status_key = (id(self.state), self.state.status_version)
        status_due = started - self._status_drawn_at >= STATUS_INTERVAL_S  # held back: next frames
        if status_key != self._status_drawn and status_due:
            self._status_drawn, self._status_drawn_at = status_key, started
            self.status.show_run(self.state)
        self._frame_costs.append((time.perf_counter() - started) * 1000.0)

    def _take_events(self, events: list[ev.Event]) -> None:
        if self._awaiting_new_run and any(isinstance(event, ev.RunStarted) for event in events):
            self.state = fresh_state_after(self.state)
            self._awaiting_new_run = False
        self.state.apply(events)
        self.controls.follow(events, self.state.state)
        self.lessons.follow(events, self.state.fold)
        for event in events:
            if isinstance(event, ev.RunStarted):
                self._show_run_title(event)
            elif isinstance(event, ev.ControlsLimited):
                self.limits.apply(event.reasons)
            elif isinstance(event, ev.Hint):
                self.status.show_message(f"hint at step {event.step:,}: {event.title} — see Hints")
            elif isinstance(event, ev.Error):
                self._last_error = event.message
                if event.detail:
                    log.error("training failed: %s\n%s", event.message, event.detail)

    def _check_session_health(self) -> None:
        """An error from a session that is no longer alive means the run is gone: say so on top."""
        if self._last_error is None or self.session is None or self.session.is_alive():
            return
        if not self.banner_bar.isVisible():
            self.banner.show_problem(self._last_error)
            self.limits.apply(self.limits.reasons)  # Restart stays greyed where it cannot work
            self.banner_bar.show()

    def _refresh_visible_panels(self) -> list[Panel]:
        """Hidden, closed and tabbed-away panels cost nothing; they catch up when shown."""
        if self.isMinimized():
            return []
        self.redraw_slots.next_frame()
        # isVisible() stays true for a dock tabbed behind another; an empty visible region does not.
        drawn = [
            panel
            for panel in self.panels.values()
            if panel.isVisible() and not panel.visibleRegion().isEmpty()
        ]
        for panel in drawn:
            panel.safe_refresh(self.state)
        return drawn

    def _show_run_title(self, run: ev.RunStarted) -> None:
        self.setWindowTitle(
            f"TrainScope — {run.dataset} · {run.model_description} · "
            f"{run.parameter_count:,} parameters"
        )
        if run.own_loop:  # trainscope.watch: the loop's training rows are not known here
            self.status.show_message(f"watching {run.dataset}")
        else:
            self.status.show_message(
                f"training on {run.dataset} ({run.n_train:,} training examples)"
            )

    def frame_costs_ms(self) -> list[float]:
        """Wall time of each recent ``frame()`` (drain + fold + redraw), in milliseconds."""
        return list(self._frame_costs)

    def latencies_ms(self) -> list[float]:
        """Publish-to-redraw delay of the newest step metrics drawn in each frame, in milliseconds."""
        return list(self._latencies)

    # --- threshold: answered at once from cached probabilities ----------------------------
    @Slot(float)
    def _on_threshold_changed(self, threshold: float) -> None:
        self.state.set_threshold(threshold)
        self._refresh_now("confusion", "threshold", "boundary")

    @Slot(float, float)
    def _on_costs_changed(self, cost_fp: float, cost_fn: float) -> None:
        try:
            self.state.set_costs(cost_fp, cost_fn)
        except ValueError as error:
            self.status.show_message(str(error), error=True)
            return
        self._refresh_now("threshold")

    @Slot(int)
    def _on_positive_class_changed(self, index: int) -> None:
        """Only the one-vs-rest view and the confusion matrix's outline follow the pick."""
        self.state.set_positive_class(index)
        self._refresh_now("confusion", "threshold")

    def set_decision(self, threshold: float, costs: tuple[float, float] | None = None) -> None:
        """A lesson's threshold (and costs): set in the ``RunState``, drawn at the next frame.

        The window is the one that changes its state; a helper asks (``DecisionSetter``).
        """
        self.state.set_threshold(threshold)
        if costs is not None:
            self.state.set_costs(*costs)

    def _refresh_now(self, *names: str) -> None:
        for name in names:
            panel = self.panels[name]
            if panel.isVisible():
                panel.safe_refresh(self.state)

    # --- keyboard and view ---------------------------------------------------------------
    @Slot()
    def double_lr(self) -> None:
        self.controls.scale_lr(2.0)

    @Slot()
    def halve_lr(self) -> None:
        self.controls.scale_lr(0.5)

    @Slot()
    def zoom_in(self) -> None:
        self.set_interface_scale(self.theme.scale * ZOOM_STEP)

    @Slot()
    def zoom_out(self) -> None:
        self.set_interface_scale(self.theme.scale / ZOOM_STEP)

    @Slot()
    def zoom_reset(self) -> None:
        self.set_interface_scale(1.0)

    @Slot(bool)
    def set_classroom(self, classroom: bool) -> None:
        """Projector mode: the classroom theme and a layout of the lesson and its panels."""
        self.set_interface_scale(self.theme.scale, classroom)
        state = "on — F11 or Ctrl+P to leave" if classroom else "off"
        self.status.show_message(f"classroom mode {state}")

    def present(self) -> None:
        """``--present``: classroom mode for this launch, without changing the remembered choice."""
        self.set_interface_scale(self.theme.scale, True, remember=False)

    def set_interface_scale(
        self, scale: float, classroom: bool | None = None, remember: bool = True
    ) -> None:
        """Rebuild the theme, restyle everything, and remember it for the next launch."""
        classroom = self.theme.classroom if classroom is None else classroom
        theme = Theme.for_scale(scale, classroom)
        if remember:
            self._remembered_classroom = theme.classroom
        if theme != self.theme:
            # A zoom re-lays the window out; classroom mode has a layout of its own.
            zoom_only = not theme.classroom and not self.theme.classroom
            if zoom_only:
                self.layout_keeper.before_rescale(self.theme.scale)
            self.apply_theme(theme)
            if zoom_only:
                self.layout_keeper.after_rescale(theme.scale)
            self.classroom.follow(theme.classroom, self.lessons.scenario)
            self.window_settings.save_interface(theme.scale, self._remembered_classroom)
        self.status.show_message(f"interface size {theme.scale:.0%}")

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.setFont(theme.font())
        for panel in self.panels.values():
            try:
                panel.apply_theme(theme)
            except Exception:  # a restyling bug must not take the window down
                log.exception("panel %r could not apply the theme", panel.title)
        for part in (self.controls, self.setup, self.banner, self.status):
            part.apply_theme(theme)
        for dock_name in ("controls", "setup"):
            self.docks[dock_name].widget().updateGeometry()  # the column's width follows its font
        self.experiments.apply_theme(theme)
        self.actions_by_name["classroom"].setChecked(theme.classroom)

    @Slot()
    def restore_default_layout(self) -> None:
        """The default grid; in classroom mode, the classroom arrangement of the open lesson."""
        if self.classroom.active:
            self.classroom.arrange(self.lessons.scenario)
            return
        self.layout_keeper.arrange_default()
        self.insight_wiring.raise_tab()

    @Slot()
    def leave_field(self) -> None:
        """Esc: take the focus off a field or slider so the arrow keys drive the run again."""
        focused = QApplication.focusWidget()
        if focused is not None:
            focused.clearFocus()

    # --- closing -------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        """The worker must be gone when the window is; the layout is remembered."""
        self.frame_timer.stop()
        self.experiments.shutdown()
        self.shutdown_session()
        self.window_settings.save_window(self, self.classroom.normal_state())
        self.window_settings.save_interface(self.theme.scale, self._remembered_classroom)
        super().closeEvent(event)
        # Settle pending plot layouts now: if the window is destroyed right after closing, a
        # pending re-layout would make pyqtgraph's anchored legends read their deleted ViewBox.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)


def _newest_publish_time(events: Sequence[ev.Event]) -> float | None:
    for event in reversed(events):
        if isinstance(event, ev.StepMetrics) and event.published_at > 0:
            return event.published_at
    return None
