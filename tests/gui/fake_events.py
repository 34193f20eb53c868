"""Synthetic, internally consistent event streams for GUI tests and the panel render script.

Evaluations are built from real (N, K) probability arrays with ``engine.metrics``, exactly as
the trainer packages them, so a panel that recomputes something from the probabilities must
agree with what the event carries. No torch: the GUI side never needs it.
"""

from __future__ import annotations

import math

import numpy as np

from engine import metrics
from engine.events import (
    Diverged,
    Evaluation,
    Event,
    ParamChanged,
    Rewound,
    RunStarted,
    StateChanged,
    StepMetrics,
)

DIGIT_NAMES = tuple(str(digit) for digit in range(10))
BINARY_NAMES = ("benign", "malignant")
SETTINGS = {"lr": 1e-3, "optimizer": "adam", "dropout": 0.0, "weight_decay": 0.0, "batch_size": 32}


def run_started(n_classes: int = 10, settings: dict | None = None) -> RunStarted:
    """The first event of a run on a 10-class (digits-like) or binary (screening-like) task."""
    names = (
        DIGIT_NAMES
        if n_classes == 10
        else BINARY_NAMES
        if n_classes == 2
        else tuple(f"class {index}" for index in range(n_classes))
    )
    return RunStarted(
        dataset="digits" if n_classes == 10 else "breast_cancer" if n_classes == 2 else "blobs",
        class_names=names,
        feature_names=tuple(f"x{index}" for index in range(8)),
        n_train=1200,
        n_validation=300,
        n_test=300,
        model_description="MLP 8-128-128-K",
        parameter_count=18_000,
        device="cpu",
        settings=dict(settings or SETTINGS),
        seed=42,
        max_steps=None,
        steps_per_epoch=38,
        chance_loss=math.log(n_classes),
    )


def step_metrics(steps: np.ndarray, loss: np.ndarray, lr: float = 1e-3) -> StepMetrics:
    """One published batch of steps with the given per-step losses."""
    steps = np.asarray(steps, dtype=np.int64)
    loss = np.asarray(loss, dtype=np.float64)
    accuracy = np.clip(1.0 - loss / 2.5, 0.0, 1.0)
    return StepMetrics(
        steps=steps,
        loss=loss,
        batch_accuracy=np.nan_to_num(accuracy, nan=0.0),
        grad_norm=np.nan_to_num(1.0 + loss, nan=np.inf),
        lr=np.full(steps.shape, lr),
        epoch=float(steps[-1]) / 38.0 if len(steps) else 0.0,
        steps_per_second=500.0,
    )


def synthetic_labels(
    n_classes: int, n: int = 300, positive_rate: float = 0.3, seed: int = 0
) -> np.ndarray:
    """Evaluation labels: uniform over K classes, or binary with the given positive rate."""
    rng = np.random.default_rng(seed)
    if n_classes == 2:
        return (rng.random(n) < positive_rate).astype(np.int64)
    return rng.integers(0, n_classes, n).astype(np.int64)


def synthetic_probabilities(
    labels: np.ndarray, n_classes: int, skill: float, sharpness: float = 1.0, seed: int = 0
) -> np.ndarray:
    """(N, K) float32 rows summing to 1: ``skill`` 0 knows nothing, ~4 separates well.

    ``sharpness`` > 1 makes the model overconfident (its reliability curve sags below the diagonal).
    """
    rng = np.random.default_rng(seed)
    logits = rng.normal(0.0, 1.0, (labels.size, n_classes))
    logits[np.arange(labels.size), labels] += skill
    return metrics.softmax(logits * sharpness).astype(np.float32)


def evaluation(
    step: int,
    probabilities: np.ndarray,
    labels: np.ndarray,
    split: str = "validation",
    train_loss: float | None = None,
    train_accuracy: float | None = None,
) -> Evaluation:
    """An Evaluation whose every field is computed from ``probabilities`` and ``labels``."""
    n_classes = probabilities.shape[1]
    predictions = probabilities.argmax(axis=1)
    confusion = metrics.confusion_matrix(labels, predictions, n_classes)
    precision, recall, f1 = metrics.precision_recall_f1(confusion)
    accuracy = float(np.mean(predictions == labels))
    loss = metrics.log_loss(probabilities, labels)
    base = metrics.baselines(labels, labels, n_classes)
    roc_auc = float(metrics.roc_auc(probabilities[:, 1], labels)) if n_classes == 2 else None
    return Evaluation(
        step=step,
        epoch=step / 38.0,
        split=split,
        loss=loss,
        accuracy=accuracy,
        confusion=confusion,
        precision=precision,
        recall=recall,
        f1=f1,
        calibration=metrics.calibration_from_probabilities(probabilities, labels),
        roc_auc=roc_auc,
        probabilities=probabilities.astype(np.float32),
        labels=labels,
        train_loss=loss * 0.8 if train_loss is None else train_loss,
        train_accuracy=min(1.0, accuracy + 0.03) if train_accuracy is None else train_accuracy,
        zero_rule_accuracy=base.zero_rule_accuracy,
        random_accuracy=base.random_accuracy,
        duration_ms=0.5,
    )


def loss_curve(steps: np.ndarray, chance: float, seed: int = 0) -> np.ndarray:
    """A falling, noisy per-batch training loss that starts at chance level."""
    rng = np.random.default_rng(seed)
    clean = 0.05 + (chance - 0.05) * np.exp(-steps / 400.0)
    return np.abs(clean * (1.0 + 0.25 * rng.standard_normal(steps.size)))


def training_stream(
    n_classes: int = 10,
    total_steps: int = 2000,
    eval_every: int = 100,
    publish_every: int = 25,
    lr_change_at: int | None = 800,
    seed: int = 0,
) -> list[Event]:
    """A healthy run: RunStarted, batches of StepMetrics, an Evaluation every ``eval_every`` steps.

    The model gets better and more overconfident as it trains; ``lr_change_at`` adds a
    ParamChanged (lr 0.001 -> 0.0003) so the charts carry a marker.
    """
    started = run_started(n_classes)
    events: list[Event] = [started, StateChanged(step=0, state="running")]
    labels = synthetic_labels(n_classes, seed=seed)
    steps = np.arange(1, total_steps + 1)
    losses = loss_curve(steps, started.chance_loss, seed)
    lr = 1e-3
    skill_scale = 0.45 if n_classes == 2 else 1.0  # keep the binary task imperfect (AUC < 1)
    events.append(evaluation(0, synthetic_probabilities(labels, n_classes, 0.0, seed=seed), labels))
    for start in range(0, total_steps, publish_every):
        block = slice(start, min(start + publish_every, total_steps))
        events.append(step_metrics(steps[block], losses[block], lr))
        last = int(steps[block][-1])
        if lr_change_at is not None and start < lr_change_at <= last + 1:
            events.append(ParamChanged(step=last + 1, key="lr", old=lr, new=3e-4))
            lr = 3e-4
        if last % eval_every == 0:
            progress = last / total_steps
            skill = skill_scale * (0.5 + 4.0 * (1.0 - math.exp(-3.0 * progress)))
            probabilities = synthetic_probabilities(
                labels, n_classes, skill, sharpness=1.0 + progress, seed=seed + last
            )
            events.append(evaluation(last, probabilities, labels))
    return events


def diverging_stream(
    n_classes: int = 10, good_steps: int = 300, bad_steps: int = 50
) -> list[Event]:
    """A run whose loss explodes to inf and then NaN, followed by Diverged and a pause."""
    events = training_stream(n_classes, total_steps=good_steps, lr_change_at=None)
    steps = np.arange(good_steps + 1, good_steps + bad_steps + 1)
    loss = np.geomspace(2.0, 1e30, bad_steps)
    loss[bad_steps // 2 :] = np.inf
    loss[-5:] = np.nan
    events.append(step_metrics(steps, loss, lr=0.1))
    first_bad = int(steps[bad_steps // 2])
    events.append(
        Diverged(step=first_bad, loss=math.inf, message=f"the loss became inf at step {first_bad}")
    )
    events.append(StateChanged(step=int(steps[-1]), state="paused"))
    return events


def rewound(from_step: int, to_step: int) -> Rewound:
    return Rewound(from_step=from_step, to_step=to_step)
