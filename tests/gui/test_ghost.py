"""A rewind keeps the history it cuts as a ghost, until the next reset or run; no Qt needed."""

from __future__ import annotations

import numpy as np
import pytest

from tests import event_factory
from trainscope.gui.ghost import MAX_GHOST_POINTS, cut_off
from trainscope.gui.run_state import TRAIN_COLUMNS, RunState
from trainscope.gui.series import CompactingSeries


def fold(events: list) -> RunState:
    state = RunState()
    state.apply(events)
    return state


def test_rewind_keeps_the_cut_off_curves_as_the_ghost() -> None:
    state = fold(event_factory.training_stream(10))
    smoothed_before = state.train["smoothed_loss"].copy()
    evaluations_before = {name: state.evaluations[name].copy() for name in state.evaluations.names}
    version = state.ghost_version
    state.apply([event_factory.rewound(from_step=2000, to_step=700)])
    ghost = state.ghost
    assert ghost is not None
    assert state.ghost_version == version + 1
    assert (ghost.from_step, ghost.to_step) == (2000, 700)
    np.testing.assert_array_equal(ghost.train_steps, np.arange(700, 2001))  # from the branch point
    np.testing.assert_array_equal(ghost.train_smoothed_loss, smoothed_before[699:])
    np.testing.assert_array_equal(ghost.evaluation_steps, np.arange(700, 2001, 100))
    kept = evaluations_before["step"] >= 700
    np.testing.assert_array_equal(ghost.validation_loss, evaluations_before["val_loss"][kept])
    np.testing.assert_array_equal(ghost.train_accuracy, evaluations_before["train_accuracy"][kept])
    np.testing.assert_array_equal(
        ghost.validation_accuracy, evaluations_before["val_accuracy"][kept]
    )
    assert ghost.last_step == 2000
    assert state.train["step"][-1] == 700  # the live history is still cut


def test_the_ghost_does_not_change_as_the_run_goes_on() -> None:
    state = fold(event_factory.training_stream(10))
    state.apply([event_factory.rewound(from_step=2000, to_step=700)])
    ghost, version = state.ghost, state.ghost_version
    state.apply([event_factory.step_metrics(np.arange(701, 1701), np.full(1000, 0.2))])
    assert state.ghost is ghost
    assert state.ghost_version == version
    assert ghost.train_smoothed_loss[-1] != pytest.approx(0.2)  # the old run, not the new one


def test_the_latest_rewind_replaces_the_ghost_and_an_empty_cut_keeps_it() -> None:
    state = fold(event_factory.training_stream(10))
    state.apply([event_factory.rewound(from_step=2000, to_step=700)])
    state.apply([event_factory.step_metrics(np.arange(701, 1001), np.full(300, 0.2))])
    state.apply([event_factory.rewound(from_step=1000, to_step=800)])
    assert state.ghost.from_step == 1000
    assert state.ghost.train_steps[-1] == 1000
    assert state.ghost.train_smoothed_loss[-1] == pytest.approx(0.2, abs=1e-3)  # the new try
    version = state.ghost_version
    state.apply([event_factory.rewound(from_step=800, to_step=800)])  # nothing to cut
    assert state.ghost.from_step == 1000
    assert state.ghost_version == version


def test_a_reset_or_a_new_run_clears_the_ghost() -> None:
    state = fold(event_factory.training_stream(10, total_steps=500))
    state.apply([event_factory.rewound(from_step=500, to_step=300)])
    assert state.ghost is not None
    version = state.ghost_version
    state.apply([event_factory.run_started(10)])  # what a reset sends
    assert state.ghost is None
    assert state.ghost_version == version + 1
    fresh = RunState()
    fresh.apply([event_factory.run_started(10)])
    assert fresh.ghost is None
    assert fresh.ghost_version == 0


def test_a_long_cut_off_stretch_is_thinned_and_ends_at_the_last_step() -> None:
    train = CompactingSeries(TRAIN_COLUMNS, recent_rows=20_000)
    steps = np.arange(1, 100_001, dtype=np.float64)
    loss = np.linspace(2.0, 0.1, steps.size)
    train.append(steps, loss, loss, loss, loss, loss)
    state = fold([event_factory.run_started()])
    ghost = cut_off(train, state.evaluations, from_step=100_000, to_step=10_000)
    assert ghost is not None
    assert len(ghost.train_steps) <= MAX_GHOST_POINTS + 1
    assert ghost.train_steps[0] >= 10_000
    assert ghost.train_steps[-1] == 100_000
    assert ghost.train_smoothed_loss[-1] == pytest.approx(0.1)
    assert np.all(np.diff(ghost.train_steps) > 0)
