"""Experiments: the plans (fold split, seeds, shares, resamples), the runner, the summary.

The runner is driven with in-process ``ThreadSession``s here (fast); ``test_experiment_cli.py``
runs the real command, whose runs are worker processes.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import replace

import numpy as np
import pytest

from tests.engine.session_helpers import Lines, small_config
from trainscope.engine.config import DatasetSpec, ModelSpec, RunConfig
from trainscope.engine.data import prepare_data
from trainscope.engine.errors import TrainScopeError
from trainscope.engine.experiment_headless import experiment_result, run_experiment_headless
from trainscope.engine.experiment_plan import check_plan, plan_experiment
from trainscope.engine.experiment_report import _t_975, mean_and_spread
from trainscope.engine.experiment_runner import ExperimentRunner
from trainscope.engine.runs.store import RunStore
from trainscope.engine.session import ThreadSession


def thread_session(config, checkpoint_dir=None):
    return ThreadSession(config, checkpoint_dir=checkpoint_dir)


def rows_of(data) -> set[bytes]:
    """Rows as bytes (the features are scaled per fold, so compare the raw digits' rows)."""
    raw = data.validation_x * data.feature_std + data.feature_mean
    return {row.round(3).tobytes() for row in raw}


# --- the plans ------------------------------------------------------------------------------


def test_kfold_validation_folds_are_stratified_disjoint_cover_the_rest_and_never_touch_test():
    base = RunConfig(dataset=DatasetSpec(name="breast_cancer"), seed=5)
    plan = check_plan(plan_experiment("kfold", base, folds=5))
    single = prepare_data(base.dataset, base.seed)
    folds = [prepare_data(run.config.dataset, run.config.seed) for run in plan.runs]
    non_test = len(single.train_y) + len(single.validation_y)
    assert sum(len(fold.validation_y) for fold in folds) == non_test
    share = np.mean(np.concatenate([single.train_y, single.validation_y]))
    for fold in folds:
        np.testing.assert_array_equal(fold.test_y, single.test_y)  # the sealed test split
        assert len(fold.train_y) + len(fold.validation_y) == non_test
        assert abs(np.mean(fold.validation_y) - share) < 0.02  # each fold has the class mix
    validation_rows = [rows_of(fold) for fold in folds]
    for index, rows in enumerate(validation_rows):
        for other in validation_rows[index + 1 :]:
            assert not rows & other
    test_raw = single.test_x * single.feature_std + single.feature_mean
    test_rows = {row.round(3).tobytes() for row in test_raw}
    assert not set().union(*validation_rows) & test_rows


def test_a_seed_experiment_moves_the_weights_but_not_the_data():
    plan = plan_experiment("seeds", small_config(), seeds=[3, 7, 42])
    assert [run.config.seed for run in plan.runs] == [3, 7, 42]
    datasets = [prepare_data(run.config.dataset, run.config.seed) for run in plan.runs]
    for data in datasets[1:]:
        np.testing.assert_array_equal(data.validation_x, datasets[0].validation_x)
        np.testing.assert_array_equal(data.train_y, datasets[0].train_y)
    assert [run.config.seed for run in plan_experiment("seeds", small_config(), repeat=3).runs] == [
        7,
        8,
        9,
    ]


def test_learning_curve_and_bagging_change_only_the_training_rows():
    base = small_config()
    full = prepare_data(base.dataset, base.seed)
    curve = plan_experiment("learning-curve", base, train_fractions=[1, 0.25, 0.5])
    assert [run.value for run in curve.runs] == [0.25, 0.5, 1]
    sizes = [len(prepare_data(run.config.dataset, run.config.seed).train_y) for run in curve.runs]
    assert sizes == [
        round(0.25 * len(full.train_y)),
        round(0.5 * len(full.train_y)),
        len(full.train_y),
    ]
    bagging = plan_experiment("bagging", base, members=3)
    members = [prepare_data(run.config.dataset, run.config.seed) for run in bagging.runs]
    for member in members:
        np.testing.assert_array_equal(member.validation_x, full.validation_x)
        assert len(member.train_y) == len(full.train_y)
        np.testing.assert_array_equal(np.bincount(member.train_y), np.bincount(full.train_y))
        assert len(np.unique(member.train_x, axis=0)) < len(full.train_y)  # drawn with repeats
    assert not np.array_equal(members[0].train_x, members[1].train_x)


@pytest.mark.parametrize(
    ("kind", "sizes", "words"),
    [
        ("kfold", {"folds": 1}, "at least 2"),
        ("kfold", {"folds": 60}, "use fewer folds"),
        ("learning-curve", {"train_fractions": [0.5, 1.5]}, "at most 1"),
        ("learning-curve", {"train_fractions": [0.0]}, "greater than 0"),
        ("seeds", {"seeds": [3, 3]}, "twice"),
        ("seeds", {"repeat": 1}, "at least 2"),
        ("bagging", {"members": 0}, "at least 2"),
        ("nonsense", {}, "unknown experiment"),
    ],
)
def test_a_bad_experiment_is_refused_in_one_sentence_before_anything_runs(kind, sizes, words):
    base = RunConfig(dataset=DatasetSpec(name="iris"), model=ModelSpec(hidden=(8,)))
    with pytest.raises(TrainScopeError) as caught:
        check_plan(plan_experiment(kind, base, **sizes))
    message = str(caught.value)
    assert words in message
    assert "\n" not in message


# --- the summary ----------------------------------------------------------------------------


def test_mean_std_and_the_t_interval_are_the_textbook_ones():
    spread = mean_and_spread([0.90, 0.92, 0.94, 0.96, 0.98])
    assert spread["mean"] == pytest.approx(0.94)
    assert spread["std"] == pytest.approx(np.std([0.90, 0.92, 0.94, 0.96, 0.98], ddof=1))
    half = 2.776445105 * spread["std"] / math.sqrt(5)  # t(0.975, 4)
    assert spread["ci95"] == pytest.approx([0.94 - half, 0.94 + half])
    assert mean_and_spread([0.5])["std"] is None
    assert mean_and_spread([])["mean"] is None


@pytest.mark.parametrize("degrees_of_freedom", [1, 2, 4, 29, 30, 31, 63, 500])
def test_the_t_quantile_matches_scipy_without_importing_it(degrees_of_freedom):
    from scipy.stats import t

    expected = t.ppf(0.975, degrees_of_freedom)
    assert _t_975(degrees_of_freedom) == pytest.approx(expected, rel=1e-5)


# --- the runner -----------------------------------------------------------------------------


def quick(config: RunConfig) -> RunConfig:
    return replace(config, steps=60, epochs=None)


def run_to_end(runner: ExperimentRunner) -> list[tuple[int, list]]:
    batches = []
    for _ in range(20_000):
        batches += runner.poll()
        if runner.done:
            return batches
        time.sleep(0.01)
    raise AssertionError(f"the experiment did not end: {runner.counts}")


def test_the_runner_never_runs_more_than_parallel_and_every_run_finishes():
    plan = plan_experiment("seeds", quick(small_config()), repeat=4)
    live_counts = []
    runner = ExperimentRunner(plan, 2, thread_session)
    original_poll = runner.poll

    def poll():
        batches = original_poll()
        live_counts.append(sum(run.live for run in runner.runs))
        return batches

    runner.poll = poll
    batches = run_to_end(runner)
    assert max(live_counts) == 2
    assert [run.status for run in runner.runs] == ["finished"] * 4
    assert {index for index, _ in batches} == {0, 1, 2, 3}
    assert all(run.summary.steps == 60 for run in runner.runs)


def test_a_run_that_fails_is_marked_failed_and_the_others_go_on(tmp_path):
    missing = tmp_path / "gone.csv"
    missing.write_text("a,b,label\n" + "\n".join(f"{i},{i % 3},{i % 2}" for i in range(60)))
    plan = plan_experiment("seeds", quick(small_config()), repeat=3)
    broken = replace(plan.runs[1].config, dataset=DatasetSpec(name="csv", csv_path=str(missing)))
    plan = replace(plan, runs=(plan.runs[0], replace(plan.runs[1], config=broken), plan.runs[2]))
    missing.unlink()  # the file is gone by the time that run builds its data
    runner = ExperimentRunner(plan, 2, thread_session)
    run_to_end(runner)
    assert [run.status for run in runner.runs] == ["finished", "failed", "finished"]
    result = experiment_result(plan, runner.runs, None)
    assert result["counts"]["failed"] == 1
    assert result["summary"]["val_accuracy"]["n"] == 2


def test_stop_all_ends_the_running_runs_and_empties_the_queue():
    plan = plan_experiment("seeds", replace(small_config(), steps=None, epochs=None), repeat=4)
    runner = ExperimentRunner(plan, 2, thread_session)
    for _ in range(2000):
        runner.poll()
        if all(run.summary.steps > 5 for run in runner.runs[:2]):
            break
        time.sleep(0.01)
    runner.stop()
    assert [run.status for run in runner.runs] == ["stopped"] * 4
    assert runner.done


def test_a_bagging_experiment_reports_its_soft_vote_against_its_members(tmp_path):
    plan = plan_experiment("bagging", quick(small_config()), members=3)
    code = run_experiment_headless(
        plan,
        2,
        emit_json=True,
        runs_dir=str(tmp_path),
        out=(out := Lines()),
        err=Lines(),
        session_factory=thread_session,
    )
    assert code == 0
    result = json.loads(out.text)
    ensemble = result["ensemble"]
    assert ensemble["members"] == 3
    assert 0 <= ensemble["accuracy"] <= 1
    assert ensemble["members_best"]["accuracy"] >= ensemble["members_mean"]["accuracy"]
    assert result["best"]["val_accuracy"] == ensemble["members_best"]["accuracy"]
    with RunStore.open_dir(tmp_path) as store:
        runs = store.list_runs()
    groups = {run.experiment["uid"] for run in runs}
    assert len(runs) == 3
    assert len(groups) == 1
    assert sorted(run.experiment["index"] for run in runs) == [0, 1, 2]
    assert sorted(row["run_id"] for row in result["runs"]) == sorted(run.id for run in runs)
