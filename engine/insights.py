"""Seeing inside the model: the decision boundary over the data's plane, and per-layer health.

Both are views computed in the training process from the live model and sent as small events
(``DecisionBoundary``, ``LayerHealth``). They run on the model's device in one batch each and
move one stack of numbers to the host, so their cost is a few milliseconds per evaluation —
``engine.insight_collector`` decides when that cost is affordable.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
import torch

from trainscope.engine import events as ev
from trainscope.engine.projection import Plane, grid_points

if TYPE_CHECKING:
    from collections.abc import Callable

    from trainscope.engine.layers import Layer, LayerStep
    from trainscope.engine.trainer import Trainer

#: Cells per side of the decision-boundary grid: 100 x 100 = 10 000 points in one batch.
GRID_SIZE = 100
#: Bins of each layer's activation histogram, spread over that layer's own min..max.
HISTOGRAM_BINS = 30


def grid_inputs(view: ev.DataView, plane: Plane, device: torch.device, size: int) -> torch.Tensor:
    """The grid's points as standardized model inputs on the device (build once per run)."""
    return torch.as_tensor(plane.to_inputs(grid_points(view, size)), device=device)


def decision_boundary(
    trainer: Trainer, inputs: torch.Tensor, step: int, size: int = GRID_SIZE
) -> ev.DecisionBoundary:
    """Predict every grid point in one batch, as an evaluation would (eval mode, temperature)."""
    started = time.perf_counter()
    probabilities = trainer.probabilities(inputs)
    confidence, predicted = probabilities.max(dim=1)
    columns = [predicted.float(), confidence]
    binary = probabilities.shape[1] == 2
    if binary:
        columns.append(probabilities[:, 1])
    host = torch.stack(columns).cpu().numpy()
    return ev.DecisionBoundary(
        step=step,
        predicted_class=host[0].reshape(size, size).astype(np.int16),
        confidence=host[1].reshape(size, size).astype(np.float32),
        positive_probability=host[2].reshape(size, size).astype(np.float32) if binary else None,
        duration_ms=(time.perf_counter() - started) * 1000.0,
    )


def layer_health(trainer: Trainer, step: int, measured: LayerStep) -> ev.LayerHealth:
    """Combine an inspected step's numbers with activations over the whole validation set."""
    started = time.perf_counter()
    dead, edges, counts = activation_statistics(trainer, trainer.layers)
    elapsed_ms = (time.perf_counter() - started) * 1000.0
    return ev.LayerHealth(
        step=step,
        layer_names=tuple(layer.name for layer in trainer.layers),
        grad_norm=measured.grad_norm,
        weight_norm=measured.weight_norm,
        update_ratio=measured.update_ratio,
        dead_fraction=dead,
        activation_edges=edges,
        activation_counts=counts,
        duration_ms=measured.duration_ms + elapsed_ms,
    )


def activation_statistics(
    trainer: Trainer, layers: list[Layer], bins: int = HISTOGRAM_BINS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dead fraction (L,), histogram edges (L, B+1) and counts (L, B) over the validation set.

    Forward hooks catch each layer's output after its activation (the layer's own output when
    none follows); they exist only for this one pass. A unit — a conv channel — is dead when it
    is never above 0 for any validation row; only layers behind a ReLU can die (NaN otherwise).
    """
    outputs: list[torch.Tensor | None] = [None] * len(layers)
    handles = [
        (layer.activation or layer.module).register_forward_hook(_keeper(outputs, index))
        for index, layer in enumerate(layers)
    ]
    try:
        trainer.probabilities(trainer.splits["validation"][0])
    finally:
        for handle in handles:
            handle.remove()
    rows = [
        _layer_numbers(output, layer, bins) for output, layer in zip(outputs, layers, strict=True)
    ]
    host = torch.stack(rows).to("cpu", torch.float64).numpy()
    dead, low, high, counts = host[:, 0], host[:, 1], host[:, 2], host[:, 3:]
    edges = low[:, None] + (high - low)[:, None] * np.linspace(0.0, 1.0, bins + 1)[None, :]
    return dead, edges, counts.astype(np.int64)


def _keeper(
    outputs: list[torch.Tensor | None], index: int
) -> Callable[[torch.nn.Module, object, torch.Tensor], None]:
    def keep(_module: torch.nn.Module, _inputs: object, output: torch.Tensor) -> None:
        outputs[index] = output.detach()

    return keep


def _layer_numbers(output: torch.Tensor | None, layer: Layer, bins: int) -> torch.Tensor:
    """(3 + bins,) on the device: dead fraction, low, high, then the histogram's counts.

    Non-finite activations (a diverged model) are clamped into float32's range so the histogram
    still adds up to the number of values; a range of zero width is widened to one unit.
    """
    if output is None:  # the layer did not run (not in our models): nothing to say about it
        nothing = torch.zeros(3 + bins, device=layer.module.weight.device)
        nothing[:3] = float("nan")
        return nothing
    per_unit = output.transpose(0, 1).reshape(output.shape[1], -1).float()
    never_active = (per_unit.amax(dim=1) <= 0).float().mean()
    dead = never_active if layer.can_die else per_unit.new_tensor(np.nan)
    values = torch.nan_to_num(per_unit.flatten()).clamp(-1e30, 1e30)
    low, high = values.min(), values.max()
    width = torch.where(high > low, high - low, torch.ones_like(high))
    high = low + width
    index = ((values - low) / width * bins).long().clamp(0, bins - 1)
    counts = torch.bincount(index, minlength=bins).float()
    return torch.cat((torch.stack((dead, low, high)), counts))
