"""What the window is told about a student's own loop (``trainscope.watch``), and nothing more.

A loop TrainScope does not own has its own data, optimizer and batch size, set in the
student's code: the window may show only what can be read from the objects handed to
``watch`` (the optimizer's param groups, the model's dropout modules, the first batch), and
must grey out every control the loop cannot take, saying why. This module builds the run's
``RunStarted`` and ``ControlsLimited`` from those objects; ``engine.live_loop`` sends them
before the first step's numbers.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from trainscope.engine import events as ev
from trainscope.engine.errors import SettingError
from trainscope.engine.models import parameter_count
from trainscope.engine.settings import OPTIMIZERS, Settings, validate_setting
from trainscope.engine.user_model import first_dropout

if TYPE_CHECKING:
    import torch
    from torch import nn

OWN_CODE = "set by your loop's code: change it there"
UNKNOWN = "your loop's"  # what a greyed box says instead of a number it cannot know
#: The live settings a watched loop takes from the window (the rest are its code's).
STEERED = ("lr", "weight_decay", "dropout")
NOT_OWNED = {
    "rewind": "rewinding needs the training loop's checkpoints, and this loop is your own",
    "reset": "a reset needs the training loop to rebuild the model, and this loop is your own",
    "open_test_set": "your own loop has no sealed test split here: score your test set in your code",
    "new_run": (
        "this window watches your own training loop, which only your code can start again: "
        "run it again there for a new run"
    ),
}
SCHEDULED_LR = (
    "a learning-rate scheduler sets the learning rate at every step, so a value from here would "
    "be overwritten; change the scheduler instead"
)


def optimizer_name(optimizer: torch.optim.Optimizer) -> str:
    """'adam' for torch's Adam; the class's own name for one the settings table lacks."""
    name = type(optimizer).__name__.lower()
    return name if name in OPTIMIZERS else type(optimizer).__name__


def own_loop_settings(
    model: nn.Module, optimizer: torch.optim.Optimizer, batch_size: int | None
) -> tuple[Settings, set[str]]:
    """The settings that can be read off the loop's objects, and which those are; the rest keep
    the table's defaults (greyed out, showing ``UNKNOWN``, by ``own_loop_limits``)."""
    group = optimizer.param_groups[0]
    read: dict[str, object] = {"lr": group["lr"], "weight_decay": group.get("weight_decay", 0.0)}
    dropout = first_dropout(model)
    if dropout is not None:
        read["dropout"] = dropout
    if optimizer_name(optimizer) in OPTIMIZERS:
        read["optimizer"] = optimizer_name(optimizer)
    momentum = group.get("momentum", group.get("betas", (None,))[0])
    if momentum is not None:
        read["momentum"] = momentum
    if batch_size is not None:
        read["batch_size"] = batch_size
    checked = {}
    for key, value in read.items():
        try:
            checked[key] = validate_setting(key, value)
        except SettingError:
            continue  # outside the table's range: greyed out as unknown
    return Settings(checked), set(checked)


def own_loop_limits(
    model: nn.Module, settings: Settings, known: set[str], scheduled: bool
) -> ev.ControlsLimited:
    """Every control a watched loop cannot take, with its reason, and what greyed boxes say."""
    reasons = dict(NOT_OWNED)
    shown: dict[str, str] = {}
    for key in settings:
        if key in STEERED:
            continue
        reasons[key] = f"{key.replace('_', ' ')} is {OWN_CODE}"
        if key not in known:
            shown[key] = UNKNOWN
    if first_dropout(model) is None:
        reasons["dropout"] = "your model has no nn.Dropout modules to change"
    if scheduled:
        reasons["lr"] = SCHEDULED_LR
    return ev.ControlsLimited(step=0, reasons=reasons, shown=shown)


def own_loop_started(
    model: nn.Module,
    settings: Settings,
    n_classes: int,
    n_validation: int,
    class_names: tuple[str, ...] | None,
    device: str,
) -> ev.RunStarted:
    """The run as the window may describe it: the loop's rows, seed and length are unknown."""
    return ev.RunStarted(
        dataset="your own training loop",
        class_names=class_names or tuple(str(index) for index in range(n_classes)),
        feature_names=(),
        n_train=0,
        n_validation=n_validation,
        n_test=0,
        model_description=f"{type(model).__name__} (your model)",
        parameter_count=parameter_count(model),
        device=device,
        settings=settings,
        seed=0,
        max_steps=None,
        steps_per_epoch=1,
        chance_loss=math.log(max(n_classes, 2)),
        own_loop=True,
    )
