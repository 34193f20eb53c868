"""engine.metrics and engine.thresholds against scikit-learn, brute force and the curriculum.

scikit-learn is the reference here and only here: the engine computes the same numbers with
bincount/cumsum because it runs them on every evaluation and every slider move. Inputs are
seeded random cases that include ties, scores on bin edges, absent classes and single-class
splits, because that is where hand-written metrics usually part ways with the reference.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve
from sklearn.dummy import DummyClassifier

from trainscope.engine.events import Calibration
from trainscope.engine.metrics import (
    Baselines,
    ThresholdPoint,
    ThresholdSweep,
    ThresholdTable,
    average_precision,
    baselines,
    calibration_from_probabilities,
    confusion_matrix,
    fit_temperature,
    log_loss,
    lowest_recall_class,
    macro_roc_auc,
    precision_recall_curve,
    precision_recall_f1,
    prior_loss,
    reliability_bins,
    roc_auc,
    roc_curve,
    softmax,
)

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning"),
    pytest.mark.filterwarnings("ignore:No positive class found:UserWarning"),
]

SEEDS = range(30)
TOLERANCE = 1e-6
REPO_ROOT = Path(__file__).resolve().parents[2]


# --- seeded cases -------------------------------------------------------------------------------


def binary_case(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(scores (N,), labels (N,)): sizes from 1 up, base rates 0 to 1, with and without ties."""
    rng = np.random.default_rng(seed)
    n = int(rng.choice([1, 2, 3, 10, 57, 200, 400, 1000]))
    positive_rate = float(rng.choice([0.0, 0.05, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0]))
    labels = (rng.random(n) < positive_rate).astype(np.int64)
    scores = rng.random(n)
    if seed % 3 == 0:
        scores = np.round(scores, 1)  # heavy ties, many exactly on bin edges, 0.0 and 1.0
    elif seed % 3 == 1:
        scores = np.clip(scores + 0.4 * labels - 0.2, 0.0, 1.0)  # informative, clipped ties
    return scores, labels


def multiclass_case(seed: int, max_scale: float = 6.0) -> tuple[np.ndarray, np.ndarray, int]:
    """(logits (N, K), labels (N,), K), sometimes with classes absent from the labels."""
    rng = np.random.default_rng(1000 + seed)
    n = int(rng.choice([1, 4, 40, 300]))
    k = int(rng.choice([2, 3, 5, 8]))
    scale = float(rng.uniform(0.3, max_scale))
    logits = rng.normal(size=(n, k)) * scale
    present = k if seed % 4 else max(1, k - 2)  # every fourth case leaves classes out
    labels = rng.integers(0, present, n)
    logits[np.arange(n), labels] += rng.uniform(0.0, 2.0)  # some skill
    return logits, labels, k


def brute_counts(scores: np.ndarray, labels: np.ndarray, threshold: float) -> tuple[int, ...]:
    """(tp, fp, fn, tn) for "positive when score >= threshold", by plain comparison."""
    predicted = scores >= threshold
    positive = labels == 1
    return (
        int(np.sum(predicted & positive)),
        int(np.sum(predicted & ~positive)),
        int(np.sum(~predicted & positive)),
        int(np.sum(~predicted & ~positive)),
    )


def has_both_classes(labels: np.ndarray) -> bool:
    return bool(np.any(labels == 1) and np.any(labels != 1))


def test_metrics_import_neither_torch_nor_sklearn() -> None:
    # the GUI process computes threshold metrics and must start without either
    probe = (
        "import sys, trainscope.engine.metrics, trainscope.engine.thresholds; "
        "print(sorted({'torch', 'sklearn'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    assert result.stdout.strip() == "[]"


# --- classification -----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_confusion_and_per_class_scores_match_sklearn(seed: int) -> None:
    logits, labels, k = multiclass_case(seed)
    predictions = logits.argmax(axis=1)
    confusion = confusion_matrix(labels, predictions, k)
    expected = skm.confusion_matrix(labels, predictions, labels=range(k))
    assert confusion.dtype == np.int64
    assert confusion.shape == (k, k)
    np.testing.assert_array_equal(confusion, expected)

    precision, recall, f1 = precision_recall_f1(confusion)
    ref_precision, ref_recall, ref_f1, _ = skm.precision_recall_fscore_support(
        labels, predictions, labels=range(k), average=None, zero_division=0
    )
    np.testing.assert_allclose(precision, ref_precision, atol=TOLERANCE)
    np.testing.assert_allclose(recall, ref_recall, atol=TOLERANCE)
    np.testing.assert_allclose(f1, ref_f1, atol=TOLERANCE)


def test_per_class_scores_are_zero_for_a_class_never_predicted_or_absent() -> None:
    confusion = np.array([[5, 0, 0], [3, 0, 0], [0, 0, 0]])
    precision, recall, f1 = precision_recall_f1(confusion)
    np.testing.assert_array_equal(precision[1:], [0.0, 0.0])
    np.testing.assert_array_equal(recall[1:], [0.0, 0.0])
    np.testing.assert_array_equal(f1[1:], [0.0, 0.0])
    assert not np.any(np.isnan(precision))


@pytest.mark.parametrize("seed", SEEDS)
def test_lowest_recall_class_is_sklearns_lowest_among_present_classes(seed: int) -> None:
    logits, labels, k = multiclass_case(seed)
    confusion = confusion_matrix(labels, logits.argmax(axis=1), k)
    present = np.unique(labels)
    recall = skm.recall_score(labels, logits.argmax(axis=1), labels=present, average=None)
    expected = int(present[np.flatnonzero(recall == recall.min())[0]])
    assert lowest_recall_class(confusion) == expected


def test_lowest_recall_class_passes_over_absent_classes() -> None:
    # class 2 never occurs (recall undefined, 0 by zero_division): class 1 is the weakest
    confusion = np.array([[5, 0, 0], [3, 2, 0], [0, 0, 0]])
    assert lowest_recall_class(confusion) == 1
    assert lowest_recall_class(np.zeros((3, 3), dtype=np.int64)) == 0


@pytest.mark.parametrize("seed", SEEDS)
def test_log_loss_matches_sklearn(seed: int) -> None:
    logits, labels, k = multiclass_case(seed, max_scale=3.0)  # no probability below the floor
    probabilities = softmax(logits)
    expected = skm.log_loss(labels, probabilities, labels=range(k))
    assert log_loss(probabilities, labels) == pytest.approx(expected, abs=TOLERANCE)


def test_log_loss_floors_a_zero_probability_and_is_nan_when_empty() -> None:
    probabilities = np.array([[1.0, 0.0], [0.5, 0.5]])
    assert log_loss(probabilities, np.array([1, 0])) == pytest.approx(
        (-math.log(1e-12) + math.log(2.0)) / 2
    )
    assert math.isnan(log_loss(np.zeros((0, 3)), np.zeros(0, dtype=np.int64)))


# --- ROC and precision-recall -------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("drop_intermediate", [True, False])
def test_roc_curve_matches_sklearn(seed: int, drop_intermediate: bool) -> None:
    scores, labels = binary_case(seed)
    fpr, tpr, thresholds = roc_curve(scores, labels, drop_intermediate=drop_intermediate)
    ref_fpr, ref_tpr, ref_thresholds = skm.roc_curve(
        labels, scores, pos_label=1, drop_intermediate=drop_intermediate
    )
    np.testing.assert_allclose(fpr, ref_fpr, atol=TOLERANCE)  # NaN where sklearn has NaN
    np.testing.assert_allclose(tpr, ref_tpr, atol=TOLERANCE)
    np.testing.assert_array_equal(thresholds, ref_thresholds)


@pytest.mark.parametrize("seed", SEEDS)
def test_roc_auc_matches_sklearn_and_is_nan_for_one_class(seed: int) -> None:
    scores, labels = binary_case(seed)
    if has_both_classes(labels):
        assert roc_auc(scores, labels) == pytest.approx(skm.roc_auc_score(labels, scores), abs=1e-9)
    else:
        assert math.isnan(roc_auc(scores, labels))


def test_roc_auc_counts_a_tied_pair_as_half() -> None:
    assert roc_auc(np.array([0.5, 0.5]), np.array([0, 1])) == 0.5
    assert roc_auc(np.array([0.2, 0.5, 0.5, 0.9]), np.array([0, 0, 1, 1])) == 0.875


@pytest.mark.parametrize("seed", SEEDS)
def test_macro_roc_auc_matches_sklearn_one_vs_rest(seed: int) -> None:
    logits, labels, k = multiclass_case(seed)
    probabilities = softmax(logits)
    present = np.unique(labels)
    if present.size < 2:
        assert math.isnan(macro_roc_auc(probabilities, labels))
    elif k == 2:
        expected = skm.roc_auc_score(labels, probabilities[:, 1])
        assert macro_roc_auc(probabilities, labels) == pytest.approx(expected, abs=1e-9)
    else:
        # scikit-learn scores only the classes present, each one against the rest.
        per_class = [skm.roc_auc_score(labels == c, probabilities[:, c]) for c in present]
        expected = float(np.mean(per_class))
        assert macro_roc_auc(probabilities, labels) == pytest.approx(expected, abs=1e-9)
        if present.size == k:
            reference = skm.roc_auc_score(labels, probabilities, multi_class="ovr")
            assert macro_roc_auc(probabilities, labels) == pytest.approx(reference, abs=1e-9)


def test_macro_roc_auc_is_one_half_for_a_model_that_knows_nothing() -> None:
    labels = np.repeat(np.arange(4), 25)
    constant = np.full((100, 4), 0.25)
    assert macro_roc_auc(constant, labels) == 0.5
    assert macro_roc_auc(np.eye(4)[labels], labels) == 1.0


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("drop_intermediate", [False, True])
def test_precision_recall_curve_matches_sklearn(seed: int, drop_intermediate: bool) -> None:
    scores, labels = binary_case(seed)
    precision, recall, thresholds = precision_recall_curve(
        scores, labels, drop_intermediate=drop_intermediate
    )
    ref_precision, ref_recall, ref_thresholds = skm.precision_recall_curve(
        labels, scores, pos_label=1, drop_intermediate=drop_intermediate
    )
    np.testing.assert_allclose(precision, ref_precision, atol=TOLERANCE)
    np.testing.assert_allclose(recall, ref_recall, atol=TOLERANCE)
    np.testing.assert_array_equal(thresholds, ref_thresholds)


@pytest.mark.parametrize("seed", SEEDS)
def test_average_precision_matches_sklearn(seed: int) -> None:
    scores, labels = binary_case(seed)
    expected = skm.average_precision_score(labels, scores, pos_label=1)
    assert average_precision(scores, labels) == pytest.approx(expected, abs=TOLERANCE)


def test_empty_ranking_inputs_are_undefined_not_errors() -> None:
    empty = np.zeros(0)
    assert math.isnan(roc_auc(empty, empty))
    assert math.isnan(average_precision(empty, empty))
    precision, recall, thresholds = precision_recall_curve(empty, empty)
    assert precision.tolist() == [1.0]
    assert recall.tolist() == [0.0]
    assert thresholds.size == 0


# --- calibration --------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_reliability_bins_match_sklearn_calibration_curve(seed: int) -> None:
    scores, labels = binary_case(seed)  # rounded cases put many scores exactly on bin edges
    n_bins = 5 + seed % 11
    bins = reliability_bins(scores, labels == 1, n_bins)
    filled = bins.counts > 0
    ref_observed, ref_confidence = calibration_curve(
        labels, scores, n_bins=n_bins, strategy="uniform"
    )
    np.testing.assert_allclose(bins.observed_frequency[filled], ref_observed, atol=TOLERANCE)
    np.testing.assert_allclose(bins.mean_confidence[filled], ref_confidence, atol=TOLERANCE)
    assert np.all(np.isnan(bins.mean_confidence[~filled]))
    assert bins.counts.sum() == scores.size
    np.testing.assert_allclose(bins.bin_edges, np.linspace(0.0, 1.0, n_bins + 1))


@pytest.mark.parametrize("seed", SEEDS)
def test_ece_and_mce_follow_their_definitions(seed: int) -> None:
    rng = np.random.default_rng(2000 + seed)
    n = int(rng.integers(1, 300))
    confidence = rng.random(n)
    outcome = rng.random(n) < confidence**2  # overconfident on purpose
    bins = reliability_bins(confidence, outcome, n_bins=10)
    index = np.minimum(np.ceil(confidence * 10).astype(int) - 1, 9).clip(0)
    gaps = [
        abs(outcome[index == b].mean() - confidence[index == b].mean())
        for b in range(10)
        if np.any(index == b)
    ]
    weights = [np.mean(index == b) for b in range(10) if np.any(index == b)]
    assert bins.ece == pytest.approx(float(np.dot(weights, gaps)), abs=1e-12)
    assert bins.mce == pytest.approx(max(gaps), abs=1e-12)


def test_ece_of_a_hand_worked_example() -> None:
    # ten cases at 95% of which 8 are right, ten at 55% of which 6 are right:
    # gaps 0.15 and 0.05, each bin holds half the cases, ECE = 0.10, MCE = 0.15
    confidence = np.r_[np.full(10, 0.95), np.full(10, 0.55)]
    outcome = np.r_[np.ones(8), np.zeros(2), np.ones(6), np.zeros(4)]
    bins = reliability_bins(confidence, outcome)
    assert isinstance(bins, Calibration)
    assert bins.ece == pytest.approx(0.10)
    assert bins.mce == pytest.approx(0.15)
    assert bins.counts.tolist() == [0, 0, 0, 0, 0, 10, 0, 0, 0, 10]
    assert bins.observed_frequency[9] == pytest.approx(0.8)


def test_reliability_bins_put_the_ends_of_the_range_in_the_end_bins() -> None:
    bins = reliability_bins(np.array([0.0, 1.0, 1.0]), np.array([0, 1, 1]), n_bins=4)
    assert bins.counts.tolist() == [1, 0, 0, 2]
    assert bins.ece == 0.0


def test_probabilities_of_exactly_zero_and_one_sit_in_the_end_bins() -> None:
    # 0.0 twice (one positive), 1.0 three times (two positive) and 0.95 once (positive): the
    # first bin holds the zeros (confidence 0, observed 0.5), the last pools 1.0 with 0.95
    # (confidence 3.95 / 4, observed 0.75); ECE = (2 * 0.5 + 4 * 0.2375) / 6, MCE = 0.5.
    confidence = np.array([0.0, 0.0, 1.0, 1.0, 1.0, 0.95])
    outcome = np.array([0, 1, 1, 1, 0, 1])
    bins = reliability_bins(confidence, outcome, n_bins=10)
    assert bins.counts.tolist() == [2, 0, 0, 0, 0, 0, 0, 0, 0, 4]
    assert bins.mean_confidence[0] == 0.0
    assert bins.observed_frequency[0] == 0.5
    assert bins.mean_confidence[9] == pytest.approx(0.9875)
    assert bins.observed_frequency[9] == pytest.approx(0.75)
    assert bins.ece == pytest.approx(0.325)
    assert bins.mce == pytest.approx(0.5)
    ref_observed, ref_confidence = calibration_curve(outcome, confidence, n_bins=10)
    np.testing.assert_allclose(bins.observed_frequency[[0, 9]], ref_observed, atol=TOLERANCE)
    np.testing.assert_allclose(bins.mean_confidence[[0, 9]], ref_confidence, atol=TOLERANCE)


def test_a_probability_on_an_inner_edge_belongs_to_the_bin_below_as_in_sklearn() -> None:
    confidence = np.array([0.0, 0.25, 0.5, 0.5, 0.75, 1.0])  # exact in binary: on the edges
    outcome = np.array([0, 0, 1, 0, 1, 1])
    bins = reliability_bins(confidence, outcome, n_bins=4)
    assert bins.counts.tolist() == [2, 2, 1, 1]  # (0, .25] holds 0 and .25; (.25, .5] both .5
    ref_observed, ref_confidence = calibration_curve(outcome, confidence, n_bins=4)
    np.testing.assert_allclose(bins.observed_frequency, ref_observed, atol=TOLERANCE)
    np.testing.assert_allclose(bins.mean_confidence, ref_confidence, atol=TOLERANCE)


def test_binary_bins_p_class_1_so_a_sure_negative_sits_in_the_first_bin() -> None:
    # P(class 1) = 0.0 for two cases (one of them positive), 1.0 for one positive case.
    probabilities = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    labels = np.array([0, 1, 1])
    bins = calibration_from_probabilities(probabilities, labels)
    assert bins.counts.tolist() == [2, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    assert bins.observed_frequency[0] == 0.5
    assert bins.observed_frequency[9] == 1.0
    assert bins.mce == 0.5
    # Top-label binning would put all three at confidence 1.0 (two right): one bin, gap 1/3.
    top_label = reliability_bins(probabilities.max(axis=1), probabilities.argmax(axis=1) == labels)
    assert top_label.counts.tolist() == [0, 0, 0, 0, 0, 0, 0, 0, 0, 3]
    assert top_label.mce == pytest.approx(1 / 3)


def left_closed_with_a_bin_for_one(confidence: np.ndarray, outcome: np.ndarray) -> float:
    """MCE the way torchmetrics bins: ``[e_i, e_i+1)`` and a bin of its own for exactly 1.0."""
    edges = np.linspace(0.0, 1.0, 11)
    bin_ids = np.searchsorted(edges, confidence, side="right") - 1  # 1.0 -> bin 10
    counts = np.bincount(bin_ids, minlength=11)
    filled = counts > 0
    confidence_means = np.bincount(bin_ids, confidence, 11)[filled] / counts[filled]
    outcome_means = np.bincount(bin_ids, outcome, 11)[filled] / counts[filled]
    return float(np.abs(outcome_means - confidence_means).max())


def test_mce_differs_from_torchmetrics_where_probabilities_reach_exactly_one() -> None:
    # Five cases at exactly 1.0, all positive; five at 0.92, one positive. Here they share the
    # last bin (confidence 0.96, observed 0.6: MCE 0.36); torchmetrics keeps 1.0 apart, leaving
    # 0.92 against 0.2 alone (MCE 0.72 — torchmetrics 1.9.0 gives 0.7200 on this input).
    confidence = np.r_[np.ones(5), np.full(5, 0.92)]
    outcome = np.r_[np.ones(5), 1.0, np.zeros(4)]
    bins = reliability_bins(confidence, outcome)
    assert bins.counts[9] == 10
    assert bins.mce == pytest.approx(0.36)
    assert left_closed_with_a_bin_for_one(confidence, outcome) == pytest.approx(0.72)
    below_one = confidence < 1.0  # without exact 1.0 the two conventions agree off the edges
    assert reliability_bins(confidence[below_one], outcome[below_one]).mce == pytest.approx(
        left_closed_with_a_bin_for_one(confidence[below_one], outcome[below_one])
    )


def test_reliability_bins_with_no_cases_are_empty_with_zero_error() -> None:
    bins = reliability_bins(np.zeros(0), np.zeros(0), n_bins=10)
    assert bins.counts.tolist() == [0] * 10
    assert bins.counts.dtype == np.int64
    assert np.all(np.isnan(bins.mean_confidence))
    assert np.all(np.isnan(bins.observed_frequency))
    assert bins.ece == 0.0
    assert bins.mce == 0.0


@pytest.mark.parametrize("seed", SEEDS)
def test_calibration_from_probabilities_binary_is_the_classic_diagram(seed: int) -> None:
    rng = np.random.default_rng(3000 + seed)
    n = int(rng.integers(1, 400))
    positive = rng.random(n)
    probabilities = np.c_[1.0 - positive, positive]
    labels = (rng.random(n) < positive).astype(np.int64)
    bins = calibration_from_probabilities(probabilities, labels)
    ref_observed, ref_confidence = calibration_curve(labels, positive, n_bins=10)
    filled = bins.counts > 0
    np.testing.assert_allclose(bins.observed_frequency[filled], ref_observed, atol=TOLERANCE)
    np.testing.assert_allclose(bins.mean_confidence[filled], ref_confidence, atol=TOLERANCE)


@pytest.mark.parametrize("seed", SEEDS)
def test_calibration_from_probabilities_multiclass_uses_the_top_label(seed: int) -> None:
    logits, labels, k = multiclass_case(seed)
    probabilities = softmax(logits)
    bins = calibration_from_probabilities(probabilities, labels, n_bins=15)
    if k == 2:
        expected = reliability_bins(probabilities[:, 1], labels == 1, n_bins=15)
    else:
        correct = probabilities.argmax(axis=1) == labels
        expected = reliability_bins(probabilities.max(axis=1), correct, n_bins=15)
    np.testing.assert_array_equal(bins.counts, expected.counts)
    assert bins.ece == pytest.approx(expected.ece)


# --- threshold table ----------------------------------------------------------------------------


def probe_thresholds(scores: np.ndarray, seed: int) -> np.ndarray:
    """Random thresholds plus every exact score, the range ends and values beyond them."""
    rng = np.random.default_rng(4000 + seed)
    extremes = [-np.inf, -0.5, 0.0, 0.5, 1.0, np.nextafter(1.0, 2.0), 1.5, np.inf]
    exact = rng.choice(scores, size=min(scores.size, 60), replace=False)
    return np.r_[rng.random(25), exact, extremes]


@pytest.mark.parametrize("seed", SEEDS)
def test_threshold_counts_match_brute_force(seed: int) -> None:
    scores, labels = binary_case(seed)
    table = ThresholdTable.from_scores(scores, labels)
    for threshold in probe_thresholds(scores, seed):
        assert table.counts(threshold) == brute_counts(scores, labels, threshold)


@pytest.mark.parametrize("seed", SEEDS)
def test_threshold_point_matches_sklearn_at_that_decision(seed: int) -> None:
    scores, labels = binary_case(seed)
    table = ThresholdTable.from_scores(scores, labels)
    for threshold in probe_thresholds(scores, seed)[::3]:
        point = table.at(threshold, cost_fp=3.0, cost_fn=7.0)
        predictions = (scores >= threshold).astype(np.int64)
        precision, recall, f1, _ = skm.precision_recall_fscore_support(
            labels, predictions, labels=[1], average=None, zero_division=0
        )
        assert isinstance(point, ThresholdPoint)
        assert point.precision == pytest.approx(precision[0], abs=TOLERANCE)
        assert point.recall == pytest.approx(recall[0], abs=TOLERANCE)
        assert point.f1 == pytest.approx(f1[0], abs=TOLERANCE)
        assert point.accuracy == pytest.approx(skm.accuracy_score(labels, predictions))
        assert point.expected_cost == pytest.approx((3.0 * point.fp + 7.0 * point.fn) / scores.size)


@pytest.mark.parametrize("seed", SEEDS)
def test_threshold_sweep_agrees_with_pointwise_queries(seed: int) -> None:
    scores, labels = binary_case(seed)
    table = ThresholdTable.from_scores(scores, labels)
    thresholds = probe_thresholds(scores, seed)
    sweep = table.sweep(thresholds, cost_fp=10_000.0, cost_fn=500.0)
    assert isinstance(sweep, ThresholdSweep)
    for i, threshold in enumerate(thresholds):
        point = table.at(threshold, cost_fp=10_000.0, cost_fn=500.0)
        assert (sweep.tp[i], sweep.fp[i], sweep.fn[i], sweep.tn[i]) == (
            point.tp,
            point.fp,
            point.fn,
            point.tn,
        )
        for name in ("precision", "recall", "f1", "accuracy", "expected_cost"):
            assert getattr(sweep, name)[i] == pytest.approx(getattr(point, name))


def cost_case(seed: int):
    """A seeded binary case, its table, the costs, and its cost counted by brute force."""
    scores, labels = binary_case(seed)
    table = ThresholdTable.from_scores(scores, labels)
    cost_fp, cost_fn = [(1.0, 1.0), (10_000.0, 500.0), (1.0, 20.0)][seed % 3]

    def cost(threshold: float) -> float:
        _, fp, fn, _ = brute_counts(scores, labels, threshold)
        return cost_fp * fp + cost_fn * fn

    return scores, table, cost_fp, cost_fn, cost


@pytest.mark.parametrize("seed", SEEDS)
def test_best_cost_threshold_is_the_lowest_minimiser(seed: int) -> None:
    scores, table, cost_fp, cost_fn, cost = cost_case(seed)
    best = table.best_cost_threshold(cost_fp, cost_fn)
    candidates = np.r_[0.0, np.unique(scores), np.nextafter(1.0, 2.0)]
    lowest_cost = min(cost(t) for t in candidates)
    assert cost(best) == lowest_cost
    assert best == min(t for t in candidates if cost(t) == lowest_cost)
    dense = np.random.default_rng(seed).uniform(-0.1, 1.1, 200)
    assert all(cost(t) >= lowest_cost for t in dense)


@pytest.mark.parametrize("seed", SEEDS)
def test_central_cost_threshold_reaches_the_lowest_cost_a_slider_can(seed: int) -> None:
    scores, table, cost_fp, cost_fn, cost = cost_case(seed)
    central = table.central_cost_threshold(cost_fp, cost_fn)
    reachable = np.r_[0.0, scores[(scores >= 0.0) & (scores <= 1.0)], 1.0]
    assert 0.0 <= central <= 1.0
    assert cost(central) == min(cost(t) for t in reachable)


def test_central_cost_threshold_sits_mid_gap_on_separable_saturated_scores() -> None:
    # "go to lowest cost" on separable moons: the positives' float32 scores saturate at 1.0
    scores = np.array([0.0, 0.01, 0.02, 1.0, 1.0, 1.0])
    labels = np.array([0, 0, 0, 1, 1, 1])
    table = ThresholdTable.from_scores(scores, labels)
    assert table.best_cost_threshold(1.0, 1.0) == 1.0  # the lowest tied candidate: an edge
    central = table.central_cost_threshold(1.0, 1.0)
    assert central == pytest.approx(0.51)
    assert table.at(central).expected_cost == 0.0
    assert table.central_cost_threshold(1.0, 50.0) == pytest.approx(0.51)  # still no mistakes


def test_central_cost_threshold_takes_the_widest_of_two_tied_runs() -> None:
    # cost 1 at thresholds in (0.1, 0.2] (one false alarm) and in (0.7, 0.9] (one miss), else 2
    table = ThresholdTable.from_scores(np.array([0.1, 0.2, 0.7, 0.9]), np.array([0, 1, 0, 1]))
    grid = np.linspace(0.0, 1.0, 1001)
    costs = table.sweep(grid).expected_cost
    assert set(np.round(costs, 6)) == {0.25, 0.5}
    assert table.central_cost_threshold(1.0, 1.0) == pytest.approx(0.8)
    assert table.best_cost_threshold(1.0, 1.0) == pytest.approx(0.2)


def test_central_cost_threshold_with_no_cases_is_one_half() -> None:
    table = ThresholdTable.from_scores(np.array([]), np.array([]))
    assert table.central_cost_threshold(1.0, 1.0) == 0.5


def test_expensive_false_alarms_push_the_best_threshold_far_above_half() -> None:
    # an exactly calibrated model: of the 200 cases scored i/200, exactly i are positive
    levels = np.arange(1, 200)
    scores = np.repeat(levels / 200.0, 200)
    labels = (np.tile(np.arange(200), levels.size) < np.repeat(levels, 200)).astype(np.int64)
    table = ThresholdTable.from_scores(scores, labels)
    # cost_fp $10,000 vs cost_fn $500: flag only when 500 s > 10,000 (1 - s), i.e. s > 0.952
    assert table.best_cost_threshold(10_000.0, 500.0) == pytest.approx(0.955)
    # misses three times as costly as false alarms: flag from s = 0.25 (a tie there: lowest wins)
    assert table.best_cost_threshold(1.0, 3.0) == pytest.approx(0.25)
    assert table.best_cost_threshold(1.0, 1.0) == pytest.approx(0.5)


def test_precision_with_nothing_flagged_is_zero_not_one() -> None:
    table = ThresholdTable.from_scores(np.array([0.2, 0.7]), np.array([0, 1]))
    point = table.at(0.9)
    assert (point.tp, point.fp, point.fn, point.tn) == (0, 0, 1, 1)
    assert point.precision == 0.0
    assert point.recall == 0.0
    assert point.f1 == 0.0
    assert table.at(0.5).precision == 1.0


# --- the curriculum's worked examples -----------------------------------------------------------


def cases_with_counts(tp: int, fp: int, fn: int, tn: int) -> tuple[np.ndarray, np.ndarray]:
    """Scores and labels that give exactly these counts at threshold 0.5."""
    labels = np.r_[np.ones(tp + fn), np.zeros(fp + tn)].astype(np.int64)
    scores = np.r_[np.full(tp, 0.9), np.full(fn, 0.1), np.full(fp, 0.8), np.full(tn, 0.2)]
    return scores, labels


def test_curriculum_accuracy_hides_a_three_percent_recall() -> None:
    scores, labels = cases_with_counts(tp=18, fp=45, fn=582, tn=9355)
    point = ThresholdTable.from_scores(scores, labels).at(0.5)
    assert (point.tp, point.fp, point.fn, point.tn) == (18, 45, 582, 9355)
    assert point.accuracy == pytest.approx(0.9373)
    assert point.recall == pytest.approx(0.03)
    confusion = confusion_matrix(labels, (scores >= 0.5).astype(np.int64), 2)
    assert confusion.tolist() == [[9355, 45], [582, 18]]
    assert precision_recall_f1(confusion)[1][1] == pytest.approx(0.03)


def test_curriculum_f1_is_not_the_arithmetic_mean() -> None:
    scores, labels = cases_with_counts(tp=1, fp=0, fn=99, tn=900)
    point = ThresholdTable.from_scores(scores, labels).at(0.5)
    assert point.precision == 1.0
    assert point.recall == pytest.approx(0.01)
    assert point.f1 == pytest.approx(0.0198, abs=1e-4)


def test_curriculum_catching_most_frauds_with_many_false_alarms() -> None:
    scores, labels = cases_with_counts(tp=8, fp=200, fn=2, tn=9790)
    point = ThresholdTable.from_scores(scores, labels).at(0.5)
    assert point.recall == pytest.approx(0.8)
    assert point.precision == pytest.approx(0.038, abs=5e-4)


# --- temperature scaling ------------------------------------------------------------------------


def calibrated_logits(seed: int, n: int = 500, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Logits whose softmax is the true label distribution, and labels drawn from it."""
    rng = np.random.default_rng(5000 + seed)
    logits = rng.normal(size=(n, k)) * 1.5
    cumulative = softmax(logits).cumsum(axis=1)
    labels = (rng.random((n, 1)) > cumulative).sum(axis=1).clip(max=k - 1)
    return logits, labels


@pytest.mark.parametrize("seed", range(10))
def test_temperature_fixes_overconfidence_without_changing_predictions(seed: int) -> None:
    logits, labels = calibrated_logits(seed)
    overconfident = logits * 5.0
    temperature = fit_temperature(overconfident, labels)
    assert temperature > 2.0
    scaled = softmax(overconfident, temperature)
    assert log_loss(scaled, labels) < log_loss(softmax(overconfident), labels)
    np.testing.assert_array_equal(scaled.argmax(axis=1), overconfident.argmax(axis=1))
    before = calibration_from_probabilities(softmax(overconfident), labels).ece
    assert calibration_from_probabilities(scaled, labels).ece < before


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("stretch", [5.0, 1.0, 0.3])
def test_fitted_temperature_is_the_grid_optimum(seed: int, stretch: float) -> None:
    logits, labels = calibrated_logits(seed, n=int(50 + 40 * seed), k=2 + seed % 5)
    logits = logits * stretch
    temperature = fit_temperature(logits, labels)
    grid = np.exp(np.linspace(np.log(0.05), np.log(20.0), 3001))
    losses = np.array([log_loss(softmax(logits, t), labels) for t in grid])
    assert log_loss(softmax(logits, temperature), labels) <= losses.min() + 1e-12
    assert abs(np.log(temperature) - np.log(grid[losses.argmin()])) < 0.01


def test_temperature_stays_in_range_and_accepts_log_probabilities() -> None:
    separable = np.array([[50.0, 0.0], [0.0, 50.0]])
    assert fit_temperature(separable, np.array([0, 1])) == 0.05
    assert fit_temperature(separable, np.array([1, 0])) == 20.0
    probabilities = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    np.testing.assert_allclose(softmax(np.log(probabilities)), probabilities)
    logits, labels = calibrated_logits(3, n=200, k=4)
    log_probabilities = np.log(softmax(logits * 4.0))
    assert fit_temperature(log_probabilities, labels) == pytest.approx(
        fit_temperature(logits * 4.0, labels), rel=1e-6
    )


def test_softmax_is_stable_for_huge_logits_and_tiny_temperatures() -> None:
    probabilities = softmax(np.array([[1000.0, 999.0, -1000.0]]), temperature=0.05)
    assert np.all(np.isfinite(probabilities))
    assert probabilities.sum() == pytest.approx(1.0)
    assert probabilities[0, 0] == pytest.approx(1.0)


# --- baselines ----------------------------------------------------------------------------------


def test_curriculum_baselines_for_a_90_10_task() -> None:
    labels = np.r_[np.zeros(900), np.ones(100)].astype(np.int64)
    result = baselines(labels, labels, n_classes=2)
    assert isinstance(result, Baselines)
    assert result.minority_class == 1
    assert result.zero_rule_accuracy == pytest.approx(0.9)
    assert result.zero_rule_minority_recall == 0.0
    assert result.random_accuracy == pytest.approx(0.82)
    assert result.random_minority_f1 == pytest.approx(0.1)
    assert result.uniform_accuracy == pytest.approx(0.5)
    assert result.uniform_minority_f1 == pytest.approx(0.167, abs=5e-4)


def expected_minority_f1(
    eval_labels: np.ndarray, guess_distribution: np.ndarray, minority: int
) -> float:
    """F1 of the expected confusion matrix of random guessing, computed by scikit-learn."""
    k = guess_distribution.size
    true, guessed = np.divmod(np.arange(k * k), k)
    eval_counts = np.bincount(eval_labels, minlength=k)
    weights = eval_counts[true] * guess_distribution[guessed]
    return float(
        skm.f1_score(
            true, guessed, labels=[minority], average=None, sample_weight=weights, zero_division=0
        )[0]
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_baselines_match_their_definitions(seed: int) -> None:
    rng = np.random.default_rng(6000 + seed)
    k = int(rng.integers(2, 6))
    shares = rng.dirichlet(np.ones(k) * 0.7)
    train = rng.choice(k, size=int(rng.integers(20, 400)), p=shares)
    evaluation = rng.choice(k, size=int(rng.integers(5, 200)), p=rng.dirichlet(np.ones(k)))
    result = baselines(train, evaluation, k)
    train_share = np.bincount(train, minlength=k) / train.size

    zero_rule = DummyClassifier(strategy="most_frequent").fit(np.zeros((train.size, 1)), train)
    assert result.zero_rule_accuracy == pytest.approx(
        zero_rule.score(np.zeros((evaluation.size, 1)), evaluation)
    )
    assert result.random_accuracy == pytest.approx(float(np.mean(train_share[evaluation])))
    assert result.uniform_accuracy == pytest.approx(1.0 / k)
    assert result.minority_class == int(np.argmin(np.bincount(train, minlength=k)))
    minority = result.minority_class
    assert result.random_minority_f1 == pytest.approx(
        expected_minority_f1(evaluation, train_share, minority)
    )
    assert result.uniform_minority_f1 == pytest.approx(
        expected_minority_f1(evaluation, np.full(k, 1.0 / k), minority)
    )
    assert result.zero_rule_minority_recall == 0.0


@pytest.mark.parametrize("seed", SEEDS)
def test_prior_loss_is_the_log_loss_of_always_answering_the_class_shares(seed: int) -> None:
    rng = np.random.default_rng(7000 + seed)
    k = int(rng.integers(2, 11))
    labels = rng.choice(k, size=int(rng.integers(5, 500)), p=rng.dirichlet(np.ones(k) * 0.7))
    counts = np.bincount(labels, minlength=k)
    prior = DummyClassifier(strategy="prior").fit(np.zeros((labels.size, 1)), labels)
    guesses = prior.predict_proba(np.zeros((labels.size, 1)))
    expected = skm.log_loss(labels, guesses, labels=np.unique(labels))
    assert prior_loss(counts) == pytest.approx(expected, rel=1e-9)


def test_prior_loss_of_the_curriculum_cases() -> None:
    assert prior_loss(np.array([900, 100])) == pytest.approx(0.325, abs=5e-4)
    assert prior_loss(np.array([50, 50])) == pytest.approx(math.log(2))
    assert prior_loss(np.full(10, 30)) == pytest.approx(math.log(10))
    assert prior_loss(np.array([40, 0])) == 0.0
    assert math.isnan(prior_loss(np.zeros(3)))


def test_zero_rule_recall_is_one_only_when_the_majority_is_the_minority() -> None:
    balanced = np.array([0, 1, 0, 1])
    result = baselines(balanced, balanced, n_classes=2)
    assert result.minority_class == 0
    assert result.zero_rule_minority_recall == 1.0
    assert result.zero_rule_accuracy == 0.5
