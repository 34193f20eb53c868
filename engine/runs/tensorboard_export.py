"""TensorBoard export: the run's scalars as an event file TensorBoard itself can read.

Uses the ``tensorboard`` package's own protobufs and record writer (no torch, no TensorFlow),
so the file is exactly what TensorBoard expects. Old steps kept in buckets are written as
their means, with ``train/loss_min`` and ``train/loss_max`` beside them. tensorboard is an optional extra: without it
the export is refused in one sentence that says how to get it.
"""

from __future__ import annotations

import math
import socket
import time
from typing import TYPE_CHECKING

from trainscope.engine.runs.errors import RunFileError
from trainscope.engine.runs.timeline import Timeline

if TYPE_CHECKING:
    from pathlib import Path

    from trainscope.engine.runs.store import RunStore

SPLIT_PREFIX = {"validation": "val", "test": "test", "deployment": "deployment"}
TRAIN_TAGS = {
    "loss": "train/loss",
    "batch_accuracy": "train/batch_accuracy",
    "grad_norm": "train/grad_norm",
    "lr": "train/lr",
}
SPREAD_TAGS = {"loss_min": "train/loss_min", "loss_max": "train/loss_max"}
EVALUATION_TAGS = ("loss", "accuracy", "ece", "roc_auc")


def export_tensorboard(store: RunStore, run_id: int, out: Path) -> Path:
    """Write ``out/events.out.tfevents.*``: train/* per step, val/* (and test/*) per evaluation."""
    try:
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.summary.writer.record_writer import RecordWriter
    except ImportError:
        raise RunFileError(
            "TensorBoard export needs the tensorboard package: pip install 'trainscope[tensorboard]'"
        ) from None
    info = store.get_run(run_id)
    timeline = Timeline.from_events(store.iter_events(run_id))

    def event(step: int, values: dict[str, float]) -> bytes:
        summary = summary_pb2.Summary(
            value=[summary_pb2.Summary.Value(tag=tag, simple_value=v) for tag, v in values.items()]
        )
        return event_pb2.Event(
            wall_time=info.created, step=step, summary=summary
        ).SerializeToString()

    name = f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}.trainscope{run_id}"
    try:
        out.mkdir(parents=True, exist_ok=True)
        with open(out / name, "wb") as file:
            writer = RecordWriter(file)
            header = event_pb2.Event(wall_time=info.created, file_version="brain.Event:2")
            writer.write(header.SerializeToString())
            train = timeline.train
            for index, step in enumerate(train["step"]):
                values = {tag: float(train[c][index]) for c, tag in TRAIN_TAGS.items()}
                if train["steps_in_row"][index] > 1:  # a bucket of old steps: its spread too
                    values |= {tag: float(train[c][index]) for c, tag in SPREAD_TAGS.items()}
                writer.write(event(int(step), values))
            for row in timeline.evaluations:
                writer.write(event(int(row["step"]), _evaluation_values(row)))
    except OSError as error:
        raise RunFileError(
            f"cannot write the TensorBoard export to {out} ({error.strerror or error})"
        ) from None
    return out


def _evaluation_values(row: dict) -> dict[str, float]:
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
