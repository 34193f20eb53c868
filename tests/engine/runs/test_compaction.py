"""A long run stays small: old steps fold into min/max/mean buckets, old evaluations thin out,
and replay, exports and archives still read the run — with every spike and NaN still there."""

from __future__ import annotations

import math
import sqlite3
import time
from typing import TYPE_CHECKING

import numpy as np
import pytest

from tests.engine.runs.helpers import fold, lesson_config
from tests.event_factory import small_evaluation
from trainscope.engine import events as ev
from trainscope.engine.runs.archive import import_archive, write_archive
from trainscope.engine.runs.compaction import CompactionPolicy
from trainscope.engine.runs.decimation import DecimatedSteps
from trainscope.engine.runs.export import export_run
from trainscope.engine.runs.recorder import RunRecorder
from trainscope.engine.runs.replay import ReplaySession, Seek
from trainscope.engine.runs.store import RunStore
from trainscope.engine.runs.timeline import Timeline

if TYPE_CHECKING:
    from pathlib import Path

#: A small policy, so a few tens of thousands of steps show what hours do at the real one.
SMALL = CompactionPolicy(
    recent_steps=2_000,
    slack_steps=1_000,
    first_width=16,
    max_buckets=64,
    recent_evaluations=5,
    old_evaluations=8,
    evaluation_slack=10,
)
BATCH = 100
SPIKE_STEP, NAN_STEP, REWIND = 1_234, 2_345, (9_000, 8_500)


def _evaluation(step: int, rng: np.random.Generator) -> ev.Evaluation:
    """A three-class validation evaluation of 60 rows (its metrics computed from the rows)."""
    return small_evaluation(step, rng.dirichlet(np.ones(3), size=60), rng.integers(0, 3, 60))


def _start(total: int) -> ev.RunStarted:
    config = lesson_config()
    return ev.RunStarted(
        "moons", ("a", "b", "c"), ("x", "y"), 100, 60, 60, "MLP", 100, "cpu",
        dict(config.settings), 0, total, 40, math.log(3),
    )  # fmt: skip


def synthetic_run(total: int, rewind: bool = True) -> list[list[object]]:
    """Frames of a ``total``-step run: a spike, a NaN, a change of lr, a rewind mid-way."""
    rng = np.random.default_rng(1)
    frames: list[list[object]] = [[_start(total), ev.StateChanged(0, "running")]]
    first, rewound = 1, not rewind
    while first <= total:
        steps = np.arange(first, min(first + BATCH, total + 1), dtype=np.int64)
        loss = np.exp(-steps / 5_000) + rng.normal(0, 0.01, len(steps))
        loss[steps == SPIKE_STEP] = 1e3
        loss[steps == NAN_STEP] = np.nan
        lr = np.where(steps >= 4_000, 0.01, 0.1)
        frame: list[object] = [
            ev.StepMetrics(steps, loss, rng.random(len(steps)), rng.random(len(steps)), lr,
                           float(steps[-1] / 40), 2_000.0)
        ]  # fmt: skip
        if steps[0] <= 4_000 <= steps[-1]:
            frame.insert(0, ev.ParamChanged(4_000, "lr", 0.1, 0.01))
        frame.append(_evaluation(int(steps[-1]), rng))
        if not rewound and steps[-1] == REWIND[0]:
            frame.append(ev.Rewound(*REWIND))
            first, rewound = REWIND[1] + 1, True
        else:
            first = int(steps[-1]) + 1
        frames.append(frame)
    frames.append([ev.Finished(total, "completed")])
    return frames


def record(path: Path, frames: list[list[object]], policy: CompactionPolicy | None) -> int:
    """Record frame by frame (the writer commits — and compacts — as it would live)."""
    with RunStore(path) as store:
        recorder = RunRecorder(
            store, lesson_config(), "long", commit_interval_s=0.005,
            compaction=policy, compact=policy is not None,
        )  # fmt: skip
    for index, frame in enumerate(frames):
        recorder.record(frame, at=index * 0.05)
        if index % 20 == 0:
            time.sleep(0.01)  # let the writer take a few commits (and passes) along the way
    # Waits for the whole run to be written: 0.7 s here, but past the 10 s default once on a
    # stalled CI machine, and these tests mean the finished recording, not the writer's speed.
    recorder.finish(timeout=300)
    return recorder.run_id


def _kinds(store: RunStore, run_id: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in store.iter_event_rows(run_id):
        counts[row.kind] = counts.get(row.kind, 0) + 1
    return counts


@pytest.fixture(scope="module")
def long_run(tmp_path_factory):
    """The same 30,000-step run recorded twice: exact, and compacted with the small policy."""
    folder = tmp_path_factory.mktemp("long")
    frames = synthetic_run(30_000)
    exact = record(folder / "exact.sqlite", frames, None)
    compacted = record(folder / "compacted.sqlite", frames, SMALL)
    with RunStore(folder / "compacted.sqlite") as store:
        store.compact(compacted, SMALL)  # what a finished run's last pass would have left
    return folder, exact, compacted


def test_old_steps_fold_into_few_buckets_and_recent_ones_stay_exact(long_run):
    folder, exact_id, run_id = long_run
    with RunStore(folder / "exact.sqlite") as store:
        exact = Timeline.from_events(store.iter_events(exact_id)).train
        exact_bytes = store.get_run(exact_id).stored_bytes
    with RunStore(folder / "compacted.sqlite") as store:
        kinds = _kinds(store, run_id)
        events = store.load_events(run_id)
        info = store.get_run(run_id)
    buckets = [event for event in events if isinstance(event, DecimatedSteps)]
    plain = [event for event in events if type(event) is ev.StepMetrics]
    assert sum(len(event.steps) for event in buckets) <= SMALL.max_buckets
    exact_steps = sum(len(event.steps) for event in plain)
    assert SMALL.recent_steps <= exact_steps <= SMALL.recent_steps + SMALL.slack_steps + BATCH
    assert kinds["Evaluation"] <= SMALL.recent_evaluations + SMALL.old_evaluations + 1
    # Nothing but steps and evaluations is ever thinned.
    for kind in ("RunStarted", "ParamChanged", "Rewound", "StateChanged", "Finished"):
        assert kinds[kind] == 1, kind
    assert info.steps == 30_000
    assert info.status == "completed"
    assert info.stored_bytes < exact_bytes / 5
    # The final timeline covers every step once: buckets count what they folded.
    train = Timeline.from_events(events).train
    assert int(train["steps_in_row"].sum()) == len(exact["step"])
    assert np.all(np.diff(train["step"]) > 0)
    np.testing.assert_array_equal(train["step"][-exact_steps:], exact["step"][-exact_steps:])


def test_a_spike_and_a_nan_are_never_averaged_away(long_run):
    folder, _, run_id = long_run
    with RunStore(folder / "compacted.sqlite") as store:
        train = Timeline.from_events(store.iter_events(run_id)).train
    spike = np.flatnonzero((train["first_step"] <= SPIKE_STEP) & (train["step"] >= SPIKE_STEP))
    assert len(spike) == 1
    assert train["steps_in_row"][spike[0]] > 1
    assert train["loss_max"][spike[0]] == 1e3
    assert train["loss"][spike[0]] < 1e3  # the mean, drawn; the spike is beside it
    holding_nan = np.flatnonzero((train["first_step"] <= NAN_STEP) & (train["step"] >= NAN_STEP))
    assert len(holding_nan) == 1
    assert math.isnan(train["loss"][holding_nan[0]])
    assert math.isfinite(train["loss_min"][holding_nan[0]])  # the other steps' spread stays


def test_a_rewind_still_cuts_exactly_what_it_cut_live(long_run):
    folder, exact_id, run_id = long_run
    with RunStore(folder / "exact.sqlite") as store:
        exact = Timeline.from_events(store.iter_events(exact_id)).train
    with RunStore(folder / "compacted.sqlite") as store:
        train = Timeline.from_events(store.iter_events(run_id)).train
    before = train["step"] <= REWIND[1]
    assert int(train["steps_in_row"][before].sum()) == int((exact["step"] <= REWIND[1]).sum())
    assert not np.any((train["first_step"] <= REWIND[1]) & (train["step"] > REWIND[1]))


def test_replay_and_seek_play_buckets_as_their_means(long_run):
    folder, _, run_id = long_run
    with RunStore(folder / "compacted.sqlite") as store:
        replay = ReplaySession(store, run_id, speed="max")
        state = fold([])
        replay.start()
        while not replay.at_end:
            state.apply(replay.drain())
        assert state.step == 30_000
        assert state.state == "finished"
        assert np.all(np.diff(state.train.column("step")) > 0)
        assert any(marker.kind == "rewind" for marker in state.markers)
        replay.send(Seek(5_000))  # deep in the bucketed part
        seeked = fold(replay.drain())
        replay.close()
    assert 5_000 - 64 * 16 < seeked.step <= 5_000
    assert seeked.settings["lr"] == 0.01  # the change at step 4,000 came through the seek


def test_exports_and_archives_of_a_compacted_run_work(long_run, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    folder, _, run_id = long_run
    with RunStore(folder / "compacted.sqlite") as store:
        csv_folder = export_run(store, run_id, "csv", tmp_path / "csv")
        board = export_run(store, run_id, "tensorboard", tmp_path / "tb")
        archive = write_archive(store, run_id, tmp_path / "long.zip")
        events = store.load_events(run_id)
    header = (csv_folder / "train_steps.csv").read_text().splitlines()[0]
    assert header.endswith("first_step,steps_in_row,loss_min,loss_max,grad_norm_min,grad_norm_max")
    accumulator = EventAccumulator(str(board))
    accumulator.Reload()
    assert max(event.value for event in accumulator.Scalars("train/loss_max")) == 1e3
    with RunStore(tmp_path / "theirs.sqlite") as theirs:
        imported = import_archive(theirs, archive)
        again = theirs.load_events(imported)
        assert theirs.get_run(imported).steps == 30_000
    assert [type(event) for event in again] == [type(event) for event in events]


def test_a_run_twice_as_long_takes_about_the_same_space(tmp_path):
    sizes = {}
    for total in (20_000, 40_000):
        path = tmp_path / f"{total}.sqlite"
        run_id = record(path, synthetic_run(total, rewind=False), SMALL)
        with RunStore(path) as store:
            store.compact(run_id, SMALL)
            sizes[total] = store.get_run(run_id).stored_bytes
    assert sizes[40_000] < 1.25 * sizes[20_000], sizes


def _file_bytes(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.stat().st_size


def test_deleting_runs_gives_the_space_back(tmp_path):
    path = tmp_path / "runs.sqlite"
    run_ids = [record(path, synthetic_run(6_000, rewind=False), None) for _ in range(2)]
    full = _file_bytes(path)
    with RunStore(path) as store:
        store.delete(run_ids[0])
        one_left = store.file_bytes
        store.delete(run_ids[1])
        empty = store.file_bytes
    assert one_left < 0.6 * full, (full, one_left, empty)
    assert empty < 0.1 * full, (full, one_left, empty)


def _as_version_1(path: Path) -> None:
    """Turn a store into what the first TrainScope wrote: no size column, no auto-vacuum."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("ALTER TABLE runs DROP COLUMN stored_bytes")
    connection.execute("ALTER TABLE runs DROP COLUMN experiment")  # version 3's
    connection.execute("UPDATE schema_version SET version = 1")
    connection.executescript("PRAGMA auto_vacuum = NONE; VACUUM;")
    assert connection.execute("PRAGMA auto_vacuum").fetchone()[0] == 0
    connection.close()


def test_a_store_from_before_compaction_opens_compacts_and_shrinks(tmp_path):
    path = tmp_path / "runs.sqlite"
    old, kept = (record(path, synthetic_run(30_000), None) for _ in range(2))
    _as_version_1(path)
    with RunStore(path) as store:
        sizes = {info.id: info.stored_bytes for info in store.list_runs()}
        assert sizes[old] == sizes[kept] > 100_000  # filled in by the migration
        exact = Timeline.from_events(store.iter_events(kept)).train
        report = store.compact(kept, SMALL)
        assert report.steps_folded > 0
        assert report.rows_after < report.rows_before / 4
        train = Timeline.from_events(store.iter_events(kept)).train
        assert int(train["steps_in_row"].sum()) == len(exact["step"])
        assert store.get_run(kept).stored_bytes < sizes[kept] / 4
        before = _file_bytes(path)
        store.delete(old)  # converts the file to incremental auto-vacuum on the way
        after = store.file_bytes
    assert after < 0.5 * before, (before, after)
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA auto_vacuum").fetchone()[0] == 2
        assert connection.execute("SELECT version FROM schema_version").fetchone()[0] == 3
