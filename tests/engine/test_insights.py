"""Seeing inside the model, on real computations: the boundary grid, layer health, the budget."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tests.engine.session_helpers import (
    collect_until,
    last_state,
    of_type,
    small_config,
    step_count,
)
from trainscope.engine import commands as cmd
from trainscope.engine import events as ev
from trainscope.engine.config import DatasetSpec, ModelSpec, RunConfig
from trainscope.engine.data import prepare_data
from trainscope.engine.insight_collector import BUDGET_SHARE, InsightCollector
from trainscope.engine.insights import activation_statistics, decision_boundary, grid_inputs
from trainscope.engine.layers import find_layers
from trainscope.engine.projection import data_view
from trainscope.engine.resources import ResourceMonitor
from trainscope.engine.session import ThreadSession
from trainscope.engine.trainer import Trainer

CPU = torch.device("cpu")


def make_trainer(config: RunConfig, steps: int = 0) -> Trainer:
    trainer = Trainer(config, prepare_data(config.dataset, config.seed), CPU)
    for step in range(1, steps + 1):
        trainer.train_step(step)
    return trainer


@pytest.fixture(scope="module")
def trained_moons() -> Trainer:
    """Moons with a hidden layer of 16, trained 400 steps at lr 0.01: a curved boundary."""
    return make_trainer(small_config(settings={"lr": 0.01}), steps=400)


def parameters_by_layer(trainer: Trainer) -> list[torch.Tensor]:
    return [
        torch.cat([p.detach().flatten().clone() for p in layer.parameters])
        for layer in trainer.layers
    ]


# ----- decision boundary ----------------------------------------------------------------------
def test_boundary_grid_agrees_with_the_models_predictions_at_the_training_points(trained_moons):
    trainer = trained_moons
    view, plane = data_view(trainer.data)
    size = 100
    boundary = decision_boundary(trainer, grid_inputs(view, plane, CPU, size), step=400, size=size)
    assert boundary.predicted_class.shape == (size, size)
    assert boundary.predicted_class.dtype == np.int16
    assert boundary.confidence.dtype == np.float32
    # The nearest grid cell of every training point (row = y, column = x, from the low end).
    xy = view.train_xy
    column = np.rint((xy[:, 0] - view.x_range[0]) / np.ptp(view.x_range) * (size - 1)).astype(int)
    row = np.rint((xy[:, 1] - view.y_range[0]) / np.ptp(view.y_range) * (size - 1)).astype(int)
    on_grid = boundary.predicted_class[row, column]
    own = trainer.probabilities(trainer.train_x).argmax(1).numpy()
    assert (own == trainer.data.train_y).mean() > 0.85  # it learned: a boundary, not one colour
    assert (on_grid == own).mean() >= 0.95
    # Binary: P(class 1) is there, and the confidence is the larger of the two probabilities.
    positive = boundary.positive_probability
    np.testing.assert_allclose(boundary.confidence, np.maximum(positive, 1 - positive), atol=1e-6)
    np.testing.assert_array_equal(boundary.predicted_class, (positive > 0.5).astype(np.int16))


def test_boundary_respects_temperature_and_multiclass_has_no_positive_probability():
    trainer = make_trainer(
        RunConfig(dataset=DatasetSpec(name="digits"), model=ModelSpec(hidden=(16,)), seed=1),
        steps=20,
    )
    view, plane = data_view(trainer.data)
    inputs = grid_inputs(view, plane, CPU, 20)
    plain = decision_boundary(trainer, inputs, step=20, size=20)
    trainer.temperature = 3.0
    cooled = decision_boundary(trainer, inputs, step=20, size=20)
    assert plain.positive_probability is None
    assert plain.confidence.shape == (20, 20)
    np.testing.assert_array_equal(plain.predicted_class, cooled.predicted_class)
    assert cooled.confidence.mean() < plain.confidence.mean()


# ----- layer health ---------------------------------------------------------------------------
def test_layers_are_named_input_side_first_with_the_activation_after_them():
    mlp = make_trainer(small_config(model=ModelSpec(hidden=(8, 4), activation="tanh")))
    assert [layer.name for layer in mlp.layers] == [
        "dense 1 (2→8)",
        "dense 2 (8→4)",
        "output (4→2)",
    ]
    assert [layer.can_die for layer in mlp.layers] == [False, False, False]
    cnn = Trainer(
        RunConfig(dataset=DatasetSpec(name="digits"), model=ModelSpec(kind="cnn")),
        prepare_data(DatasetSpec(name="digits"), 0),
        CPU,
    )
    names = [layer.name for layer in find_layers(cnn.model)]
    assert names == ["conv 1 (1→16)", "conv 2 (16→32)", "dense 1 (512→64)", "output (64→10)"]
    assert [layer.can_die for layer in cnn.layers] == [True, True, True, False]


def test_a_layer_with_a_very_negative_bias_is_all_dead_a_trained_one_is_not(trained_moons):
    healthy, _, _ = activation_statistics(trained_moons, trained_moons.layers)
    assert healthy[0] < 0.5
    assert math.isnan(healthy[1])
    killed = make_trainer(small_config(settings={"lr": 0.01}), steps=50)
    with torch.no_grad():
        killed.layers[0].module.bias.fill_(-100.0)
    dead, edges, counts = activation_statistics(killed, killed.layers)
    assert dead[0] == 1.0
    n_validation = len(killed.data.validation_y)
    assert counts[0].sum() == n_validation * 16
    assert counts[1].sum() == n_validation * 2
    assert edges.shape == (2, counts.shape[1] + 1)
    assert (np.diff(edges, axis=1) > 0).all()


def test_conv_layers_count_dead_channels_and_their_histograms_cover_every_value():
    cnn = make_trainer(RunConfig(dataset=DatasetSpec(name="digits"), model=ModelSpec(kind="cnn")))
    with torch.no_grad():
        cnn.layers[0].module.bias[:8] = -100.0  # half of conv 1's 16 channels can never fire
    dead, _, counts = activation_statistics(cnn, cnn.layers)
    assert dead[0] == pytest.approx(0.5)
    assert counts[0].sum() == len(cnn.data.validation_y) * 16 * 8 * 8


def test_layer_gradient_norms_combine_to_the_global_norm():
    for model in (ModelSpec(hidden=(16, 8)), ModelSpec(kind="cnn")):
        dataset = DatasetSpec(name="moons") if model.kind == "mlp" else DatasetSpec(name="digits")
        trainer = make_trainer(RunConfig(dataset=dataset, model=model, seed=3), steps=5)
        measured = trainer.train_step(6, inspect_layers=True)
        # The gradients of step 6 are still in .grad: clip_grad_norm_ returns their global norm.
        total = torch.nn.utils.clip_grad_norm_(trainer.parameters, max_norm=math.inf)
        combined = math.sqrt(float(np.sum(measured.grad_norm**2)))
        assert combined == pytest.approx(float(total), rel=1e-5)
        assert len(measured.grad_norm) == len(trainer.layers)


def test_update_ratio_is_how_far_the_step_moved_each_layer():
    trainer = make_trainer(small_config(model=ModelSpec(hidden=(16, 8))), steps=5)
    before = parameters_by_layer(trainer)
    measured = trainer.train_step(6, inspect_layers=True)
    after = parameters_by_layer(trainer)
    expected = [float((a - b).norm() / b.norm()) for a, b in zip(after, before, strict=True)]
    np.testing.assert_allclose(measured.update_ratio, expected, rtol=1e-4)
    np.testing.assert_allclose(measured.weight_norm, [float(a.norm()) for a in after], rtol=1e-5)
    assert (measured.update_ratio > 0).all()


def test_an_ordinary_step_measures_nothing():
    trainer = make_trainer(small_config())
    assert trainer.train_step(1) is None


# ----- the collector's budget -----------------------------------------------------------------
class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_insight_waits_its_cost_over_the_budget_share_unless_the_student_asks():
    """At a 2.5% share, an insight costing c waits 40 c from its start before the next."""
    trainer = make_trainer(small_config())
    events: list[ev.Event] = []
    clock = FakeClock()
    collector = InsightCollector(trainer, trainer.data, events.append, grid_size=10, clock=clock)
    collector.configure(cmd.SetInsights(boundary=True), step=0)  # switched on: drawn at once
    first = of_type(events, ev.DecisionBoundary)
    assert len(first) == 1
    cost_s = first[0].duration_ms / 1000
    collector.after_evaluation(10, refresh=False)
    assert len(of_type(events, ev.DecisionBoundary)) == 1  # within its budget: skipped
    collector.after_evaluation(10, refresh=True)  # a paused run, or an Evaluate command
    assert len(of_type(events, ev.DecisionBoundary)) == 2
    last_cost_s = of_type(events, ev.DecisionBoundary)[-1].duration_ms / 1000
    clock.now += last_cost_s * (1 / BUDGET_SHARE - 1) * 0.99
    collector.after_evaluation(20, refresh=False)
    assert len(of_type(events, ev.DecisionBoundary)) == 2  # not quite yet
    clock.now += last_cost_s * (1 / BUDGET_SHARE - 1) * 0.02
    collector.after_evaluation(20, refresh=False)
    assert len(of_type(events, ev.DecisionBoundary)) == 3
    assert cost_s > 0


def test_a_slow_boundary_is_drawn_on_a_coarser_grid_from_then_on():
    trainer = make_trainer(small_config())
    events: list[ev.Event] = []
    collector = InsightCollector(trainer, trainer.data, events.append)
    collector.slow_boundary_ms = 1e-6  # every boundary counts as slow here
    collector.configure(cmd.SetInsights(boundary=True), step=0)
    collector.after_evaluation(0, refresh=True)
    first, second = of_type(events, ev.DecisionBoundary)
    assert first.predicted_class.shape == (100, 100)
    assert second.predicted_class.shape == (32, 32) == second.confidence.shape


def test_one_feature_data_has_no_plane_but_still_gets_its_validation_rows():
    trainer = make_trainer(small_config(dataset=DatasetSpec(name="blobs", n_features=1)))
    events: list[ev.Event] = []
    collector = InsightCollector(trainer, trainer.data, events.append)
    collector.announce()
    collector.configure(cmd.SetInsights(boundary=True), step=0)
    assert [type(event) for event in events] == [ev.ValidationInputs]


def test_resources_report_cpu_and_memory():
    monitor = ResourceMonitor(CPU, interval_s=0.0)
    sum(range(200_000))
    sample = monitor.maybe_sample(step=5)
    assert sample is not None
    assert sample.step == 5
    assert sample.cpu_percent >= 0
    assert sample.rss_mib > 10
    assert sample.gpu_memory_mib is None
    assert ResourceMonitor(CPU, interval_s=60.0).maybe_sample(step=5) is None


# ----- in a real session ----------------------------------------------------------------------
@pytest.fixture
def session():
    made = ThreadSession(small_config())
    made.start()
    yield made
    made.close()


def test_session_sends_the_plane_and_validation_rows_and_nothing_costly_by_default(session):
    events = collect_until(
        session, [], lambda e: any(x.step >= 40 for x in of_type(e, ev.Evaluation))
    )
    names = [type(event).__name__ for event in events]
    started = names.index("RunStarted")
    assert names[started + 1 : started + 3] == ["DataView", "ValidationInputs"]
    assert not of_type(events, ev.DecisionBoundary)
    assert not of_type(events, ev.LayerHealth)
    rows = of_type(events, ev.ValidationInputs)[0]
    data = prepare_data(small_config().dataset, small_config().seed)
    unscaled = data.validation_x * data.feature_std + data.feature_mean
    np.testing.assert_allclose(rows.features, unscaled, rtol=1e-6)
    assert rows.features.dtype == np.float32
    assert rows.image_shape is None
    view = of_type(events, ev.DataView)[0]
    assert view.train_xy.shape == (len(data.train_y), 2)
    assert view.note == ""


def test_session_sends_insights_when_asked_and_refreshes_them_on_a_single_step(session):
    session.send(cmd.SetInsights(boundary=True, layer_health=True))
    events = collect_until(
        session,
        [],
        lambda e: (
            len(of_type(e, ev.LayerHealth)) >= 2 and len(of_type(e, ev.DecisionBoundary)) >= 2
        ),
    )
    boundary = of_type(events, ev.DecisionBoundary)[-1]
    before = events[next(i for i, event in enumerate(events) if event is boundary) - 1]
    assert isinstance(before, ev.Evaluation)
    assert before.split == "validation"
    assert before.step == boundary.step
    assert boundary.predicted_class.shape == (100, 100)
    health = of_type(events, ev.LayerHealth)[-1]
    assert health.layer_names == ("dense 1 (2→16)", "output (16→2)")
    assert health.activation_counts.shape == (2, 30)
    assert health.duration_ms > 0
    session.send(cmd.Pause())
    collect_until(session, events, lambda e: last_state(e) == "paused")
    paused_at = step_count(events)
    for target in (paused_at + 1, paused_at + 2):  # the student steps once, looks, steps again
        session.send(cmd.Step(1))
        collect_until(
            session,
            events,
            lambda e, t=target: t in [x.step for x in of_type(e, ev.DecisionBoundary)],
        )
    # Each step is redrawn at once, and the evaluation after the first one armed the second
    # step's layer measurement (its LayerHealth leaves before that step's boundary).
    assert paused_at + 2 in [x.step for x in of_type(events, ev.LayerHealth)]


def test_session_sends_the_plane_again_after_a_reset(session):
    events = collect_until(session, [], lambda e: bool(of_type(e, ev.Evaluation)))
    session.send(cmd.Reset())
    collect_until(session, events, lambda e: len(of_type(e, ev.RunStarted)) == 2)
    collect_until(session, events, lambda e: len(of_type(e, ev.DataView)) == 2)
    first, second = of_type(events, ev.DataView)
    assert first is second  # computed once per run: the points do not change on reset


def test_the_training_process_previews_pending_data_settings() -> None:
    """PreviewData is answered with the new points, or with the sentence saying why none."""
    session = ThreadSession(small_config(steps=None))
    session.start()
    try:
        events: list[ev.Event] = []
        noisy = DatasetSpec(name="spiral", noise=0.2, n_samples=400)
        session.send(cmd.PreviewData(noisy, 3))
        session.send(cmd.PreviewData(DatasetSpec(name="moons", n_samples=10), 3))
        collect_until(session, events, lambda got: len(of_type(got, ev.DataPreview)) == 2)
        good, bad = of_type(events, ev.DataPreview)
        assert good.dataset == noisy
        assert good.error is None
        assert len(good.view.train_xy) + len(good.view.validation_xy) == 400 - round(400 * 0.15)
        assert good.class_names == ("arm A", "arm B")
        assert bad.view is None
        assert "n_samples" in bad.error
    finally:
        session.close()
