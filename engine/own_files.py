"""``--model-file PATH.py:CLASS`` (with ``--model-args JSON``) and ``--data FILE.npz``.

A model file is code the user chose to run: it is imported once, here, in the process that
trains (as ``trainscope.show`` trains a notebook's model), and the class is built with the
keyword arguments given. A data file is arrays ``X`` and ``y`` (optional ``X_val``/``y_val``,
``X_test``/``y_test``), read without pickles. Each mistake is one sentence before anything
trains; the arrays themselves are checked by ``engine.user_data`` as ``show`` checks them.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import sys
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from trainscope.engine.errors import ConfigError, DataError

if TYPE_CHECKING:
    from trainscope.engine.config import RunConfig

SPLITS = (("X", "y"), ("X_val", "y_val"), ("X_test", "y_test"))
Split = tuple[Any, Any] | None  # (inputs, labels), or None for a split not given
Splits = tuple[Split, Split, Split]  # training, validation, test


def load_model(target: str, model_args: str | None = None) -> nn.Module:
    """Import ``PATH.py:CLASS`` and build it with ``model_args`` (a JSON object of keywords)."""
    path_text, _, class_name = target.rpartition(":")
    if not path_text or not class_name:
        raise ConfigError(
            f"--model-file takes PATH.py:CLASS, the file and the nn.Module class in it (got {target!r})"
        )
    path = Path(path_text).expanduser()
    if path.suffix != ".py":
        raise ConfigError(f"--model-file {target}: {path} is not a Python file (.py)")
    if not path.is_file():
        raise ConfigError(f"--model-file {target}: the file {path} does not exist")
    keywords = _keywords(model_args)
    module = _import(path)
    model_class = getattr(module, class_name, None)
    if not (inspect.isclass(model_class) and issubclass(model_class, nn.Module)):
        found = [
            name
            for name, value in vars(module).items()
            if inspect.isclass(value)
            and issubclass(value, nn.Module)
            and value.__module__ == module.__name__
        ]
        where = f"; it defines {', '.join(found)}" if found else ""
        raise ConfigError(
            f"--model-file {target}: {path.name} has no nn.Module class {class_name}{where}"
        )
    try:
        return model_class(**keywords)
    except Exception as error:  # the student's constructor: say whose and why, in one line
        raise ConfigError(
            f"--model-file {target}: {class_name}(**{keywords}) raised {type(error).__name__}: {error}"
        ) from None


def read_npz(path_text: str) -> Splits:
    """The (X, y) pairs of a ``.npz`` file: training, then validation and test when present."""
    path = Path(path_text).expanduser()
    if not path.is_file():
        raise DataError(f"--data {path_text}: the file does not exist")
    try:
        with np.load(path, allow_pickle=False) as arrays:
            found = {name: arrays[name] for name in arrays.files}
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise DataError(f"--data {path_text}: not a numpy .npz file of arrays ({error})") from None
    splits: list[Split] = []
    for inputs, labels in SPLITS:
        if inputs in found or labels in found:
            if inputs not in found or labels not in found:
                missing = labels if inputs in found else inputs
                raise DataError(
                    f"--data {path_text}: it has {inputs if missing == labels else labels} but no {missing}"
                )
            splits.append((found[inputs], found[labels]))
        elif inputs == "X":
            raise DataError(
                f"--data {path_text}: it needs arrays X and y (it has {', '.join(found) or 'none'})"
            )
        else:
            splits.append(None)
    return splits[0], splits[1], splits[2]


def _keywords(model_args: str | None) -> dict[str, Any]:
    if model_args is None:
        return {}
    try:
        keywords = json.loads(model_args)
    except json.JSONDecodeError as error:
        raise ConfigError(
            f"--model-args is not JSON: {error.msg} at character {error.pos}"
        ) from None
    if not isinstance(keywords, dict):
        raise ConfigError(
            f"--model-args takes a JSON object of keyword arguments, e.g. '{{\"hidden\": 64}}' (got {model_args})"
        )
    return keywords


def _import(path: Path) -> Any:
    """The file as a module of its own name (its own imports of files beside it work)."""
    name = f"trainscope_model_file_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"--model-file: {path} cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    sys.path.insert(0, str(path.parent.resolve()))
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # the student's file: where it failed, in one line
        line = getattr(error, "lineno", None) or _line_in(error, path)
        at = f" line {line}" if line else ""
        raise ConfigError(
            f"--model-file: importing {path.name} failed at{at or ' import'}: {type(error).__name__}: {error}"
        ) from None
    finally:
        sys.path.remove(str(path.parent.resolve()))
    return module


def _line_in(error: BaseException, path: Path) -> int | None:
    """The last line of ``path`` in the error's traceback (the student's own line)."""
    line = None
    trace = error.__traceback__
    while trace is not None:
        if Path(trace.tb_frame.f_code.co_filename).resolve() == path.resolve():
            line = trace.tb_lineno
        trace = trace.tb_next
    return line


def own_run_parts(
    model_file: str | None, model_args: str | None, data_file: str | None, config: RunConfig
) -> tuple[nn.Module, Splits, dict[str, Any]]:
    """The model, the splits and ``show``'s settings for a command line naming your own files.

    Without ``--model-file`` the configured bundled model is built for the data's shape;
    without ``--data`` the configured dataset is prepared as any run's is.
    """
    from trainscope.engine.data import prepare_data
    from trainscope.engine.device import resolve_device
    from trainscope.engine.models import build_model

    if model_args is not None and model_file is None:
        raise ConfigError(
            "--model-args are the arguments of --model-file's class; add --model-file"
        )
    splits: Splits
    if data_file is not None:
        splits = read_npz(data_file)
    else:
        prepared = prepare_data(config.dataset, config.seed)
        splits = (
            (prepared.train_x, prepared.train_y),
            (prepared.validation_x, prepared.validation_y),
            (prepared.test_x, prepared.test_y) if len(prepared.test_y) else None,
        )
    device = resolve_device(config.device)
    # Seeded before the model is built, so its first weights (and the run) repeat with --seed.
    torch.manual_seed(config.seed)
    if model_file is not None:
        model = load_model(model_file, model_args)
    else:  # the bundled model, on the data's rows as flat features
        train, val, test = (None if s is None else (_flat(s[0]), s[1]) for s in splits)
        splits = (train, val, test)
        assert train is not None  # read_npz and prepare_data always give training rows
        inputs, labels = train
        n_classes = int(np.max(labels)) + 1 if len(labels) else 0
        try:
            model = build_model(
                config.model, inputs.shape[1], n_classes, config.settings.number("dropout"), None
            )
        except ValueError as error:
            raise ConfigError(f"--data: {error}; use --model mlp for your arrays") from None
    settings = config.settings
    parts: dict[str, Any] = {
        "lr": settings.number("lr"),
        "optimizer": settings.choice("optimizer"),
        "batch_size": settings.whole("batch_size"),
        "weight_decay": settings.number("weight_decay"),
        "epochs": config.epochs,
        "steps": config.steps,
        "eval_every": config.eval_every,
        "seed": config.seed,
        "device": str(device),
        "pace": config.pace,
    }
    return model.to(device), splits, parts


def _flat(inputs: Any) -> Any:
    values = np.asarray(inputs)
    return values.reshape(len(values), -1) if values.ndim > 2 else values
