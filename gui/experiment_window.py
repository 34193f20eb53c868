"""The Experiments view: many runs of one config, live, side by side.

A non-modal window beside the main one. It owns the ``ExperimentRunner`` (each run a worker
process, ``cores - 1`` at a time beside the window) and, on a timer, polls it: each run's
validation curve is drawn faded with the mean ± 1 std band over them, a sortable table lists
every run, and a summary line gives the mean ± std and the 95% interval. Clicking a run shows
it in the main window's normal panels (``ExperimentRunFeed``), where it can be steered like any
run; "Promote" starts a new live run from its config. Torch-free, like the whole window process.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal, SignalInstance, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from trainscope.engine import commands as cmd
from trainscope.engine import experiment_report as report
from trainscope.engine.errors import TrainScopeError
from trainscope.engine.experiment_expectations import check_experiment
from trainscope.engine.experiment_headless import runner_result
from trainscope.engine.experiment_runner import ENDED
from trainscope.engine.lr_finder import LrSweep
from trainscope.engine.search_runner import runner_for
from trainscope.gui.experiment_exports import ExperimentExports
from trainscope.gui.experiment_plot import METRICS, ExperimentPlot
from trainscope.gui.pace_control import PaceControl
from trainscope.gui.search_scatter import SearchScatter

if TYPE_CHECKING:
    from collections.abc import Mapping

    from PySide6.QtGui import QCloseEvent, QShowEvent

    from trainscope.engine import events as ev
    from trainscope.engine.expectations import Expectation, Outcome
    from trainscope.engine.experiment_headless import ExperimentRecording
    from trainscope.engine.experiment_plan import ExperimentPlan
    from trainscope.engine.experiment_runner import RunProgress, SessionFactory
    from trainscope.engine.scenario import Scenario
    from trainscope.gui.theme import Theme

POLL_MS = 100  # the runs' events are taken ten times a second
SHOWN_ROWS = 8  # the table is given room for this many runs; more scroll
MIN_CHART_SHARE = 0.45  # of the height the chart and the table share
REDRAW_S = 0.25  # the chart and the table are redrawn at most four times a second
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
COLUMNS = ("run", "value", "status", "steps", "best val acc", "val acc", "val loss", "time (s)")


def _values_text(params: Mapping[str, object]) -> str:
    """A trial's values as a person reads them: lr=0.0123, hidden=64."""
    return ", ".join(
        f"{name}={value:.3g}" if isinstance(value, float) else f"{name}={value}"
        for name, value in params.items()
    )


class _Cell(QTableWidgetItem):
    """A table cell that sorts by its number (when it has one), not by its text: "fold 10"
    after "fold 9", and a run not evaluated yet (no number) first."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(SORT_ROLE), other.data(SORT_ROLE)
        if mine is None or theirs is None:
            return (mine is None and theirs is not None) or (
                mine is None and theirs is None and self.text() < other.text()
            )
        return bool(mine < theirs)


class ExperimentWindow(QDialog):
    """One experiment's runs: chart, table, summary, and the buttons that steer them."""

    show_run_requested = Signal(int)  # run index: show it in the main window's panels
    promote_requested = Signal(int)  # run index: a new live run from its config

    def __init__(
        self,
        plan: ExperimentPlan,
        parallel: int,
        session_factory: SessionFactory,
        theme: Theme,
        pace: float | None,
        recording: ExperimentRecording | None = None,
        parent: QWidget | None = None,
        runs_dir: str | None = None,
        lesson: Scenario | None = None,
        promises: tuple[Expectation, ...] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Experiment: {plan.kind} on {plan.base.dataset.name}")
        self.setModal(False)
        self.plan = plan
        self.theme = theme
        self.runner = runner_for(plan, parallel, session_factory, recording, runs_dir)
        self._uid = recording.uid if recording is not None else None
        self._runs_dir = runs_dir
        self.runner.set_pace(pace)
        self.events: list[list[ev.Event]] = [[] for _ in plan.runs]  # a search's grow
        self.selected: int | None = None
        self.baselines: list[dict] | None = None
        self._baseline_future: Future | None = None
        self._last_drawn = 0.0
        self._stale = True  # something arrived or changed since the last redraw
        self._statuses: list[str] = []
        self.lesson = lesson if lesson is not None and lesson.experiment is not None else None
        #: What this experiment is to show: the lesson's promise, or a try's (run again changed).
        self.promises = promises if promises is not None else lesson.expect if lesson else ()
        self.lesson_outcomes: list[Outcome] | None = None
        self.sweep: LrSweep | None = None  # the range test a lesson sets against its grid
        self._build(pace)
        if self.lesson is not None:
            self._start_lesson(self.lesson, session_factory)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        self.timer.start()

    # ----- building ---------------------------------------------------------------------------
    def _build(self, pace: float | None) -> None:
        self.setFont(self.theme.font())
        self.plot = ExperimentPlot(self.theme)
        self.exports = ExperimentExports(self, self._uid, self._runs_dir)
        self.table = QTableWidget(len(self.plan.runs), len(COLUMNS))
        headers = list(COLUMNS)
        headers[1] = "values" if self.plan.search is not None else self.plan.axis_title
        self.table.setHorizontalHeaderLabels(headers)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.table.cellDoubleClicked.connect(lambda row, _column: self._show_row(row))
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.metric_choice = QComboBox()
        for key, title in METRICS.items():
            self.metric_choice.addItem(title, key)
        self.metric_choice.currentIndexChanged.connect(self._on_metric)
        self.pace = PaceControl(pace)
        self.pace.pace_chosen.connect(self.runner.set_pace)
        self.buttons = {
            "pause": QPushButton("Pause all"),
            "stop": QPushButton("Stop all"),
            "stop_run": QPushButton("Stop run"),
            "show": QPushButton("Show in panels"),
            "promote": QPushButton("Promote to a live run"),
            "baselines": QPushButton("Fit baselines"),
            "export": QPushButton("Export"),
        }
        self.buttons["pause"].clicked.connect(self.toggle_pause_all)
        self.buttons["stop"].clicked.connect(self.stop_all)
        self.buttons["stop_run"].clicked.connect(self._stop_selected)
        self.buttons["show"].clicked.connect(lambda: self._emit_selected(self.show_run_requested))
        self.buttons["promote"].clicked.connect(lambda: self._emit_selected(self.promote_requested))
        self.buttons["baselines"].clicked.connect(self.fit_baselines)
        self.buttons["export"].setMenu(self.exports.menu)
        self.buttons["export"].setToolTip(
            "The table as CSV, or the recorded runs for TensorBoard or into MLflow"
        )
        self.buttons["baselines"].setToolTip(
            "Logistic regression, a random forest and gradient boosting (scikit-learn), fitted on "
            "the same split in a separate process; drawn as dashed lines on the chart"
        )
        self.buttons["promote"].setToolTip(
            "Start a new live run, steered in the main window, from this run's settings and data"
        )
        top = QHBoxLayout()
        top.addWidget(QLabel("chart:"))
        top.addWidget(self.metric_choice)
        top.addWidget(self.pace, 1)
        for name in ("pause", "stop", "baselines", "export"):
            top.addWidget(self.buttons[name])
        run_row = QHBoxLayout()
        run_row.addWidget(QLabel("selected run:"))
        for name in ("show", "promote", "stop_run"):
            run_row.addWidget(self.buttons[name])
        run_row.addStretch(1)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.summary)
        self.lesson_note = QLabel()
        self.lesson_note.setWordWrap(True)
        self.lesson_note.setVisible(False)
        lower_layout.addWidget(self.lesson_note)
        lower_layout.addWidget(self.exports.note)
        lower_layout.addWidget(self.table, 1)
        lower_layout.addLayout(run_row)
        splitter = QSplitter(Qt.Orientation.Vertical)
        self.scatter: SearchScatter | None = None
        if self.plan.search is not None:  # a search: where in the range the good trials lie
            self.scatter = SearchScatter(self.theme, self.plan.search.space[0])
            charts = QSplitter(Qt.Orientation.Horizontal)
            charts.addWidget(self.plot)
            charts.addWidget(self.scatter)
            splitter.addWidget(charts)
        else:
            splitter.addWidget(self.plot)
        splitter.addWidget(lower)
        splitter.setStretchFactor(0, 5)
        splitter.setStretchFactor(1, 4)
        self.splitter, self.table_part = splitter, lower
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        self._size_rows()
        self._enable_run_buttons()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.fit_table_rows()

    def fit_table_rows(self) -> None:
        """Give the table room for every run (up to ``SHOWN_ROWS``), the chart the rest but never
        under ``MIN_CHART_SHARE``: on a 1024x640 laptop a 5:4 split showed 3.5 of 5 folds."""
        total = sum(self.splitter.sizes())
        if total <= 0:
            return
        rows = min(max(len(self.runner.runs), 3), SHOWN_ROWS)
        table = (
            self.table.horizontalHeader().sizeHint().height()
            + round((rows + 0.5) * self.table.verticalHeader().defaultSectionSize())  # slack
            + 2 * self.table.frameWidth()
        )
        wanted = self.table_part.sizeHint().height() - self.table.sizeHint().height() + table
        chart = max(total - wanted, round(total * MIN_CHART_SHARE))
        self.splitter.setSizes([chart, total - chart])

    def apply_theme(self, theme: Theme) -> None:
        """Follow the main window's interface size (Ctrl+= / Ctrl+- / Ctrl+0 work here too)."""
        self.theme = theme
        self.setFont(theme.font())
        self.plot.apply_theme(theme)
        if self.scatter is not None:
            self.scatter.apply_theme(theme)
        self._size_rows()
        self.fit_table_rows()

    def _size_rows(self) -> None:
        """Rows as tall as the font needs and no taller, so a laptop screen shows more runs."""
        height = self.table.fontMetrics().height()
        self.table.verticalHeader().setDefaultSectionSize(round(height * 1.35))

    # ----- the timer ----------------------------------------------------------------------------
    @Slot()
    def poll(self) -> None:
        """Take every run's new events; redraw at most every ``REDRAW_S``, and only when a run
        sent something or changed status (eight finished runs cost no frame at all)."""
        batches = self.runner.poll()
        self.events.extend([] for _ in range(len(self.runner.runs) - len(self.events)))
        for index, events in batches:
            self.events[index].extend(events)
        statuses = [run.status for run in self.runner.runs]
        self._stale = self._stale or bool(batches) or statuses != self._statuses
        self._statuses = statuses
        self._check_baselines()
        self.exports.poll()
        self._follow_lesson()
        now = time.monotonic()
        if self._stale and (now - self._last_drawn >= REDRAW_S or self.runner.done):
            self._last_drawn = now
            self.redraw()
        lesson_pending = self.lesson is not None and self.lesson_outcomes is None
        if (
            self.runner.done
            and self._baseline_future is None
            and not self.exports.busy
            and not lesson_pending
        ):
            self.timer.setInterval(1000)  # nothing trains: look now and then for late events

    def redraw(self) -> None:
        self._stale = False
        curves = [self._curve(run) for run in self.runner.runs]
        self.plot.show_runs(curves, self.selected)
        if self.scatter is not None:
            self.scatter.show_trials(self.runner.runs)
        self._fill_table()
        self.summary.setText(self._summary_text())
        self.buttons["pause"].setText("Resume all" if self.runner.held else "Pause all")
        self._enable_run_buttons()

    def _curve(self, run: RunProgress) -> tuple[np.ndarray, np.ndarray]:
        points = run.summary.fold.evaluations("validation")
        steps = np.array([point.step for point in points], dtype=float)
        values = np.array([getattr(point, self.plot.shown_metric) for point in points], dtype=float)
        return steps, values

    def _fill_table(self) -> None:
        self.table.setSortingEnabled(False)  # rows keep their place while they are filled
        self.table.setRowCount(len(self.runner.runs))  # a search asks for trials as it goes
        for row, run in enumerate(self.runner.runs):
            numbers = report.run_metrics(run)
            params = run.planned.params
            cells = (
                run.planned.label,
                run.planned.value if params is None else _values_text(params),
                run.status if run.pruned_at is None else f"pruned at {run.pruned_at:,}",
                run.summary.steps,
                numbers["best_val_accuracy"],
                numbers["val_accuracy"],
                numbers["val_loss"],
                run.seconds,
            )
            for column, value in enumerate(cells):
                self._set_cell(row, column, value, run.planned.index)
        self.table.setSortingEnabled(True)

    def _set_cell(self, row: int, column: int, value: object, index: int) -> None:
        item = self.table.item(row, column)
        if item is None:
            item = _Cell()
            self.table.setItem(row, column, item)
        if column == 0:  # the run's name sorts in the plan's order
            item.setData(SORT_ROLE, index)
            item.setText(str(value))
        elif isinstance(value, int | float):
            text = f"{value:.1f}" if column == len(COLUMNS) - 1 else f"{value:.4g}"
            item.setText(text)
            item.setData(SORT_ROLE, float(value))
        else:
            item.setText("—" if value is None else str(value))
            item.setToolTip("" if value is None else str(value))  # a trial's values, in full
            item.setData(SORT_ROLE, None)
        item.setData(Qt.ItemDataRole.UserRole, index)  # which run this row is, sorted or not

    def _summary_text(self) -> str:
        counts = ", ".join(f"{count} {status}" for status, count in self.runner.counts.items())
        # Final figures of ended runs only: a fold that has just begun would pull the mean to
        # its first evaluation (seen: 0.775 ± 0.240 with fold 3 at step 1); the chart's band
        # compares the running ones step by step.
        ended = [run for run in self.runner.runs if run.status in ENDED]
        accuracy = report.summarise(ended)["val_accuracy"]
        if accuracy["mean"] is None:
            return f"No run has ended with an evaluation yet ({counts})."
        text = f"Validation accuracy {accuracy['mean']:.3f}"
        if accuracy["std"] is not None:
            low, high = accuracy["ci95"]  # an accuracy lies in [0, 1], and so does its mean
            low, high = max(0.0, low), min(1.0, high)
            text += f" ± {accuracy['std']:.3f} (95% interval of the mean {low:.3f}–{high:.3f})"
        text += f" over {accuracy['n']} ended run{'s' if accuracy['n'] != 1 else ''} · {counts}"
        if self.baselines:
            best = max(self.baselines, key=lambda row: row["val_accuracy"])
            text += f" · best baseline: {best['name']} {best['val_accuracy']:.3f}"
        elif self._baseline_future is not None:
            text += " · fitting the baselines…"
        return text

    # ----- a lesson's experiment -------------------------------------------------------------
    def _start_lesson(self, lesson: Scenario, session_factory: SessionFactory) -> None:
        """What the lesson's promise needs beside the runs: the baselines, the range test."""
        request = lesson.experiment
        assert request is not None
        self.lesson_note.setText(
            f"Lesson: {lesson.title}. Its promise is judged when every run has ended."
        )
        self.lesson_note.setVisible(True)
        if request.baselines:
            self.fit_baselines()
        if request.lr_find:
            self.sweep = LrSweep(self.plan.base, session_factory)

    def _follow_lesson(self) -> None:
        """Poll the lesson's sweep; once everything has ended, judge the promise, once."""
        if self.lesson is None or self.lesson_outcomes is not None:
            return
        if self.sweep is not None and not self.sweep.done:
            try:
                self.sweep.poll()
            except TrainScopeError as error:
                self.lesson_note.setText(f"The lesson's range test failed: {error}")
                self.sweep = None
            return
        if not self.runner.done or self._baseline_future is not None:
            return
        result = self.json_result()
        self.lesson_outcomes = check_experiment(self.promises, result)
        lines = [
            f"{'✓ held' if outcome.held else '✗ not held'}: {outcome.name} — {outcome.detail}"
            for outcome in self.lesson_outcomes
        ]
        verdict = "what it promised:" if all(o.held for o in self.lesson_outcomes) else "promised:"
        self.lesson_note.setText(f"Lesson: {self.lesson.title}, {verdict} " + "; ".join(lines))
        self._stale = True

    def json_result(self) -> dict:
        """The experiment as the headless ``--json`` line has it (runs, summary, vote, search,
        and a lesson's range test once it has ended)."""
        finding = self.sweep.finding() if self.sweep is not None and self.sweep.done else None
        return runner_result(self.plan, self.runner, self.baselines, finding)

    # ----- steering -----------------------------------------------------------------------------
    @Slot()
    def toggle_pause_all(self) -> None:
        if self.runner.held:
            self.runner.resume()
        else:
            self.runner.pause()
        self.redraw()

    @Slot()
    def stop_all(self) -> None:
        self.runner.stop()
        self.redraw()

    def selected_index(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return None if item is None else int(item.data(Qt.ItemDataRole.UserRole))

    def _on_selection(self) -> None:
        self.selected = self.selected_index()
        self._enable_run_buttons()
        self.plot.show_runs([self._curve(run) for run in self.runner.runs], self.selected)

    def _show_row(self, row: int) -> None:
        item = self.table.item(row, 0)
        if item is not None:
            self.show_run_requested.emit(int(item.data(Qt.ItemDataRole.UserRole)))

    def _emit_selected(self, signal: SignalInstance) -> None:
        index = self.selected_index()
        if index is not None:
            signal.emit(index)

    def _stop_selected(self) -> None:
        index = self.selected_index()
        if index is not None:
            self.runner.stop(index)
            self.redraw()

    def _enable_run_buttons(self) -> None:
        index = self.selected
        chosen = index is not None
        self.buttons["show"].setEnabled(chosen and bool(self.events[index or 0]))
        self.buttons["promote"].setEnabled(chosen)
        self.buttons["stop_run"].setEnabled(
            chosen and self.runner.runs[index or 0].status not in ENDED
        )

    def _on_metric(self) -> None:
        self.plot.set_metric(self.metric_choice.currentData())
        self._show_baseline_lines()
        self.redraw()

    # ----- baselines, off this process ------------------------------------------------------------
    @Slot()
    def fit_baselines(self) -> None:
        from trainscope.engine.sklearn_baselines import baselines_over

        if self._baseline_future is not None:
            return
        splits = (
            [run.config for run in self.plan.runs]
            if self.plan.kind == "kfold"
            else [self.plan.base]
        )
        self._executor = ProcessPoolExecutor(1, mp_context=get_context("spawn"))
        self._baseline_future = self._executor.submit(baselines_over, splits)
        self.buttons["baselines"].setEnabled(False)
        self._stale = True  # the summary says they are being fitted
        self.timer.setInterval(POLL_MS)

    def _check_baselines(self) -> None:
        future = self._baseline_future
        if future is None or not future.done():
            return
        self._baseline_future = None
        self._stale = True
        self._executor.shutdown(wait=False)
        try:
            self.baselines = future.result()
        except Exception as error:  # a baseline must never take the experiment down
            self.summary.setText(f"The baselines could not be fitted: {error}")
            self.buttons["baselines"].setEnabled(True)
            return
        self._show_baseline_lines()

    def _show_baseline_lines(self) -> None:
        if not self.baselines:
            return
        key = "val_accuracy" if self.plot.shown_metric == "accuracy" else "val_loss"
        self.plot.show_references([(row["name"], row[key]) for row in self.baselines])

    # ----- exporting ----------------------------------------------------------------------------
    def export_table(self, path: str | None = None) -> str | None:
        """Write the table of runs as CSV (asking where, unless ``path``); the path, or None."""
        return self.exports.export_table(path)

    # ----- closing ------------------------------------------------------------------------------
    def run_events(self, index: int) -> list[ev.Event]:
        return self.events[index]

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop every run (what they showed stays recorded) and the baseline process."""
        self.timer.stop()
        self.runner.close()
        self.exports.close()
        if self._baseline_future is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._baseline_future = None


class ExperimentRunFeed:
    """One experiment run seen through the ``Session`` interface, for the main window's panels.

    ``drain`` gives the run's events from its first (so the panels build the whole run), then
    the new ones as the experiment window takes them; commands go to that run's own session,
    so it can be paused, stepped or steered from the normal controls. Stop only detaches the
    panels: the run belongs to the experiment, which goes on.
    """

    def __init__(self, window: ExperimentWindow, index: int) -> None:
        self._window = window
        self._index = index
        self._taken = 0
        self._attached = True

    def start(self) -> None:
        pass

    def send(self, command: cmd.Command) -> None:
        if isinstance(command, cmd.Stop):
            self._attached = False
        else:
            self._window.runner.send(self._index, command)

    def drain(self) -> list[ev.Event]:
        events = self._window.run_events(self._index)[self._taken :]
        self._taken += len(events)
        return events

    def is_alive(self) -> bool:
        pending = self._taken < len(self._window.run_events(self._index))
        return self._attached and (self._window.runner.runs[self._index].live or pending)

    def close(self, timeout: float = 0.0) -> None:
        self._attached = False

    def join(self, timeout: float | None = None) -> None:
        pass
