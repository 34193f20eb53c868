"""Old training steps, folded into buckets that keep each column's lowest, highest and mean.

A run that trains for an hour at full speed makes millions of steps; stored one by one they
grow the run file by tens of bytes a step for ever. The compactor (``engine.runs.compaction``)
folds all but the newest steps into ``DecimatedSteps`` events: one row per bucket of
consecutive steps, the way the window's ``gui.series.CompactingSeries`` keeps its curves.

``DecimatedSteps`` *is* a ``StepMetrics`` — ``steps`` holds each bucket's last step and the
value columns each bucket's mean — so replay, the run state, exports and comparisons fold it
like any other batch of steps, and a seek or a rewind cuts it by step as usual. The extra
columns say what a mean alone would hide: ``<column>_low`` and ``<column>_high`` (NaN
ignored, inf kept, so a spike or a divergence is never averaged away), ``<column>_count``
(how many values were not NaN; fewer than ``rows`` means the bucket held a NaN, and its
shown value is then NaN too, as it was live) and ``<column>_sum`` (so buckets merge exactly).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trainscope.engine import events as ev

VALUE_COLUMNS = ("loss", "batch_accuracy", "grad_norm", "lr")
STATS = ("low", "high", "sum", "count")


def _empty_int() -> np.ndarray:
    return np.empty(0, dtype=np.int64)


def _empty_float() -> np.ndarray:
    return np.empty(0, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class DecimatedSteps(ev.StepMetrics):
    """Buckets of consecutive steps: ``steps`` is each bucket's last step, values its means."""

    first_steps: np.ndarray = field(default_factory=_empty_int)  # first step of each bucket
    rows: np.ndarray = field(default_factory=_empty_int)  # steps folded into each bucket
    width: int = 0  # the bucket grid (in steps) it was folded on
    loss_low: np.ndarray = field(default_factory=_empty_float)
    loss_high: np.ndarray = field(default_factory=_empty_float)
    loss_sum: np.ndarray = field(default_factory=_empty_float)
    loss_count: np.ndarray = field(default_factory=_empty_int)
    batch_accuracy_low: np.ndarray = field(default_factory=_empty_float)
    batch_accuracy_high: np.ndarray = field(default_factory=_empty_float)
    batch_accuracy_sum: np.ndarray = field(default_factory=_empty_float)
    batch_accuracy_count: np.ndarray = field(default_factory=_empty_int)
    grad_norm_low: np.ndarray = field(default_factory=_empty_float)
    grad_norm_high: np.ndarray = field(default_factory=_empty_float)
    grad_norm_sum: np.ndarray = field(default_factory=_empty_float)
    grad_norm_count: np.ndarray = field(default_factory=_empty_int)
    lr_low: np.ndarray = field(default_factory=_empty_float)
    lr_high: np.ndarray = field(default_factory=_empty_float)
    lr_sum: np.ndarray = field(default_factory=_empty_float)
    lr_count: np.ndarray = field(default_factory=_empty_int)


#: Classes the run store writes beyond ``engine.events``; the codec may rebuild only these.
STORED_EVENTS: tuple[type, ...] = (DecimatedSteps,)

Buckets = dict[str, np.ndarray]
"""Bucket columns: "first", "last", "rows" and ``<value>_<stat>`` for every value column."""


def buckets_of(event: ev.StepMetrics) -> Buckets:
    """Any step batch as buckets: a plain batch is one bucket per step."""
    if isinstance(event, DecimatedSteps):
        columns = {"first": event.first_steps, "last": event.steps, "rows": event.rows}
        for name in VALUE_COLUMNS:
            for stat in STATS:
                columns[f"{name}_{stat}"] = getattr(event, f"{name}_{stat}")
    else:
        steps = np.asarray(event.steps, dtype=np.int64)
        columns = {"first": steps, "last": steps, "rows": np.ones(len(steps), np.int64)}
        for name in VALUE_COLUMNS:
            values = np.asarray(getattr(event, name), dtype=np.float64)
            missing = np.isnan(values)
            columns |= {
                f"{name}_low": values,
                f"{name}_high": values,
                f"{name}_sum": np.where(missing, 0.0, values),
                f"{name}_count": (~missing).astype(np.int64),
            }
    return {key: np.asarray(value) for key, value in columns.items()}


def join(parts: list[Buckets]) -> Buckets:
    """Buckets of several batches, one after another."""
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


def regroup(buckets: Buckets, width: int, cuts: np.ndarray) -> Buckets:
    """Merge neighbouring buckets that share a ``width``-step cell and no cut between them.

    ``cuts`` are the steps a later rewind went back to (sorted): the steps up to one and those
    after it are never merged, so cutting the timeline there later keeps exactly what it kept
    live. The buckets must be in step order (one stretch of a timeline).
    """
    first = buckets["first"]
    if len(first) == 0:
        return buckets
    cell = np.floor_divide(first, width) * (len(cuts) + 1)
    key = cell + np.searchsorted(cuts, first, side="left")
    starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    if len(starts) == len(first):
        return buckets
    ends = np.append(starts[1:], len(first)) - 1
    merged = {
        "first": first[starts],
        "last": buckets["last"][ends],
        "rows": np.add.reduceat(buckets["rows"], starts),
    }
    for name in VALUE_COLUMNS:
        merged[f"{name}_low"] = np.fmin.reduceat(buckets[f"{name}_low"], starts)
        merged[f"{name}_high"] = np.fmax.reduceat(buckets[f"{name}_high"], starts)
        merged[f"{name}_sum"] = np.add.reduceat(buckets[f"{name}_sum"], starts)
        merged[f"{name}_count"] = np.add.reduceat(buckets[f"{name}_count"], starts)
    return merged


def in_step_order(buckets: Buckets) -> bool:
    """True when every bucket starts after the previous one ended (one stretch of a timeline)."""
    first, last = buckets["first"], buckets["last"]
    return bool(np.all(first[1:] > last[:-1]) and np.all(last >= first))


def decimated_event(buckets: Buckets, width: int, last: ev.StepMetrics) -> DecimatedSteps:
    """The buckets as one event; ``last`` (the newest batch folded in) gives epoch and speed."""
    values: dict[str, np.ndarray] = {}
    for name in VALUE_COLUMNS:
        count, total = buckets[f"{name}_count"], buckets[f"{name}_sum"]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(count > 0, total / np.where(count > 0, count, 1), np.nan)
        values[name] = np.where(count < buckets["rows"], np.nan, mean)  # a NaN stays visible
    # Any: the splat fills the ``<value>_<stat>`` array fields by name (the dataclass refuses a
    # name it lacks), which the checker cannot tell from the float fields beside them.
    stats: dict[str, Any] = {
        f"{name}_{stat}": buckets[f"{name}_{stat}"] for name in VALUE_COLUMNS for stat in STATS
    }
    return DecimatedSteps(
        steps=buckets["last"].astype(np.int64),
        loss=values["loss"],
        batch_accuracy=values["batch_accuracy"],
        grad_norm=values["grad_norm"],
        lr=values["lr"],
        epoch=float(last.epoch),
        steps_per_second=float(last.steps_per_second),
        first_steps=buckets["first"].astype(np.int64),
        rows=buckets["rows"].astype(np.int64),
        width=int(width),
        **stats,
    )


def plain_steps(event: object) -> object:
    """A ``DecimatedSteps`` as the plain ``StepMetrics`` a live session would have sent (one
    point per bucket: its mean at its last step); any other event unchanged.

    What replay hands to the panels, which dispatch on the exact event class.
    """
    if not isinstance(event, DecimatedSteps):
        return event
    fields = {
        field.name: getattr(event, field.name) for field in dataclasses.fields(ev.StepMetrics)
    }
    return ev.StepMetrics(**fields)
