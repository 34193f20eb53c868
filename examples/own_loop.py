"""Your own training loop in TrainScope's window: ``python examples/own_loop.py``.

The loop is the one a course has you write — forward, loss, backward, ``optimizer.step()`` —
with one line added, ``live.step(...)``. The window shows the loss, accuracy, confusion matrix
and the rest as it trains, and steers it between two of your steps: learning rate, weight
decay, dropout, pause, single steps. What it cannot do for a loop it does not own (rewind,
batch size, another optimizer) is greyed out, the reason on hover. Closing the window sets
``live.should_stop``; the loop ends and the script prints where it got.
"""

from __future__ import annotations

import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import trainscope


def wine() -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's bundled wine measurements (offline), standardized, as tensors."""
    from sklearn.datasets import load_wine

    data = load_wine()
    x = (data.data - data.data.mean(0)) / data.data.std(0)
    return torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(data.target)


if __name__ == "__main__":
    torch.manual_seed(0)
    x, y = wine()
    order = torch.as_tensor(np.random.default_rng(0).permutation(len(y)))
    train, val = order[:140], order[140:]
    model = nn.Sequential(nn.Linear(13, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    steps = 0
    # pace: steps per second a person can follow (the window's pace control changes it).
    watching = trainscope.watch(
        model, optimizer, val=(x[val], y[val]), eval_every=20, pace=100,
        window_args=tuple(sys.argv[1:]),
    )  # fmt: skip
    with watching as live:
        for _epoch in range(300):
            for batch in torch.randperm(len(train)).split(16):
                xb, yb = x[train[batch]], y[train[batch]]
                logits = model(xb)
                loss = F.cross_entropy(logits, yb)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                steps += 1
                live.step(loss, outputs=logits, targets=yb)  # publishes, applies the window's asks
                if live.should_stop:
                    break
            if live.should_stop:
                break
    print(f"stopped after {steps} steps, learning rate {optimizer.param_groups[0]['lr']:g}")
