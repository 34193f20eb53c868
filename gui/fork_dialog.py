"""Forking a recorded run: pick one of its saved steps, change some settings, train on live.

``start_fork`` is the whole story (plan the config with ``engine.runs.fork_config``, start
the window's session from the checkpoint, record ``forked_from``); the dialog only gathers
the step and the changes, written the way ``--set`` takes them ("dropout=0.3, lr=0.01").
The fork starts through ``gui.window_api.RunStarter``: all it may do to the window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from trainscope.engine.commands import parse_assignment
from trainscope.engine.errors import TrainScopeError
from trainscope.engine.runs.checkpoints import list_checkpoints
from trainscope.engine.runs.errors import RunStoreError
from trainscope.engine.runs.fork import fork_config, fork_origin, refuse_own_model
from trainscope.gui.run_state import format_value

if TYPE_CHECKING:
    from trainscope.gui.recording import RunLibrary
    from trainscope.gui.window_api import RunStarter


def parse_changes(text: str) -> dict[str, Any]:
    """'dropout=0.3, lr=0.01' → {'dropout': 0.3, 'lr': 0.01}, validated; '' → {}."""
    changes = {}
    for part in text.replace(";", ",").split(","):
        if part.strip():
            change = parse_assignment(part.strip())
            changes[change.key] = change.value
    return changes


def start_fork(
    starter: RunStarter, library: RunLibrary, run_id: int, step: int, changes: dict[str, Any]
) -> str | None:
    """Start a live, recorded fork of ``run_id`` from its checkpoint at or before ``step``.

    Returns a sentence when it cannot; the new run's ``forked_from`` names the parent and step.
    """
    try:
        with library.open_store() as store:
            config, checkpoint = fork_config(store, run_id, step, changes)
            origin = fork_origin(store, run_id, checkpoint)
    except TrainScopeError as error:
        return str(error)
    starter.start_session(config, start_from=checkpoint, forked_from=origin)
    return None


class ForkDialog(QDialog):
    """The step to fork from (the run's saved checkpoints) and the settings to change."""

    def __init__(self, library: RunLibrary, run_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        with library.open_store() as store:
            refuse_own_model(store.run_config(run_id), run_id)
            info = store.get_run(run_id)
            saved = list_checkpoints(store.checkpoint_dir(run_id))
        if not saved:
            raise RunStoreError(f"run {run_id} has no saved checkpoints to fork from")
        self.setWindowTitle(f"Fork run {run_id}")
        self.steps = QComboBox()
        for saved_step, _path in saved:
            self.steps.addItem(f"step {saved_step:,}", saved_step)
        self.steps.setCurrentIndex(len(saved) - 1)
        settings = info.config.get("settings", {})
        self.edits = QLineEdit()
        self.edits.setPlaceholderText("e.g. dropout=0.3, lr=0.01")
        known = ", ".join(
            f"{key}={format_value(value)}"
            for key, value in settings.items()
            if key in ("lr", "dropout", "weight_decay", "batch_size")
        )
        self.error = QLabel("")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Fork and train")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Run", QLabel(info.name))
        form.addRow("Start from", self.steps)
        form.addRow("Settings at the start", QLabel(known or "–"))
        form.addRow("Change", self.edits)
        form.addRow(self.error)
        form.addRow(buttons)

    def step(self) -> int:
        return int(self.steps.currentData())

    def changes(self) -> dict[str, Any]:
        return parse_changes(self.edits.text())

    def accept(self) -> None:
        try:
            self.changes()
        except TrainScopeError as error:
            self.error.setText(str(error))
            return
        super().accept()
