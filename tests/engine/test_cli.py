"""The headless command line, run as a user runs it: a real process, real flags, real JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine import events as ev
from engine.cli import build_parser, config_from_args
from engine.session import ThreadSession
from tests.engine.session_helpers import collect_until, of_type, step_values

REPO = Path(__file__).resolve().parents[2]


def run_main(*flags: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "main.py", "--headless", *flags],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def summary_of(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_digits_thirty_epochs_reaches_95_percent_and_says_so():
    summary = summary_of(run_main("--dataset", "digits", "--epochs", "30", "--json"))
    assert summary["final"]["val_accuracy"] >= 0.95
    for key in (
        "final",
        "best",
        "baselines",
        "ece",
        "steps_per_second",
        "device",
        "diverged",
        "changes",
    ):
        assert key in summary
    assert {"train_loss", "val_loss", "val_accuracy"} <= summary["final"].keys()
    assert {"step", "val_loss"} <= summary["best"].keys()
    assert summary["device"] == "cpu" and summary["diverged"] is False
    assert summary["baselines"]["zero_rule_accuracy"] < 0.2
    assert summary["steps_per_second"] > 0


def test_scripted_change_is_applied_at_its_step_exactly():
    summary = summary_of(
        run_main("--dataset", "digits", "--steps", "260", "--at", "200:lr=0.5", "--json")
    )
    assert summary["changes"] == [{"step": 200, "key": "lr", "old": 0.001, "value": 0.5}]


def test_the_loss_reacts_to_a_scripted_learning_rate_jump():
    args = build_parser().parse_args(
        ["--dataset", "digits", "--steps", "300", "--at", "200:lr=0.5"]
    )
    session = ThreadSession(config_from_args(args))
    session.start()
    try:
        events = collect_until(session, [], lambda e: bool(of_type(e, ev.Finished)), timeout=120)
    finally:
        session.close()
    losses = step_values(events, "loss")
    before = np.mean([losses[s] for s in range(150, 200)])
    after = np.mean([losses[s] for s in range(201, 251)])
    assert after > 3 * before, f"loss did not react: {before:.3f} → {after:.3f}"


def test_a_diverging_run_ends_cleanly_with_a_diverged_flag():
    result = run_main(
        "--dataset", "digits", "--set", "optimizer=sgd", "--set", "lr=50", "--epochs", "5", "--json"
    )
    summary = summary_of(result)
    assert summary["diverged"] is True and summary["diverged_at"] >= 1
    assert "Traceback" not in result.stderr
    assert "diverged" in result.stderr


def test_same_seed_same_numbers():
    flags = ("--dataset", "moons", "--hidden", "16", "--steps", "200", "--seed", "3", "--json")
    first, second = summary_of(run_main(*flags)), summary_of(run_main(*flags))
    for volatile in ("steps_per_second", "eval_ms_median"):
        first.pop(volatile), second.pop(volatile)
    assert first == second


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (("--set", "lr=-1"), "learning rate"),
        (("--set", "dropout=1.5"), "dropout"),
        (("--set", "colour=red"), "unknown setting"),
        (("--hidden", "12,abc"), "--hidden"),
        (("--at", "soon:lr=0.1"), "--at"),
        (("--dataset", "mnist"), "invalid choice"),
        (("--steps", "ten"), "invalid int"),
        (("--device", "cuda"), "no CUDA"),
        (("--csv", "/no/such/file.csv"), "file.csv"),
        (("--model", "cnn", "--dataset", "moons"), "CNN"),
    ],
)
def test_bad_flags_exit_non_zero_with_one_sentence(flags, words):
    result = run_main(*flags, "--steps", "5") if "--steps" not in flags else run_main(*flags)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr
    assert any(words in line for line in lines), result.stderr
    assert len([line for line in lines if "error" in line]) == 1
