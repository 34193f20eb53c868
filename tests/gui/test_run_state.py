"""RunState folds the event stream into what panels draw; plain Python, no Qt needed."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests import event_factory
from trainscope.engine import events
from trainscope.engine.events import CommandRefused, Error, Finished, ParamChanged, StateChanged
from trainscope.gui.run_state import (
    MAX_MESSAGES,
    SMOOTHING_STEPS,
    Marker,
    RunState,
    format_value,
    param_label,
)


def fold(events: list) -> RunState:
    state = RunState()
    state.apply(events)
    return state


def test_healthy_stream_fills_series_evaluations_and_status(ten_class_state: RunState) -> None:
    state = ten_class_state
    assert len(state.train) == 2000
    assert len(state.evaluations) == 21
    np.testing.assert_array_equal(state.train["step"], np.arange(1, 2001))
    assert state.step == 2000
    assert state.state == "running"
    assert state.latest_validation is not None
    assert state.latest_validation.step == 2000
    assert state.latest_test is None
    assert state.n_classes == 10
    assert not state.is_binary
    assert state.settings["lr"] == 3e-4  # the ParamChanged in the stream
    assert state.markers == [Marker(801, "param", "lr 0.001 → 0.0003")]


def test_best_step_is_the_lowest_validation_loss(ten_class_state: RunState) -> None:
    losses = ten_class_state.evaluations["val_loss"]
    index = int(np.argmin(losses))
    assert ten_class_state.best_val_loss == pytest.approx(losses[index])
    assert ten_class_state.best_step == int(ten_class_state.evaluations["step"][index])


def test_smoothed_loss_is_an_ema_of_about_fifty_steps() -> None:
    steps = np.arange(1, 401)
    loss = np.where(steps <= 200, 2.0, 0.0)
    state = fold([event_factory.run_started(), event_factory.step_metrics(steps, loss)])
    smoothed = state.train["smoothed_loss"]
    assert smoothed[0] == 2.0
    assert smoothed[199] == pytest.approx(2.0)
    alpha = 2.0 / (SMOOTHING_STEPS + 1)
    assert smoothed[200] == pytest.approx(2.0 * (1 - alpha))
    assert smoothed[200 + SMOOTHING_STEPS] < 0.3  # most of the drop followed within ~50 steps


def test_non_finite_loss_leaves_a_gap_but_does_not_poison_the_ema() -> None:
    loss = np.array([1.0, np.nan, np.inf, 1.0])
    state = fold([event_factory.run_started(), event_factory.step_metrics(np.arange(1, 5), loss)])
    smoothed = state.train["smoothed_loss"]
    assert np.isnan(smoothed[1])
    assert np.isnan(smoothed[2])
    assert smoothed[3] == pytest.approx(1.0)


def test_divergence_marks_and_stays_diverged_while_paused() -> None:
    state = fold(event_factory.diverging_stream())
    assert state.state == "diverged"  # the StateChanged("paused") after it does not hide why
    assert [marker.kind for marker in state.markers] == ["diverged"]
    assert state.markers[0].label == "diverged (loss inf)"
    assert "inf" in state.messages[-1]
    state.apply([StateChanged(step=350, state="running")])
    assert state.state == "running"


def test_rewind_truncates_history_recomputes_best_and_restores_the_evaluation() -> None:
    state = fold(event_factory.training_stream(10))
    version = state.series_version
    state.apply([event_factory.rewound(from_step=2000, to_step=700)])
    assert state.train["step"][-1] == 700
    assert len(state.train) == 700
    assert state.evaluations["step"][-1] == 700
    losses = state.evaluations["val_loss"]
    assert state.best_val_loss == pytest.approx(float(np.min(losses)))
    assert state.best_step <= 700
    assert state.latest_validation is not None
    assert state.latest_validation.step == 700
    assert [marker.kind for marker in state.markers] == ["rewind"]  # the lr change at 801 is gone
    assert state.markers[0].label == "rewind from 2000"
    assert state.markers[0].step == 700
    assert state.series_version > version
    assert state.step == 700


def test_re_evaluation_after_rewind_replaces_the_point_at_that_step() -> None:
    state = fold(event_factory.training_stream(10, total_steps=500))
    state.apply([event_factory.rewound(500, 300)])
    labels = event_factory.synthetic_labels(10)
    again = event_factory.evaluation(
        300, event_factory.synthetic_probabilities(labels, 10, 1.0), labels
    )
    state.apply([again])
    assert list(state.evaluations["step"]).count(300) == 1
    assert state.evaluations.last("val_loss") == pytest.approx(again.loss)


def test_a_second_run_started_is_a_reset() -> None:
    state = fold(event_factory.training_stream(10, total_steps=300))
    run_version = state.run_version
    state.apply([event_factory.run_started(10)])
    assert len(state.train) == 0
    assert len(state.evaluations) == 0
    assert state.latest_validation is None
    assert state.best_step is None
    assert state.markers == [Marker(0, "reset", "reset")]
    assert state.run_version == run_version + 1
    assert state.step == 0


def test_notices_are_kept_and_capped() -> None:
    state = fold([event_factory.run_started()])
    state.apply(
        [CommandRefused(step=1, message=f"no {index}") for index in range(MAX_MESSAGES + 7)]
    )
    assert len(state.messages) == MAX_MESSAGES
    assert state.messages[-1] == f"no {MAX_MESSAGES + 6}"
    state.apply([Error(message="boom", detail="trace")])
    assert state.state == "error"
    assert state.messages[-1] == "boom"


def test_finished_test_opened_and_state_changes() -> None:
    state = fold([event_factory.run_started(), StateChanged(step=0, state="running")])
    state.apply([events.TestSetOpened(step=40)])
    assert state.markers[-1] == Marker(40, "test_opened", "test set opened")
    state.apply([Finished(step=50, reason="completed")])
    assert state.state == "finished"
    state.apply([Finished(step=60, reason="stopped")])
    assert state.state == "stopped"


def test_threshold_and_costs_bump_their_version_only_on_change() -> None:
    state = RunState()
    assert (state.threshold, state.cost_fp, state.cost_fn) == (0.5, 1.0, 1.0)
    state.set_threshold(0.5)
    assert state.threshold_version == 0
    state.set_threshold(1.7)
    assert state.threshold == 1.0
    assert state.threshold_version == 1
    state.set_costs(10.0, 1.0)
    assert state.threshold_version == 2
    with pytest.raises(ValueError, match="costs must be finite and 0 or more"):
        state.set_costs(-1.0, 1.0)


def test_positive_class_is_chosen_once_per_run_and_checked() -> None:
    state = fold([event_factory.run_started(3)])
    assert state.positive_class is None  # nothing to choose from before an evaluation
    state.apply([event_factory.weak_class_evaluation(0, weak_class=0, split="test")])
    assert state.positive_class is None  # only validation chooses
    state.apply([event_factory.weak_class_evaluation(100, weak_class=1)])
    assert state.positive_class == 1
    state.apply([event_factory.weak_class_evaluation(200, weak_class=2)])
    assert state.positive_class == 1
    with pytest.raises(ValueError, match="one of 3 classes"):
        state.set_positive_class(3)
    state.apply(
        [event_factory.run_started(3), event_factory.weak_class_evaluation(100, weak_class=2)]
    )
    assert state.positive_class == 2
    assert fold([event_factory.run_started(2)]).positive_class == 1


def test_the_untrained_models_step_0_evaluation_only_gives_a_provisional_positive_class() -> None:
    state = fold(
        [event_factory.run_started(3), event_factory.weak_class_evaluation(0, weak_class=0)]
    )
    assert state.positive_class == 0  # something to show at once
    state.apply([event_factory.weak_class_evaluation(100, weak_class=1)])
    assert state.positive_class == 1  # chosen from the first trained evaluation
    state.apply([event_factory.weak_class_evaluation(200, weak_class=2)])
    assert state.positive_class == 1  # and kept
    picked = fold(
        [event_factory.run_started(3), event_factory.weak_class_evaluation(0, weak_class=0)]
    )
    picked.set_positive_class(2)
    picked.apply([event_factory.weak_class_evaluation(100, weak_class=1)])
    assert picked.positive_class == 2  # the user's pick is never provisional


def test_unrelated_versions_stay_put() -> None:
    state = fold(event_factory.training_stream(10, total_steps=200))
    markers, evaluation = state.markers_version, state.evaluation_version
    state.apply([event_factory.step_metrics(np.arange(201, 226), np.ones(25))])
    assert (state.markers_version, state.evaluation_version) == (markers, evaluation)
    state.apply([ParamChanged(step=226, key="dropout", old=0.0, new=0.5)])
    assert state.markers_version == markers + 1
    assert state.markers[-1].label == "dropout 0 → 0.5"


@pytest.mark.parametrize(
    ("key", "old", "new", "label"),
    [
        ("lr", 0.001, 0.1, "lr 0.001 → 0.1"),
        ("lr", 1e-5, 0.00012345, "lr 1e-5 → 0.000123"),
        ("optimizer", "adam", "sgd", "optimizer adam → sgd"),
        ("batch_size", 32, 1024, "batch_size 32 → 1024"),
    ],
)
def test_marker_labels_are_compact(key: str, old: object, new: object, label: str) -> None:
    assert param_label(key, old, new) == label


def test_format_value_handles_non_finite() -> None:
    assert format_value(math.inf) == "inf"
    assert format_value(math.nan) == "nan"


def test_gui_modules_never_import_torch_or_need_qt_for_the_state() -> None:
    """The window must start without torch; RunState must work without Qt (replay, tests)."""
    code = (
        "import sys\n"
        "import trainscope.gui.run_state, trainscope.gui.series\n"
        "assert not any(m.startswith('PySide6') for m in sys.modules), 'run_state pulled in Qt'\n"
        "import trainscope.gui.panels.loss_panel, trainscope.gui.panels.accuracy_panel, trainscope.gui.panels.confusion_panel\n"
        "import trainscope.gui.panels.reliability_panel, trainscope.gui.panels.threshold_panel, trainscope.gui.theme\n"
        "assert 'torch' not in sys.modules, 'a GUI module imported torch'\n"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=root
    )
    assert result.returncode == 0, result.stderr
