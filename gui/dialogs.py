"""The two questions the window ever asks: "are you sure?" and "this went wrong".

Kept in one module so every confirmation reads the same way, and so tests can answer them by
replacing ``confirm`` (``monkeypatch.setattr(gui.dialogs, "confirm", ...)``) instead of
clicking through a modal dialog that would block the test.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def confirm(parent: QWidget | None, title: str, question: str, action: str = "Continue") -> bool:
    """Ask a yes/no question; the safe answer (Cancel) is the default for Enter."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(title)
    box.setText(question)
    accept = box.addButton(action, QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.exec()
    return box.clickedButton() is accept


def show_error(parent: QWidget | None, title: str, sentence: str) -> None:
    """One sentence in a dialog, never a traceback."""
    QMessageBox.warning(parent, title, sentence)
