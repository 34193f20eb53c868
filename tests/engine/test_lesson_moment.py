"""The lesson's moment: the first evaluation at which all its promises are on screen."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from tests.event_factory import small_evaluation, small_run_started
from trainscope.engine.expectations import Expectation
from trainscope.engine.lesson_moment import MomentWatch, first_moment
from trainscope.engine.run_fold import RunFold
from trainscope.engine.scenario import load_scenario

if TYPE_CHECKING:
    from trainscope.engine import events as ev

LABELS = np.array([0, 1] * 20)


def scored(step: int, accuracy_wanted: float) -> ev.Evaluation:
    """A validation evaluation that is right on ``accuracy_wanted`` of its cases."""
    right = int(accuracy_wanted * len(LABELS))
    predicted = np.where(np.arange(len(LABELS)) < right, LABELS, 1 - LABELS)
    probabilities = np.where(predicted[:, None] == np.arange(2), 0.9, 0.1)
    return small_evaluation(step, probabilities, LABELS)


def lesson(moment_step: int = 0):
    """A lesson promising validation accuracy >= 0.9 (and its end, which never counts)."""
    promises = (
        Expectation("final_val_accuracy", at_least=0.9),
        Expectation("completed", flag=True),
    )
    return replace(load_scenario("healthy-baseline"), expect=promises, moment_step=moment_step)


def test_the_moment_is_the_first_evaluation_where_every_promise_but_the_end_holds():
    events = [
        small_run_started(),
        scored(0, 0.5),
        scored(50, 0.8),
        scored(100, 0.95),
        scored(150, 1),
    ]
    assert first_moment(lesson(), events) == 100


def test_the_moment_waits_for_the_files_moment_step():
    events = [
        small_run_started(),
        scored(0, 0.5),
        scored(100, 0.95),
        scored(150, 1),
        scored(200, 1),
    ]
    assert first_moment(lesson(moment_step=150), events) == 150


def test_the_watch_announces_once_per_run_and_again_after_a_reset():
    watch, history = MomentWatch(lesson()), RunFold()

    def feed(*events: ev.Event) -> bool:
        for event in events:
            history.update(event)
        return watch.observe(events, history)

    assert not feed(small_run_started(), scored(0, 0.5))
    assert feed(scored(50, 0.95))
    assert watch.step == 50
    assert not feed(scored(100, 1.0))  # said once
    assert not feed(small_run_started(), scored(0, 0.5))
    assert watch.step is None
    assert feed(scored(50, 0.95))


def test_no_moment_where_the_promise_never_holds():
    assert first_moment(lesson(), [small_run_started(), scored(0, 0.5), scored(50, 0.6)]) is None
