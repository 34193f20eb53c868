"""Start the window: show it first, start the worker right after the first paint.

Start-up order is the whole point of this module (PERF-NOTES: 0.67 s to first paint when the
window comes before torch, 3.2 s when it comes after). This process never imports torch; the
worker process that ``MainWindow.start_session`` spawns does, while the student already looks
at the window. ``--quit-after``, ``--screenshot`` and ``--json`` make the window scriptable for
tests, benchmarks and documentation images. ``--scenario`` opens the window on that lesson (its
story in the lesson panel) and ``--present`` in classroom mode, both before the first paint.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QObject, QSettings, QTimer, Slot
from PySide6.QtGui import QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication, QDialog

from trainscope.engine.worker import ProcessSession
from trainscope.gui.app_icon import application_icon
from trainscope.gui.gui_thread_gc import GuiThreadCollector
from trainscope.gui.main_window import MainWindow
from trainscope.gui.platform_check import window_problem
from trainscope.gui.recording import RunLibrary
from trainscope.gui.window_layout import size_for_screen

if TYPE_CHECKING:
    from collections.abc import Callable

    from trainscope.engine.config import RunConfig
    from trainscope.engine.experiment_plan import ExperimentPlan
    from trainscope.engine.session_protocol import Session
    from trainscope.engine.worker import WarmWorker
    from trainscope.gui.window_options import WindowOptions

log = logging.getLogger(__name__)

SIGNAL_POLL_MS = 200  # lets Python notice Ctrl+C while Qt's loop runs in C++
FIRST_STEP_POLL_MS = 100  # --quit-after: how often to look again for a run's first step


class ScriptedEnd(QObject):
    """``--quit-after``: draw a last frame, save the screenshot, then close like a user would.

    It never ends before the run's first step is on screen (unless the run failed or there is
    none): on a busy machine the worker may need longer than the delay just to import torch,
    and a screenshot or summary of a run that never started would show nothing true.
    """

    def __init__(self, app: QApplication, window: MainWindow, screenshot: str | None) -> None:
        super().__init__(window)
        self.app = app
        self.window = window
        self.screenshot = screenshot
        self.retry = QTimer(self)
        self.retry.setInterval(FIRST_STEP_POLL_MS)
        self.retry.timeout.connect(self.finish)

    def _run_still_starting(self) -> bool:
        session = self.window.session
        starting = self.window.state.step == 0 and self.window.state.state != "error"
        return starting and session is not None and session.is_alive()

    @Slot()
    def finish(self) -> None:
        if self._run_still_starting():
            self.retry.start()
            return
        self.retry.stop()
        if self.screenshot:
            self.save_screenshot(self.screenshot)
        self.window.close()
        self.app.quit()

    def save_screenshot(self, path: str) -> None:
        self.window.frame()  # the newest events, drawn
        self.app.processEvents()  # layouts settle, labels resize
        if not window_with_dialogs(self.window).save(path, "PNG"):
            log.error("could not save the screenshot to %s", path)


def window_with_dialogs(window: MainWindow) -> QPixmap:
    """The window as a person sees it: its own picture, with its open dialogs drawn on top.

    ``grab()`` renders one widget; a dialog (the run browser, say) is a window of its own, so
    each visible one is rendered and painted where it sits over the main window, outlined as
    its window frame would outline it.
    """
    picture = window.grab()
    painter = QPainter(picture)
    painter.setPen(window.palette().color(QPalette.ColorRole.Shadow))
    origin = window.geometry().topLeft()
    for dialog in window.findChildren(QDialog):
        if dialog.isVisible() and dialog.isWindow():
            where = dialog.geometry().translated(-origin)
            painter.drawPixmap(where.topLeft(), dialog.grab())
            painter.drawRect(where.adjusted(-1, -1, 0, 0))
    painter.end()
    return picture


class SessionStarter(QObject):
    """Starts the run once the event loop has painted the window (a queued zero-delay call).

    With ``--replay`` the student asked to look at a recorded run, not to train: if it cannot
    be opened (unknown id, damaged store) the dialog says why and the window stays idle, rather
    than training and recording a default run nobody asked for.
    """

    def __init__(
        self,
        window: MainWindow,
        config: RunConfig,
        replay: int | None = None,
        experiment: ExperimentPlan | None = None,
        parallel: int | None = None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.config = config
        self.replay = replay  # --replay RUN_ID: show a recorded run instead of training
        self.experiment, self.parallel = experiment, parallel  # --experiment: its runs instead
        self.lr_find = False  # --experiment lr-find: the range test beside the run

    @Slot()
    def start(self) -> None:
        if self.experiment is not None:
            lesson = self.window.lessons.scenario  # --scenario of an experiment lesson
            self.window.experiments.open(self.experiment, self.parallel, lesson, show_first=True)
        elif self.replay is None:
            self.window.start_session(self.config)
            if self.lr_find:
                self.window.experiments.find_lr()
        elif not self.window.runs.replays.open(self.replay):
            self.window.status.show_message(
                f"run {self.replay} could not be replayed, so nothing is running; "
                "open a run from the Runs menu or start one from Setup",
                error=True,
            )


class StartupTiming(QObject):
    """``--timing``: when the first training step reaches the window, print the wall-clock times
    at which the window was first painted and the step drawn (the benchmark subtracts launch)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.window_shown: float | None = None
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.poll)
        self.timer.start(10)

    @Slot()
    def poll(self) -> None:
        if self.window_shown is None:
            self.window_shown = time.time()  # the first timer tick comes after the first paint
        elif self.window.state.step > 0:
            self.timer.stop()
            timing = {"window_shown": self.window_shown, "first_step": time.time()}
            print(json.dumps(timing), file=sys.stderr, flush=True)


class InterruptWatcher(QObject):
    """Ctrl+C in the terminal closes the window cleanly instead of leaving a worker behind."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.tick)  # wakes the interpreter so the handler can run
        self.timer.start(SIGNAL_POLL_MS)
        signal.signal(signal.SIGINT, self.on_interrupt)

    @Slot()
    def tick(self) -> None:
        """Nothing to do: returning to Python is what lets a pending SIGINT be handled."""

    def on_interrupt(self, _signum: int, _frame: object) -> None:
        self.window.close()


def run_library(options: WindowOptions) -> RunLibrary:
    """Where the window records its runs (``--runs-dir``), unless ``--no-record``."""
    return RunLibrary(options.runs_dir, record=options.record, name=options.run_name)


def run_window(
    config: RunConfig,
    options: WindowOptions,
    warm: WarmWorker | None = None,
    sessions: Callable[..., Session] | None = None,
) -> int:
    """Open the window on ``config``; return the process exit code (2: no window can open here).

    ``warm``, a worker started before this module was imported, trains the first run.
    ``sessions`` replaces the worker processes (``gui.attached``: a student's own run).
    """
    logging.basicConfig(level=logging.WARNING, format="trainscope: %(levelname)s: %(message)s")
    problem = None if QApplication.instance() else window_problem()
    if problem:  # Qt would abort the process with its own, misleading message
        print(f"trainscope: error: {problem}", file=sys.stderr)
        return 2
    # This process only ever makes a QApplication (instance() is typed as its base class).
    app = cast("QApplication | None", QApplication.instance()) or QApplication(sys.argv[:1])
    app.setApplicationName("TrainScope")
    app.setOrganizationName("TrainScope")
    app.setWindowIcon(application_icon())  # the taskbar and window switcher show TrainScope
    app.setDesktopFileName("trainscope")  # matches --install-desktop-entry's menu entry
    collector = GuiThreadCollector(app)  # cyclic garbage is freed on this thread only
    try:
        return _open(app, config, options, sessions or partial(ProcessSession, warm=warm))
    finally:
        collector.stop()


def _open(
    app: QApplication,
    config: RunConfig,
    options: WindowOptions,
    sessions: Callable[..., Session],
) -> int:
    size = options.size or size_for_screen()
    runs = run_library(options)
    if options.quit_after is None:
        window = MainWindow(config, runs=runs, size=size, session_factory=sessions)
        return _run(app, window, config, options)
    with tempfile.TemporaryDirectory(prefix="trainscope-") as scratch:
        # A scripted run (tests, benchmarks, documentation images) starts from the default
        # layout and size every time, and never rewrites the user's remembered settings.
        settings = QSettings(str(Path(scratch) / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(
            config, settings=settings, runs=runs, size=size, session_factory=sessions
        )
        return _run(app, window, config, options)


def prepare_window(window: MainWindow, config: RunConfig, options: WindowOptions) -> None:
    """Before the first paint: the lesson of ``--scenario`` (run with ``config``), ``--present``,
    and ``--browse``'s run browser (opened just after)."""
    if options.scenario is not None:
        window.lessons.show_lesson(options.scenario, config)
    if options.ray is not None:
        window.experiments.ray_address = options.ray  # joined when the first experiment opens
    if options.present:
        window.present()
    if options.browse:
        QTimer.singleShot(0, window.runs.open_browser)  # once the window is on screen


def _run(app: QApplication, window: MainWindow, config: RunConfig, options: WindowOptions) -> int:
    prepare_window(window, config, options)
    window.show()
    starter = SessionStarter(window, config, options.replay, options.experiment, options.parallel)
    starter.lr_find = options.lr_find
    QTimer.singleShot(0, starter.start)
    InterruptWatcher(window)
    if options.timing:
        StartupTiming(window)
    if options.quit_after is not None:
        ending = ScriptedEnd(app, window, options.screenshot)
        QTimer.singleShot(max(0, round(options.quit_after * 1000)), ending.finish)
    app.exec()
    if options.print_summary:
        print(json.dumps(window.summary.to_dict()), flush=True)
    return 0
