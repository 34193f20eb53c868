"""engine.data: every dataset loads, splits are stratified and seeded, knobs do what they say."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from trainscope.engine.config import DatasetSpec
from trainscope.engine.data import (
    DATASET_NAMES,
    Dataset,
    PreparedData,
    load_dataset,
    prepare_data,
    split_and_scale,
)
from trainscope.engine.errors import DataError

REPO_ROOT = Path(__file__).resolve().parents[2]

# name -> (rows, features, classes, image_shape) with the default knobs
EXPECTED_SHAPES = {
    "digits": (1797, 64, 10, (8, 8)),
    "breast_cancer": (569, 30, 2, None),
    "wine": (178, 13, 3, None),
    "iris": (150, 4, 3, None),
    "moons": (1000, 2, 2, None),
    "circles": (1000, 2, 2, None),
    "blobs": (1000, 2, 3, None),
    "classification": (2000, 20, 2, None),
    "wave": (1000, 2, 2, None),
    "circle": (1000, 2, 2, None),
    "xor": (1000, 2, 2, None),
    "gaussians": (1000, 2, 2, None),
    "spiral": (1000, 2, 2, None),
}


def assert_well_formed(dataset: Dataset | PreparedData, n_classes: int) -> None:
    pairs = (
        [(dataset.features, dataset.labels)]
        if isinstance(dataset, Dataset)
        else [
            (dataset.train_x, dataset.train_y),
            (dataset.validation_x, dataset.validation_y),
            (dataset.test_x, dataset.test_y),
        ]
    )
    for features, labels in pairs:
        assert features.dtype == np.float32
        assert labels.dtype == np.int64
        assert features.ndim == 2
        assert features.shape[0] == labels.shape[0]
        assert labels.min() >= 0
        assert labels.max() < n_classes
        assert np.isfinite(features).all()


# --- every dataset ----------------------------------------------------------------------------


def test_dataset_names_are_the_public_list() -> None:
    expected = (
        "digits",
        "breast_cancer",
        "wine",
        "iris",
        "moons",
        "circles",
        "blobs",
        "classification",
        "wave",
        "circle",
        "xor",
        "gaussians",
        "spiral",
        "csv",
    )
    assert expected == DATASET_NAMES
    assert tuple(EXPECTED_SHAPES) == expected[:-1]


@pytest.mark.parametrize("name", list(EXPECTED_SHAPES))
def test_every_dataset_loads_with_its_shape_and_classes(name: str) -> None:
    rows, n_features, n_classes, image_shape = EXPECTED_SHAPES[name]
    dataset = load_dataset(DatasetSpec(name=name), seed=0)
    assert dataset.features.shape == (rows, n_features)
    assert len(dataset.class_names) == n_classes
    assert len(dataset.feature_names) == n_features
    assert set(np.unique(dataset.labels)) == set(range(n_classes))
    assert dataset.name == name
    assert dataset.image_shape == image_shape
    assert_well_formed(dataset, n_classes)


@pytest.mark.parametrize("name", list(EXPECTED_SHAPES))
def test_every_dataset_prepares_into_three_splits(name: str) -> None:
    rows, n_features, n_classes, image_shape = EXPECTED_SHAPES[name]
    prepared = prepare_data(DatasetSpec(name=name), seed=0)
    sizes = (len(prepared.train_y), len(prepared.validation_y), len(prepared.test_y))
    assert sum(sizes) == rows
    assert sizes[2] == pytest.approx(0.15 * rows, abs=1)
    assert sizes[1] == pytest.approx(0.15 * rows, abs=1.5)
    assert prepared.n_classes == n_classes
    assert prepared.n_features == n_features
    assert prepared.image_shape == image_shape
    assert prepared.flipped_label_count == 0
    assert_well_formed(prepared, n_classes)


def test_breast_cancer_counts_malignant_as_the_positive_class() -> None:
    dataset = load_dataset(DatasetSpec(name="breast_cancer"), seed=0)
    assert dataset.class_names == ("benign", "malignant")
    assert np.bincount(dataset.labels).tolist() == [357, 212]


def test_generators_follow_their_size_knobs() -> None:
    blobs = load_dataset(DatasetSpec(name="blobs", n_samples=300, n_classes=4, n_features=5), 0)
    assert blobs.features.shape == (300, 5)
    assert len(blobs.class_names) == 4
    spec = DatasetSpec(name="classification", n_samples=500, n_classes=3, n_features=8)
    classification = load_dataset(spec, seed=0)
    assert classification.features.shape == (500, 8)
    assert len(classification.class_names) == 3


def test_a_bundled_subsample_keeps_the_class_mix() -> None:
    whole = load_dataset(DatasetSpec(name="digits"), seed=0)
    sample = load_dataset(DatasetSpec(name="digits", n_samples=300), seed=0)
    assert len(sample.labels) == 300
    expected = np.bincount(whole.labels) * 300 / len(whole.labels)
    assert np.abs(np.bincount(sample.labels) - expected).max() < 1


def test_input_noise_on_a_bundled_set_scales_with_each_feature() -> None:
    clean = load_dataset(DatasetSpec(name="iris"), seed=0)
    noisy = load_dataset(DatasetSpec(name="iris", noise=0.5), seed=0)
    measured = (noisy.features - clean.features).std(axis=0)
    np.testing.assert_allclose(measured, 0.5 * clean.features.std(axis=0), rtol=0.25)


def test_noise_on_moons_is_the_generators_own_argument() -> None:
    from sklearn.datasets import make_moons

    dataset = load_dataset(DatasetSpec(name="moons", noise=0.2), seed=3)
    features, labels = make_moons(n_samples=1000, noise=0.2, random_state=3)
    np.testing.assert_allclose(dataset.features, features.astype(np.float32))
    np.testing.assert_array_equal(dataset.labels, labels)


def test_importing_the_data_module_loads_neither_torch_nor_qt() -> None:
    code = (
        "import sys, trainscope.engine.data;"
        "bad = [m for m in ('torch', 'PySide6', 'pyqtgraph', 'sklearn') if m in sys.modules];"
        "sys.exit(str(bad) if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


# --- determinism and stratification -----------------------------------------------------------


def split_arrays(prepared: PreparedData) -> list[np.ndarray]:
    return [
        prepared.train_x,
        prepared.train_y,
        prepared.validation_x,
        prepared.validation_y,
        prepared.test_x,
        prepared.test_y,
    ]


@pytest.mark.parametrize("name", ["digits", "moons", "classification"])
def test_the_same_seed_gives_the_same_arrays(name: str) -> None:
    spec = DatasetSpec(name=name, noise=0.1, label_noise=0.1)
    for first, second in zip(
        split_arrays(prepare_data(spec, 7)), split_arrays(prepare_data(spec, 7)), strict=True
    ):
        np.testing.assert_array_equal(first, second)


def test_a_different_seed_gives_a_different_split() -> None:
    first = prepare_data(DatasetSpec(name="wine"), seed=1)
    second = prepare_data(DatasetSpec(name="wine"), seed=2)
    assert first.train_x.shape == second.train_x.shape
    assert not np.array_equal(first.feature_mean, second.feature_mean)
    assert not np.array_equal(first.test_y, second.test_y)


@pytest.mark.parametrize("name", ["digits", "wine", "breast_cancer"])
def test_every_split_keeps_the_whole_sets_class_proportions(name: str) -> None:
    whole = load_dataset(DatasetSpec(name=name), seed=0)
    shares = np.bincount(whole.labels) / len(whole.labels)
    prepared = prepare_data(DatasetSpec(name=name), seed=0)
    for labels in (prepared.train_y, prepared.validation_y, prepared.test_y):
        counts = np.bincount(labels, minlength=len(shares))
        assert np.abs(counts - shares * len(labels)).max() <= 1.5


# --- standardization ---------------------------------------------------------------------------


def indexed_dataset(rows: int = 200) -> Dataset:
    """Column 0 is the row number, so a test can tell which rows landed in which split."""
    rng = np.random.default_rng(0)
    measured = rng.normal(loc=[5.0, -3.0], scale=[2.0, 0.5], size=(rows, 2))
    constant = np.full((rows, 1), 4.0)
    features = np.hstack([np.arange(rows)[:, None], measured, constant]).astype(np.float32)
    labels = (np.arange(rows) % 3).astype(np.int64)
    return Dataset(features, labels, ("a", "b", "c"), ("row", "m1", "m2", "flat"), "indexed")


def test_the_scaler_is_fitted_on_the_training_split_only() -> None:
    dataset = indexed_dataset()
    prepared = split_and_scale(dataset, 0.15, 0.15, seed=0)
    original = prepared.train_x * prepared.feature_std + prepared.feature_mean
    train_rows = np.rint(original[:, 0]).astype(int)
    raw_train = dataset.features[train_rows].astype(np.float64)
    np.testing.assert_allclose(prepared.feature_mean[:3], raw_train.mean(axis=0)[:3], rtol=1e-5)
    np.testing.assert_allclose(prepared.feature_std[:3], raw_train.std(axis=0)[:3], rtol=1e-5)
    np.testing.assert_allclose(prepared.train_x[:, :3].mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(prepared.train_x[:, :3].std(axis=0), 1, atol=1e-5)
    np.testing.assert_array_equal(prepared.train_y, dataset.labels[train_rows])


def test_validation_is_scaled_with_training_statistics_not_its_own() -> None:
    dataset = indexed_dataset()
    prepared = split_and_scale(dataset, 0.15, 0.15, seed=0)
    original = prepared.validation_x * prepared.feature_std + prepared.feature_mean
    raw = dataset.features[np.rint(original[:, 0]).astype(int)]
    expected = (raw - prepared.feature_mean) / prepared.feature_std
    np.testing.assert_allclose(prepared.validation_x, expected, atol=1e-5)
    assert np.abs(prepared.validation_x[:, 1:3].mean(axis=0)).max() > 1e-3


def test_a_constant_feature_gets_std_one_and_stays_at_zero() -> None:
    prepared = split_and_scale(indexed_dataset(), 0.15, 0.15, seed=0)
    assert prepared.feature_std[3] == 1.0
    assert not prepared.train_x[:, 3].any()
    assert not prepared.test_x[:, 3].any()


def test_split_refuses_a_dataset_too_small_for_its_classes() -> None:
    dataset = indexed_dataset(rows=30)
    many_classes = replace(
        dataset,
        labels=(np.arange(30) % 10).astype(np.int64),
        class_names=tuple("abcdefghij"),
    )
    with pytest.raises(DataError, match="test split would hold 5 rows"):
        split_and_scale(many_classes, 0.15, 0.15, seed=0)


# --- label noise -------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "fraction"), [("digits", 0.2), ("moons", 0.35), ("iris", 0.05)])
def test_label_noise_flips_exactly_that_many_training_labels(name: str, fraction: float) -> None:
    clean = prepare_data(DatasetSpec(name=name), seed=4)
    noisy = prepare_data(DatasetSpec(name=name, label_noise=fraction), seed=4)
    expected = round(fraction * len(clean.train_y))
    assert noisy.flipped_label_count == expected
    assert int((noisy.train_y != clean.train_y).sum()) == expected
    np.testing.assert_array_equal(noisy.train_x, clean.train_x)
    np.testing.assert_array_equal(noisy.validation_y, clean.validation_y)
    np.testing.assert_array_equal(noisy.test_y, clean.test_y)


# --- imbalance ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "fraction"),
    [
        (DatasetSpec(name="moons", imbalance=0.1), 0.1),
        (DatasetSpec(name="circles", imbalance=0.25), 0.25),
        (DatasetSpec(name="breast_cancer", imbalance=0.06), 0.06),
        (DatasetSpec(name="breast_cancer", imbalance=0.45), 0.45),
        (DatasetSpec(name="breast_cancer", imbalance=0.1, n_samples=200), 0.1),
        (DatasetSpec(name="classification", imbalance=0.05), 0.05),
        (DatasetSpec(name="blobs", n_classes=2, imbalance=0.2), 0.2),
    ],
)
def test_imbalance_gives_the_requested_minority_share(spec: DatasetSpec, fraction: float) -> None:
    dataset = load_dataset(spec, seed=0)
    assert dataset.labels.mean() == pytest.approx(fraction, abs=0.01)
    prepared = prepare_data(spec, seed=0)
    assert prepared.train_y.mean() == pytest.approx(fraction, abs=0.01)


def test_imbalance_keeps_the_requested_row_count_for_generators() -> None:
    assert len(load_dataset(DatasetSpec(name="moons", imbalance=0.1), 0).labels) == 1000


@pytest.mark.parametrize(
    "spec",
    [
        DatasetSpec(name="wine", imbalance=0.1),
        DatasetSpec(name="digits", imbalance=0.1),
        DatasetSpec(name="blobs", imbalance=0.1),
        DatasetSpec(name="classification", n_classes=3, imbalance=0.1),
    ],
)
def test_imbalance_is_refused_for_more_than_two_classes(spec: DatasetSpec) -> None:
    with pytest.raises(DataError, match="two classes"):
        load_dataset(spec, seed=0)


def test_an_imbalance_too_strong_for_the_sample_is_refused() -> None:
    with pytest.raises(DataError, match="only 2 rows of class 'lower moon'"):
        load_dataset(DatasetSpec(name="moons", n_samples=30, imbalance=0.05), seed=0)


# --- knobs -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"name": "mnist"}, "unknown dataset 'mnist'"),
        ({"n_samples": 29}, "n_samples must be at least 30"),
        ({"noise": -0.1}, "noise must be between 0 and 10"),
        ({"noise": 10.5}, "noise must be between 0 and 10"),
        ({"label_noise": 1.0}, "label_noise"),
        ({"label_noise": -0.2}, "label_noise"),
        ({"imbalance": 0.0}, "imbalance"),
        ({"imbalance": 0.5}, "imbalance"),
        ({"imbalance": 0.7}, "imbalance"),
        ({"validation_fraction": 0.0}, "validation_fraction"),
        ({"validation_fraction": 0.5}, "validation_fraction"),
        ({"test_fraction": 0.6}, "test_fraction"),
        ({"validation_fraction": 0.45, "test_fraction": 0.4}, "together must be less than 0.8"),
        ({"n_classes": 1}, "n_classes"),
        ({"n_features": 0}, "n_features"),
        ({"name": "csv"}, "csv_path"),
    ],
)
def test_invalid_knobs_are_refused_in_one_sentence(changes: dict, words: str) -> None:
    spec = replace(DatasetSpec(name="moons"), **changes)
    with pytest.raises(DataError, match=words) as caught:
        prepare_data(spec, seed=0)
    assert "\n" not in str(caught.value)


def test_a_negative_seed_is_refused() -> None:
    with pytest.raises(DataError, match="seed"):
        prepare_data(DatasetSpec(name="iris"), seed=-1)


# --- CSV import --------------------------------------------------------------------------------
