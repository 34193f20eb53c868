"""A worker that skips the ``torch._dynamo`` import trains exactly as one that imports it.

The skip is process-wide, so each side runs in a fresh interpreter of its own: one skips, one
does not, and every evaluation of SGD, Adam and AdamW (trained, rewound — the optimizer's
state saved and loaded — and trained on) must be the same number.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

TRAIN = """
import json, sys, time
if sys.argv[1] == "skip":
    from trainscope.engine.torch_startup import skip_dynamo_import
    skipped = skip_dynamo_import()
else:
    skipped = None
from trainscope.engine import commands as cmd, events as ev
from trainscope.engine.config import RunConfig
from trainscope.engine.session import ThreadSession

def until(session, seen, done):
    while not any(done(event) for event in seen):
        time.sleep(0.01)
        seen += session.drain()

losses = {}
for optimizer in ("sgd", "adam", "adamw"):
    config = RunConfig(steps=260, seed=5).with_settings(optimizer=optimizer, weight_decay=1e-3)
    session = ThreadSession(config)
    session.send(cmd.Step(150))
    session.start()
    seen = []
    until(session, seen, lambda event: isinstance(event, ev.Evaluation) and event.step == 150)
    session.send(cmd.Rewind())
    session.send(cmd.Resume())
    until(session, seen, lambda event: isinstance(event, ev.Finished))
    session.close()
    losses[optimizer] = [[e.step, e.loss] for e in seen if isinstance(e, ev.Evaluation)]
print(json.dumps({"skipped": skipped, "dynamo": "torch._dynamo" in sys.modules, "losses": losses}))
"""


def _child(mode: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", TRAIN, mode], capture_output=True, text=True, timeout=300, check=True
    )
    return json.loads(result.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def both() -> tuple[dict, dict]:
    return _child("skip"), _child("import")


def test_the_worker_trains_without_importing_the_compiler_stack(both):
    skipped, imported = both
    assert skipped["skipped"] is True
    assert skipped["dynamo"] is False
    assert imported["dynamo"] is True  # the ordinary path does import it: the skip is real


def test_without_the_import_every_evaluation_is_the_same_number(both):
    skipped, imported = both
    for optimizer, losses in imported["losses"].items():
        assert [step for step, _ in losses] == [0, 100, 150, 100, 200, 260]  # the rewind to 100
        assert skipped["losses"][optimizer] == losses, optimizer


def test_a_torch_whose_optimizers_were_already_built_is_left_alone():
    """Once an optimizer exists its profiling hook wraps ``step``: nothing is replaced."""
    code = (
        "import torch\n"
        "torch.optim.Adam([torch.zeros(1, requires_grad=True)])\n"
        "from trainscope.engine.torch_startup import skip_dynamo_import\n"
        "print(skip_dynamo_import())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.stdout.split() == ["False"]
