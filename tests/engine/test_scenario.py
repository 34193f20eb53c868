"""Scenario files: found, loaded into runs, and refused in one sentence when they are wrong."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from trainscope.engine import commands as cmd
from trainscope.engine.errors import ConfigError, ScenarioError
from trainscope.engine.scenario import (
    PANELS,
    TRY_COMMANDS,
    list_scenarios,
    load_scenario,
    scenarios_directory,
)

REPO = Path(__file__).resolve().parents[2]
CURRICULUM_IDS = {
    "healthy-baseline",
    "lr-too-high",
    "lr-too-low",
    "overfitting",
    "underfitting",
    "accuracy-lies",
    "threshold-costs",
    "calibration",
    "distribution-shift",
    "data-leakage",
    "loop-bugs",
    "slices",
    "overfit-one-batch",
    "adam-vs-sgd",
}
#: The lessons that run an experiment (many runs) instead of one run.
EXPERIMENT_LESSON_IDS = {
    "one-split-lies",
    "seed-lottery",
    "more-data-or-bigger-model",
    "find-the-learning-rate",
    "ensemble-beats-members",
    "network-vs-forest",
}

MINIMAL = """
id = "{id}"
title = "A tiny lesson"
summary = "One line about it."
difficulty = "beginner"
story = "Something happens."
steps = 20

[dataset]
name = "moons"
n_samples = 200

[model]
hidden = [8]

[expect]
completed = true
"""


def write(tmp_path: Path, text: str, name: str = "tiny") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(textwrap.dedent(text).replace("{id}", name))
    return path


def refusal(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: "), message
    assert "\n" not in message
    assert len(message) < 500
    return message


# --- the bundled lessons ----------------------------------------------------------------------


def test_the_bundled_scenarios_are_the_curriculum_table():
    infos = list_scenarios()
    assert {info.id for info in infos} == CURRICULUM_IDS | EXPERIMENT_LESSON_IDS
    assert {info.id for info in infos if info.experiment} == EXPERIMENT_LESSON_IDS
    assert infos[0].id == "healthy-baseline", "the menu starts with the healthy run"
    for info in infos:
        assert info.path.parent == scenarios_directory()
        assert info.difficulty in ("beginner", "intermediate", "advanced")
        assert len(info.summary) <= 100
        assert "\n" not in info.summary


def test_every_scenario_builds_a_valid_run_with_watch_and_try_entries():
    for info in list_scenarios():
        scenario = load_scenario(info.id)
        config = scenario.run_config(seed=5)
        assert config.seed == 5
        assert config.scenario == info.id
        assert config.steps or config.epochs, f"{info.id} needs a planned length"
        assert scenario.watch_for
        assert all(entry.panel in PANELS for entry in scenario.watch_for)
        assert scenario.expect, info.id
        for suggestion in scenario.try_this:
            commands = suggestion.commands()
            if suggestion.needs_restart:
                suggestion.restart_config(config)
            assert all(isinstance(command, cmd.Command) for command in commands)


def test_load_by_id_and_by_path_agree():
    by_id = load_scenario("lr-too-high")
    by_path = load_scenario(scenarios_directory() / "lr-too-high.toml")
    assert by_id == by_path
    assert by_id.settings["lr"] == 0.1
    assert by_id.run_config().settings["lr"] == 0.1


def test_scripted_changes_become_the_run_schedule(tmp_path):
    path = write(
        tmp_path,
        MINIMAL
        + """
        [[changes]]
        step = 10
        key = "lr"
        value = 0.5

        [[changes]]
        step = 12
        key = "no_zero_grad"
        value = true
        """,
    )
    schedule = load_scenario(path).run_config().schedule
    assert [(change.step, change.change) for change in schedule] == [
        (10, cmd.SetParam("lr", 0.5)),
        (12, cmd.SetParam("no_zero_grad", True)),
    ]


def test_try_this_actions_turn_into_commands_or_a_new_run():
    calibration = load_scenario("calibration").try_this[0]
    assert calibration.commands() == [cmd.FitTemperature()]
    assert not calibration.needs_restart
    rewind = load_scenario("lr-too-high").try_this[0]
    assert rewind.commands() == [cmd.Rewind(), cmd.SetParam("lr", 0.01)]
    leak = load_scenario("data-leakage")
    config = leak.try_this[0].restart_config(leak.run_config())
    assert leak.try_this[0].needs_restart
    assert config.dataset.leak_feature is False
    assert set(TRY_COMMANDS) >= {"open_test_set", "fit_temperature", "rewind"}


def test_unknown_id_lists_the_known_ones():
    with pytest.raises(
        ScenarioError, match="unknown scenario 'no-such-lesson'; the scenarios are: "
    ):
        load_scenario("no-such-lesson")


def test_scenario_modules_stay_torch_free():
    code = "import sys, trainscope.engine.scenario, trainscope.engine.expectations, trainscope.engine.diagnosis; print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


# --- refusals: file, key, one sentence ---------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        (('difficulty = "beginner"', 'difficulty = "expert"'), "difficulty", "one of beginner"),
        (("steps = 20", "steps = 0"), "steps", "at least 1"),
        (("steps = 20", 'steps = "many"'), "steps", "a whole number"),
        (("steps = 20", "steps = 20\nepochs = 3"), "epochs", "not both"),
        (("steps = 20", 'steps = 20\ncolour = "red"'), "colour", "unknown key"),
        (('name = "moons"', 'name = "mnist"'), "dataset.name", "unknown dataset"),
        (("n_samples = 200", "n_samples = 5"), "dataset.n_samples", "at least 30"),
        (("n_samples = 200", "n_samples = 200\nshift = 2.0"), "dataset.shift", "wave"),
        (
            ("n_samples = 200", "n_samples = 200\nslice_fraction = 0.7"),
            "dataset.slice_fraction",
            "between 0 and 0.5",
        ),
        (
            ("n_samples = 200", 'n_samples = 200\nleak_feature = "yes"'),
            "dataset.leak_feature",
            "true or false",
        ),
        (("n_samples = 200", "n_samples = 200\ncolumns = 3"), "dataset.columns", "unknown key"),
        (("hidden = [8]", "hidden = [8, 0]"), "model.hidden", "at least 1"),
        (("hidden = [8]", 'hidden = [8]\nkind = "cnn"'), "model.kind", "8x8 digits"),
        (("hidden = [8]", 'hidden = [8]\nactivation = "swish"'), "model.activation", "one of relu"),
        (("completed = true", 'completed = "yes"'), "expect.completed", "true or false"),
        (("completed = true", "final_val_accuracy = 0.9"), "expect.final_val_accuracy", "a table"),
        (
            ("completed = true", "final_val_accuracy = {}"),
            "expect.final_val_accuracy",
            "at_least, at_most",
        ),
        (
            ("completed = true", "final_val_accuracy = { at_least = 0.9, at_most = 0.5 }"),
            "expect.final_val_accuracy",
            "nothing could pass",
        ),
        (("completed = true", "happiness = { at_least = 1 }"), "expect.happiness", "unknown key"),
        (
            ("completed = true", 'hints_include = ["gloom"]'),
            "expect.hints_include",
            "one of diverged",
        ),
        (
            ('summary = "One line about it."', 'summary = "' + "x" * 120 + '"'),
            "summary",
            "one line",
        ),
        # NaN and inf are refused like any other bad number.
        (("steps = 20", "epochs = nan"), "epochs", "finite number"),
        (("steps = 20", "epochs = inf"), "epochs", "finite number"),
        (("n_samples = 200", "n_samples = 200\nnoise = nan"), "dataset.noise", "noise must be"),
        (
            ("n_samples = 200", "n_samples = 200\nlabel_noise = inf"),
            "dataset.label_noise",
            "label_noise must be",
        ),
        (
            ("n_samples = 200", "n_samples = 200\nimbalance = nan"),
            "dataset.imbalance",
            "between 0 and 0.5",
        ),
        (
            ("completed = true", "final_val_accuracy = { at_least = nan }"),
            "expect.final_val_accuracy.at_least",
            "finite number",
        ),
        (
            ("completed = true", "final_val_accuracy = { at_most = inf }"),
            "expect.final_val_accuracy.at_most",
            "finite number",
        ),
    ],
)
def test_bad_values_are_refused_naming_the_file_and_key(tmp_path, change, key, words):
    old, new = change
    assert old in MINIMAL
    message = refusal(tmp_path, MINIMAL.replace(old, new, 1))
    assert f": {key}: " in message, message
    assert words in message, message


@pytest.mark.parametrize(
    ("section", "key", "words"),
    [
        ("[settings]\nlr = -0.1", "settings.lr", "greater than 0"),
        ('[settings]\nlr = "fast"', "settings.lr", "a number"),
        ("[settings]\ncolour = 1", "settings.colour", "unknown setting"),
        ("[settings]\nno_zero_grad = 1", "settings.no_zero_grad", "true or false"),
        ('[settings]\nclass_weighting = "heavy"', "settings.class_weighting", "none, balanced"),
        ('[[changes]]\nstep = 0\nkey = "lr"\nvalue = 0.1', "changes[0].step", "at least 1"),
        ('[[changes]]\nstep = 5\nkey = "speed"\nvalue = 0.1', "changes[0].key", "unknown setting"),
        ('[[changes]]\nstep = 5\nkey = "lr"', "changes[0].value", "required"),
        ('[[watch_for]]\npanel = "radar"\nnote = "look"', "watch_for[0].panel", "one of loss"),
        ('[[watch_for]]\npanel = "loss"', "watch_for[0].note", "required"),
        (
            '[[try_this]]\ntext = "go"\ncommand = "explode"',
            "try_this[0].command",
            "one of open_test_set",
        ),
        ('[[try_this]]\ntext = "go"\nset = { lr = 0 }', "try_this[0].set.lr", "greater than 0"),
        (
            '[[try_this]]\ntext = "go"\nset = { threshold = 1.5 }',
            "try_this[0].set.threshold",
            "between 0 and 1",
        ),
        (
            '[[try_this]]\ntext = "go"\nset = { dataset = { noise = -1.0 } }',
            "try_this[0].set.dataset.noise",
            "noise must be",
        ),
        ('[[try_this]]\ntext = "go"\nwhen = 3', "try_this[0].when", "unknown key"),
        ('[[try_this]]\ncommand = "rewind"', "try_this[0].text", "required"),
        ("[decision]\ncost_false_positive = -5.0", "decision.cost_false_positive", "at least 0"),
        # NaN and inf are refused like any other bad number.
        ("[settings]\nlr = nan", "settings.lr", "finite"),
        ("[settings]\nweight_decay = inf", "settings.weight_decay", "finite"),
        ('[[changes]]\nstep = 5\nkey = "lr"\nvalue = nan', "changes[0].value", "finite"),
        ("[decision]\nthreshold = nan", "decision.threshold", "finite number"),
        ("[decision]\ncost_false_negative = inf", "decision.cost_false_negative", "finite number"),
        (
            '[[try_this]]\ntext = "go"\nset = { threshold = nan }',
            "try_this[0].set.threshold",
            "finite number",
        ),
        (
            '[[try_this]]\ntext = "go"\nset = { dataset = { noise = inf } }',
            "try_this[0].set.dataset.noise",
            "noise must be",
        ),
    ],
)
def test_bad_sections_are_refused_naming_the_file_and_key(tmp_path, section, key, words):
    message = refusal(tmp_path, MINIMAL + "\n" + section + "\n")
    assert f": {key}: " in message, message
    assert words in message, message


def test_missing_required_key_and_bad_toml_and_wrong_id(tmp_path):
    assert ": story: is required" in refusal(
        tmp_path, MINIMAL.replace('story = "Something happens."', "")
    )
    assert "not valid TOML" in refusal(tmp_path, MINIMAL + "\n[expect\n")
    message = refusal(tmp_path, MINIMAL.replace('id = "{id}"', 'id = "other"'))
    assert re.search(r": id: must be .* match the file name 'tiny'", message)


def test_a_valid_minimal_file_loads(tmp_path):
    scenario = load_scenario(write(tmp_path, MINIMAL))
    assert scenario.id == "tiny"
    assert scenario.steps == 20
    assert scenario.try_this == ()
    assert scenario.run_config().settings["optimizer"] == "adam"


# --- nan and inf: TOML allows both; no number in a scenario means either ----------------------


def test_a_change_after_the_last_step_is_refused_naming_the_file_and_key(tmp_path):
    message = refusal(tmp_path, MINIMAL + '\n[[changes]]\nstep = 21\nkey = "lr"\nvalue = 0.1\n')
    assert ": changes[0].step: " in message, message
    assert "never happen" in message, message
    assert "20 steps" in message


def test_a_change_after_the_last_epoch_is_refused_when_the_run_starts(tmp_path):
    text = MINIMAL.replace("steps = 20", "epochs = 2")
    late = load_scenario(
        write(tmp_path, text + '\n[[changes]]\nstep = 500\nkey = "lr"\nvalue = 0.1\n')
    )
    with pytest.raises(ConfigError, match="step 500 would never happen.* 2 epochs"):
        late.run_config().validate_to_start()
    fits = load_scenario(
        write(tmp_path, text + '\n[[changes]]\nstep = 8\nkey = "lr"\nvalue = 0.1\n')
    )
    assert fits.run_config().validate_to_start().schedule[0].step == 8


# --- experiment lessons -----------------------------------------------------------------------

EXPERIMENT_MINIMAL = MINIMAL.replace(
    "[expect]\ncompleted = true", "[expect]\nval_accuracy_spread = { at_least = 0.0 }"
)


def test_an_experiment_lesson_loads_and_plans_its_runs(tmp_path):
    text = EXPERIMENT_MINIMAL + '\n[experiment]\nkind = "seeds"\nrepeat = 3\n'
    scenario = load_scenario(write(tmp_path, text))
    assert scenario.experiment is not None
    assert scenario.info.experiment == "seeds"
    plan = scenario.experiment.plan(scenario.run_config(seed=11))
    assert [run.config.seed for run in plan.runs] == [11, 12, 13]


@pytest.mark.parametrize(
    ("section", "key", "words"),
    [
        ('[experiment]\nkind = "kfold"\nfolds = 1', "experiment", "at least 2"),
        ('[experiment]\nkind = "dropout-sweep"', "experiment.kind", "must be one of"),
        ("[experiment]\nfolds = 3", "experiment.kind", "is required"),
        ('[experiment]\nkind = "seeds"\ncount = 3', "experiment.count", "unknown key"),
        ('[experiment]\nkind = "learning-curve"\ntrain_fractions = []', "experiment.train_fractions", "non-empty"),
        ('[experiment]\nkind = "learning-curve"\ntrain_fractions = [0.5, 2.0]', "experiment", "at most 1"),
        ('[experiment]\nkind = "search"\nspace = ["depth=1..3"]\ntrials = 2', "experiment", "cannot search 'depth'"),
        ('[experiment]\nkind = "search"\nspace = ["lr=log(1e-4,1)"]\nsampler = "grid"', "experiment", "add ,n=POINTS"),
        ('[experiment]\nkind = "seeds"\nbaselines = "yes"', "experiment.baselines", "true or false"),
    ],
)  # fmt: skip
def test_a_bad_experiment_table_is_refused_naming_the_file_and_key(tmp_path, section, key, words):
    message = refusal(tmp_path, EXPERIMENT_MINIMAL + "\n" + section + "\n")
    assert f": {key}: " in message, message
    assert words in message, message


def test_each_kind_of_lesson_takes_only_its_own_promises(tmp_path):
    """A run's measures mean nothing for an experiment, and an experiment's nothing for a run."""
    message = refusal(tmp_path, MINIMAL + '\n[experiment]\nkind = "seeds"\n')
    assert ": expect.completed: unknown key" in message, message
    message = refusal(tmp_path, EXPERIMENT_MINIMAL)
    assert ": expect.val_accuracy_spread: unknown key" in message, message


def test_an_experiment_lessons_try_runs_the_experiment_again_and_promises_its_own_result(tmp_path):
    text = (
        EXPERIMENT_MINIMAL
        + '\n[experiment]\nkind = "seeds"\nrepeat = 2\n'
        + '\n[[try_this]]\ntext = "wider"\nset = { model = { hidden = [32] } }\n'
        + "expect = { val_accuracy_spread = { at_most = 0.5 } }\n"
    )
    scenario = load_scenario(write(tmp_path, text))
    (step,) = scenario.try_this
    assert [promise.describe() for promise in step.expect] == ["val_accuracy_spread <= 0.5"]
    assert step.restart_config(scenario.run_config()).model.hidden == (32,)


@pytest.mark.parametrize(
    ("section", "key", "words"),
    [
        ('[[try_this]]\ntext = "go"\ncommand = "rewind"', "try_this[0].command", "unknown key"),
        ('[[try_this]]\ntext = "go"\nset = { threshold = 0.3 }', "try_this[0].set.threshold", "changes no run"),
        ('[[try_this]]\ntext = "go"\nexpect = { completed = true }', "try_this[0].expect.completed", "unknown key"),
        ('[[try_this]]\ntext = "go"\nset = { model = { hidden = [0] } }', "try_this[0].set.model.hidden", ""),
    ],
)  # fmt: skip
def test_a_bad_try_in_an_experiment_lesson_is_refused_naming_the_file_and_key(
    tmp_path, section, key, words
):
    text = EXPERIMENT_MINIMAL + '\n[experiment]\nkind = "seeds"\n\n' + section + "\n"
    message = refusal(tmp_path, text)
    assert f": {key}" in message, message
    assert words in message, message
