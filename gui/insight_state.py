"""The latest insight events of a run (issue #8), folded beside ``RunState``; no Qt here.

Insight events are snapshots, not history: a panel only ever draws the newest decision
boundary, layer statistics or resource reading, so each is kept alone with a version counter
the panels compare, exactly as ``RunState`` does for its own snapshots. ``RunState`` owns one of
these and forwards the events; a ``RunStarted`` (a new run or a reset) forgets what described
the old model. The data view and the validation inputs follow every ``RunStarted`` in the same
stream, so clearing on ``RunStarted`` never loses the ones that belong to the new run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trainscope.engine import events as ev

if TYPE_CHECKING:
    from collections.abc import Callable


class InsightState:
    """Newest ``DataView``, ``DecisionBoundary``, ``LayerHealth``, ``ValidationInputs``, ``Resources``."""

    def __init__(self) -> None:
        self.data_view: ev.DataView | None = None
        self.boundary: ev.DecisionBoundary | None = None
        self.layer_health: ev.LayerHealth | None = None
        self.validation_inputs: ev.ValidationInputs | None = None
        self.resources: ev.Resources | None = None
        self.preview: ev.DataPreview | None = None  # the training process's answer to PreviewData
        self.data_view_version = self.boundary_version = self.layer_health_version = 0
        self.inputs_version = self.resources_version = self.preview_version = 0

    def handlers(self) -> dict[type, Callable]:
        """Event type → handler, for ``RunState``'s dispatch table."""
        return {
            ev.DataView: self._on_data_view,
            ev.DecisionBoundary: self._on_boundary,
            ev.LayerHealth: self._on_layer_health,
            ev.ValidationInputs: self._on_validation_inputs,
            ev.Resources: self._on_resources,
            ev.DataPreview: self._on_preview,
        }

    def on_run_started(self) -> None:
        """New weights (or new data): every view of the old model is wrong now.

        Resources stay: they describe the worker process, which a reset does not replace.
        """
        self.data_view = self.boundary = self.layer_health = self.validation_inputs = None
        self.data_view_version += 1
        self.boundary_version += 1
        self.layer_health_version += 1
        self.inputs_version += 1

    def _on_data_view(self, event: ev.DataView) -> None:
        self.data_view = event
        self.data_view_version += 1

    def _on_boundary(self, event: ev.DecisionBoundary) -> None:
        self.boundary = event
        self.boundary_version += 1

    def _on_layer_health(self, event: ev.LayerHealth) -> None:
        self.layer_health = event
        self.layer_health_version += 1

    def _on_validation_inputs(self, event: ev.ValidationInputs) -> None:
        self.validation_inputs = event
        self.inputs_version += 1

    def _on_resources(self, event: ev.Resources) -> None:
        self.resources = event
        self.resources_version += 1

    def _on_preview(self, event: ev.DataPreview) -> None:
        self.preview = event
        self.preview_version += 1
