"""A recorded run folded into the tables an export writes: its final timeline, step by step.

A rewind cuts everything after the step it went back to and a reset starts over, exactly as
the panels do, so an exported curve is the history the final model really has — not two
branches drawn on top of each other.

Old steps a long run folded into buckets (``engine.runs.decimation``) come out as one row per
bucket: its mean at its last step, with ``first_step``, ``steps_in_row`` and the lowest and
highest loss and gradient norm beside it, so a spike shows in the table as it did on screen.
An exact step is a row of one (``first_step`` = ``step``, lowest = highest = the value).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from trainscope.engine import events as ev
from trainscope.engine.rewind import survives, surviving_count
from trainscope.engine.runs.decimation import DecimatedSteps

if TYPE_CHECKING:
    from collections.abc import Iterable

TRAIN_COLUMNS = ("step", "loss", "batch_accuracy", "grad_norm", "lr")
BUCKET_COLUMNS = (
    "first_step",
    "steps_in_row",
    "loss_min",
    "loss_max",
    "grad_norm_min",
    "grad_norm_max",
)
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
        default_factory=lambda: {name: np.empty(0) for name in TRAIN_COLUMNS + BUCKET_COLUMNS}
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
            Timeline.__init__(self)  # a reset starts a new timeline

    def _flush(self) -> None:
        """Join pending step batches onto the train arrays (one concatenate per column)."""
        if not self._chunks:
            return
        columns = [_train_columns(chunk) for chunk in self._chunks]
        self.train = {
            name: np.concatenate([self.train[name]] + [column[name] for column in columns])
            for name in self.train
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
        """The rewind rule (``engine.rewind``): what is at or before ``to_step`` stays."""
        self._flush()
        keep = surviving_count(self.train["step"], to_step)
        self.train = {name: column[:keep] for name, column in self.train.items()}
        self.by_key = {
            key: row for key, row in self.by_key.items() if survives(row["step"], to_step)
        }
        self.changes = [row for row in self.changes if survives(row["step"], to_step)]


def _train_columns(chunk: ev.StepMetrics) -> dict[str, np.ndarray]:
    """One batch's rows: exact steps as rows of one, buckets with their spread."""

    def column(name: str) -> np.ndarray:
        return np.asarray(getattr(chunk, name), np.float64)

    rows = {name: column(name) for name in TRAIN_COLUMNS if name != "step"}
    rows["step"] = column("steps")
    if isinstance(chunk, DecimatedSteps):
        rows |= {
            "first_step": column("first_steps"),
            "steps_in_row": column("rows"),
            "loss_min": column("loss_low"),
            "loss_max": column("loss_high"),
            "grad_norm_min": column("grad_norm_low"),
            "grad_norm_max": column("grad_norm_high"),
        }
    else:
        rows |= {
            "first_step": rows["step"],
            "steps_in_row": np.ones(len(rows["step"])),
            "loss_min": rows["loss"],
            "loss_max": rows["loss"],
            "grad_norm_min": rows["grad_norm"],
            "grad_norm_max": rows["grad_norm"],
        }
    return rows
