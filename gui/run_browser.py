"""The run browser: every recorded run in a table — replay, compare, fork, rename, note, delete.

A non-modal dialog over the store; each action is a method taking plain values (what tests
drive) with an ``ask_*`` twin that asks the user first. Anything that goes wrong is one
sentence in a dialog. Each run shows what it takes in the store and the store its total on
disk (deleting runs gives that space back). The store is opened per action, on the GUI thread, and closed again, so
a run being recorded by the window (its recorder has its own connection) never waits for us.
Of the window it knows only the theme (for comparisons) and how to start a fork.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from trainscope.engine.errors import TrainScopeError
from trainscope.gui import dialogs
from trainscope.gui.compare_view import CompareView
from trainscope.gui.fork_dialog import ForkDialog, start_fork

T = TypeVar("T")

if TYPE_CHECKING:
    from collections.abc import Callable

    from PySide6.QtWidgets import QWidget

    from trainscope.engine.runs.store import RunInfo
    from trainscope.gui.recording import RunLibrary
    from trainscope.gui.replay_bar import ReplayController
    from trainscope.gui.window_api import RunStarter, ThemeReader

COLUMNS = (
    "Name",
    "Scenario / dataset",
    "Date",
    "Status",
    "Steps",
    "Val acc",
    "Val loss",
    "Size",
    "Note",
)
NUMBER_COLUMNS = (4, 5, 6, 7)


def _number(value: Any, digits: int) -> str:
    return f"{value:.{digits}f}" if isinstance(value, int | float) else "–"


def size_text(size: int) -> str:
    """Bytes as a person reads them: 512 B, 3.4 kB, 12.5 MB, 1.20 GB."""
    if size < 1000:
        return f"{size} B"
    for unit, scale in (("kB", 1e3), ("MB", 1e6), ("GB", 1e9)):
        if size < scale * 1000 or unit == "GB":
            value = size / scale
            return f"{value:.2f} {unit}" if value < 10 else f"{value:.1f} {unit}"
    raise AssertionError("unreachable")


def row_texts(info: RunInfo) -> tuple[str, ...]:
    """What the table shows for one run."""
    final = info.final
    name = info.name
    if info.forked_from:
        name += f"  (fork of run {info.forked_from.get('run_id')} @ {info.forked_from.get('step')})"
    return (
        name,
        info.title,
        time.strftime("%Y-%m-%d %H:%M", time.localtime(info.created)),
        info.status,
        f"{info.steps:,}",
        _number(final.get("val_accuracy"), 3),
        _number(final.get("val_loss"), 4),
        size_text(info.stored_bytes),
        info.note,
    )


class RunBrowser(QDialog):
    """Recorded runs, newest first; select one or more and act on them."""

    def __init__(
        self,
        parent: QWidget,
        library: RunLibrary,
        replays: ReplayController,
        *,
        theme: ThemeReader,
        starter: RunStarter,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Recorded runs")
        self.theme_source, self.starter = theme, starter
        self.library = library
        self.replays = replays
        self.runs: list[RunInfo] = []
        self.compare_views: list[CompareView] = []
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.doubleClicked.connect(self.ask_replay)
        self.location = QLabel("")
        self.location.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for name, text, slot in (
            ("replay", "Replay", self.ask_replay),
            ("replay_max", "Replay at max speed", self.ask_replay_max),
            ("compare", "Compare", self.ask_compare),
            ("fork", "Fork…", self.ask_fork),
            ("rename", "Rename…", self.ask_rename),
            ("note", "Note…", self.ask_note),
            ("delete", "Delete…", self.ask_delete),
            ("refresh", "Refresh", self.refresh),
        ):
            button = QPushButton(text)
            button.clicked.connect(slot)
            buttons.addWidget(button)
            self.buttons[name] = button
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(self.location)
        layout.addLayout(buttons)
        self.resize(1000, 420)
        self.refresh()

    # ----- the list ---------------------------------------------------------------------------
    @Slot()
    def refresh(self) -> None:
        selected = set(self.selected_ids())
        try:
            with self.library.open_store() as store:
                self.runs = store.list_runs()
                total = size_text(store.file_bytes)
                count = f"{len(self.runs)} run{'' if len(self.runs) == 1 else 's'}"
                self.location.setText(f"{count}, {total} on disk, in {store.runs_dir}")
        except TrainScopeError as error:
            self.runs = []
            self.location.setText(str(error))
        self.table.setRowCount(len(self.runs))
        for row, info in enumerate(self.runs):
            for column, text in enumerate(row_texts(info)):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, info.id)
                if column in NUMBER_COLUMNS:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(row, column, item)
        self.select(*(run_id for run_id in selected if run_id in self.ids()))

    def ids(self) -> list[int]:
        return [info.id for info in self.runs]

    def selected_ids(self) -> list[int]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.runs[row].id for row in rows if row < len(self.runs)]

    def select(self, *run_ids: int) -> None:
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for row, info in enumerate(self.runs):
            if info.id in run_ids:
                self.table.selectRow(row)
        self.table.setSelectionMode(mode)

    def _one_selected(self, action: str) -> int | None:
        ids = self.selected_ids()
        if len(ids) != 1:
            dialogs.show_error(self, "Choose one run", f"choose one run to {action}")
            return None
        return ids[0]

    def _guard(self, title: str, work: Callable[[], T]) -> T | None:
        """Run ``work``; a TrainScopeError becomes one sentence in a dialog (and None)."""
        try:
            return work()
        except TrainScopeError as error:
            dialogs.show_error(self, title, str(error))
            return None

    # ----- actions (plain values in) ------------------------------------------------------------
    def replay(self, run_id: int, speed: float | str = 1.0) -> bool:
        return self.replays.open(run_id, speed)

    def compare(self, run_ids: list[int]) -> CompareView | None:
        view = self._guard(
            "Cannot compare",
            lambda: CompareView(self.library, run_ids, self.theme_source.theme, self),
        )
        if view is not None:
            self.compare_views.append(view)
            view.show()
        return view

    def rename(self, run_id: int, name: str) -> None:
        def work() -> None:
            with self.library.open_store() as store:
                store.rename(run_id, name)

        self._guard("Cannot rename", work)
        self.refresh()

    def set_note(self, run_id: int, note: str) -> None:
        def work() -> None:
            with self.library.open_store() as store:
                store.set_note(run_id, note)

        self._guard("Cannot save the note", work)
        self.refresh()

    def delete(self, run_ids: list[int]) -> None:
        def work() -> None:
            with self.library.open_store() as store:
                for run_id in run_ids:
                    store.delete(run_id)

        self._guard("Cannot delete", work)
        self.refresh()

    def fork(self, run_id: int, step: int, changes: dict[str, Any]) -> bool:
        problem = start_fork(self.starter, self.library, run_id, step, changes)
        if problem:
            dialogs.show_error(self, "Cannot fork", problem)
            return False
        self.refresh()
        return True

    # ----- the same, asking first ---------------------------------------------------------------
    @Slot()
    def ask_replay(self) -> None:
        if (run_id := self._one_selected("replay")) is not None:
            self.replay(run_id)

    @Slot()
    def ask_replay_max(self) -> None:
        if (run_id := self._one_selected("replay")) is not None:
            self.replay(run_id, "max")

    @Slot()
    def ask_compare(self) -> None:
        ids = self.selected_ids()
        if len(ids) < 2:
            dialogs.show_error(self, "Compare", "choose two or more runs to compare")
            return
        self.compare(ids)

    @Slot()
    def ask_rename(self) -> None:
        if (run_id := self._one_selected("rename")) is None:
            return
        current = next(info.name for info in self.runs if info.id == run_id)
        name, accepted = QInputDialog.getText(self, "Rename run", "New name:", text=current)
        if accepted:
            self.rename(run_id, name)

    @Slot()
    def ask_note(self) -> None:
        if (run_id := self._one_selected("annotate")) is None:
            return
        current = next(info.note for info in self.runs if info.id == run_id)
        note, accepted = QInputDialog.getMultiLineText(self, "Note", "Note:", current)
        if accepted:
            self.set_note(run_id, note)

    @Slot()
    def ask_delete(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        what = f"run {ids[0]}" if len(ids) == 1 else f"{len(ids)} runs"
        question = f"Delete {what} with its events and checkpoints? This cannot be undone."
        if dialogs.confirm(self, "Delete runs", question, "Delete"):
            self.delete(ids)

    @Slot()
    def ask_fork(self) -> None:
        if (run_id := self._one_selected("fork")) is None:
            return
        dialog = self._guard("Cannot fork", lambda: ForkDialog(self.library, run_id, self))
        if dialog is not None and dialog.exec() == QDialog.DialogCode.Accepted:
            self.fork(run_id, dialog.step(), dialog.changes())
