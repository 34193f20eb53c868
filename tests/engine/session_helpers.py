"""Helpers for driving a real session in tests: collect events until a condition holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from trainscope.engine import events as ev
from trainscope.engine import lesson_run
from trainscope.engine.config import DatasetSpec, ModelSpec, RunConfig

if TYPE_CHECKING:
    from collections.abc import Callable


def small_config(**overrides: object) -> RunConfig:
    """A tiny, fast run (moons, one hidden layer of 16) — the engine tests' 'boring model'."""
    base = RunConfig(
        dataset=DatasetSpec(name="moons", n_samples=400, noise=0.2),
        model=ModelSpec(hidden=(16,)),
        eval_every=10,
        seed=7,
    )
    settings = overrides.pop("settings", None)
    config = RunConfig(**{**base.__dict__, **overrides})
    return config.with_settings(**settings) if settings else config


HANG_TIMEOUT_S = 240.0  # only a hang-catcher (see engine.lesson_run.collect_until)


def collect_until(
    session,
    events: list[ev.Event],
    condition: Callable[[list[ev.Event]], bool],
    timeout: float = HANG_TIMEOUT_S,
) -> list[ev.Event]:
    """``engine.lesson_run.collect_until``, with a failure that pytest reports as one."""
    try:
        return lesson_run.collect_until(session, events, condition, timeout)
    except (RuntimeError, TimeoutError) as failure:
        raise AssertionError(str(failure)) from None


def of_type(events: list[ev.Event], kind: type) -> list:
    return [event for event in events if isinstance(event, kind)]


def last_state(events: list[ev.Event]) -> str | None:
    states = of_type(events, ev.StateChanged)
    return states[-1].state if states else None


def step_count(events: list[ev.Event]) -> int:
    metrics = of_type(events, ev.StepMetrics)
    return int(metrics[-1].steps[-1]) if metrics else 0


def step_values(events: list[ev.Event], field: str) -> dict[int, float]:
    """Map step number → the value of a StepMetrics column (the latest wins after a rewind)."""
    values: dict[int, float] = {}
    for metrics in of_type(events, ev.StepMetrics):
        for step, value in zip(metrics.steps, getattr(metrics, field), strict=True):
            values[int(step)] = float(value)
    return values


class Lines:
    """A text stream that keeps what is written: the CLI's stdout/stderr in a test."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass
