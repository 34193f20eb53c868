"""The headless command line, run as a user runs it: a real process, real flags, real JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.engine.session_helpers import collect_until, of_type, step_values
from trainscope.engine import events as ev
from trainscope.engine.cli import build_parser, config_from_args
from trainscope.engine.session import ThreadSession

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
    assert summary["device"] == "cpu"
    assert summary["diverged"] is False
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
        events = collect_until(session, [], lambda e: bool(of_type(e, ev.Finished)))
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
    assert summary["diverged"] is True
    assert summary["diverged_at"] >= 1
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


# --- every bad value refused before anything runs ----------------------------------------------


@pytest.mark.parametrize(
    ("flags", "sentence"),
    [
        (("--epochs", "nan"), "epochs must be a number greater than 0 (got nan)"),
        (("--epochs", "inf"), "epochs must be a number greater than 0 (got inf)"),
        (("--epochs", "-inf"), "epochs must be a number greater than 0 (got -inf)"),
        (("--device", "gpu"), "unknown device 'gpu'; use auto, cpu, cuda, cuda:N or mps"),
        (("--device", "cuda:99"), "'cuda:99'"),
        (("--noise", "-1"), "noise must be between 0 and 10 for digits (got -1.0)"),
        (("--noise", "nan"), "noise must be between 0 and 10 for digits (got nan)"),
        (("--noise", "-inf"), "noise must be between 0 and 10 for digits (got -inf)"),
        (("--n-samples", "-10"), "n_samples must be at least 30 (got -10)"),
        (("--label-noise", "2"), "label_noise must be at least 0 and less than 1 (got 2.0)"),
        (("--label-noise", "nan"), "label_noise must be at least 0 and less than 1 (got nan)"),
        (("--dataset", "moons", "--imbalance", "inf"), "must be between 0 and 0.5 (got inf)"),
        (("--seed", "-1"), "seed must be between 0 and 4294967295 (got -1)"),
        (
            ("--at", "100000:lr=0.1", "--steps", "50"),
            "the change scheduled for step 100000 would never happen: "
            "the run is planned for 50 steps",
        ),
        (
            ("--at", "1000:lr=0.1", "--epochs", "2"),
            "the change scheduled for step 1000 would never happen: the run is planned for "
            "2 epochs of 1257 training rows in batches of 32, which is 80 steps",
        ),
        (("--at", "-3:lr=0.1"), "a scheduled change needs a step of at least 1 (got -3)"),
        (("--at", "5:lr=nan"), "lr must be a finite number (got 'nan')"),
        (("--set", "lr=inf"), "lr must be a finite number (got 'inf')"),
        (
            ("--quit-after", "nan"),
            "argument --quit-after: takes a number of seconds, 0 or more (got 'nan')",
        ),
        (
            ("--quit-after", "-1"),
            "argument --quit-after: takes a number of seconds, 0 or more (got '-1')",
        ),
        (("--pace", "nan"), "pace must be 'max' or between 0.5 and 100,000 steps per second"),
        (("--pace", "0"), "pace must be 'max' or between 0.5 and 100,000 steps per second"),
        (("--pace", "fast"), "pace takes steps per second (a number) or 'max' (got 'fast')"),
        (("--browse",), "--browse opens the run browser in the window; drop --headless"),
    ],
)
def test_every_bad_value_is_refused_before_anything_runs(tmp_path, flags, sentence):
    length = () if {"--steps", "--epochs"} & set(flags) else ("--steps", "5")
    result = run_main(*flags, *length, "--runs-dir", str(tmp_path / "runs"), timeout=240)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr  # one sentence, no progress line before it
    assert lines[0].startswith("trainscope: error: "), lines[0]
    assert sentence in lines[0], lines[0]
    assert result.stdout == ""
    assert not (tmp_path / "runs").exists()  # nothing recorded either


def test_the_window_refuses_the_same_values_before_it_opens(tmp_path):
    result = subprocess.run(
        [sys.executable, "main.py", "--epochs", "nan", "--runs-dir", str(tmp_path / "runs")],
        cwd=REPO,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 2
    assert result.stderr == "trainscope: error: epochs must be a number greater than 0 (got nan)\n"


def test_a_negative_value_reaches_validation_but_a_missing_one_is_still_missing():
    parser = build_parser()
    assert parser.parse_args(["--at", "-3:lr=0.1"]).at == ["-3:lr=0.1"]
    assert parser.parse_args(["--noise", "-1e3"]).noise == -1000.0
    with pytest.raises(SystemExit):
        parser.parse_args(["--at", "--steps", "5"])  # "--steps" is a flag, not --at's value


def test_a_change_inside_the_planned_epochs_is_accepted():
    args = build_parser().parse_args(["--epochs", "2", "--at", "80:lr=0.1"])
    assert config_from_args(args).schedule[0].step == 80  # 2 epochs of 40 steps: the last one
