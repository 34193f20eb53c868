"""The one rewind rule that every view of a run follows (run state, history, timeline, replay).

After ``Rewound(to_step=S)`` the run's timeline is what it was at step S: every training step
and every evaluation at or before S stays, everything after S goes. The training loop then
evaluates the restored weights at S again, and that evaluation replaces the one already at S
(same split, same step), so a view shows the checkpoint's scores at once and the fresh ones
as soon as they arrive — never two points at one step, never a gap.
"""

from __future__ import annotations

import numpy as np


def survives(step: float, to_step: int) -> bool:
    """Whether a row recorded at ``step`` is still part of the run after a rewind to ``to_step``."""
    return step <= to_step


def surviving_count(sorted_steps: np.ndarray, to_step: int) -> int:
    """How many leading rows of ascending ``sorted_steps`` survive a rewind to ``to_step``."""
    return int(np.searchsorted(sorted_steps, to_step, side="right"))
