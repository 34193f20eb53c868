"""``--headless --experiment KIND``: run an experiment's runs in parallel worker processes, print
a line as each ends, then (``--json``) one line with every run, the mean ± std and the rest."""

from __future__ import annotations

import csv
import io
import json
import logging
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from trainscope.engine import experiment_report as report
from trainscope.engine.errors import TrainScopeError
from trainscope.engine.experiment_runner import ENDED
from trainscope.engine.search_runner import SearchRunner, runner_for

if TYPE_CHECKING:
    from trainscope.engine.expectations import Expectation
    from trainscope.engine.experiment_plan import ExperimentPlan, PlannedRun
    from trainscope.engine.experiment_runner import ExperimentRunner, RunProgress, SessionFactory
    from trainscope.engine.lr_finder import LrFinding
    from trainscope.engine.runs.recorder import RunRecorder
    from trainscope.engine.scenario import Scenario

logger = logging.getLogger(__name__)
POLL_INTERVAL_S = 0.05


def run_experiment_headless(
    plan: ExperimentPlan,
    parallel: int,
    emit_json: bool,
    with_baselines: bool = False,
    runs_dir: str | None = None,
    record: bool = True,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    session_factory: SessionFactory | None = None,
    csv_path: str | None = None,
    tensorboard_dir: str | None = None,
    mlflow_db: str | None = None,
    lesson: Scenario | None = None,
    promises: tuple[Expectation, ...] | None = None,
) -> int:
    """Run ``plan`` to its end; 0 when every run finished or diverged, 1 when any failed.
    With ``csv_path`` the table of runs is also written there (``table_csv``); with
    ``tensorboard_dir`` / ``mlflow_db`` the recorded runs are exported there at the end.
    With an experiment ``lesson``, its promises (or ``promises``: a try's) are judged on the
    result (``expectations``)."""
    if session_factory is None:
        from trainscope.engine.worker import ProcessSession

        session_factory = ProcessSession
    request = lesson.experiment if lesson is not None else None
    finding = None
    if request is not None and request.lr_find:
        from trainscope.engine.lr_finder import finding_line, run_lr_find

        finding = run_lr_find(plan.base, session_factory)
        print(finding_line(finding), file=err, flush=True)
    with_baselines = with_baselines or (request is not None and request.baselines)
    recording = ExperimentRecording(plan, runs_dir) if record else None
    runner = runner_for(plan, parallel, session_factory, recording, runs_dir)
    planned = planned_runs(plan)
    print(
        f"experiment {plan.kind}: {planned} runs, {min(parallel, planned)} at a time",
        file=err,
        flush=True,
    )
    if isinstance(runner, SearchRunner):
        name = runner.study.study_name
        then = f"--study {name} adds trials to it" if runner.resumable else "kept in memory only"
        print(
            f"study {name} ({runner.spec.sampler} sampler, {runner.spec.pruner} pruning); {then}",
            file=err,
            flush=True,
        )
    reported: set[int] = set()
    failed_export = False
    try:
        while not runner.done:
            runner.poll()
            for index, progress in enumerate(runner.runs):
                if progress.status in ENDED and index not in reported:
                    reported.add(index)
                    print(_ended_line(progress), file=err, flush=True)
            time.sleep(POLL_INTERVAL_S)
    except KeyboardInterrupt:
        print("interrupted: stopping every run", file=err)
    finally:
        runner.close()
    baselines = None
    if with_baselines:
        from trainscope.engine.sklearn_baselines import baselines_over

        splits = [run.config for run in plan.runs] if plan.kind == "kfold" else [plan.base]
        baselines = baselines_over(splits)
    result = runner_result(plan, runner, baselines, finding)
    print(_summary_line(result), file=err, flush=True)
    if lesson is not None:
        from trainscope.engine.experiment_expectations import check_experiment

        outcomes = check_experiment(lesson.expect if promises is None else promises, result)
        result["scenario"] = lesson.id
        result["expectations"] = [outcome.to_dict() for outcome in outcomes]
        for outcome in outcomes:
            mark = "held" if outcome.held else "NOT held"
            print(f"  {mark}: {outcome.name}: {outcome.detail}", file=err, flush=True)
    if csv_path is not None:
        Path(csv_path).write_text(table_csv(result), encoding="utf-8")
        print(f"the table of runs is in {csv_path}", file=err, flush=True)
    if recording is not None and (tensorboard_dir or mlflow_db):
        try:
            for line in export_recorded(recording.uid, runs_dir, tensorboard_dir, mlflow_db):
                print(line, file=err, flush=True)
        except TrainScopeError as error:  # the runs stay recorded; only the export is missing
            print(f"export failed: {error}", file=err, flush=True)
            failed_export = True
    if emit_json:
        print(json.dumps(result), file=out, flush=True)
    return 1 if failed_export or any(run.status == "failed" for run in runner.runs) else 0


def table_csv(result: dict[str, Any]) -> str:
    """The experiment's table as CSV, one row per run: its place, varied value (a search's
    values, one column each), status, steps, time, run id and its validation figures."""
    runs, axis = result["runs"], result["axis"]
    params = list(dict.fromkeys(name for run in runs for name in run.get("params", {})))
    columns = ["index", "label", *(params or [axis]), "status", "pruned_at", "steps", "seconds"]
    columns += ["run_id", *report.SUMMARISED]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for run in runs:
        writer.writerow({**run, **run.get("params", {}), "steps": run["summary"].get("steps")})
    return buffer.getvalue()


def planned_runs(plan: ExperimentPlan) -> int:
    return plan.search.trials if plan.search is not None else len(plan.runs)


def search_result(runner: SearchRunner) -> dict[str, Any]:
    """What the search found: its space, best values, Optuna's importances, its study."""
    spec = runner.spec
    return {
        "space": [dimension.describe() for dimension in spec.space],
        "sampler": spec.sampler,
        "pruner": spec.pruner,
        "study": runner.study.study_name,
        "objective": "best validation loss (lower is better)",
        "best_params": runner.best_params(),
        "importances": runner.importances(),
        "trials_in_study": len(runner.study.trials),
    }


def runner_result(
    plan: ExperimentPlan,
    runner: ExperimentRunner,
    baselines: list[dict] | None,
    finding: LrFinding | None = None,
) -> dict[str, Any]:
    """``experiment_result``, plus a search's study and a lesson's range test: the ``--json``
    line, and what the window's view judges a lesson on."""
    result = experiment_result(plan, runner.runs, baselines)
    if isinstance(runner, SearchRunner):
        result["search"] = search_result(runner)
    if finding is not None:
        result["suggested_lr"] = finding.suggestion
        result["lr_find"] = {"rule": finding.rule, "stopped": finding.stopped}
    return result


def experiment_result(
    plan: ExperimentPlan, runs: list[RunProgress], baselines: list[dict] | None
) -> dict[str, Any]:
    """The experiment as one JSON-ready dict (the ``--json`` line)."""
    rows = [run_row(plan, run) for run in runs]
    best = report.best_run(runs)
    result: dict[str, Any] = {
        "experiment": plan.kind,
        "axis": plan.axis,
        "runs": rows,
        "summary": report.summarise(runs),
        "best": rows[runs.index(best)] if best is not None else None,
        "counts": {status: sum(run["status"] == status for run in rows) for status in ENDED},
    }
    if baselines is not None:
        result["sklearn_baselines"] = baselines
    ensemble = report.soft_vote(plan, runs)
    if ensemble is not None:
        result["ensemble"] = ensemble
    return result


def run_row(plan: ExperimentPlan, run: RunProgress) -> dict[str, Any]:
    """One run: its place and varied value, status, time, and its own full summary."""
    return {
        "index": run.planned.index,
        "label": run.planned.label,
        plan.axis: run.planned.value,
        "status": run.status,
        "seconds": round(run.seconds, 2) if run.seconds is not None else None,
        "run_id": run.record.run_id if run.record is not None else None,
        **({"params": dict(run.planned.params)} if run.planned.params is not None else {}),
        **({"pruned_at": run.pruned_at} if run.pruned_at is not None else {}),
        **report.run_metrics(run),
        "summary": run.summary.to_dict(),
    }


class ExperimentRecording:
    """Records each run as it starts, all under one experiment uid (the store's group), so the
    experiment's runs can be listed and exported together afterwards (``engine.runs.experiment_export``)."""

    def __init__(self, plan: ExperimentPlan, runs_dir: str | None) -> None:
        self.plan = plan
        self.runs_dir = runs_dir
        self.uid = uuid.uuid4().hex

    def __call__(self, planned: PlannedRun) -> RunRecorder | None:
        from trainscope.engine.runs.recorder import RunRecorder
        from trainscope.engine.runs.store import RunStore

        plan = self.plan
        group = {
            "uid": self.uid,
            "kind": plan.kind,
            "axis": plan.axis,
            "index": planned.index,
            "label": planned.label,
            "value": planned.value,
            "runs": planned_runs(plan),
        }
        name = f"{plan.kind} · {planned.label} · {planned.config.dataset.name}"
        try:
            with RunStore.open_dir(self.runs_dir) as store:
                return RunRecorder(store, planned.config, name, experiment=group)
        except (TrainScopeError, OSError) as error:
            logger.warning("run %s will not be recorded: %s", planned.label, error)
            return None


def export_recorded(
    uid: str, runs_dir: str | None, tensorboard_dir: str | None, mlflow_db: str | None
) -> list[str]:
    """Write the recorded experiment ``uid`` where asked; a line per export for the user."""
    from trainscope.engine.runs import experiment_export
    from trainscope.engine.runs.store import RunStore

    lines = []
    with RunStore.open_dir(runs_dir) as store:
        if tensorboard_dir is not None:
            out = experiment_export.export_experiment_tensorboard(store, uid, tensorboard_dir)
            lines.append(f"TensorBoard: one folder per run in {out} (tensorboard --logdir {out})")
        if mlflow_db is not None:
            uri = experiment_export.export_experiment_mlflow(store, uid, mlflow_db)
            lines.append(f"MLflow: the runs are in {uri} (mlflow ui --backend-store-uri {uri})")
    return lines


def _ended_line(run: RunProgress) -> str:
    numbers = report.run_metrics(run)
    accuracy = numbers["val_accuracy"]
    score = f"val acc {accuracy:.3f}" if accuracy is not None else "no evaluation"
    seconds = f"{run.seconds:.1f} s" if run.seconds is not None else ""
    return f"  {run.planned.label}: {run.status}, {score}, {run.summary.steps} steps, {seconds}"


def _summary_line(result: dict[str, Any]) -> str:
    accuracy = result["summary"]["val_accuracy"]
    counts = ", ".join(f"{count} {status}" for status, count in result["counts"].items() if count)
    if accuracy["mean"] is None:
        return f"no run evaluated ({counts})"
    spread = f" ± {accuracy['std']:.3f}" if accuracy["std"] is not None else ""
    return f"val accuracy {accuracy['mean']:.3f}{spread} over {accuracy['n']} runs ({counts})"
