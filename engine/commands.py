"""Commands: the only way in to a running session.

Each command is a small frozen dataclass, validated when it is built, so an invalid value is
refused at the boundary with one clear sentence and the run goes on unchanged. The training
thread applies accepted commands between two optimizer steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from trainscope.engine.errors import SettingError
from trainscope.engine.pace import validate_pace

if TYPE_CHECKING:
    from trainscope.engine.config import DatasetSpec

OPTIMIZERS = ("sgd", "adam", "adamw")
WEIGHTINGS = ("none", "balanced")

#: Settings that can change while a run goes on, with a one-line description for help texts.
LIVE_SETTINGS: dict[str, str] = {
    "lr": "learning rate (> 0)",
    "dropout": "dropout probability in [0, 1)",
    "weight_decay": "weight decay (>= 0)",
    "momentum": "momentum in [0, 1) (SGD momentum, Adam beta1)",
    "optimizer": "optimizer: sgd, adam or adamw",
    "batch_size": "batch size (whole number >= 1)",
    "grad_clip": "gradient-norm clip (> 0), or 0 for none",
    "class_weighting": "loss weights per class: none, or balanced (each class counts equally)",
    "slice_weighting": "loss weights per slice: none, or balanced (each slice counts equally)",
    "no_zero_grad": "bug: forget to zero the gradients, so they pile up step after step (on/off)",
    "no_eval_mode": "bug: forget eval(), so dropout stays on while evaluating (on/off)",
    "shuffled_labels": "bug: training labels shuffled, no longer matching their inputs (on/off)",
}

#: The value each live setting has when a run does not say otherwise.
DEFAULT_SETTINGS: dict[str, float | int | str | bool] = {
    "lr": 1e-3,
    "optimizer": "adam",
    "dropout": 0.0,
    "weight_decay": 0.0,
    "momentum": 0.9,
    "batch_size": 32,
    "grad_clip": 0.0,
    "class_weighting": "none",
    "slice_weighting": "none",
    "no_zero_grad": False,
    "no_eval_mode": False,
    "shuffled_labels": False,
}

#: What kind of control each setting needs: "number", "choice" (see ``SETTING_CHOICES``) or
#: "toggle" (a boolean). Lets a form or a scenario loader handle settings it does not know.
SETTING_KINDS: dict[str, str] = {
    "lr": "number",
    "dropout": "number",
    "weight_decay": "number",
    "momentum": "number",
    "optimizer": "choice",
    "batch_size": "number",
    "grad_clip": "number",
    "class_weighting": "choice",
    "slice_weighting": "choice",
    "no_zero_grad": "toggle",
    "no_eval_mode": "toggle",
    "shuffled_labels": "toggle",
}
SETTING_CHOICES: dict[str, tuple[str, ...]] = {
    "optimizer": OPTIMIZERS,
    "class_weighting": WEIGHTINGS,
    "slice_weighting": WEIGHTINGS,
}
BUG_TOGGLES = ("no_zero_grad", "no_eval_mode", "shuffled_labels")
_TRUE_WORDS = ("true", "on", "yes", "1")
_FALSE_WORDS = ("false", "off", "no", "0")

Value = float | int | str  # toggles are bool, which Python counts as an int


def _number(key: str, raw: object) -> float:
    """Turn ``raw`` into a finite float or refuse with a sentence naming the setting."""
    if isinstance(raw, bool):
        raise SettingError(f"{key} must be a number (got {raw!r})")
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise SettingError(f"{key} must be a number (got {raw!r})") from None
    if not math.isfinite(value):
        raise SettingError(f"{key} must be a finite number (got {raw!r})")
    return value


def _choice(key: str, raw: object) -> str:
    """One of a setting's named options, case-insensitive."""
    name = str(raw).strip().lower()
    choices = SETTING_CHOICES[key]
    if name not in choices:
        raise SettingError(f"{key} must be one of {', '.join(choices)} (got {raw!r})")
    return name


def _toggle(key: str, raw: object) -> bool:
    """A bug switch: a bool, or on/off, true/false, yes/no, 1/0 as typed on a command line."""
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise SettingError(f"{key} is a switch: use true or false (got {raw!r})")


def validate_setting(key: str, raw: object) -> Value:
    """Return the normalized value of a live setting, or raise ``SettingError`` in one sentence."""
    if key not in LIVE_SETTINGS:
        known = ", ".join(LIVE_SETTINGS)
        raise SettingError(f"unknown setting {key!r}; the settings are: {known}")
    if SETTING_KINDS[key] == "choice":
        return _choice(key, raw)
    if SETTING_KINDS[key] == "toggle":
        return _toggle(key, raw)
    value = _number(key, raw)
    if key == "lr" and value <= 0:
        raise SettingError(f"learning rate must be greater than 0 (got {raw})")
    if key == "dropout" and not 0 <= value < 1:
        raise SettingError(f"dropout must be at least 0 and below 1 (got {raw})")
    if key == "weight_decay" and value < 0:
        raise SettingError(f"weight decay must be 0 or more (got {raw})")
    if key == "momentum" and not 0 <= value < 1:
        raise SettingError(f"momentum must be at least 0 and below 1 (got {raw})")
    if key == "grad_clip" and value < 0:
        raise SettingError(f"gradient clip must be 0 (off) or more (got {raw})")
    if key == "batch_size":
        if value != int(value) or value < 1:
            raise SettingError(f"batch size must be a whole number of at least 1 (got {raw})")
        return int(value)
    return value


@dataclass(frozen=True, slots=True)
class SetParam:
    """Change one live setting; takes effect on the very next optimizer step."""

    key: str
    value: Value

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", validate_setting(self.key, self.value))


@dataclass(frozen=True, slots=True)
class Pause:
    """Stop stepping after the current step; the session stays alive."""


@dataclass(frozen=True, slots=True)
class Resume:
    """Continue stepping (also continues past the planned end of a finished run)."""


@dataclass(frozen=True, slots=True)
class Step:
    """While paused, take exactly ``n`` optimizer steps and pause again."""

    n: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.n, bool) or not isinstance(self.n, int) or self.n < 1:
            raise SettingError(f"step count must be a whole number of at least 1 (got {self.n!r})")


@dataclass(frozen=True, slots=True)
class SetPace:
    """Hold training to ``steps_per_second`` (None: "max", as fast as the machine goes).

    Takes effect at once; single steps (``Step``) are never held back. Pace changes nothing
    about what is learned, so it emits no ``ParamChanged`` and leaves no marker on the curves.
    """

    steps_per_second: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps_per_second", validate_pace(self.steps_per_second))


@dataclass(frozen=True, slots=True)
class Stop:
    """End the run: the training thread emits ``Finished`` and exits."""


@dataclass(frozen=True, slots=True)
class Reset:
    """Start over from the initial weights (same seed), keeping the current settings."""


@dataclass(frozen=True, slots=True)
class Rewind:
    """Restore the most recent in-memory checkpoint taken before the current step.

    After a divergence (a non-finite loss or a blown-up batch loss) it restores instead the last
    checkpoint taken before the divergence began: the ones after it may hold damaged weights.
    """


@dataclass(frozen=True, slots=True)
class OpenTestSet:
    """Break the seal on the test split: from now on every evaluation also scores it."""


@dataclass(frozen=True, slots=True)
class Evaluate:
    """Evaluate now (between two steps) instead of waiting for the next scheduled evaluation."""


@dataclass(frozen=True, slots=True)
class FitTemperature:
    """Fit a temperature on the validation split now and apply it to every later evaluation.

    Temperature scaling divides the logits by one number T, so it changes confidence but never
    a prediction: ECE drops, accuracy stays put. Answered by ``TemperatureFitted``.
    """


@dataclass(frozen=True, slots=True)
class ClearTemperature:
    """Go back to the model's raw probabilities (temperature 1)."""


@dataclass(frozen=True, slots=True)
class SetInsights:
    """Which costly insights the training process collects (the window sends what is shown).

    Off by default: with a panel hidden, training pays nothing for it. ``boundary``: the
    decision-boundary grid at each evaluation; ``layer_health``: per-layer statistics every
    evaluation interval.
    """

    boundary: bool = False
    layer_health: bool = False


@dataclass(frozen=True, slots=True)
class PreviewData:
    """Build the points ``dataset`` would give (with ``seed``) and send them back as a preview.

    The window's Setup panel asks for this while a data knob moves, so the student sees the new
    points at once; the training process builds them because it already has the generators
    (scikit-learn) loaded, and the window stays light. Answered by ``DataPreview``.
    """

    dataset: DatasetSpec
    seed: int


Command = (
    SetParam
    | SetPace
    | Pause
    | Resume
    | Step
    | Stop
    | Reset
    | Rewind
    | OpenTestSet
    | Evaluate
    | FitTemperature
    | ClearTemperature
    | SetInsights
    | PreviewData
)


def parse_assignment(text: str) -> SetParam:
    """Parse ``KEY=VALUE`` (as typed on the command line) into a validated ``SetParam``."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise SettingError(f"expected KEY=VALUE, e.g. lr=0.01 (got {text!r})")
    return SetParam(key.strip(), value.strip())
