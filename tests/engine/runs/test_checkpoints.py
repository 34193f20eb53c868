"""Checkpoints on disk and forks: weights come back exactly, nothing in a file is executed."""

from __future__ import annotations

import os
import pickle

import pytest
import torch

from tests.engine.runs.helpers import lesson_config
from trainscope.engine import events as ev
from trainscope.engine.data import prepare_data
from trainscope.engine.errors import SettingError
from trainscope.engine.runs.checkpoints import (
    PeriodicCheckpoints,
    list_checkpoints,
    load_checkpoint,
    restore_into,
)
from trainscope.engine.runs.errors import RunFileError, RunStoreError
from trainscope.engine.runs.fork import fork_config, fork_origin
from trainscope.engine.runs.recorder import RunRecorder
from trainscope.engine.runs.store import RunStore
from trainscope.engine.trainer import Trainer


def _trainer(config=None) -> Trainer:
    config = config or lesson_config()
    return Trainer(config, prepare_data(config.dataset, config.seed), torch.device("cpu"))


def _train(trainer: Trainer, first: int, last: int) -> None:
    for step in range(first, last + 1):
        trainer.train_step(step)


def test_a_saved_checkpoint_restores_the_same_weights_and_optimizer(tmp_path):
    trainer = _trainer()
    _train(trainer, 1, 20)
    saver = PeriodicCheckpoints(tmp_path / "run", interval_s=0)
    path = saver.save(trainer.checkpoint(20), trainer.settings)
    expected = {name: tensor.clone() for name, tensor in trainer.model.state_dict().items()}
    fresh = _trainer()
    assert restore_into(fresh, path) == 20
    for name, tensor in fresh.model.state_dict().items():
        assert torch.equal(tensor, expected[name])
    restored, original = fresh.optimizer.state_dict(), trainer.optimizer.state_dict()
    assert restored["param_groups"] == original["param_groups"]
    for index, state in original["state"].items():
        for key, value in state.items():
            assert torch.equal(restored["state"][index][key], value), key
    assert load_checkpoint(path).meta["settings"]["lr"] == 1e-3


def test_rewind_discards_checkpoints_of_the_abandoned_branch(tmp_path):
    saver = PeriodicCheckpoints(tmp_path, interval_s=3600)
    trainer = _trainer()
    saver.save(trainer.checkpoint(10), trainer.settings)
    assert saver.maybe_save(trainer.checkpoint(20), trainer.settings) is None  # not due yet
    saver.save(trainer.checkpoint(30), trainer.settings)
    saver.discard_after(15)
    assert [step for step, _ in list_checkpoints(tmp_path)] == [10]


class _Exploit:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_a_checkpoint_that_would_run_code_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "step_5.pt"
    torch.save({"model_state": {}, "optimizer_state": {}, "meta": _Exploit()}, path)
    with pytest.raises(RunFileError, match="cannot be read safely"):
        load_checkpoint(path)
    path.write_bytes(pickle.dumps(_Exploit()))
    with pytest.raises(RunFileError, match="cannot be read safely"):
        load_checkpoint(path)
    path.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(RunFileError, match="cannot be read safely"):
        load_checkpoint(path)
    assert not (tmp_path / "pwned").exists()


def test_fork_starts_from_the_checkpoint_with_the_settings_then_in_force(tmp_path):
    with RunStore(tmp_path / "runs.sqlite") as store:
        config = lesson_config()
        recorder = RunRecorder(store, config)
        trainer = _trainer(config)
        saver = PeriodicCheckpoints(recorder.checkpoint_dir, interval_s=0)
        _train(trainer, 1, 40)
        saver.save(trainer.checkpoint(40), trainer.settings)
        trainer.apply_setting("lr", 0.01)  # the scheduled change at step 40
        recorder.record([ev.ParamChanged(step=41, key="lr", old=0.001, new=0.01)])
        _train(trainer, 41, 60)
        saver.save(trainer.checkpoint(60), trainer.settings)
        recorder.finish("stopped")

        forked, path = fork_config(store, recorder.run_id, 55, {"dropout": 0.2})
        assert path.name == "step_40.pt"
        assert forked.settings["lr"] == 1e-3
        assert forked.settings["dropout"] == 0.2
        assert [change.step for change in forked.schedule] == []  # step 40's change is in the past
        forked, path = fork_config(store, recorder.run_id, 60, {})
        assert path.name == "step_60.pt"
        assert forked.settings["lr"] == 0.01
        assert forked.steps == 120
        origin = fork_origin(store, recorder.run_id, path)
        assert origin["step"] == 60
        assert origin["run_id"] == recorder.run_id

        fork = _trainer(forked)
        assert restore_into(fork, path) == 60
        with pytest.raises(RunStoreError, match="no checkpoint at or before step 10"):
            fork_config(store, recorder.run_id, 10)
        with pytest.raises(SettingError, match="learning rate"):
            fork_config(store, recorder.run_id, 60, {"lr": -1})
