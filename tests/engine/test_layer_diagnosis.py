"""The layer hints: vanishing and exploding gradients, dead units — from LayerHealth reports."""

from __future__ import annotations

import math

import numpy as np

from tests.event_factory import small_run_started
from trainscope.engine import events as ev
from trainscope.engine.diagnosis import HINT_KINDS, LAYER_HINT_KINDS, WARMUP_STEPS, Diagnostician

NAMES = ("dense 1 (64→128)", "dense 2 (128→128)", "output (128→10)")


def health(
    step: int,
    grad_norm: tuple[float, ...] = (0.5, 0.4, 0.6),
    update_ratio: tuple[float, ...] = (1e-3, 1e-3, 1e-3),
    dead_fraction: tuple[float, ...] = (0.05, 0.1, math.nan),
) -> ev.LayerHealth:
    """A LayerHealth report of a three-layer MLP; the defaults are a healthy one."""
    return ev.LayerHealth(
        step=step,
        layer_names=NAMES,
        grad_norm=np.asarray(grad_norm, dtype=np.float64),
        weight_norm=np.ones(3),
        update_ratio=np.asarray(update_ratio, dtype=np.float64),
        dead_fraction=np.asarray(dead_fraction, dtype=np.float64),
        activation_edges=np.tile(np.linspace(0, 1, 31), (3, 1)),
        activation_counts=np.ones((3, 30), dtype=np.int64),
        duration_ms=1.0,
    )


def feed(events: list[ev.Event]) -> list[ev.Hint]:
    diagnostician = Diagnostician()
    hints: list[ev.Hint] = []
    for event in events:
        hints += diagnostician.observe(event)
    return hints


def test_the_layer_hints_are_hint_kinds():
    assert set(LAYER_HINT_KINDS) <= set(HINT_KINDS)


def test_healthy_layers_get_no_hint():
    assert feed([small_run_started(), *(health(step) for step in range(0, 2000, 100))]) == []


def test_vanishing_gradients_fire_after_two_reports_past_warm_up_with_the_numbers():
    vanishing = (2e-6, 1e-3, 0.5)
    early = [health(step, grad_norm=vanishing) for step in (100, 150)]
    assert feed([small_run_started(), *early]) == []  # warm-up: a fresh network may start this way
    once = [health(WARMUP_STEPS, grad_norm=vanishing), health(WARMUP_STEPS + 100)]
    assert feed([small_run_started(), *once]) == []
    late = [health(WARMUP_STEPS + 100 * i, grad_norm=vanishing) for i in range(3)]
    hints = feed([small_run_started(), *late])
    assert [hint.kind for hint in hints] == ["vanishing_gradients"]
    assert hints[0].step == WARMUP_STEPS + 100
    assert "dense 1 (64→128)" in hints[0].evidence
    assert "250000x" in hints[0].evidence
    assert "relu" in hints[0].suggestion


def test_exploding_gradients_fire_on_a_huge_norm_or_huge_steps_but_not_one_first_step_jump():
    huge_norm = [health(step, grad_norm=(3e3, 2e3, 1e3)) for step in (10, 20)]
    hints = feed([small_run_started(), *huge_norm])
    assert [hint.kind for hint in hints] == ["exploding_gradients"]
    assert "3.74e+03" in hints[0].evidence
    assert "learning rate" in hints[0].suggestion
    big_steps = [health(step, update_ratio=(0.3, 0.02, 0.01)) for step in (10, 20)]
    hints = feed([small_run_started(), *big_steps])
    assert [hint.kind for hint in hints] == ["exploding_gradients"]
    assert "dense 1 (64→128) by 30%" in hints[0].evidence
    adam_first_step = [health(1, update_ratio=(1.4, 0.1, 0.1)), health(26)]
    assert feed([small_run_started(), *adam_first_step]) == []


def test_dead_units_fire_when_most_of_a_layer_never_fires():
    dying = [health(step, dead_fraction=(0.1, 0.75, math.nan)) for step in (100, 200)]
    hints = feed([small_run_started(), *dying])
    assert [hint.kind for hint in hints] == ["dead_units"]
    assert "75% of the units in dense 2 (128→128)" in hints[0].evidence
    assert "leaky_relu" in hints[0].suggestion
    half = [health(step, dead_fraction=(0.5, 0.5, math.nan)) for step in (100, 200)]
    assert feed([small_run_started(), *half]) == []  # "more than half"
    tanh = [health(step, dead_fraction=(math.nan,) * 3) for step in (100, 200)]
    assert feed([small_run_started(), *tanh]) == []


def test_a_layer_hint_fires_once_per_episode_and_again_after_a_reset():
    dying = [health(step, dead_fraction=(0.9, 0.9, math.nan)) for step in (100, 200, 300, 400)]
    assert len(feed([small_run_started(), *dying])) == 1
    assert len(feed([small_run_started(), *dying, small_run_started(), *dying])) == 2
