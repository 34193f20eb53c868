"""An experiment on a local Ray instance: the same engine sessions, in Ray actors, give the same
numbers as local worker processes for the same seeds. Nothing phones home: usage statistics
off, no dashboard; Ray bounds its start-up wait (``engine.ray_executor._init_within``)."""

from __future__ import annotations

import io
import json
import os
import time
from dataclasses import replace

import pytest

from tests.engine.session_helpers import HANG_TIMEOUT_S, small_config
from trainscope.engine.experiment_headless import run_experiment_headless
from trainscope.engine.experiment_plan import plan_experiment
from trainscope.engine.worker import ProcessSession

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray():
    from trainscope.engine import ray_executor

    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    cpus = ray_executor.connect("auto", num_cpus=2)
    yield cpus
    ray_executor.shutdown()


def experiment_json(plan, parallel: int, session_factory) -> dict:
    out, err = io.StringIO(), io.StringIO()
    code = run_experiment_headless(
        plan, parallel, True, record=False, out=out, err=err, session_factory=session_factory
    )
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_a_two_run_experiment_on_ray_matches_local_worker_processes(local_ray):
    from trainscope.engine import ray_executor

    assert local_ray == 2
    assert os.environ["RAY_USAGE_STATS_ENABLED"] == "0"
    base = replace(small_config(), steps=120, epochs=None, pace=None)
    plan = plan_experiment("seeds", base, seeds=[3, 7])
    on_ray = experiment_json(plan, 2, ray_executor.session_factory(keep_checkpoints=True))
    local = experiment_json(plan, 2, ProcessSession)
    assert [run["status"] for run in on_ray["runs"]] == ["finished", "finished"]
    for remote, here in zip(on_ray["runs"], local["runs"], strict=True):
        assert remote["seed"] == here["seed"]
        assert remote["summary"]["steps"] == here["summary"]["steps"] == 120
        assert remote["val_accuracy"] == here["val_accuracy"]
        assert remote["val_loss"] == pytest.approx(here["val_loss"], rel=1e-6)
    assert on_ray["summary"]["val_accuracy"]["mean"] == local["summary"]["val_accuracy"]["mean"]


def test_a_lost_ray_worker_fails_its_own_run_and_the_other_goes_on(local_ray):
    from trainscope.engine import ray_executor
    from trainscope.engine.experiment_runner import ExperimentRunner

    base = replace(small_config(), steps=None, epochs=None, pace=20.0)  # slow: time to kill one
    plan = plan_experiment("seeds", base, seeds=[1, 2])
    runner = ExperimentRunner(plan, 2, ray_executor.session_factory(keep_checkpoints=False))
    try:
        runner.poll()
        victim = runner._sessions[0]
        ray.kill(victim._actor)
        deadline = time.monotonic() + HANG_TIMEOUT_S  # only a hang-catcher
        while runner.runs[0].status != "failed" and time.monotonic() < deadline:
            runner.poll()
            time.sleep(0.02)
        assert runner.runs[0].status == "failed"
        assert any("Ray worker was lost" in error for error in runner.runs[0].summary.errors)
        assert runner.runs[1].status == "running"
    finally:
        runner.close()
