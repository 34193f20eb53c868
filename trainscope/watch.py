"""``trainscope.watch``: your own training loop, shown and steered in TrainScope's window.

::

    with trainscope.watch(model, optimizer, val=(X_val, y_val)) as live:
        for epoch in range(20):
            for xb, yb in loader:
                ...  # your forward, loss, backward, optimizer.step()
                live.step(loss, outputs=logits, targets=yb)
                if live.should_stop:
                    break

The loop stays yours and runs where it runs; ``live`` is an ``engine.live_loop.LiveLoop``,
which between two of your steps applies what the window asked for (learning rate, weight
decay, dropout, pause, single steps, stop). The window is a child process
(``engine.attach``); it greys out, with the reason on hover, what it cannot do for a loop it
does not own: rewind, reset, batch size, optimizer, a new run. Closing the window sets
``live.should_stop``. Imported only when ``watch`` is called: ``import trainscope`` stays free
of torch and Qt.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from trainscope.engine.attach import AttachedRun, WindowLink
from trainscope.engine.config import RunConfig
from trainscope.engine.errors import ConfigError
from trainscope.engine.live_loop import LiveLoop
from trainscope.engine.own_loop_run import NOT_OWNED

if TYPE_CHECKING:
    from types import TracebackType

    import torch
    from torch import nn


class Watching:
    """The context ``watch`` returns: opens the window on entry, says the loop ended on exit."""

    def __init__(
        self, live: LiveLoop, config: RunConfig, block: bool, window_args: tuple[str, ...]
    ) -> None:
        self.live, self.config, self.block, self._window_args = live, config, block, window_args
        self.link: WindowLink | None = None

    def __enter__(self) -> LiveLoop:
        first = AttachedRun(config=self.config, new_run_refusal=NOT_OWNED["new_run"])
        self.link = WindowLink(self.live, first, self._window_args)
        return self.live

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        """The loop ended (or raised): the window keeps its curves and says the run stopped.

        In a script the program waits here until the window is closed, so the curves stay up to
        be read; a notebook gets its cell back at once (``block``).
        """
        self.live.close(error)
        if self.block and self.link is not None and error is None:
            self.link.wait_closed()

    @property
    def closed(self) -> bool:
        """The window was closed (which sets ``should_stop``) or has died."""
        return self.link is not None and self.link.window_gone


def watch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    val: Any = None,
    *,
    eval_every: int = 100,
    label_column: str | None = None,
    class_names: tuple[str, ...] | None = None,
    pace: float | None = None,
    block: bool | None = None,
    window_args: tuple[str, ...] = (),
) -> Watching:
    """Open TrainScope's window on your own loop; use it as ``with watch(...) as live:``.

    ``val``: (inputs, labels) arrays or tensors, a torch Dataset or a DataFrame
    (``label_column``), scored every ``eval_every`` steps in eval mode without gradients.
    ``pace``: steps per second the loop is held to (None: as fast as it goes), changed from
    the window's pace control. ``block`` (default: not in a notebook): wait at the end of the ``with`` until the window
    is closed. Everything is checked before the window opens; a mistake raises one sentence.
    """
    import torch

    if not isinstance(model, torch.nn.Module):
        raise ConfigError(f"watch needs your nn.Module first (got {type(model).__name__})")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise ConfigError(
            f"watch needs your torch optimizer second (got {type(optimizer).__name__})"
        )
    # A bad pace is one sentence, before any window opens.
    config = RunConfig(pace=pace, own_model=True).validate()
    live = LiveLoop(model, optimizer, val, eval_every, label_column, class_names)
    live.pacer.set(config.pace)
    if block is None:
        block = "ipykernel" not in sys.modules
    return Watching(live, config, block, window_args)
