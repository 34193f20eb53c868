"""Lesson knobs that change the data itself, so a classic problem really happens in it.

Each knob builds the problem into the rows rather than faking a chart:

- a **deployment split** — rows "from the world after release", scored beside validation. For
  the wave dataset they come from a stretch of inputs moved by ``shift`` (covariate shift: same
  rule, different inputs); otherwise they are held out like the test split.
- a **leaked feature** — a column equal to the label plus a little noise in every development
  split, but carrying no information at deployment (like a "transaction reversed" flag that is
  only ever set after the fraud was found).
- **slices** — a subgroup of ``slice_fraction`` of the rows whose measurements come out mirrored
  (think of a sensor mounted backwards at one site) and a "group" column saying which rows are
  in it; the model can learn both, but the big group dominates the loss unless weighted.
- a **training subset** — train on only a few rows (the overfit-one-batch sanity check).

numpy only, like ``engine.data``; every random draw has its own seeded stream.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from trainscope.engine.errors import DataError
from trainscope.engine.generators import wave_rows

if TYPE_CHECKING:
    from trainscope.engine.config import DatasetSpec
    from trainscope.engine.data import Dataset, PreparedData

SLICE_NAMES = ("main group", "subgroup")
GROUP_COLUMN = "group"
LEAK_COLUMN = "leak"
LEAK_NOISE = 0.1  # std of the noise on the leaked label
MAX_SHIFT = 20.0
MAX_TRAIN_WIDTH = 20.0
WAVE_DEPLOYMENT_HALF_WIDTH = 1.0  # deployment x1 lies within this of ``shift``
SLICE_STREAM, DEPLOYMENT_SLICE_STREAM, LEAK_STREAM, DEPLOYMENT_STREAM, SUBSET_STREAM = 5, 6, 7, 8, 9
BOOTSTRAP_STREAM = 12  # 1-4 are engine.data's, 11 engine.trainer's


def validate_variant_knobs(spec: DatasetSpec) -> None:
    """Refuse an out-of-range or meaningless lesson knob with one sentence."""
    if not 0 <= spec.shift <= MAX_SHIFT:
        raise DataError(f"shift must be between 0 and {MAX_SHIFT:g} (got {spec.shift})")
    if not 0 < spec.train_width <= MAX_TRAIN_WIDTH:
        raise DataError(
            f"train_width must be greater than 0 and at most {MAX_TRAIN_WIDTH:g} "
            f"(got {spec.train_width})"
        )
    if spec.name != "wave" and (spec.shift != 0 or spec.train_width != 1.0):
        raise DataError(
            "shift and train_width only apply to the wave dataset, whose rule is known "
            "everywhere, so its inputs can be moved without changing what is true"
        )
    if spec.shift != 0 and not spec.deployment:
        raise DataError("shift moves the deployment data, so it needs deployment = true")
    if spec.slice_fraction is not None and not 0 < spec.slice_fraction < 0.5:
        raise DataError(
            "slice_fraction is the subgroup's share of the rows and must be between 0 and 0.5 "
            f"(got {spec.slice_fraction})"
        )
    if spec.train_subset is not None and spec.train_subset < 1:
        raise DataError(f"train_subset must be at least 1 (got {spec.train_subset})")
    _validate_experiment_knobs(spec)


def _validate_experiment_knobs(spec: DatasetSpec) -> None:
    """The knobs an experiment sets on each of its runs (see ``DatasetSpec``)."""
    if spec.folds is not None:
        if spec.folds < 2:
            raise DataError(f"folds must be at least 2 (got {spec.folds})")
        if not 0 <= spec.fold < spec.folds:
            raise DataError(f"fold must be between 0 and {spec.folds - 1} (got {spec.fold})")
        if spec.deployment:
            raise DataError("folds cannot be combined with a deployment split")
    elif spec.fold != 0:
        raise DataError("fold needs folds, the number of folds it is one of")
    if spec.train_fraction is not None and not 0 < spec.train_fraction <= 1:
        raise DataError(
            f"train_fraction must be greater than 0 and at most 1 (got {spec.train_fraction})"
        )


# --- the knobs, in the order engine.data.prepare_data applies them ----------------------------


def apply_column_knobs(
    spec: DatasetSpec, dataset: Dataset, deployment: Dataset | None, seed: int
) -> tuple[Dataset, Dataset | None]:
    """Slices, then the leaked column, to development rows and (their own way) to deployment."""
    if spec.slice_fraction is not None:
        centre = dataset.features.mean(axis=0, dtype=np.float64)
        dataset = add_slices(dataset, spec.slice_fraction, centre, [seed, SLICE_STREAM])
        if deployment is not None:
            key = [seed, DEPLOYMENT_SLICE_STREAM]
            deployment = add_slices(deployment, spec.slice_fraction, centre, key)
    if spec.leak_feature:
        dataset = add_leak(dataset, informative=True, rng_key=[seed, LEAK_STREAM])
        if deployment is not None:
            deployment = add_leak(deployment, informative=False, rng_key=[seed, LEAK_STREAM, 1])
    return dataset, deployment


def attach_deployment(prepared: PreparedData, deployment: Dataset) -> PreparedData:
    """Scale the deployment rows exactly like the training data and attach them."""
    scaled = (deployment.features - prepared.feature_mean) / prepared.feature_std
    return replace(
        prepared,
        deployment_x=scaled.astype(np.float32),
        deployment_y=deployment.labels,
        deployment_slices=deployment.groups,
    )


def keep_training_rows(prepared: PreparedData, n_rows: int, seed: int) -> PreparedData:
    """Train on ``n_rows`` of the training rows (scaling stays fitted on the whole split)."""
    rows = subset_rows(prepared.train_y, n_rows, prepared.n_classes, seed)
    slices = None if prepared.train_slices is None else prepared.train_slices[rows]
    return replace(
        prepared,
        train_x=prepared.train_x[rows],
        train_y=prepared.train_y[rows],
        train_slices=slices,
    )


def keep_training_share(prepared: PreparedData, fraction: float, seed: int) -> PreparedData:
    """Train on ``fraction`` of the training rows, every class kept in proportion."""
    n_rows = max(prepared.n_classes, round(fraction * len(prepared.train_y)))
    return keep_training_rows(prepared, n_rows, seed)


def bootstrap_training_rows(prepared: PreparedData, resample: int) -> PreparedData:
    """Train on as many rows as the training split, drawn from it with replacement.

    Each class keeps its count (a stratified bootstrap), so no member of a bagging ensemble
    misses a rare class by chance; ``resample`` seeds the draw, one per member.
    """
    rng = np.random.default_rng([resample, BOOTSTRAP_STREAM])
    labels = prepared.train_y
    rows = np.sort(
        np.concatenate(
            [
                rng.choice(members, size=len(members), replace=True)
                for members in (np.flatnonzero(labels == label) for label in np.unique(labels))
            ]
        )
    )
    slices = None if prepared.train_slices is None else prepared.train_slices[rows]
    return replace(
        prepared, train_x=prepared.train_x[rows], train_y=labels[rows], train_slices=slices
    )


# --- deployment -------------------------------------------------------------------------------


def deployment_rows(spec: DatasetSpec, dataset: Dataset, seed: int) -> tuple[Dataset, Dataset]:
    """(the rows left for development, the deployment rows), sized like the test split."""
    n_rows = math.ceil(spec.test_fraction * len(dataset.labels))
    if spec.name == "wave":
        return dataset, _wave_deployment(spec, dataset, n_rows, seed)
    rng = np.random.default_rng([seed, DEPLOYMENT_STREAM])
    held_out = _stratified_rows(dataset.labels, n_rows, rng)
    keep = np.setdiff1d(np.arange(len(dataset.labels)), held_out)
    return _take(dataset, keep), _take(dataset, held_out)


def _wave_deployment(spec: DatasetSpec, dataset: Dataset, n_rows: int, seed: int) -> Dataset:
    """Fresh wave rows around x1 = ``shift``, with the same input noise as development."""
    rng = np.random.default_rng([seed, DEPLOYMENT_STREAM])
    low, high = spec.shift - WAVE_DEPLOYMENT_HALF_WIDTH, spec.shift + WAVE_DEPLOYMENT_HALF_WIDTH
    features, labels = wave_rows(n_rows, low, high, rng)
    if spec.noise > 0:
        features = features + rng.standard_normal(features.shape) * (
            spec.noise * dataset.features.std(axis=0, dtype=np.float64)
        )
    return replace(dataset, features=features.astype(np.float32), labels=labels, groups=None)


# --- slices -----------------------------------------------------------------------------------


def add_slices(
    dataset: Dataset, fraction: float, centre: np.ndarray, rng_key: list[int]
) -> Dataset:
    """Mark ``fraction`` of the rows (per class) as the subgroup, mirror them, add a group column.

    Mirroring through ``centre`` (the development data's mean) keeps the subgroup's inputs in
    the same range but reverses how they relate to the label, so what the main group teaches
    the model is wrong for the subgroup; the group column makes both learnable at once.
    """
    rng = np.random.default_rng(rng_key)
    groups = np.zeros(len(dataset.labels), dtype=np.int64)
    for label in np.unique(dataset.labels):
        rows = np.flatnonzero(dataset.labels == label)
        chosen = rng.choice(rows, size=max(1, round(fraction * len(rows))), replace=False)
        groups[chosen] = 1
    features = dataset.features.astype(np.float64)
    mirrored = np.where(groups[:, None] == 1, 2 * centre - features, features)
    features = np.column_stack([mirrored, groups]).astype(np.float32)
    return replace(
        dataset,
        features=features,
        feature_names=(*dataset.feature_names, GROUP_COLUMN),
        groups=groups,
    )


# --- leak -------------------------------------------------------------------------------------


def add_leak(dataset: Dataset, informative: bool, rng_key: list[int]) -> Dataset:
    """Append the leaked column: the label plus noise, or at deployment a shuffled label plus noise.

    The uninformative version has the same spread as the real one, so nothing about its scale
    gives it away; it just no longer knows the answer.
    """
    rng = np.random.default_rng(rng_key)
    source = dataset.labels if informative else rng.permutation(dataset.labels)
    leak = source + rng.normal(0.0, LEAK_NOISE, size=len(source))
    features = np.column_stack([dataset.features, leak]).astype(np.float32)
    return replace(dataset, features=features, feature_names=(*dataset.feature_names, LEAK_COLUMN))


# --- training subset --------------------------------------------------------------------------


def subset_rows(labels: np.ndarray, n_rows: int, n_classes: int, seed: int) -> np.ndarray:
    """Indices of ``n_rows`` training rows with every class present when there is room for it."""
    if n_rows >= len(labels):
        return np.arange(len(labels))
    if n_rows < n_classes:
        raise DataError(
            f"train_subset must be at least the number of classes ({n_classes}) so every class "
            f"is seen (got {n_rows})"
        )
    rng = np.random.default_rng([seed, SUBSET_STREAM])
    return np.sort(_stratified_rows(labels, n_rows, rng))


def _stratified_rows(labels: np.ndarray, n_rows: int, rng: np.random.Generator) -> np.ndarray:
    """``n_rows`` indices with the classes' proportions, at least one per class present."""
    classes, counts = np.unique(labels, return_counts=True)
    quotas = np.maximum(1, np.floor(counts * n_rows / len(labels))).astype(np.int64)
    remainders = counts * n_rows / len(labels) - quotas
    for index in np.argsort(-remainders, kind="stable"):
        if quotas.sum() >= n_rows:
            break
        quotas[index] += 1
    rows = [
        rng.choice(np.flatnonzero(labels == label), size=min(int(quota), int(count)), replace=False)
        for label, quota, count in zip(classes, quotas, counts, strict=True)
    ]
    return np.concatenate(rows)


def _take(dataset: Dataset, rows: np.ndarray) -> Dataset:
    groups = None if dataset.groups is None else dataset.groups[rows]
    return replace(
        dataset, features=dataset.features[rows], labels=dataset.labels[rows], groups=groups
    )
