"""The Experiments view's Export menu: the table as CSV, the runs for TensorBoard or MLflow.

The table is written at once from what the view holds. TensorBoard folders and the MLflow
store are written from the recorded runs (the store groups them under the experiment's uid),
in a separate process: MLflow's import alone takes seconds and its first write builds its
database, so the window keeps drawing meanwhile. Both need the runs recorded and ended; while
they are not, the entries say why on hover. Torch-free, like the whole window process.
"""

from __future__ import annotations

from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QLabel, QMenu

from trainscope.engine.experiment_headless import export_recorded, table_csv

if TYPE_CHECKING:
    from PySide6.QtGui import QAction

    from trainscope.gui.experiment_window import ExperimentWindow

NOT_RECORDED = "These runs are not recorded (recording is off), so there is nothing to export"
NOT_ENDED = "Exports the recorded runs once every run has ended"


class ExperimentExports:
    """The menu behind the view's Export button, and the note that says what was written."""

    def __init__(self, view: ExperimentWindow, uid: str | None, runs_dir: str | None) -> None:
        self.view = view
        self.uid = uid
        self.runs_dir = runs_dir
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.hide()
        self.menu = QMenu(view)
        self.actions: dict[str, QAction] = {
            "table": self.menu.addAction("Table as CSV…", lambda: self.export_table()),
            "tensorboard": self.menu.addAction(
                "Runs for TensorBoard…", lambda: self.export_tensorboard()
            ),
            "mlflow": self.menu.addAction("Runs to MLflow…", lambda: self.export_mlflow()),
        }
        self.actions["table"].setToolTip("The table of runs as a CSV file, one row per run")
        self.menu.setToolTipsVisible(True)
        self.menu.aboutToShow.connect(self.refresh)
        self._future: Future | None = None
        self._executor: ProcessPoolExecutor | None = None

    def refresh(self) -> None:
        """Enable the recorded-run exports only when there is something whole to export."""
        ready = self.uid is not None and self.view.runner.done and self._future is None
        reason = NOT_RECORDED if self.uid is None else NOT_ENDED
        for name, what in (
            ("tensorboard", "One TensorBoard event folder per run, so TensorBoard overlays them"),
            ("mlflow", "The runs into an MLflow SQLite tracking store (trainscope[mlflow])"),
        ):
            self.actions[name].setEnabled(ready)
            self.actions[name].setToolTip(what if ready else reason)

    def export_table(self, path: str | None = None) -> str | None:
        """Write the table of runs as CSV (asking where, unless ``path``); the path, or None."""
        view = self.view
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                view, "Export the table of runs", f"{view.plan.kind}.csv", "CSV (*.csv)"
            )
            if not path:
                return None
        result = view.json_result()
        try:
            Path(path).write_text(table_csv(result), encoding="utf-8")
        except OSError as error:
            self._say(f"Could not write {path}: {error.strerror or error}")
            return None
        self._say(f"The table of runs is in {path}")
        return path

    def export_tensorboard(self, folder: str | None = None) -> bool:
        """One event folder per run under ``folder`` (asked for when None); False if not begun."""
        if folder is None:
            folder = QFileDialog.getExistingDirectory(self.view, "Export the runs for TensorBoard")
            if not folder:
                return False
            folder = str(Path(folder) / f"{self.view.plan.kind}-runs")
        return self._start(folder, None)

    def export_mlflow(self, path: str | None = None) -> bool:
        """The runs into the MLflow SQLite store at ``path`` (asked for when None)."""
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self.view, "Export the runs to MLflow", "mlflow.db", "SQLite (*.db)"
            )
            if not path:
                return False
        return self._start(None, path)

    def _start(self, tensorboard_dir: str | None, mlflow_db: str | None) -> bool:
        self.refresh()
        if self.uid is None or not self.view.runner.done or self._future is not None:
            return False
        self._executor = ProcessPoolExecutor(1, mp_context=get_context("spawn"))
        self._future = self._executor.submit(
            export_recorded, self.uid, self.runs_dir, tensorboard_dir, mlflow_db
        )
        self._say("Exporting the recorded runs…")
        self.view.timer.setInterval(100)  # look for its end as often as for the runs' events
        return True

    @property
    def busy(self) -> bool:
        return self._future is not None

    def poll(self) -> None:
        """Called on the view's timer: say what the export wrote, or the one sentence why not."""
        future = self._future
        if future is None or not future.done():
            return
        self._future = None
        if self._executor is not None:
            self._executor.shutdown(wait=False)
        try:
            self._say("\n".join(future.result()))
        except Exception as error:  # an export must never take the experiment down
            self._say(f"Export failed: {error}")

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        self._future = None

    def _say(self, text: str) -> None:
        self.note.setText(text)
        self.note.show()
