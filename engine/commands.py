"""Commands: the only way in to a running session.

Each command is a small frozen dataclass, validated when it is built, so an invalid value is
refused at the boundary with one clear sentence and the run goes on unchanged. The training
thread applies accepted commands between two optimizer steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from trainscope.engine.errors import SettingError
from trainscope.engine.pace import validate_pace
from trainscope.engine.settings import Value, validate_setting

if TYPE_CHECKING:
    from trainscope.engine.config import DatasetSpec


@dataclass(frozen=True, slots=True)
class SetParam:
    """Change one live setting (``engine.settings``); takes effect on the very next optimizer step."""

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


def split_assignment(text: str) -> tuple[str, str]:
    """``KEY=VALUE`` as typed on the command line, split (the value is checked where it is used)."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise SettingError(f"expected KEY=VALUE, e.g. lr=0.01 (got {text!r})")
    return key.strip(), value.strip()


def parse_assignment(text: str) -> SetParam:
    """Parse ``KEY=VALUE`` (as typed on the command line) into a validated ``SetParam``."""
    return SetParam(*split_assignment(text))
