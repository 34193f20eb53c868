"""A search space, written the same way in the window, on the command line and in scenario files.

One dimension per text, named after a setting in the one table (``engine.settings``), or
``hidden`` for the width of every hidden layer (a search builds each trial as a new run, so a
model knob may vary too):

- ``lr=log(1e-4,1e-1)``: a continuous range sampled on a log scale;
- ``dropout=0..0.5``: a continuous range sampled evenly (a whole-number setting, such as
  ``batch_size=16..128``, draws whole numbers);
- ``lr=log(1e-4,1e-1,n=4)`` and ``dropout=0..0.5,n=3``: the same ranges, with the ``n`` points a
  grid search walks (log- or evenly spaced, both ends included); random and TPE search still
  sample the whole range;
- ``hidden=[32,64,128]`` or ``optimizer=[adam,sgd]``: a choice among listed values.

Every value is checked against the setting's own rule before any trial starts, and a mistake
is one sentence. Torch-free and Optuna-free: the window parses spaces too.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from trainscope.engine.errors import ConfigError, SettingError
from trainscope.engine.settings import SETTINGS

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from trainscope.engine.config import RunConfig

Value = float | int | str
MODEL_KNOBS = ("hidden",)  # not live settings, but a trial is a new run, so they may vary
MAX_HIDDEN_WIDTH = 4096
MAX_GRID_POINTS = 20

_NAME = re.compile(r"^\s*([a-z_]+)\s*=\s*(.+?)\s*$")
_LOG = re.compile(r"^log\(\s*([^,()]+?)\s*,\s*([^,()]+?)\s*(?:,\s*n\s*=\s*(\d+)\s*)?\)$")
_LINEAR = re.compile(r"^([^\s,]+?)\s*\.\.\s*([^\s,]+?)(?:\s*,\s*n\s*=\s*(\d+))?$")
_CHOICE = re.compile(r"^\[(.*)\]$")
SYNTAX = (
    "write name=log(LOW,HIGH), name=LOW..HIGH (either with ,n=POINTS for a grid) or name=[A,B,C]"
)


@dataclass(frozen=True)
class Dimension:
    """One searched knob: a range (``low``..``high``, on a log scale when ``log``, whole numbers
    when ``whole``, with ``points`` grid points when given) or a list of ``choices``."""

    name: str
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    whole: bool = False
    points: int | None = None
    choices: tuple[Value, ...] = ()

    @property
    def is_choice(self) -> bool:
        return bool(self.choices)

    def grid(self) -> list[Value]:
        """The values a grid search walks; ``ConfigError`` for a range without points."""
        if self.is_choice:
            return list(self.choices)
        if self.points is None:
            raise ConfigError(
                f"a grid search needs points for {self.name}: add ,n=POINTS to its range"
            )
        steps = [index / (self.points - 1) for index in range(self.points)]
        if self.log:
            low, high = math.log(self.low), math.log(self.high)
            values = [math.exp(low + share * (high - low)) for share in steps]
        else:
            values = [self.low + share * (self.high - self.low) for share in steps]
        if self.whole:
            return sorted({round(value) for value in values})
        return [float(f"{value:.6g}") for value in values]

    def describe(self) -> str:
        if self.is_choice:
            return f"{self.name}=[{','.join(str(choice) for choice in self.choices)}]"
        points = f",n={self.points}" if self.points is not None else ""
        if self.log:
            return f"{self.name}=log({self.low:g},{self.high:g}{points})"
        return f"{self.name}={self.low:g}..{self.high:g}{points}"


def parse_space(texts: Iterable[str]) -> tuple[Dimension, ...]:
    """Every dimension, checked; ``ConfigError`` in one sentence for the first bad one."""
    dimensions = tuple(parse_dimension(text) for text in texts)
    names = [dimension.name for dimension in dimensions]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ConfigError(f"the search space names {repeated[0]} twice; give each knob once")
    if not dimensions:
        raise ConfigError(f"a search needs a space: {SYNTAX}, e.g. --space 'lr=log(1e-4,1e-1)'")
    return dimensions


def parse_dimension(text: str) -> Dimension:
    """One ``name=...`` text as a ``Dimension``; ``ConfigError`` when it is not one."""
    named = _NAME.match(text)
    if named is None:
        raise ConfigError(f"cannot read the search space {text!r}: {SYNTAX}")
    name, body = named.groups()
    _check_name(name)
    choice, log, linear = _CHOICE.match(body), _LOG.match(body), _LINEAR.match(body)
    if choice is not None:
        items = [item.strip() for item in choice.group(1).split(",") if item.strip()]
        return _choices(name, items)
    if log is None and linear is None:
        raise ConfigError(f"cannot read the search space {text!r}: {SYNTAX}")
    low_text, high_text, points_text = (log or linear).groups()  # type: ignore[union-attr]
    return _range(name, low_text, high_text, points_text, on_log_scale=log is not None)


def grid_size(dimensions: Sequence[Dimension]) -> int:
    """How many trials a grid over ``dimensions`` has (every combination of their points)."""
    return math.prod(len(dimension.grid()) for dimension in dimensions)


def apply_params(base: RunConfig, params: Mapping[str, Value]) -> RunConfig:
    """``base`` with a trial's values: live settings as its initial settings, ``hidden`` as the
    width of each of its hidden layers (the depth stays)."""
    settings = {name: value for name, value in params.items() if name in SETTINGS}
    config = base.with_settings(**settings) if settings else base
    if "hidden" in params:
        width = int(params["hidden"])
        depth = max(1, len(base.model.hidden))
        config = replace(config, model=replace(config.model, hidden=(width,) * depth))
    return config


# --- inside -----------------------------------------------------------------------------------


def _check_name(name: str) -> None:
    if name in MODEL_KNOBS:
        return
    spec = SETTINGS.get(name)
    if spec is None or spec.widget is None:  # the loop bugs are lessons, not knobs to tune
        searchable = [key for key, spec in SETTINGS.items() if spec.widget is not None]
        raise ConfigError(
            f"cannot search {name!r}; the knobs are: {', '.join([*searchable, *MODEL_KNOBS])}"
        )


def _value(name: str, raw: str) -> Value:
    """One value of ``name``, checked by the setting's own rule (or the width rule)."""
    if name == "hidden":
        try:
            width = int(raw)
        except ValueError:
            raise ConfigError(f"hidden widths are whole numbers (got {raw})") from None
        if not 1 <= width <= MAX_HIDDEN_WIDTH:
            raise ConfigError(f"hidden widths are between 1 and {MAX_HIDDEN_WIDTH} (got {raw})")
        return width
    try:
        return SETTINGS[name].validate(raw)
    except SettingError as error:
        raise ConfigError(f"in the search space, {error}") from None


def _choices(name: str, items: list[str]) -> Dimension:
    if len(items) < 2:
        raise ConfigError(f"a choice for {name} needs at least two values, e.g. {name}=[A,B]")
    values = tuple(_value(name, item) for item in items)
    if len(set(values)) < len(values):
        raise ConfigError(f"the choice for {name} lists a value twice")
    return Dimension(name, choices=values)


def _range(
    name: str, low_text: str, high_text: str, points_text: str | None, on_log_scale: bool
) -> Dimension:
    if name != "hidden" and SETTINGS[name].kind not in ("number", "whole"):
        raise ConfigError(f"{name} is not a number; list its values instead: {name}=[A,B]")
    low, high = float(_value(name, low_text)), float(_value(name, high_text))
    if not low < high:
        raise ConfigError(f"the range for {name} must go from low to high (got {low:g}..{high:g})")
    if on_log_scale and low <= 0:
        raise ConfigError(f"a log range for {name} must start above 0 (got {low:g})")
    points = None if points_text is None else int(points_text)
    if points is not None and not 2 <= points <= MAX_GRID_POINTS:
        raise ConfigError(f"n for {name} must be between 2 and {MAX_GRID_POINTS} (got {points})")
    whole = name == "hidden" or SETTINGS[name].kind == "whole"
    return Dimension(name, low, high, log=on_log_scale, whole=whole, points=points)
