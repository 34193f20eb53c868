"""Expectations: each measure reads the right number off a run, and the check reports it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.event_factory import confident, small_evaluation, small_run_started, small_step_metrics
from trainscope.engine import events as ev
from trainscope.engine.expectations import (
    FLAG_MEASURES,
    MEASURES,
    NUMBER_MEASURES,
    Decision,
    Expectation,
    check,
    measure,
)
from trainscope.engine.run_fold import RunFold
from trainscope.engine.summary import RunSummary

LABELS = np.array([0, 1] * 50)


def overfitting_run() -> list[ev.Event]:
    """Validation loss 0.5 → 0.4 (min at 100) → 0.6; training 0.6 → 0.01; accuracy 0.8."""
    points = [(0, 0.69, 0.69), (50, 0.5, 0.4), (100, 0.4, 0.2), (150, 0.5, 0.05), (200, 0.6, 0.01)]
    return [
        small_run_started(),
        small_step_metrics(1, [0.7] * 100 + [0.05] * 100, grad_norm=1.0),
        *[
            small_evaluation(
                s, confident(LABELS, 0.8, 0.95), LABELS, train_loss=t, train_accuracy=1.0, loss=v
            )
            for s, v, t in points
        ],
        ev.Finished(step=200, reason="completed"),
    ]


def test_number_measures_read_the_curve():
    history = RunFold.from_events(overfitting_run())
    assert measure("val_loss_rise_from_min", history) == pytest.approx(0.5)
    assert measure("final_val_loss", history) == pytest.approx(0.6)
    assert measure("train_val_accuracy_gap", history) == pytest.approx(0.2)
    assert measure("generalization_gap", history) == pytest.approx(0.59)
    assert measure("initial_val_loss_over_chance", history) == pytest.approx(0.69 / math.log(2))
    assert measure("train_loss_drop", history) == pytest.approx(1 - 0.01 / 0.69)
    assert measure("train_loss_drop_per_epoch", history) == pytest.approx((1 - 0.01 / 0.69) / 20)
    assert measure("confidence_minus_accuracy", history) == pytest.approx(0.15, abs=1e-6)
    assert measure("ece", history) == pytest.approx(0.15, abs=0.02)
    assert measure("max_train_loss_over_chance", history) == pytest.approx(0.7 / math.log(2))


def test_check_reports_held_and_failed_promises_with_their_numbers():
    expectations = [
        Expectation("val_loss_rise_from_min", at_least=0.2),
        Expectation("final_val_accuracy", at_least=0.95),
        Expectation("completed", flag=True),
        Expectation("hints_include", kinds=("overfitting",)),
    ]
    outcomes = check(expectations, overfitting_run())
    assert [outcome.held for outcome in outcomes] == [True, False, True, False]
    assert outcomes[0].name == "val_loss_rise_from_min >= 0.2"
    assert "min 0.4000 at step 100" in outcomes[0].detail
    assert outcomes[1].detail.startswith("0.8 ")
    assert outcomes[3].detail == "fired: none"
    assert outcomes[0].to_dict() == {
        "name": outcomes[0].name,
        "held": True,
        "detail": outcomes[0].detail,
    }


def test_check_accepts_events_a_history_or_a_run_summary():
    events = overfitting_run()
    summary = RunSummary()
    for event in events:
        summary.update(event)
    expectation = [Expectation("final_train_loss", at_most=0.05)]
    by_events = check(expectation, events)
    assert by_events == check(expectation, RunFold.from_events(events))
    assert by_events == check(expectation, summary.fold)
    assert by_events == check(expectation, summary)


def test_a_rewind_cuts_the_history_back():
    events = [*overfitting_run(), ev.Rewound(from_step=200, to_step=100)]
    events.append(
        small_evaluation(100, confident(LABELS, 0.8, 0.95), LABELS, loss=0.4, train_loss=0.2)
    )
    history = RunFold.from_events(events)
    assert [point.step for point in history.evaluations()] == [0, 50, 100]
    assert history.steps[-1] == 100
    assert measure("val_loss_rise_from_min", history) == pytest.approx(0.0)


def test_deployment_slices_and_missing_splits():
    events = [
        small_run_started(),
        small_evaluation(
            10, confident(LABELS, 0.95, 0.9), LABELS, slice_accuracy={"a": 0.98, "b": 0.6}
        ),
        small_evaluation(10, confident(LABELS, 0.55, 0.9), LABELS, split="deployment"),
    ]
    history = RunFold.from_events(events)
    assert measure("deployment_accuracy_drop", history) == pytest.approx(0.4)
    assert measure("slice_accuracy_gap", history) == pytest.approx(0.38)
    assert measure("worst_slice_accuracy", history) == pytest.approx(0.6)
    [outcome] = check([Expectation("final_deployment_accuracy", at_most=0.6)], events[:2])
    assert not outcome.held
    assert "no deployment evaluation" in outcome.detail


def test_cost_measures_find_the_cheap_threshold():
    labels = np.array([0] * 80 + [1] * 20)
    positive = np.r_[np.linspace(0.0, 0.3, 80), np.linspace(0.05, 0.45, 20)]
    events = [
        small_run_started(),
        small_evaluation(5, np.column_stack([1 - positive, positive]), labels),
    ]
    costly_misses = Decision(cost_false_positive=1.0, cost_false_negative=50.0)
    assert (
        measure(
            "best_cost_threshold_distance_from_half", RunFold.from_events(events), costly_misses
        )
        >= 0.4
    )
    assert (
        measure("cost_saving_at_best_threshold", RunFold.from_events(events), costly_misses) >= 0.5
    )


def test_jitter_and_gradient_growth():
    wobbly = [
        small_run_started(),
        small_step_metrics(1, [0.5] * 100, grad_norm=1.0),
        small_step_metrics(101, [0.5] * 100, grad_norm=30.0),
    ]
    wobbly += [
        small_evaluation(s, confident(LABELS, 0.8, 0.8), LABELS, loss=loss)
        for s, loss in zip(range(0, 400, 50), [0.5, 0.5, 0.5, 0.5, 0.3, 0.7, 0.3, 0.7], strict=True)
    ]
    history = RunFold.from_events(wobbly)
    assert measure("val_loss_jitter", history) == pytest.approx(0.4 / 0.5)
    assert measure("grad_norm_growth", history) == pytest.approx(30.0)


def test_the_vocabulary_is_documented_and_complete():
    assert len(MEASURES) == len(set(MEASURES))
    for name, (_, sentence) in {**NUMBER_MEASURES, **FLAG_MEASURES}.items():
        assert sentence, name
        assert not sentence.endswith("."), name
    readme = (
        __import__("pathlib").Path(__file__).resolve().parents[2] / "scenarios" / "README.md"
    ).read_text()
    for name in MEASURES:
        assert f"`{name}`" in readme, f"{name} is not documented in scenarios/README.md"


def test_describe_reads_like_the_toml():
    assert Expectation("ece", at_least=0.1).describe() == "ece >= 0.1"
    assert Expectation("ece", at_least=0.1, at_most=0.5).describe() == "ece >= 0.1 and <= 0.5"
    assert Expectation("diverged", flag=True).describe() == "diverged = true"
    assert (
        Expectation("hints_include", kinds=("overfitting",)).describe()
        == "hints_include ['overfitting']"
    )


@pytest.mark.parametrize("old_value", [40.0, math.nan])
def test_a_bounded_history_thins_old_steps_but_keeps_a_spike_and_the_newest_exactly(old_value):
    """A spike (or a divergence) long ago survives thinning; the newest steps stay exact."""
    history = RunFold(max_rows=1000)
    history.update(small_run_started())
    for start in range(0, 5000, 100):
        steps = np.arange(start + 1, start + 101)
        loss = np.full(100, 0.5)
        if start == 700:
            loss[37] = old_value
        history.update(ev.StepMetrics(steps, loss, loss, loss, loss, 0.0, 0.0))
    steps, losses = np.asarray(history.steps), np.asarray(history.losses)
    assert len(steps) <= 1000
    assert len(steps) == len(losses) == len(history.grad_norms)
    assert np.all(np.diff(steps) > 0)
    assert np.array_equal(steps[-400:], np.arange(4601, 5001))  # the newest, every step
    kept = losses[steps == 738]
    assert len(kept) == 1
    assert kept[0] == 40.0 or math.isnan(old_value) and math.isnan(kept[0])


def test_a_bounded_history_keeps_a_bounded_number_of_evaluation_points():
    history = RunFold(max_rows=64 * 100)
    history.update(small_run_started())
    probabilities = confident(LABELS, 0.8, 0.9)
    for step in range(0, 100_000, 100):
        history.update(small_evaluation(step, probabilities, LABELS))
    points = history.evaluations()
    assert len(points) <= 100
    assert [point.step for point in points[-40:]] == list(range(96_000, 100_000, 100))
