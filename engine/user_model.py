"""A student's own ``nn.Module`` in TrainScope's loop: checked once, then trained like ours.

``check_user_model`` runs the model on two training rows before anything trains or is
recorded, so the mistakes people make come back as one sentence each: weights on another
device than the run's, a forward that raises (named with the student's own file and line, not
torch's), an output that is not one score per class. ``ShapedInputs`` hands the model its
examples in their own shape (the engine keeps every split flat, one row per example).
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import nn

from trainscope.engine.errors import ConfigError, DataError

if TYPE_CHECKING:
    from trainscope.engine.user_data import UserData

#: Frames inside these folders are not the student's: an error names the nearest other one.
_LIBRARY_FOLDERS = (
    str(Path(torch.__file__).resolve().parent),
    str(Path(__file__).resolve().parent),
)


class ShapedInputs(nn.Module):
    """The student's model behind flat rows: each batch is reshaped to the examples' shape.

    The model is a registered child, so its layers, dropout modules and parameters are found
    by the engine's layer health, dropout control and optimizer exactly as if it stood alone.
    """

    def __init__(self, model: nn.Module, input_shape: tuple[int, ...]) -> None:
        super().__init__()
        self.model = model
        self.input_shape = input_shape

    def forward(self, rows: torch.Tensor) -> torch.Tensor:
        return self.model(rows.view(len(rows), *self.input_shape))


def wrapped_for_rows(model: nn.Module, input_shape: tuple[int, ...]) -> nn.Module:
    """The model itself for flat examples, else the model behind ``ShapedInputs``."""
    return model if len(input_shape) == 1 else ShapedInputs(model, input_shape)


def model_device(model: nn.Module) -> torch.device:
    """Where the model's weights are (the run trains there unless told otherwise)."""
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def first_dropout(model: nn.Module) -> float | None:
    """The probability of the model's first ``nn.Dropout`` (None: it has none to steer)."""
    for module in model.modules():
        if isinstance(module, nn.Dropout):
            return float(module.p)
    return None


def check_user_model(model: nn.Module, data: UserData, device: torch.device) -> None:
    """Refuse, in one sentence, a model that cannot train on ``data`` on ``device``."""
    if not isinstance(model, nn.Module):
        raise ConfigError(f"the model must be a torch nn.Module (got {type(model).__name__})")
    parameters = list(model.parameters())
    if not any(parameter.requires_grad for parameter in parameters):
        raise ConfigError("your model has no trainable parameters")
    elsewhere = {str(p.device) for p in parameters if p.device != device}
    if elsewhere:
        raise ConfigError(
            f"your model's weights are on {', '.join(sorted(elsewhere))} but the run trains on "
            f"{device}; move it with model.to('{device}') or ask for that device"
        )
    prepared = data.prepared
    rows = torch.as_tensor(prepared.train_x[:2], device=device)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            output = wrapped_for_rows(model, data.input_shape)(rows)
    except Exception as error:  # the student's code: any error is theirs to see, located
        raise ConfigError(
            f"your model's forward raised {type(error).__name__}: {error} ({_where(error)})"
        ) from None
    finally:
        model.train(was_training)
    if not isinstance(output, torch.Tensor):
        raise ConfigError(
            f"your model's forward returned a {type(output).__name__}, not a tensor of class scores"
        )
    expected = (len(rows), prepared.n_classes)
    if output.dim() != 2 or output.shape[0] != len(rows):
        raise DataError(
            f"your model returns shape {tuple(output.shape)} for {len(rows)} examples; it must "
            f"return one row of {prepared.n_classes} class scores per example"
        )
    if tuple(output.shape) != expected:
        raise DataError(
            f"your model outputs {output.shape[1]} values per example, "
            f"the data has {prepared.n_classes} classes"
        )
    if not output.is_floating_point():
        raise DataError(f"your model's scores must be floating point (got {output.dtype})")


def _where(error: BaseException) -> str:
    """'file.py, line N' of the innermost frame outside torch and TrainScope."""
    frames = traceback.extract_tb(error.__traceback__)
    theirs = [
        frame
        for frame in frames
        if not str(Path(frame.filename).resolve()).startswith(_LIBRARY_FOLDERS)
    ]
    frame = (theirs or frames)[-1]
    return f"{Path(frame.filename).name}, line {frame.lineno}"
