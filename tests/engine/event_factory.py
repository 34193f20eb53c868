"""Small synthetic events for tests of the torch-free consumers (diagnosis, history, checks)."""

from __future__ import annotations

import math

import numpy as np

from trainscope.engine import events as ev
from trainscope.engine.metrics import (
    calibration_from_probabilities,
    confusion_matrix,
    log_loss,
    precision_recall_f1,
)


def run_started(
    n_classes: int = 2, lr: float = 1e-3, class_counts: tuple[int, ...] | None = None
) -> ev.RunStarted:
    """A run's start; its training rows are balanced (50 per class) unless ``class_counts``."""
    return ev.RunStarted(
        dataset="synthetic",
        class_names=tuple(f"class {k}" for k in range(n_classes)),
        feature_names=("x1", "x2"),
        n_train=100,
        n_validation=100,
        n_test=100,
        model_description="test",
        parameter_count=10,
        device="cpu",
        settings={"lr": lr},
        seed=0,
        max_steps=None,
        steps_per_epoch=10,
        chance_loss=math.log(n_classes),
        train_class_counts=(50,) * n_classes if class_counts is None else class_counts,
    )


def step_metrics(first: int, losses: list[float], grad_norm: float = 1.0) -> ev.StepMetrics:
    count = len(losses)
    steps = np.arange(first, first + count, dtype=np.int64)
    return ev.StepMetrics(
        steps=steps,
        loss=np.asarray(losses, dtype=np.float64),
        batch_accuracy=np.zeros(count),
        grad_norm=np.full(count, grad_norm),
        lr=np.full(count, 1e-3),
        epoch=(first + count) / 10,
        steps_per_second=100.0,
    )


def evaluation(
    step: int,
    probabilities: np.ndarray,
    labels: np.ndarray,
    train_loss: float = 0.5,
    train_accuracy: float = 0.8,
    split: str = "validation",
    loss: float | None = None,
    slice_accuracy: dict[str, float] | None = None,
) -> ev.Evaluation:
    """An evaluation whose metrics really are computed from ``probabilities`` and ``labels``."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    n_classes = probabilities.shape[1]
    predictions = probabilities.argmax(1)
    confusion = confusion_matrix(labels, predictions, n_classes)
    precision, recall, f1 = precision_recall_f1(confusion)
    majority = np.bincount(labels, minlength=n_classes).max() / len(labels)
    return ev.Evaluation(
        step=step,
        epoch=step / 10,
        split=split,
        loss=log_loss(probabilities, labels) if loss is None else loss,
        accuracy=float(np.mean(predictions == labels)),
        confusion=confusion,
        precision=precision,
        recall=recall,
        f1=f1,
        calibration=calibration_from_probabilities(probabilities, labels),
        roc_auc=None,
        probabilities=probabilities.astype(np.float32),
        labels=labels,
        train_loss=train_loss,
        train_accuracy=train_accuracy,
        zero_rule_accuracy=float(majority),
        random_accuracy=0.5,
        duration_ms=1.0,
        slice_accuracy=slice_accuracy,
    )


def confident(
    labels: np.ndarray, right: float, confidence: float, n_classes: int = 2
) -> np.ndarray:
    """Probabilities that put ``confidence`` on the true class for a ``right`` share of rows.

    The other rows put the same confidence on the next class: a model exactly as sure when it
    is wrong as when it is right.
    """
    labels = np.asarray(labels)
    n_right = round(right * len(labels))
    chosen = labels.copy()
    chosen[n_right:] = (labels[n_right:] + 1) % n_classes
    rest = (1 - confidence) / (n_classes - 1)
    probabilities = np.full((len(labels), n_classes), rest)
    probabilities[np.arange(len(labels)), chosen] = confidence
    return probabilities
