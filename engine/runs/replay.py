"""Replay: a recorded run played back through the session interface, so panels cannot tell.

``ReplaySession`` offers ``start``, ``send``, ``drain``, ``is_alive`` and ``close`` like the
live sessions. It needs no thread: each ``drain`` works out how much recorded time has passed
at the chosen speed and returns the events due, reading the store a page at a time. Idle
stretches longer than ``MAX_GAP_S`` (a run left paused over lunch) play as ``MAX_GAP_S``.

Commands: ``Pause``, ``Resume``, ``Stop``, ``Step(n)`` (advance n training steps), and the
replay-only ``Seek(step)`` and ``SetSpeed``. A seek answers with ``ReplaySeeked`` followed by
the recording from its first event up to the step (step batches merged), which rebuilds the
exact panel state at that step; a consumer that keeps state across a seek should start over
on ``ReplaySeeked`` (see the wiring notes). Anything that would change the run is refused
with a ``CommandRefused``: a recording is history — fork it to change it.

Old steps of a long run are stored as buckets (``DecimatedSteps``); they play as plain
``StepMetrics``, one point per bucket (its mean at its last step), so the panels need nothing
new; the buckets' lowest and highest values stay in the store and in the exports.
"""

from __future__ import annotations

import dataclasses
import math
import queue
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from trainscope.engine import commands as cmd
from trainscope.engine import events as ev
from trainscope.engine.errors import SettingError
from trainscope.engine.events import ReplaySeeked
from trainscope.engine.runs.codec import decode_event
from trainscope.engine.runs.decimation import plain_steps
from trainscope.engine.runs.errors import RunFileError
from trainscope.engine.runs.store import EventRow, RunStore

if TYPE_CHECKING:
    from trainscope.engine.config import RunConfig
    from trainscope.engine.session_protocol import Session

SPEEDS: tuple[float | str, ...] = (1.0, 4.0, 16.0, "max")
MAX_GAP_S = 1.0
MAX_EVENTS_PER_DRAIN = 2000  # at "max": bounds one frame's work, not the replay's speed
PAGE_ROWS = 500
STEP_KINDS = ("StepMetrics", "DecimatedSteps")
REFUSAL = "this is a replay of a recorded run; fork it from a checkpoint to change it"


def _validated_speed(speed: float | str) -> float:
    """A positive speed factor, or ``math.inf`` for "max"."""
    if isinstance(speed, str) and speed.strip().lower() == "max":
        return math.inf
    try:
        value = float(speed)
    except (TypeError, ValueError):
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise SettingError(f"replay speed must be a number above 0 or 'max' (got {speed!r})")
    return value


@dataclass(frozen=True, slots=True)
class Seek:
    """Jump to the moment the recorded run reached ``step`` (replay only)."""

    step: int

    def __post_init__(self) -> None:
        if isinstance(self.step, bool) or not isinstance(self.step, int) or self.step < 0:
            raise SettingError(f"seek needs a whole step number of 0 or more (got {self.step!r})")


@dataclass(frozen=True, slots=True)
class SetSpeed:
    """Change the replay speed: a factor such as 1, 4 or 16, or "max"."""

    speed: float | str

    def __post_init__(self) -> None:
        _validated_speed(self.speed)


#: Replay-only commands, besides the live ones a replay also answers (pause, resume, step, stop).
ReplayCommand = Seek | SetSpeed


def split_step_metrics(
    event: ev.StepMetrics, step: int, steps_per_epoch: int
) -> tuple[ev.StepMetrics, ev.StepMetrics]:
    """The part of a step batch up to ``step`` and the rest (per-step arrays sliced alike)."""
    count = int(np.searchsorted(event.steps, step, side="right"))
    total = len(event.steps)
    # Any: the per-step array fields of whichever StepMetrics class this is, by name.
    head: dict[str, Any] = {}
    tail: dict[str, Any] = {}
    for field in dataclasses.fields(event):
        value = getattr(event, field.name)
        if isinstance(value, np.ndarray) and value.shape[:1] == (total,):
            head[field.name], tail[field.name] = value[:count], value[count:]
    head_epoch = event.epoch - (total - count) / max(steps_per_epoch, 1)
    return (
        dataclasses.replace(event, epoch=head_epoch, **head),
        dataclasses.replace(event, **tail),
    )


def merge_step_metrics(events: list[ev.Event]) -> list[ev.Event]:
    """Adjacent step batches as one (arrays joined, the last batch's scalars): same fold, fewer calls."""
    merged: list[ev.Event] = []
    for event in events:
        previous = merged[-1] if merged else None
        if isinstance(event, ev.StepMetrics) and isinstance(previous, ev.StepMetrics):
            joined: dict[str, Any] = {  # the array fields, by name (as in split_step_metrics)
                field.name: np.concatenate(
                    (getattr(previous, field.name), getattr(event, field.name))
                )
                for field in dataclasses.fields(event)
                if isinstance(getattr(event, field.name), np.ndarray)
            }
            merged[-1] = dataclasses.replace(event, **joined)
        else:
            merged.append(event)
    return merged


class ReplaySession:
    """Plays run ``run_id`` of ``store`` at ``speed`` (1, 4, 16, … or "max")."""

    def __init__(self, store: RunStore, run_id: int, speed: float | str = 1.0) -> None:
        self.store = store
        self.run_id = run_id
        self.info = store.get_run(run_id)
        self.config = self._config()
        self._speed = _validated_speed(speed)
        self._commands: queue.SimpleQueue[cmd.Command | ReplayCommand] = queue.SimpleQueue()
        self._started = self._stopped = False
        self.paused = False
        self._rewind_cursor()

    def _config(self) -> RunConfig | None:
        """The recorded config, like a live session's ``config``; None if this version rejects it."""
        try:
            return self.store.run_config(self.run_id)
        except RunFileError:
            return None

    # ----- the session interface ------------------------------------------------------------
    def start(self) -> None:
        self._started = True
        self._tick = time.monotonic()

    def send(self, command: cmd.Command | ReplayCommand) -> None:
        self._commands.put(command)

    def is_alive(self) -> bool:
        """Alive from start until Stop or close, like a live session that finished its plan."""
        return self._started and not self._stopped

    def close(self, timeout: float = 0.0) -> None:
        self._stopped = True

    def join(self, timeout: float | None = None) -> None:
        """Nothing to wait for: a replay has no thread (kept for interface parity)."""

    def drain(self) -> list[ev.Event]:
        """Replies to commands, then every event whose recorded moment has come."""
        if not self.is_alive():
            return []
        out: list[ev.Event] = []
        try:
            sought = self._apply_commands(out)
            if self.is_alive() and not self.paused and not sought:  # a seek's answer is one frame
                self._play(out)
        except RunFileError as error:
            out += [ev.Error(message=str(error), detail=""), ev.StateChanged(self.step, "error")]
            self._stopped = True
        return out

    # ----- where the replay stands ------------------------------------------------------------
    @property
    def speed(self) -> float | str:
        return "max" if math.isinf(self._speed) else self._speed

    @property
    def total_steps(self) -> int:
        return self.info.steps

    @property
    def at_end(self) -> bool:
        """Every recorded event has been played (the session stays alive for seeks)."""
        return not self._ready and not self._rows and self._exhausted

    def _rewind_cursor(self) -> None:
        self._rows: deque[EventRow] = deque()
        self._ready: deque[tuple[float, ev.Event]] = deque()  # decoded, not yet emitted
        self._after_seq = -1
        self._exhausted = False
        self._last_t: float | None = None
        self._credit = 0.0
        self.step = 0
        self._steps_per_epoch = 1
        self._recorded_state = "running"

    # ----- commands -----------------------------------------------------------------------------
    def _apply_commands(self, out: list[ev.Event]) -> bool:
        """Apply queued commands in order; True when one of them was a seek."""
        sought = False
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return sought
            sought = sought or isinstance(command, Seek)
            self._apply(command, out)

    def _apply(self, command: cmd.Command | ReplayCommand, out: list[ev.Event]) -> None:
        if isinstance(command, cmd.Pause):
            self.paused = True
            out.append(ev.StateChanged(self.step, "paused"))
        elif isinstance(command, cmd.Resume):
            self.paused, self._tick = False, time.monotonic()
            out.append(ev.StateChanged(self.step, self._recorded_state))
        elif isinstance(command, cmd.Stop):
            self._stopped = True
            out.append(ev.StateChanged(self.step, "stopped"))
        elif isinstance(command, cmd.Step):
            self.paused = True
            out.extend(self._advance_to(self.step + command.n))
            out.append(ev.StateChanged(self.step, "paused"))
        elif isinstance(command, Seek):
            out.extend(self._seek(command.step))
        elif isinstance(command, SetSpeed):
            self._speed, self._tick = _validated_speed(command.speed), time.monotonic()
        else:
            out.append(ev.CommandRefused(step=self.step, message=REFUSAL))

    def _seek(self, step: int) -> list[ev.Event]:
        """Start over and fold forward to ``step``; the clock resumes from there."""
        self._rewind_cursor()
        events = merge_step_metrics(self._advance_to(step))
        self._tick = time.monotonic()
        tail = [ev.StateChanged(self.step, "paused")] if self.paused else []
        return [ReplaySeeked(step), *events, *tail]

    # ----- reading and timing -----------------------------------------------------------------
    def _peek(self) -> tuple[float, ev.Event | EventRow] | None:
        """The next item to play: a decoded leftover first, else the next stored row."""
        if self._ready:
            return self._ready[0]
        if not self._rows and not self._exhausted:
            page = self.store.event_rows(self.run_id, self._after_seq, PAGE_ROWS)
            self._rows.extend(page)
            self._exhausted = len(page) < PAGE_ROWS
            if page:
                self._after_seq = page[-1].seq
        return (self._rows[0].t, self._rows[0]) if self._rows else None

    def _pop(self) -> tuple[float, ev.Event]:
        """Remove the next item (as ``_peek`` found it) and decode it if it is a stored row."""
        t, item = self._ready.popleft() if self._ready else (self._rows[0].t, self._rows.popleft())
        self._last_t = t
        if isinstance(item, EventRow):  # old steps in buckets play as one point per bucket
            return t, cast("ev.Event", plain_steps(decode_event(item.payload, item.arrays)))
        return t, item

    def _take(self) -> ev.Event:
        event = self._pop()[1]
        self._follow(event)
        return event

    def _follow(self, event: ev.Event) -> None:
        """Keep the replay's own notion of the current step and recorded state."""
        if isinstance(event, ev.StepMetrics) and len(event.steps):
            self.step = int(event.steps[-1])
        elif isinstance(event, ev.Rewound):
            self.step = event.to_step
        elif isinstance(event, ev.RunStarted):
            self.step, self._steps_per_epoch = 0, event.steps_per_epoch
        elif isinstance(event, ev.StateChanged):
            self._recorded_state = event.state

    def _play(self, out: list[ev.Event]) -> None:
        """Emit what the elapsed time (times speed) covers; "max" emits a bounded batch."""
        now = time.monotonic()
        self._credit += (now - self._tick) * self._speed if math.isfinite(self._speed) else 0.0
        self._tick = now
        budget = MAX_EVENTS_PER_DRAIN
        while budget and (upcoming := self._peek()) is not None:
            t = upcoming[0]
            gap = 0.0 if self._last_t is None else min(max(t - self._last_t, 0.0), MAX_GAP_S)
            if math.isfinite(self._speed):
                if gap > self._credit:
                    return
                self._credit -= gap
            out.append(self._take())
            budget -= 1
        if self._peek() is None:
            self._credit = 0.0  # nothing left to spend it on: do not bank time at the end

    def _advance_to(self, step: int) -> list[ev.Event]:
        """Everything recorded before the run first went past ``step`` (a batch is cut there)."""
        out: list[ev.Event] = []
        while (upcoming := self._peek()) is not None:
            t, item = upcoming
            if self._passes(item, step):
                # _passes took only a step batch (a stored one decodes to StepMetrics).
                event = cast("ev.StepMetrics", self._pop()[1])
                head, tail = split_step_metrics(event, step, self._steps_per_epoch)
                self._ready.appendleft((t, tail))
                if len(head.steps):
                    out.append(head)
                    self._follow(head)
                return out
            out.append(self._take())
        return out

    @staticmethod
    def _passes(item: ev.Event | EventRow, step: int) -> bool:
        if isinstance(item, EventRow):
            return item.kind in STEP_KINDS and (item.last_step or 0) > step
        return isinstance(item, ev.StepMetrics) and bool(len(item.steps)) and item.steps[-1] > step


if TYPE_CHECKING:

    def _satisfies_session(session: ReplaySession) -> Session:
        """The type checker proves that this class offers the whole ``Session`` interface."""
        return session
