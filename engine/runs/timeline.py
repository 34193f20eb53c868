"""A recorded run folded into the tables an export writes: its final timeline, step by step.

A rewind cuts everything after the step it went back to and a reset starts over, exactly as
the panels do, so an exported curve is the history the final model really has — not two
branches drawn on top of each other.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine import events as ev

TRAIN_COLUMNS = ("step", "loss", "batch_accuracy", "grad_norm", "lr")
EVALUATION_COLUMNS = (
    "step",
    "epoch",
    "split",
    "loss",
    "accuracy",
    "train_loss",
    "train_accuracy",
    "ece",
    "mce",
    "roc_auc",
    "temperature",
)
CHANGE_COLUMNS = ("step", "key", "old", "new")


@dataclass
class Timeline:
    """Train steps as arrays, evaluations and changes as rows, all on the final timeline."""

    train: dict[str, np.ndarray] = field(
        default_factory=lambda: {name: np.empty(0) for name in TRAIN_COLUMNS}
    )
    by_key: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    changes: list[dict[str, Any]] = field(default_factory=list)
    _chunks: list[ev.StepMetrics] = field(default_factory=list)

    @classmethod
    def from_events(cls, events: Iterable[object]) -> Timeline:
        timeline = cls()
        for event in events:
            timeline.update(event)
        timeline._flush()
        return timeline

    @property
    def evaluations(self) -> list[dict[str, Any]]:
        """Evaluation rows in the order they were made (a repeat at one step replaced in place)."""
        return list(self.by_key.values())

    def update(self, event: object) -> None:
        if isinstance(event, ev.StepMetrics):
            self._chunks.append(event)
        elif isinstance(event, ev.Evaluation):
            self._add_evaluation(event)
        elif isinstance(event, ev.ParamChanged):
            self.changes.append(
                {"step": event.step, "key": event.key, "old": event.old, "new": event.new}
            )
        elif isinstance(event, ev.Rewound):
            self._cut(event.to_step)
        elif isinstance(event, ev.RunStarted):
            self.__init__()  # a reset starts a new timeline

    def _flush(self) -> None:
        """Join pending step batches onto the train arrays (one concatenate per column)."""
        if not self._chunks:
            return
        sources = {name: name for name in TRAIN_COLUMNS} | {"step": "steps"}
        self.train = {
            name: np.concatenate(
                [self.train[name]]
                + [np.asarray(getattr(chunk, sources[name]), np.float64) for chunk in self._chunks]
            )
            for name in TRAIN_COLUMNS
        }
        self._chunks = []

    def _add_evaluation(self, evaluation: ev.Evaluation) -> None:
        row = {
            "step": evaluation.step,
            "epoch": evaluation.epoch,
            "split": evaluation.split,
            "loss": evaluation.loss,
            "accuracy": evaluation.accuracy,
            "train_loss": evaluation.train_loss,
            "train_accuracy": evaluation.train_accuracy,
            "ece": evaluation.calibration.ece,
            "mce": evaluation.calibration.mce,
            "roc_auc": math.nan if evaluation.roc_auc is None else evaluation.roc_auc,
            "temperature": evaluation.temperature,
        }
        # Evaluated again at the same step (after a rewind): the later one wins.
        self.by_key[(evaluation.split, int(evaluation.step))] = row

    def _cut(self, to_step: int) -> None:
        self._flush()
        keep = self.train["step"] <= to_step
        self.train = {name: column[keep] for name, column in self.train.items()}
        self.by_key = {key: row for key, row in self.by_key.items() if row["step"] <= to_step}
        self.changes = [row for row in self.changes if row["step"] <= to_step]
