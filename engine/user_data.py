"""A student's own data, as ``trainscope.show`` receives it, turned into a ``PreparedData``.

Each split may be an ``(X, y)`` pair of numpy arrays or torch tensors, a torch ``Dataset`` of
``(x, y)`` items, or a pandas ``DataFrame`` with a label column (pandas stays optional: a frame
is recognised by its methods, never by importing pandas). Inputs keep their own shape per row
(``input_shape``), because the student's model expects it; the engine keeps them flat, one row
per example, like every bundled set, and ``engine.user_model`` reshapes them back at the model.

Nothing is standardized: the student's model was written for their data as it is. Everything
the first step would otherwise trip over is refused here, before anything trains or is recorded,
in one sentence each: rows that do not match labels, inputs that are not numbers, NaN or
infinite values, labels that are not the whole numbers 0..K-1, splits of different shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from trainscope.engine.data import PreparedData
from trainscope.engine.errors import DataError
from trainscope.engine.splits import stratified_split

#: With no validation split given, this share of the training rows is held out (stratified).
HELD_OUT_SHARE = 0.15
MIN_ROWS = 4


@dataclass(frozen=True)
class UserData:
    """The prepared splits and the shape one example has for the student's model."""

    prepared: PreparedData
    input_shape: tuple[int, ...]


def prepare_user_data(
    train: Any,
    val: Any = None,
    test: Any = None,
    label_column: str | None = None,
    class_names: tuple[str, ...] | None = None,
    seed: int = 0,
) -> UserData:
    """Check and arrange ``train`` (and ``val``, ``test``); hold out validation if none is given."""
    train_x, train_y = split_arrays(train, "training", label_column)
    input_shape = train_x.shape[1:]
    n_classes = int(train_y.max()) + 1
    missing = np.setdiff1d(np.arange(n_classes), train_y)
    if len(missing):
        raise DataError(
            f"the training labels go up to {n_classes - 1} but never show class "
            f"{int(missing[0])}; number the classes 0..K-1 with every class present"
        )
    if val is None:  # hold out a stratified share of the training rows
        kept, held_out = stratified_split(np.arange(len(train_y)), train_y, HELD_OUT_SHARE, seed)
        val_x, val_y = train_x[held_out], train_y[held_out]
        train_x, train_y = train_x[kept], train_y[kept]
    else:
        val_x, val_y = split_arrays(val, "validation", label_column)
    test_x, test_y = (
        split_arrays(test, "test", label_column)
        if test is not None
        else (np.empty((0, *input_shape), np.float32), np.empty(0, np.int64))
    )
    for name, x, y in (("validation", val_x, val_y), ("test", test_x, test_y)):
        if x.shape[1:] != input_shape:
            raise DataError(
                f"each {name} example has shape {x.shape[1:]} but each training example "
                f"{input_shape}; give every split the same kind of input"
            )
        if len(y) and int(y.max()) >= n_classes:
            raise DataError(
                f"the {name} labels include class {int(y.max())}, which the training labels "
                f"never show (they go up to {n_classes - 1})"
            )
    names = class_names or tuple(str(index) for index in range(n_classes))
    if len(names) != n_classes:
        raise DataError(f"{len(names)} class names were given for {n_classes} classes")
    features = int(np.prod(input_shape))
    flat = [rows.reshape(len(rows), features) for rows in (train_x, val_x, test_x)]
    prepared = PreparedData(
        train_x=flat[0],
        train_y=train_y,
        validation_x=flat[1],
        validation_y=val_y,
        test_x=flat[2],
        test_y=test_y,
        class_names=tuple(names),
        feature_names=_feature_names(label_column, train, features),
        name="your data",
        image_shape=_image_shape(input_shape),
        feature_mean=np.zeros(features, np.float32),
        feature_std=np.ones(features, np.float32),
    )
    return UserData(prepared, tuple(int(size) for size in input_shape))


def split_arrays(split: Any, name: str, label_column: str | None) -> tuple[np.ndarray, np.ndarray]:
    """One split as (inputs float32 (N, ...), labels int64 (N,)), checked."""
    if _is_frame(split):
        inputs, labels = _from_frame(split, name, label_column)
    elif isinstance(split, tuple | list) and len(split) == 2:
        inputs, labels = _as_numpy(split[0], name), _as_numpy(split[1], name)
    elif _is_dataset(split):
        inputs, labels = _from_dataset(split, name)
    else:  # an array alone included: its labels are missing
        raise DataError(
            f"the {name} data must be an (X, y) pair, a torch Dataset or a pandas DataFrame "
            f"(got {type(split).__name__})"
        )
    return _checked_inputs(inputs, name, len(labels)), _checked_labels(labels, name)


def _as_numpy(values: Any, name: str) -> np.ndarray:
    if hasattr(values, "detach"):  # a torch tensor, wherever it lives
        values = values.detach().cpu().numpy()
    try:
        return np.asarray(values)
    except (TypeError, ValueError) as error:
        raise DataError(f"the {name} data could not be read as an array: {error}") from None


def _from_dataset(dataset: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A map-style dataset's items stacked: every ``dataset[i]`` must be an ``(x, y)`` pair."""
    if len(dataset) == 0:
        raise DataError(f"the {name} dataset is empty")
    pairs = [dataset[index] for index in range(len(dataset))]
    if not all(isinstance(pair, tuple | list) and len(pair) == 2 for pair in pairs):
        raise DataError(f"each item of the {name} dataset must be an (input, label) pair")
    inputs = [_as_numpy(x, name) for x, _ in pairs]
    if len({x.shape for x in inputs}) > 1:
        raise DataError(f"the {name} dataset's inputs do not all have the same shape")
    return np.stack(inputs), np.asarray([_as_numpy(y, name).item() for _, y in pairs])


def _is_dataset(split: Any) -> bool:
    """A map-style dataset: indexable and sized, and not an array or tensor (no labels)."""
    is_array = isinstance(split, np.ndarray) or hasattr(split, "detach")
    return not is_array and hasattr(split, "__getitem__") and hasattr(split, "__len__")


def _is_frame(split: Any) -> bool:
    return hasattr(split, "columns") and hasattr(split, "drop") and hasattr(split, "to_numpy")


def _from_frame(frame: Any, name: str, label_column: str | None) -> tuple[np.ndarray, np.ndarray]:
    if label_column is None:
        raise DataError("a DataFrame needs label_column: the name of the column holding the labels")
    if label_column not in frame.columns:
        raise DataError(f"the {name} DataFrame has no column {label_column!r}")
    return frame.drop(columns=[label_column]).to_numpy(), frame[label_column].to_numpy()


def _checked_inputs(inputs: np.ndarray, name: str, n_labels: int) -> np.ndarray:
    if inputs.ndim < 2:
        raise DataError(
            f"the {name} inputs must have one row per example (got shape {inputs.shape})"
        )
    if len(inputs) != n_labels:
        raise DataError(f"the {name} inputs have {len(inputs)} rows but {n_labels} labels")
    if len(inputs) < MIN_ROWS:
        raise DataError(f"the {name} data has {len(inputs)} rows; at least {MIN_ROWS} are needed")
    if not (np.issubdtype(inputs.dtype, np.number) or inputs.dtype == np.bool_):
        raise DataError(f"the {name} inputs must be numbers (got dtype {inputs.dtype})")
    inputs = inputs.astype(np.float32)
    bad = ~np.isfinite(inputs.reshape(len(inputs), -1))
    if bad.any():
        rows = bad.any(axis=1)
        raise DataError(
            f"the {name} inputs hold {int(bad.sum())} NaN or infinite values in {int(rows.sum())} "
            f"rows (the first is row {int(np.argmax(rows))}); remove or fill them first"
        )
    return inputs


def _checked_labels(labels: np.ndarray, name: str) -> np.ndarray:
    labels = labels.reshape(-1) if labels.ndim == 2 and labels.shape[1] == 1 else labels
    if labels.ndim != 1:
        raise DataError(
            f"the {name} labels must be one class number per example (got shape {labels.shape}); "
            "pass class numbers, not one-hot rows"
        )
    numeric = np.issubdtype(labels.dtype, np.number) or labels.dtype == np.bool_
    whole = numeric and np.all(np.isfinite(labels)) and np.all(labels == np.round(labels))
    if not whole or (len(labels) and labels.min() < 0):
        example = next(
            (value for value in labels if not _is_class_number(value)),
            labels[0] if len(labels) else None,
        )
        raise DataError(
            f"the {name} labels must be the class numbers 0..K-1 (found {example!r}); "
            "map each class to a number first"
        )
    return labels.astype(np.int64)


def _is_class_number(value: Any) -> bool:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return np.isfinite(number) and number >= 0 and number == round(number)


def _image_shape(input_shape: tuple[int, ...]) -> tuple[int, int] | None:
    """(H, W) when each example is a one-channel picture: (H, W) or (1, H, W)."""
    if len(input_shape) == 2 and min(input_shape) >= 4:
        return (int(input_shape[0]), int(input_shape[1]))
    if len(input_shape) == 3 and input_shape[0] == 1 and min(input_shape[1:]) >= 4:
        return (int(input_shape[1]), int(input_shape[2]))
    return None


def _feature_names(label_column: str | None, train: Any, features: int) -> tuple[str, ...]:
    if _is_frame(train) and label_column is not None:
        return tuple(str(column) for column in train.columns if column != label_column)
    return tuple(f"x{index}" for index in range(features))
