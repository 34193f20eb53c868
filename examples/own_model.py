"""Your own model in TrainScope's window: ``python examples/own_model.py``.

A small network written the way a notebook would write it, trained by TrainScope on scikit-
learn's bundled wine measurements (offline: the data ships with scikit-learn). The window opens
and trains it; change the learning rate or the dropout while it runs, pause, step, rewind.
Closing the window ends the run; the script then prints the last validation score.
"""

from __future__ import annotations

import sys

import numpy as np
from torch import nn

import trainscope


class WineNet(nn.Module):
    """13 measurements in, 3 cultivars out, with a dropout layer the window can steer."""

    def __init__(self, hidden: int = 32) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(13, hidden), nn.ReLU(), nn.Dropout(0.2), nn.Linear(hidden, 3)
        )

    def forward(self, x):
        return self.layers(x)


def wine() -> tuple[np.ndarray, np.ndarray]:
    """The measurements standardized (your own preprocessing: TrainScope trains on X as given)."""
    from sklearn.datasets import load_wine

    data = load_wine()
    x = (data.data - data.data.mean(0)) / data.data.std(0)
    return x.astype(np.float32), data.target


if __name__ == "__main__":
    x, y = wine()
    # With no val=, TrainScope holds out a stratified 15% of the rows for validation.
    run = trainscope.show(
        WineNet(), train=(x, y), lr=3e-3, epochs=60, pace=40, window_args=tuple(sys.argv[1:])
    )
    history = run.history
    if len(history["val_accuracy"]):
        print(f"last validation accuracy: {history['val_accuracy'][-1]:.3f}")
