"""The diagnostician: each hint fires on its evidence, once, with numbers; and not otherwise."""

from __future__ import annotations

import math

import numpy as np

from tests.event_factory import confident, small_evaluation, small_run_started, small_step_metrics
from trainscope.engine import events as ev
from trainscope.engine.diagnosis import (
    EXPLOSION_SPIKES,
    EXPLOSION_WINDOW,
    HINT_KINDS,
    LAYER_HINT_KINDS,
    WARMUP_STEPS,
    Diagnostician,
)
from trainscope.engine.scenario import load_scenario

BALANCED = np.array([0, 1] * 50)
RARE = np.array([0] * 94 + [1] * 6)


def feed(events: list[ev.Event]) -> list[ev.Hint]:
    diagnostician = Diagnostician()
    hints: list[ev.Hint] = []
    for event in events:
        hints += diagnostician.observe(event)
    return hints


def kinds(hints: list[ev.Hint]) -> list[str]:
    return [hint.kind for hint in hints]


def healthy_evaluations(first: int = 0, count: int = 8) -> list[ev.Evaluation]:
    """Validation loss falling steadily, accuracy 0.9, confidence matching accuracy."""
    return [
        small_evaluation(
            first + 50 * index,
            confident(BALANCED, 0.9, 0.9),
            BALANCED,
            loss=0.6 / (1 + index),
            train_loss=0.5 / (1 + index),
        )
        for index in range(count)
    ]


def test_a_healthy_run_gets_no_hint():
    events = [small_run_started(), small_step_metrics(1, [0.7, 0.6, 0.5]), *healthy_evaluations()]
    assert feed(events) == []


def test_divergence_fires_once_with_the_step_and_rearms_after_a_rewind():
    events = [
        small_run_started(lr=0.1),
        ev.Diverged(step=12, loss=math.nan, message="nan"),
        ev.Diverged(step=13, loss=math.nan, message="nan"),
    ]
    hints = feed(events)
    assert kinds(hints) == ["diverged"]
    assert hints[0].step == 12
    assert "12" in hints[0].evidence
    rearmed = feed([*events, ev.Rewound(from_step=13, to_step=0), ev.Diverged(20, math.inf, "inf")])
    assert kinds(rearmed) == ["diverged", "diverged"]


def test_a_non_finite_batch_loss_is_diverged_at_once():
    hints = feed([small_run_started(lr=0.1), small_step_metrics(1, [0.7, 0.69, math.inf, 0.5])])
    assert kinds(hints) == ["diverged"]
    assert hints[0].step == 3
    assert hints[0].title == "Training diverged"
    assert "inf" in hints[0].evidence


def test_one_spike_in_a_long_healthy_run_is_not_a_blow_up():
    """The product issue: a healthy Adam 1e-3 run got "blowing up" from one batch at 53,200."""
    calm = [0.01] * 100
    one_spike = small_step_metrics(53_100, [*calm, 40.0, *calm])
    assert feed([small_run_started(), one_spike]) == []
    two_spikes = small_step_metrics(53_100, [*calm, 40.0, 12.0, *calm])
    assert feed([small_run_started(), two_spikes]) == [], "two are still not a pattern"
    far_apart = [
        small_step_metrics(first, [0.01] * (EXPLOSION_WINDOW - 1) + [9.0])
        for first in range(1, 5 * EXPLOSION_WINDOW, EXPLOSION_WINDOW)
    ]
    assert feed([small_run_started(), *far_apart]) == [], "one spike per window, five windows"
    assert feed([small_run_started(), small_step_metrics(1, [0.7, 3.0, 3.0, 3.0, 3.0])]) == [], (
        "3 < 5 x ln 2"
    )


def test_a_burst_of_spikes_in_a_solved_task_is_not_a_blow_up():
    """The spiral, 47,700 steps into 100% accuracy: Adam overshoots three times in 42 steps
    between batches that score ~0, then settles again by itself."""
    burst = [0.0] * 150 + [4.54, 0.0, 0.19, 1.33, 0.74] + [0.0] * 22 + [5.07, 0.34, 0.0, 0.01]
    burst += [0.36, 0.78, 2.97, 1.24, 2.06, 0.58] + [0.0] * 4 + [5.06] + [0.0] * 100
    assert feed([small_run_started(), small_step_metrics(47_562, burst)]) == []


def test_spikes_again_and_again_are_a_blow_up_named_with_their_size():
    events = [
        small_run_started(lr=0.1),
        small_step_metrics(1, [0.7, 0.69, 9.0, 4.0, 0.5]),  # spikes at steps 3 and 4
        small_step_metrics(6, [0.6] * 50 + [6.0]),  # and at step 56
    ]
    hints = feed(events)
    assert kinds(hints) == ["diverged"], "dated where it became a pattern"
    assert hints[0].step == 56, "dated where it became a pattern"
    assert hints[0].began == 3, "and it says where it began: the rewind goes back before that"
    evidence = hints[0].evidence
    assert "From step 3" in evidence
    assert f"{EXPLOSION_SPIKES} times in 54 steps" in evidence
    assert "up to 9 (13x) at step 3" in evidence
    assert "0.1" in evidence
    assert "median 0.6" in evidence, "the typical batch, up too"
    assert hints[0].title == "The loss is blowing up"


def test_a_rewind_forgets_the_spikes_it_undid():
    events = [
        small_run_started(lr=0.1),
        small_step_metrics(1, [0.7] * 9 + [9.0, 9.0]),  # spikes at steps 10 and 11
        ev.Rewound(from_step=11, to_step=5),
        small_step_metrics(6, [0.7] * 10 + [9.0]),  # one more spike, after the rewind
    ]
    assert feed(events) == []


def test_loss_stuck_at_chance_needs_warmup_and_two_evaluations_in_a_row():
    at_chance = [
        small_evaluation(step, np.full((100, 2), 0.5), BALANCED, train_loss=0.69)
        for step in (0, WARMUP_STEPS - 50, WARMUP_STEPS, WARMUP_STEPS + 50)
    ]
    hints = feed([small_run_started(), *at_chance])
    stuck = [hint for hint in hints if hint.kind == "stuck_at_chance"]
    assert len(stuck) == 1
    assert stuck[0].step == WARMUP_STEPS + 50
    assert "0.693" in stuck[0].evidence
    assert "equally common" in stuck[0].evidence
    assert "ROC AUC 0.50" in stuck[0].evidence
    assert not [
        h for h in feed([small_run_started(), *at_chance[:3]]) if h.kind == "stuck_at_chance"
    ]


def stuck_hints(events: list[ev.Event]) -> list[ev.Hint]:
    return [hint for hint in feed(events) if hint.kind == "stuck_at_chance"]


def later_evaluations(probabilities: np.ndarray, labels: np.ndarray) -> list[ev.Evaluation]:
    return [
        small_evaluation(step, probabilities, labels, train_loss=0.3)
        for step in (WARMUP_STEPS, WARMUP_STEPS + 50)
    ]


def test_on_imbalanced_data_chance_is_the_loss_of_knowing_the_class_shares():
    """Always answering "10% positive" scores 0.325 on 90/10 data, far below ln 2."""
    labels = np.array([0] * 90 + [1] * 10)
    base_rate = np.tile([0.9, 0.1], (100, 1))
    hints = stuck_hints(
        [small_run_started(class_counts=(900, 100)), *later_evaluations(base_rate, labels)]
    )
    assert len(hints) == 1
    assert "0.325" in hints[0].evidence
    assert "90% are 'class 0'" in hints[0].evidence


def test_a_model_that_ranks_well_is_not_stuck_however_high_its_loss():
    """The lr-too-high lesson: a few confident mistakes lift the loss above chance at AUC 0.9."""
    labels = np.array([0] * 90 + [1] * 10)
    positive = np.r_[np.full(85, 0.05), np.full(5, 1 - 1e-6), np.full(8, 0.9), np.full(2, 1e-6)]
    probabilities = np.c_[1 - positive, positive]
    events = [small_run_started(class_counts=(900, 100)), *later_evaluations(probabilities, labels)]
    assert events[-1].loss > math.log(2), "above even ln 2, the old chance line"
    assert stuck_hints(events) == []


def test_a_recording_without_class_counts_falls_back_to_ln_k():
    at_chance = later_evaluations(np.full((100, 2), 0.5), BALANCED)
    hints = stuck_hints([small_run_started(class_counts=()), *at_chance])
    assert len(hints) == 1
    assert "ln 2" in hints[0].evidence
    assert "0.693" in hints[0].evidence


def test_one_noisy_evaluation_is_not_overfitting():
    points = [(0, 0.9, 0.9), (50, 0.5, 0.4), (100, 0.7, 0.3), (150, 0.5, 0.2), (200, 0.48, 0.1)]
    events = [small_run_started()] + [
        small_evaluation(step, confident(BALANCED, 0.8, 0.8), BALANCED, loss=loss, train_loss=train)
        for step, loss, train in points
    ]
    assert "overfitting" not in kinds(feed(events))


def test_overfitting_fires_when_validation_turns_up_while_training_falls():
    points = [(0, 0.9, 0.9), (50, 0.5, 0.4), (100, 0.4, 0.2), (150, 0.52, 0.1), (200, 0.6, 0.05)]
    events = [small_run_started()] + [
        small_evaluation(step, confident(BALANCED, 0.8, 0.8), BALANCED, loss=loss, train_loss=train)
        for step, loss, train in points
    ]
    hints = [hint for hint in feed(events) if hint.kind == "overfitting"]
    assert len(hints) == 1, "two evaluations in a row, then once"
    assert hints[0].step == 200, "two evaluations in a row, then once"
    assert "0.400 at step 100" in hints[0].evidence
    assert "+50%" in hints[0].evidence
    assert "step 100" in hints[0].suggestion


def test_a_tiny_loss_wobbling_up_by_a_third_is_not_overfitting():
    """Blobs at 100% validation accuracy: 0.0008 -> 0.0011 is +35%, and noise."""
    points = [(0, 1.0, 1.0), (50, 0.003, 0.004), (100, 0.0008, 0.003), (150, 0.001, 0.002)]
    points.append((200, 0.0011, 0.001))
    events = [small_run_started()] + [
        small_evaluation(
            step, confident(BALANCED, 1.0, 0.999), BALANCED, loss=loss, train_loss=train
        )
        for step, loss, train in points
    ]
    assert "overfitting" not in kinds(feed(events))


def test_a_rising_validation_loss_with_rising_training_loss_is_not_overfitting():
    points = [(0, 0.5, 0.5), (50, 0.4, 0.4), (100, 0.6, 0.6), (150, 0.7, 0.7)]
    events = [small_run_started()] + [
        small_evaluation(step, confident(BALANCED, 0.8, 0.8), BALANCED, loss=loss, train_loss=train)
        for step, loss, train in points
    ]
    assert "overfitting" not in kinds(feed(events))


def test_majority_guessing_fires_baseline_and_rare_class_hints():
    always_negative = np.tile([0.9, 0.1], (100, 1))
    events = [small_run_started()] + [
        small_evaluation(step, always_negative, RARE, train_loss=0.2) for step in (0, 200, 250, 300)
    ]
    hints = {hint.kind: hint for hint in feed(events)}
    assert {"no_better_than_baseline", "minority_recall_collapse"} <= hints.keys()
    assert "0 of 6 'class 1'" in hints["minority_recall_collapse"].evidence
    assert "0.940" in hints["no_better_than_baseline"].evidence


def test_rare_class_hint_stays_silent_on_balanced_data():
    always_zero = np.tile([0.9, 0.1], (100, 1))
    events = [small_run_started()] + [
        small_evaluation(s, always_zero, BALANCED) for s in (200, 250, 300)
    ]
    assert "minority_recall_collapse" not in kinds(feed(events))


def test_overconfidence_compares_confidence_with_accuracy():
    overconfident = confident(BALANCED, 0.7, 0.99)
    events = [small_run_started()] + [
        small_evaluation(step, overconfident, BALANCED, train_loss=0.01) for step in (200, 250, 300)
    ]
    hints = [hint for hint in feed(events) if hint.kind == "overconfident"]
    assert len(hints) == 1
    assert "99% sure but right 70%" in hints[0].evidence
    calibrated = confident(BALANCED, 0.7, 0.7)
    events = [small_run_started()] + [
        small_evaluation(s, calibrated, BALANCED) for s in (200, 250, 300)
    ]
    assert "overconfident" not in kinds(feed(events))


def test_a_reset_starts_a_new_episode():
    events = [small_run_started(lr=0.1), ev.Diverged(5, math.nan, "nan"), small_run_started(lr=0.1)]
    events.append(ev.Diverged(7, math.nan, "nan"))
    assert kinds(feed(events)) == ["diverged", "diverged"]


def test_test_and_deployment_evaluations_are_not_diagnosed():
    at_chance = [
        small_evaluation(step, np.full((100, 2), 0.5), BALANCED, split="deployment")
        for step in (200, 250, 300)
    ]
    assert feed([small_run_started(), *at_chance]) == []


def test_every_hint_kind_is_promised_by_a_scenario_and_healthy_promises_silence():
    promised = set()
    for scenario_id in (
        "lr-too-high",
        "underfitting",
        "overfitting",
        "accuracy-lies",
        "calibration",
    ):
        for expectation in load_scenario(scenario_id).expect:
            promised |= set(expectation.kinds)
    # Layer hints need LayerHealth, which only the window collects: no headless promise can.
    assert promised == set(HINT_KINDS) - set(LAYER_HINT_KINDS)
    healthy = {
        expectation.name: expectation for expectation in load_scenario("healthy-baseline").expect
    }
    assert healthy["no_hints"].flag is True
