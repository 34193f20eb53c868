"""Commands: the only way in to a running session.

Each command is a small frozen dataclass, validated when it is built, so an invalid value is
refused at the boundary with one clear sentence and the run goes on unchanged. The training
thread applies accepted commands between two optimizer steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.errors import SettingError

OPTIMIZERS = ("sgd", "adam", "adamw")

#: Settings that can change while a run goes on, with a one-line description for help texts.
LIVE_SETTINGS: dict[str, str] = {
    "lr": "learning rate (> 0)",
    "dropout": "dropout probability in [0, 1)",
    "weight_decay": "weight decay (>= 0)",
    "momentum": "momentum in [0, 1) (SGD momentum, Adam beta1)",
    "optimizer": "optimizer: sgd, adam or adamw",
    "batch_size": "batch size (whole number >= 1)",
    "grad_clip": "gradient-norm clip (> 0), or 0 for none",
}

Value = float | int | str


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


def validate_setting(key: str, raw: object) -> Value:
    """Return the normalized value of a live setting, or raise ``SettingError`` in one sentence."""
    if key not in LIVE_SETTINGS:
        known = ", ".join(LIVE_SETTINGS)
        raise SettingError(f"unknown setting {key!r}; the settings are: {known}")
    if key == "optimizer":
        name = str(raw).strip().lower()
        if name not in OPTIMIZERS:
            raise SettingError(f"optimizer must be one of sgd, adam, adamw (got {raw!r})")
        return name
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
class Stop:
    """End the run: the training thread emits ``Finished`` and exits."""


@dataclass(frozen=True, slots=True)
class Reset:
    """Start over from the initial weights (same seed), keeping the current settings."""


@dataclass(frozen=True, slots=True)
class Rewind:
    """Restore the most recent in-memory checkpoint taken before the current step."""


@dataclass(frozen=True, slots=True)
class OpenTestSet:
    """Break the seal on the test split: from now on every evaluation also scores it."""


@dataclass(frozen=True, slots=True)
class Evaluate:
    """Evaluate now (between two steps) instead of waiting for the next scheduled evaluation."""


Command = SetParam | Pause | Resume | Step | Stop | Reset | Rewind | OpenTestSet | Evaluate


def parse_assignment(text: str) -> SetParam:
    """Parse ``KEY=VALUE`` (as typed on the command line) into a validated ``SetParam``."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise SettingError(f"expected KEY=VALUE, e.g. lr=0.01 (got {text!r})")
    return SetParam(key.strip(), value.strip())
