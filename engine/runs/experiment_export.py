"""An experiment's runs exported together: TensorBoard folders (one per run) and MLflow.

The store records every run of an experiment under one group uid (``RunInfo.experiment``);
these writers read that group back. TensorBoard overlays runs found in sibling folders, so each
run gets its own ``NN-label`` folder under the one the user gave. MLflow gets a parent run for
the experiment (its kind, axis and summary) and a child run per member with its params, every
per-step scalar under the same names as TensorBoard's (``engine.runs.scalars``) and tags that
name the group, in the SQLite tracking store at the path the user gives — MLflow's default
store since 3.7. mlflow is an optional extra; without it the export is one sentence.
"""

from __future__ import annotations

import re
import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainscope.engine.runs.errors import RunFileError, RunStoreError
from trainscope.engine.runs.scalars import scalar_rows
from trainscope.engine.runs.tensorboard_export import export_tensorboard
from trainscope.engine.runs.timeline import Timeline

if TYPE_CHECKING:
    import os

    from trainscope.engine.runs.store import RunInfo, RunStore

#: MLflow's log_batch takes at most this many metrics (and 100 params) per call.
METRICS_PER_BATCH = 1000
PARAMS_PER_BATCH = 100
#: The store's statuses (engine.runs.outcome) as MLflow's; the rest (stopped, interrupted) KILLED.
MLFLOW_STATUS = {"completed": "FINISHED", "diverged": "FAILED"}


def experiment_runs(store: RunStore, uid: str) -> list[RunInfo]:
    """The recorded runs of experiment ``uid``, in the experiment's order."""
    runs = [info for info in store.list_runs() if (info.experiment or {}).get("uid") == uid]
    if not runs:
        raise RunStoreError(f"no recorded runs belong to experiment {uid}")
    return sorted(runs, key=lambda info: int(info.experiment["index"]))  # type: ignore[index]


def run_folder_name(info: RunInfo) -> str:
    """``03-fold_4``: the run's place (so folders sort as the table does) and its label."""
    group = info.experiment or {}
    label = re.sub(r"[^A-Za-z0-9._=-]+", "_", str(group.get("label", info.id))).strip("_")
    return f"{int(group.get('index', 0)):02d}-{label or info.id}"


def holds_files(folder: Path) -> bool:
    """True when ``folder`` is a file or a folder with anything in it: an export never mixes runs."""
    return folder.exists() and (not folder.is_dir() or any(folder.iterdir()))


def export_experiment_tensorboard(
    store: RunStore, uid: str, out_path: str | os.PathLike[str]
) -> Path:
    """One TensorBoard event folder per run under ``out_path``; `tensorboard --logdir` it."""
    out = Path(out_path).expanduser()
    if holds_files(out):
        raise RunFileError(f"{out} already holds files; give a new or empty folder")
    for info in experiment_runs(store, uid):
        export_tensorboard(store, info.id, out / run_folder_name(info))
    return out


def mlflow_uri(path: str | os.PathLike[str]) -> str:
    """The SQLite tracking URI MLflow's client takes for a database file."""
    return "sqlite:///" + str(Path(path).expanduser().resolve())


def import_mlflow() -> Any:
    """MLflow's client class, or one sentence that says how to get it."""
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise RunFileError(
            "MLflow export needs the mlflow package: pip install 'trainscope[mlflow]'"
        ) from None
    return MlflowClient


def export_experiment_mlflow(store: RunStore, uid: str, db_path: str | os.PathLike[str]) -> str:
    """Write experiment ``uid`` to the MLflow SQLite store at ``db_path``; returns its URI."""
    client_class = import_mlflow()
    from mlflow.entities import Metric, Param

    runs = experiment_runs(store, uid)
    group = runs[0].experiment or {}
    kind = str(group.get("kind", "experiment"))
    uri = mlflow_uri(db_path)
    try:
        client = client_class(tracking_uri=uri)
        name = f"TrainScope {kind} {uid[:8]}"
        existing = client.get_experiment_by_name(name)
        experiment_id = existing.experiment_id if existing else client.create_experiment(name)
        tags = {"trainscope.experiment": uid, "trainscope.kind": kind}
        parent = client.create_run(experiment_id, run_name=f"{kind} · {len(runs)} runs", tags=tags)
        parent_id = parent.info.run_id
        for info in runs:
            child_tags = tags | _member_tags(info) | {"mlflow.parentRunId": parent_id}
            run = client.create_run(
                experiment_id,
                run_name=str((info.experiment or {}).get("label", info.name)),
                start_time=int(info.created * 1000),
                tags=child_tags,
            )
            params = [Param(key, value) for key, value in run_params(info).items()]
            metrics = [
                Metric(key, value, int(info.created * 1000), step)
                for step, values in scalar_rows(Timeline.from_events(store.iter_events(info.id)))
                for key, value in values.items()
            ]
            for start in range(0, len(params), PARAMS_PER_BATCH):
                client.log_batch(run.info.run_id, params=params[start : start + PARAMS_PER_BATCH])
            for start in range(0, len(metrics), METRICS_PER_BATCH):
                client.log_batch(
                    run.info.run_id, metrics=metrics[start : start + METRICS_PER_BATCH]
                )
            client.set_terminated(run.info.run_id, MLFLOW_STATUS.get(info.status, "KILLED"))
        summary = _summary_metrics(runs)
        now = int(time.time() * 1000)
        client.log_batch(
            parent_id,
            metrics=[Metric(key, value, now, 0) for key, value in summary.items()],
            params=[Param("kind", kind), Param("axis", str(group.get("axis", kind)))],
        )
        client.set_terminated(parent_id, "FINISHED")
    except RunFileError:
        raise
    except Exception as error:  # MLflow's own errors (a locked or foreign database, ...)
        raise RunFileError(f"cannot write the MLflow store {db_path} ({error})") from None
    return uri


def run_params(info: RunInfo) -> dict[str, str]:
    """The run's config flattened to MLflow params: ``dataset.name``, ``settings.lr``, ``seed``…"""
    params: dict[str, str] = {}
    for key, value in info.config.items():
        if isinstance(value, dict):
            params |= {f"{key}.{inner}": str(item) for inner, item in value.items()}
        elif key != "schedule":
            params[key] = str(value)
    if info.config.get("schedule"):
        params["schedule"] = str(info.config["schedule"])
    return params


def _member_tags(info: RunInfo) -> dict[str, str]:
    group = info.experiment or {}
    return {
        "trainscope.run_uid": info.uid,
        "trainscope.run_id": str(info.id),
        "trainscope.index": str(group.get("index")),
        "trainscope.value": str(group.get("value")),
        "trainscope.status": info.status,
    }


def _summary_metrics(runs: list[RunInfo]) -> dict[str, float]:
    """The group's mean and spread of each run's final validation figures."""
    summary: dict[str, float] = {}
    for name in ("val_accuracy", "val_loss"):
        values = [
            float(info.final[name])
            for info in runs
            if isinstance(info.final.get(name), int | float)
        ]
        if values:
            summary[f"{name}_mean"] = statistics.fmean(values)
            if len(values) > 1:
                summary[f"{name}_std"] = statistics.stdev(values)
    return summary
