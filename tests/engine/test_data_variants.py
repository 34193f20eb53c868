"""The lesson knobs really change the data: deployment shift, leaked feature, slices, subsets."""

from __future__ import annotations

import numpy as np
import pytest

from trainscope.engine.config import DatasetSpec
from trainscope.engine.data import load_dataset, prepare_data, validate_spec
from trainscope.engine.errors import DataError


def raw(prepared, features: np.ndarray) -> np.ndarray:
    """Undo the standardization, to look at the inputs in their own units."""
    return features * prepared.feature_std + prepared.feature_mean


def test_the_wave_follows_its_rule_on_the_training_stretch():
    dataset = load_dataset(DatasetSpec(name="wave", train_width=1.0), seed=3)
    x1, x2 = dataset.features[:, 0], dataset.features[:, 1]
    assert np.all(np.abs(x1) <= 1.0)
    np.testing.assert_array_equal(dataset.labels, (x2 > np.sin(x1)).astype(np.int64))


@pytest.mark.parametrize("shift", [0.0, 3.0])
def test_wave_deployment_rows_come_from_around_the_shift_with_the_same_rule(shift):
    prepared = prepare_data(DatasetSpec(name="wave", deployment=True, shift=shift), seed=3)
    inputs = raw(prepared, prepared.deployment_x)
    assert np.all(np.abs(inputs[:, 0] - shift) <= 1.0 + 1e-4)
    expected = (inputs[:, 1] > np.sin(inputs[:, 0])).astype(np.int64)
    assert np.mean(expected == prepared.deployment_y) > 0.99  # float32 rounding at the boundary
    assert len(prepared.deployment_y) == len(prepared.test_y)


def test_a_deployment_split_is_held_out_from_other_datasets():
    with_deployment = prepare_data(DatasetSpec(name="moons", deployment=True), seed=1)
    without = prepare_data(DatasetSpec(name="moons"), seed=1)
    total = sum(
        len(y)
        for y in (with_deployment.train_y, with_deployment.validation_y, with_deployment.test_y)
    )
    assert total + len(with_deployment.deployment_y) == 1000
    assert len(with_deployment.train_y) < len(without.train_y)
    assert without.deployment_x is None


def test_the_leaked_column_is_the_label_in_development_and_noise_in_deployment():
    prepared = prepare_data(
        DatasetSpec(name="classification", leak_feature=True, deployment=True), seed=2
    )
    assert prepared.feature_names[-1] == "leak"
    for features, labels in (
        (prepared.train_x, prepared.train_y),
        (prepared.validation_x, prepared.validation_y),
    ):
        assert np.corrcoef(features[:, -1], labels)[0, 1] > 0.95
    assert abs(np.corrcoef(prepared.deployment_x[:, -1], prepared.deployment_y)[0, 1]) < 0.2
    assert prepared.deployment_x[:, -1].std() == pytest.approx(
        prepared.validation_x[:, -1].std(), rel=0.2
    )


def test_slices_mark_a_mirrored_subgroup_in_every_split():
    prepared = prepare_data(DatasetSpec(name="moons", slice_fraction=0.1, deployment=True), seed=4)
    assert prepared.slice_names == ("main group", "subgroup")
    assert prepared.feature_names[-1] == "group"
    for slices in (
        prepared.train_slices,
        prepared.validation_slices,
        prepared.test_slices,
        prepared.deployment_slices,
    ):
        assert 0.07 <= slices.mean() <= 0.13
    inputs = raw(prepared, prepared.train_x)
    np.testing.assert_allclose(inputs[:, -1], prepared.train_slices, atol=1e-5)
    main = inputs[(prepared.train_slices == 0) & (prepared.train_y == 0), :2].mean(axis=0)
    sub = inputs[(prepared.train_slices == 1) & (prepared.train_y == 0), :2].mean(axis=0)
    centre = inputs[:, :2].mean(axis=0)
    np.testing.assert_allclose(
        sub - centre, -(main - centre), atol=0.2
    )  # mirrored through the centre


def test_a_training_subset_keeps_every_class_and_leaves_validation_alone():
    small = prepare_data(DatasetSpec(name="digits", train_subset=10), seed=5)
    full = prepare_data(DatasetSpec(name="digits"), seed=5)
    assert len(small.train_y) == 10
    assert set(small.train_y) == set(range(10))
    np.testing.assert_array_equal(small.validation_x, full.validation_x)
    with pytest.raises(DataError, match="at least the number of classes"):
        prepare_data(DatasetSpec(name="digits", train_subset=5), seed=5)


def test_knobs_are_seeded():
    spec = DatasetSpec(
        name="moons", slice_fraction=0.1, leak_feature=True, deployment=True, train_subset=200
    )
    first, second = prepare_data(spec, seed=9), prepare_data(spec, seed=9)
    for name in ("train_x", "train_y", "deployment_x", "train_slices"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        (DatasetSpec(name="wave", shift=2.0), "needs deployment = true"),
        (DatasetSpec(name="moons", shift=2.0, deployment=True), "only apply to the wave"),
        (DatasetSpec(name="wave", train_width=0.0), "train_width must be greater than 0"),
        (DatasetSpec(name="wave", shift=-1.0, deployment=True), "shift must be between 0"),
        (DatasetSpec(name="moons", slice_fraction=0.5), "slice_fraction"),
        (DatasetSpec(name="moons", train_subset=0), "train_subset must be at least 1"),
        (DatasetSpec(name="wave", imbalance=0.2), None),
    ],
)
def test_bad_knobs_are_refused_in_one_sentence(spec, words):
    with pytest.raises(DataError) as caught:
        validate_spec(spec) if words else load_dataset(spec, seed=0)
    assert "\n" not in str(caught.value)
    if words:
        assert words in str(caught.value)
