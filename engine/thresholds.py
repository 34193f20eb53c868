"""Threshold analysis for binary tasks: what a decision threshold costs and buys.

A probability becomes a decision at a threshold, and the GUI lets a student drag that threshold
and watch precision, recall and expected cost move. The drag must cost microseconds, so the table
sorts the scores once per evaluation and keeps cumulative counts of positives; every query after
that is one ``np.searchsorted``. The decision rule is *positive when score >= threshold*, the
same rule as ``sklearn.metrics.roc_curve`` and ``precision_recall_curve``.

Undefined ratios (precision with no predicted positives, recall with no actual positives, F1
with neither) are 0.0, as scikit-learn's ``zero_division=0`` gives, so a panel never shows NaN
at the extremes of the slider.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class ThresholdPoint:
    """The confusion counts and scores at one threshold (what the slider's readout shows)."""

    threshold: float
    tp: int
    fp: int
    fn: int
    tn: int
    precision: float
    recall: float
    f1: float
    accuracy: float
    expected_cost: float  # (cost_fp * fp + cost_fn * fn) / N: cost per case


@dataclass(frozen=True, slots=True)
class ThresholdSweep:
    """The same quantities as :class:`ThresholdPoint` over many thresholds, each array (T,)."""

    thresholds: np.ndarray  # float64
    precision: np.ndarray  # float64
    recall: np.ndarray  # float64
    f1: np.ndarray  # float64
    accuracy: np.ndarray  # float64
    expected_cost: np.ndarray  # float64
    tp: np.ndarray  # int64
    fp: np.ndarray  # int64
    fn: np.ndarray  # int64
    tn: np.ndarray  # int64


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator`` elementwise, 0.0 where the denominator is 0 (zero_division=0)."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.zeros(np.broadcast(numerator, denominator).shape)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


@dataclass(frozen=True, slots=True)
class ThresholdTable:
    """Scores sorted once, with cumulative positive counts, for instant threshold queries.

    Build it with :meth:`from_scores`. ``sorted_scores`` (N,) ascends and
    ``positives_below[i]`` (N + 1,) counts the positives among the ``i`` lowest scores, so the
    cases predicted positive at threshold ``t`` are exactly those from
    ``searchsorted(sorted_scores, t, "left")`` upwards, ties at ``t`` included.
    """

    sorted_scores: np.ndarray  # (N,) float64, ascending
    positives_below: np.ndarray  # (N + 1,) int64

    @classmethod
    def from_scores(cls, scores: np.ndarray, labels: np.ndarray) -> ThresholdTable:
        """Sort ``scores`` (N,) once; ``labels`` (N,) are 0/1 or bool, 1 being the positive class."""
        scores = np.asarray(scores, dtype=np.float64).ravel()
        positive = (np.asarray(labels).ravel() == 1).astype(np.int64)
        order = np.argsort(scores, kind="stable")
        positives_below = np.concatenate(([0], np.cumsum(positive[order])))
        return cls(sorted_scores=scores[order], positives_below=positives_below)

    @property
    def n_cases(self) -> int:
        return int(self.sorted_scores.shape[0])

    @property
    def n_positive(self) -> int:
        return int(self.positives_below[-1])

    def _counts_at(self, thresholds: np.ndarray | float) -> tuple[np.ndarray, ...]:
        """(tp, fp, fn, tn) for scalar or (T,) thresholds, from one searchsorted."""
        below = np.searchsorted(self.sorted_scores, thresholds, side="left")
        fn = self.positives_below[below]
        tp = self.n_positive - fn
        fp = (self.n_cases - below) - tp
        tn = below - fn
        return tp, fp, fn, tn

    def counts(self, threshold: float) -> tuple[int, int, int, int]:
        """(tp, fp, fn, tn) when cases with score >= ``threshold`` are called positive."""
        tp, fp, fn, tn = self._counts_at(float(threshold))
        return int(tp), int(fp), int(fn), int(tn)

    def sweep(
        self, thresholds: np.ndarray, cost_fp: float = 1.0, cost_fn: float = 1.0
    ) -> ThresholdSweep:
        """Every metric at each of ``thresholds`` (T,), vectorised: one searchsorted for all.

        Precision is 0.0 where nothing is predicted positive (scikit-learn's zero_division=0),
        not 1.0: a threshold above every score has caught nothing and should not look perfect.
        With no cases at all, accuracy and expected cost are 0.0 too.
        """
        thresholds = np.asarray(thresholds, dtype=np.float64).ravel()
        tp, fp, fn, tn = (np.asarray(c, dtype=np.int64) for c in self._counts_at(thresholds))
        n_cases = np.full(thresholds.shape, self.n_cases)
        return ThresholdSweep(
            thresholds=thresholds,
            precision=_ratio(tp, tp + fp),
            recall=_ratio(tp, tp + fn),
            f1=_ratio(2 * tp, 2 * tp + fp + fn),
            accuracy=_ratio(tp + tn, n_cases),
            expected_cost=_ratio(cost_fp * fp + cost_fn * fn, n_cases),
            tp=tp,
            fp=fp,
            fn=fn,
            tn=tn,
        )

    def at(self, threshold: float, cost_fp: float = 1.0, cost_fn: float = 1.0) -> ThresholdPoint:
        """Everything the slider readout shows at one threshold (zero_division=0, as in sweep)."""
        tp, fp, fn, tn = self.counts(threshold)
        n_cases = self.n_cases
        return ThresholdPoint(
            threshold=float(threshold),
            tp=tp,
            fp=fp,
            fn=fn,
            tn=tn,
            precision=tp / (tp + fp) if tp + fp else 0.0,
            recall=tp / (tp + fn) if tp + fn else 0.0,
            f1=2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0,
            accuracy=(tp + tn) / n_cases if n_cases else 0.0,
            expected_cost=(cost_fp * fp + cost_fn * fn) / n_cases if n_cases else 0.0,
        )

    def candidate_thresholds(self) -> np.ndarray:
        """Every threshold that gives a different decision: 0, each distinct score, just above 1.

        Expected cost is constant between consecutive distinct scores, so these (C,) ascending
        values cover every achievable trade-off, from "flag everything" to "flag nothing".
        """
        top = max(1.0, float(self.sorted_scores[-1])) if self.n_cases else 1.0
        above_all = np.nextafter(top, np.inf)
        bottom = min(0.0, float(self.sorted_scores[0])) if self.n_cases else 0.0
        return np.unique(np.concatenate(([bottom], self.sorted_scores, [above_all])))

    def best_cost_threshold(self, cost_fp: float, cost_fn: float) -> float:
        """The threshold that minimises expected cost ``(cost_fp*fp + cost_fn*fn) / N``.

        Where several thresholds tie, the lowest wins, so the answer is reproducible. The point
        for students: with unequal costs this is usually far from 0.5.
        """
        candidates = self.candidate_thresholds()
        cost = self._total_cost_at(candidates, cost_fp, cost_fn)
        return float(candidates[int(np.argmin(cost))])

    def central_cost_threshold(self, cost_fp: float, cost_fn: float) -> float:
        """A threshold in [0, 1] in the middle of the widest run of lowest-cost thresholds.

        On a cleanly separated split every threshold between the highest negative score and the
        lowest positive one costs nothing, and when the positives' scores saturate at 1.0 the
        lowest tied *candidate* (``best_cost_threshold``) is 1.0: a threshold on the edge of the
        cases, which the next evaluation's slightly lower score would already miss. The middle of
        the range is the widest-margin choice. Only thresholds a slider can reach count: the
        candidates are clipped to [0, 1], where candidate ``c[i]`` stands for every threshold in
        ``(c[i-1], c[i]]`` (all give its decisions), so a run of tied candidates ``a..b`` is the
        interval ``(c[a-1], c[b]]`` (``[0, c[b]]`` when ``a`` is 0). Of several tied runs the
        widest wins, the lowest on a further tie.
        """
        candidates = np.unique(np.clip(self.candidate_thresholds(), 0.0, 1.0))
        cost = self._total_cost_at(candidates, cost_fp, cost_fn)
        tied = np.flatnonzero(cost == cost.min())
        breaks = np.diff(tied) > 1
        run_starts, run_ends = tied[np.r_[True, breaks]], tied[np.r_[breaks, True]]
        lower = candidates[np.maximum(run_starts - 1, 0)]
        upper = candidates[run_ends]
        widest = int(np.argmax(upper - lower))
        return float((lower[widest] + upper[widest]) / 2.0)

    def _total_cost_at(self, thresholds: np.ndarray, cost_fp: float, cost_fn: float) -> np.ndarray:
        """(T,) float64 ``cost_fp * fp + cost_fn * fn`` (not per case: ties stay exact)."""
        _, fp, fn, _ = self._counts_at(thresholds)
        return cost_fp * fp.astype(np.float64) + cost_fn * fn.astype(np.float64)
