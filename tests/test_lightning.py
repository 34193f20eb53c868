"""``trainscope.lightning.TrainScopeCallback``: a tiny LightningModule trained by ``Trainer.fit``
with the real window (offscreen), steered mid-run; closing the window stops the Trainer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("lightning")  # the optional extra; the test install has it

from tests.offscreen import run_offscreen

SCRIPT = Path(__file__).parent / "scripts" / "lightning_module.py"


def test_a_lightning_run_takes_the_windows_lr_and_stops_when_the_window_closes(tmp_path):
    result = run_offscreen(SCRIPT, "--quit-after", "4", cwd=tmp_path)
    report = json.loads(result.stdout.splitlines()[-1])
    # Asked for after step 50's batch end; the callback applies it at the next batch end (51),
    # so step 52 is the first to use it: a Trainer's step cannot be changed half-way.
    assert report["asked_at"] == 50
    assert report["lr_at_ask"] == report["lr_next"] == 0.05
    assert report["lr_after"] == 0.01
    assert report["closed"] is True
    assert 50 < report["steps"] < report["max_steps"]  # the window's closing stopped fit
