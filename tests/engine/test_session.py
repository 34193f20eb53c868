"""The training session, driven for real on a tiny model: every command and its effect."""

from __future__ import annotations

import numpy as np
import pytest

from tests.engine.session_helpers import (
    collect_until,
    last_state,
    of_type,
    small_config,
    step_count,
    step_values,
)
from trainscope.engine import commands as cmd
from trainscope.engine import events as ev
from trainscope.engine.config import DatasetSpec, ScheduledChange
from trainscope.engine.errors import SettingError
from trainscope.engine.session import ThreadSession


@pytest.fixture
def session_factory():
    sessions: list[ThreadSession] = []

    def make(**overrides: object) -> ThreadSession:
        session = ThreadSession(small_config(**overrides))
        sessions.append(session)
        session.start()
        return session

    yield make
    for session in sessions:
        session.close()


def test_run_completes_planned_steps_and_learns(session_factory):
    session = session_factory(steps=300)
    events = collect_until(session, [], lambda e: any(isinstance(x, ev.Finished) for x in e))
    started = of_type(events, ev.RunStarted)[0]
    assert started.max_steps == 300
    assert started.parameter_count > 0
    assert len(started.train_class_counts) == len(started.class_names) == 2
    assert sum(started.train_class_counts) == started.n_train
    assert step_count(events) == 300
    evaluations = [e for e in of_type(events, ev.Evaluation) if e.split == "validation"]
    assert evaluations[0].step == 0
    assert evaluations[-1].step == 300
    assert evaluations[-1].loss < evaluations[0].loss
    assert evaluations[-1].accuracy > 0.8
    assert last_state(events) == "finished"


def test_pause_stops_the_step_count_and_single_step_advances_by_exactly_one(session_factory):
    session = session_factory()
    events = collect_until(session, [], lambda e: step_count(e) >= 20)
    session.send(cmd.Pause())
    collect_until(session, events, lambda e: last_state(e) == "paused")
    paused_at = step_count(events)
    events.extend(collect_until(session, [], lambda e: True, timeout=1))
    import time

    time.sleep(0.3)
    events.extend(session.drain())
    assert step_count(events) == paused_at, "steps advanced while paused"
    session.send(cmd.Step(1))
    collect_until(session, events, lambda e: step_count(e) == paused_at + 1)
    time.sleep(0.3)
    events.extend(session.drain())
    assert step_count(events) == paused_at + 1
    assert last_state(events) == "paused"


def test_learning_rate_change_reaches_the_very_next_step(session_factory):
    session = session_factory()
    events = collect_until(session, [], lambda e: step_count(e) >= 30)
    session.send(cmd.SetParam("lr", 0.05))
    collect_until(session, events, lambda e: bool(of_type(e, ev.ParamChanged)))
    change = of_type(events, ev.ParamChanged)[0]
    collect_until(session, events, lambda e: step_count(e) >= change.step + 5)
    lrs = step_values(events, "lr")
    assert change.key == "lr"
    assert change.old == pytest.approx(1e-3)
    assert change.new == 0.05
    assert lrs[change.step - 1] == pytest.approx(1e-3)
    assert lrs[change.step] == pytest.approx(0.05)


def test_scheduled_change_takes_effect_at_its_step_exactly(session_factory):
    schedule = (ScheduledChange(step=37, change=cmd.SetParam("lr", 0.2)),)
    session = session_factory(steps=60, schedule=schedule)
    events = collect_until(session, [], lambda e: any(isinstance(x, ev.Finished) for x in e))
    change = of_type(events, ev.ParamChanged)[0]
    lrs = step_values(events, "lr")
    assert change.step == 37
    assert lrs[36] == pytest.approx(1e-3)
    assert lrs[37] == pytest.approx(0.2)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("lr", 0),
        ("lr", -0.01),
        ("dropout", 1.0),
        ("dropout", -0.1),
        ("optimizer", "rmsprop"),
        ("batch_size", 2.5),
        ("bogus", 1),
    ],
)
def test_invalid_settings_are_refused_in_one_sentence(key, value):
    with pytest.raises(SettingError) as caught:
        cmd.SetParam(key, value)
    message = str(caught.value)
    assert message
    assert "\n" not in message


def test_every_live_setting_applies(session_factory):
    session = session_factory()
    events = collect_until(session, [], lambda e: step_count(e) >= 10)
    changes = {
        "dropout": 0.3,
        "weight_decay": 0.01,
        "momentum": 0.5,
        "optimizer": "sgd",
        "batch_size": 8,
        "grad_clip": 1.0,
    }
    for key, value in changes.items():
        session.send(cmd.SetParam(key, value))
    collect_until(session, events, lambda e: len(of_type(e, ev.ParamChanged)) == len(changes))
    applied = {change.key: change.new for change in of_type(events, ev.ParamChanged)}
    assert applied == changes
    steps_before = step_count(events)
    collect_until(session, events, lambda e: step_count(e) >= steps_before + 20)
    assert last_state(events) == "running"


def test_rewind_restores_the_earlier_weights(session_factory):
    session = session_factory()
    events = collect_until(session, [], lambda e: step_count(e) >= 95)
    session.send(cmd.Pause())
    collect_until(session, events, lambda e: last_state(e) == "paused")
    session.send(cmd.Rewind())
    collect_until(session, events, lambda e: bool(of_type(e, ev.Rewound)))
    rewound = of_type(events, ev.Rewound)[0]
    collect_until(
        session,
        events,
        lambda e: of_type(e, ev.Evaluation)[-1].step == rewound.to_step and e[-1] is not rewound,
    )
    validations = [e for e in of_type(events, ev.Evaluation) if e.split == "validation"]
    at_checkpoint = [e for e in validations if e.step == rewound.to_step]
    assert rewound.to_step % 10 == 0
    assert rewound.to_step < rewound.from_step
    assert len(at_checkpoint) == 2, "expected the original evaluation and the one after rewind"
    assert at_checkpoint[1].loss == at_checkpoint[0].loss
    np.testing.assert_array_equal(at_checkpoint[1].probabilities, at_checkpoint[0].probabilities)


def test_divergence_pauses_the_run_and_reports_it(session_factory):
    session = session_factory(settings={"optimizer": "sgd", "lr": 1e6})
    events = collect_until(session, [], lambda e: bool(of_type(e, ev.Diverged)))
    collect_until(session, events, lambda e: last_state(e) == "paused")
    diverged = of_type(events, ev.Diverged)[0]
    assert not np.isfinite(diverged.loss)
    assert "learning rate" in diverged.message
    assert session.is_alive()


def test_test_split_stays_sealed_until_opened(session_factory):
    session = session_factory()
    events = collect_until(session, [], lambda e: step_count(e) >= 40)
    assert not [e for e in of_type(events, ev.Evaluation) if e.split == "test"]
    session.send(cmd.OpenTestSet())
    collect_until(
        session, events, lambda e: any(x.split == "test" for x in of_type(e, ev.Evaluation))
    )
    opened = of_type(events, ev.TestSetOpened)[0]
    assert opened.step >= 40


def test_each_split_is_scored_beside_its_own_zero_rule(session_factory):
    """Always-the-training-majority scores that class's share of the split it is scored on, and
    on the wave's shifted deployment split that share is far from the validation split's."""
    shifted = DatasetSpec(name="wave", n_samples=400, deployment=True, shift=1.0)
    session = session_factory(dataset=shifted, steps=20)
    events = collect_until(session, [], lambda e: any(isinstance(x, ev.Finished) for x in e))
    majority = int(np.argmax(of_type(events, ev.RunStarted)[0].train_class_counts))
    latest = {evaluation.split: evaluation for evaluation in of_type(events, ev.Evaluation)}
    assert set(latest) == {"validation", "deployment"}
    for evaluation in latest.values():
        share = float(np.mean(evaluation.labels == majority))
        assert evaluation.zero_rule_accuracy == pytest.approx(share), evaluation.split
    moved = latest["deployment"].zero_rule_accuracy - latest["validation"].zero_rule_accuracy
    assert abs(moved) > 0.1


def test_same_seed_gives_the_same_numbers(session_factory):
    runs = []
    for _ in range(2):
        session = session_factory(steps=80)
        events = collect_until(session, [], lambda e: any(isinstance(x, ev.Finished) for x in e))
        runs.append(step_values(events, "loss"))
    assert runs[0] == runs[1]


def test_reset_starts_over_from_step_zero(session_factory):
    session = session_factory()
    events = collect_until(session, [], lambda e: step_count(e) >= 30)
    session.send(cmd.Reset())

    def evaluations_after_reset(collected: list[ev.Event]) -> list[ev.Evaluation]:
        """The evaluations that follow the second RunStarted (the reset's)."""
        starts = [i for i, event in enumerate(collected) if isinstance(event, ev.RunStarted)]
        return of_type(collected[starts[1] :], ev.Evaluation) if len(starts) >= 2 else []

    collect_until(session, events, lambda e: bool(evaluations_after_reset(e)))
    first_eval_after_reset = evaluations_after_reset(events)[0]
    initial_eval = of_type(events, ev.Evaluation)[0]
    assert first_eval_after_reset.step == 0
    assert first_eval_after_reset.loss == initial_eval.loss


def test_bad_dataset_becomes_an_error_event_not_a_crash():
    from trainscope.engine.config import DatasetSpec

    session = ThreadSession(
        small_config(dataset=DatasetSpec(name="csv", csv_path="/nonexistent.csv"))
    )
    session.start()
    events = collect_until(session, [], lambda e: bool(of_type(e, ev.Error)))
    session.join(5)
    assert "nonexistent" in of_type(events, ev.Error)[0].message
