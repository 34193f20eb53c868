"""The red strip across the top of the window that says the training process is gone.

A lost worker is not a dialog: the student should still be able to read every chart it
produced, so the banner sits above the panels, says what happened in one sentence, and offers
the one useful action (Restart with the same configuration).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

if TYPE_CHECKING:
    from trainscope.gui.theme import Theme


class ProblemBanner(QFrame):
    """The sentence and the Restart button; the window shows and hides the row it sits in."""

    restart_requested = Signal()

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("problemBanner")
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.restart_button = QPushButton("Restart")
        self.restart_button.setToolTip(
            "Start a fresh training process with the same configuration."
        )
        layout = QHBoxLayout(self)
        layout.addWidget(self.message_label, 1)
        layout.addWidget(self.restart_button)
        self.restart_button.clicked.connect(self._on_restart_clicked)
        self.apply_theme(theme)

    def show_problem(self, sentence: str) -> None:
        self.message_label.setText(sentence)
        self.restart_button.setEnabled(True)

    def message(self) -> str:
        return self.message_label.text()

    @Slot()
    def _on_restart_clicked(self) -> None:
        self.restart_button.setEnabled(False)  # one click, one new worker
        self.restart_requested.emit()

    def apply_theme(self, theme: Theme) -> None:
        red = theme.palette.diverged
        self.setStyleSheet(
            f"QFrame#problemBanner {{ background: {red}; }}"
            f"QFrame#problemBanner QLabel {{ color: white; font-weight: bold;"
            f" font-size: {theme.pt(theme.base_font_pt + 2)}pt; }}"
        )
        self.restart_button.setFont(theme.font(theme.base_font_pt + 2, bold=True))
        self.restart_button.setMinimumHeight(round(theme.px(30)))
