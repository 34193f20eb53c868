"""Exports: CSV tables, TensorBoard's own reader, and weights that load with weights_only."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from importlib import metadata

import numpy as np
import pytest
import torch

from tests.engine.runs.helpers import fold, lesson_config, rerecord
from trainscope.engine.models import build_model
from trainscope.engine.runs.errors import RunStoreError
from trainscope.engine.runs.export import export_run
from trainscope.engine.runs.store import RunStore


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_holds_the_final_timeline(recorded, tmp_path):
    path, run_id, live = recorded
    state = fold(live)
    with RunStore(path) as store:
        folder = export_run(store, run_id, "csv", tmp_path / "csv")
        zipped = export_run(store, run_id, "csv", tmp_path / "run.zip")
    train = _rows((folder / "train_steps.csv").read_text())
    assert [int(row["step"]) for row in train] == state.train["step"].tolist()
    assert [float(row["loss"]) for row in train] == state.train["loss"].tolist()  # exact
    evaluations = _rows((folder / "evaluations.csv").read_text())
    validation = [row for row in evaluations if row["split"] == "validation"]
    assert [int(row["step"]) for row in validation] == state.evaluations["step"].tolist()
    assert [float(row["accuracy"]) for row in validation] == state.evaluations[
        "val_accuracy"
    ].tolist()
    assert {row["split"] for row in evaluations} == {"validation", "test"}
    changes = _rows((folder / "changes.csv").read_text())
    assert [(row["step"], row["key"], row["new"]) for row in changes] == [("40", "lr", "0.01")]
    assert json.loads((folder / "run.json").read_text())["config"]["seed"] == 7
    with zipfile.ZipFile(zipped) as archive:
        assert set(archive.namelist()) == {
            "train_steps.csv",
            "evaluations.csv",
            "changes.csv",
            "run.json",
        }
        assert archive.read("train_steps.csv").decode() == (folder / "train_steps.csv").read_text()


def test_tensorboard_reads_the_scalars(recorded, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    path, run_id, live = recorded
    state = fold(live)
    with RunStore(path) as store:
        logdir = export_run(store, run_id, "tensorboard", tmp_path / "tb")
    reader = EventAccumulator(str(logdir))
    reader.Reload()
    tags = set(reader.Tags()["scalars"])
    assert {"train/loss", "train/lr", "val/loss", "val/accuracy", "test/accuracy"} <= tags
    loss = reader.Scalars("train/loss")
    assert [point.step for point in loss] == state.train["step"].astype(int).tolist()
    np.testing.assert_allclose(
        [p.value for p in loss], state.train["loss"], rtol=1e-6
    )  # float32 in TB
    accuracy = reader.Scalars("val/accuracy")
    np.testing.assert_allclose(
        [p.value for p in accuracy], state.evaluations["val_accuracy"], rtol=1e-6
    )
    assert reader.Scalars("train/lr")[-1].value == pytest.approx(0.01)


def test_weights_load_with_weights_only_and_carry_their_card(recorded, tmp_path):
    _, _, live = recorded
    database = tmp_path / "runs.sqlite"
    run_id = rerecord(database, live, with_checkpoint=True)
    with RunStore(database) as store:
        out = export_run(store, run_id, "weights", tmp_path / "model.pt")
    state_dict = torch.load(out, weights_only=True)
    config = lesson_config()
    model = build_model(config.model, 2, 2, 0.0, None)
    model.load_state_dict(state_dict)  # the card's recipe rebuilds the exact architecture
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["step"] == 120
    assert card["run"]["config"]["model"]["hidden"] == [16]
    assert card["run"]["versions"]["torch"] == metadata.version("torch")
    assert card["run"]["final"]["val_accuracy"] is not None


def test_weights_of_a_run_without_checkpoints_is_one_sentence(recorded, tmp_path):
    path, run_id, _ = recorded
    with RunStore(path) as store, pytest.raises(RunStoreError, match="has no saved weights"):
        export_run(store, run_id, "weights", tmp_path / "model.pt")
    with (
        RunStore(path) as store,
        pytest.raises(RunStoreError, match="export format must be one of"),
    ):
        export_run(store, run_id, "parquet", tmp_path / "x")
