"""When to look inside the model, and how much training time that may cost.

The training loop calls four hooks: ``announce`` after every ``RunStarted`` (the data's plane and
the validation rows), ``after_evaluation`` (the decision boundary; arming layer health for the
next step), ``after_inspected_step`` (layer health from the step the trainer measured) and
``configure`` for ``SetInsights``. Insights are off until the window asks for them, and each
keeps to a budget: after one costing c ms it waits until c / ``BUDGET_SHARE`` ms of wall time
have passed since it began, so on slow hardware the pictures refresh less often instead of
slowing training. When the student acts on a paused run (one step, evaluate, rewind), the
budget is ignored: a paused run has time to spare and the student wants to see the effect.
"""

from __future__ import annotations

import logging
import math
import time
from typing import TYPE_CHECKING

import numpy as np

from trainscope.engine import events as ev
from trainscope.engine.insights import GRID_SIZE, decision_boundary, grid_inputs, layer_health
from trainscope.engine.projection import Plane, data_view

if TYPE_CHECKING:
    from collections.abc import Callable

    import torch

    from trainscope.engine.commands import SetInsights
    from trainscope.engine.data import PreparedData
    from trainscope.engine.layers import LayerStep
    from trainscope.engine.trainer import Trainer

log = logging.getLogger(__name__)

#: The share of training wall time each insight may take: the two together stay within 5%, so
#: a window showing every insight still trains at >= 0.9 of headless speed (issue #8's goal).
BUDGET_SHARE = 0.025
#: A boundary dearer than this (the digits CNN on a CPU: ~400 ms at 100 x 100) is drawn on a
#: coarser grid from then on, so one redraw never holds up commands for long.
SLOW_BOUNDARY_MS = 40.0
MIN_GRID_SIZE = 32


class _Budget:
    """One insight's allowance of wall time."""

    def __init__(self, share: float, clock: Callable[[], float]) -> None:
        self.share, self.clock = share, clock
        self.next_allowed = -math.inf

    def due(self) -> bool:
        return self.clock() >= self.next_allowed

    def spent(self, cost_ms: float) -> None:
        """Wait c / share from the insight's start, i.e. c (1 / share - 1) from now."""
        self.next_allowed = self.clock() + cost_ms / 1000.0 * (1.0 / self.share - 1.0)


class InsightCollector:
    """Collects the insights a run's window asked for, within their time budgets."""

    def __init__(
        self,
        trainer: Trainer,
        data: PreparedData,
        emit: Callable[[ev.Event], None],
        share: float = BUDGET_SHARE,
        grid_size: int = GRID_SIZE,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.trainer, self.data, self.emit = trainer, data, emit
        self.grid_size = grid_size
        self.slow_boundary_ms = SLOW_BOUNDARY_MS
        self.boundary_on = False
        self.layer_health_on = False
        #: Read by the loop before every step: when True that step is measured per layer.
        self.inspect_next_step = False
        self._boundary_budget = _Budget(share, clock)
        self._layer_budget = _Budget(share, clock)
        self._view: tuple[ev.DataView, Plane] | None = None
        self._view_built = False
        self._grid: torch.Tensor | None = None
        self._validation_inputs: ev.ValidationInputs | None = None

    # ----- what the loop calls ----------------------------------------------------------------
    def announce(self) -> None:
        """After ``RunStarted``: the plane (if the data has one) and the unscaled validation rows."""
        view = self._data_view()
        if view is not None:
            self.emit(view[0])
        self.emit(self._validation_rows())

    def configure(self, command: SetInsights, step: int) -> None:
        """Switch insights on or off; one switched on is collected at once, budget or not."""
        turned_on_boundary = command.boundary and not self.boundary_on
        turned_on_layers = command.layer_health and not self.layer_health_on
        self.boundary_on, self.layer_health_on = command.boundary, command.layer_health
        self.inspect_next_step = command.layer_health and (
            self.inspect_next_step or turned_on_layers
        )
        if turned_on_boundary:
            self._emit_boundary(step)

    def after_evaluation(self, step: int, refresh: bool) -> None:
        """The boundary now, and layer health on the next step, when due (or ``refresh``)."""
        if self.boundary_on and (refresh or self._boundary_budget.due()):
            self._emit_boundary(step)
        if self.layer_health_on and (refresh or self._layer_budget.due()):
            self.inspect_next_step = True

    def after_inspected_step(self, step: int, measured: LayerStep) -> None:
        """The trainer measured ``step`` per layer: add the activations and send ``LayerHealth``."""
        self.inspect_next_step = False
        if not self.layer_health_on:
            return
        try:
            health = layer_health(self.trainer, step, measured)
        except Exception as error:  # an insight must never end the run
            self._give_up("layer health", step, error)
            self.layer_health_on = False
            return
        self._layer_budget.spent(health.duration_ms)
        self.emit(health)

    # ----- the pieces -------------------------------------------------------------------------
    def _emit_boundary(self, step: int) -> None:
        view = self._data_view()
        if view is None:
            return
        try:
            if self._grid is None:
                self._grid = grid_inputs(*view, self.trainer.device, self.grid_size)
            boundary = decision_boundary(self.trainer, self._grid, step, self.grid_size)
        except Exception as error:
            self._give_up("the decision boundary", step, error)
            self.boundary_on = False
            return
        self._boundary_budget.spent(self._coarsen_if_slow(boundary.duration_ms))
        self.emit(boundary)

    def _coarsen_if_slow(self, cost_ms: float) -> float:
        """Shrink the grid so the next boundary costs about ``slow_boundary_ms`` (cost ~ size²).

        Returns the cost to charge the budget: what the next, coarser boundary should cost —
        the one dear grid was a one-off and must not silence the boundary for many seconds.
        """
        if cost_ms <= self.slow_boundary_ms or self.grid_size <= MIN_GRID_SIZE:
            return cost_ms
        old_size = self.grid_size
        scale = math.sqrt(self.slow_boundary_ms / cost_ms)
        self.grid_size = max(MIN_GRID_SIZE, int(old_size * scale))
        self._grid = None
        return cost_ms * (self.grid_size / old_size) ** 2

    def _give_up(self, what: str, step: int, error: Exception) -> None:
        log.exception("%s failed at step %d", what, step)
        message = f"{what} could not be collected and is switched off: {error}"
        self.emit(ev.CommandRefused(step=step, message=message))

    def _data_view(self) -> tuple[ev.DataView, Plane] | None:
        """Built once per run (a reset keeps the points); None for one-feature data."""
        if not self._view_built:
            self._view_built = True
            try:
                self._view = data_view(self.data)
            except ValueError:
                self._view = None
        return self._view

    def _validation_rows(self) -> ev.ValidationInputs:
        if self._validation_inputs is None:
            data = self.data
            features = data.validation_x * data.feature_std + data.feature_mean
            self._validation_inputs = ev.ValidationInputs(
                features=np.asarray(features, dtype=np.float32),
                feature_names=tuple(data.feature_names),
                image_shape=data.image_shape,
            )
        return self._validation_inputs
