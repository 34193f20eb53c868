"""Recording a real run: everything the session emitted comes back exactly, filed correctly."""

from __future__ import annotations

import sqlite3
import time

import numpy as np

from tests.engine.runs.helpers import assert_events_same, lesson_config
from trainscope.engine import events as ev
from trainscope.engine.runs.recorder import RunRecorder
from trainscope.engine.runs.store import RunStore


def test_recorded_events_load_back_exactly(recorded):
    path, run_id, live = recorded
    with RunStore(path) as store:
        loaded = store.load_events(run_id)
    assert_events_same(loaded, live)
    assert any(isinstance(event, ev.Evaluation) and event.split == "test" for event in loaded)


def test_run_row_says_how_it_was_made_and_how_it_ended(recorded):
    path, run_id, live = recorded
    with RunStore(path) as store:
        info = store.get_run(run_id)
        config = store.run_config(run_id)
        changes = store.load_events(run_id, kinds=("ParamChanged",))
    assert info.status == "completed"  # finished its plan, then was stopped after a rewind
    assert info.name == "live lesson"
    assert info.dataset == "moons"
    assert info.seed == 7
    assert info.device == "cpu"
    assert info.ended is not None
    assert config == lesson_config()
    assert info.versions["numpy"]
    assert info.versions["python"]
    assert info.test_opened_at == 0
    assert [(change.step, change.key, change.new) for change in changes] == [(40, "lr", 0.01)]
    last = [e for e in live if isinstance(e, ev.Evaluation) and e.split == "validation"][-1]
    assert info.final["val_accuracy"] == last.accuracy
    assert info.steps == 110  # rewound from 120 to 110 before the stop
    assert info.final["best_val_loss"] <= info.final["val_loss"]


def test_events_are_committed_while_the_run_goes_on(tmp_path):
    """Another connection sees recorded events while the run goes on, before ``finish``."""
    store = RunStore(tmp_path / "runs.sqlite")
    recorder = RunRecorder(store, lesson_config())
    recorder.record([ev.TestSetOpened(step=3)])
    deadline = time.monotonic() + 5.0
    seen = 0
    with sqlite3.connect(tmp_path / "runs.sqlite") as reader:
        while time.monotonic() < deadline and not seen:
            seen = reader.execute("SELECT count(*) FROM events").fetchone()[0]
            time.sleep(0.05)
    recorder.finish("stopped")
    assert seen == 1
    info = store.get_run(recorder.run_id)
    assert info.status == "stopped"
    assert info.test_opened_at == 3
    store.close()


def test_a_divergence_files_the_run_as_diverged(tmp_path):
    with RunStore(tmp_path / "runs.sqlite") as store:
        recorder = RunRecorder(store, lesson_config())
        recorder.record([ev.Diverged(step=5, loss=float("nan"), message="boom")])
        recorder.record([ev.Finished(step=5, reason="stopped")])
        assert recorder.finish() == "diverged"
        assert store.get_run(recorder.run_id).status == "diverged"


def test_a_run_whose_training_died_is_interrupted(tmp_path):
    with RunStore(tmp_path / "runs.sqlite") as store:
        recorder = RunRecorder(store, lesson_config())
        message = "the training process was killed by signal 9 (SIGKILL)"
        recorder.record([ev.Error(message=message, detail=""), ev.StateChanged(0, "error")])
        assert recorder.finish() == "interrupted"


def test_insight_events_are_not_recorded(tmp_path):
    """Boundary grids, layer health, resources…: large views of a model replay does not have."""
    grid = np.zeros((4, 4), dtype=np.float32)
    insights = [
        ev.DecisionBoundary(3, grid.astype(np.int16), grid, None, 1.0),
        ev.ValidationInputs(np.zeros((2, 2), dtype=np.float32), ("a", "b"), None),
        ev.Resources(step=3, cpu_percent=90.0, rss_mib=300.0, gpu_memory_mib=None),
    ]
    with RunStore(tmp_path / "runs.sqlite") as store:
        recorder = RunRecorder(store, lesson_config())
        recorder.record([ev.TestSetOpened(step=3), *insights, ev.Finished(3, "stopped")])
        recorder.finish()
        loaded = store.load_events(recorder.run_id)
    assert [type(event) for event in loaded] == [ev.TestSetOpened, ev.Finished]
