"""Keeping a run's rows small: recent history exact, older steps in buckets, old evaluations thinned.

Why: stored as they come, a run grows for as long as it trains — about 120 bytes a step on
digits, most of it the evaluation every 100 steps (its 270 x 10 probabilities alone are 11 kB),
the rest the per-step columns — so an endless window run reached 155 MB in twenty minutes.
``RunCompactor`` bounds a run, however long it lasts:

* the newest ``recent_steps`` steps stay exact; older ``StepMetrics`` rows are folded into
  ``DecimatedSteps`` rows (per bucket of consecutive steps: lowest, highest, sum and count of
  each column, see ``engine.runs.decimation``). Buckets start ``first_width`` steps wide; when
  a run holds more than ``max_buckets`` the grid doubles and neighbours merge;
* the newest ``recent_evaluations`` evaluations of each split stay as they are; older ones are
  thinned to at most ``old_evaluations`` per split, keeping the first of each cell of a step
  grid that doubles as needed (and every evaluation whose loss was not finite);
* every other event (settings changed, rewinds, resets, divergences, the test set opened …)
  is kept. Rows are rewritten in place of the rows they replace, so the recording keeps its
  order: replay, seeks and exports read it as before.

A rewind or a reset is a barrier: buckets never straddle one, nor the step a rewind went back
to, so cutting the timeline there still keeps exactly what it kept live. A pass runs in one
transaction (all of it or none); the recorder runs one on its writer thread every
``slack_steps`` steps or ``evaluation_slack`` evaluations, and ``RunStore.compact`` runs one
on a finished run. A short run (a lesson) is never touched.
"""

from __future__ import annotations

import json
import logging
import math
from bisect import bisect_left
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from trainscope.engine.runs import schema
from trainscope.engine.runs.codec import decode_event, encode_event
from trainscope.engine.runs.decimation import (
    Buckets,
    DecimatedSteps,
    buckets_of,
    decimated_event,
    in_step_order,
    join,
    regroup,
)

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterator

    from trainscope.engine import events as ev

logger = logging.getLogger(__name__)

STEP_KINDS = ("StepMetrics", "DecimatedSteps")
BARRIER_KINDS = ("RunStarted", "Rewound")
PAGE = 500  # rows decoded at a time, so a pass over a long run needs little memory


@dataclass(frozen=True)
class CompactionPolicy:
    """How much stays exact and how far the rest is thinned (defaults: about 15 MB a run)."""

    recent_steps: int = 200_000  # ~4 MB of exact steps; the window keeps as many exact
    slack_steps: int = 50_000  # exact steps gathered before the next pass
    first_width: int = 64
    max_buckets: int = 16_384  # ~3 MB: the window's bucket cap, too
    recent_evaluations: int = 200  # per split, untouched (~2.4 MB on digits)
    old_evaluations: int = 300  # per split, at most, older than those
    evaluation_slack: int = 200  # evaluations gathered before the next pass


@dataclass(frozen=True)
class CompactionReport:
    """What one pass did."""

    steps_folded: int = 0
    evaluations_dropped: int = 0
    rows_before: int = 0
    rows_after: int = 0

    @property
    def changed(self) -> bool:
        return self.rows_before != self.rows_after or self.steps_folded > 0


def stored_bytes_sql() -> str:
    """SQL for a run's stored event bytes (payload and arrays), parameter: the run id."""
    return (
        "SELECT COALESCE(SUM(length(payload) + COALESCE(length(arrays), 0)), 0) "
        "FROM events WHERE run_id = ?"
    )


class RunCompactor:
    """Compacts one run; keep one per run (it remembers what it already read, not what it wrote)."""

    def __init__(self, run_id: int, policy: CompactionPolicy | None = None) -> None:
        self.run_id = run_id
        self.policy = policy or CompactionPolicy()
        self.width = self.policy.first_width
        self._evaluations: dict[int, tuple[str, bool]] = {}  # seq -> (split, loss finite)
        self._buckets: dict[int, int] = {}  # seq of a DecimatedSteps row -> its bucket count
        self._cuts: dict[int, int] = {}  # seq of a Rewound row -> the step it went back to

    def compact(self, connection: sqlite3.Connection) -> CompactionReport:
        """One pass in one transaction; returns what it did (nothing, for a short run)."""
        with schema.transaction(connection):
            skeleton = connection.execute(
                "SELECT seq, kind, step, last_step FROM events WHERE run_id = ? ORDER BY seq",
                (self.run_id,),
            ).fetchall()
            dropped = self._thin_evaluations(connection, skeleton)
            if dropped:
                skeleton = [row for row in skeleton if row[0] not in dropped]
            folded, removed = self._fold_steps(connection, skeleton)
            rows_after = len(skeleton) - removed
            if dropped or folded:
                connection.execute(
                    f"UPDATE runs SET stored_bytes = ({stored_bytes_sql()}) WHERE id = ?",
                    (self.run_id, self.run_id),
                )
        report = CompactionReport(folded, len(dropped), len(skeleton) + len(dropped), rows_after)
        if report.changed:
            logger.debug("run %s compacted: %s", self.run_id, report)
        return report

    # ----- evaluations ------------------------------------------------------------------------
    def _thin_evaluations(self, connection: sqlite3.Connection, skeleton: list) -> set[int]:
        """Drop old evaluations beyond the per-split cap; return the seqs deleted."""
        policy = self.policy
        evaluations = [(seq, step) for seq, kind, step, _ in skeleton if kind == "Evaluation"]
        self._learn_evaluations(connection, [seq for seq, _ in evaluations])
        barriers = [seq for seq, kind, _, _ in skeleton if kind in BARRIER_KINDS]
        by_split: dict[str, list[tuple[int, int, bool]]] = {}
        for seq, step in evaluations:
            split, finite = self._evaluations[seq]
            by_split.setdefault(split, []).append((seq, int(step or 0), finite))
        dropped: set[int] = set()
        for items in by_split.values():
            old = items[: max(len(items) - policy.recent_evaluations, 0)]
            if len(old) > policy.old_evaluations:
                kept = _thinned(old, barriers, policy.old_evaluations)
                dropped.update(seq for seq, _, _ in old if seq not in kept)
        for chunk in _chunks(sorted(dropped)):
            connection.execute(
                f"DELETE FROM events WHERE run_id = ? AND seq IN ({_marks(chunk)})",
                (self.run_id, *chunk),
            )
        for seq in dropped:
            del self._evaluations[seq]
        return dropped

    def _learn_evaluations(self, connection: sqlite3.Connection, seqs: list[int]) -> None:
        """Read the split and loss of evaluations not seen before (their JSON only, no arrays)."""
        unknown = [seq for seq in seqs if seq not in self._evaluations]
        for seq, fields in self._fields_of(connection, unknown):
            loss = fields.get("loss")
            finite = isinstance(loss, int | float) and math.isfinite(loss)
            self._evaluations[seq] = (str(fields.get("split")), finite)

    # ----- steps ------------------------------------------------------------------------------
    def _fold_steps(self, connection: sqlite3.Connection, skeleton: list) -> tuple[int, int]:
        """Fold exact steps older than the newest ``recent_steps``; (steps folded, rows removed)."""
        policy = self.policy
        exact = [
            (seq, int(step), int(last))
            for seq, kind, step, last in skeleton
            if kind == "StepMetrics" and step is not None and last is not None
        ]
        if sum(last - first + 1 for _, first, last in exact) <= policy.recent_steps + (
            policy.slack_steps
        ):
            return 0, 0
        kept, cut_seq = 0, exact[-1][0]
        for seq, first, last in reversed(exact):
            kept += last - first + 1
            cut_seq = seq
            if kept >= policy.recent_steps:
                break
        self._learn_decimated(connection, skeleton)
        cuts = self._rewind_targets(connection, skeleton)
        folded = removed = 0
        for gap in _gaps(skeleton, cut_seq):
            if len(gap) == 1 and gap[0][1] == "DecimatedSteps":
                continue  # folded before, nothing new beside it
            steps, gone = self._fold_gap(connection, gap, cuts)
            folded, removed = folded + steps, removed + gone
        self._cap_buckets(connection, cuts)
        return folded, removed

    def _fold_gap(
        self, connection: sqlite3.Connection, gap: list, cuts: np.ndarray
    ) -> tuple[int, int]:
        """Fold one stretch of step rows (nothing else between them) into one DecimatedSteps row."""
        seqs = [seq for seq, _ in gap]
        buckets: Buckets | None = None
        newest: ev.StepMetrics | None = None
        folded = 0
        for events in self._decoded(connection, seqs):
            parts = [buckets] if buckets is not None else []
            for event in events:
                parts.append(buckets_of(event))
                folded += 0 if isinstance(event, DecimatedSteps) else len(event.steps)
                newest = event
            buckets = join(parts)
            if not in_step_order(buckets):  # not one stretch of a timeline: leave it alone
                logger.warning("run %s: steps out of order, not compacted", self.run_id)
                return 0, 0
            buckets = regroup(buckets, self.width, cuts)
        assert buckets is not None
        assert newest is not None
        self._write(connection, seqs[0], decimated_event(buckets, self.width, newest))
        for chunk in _chunks(seqs[1:]):
            connection.execute(
                f"DELETE FROM events WHERE run_id = ? AND seq IN ({_marks(chunk)})",
                (self.run_id, *chunk),
            )
        for seq in seqs[1:]:
            self._buckets.pop(seq, None)
        return folded, len(seqs) - 1

    def _cap_buckets(self, connection: sqlite3.Connection, cuts: np.ndarray) -> None:
        """Double the grid until the run holds at most ``max_buckets`` buckets (rows stay)."""
        while sum(self._buckets.values()) > self.policy.max_buckets:
            self.width *= 2
            for seq in sorted(self._buckets):
                (event,) = next(self._decoded(connection, [seq]))
                buckets = regroup(buckets_of(event), self.width, cuts)
                if len(buckets["first"]) != len(event.steps):
                    self._write(connection, seq, decimated_event(buckets, self.width, event))

    def _write(self, connection: sqlite3.Connection, seq: int, event: DecimatedSteps) -> None:
        encoded = encode_event(event)
        connection.execute(
            "UPDATE events SET kind = ?, step = ?, last_step = ?, payload = ?, arrays = ? "
            "WHERE run_id = ? AND seq = ?",
            (
                encoded.kind,
                encoded.step,
                encoded.last_step,
                encoded.payload,
                encoded.arrays,
                self.run_id,
                seq,
            ),
        )
        self._buckets[seq] = len(event.steps)

    def _decoded(self, connection: sqlite3.Connection, seqs: list[int]) -> Iterator[list]:
        """The events of ``seqs`` (in seq order), decoded a page at a time."""
        for chunk in _chunks(seqs, PAGE):
            rows = connection.execute(
                f"SELECT payload, arrays FROM events WHERE run_id = ? AND seq IN ({_marks(chunk)}) "
                "ORDER BY seq",
                (self.run_id, *chunk),
            ).fetchall()
            yield [decode_event(payload, arrays) for payload, arrays in rows]

    def _learn_decimated(self, connection: sqlite3.Connection, skeleton: list) -> None:
        """Bucket counts and grid of DecimatedSteps rows written before this compactor existed."""
        unknown = [
            seq
            for seq, kind, _, _ in skeleton
            if kind == "DecimatedSteps" and seq not in self._buckets
        ]
        for seq, fields in self._fields_of(connection, unknown):
            self.width = max(self.width, int(fields.get("width") or 0))
            self._buckets[seq] = int(fields["steps"]["$a"][2][0])

    def _fields_of(
        self, connection: sqlite3.Connection, seqs: list[int]
    ) -> Iterator[tuple[int, dict]]:
        """Each event's sequence number and its JSON fields (no arrays), in chunks of ids."""
        for chunk in _chunks(seqs):
            rows = connection.execute(
                f"SELECT seq, payload FROM events WHERE run_id = ? AND seq IN ({_marks(chunk)})",
                (self.run_id, *chunk),
            ).fetchall()
            for seq, payload in rows:
                yield seq, _fields(payload)

    def _rewind_targets(self, connection: sqlite3.Connection, skeleton: list) -> np.ndarray:
        """Every step a rewind went back to, sorted: buckets never straddle one."""
        for seq, kind, step, _ in skeleton:
            if kind == "Rewound" and seq not in self._cuts:
                self._cuts[seq] = int(step) if step is not None else -1
        return np.array(sorted(set(self._cuts.values())), dtype=np.int64)


def _thinned(old: list[tuple[int, int, bool]], barriers: list[int], cap: int) -> set[int]:
    """Seqs to keep: the first evaluation of each cell of the finest doubling grid that fits."""
    always = {seq for seq, _, finite in old if not finite}
    width = 1
    while True:
        firsts: dict[tuple[int, int], int] = {}
        for seq, step, finite in old:
            if finite:
                firsts.setdefault((bisect_left(barriers, seq), step // width), seq)
        kept = always | set(firsts.values())
        if len(kept) <= cap or width > (1 << 62):
            return kept
        width *= 2


def _gaps(skeleton: list, before_seq: int) -> Iterator[list[tuple[int, str]]]:
    """Stretches of consecutive step rows older than ``before_seq``, split by any other event."""
    gap: list[tuple[int, str]] = []
    for seq, kind, _, _ in skeleton:
        if seq >= before_seq:
            break
        if kind in STEP_KINDS:
            gap.append((seq, kind))
        elif gap:
            yield gap
            gap = []
    if gap:
        yield gap


def _fields(payload: str) -> dict:
    tree = json.loads(payload)
    fields = tree.get("f") if isinstance(tree, dict) else None
    return fields if isinstance(fields, dict) else {}


def _chunks(values: list[int], size: int = 500) -> Iterator[list[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _marks(values: list[int]) -> str:
    return ", ".join("?" for _ in values)
