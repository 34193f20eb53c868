"""Simple models to beat before believing a network: scikit-learn's logistic regression, a random
forest and histogram gradient boosting, fitted on exactly the split a run trains on.

``fit_baselines`` is meant to run off the window's process (the headless CLI calls it directly;
the window in a worker process); it builds the run's own data (``engine.data.prepare_data``) so
the rows, the standardisation and the validation fold are the network's.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from trainscope.engine.config import RunConfig

BASELINE_NAMES = ("logistic regression", "random forest", "gradient boosting")


def _models(seed: int) -> dict[str, object]:
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    return {
        "logistic regression": LogisticRegression(max_iter=2000),
        "random forest": RandomForestClassifier(n_estimators=200, random_state=seed, n_jobs=1),
        "gradient boosting": HistGradientBoostingClassifier(random_state=seed),
    }


def fit_baselines(config: RunConfig) -> list[dict]:
    """Each baseline's validation accuracy and log loss on ``config``'s split, and its fit time."""
    from sklearn.metrics import log_loss

    from trainscope.engine.data import prepare_data

    data = prepare_data(config.dataset, config.seed)
    rows = []
    for name, model in _models(config.seed).items():
        started = time.perf_counter()
        model.fit(data.train_x, data.train_y)  # type: ignore[attr-defined]
        fit_seconds = time.perf_counter() - started
        probabilities = model.predict_proba(data.validation_x)  # type: ignore[attr-defined]
        full = np.zeros((len(data.validation_y), data.n_classes))
        full[:, model.classes_] = probabilities  # type: ignore[attr-defined]
        full /= full.sum(axis=1, keepdims=True)  # float32 inputs: rows can miss 1 by an ulp
        rows.append(
            {
                "name": name,
                "val_accuracy": float(np.mean(full.argmax(1) == data.validation_y)),
                "val_loss": float(log_loss(data.validation_y, full, labels=range(data.n_classes))),
                "fit_seconds": round(fit_seconds, 4),
            }
        )
    return rows


def baselines_over(configs: list[RunConfig]) -> list[dict]:
    """Baselines fitted on each config's split (k-fold: every fold), averaged per model."""
    per_split = [fit_baselines(config) for config in configs]
    averaged = []
    for position, name in enumerate(BASELINE_NAMES):
        fits = [rows[position] for rows in per_split]
        averaged.append(
            {
                "name": name,
                "val_accuracy": float(np.mean([fit["val_accuracy"] for fit in fits])),
                "val_accuracy_std": float(np.std([fit["val_accuracy"] for fit in fits], ddof=1))
                if len(fits) > 1
                else None,
                "val_loss": float(np.mean([fit["val_loss"] for fit in fits])),
                "fit_seconds": round(sum(fit["fit_seconds"] for fit in fits), 4),
                "splits": len(fits),
            }
        )
    return averaged
