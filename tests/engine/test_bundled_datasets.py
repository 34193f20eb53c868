"""The default run starts without scikit-learn, and gets exactly the data it got with it.

The bundled datasets are arrays under ``assets/datasets`` and the stratified split is numpy
(``engine.splits``): both must agree with scikit-learn (the installed version) row for row, or
every lesson's numbers would move.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from sklearn import datasets
from sklearn.model_selection import StratifiedKFold, train_test_split

from trainscope.engine.data import BUNDLED_SETS, _load_bundled
from trainscope.engine.errors import DataError
from trainscope.engine.splits import stratified_kfold, stratified_split


@pytest.mark.parametrize("name", BUNDLED_SETS)
def test_a_bundled_dataset_is_scikit_learns_row_for_row(name):
    bunch = getattr(datasets, f"load_{name}")()
    shipped = _load_bundled(name)
    np.testing.assert_array_equal(shipped.features, np.asarray(bunch.data, dtype=np.float32))
    labels = np.asarray(bunch.target)
    names = tuple(str(value) for value in bunch.target_names)
    if name == "breast_cancer":  # relabelled: malignant is the positive class
        labels, names = 1 - labels, names[::-1]
    np.testing.assert_array_equal(shipped.labels, labels)
    assert shipped.class_names == names
    assert shipped.feature_names == tuple(str(value) for value in bunch.feature_names)


SHAPES = {
    "balanced ten classes": np.repeat(np.arange(10), 180),
    "one in ten": np.array([0] * 1800 + [1] * 200),
    "tied remainders": np.array([0] * 7 + [1] * 7 + [2] * 7 + [3] * 3),
    "uneven three": np.array([0] * 101 + [1] * 57 + [2] * 13),
    "two rows a class": np.repeat(np.arange(5), 2),
}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("fraction", [0.15, 0.2, 0.25, 0.3, 0.4])
def test_the_numpy_split_draws_what_scikit_learn_draws(shape, fraction):
    labels = np.random.default_rng(3).permutation(SHAPES[shape])
    rows = np.arange(100, 100 + len(labels))
    for seed in (0, 1, 7, 42, 2**32 - 1):
        try:
            expected = train_test_split(
                rows, test_size=fraction, stratify=labels, random_state=seed
            )
        except ValueError:
            with pytest.raises(DataError):
                stratified_split(rows, labels, fraction, seed)
            continue
        train, test = stratified_split(rows, labels, fraction, seed)
        np.testing.assert_array_equal(train, expected[0])
        np.testing.assert_array_equal(test, expected[1])


def test_a_class_of_one_row_cannot_be_split():
    with pytest.raises(DataError, match="only 1 row"):
        stratified_split(np.arange(11), np.array([0] * 10 + [1]), 0.3, 0)


def test_the_default_run_trains_without_importing_scikit_learn():
    code = (
        "import sys, time\n"
        "from trainscope.engine.config import RunConfig\n"
        "from trainscope.engine.session import ThreadSession\n"
        "from trainscope.engine import events as ev\n"
        "session = ThreadSession(RunConfig(steps=30))\n"
        "session.start()\n"
        "events = []\n"
        "while not any(isinstance(e, ev.Finished | ev.Error) for e in events):\n"
        "    session.join(0.05)\n"
        "    events += session.drain()\n"
        "session.close()\n"
        "assert isinstance(events[-2], ev.Finished), events[-3:]\n"
        "print(sorted(name for name in ('sklearn', 'scipy') if name in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=180, check=True
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("n_splits", [2, 3, 5, 10])
@pytest.mark.parametrize("seed", [0, 1, 42])
@pytest.mark.parametrize(
    "counts", [(50, 50), (30, 12, 7), (212, 357), (10, 10, 10, 3), (11, 40, 25, 60, 5)]
)
def test_the_numpy_kfold_deals_scikit_learns_stratified_folds(counts, seed, n_splits):
    labels = np.random.default_rng(seed).permutation(np.repeat(np.arange(len(counts)), counts))
    if max(counts) < n_splits:
        pytest.skip("scikit-learn refuses these")
    expected = [
        validation
        for _, validation in StratifiedKFold(n_splits, shuffle=True, random_state=seed).split(
            labels, labels
        )
    ]
    ours = stratified_kfold(labels, n_splits, seed)
    assert len(ours) == n_splits
    for mine, theirs in zip(ours, expected, strict=True):
        np.testing.assert_array_equal(mine, theirs)
