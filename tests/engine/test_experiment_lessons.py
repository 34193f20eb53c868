"""The experiment lessons, run for real: each one's promise holds on every seed.

An experiment lesson (a scenario with an ``[experiment]`` table) trains a set of runs (folds,
seeds, training shares, bootstrap members or a grid) and promises something about them together
(``engine.experiment_expectations``). Each is run as ``main.py --headless --scenario ID --seed S
--json`` would run it, with in-process sessions one after the other (the numbers depend on the
seeds, not on which process trains them), lessons spread over the cores. Three seeds in CI; set
TRAINSCOPE_SCENARIO_SEEDS=1,2,3,4,5,6,7,8,9,10,42 for the 11-seed table.
"""

from __future__ import annotations

import io
import json
import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import pytest

from trainscope.engine.experiment_headless import run_experiment_headless
from trainscope.engine.experiment_plan import check_plan
from trainscope.engine.scenario import list_scenarios, load_scenario
from trainscope.engine.session import ThreadSession

SEEDS = tuple(int(seed) for seed in os.environ.get("TRAINSCOPE_SCENARIO_SEEDS", "1,2,3").split(","))
LESSON_IDS = [info.id for info in list_scenarios() if info.experiment is not None]
RUN_PROCESSES = 4
#: Each lesson's tries that promise something about the experiment run again.
TRIES = {
    scenario_id: [i for i, step in enumerate(load_scenario(scenario_id).try_this) if step.expect]
    for scenario_id in LESSON_IDS
}


def lesson_report(scenario_id: str, seed: int, try_index: int | None = None) -> dict:
    """The JSON line of the lesson's experiment on ``seed``; with ``try_index``, of that try
    (the experiment run again with its changes, judged by the try's own promise)."""
    import torch

    torch.set_num_threads(1)
    scenario = load_scenario(scenario_id)
    assert scenario.experiment is not None
    config, promises = scenario.run_config(seed=seed), None
    if try_index is not None:
        step = scenario.try_this[try_index]
        config, promises = step.restart_config(config), step.expect
    plan = check_plan(scenario.experiment.plan(config))
    out, err = io.StringIO(), io.StringIO()
    code = run_experiment_headless(
        plan,
        1,
        True,
        record=False,
        out=out,
        err=err,
        session_factory=ThreadSession,
        lesson=scenario,
        promises=promises,
    )
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue().strip().splitlines()[-1])


@pytest.fixture(scope="module")
def reports() -> dict[tuple[str, int], dict]:
    processes = max(1, min(RUN_PROCESSES, os.cpu_count() or 1))
    with ProcessPoolExecutor(processes, get_context("spawn")) as pool:
        jobs = {
            (scenario_id, seed, index): pool.submit(lesson_report, scenario_id, seed, index)
            for scenario_id in LESSON_IDS
            for index in (None, *TRIES[scenario_id])
            for seed in SEEDS
        }
        return {key: job.result() for key, job in jobs.items()}


def test_there_are_six_experiment_lessons():
    assert len(LESSON_IDS) == 6


@pytest.mark.parametrize("scenario_id", LESSON_IDS)
def test_experiment_lesson_shows_its_phenomenon_on_every_seed(scenario_id, reports):
    scenario = load_scenario(scenario_id)
    for seed in SEEDS:
        report = reports[scenario_id, seed, None]
        assert report["scenario"] == scenario_id
        assert report["experiment"] == scenario.experiment.kind
        assert len(report["expectations"]) == len(scenario.expect)
        failed = [outcome for outcome in report["expectations"] if not outcome["held"]]
        assert not failed, f"{scenario_id}, seed {seed}: {failed}"


@pytest.mark.parametrize("scenario_id", LESSON_IDS)
def test_experiment_lesson_try_this_does_what_it_says_on_every_seed(scenario_id, reports):
    scenario = load_scenario(scenario_id)
    assert scenario.try_this, f"{scenario_id}: a lesson suggests something to try"
    for index in TRIES[scenario_id]:
        for seed in SEEDS:
            report = reports[scenario_id, seed, index]
            failed = [outcome for outcome in report["expectations"] if not outcome["held"]]
            assert not failed, f"{scenario_id}, try {index + 1}, seed {seed}: {failed}"


def test_the_range_test_lesson_reports_its_suggestion_and_the_grid(reports):
    report = reports["find-the-learning-rate", SEEDS[0], None]
    assert report["suggested_lr"] > 0
    assert "minimum" in report["lr_find"]["rule"]
    assert len(report["runs"]) == 9
    assert report["search"]["sampler"] == "grid"


def test_the_baselines_lesson_fits_the_three_baselines_on_every_fold(reports):
    report = reports["network-vs-forest", SEEDS[0], None]
    assert [row["name"] for row in report["sklearn_baselines"]] == [
        "logistic regression",
        "random forest",
        "gradient boosting",
    ]
    assert all(row["splits"] == 5 for row in report["sklearn_baselines"])
