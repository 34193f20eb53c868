"""The steps/s a person reads is over about a second of training, not one batch's swing."""

from __future__ import annotations

import numpy as np
import pytest

from trainscope.engine import events as ev
from trainscope.engine.run_fold import RunFold


def batch(first: int, count: int, rate: float) -> ev.StepMetrics:
    steps = np.arange(first, first + count)
    ones = np.ones(count)
    return ev.StepMetrics(steps, ones, ones, ones, ones, 0.0, rate)


def test_the_rate_is_steps_over_time_across_the_last_second_of_batches():
    """At pace 40 a session publishes 1-2 steps at a time, each batch's own rate 21-77."""
    fold = RunFold()
    step = 1
    for count, rate in [(1, 40.0), (2, 76.0), (1, 21.0)] * 20:  # 4 steps in 0.1 s, repeated
        fold.update(batch(step, count, rate))
        step += count
    steady = 4 / (1 / 40 + 2 / 76 + 1 / 21)  # 40.4 steps/s: what the pace really gives
    # The window starts mid-cycle, so within one batch's share of a second of the steady rate.
    assert fold.steps_per_second == pytest.approx(steady, rel=0.03)
    assert sum(seconds for _, seconds in fold.recent_batches) < 1.2  # about one second kept


def test_a_new_pace_shows_within_about_a_second():
    fold = RunFold()
    step = 1
    for _ in range(50):  # 1 s at 50 steps/s, one step a batch
        fold.update(batch(step, 1, 50.0))
        step += 1
    for _ in range(400):  # then 1 s at 400 steps/s
        fold.update(batch(step, 1, 400.0))
        step += 1
    assert fold.steps_per_second == pytest.approx(400.0, rel=0.05)
