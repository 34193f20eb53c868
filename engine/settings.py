"""The one table of live settings: each setting's name, kind, range, default, help and widget.

Everything else is derived from ``SETTINGS``: ``--help`` and ``--set``/``--at`` parsing (engine.cli),
scenario validation (engine.scenario_schema), command validation (``SetParam``), the window's
setting rows (gui.controls) — and, for the experiments to come, search spaces. How a setting
takes effect on the model or optimizer lives beside the training code (``engine.trainer``'s
``SETTING_EFFECTS``), because this table is torch-free: the window imports it.

Adding a setting is one entry here plus its effect in the trainer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from trainscope.engine.errors import SettingError

Value = float | int | str  # toggles are bool, which Python counts as an int
Kind = Literal["number", "whole", "choice", "toggle"]
#: How the window shows a setting: a log slider with a field, a 0.01-step slider, a spin box on
#: the 1-2-5 ladder, a plain spin box, a drop-down list; None: not in the settings column
#: (the loop bugs are switched from the lesson and the Setup panel).
Widget = Literal["log_slider", "slider", "ladder", "spin", "combo"] | None

OPTIMIZERS = ("sgd", "adam", "adamw")
WEIGHTINGS = ("none", "balanced")
_TRUE_WORDS = ("true", "on", "yes", "1")
_FALSE_WORDS = ("false", "off", "no", "0")


@dataclass(frozen=True, slots=True)
class SettingSpec:
    """One live setting. ``low``/``high`` bound numbers (``*_open``: the bound itself is refused)
    and ``rule`` says the bounds in the words of the refusal: "{label} {rule} (got …)"."""

    name: str
    label: str
    kind: Kind
    default: Value
    help: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    rule: str = ""
    choices: tuple[str, ...] = ()
    widget: Widget = "spin"
    #: the range the window's widget spans (a value outside it can still come from a script)
    widget_range: tuple[float, float] | None = None
    widget_step: float = 0.1
    widget_decimals: int = 3
    #: what the widget shows at its lowest value instead of the number (e.g. "off")
    widget_zero_text: str = ""
    tooltip: str = ""

    def validate(self, raw: object) -> Value:
        """The normalized value, or ``SettingError`` in one sentence naming the setting."""
        if self.kind == "choice":
            return self._choice(raw)
        if self.kind == "toggle":
            return self._toggle(raw)
        value = _number(self.name, raw)
        inside = self._within(value) and (self.kind != "whole" or value == int(value))
        if not inside:
            raise SettingError(f"{self.label} {self.rule} (got {raw})")
        return int(value) if self.kind == "whole" else value

    def _within(self, value: float) -> bool:
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        return not (
            self.high is not None and (value > self.high or (self.high_open and value == self.high))
        )

    def _choice(self, raw: object) -> str:
        """One of the named options, case-insensitive."""
        name = str(raw).strip().lower()
        if name not in self.choices:
            raise SettingError(
                f"{self.name} must be one of {', '.join(self.choices)} (got {raw!r})"
            )
        return name

    def _toggle(self, raw: object) -> bool:
        """A switch: a bool, or on/off, true/false, yes/no, 1/0 as typed on a command line."""
        if isinstance(raw, bool):
            return raw
        word = str(raw).strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
        raise SettingError(f"{self.name} is a switch: use true or false (got {raw!r})")


def _number(key: str, raw: object) -> float:
    """Turn ``raw`` into a finite float or refuse with a sentence naming the setting."""
    if isinstance(raw, bool):
        raise SettingError(f"{key} must be a number (got {raw!r})")
    try:
        value = float(raw)  # type: ignore[arg-type]  # anything float() takes; refused below
    except (TypeError, ValueError):
        raise SettingError(f"{key} must be a number (got {raw!r})") from None
    if not math.isfinite(value):
        raise SettingError(f"{key} must be a finite number (got {raw!r})")
    return value


def _bug(name: str, help: str) -> SettingSpec:
    return SettingSpec(name, name.replace("_", " "), "toggle", False, help, widget=None)


_TABLE = (
    SettingSpec(
        "lr",
        "learning rate",
        "number",
        1e-3,
        "learning rate (> 0)",
        low=0.0,
        low_open=True,
        rule="must be greater than 0",
        widget="log_slider",
        widget_range=(1e-5, 10.0),
    ),
    SettingSpec(
        "dropout",
        "dropout",
        "number",
        0.0,
        "dropout probability in [0, 1)",
        low=0.0,
        high=1.0,
        high_open=True,
        rule="must be at least 0 and below 1",
        widget="slider",
        widget_range=(0.0, 0.95),
        widget_step=0.01,
        tooltip="Share of hidden units switched off at each training step.",
    ),
    SettingSpec(
        "weight_decay",
        "weight decay",
        "number",
        0.0,
        "weight decay (>= 0)",
        low=0.0,
        rule="must be 0 or more",
        widget="ladder",
        widget_range=(0.0, 0.1),
        widget_decimals=5,
        tooltip="Pulls weights towards zero; arrows step 1-2-5.",
    ),
    SettingSpec(
        "momentum",
        "momentum",
        "number",
        0.9,
        "momentum in [0, 1) (SGD momentum, Adam beta1)",
        low=0.0,
        high=1.0,
        high_open=True,
        rule="must be at least 0 and below 1",
        widget_range=(0.0, 0.99),
        widget_step=0.05,
        tooltip="SGD momentum; for Adam/AdamW this is beta1.",
    ),
    SettingSpec(
        "optimizer",
        "optimizer",
        "choice",
        "adam",
        "optimizer: sgd, adam or adamw",
        choices=OPTIMIZERS,
        widget="combo",
    ),
    SettingSpec(
        "batch_size",
        "batch size",
        "whole",
        32,
        "batch size (whole number >= 1)",
        low=1.0,
        rule="must be a whole number of at least 1",
        widget_range=(1, 4096),
        widget_step=1,
        widget_decimals=0,
        tooltip="Examples per optimizer step.",
    ),
    SettingSpec(
        "grad_clip",
        "gradient clip",
        "number",
        0.0,
        "gradient-norm clip (> 0), or 0 for none",
        low=0.0,
        rule="must be 0 (off) or more",
        widget_range=(0.0, 100.0),
        widget_step=0.5,
        widget_decimals=2,
        widget_zero_text="off",
        tooltip="Largest gradient norm allowed; 'off' = no clipping.",
    ),
    SettingSpec(
        "label_smoothing",
        "label smoothing",
        "number",
        0.0,
        "label smoothing in [0, 1): the training target gives this share to the other classes",
        low=0.0,
        high=1.0,
        high_open=True,
        rule="must be at least 0 and below 1",
        widget_range=(0.0, 0.5),
        widget_step=0.05,
        widget_decimals=2,
        widget_zero_text="off",
        tooltip=(
            "Trains towards softened targets (the true class gets 1 − s, the rest share s), "
            "which curbs overconfidence; the loss curves still show plain cross-entropy."
        ),
    ),
    SettingSpec(
        "class_weighting",
        "class weighting",
        "choice",
        "none",
        "loss weights per class: none, or balanced (each class counts equally)",
        choices=WEIGHTINGS,
        widget=None,
    ),
    SettingSpec(
        "slice_weighting",
        "slice weighting",
        "choice",
        "none",
        "loss weights per slice: none, or balanced (each slice counts equally)",
        choices=WEIGHTINGS,
        widget=None,
    ),
    _bug(
        "no_zero_grad",
        "bug: forget to zero the gradients, so they pile up step after step (on/off)",
    ),
    _bug("no_eval_mode", "bug: forget eval(), so dropout stays on while evaluating (on/off)"),
    _bug(
        "shuffled_labels", "bug: training labels shuffled, no longer matching their inputs (on/off)"
    ),
)

#: Every live setting by name, in the order help texts and the window list them.
SETTINGS: dict[str, SettingSpec] = {spec.name: spec for spec in _TABLE}

#: Knobs that are not live: changing one builds a new run (Setup panel, scenario files, flags);
#: ``--help`` names them beside ``--set``.
NEEDS_NEW_RUN = ("dataset and its knobs", "hidden widths", "activation", "model kind", "seed")


def validate_setting(key: str, raw: object) -> Value:
    """The normalized value of a live setting, or ``SettingError`` in one sentence."""
    spec = SETTINGS.get(key)
    if spec is None:
        raise SettingError(f"unknown setting {key!r}; the settings are: {', '.join(SETTINGS)}")
    return spec.validate(raw)


def default_settings() -> dict[str, Value]:
    """Every setting at its default: what a run uses where it does not say otherwise."""
    return {name: spec.default for name, spec in SETTINGS.items()}


class Settings(Mapping[str, Value]):
    """Every live setting's value, checked once when made and never changed afterwards.

    What ``RunConfig`` and ``RunStarted`` carry: the values were validated at the boundary
    (one sentence for a bad one), so nothing further in has to check them again. A setting not
    given keeps its default, which is also how a run recorded before a setting existed reads.
    A change makes a new object (``replace``); the training loop keeps its own working copy.
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, object] | None = None) -> None:
        checked = default_settings()
        for key, raw in (values or {}).items():
            checked[key] = validate_setting(key, raw)
        self._values = checked

    def __getitem__(self, key: str) -> Value:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Settings({self._values!r})"

    @classmethod
    def _checked(cls, values: dict[str, Value]) -> Settings:
        """Values this class has already checked (a copy, or across the worker's pipe)."""
        settings = cls.__new__(cls)
        settings._values = values
        return settings

    def __reduce__(self) -> tuple[Callable[[dict[str, Value]], Settings], tuple[dict[str, Value]]]:
        return (Settings._checked, (self._values,))

    def replace(self, **changes: object) -> Settings:
        """A copy with some values changed (only those are checked)."""
        values = dict(self._values)
        for key, raw in changes.items():
            values[key] = validate_setting(key, raw)
        return Settings._checked(values)

    # Typed reads: the table's kind says which one a setting takes.
    def number(self, name: str) -> float:
        return float(self._values[name])

    def whole(self, name: str) -> int:
        return int(self._values[name])

    def choice(self, name: str) -> str:
        return str(self._values[name])

    def switch(self, name: str) -> bool:
        return bool(self._values[name])
