"""``trainscope.show``: your own model, trained by TrainScope's loop, in TrainScope's window.

The training runs here, in your process, on a background thread (``engine.user_run``), so a
model class defined in a notebook cell needs no pickling; the window is a child process
(``engine.attach``). In a notebook ``show`` returns at once with a ``ShowRun`` handle; in a
script it waits until the window is closed unless ``block=False``. Closing the window ends the
run (``ShowRun.closed``). Imported only when ``show`` is called: ``import trainscope`` stays
free of torch and Qt.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from trainscope.engine import commands as cmd
from trainscope.engine import events as ev
from trainscope.engine.attach import AttachedRun, WindowLink

if TYPE_CHECKING:
    from torch import nn

    from trainscope.engine.session import ThreadSession

NEW_RUN_REFUSAL = (
    "this window shows your own model from trainscope.show, which only your process can "
    "rebuild: call show again there for a new run, or run trainscope for the bundled ones"
)


class ShowRun:
    """The handle of a ``show`` run: steer it from code, read its history, wait for its end."""

    def __init__(self, session: ThreadSession) -> None:
        self._session = session
        self._lock = threading.Lock()
        self._steps: list[np.ndarray] = []
        self._losses: list[np.ndarray] = []
        self._lrs: list[np.ndarray] = []
        self._validation: list[tuple[int, float, float]] = []
        #: Every setting changed so far: {"key", "step" (the first step that used it), "old", "new"}.
        self.changes: list[dict[str, Any]] = []
        self.finished = threading.Event()
        self.link: WindowLink | None = None

    # ----- what the window link reads (engine.attach.Steerable) ------------------------------
    def send(self, command: cmd.Command) -> None:
        self._session.send(command)

    def drain(self) -> list[ev.Event]:
        events = self._session.drain()
        for index, event in enumerate(events):
            if isinstance(event, ev.RunStarted):  # Setup and the lessons cannot rebuild it
                limits = ev.ControlsLimited(step=0, reasons={"new_run": NEW_RUN_REFUSAL})
                events.insert(index + 1, limits)
                break
        with self._lock:
            for event in events:
                if isinstance(event, ev.StepMetrics):
                    self._steps.append(event.steps)
                    self._losses.append(event.loss)
                    self._lrs.append(event.lr)
                elif isinstance(event, ev.ParamChanged):
                    self.changes.append(
                        {"key": event.key, "step": event.step, "old": event.old, "new": event.new}
                    )
                elif isinstance(event, ev.Evaluation) and event.split == "validation":
                    self._validation.append((event.step, event.loss, event.accuracy))
                elif isinstance(event, ev.Finished | ev.Error):
                    self.finished.set()
        return events

    # ----- the student's calls ---------------------------------------------------------------
    def pause(self) -> None:
        self.send(cmd.Pause())

    def resume(self) -> None:
        self.send(cmd.Resume())

    def set(self, **settings: Any) -> None:
        """``run.set(lr=1e-3, dropout=0.2)``: each lands on the next step, as from the window."""
        for key, value in settings.items():
            self.send(cmd.SetParam(key, value))

    def stop(self) -> None:
        self.send(cmd.Stop())

    def is_training(self) -> bool:
        """The training thread still runs (False once the run was stopped or the window closed)."""
        return self._session.is_alive()

    @property
    def closed(self) -> bool:
        """The window was closed (which ended the run) or has died."""
        return self.link is not None and self.link.window_gone

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the run's planned end or the window's closing; False if ``timeout`` came first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not (self.finished.is_set() or self.closed):
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    @property
    def history(self) -> dict[str, np.ndarray]:
        """Every step's loss and learning rate, and every validation score so far, as arrays."""
        with self._lock:
            steps = np.concatenate(self._steps) if self._steps else np.empty(0, np.int64)
            losses = np.concatenate(self._losses) if self._losses else np.empty(0)
            lrs = np.concatenate(self._lrs) if self._lrs else np.empty(0)
            validation = np.asarray(self._validation, dtype=np.float64).reshape(-1, 3)
        return {
            "step": steps,
            "loss": losses,
            "lr": lrs,
            "val_step": validation[:, 0].astype(np.int64),
            "val_loss": validation[:, 1],
            "val_accuracy": validation[:, 2],
        }


def show(
    model: nn.Module,
    train: Any,
    val: Any = None,
    test: Any = None,
    *,
    block: bool | None = None,
    window_args: tuple[str, ...] = (),
    **settings: Any,
) -> ShowRun:
    """Train ``model`` on ``train`` in TrainScope's window, steerable while it runs.

    ``settings``: lr, optimizer ("sgd", "adam", "adamw"), epochs or steps, batch_size,
    weight_decay, eval_every, seed, device, label_column (for a DataFrame), class_names, pace.
    Everything is checked before the window opens; a mistake raises one sentence.
    """
    from trainscope.engine.user_run import user_session

    session = user_session(model, train, val, test, **settings)
    run = ShowRun(session)
    first = AttachedRun(config=session.config, new_run_refusal=NEW_RUN_REFUSAL)
    session.start()
    run.link = WindowLink(run, first, window_args)
    if block is None:
        block = "ipykernel" not in sys.modules  # a notebook gets its cell back at once
    if block:
        run.link.wait_closed()
        session.close()
    return run
