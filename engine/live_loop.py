"""A student's own training loop, watched and steered: what ``trainscope.watch`` hands them.

The loop is theirs (forward, loss, backward, ``optimizer.step()``); ``LiveLoop.step`` is the one
call they add after each step. It does per step only what must be per step — keep references
to the loss, the outputs and targets, and measure the gradients' norms (one fused call; the
loop may zero them in place before the next publish), no host transfer — and the rest once per
publish (``PUBLISH_INTERVAL_S``), as the engine's own loop does: the batch accuracy, the global
norm, one transfer to the host. Between
two steps it applies what the window asked for: learning rate and weight decay into
``optimizer.param_groups``, dropout into the model's ``nn.Dropout`` modules, pause (``step``
waits), single steps, stop (``should_stop``). Every ``eval_every`` steps it scores ``val`` in
eval mode without gradients and puts the model back in train mode.

What it cannot do for a loop it does not own (rewind, fork, batch size) it refuses with a
``CommandRefused`` that says why. A learning-rate scheduler is noticed when the optimizer's lr
moves without the window having set it: from then on the curves show the scheduler's value and
an lr change is refused, because the scheduler would overwrite it on its next step.

Commands come in with ``send`` and events go out with ``drain``, the ``Session`` interface's
two halves, so a window (or a test) steers it like any session.
"""

from __future__ import annotations

import queue
import time
from collections import deque
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from trainscope.engine import commands as cmd
from trainscope.engine import events as ev
from trainscope.engine import metrics
from trainscope.engine.models import set_dropout
from trainscope.engine.own_loop_run import (
    NOT_OWNED,
    SCHEDULED_LR,
    own_loop_limits,
    own_loop_settings,
    own_loop_started,
)
from trainscope.engine.pace import Pacer
from trainscope.engine.trainer import package_evaluation, parameter_norms
from trainscope.engine.user_data import split_arrays
from trainscope.engine.user_model import first_dropout

if TYPE_CHECKING:
    from torch import nn

PUBLISH_INTERVAL_S = 0.025  # as the engine's own loop (engine.session)
WAIT_S = 0.05  # paused: how long one wait for a command lasts
REFUSED = {cmd.Rewind: NOT_OWNED["rewind"], cmd.Reset: NOT_OWNED["reset"]}


class LiveLoop:
    """The handle ``trainscope.watch`` yields; ``step`` after every optimizer step."""

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        val: Any = None,
        eval_every: int = 100,
        label_column: str | None = None,
        class_names: tuple[str, ...] | None = None,
    ) -> None:
        self.model, self.optimizer, self.eval_every = model, optimizer, eval_every
        self.class_names = class_names
        self.parameters = [p for group in optimizer.param_groups for p in group["params"]]
        self.step_count = 0
        self.should_stop = False
        self.paused = False
        self.steps_left = 0  # single steps still allowed while paused
        self.scheduled_lr = False
        self._written_lr = self.lr
        self._commands: queue.SimpleQueue[cmd.Command] = queue.SimpleQueue()
        self._events: deque[ev.Event] = deque()
        self._validation = self._validation_split(val, label_column)
        self._clear()
        self._last_publish = time.perf_counter()
        self.pacer = Pacer(None)  # the window's pace (None: as fast as the loop goes)

    # ----- the Session halves ----------------------------------------------------------------
    def send(self, command: cmd.Command) -> None:
        self._commands.put(command)

    def drain(self) -> list[ev.Event]:
        drained = []
        while self._events:
            drained.append(self._events.popleft())
        return drained

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    # ----- the student's call ----------------------------------------------------------------
    def step(
        self,
        loss: torch.Tensor,
        outputs: torch.Tensor | None = None,
        targets: torch.Tensor | None = None,
    ) -> None:
        """Record the step just taken; publish, evaluate and apply commands when due."""
        if self.step_count == 0:
            self._announce(outputs, targets)
        self.step_count += 1
        self._losses.append(loss.detach())
        if outputs is not None and targets is not None:
            self._hits.append((outputs.detach(), targets.detach()))
        else:
            self._hits.append(None)
        # Measured now (fused, on the device, no transfer): a loop that zeroes its gradients in
        # place (``zero_grad(set_to_none=False)``) would leave nothing to measure at the publish.
        grads = [p.grad for p in self.parameters if p.grad is not None]
        self._norms.append(parameter_norms(grads) if grads else None)
        lr = self.lr
        self._lrs.append(lr)
        if lr != self._written_lr and not self.scheduled_lr:
            self.scheduled_lr = True  # something else moved it: a scheduler drives the lr
            self._events.append(self._limits())  # the window greys its lr control, saying why
        self._written_lr = lr
        if self.steps_left > 0:
            self.steps_left -= 1
            if self.steps_left == 0:
                self._pause()
        due = self._validation is not None and self.step_count % self.eval_every == 0
        if due or time.perf_counter() - self._last_publish >= PUBLISH_INTERVAL_S:
            self.publish()
        if due:
            self.evaluate()
        self._apply_commands(block=False)
        while self.paused and not self.should_stop and self.steps_left == 0:
            self._apply_commands(block=True)
        self._hold_pace()

    def _hold_pace(self) -> None:
        """The window's pace, held here: the loop's next step waits until it is due (single
        steps are never held back; commands are taken meanwhile, so none waits longer)."""
        self.pacer.stepped()
        while not self.should_stop and self.steps_left == 0 and (wait := self.pacer.wait()) > 0:
            time.sleep(min(wait, WAIT_S))
            self._apply_commands(block=False)

    def close(self, error: BaseException | None = None) -> None:
        """The loop ended (``error``: it raised): publish what is left and say so."""
        self.publish()
        if error is not None:  # the window keeps its curves and shows the sentence
            message = f"your training loop raised {type(error).__name__}: {error}"
            self._events.append(ev.Error(message=message, detail=""))
            self._events.append(ev.StateChanged(step=self.step_count, state="error"))
            return
        self._events.append(ev.Finished(step=self.step_count, reason="stopped"))
        self._events.append(ev.StateChanged(step=self.step_count, state="stopped"))

    # ----- publishing ------------------------------------------------------------------------
    def publish(self) -> None:
        """The steps since the last publish, reduced on the device and moved in one transfer."""
        now = time.perf_counter()
        elapsed, self._last_publish = now - self._last_publish, now
        count = len(self._losses)
        if not self._losses:
            return
        losses = torch.stack(self._losses).float()
        rows = (losses, self._batch_accuracy(losses), self._global_norms(losses))
        loss, batch_accuracy, grad_norm = torch.stack(rows).to("cpu", torch.float64).numpy()
        first = self.step_count - len(self._losses) + 1
        self._events.append(
            ev.StepMetrics(
                steps=np.arange(first, self.step_count + 1, dtype=np.int64),
                loss=loss,
                batch_accuracy=batch_accuracy,
                grad_norm=grad_norm,
                lr=np.asarray(self._lrs, dtype=np.float64),
                epoch=0.0,
                steps_per_second=count / elapsed if elapsed > 0 else 0.0,
                published_at=time.time(),
            )
        )
        self._clear()

    def _batch_accuracy(self, losses: torch.Tensor) -> torch.Tensor:
        """Each kept step's share of right answers, all steps in a few vectorized calls."""
        accuracy = torch.full_like(losses, float("nan"))
        kept = [index for index, hit in enumerate(self._hits) if hit is not None]
        if not kept:
            return accuracy
        outputs = torch.cat([self._hits[index][0] for index in kept])  # type: ignore[index]
        targets = torch.cat([self._hits[index][1] for index in kept])  # type: ignore[index]
        sizes = torch.tensor([len(self._hits[index][1]) for index in kept], device=losses.device)  # type: ignore[index]
        right = (outputs.argmax(1) == targets).float()
        step_of_row = torch.repeat_interleave(torch.arange(len(kept), device=losses.device), sizes)
        per_step = torch.zeros(len(kept), device=losses.device).index_add_(0, step_of_row, right)
        accuracy[torch.tensor(kept, device=losses.device)] = per_step / sizes
        return accuracy

    def _global_norms(self, like: torch.Tensor) -> torch.Tensor:
        """Each step's global gradient norm from its per-parameter norms: one stack and one
        norm for all the steps when each had the same gradients (the usual case), NaN where a
        step had none."""
        kept = self._norms
        widths = {len(norms) for norms in kept if norms is not None}
        if len(widths) == 1 and all(norms is not None for norms in kept):
            flat = torch.stack([norm for norms in kept for norm in norms])  # type: ignore[union-attr]
            return torch.linalg.vector_norm(flat.view(len(kept), -1).float(), dim=1)
        nan = torch.tensor(float("nan"), device=like.device)
        return torch.stack(
            [
                nan if norms is None else torch.linalg.vector_norm(torch.stack(norms).float())
                for norms in kept
            ]
        )

    def evaluate(self) -> None:
        """Score ``val`` in eval mode without gradients, then back to the mode it was in."""
        assert self._validation is not None
        inputs, labels, baseline = self._validation
        started = time.perf_counter()
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                log_probabilities = torch.log_softmax(self.model(inputs).float(), dim=1)
        finally:
            self.model.train(was_training)
        probabilities = log_probabilities.exp().cpu().numpy()
        train_numbers = np.asarray([np.nan, np.nan])  # the loop's own training rows are unknown
        self._events.append(
            package_evaluation(
                "validation",
                self.step_count,
                0.0,
                probabilities,
                labels,
                train_numbers,
                baseline,
                started,
            )
        )

    # ----- commands --------------------------------------------------------------------------
    def _apply_commands(self, block: bool) -> None:
        if not block and self._commands.empty():
            return  # the usual case after a step: nothing raised and caught
        try:
            command = self._commands.get(timeout=WAIT_S) if block else self._commands.get_nowait()
        except queue.Empty:
            return
        while True:
            self._apply(command)
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return

    def _apply(self, command: cmd.Command) -> None:
        if isinstance(command, cmd.SetParam):
            self._set(command)
        elif isinstance(command, cmd.Pause):
            self._pause()
        elif isinstance(command, cmd.Resume):
            self.paused, self.steps_left = False, 0
            self._events.append(ev.StateChanged(step=self.step_count, state="running"))
        elif isinstance(command, cmd.Step):
            self.paused, self.steps_left = True, command.n
        elif isinstance(command, cmd.Stop):
            self.should_stop = True
        elif isinstance(command, cmd.SetPace):
            self.pacer.set(command.steps_per_second)
        elif isinstance(command, cmd.Evaluate) and self._validation is not None:
            self.publish()
            self.evaluate()
        elif isinstance(command, cmd.SetInsights):
            pass  # the costly insights need the training loop's own data: none here
        else:
            reason = REFUSED.get(type(command), "this loop is your own")
            name = type(command).__name__.lower()
            self._refuse(f"{name} is not available here: {reason}")

    def _set(self, change: cmd.SetParam) -> None:
        key, value = change.key, change.value
        if key == "lr" and self.scheduled_lr:
            self._refuse(SCHEDULED_LR)
            return
        if key in ("lr", "weight_decay"):
            old = float(self.optimizer.param_groups[0][key])
            for group in self.optimizer.param_groups:
                group[key] = float(value)
            if key == "lr":
                self._written_lr = float(value)
        elif key == "dropout":
            found = first_dropout(self.model)
            if found is None:
                self._refuse("your model has no nn.Dropout modules to change")
                return
            old = found
            set_dropout(self.model, float(value))
        else:
            self._refuse(f"{key} is set by your own loop's code, not from here")
            return
        self._events.append(ev.ParamChanged(step=self.step_count + 1, key=key, old=old, new=value))

    def _pause(self) -> None:
        self.paused = True
        self.publish()
        self._events.append(ev.StateChanged(step=self.step_count, state="paused"))

    def _refuse(self, message: str) -> None:
        self._events.append(ev.CommandRefused(step=self.step_count, message=message))

    # ----- what the window is told ----------------------------------------------------------
    def _announce(self, outputs: torch.Tensor | None, targets: torch.Tensor | None) -> None:
        """Before the first step's numbers: the run as far as the loop's objects tell it."""
        batch_size = len(targets) if targets is not None else None
        self._settings, self._known = own_loop_settings(self.model, self.optimizer, batch_size)
        if self._validation is not None:
            n_classes, n_validation = int(self._validation[1].max()) + 1, len(self._validation[1])
        else:
            n_classes, n_validation = 0, 0
        if outputs is not None and outputs.ndim == 2:
            n_classes = max(n_classes, int(outputs.shape[1]))
        started = own_loop_started(
            self.model,
            self._settings,
            n_classes,
            n_validation,
            self.class_names,
            str(self.parameters[0].device),
        )
        self._events.append(started)
        self._events.append(self._limits())
        self._events.append(ev.StateChanged(step=0, state="running"))

    def _limits(self) -> ev.ControlsLimited:
        return own_loop_limits(self.model, self._settings, self._known, self.scheduled_lr)

    # ----- helpers ---------------------------------------------------------------------------
    def _validation_split(
        self, val: Any, label_column: str | None
    ) -> tuple[torch.Tensor, np.ndarray, metrics.Baselines] | None:
        if val is None:
            return None
        inputs, labels = split_arrays(val, "validation", label_column)
        device = self.parameters[0].device
        n_classes = int(labels.max()) + 1
        # The loop's training labels are its own: the majority guess is judged by validation's.
        baseline = metrics.baselines(labels, labels, n_classes)
        return torch.as_tensor(inputs, device=device), labels, baseline

    def _clear(self) -> None:
        self._losses: list[torch.Tensor] = []
        self._hits: list[tuple[torch.Tensor, torch.Tensor] | None] = []
        self._norms: list[list[torch.Tensor] | None] = []
        self._lrs: list[float] = []
