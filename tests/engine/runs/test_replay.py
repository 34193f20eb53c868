"""Replay: panels folded from a replay hold exactly what they held live, at any step."""

from __future__ import annotations

import time

import numpy as np
import pytest

from tests.engine.runs.helpers import assert_same, fold, lesson_config, live_prefix, panel_data
from trainscope.engine import commands as cmd
from trainscope.engine import events as ev
from trainscope.engine.errors import SettingError
from trainscope.engine.runs.recorder import RunRecorder
from trainscope.engine.runs.replay import ReplaySeeked, ReplaySession, Seek, SetSpeed
from trainscope.engine.runs.store import RunStore
from trainscope.gui.run_state import RunState


def _play_to_end(replay: ReplaySession) -> list:
    events: list = []
    deadline = time.monotonic() + 30
    while not replay.at_end:
        assert time.monotonic() < deadline
        events.extend(replay.drain())
    return events


def test_a_full_replay_folds_to_the_live_panels(recorded):
    path, run_id, live = recorded
    with RunStore(path) as store:
        replay = ReplaySession(store, run_id, speed="max")
        replay.start()
        replayed = _play_to_end(replay)
        replay.close()
    state = fold(replayed)
    assert_same(panel_data(state), panel_data(fold(live)), "panels")
    assert {marker.kind for marker in state.markers} >= {"param", "test_opened", "rewind"}
    assert not replay.is_alive()


@pytest.mark.parametrize("step", [0, 1, 37, 40, 41, 95, 115, 120, 10_000])
def test_seek_shows_the_panels_as_they_were_at_that_step(recorded, step):
    path, run_id, live = recorded
    with RunStore(path) as store:
        replay = ReplaySession(store, run_id, speed=1)
        replay.start()
        replay.send(Seek(step))
        answer = replay.drain()
        replay.close()
    assert answer[0] == ReplaySeeked(step)
    expected = panel_data(fold(live_prefix(live, step)))
    assert_same(panel_data(fold(answer[1:])), expected, f"panels at step {step}")
    if step < 120:  # the run never went past 120: a seek there shows its end (after the rewind)
        assert expected["status"][1] == step


def test_step_advances_exactly_n_steps_and_pauses(recorded):
    path, run_id, live = recorded
    with RunStore(path) as store:
        replay = ReplaySession(store, run_id, speed=1)
        replay.start()
        replay.send(Seek(20))
        replay.send(cmd.Step(5))
        events = replay.drain()
        time.sleep(0.1)
        assert replay.drain() == []  # paused after the step
        replay.close()
    assert replay.step == 25
    assert events[-1] == ev.StateChanged(25, "paused")
    state = fold(events[1:])
    assert_same(state.train.view(), fold(live_prefix(live, 25)).train.view(), "train after step")


def _synthetic_run(store: RunStore, seconds: float = 2.0, points: int = 21) -> int:
    """A run whose step batches were recorded evenly over ``seconds``."""
    recorder = RunRecorder(store, lesson_config())
    for index in range(points):
        step = np.array([index + 1], dtype=np.int64)
        batch = ev.StepMetrics(step, np.ones(1), np.ones(1), np.ones(1), np.ones(1), 0.1, 10.0)
        recorder.record([batch], at=seconds * index / (points - 1))
    recorder.finish("completed")
    return recorder.run_id


def test_speed_paces_the_replay_and_pause_holds_it(tmp_path):
    with RunStore(tmp_path / "runs.sqlite") as store:
        run_id = _synthetic_run(store)
        replay = ReplaySession(store, run_id, speed=1)
        replay.start()
        first = replay.drain()
        assert 1 <= len(first) < 21  # at 1x, two recorded seconds do not arrive at once
        replay.send(cmd.Pause())
        assert replay.drain()[-1].state == "paused"
        time.sleep(0.3)
        assert replay.drain() == []
        replay.send(SetSpeed(16))
        replay.send(cmd.Resume())
        started = time.monotonic()
        _play_to_end(replay)
        elapsed = time.monotonic() - started
        assert elapsed < 1.5  # ~0.125 s of wall time at 16x
        replay.send(cmd.Stop())
        assert replay.drain() == [ev.StateChanged(replay.step, "stopped")]
        assert not replay.is_alive()
        assert replay.drain() == []


def test_commands_that_would_change_history_are_refused(tmp_path):
    with RunStore(tmp_path / "runs.sqlite") as store:
        replay = ReplaySession(store, _synthetic_run(store), speed="max")
        replay.start()
        replay.send(cmd.SetParam("lr", 0.5))
        replay.send(cmd.Rewind())
        refusals = [e for e in replay.drain() if isinstance(e, ev.CommandRefused)]
        replay.close()
    assert len(refusals) == 2
    assert "fork it" in refusals[0].message


def test_bad_speeds_and_seeks_are_one_sentence():
    with pytest.raises(SettingError, match="replay speed"):
        SetSpeed(0)
    with pytest.raises(SettingError, match="replay speed"):
        SetSpeed("fast")
    with pytest.raises(SettingError, match="seek needs"):
        Seek(-1)


def test_a_panel_state_that_lives_across_seeks_matches_a_fresh_one(recorded):
    path, run_id, live = recorded
    state = RunState()  # it starts over on ReplaySeeked
    with RunStore(path) as store:
        replay = ReplaySession(store, run_id, speed="max")
        replay.start()
        state.apply(_play_to_end(replay))
        for step in (95, 30, 115):
            replay.send(Seek(step))
            state.apply(replay.drain())
            assert_same(
                panel_data(state), panel_data(fold(live_prefix(live, step))), f"seek {step}"
            )
        replay.close()
