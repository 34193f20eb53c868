"""An experiment's runs exported together, read back by TensorBoard's and MLflow's own readers."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from tests.engine.session_helpers import Lines, small_config
from trainscope.engine.experiment_headless import run_experiment_headless
from trainscope.engine.experiment_plan import plan_experiment
from trainscope.engine.runs.errors import RunFileError, RunStoreError
from trainscope.engine.runs.experiment_export import (
    export_experiment_mlflow,
    export_experiment_tensorboard,
    mlflow_uri,
)
from trainscope.engine.runs.store import RunStore
from trainscope.engine.runs.timeline import Timeline
from trainscope.engine.session import ThreadSession


@pytest.fixture(scope="module")
def recorded_seeds(tmp_path_factory):
    """A recorded 2-seed experiment: (runs_dir, its uid, the JSON result)."""
    runs_dir = tmp_path_factory.mktemp("runs")
    base = replace(small_config(), steps=60, epochs=None, pace=None)
    out = Lines()
    code = run_experiment_headless(
        plan_experiment("seeds", base, seeds=[3, 9]),
        1,
        emit_json=True,
        runs_dir=str(runs_dir),
        out=out,
        err=Lines(),
        session_factory=lambda config, checkpoint_dir=None: ThreadSession(
            config, checkpoint_dir=checkpoint_dir
        ),
    )
    assert code == 0
    with RunStore.open_dir(runs_dir) as store:
        (uid,) = {info.experiment["uid"] for info in store.list_runs()}
    return runs_dir, uid, json.loads(out.text)


def _validation_accuracy(store: RunStore, run_id: int) -> list[float]:
    timeline = Timeline.from_events(store.iter_events(run_id))
    return [row["accuracy"] for row in timeline.evaluations if row["split"] == "validation"]


def test_tensorboard_gets_one_event_folder_per_run_that_its_reader_overlays(
    recorded_seeds, tmp_path
):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_multiplexer import EventMultiplexer

    runs_dir, uid, result = recorded_seeds
    with RunStore.open_dir(runs_dir) as store:
        out = export_experiment_tensorboard(store, uid, tmp_path / "tb")
        expected = {
            row["run_id"]: _validation_accuracy(store, row["run_id"]) for row in result["runs"]
        }
    assert sorted(path.name for path in out.iterdir()) == ["00-seed_3", "01-seed_9"]
    reader = EventMultiplexer().AddRunsFromDirectory(str(out))
    reader.Reload()
    assert sorted(reader.Runs()) == ["00-seed_3", "01-seed_9"]
    for folder, row in zip(["00-seed_3", "01-seed_9"], result["runs"], strict=True):
        points = reader.Scalars(folder, "val/accuracy")
        np.testing.assert_allclose([p.value for p in points], expected[row["run_id"]], rtol=1e-6)
        assert [p.step for p in reader.Scalars(folder, "train/loss")][-1] == 60
    with RunStore.open_dir(runs_dir) as store, pytest.raises(RunFileError, match="already holds"):
        export_experiment_tensorboard(store, uid, out)


def test_mlflow_gets_a_parent_run_and_a_child_per_run_with_params_and_per_step_metrics(
    recorded_seeds, tmp_path
):
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    runs_dir, uid, result = recorded_seeds
    db = tmp_path / "mlflow.db"
    with RunStore.open_dir(runs_dir) as store:
        uri = export_experiment_mlflow(store, uid, db)
        expected = {
            row["run_id"]: _validation_accuracy(store, row["run_id"]) for row in result["runs"]
        }
    assert uri == mlflow_uri(db)
    assert db.is_file()
    client = MlflowClient(tracking_uri=uri)
    (experiment,) = [e for e in client.search_experiments() if e.name != "Default"]
    runs = client.search_runs([experiment.experiment_id])
    parents = [run for run in runs if "mlflow.parentRunId" not in run.data.tags]
    children = sorted(
        (run for run in runs if "mlflow.parentRunId" in run.data.tags),
        key=lambda run: int(run.data.tags["trainscope.index"]),
    )
    assert len(parents) == 1
    assert len(children) == 2
    (parent,) = parents
    assert all(run.data.tags["mlflow.parentRunId"] == parent.info.run_id for run in children)
    assert all(run.data.tags["trainscope.experiment"] == uid for run in runs)
    assert parent.data.params["kind"] == "seeds"
    accuracy = result["summary"]["val_accuracy"]
    assert parent.data.metrics["val_accuracy_mean"] == pytest.approx(accuracy["mean"])
    for child, row in zip(children, result["runs"], strict=True):
        assert child.info.run_name == row["label"]
        assert child.info.status == "FINISHED"
        assert child.data.params["seed"] == str(row["seed"])
        assert child.data.params["dataset.name"] == "moons"
        history = client.get_metric_history(child.info.run_id, "val/accuracy")
        assert [m.value for m in sorted(history, key=lambda m: m.step)] == pytest.approx(
            expected[row["run_id"]]
        )
        steps = [m.step for m in client.get_metric_history(child.info.run_id, "train/loss")]
        assert sorted(steps) == list(range(1, 61))


def test_an_experiment_with_no_recorded_runs_is_one_sentence(recorded_seeds, tmp_path):
    runs_dir, _, _ = recorded_seeds
    with RunStore.open_dir(runs_dir) as store, pytest.raises(RunStoreError, match="no recorded"):
        export_experiment_tensorboard(store, "0" * 32, tmp_path / "tb")
