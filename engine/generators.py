"""Synthetic two-dimensional and tabular datasets, as arrays: scikit-learn's generators,
TensorFlow Playground's four sets (``engine.playground_sets``) and the wave, a rule known
everywhere so its inputs can be shifted honestly.

Kept apart from ``engine.data`` so that module can stay about loading, splitting and scaling;
each generator returns plain arrays (features, labels, class names) and ``engine.data`` wraps
them in a ``Dataset``. Imbalance is built into the generation here, so ``n_samples`` stays the
number of rows the student asked for. scikit-learn is imported on first use (see engine.data).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from trainscope.engine.csv_import import MIN_ROWS_PER_CLASS
from trainscope.engine.errors import DataError
from trainscope.engine.playground_sets import PLAYGROUND_SETS

if TYPE_CHECKING:
    from collections.abc import Callable

    from trainscope.engine.config import DatasetSpec

GeneratedArrays = tuple[np.ndarray, np.ndarray, tuple[str, ...]]


def generate(spec: DatasetSpec, seed: int) -> GeneratedArrays:
    """Features, labels and class names for a generator's name (moons, circles, spiral, …)."""
    return GENERATORS[spec.name](spec, seed)


def require_two_classes(name: str, n_classes: int) -> None:
    """Imbalance names one minority class, which only means something with two classes."""
    if n_classes != 2:
        raise DataError(f"imbalance needs a dataset with two classes, but '{name}' has {n_classes}")


def check_minority_rows(count: int, class_name: str) -> None:
    """An imbalance so strong that the minority cannot reach every split is refused up front."""
    if count < MIN_ROWS_PER_CLASS:
        raise DataError(
            f"this imbalance leaves only {count} row{'s' if count != 1 else ''} of class "
            f"'{class_name}'; at least {MIN_ROWS_PER_CLASS} are needed to split into train, "
            "validation and test (use more samples or a larger imbalance)"
        )


def _binary_counts(
    total: int, imbalance: float | None, minority_name: str
) -> int | tuple[int, int]:
    """Rows per class for a two-class generator: sklearn's even split, or (majority, minority)."""
    if imbalance is None:
        return total
    return _imbalanced_counts(total, imbalance, minority_name)


def _imbalanced_counts(total: int, imbalance: float, minority_name: str) -> tuple[int, int]:
    """(majority, minority) rows: the minority's share of ``total``, checked to be usable."""
    minority = round(imbalance * total)
    check_minority_rows(minority, minority_name)
    return (total - minority, minority)


def _make_moons(spec: DatasetSpec, seed: int) -> GeneratedArrays:
    from sklearn.datasets import make_moons

    counts = _binary_counts(spec.n_samples or 1000, spec.imbalance, "lower moon")
    x, y = make_moons(n_samples=counts, noise=spec.noise, random_state=seed)
    return x, y, ("upper moon", "lower moon")


def _make_circles(spec: DatasetSpec, seed: int) -> GeneratedArrays:
    from sklearn.datasets import make_circles

    counts = _binary_counts(spec.n_samples or 1000, spec.imbalance, "inner ring")
    x, y = make_circles(n_samples=counts, noise=spec.noise, factor=0.5, random_state=seed)
    return x, y, ("outer ring", "inner ring")


def _make_blobs(spec: DatasetSpec, seed: int) -> GeneratedArrays:
    """Gaussian blobs; with imbalance, sklearn draws one centre per requested class count."""
    from sklearn.datasets import make_blobs

    n_classes = spec.n_classes or 3
    n_features = spec.n_features or 2
    total = spec.n_samples or 1000
    if spec.imbalance is None:
        x, y = make_blobs(
            n_samples=total, centers=n_classes, n_features=n_features, random_state=seed
        )
    else:
        require_two_classes("blobs", n_classes)
        counts = _imbalanced_counts(total, spec.imbalance, "blob 1")
        x, y = make_blobs(
            n_samples=list(counts), centers=None, n_features=n_features, random_state=seed
        )
    return x, y, tuple(f"blob {k}" for k in range(n_classes))


def _make_classification(spec: DatasetSpec, seed: int) -> GeneratedArrays:
    """sklearn's make_classification: 6 informative features (fewer if fewer features exist).

    Label noise is not passed as ``flip_y``: engine.data flips training labels only, later, so
    validation and test keep measuring the truth.
    """
    from sklearn.datasets import make_classification

    n_classes = spec.n_classes or 2
    n_features = spec.n_features or 20
    total = spec.n_samples or 2000
    n_informative = min(6, n_features)
    if n_classes > 2**n_informative:
        raise DataError(
            f"classification with {n_classes} classes needs at least "
            f"{math.ceil(math.log2(n_classes))} features (got {n_features})"
        )
    weights = None
    if spec.imbalance is not None:
        require_two_classes("classification", n_classes)
        check_minority_rows(round(spec.imbalance * total), "class 1")
        weights = [1 - spec.imbalance, spec.imbalance]
    x, y = make_classification(
        n_samples=total,
        n_features=n_features,
        n_informative=n_informative,
        n_redundant=min(2, n_features - n_informative),
        n_repeated=0,
        n_classes=n_classes,
        n_clusters_per_class=2 if 2 * n_classes <= 2**n_informative else 1,
        weights=weights,
        flip_y=0.0,
        class_sep=1.0,
        random_state=seed,
    )
    return x, y, tuple(f"class {k}" for k in range(n_classes))


WAVE_HEIGHT = 1.5  # x2 is uniform on [-WAVE_HEIGHT, WAVE_HEIGHT]
WAVE_CLASSES = ("below the wave", "above the wave")


def wave_rows(
    n_rows: int, x1_low: float, x1_high: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Points on a stretch of the plane, labelled by which side of the wave x2 = sin(x1) they lie.

    The rule is the same everywhere; only the stretch of x1 that is sampled changes. That is
    covariate shift in its purest form: a model that saw only one stretch has to guess the rest.
    """
    x1 = rng.uniform(x1_low, x1_high, n_rows)
    x2 = rng.uniform(-WAVE_HEIGHT, WAVE_HEIGHT, n_rows)
    labels = (x2 > np.sin(x1)).astype(np.int64)
    return np.column_stack([x1, x2]), labels


def _make_wave(spec: DatasetSpec, seed: int) -> GeneratedArrays:
    """The wave seen through a window: x1 within ``train_width`` of 0 (see ``wave_rows``).

    Over [-1, 1] the wave is almost a straight line, which is exactly what makes the lesson
    work: the model learns a line and has no reason to expect the curve to turn.
    """
    if spec.imbalance is not None:
        raise DataError("the wave dataset is balanced by construction; leave imbalance unset")
    rng = np.random.default_rng(seed)
    x, y = wave_rows(spec.n_samples or 1000, -spec.train_width, spec.train_width, rng)
    return x, y, WAVE_CLASSES


def _make_playground(spec: DatasetSpec, seed: int) -> GeneratedArrays:
    """One of TensorFlow Playground's sets (see ``engine.playground_sets``).

    1000 rows by default, twice Playground's 500, so that after the 70/15/15 split the
    validation split still holds 150 points. ``spec.noise`` is Playground's own noise (0-0.5);
    with imbalance, class 1 is the minority as for moons and circles.
    """
    maker, class_names = PLAYGROUND_SETS[spec.name]
    total = spec.n_samples or 1000
    minority = total // 2 if spec.imbalance is None else round(spec.imbalance * total)
    if spec.imbalance is not None:
        check_minority_rows(minority, class_names[1])
    x, y = maker((total - minority, minority), spec.noise, np.random.default_rng(seed))
    return x, y, class_names


GENERATORS: dict[str, Callable[[DatasetSpec, int], GeneratedArrays]] = {
    "moons": _make_moons,
    "circles": _make_circles,
    "blobs": _make_blobs,
    "classification": _make_classification,
    "wave": _make_wave,
    **dict.fromkeys(PLAYGROUND_SETS, _make_playground),
}
