"""``TrainScopeCallback``: a Lightning ``Trainer``'s run in TrainScope's window, steered live.

::

    from trainscope.lightning import TrainScopeCallback

    trainer = lightning.Trainer(max_epochs=20, callbacks=[TrainScopeCallback(val=(X_val, y_val))])
    trainer.fit(model, loader)

It does inside a ``Trainer`` what ``trainscope.watch`` does around a hand-written loop
(``engine.live_loop``): after every training batch it publishes the step and applies what the
window asked for — learning rate and weight decay into the optimizer's param groups, dropout
into the module's ``nn.Dropout`` layers, pause (the batch end waits), single steps — and closing
the window sets ``trainer.should_stop``. A Lightning lr scheduler is noticed as any scheduler is
(the lr control is greyed, showing the scheduler's value). ``training_step`` may return a dict
with ``loss`` and ``logits`` (or ``outputs``) for the batch accuracy; the batch's labels are
taken from ``batch[1]``. An optional extra: ``pip install trainscope[lightning]``.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from trainscope.engine.errors import ConfigError

try:
    import lightning as L
except ImportError:  # the optional extra is not installed
    raise ConfigError(
        "TrainScopeCallback needs Lightning: pip install 'trainscope[lightning]'"
    ) from None

from trainscope.engine.config import RunConfig
from trainscope.engine.live_loop import LiveLoop
from trainscope.watch import Watching

if TYPE_CHECKING:
    import torch


class TrainScopeCallback(L.Callback):
    """Opens the window when training starts; each training batch is one step in it."""

    def __init__(
        self,
        val: Any = None,
        *,
        eval_every: int = 100,
        class_names: tuple[str, ...] | None = None,
        pace: float | None = None,
        block: bool | None = None,
        window_args: tuple[str, ...] = (),
    ) -> None:
        super().__init__()
        self.val, self.eval_every, self.class_names = val, eval_every, class_names
        # A bad pace is one sentence, at once.
        self.config = RunConfig(pace=pace, own_model=True).validate()
        self.block = "ipykernel" not in sys.modules if block is None else block
        self.window_args = window_args
        self.live: LiveLoop | None = None
        self._watching: Watching | None = None
        self._ended = False

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.optimizers:
            raise ConfigError("TrainScopeCallback needs the module to configure an optimizer")
        self.live = LiveLoop(
            pl_module, trainer.optimizers[0], self.val, self.eval_every, None, self.class_names
        )
        self.live.pacer.set(self.config.pace)
        self._watching = Watching(self.live, self.config, self.block, self.window_args)
        self._watching.__enter__()
        self._ended = False

    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        if self.live is None:
            return
        loss, logits = _loss_and_logits(outputs)
        if loss is None:
            return  # a step that returned nothing (skipped): nothing to show
        targets = batch[1] if isinstance(batch, (tuple, list)) and len(batch) > 1 else None
        self.live.step(loss, outputs=logits, targets=targets if logits is not None else None)
        if self.live.should_stop:
            trainer.should_stop = True  # the window was closed or asked to stop

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._end(None)

    def _end(self, error: BaseException | None) -> None:
        if self._watching is not None and not self._ended:
            self._ended = True
            trace = error.__traceback__ if error is not None else None
            self._watching.__exit__(type(error) if error else None, error, trace)

    def on_exception(
        self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException
    ) -> None:
        """The fit raised: the window keeps what it showed and says what went wrong."""
        self._end(exception)

    @property
    def closed(self) -> bool:
        """The window was closed (which stops the training) or has died."""
        return self._watching is not None and self._watching.closed


def _loss_and_logits(outputs: Any) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """What ``training_step`` returned: a loss tensor, or a dict with ``loss`` and, optionally,
    ``logits`` or ``outputs``."""
    if isinstance(outputs, dict):
        logits = outputs.get("logits", outputs.get("outputs"))
        return outputs.get("loss"), logits
    return outputs, None
