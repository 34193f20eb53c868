"""The scenario file format, checked key by key: what each key may hold and in what range.

Every refusal is a ``ScenarioError`` reading ``<file>: <key>: <one sentence>``, so an author
can find and fix the line. Range checks reuse the engine's own validators (settings, dataset
knobs, run config), so a scenario can never hold a value the engine would refuse later.
Returns plain validated values; ``engine.scenario`` wraps them in dataclasses.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import fields, replace
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, cast

from trainscope.engine.commands import SetParam
from trainscope.engine.config import (
    ACTIVATIONS,
    MODEL_KINDS,
    DatasetSpec,
    ModelSpec,
    ScheduledChange,
)
from trainscope.engine.data import MAX_SEED, validate_spec
from trainscope.engine.diagnosis import HINT_KINDS
from trainscope.engine.errors import DataError, ScenarioError, SettingError
from trainscope.engine.expectations import FLAG_MEASURES, LIST_MEASURES, NUMBER_MEASURES
from trainscope.engine.experiment_expectations import EXPERIMENT_MEASURES
from trainscope.engine.experiment_plan import (
    EXPERIMENT_KINDS,
    PRUNERS,
    SAMPLERS,
    ExperimentRequest,
)
from trainscope.engine.pace import MAX_PACE, MIN_PACE
from trainscope.engine.settings import SETTINGS, validate_setting

if TYPE_CHECKING:
    from pathlib import Path

    from trainscope.engine.settings import Value

T = TypeVar("T")

DIFFICULTIES = ("beginner", "intermediate", "advanced")
PANELS = (
    "loss",
    "accuracy",
    "confusion",
    "reliability",
    "threshold",
    "slices",
    "deployment",
    "hints",
    "gradients",
    "learning_rate",
    "settings",
)
TRY_COMMAND_NAMES = (
    "open_test_set",
    "fit_temperature",
    "clear_temperature",
    "rewind",
    "reset",
    "evaluate",
    "pause",
    "resume",
)
REQUIRED = ("id", "title", "summary", "difficulty", "story", "dataset", "model", "expect")
OPTIONAL = (
    "order",
    "settings",
    "steps",
    "epochs",
    "eval_every",
    "pace",
    "moment_step",
    "seed",
    "changes",
    "watch_for",
    "try_this",
    "decision",
    "experiment",
)
#: An experiment lesson's ``[experiment]`` keys: the fields of the request it makes.
EXPERIMENT_KEYS = tuple(entry.name for entry in fields(ExperimentRequest))
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
MAX_SUMMARY, MAX_TITLE = 100, 60
_TYPE_WORDS = {str: "text", int: "a whole number", float: "a number", bool: "true or false"}


class _Checker:
    """Checks one file's values; every failure names the file and the key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, sentence: str) -> NoReturn:
        raise ScenarioError(f"{self.path}: {key}: {sentence}")

    def typed(self, key: str, value: object, kind: type[T]) -> T:
        """``value`` if it has ``kind`` (an int passes as a float; a bool never as a number)."""
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            return cast("T", float(value))  # kind is float here
        if not isinstance(value, kind) or (kind in (int, float) and isinstance(value, bool)):
            self.fail(key, f"must be {_TYPE_WORDS[kind]} (got {value!r})")
        return value

    def table(self, key: str, value: object, allowed: tuple[str, ...] | None = None) -> dict:
        if not isinstance(value, dict):
            self.fail(key, f"must be a table (got {value!r})")
        for name in value:
            if name in CODE_KEYS:
                self.fail(f"{key}.{name}", CODE_REFUSAL)
            if allowed is not None and name not in allowed:
                self.fail(f"{key}.{name}", _unknown_key_sentence(name, allowed))
        return value

    def tables(self, key: str, value: object) -> list[dict]:
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.fail(key, "must be an array of tables ([[" + key + "]])")
        return value

    def text(self, key: str, value: object, one_line_max: int | None = None) -> str:
        text = str(self.typed(key, value, str)).strip()
        if not text:
            self.fail(key, "must not be empty")
        if one_line_max is not None and ("\n" in text or len(text) > one_line_max):
            self.fail(key, f"must be one line of at most {one_line_max} characters")
        return text

    def whole(self, key: str, value: object, low: int, high: int | None = None) -> int:
        number = int(self.typed(key, value, int))
        if number < low or (high is not None and number > high):
            bound = f"at least {low}" if high is None else f"between {low} and {high}"
            self.fail(key, f"must be {bound} (got {number})")
        return number

    def finite(self, key: str, value: object) -> float:
        """A number that is not nan or inf (TOML allows both; no value in a scenario means either)."""
        number = float(self.typed(key, value, float))
        if not math.isfinite(number):
            self.fail(key, f"must be a finite number (got {number})")
        return number

    def number(self, key: str, value: object, low: float, high: float | None = None) -> float:
        number = self.finite(key, value)
        if number < low or (high is not None and number > high):
            bound = f"at least {low:g}" if high is None else f"between {low:g} and {high:g}"
            self.fail(key, f"must be {bound} (got {number:g})")
        return number

    def choice(self, key: str, value: object, choices: tuple[str, ...]) -> str:
        text = str(self.typed(key, value, str))
        if text not in choices:
            self.fail(key, f"must be one of {', '.join(choices)} (got {text!r})")
        return text


def _unknown_key_sentence(name: str, allowed: tuple[str, ...]) -> str:
    """List the keys when there are few; otherwise suggest the nearest and point to the docs."""
    if len(allowed) <= 20:
        return f"unknown key; the keys here are: {', '.join(allowed)}"
    near = difflib.get_close_matches(name, allowed, n=3)
    hint = f"did you mean {' or '.join(near)}? " if near else ""
    return f"unknown key; {hint}scenarios/README.md lists all {len(allowed)}"


#: Keys that would make a scenario run code. A scenario is data anyone may share and open; a
#: model file is code its user chose to run, so it is named on the command line only.
CODE_KEYS = ("model_file", "model-file", "model_args", "model-args")
CODE_REFUSAL = (
    "a scenario file is data and may not name a model file (code); "
    "give your model with --model-file PATH.py:CLASS on the command line"
)


def parse_scenario(data: dict, path: Path) -> dict:
    """Check a parsed TOML document; return the keyword arguments of ``Scenario``."""
    check = _Checker(path)
    for key in data:
        if key in CODE_KEYS:
            check.fail(key, CODE_REFUSAL)
        if key not in REQUIRED + OPTIONAL:
            check.fail(key, f"unknown key; the keys are: {', '.join(REQUIRED + OPTIONAL)}")
    for key in REQUIRED:
        if key not in data:
            check.fail(key, "is required but missing")
    scenario_id = check.text("id", data["id"])
    if not ID_PATTERN.match(scenario_id) or scenario_id != path.stem:
        check.fail(
            "id",
            f"must be lowercase words joined by hyphens and match the file name '{path.stem}' (got {scenario_id!r})",
        )
    dataset = _dataset(check, "dataset", data["dataset"], DatasetSpec())
    changes = _changes(check, data.get("changes", []))
    parsed = {
        "id": scenario_id,
        "title": check.text("title", data["title"], MAX_TITLE),
        "summary": check.text("summary", data["summary"], MAX_SUMMARY),
        "difficulty": check.choice("difficulty", data["difficulty"], DIFFICULTIES),
        "story": check.text("story", data["story"]),
        "dataset": dataset,
        "model": _model(check, "model", data["model"], ModelSpec(), dataset),
        "settings": _settings(check, "settings", data.get("settings", {})),
        "changes": changes,
        "watch_for": _watch_for(check, data.get("watch_for", [])),
        "try_this": _tries(check, data.get("try_this", []), dataset, "experiment" in data),
        "experiment": _experiment(check, data.get("experiment")),
        "expect": _expect(check, data["expect"], experiment="experiment" in data),
        "decision": _decision(check, data.get("decision", {})),
    }
    length = _run_length(check, data)
    parsed.update(length)
    _check_changes_within_steps(check, changes, length.get("steps"))
    if "order" in data:
        parsed["order"] = check.whole("order", data["order"], 0)
    return parsed


def _run_length(check: _Checker, data: dict) -> dict:
    if "steps" in data and "epochs" in data:
        check.fail("epochs", "give steps or epochs, not both")
    length: dict = {}
    if "steps" in data:
        length["steps"] = check.whole("steps", data["steps"], 1)
    if "epochs" in data:
        length["epochs"] = check.number("epochs", data["epochs"], 1e-9)
    if "eval_every" in data:
        length["eval_every"] = check.whole("eval_every", data["eval_every"], 1)
    if "seed" in data:
        length["seed"] = check.whole("seed", data["seed"], 0, MAX_SEED)
    if "pace" in data:  # steps per second in the window; headless runs stay at max
        length["pace"] = check.number("pace", data["pace"], MIN_PACE, MAX_PACE)
    if "moment_step" in data:
        length["moment_step"] = check.whole(
            "moment_step", data["moment_step"], 0, length.get("steps")
        )
    return length


def _check_changes_within_steps(
    check: _Checker, changes: tuple[ScheduledChange, ...], steps: int | None
) -> None:
    """A change after the last step would never happen (a length in epochs is checked when the
    run starts, ``RunConfig.validate_to_start``: it depends on the data's size)."""
    if steps is None:
        return
    for index, change in enumerate(changes):
        if change.step > steps:
            check.fail(
                f"changes[{index}].step",
                f"must be at most the run's {steps} steps, or the change would never happen "
                f"(got {change.step})",
            )


def _field_kind(annotation: str) -> type:
    return {"str": str, "int": int, "float": float, "bool": bool}[annotation.split("|")[0].strip()]


DATASET_KINDS = {f.name: _field_kind(str(f.type)) for f in fields(DatasetSpec)}


def _dataset(check: _Checker, key: str, value: object, base: DatasetSpec) -> DatasetSpec:
    """A dataset table over ``base``; a knob the engine refuses is blamed on its own key."""
    table = check.table(key, value, tuple(DATASET_KINDS))
    # Any: each value has its own field's kind (DATASET_KINDS), which typed checked.
    values: dict[str, Any] = {
        name: check.typed(f"{key}.{name}", raw, DATASET_KINDS[name]) for name, raw in table.items()
    }
    spec = replace(base, **values)
    try:
        return validate_spec(spec)
    except DataError as error:
        check.fail(f"{key}.{_culprit(values, base)}" if values else key, str(error))


def _culprit(values: dict, base: DatasetSpec) -> str:
    """The first key that the engine refuses on its own (beside the dataset's name)."""
    anchor = {name: values[name] for name in ("name", "csv_path") if name in values}
    for name, value in values.items():
        try:
            validate_spec(replace(base, **{**anchor, name: value}))
        except DataError:
            return name
    return "name" if "name" in values else next(iter(values))


def _model(
    check: _Checker, key: str, value: object, base: ModelSpec, dataset: DatasetSpec
) -> ModelSpec:
    table = check.table(key, value, ("kind", "hidden", "activation"))
    changes: dict = {}
    if "kind" in table:
        changes["kind"] = check.choice(f"{key}.kind", table["kind"], MODEL_KINDS)
    if "activation" in table:
        changes["activation"] = check.choice(f"{key}.activation", table["activation"], ACTIVATIONS)
    if "hidden" in table:
        hidden = table["hidden"]
        if not isinstance(hidden, list) or any(
            isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in hidden
        ):
            check.fail(
                f"{key}.hidden",
                f"must be a list of layer widths of at least 1, e.g. [128, 128], or [] for logistic regression (got {hidden!r})",
            )
        changes["hidden"] = tuple(hidden)
    model = replace(base, **changes)
    if model.kind == "cnn" and dataset.name != "digits":
        check.fail(f"{key}.kind", "the CNN is built for the 8x8 digits; use an MLP for other data")
    return model


def _setting(check: _Checker, key: str, name: str, raw: object) -> Value:
    if name not in SETTINGS:
        check.fail(key, f"unknown setting; the settings are: {', '.join(SETTINGS)}")
    kind = {"number": float, "whole": float, "choice": str, "toggle": bool}[SETTINGS[name].kind]
    typed: object = check.typed(key, raw, kind)
    if kind is float and isinstance(raw, int):
        typed = raw  # keep whole numbers whole (batch_size)
    try:
        return validate_setting(name, typed)
    except SettingError as error:
        check.fail(key, str(error))


def _settings(check: _Checker, key: str, value: object) -> dict:
    table = check.table(key, value)
    return {name: _setting(check, f"{key}.{name}", name, raw) for name, raw in table.items()}


def _changes(check: _Checker, value: object) -> tuple[ScheduledChange, ...]:
    changes = []
    for index, entry in enumerate(check.tables("changes", value)):
        where = f"changes[{index}]"
        check.table(where, entry, ("step", "key", "value"))
        for needed in ("step", "key", "value"):
            if needed not in entry:
                check.fail(f"{where}.{needed}", "is required but missing")
        step = check.whole(f"{where}.step", entry["step"], 1)
        name = check.text(f"{where}.key", entry["key"])
        if name not in SETTINGS:
            check.fail(f"{where}.key", f"unknown setting; the settings are: {', '.join(SETTINGS)}")
        setting = _setting(check, f"{where}.value", name, entry["value"])
        changes.append(ScheduledChange(step=step, change=SetParam(name, setting)))
    return tuple(changes)


def _watch_for(check: _Checker, value: object) -> list[dict]:
    watched = []
    for index, entry in enumerate(check.tables("watch_for", value)):
        where = f"watch_for[{index}]"
        check.table(where, entry, ("panel", "note"))
        for needed in ("panel", "note"):
            if needed not in entry:
                check.fail(f"{where}.{needed}", "is required but missing")
        watched.append(
            {
                "panel": check.choice(f"{where}.panel", entry["panel"], PANELS),
                "note": check.text(f"{where}.note", entry["note"]),
            }
        )
    return watched


def _tries(
    check: _Checker, value: object, dataset: DatasetSpec, experiment: bool = False
) -> list[dict]:
    entries = check.tables("try_this", value)
    return [
        _try(check, f"try_this[{index}]", entry, dataset, experiment)
        for index, entry in enumerate(entries)
    ]


def _try(
    check: _Checker, where: str, entry: dict, dataset: DatasetSpec, experiment: bool = False
) -> dict:
    """A suggestion. In an experiment lesson it runs the experiment again with its changes
    (``set``), and ``expect`` states what the new experiment shows, in experiment measures."""
    check.table(
        where, entry, ("text", "set", "expect") if experiment else ("text", "command", "set")
    )
    if "text" not in entry:
        check.fail(f"{where}.text", "is required but missing")
    parsed: dict = {"text": check.text(f"{where}.text", entry["text"])}
    if experiment:
        if "threshold" in entry.get("set", {}):
            check.fail(
                f"{where}.set.threshold",
                "an experiment lesson's try runs the experiment again; a threshold changes no run",
            )
        if "expect" in entry:
            parsed["expect"] = _expect(
                check, entry["expect"], experiment=True, key=f"{where}.expect"
            )
    if "command" in entry:
        parsed["command"] = check.choice(f"{where}.command", entry["command"], TRY_COMMAND_NAMES)
    actions = check.table(f"{where}.set", entry.get("set", {}))
    settings = {}
    for name, raw in actions.items():
        key = f"{where}.set.{name}"
        if name == "threshold":
            parsed["threshold"] = check.number(key, raw, 0.0, 1.0)
        elif name == "dataset":
            _dataset(check, key, raw, dataset)
            parsed["dataset"] = dict(raw)
        elif name == "model":
            _model(check, key, raw, ModelSpec(), dataset)
            parsed["model"] = dict(raw)
        else:
            settings[name] = _setting(check, key, name, raw)
    parsed["settings"] = settings
    return parsed


def _experiment(check: _Checker, value: object) -> dict | None:
    """The experiment a lesson runs instead of one run; its values are checked again, with the
    engine's own rules, when the lesson is loaded (``engine.scenario`` plans it once)."""
    if value is None:
        return None
    table = check.table("experiment", value, EXPERIMENT_KEYS)
    if "kind" not in table:
        check.fail("experiment.kind", f"is required; one of {', '.join(EXPERIMENT_KINDS)}")
    request: dict[str, Any] = {
        "kind": check.choice("experiment.kind", table["kind"], tuple(EXPERIMENT_KINDS))
    }
    for key in ("folds", "repeat", "members", "trials"):
        if key in table:
            request[key] = check.whole(f"experiment.{key}", table[key], 1)
    for key, kind in (("seeds", int), ("train_fractions", float), ("space", str)):
        if key in table:
            raw = table[key]
            if not isinstance(raw, list) or not raw:
                check.fail(f"experiment.{key}", "must be a non-empty list")
            request[key] = tuple(check.typed(f"experiment.{key}", item, kind) for item in raw)
    if "sampler" in table:
        request["sampler"] = check.choice("experiment.sampler", table["sampler"], SAMPLERS)
    if "pruner" in table:
        request["pruner"] = check.choice("experiment.pruner", table["pruner"], PRUNERS)
    for key in ("baselines", "lr_find"):
        if key in table:
            request[key] = check.typed(f"experiment.{key}", table[key], bool)
    return request


def _expect(
    check: _Checker, value: object, experiment: bool = False, key: str = "expect"
) -> list[dict]:
    """A run's promises from ``engine.expectations``; an experiment's from
    ``engine.experiment_expectations`` (its numbers are about many runs, not one)."""
    vocabulary = (
        tuple(EXPERIMENT_MEASURES)
        if experiment
        else (*NUMBER_MEASURES, *FLAG_MEASURES, *LIST_MEASURES)
    )
    table = check.table(key, value, vocabulary)
    if not table:
        check.fail(key, "must state at least one checkable expectation")
    return [_expectation(check, f"{key}.{name}", name, raw) for name, raw in table.items()]


def _expectation(check: _Checker, key: str, name: str, raw: object) -> dict:
    if name in FLAG_MEASURES:
        return {"name": name, "flag": check.typed(key, raw, bool)}
    if name in LIST_MEASURES:
        if not isinstance(raw, list) or not raw:
            check.fail(key, f"must be a list of hint kinds from: {', '.join(HINT_KINDS)}")
        return {"name": name, "kinds": tuple(check.choice(key, kind, HINT_KINDS) for kind in raw)}
    bounds = check.table(key, raw, ("at_least", "at_most"))
    if not bounds:
        check.fail(key, "needs at_least, at_most or both, e.g. { at_least = 0.95 }")
    limits = {bound: check.finite(f"{key}.{bound}", value) for bound, value in bounds.items()}
    if limits.get("at_least", -float("inf")) > limits.get("at_most", float("inf")):
        check.fail(key, "at_least is above at_most, so nothing could pass")
    return {"name": name, **limits}


def _decision(check: _Checker, value: object) -> dict:
    table = check.table(
        "decision", value, ("threshold", "cost_false_positive", "cost_false_negative")
    )
    decision = {}
    if "threshold" in table:
        decision["threshold"] = check.number("decision.threshold", table["threshold"], 0.0, 1.0)
    for cost in ("cost_false_positive", "cost_false_negative"):
        if cost in table:
            decision[cost] = check.number(f"decision.{cost}", table[cost], 0.0)
    return decision
