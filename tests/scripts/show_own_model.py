"""A student's script: a model class defined here, in __main__ (not importable), trained through
``trainscope.show`` with the window open; lr and dropout changed mid-run. Prints one JSON line."""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import torch
from torch import nn

import trainscope


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


def blobs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    labels = np.arange(n) % 3
    centres = np.random.default_rng(7).normal(0, 3, (3, 4))
    noise = np.random.default_rng(seed).normal(0, 0.5, (n, 4))
    return (centres[labels] + noise).astype(np.float32), labels


if __name__ == "__main__":
    model = Net()
    window_args = tuple(sys.argv[1:]) or ("--quit-after", "8")
    run = trainscope.show(
        model,
        train=blobs(300, 0),
        val=blobs(90, 1),
        lr=1e-2,
        pace=200,  # steps per second: a run a person can watch
        block=False,
        window_args=window_args,
    )
    deadline = time.monotonic() + 60
    while len(run.history["step"]) == 0 or run.history["step"][-1] < 100:
        assert time.monotonic() < deadline, "no steps reached the handle"
        time.sleep(0.02)
    run.set(lr=2e-3, dropout=0.4)
    dropout_after = None
    while dropout_after is None or run.history["step"][-1] < 300:
        assert time.monotonic() < deadline, "the run stopped early"
        time.sleep(0.02)
        dropout_after = model.layers[2].p if model.layers[2].p != 0.1 else None
    window_closed = run.wait(timeout=240)
    window_exit = run.link.process.wait(30)
    stop_deadline = time.monotonic() + 10
    while run.is_training() and time.monotonic() < stop_deadline:
        time.sleep(0.05)  # the window's closing reaches the training thread as a Stop
    history = run.history
    changed_at = run.changes[0]["step"] if run.changes else -1
    print(
        json.dumps(
            {
                "dropout": model.layers[2].p,
                "window_closed": window_closed,
                "closed": run.closed,
                "training_after_close": run.is_training(),
                "window_exit": window_exit,
                "changes": run.changes,
                "lr_before": sorted(set(history["lr"][history["step"] < changed_at].tolist())),
                "lr_after": sorted(set(history["lr"][history["step"] >= changed_at].tolist())),
                "val_accuracy": float(history["val_accuracy"][-1]),
            }
        )
    )
