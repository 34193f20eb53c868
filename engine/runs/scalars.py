"""A recorded run as named scalars per step — what TensorBoard and MLflow both store.

One list of names for both exports, so a curve is called ``val/accuracy`` wherever it lands:
``train/*`` per step (a bucket of old steps as its mean, with ``train/loss_min`` and
``train/loss_max`` beside it), ``val/*`` and ``test/*`` per evaluation with the full-pass
``train_eval/*`` numbers riding along on validation rows.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

    from trainscope.engine.runs.timeline import Timeline

SPLIT_PREFIX = {"validation": "val", "test": "test", "deployment": "deployment"}
TRAIN_TAGS = {
    "loss": "train/loss",
    "batch_accuracy": "train/batch_accuracy",
    "grad_norm": "train/grad_norm",
    "lr": "train/lr",
}
SPREAD_TAGS = {"loss_min": "train/loss_min", "loss_max": "train/loss_max"}
EVALUATION_TAGS = ("loss", "accuracy", "ece", "roc_auc")


def scalar_rows(timeline: Timeline) -> Iterator[tuple[int, dict[str, float]]]:
    """(step, {name: value}) for every training row, then for every evaluation."""
    train = timeline.train
    for index, step in enumerate(train["step"]):
        values = {tag: float(train[column][index]) for column, tag in TRAIN_TAGS.items()}
        if train["steps_in_row"][index] > 1:  # a bucket of old steps: its spread too
            values |= {tag: float(train[column][index]) for column, tag in SPREAD_TAGS.items()}
        yield int(step), values
    for row in timeline.evaluations:
        yield int(row["step"]), evaluation_values(row)


def evaluation_values(row: dict) -> dict[str, float]:
    """val/loss, val/accuracy, … for the row's split; the full-pass train numbers ride along."""
    prefix = SPLIT_PREFIX.get(row["split"], row["split"])
    values = {
        f"{prefix}/{name}": float(row[name])
        for name in EVALUATION_TAGS
        if not (name == "roc_auc" and math.isnan(row[name]))
    }
    if row["split"] == "validation":
        values["train_eval/loss"] = float(row["train_loss"])
        values["train_eval/accuracy"] = float(row["train_accuracy"])
    return values
