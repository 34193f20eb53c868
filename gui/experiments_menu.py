"""The Experiments menu: k-fold, seed spread, learning curve, bagging and a hyperparameter search
from the current run's config, each asked for its size, checked, then opened in an
``ExperimentWindow``.

Starting one pauses the window's own live run (the experiment needs the cores); a run of the
experiment clicked in its table is shown in the normal panels, and "Promote" makes a new live
run of its config, recorded and steered like any other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import QApplication, QInputDialog

from trainscope.engine import commands as cmd
from trainscope.engine.errors import TrainScopeError
from trainscope.engine.experiment_plan import (
    DEFAULT_FOLDS,
    DEFAULT_MEMBERS,
    DEFAULT_REPEAT,
    DEFAULT_TRAIN_FRACTIONS,
    DEFAULT_TRIALS,
    MAX_RUNS,
    SAMPLERS,
    check_plan,
    plan_experiment,
)
from trainscope.engine.experiment_runner import default_parallel
from trainscope.gui.experiment_window import ExperimentRunFeed, ExperimentWindow
from trainscope.gui.lr_find_window import LrFindWindow

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from trainscope.engine.expectations import Expectation
    from trainscope.engine.experiment_plan import ExperimentPlan
    from trainscope.engine.experiment_runner import SessionFactory
    from trainscope.engine.scenario import Scenario
    from trainscope.gui.main_window import MainWindow
    from trainscope.gui.menus import MenuBuilder
    from trainscope.gui.theme import Theme

ENTRIES = (
    ("kfold", "K-fold cross-validation…"),
    ("seeds", "Seed spread…"),
    ("learning-curve", "Learning curve…"),
    ("bagging", "Bagging ensemble…"),
    ("search", "Hyperparameter search…"),
)
DEFAULT_SPACE = "lr=log(1e-4,1e-1); dropout=0..0.5"
FIRST_EVENT_POLL_MS = 100


class ExperimentTools(QObject):
    """Opens experiments for ``window`` and links their runs to its panels."""

    def __init__(self, window: MainWindow, builder: MenuBuilder) -> None:
        super().__init__(window)
        self.window = window
        self.experiment: ExperimentWindow | None = None
        #: --ray: the experiments' runs go to this Ray cluster ("auto": a local instance).
        self.ray_address: str | None = None
        self._ray_cpus: int | None = None
        menu = window.menuBar().addMenu("E&xperiments")
        for kind, text in ENTRIES:
            builder.add(menu, f"experiment_{kind}", text, lambda _=False, k=kind: self.ask(k))
        menu.addSeparator()
        builder.add(menu, "experiment_lr_find", "Find the learning rate…", self.find_lr)
        self.lr_find: LrFindWindow | None = None

    def find_lr(self, _checked: bool = False) -> LrFindWindow | None:
        """The range test from the current run's config, beside it; the run goes on."""
        window, base = self.window, self.window.config
        if self.lr_find is not None:
            self.lr_find.close()
        try:
            self.lr_find = LrFindWindow(base, window.session_factory, window.theme, parent=window)
        except TrainScopeError as error:
            window.status.show_message(str(error), error=True)
            return None

        def fresh_run(lr: float) -> None:
            window.start_session(base.with_settings(lr=lr))
            window.status.show_message(
                f"a fresh run at lr {lr:.2g}, from the sweep's initial weights"
            )
            window.raise_()

        self.zoom_keys(self.lr_find)
        self.lr_find.apply_requested.connect(fresh_run)
        self.lr_find.resize(round(window.width() * 0.7), round(window.height() * 0.7))
        self.lr_find.show()
        return self.lr_find

    def ask(self, kind: str) -> ExperimentPlan | None:
        """Ask for the experiment's size, plan it on the current config, and open it."""
        sizes = self._ask_sizes(kind)
        if sizes is None:
            return None
        try:
            plan = check_plan(plan_experiment(kind, self.window.config, **sizes))
            self.open(plan)  # a search without Optuna installed is refused here, in a sentence
        except TrainScopeError as error:
            self.window.status.show_message(str(error), error=True)
            return None
        return plan

    def _ask_sizes(self, kind: str) -> dict | None:
        parent, title = self.window, dict(ENTRIES)[kind].rstrip("…")
        if kind == "search":
            return self._ask_search(title)
        if kind == "learning-curve":
            default = ",".join(f"{share:g}" for share in DEFAULT_TRAIN_FRACTIONS)
            text, ok = QInputDialog.getText(
                parent, title, "Shares of the training rows, separated by commas:", text=default
            )
            if not ok:
                return None
            try:
                return {"train_fractions": [float(part) for part in text.split(",") if part]}
            except ValueError:
                self.window.status.show_message(
                    f"the shares must be numbers separated by commas (got {text!r})", error=True
                )
                return None
        asked: dict[str, tuple[str, str, int]] = {
            "kfold": ("Folds:", "folds", DEFAULT_FOLDS),
            "seeds": ("Seeds (counting up from the run's):", "repeat", DEFAULT_REPEAT),
            "bagging": ("Ensemble members:", "members", DEFAULT_MEMBERS),
        }
        label, key, start = asked[kind]
        value, ok = QInputDialog.getInt(parent, title, label, start, 2, 32)
        return {key: value} if ok else None

    def _ask_search(self, title: str) -> dict | None:
        """The space (written as on the command line, one knob per ``;``), sampler and trials."""
        parent = self.window
        text, ok = QInputDialog.getText(
            parent,
            title,
            "Search space, one knob per ';' — log(LOW,HIGH), LOW..HIGH (,n=POINTS for a grid), "
            "[A,B,C]:",
            text=DEFAULT_SPACE,
        )
        if not ok:
            return None
        sampler, ok = QInputDialog.getItem(parent, title, "Sampler:", list(SAMPLERS), 0, False)
        if not ok:
            return None
        asked = {"space": [part for part in text.split(";") if part.strip()], "sampler": sampler}
        if sampler == "grid":  # every point of the grid
            return asked
        trials, ok = QInputDialog.getInt(parent, title, "Trials:", DEFAULT_TRIALS, 1, MAX_RUNS)
        return {**asked, "trials": trials} if ok else None

    def open(
        self,
        plan: ExperimentPlan,
        parallel: int | None = None,
        lesson: Scenario | None = None,
        show_first: bool = False,
        promises: tuple[Expectation, ...] | None = None,
    ) -> ExperimentWindow:
        """Start ``plan`` beside the window; the window's own live run is paused meanwhile.
        An experiment ``lesson``'s promise is judged in the view when its runs have ended;
        ``show_first`` shows the first run in the panels as soon as it has said anything."""
        window = self.window
        if self.experiment is not None:
            self.experiment.close()
        if window.session is not None and window.session.is_alive():
            window.send_command(cmd.Pause())
        library = window.recording.library
        runs_dir = None if library is None or library.runs_dir is None else str(library.runs_dir)
        recording = None
        if library is not None and library.record:
            from trainscope.engine.experiment_headless import ExperimentRecording

            recording = ExperimentRecording(plan, runs_dir)
        factory, default = window.session_factory, default_parallel(beside_window=True)
        if self.ray_address is not None:
            factory, default = self._ray_sessions()
        self.experiment = ExperimentWindow(
            plan,
            parallel or default,
            factory,
            window.theme,
            window.controls.pace_control.pace,
            recording,
            parent=window,
            runs_dir=runs_dir,
            lesson=lesson,
            promises=promises,
        )
        self.zoom_keys(self.experiment)
        self.experiment.show_run_requested.connect(self.show_run)
        self.experiment.promote_requested.connect(self.promote)
        self.experiment.resize(round(window.width() * 0.9), round(window.height() * 0.9))
        self.experiment.show()
        self.experiment.raise_()
        if show_first:
            ShowFirstRun(window, self.experiment)
        return self.experiment

    def _ray_sessions(self) -> tuple[SessionFactory, int]:
        """Ray's session factory and its CPUs, joining the cluster the first time (seconds)."""
        from trainscope.engine import ray_executor

        address = self.ray_address
        assert address is not None
        if self._ray_cpus is None:
            self.window.status.show_message(f"joining Ray at {address}…")
            QApplication.processEvents()  # say so before the wait, not after it
            try:
                self._ray_cpus = ray_executor.connect(address)
            except TrainScopeError as error:  # the experiment still runs, here, and says so
                self.ray_address = None
                self.window.status.show_message(
                    f"{error}; the experiment's runs train on this machine instead", error=True
                )
                return self.window.session_factory, default_parallel(beside_window=True)
        return ray_executor.session_factory(keep_checkpoints=address == "auto"), self._ray_cpus

    def show_run(self, index: int) -> None:
        """The run's whole history, then its live events, in the normal panels."""
        experiment = self.experiment
        if experiment is None:
            return
        planned = experiment.plan.runs[index]
        self.window.start_session(
            planned.config, session_factory=lambda _config: ExperimentRunFeed(experiment, index)
        )
        self.window.status.show_message(
            f"showing {experiment.plan.kind} run {planned.label}: its controls steer that run"
        )

    def promote(self, index: int) -> None:
        """A new live run (recorded, steered here) from one experiment run's config."""
        if self.experiment is None:
            return
        self.window.start_session(self.experiment.plan.runs[index].config)
        self.window.raise_()

    def apply_theme(self, theme: Theme) -> None:
        """The open experiment and range test follow the window's interface size."""
        for view in (self.experiment, self.lr_find):
            if view is not None:
                view.apply_theme(theme)

    def zoom_keys(self, view: QWidget) -> None:
        """Ctrl+= / Ctrl+- / Ctrl+0 also when ``view`` (a window of its own) has the focus."""
        for name in ("zoom_in", "zoom_out", "zoom_reset"):
            action = self.window.actions_by_name.get(name)
            if action is not None:
                view.addAction(action)

    def shutdown(self) -> None:
        if self.experiment is not None:
            self.experiment.shutdown()
        if self._ray_cpus is not None:
            from trainscope.engine import ray_executor

            ray_executor.shutdown()
        if self.lr_find is not None:
            self.lr_find.shutdown()


class ShowFirstRun(QObject):
    """The main panels show the experiment's first run as soon as it has said anything, so the
    window is never an empty frame (or another run's) beside the experiment."""

    def __init__(self, window: MainWindow, experiment: ExperimentWindow) -> None:
        super().__init__(window)
        self.window, self.experiment = window, experiment
        self.timer = QTimer(self)
        self.timer.setInterval(FIRST_EVENT_POLL_MS)
        self.timer.timeout.connect(self.poll)
        self.timer.start()

    @Slot()
    def poll(self) -> None:
        if self.window.experiments.experiment is not self.experiment:
            self.timer.stop()  # another experiment replaced it meanwhile
        elif self.experiment.run_events(0):
            self.timer.stop()
            self.window.experiments.show_run(0)
