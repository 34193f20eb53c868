"""The model's layers as a student names them, and the probe that measures one training step.

Layer health talks about "dense 1 (64→128)", not ``0.weight``: ``find_layers`` walks a model's
Linear/Conv2d modules input side first and pairs each with the activation that follows it, so
the dead-unit count and the activation histogram look where a student would. ``StepProbe`` is
opened by the trainer on the one step that is inspected (after backward, before the update) and
closed after the update; every other step never builds one, so training pays nothing for it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np

#: Activations that output exactly 0 for every negative input: a unit behind one that never
#: fires gets no gradient and cannot recover ("dead"). Leaky ReLU and GELU keep a gradient
#: below zero — they are the cure the dead-units hint suggests, so they are not counted.
DYING_ACTIVATIONS: tuple[type[nn.Module], ...] = (nn.ReLU, nn.ReLU6)
ACTIVATIONS: tuple[type[nn.Module], ...] = (
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.GELU,
    nn.Tanh,
    nn.Sigmoid,
    nn.ELU,
    nn.SiLU,
)
_PASS_THROUGH: tuple[type[nn.Module], ...] = (nn.Dropout, nn.Flatten, nn.Identity)


@dataclass(frozen=True, eq=False)
class Layer:
    """One Linear/Conv2d layer, the activation after it (None for the output layer) and its name."""

    name: str
    module: nn.Linear | nn.Conv2d
    activation: nn.Module | None

    @property
    def can_die(self) -> bool:
        return isinstance(self.activation, DYING_ACTIVATIONS)

    @property
    def parameters(self) -> list[nn.Parameter]:
        return list(self.module.parameters(recurse=False))


@dataclass(frozen=True)
class LayerStep:
    """What one inspected optimizer step measured per layer (numpy, already on the host)."""

    grad_norm: np.ndarray  # (L,) float64, weight and bias together, before clipping
    weight_norm: np.ndarray  # (L,) float64, after the update
    update_ratio: np.ndarray  # (L,) float64, ||after - before|| / ||before||
    duration_ms: float  # what the inspection added to the step


def find_layers(model: nn.Module) -> list[Layer]:
    """Linear/Conv2d layers in the order their modules were registered (= run, for our models).

    The activation of a layer is the first leaf module after it, skipping dropout and flatten;
    a layer followed directly by another layer, a pooling or nothing has none.
    """
    leaves = [module for module in model.modules() if not list(module.children())]
    found: list[tuple[nn.Linear | nn.Conv2d, nn.Module | None]] = []
    for index, module in enumerate(leaves):
        if isinstance(module, nn.Linear | nn.Conv2d):
            found.append((module, _activation_after(leaves[index + 1 :])))
    return [
        Layer(_name(module, position, found), module, activation)
        for position, (module, activation) in enumerate(found)
    ]


def _activation_after(rest: list[nn.Module]) -> nn.Module | None:
    for module in rest:
        if isinstance(module, ACTIVATIONS):
            return module
        if not isinstance(module, _PASS_THROUGH):
            return None
    return None


def _name(
    module: nn.Linear | nn.Conv2d,
    position: int,
    found: Sequence[tuple[nn.Linear | nn.Conv2d, nn.Module | None]],
) -> str:
    """Names like "conv 1 (1→16)" and "dense 2 (128→128)"; the last layer is "output (128→10)"."""
    if isinstance(module, nn.Conv2d):
        size = f"({module.in_channels}→{module.out_channels})"
        number = sum(isinstance(other, nn.Conv2d) for other, _ in found[: position + 1])
        return f"conv {number} {size}"
    size = f"({module.in_features}→{module.out_features})"
    if position == len(found) - 1:
        return f"output {size}"
    number = sum(isinstance(other, nn.Linear) for other, _ in found[: position + 1])
    return f"dense {number} {size}"


class StepProbe:
    """Measures one optimizer step per layer: gradient norms, then how far the weights moved.

    ``before_update`` runs after backward (and before clipping, like the global gradient norm);
    ``after_update`` after ``optimizer.step()``. Everything stays on the device until one
    transfer at the end.
    """

    def __init__(self, layers: list[Layer]) -> None:
        self.tensors = [parameter for layer in layers for parameter in layer.parameters]
        owners = [index for index, layer in enumerate(layers) for _ in layer.parameters]
        device = self.tensors[0].device
        self.owner = torch.as_tensor(owners, device=device)
        self.n_layers = len(layers)
        self.seconds = 0.0

    def _per_layer(self, tensors: list[torch.Tensor] | tuple[torch.Tensor, ...]) -> torch.Tensor:
        """(L,) L2 norms: per-tensor norms, squared and summed within each layer."""
        norms = torch.stack(torch._foreach_norm(tensors)).float()
        squares = torch.zeros(self.n_layers, device=norms.device).index_add_(
            0, self.owner, norms.square()
        )
        return squares.sqrt()

    def before_update(self) -> None:
        started = time.perf_counter()
        grads = [
            tensor.grad if tensor.grad is not None else torch.zeros_like(tensor)
            for tensor in self.tensors
        ]
        self.grad_norm = self._per_layer([grad.detach() for grad in grads])
        self.before = [tensor.detach().clone() for tensor in self.tensors]
        self.seconds += time.perf_counter() - started

    def after_update(self) -> LayerStep:
        started = time.perf_counter()
        after = [tensor.detach() for tensor in self.tensors]
        change = self._per_layer(torch._foreach_sub(after, self.before))
        before_norm = self._per_layer(self.before)
        weight_norm = self._per_layer(after)
        numbers = torch.stack((self.grad_norm, weight_norm, change / before_norm))
        grad_norm, weight_norm_host, update_ratio = numbers.to("cpu", torch.float64).numpy()
        self.seconds += time.perf_counter() - started
        return LayerStep(grad_norm, weight_norm_host, update_ratio, self.seconds * 1000.0)
