"""Pace: the training loop holds a steps-per-second pace itself, and "max" lets it run free."""

from __future__ import annotations

import time

import pytest

from tests.engine.session_helpers import collect_until, small_config, step_count
from trainscope.engine import commands as cmd
from trainscope.engine.errors import SettingError
from trainscope.engine.pace import Pacer, describe_pace, validate_pace
from trainscope.engine.session import ThreadSession


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_pace_values_are_checked_in_one_sentence() -> None:
    assert validate_pace(None) is None
    assert validate_pace("max") is None
    assert validate_pace(" MAX ") is None
    assert validate_pace("60") == 60.0
    assert validate_pace(0.5) == 0.5
    for bad in ("0", "-5", "nan", "inf", "fast", 1e9):
        with pytest.raises(SettingError, match="pace"):
            validate_pace(bad)
    assert describe_pace(None) == "max"
    assert describe_pace(60.0) == "60 steps/s"


def test_steps_fall_due_on_a_grid_so_step_time_is_not_added_to_the_wait() -> None:
    clock = FakeClock()
    pacer = Pacer(10.0, clock)
    assert pacer.wait() == 0.0  # the first step goes at once
    pacer.stepped()
    clock.now += 0.03  # the step itself took 30 ms
    assert pacer.wait() == pytest.approx(0.07)
    clock.now += 0.07
    pacer.stepped()
    assert pacer.wait() == pytest.approx(0.1)


def test_a_loop_far_behind_starts_a_new_grid_instead_of_racing() -> None:
    clock = FakeClock()
    pacer = Pacer(10.0, clock)
    pacer.stepped()
    clock.now += 5.0  # a pause or a long evaluation
    assert pacer.wait() == 0.0
    pacer.stepped()
    assert pacer.wait() == pytest.approx(0.1)  # one interval from now, not 50 steps in a burst


def test_max_never_waits_and_a_new_pace_starts_afresh() -> None:
    clock = FakeClock()
    pacer = Pacer(None, clock)
    pacer.stepped()
    assert pacer.wait() == 0.0
    pacer.set(2.0)
    assert pacer.wait() == 0.0
    pacer.stepped()
    assert pacer.wait() == pytest.approx(0.5)


def test_a_paced_run_is_never_faster_than_its_pace_and_max_sets_it_free() -> None:
    session = ThreadSession(small_config(pace=20.0))
    session.start()
    try:
        events = collect_until(session, [], lambda e: step_count(e) >= 5)
        started, first = time.monotonic(), step_count(events)
        collect_until(session, events, lambda e: time.monotonic() - started >= 1.0)
        # Held by the loop itself: at most one step per 1/20 s (plus the one due at once).
        assert step_count(events) - first <= 20 * (time.monotonic() - started) + 2
        session.send(cmd.SetPace(1.0))
        session.send(cmd.SetPace(None))
        # At 1 step/s this would take ~8 minutes, past the wait's hang ceiling.
        collect_until(session, events, lambda e: step_count(e) >= 500)
    finally:
        session.close()
