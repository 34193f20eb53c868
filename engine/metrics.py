"""Evaluation metrics as pure numpy functions: what every evaluation and every panel shows.

They run on every evaluation and, on the GUI side, on every threshold-slider move, so they avoid
scikit-learn's per-call validation (~60x the cost of a ``bincount``, see PERF-NOTES.md) and
Python loops over samples. scikit-learn stays the reference: ``tests/engine/test_metrics.py``
checks each function against it. Only numpy and the standard library are imported, so the GUI
process can use these without torch.

Conventions: ``labels`` are integer class indices (N,); ``probabilities`` are (N, K) rows that
sum to 1; binary ``scores`` (N,) are the positive-class probability (or any score where larger
means "more positive") and binary ``labels`` are 0/1 or bool with 1 the positive class.
Undefined ratios are 0.0 (scikit-learn's ``zero_division=0``) except where a panel needs to
tell "undefined" apart from "bad" (ROC AUC with one class, empty calibration bins: NaN).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from trainscope.engine.events import Calibration
from trainscope.engine.thresholds import ThresholdPoint, ThresholdSweep, ThresholdTable

__all__ = [
    "Baselines",
    "ThresholdPoint",
    "ThresholdSweep",
    "ThresholdTable",
    "average_precision",
    "baselines",
    "calibration_from_probabilities",
    "confusion_matrix",
    "fit_temperature",
    "log_loss",
    "lowest_recall_class",
    "macro_roc_auc",
    "precision_recall_curve",
    "precision_recall_f1",
    "prior_loss",
    "reliability_bins",
    "roc_auc",
    "roc_curve",
    "softmax",
]

PROBABILITY_FLOOR = 1e-12  # log(0) would make one confident mistake an infinite loss
TEMPERATURE_RANGE = (0.05, 20.0)


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Elementwise ratio as float64, 0.0 where the denominator is 0 (zero_division=0)."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.zeros(np.broadcast(numerator, denominator).shape)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


# --- classification -----------------------------------------------------------------------------


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, n_classes: int) -> np.ndarray:
    """(K, K) int64 counts, rows = true class, columns = predicted, from one ``bincount``.

    ``labels`` and ``predictions`` are (N,) integer classes in ``[0, n_classes)``. K is passed
    rather than inferred so a class absent from this split still gets its row and column.
    """
    labels = np.asarray(labels, dtype=np.int64).ravel()
    predictions = np.asarray(predictions, dtype=np.int64).ravel()
    flat = np.bincount(labels * n_classes + predictions, minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes).astype(np.int64, copy=False)


def precision_recall_f1(confusion: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class precision, recall and F1, each (K,), from a (K, K) confusion matrix.

    0.0 where undefined (a class never predicted, or absent), as scikit-learn's
    ``precision_recall_fscore_support(average=None, zero_division=0)``: a panel shows 0 for
    "never right about this class" rather than a hole.
    """
    confusion = np.asarray(confusion)
    true_positives = np.diag(confusion)
    predicted = confusion.sum(axis=0)
    actual = confusion.sum(axis=1)
    precision = _safe_divide(true_positives, predicted)
    recall = _safe_divide(true_positives, actual)
    f1 = _safe_divide(2 * true_positives, predicted + actual)
    return precision, recall, f1


def lowest_recall_class(confusion: np.ndarray) -> int:
    """The class with the lowest recall among those present in a (K, K) confusion matrix.

    It is the class a one-vs-rest threshold view most usefully starts on (the one the model
    misses most). Classes absent from the split have no recall to speak of and are passed over;
    ties go to the lowest index, and with no cases at all the answer is class 0.
    """
    confusion = np.asarray(confusion)
    actual = confusion.sum(axis=1)
    if not np.any(actual > 0):
        return 0
    recall = _safe_divide(np.diag(confusion), actual)
    return int(np.argmin(np.where(actual > 0, recall, np.inf)))


def log_loss(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log-likelihood of the true class; ``probabilities`` (N, K), ``labels`` (N,).

    Probabilities are floored at 1e-12 so one confident mistake costs ~27.6 nats rather than
    infinity. An empty split has no loss: NaN.
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64).ravel()
    if labels.size == 0:
        return math.nan
    true_class = probabilities[np.arange(labels.size), labels]
    # + 0.0 turns the -0.0 of a perfect fit into 0.0, which prints as "0", not "-0".
    return float(-np.mean(np.log(np.clip(true_class, PROBABILITY_FLOOR, 1.0)))) + 0.0


# --- calibration --------------------------------------------------------------------------------


def reliability_bins(confidence: np.ndarray, outcome: np.ndarray, n_bins: int = 10) -> Calibration:
    """Reliability diagram bins and calibration errors; ``confidence``, ``outcome`` (N,).

    Bins are equal-width on [0, 1] and closed on the right, ``(e_i, e_i+1]`` with 0 in the first
    bin and 1.0 in the last: the convention of ``sklearn.calibration.calibration_curve`` and of
    Guo et al.'s ECE. Empty bins hold NaN (nothing to plot); ECE weighs each bin's gap
    ``|observed - confidence|`` by its share of cases, MCE is the largest gap. With no cases
    ECE and MCE are 0.

    torchmetrics (``binary_calibration_error``, ``multiclass_calibration_error``, 1.9) bins the
    other way: closed on the left, ``[e_i, e_i+1)``, plus a bin of its own for exactly 1.0. A
    value on an inner edge lands one bin higher there, and cases at exactly 1.0 — common once a
    model saturates in float32 — are not pooled with those just below, so its MCE (and less
    often its ECE) can differ from these; the README's "How calibration is measured" says more.
    """
    confidence = np.asarray(confidence, dtype=np.float64).ravel()
    outcome = np.asarray(outcome, dtype=np.float64).ravel()
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bin_ids = np.minimum(np.searchsorted(edges[1:-1], confidence, side="left"), n_bins - 1)
    counts = np.bincount(bin_ids, minlength=n_bins).astype(np.int64)
    confidence_sums = np.bincount(bin_ids, weights=confidence, minlength=n_bins)
    outcome_sums = np.bincount(bin_ids, weights=outcome, minlength=n_bins)
    filled = counts > 0
    mean_confidence = np.full(n_bins, np.nan)
    observed_frequency = np.full(n_bins, np.nan)
    mean_confidence[filled] = confidence_sums[filled] / counts[filled]
    observed_frequency[filled] = outcome_sums[filled] / counts[filled]
    gaps = np.abs(observed_frequency[filled] - mean_confidence[filled])
    n_cases = confidence.size
    ece = float(np.sum(counts[filled] * gaps) / n_cases) if n_cases else 0.0
    mce = float(gaps.max()) if n_cases else 0.0
    return Calibration(edges, mean_confidence, observed_frequency, counts, ece, mce)


def calibration_from_probabilities(
    probabilities: np.ndarray, labels: np.ndarray, n_bins: int = 10
) -> Calibration:
    """Reliability bins of a model's (N, K) probabilities against (N,) labels.

    Binary tasks use the positive-class probability P(class 1) and "is it positive?", the classic
    reliability diagram (as ``calibration_curve``), which shows both over- and under-confidence
    across the whole [0, 1] range; a case the model gives P(class 1) = 0.0 sits in the first bin,
    not (as its top-label confidence 1.0 would put it) in the last. With K > 2 there is no single
    positive class, so it uses the top-label confidence and "was the top label right?".
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    labels = np.asarray(labels).ravel()
    if probabilities.shape[1] == 2:
        return reliability_bins(probabilities[:, 1], labels == 1, n_bins)
    return reliability_bins(
        probabilities.max(axis=1), probabilities.argmax(axis=1) == labels, n_bins
    )


# --- ranking: ROC and precision-recall ----------------------------------------------------------


def _cumulative_counts(
    scores: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(false positives, true positives, thresholds), each (D,), one per distinct score.

    Scores descend; entry ``d`` counts the cases scoring >= ``thresholds[d]``, so tied scores
    move together, exactly as scikit-learn's ``confusion_matrix_at_thresholds``.
    """
    scores = np.asarray(scores, dtype=np.float64).ravel()
    positive = (np.asarray(labels).ravel() == 1).astype(np.float64)
    order = np.argsort(scores, kind="stable")[::-1]
    scores, positive = scores[order], positive[order]
    group_ends = np.r_[np.flatnonzero(np.diff(scores)), scores.size - 1]
    true_positives = np.cumsum(positive)[group_ends]
    false_positives = 1.0 + group_ends - true_positives
    return false_positives, true_positives, scores[group_ends]


def roc_curve(
    scores: np.ndarray, labels: np.ndarray, *, drop_intermediate: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fpr, tpr, thresholds), each (D + 1,) or fewer, as ``sklearn.metrics.roc_curve``.

    The first threshold is +inf (nothing flagged, the curve starts at (0, 0)); collinear
    points are dropped by default as scikit-learn does. A rate with no cases to divide by
    (no negatives for fpr, no positives for tpr) is NaN throughout.
    """
    if np.asarray(scores).size == 0:
        return np.array([np.nan]), np.array([np.nan]), np.array([np.inf])
    false_positives, true_positives, thresholds = _cumulative_counts(scores, labels)
    if drop_intermediate and false_positives.size > 2:
        corners = np.logical_or(np.diff(false_positives, 2), np.diff(true_positives, 2))
        keep = np.flatnonzero(np.r_[True, corners, True])
        false_positives, true_positives = false_positives[keep], true_positives[keep]
        thresholds = thresholds[keep]
    false_positives = np.r_[0.0, false_positives]
    true_positives = np.r_[0.0, true_positives]
    return _rate(false_positives), _rate(true_positives), np.r_[np.inf, thresholds]


def _rate(cumulative: np.ndarray) -> np.ndarray:
    """Cumulative counts (D,) over their total; all NaN when the total is 0 (rate undefined)."""
    if cumulative[-1] <= 0:
        return np.full(cumulative.shape, np.nan)
    return cumulative / cumulative[-1]


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (0.5 = random ranking); NaN when only one class is present.

    Ties between a positive and a negative count half, as in ``roc_auc_score``.
    """
    fpr, tpr, _ = roc_curve(scores, labels)
    if np.isnan(fpr[0]) or np.isnan(tpr[0]):
        return math.nan
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1])) / 2.0)


def macro_roc_auc(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """One-vs-rest ROC AUC (N, K) probabilities against labels (N,), averaged over the classes.

    How well the model *ranks* cases, whatever its calibration: a run whose loss is driven far
    above chance by a few confident mistakes can still rank at 0.94, and a model that knows
    nothing ranks at 0.5. Two classes give exactly ``roc_auc`` of P(class 1); classes absent
    from ``labels`` (or alone in them) are left out, as they have no ranking to score; NaN when
    none is left. scikit-learn's ``roc_auc_score(multi_class="ovr")`` where both are defined.
    """
    probabilities = np.asarray(probabilities)
    labels = np.asarray(labels)
    if probabilities.shape[1] == 2:
        return roc_auc(probabilities[:, 1], labels == 1)
    areas = [
        roc_auc(probabilities[:, k], labels == k)
        for k in range(probabilities.shape[1])
        if 0 < np.count_nonzero(labels == k) < labels.size
    ]
    return float(np.mean(areas)) if areas else math.nan


def precision_recall_curve(
    scores: np.ndarray, labels: np.ndarray, *, drop_intermediate: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(precision (D + 1,), recall (D + 1,), thresholds (D,)) as scikit-learn returns them.

    Thresholds ascend; the final point (precision 1, recall 0) has no threshold. Precision with
    nothing flagged is 0; with no positives at all recall is 1 everywhere (scikit-learn's
    convention). An empty input gives just the final point.
    """
    if np.asarray(scores).size == 0:
        return np.array([1.0]), np.array([0.0]), np.array([])
    false_positives, true_positives, thresholds = _cumulative_counts(scores, labels)
    if drop_intermediate and false_positives.size > 2:
        steps = np.logical_or(np.diff(true_positives[:-1]), np.diff(true_positives[1:]))
        keep = np.flatnonzero(np.r_[True, steps, True])
        false_positives, true_positives = false_positives[keep], true_positives[keep]
        thresholds = thresholds[keep]
    precision = _safe_divide(true_positives, true_positives + false_positives)
    if true_positives[-1] == 0:
        recall = np.ones_like(true_positives)
    else:
        recall = true_positives / true_positives[-1]
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1]


def average_precision(scores: np.ndarray, labels: np.ndarray) -> float:
    """Step-wise area under the PR curve, as ``average_precision_score`` (random = base rate).

    No interpolation, so it does not flatter a model the way a trapezoid over PR points can.
    With no positives scikit-learn gives 0.0 and so does this; with no cases at all, NaN.
    """
    if np.asarray(scores).size == 0:
        return math.nan
    precision, recall, _ = precision_recall_curve(scores, labels)
    return float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))


# --- temperature scaling ------------------------------------------------------------------------


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``logits / temperature``, (N, K) -> (N, K) float64.

    The row maximum is subtracted first so large logits (or tiny temperatures) never overflow.
    """
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    scaled = scaled - scaled.max(axis=-1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=-1, keepdims=True)


def _nll_slope_and_curvature(
    logits: np.ndarray, true_logits: np.ndarray, inverse_temperature: float
) -> tuple[float, float]:
    """First and second derivative of the mean NLL with respect to beta = 1 / T.

    NLL(beta) = mean(logsumexp(beta * z) - beta * z_y) is convex in beta: its slope is
    mean(E_p[z] - z_y) and its curvature mean(Var_p[z]) >= 0, so Newton's method is safe.
    """
    probabilities = softmax(logits, 1.0 / inverse_temperature)
    expected = np.sum(probabilities * logits, axis=1)
    second_moment = np.sum(probabilities * logits * logits, axis=1)
    slope = float(np.mean(expected - true_logits))
    curvature = float(np.mean(np.maximum(second_moment - expected**2, 0.0)))
    return slope, curvature


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature T in [0.05, 20] minimising validation NLL of ``softmax(logits / T)``.

    Temperature scaling (Guo et al., 2017) fixes overconfidence without changing any
    prediction: dividing every logit by one T > 0 keeps each row's argmax. ``logits`` (N, K)
    may be log-probabilities (same softmax). NLL is convex in 1/T, so a Newton iteration
    guarded by bisection finds the optimum in a handful of steps, deterministically. With no
    cases there is nothing to fit: 1.0.
    """
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64).ravel()
    if labels.size == 0:
        return 1.0
    logits = logits - logits.max(axis=1, keepdims=True)
    true_logits = logits[np.arange(labels.size), labels]
    low, high = 1.0 / TEMPERATURE_RANGE[1], 1.0 / TEMPERATURE_RANGE[0]
    if _nll_slope_and_curvature(logits, true_logits, low)[0] >= 0.0:
        return TEMPERATURE_RANGE[1]
    if _nll_slope_and_curvature(logits, true_logits, high)[0] <= 0.0:
        return TEMPERATURE_RANGE[0]
    beta = 1.0
    for _ in range(100):
        slope, curvature = _nll_slope_and_curvature(logits, true_logits, beta)
        low, high = (low, beta) if slope > 0.0 else (beta, high)
        step = beta - slope / curvature if curvature > 0.0 else math.nan
        next_beta = step if low < step < high else 0.5 * (low + high)
        if abs(next_beta - beta) <= 1e-12 * beta or slope == 0.0:
            break
        beta = next_beta
    return 1.0 / beta


# --- baselines ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Baselines:
    """What no-skill strategies score on the evaluation split: a score means nothing without it.

    Accuracies are expectations on the evaluation labels; the minority class is the least
    frequent in training (lowest index on a tie), the class a student usually cares about.
    """

    zero_rule_accuracy: float  # always predict the training majority class
    random_accuracy: float  # guess each class with its training frequency
    uniform_accuracy: float  # guess each class with probability 1/K
    minority_class: int
    zero_rule_minority_recall: float  # 0 unless the majority class is the minority class
    random_minority_f1: float
    uniform_minority_f1: float


def _class_frequencies(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """(K,) share of each class in ``labels`` (N,); all zeros for an empty split."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64).ravel(), minlength=n_classes)
    return _safe_divide(counts, counts.sum())


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def baselines(train_labels: np.ndarray, eval_labels: np.ndarray, n_classes: int) -> Baselines:
    """Zero-rule, random-by-distribution and uniform-random scores on ``eval_labels`` (N,).

    Guessing class k with probability p_k (training frequency) against evaluation frequencies
    q gives expected accuracy sum_k p_k q_k; for class m its precision is q_m (the share of
    m among any random subset) and its recall p_m (the share of m cases guessed m). A 90/10 task
    gives random accuracy 0.82 and minority F1 0.1; uniform guessing 0.5 and 0.167.
    """
    train = _class_frequencies(train_labels, n_classes)
    evaluation = _class_frequencies(eval_labels, n_classes)
    majority = int(np.argmax(train))
    minority = int(np.argmin(train))
    minority_present = evaluation[minority] > 0
    return Baselines(
        zero_rule_accuracy=float(evaluation[majority]),
        random_accuracy=float(np.dot(train, evaluation)),
        uniform_accuracy=1.0 / n_classes,
        minority_class=minority,
        zero_rule_minority_recall=1.0 if majority == minority and minority_present else 0.0,
        random_minority_f1=_f1(float(evaluation[minority]), float(train[minority])),
        uniform_minority_f1=_f1(float(evaluation[minority]), 1.0 / n_classes),
    )


def prior_loss(class_counts: np.ndarray) -> float:
    """Cross-entropy -sum_k p_k ln p_k of always answering with the class shares p (K,) counts.

    This, not ln K, is the loss a model reaches by learning only how common each class is: on a
    90/10 task it is 0.325, far below ln 2 = 0.693, so "stuck at chance" must be read against
    it. ln K for balanced counts, 0 for a single class, NaN for no rows at all.
    """
    counts = np.asarray(class_counts, dtype=np.float64)
    total = counts.sum()
    if total <= 0:
        return math.nan
    shares = counts[counts > 0] / total
    return float(-np.sum(shares * np.log(shares)))
