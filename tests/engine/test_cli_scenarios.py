"""The command line with scenarios: list them, run one headless, refuse what does not fit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from trainscope.engine.cli import (
    HEADLESS_EPOCHS,
    WINDOW_EPOCHS,
    build_parser,
    configure_run,
    default_epochs,
    explicit_flags,
)
from trainscope.engine.commands import SetParam
from trainscope.engine.errors import TrainScopeError
from trainscope.engine.scenario import list_scenarios, load_scenario

REPO = Path(__file__).resolve().parents[2]


def run_main(*flags: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "main.py", *flags],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def configured(*argv: str):
    parser = build_parser()
    return configure_run(parser, parser.parse_args(list(argv)), list(argv), 20)


def test_list_scenarios_prints_id_difficulty_and_summary():
    result = run_main("--list-scenarios")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == len(list_scenarios())
    first = lines[0].split(maxsplit=2)
    assert first[:2] == ["healthy-baseline", "beginner"]
    assert first[2].startswith("A small network")


def test_a_headless_scenario_reports_its_promises_and_hints_in_the_json():
    result = run_main("--headless", "--scenario", "underfitting", "--seed", "4", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["scenario"] == "underfitting"
    assert summary["seed"] == 4
    assert summary["expectations"]
    assert all(set(e) == {"name", "held", "detail"} for e in summary["expectations"])
    assert all(outcome["held"] for outcome in summary["expectations"]), summary["expectations"]
    assert {"step", "kind", "title", "evidence"} == set(summary["hints"][0])
    assert "stuck_at_chance" in [hint["kind"] for hint in summary["hints"]]
    assert "hint at step" in result.stderr


def test_a_plain_run_has_no_scenario_and_no_expectations_in_its_json():
    result = run_main(
        "--headless", "--dataset", "moons", "--hidden", "8", "--steps", "20", "--json"
    )
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["scenario"] is None
    assert summary["expectations"] == []
    assert summary["hints"] == []


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (("--scenario", "no-such-lesson"), "unknown scenario 'no-such-lesson'"),
        (
            ("--scenario", "overfitting", "--dataset", "moons"),
            "--dataset cannot be combined with --scenario",
        ),
        (("--scenario", "overfitting", "--hidden", "8"), "--hidden cannot be combined"),
        (("--scenario", "overfitting", "--set", "lr=-1"), "learning rate"),
    ],
)
def test_bad_scenario_flags_exit_non_zero_with_one_sentence(flags, words):
    result = run_main("--headless", *flags)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert words in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_run_flags_override_the_scenario():
    config, scenario = configured(
        "--scenario",
        "overfitting",
        "--seed",
        "9",
        "--steps",
        "50",
        "--eval-every",
        "5",
        "--set",
        "dropout=0.2",
        "--at",
        "30:lr=0.01",
    )
    assert scenario.id == "overfitting"
    assert config.scenario == "overfitting"
    assert (config.seed, config.steps, config.eval_every) == (9, 50, 5)
    assert config.settings["dropout"] == 0.2
    assert config.dataset.train_subset == 100
    assert config.schedule[-1].change == SetParam("lr", 0.01)


def test_without_run_flags_the_scenario_decides():
    config, scenario = configured("--scenario", "overfitting")
    assert (config.seed, config.steps, config.eval_every) == (
        scenario.seed,
        scenario.steps,
        scenario.eval_every,
    )


def test_explicit_flags_tell_typed_defaults_from_filled_in_ones():
    parser = build_parser()
    assert explicit_flags(parser, ["--seed", "42", "--headless"]) == {"seed", "headless"}
    assert explicit_flags(parser, []) == set()


def test_a_scenario_file_path_works_too(tmp_path):
    source = (REPO / "scenarios" / "underfitting.toml").read_text()
    path = tmp_path / "underfitting.toml"
    path.write_text(source)
    config, scenario = configured("--scenario", str(path))
    assert scenario.path == path
    assert config.model.hidden == ()
    with pytest.raises(TrainScopeError):
        configured("--scenario", str(tmp_path / "missing.toml"))


def test_a_lesson_in_the_window_goes_at_its_own_pace_unless_told_otherwise():
    overfitting = load_scenario("overfitting")
    window, _ = configured("--scenario", "overfitting")
    assert window.pace == overfitting.pace
    typed, _ = configured("--scenario", "overfitting", "--pace", "60")
    assert typed.pace == 60.0
    headless, _ = configured("--scenario", "overfitting", "--headless")
    assert headless.pace is None  # headless runs stay at max


def test_window_runs_have_a_planned_end_and_endless_has_none():
    parser = build_parser()
    argv = ["--endless"]
    endless, _ = configure_run(
        parser, parser.parse_args(argv), argv, default_epochs(parser.parse_args(argv))
    )
    assert endless.steps is None
    assert endless.epochs is None
    window_args = parser.parse_args([])
    assert default_epochs(window_args) == WINDOW_EPOCHS
    assert default_epochs(parser.parse_args(["--headless"])) == HEADLESS_EPOCHS
    lesson, _ = configured("--scenario", "overfitting", "--endless")
    assert lesson.steps is None
    assert lesson.epochs is None


def test_endless_with_a_length_and_a_bad_window_size_are_refused_in_one_sentence():
    for flags, words in [
        (("--endless", "--steps", "10"), "not allowed with argument"),
        (("--size", "1024"), "--size"),
        (("--size", "100x100"), "at least 640x480"),
    ]:
        result = run_main(*flags)
        assert result.returncode == 2, flags
        assert words in result.stderr, flags
        assert len(result.stderr.strip().splitlines()) == 1, flags
