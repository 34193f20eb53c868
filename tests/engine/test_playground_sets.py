"""engine.playground_sets: TensorFlow Playground's four sets, as its exercises expect them."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from trainscope.engine.cli import build_parser, config_from_args
from trainscope.engine.config import DatasetSpec, ModelSpec, RunConfig
from trainscope.engine.data import DATASET_NAMES, Dataset, load_dataset
from trainscope.engine.errors import DataError
from trainscope.engine.headless import run_headless

PLAYGROUND_NAMES = ("circle", "xor", "gaussians", "spiral")


def playground(name: str, noise: float = 0.0, seed: int = 0, **knobs: object) -> Dataset:
    return load_dataset(DatasetSpec(name=name, noise=noise, **knobs), seed=seed)


def validation_accuracy(name: str, hidden: tuple[int, ...], activation: str, steps: int) -> float:
    """Train headless (a real ThreadSession, no recording) and read the final validation score."""
    config = RunConfig(
        dataset=DatasetSpec(name=name),
        model=ModelSpec(hidden=hidden, activation=activation),
        steps=steps,
        eval_every=250,
        seed=42,
    ).with_settings(lr=0.01)
    out = io.StringIO()
    assert run_headless(config, emit_json=True, out=out, err=io.StringIO()) == 0
    return json.loads(out.getvalue().strip().splitlines()[-1])["final"]["val_accuracy"]


# --- listed where a student picks a dataset ------------------------------------------------------


def test_the_four_sets_can_be_chosen_on_the_command_line_and_in_the_window() -> None:
    assert set(PLAYGROUND_NAMES) <= set(DATASET_NAMES)  # the setup panel lists DATASET_NAMES
    args = build_parser().parse_args(["--headless", "--dataset", "spiral", "--noise", "0.3"])
    assert config_from_args(args).dataset == DatasetSpec(name="spiral", noise=0.3)


def test_noise_beyond_playgrounds_slider_is_refused_in_one_sentence() -> None:
    with pytest.raises(DataError, match=r"noise must be between 0 and 0\.5 for spiral"):
        playground("spiral", noise=0.6)
    playground("xor", noise=0.5)
    load_dataset(DatasetSpec(name="moons", noise=0.6), seed=0)  # other sets keep their range


# --- rows, balance, seeds ------------------------------------------------------------------------


@pytest.mark.parametrize("name", PLAYGROUND_NAMES)
@pytest.mark.parametrize(("n_samples", "per_class"), [(None, (500, 500)), (301, (151, 150))])
def test_each_set_gives_the_rows_asked_for_in_balanced_classes(
    name: str, n_samples: int | None, per_class: tuple[int, int]
) -> None:
    dataset = playground(name, n_samples=n_samples)
    assert dataset.features.shape == (sum(per_class), 2)
    assert tuple(np.bincount(dataset.labels)) == per_class
    assert len(dataset.class_names) == 2
    assert dataset.feature_names == ("x1", "x2")


@pytest.mark.parametrize("name", PLAYGROUND_NAMES)
def test_each_set_is_the_same_for_a_seed_and_different_for_another(name: str) -> None:
    first, again, other = (playground(name, noise=0.2, seed=seed) for seed in (5, 5, 6))
    np.testing.assert_array_equal(first.features, again.features)
    np.testing.assert_array_equal(first.labels, again.labels)
    assert not np.array_equal(first.features, other.features)


@pytest.mark.parametrize("name", ["spiral", "xor"])
def test_imbalance_makes_class_one_the_minority(name: str) -> None:
    labels = playground(name, imbalance=0.2).labels
    assert len(labels) == 1000
    assert labels.mean() == pytest.approx(0.2)


# --- Playground's geometry -----------------------------------------------------------------------


def test_circle_is_a_disk_inside_a_ring_with_a_gap() -> None:
    dataset = playground("circle")
    radius = np.hypot(*dataset.features.T)
    inside = dataset.labels == dataset.class_names.index("inside")
    assert radius[inside].max() < 2.5
    assert radius[~inside].min() >= 3.5
    assert radius.max() <= 5.0


def test_xor_keeps_a_gap_around_the_axes_and_labels_by_quadrant() -> None:
    dataset = playground("xor")
    assert np.abs(dataset.features).min() >= 0.3
    assert np.abs(dataset.features).max() <= 5.3
    same_sign = dataset.features[:, 0] * dataset.features[:, 1] > 0
    np.testing.assert_array_equal(dataset.labels, same_sign.astype(np.int64))


def test_gaussians_sit_around_minus_two_and_plus_two() -> None:
    dataset = playground("gaussians")
    for label, centre in ((0, -2.0), (1, 2.0)):
        np.testing.assert_allclose(
            dataset.features[dataset.labels == label].mean(0), centre, atol=0.1
        )


def test_spiral_arms_wind_out_to_radius_five_half_a_turn_apart() -> None:
    dataset = playground("spiral")
    assert np.hypot(*dataset.features.T).max() < 5.0
    arm_a, arm_b = (dataset.features[dataset.labels == label] for label in (0, 1))
    # Half a turn apart: each point of one arm is a point of the other mirrored through 0.
    distances = np.linalg.norm(arm_b[:, None, :] + arm_a[None, :, :], axis=2)
    assert distances.min(axis=1).max() < 1e-4


# --- noise, with each set's own meaning ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("circle", lambda x: np.hypot(x[:, 0], x[:, 1]) < 2.5),
        ("xor", lambda x: x[:, 0] * x[:, 1] >= 0),
    ],
)
def test_noise_on_circle_and_xor_blurs_the_boundary_without_moving_points(name, rule) -> None:
    """As in Playground: points stay put, but the labels near the boundary mix more and more."""
    clean = playground(name)
    mismatch = []
    for noise in (0.0, 0.1, 0.3, 0.5):
        noisy = playground(name, noise=noise)
        np.testing.assert_array_equal(noisy.features, clean.features)
        mismatch.append(float((noisy.labels != rule(noisy.features)).mean()))
    assert mismatch[0] == 0
    assert mismatch == sorted(mismatch)
    assert mismatch[-1] > 0.15


def test_noise_on_gaussians_widens_the_clusters_as_playground_does() -> None:
    spreads = []
    for noise in (0.0, 0.25, 0.5):
        dataset = playground("gaussians", noise=noise)
        centres = np.where(dataset.labels[:, None] == 1, 2.0, -2.0)
        spreads.append(float((dataset.features - centres).std()))
    np.testing.assert_allclose(spreads, np.sqrt([0.5, 2.25, 4.0]), rtol=0.08)


def test_noise_on_spiral_moves_points_off_their_arm_by_at_most_the_noise() -> None:
    clean = playground("spiral")
    offsets = [np.abs(playground("spiral", noise=n).features - clean.features) for n in (0.2, 0.5)]
    assert offsets[0].max() <= 0.2 + 1e-6
    assert offsets[1].max() <= 0.5 + 1e-6
    assert offsets[0].mean() < offsets[1].mean()


# --- what a small network can and cannot learn ---------------------------------------------------


def test_a_small_mlp_learns_the_spiral() -> None:
    assert validation_accuracy("spiral", (32, 32), "relu", steps=2000) >= 0.9


def test_xor_defeats_logistic_regression_but_not_a_small_mlp() -> None:
    assert validation_accuracy("xor", (), "relu", steps=1000) < 0.7
    assert validation_accuracy("xor", (8,), "tanh", steps=1000) >= 0.95
