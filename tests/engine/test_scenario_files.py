"""Every bundled scenario, run for real: its promise holds, and its "try this" does what it says.

A lesson whose phenomenon does not appear is a bug, so each scenario's ``[expect]`` section is
checked on three seeds through the headless JSON the CLI prints. Then each scenario's suggested
action is carried out the way a learner would (mid-run commands at a known step, or a new run
for data and model changes) and compared with what the story claims. Runs use one torch thread:
on a shared two-core machine that keeps their timing steady.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import replace

import numpy as np
import pytest
import torch

from engine import events as ev
from engine.expectations import measure
from engine.headless import run_headless
from engine.history import RunHistory
from engine.metrics import ThresholdTable
from engine.scenario import Scenario, list_scenarios, load_scenario
from tests.engine.scenario_helpers import finished_run, scenario_run

#: Three seeds in CI; set TRAINSCOPE_SCENARIO_SEEDS=4,5,6,7 to check robustness further.
SEEDS = tuple(int(seed) for seed in os.environ.get("TRAINSCOPE_SCENARIO_SEEDS", "1,2,3").split(","))
SCENARIO_IDS = [info.id for info in list_scenarios()]


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def headless_report(scenario: Scenario, seed: int) -> dict:
    """The JSON line ``main.py --headless --scenario ID --seed S --json`` would print."""
    out, err = io.StringIO(), io.StringIO()
    config = scenario.run_config(seed=seed)
    code = run_headless(config, emit_json=True, out=out, err=err, scenario=scenario)
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue().strip().splitlines()[-1])


def step_losses(history: RunHistory, first: int, last: int) -> np.ndarray:
    return np.array(
        [
            loss
            for step, loss in zip(history.steps, history.losses, strict=True)
            if first <= step <= last
        ]
    )


# --- the promise ------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_scenario_shows_its_phenomenon_on_every_seed(scenario_id):
    scenario = load_scenario(scenario_id)
    for seed in SEEDS:
        report = headless_report(scenario, seed)
        assert report["scenario"] == scenario_id
        assert len(report["expectations"]) == len(scenario.expect)
        failed = [outcome for outcome in report["expectations"] if not outcome["held"]]
        assert not failed, f"{scenario_id}, seed {seed}: {failed}"


# --- the "try this" of each scenario ----------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_healthy_baseline_test_set_agrees_with_validation(seed):
    scenario = load_scenario("healthy-baseline")
    with scenario_run(scenario.run_config(seed)) as run:
        run.to_end().apply(scenario.try_this[1].commands())
        history = run.history
    test, validation = history.evaluations("test")[-1], history.evaluations()[-1]
    assert abs(test.accuracy - validation.accuracy) <= 0.04
    confusion = history.latest["test"].confusion
    assert np.trace(confusion) / confusion.sum() >= 0.93, (
        "the diagonal should hold almost everything"
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_lr_too_high_rewind_and_divide_by_ten_makes_the_loss_fall(seed):
    scenario = load_scenario("lr-too-high")
    outcomes = {}
    for label, commands in (("kept", []), ("fixed", scenario.try_this[0].commands())):
        with scenario_run(scenario.run_config(seed)) as run:
            history = run.to_end().history
            end = history.steps[-1]
            before = np.median(step_losses(history, end - 50, end))
            blew_up = next(hint.step for hint in history.hints if hint.kind == "diverged")
            start = run.apply(commands)
            end = run.train(300)
            outcomes[label] = (start, end, run.history)
    start, end, fixed = outcomes["fixed"]
    assert start < blew_up, "the rewind goes back to before the first blow-up"
    after = np.median(step_losses(fixed, end - 50, end))
    kept = np.median(step_losses(outcomes["kept"][2], end - 50, end))
    assert after < 0.5 * before, f"loss did not fall: median {before:.3f} → {after:.3f}"
    assert after < kept, f"÷10 should beat staying at 0.1: {after:.3f} vs {kept:.3f}"
    assert max(step_losses(fixed, start + 1, end)) < 5 * fixed.chance_loss, "no more blow-ups"


@pytest.mark.parametrize("seed", SEEDS)
def test_lr_too_low_times_100_drops_the_loss_within_a_few_hundred_steps(seed):
    scenario = load_scenario("lr-too-low")
    with scenario_run(scenario.run_config(seed)) as run:
        slow = measure("train_loss_drop_per_epoch", run.to_end().history)
        start = run.apply(scenario.try_this[0].commands())
        run.train(200)
        window = run.history.since(start)
    assert measure("train_loss_drop", window) >= 0.5
    assert measure("train_loss_drop_per_epoch", window) >= 5 * slow


@pytest.mark.parametrize("seed", SEEDS)
def test_overfitting_dropout_and_weight_decay_stop_the_climb(seed):
    scenario = load_scenario("overfitting")
    report = headless_report(scenario, seed)
    turned_up = next(hint["step"] for hint in report["hints"] if hint["kind"] == "overfitting")
    config = replace(scenario.run_config(seed), steps=turned_up)
    windows = {}
    for label, commands in (("control", []), ("fixed", scenario.try_this[0].commands())):
        with scenario_run(config) as run:
            run.to_end()
            start = run.apply(commands)
            run.train(300)
            windows[label] = run.history.since(start).evaluations()
    control, fixed = windows["control"], windows["fixed"]
    assert control[-1].loss >= 1.05 * control[0].loss, "without the fix the climb goes on"
    assert fixed[-1].loss <= fixed[0].loss, "with the fix the validation loss stops climbing"
    gap = {label: points[-1].loss - points[-1].train_loss for label, points in windows.items()}
    assert gap["fixed"] <= gap["control"] - 0.1, f"generalization gap did not narrow: {gap}"


@pytest.mark.parametrize("seed", SEEDS)
def test_underfitting_a_hidden_layer_makes_both_losses_fall(seed):
    scenario = load_scenario("underfitting")
    suggestion = scenario.try_this[0]
    assert suggestion.needs_restart
    history = finished_run(suggestion.restart_config(scenario.run_config(seed)))
    chance = history.chance_loss
    assert measure("final_val_loss", history) <= 0.5 * chance
    assert measure("final_train_loss", history) <= 0.5 * chance
    assert measure("final_val_accuracy", history) >= 0.9
    assert measure("final_train_accuracy", history) >= 0.9


@pytest.mark.parametrize("seed", SEEDS)
def test_accuracy_lies_lower_threshold_or_class_weights_find_the_positives(seed):
    scenario = load_scenario("accuracy-lies")
    lower, weights = scenario.try_this
    with scenario_run(scenario.run_config(seed)) as run:
        run.to_end()
        latest = run.history.latest["validation"]
        table = ThresholdTable.from_scores(latest.probabilities[:, 1], latest.labels)
        default, lowered = table.at(scenario.decision.threshold), table.at(lower.threshold)
        assert lowered.recall >= default.recall + 0.5
        assert lowered.fp > default.fp and lowered.precision < 0.5, "more alarms, most false"
        start = run.apply(weights.commands())
        run.train(200)
        weighted = run.history.since(start)
    assert measure("minority_recall", weighted) >= default.recall + 0.3


@pytest.mark.parametrize("seed", SEEDS)
def test_threshold_costs_moving_to_the_minimum_cuts_the_cost(seed):
    scenario = load_scenario("threshold-costs")
    decision = scenario.decision
    costs = (decision.cost_false_positive, decision.cost_false_negative)
    latest = finished_run(scenario.run_config(seed)).latest["validation"]
    table = ThresholdTable.from_scores(latest.probabilities[:, 1], latest.labels)
    best = table.at(table.best_cost_threshold(*costs), *costs).expected_cost
    moved = table.at(scenario.try_this[0].threshold, *costs).expected_cost
    default = table.at(decision.threshold, *costs).expected_cost
    assert moved <= 0.5 * default, "the cost per case drops by more than half"
    assert moved <= 1.35 * best, "the suggested threshold sits in the valley of the cost curve"


@pytest.mark.parametrize("seed", SEEDS)
def test_calibration_temperature_lowers_ece_and_keeps_every_prediction(seed):
    scenario = load_scenario("calibration")
    with scenario_run(scenario.run_config(seed)) as run:
        run.to_end()
        before = run.history.latest["validation"]
        run.apply(scenario.try_this[0].commands())
        after = run.history.latest["validation"]
        fitted = [event for event in run.events if isinstance(event, ev.TemperatureFitted)]
    assert len(fitted) == 1 and fitted[0].temperature > 1.0, "an overconfident model is cooled"
    assert after.temperature == fitted[0].temperature
    assert after.calibration.ece <= 0.5 * before.calibration.ece
    assert after.accuracy == before.accuracy
    np.testing.assert_array_equal(after.probabilities.argmax(1), before.probabilities.argmax(1))


@pytest.mark.parametrize("seed", SEEDS)
def test_distribution_shift_gap_follows_the_shift_and_the_training_width(seed):
    scenario = load_scenario("distribution-shift")
    config = scenario.run_config(seed)
    shifted = measure("deployment_accuracy_drop", finished_run(config))
    for suggestion in scenario.try_this:
        drop = measure("deployment_accuracy_drop", finished_run(suggestion.restart_config(config)))
        assert abs(drop) <= 0.08, f"{suggestion.dataset}: gap {drop:.3f} (was {shifted:.3f})"


@pytest.mark.parametrize("seed", SEEDS)
def test_data_leakage_dropping_the_feature_gives_the_honest_number(seed):
    scenario = load_scenario("data-leakage")
    config = scenario.run_config(seed)
    leaky = finished_run(config)
    honest = finished_run(scenario.try_this[0].restart_config(config))
    assert measure("final_val_accuracy", honest) <= measure("final_val_accuracy", leaky) - 0.15
    # 300 deployment rows: a difference of a few points is sampling noise, not leakage.
    assert abs(measure("deployment_accuracy_drop", honest)) <= 0.08
    assert measure("final_deployment_accuracy", honest) >= measure(
        "final_deployment_accuracy", leaky
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_loop_bugs_each_switch_brings_its_symptom_and_takes_it_away(seed):
    scenario = load_scenario("loop-bugs")
    unshuffle, zero_grad_on, zero_grad_off, eval_on, eval_off = scenario.try_this
    with scenario_run(scenario.run_config(seed)) as run:
        run.to_end()
        run.apply(unshuffle.commands())
        run.train(300)
        assert measure("final_val_accuracy", run.history) >= 0.6, "real labels: it learns digits"
        windows = {}
        for label, suggestion in (("zero_grad_on", zero_grad_on), ("zero_grad_off", zero_grad_off)):
            start = run.apply(suggestion.commands())
            run.train(200)
            windows[label] = run.history.since(start)
        noise = {}
        for label, suggestion in (("eval_on", eval_on), ("eval_off", eval_off)):
            run.apply(suggestion.commands())
            noise[label] = repeat_evaluation_spread(run)
    growth = {label: measure("grad_norm_growth", window) for label, window in windows.items()}
    assert growth["zero_grad_on"] >= 5 and growth["zero_grad_off"] <= 2, growth
    assert noise["eval_on"] > 1e-3 and noise["eval_off"] == 0.0, noise


def repeat_evaluation_spread(run) -> float:
    """Evaluate the same weights three times; the spread of the validation losses."""
    seen = len(run.events)
    for _ in range(3):
        run.current_step()
    losses = [
        event.loss
        for event in run.events[seen:]
        if isinstance(event, ev.Evaluation) and event.split == "validation"
    ]
    return float(np.ptp(losses))


@pytest.mark.parametrize("seed", SEEDS)
def test_slices_weighting_narrows_the_slice_gap(seed):
    scenario = load_scenario("slices")
    with scenario_run(scenario.run_config(seed)) as run:
        run.to_end()
        before = measure("slice_accuracy_gap", run.history)
        run.apply(scenario.try_this[0].commands())
        run.train(300)
        after = measure("slice_accuracy_gap", run.history)
    assert after <= 0.5 * before and after <= 0.15, f"gap {before:.3f} → {after:.3f}"


@pytest.mark.parametrize("seed", SEEDS)
def test_overfit_one_batch_passes_even_without_hidden_layers(seed):
    scenario = load_scenario("overfit-one-batch")
    config = scenario.try_this[0].restart_config(scenario.run_config(seed))
    assert config.model.hidden == ()
    assert measure("final_train_accuracy", finished_run(config)) == 1.0


@pytest.mark.parametrize("seed", SEEDS)
def test_adam_converges_faster_than_sgd_from_the_same_start(seed):
    scenario = load_scenario("adam-vs-sgd")
    switch = scenario.try_this[0]
    config = scenario.run_config(seed)
    sgd = finished_run(config)
    adam = finished_run(config.with_settings(**switch.settings))
    assert measure("final_train_loss", adam) <= 0.25 * measure("final_train_loss", sgd)
    drops = {}
    for label, commands in (("sgd", []), ("adam", switch.commands())):
        with scenario_run(config) as run:
            run.to_end()
            start = run.apply(commands)
            run.train(100)
            window = run.history.since(start)
        drops[label] = measure("train_loss_drop", window)
    assert drops["adam"] >= 2 * drops["sgd"], f"switching mid-run: {drops}"


def test_every_scenario_has_a_try_this_with_an_action_or_a_reading():
    for scenario_id in SCENARIO_IDS:
        scenario = load_scenario(scenario_id)
        assert scenario.try_this, scenario_id
        assert any(
            entry.command or entry.settings or entry.threshold is not None or entry.needs_restart
            for entry in scenario.try_this
        ), f"{scenario_id}: at least one suggestion should be something to do"
