"""Synthetic, internally consistent engine events for every test (and the panel scripts).

Evaluations are built from real (N, K) probability arrays with ``engine.metrics``, exactly as
the trainer packages them, so a consumer that recomputes something from the probabilities
agrees with what the event carries. No torch: neither the GUI nor the diagnosis needs it.

Two presets share the builders. The plain ones (``run_started``, ``step_metrics``,
``evaluation``, the streams) describe a digits-like or screening-like run as the window shows
it. The ``small_`` ones describe a tiny synthetic task ("class 0", "class 1", 50 training rows
each, 10 steps an epoch) with fixed training scores, for the torch-free consumers' tests
(diagnosis, expectations, history), whose numbers are written against those values.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from trainscope.engine import metrics
from trainscope.engine.events import (
    DataView,
    DecisionBoundary,
    Diverged,
    Evaluation,
    Event,
    LayerHealth,
    ParamChanged,
    Resources,
    Rewound,
    RunStarted,
    StateChanged,
    StepMetrics,
    ValidationInputs,
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
    """An Evaluation whose every field is computed from ``probabilities`` and ``labels``.

    The training scores default to a little better than the split's (loss x 0.8, accuracy +3
    points); the baselines come from ``metrics.baselines``, ROC AUC from the binary scores.
    """
    n_classes = probabilities.shape[1]
    base = metrics.baselines(labels, labels, n_classes)
    roc_auc = float(metrics.roc_auc(probabilities[:, 1], labels)) if n_classes == 2 else None
    scored = _scored(
        step,
        probabilities,
        labels,
        split=split,
        epoch=step / 38.0,
        zero_rule_accuracy=base.zero_rule_accuracy,
        random_accuracy=base.random_accuracy,
        roc_auc=roc_auc,
        duration_ms=0.5,
    )
    return replace(
        scored,
        train_loss=scored.loss * 0.8 if train_loss is None else train_loss,
        train_accuracy=(
            min(1.0, scored.accuracy + 0.03) if train_accuracy is None else train_accuracy
        ),
    )


def _scored(
    step: int,
    probabilities: np.ndarray,
    labels: np.ndarray,
    *,
    split: str,
    epoch: float,
    zero_rule_accuracy: float,
    random_accuracy: float,
    roc_auc: float | None,
    duration_ms: float,
    loss: float | None = None,
    train_loss: float = math.nan,
    train_accuracy: float = math.nan,
    slice_accuracy: dict[str, float] | None = None,
) -> Evaluation:
    """The one place an Evaluation's scores are computed from its rows (both presets use it)."""
    n_classes = probabilities.shape[1]
    predictions = probabilities.argmax(axis=1)
    confusion = metrics.confusion_matrix(labels, predictions, n_classes)
    precision, recall, f1 = metrics.precision_recall_f1(confusion)
    return Evaluation(
        step=step,
        epoch=epoch,
        split=split,
        loss=metrics.log_loss(probabilities, labels) if loss is None else loss,
        accuracy=float(np.mean(predictions == labels)),
        confusion=confusion,
        precision=precision,
        recall=recall,
        f1=f1,
        calibration=metrics.calibration_from_probabilities(probabilities, labels),
        roc_auc=roc_auc,
        probabilities=probabilities.astype(np.float32),
        labels=labels,
        train_loss=train_loss,
        train_accuracy=train_accuracy,
        zero_rule_accuracy=zero_rule_accuracy,
        random_accuracy=random_accuracy,
        duration_ms=duration_ms,
        slice_accuracy=slice_accuracy,
    )


def weak_class_evaluation(
    step: int,
    weak_class: int,
    n_classes: int = 3,
    n_per_class: int = 100,
    seed: int = 0,
    split: str = "validation",
) -> Evaluation:
    """A validation evaluation where ``weak_class`` has clearly the lowest recall.

    Every class gets ``n_per_class`` cases; the model is sure of the others and barely better
    than guessing on the weak one, so which class is lowest is decided by construction.
    """
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(n_classes), n_per_class).astype(np.int64)
    logits = rng.normal(0.0, 1.0, (labels.size, n_classes))
    skill = np.where(labels == weak_class, 0.3, 3.0)
    logits[np.arange(labels.size), labels] += skill
    return evaluation(step, metrics.softmax(logits).astype(np.float32), labels, split)


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


# ----- insights (issue #8) -----------------------------------------------------------------------
def moons_view(
    n_train: int = 200, n_validation: int = 60, noise: float = 0.12, seed: int = 0
) -> DataView:
    """Two interleaved half-moons in their own units, as the worker's ``DataView`` for moons."""
    rng = np.random.default_rng(seed)

    def points(n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.integers(0, 2, n)
        angle = rng.uniform(0.0, math.pi, n)
        x = np.where(labels == 0, np.cos(angle), 1.0 - np.cos(angle))
        y = np.where(labels == 0, np.sin(angle), 0.5 - np.sin(angle))
        xy = np.column_stack((x, y)) + rng.normal(0.0, noise, (n, 2))
        return xy.astype(np.float32), labels.astype(np.int64)

    train_xy, train_y = points(n_train)
    validation_xy, validation_y = points(n_validation)
    every = np.concatenate((train_xy, validation_xy))
    low, high = every.min(axis=0), every.max(axis=0)
    margin = 0.1 * (high - low)
    low, high = low - margin, high + margin
    return DataView(
        x_label="x1",
        y_label="x2",
        note="",
        x_range=(float(low[0]), float(high[0])),
        y_range=(float(low[1]), float(high[1])),
        train_xy=train_xy,
        train_y=train_y,
        validation_xy=validation_xy,
        validation_y=validation_y,
    )


def blobs_view(n_classes: int = 3, n_per_class: int = 60, seed: int = 0) -> DataView:
    """Round clusters on a plane with a PCA-style note, for multi-class drawing."""
    rng = np.random.default_rng(seed)
    centers = 3.0 * np.column_stack(
        (
            np.cos(np.arange(n_classes) * 2 * math.pi / n_classes),
            np.sin(np.arange(n_classes) * 2 * math.pi / n_classes),
        )
    )
    labels = np.repeat(np.arange(n_classes), n_per_class)
    xy = (centers[labels] + rng.normal(0.0, 1.0, (labels.size, 2))).astype(np.float32)
    split = labels.size * 3 // 4
    order = rng.permutation(labels.size)
    train, validation = order[:split], order[split:]
    low, high = xy.min(axis=0) - 0.5, xy.max(axis=0) + 0.5
    return DataView(
        x_label="PC 1",
        y_label="PC 2",
        note="first two principal components of 8 features (71% of the variance); every other "
        "direction held at the training mean",
        x_range=(float(low[0]), float(high[0])),
        y_range=(float(low[1]), float(high[1])),
        train_xy=xy[train],
        train_y=labels[train].astype(np.int64),
        validation_xy=xy[validation],
        validation_y=labels[validation].astype(np.int64),
    )


def grid_probabilities(view: DataView, size: int = 100, width: float = 0.25) -> np.ndarray:
    """(size, size, K) class probabilities over the view's grid: a soft vote of the training
    points (a Gaussian kernel), which bends around the data as a trained model would."""
    xs = np.linspace(*view.x_range, size)
    ys = np.linspace(*view.y_range, size)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    distances = ((grid[:, None, :] - view.train_xy[None, :, :]) ** 2).sum(axis=-1)
    weights = np.exp(-distances / (2 * width**2))
    n_classes = int(view.train_y.max()) + 1
    votes = np.stack([weights[:, view.train_y == k].sum(axis=1) for k in range(n_classes)], 1)
    votes += 1e-9
    return (votes / votes.sum(axis=1, keepdims=True)).reshape(size, size, n_classes)


def decision_boundary(view: DataView, step: int = 500, size: int = 100) -> DecisionBoundary:
    """The boundary a model with that soft vote would draw over ``view``'s ranges."""
    probabilities = grid_probabilities(view, size)
    binary = probabilities.shape[-1] == 2
    return DecisionBoundary(
        step=step,
        predicted_class=probabilities.argmax(axis=-1).astype(np.int16),
        confidence=probabilities.max(axis=-1).astype(np.float32),
        positive_probability=probabilities[..., 1].astype(np.float32) if binary else None,
        duration_ms=1.0,
    )


def layer_health(step: int = 500, seed: int = 0) -> LayerHealth:
    """Three dense layers: the first healthy, the second with many dead units, the output slow."""
    rng = np.random.default_rng(seed)
    bins = 30
    edges, counts = [], []
    for layer in range(3):
        values = rng.normal(0.0, 1.0 + layer, 5000)
        if layer < 2:
            values = np.maximum(values, 0.0)
        count, edge = np.histogram(values, bins=bins)
        edges.append(edge)
        counts.append(count)
    return LayerHealth(
        step=step,
        layer_names=("dense 1 (64→128)", "dense 2 (128→128)", "output (128→10)"),
        grad_norm=np.array([0.031, 0.052, 0.21]),
        weight_norm=np.array([9.2, 11.5, 3.1]),
        update_ratio=np.array([1.2e-3, 4.0e-4, 3.0e-5]),
        dead_fraction=np.array([0.04, 0.62, np.nan]),
        activation_edges=np.array(edges, dtype=np.float64),
        activation_counts=np.array(counts, dtype=np.int64),
        duration_ms=2.0,
    )


def digit_inputs(labels: np.ndarray, seed: int = 0) -> ValidationInputs:
    """8 x 8 "digits" in 0..16 (a bright bar whose position is the label), one row per label."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 4, (labels.size, 8, 8)).astype(np.float32)
    for row, label in enumerate(labels.tolist()):
        images[row, :, label % 8] = 16.0
    return ValidationInputs(
        features=images.reshape(labels.size, 64),
        feature_names=tuple(f"pixel {index}" for index in range(64)),
        image_shape=(8, 8),
    )


def tabular_inputs(n_rows: int, n_features: int = 4, seed: int = 0) -> ValidationInputs:
    rng = np.random.default_rng(seed)
    return ValidationInputs(
        features=rng.normal(0.0, 1.0, (n_rows, n_features)).astype(np.float32),
        feature_names=tuple(f"feature {index}" for index in range(n_features)),
        image_shape=None,
    )


def resources(step: int = 500, gpu_memory_mib: float | None = None) -> Resources:
    return Resources(step=step, cpu_percent=98.4, rss_mib=412.3, gpu_memory_mib=gpu_memory_mib)


# ----- the small synthetic task (diagnosis, expectations, history) -------------------------------
def small_run_started(
    n_classes: int = 2, lr: float = 1e-3, class_counts: tuple[int, ...] | None = None
) -> RunStarted:
    """A run's start; its training rows are balanced (50 per class) unless ``class_counts``."""
    return RunStarted(
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


def small_step_metrics(first: int, losses: list[float], grad_norm: float = 1.0) -> StepMetrics:
    """Consecutive steps from ``first`` with these losses and one gradient norm for all."""
    count = len(losses)
    steps = np.arange(first, first + count, dtype=np.int64)
    return StepMetrics(
        steps=steps,
        loss=np.asarray(losses, dtype=np.float64),
        batch_accuracy=np.zeros(count),
        grad_norm=np.full(count, grad_norm),
        lr=np.full(count, 1e-3),
        epoch=(first + count) / 10,
        steps_per_second=100.0,
    )


def small_evaluation(
    step: int,
    probabilities: np.ndarray,
    labels: np.ndarray,
    train_loss: float = 0.5,
    train_accuracy: float = 0.8,
    split: str = "validation",
    loss: float | None = None,
    slice_accuracy: dict[str, float] | None = None,
) -> Evaluation:
    """An evaluation scored from float64 ``probabilities``, with fixed training scores.

    The zero rule is the majority share of ``labels``; ``loss`` overrides the computed loss.
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    majority = np.bincount(labels, minlength=probabilities.shape[1]).max() / len(labels)
    return _scored(
        step,
        probabilities,
        labels,
        split=split,
        epoch=step / 10,
        zero_rule_accuracy=float(majority),
        random_accuracy=0.5,
        roc_auc=None,
        duration_ms=1.0,
        loss=loss,
        train_loss=train_loss,
        train_accuracy=train_accuracy,
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
