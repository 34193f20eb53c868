"""Helpers for driving a real session in tests: collect events until a condition holds."""

from __future__ import annotations

import time
from collections.abc import Callable

from engine import events as ev
from engine.config import DatasetSpec, ModelSpec, RunConfig


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


#: Only a hang-catcher: a run on a shared, busy machine may take far longer than usual to reach
#: a condition, and ``collect_until`` fails at once on the run's own Error event anyway.
HANG_TIMEOUT_S = 240.0


def collect_until(
    session,
    events: list[ev.Event],
    condition: Callable[[list[ev.Event]], bool],
    timeout: float = HANG_TIMEOUT_S,
) -> list[ev.Event]:
    """Drain the session into ``events`` until ``condition(events)`` holds; fail after ``timeout``.

    It also fails at once when the session reports an Error: waiting longer cannot help then.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events.extend(session.drain())
        if condition(events):
            return events
        errors = [event for event in events if isinstance(event, ev.Error)]
        if errors:
            raise AssertionError(f"the session failed: {errors[0].message}\n{errors[0].detail}")
        time.sleep(0.005)
    raise AssertionError(f"condition not met within {timeout}s; last events: {events[-5:]}")


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
