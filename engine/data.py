"""Datasets: load or generate them, shape them with the spec's knobs, split and standardize.

numpy (and scikit-learn's generators) only, no torch: the GUI process (which must never load
torch) reads the same arrays for galleries, class names and the CSV import dialog; the training
side turns them into tensors. Every step is seeded, so one seed always gives the same rows, split
and flips. The bundled sets are shipped arrays and the split is numpy (``engine.splits``);
scikit-learn is imported only inside the generators that use it: importing it costs most of a
second, and the GUI process imports this module just for names, validation and CSV checks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from trainscope.assets import dataset_path
from trainscope.engine import data_variants as variants
from trainscope.engine.csv_import import MIN_ROWS_PER_CLASS, read_csv_table
from trainscope.engine.errors import DataError
from trainscope.engine.generators import (
    GENERATORS,
    check_minority_rows,
    generate,
    require_two_classes,
)
from trainscope.engine.playground_sets import MAX_NOISE as PLAYGROUND_MAX_NOISE
from trainscope.engine.playground_sets import PLAYGROUND_SETS
from trainscope.engine.splits import stratified_kfold, stratified_split

if TYPE_CHECKING:
    from trainscope.engine.config import DatasetSpec

#: The real datasets TrainScope ships (``assets/datasets``, written by ``tools/make_datasets.py``
#: from scikit-learn's offline copies).
BUNDLED_SETS = ("digits", "breast_cancer", "wine", "iris")
DATASET_NAMES: tuple[str, ...] = (
    *BUNDLED_SETS,
    "moons",
    "circles",
    "blobs",
    "classification",
    "wave",
    *PLAYGROUND_SETS,  # TensorFlow Playground's circle, xor, gaussians, spiral
    "csv",
)
# spec.noise is the generator's own noise argument (for Playground's sets, its noise slider)
GENERATED_WITH_OWN_NOISE = ("moons", "circles", *PLAYGROUND_SETS)
MIN_SAMPLES = 30
MAX_NOISE = 10.0
MAX_SEED = 2**32 - 1  # scikit-learn's random_state range
# Independent random streams per purpose, so changing one knob does not reshuffle another.
IMBALANCE_STREAM, SUBSAMPLE_STREAM, FEATURE_NOISE_STREAM, LABEL_NOISE_STREAM = 1, 2, 3, 4


@dataclass(frozen=True, eq=False)
class Dataset:
    """A whole labelled dataset before splitting; ``image_shape`` lets a CNN or gallery reshape."""

    features: np.ndarray  # (N, D) float32
    labels: np.ndarray  # (N,) int64 in 0..K-1
    class_names: tuple[str, ...]
    feature_names: tuple[str, ...]
    name: str
    image_shape: tuple[int, int] | None = None
    groups: np.ndarray | None = None  # (N,) slice index per row, when the spec asks for slices


@dataclass(frozen=True, eq=False)
class PreparedData:
    """Train/validation/test arrays, standardized with a scaler fitted on the training split.

    ``feature_mean`` and ``feature_std`` are kept so new inputs (a drawn digit, a deployment
    set) can be scaled exactly like the training data. ``flipped_label_count`` says how many
    training labels label noise changed; validation and test labels are never flipped.
    ``deployment_x``/``deployment_y`` exist when the spec asks for a deployment split; the
    ``*_slices`` arrays (slice index per row, names in ``slice_names``) when it asks for slices.
    """

    train_x: np.ndarray
    train_y: np.ndarray
    validation_x: np.ndarray
    validation_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    class_names: tuple[str, ...]
    feature_names: tuple[str, ...]
    name: str
    image_shape: tuple[int, int] | None
    feature_mean: np.ndarray  # (D,) float32
    feature_std: np.ndarray  # (D,) float32, never 0
    flipped_label_count: int = 0
    deployment_x: np.ndarray | None = None
    deployment_y: np.ndarray | None = None
    train_slices: np.ndarray | None = None
    validation_slices: np.ndarray | None = None
    test_slices: np.ndarray | None = None
    deployment_slices: np.ndarray | None = None
    slice_names: tuple[str, ...] = ()

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def n_features(self) -> int:
        return int(self.train_x.shape[1])


def prepare_data(spec: DatasetSpec, seed: int) -> PreparedData:
    """Load, split (stratified, seeded), standardize on train only, then flip training labels.

    Label noise touches the training split only: validation and test keep the true labels so
    they keep measuring what the model really learned, which is the point of the lesson.
    The lesson knobs (deployment split, slices, leaked feature, training subset) are applied
    around the split as ``engine.data_variants`` describes.
    """
    if spec.split_seed is not None:  # the data stays put while the run's seed moves the model
        seed = spec.split_seed
    dataset = load_dataset(spec, seed)
    deployment = None
    if spec.deployment:
        dataset, deployment = variants.deployment_rows(spec, dataset, seed)
    dataset, deployment = variants.apply_column_knobs(spec, dataset, deployment, seed)
    folds = None if spec.folds is None else (spec.folds, spec.fold)
    prepared = split_and_scale(
        dataset, spec.validation_fraction, spec.test_fraction, seed, folds=folds
    )
    if deployment is not None:
        prepared = variants.attach_deployment(prepared, deployment)
    if spec.label_noise > 0:
        train_y, flipped = _flip_labels(
            prepared.train_y, prepared.n_classes, spec.label_noise, seed
        )
        prepared = replace(prepared, train_y=train_y, flipped_label_count=flipped)
    if spec.train_subset is not None:
        prepared = variants.keep_training_rows(prepared, spec.train_subset, seed)
    if spec.train_fraction is not None and spec.train_fraction < 1:
        prepared = variants.keep_training_share(prepared, spec.train_fraction, seed)
    if spec.bootstrap is not None:
        prepared = variants.bootstrap_training_rows(prepared, spec.bootstrap)
    return prepared


def training_rows(spec: DatasetSpec, seed: int) -> int:
    """How many rows the run will train on: the data is built (torch-free) to know exactly.

    Needed only to turn a length in epochs into steps before the run starts; see
    ``RunConfig.validate_to_start``. It costs one pass of preparation (and, for a generated set,
    the scikit-learn import).
    """
    return len(prepare_data(spec, seed).train_y)


def load_dataset(spec: DatasetSpec, seed: int) -> Dataset:
    """The whole dataset the spec describes, imbalance and input noise applied, not yet split."""
    validate_spec(spec)
    check_seed(seed)
    dataset = _generated(spec, seed) if spec.name in GENERATORS else _load_rows(spec, seed)
    if spec.noise > 0 and spec.name not in GENERATED_WITH_OWN_NOISE:
        dataset = _add_feature_noise(dataset, spec.noise, seed)
    return dataset


def load_csv(path: str, label_column: str | None) -> Dataset:
    """A student's CSV file as a Dataset (label column defaults to the last; see csv_import)."""
    table = read_csv_table(path, label_column)
    return Dataset(table.features, table.labels, table.class_names, table.feature_names, table.name)


def validate_spec(spec: DatasetSpec) -> DatasetSpec:
    """Refuse an out-of-range knob with one sentence; return the spec so calls can chain.

    Cheap and torch-free, so the GUI can check a form before it starts a worker.
    """
    if spec.name not in DATASET_NAMES:
        raise DataError(f"unknown dataset '{spec.name}'; choose one of {', '.join(DATASET_NAMES)}")
    if spec.name == "csv" and not spec.csv_path:
        raise DataError("the csv dataset needs a file: set csv_path to the CSV file to load")
    if spec.n_samples is not None and spec.n_samples < MIN_SAMPLES:
        raise DataError(f"n_samples must be at least {MIN_SAMPLES} (got {spec.n_samples})")
    max_noise = PLAYGROUND_MAX_NOISE if spec.name in PLAYGROUND_SETS else MAX_NOISE
    if not 0 <= spec.noise <= max_noise:
        raise DataError(
            f"noise must be between 0 and {max_noise:g} for {spec.name} (got {spec.noise})"
        )
    if not 0 <= spec.label_noise < 1:
        raise DataError(f"label_noise must be at least 0 and less than 1 (got {spec.label_noise})")
    if spec.imbalance is not None and not 0 < spec.imbalance < 0.5:
        raise DataError(
            "imbalance is the minority class's share of the rows and must be between 0 and 0.5 "
            f"(got {spec.imbalance})"
        )
    if spec.n_classes is not None and spec.n_classes < 2:
        raise DataError(f"n_classes must be at least 2 (got {spec.n_classes})")
    if spec.n_features is not None and spec.n_features < 1:
        raise DataError(f"n_features must be at least 1 (got {spec.n_features})")
    _check_fractions(spec.validation_fraction, spec.test_fraction)
    variants.validate_variant_knobs(spec)
    return spec


def split_and_scale(
    dataset: Dataset,
    validation_fraction: float,
    test_fraction: float,
    seed: int,
    folds: tuple[int, int] | None = None,
) -> PreparedData:
    """Stratified train/validation/test split, then standardize with train-only statistics.

    Fitting the scaler on the training split alone keeps validation and test honest: their
    rows never influence what the model sees, just as future data would not. With ``folds``
    (k, i), validation is fold i of a stratified k-fold over the rows left after the test split.
    """
    _check_fractions(validation_fraction, test_fraction)
    check_seed(seed)
    _check_splittable(dataset, validation_fraction, test_fraction)
    # With slices, stratify by class and slice together so every split holds the subgroup.
    strata = dataset.labels if dataset.groups is None else dataset.labels * 2 + dataset.groups
    if folds is None:
        train, validation, test = _stratified_split(
            strata, validation_fraction, test_fraction, seed
        )
    else:
        train, validation, test = _fold_split(dataset, strata, test_fraction, seed, *folds)
    mean, std = _fit_scaler(dataset.features[train])
    groups = dataset.groups

    def scaled(rows: np.ndarray) -> np.ndarray:
        return ((dataset.features[rows] - mean) / std).astype(np.float32)

    return PreparedData(
        train_x=scaled(train),
        train_y=dataset.labels[train],
        validation_x=scaled(validation),
        validation_y=dataset.labels[validation],
        test_x=scaled(test),
        test_y=dataset.labels[test],
        class_names=dataset.class_names,
        feature_names=dataset.feature_names,
        name=dataset.name,
        image_shape=dataset.image_shape,
        feature_mean=mean.astype(np.float32),
        feature_std=std.astype(np.float32),
        train_slices=None if groups is None else groups[train],
        validation_slices=None if groups is None else groups[validation],
        test_slices=None if groups is None else groups[test],
        slice_names=() if groups is None else variants.SLICE_NAMES,
    )


# --- knobs ------------------------------------------------------------------------------------


def _check_fractions(validation_fraction: float, test_fraction: float) -> None:
    """Both held-out splits must exist and leave most rows for training."""
    for label, fraction in (("validation", validation_fraction), ("test", test_fraction)):
        if not 0 < fraction < 0.5:
            raise DataError(
                f"{label}_fraction must be between 0 and 0.5, exclusive (got {fraction})"
            )
    if validation_fraction + test_fraction >= 0.8:
        raise DataError(
            "validation_fraction and test_fraction together must be less than 0.8 "
            f"(got {validation_fraction + test_fraction:g})"
        )


def check_seed(seed: int) -> None:
    """Every random stream is seeded from it; scikit-learn takes 0 to 2**32 - 1."""
    if not 0 <= seed <= MAX_SEED:
        raise DataError(f"seed must be between 0 and {MAX_SEED} (got {seed})")


# --- bundled sets and CSV ---------------------------------------------------------------------


def _load_rows(spec: DatasetSpec, seed: int) -> Dataset:
    """A bundled set or CSV file: imbalance by dropping rows, then a stratified subsample."""
    if spec.name == "csv":
        dataset = load_csv(spec.csv_path or "", spec.label_column)
    else:
        dataset = _load_bundled(spec.name)
    if spec.imbalance is not None:
        require_two_classes(dataset.name, len(dataset.class_names))
        dataset = _subsample_to_minority(dataset, spec.imbalance, seed)
    if spec.n_samples is not None and spec.n_samples < len(dataset.labels):
        dataset = _stratified_subset(dataset, spec.n_samples, seed)
    return dataset


def _load_bundled(name: str) -> Dataset:
    """One of the shipped datasets (scikit-learn's, kept as arrays: no import of it needed).

    Breast cancer is relabelled so class 1 is "malignant": it is the condition being screened
    for, so it is the positive, minority class that recall, thresholds and imbalance talk about.
    """
    with np.load(dataset_path(name)) as arrays:
        features, labels = arrays["features"], arrays["labels"]
        class_names = tuple(str(class_name) for class_name in arrays["class_names"])
        feature_names = tuple(str(feature) for feature in arrays["feature_names"])
    if name == "breast_cancer":
        labels = 1 - labels
        class_names = class_names[::-1]
    return Dataset(
        features=features,
        labels=labels,
        class_names=class_names,
        feature_names=feature_names,
        name=name,
        image_shape=(8, 8) if name == "digits" else None,
    )


def _subsample_to_minority(dataset: Dataset, fraction: float, seed: int) -> Dataset:
    """Drop rows so class 1 makes up ``fraction`` of them, keeping as many rows as possible.

    Usually class 1 is thinned; if it is already rarer than asked, class 0 is thinned instead.
    """
    majority = np.flatnonzero(dataset.labels == 0)
    minority = np.flatnonzero(dataset.labels == 1)
    keep_minority = round(fraction / (1 - fraction) * len(majority))
    keep_majority = len(majority)
    if keep_minority > len(minority):
        keep_minority = len(minority)
        keep_majority = round(len(minority) * (1 - fraction) / fraction)
    check_minority_rows(keep_minority, dataset.class_names[1])
    rng = np.random.default_rng([seed, IMBALANCE_STREAM])
    kept = np.concatenate(
        [
            rng.choice(majority, size=keep_majority, replace=False),
            rng.choice(minority, size=keep_minority, replace=False),
        ]
    )
    return _take(dataset, np.sort(kept))


def _stratified_subset(dataset: Dataset, n_rows: int, seed: int) -> Dataset:
    """``n_rows`` rows with the whole set's class proportions (largest-remainder rounding).

    Done by hand rather than with train_test_split, which refuses when the rows left out are
    fewer than the classes (say 1790 of the 1797 digits).
    """
    counts = np.bincount(dataset.labels, minlength=len(dataset.class_names))
    quotas = counts * n_rows / len(dataset.labels)
    keep = np.floor(quotas).astype(np.int64)
    largest_remainders = np.argsort(keep - quotas, kind="stable")[: n_rows - int(keep.sum())]
    keep[largest_remainders] += 1
    rng = np.random.default_rng([seed, SUBSAMPLE_STREAM])
    rows = [
        rng.choice(np.flatnonzero(dataset.labels == label), size=int(size), replace=False)
        for label, size in enumerate(keep)
    ]
    return _take(dataset, np.sort(np.concatenate(rows)))


def _generated(spec: DatasetSpec, seed: int) -> Dataset:
    features, labels, class_names = generate(spec, seed)
    feature_names = tuple(f"x{column + 1}" for column in range(features.shape[1]))
    return Dataset(
        features.astype(np.float32), labels.astype(np.int64), class_names, feature_names, spec.name
    )


def _take(dataset: Dataset, rows: np.ndarray) -> Dataset:
    groups = None if dataset.groups is None else dataset.groups[rows]
    return replace(
        dataset, features=dataset.features[rows], labels=dataset.labels[rows], groups=groups
    )


def _add_feature_noise(dataset: Dataset, noise: float, seed: int) -> Dataset:
    """Gaussian noise of ``noise`` standard deviations per feature, so units do not matter."""
    std = dataset.features.std(axis=0, dtype=np.float64)
    rng = np.random.default_rng([seed, FEATURE_NOISE_STREAM])
    jitter = rng.standard_normal(dataset.features.shape) * (noise * std)
    return replace(dataset, features=(dataset.features + jitter).astype(np.float32))


# --- splitting, scaling, label noise ----------------------------------------------------------


def _check_splittable(dataset: Dataset, validation_fraction: float, test_fraction: float) -> None:
    """Refuse, in words, the splits a stratified split (``engine.splits``) would refuse."""
    counts = np.bincount(dataset.labels, minlength=len(dataset.class_names))
    for class_name, count in zip(dataset.class_names, counts, strict=True):
        if count < MIN_ROWS_PER_CLASS:
            raise DataError(
                f"class '{class_name}' has only {count} row{'s' if count != 1 else ''}; each "
                f"class needs at least {MIN_ROWS_PER_CLASS} to be split into train, validation "
                "and test"
            )
    total, n_classes = len(dataset.labels), len(dataset.class_names)
    n_test = math.ceil(test_fraction * total)
    n_validation = math.ceil(validation_fraction / (1 - test_fraction) * (total - n_test))
    for split, size in (("test", n_test), ("validation", n_validation)):
        if size < n_classes:
            raise DataError(
                f"the {split} split would hold {size} rows, fewer than the {n_classes} classes; "
                f"use more samples or a larger {split}_fraction"
            )


def _stratified_split(
    labels: np.ndarray, validation_fraction: float, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row indices of train, validation and test, each with the whole set's class mix."""
    rows = np.arange(len(labels))
    rest, test = stratified_split(rows, labels, test_fraction, seed)
    train, validation = stratified_split(
        rest, labels[rest], validation_fraction / (1 - test_fraction), seed
    )
    return train, validation, test


def _fold_split(
    dataset: Dataset, strata: np.ndarray, test_fraction: float, seed: int, k: int, fold: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train and validation from fold ``fold`` of a stratified k-fold (scikit-learn's
    ``StratifiedKFold``, shuffled with ``seed``, drawn by ``engine.splits``) over the rows the
    usual test split leaves: the test rows are the same as a single run's, and no fold ever
    sees them."""
    rest, test = stratified_split(np.arange(len(strata)), strata, test_fraction, seed)
    counts = np.bincount(dataset.labels[rest], minlength=len(dataset.class_names))
    smallest = int(np.argmin(counts))
    if counts[smallest] < k:
        raise DataError(
            f"{k} folds need at least {k} rows of each class outside the test split, but class "
            f"'{dataset.class_names[smallest]}' has {counts[smallest]}; use fewer folds"
        )
    validation = stratified_kfold(dataset.labels[rest], k, seed)[fold]
    train = np.setdiff1d(np.arange(len(rest)), validation)
    return rest[train], rest[validation], test


def _fit_scaler(train_features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and std (float64); a constant feature gets std 1 so it stays at 0."""
    mean = train_features.mean(axis=0, dtype=np.float64)
    std = train_features.std(axis=0, dtype=np.float64)
    return mean, np.where(std > 0, std, 1.0)


def _flip_labels(
    labels: np.ndarray, n_classes: int, fraction: float, seed: int
) -> tuple[np.ndarray, int]:
    """Move ``round(fraction * n)`` labels, chosen at random, each to a different random class."""
    count = round(fraction * len(labels))
    rng = np.random.default_rng([seed, LABEL_NOISE_STREAM])
    chosen = rng.choice(len(labels), size=count, replace=False)
    flipped = labels.copy()
    flipped[chosen] = (labels[chosen] + rng.integers(1, n_classes, size=count)) % n_classes
    return flipped, count
