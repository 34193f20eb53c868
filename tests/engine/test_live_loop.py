"""``engine.live_loop``: a hand-written loop, steered between its steps like any session."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from trainscope.engine import commands as cmd
from trainscope.engine import events as ev
from trainscope.engine.live_loop import LiveLoop

CLASSES = 3


def blobs(n: int = 240, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % CLASSES
    centres = np.random.default_rng(7).normal(0, 3, (CLASSES, 4))
    x = centres[labels] + rng.normal(0, 0.5, (n, 4))
    return torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(labels)


class OwnLoop:
    """The student's loop on a thread; the test is the window."""

    def __init__(self, epochs: int = 1000, scheduler: bool = False) -> None:
        torch.manual_seed(0)
        self.model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3))
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.05)
        self.scheduler = (
            torch.optim.lr_scheduler.StepLR(self.optimizer, 5, 0.9) if scheduler else None
        )
        self.live = LiveLoop(self.model, self.optimizer, val=blobs(60, seed=1), eval_every=20)
        self.epochs = epochs
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.seen: list = []

    def run(self) -> None:
        x, y = blobs()
        for _ in range(self.epochs):
            for start in range(0, len(y), 30):
                xb, yb = x[start : start + 30], y[start : start + 30]
                logits = self.model(xb)
                loss = F.cross_entropy(logits, yb)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                if self.scheduler is not None:
                    self.scheduler.step()
                self.live.step(loss, outputs=logits, targets=yb)
                if self.live.should_stop:
                    self.live.close()
                    return
        self.live.close()

    def collect_until(self, done, timeout: float = 30.0) -> list:
        deadline = time.monotonic() + timeout
        while not any(done(event) for event in self.seen):
            assert time.monotonic() < deadline, "the loop did not get there in time"
            time.sleep(0.01)
            self.seen += self.live.drain()
        return self.seen


def test_an_lr_change_lands_at_the_next_step_pause_blocks_and_stop_ends_the_loop(
    one_torch_thread,
):
    loop = OwnLoop()
    # Applied after the first step (live.step is the loop's only moment between steps): 40 more
    # steps, then the loop waits inside live.step.
    loop.live.send(cmd.Step(40))
    loop.thread.start()
    loop.collect_until(lambda e: isinstance(e, ev.StateChanged) and e.state == "paused")
    assert loop.live.step_count == 41
    time.sleep(0.3)  # paused: a student's loop that went on would have stepped by now
    assert loop.live.step_count == 41
    loop.live.send(cmd.SetParam("lr", 0.01))
    loop.live.send(cmd.SetParam("dropout", 0.5))
    loop.live.send(cmd.Resume())
    loop.collect_until(lambda e: isinstance(e, ev.StepMetrics) and e.steps[-1] > 60)
    loop.live.send(cmd.Stop())
    loop.collect_until(lambda e: isinstance(e, ev.Finished))
    loop.thread.join(10)
    assert not loop.thread.is_alive()
    changes = {e.key: e for e in loop.seen if isinstance(e, ev.ParamChanged)}
    assert changes["lr"].step == 42
    assert changes["dropout"].old == pytest.approx(0.2)
    assert loop.model[2].p == 0.5
    steps = np.concatenate([e.steps for e in loop.seen if isinstance(e, ev.StepMetrics)])
    lrs = np.concatenate([e.lr for e in loop.seen if isinstance(e, ev.StepMetrics)])
    np.testing.assert_array_equal(steps, np.arange(1, len(steps) + 1))  # every step, once
    assert set(lrs[steps <= 41]) == {0.05}
    assert set(lrs[steps > 41]) == {0.01}
    norms = np.concatenate([e.grad_norm for e in loop.seen if isinstance(e, ev.StepMetrics)])
    assert np.all(np.isfinite(norms))
    assert np.all(norms > 0)
    evaluations = [e for e in loop.seen if isinstance(e, ev.Evaluation)]
    assert [e.step for e in evaluations[:2]] == [20, 40]
    assert loop.model.training  # evaluation put it back in train mode


def test_a_scheduler_driven_lr_is_shown_and_an_lr_change_is_refused(one_torch_thread):
    loop = OwnLoop(scheduler=True)
    loop.thread.start()
    loop.collect_until(lambda e: isinstance(e, ev.StepMetrics) and e.steps[-1] >= 12)
    loop.live.send(cmd.SetParam("lr", 0.5))
    loop.collect_until(lambda e: isinstance(e, ev.CommandRefused))
    loop.live.send(cmd.Stop())
    loop.collect_until(lambda e: isinstance(e, ev.Finished))
    loop.thread.join(10)
    refused = next(e for e in loop.seen if isinstance(e, ev.CommandRefused))
    assert "scheduler" in refused.message
    lrs = np.concatenate([e.lr for e in loop.seen if isinstance(e, ev.StepMetrics)])
    assert lrs.max() <= 0.05  # the scheduler's decaying values, never the refused 0.5
    assert lrs[-1] < lrs[0]


@pytest.mark.parametrize("command", [cmd.Rewind(), cmd.Reset()])
def test_what_a_loop_it_does_not_own_cannot_do_is_refused_with_the_reason(
    one_torch_thread, command
):
    loop = OwnLoop()
    loop.live.send(command)
    loop.thread.start()
    loop.collect_until(lambda e: isinstance(e, ev.CommandRefused))
    loop.live.send(cmd.Stop())
    loop.collect_until(lambda e: isinstance(e, ev.Finished))
    refused = next(e for e in loop.seen if isinstance(e, ev.CommandRefused))
    assert "this loop is your own" in refused.message


def test_each_steps_batch_accuracy_and_gradient_norm_are_that_steps_own(one_torch_thread):
    """Reduced at the publish, many steps at once: each value must still be its own step's."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    live = LiveLoop(model, optimizer)
    x, y = blobs()
    expected_accuracy, expected_norm = [], []
    for step in range(40):
        size = 10 + step % 7  # batches of different sizes, as a last partial batch is
        xb, yb = x[step * 5 : step * 5 + size], y[step * 5 : step * 5 + size]
        logits = model(xb)
        loss = F.cross_entropy(logits, yb)
        optimizer.zero_grad()
        loss.backward()
        grads = torch.cat([p.grad.flatten() for p in model.parameters()])
        expected_norm.append(float(grads.norm()))
        expected_accuracy.append(float((logits.argmax(1) == yb).float().mean()))
        optimizer.step()
        targets = None if step == 7 else yb  # a step given no targets has no batch accuracy
        live.step(loss, outputs=logits, targets=targets)
    live.close()
    metrics = [e for e in live.drain() if isinstance(e, ev.StepMetrics)]
    accuracy = np.concatenate([m.batch_accuracy for m in metrics])
    norms = np.concatenate([m.grad_norm for m in metrics])
    assert np.isnan(accuracy[7])
    expected_accuracy[7] = np.nan
    np.testing.assert_allclose(accuracy, expected_accuracy, rtol=1e-6)
    np.testing.assert_allclose(norms, expected_norm, rtol=1e-5)
