"""TensorBoard export: the run's scalars as an event file TensorBoard itself can read.

Uses the ``tensorboard`` package's own protobufs and record writer (no torch, no TensorFlow),
so the file is exactly what TensorBoard expects; the names are ``engine.runs.scalars``'s.
tensorboard is an optional extra: without it the export is refused in one sentence that says
how to get it.
"""

from __future__ import annotations

import socket
import time
from typing import TYPE_CHECKING

from trainscope.engine.runs.errors import RunFileError
from trainscope.engine.runs.scalars import scalar_rows
from trainscope.engine.runs.timeline import Timeline

if TYPE_CHECKING:
    from pathlib import Path

    from trainscope.engine.runs.store import RunStore


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
            for step, values in scalar_rows(timeline):
                writer.write(event(step, values))
    except OSError as error:
        raise RunFileError(
            f"cannot write the TensorBoard export to {out} ({error.strerror or error})"
        ) from None
    return out
