"""A run of a student's own model on their own data: the session ``trainscope.show`` steers.

Everything is checked here, in the student's process and before any thread starts: the data
(``engine.user_data``), the model against it (``engine.user_model``) and the settings (the same
table every run uses), so a mistake is one sentence and nothing trains or is recorded half-way.
The run is then an ordinary ``ThreadSession``: the same loop, commands and events as a bundled
run, with the student's ``nn.Module`` object itself trained in place (no copy, no pickling, so
a class defined in a notebook cell works). Its dropout setting is the model's own first
``nn.Dropout`` probability; changing it sets every ``nn.Dropout`` of the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trainscope.engine.config import RunConfig
from trainscope.engine.device import resolve_device
from trainscope.engine.errors import ConfigError
from trainscope.engine.session import ThreadSession
from trainscope.engine.settings import Settings
from trainscope.engine.trainer import Trainer
from trainscope.engine.user_data import UserData, prepare_user_data
from trainscope.engine.user_model import (
    check_user_model,
    first_dropout,
    model_device,
    wrapped_for_rows,
)

if TYPE_CHECKING:
    import torch
    from torch import nn

    from trainscope.engine.data import PreparedData


def user_session(
    model: nn.Module,
    train: Any,
    val: Any = None,
    test: Any = None,
    *,
    lr: float = 1e-3,
    optimizer: str = "adam",
    epochs: float | None = None,
    steps: int | None = None,
    batch_size: int = 32,
    weight_decay: float = 0.0,
    eval_every: int = 100,
    seed: int = 0,
    device: str | None = None,
    label_column: str | None = None,
    class_names: tuple[str, ...] | None = None,
    pace: float | None = None,
) -> ThreadSession:
    """A session, not yet started, that trains ``model`` itself on the given splits.

    ``device`` None trains where the model's weights are; one given must be where they are.
    Neither ``epochs`` nor ``steps``: it trains until stopped.
    """
    data = prepare_user_data(train, val, test, label_column, class_names, seed)
    run_device = model_device(model) if device is None else resolve_device(device)
    check_user_model(model, data, run_device)
    settings: dict[str, object] = {
        "lr": lr,
        "optimizer": optimizer,
        "batch_size": batch_size,
        "weight_decay": weight_decay,
    }
    dropout = first_dropout(model)
    if dropout is not None:
        settings["dropout"] = dropout
    config = RunConfig(
        settings=Settings(settings),
        epochs=epochs,
        steps=steps,
        eval_every=eval_every,
        seed=seed,
        device=str(run_device),
        pace=pace,
        own_model=True,
    ).validate()
    if config.settings.whole("batch_size") > len(data.prepared.train_y):
        raise ConfigError(
            f"batch_size {batch_size} is larger than the {len(data.prepared.train_y)} training rows"
        )
    return ThreadSession(config, build=lambda: _build(config, data, model, run_device))


def describe_user_model(model: nn.Module) -> str:
    """'Net (your model)': what the window's title says (it adds the parameter count itself)."""
    return f"{type(model).__name__} (your model)"


def _build(
    config: RunConfig, data: UserData, model: nn.Module, device: torch.device
) -> tuple[PreparedData, Trainer, str]:
    # The student's process: its torch thread count is theirs and stays as it is.
    trainer = Trainer(
        config, data.prepared, device, model=wrapped_for_rows(model, data.input_shape)
    )
    return data.prepared, trainer, describe_user_model(model)
