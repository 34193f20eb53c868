"""Every bundled scenario, run for real: its promise holds, and its "try this" does what it says.

A lesson whose phenomenon does not appear is a bug, so each scenario's ``[expect]`` section is
checked on three seeds through the headless JSON the CLI prints. Then each scenario's suggested
action is carried out the way a learner would (mid-run commands at a known step, or a new run
for data and model changes) and compared with what the story claims: ``engine.lesson_checks``
does that, and ``bench/scenario_seeds.py`` runs the same checks on more seeds with margins.
Runs use one torch thread each, in as many processes as there are cores (at most
``RUN_PROCESSES``): every run is computed once, up front, and each test reads its own. On a
two-core machine that halves the wall time of the slowest file of the suite without changing a
single run (a run's numbers depend on its seed, not on which process trains it).
"""

from __future__ import annotations

import io
import json
import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import pytest

from trainscope.engine.headless import run_headless
from trainscope.engine.lesson_checks import TRY_THIS_CHECKS, try_this_checks
from trainscope.engine.lesson_moment import ACT_AT_LEAST_S, MOMENT_AT_LEAST_S
from trainscope.engine.scenario import Scenario, list_scenarios, load_scenario

#: Three seeds in CI; set TRAINSCOPE_SCENARIO_SEEDS=4,5,6,7 to check robustness further.
SEEDS = tuple(int(seed) for seed in os.environ.get("TRAINSCOPE_SCENARIO_SEEDS", "1,2,3").split(","))
SCENARIO_IDS = [info.id for info in list_scenarios() if info.experiment is None]  # one run each
RUN_PROCESSES = 4


def headless_report(scenario: Scenario, seed: int) -> dict:
    """The JSON line ``main.py --headless --scenario ID --seed S --json`` would print."""
    out, err = io.StringIO(), io.StringIO()
    config = scenario.run_config(seed=seed)
    code = run_headless(config, emit_json=True, out=out, err=err, scenario=scenario)
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue().strip().splitlines()[-1])


def _one_torch_thread() -> None:
    import torch

    torch.set_num_threads(1)


def _promise_report(scenario_id: str, seed: int) -> dict:
    return headless_report(load_scenario(scenario_id), seed)


def _failed_try_this(scenario_id: str, seed: int) -> tuple[int, list[str]]:
    """How many checks the suggestion has, and the descriptions of those that failed."""
    checks = try_this_checks(load_scenario(scenario_id), seed)
    return len(checks), [check.describe() for check in checks if not check.held]


@pytest.fixture(scope="module")
def outcomes() -> dict[tuple[str, str, int], object]:
    """Every run of this file, keyed (kind, scenario id, seed), trained in parallel processes."""
    processes = max(1, min(RUN_PROCESSES, os.cpu_count() or 1))
    jobs = {}
    with ProcessPoolExecutor(processes, get_context("spawn"), _one_torch_thread) as pool:
        for scenario_id in SCENARIO_IDS:
            for seed in SEEDS:
                jobs["promise", scenario_id, seed] = pool.submit(_promise_report, scenario_id, seed)
                jobs["try", scenario_id, seed] = pool.submit(_failed_try_this, scenario_id, seed)
        return {key: job.result() for key, job in jobs.items()}


# --- the promise ------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_scenario_shows_its_phenomenon_on_every_seed(scenario_id, outcomes):
    scenario = load_scenario(scenario_id)
    for seed in SEEDS:
        report = outcomes["promise", scenario_id, seed]
        assert report["scenario"] == scenario_id
        assert len(report["expectations"]) == len(scenario.expect)
        failed = [outcome for outcome in report["expectations"] if not outcome["held"]]
        assert not failed, f"{scenario_id}, seed {seed}: {failed}"
        assert_moment_paced(scenario, report, seed)


def assert_moment_paced(scenario: Scenario, report: dict, seed: int) -> None:
    """At the lesson's pace its moment comes >= 10 s after the start and leaves >= 15 s to act
    (counted in steps at the pace; bench/lesson_timing.py measures the same with a clock)."""
    moment, end = report["moment_step"], report["steps"]
    assert moment is not None, f"{scenario.id}, seed {seed}: the lesson's moment never came"
    assert scenario.pace is not None, f"{scenario.id}: the file declares no pace"
    assert moment / scenario.pace >= MOMENT_AT_LEAST_S, (scenario.id, seed, moment)
    assert (end - moment) / scenario.pace >= ACT_AT_LEAST_S, (scenario.id, seed, moment, end)


# --- the "try this" of each scenario ----------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_try_this_does_what_the_story_says(scenario_id, seed, outcomes):
    """Carry out the suggestion (``engine.lesson_checks`` says how, per scenario) and check it."""
    count, failed = outcomes["try", scenario_id, seed]
    assert count > 0
    assert not failed, f"{scenario_id}, seed {seed}: {failed}"


def test_every_scenario_has_a_try_this_check():
    assert set(TRY_THIS_CHECKS) == set(SCENARIO_IDS)


def test_every_scenario_has_a_try_this_with_an_action_or_a_reading():
    for scenario_id in SCENARIO_IDS:
        scenario = load_scenario(scenario_id)
        assert scenario.try_this, scenario_id
        assert any(
            entry.command or entry.settings or entry.threshold is not None or entry.needs_restart
            for entry in scenario.try_this
        ), f"{scenario_id}: at least one suggestion should be something to do"
