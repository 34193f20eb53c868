"""Comparing runs: the settings that differ and the numbers side by side."""

from __future__ import annotations

import dataclasses

import pytest

from tests.engine.runs.helpers import lesson_config, rerecord
from trainscope.engine.runs.compare import compare_runs
from trainscope.engine.runs.errors import RunStoreError
from trainscope.engine.runs.recorder import RunRecorder
from trainscope.engine.runs.store import RunStore


def test_differences_and_numbers_side_by_side(recorded, tmp_path):
    _, _, live = recorded
    path = tmp_path / "runs.sqlite"
    first = rerecord(path, live, name="baseline")
    with RunStore(path) as store:
        config = dataclasses.replace(lesson_config().with_settings(lr=0.1), seed=8, schedule=())
        recorder = RunRecorder(store, config, name="hot")
        recorder.record(live[:3])  # started and evaluated once, then stopped
        recorder.finish("stopped")
        comparison = compare_runs(store, [first, recorder.run_id])
        with pytest.raises(RunStoreError, match="at least one run"):
            compare_runs(store, [])
        with pytest.raises(RunStoreError, match="no run 42"):
            compare_runs(store, [first, 42])
    assert comparison.names == ("baseline", "hot")
    assert comparison.statuses == ("completed", "stopped")
    assert comparison.differing["settings.lr"] == (0.001, 0.1)
    assert comparison.differing["seed"] == (7, 8)
    assert comparison.differing["schedule"] == (("40:lr=0.01",), ())
    assert comparison.shared["dataset.name"] == "moons"
    assert comparison.shared["model.hidden"] == (16,)
    assert "settings.dropout" not in comparison.differing
    assert comparison.final["steps"] == (110, 0)
    assert comparison.final["val_accuracy"][0] is not None
    assert "test_accuracy" in comparison.final  # the baseline opened its test set
    assert comparison.best["best_step"][0] is not None
    assert comparison.changes == (("step 40: lr 0.001 → 0.01",), ())
