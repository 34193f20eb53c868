"""Exports of a recorded run: CSV tables, TensorBoard scalars, trained weights with their card.

``export_run`` picks the writer by format; each writer is the whole story of one format. The
card (``run_card``) says how a result was made — config, seed, versions, device, final numbers
— so weights or a table found on a disk a year later still explain themselves.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainscope.engine.runs.checkpoints import list_checkpoints, load_checkpoint
from trainscope.engine.runs.errors import RunFileError, RunStoreError
from trainscope.engine.runs.timeline import (
    BUCKET_COLUMNS,
    CHANGE_COLUMNS,
    EVALUATION_COLUMNS,
    TRAIN_COLUMNS,
    Timeline,
)

if TYPE_CHECKING:
    import os

    from trainscope.engine.runs.store import RunInfo, RunStore

FORMATS = ("csv", "tensorboard", "archive", "weights")


def run_card(info: RunInfo) -> dict[str, Any]:
    """How a run was made, as JSON: enough to reproduce it or to judge its numbers."""
    return {
        "name": info.name,
        "uid": info.uid,
        "note": info.note,
        "status": info.status,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(info.created)),
        "scenario": info.scenario,
        "dataset": info.dataset,
        "seed": info.seed,
        "device": info.device,
        "versions": info.versions,
        "config": info.config,
        "final": info.final,
        "test_opened_at": info.test_opened_at,
        "forked_from": info.forked_from,
    }


def export_run(store: RunStore, run_id: int, format: str, out_path: str | os.PathLike[str]) -> Path:
    """Write run ``run_id`` as ``format`` (csv, tensorboard, archive, weights) to ``out_path``."""
    out = Path(out_path).expanduser()
    if format == "csv":
        return export_csv(store, run_id, out)
    if format == "tensorboard":
        from trainscope.engine.runs.tensorboard_export import export_tensorboard

        return export_tensorboard(store, run_id, out)
    if format == "archive":
        from trainscope.engine.runs.archive import write_archive

        return write_archive(store, run_id, out)
    if format == "weights":
        return export_weights(store, run_id, out)
    raise RunStoreError(f"export format must be one of {', '.join(FORMATS)} (got {format!r})")


# ----- CSV -----------------------------------------------------------------------------------
def _csv_text(columns: tuple[str, ...], rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue()


def csv_tables(store: RunStore, run_id: int) -> dict[str, str]:
    """File name → CSV text: every series of the run's final timeline, plus its card."""
    timeline = Timeline.from_events(store.iter_events(run_id))
    train = timeline.train
    counts = ("first_step", "steps_in_row")
    train_rows = [
        [
            int(step),
            *(repr(float(train[name][index])) for name in TRAIN_COLUMNS[1:]),
            *(int(train[name][index]) for name in counts),
            *(repr(float(train[name][index])) for name in BUCKET_COLUMNS[len(counts) :]),
        ]
        for index, step in enumerate(train["step"])
    ]
    evaluation_rows = [[row[name] for name in EVALUATION_COLUMNS] for row in timeline.evaluations]
    change_rows = [[row[name] for name in CHANGE_COLUMNS] for row in timeline.changes]
    return {
        "train_steps.csv": _csv_text(TRAIN_COLUMNS + BUCKET_COLUMNS, train_rows),
        "evaluations.csv": _csv_text(EVALUATION_COLUMNS, evaluation_rows),
        "changes.csv": _csv_text(CHANGE_COLUMNS, change_rows),
        "run.json": json.dumps(run_card(store.get_run(run_id)), indent=2),
    }


def export_csv(store: RunStore, run_id: int, out: Path) -> Path:
    """A folder of CSV files, or one zip of them when ``out`` ends in .zip."""
    tables = csv_tables(store, run_id)
    try:
        if out.suffix.lower() == ".zip":
            out.parent.mkdir(parents=True, exist_ok=True)
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
                for name, text in tables.items():
                    archive.writestr(name, text)
        else:
            out.mkdir(parents=True, exist_ok=True)
            for name, text in tables.items():
                (out / name).write_text(text, encoding="utf-8")
    except OSError as error:
        raise RunFileError(
            f"cannot write the CSV export to {out} ({error.strerror or error})"
        ) from None
    return out


# ----- weights -------------------------------------------------------------------------------
def latest_checkpoint(store: RunStore, run_id: int) -> tuple[int, Path]:
    saved = list_checkpoints(store.checkpoint_dir(run_id))
    if not saved:
        raise RunStoreError(
            f"run {run_id} has no saved weights (checkpoints are written while a run trains)"
        )
    return saved[-1]


def export_weights(store: RunStore, run_id: int, out: Path) -> Path:
    """The model's state_dict at the run's last checkpoint, and a JSON card beside it."""
    import torch

    step, path = latest_checkpoint(store, run_id)
    checkpoint = load_checkpoint(path)
    buffer = io.BytesIO()
    torch.save(checkpoint.model_state, buffer)
    data = buffer.getvalue()
    card = {
        "format": "trainscope-weights",
        "step": step,
        "sha256": hashlib.sha256(data).hexdigest(),
        "load_with": "torch.load(path, weights_only=True), then model.load_state_dict(state)",
        "settings_at_step": checkpoint.meta.get("settings"),
        "run": run_card(store.get_run(run_id)),
    }
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        card_path(out).write_text(json.dumps(card, indent=2), encoding="utf-8")
    except OSError as error:
        raise RunFileError(
            f"cannot write the weights to {out} ({error.strerror or error})"
        ) from None
    return out


def card_path(weights_path: Path) -> Path:
    """``model.pt`` → ``model.json``: the card travels next to its weights."""
    return weights_path.with_suffix(".json")
