"""The checkpoint ring's rules for rewind, and the loop's table of command handlers."""

from __future__ import annotations

import typing
from types import SimpleNamespace

from trainscope.engine import commands as cmd
from trainscope.engine.checkpoint_ring import CheckpointRing
from trainscope.engine.session import COMMAND_HANDLERS


def _ring(*steps: int, kept: int = 5) -> CheckpointRing:
    ring = CheckpointRing(kept)
    for step in steps:
        ring.keep(step, lambda step=step: SimpleNamespace(step=step))
    return ring


def test_only_newer_checkpoints_are_kept_and_the_copy_is_made_only_then():
    ring = _ring(0, 100)
    taken = []
    assert not ring.keep(100, lambda: taken.append(1))  # the same step again: no copy made
    assert taken == []
    assert [c.step for c in ring.memory] == [0, 100]


def test_the_ring_keeps_the_newest_and_rewinds_to_the_newest_earlier_one():
    ring = _ring(0, 100, 200, 300, kept=3)
    assert [c.step for c in ring.memory] == [100, 200, 300]
    assert ring.rewind_target(250).step == 200
    assert [c.step for c in ring.memory] == [100, 200]  # the abandoned future is gone
    assert ring.rewind_target(100) is None  # nothing before the oldest kept


def test_after_a_divergence_a_rewind_goes_to_the_last_checkpoint_before_it():
    ring = _ring(0, 100, 200, 300)
    ring.pin_last_good(150)  # blew up at 150: 200 and 300 may hold damaged weights
    ring.pin_last_good(250)  # pinned once per divergence
    assert ring.rewind_target(320).step == 100
    assert ring.last_good is None
    assert ring.rewind_target(100).step == 0  # the next rewind follows the plain rule


def test_a_reset_leaves_no_rewind_point():
    ring = _ring(0, 100)
    ring.pin_last_good(50)
    ring.clear()
    assert ring.rewind_target(500) is None


def test_every_command_has_its_handler():
    assert set(COMMAND_HANDLERS) == set(typing.get_args(cmd.Command))
