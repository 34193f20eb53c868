"""The checkpoints a run keeps: a ring in memory for rewind, and on disk for forks.

The training loop hands every checkpoint it takes to ``CheckpointRing`` and asks it where a
rewind goes; the ring alone knows the rules. It keeps the newest ``kept`` checkpoints in
memory; after a divergence it remembers the last one taken *before* the blow-up began (those
after it may already hold damaged weights), and a rewind goes there. With a folder it also
writes checkpoints to disk at an interval, the points a later fork starts from, and forgets the
ones a rewind or reset made part of an abandoned future. Torch-free: it only holds them.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

    from trainscope.engine.trainer import Checkpoint


class CheckpointRing:
    """In-memory rewind points (newest ``kept``) and, with ``folder``, on-disk fork points."""

    def __init__(self, kept: int, folder: str | Path | None = None) -> None:
        from trainscope.engine.runs.checkpoints import PeriodicCheckpoints  # torch-free import

        self.memory: deque[Checkpoint] = deque(maxlen=kept)
        self.disk = PeriodicCheckpoints(folder) if folder else None
        self.last_good: Checkpoint | None = None

    def keep(self, step: int, take: Callable[[], Checkpoint]) -> bool:
        """Keep a checkpoint of ``step`` if it is newer than the newest kept (only then is
        ``take`` called to copy the weights); False when nothing was kept."""
        if self.memory and self.memory[-1].step >= step:
            return False
        self.memory.append(take())
        return True

    def pin_last_good(self, bad_step: int) -> None:
        """Remember the newest checkpoint from before ``bad_step`` (once per divergence)."""
        if self.last_good is None:
            earlier = [checkpoint for checkpoint in self.memory if checkpoint.step < bad_step]
            self.last_good = earlier[-1] if earlier else None

    def rewind_target(self, step: int) -> Checkpoint | None:
        """Where a rewind from ``step`` goes — the pinned good one after a divergence, else the
        newest earlier one — with every newer checkpoint dropped; None when there is none."""
        earlier = [checkpoint for checkpoint in self.memory if checkpoint.step < step]
        if self.last_good is not None and self.last_good.step < step:
            earlier = [self.last_good]
        self.last_good = None
        if not earlier:
            return None
        target = earlier[-1]
        while self.memory and self.memory[-1].step > target.step:
            self.memory.pop()
        self.forget_after(target.step)
        return target

    def clear(self) -> None:
        """A reset: no rewind point survives it."""
        self.memory.clear()
        self.last_good = None

    def forget_after(self, step: int) -> None:
        """Drop the disk checkpoints after ``step``: a rewind or reset abandoned that future."""
        if self.disk is not None:
            self.disk.discard_after(step)

    def save_to_disk(
        self, take: Callable[[], Checkpoint], settings: Mapping[str, Any], force: bool = True
    ) -> None:
        """Write a fork point, always when ``force``, else when one is due; ``take`` makes the
        checkpoint only then (copying the weights is the costly part)."""
        if self.disk is not None and (force or self.disk.due()):
            self.disk.save(take(), dict(settings))  # written as JSON beside the weights
