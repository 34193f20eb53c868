"""Stratified train/test splits in numpy, row for row the ones scikit-learn's
``train_test_split(..., stratify=labels, random_state=seed)`` draws.

Why not call scikit-learn: importing it (with SciPy) takes ~0.85 s, and the default run — the
bundled digits — needs nothing else from it, so that second would sit between launch and the
first training step. Every split in TrainScope goes through here, so there is one rule; the
tests compare it with scikit-learn's on many shapes and seeds (the installed version), so an
upgrade that changed scikit-learn's draw would show at once rather than move the lessons.
"""

from __future__ import annotations

import math

import numpy as np

from trainscope.engine.errors import DataError


def stratified_split(
    rows: np.ndarray, labels: np.ndarray, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """``rows`` split into (train, test), each with the class mix of ``labels`` (one per row).

    scikit-learn's ``StratifiedShuffleSplit`` draw: the test size is ``ceil(fraction * n)``;
    per class, the counts are the multivariate hypergeometric's approximate mode (ties broken
    by the seeded generator), each class's rows are permuted and cut, then both sides shuffled.
    """
    n_samples = len(labels)
    n_test = math.ceil(test_fraction * n_samples)
    n_train = n_samples - n_test
    classes, class_of_row, class_counts = np.unique(labels, return_inverse=True, return_counts=True)
    if class_counts.min() < 2:
        raise DataError("a class has only 1 row, too few to be in both sides of a split")
    if min(n_train, n_test) < len(classes):
        raise DataError(
            f"a split of {n_train} and {n_test} rows cannot hold each of {len(classes)} classes"
        )
    class_rows = np.split(np.argsort(class_of_row, kind="stable"), np.cumsum(class_counts)[:-1])
    rng = np.random.RandomState(seed)
    train_counts = _approximate_mode(class_counts, n_train, rng)
    test_counts = _approximate_mode(class_counts - train_counts, n_test, rng)
    train: list[int] = []
    test: list[int] = []
    for index, count in enumerate(class_counts):
        shuffled = class_rows[index].take(rng.permutation(count), mode="clip")
        train.extend(shuffled[: train_counts[index]])
        test.extend(shuffled[train_counts[index] : train_counts[index] + test_counts[index]])
    return rows[rng.permutation(train)], rows[rng.permutation(test)]


def _approximate_mode(
    class_counts: np.ndarray, n_draws: int, rng: np.random.RandomState
) -> np.ndarray:
    """How many of ``n_draws`` rows each class gets: its share floored, then one more for the
    classes with the largest remainders (ties drawn at random) until the total is right."""
    continuous = class_counts / class_counts.sum() * n_draws
    floored = np.floor(continuous)
    need_to_add = int(n_draws - floored.sum())
    if need_to_add > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (tied,) = np.where(remainder == value)
            add_now = min(len(tied), need_to_add)
            floored[rng.choice(tied, size=add_now, replace=False)] += 1
            need_to_add -= add_now
            if need_to_add == 0:
                break
    return floored.astype(int)


def stratified_kfold(labels: np.ndarray, n_splits: int, seed: int) -> list[np.ndarray]:
    """The validation rows of each of ``n_splits`` folds (positions into ``labels``), fold for
    fold scikit-learn's ``StratifiedKFold(n_splits, shuffle=True, random_state=seed)``.

    Its rule: classes numbered in order of first appearance; the sorted labels dealt to the
    folds in turn give each fold's count of each class; per class, those fold numbers are
    shuffled by the seeded generator and assigned to the class's rows in order. Numpy, like
    the split above, so that a k-fold planned in the window imports no scikit-learn.
    """
    _, first_seen, inverse = np.unique(labels, return_index=True, return_inverse=True)
    _, class_order = np.unique(first_seen, return_inverse=True)
    encoded = class_order[inverse]
    n_classes = len(first_seen)
    if np.bincount(encoded).max() < n_splits:
        raise DataError(f"{n_splits} folds need at least {n_splits} rows in a class")
    rng = np.random.RandomState(seed)
    in_order = np.sort(encoded)
    allocation = np.asarray(
        [np.bincount(in_order[fold::n_splits], minlength=n_classes) for fold in range(n_splits)]
    )
    fold_of_row = np.empty(len(labels), dtype=np.int64)
    for label in range(n_classes):
        folds = np.arange(n_splits).repeat(allocation[:, label])
        rng.shuffle(folds)
        fold_of_row[encoded == label] = folds
    return [np.flatnonzero(fold_of_row == fold) for fold in range(n_splits)]
