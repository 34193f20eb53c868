"""Model builders: an MLP (zero hidden layers = logistic regression) and a small CNN for digits.

Every model carries ``nn.Dropout`` modules even at p=0, so dropout can be raised mid-run by
changing ``p`` in place (see ``set_dropout``) without rebuilding the network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from trainscope.engine.config import ModelSpec

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
    "leaky_relu": nn.LeakyReLU,
}


def build_mlp(
    n_inputs: int, n_classes: int, hidden: tuple[int, ...], activation: str, dropout: float
) -> nn.Sequential:
    """Linear → activation → dropout per hidden layer, then a linear head producing logits."""
    layers: list[nn.Module] = []
    width = n_inputs
    for size in hidden:
        layers += [nn.Linear(width, size), _ACTIVATIONS[activation](), nn.Dropout(dropout)]
        width = size
    if not hidden:
        # Logistic regression: dropout on the inputs keeps the live dropout control meaningful.
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(width, n_classes))
    return nn.Sequential(*layers)


class DigitsCNN(nn.Module):
    """Two 3x3 convolutions over the 8x8 digit image, then a small dense head."""

    def __init__(
        self, n_classes: int, activation: str, dropout: float, image_shape: tuple[int, int]
    ) -> None:
        super().__init__()
        self.image_shape = image_shape
        act = _ACTIVATIONS[activation]
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            act(),
            nn.Conv2d(16, 32, 3, padding=1),
            act(),
            nn.MaxPool2d(2),
        )
        flat = 32 * (image_shape[0] // 2) * (image_shape[1] // 2)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(flat, 64),
            act(),
            nn.Dropout(dropout),
            nn.Linear(64, n_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        images = x.view(x.shape[0], 1, *self.image_shape)
        return self.head(self.features(images))


def build_model(
    spec: ModelSpec,
    n_inputs: int,
    n_classes: int,
    dropout: float,
    image_shape: tuple[int, int] | None,
) -> nn.Module:
    """Build the model a spec describes; the CNN needs the data's image shape."""
    if spec.kind == "cnn":
        if image_shape is None:
            raise ValueError("the CNN needs image data (8x8 digits)")
        return DigitsCNN(n_classes, spec.activation, dropout, image_shape)
    return build_mlp(n_inputs, n_classes, spec.hidden, spec.activation, dropout)


def set_dropout(model: nn.Module, p: float) -> None:
    """Change every dropout probability in place; the next forward pass uses it."""
    for module in model.modules():
        if isinstance(module, nn.Dropout):
            module.p = p


def parameter_count(model: nn.Module) -> int:
    return sum(parameter.numel() for parameter in model.parameters())


def describe(model: nn.Module, spec: ModelSpec, n_inputs: int, n_classes: int) -> str:
    """A one-line human description, e.g. 'MLP 64-128-128-10 (relu)'."""
    if spec.kind == "cnn":
        return f"CNN conv16-conv32-64-{n_classes} ({spec.activation})"
    if not spec.hidden:
        return f"logistic regression {n_inputs}-{n_classes}"
    widths = "-".join(str(w) for w in (n_inputs, *spec.hidden, n_classes))
    return f"MLP {widths} ({spec.activation})"
