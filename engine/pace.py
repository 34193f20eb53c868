"""Pace: how many optimizer steps per second the training loop allows itself.

The engine is far faster than a person: a lesson of 600 steps is over in a second. A pace holds
training to a speed a person can follow, and it is held by the training loop itself (it waits
between steps), so the window never has to be slow to slow training down (ARCHITECTURE rule
11). ``None`` means "max": as fast as the machine goes. Pace changes nothing about what is
learned — the same seed gives the same numbers at any pace — so it is not a setting that marks
the curves, forks or searches.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

from trainscope.engine.errors import SettingError

if TYPE_CHECKING:
    from collections.abc import Callable

MIN_PACE = 0.5  # steps per second: slow enough to follow one step at a time
MAX_PACE = 100_000.0  # above this a pace is indistinguishable from "max"
#: How far behind its schedule the loop may fall before it stops trying to catch up. Without
#: it, a pause or a slow evaluation would be followed by a burst of steps at full speed.
MAX_LAG_S = 0.1


def validate_pace(value: object) -> float | None:
    """A pace in steps per second, or None for "max"; refuse anything else in one sentence."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "max"):
        return None
    try:
        pace = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise SettingError(
            f"pace takes steps per second (a number) or 'max' (got {value!r})"
        ) from None
    if not math.isfinite(pace) or not MIN_PACE <= pace <= MAX_PACE:
        raise SettingError(
            f"pace must be 'max' or between {MIN_PACE:g} and {MAX_PACE:,.0f} steps per second "
            f"(got {value!r})"
        )
    return pace


def describe_pace(pace: float | None) -> str:
    """'max', '60 steps/s', '0.5 steps/s' — how the status bar and the CLI name a pace."""
    return "max" if pace is None else f"{pace:,.3g} steps/s"


class Pacer:
    """Says how long the loop should wait before its next step to hold ``steps_per_second``.

    Steps are due on a fixed grid (one every ``1 / pace`` seconds), so the time a step itself
    takes is not added to the wait and the measured rate matches the pace; a loop that falls
    more than ``MAX_LAG_S`` behind (a pause, an evaluation) starts a new grid instead of racing.
    """

    def __init__(
        self, steps_per_second: float | None, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self.clock = clock
        self.steps_per_second = steps_per_second
        self.next_due: float | None = None

    def set(self, steps_per_second: float | None) -> None:
        self.steps_per_second, self.next_due = steps_per_second, None

    def wait(self) -> float:
        """Seconds to wait before the next step (0: step now)."""
        if self.steps_per_second is None or self.next_due is None:
            return 0.0
        return max(0.0, self.next_due - self.clock())

    def stepped(self) -> None:
        """A step was taken: the next one is due one interval after this one was."""
        if self.steps_per_second is None:
            return
        now = self.clock()
        due = self.next_due if self.next_due is not None else now
        if now - due > MAX_LAG_S:
            due = now
        self.next_due = due + 1.0 / self.steps_per_second
