"""Helpers for the run-store tests: record a real run, compare events, fold panel state."""

from __future__ import annotations

import dataclasses
import math
import time
from typing import TYPE_CHECKING

import numpy as np

from tests.engine.session_helpers import small_config
from trainscope.engine import commands as cmd
from trainscope.engine import events as ev
from trainscope.engine.config import RunConfig, ScheduledChange
from trainscope.engine.runs.recorder import RunRecorder
from trainscope.engine.runs.replay import split_step_metrics
from trainscope.engine.runs.store import RunStore
from trainscope.gui.run_state import RunState

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path


def lesson_config() -> RunConfig:
    """A tiny run with a scripted change, so markers and settings have something to show."""
    return small_config(steps=120, schedule=(ScheduledChange(40, cmd.SetParam("lr", 0.01)),))


def pump(
    session, recorder: RunRecorder | None, events: list, until: Callable[[list], bool]
) -> None:
    """Drain the session into ``events`` (recording each batch) until ``until(events)`` holds."""
    deadline = time.monotonic() + 30.0
    while time.monotonic() < deadline:
        batch = session.drain()
        if recorder is not None:
            recorder.record(batch)
        events.extend(batch)
        if until(events):
            return
        time.sleep(0.01)
    raise AssertionError(f"condition not met in time; last events: {events[-5:]}")


def record_live_run(path: Path, config: RunConfig | None = None) -> tuple[int, list]:
    """Train for real: open the test set, finish, rewind once, stop — all of it recorded."""
    from trainscope.engine.session import ThreadSession

    config = config or lesson_config()
    with RunStore(path) as store:
        recorder = RunRecorder(store, config, name="live lesson")
    session = ThreadSession(config)
    events: list = []
    session.start()
    try:
        session.send(cmd.OpenTestSet())
        pump(session, recorder, events, lambda e: any(isinstance(x, ev.Finished) for x in e))
        session.send(cmd.Rewind())
        pump(session, recorder, events, _evaluated_after_rewind)
    finally:
        session.close()
    tail = session.drain()
    recorder.record(tail)
    events.extend(tail)
    recorder.finish()
    # The store leaves insight events out by design (see RunRecorder.record): "live" here means
    # what a recording is expected to give back.
    return recorder.run_id, [event for event in events if not isinstance(event, ev.INSIGHT_EVENTS)]


def _evaluated_after_rewind(events: list) -> bool:
    rewinds = [i for i, event in enumerate(events) if isinstance(event, ev.Rewound)]
    return bool(rewinds) and any(
        isinstance(event, ev.Evaluation) and event.split == "validation"
        for event in events[rewinds[0] :]
    )


def assert_same(left: object, right: object, where: str = "event") -> None:
    """Deep equality where arrays compare element-wise and NaN equals NaN."""
    if isinstance(left, np.ndarray) or isinstance(right, np.ndarray):
        assert isinstance(left, np.ndarray), where
        assert isinstance(right, np.ndarray), where
        assert left.dtype == right.dtype, where
        assert left.shape == right.shape, where
        np.testing.assert_array_equal(left, right, err_msg=where)
    elif dataclasses.is_dataclass(left) and not isinstance(left, type):
        assert type(left) is type(right), f"{where}: {type(left)} != {type(right)}"
        for field in dataclasses.fields(left):
            assert_same(
                getattr(left, field.name), getattr(right, field.name), f"{where}.{field.name}"
            )
    elif isinstance(left, dict):
        assert isinstance(right, dict), where
        assert left.keys() == right.keys(), where
        for key in left:
            assert_same(left[key], right[key], f"{where}[{key!r}]")
    elif isinstance(left, tuple | list):
        assert type(left) is type(right), where
        assert len(left) == len(right), where
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            assert_same(a, b, f"{where}[{index}]")
    elif isinstance(left, float) and math.isnan(left):
        assert isinstance(right, float), where
        assert math.isnan(right), where
    else:
        assert left == right, f"{where}: {left!r} != {right!r}"
        assert type(left) is type(right), f"{where}: {left!r} != {right!r}"


def assert_events_same(left: list, right: list) -> None:
    assert len(left) == len(right), f"{len(left)} events != {len(right)}"
    for index, (a, b) in enumerate(zip(left, right, strict=True)):
        assert_same(a, b, f"event {index} ({type(a).__name__})")


def fold(events: Iterable[object]) -> RunState:
    state = RunState()
    state.apply(events)
    return state


def panel_data(state: RunState) -> dict:
    """What the panels draw from: curves, markers, best, status, latest evaluation per split."""
    return {
        "train": state.train.view(),
        "evaluations": state.evaluations.view(),
        "markers": list(state.markers),
        "best": (state.best_step, state.best_val_loss),
        "status": (state.state, state.step, state.epoch, state.steps_per_second),
        "settings": dict(state.settings),
        "messages": list(state.messages),
        "latest": dict(state.latest_by_split),
        "run": state.run,
    }


def live_prefix(events: list, step: int) -> list:
    """The live events a panel had folded when the run first reached ``step`` (batch cut there)."""
    steps_per_epoch, prefix = 1, []
    for event in events:
        if isinstance(event, ev.RunStarted):
            steps_per_epoch = event.steps_per_epoch
        if isinstance(event, ev.StepMetrics) and len(event.steps) and event.steps[-1] > step:
            head, _ = split_step_metrics(event, step, steps_per_epoch)
            return prefix + ([head] if len(head.steps) else [])
        prefix.append(event)
    return prefix


def rerecord(path: Path, events: list, with_checkpoint: bool = False, name: str = "copy") -> int:
    """Record already-collected events into another store (and save a real checkpoint)."""
    with RunStore(path) as store:
        recorder = RunRecorder(store, lesson_config(), name)
    recorder.record(events)
    if with_checkpoint:
        save_trained_checkpoint(recorder.checkpoint_dir, step=120)
    recorder.finish()
    return recorder.run_id


def save_trained_checkpoint(folder: Path, step: int) -> Path:
    """Train a real trainer a few steps and save its checkpoint as the session would."""
    import torch

    from trainscope.engine.data import prepare_data
    from trainscope.engine.runs.checkpoints import PeriodicCheckpoints
    from trainscope.engine.trainer import Trainer

    config = lesson_config()
    trainer = Trainer(config, prepare_data(config.dataset, config.seed), torch.device("cpu"))
    for number in range(1, 6):
        trainer.train_step(number)
    return PeriodicCheckpoints(folder, interval_s=0).save(
        trainer.checkpoint(step), trainer.settings
    )
