"""Bug switches, loss weights, temperature, extra splits and hints, in a real session."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.engine.scenario_helpers import scenario_run
from tests.engine.session_helpers import collect_until, of_type, small_config
from trainscope.engine import commands as cmd
from trainscope.engine import events as ev
from trainscope.engine.config import DatasetSpec, RunConfig
from trainscope.engine.data import prepare_data
from trainscope.engine.errors import SettingError
from trainscope.engine.session import ThreadSession
from trainscope.engine.trainer import Trainer


def trainer_for(config: RunConfig) -> Trainer:
    return Trainer(config, prepare_data(config.dataset, config.seed), torch.device("cpu"))


# --- settings at the boundary ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "raw", "value"),
    [
        ("no_zero_grad", "on", True),
        ("no_eval_mode", "false", False),
        ("shuffled_labels", True, True),
        ("class_weighting", "Balanced", "balanced"),
        ("slice_weighting", "none", "none"),
    ],
)
def test_new_settings_normalize(key, raw, value):
    assert cmd.SetParam(key, raw).value is value or cmd.SetParam(key, raw).value == value


@pytest.mark.parametrize(("key", "raw"), [("no_zero_grad", "maybe"), ("class_weighting", "heavy")])
def test_new_settings_refuse_bad_values_in_one_sentence(key, raw):
    with pytest.raises(SettingError) as caught:
        cmd.SetParam(key, raw)
    assert key in str(caught.value)
    assert "\n" not in str(caught.value)


# --- what each switch does to the loop ---------------------------------------------------------


def test_shuffled_labels_train_on_a_fixed_permutation_with_the_same_class_counts():
    trainer = trainer_for(small_config().with_settings(shuffled_labels=True))
    shuffled, true = trainer.train_y.numpy(), trainer.true_train_y.numpy()
    np.testing.assert_array_equal(np.bincount(shuffled), np.bincount(true))
    assert 0.3 < np.mean(shuffled == true) < 0.7  # two classes: about half match by chance
    trainer.apply_setting("shuffled_labels", False)
    np.testing.assert_array_equal(trainer.train_y.numpy(), true)


def test_balanced_class_weights_give_each_class_the_same_total_weight():
    config = small_config(dataset=DatasetSpec(name="moons", n_samples=400, imbalance=0.1))
    trainer = trainer_for(config)
    assert trainer.row_weights is None
    trainer.apply_setting("class_weighting", "balanced")
    weights, labels = trainer.row_weights.numpy(), trainer.train_y.numpy()
    totals = [weights[labels == k].sum() for k in (0, 1)]
    assert totals[0] == pytest.approx(totals[1])


def test_balanced_slice_weights_give_each_slice_the_same_total_weight():
    config = small_config(dataset=DatasetSpec(name="moons", n_samples=600, slice_fraction=0.1))
    trainer = trainer_for(config.with_settings(slice_weighting="balanced"))
    weights, slices = trainer.row_weights.numpy(), trainer.train_slices.numpy()
    assert weights[slices == 1].sum() == pytest.approx(weights[slices == 0].sum())


def test_no_zero_grad_lets_gradients_pile_up_until_switched_off():
    trainer = trainer_for(small_config().with_settings(lr=1e-7, no_zero_grad=True))
    for step in range(1, 31):
        trainer.train_step(step)
    piled = trainer.fetch_step_records()[3]
    assert piled[-1] > 10 * piled[0], "30 steps of summed gradients, weights barely moving"
    trainer.apply_setting("no_zero_grad", False)
    trainer.train_step(31)
    assert trainer.fetch_step_records()[3][-1] < 2 * piled[0]


def test_no_eval_mode_leaves_dropout_on_so_the_same_weights_score_differently():
    trainer = trainer_for(small_config().with_settings(dropout=0.5, no_eval_mode=True))
    first, second = (trainer.evaluate("validation", 0, 0.0).loss for _ in range(2))
    assert first != second
    trainer.apply_setting("no_eval_mode", False)
    first, second = (trainer.evaluate("validation", 0, 0.0).loss for _ in range(2))
    assert first == second


# --- session features --------------------------------------------------------------------------


def test_fit_temperature_recalibrates_without_changing_predictions_and_clears():
    config = small_config(
        dataset=DatasetSpec(name="moons", n_samples=300, noise=0.4, train_subset=40), steps=400
    ).with_settings(lr=0.01)
    with scenario_run(config) as run:
        run.to_end()
        before = run.history.latest["validation"]
        run.apply([cmd.FitTemperature()])
        fitted = of_type(run.events, ev.TemperatureFitted)[-1]
        after = run.history.latest["validation"]
        run.apply([cmd.ClearTemperature()])
        cleared = run.history.latest["validation"]
    assert fitted.temperature != 1.0
    assert after.temperature == fitted.temperature
    assert fitted.ece_after < fitted.ece_before
    assert after.calibration.ece < before.calibration.ece
    np.testing.assert_array_equal(after.probabilities.argmax(1), before.probabilities.argmax(1))
    assert cleared.temperature == 1.0
    assert cleared.loss == pytest.approx(before.loss)


def test_deployment_and_slices_are_scored_at_every_evaluation():
    dataset = DatasetSpec(name="moons", n_samples=600, deployment=True, slice_fraction=0.1)
    with scenario_run(small_config(dataset=dataset, steps=30)) as run:
        run.to_end()
        events = run.events
    started = of_type(events, ev.RunStarted)[0]
    assert started.n_deployment > 0
    assert started.slice_names == ("main group", "subgroup")
    evaluations = of_type(events, ev.Evaluation)
    steps = {
        split: [e.step for e in evaluations if e.split == split]
        for split in ("validation", "deployment")
    }
    assert steps["validation"] == steps["deployment"] == [0, 10, 20, 30]
    last = evaluations[-1]
    assert set(last.slice_accuracy) == set(started.slice_names)
    assert last.slice_ids.shape == last.labels.shape


def test_rewind_after_a_blow_up_returns_to_the_last_good_checkpoint():
    config = small_config(eval_every=5).with_settings(optimizer="sgd", lr=1e6)
    session = ThreadSession(config)
    session.start()
    try:
        events = collect_until(session, [], lambda e: bool(of_type(e, ev.Diverged)))
        session.send(cmd.Rewind())
        events = collect_until(session, events, lambda e: bool(of_type(e, ev.Rewound)))
    finally:
        session.close()
    hint = next(h for h in of_type(events, ev.Hint) if h.kind == "diverged")
    rewound = of_type(events, ev.Rewound)[0]
    assert rewound.to_step < hint.step
    assert hint.step <= of_type(events, ev.Diverged)[0].step


def test_a_reset_clears_the_temperature():
    with scenario_run(small_config(steps=20)) as run:
        run.to_end().apply([cmd.FitTemperature(), cmd.Reset()])
        assert run.history.latest["validation"].temperature == 1.0
