"""Scenarios: ready-made lessons, stored as TOML data in ``scenarios/`` and loaded here.

A scenario is data, not code: the dataset, model and settings of a run, a short story, what to
watch, what to try mid-run and, in ``[expect]``, what the learner will see in checkable terms
(see ``engine.expectations``). Files are read with the standard library's ``tomllib`` and
checked strictly by ``engine.scenario_schema``: an unknown key, a wrong type or an
out-of-range value is refused with a ``ScenarioError`` naming the file, the key and the problem
in one sentence. Torch-free, so the window can list and load scenarios.
"""

from __future__ import annotations

import importlib.resources
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from trainscope.engine import commands as cmd
from trainscope.engine.config import DatasetSpec, ModelSpec, RunConfig, ScheduledChange
from trainscope.engine.errors import ConfigError, ScenarioError
from trainscope.engine.expectations import Decision, Expectation
from trainscope.engine.experiment_plan import ExperimentRequest
from trainscope.engine.scenario_schema import (
    DIFFICULTIES,
    PANELS,
    TRY_COMMAND_NAMES,
    parse_scenario,
)

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "DIFFICULTIES",
    "PANELS",
    "TRY_COMMANDS",
    "Scenario",
    "ScenarioInfo",
    "TryThis",
    "WatchFor",
    "list_scenarios",
    "load_scenario",
    "scenarios_directory",
]

#: Commands a "try this" may name; each maps to an engine command, "restart" to a new run.
TRY_COMMANDS: dict[str, Callable[[], cmd.Command]] = {
    "open_test_set": cmd.OpenTestSet,
    "fit_temperature": cmd.FitTemperature,
    "clear_temperature": cmd.ClearTemperature,
    "rewind": cmd.Rewind,
    "reset": cmd.Reset,
    "evaluate": cmd.Evaluate,
    "pause": cmd.Pause,
    "resume": cmd.Resume,
}
assert tuple(TRY_COMMANDS) == TRY_COMMAND_NAMES


@dataclass(frozen=True)
class WatchFor:
    """Where to look (a panel from ``PANELS``) and what to notice there."""

    panel: str
    note: str


@dataclass(frozen=True)
class TryThis:
    """A suggestion with, optionally, the concrete action that carries it out.

    ``command`` runs first, then ``settings`` (live settings, each one ``SetParam``);
    ``threshold`` moves the window's decision threshold (no training needed). ``dataset`` and
    ``model`` changes cannot be made to a live run: they mean a new run (``restart_config``).
    """

    text: str
    command: str | None = None
    settings: dict = field(default_factory=dict)
    threshold: float | None = None
    dataset: dict = field(default_factory=dict)
    model: dict = field(default_factory=dict)
    #: An experiment lesson's try: what the experiment run again with these changes shows.
    expect: tuple[Expectation, ...] = ()

    @property
    def needs_restart(self) -> bool:
        return bool(self.dataset or self.model)

    def commands(self) -> list[cmd.Command]:
        """The live commands, in order, that carry this suggestion out on a running session."""
        live: list[cmd.Command] = []
        if self.command is not None:
            live.append(TRY_COMMANDS[self.command]())
        live += [cmd.SetParam(key, value) for key, value in self.settings.items()]
        return live

    def restart_config(self, config: RunConfig) -> RunConfig:
        """``config`` with this suggestion's data, model and setting changes, for a new run."""
        model_changes = dict(self.model)
        if "hidden" in model_changes:
            model_changes["hidden"] = tuple(model_changes["hidden"])
        changed = replace(
            config,
            dataset=replace(config.dataset, **self.dataset),
            model=replace(config.model, **model_changes),
        )
        # a new run, started on this machine: refused now rather than by the worker
        return changed.with_settings(**self.settings).validate_to_start()


@dataclass(frozen=True)
class ScenarioInfo:
    """What a menu shows before a scenario is opened."""

    id: str
    title: str
    summary: str
    difficulty: str
    order: int
    path: Path
    experiment: str | None = None  # an experiment lesson's kind


@dataclass(frozen=True)
class Scenario:
    """One lesson, validated; ``run_config`` turns it into a run."""

    id: str
    title: str
    summary: str
    difficulty: str
    story: str
    dataset: DatasetSpec
    model: ModelSpec
    settings: dict
    path: Path
    order: int = 1000
    steps: int | None = None
    epochs: float | None = None
    eval_every: int = 50
    #: Steps per second in the window, so the phenomenon unfolds at a pace a person can follow
    #: and act on (CURRICULUM "Pace"); None: the window's default. Headless runs ignore it.
    pace: float | None = None
    #: The lesson's moment comes no earlier than this step (``engine.lesson_moment``): for a
    #: phenomenon that is there from the first evaluation — a flat loss, a cost curve — the
    #: step by which it has been on screen long enough to read.
    moment_step: int = 0
    seed: int = 42
    changes: tuple[ScheduledChange, ...] = ()
    watch_for: tuple[WatchFor, ...] = ()
    try_this: tuple[TryThis, ...] = ()
    expect: tuple[Expectation, ...] = ()
    decision: Decision = field(default_factory=Decision)
    #: An experiment lesson runs this set of runs instead of one run (its ``[expect]`` then
    #: names ``engine.experiment_expectations`` measures).
    experiment: ExperimentRequest | None = None

    @property
    def info(self) -> ScenarioInfo:
        return ScenarioInfo(
            self.id,
            self.title,
            self.summary,
            self.difficulty,
            self.order,
            self.path,
            self.experiment.kind if self.experiment is not None else None,
        )

    def run_config(self, seed: int | None = None) -> RunConfig:
        """The run this scenario describes (``seed`` replaces the scenario's own)."""
        config = RunConfig(
            dataset=self.dataset,
            model=self.model,
            steps=self.steps,
            epochs=self.epochs,
            eval_every=self.eval_every,
            seed=self.seed if seed is None else seed,
            schedule=self.changes,
            scenario=self.id,
        )
        return config.with_settings(**self.settings).validate()


def scenarios_directory() -> Path:
    """Where the bundled scenario files are: ``trainscope.scenarios``, installed or a checkout's."""
    return Path(str(importlib.resources.files("trainscope.scenarios")))


def scenario_paths(directory: Path | None = None) -> list[Path]:
    return sorted((directory or scenarios_directory()).glob("*.toml"))


def list_scenarios(directory: Path | None = None) -> list[ScenarioInfo]:
    """Every bundled scenario (each file fully validated), in teaching order."""
    infos = [load_scenario(path).info for path in scenario_paths(directory)]
    return sorted(infos, key=lambda info: (info.order, info.id))


def load_scenario(id_or_path: str | Path, directory: Path | None = None) -> Scenario:
    """Load a scenario by id (a bundled file) or by the path of a ``.toml`` file."""
    path = _resolve(id_or_path, directory)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ScenarioError(f"{path}: cannot be read ({error.strerror or error})") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"{path}: is not valid TOML ({error})") from None
    return _assemble(parse_scenario(data, path), path)


def _assemble(checked: dict, path: Path) -> Scenario:
    """Wrap the checked values in the scenario's dataclasses; plan an experiment lesson's runs
    once, so a value the experiment's own rules refuse is the file's error, not the run's."""
    request = checked.pop("experiment")
    scenario = Scenario(
        path=path,
        experiment=ExperimentRequest(**request) if request is not None else None,
        **{
            **checked,
            "changes": tuple(checked["changes"]),
            "watch_for": tuple(WatchFor(**entry) for entry in checked["watch_for"]),
            "try_this": tuple(_try_this(entry) for entry in checked["try_this"]),
            "expect": tuple(Expectation(**entry) for entry in checked["expect"]),
            "decision": Decision(**checked["decision"]),
        },
    )
    if scenario.experiment is not None:
        _plan_experiments(scenario, scenario.experiment)
    return scenario


def _plan_experiments(scenario: Scenario, request: ExperimentRequest) -> None:
    """Plan the lesson's experiment and each try's (the experiment again with its changes)."""
    key = "experiment"
    try:
        request.plan(scenario.run_config())
        for index, step in enumerate(scenario.try_this):
            key = f"try_this[{index}]"
            request.plan(step.restart_config(scenario.run_config()))
    except ConfigError as error:
        raise ScenarioError(f"{scenario.path}: {key}: {error}") from None


def _try_this(entry: dict) -> TryThis:
    expect = tuple(Expectation(**promise) for promise in entry.pop("expect", ()))
    return TryThis(**entry, expect=expect)


def _resolve(id_or_path: str | Path, directory: Path | None) -> Path:
    text = str(id_or_path)
    if isinstance(id_or_path, Path) or text.endswith(".toml") or "/" in text:
        path = Path(text)
        if not path.is_file():
            raise ScenarioError(f"{path}: no such scenario file")
        return path
    path = (directory or scenarios_directory()) / f"{text}.toml"
    if not path.is_file():
        known = ", ".join(path.stem for path in scenario_paths(directory)) or "none"
        raise ScenarioError(f"unknown scenario '{text}'; the scenarios are: {known}")
    return path
