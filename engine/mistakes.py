"""Which validation samples the model gets wrong, most confident first (numpy only, no torch).

The mistakes gallery shows the errors a student learns most from: the ones the model was sure
about. The prediction rule is the one the confusion matrix uses, so the gallery's count of
mistakes is the matrix's off-diagonal sum: the most probable class, or for two classes
"P(class 1) >= threshold" at the threshold the student set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Predictions:
    """What the model predicts for each sample and how sure it is of that prediction."""

    predicted: np.ndarray  # (N,) int64
    confidence: np.ndarray  # (N,) float64, the probability of the predicted class


def predictions(probabilities: np.ndarray, threshold: float | None = None) -> Predictions:
    """Predicted class and its probability for (N, K) ``probabilities``.

    ``threshold`` applies to two-class data only (None: the most probable class).
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if probabilities.ndim != 2 or probabilities.shape[1] < 2:
        raise ValueError(f"probabilities must be (N, K) with K >= 2 (got {probabilities.shape})")
    if threshold is not None and probabilities.shape[1] == 2:
        predicted = (probabilities[:, 1] >= threshold).astype(np.int64)
    else:
        predicted = probabilities.argmax(axis=1).astype(np.int64)
    confidence = probabilities[np.arange(len(predicted)), predicted]
    return Predictions(predicted=predicted, confidence=confidence)


def worst_mistakes(
    probabilities: np.ndarray, labels: np.ndarray, threshold: float | None = None
) -> np.ndarray:
    """Indices of every misclassified sample, highest confidence first (ties: lower index first)."""
    labels = np.asarray(labels)
    if len(labels) != len(probabilities):
        raise ValueError(
            f"{len(probabilities)} probability rows but {len(labels)} labels: they must match"
        )
    result = predictions(probabilities, threshold)
    wrong = np.flatnonzero(result.predicted != labels)
    order = np.argsort(-result.confidence[wrong], kind="stable")
    return wrong[order]
