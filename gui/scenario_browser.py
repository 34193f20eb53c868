"""Choosing a lesson: every bundled scenario in teaching order, with its level and one-line summary.

The list is read when the browser opens (the files are small and validated in milliseconds),
so a scenario added to ``scenarios/`` shows up without a restart. The dialog is opened
non-modally to the event loop (``open()``, not ``exec()``): training and drawing go on behind
it, and a test can pick a row and press Open like a user. It only reports the choice; the
lesson controller asks about the current run and starts the new one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from trainscope.engine.errors import TrainScopeError
from trainscope.engine.scenario import ScenarioInfo, list_scenarios

if TYPE_CHECKING:
    from trainscope.gui.theme import Theme

COLUMNS = ("Lesson", "Level", "What you will see")
INTRO = "Each lesson is a ready-made run with a story, what to watch and what to try. Double-click one, or choose it and press Open."


class ScenarioBrowser(QDialog):
    """A table of the scenarios; ``scenario_chosen(id)`` when the user opens one."""

    scenario_chosen = Signal(str)

    def __init__(self, theme: Theme, current: str | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Scenarios")
        self.setObjectName("scenarioBrowser")
        self.infos: list[ScenarioInfo] = []
        self.intro = QLabel(INTRO)
        self.intro.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel
        )
        self.open_button = self.buttons.button(QDialogButtonBox.StandardButton.Open)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.table.cellDoubleClicked.connect(self._on_double_clicked)
        self.table.itemSelectionChanged.connect(self._on_selection_changed)
        self.apply_theme(theme)
        self.load()
        self.select(current)

    def load(self) -> None:
        """Fill the table; a broken scenario file becomes its one sentence instead of a list."""
        try:
            self.infos = list_scenarios()
        except TrainScopeError as error:
            self.infos = []
            self.intro.setText(f"The scenarios could not be read: {error}")
        self.table.setRowCount(len(self.infos))
        for row, info in enumerate(self.infos):
            for column, text in enumerate((info.title, info.difficulty, info.summary)):
                item = QTableWidgetItem(text)
                item.setToolTip(info.summary)
                item.setData(Qt.ItemDataRole.UserRole, info.id)
                self.table.setItem(row, column, item)
        self.table.resizeRowsToContents()
        self._on_selection_changed()

    def ids(self) -> list[str]:
        return [info.id for info in self.infos]

    def select(self, scenario_id: str | None) -> None:
        """Highlight a scenario (the open lesson when the browser opens); the first if unknown."""
        ids = self.ids()
        if not ids:
            return
        row = ids.index(scenario_id) if scenario_id in ids else 0
        self.table.selectRow(row)
        item = self.table.item(row, 0)
        if item is not None:  # every row has its cells (the table is filled whole)
            self.table.scrollToItem(item)

    def chosen_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.infos[rows[0].row()].id if rows else None

    def accept(self) -> None:
        chosen = self.chosen_id()
        super().accept()
        if chosen is not None:
            self.scenario_chosen.emit(chosen)

    @Slot(int, int)
    def _on_double_clicked(self, _row: int, _column: int) -> None:
        self.accept()

    @Slot()
    def _on_selection_changed(self) -> None:
        self.open_button.setEnabled(self.chosen_id() is not None)

    def apply_theme(self, theme: Theme) -> None:
        self.setFont(theme.font(theme.base_font_pt + 1))
        self.resize(round(theme.px(900)), round(theme.px(560)))
