"""The gallery's list: exactly the misclassified samples, the most confident first."""

from __future__ import annotations

import numpy as np
import pytest

from trainscope.engine.metrics import confusion_matrix, softmax
from trainscope.engine.mistakes import predictions, worst_mistakes


def _probabilities(n: int, n_classes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_classes, n)
    logits = rng.normal(0.0, 1.5, (n, n_classes))
    logits[np.arange(n), labels] += 1.0
    return softmax(logits), labels


@pytest.mark.parametrize("n_classes", [2, 3, 10])
def test_worst_mistakes_are_the_misclassified_samples_by_falling_confidence(n_classes: int) -> None:
    probabilities, labels = _probabilities(500, n_classes)
    indices = worst_mistakes(probabilities, labels)
    predicted = probabilities.argmax(axis=1)
    assert sorted(indices.tolist()) == np.flatnonzero(predicted != labels).tolist()
    confidence = probabilities.max(axis=1)[indices]
    assert np.all(np.diff(confidence) <= 0)
    expected = sorted(
        np.flatnonzero(predicted != labels), key=lambda i: (-probabilities[i].max(), i)
    )
    assert indices.tolist() == expected


def test_two_classes_follow_the_threshold_like_the_confusion_matrix() -> None:
    probabilities, labels = _probabilities(400, 2, seed=3)
    for threshold in (0.2, 0.5, 0.8):
        indices = worst_mistakes(probabilities, labels, threshold)
        predicted = (probabilities[:, 1] >= threshold).astype(int)
        confusion = confusion_matrix(labels, predicted, 2)
        assert len(indices) == confusion.sum() - np.trace(confusion)
        assert np.all(predicted[indices] != labels[indices])
        result = predictions(probabilities, threshold)
        chosen = probabilities[indices, predicted[indices]]
        np.testing.assert_allclose(result.confidence[indices], chosen)
        assert np.all(np.diff(chosen) <= 0)


def test_ties_keep_the_sample_order_and_a_perfect_model_has_no_mistakes() -> None:
    probabilities = np.array([[0.2, 0.8], [0.2, 0.8], [0.9, 0.1], [0.2, 0.8]])
    assert worst_mistakes(probabilities, np.array([0, 0, 1, 0])).tolist() == [2, 0, 1, 3]
    assert worst_mistakes(probabilities, np.array([1, 1, 0, 1])).size == 0


def test_mismatched_lengths_are_refused_in_words() -> None:
    with pytest.raises(ValueError, match="must match"):
        worst_mistakes(np.full((3, 2), 0.5), np.zeros(4, dtype=int))
