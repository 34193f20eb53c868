"""The recorder: hands a live run's events to a writer thread that commits them in batches.

Why a thread and batches: ``record`` is called on the drain path of the window or the CLI and
must cost next to nothing, so it only appends a reference to the (immutable) events. The
writer encodes and commits at least every ``COMMIT_INTERVAL_S``, so a SIGKILL loses at most
the last fraction of a second, and it refreshes the run's heartbeat while the run is idle so
another process can tell a paused run from a dead one.

A long run stays small: every ``slack_steps`` steps (or ``evaluation_slack`` evaluations) the
writer runs a ``RunCompactor`` pass after its commit, which folds all but the newest steps into
min/max/mean buckets and thins old evaluations (``engine.runs.compaction``). A failed pass is
logged and compaction stops for this run; the recording itself goes on.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from trainscope.engine import events as ev
from trainscope.engine.runs import schema
from trainscope.engine.runs.codec import encode_event
from trainscope.engine.runs.compaction import CompactionPolicy, RunCompactor
from trainscope.engine.runs.errors import RunStoreError
from trainscope.engine.runs.liveness import HEARTBEAT_S
from trainscope.engine.runs.outcome import STATUSES, RunOutcome

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from trainscope.engine.config import RunConfig
    from trainscope.engine.runs.store import RunStore

logger = logging.getLogger(__name__)

COMMIT_INTERVAL_S = 0.25


class RunRecorder:
    """Records one run into ``store``: ``record(events)`` as they are drained, then ``finish``."""

    def __init__(
        self,
        store: RunStore,
        config: RunConfig,
        name: str | None = None,
        *,
        versions: dict[str, Any] | None = None,
        forked_from: dict[str, Any] | None = None,
        experiment: dict[str, Any] | None = None,
        commit_interval_s: float = COMMIT_INTERVAL_S,
        compaction: CompactionPolicy | None = None,
        compact: bool = True,
    ) -> None:
        self.run_id = store.create_run(config, name, versions, forked_from, experiment)
        self._compactor = RunCompactor(self.run_id, compaction) if compact else None
        self._steps_since_pass = self._evaluations_since_pass = 0
        self.compactions = 0
        self.compaction_seconds = 0.0  # writer-thread time spent in compaction passes
        self.checkpoint_dir: Path = store.checkpoint_dir(self.run_id)
        self._path = store.path
        self._interval = commit_interval_s
        self._pending: deque[tuple[float, list[object]]] = deque()
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._outcome = RunOutcome()
        self._seq = 0
        self._final_status: str | None = None
        self.failure: str | None = None
        self._thread = threading.Thread(
            target=self._write_loop, name="trainscope-run-recorder", daemon=True
        )
        self._thread.start()

    def record(self, events: Iterable[object], at: float | None = None) -> None:
        """Queue drained events; ``at`` (seconds since start) overrides the clock (synthetic runs).

        Insight events (decision boundary, layer health, …) are left out: large, and replay
        cannot show them against a model it does not have.
        """
        batch = [event for event in events if not isinstance(event, ev.INSIGHT_EVENTS)]
        if batch:
            moment = time.monotonic() - self._started if at is None else at
            self._pending.append((moment, batch))

    @property
    def queued(self) -> int:
        """Batches handed to ``record`` that the writer has not committed yet."""
        return len(self._pending)

    @property
    def status(self) -> str:
        """How the run would be filed if it ended now, judged from the events written so far."""
        return self._outcome.status

    def finish(self, status: str | None = None, timeout: float = 10.0) -> str:
        """Write what is queued, file the run as ``status`` (default: judged from its events)."""
        if status is not None and status not in STATUSES:
            raise RunStoreError(
                f"a run status must be one of {', '.join(STATUSES)} (got {status!r})"
            )
        self._final_status = status or "auto"
        self._stop.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise RunStoreError("the run recorder did not finish writing in time")
        return self._outcome.status if status is None else status

    # ----- the writer thread ------------------------------------------------------------------
    def _write_loop(self) -> None:
        try:
            connection = schema.connect(self._path)
        except Exception as error:  # the run goes on unrecorded rather than crashing
            self._fail(error)
            return
        try:
            last_beat = 0.0
            while True:
                stopping = self._stop.wait(self._interval)
                now = time.monotonic()
                if self._pending or now - last_beat >= HEARTBEAT_S or stopping:
                    self._commit(connection, stopping)
                    last_beat = now
                if stopping:
                    return
        except Exception as error:
            self._fail(error)
        finally:
            connection.close()

    def _fail(self, error: Exception) -> None:
        self.failure = f"recording stopped: {error}"
        logger.warning("run %s: %s", getattr(self, "run_id", "?"), self.failure)

    def _commit(self, connection: Any, stopping: bool) -> None:
        """Encode and insert the batches queued so far, then update the run row, in one transaction."""
        rows, added_bytes = [], 0
        for _ in range(len(self._pending)):  # what is queued now: a busy producer cannot
            moment, batch = self._pending.popleft()  # keep one transaction open for ever
            for event in batch:
                try:
                    encoded = encode_event(event)
                except Exception as error:  # one odd event must not end the recording
                    logger.warning("run %s: event %r not recorded: %s", self.run_id, event, error)
                    continue
                self._outcome.update(event)
                self._count_for_compaction(event)
                added_bytes += len(encoded.payload) + len(encoded.arrays)
                rows.append(
                    (
                        self.run_id,
                        self._seq,
                        moment,
                        encoded.kind,
                        encoded.step,
                        encoded.last_step,
                        encoded.payload,
                        encoded.arrays,
                    )
                )
                self._seq += 1
        with schema.transaction(connection):
            if rows:
                connection.executemany(
                    "INSERT INTO events (run_id, seq, t, kind, step, last_step, payload, arrays) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
            self._update_run(connection, stopping, added_bytes)
        self._maybe_compact(connection)

    def _count_for_compaction(self, event: object) -> None:
        if isinstance(event, ev.StepMetrics):
            self._steps_since_pass += len(event.steps)
        elif isinstance(event, ev.Evaluation):
            self._evaluations_since_pass += 1

    def _maybe_compact(self, connection: Any) -> None:
        """A compaction pass once enough new history has come in since the last one."""
        compactor = self._compactor
        if compactor is None:
            return
        policy = compactor.policy
        if (
            self._steps_since_pass < policy.slack_steps
            and self._evaluations_since_pass < policy.evaluation_slack
        ):
            return
        self._steps_since_pass = self._evaluations_since_pass = 0
        started = time.perf_counter()
        try:
            if compactor.compact(connection).changed:
                self.compactions += 1
        except Exception as error:  # never worth the recording: keep every step from now on
            logger.warning("run %s: compaction stopped: %s", self.run_id, error)
            self._compactor = None
        self.compaction_seconds += time.perf_counter() - started

    def _update_run(self, connection: Any, stopping: bool, added_bytes: int = 0) -> None:
        outcome = self._outcome
        values: dict[str, Any] = {
            "heartbeat": time.time(),
            "steps": outcome.steps,
            "final": json.dumps(outcome.final()),
            "test_opened_at": outcome.test_opened_at,
            "status": "running",
        }
        if outcome.device is not None:
            values["device"] = outcome.device
        if outcome.dataset is not None:
            values["dataset"] = outcome.dataset
        if stopping:
            chosen = self._final_status
            values["status"] = outcome.status if chosen in (None, "auto") else chosen
            values["ended"] = time.time()
        assignments = ", ".join(f"{column} = ?" for column in values)
        connection.execute(
            f"UPDATE runs SET {assignments}, stored_bytes = stored_bytes + ? WHERE id = ?",
            (*values.values(), added_bytes, self.run_id),
        )
