"""Insight events fold into the run state: newest kept, cleared by a new run, not by resources."""

from __future__ import annotations

import math
from pathlib import Path

from tests.gui import fake_events
from trainscope.engine.resources import resident_mib
from trainscope.gui.resources_readout import resources_text
from trainscope.gui.run_state import RunState


def test_the_newest_of_each_insight_is_kept_with_its_version() -> None:
    state = RunState()
    view = fake_events.moons_view()
    state.apply([fake_events.run_started(2), view, fake_events.decision_boundary(view, step=10)])
    newer = fake_events.decision_boundary(view, step=20)
    version = state.insights.boundary_version
    state.apply([newer, fake_events.layer_health(), fake_events.resources()])
    insights = state.insights
    assert insights.data_view is view
    assert insights.boundary is newer
    assert insights.boundary_version == version + 1
    assert insights.layer_health is not None
    assert insights.resources is not None


def test_a_new_run_forgets_the_old_models_views_but_keeps_what_follows_it() -> None:
    state = RunState()
    view = fake_events.moons_view()
    labels = fake_events.synthetic_labels(2)
    state.apply(
        [
            fake_events.run_started(2),
            view,
            fake_events.decision_boundary(view),
            fake_events.layer_health(),
            fake_events.resources(),
        ]
    )
    inputs = fake_events.tabular_inputs(len(labels))
    new_view = fake_events.moons_view(seed=4)
    state.apply([fake_events.run_started(2), new_view, inputs])  # one drain: reset, then its data
    insights = state.insights
    assert insights.data_view is new_view
    assert insights.validation_inputs is inputs
    assert insights.boundary is None
    assert insights.layer_health is None
    assert insights.resources is not None  # the same worker process


def test_resource_text_and_this_processes_memory() -> None:
    text = resources_text(fake_events.resources(), 160.4)
    assert text == "worker CPU 98% · 412 MiB · window 160 MiB"
    assert resources_text(fake_events.resources(), math.nan) == "worker CPU 98% · 412 MiB"
    if Path("/proc/self/statm").exists():
        assert 10 < resident_mib() < 100_000
