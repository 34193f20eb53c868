"""What an experiment's runs add up to: mean ± std and a 95% interval per metric, the best run,
and the soft vote of the runs that scored the same validation rows.

The interval is Student's t over the runs (a handful of folds or seeds, so not the normal's
1.96): ``mean ± t(0.975, n - 1) · std / √n``. Torch-free: the window's table shows these too.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from trainscope.engine import metrics

if TYPE_CHECKING:
    from trainscope.engine.experiment_plan import ExperimentPlan
    from trainscope.engine.experiment_runner import RunProgress

#: The metrics summarised over runs, as (name in the JSON, how a run's summary gives it).
SUMMARISED = ("val_accuracy", "val_loss", "best_val_accuracy", "best_val_loss")


def run_metrics(progress: RunProgress) -> dict[str, float | None]:
    """One run's final and best validation figures (None before its first evaluation)."""
    fold = progress.summary.fold
    last, best = progress.summary.last_validation, fold.best
    return {
        "val_accuracy": _number(last.accuracy) if last else None,
        "val_loss": _number(last.loss) if last else None,
        "best_val_accuracy": _number(best.accuracy) if best else None,
        "best_val_loss": _number(best.loss) if best else None,
    }


def mean_and_spread(values: list[float]) -> dict[str, Any]:
    """mean, sample std (n - 1), and the 95% t interval of the mean; n counts the values."""
    finite = [value for value in values if value is not None and math.isfinite(value)]
    n = len(finite)
    if n == 0:
        return {"mean": None, "std": None, "ci95": None, "n": 0}
    mean = float(np.mean(finite))
    if n == 1:
        return {"mean": mean, "std": None, "ci95": None, "n": 1}
    std = float(np.std(finite, ddof=1))
    half = _t_975(n - 1) * std / math.sqrt(n)
    return {"mean": mean, "std": std, "ci95": [mean - half, mean + half], "n": n}


def summarise(runs: list[RunProgress]) -> dict[str, dict]:
    """Each metric of ``SUMMARISED`` over the runs that evaluated (a failed run's last
    evaluation still counts: it is what that run reached)."""
    per_run = [run_metrics(run) for run in runs]
    return {
        name: mean_and_spread([value for row in per_run if (value := row[name]) is not None])
        for name in SUMMARISED
    }


def best_run(runs: list[RunProgress]) -> RunProgress | None:
    """The run with the highest final validation accuracy (ties: the lower loss)."""
    scored = [run for run in runs if run_metrics(run)["val_accuracy"] is not None]
    if not scored:
        return None

    def key(run: RunProgress) -> tuple[float, float]:
        numbers = run_metrics(run)
        loss = numbers["val_loss"]
        return (numbers["val_accuracy"] or 0.0, -(loss if loss is not None else math.inf))

    return max(scored, key=key)


def soft_vote(plan: ExperimentPlan, runs: list[RunProgress]) -> dict | None:
    """The ensemble of the runs' last validation probabilities, averaged, against the members.

    Only where every run scored the same rows (``plan.shares_validation_rows``); k-fold runs
    validate on different rows and a learning curve's are different models of one question.
    """
    evaluations = [
        run.summary.last_validation for run in runs if run.summary.last_validation is not None
    ]
    if not plan.shares_validation_rows or len(evaluations) < 2:
        return None
    labels = evaluations[0].labels
    if any(not np.array_equal(e.labels, labels) for e in evaluations):
        return None  # not the same rows after all: a vote would be meaningless
    members = [_scores(e.probabilities, labels) for e in evaluations]
    pooled = _scores(np.mean([e.probabilities for e in evaluations], axis=0), labels)
    return {
        "members": len(evaluations),
        **pooled,
        "members_mean": {key: float(np.mean([m[key] for m in members])) for key in pooled},
        "members_best": {
            "accuracy": max(m["accuracy"] for m in members),
            "log_loss": min(m["log_loss"] for m in members),
            "ece": min(m["ece"] for m in members),
        },
    }


def _scores(probabilities: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    probabilities = np.asarray(probabilities, dtype=np.float64)
    return {
        "accuracy": float(np.mean(probabilities.argmax(1) == labels)),
        "log_loss": float(metrics.log_loss(probabilities, labels)),
        "ece": float(metrics.calibration_from_probabilities(probabilities, labels).ece),
    }


def _number(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _t_975(degrees_of_freedom: int) -> float:
    """Student's t 97.5% quantile (SciPy comes with scikit-learn; imported only here)."""
    from scipy.stats import t

    return float(t.ppf(0.975, degrees_of_freedom))
