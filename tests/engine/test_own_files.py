"""``--model-file PATH.py:CLASS`` / ``--model-args`` / ``--data FILE.npz``: your own model and
arrays from the command line, run as a user runs them (a real process, real flags)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from tests.engine.test_cli import REPO, run_main, summary_of
from trainscope.engine.errors import ScenarioError
from trainscope.engine.scenario import load_scenario
from trainscope.engine.scenario_schema import CODE_REFUSAL

MODEL = """
from torch import nn


class Net(nn.Module):
    def __init__(self, hidden: int = 16, classes: int = 3):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(4, hidden), nn.ReLU(), nn.Dropout(0.1), nn.Linear(hidden, classes)
        )

    def forward(self, x):
        return self.layers(x)


class Broken(nn.Module):
    def __init__(self):
        super().__init__()
        raise RuntimeError("no layers yet")
"""


@pytest.fixture
def files(tmp_path):
    """A student's folder: a model file and an .npz of blobs (with a validation split)."""
    (tmp_path / "net.py").write_text(MODEL)
    labels = np.arange(300) % 3
    centres = np.random.default_rng(7).normal(0, 3, (3, 4))
    x = (centres[labels] + np.random.default_rng(0).normal(0, 0.5, (300, 4))).astype(np.float32)
    np.savez(tmp_path / "blobs.npz", X=x[:240], y=labels[:240], X_val=x[240:], y_val=labels[240:])
    np.savez(tmp_path / "no_labels.npz", X=x)
    (tmp_path / "bad.py").write_text("import torch\n\nraise ValueError('oops')\n")
    return tmp_path


def test_your_model_file_trains_on_your_arrays_headless(files):
    summary = summary_of(
        run_main(
            "--model-file", f"{files / 'net.py'}:Net", "--model-args", '{"hidden": 32}',
            "--data", str(files / "blobs.npz"), "--epochs", "15", "--json",
        )
    )  # fmt: skip
    assert summary["model"] == "Net (your model)"
    # All 240 rows trained (15 epochs of 8 batches of 32): the file's X_val validated, no
    # share of X was held out for it.
    assert summary["steps"] == 120
    assert summary["final"]["val_accuracy"] > 0.9


def test_your_arrays_train_the_bundled_model_without_a_model_file(files):
    summary = summary_of(
        run_main(
            "--data", str(files / "blobs.npz"), "--hidden", "16", "--epochs", "10",
            "--set", "lr=0.01", "--json",
        )
    )  # fmt: skip
    assert summary["final"]["val_accuracy"] > 0.9


def test_the_same_seed_gives_the_same_run_with_your_files(files):
    """The model is built after seeding: its first weights, and so every number, repeat."""
    flags = ("--model-file", f"{files / 'net.py'}:Net", "--data", str(files / "blobs.npz"))
    first, again = (
        summary_of(run_main(*flags, "--epochs", "2", "--seed", "7", "--json")) for _ in range(2)
    )
    assert first["final"] == again["final"]


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (("--model-file", "{d}/net.py:Nope", "--data", "{d}/blobs.npz"), "has no nn.Module class Nope; it defines Net"),
        (("--model-file", "{d}/missing.py:Net"), "does not exist"),
        (("--model-file", "{d}/net.py", "--data", "{d}/blobs.npz"), "takes PATH.py:CLASS"),
        (("--model-file", "{d}/net.py:Net", "--model-args", "{{bad", "--data", "{d}/blobs.npz"), "is not JSON"),
        (("--model-file", "{d}/net.py:Net", "--model-args", "[1]", "--data", "{d}/blobs.npz"), "a JSON object"),
        (("--model-file", "{d}/net.py:Net", "--model-args", '{{"classes": 5}}', "--data", "{d}/blobs.npz"), "your model outputs 5 values per example, the data has 3 classes"),
        (("--model-file", "{d}/net.py:Broken", "--data", "{d}/blobs.npz"), "Broken(**{}) raised RuntimeError: no layers yet"),
        (("--model-file", "{d}/bad.py:Net", "--data", "{d}/blobs.npz"), "importing bad.py failed at line 3: ValueError: oops"),
        (("--data", "{d}/no_labels.npz"), "it has X but no y"),
        (("--data", "{d}/nothing.npz"), "the file does not exist"),
        (("--data", "{d}/net.py"), "not a numpy .npz file"),
        (("--model-args", "{{}}", "--data", "{d}/blobs.npz"), "add --model-file"),
        (("--model-file", "{d}/net.py:Net", "--scenario", "overfitting"), "cannot be combined with --scenario"),
    ],
)  # fmt: skip
def test_a_mistake_with_your_files_is_one_sentence_exit_2_and_nothing_starts(files, flags, words):
    result = run_main(*(flag.format(d=files) for flag in flags), "--epochs", "1", "--json")
    assert result.returncode == 2, result.stderr
    assert words in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_a_scenario_file_may_not_name_a_model_file(tmp_path):
    text = (REPO / "scenarios" / "overfitting.toml").read_text()
    for where, edited in (
        (
            "model.model_file",
            text.replace('kind = "mlp"', 'kind = "mlp"\nmodel_file = "net.py:Net"'),
        ),
        ("model_file", 'model_file = "net.py:Net"\n' + text),
    ):
        path = tmp_path / "overfitting.toml"
        path.write_text(edited)
        with pytest.raises(ScenarioError) as refused:
            load_scenario(path)
        assert f"{where}: {CODE_REFUSAL}" in str(refused.value)


def test_your_model_file_opens_in_the_window_and_quits_cleanly(files):
    result = subprocess.run(
        [sys.executable, "main.py", "--model-file", f"{files / 'net.py'}:Net",
         "--data", str(files / "blobs.npz"), "--quit-after", "2", "--size", "1024x640"],
        cwd=REPO, capture_output=True, text=True, timeout=240,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
