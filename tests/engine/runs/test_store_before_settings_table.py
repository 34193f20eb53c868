"""A run store written by the code before the settings table (and before label smoothing).

``data/store-before-settings-table`` was recorded by commit 5074d33 (``main.py --headless
--dataset moons --hidden 8 --steps 60 --eval-every 20 --set lr=0.01``): its config has no
``label_smoothing``. Today's code must still list, replay, compare, fork, export and import it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from trainscope.engine import events as ev
from trainscope.engine.runs.archive import import_archive, write_archive
from trainscope.engine.runs.compare import flatten_settings
from trainscope.engine.runs.fork import fork_config
from trainscope.engine.runs.replay import ReplaySession
from trainscope.engine.runs.store import RunStore

OLD_STORE = Path(__file__).with_name("data") / "store-before-settings-table"


@pytest.fixture
def store(tmp_path):
    copy = tmp_path / "runs"
    shutil.copytree(OLD_STORE, copy)  # never write into the fixture itself
    with RunStore.open_dir(copy) as opened:
        yield opened


def test_the_old_run_lists_with_its_recorded_config(store):
    (info,) = store.list_runs()
    assert info.name == "recorded before the settings table"
    assert info.status == "completed"
    assert info.steps == 60
    assert "label_smoothing" not in info.config["settings"]
    assert store.run_config(info.id).settings["lr"] == 0.01


def test_it_replays_to_its_end(store):
    replay = ReplaySession(store, 1, speed="max")
    replay.start()
    events: list = []
    while not replay.at_end:
        events += replay.drain()
    evaluations = [event for event in events if isinstance(event, ev.Evaluation)]
    assert [evaluation.step for evaluation in evaluations] == [0, 20, 40, 60]
    replay.close()


def test_comparing_it_shows_the_setting_it_predates_at_its_default(store):
    flat = flatten_settings(store.get_run(1))
    assert flat["settings.label_smoothing"] == 0.0
    assert flat["settings.lr"] == 0.01


def test_it_forks_with_a_setting_it_never_had(store):
    config, checkpoint = fork_config(store, 1, 40, {"label_smoothing": 0.1})
    assert checkpoint.name == "step_20.pt"
    assert config.settings["label_smoothing"] == 0.1
    assert config.settings["lr"] == 0.01


def test_it_travels_as_an_archive_into_a_new_store(store, tmp_path):
    archive = write_archive(store, 1, tmp_path / "old.zip")
    with RunStore.open_dir(tmp_path / "elsewhere") as other:
        run_id = import_archive(other, archive)
        assert other.get_run(run_id).steps == 60
