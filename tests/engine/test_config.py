"""``RunConfig.validate``: everything a run would refuse later is refused before it starts."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tests.engine.session_helpers import collect_until, of_type, small_config
from trainscope.engine import device as device_module
from trainscope.engine import events as ev
from trainscope.engine.commands import SetParam
from trainscope.engine.config import DatasetSpec, RunConfig, ScheduledChange
from trainscope.engine.data import training_rows
from trainscope.engine.device import check_device
from trainscope.engine.errors import ConfigError, DataError
from trainscope.engine.runs.configs import config_from_dict, config_to_dict
from trainscope.engine.session import ThreadSession

REPO = Path(__file__).resolve().parents[2]


def test_the_boundary_modules_stay_torch_free():
    code = "import sys, trainscope.engine.config, trainscope.engine.cli, trainscope.engine.device; print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("changes", "error", "words"),
    [
        ({"epochs": float("nan")}, ConfigError, "epochs must be a number greater than 0"),
        ({"epochs": float("inf")}, ConfigError, "epochs must be a number greater than 0"),
        ({"seed": -1}, DataError, "seed must be between 0"),
        ({"device": "tpu"}, ConfigError, "unknown device 'tpu'"),
        ({"device": "cuda:x"}, ConfigError, "unknown device 'cuda:x'"),
        ({"dataset": DatasetSpec(name="moons", noise=-1.0)}, DataError, "noise must be"),
        ({"dataset": DatasetSpec(n_samples=-10)}, DataError, "n_samples must be at least 30"),
        ({"dataset": DatasetSpec(label_noise=2.0)}, DataError, "label_noise must be"),
        ({"dataset": DatasetSpec(shift=float("nan"))}, DataError, "shift must be"),
    ],
)
def test_bad_values_are_refused_by_validate(changes, error, words):
    with pytest.raises(error, match=words):
        replace(RunConfig(), **changes).validate()


def test_cuda_is_refused_where_no_nvidia_driver_answers(monkeypatch):
    monkeypatch.setattr(device_module, "_torch_build", lambda: "cuda")
    monkeypatch.setattr(device_module, "_driver_gpu_count", lambda: 0)
    monkeypatch.setattr(device_module, "_loaded_torch", lambda: None)
    with pytest.raises(ConfigError, match="no CUDA GPU is available"):
        check_device("cuda")


def test_cuda_is_refused_by_a_cpu_only_pytorch_and_a_missing_index(monkeypatch):
    monkeypatch.setattr(device_module, "_loaded_torch", lambda: None)
    monkeypatch.setattr(device_module, "_torch_build", lambda: "cpu")
    with pytest.raises(ConfigError, match="installed without CUDA support"):
        check_device("cuda")
    monkeypatch.setattr(device_module, "_torch_build", lambda: "cuda")
    monkeypatch.setattr(device_module, "_driver_gpu_count", lambda: 2)
    assert check_device(" CUDA:1 ") == "cuda:1"
    with pytest.raises(ConfigError, match="has 2 GPU"):
        check_device("cuda:2")


def test_a_rocm_pytorch_leaves_the_gpu_count_to_torch(monkeypatch):
    monkeypatch.setattr(device_module, "_loaded_torch", lambda: None)
    monkeypatch.setattr(device_module, "_torch_build", lambda: "rocm")
    assert check_device("cuda") == "cuda"  # resolve_device asks torch when the model is built


def test_mps_needs_a_mac(monkeypatch):
    monkeypatch.setattr(device_module, "_loaded_torch", lambda: None)
    monkeypatch.setattr(device_module.sys, "platform", "linux")
    with pytest.raises(ConfigError, match="only available on a Mac"):
        check_device("mps")
    monkeypatch.setattr(device_module.sys, "platform", "darwin")
    assert check_device("mps") == "mps"


def test_auto_and_cpu_are_always_fine():
    assert check_device("auto") == "auto"
    assert check_device("CPU") == "cpu"


def test_the_installed_pytorch_build_is_read_without_importing_it():
    code = (
        "import sys; from trainscope.engine.device import _torch_build; "
        "print(_torch_build(), 'torch' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    build, imported = result.stdout.split()
    import torch

    expected = "rocm" if torch.version.hip else ("cuda" if torch.version.cuda else "cpu")
    assert (build, imported) == (expected, "False")


def test_scheduled_changes_beyond_the_planned_steps_are_refused():
    late = ScheduledChange(step=51, change=SetParam("lr", 0.1))
    with pytest.raises(ConfigError, match="step 51 would never happen.*50 steps"):
        small_config(steps=50, schedule=(late,)).validate_to_start()
    small_config(steps=51, schedule=(late,)).validate_to_start()
    small_config(steps=None, epochs=None, schedule=(late,)).validate_to_start()  # until stopped


def test_the_planned_length_in_epochs_is_the_one_the_session_runs():
    """The boundary counts steps per epoch exactly as the session does (same data, same rule)."""
    config = small_config(epochs=1.5, settings={"batch_size": 24})
    planned = config.planned_steps(training_rows(config.dataset, config.seed))
    session = ThreadSession(config)
    session.start()
    try:
        events = collect_until(session, [], lambda e: bool(of_type(e, ev.RunStarted)))
    finally:
        session.close()
    assert of_type(events, ev.RunStarted)[0].max_steps == planned
    on_time = ScheduledChange(step=planned, change=SetParam("lr", 0.1))
    replace(config, schedule=(on_time,)).validate_to_start()
    too_late = ScheduledChange(step=planned + 1, change=SetParam("lr", 0.1))
    with pytest.raises(ConfigError, match=f"which is {planned} steps"):
        replace(config, schedule=(too_late,)).validate_to_start()


def test_a_recorded_config_from_another_machine_still_validates(monkeypatch):
    """validate() is what a stored run is checked with: a GPU run opens on a laptop; only a
    new run started here (validate_to_start) needs the GPU."""
    monkeypatch.setattr(device_module, "_loaded_torch", lambda: None)
    monkeypatch.setattr(device_module, "_torch_build", lambda: "cpu")
    late = ScheduledChange(step=500, change=SetParam("lr", 0.1))
    recorded = small_config(device="cuda", steps=50, schedule=(late,))
    assert config_from_dict(config_to_dict(recorded)) == recorded
    with pytest.raises(ConfigError, match="no CUDA GPU"):
        recorded.validate_to_start()
