"""Insight events fold into the run state: newest kept, cleared by a new run, not by resources."""

from __future__ import annotations

import math
from pathlib import Path

from tests import event_factory
from trainscope.engine.resources import resident_mib
from trainscope.gui.resources_readout import resources_text
from trainscope.gui.run_state import RunState


def test_the_newest_of_each_insight_is_kept_with_its_version() -> None:
    state = RunState()
    view = event_factory.moons_view()
    state.apply(
        [event_factory.run_started(2), view, event_factory.decision_boundary(view, step=10)]
    )
    newer = event_factory.decision_boundary(view, step=20)
    version = state.insights.boundary_version
    state.apply([newer, event_factory.layer_health(), event_factory.resources()])
    insights = state.insights
    assert insights.data_view is view
    assert insights.boundary is newer
    assert insights.boundary_version == version + 1
    assert insights.layer_health is not None
    assert insights.resources is not None


def test_a_new_run_forgets_the_old_models_views_but_keeps_what_follows_it() -> None:
    state = RunState()
    view = event_factory.moons_view()
    labels = event_factory.synthetic_labels(2)
    state.apply(
        [
            event_factory.run_started(2),
            view,
            event_factory.decision_boundary(view),
            event_factory.layer_health(),
            event_factory.resources(),
        ]
    )
    inputs = event_factory.tabular_inputs(len(labels))
    new_view = event_factory.moons_view(seed=4)
    state.apply([event_factory.run_started(2), new_view, inputs])  # one drain: reset, then its data
    insights = state.insights
    assert insights.data_view is new_view
    assert insights.validation_inputs is inputs
    assert insights.boundary is None
    assert insights.layer_health is None
    assert insights.resources is not None  # the same worker process


def test_resource_text_and_this_processes_memory() -> None:
    text = resources_text(event_factory.resources(), 160.4)
    assert text == "worker CPU 98% · 412 MiB · window 160 MiB"
    assert resources_text(event_factory.resources(), math.nan) == "worker CPU 98% · 412 MiB"
    if Path("/proc/self/statm").exists():
        assert 10 < resident_mib() < 100_000
