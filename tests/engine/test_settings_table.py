"""The one table of live settings, and label smoothing: the setting added through it alone.

``label_smoothing`` is one entry in ``engine.settings`` plus its effect in the trainer's loss;
these tests follow it through every way in: the CLI (``--set``, ``--at``, ``--help``), a
scenario file, a command, and the trainer, where it must really soften the targets.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from tests import event_factory
from tests.engine.session_helpers import small_config
from trainscope.engine import commands as cmd
from trainscope.engine.cli import build_parser, configure_run
from trainscope.engine.config import RunConfig
from trainscope.engine.data import prepare_data
from trainscope.engine.errors import ScenarioError, SettingError
from trainscope.engine.scenario import load_scenario
from trainscope.engine.settings import (
    SETTINGS,
    Settings,
    SettingSpec,
    default_settings,
    validate_setting,
)
from trainscope.engine.trainer import SETTING_EFFECTS, Trainer

REPO = Path(__file__).resolve().parents[2]


# --- the table -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "raw", "sentence"),
    [
        ("lr", 0, "learning rate must be greater than 0 (got 0)"),
        ("dropout", 1, "dropout must be at least 0 and below 1 (got 1)"),
        ("weight_decay", -1, "weight decay must be 0 or more (got -1)"),
        ("momentum", 1.0, "momentum must be at least 0 and below 1 (got 1.0)"),
        ("grad_clip", -0.5, "gradient clip must be 0 (off) or more (got -0.5)"),
        ("batch_size", 2.5, "batch size must be a whole number of at least 1 (got 2.5)"),
        ("label_smoothing", 1, "label smoothing must be at least 0 and below 1 (got 1)"),
        ("optimizer", "rmsprop", "optimizer must be one of sgd, adam, adamw (got 'rmsprop')"),
        ("lr", "fast", "lr must be a number (got 'fast')"),
    ],
)
def test_every_refusal_is_one_sentence_from_the_table(key, raw, sentence):
    with pytest.raises(SettingError) as caught:
        validate_setting(key, raw)
    assert str(caught.value) == sentence


def test_the_bounds_themselves_are_kept_or_refused_as_the_table_says():
    assert validate_setting("dropout", 0) == 0.0
    assert validate_setting("label_smoothing", 0.999) == 0.999
    assert validate_setting("batch_size", "64") == 64
    assert isinstance(validate_setting("batch_size", 64.0), int)
    with pytest.raises(SettingError):
        validate_setting("lr", -1e-9)


def test_defaults_cover_every_setting_and_pass_their_own_validation():
    defaults = default_settings()
    assert list(defaults) == list(SETTINGS)
    for name, value in defaults.items():
        assert validate_setting(name, value) == value


def test_every_effect_names_a_setting_of_the_table():
    assert set(SETTING_EFFECTS) <= set(SETTINGS)


def test_help_lists_every_setting_with_its_words():
    help_text = " ".join(build_parser().format_help().split())
    for name, spec in SETTINGS.items():
        assert f"{name}: {' '.join(spec.help.split())}" in help_text
    assert "not settings but a new run: dataset and its knobs, hidden widths" in help_text


# --- label smoothing, end to end ---------------------------------------------------------------


def test_label_smoothing_is_a_command_like_any_other_setting():
    assert cmd.SetParam("label_smoothing", "0.1").value == 0.1
    with pytest.raises(SettingError, match="label smoothing must be at least 0 and below 1"):
        cmd.SetParam("label_smoothing", 1.5)


def _trainer(smoothing: float) -> Trainer:
    config = small_config().with_settings(label_smoothing=smoothing)
    return Trainer(config, prepare_data(config.dataset, config.seed), torch.device("cpu"))


def test_the_optimizer_minimises_the_smoothed_loss_while_the_curve_shows_plain_cross_entropy():
    trainer = _trainer(0.2)
    logits = torch.tensor([[4.0, -4.0], [3.0, -1.0], [-2.0, 2.0]])
    targets = torch.tensor([0, 0, 1])
    loss, objective = trainer._loss_and_objective(logits, targets, torch.arange(3))
    assert loss.item() == pytest.approx(F.cross_entropy(logits, targets).item())
    smoothed = F.cross_entropy(logits, targets, label_smoothing=0.2)
    assert objective.item() == pytest.approx(smoothed.item())
    assert objective.item() > loss.item()  # confident, right answers cost more when smoothed


def _mean_top_probability(trainer: Trainer, steps: int) -> float:
    for step in range(1, steps + 1):
        trainer.train_step(step)
    with torch.no_grad():
        probabilities = trainer.probabilities(trainer.splits["validation"][0])
    return float(probabilities.max(dim=1).values.mean())


def test_label_smoothing_curbs_the_models_confidence():
    torch.manual_seed(0)
    plain = _mean_top_probability(_trainer(0.0), 300)
    torch.manual_seed(0)
    smoothed = _mean_top_probability(_trainer(0.3), 300)
    # Targets of 0.85 / 0.15 for two classes: the model stops pushing its probabilities to 1.
    assert smoothed < plain - 0.03, (plain, smoothed)
    assert smoothed < 0.9


def test_label_smoothing_changes_mid_run_and_the_next_step_uses_it():
    trainer = _trainer(0.0)
    trainer.apply_setting("label_smoothing", 0.25)
    logits = torch.tensor([[2.0, -2.0]])
    _, objective = trainer._loss_and_objective(logits, torch.tensor([0]), torch.arange(1))
    expected = F.cross_entropy(logits, torch.tensor([0]), label_smoothing=0.25)
    assert objective.item() == pytest.approx(expected.item())


def _headless(*flags: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "main.py", "--headless", "--no-record", "--dataset", "moons"]
    command += ["--steps", "60", "--json", *flags]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=240)


def test_label_smoothing_from_the_command_line_set_and_at():
    result = _headless("--set", "label_smoothing=0.1", "--at", "30:label_smoothing=0.2")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    change = next(c for c in summary["changes"] if c["key"] == "label_smoothing")
    assert (change["step"], change["old"], change["value"]) == (30, 0.1, 0.2)  # --set, then --at
    refused = _headless("--set", "label_smoothing=1")
    assert refused.returncode == 2
    assert "label smoothing must be at least 0 and below 1 (got 1)" in refused.stderr


def _scenario_file(tmp_path: Path, smoothing: object) -> Path:
    source = (REPO / "scenarios" / "underfitting.toml").read_text(encoding="utf-8")
    assert "[settings]" in source
    path = tmp_path / "underfitting.toml"  # a scenario file is named after its id
    path.write_text(
        source.replace("[settings]", f"[settings]\nlabel_smoothing = {smoothing}", 1),
        encoding="utf-8",
    )
    return path


def test_a_scenario_file_sets_label_smoothing_and_a_bad_value_is_refused(tmp_path):
    scenario = load_scenario(str(_scenario_file(tmp_path, 0.1)))
    assert scenario.run_config().settings["label_smoothing"] == 0.1
    with pytest.raises(ScenarioError, match="label smoothing must be at least 0 and below 1"):
        load_scenario(str(_scenario_file(tmp_path, 1.5)))


# --- the typed settings object ------------------------------------------------------------------


def test_settings_are_a_frozen_typed_mapping_with_every_default():
    settings = Settings({"lr": "0.01", "batch_size": 64.0})
    assert settings.number("lr") == 0.01
    assert settings.whole("batch_size") == 64
    assert settings.choice("optimizer") == "adam"
    assert settings.switch("no_zero_grad") is False
    assert dict(settings) == {**default_settings(), "lr": 0.01, "batch_size": 64}
    with pytest.raises(TypeError):
        settings["lr"] = 1.0  # type: ignore[index]
    changed = settings.replace(label_smoothing=0.1)
    assert changed["label_smoothing"] == 0.1
    assert settings["label_smoothing"] == 0.0  # the original is untouched
    with pytest.raises(SettingError, match="unknown setting 'learning_rate'"):
        Settings({"learning_rate": 0.1})


def test_run_config_and_run_started_carry_settings_objects():
    config = RunConfig(settings={"lr": 0.2})
    assert isinstance(config.settings, Settings)
    assert config.settings.number("lr") == 0.2
    assert config.with_settings(dropout=0.5).settings.number("dropout") == 0.5
    started = event_factory.run_started(2, settings={"lr": 0.3})
    assert isinstance(started.settings, Settings)
    assert started.settings.number("lr") == 0.3


def test_a_set_value_is_checked_once_and_crossing_to_the_worker_checks_nothing(monkeypatch):
    checked: list[str] = []
    original = SettingSpec.validate

    def counting(spec: SettingSpec, raw: object) -> object:
        checked.append(spec.name)
        return original(spec, raw)

    monkeypatch.setattr(SettingSpec, "validate", counting)
    parser = build_parser()
    argv = ["--headless", "--dataset", "moons", "--set", "lr=0.5"]
    config, _ = configure_run(parser, parser.parse_args(argv), argv, None)
    assert checked.count("lr") == 1
    checked.clear()
    copied = pickle.loads(pickle.dumps(config))  # how the config reaches the worker process
    assert copied.settings == config.settings
    assert checked == []
