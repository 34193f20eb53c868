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


#: Student's t 97.5% quantile for 1..30 degrees of freedom (scipy.stats.t.ppf, to 6 places).
_T_975 = (
    12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912,
    2.364624, 2.306004, 2.262157, 2.228139, 2.200985, 2.178813,
    2.160369, 2.144787, 2.131450, 2.119905, 2.109816, 2.100922,
    2.093024, 2.085963, 2.079614, 2.073873, 2.068658, 2.063899,
    2.059539, 2.055529, 2.051831, 2.048407, 2.045230, 2.042272,
)  # fmt: skip


def _t_975(degrees_of_freedom: int) -> float:
    """Student's t 97.5% quantile: the table, then the Cornish-Fisher expansion around the
    normal's (off by under 1e-6 past 30). Not SciPy: importing scipy.stats takes ~1.4 s, and
    the window's summary row needs this on its first redraw."""
    if degrees_of_freedom <= len(_T_975):
        return _T_975[degrees_of_freedom - 1]
    z, v = 1.959963984540054, float(degrees_of_freedom)
    return (
        z
        + (z**3 + z) / (4 * v)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * v**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * v**3)
    )
