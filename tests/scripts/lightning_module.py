"""A student's Lightning script: a LightningModule defined here, trained by ``Trainer.fit`` with
``TrainScopeCallback``; the learning rate is changed mid-run through the window's command path
and the window is closed by ``--quit-after``. Prints one JSON line."""

from __future__ import annotations

import json
import sys

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from trainscope.engine import commands as cmd
from trainscope.lightning import TrainScopeCallback

MAX_EPOCHS = 2000


def blobs(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    labels = np.arange(n) % 3
    centres = np.random.default_rng(7).normal(0, 3, (3, 4))
    x = centres[labels] + np.random.default_rng(seed).normal(0, 0.5, (n, 4))
    return torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(labels)


class Blobs(L.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 3))
        self.lr_by_step: dict[int, float] = {}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        self.lr_by_step[self.global_step + 1] = self.trainer.optimizers[0].param_groups[0]["lr"]
        logits = self(x)
        return {"loss": F.cross_entropy(logits, y), "logits": logits}

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.05)


class ChangeLrAt(L.Callback):
    """Asks for lr 0.01 once step 50 is past, as the window's field would."""

    def __init__(self, scope: TrainScopeCallback) -> None:
        self.scope, self.asked_at = scope, None

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if self.asked_at is None and self.scope.live.step_count >= 50:
            self.asked_at = self.scope.live.step_count
            self.scope.live.send(cmd.SetParam("lr", 0.01))


if __name__ == "__main__":
    torch.manual_seed(0)
    torch.set_num_threads(1)
    loader = DataLoader(TensorDataset(*blobs(240, 0)), batch_size=24, shuffle=True)
    scope = TrainScopeCallback(
        val=blobs(60, 1), eval_every=20, pace=200, window_args=tuple(sys.argv[1:])
    )
    change = ChangeLrAt(scope)
    module = Blobs()
    trainer = L.Trainer(
        max_epochs=MAX_EPOCHS, callbacks=[scope, change], accelerator="cpu", logger=False,
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
    )  # fmt: skip
    trainer.fit(module, loader)
    asked = change.asked_at
    print(
        json.dumps(
            {
                "asked_at": asked,
                "lr_at_ask": module.lr_by_step.get(asked),
                "lr_next": module.lr_by_step.get(asked + 1),
                "lr_after": module.lr_by_step.get(asked + 2),
                "steps": scope.live.step_count,
                "max_steps": MAX_EPOCHS * len(loader),
                "closed": scope.closed,
            }
        )
    )
