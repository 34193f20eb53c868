"""A training session on a background thread: commands in, events out.

``ThreadSession`` is the in-process form (headless CLI, tests); ``engine.worker`` wraps the same
session in a child process for the window. Both offer ``start``, ``send``, ``drain``, ``close``
and ``is_alive``, so callers do not care which they hold.

The training thread applies commands only between two optimizer steps, so a change takes effect
on the very next step and the ``ParamChanged`` event names that step. Step metrics are published
by time (every ``PUBLISH_INTERVAL_S``), not per step.
"""

from __future__ import annotations

import math
import queue
import threading
import time
import traceback
from collections import deque
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from trainscope.engine import commands as cmd
from trainscope.engine import events as ev
from trainscope.engine.checkpoint_ring import CheckpointRing
from trainscope.engine.diagnosis import Diagnostician
from trainscope.engine.errors import TrainScopeError
from trainscope.engine.pace import Pacer

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from trainscope.engine.config import RunConfig
    from trainscope.engine.data import PreparedData
    from trainscope.engine.session_protocol import Session
    from trainscope.engine.trainer import Trainer

    #: Makes a run's data, trainer and one-line model description (see ``ThreadSession``).
    Build = Callable[[], tuple[PreparedData, Trainer, str]]

#: How often accumulated step metrics leave the training thread (seconds).
PUBLISH_INTERVAL_S = 0.025
IDLE_WAIT_S = 0.05  # paused: how long one wait for a command lasts before publishing again


class ThreadSession:
    """Runs one training run on a daemon thread; thread-safe ``send`` and ``drain``.

    ``checkpoint_dir``: where to save checkpoints on disk (every ``CHECKPOINT_INTERVAL_S`` and
    at the end), so a recorded run can be forked or its weights exported. ``start_from``: a
    checkpoint file to load before the first step — a fork continues from the parent's step.
    """

    def __init__(
        self,
        config: RunConfig,
        checkpoint_dir: str | Path | None = None,
        start_from: str | Path | None = None,
        build: Build | None = None,
    ) -> None:
        """``build`` makes the data, the trainer and the model's one-line description on the
        training thread instead of ``config``: a student's own model (``engine.user_run``)."""
        self.config = config.validate()
        self._checkpoint_dir, self._start_from = checkpoint_dir, start_from
        self._make_run = build
        self._commands: queue.SimpleQueue[cmd.Command] = queue.SimpleQueue()
        self._events: deque[ev.Event] = deque()
        self._thread = threading.Thread(target=self._run, name="trainscope-training", daemon=True)

    # ----- the interface shared with the worker-process session ------------------------------
    def start(self) -> None:
        self._thread.start()

    def send(self, command: cmd.Command) -> None:
        self._commands.put(command)

    def drain(self) -> list[ev.Event]:
        drained = []
        while self._events:
            drained.append(self._events.popleft())
        return drained

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the run and wait for the thread to end."""
        if self._thread.is_alive():
            self.send(cmd.Stop())
            self._thread.join(timeout)

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    # ----- the training thread --------------------------------------------------------------
    def _run(self) -> None:
        try:
            _TrainingLoop(
                self.config,
                self._commands,
                self._events.append,
                self._checkpoint_dir,
                self._start_from,
                self._make_run,
            ).run()
        except TrainScopeError as error:
            self._events.append(ev.Error(message=str(error), detail=""))
            self._events.append(ev.StateChanged(step=0, state="error"))
        except Exception as error:  # the thread must report, never die silently
            self._events.append(
                ev.Error(message=f"training stopped: {error}", detail=traceback.format_exc())
            )
            self._events.append(ev.StateChanged(step=0, state="error"))


class _TrainingLoop:
    """The loop the training thread runs: apply commands, step, publish, evaluate.

    A reset of a forked run goes back to the fork's checkpoint (its starting point), not to
    freshly initialised weights: the fork's history begins there.
    """

    def __init__(
        self,
        config: RunConfig,
        commands: queue.SimpleQueue[cmd.Command],
        emit: Callable[[ev.Event], None],
        checkpoint_dir: str | Path | None = None,
        start_from: str | Path | None = None,
        build: Build | None = None,
    ) -> None:
        self.config = config
        self.build = build
        self.checkpoints = CheckpointRing(config.checkpoints_kept, checkpoint_dir)
        self.start_from = start_from
        self.commands = commands
        self._publish = emit
        self.diagnostician = Diagnostician()
        self.step = 0
        self.state = "running"
        self.steps_left_in_single_step = 0
        self.stop_requested = False
        self.test_opened_at: int | None = None
        self.last_published = time.perf_counter()
        self.steps_since_publish = 0
        self.last_evaluated_step = -1
        self.pacer = Pacer(config.pace)

    def emit(self, event: ev.Event) -> None:
        """Publish an event, then any diagnosis hint it completes (hints follow their evidence)."""
        self._publish(event)
        for hint in self.diagnostician.observe(event):
            self._publish(hint)
            if hint.kind == "diverged":
                self.checkpoints.pin_last_good(hint.first_step)

    # ----- setup ----------------------------------------------------------------------------
    def _build(self) -> None:
        # Imported here so that importing engine.session stays cheap until a run really starts.
        from trainscope.engine.data import prepare_data
        from trainscope.engine.device import resolve_device
        from trainscope.engine.insight_collector import InsightCollector
        from trainscope.engine.models import describe, parameter_count
        from trainscope.engine.resources import ResourceMonitor
        from trainscope.engine.trainer import Trainer

        if self.build is not None:  # a student's own model and data (engine.user_run)
            self.data, self.trainer, self.description = self.build()
            device = self.trainer.device
        else:
            device = resolve_device(self.config.device)
            if device.type == "cpu":
                import torch

                torch.set_num_threads(self.config.threads)
            self.data = prepare_data(self.config.dataset, self.config.seed)
            self.trainer = Trainer(self.config, self.data, device)
            self.description = describe(
                self.trainer.model, self.config.model, self.data.n_features, self.data.n_classes
            )
        self.insights = InsightCollector(self.trainer, self.data, self.emit)
        self.resources = ResourceMonitor(device)
        self.parameter_count = parameter_count(self.trainer.model)
        self.schedule = sorted(self.config.schedule, key=lambda change: change.step)
        self.max_steps = self._planned_steps()

    def _planned_steps(self) -> int | None:
        if self.config.steps is not None:
            return self.config.steps
        if self.config.epochs is not None:
            return max(1, math.ceil(self.config.epochs * self.trainer.steps_per_epoch))
        return None

    def _announce(self) -> None:
        self.emit(
            ev.RunStarted(
                dataset=self.data.name,
                class_names=tuple(self.data.class_names),
                feature_names=tuple(self.data.feature_names),
                n_train=len(self.data.train_y),
                n_validation=len(self.data.validation_y),
                n_test=len(self.data.test_y),
                model_description=self.description,
                parameter_count=self.parameter_count,
                device=str(self.trainer.device),
                settings=self.trainer.settings,
                seed=self.config.seed,
                max_steps=self.max_steps,
                steps_per_epoch=self.trainer.steps_per_epoch,
                chance_loss=math.log(self.data.n_classes),
                n_deployment=0 if self.data.deployment_y is None else len(self.data.deployment_y),
                slice_names=tuple(self.data.slice_names),
                scenario=self.config.scenario,
                train_class_counts=tuple(
                    int(count)
                    for count in np.bincount(self.data.train_y, minlength=self.data.n_classes)
                ),
            )
        )
        self.insights.announce()
        self.emit(ev.StateChanged(step=self.step, state=self.state))

    # ----- main loop ------------------------------------------------------------------------
    def run(self) -> None:
        self._build()
        self._restore_start()
        self._announce()
        self.checkpoints.keep(self.step, partial(self.trainer.checkpoint, self.step))
        self.evaluate()
        # The first rate counts training only, not building the data and model.
        self.last_published = time.perf_counter()
        while not self.stop_requested:
            self.apply_pending_commands(block=not self._should_step())
            if self.stop_requested:
                break
            if self._should_step() and not self._wait_for_pace():
                self._one_step()
                self.pacer.stepped()
        self.publish_steps()
        self._save_to_disk()  # the final weights: what a weights export or a late fork uses
        self.emit(ev.Finished(step=self.step, reason="stopped"))
        self.emit(ev.StateChanged(step=self.step, state="stopped"))

    def _restore_start(self) -> None:
        """A fork: load the parent's checkpoint and number the steps on from it."""
        if self.start_from is not None:
            from trainscope.engine.runs.checkpoints import restore_into

            self.step = restore_into(self.trainer, self.start_from)
            if self.max_steps is not None and self.max_steps <= self.step:
                self.max_steps += (
                    self.step
                )  # forked at or past the planned end: train as long again

    def _save_to_disk(self, force: bool = True) -> None:
        """Write the current weights to disk, always when ``force``, else when the interval is up."""
        take = partial(self.trainer.checkpoint, self.step)
        self.checkpoints.save_to_disk(take, self.trainer.settings, force)

    def _should_step(self) -> bool:
        return self.state == "running" or self.steps_left_in_single_step > 0

    def _wait_for_pace(self) -> bool:
        """Wait (for commands, so none waits longer) until the pace allows the next step.

        True when it waited: the loop then looks at its state again before stepping, because
        a command that arrived meanwhile may have paused, stopped or re-paced the run. Single
        steps are never held back: a student who presses → wants that step now.
        """
        wait = self.pacer.wait() if self.steps_left_in_single_step == 0 else 0.0
        if wait <= 0:
            return False
        self.apply_pending_commands(block=True, timeout=wait)
        return True

    def _one_step(self) -> None:
        next_step = self.step + 1
        while self.schedule and self.schedule[0].step <= next_step:
            self.set_param(self.schedule.pop(0).change)
        measured = self.trainer.train_step(next_step, self.insights.inspect_next_step)
        self.step = next_step
        if measured is not None:
            self.insights.after_inspected_step(next_step, measured)
        self.steps_since_publish += 1
        single_stepping = self.steps_left_in_single_step > 0
        if single_stepping:
            self.steps_left_in_single_step -= 1
        if self.step % self.config.eval_every == 0:
            self.publish_steps()
            self.evaluate()
        elif time.perf_counter() - self.last_published >= PUBLISH_INTERVAL_S:
            self.publish_steps()
        if self.max_steps is not None and self.step >= self.max_steps and self.state == "running":
            self._finish_planned_run()
        elif single_stepping and self.steps_left_in_single_step == 0:
            # A single step ends with a fresh evaluation so the student sees its effect at once.
            self.publish_steps()
            self.evaluate()

    def _finish_planned_run(self) -> None:
        self.publish_steps()
        if self.last_evaluated_step != self.step:
            self.evaluate()
        self._save_to_disk()
        self.emit(ev.Finished(step=self.step, reason="completed"))
        self.max_steps = None  # resuming afterwards trains on with no planned end
        self._set_state("finished")

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.emit(ev.StateChanged(step=self.step, state=state))

    # ----- publishing -----------------------------------------------------------------------
    def publish_steps(self) -> None:
        """Send the step metrics gathered since the last publish; pause on a non-finite loss."""
        resources = self.resources.maybe_sample(self.step)
        if resources is not None:
            self.emit(resources)
        now = time.perf_counter()
        steps, loss, accuracy, grad_norm, lr = self.trainer.fetch_step_records()
        elapsed = now - self.last_published
        rate = self.steps_since_publish / elapsed if elapsed > 0 else 0.0
        self.last_published, self.steps_since_publish = now, 0
        if len(steps) == 0:
            return
        epoch = self.step / self.trainer.steps_per_epoch
        self.emit(ev.StepMetrics(steps, loss, accuracy, grad_norm, lr, epoch, rate, time.time()))
        bad = ~np.isfinite(loss)
        if bad.any():
            first = int(np.argmax(bad))
            self._diverged(int(steps[first]), float(loss[first]))

    def _diverged(self, step: int, loss: float) -> None:
        lr = self.trainer.settings["lr"]
        message = (
            f"the loss became {loss} at step {step} (learning rate {lr:g}); training paused — "
            "rewind to the last good checkpoint or reset, then try a learning rate ten times smaller"
        )
        self.checkpoints.pin_last_good(step)
        self.emit(ev.Diverged(step=step, loss=loss, message=message))
        self.steps_left_in_single_step = 0
        self._set_state("paused")

    def evaluate(self, refresh_insights: bool = False) -> None:
        """Score the splits; insights follow the validation scores (at once when paused)."""
        epoch = self.step / self.trainer.steps_per_epoch
        validation = self.trainer.evaluate("validation", self.step, epoch)
        self.emit(validation)
        idle = self.state != "running" and self.steps_left_in_single_step == 0
        self.insights.after_evaluation(self.step, refresh=refresh_insights or idle)
        if "deployment" in self.trainer.splits:
            self.emit(self.trainer.evaluate("deployment", self.step, epoch))
        if self.test_opened_at is not None:
            self.emit(self.trainer.evaluate("test", self.step, epoch))
        self.last_evaluated_step = self.step
        take = partial(self.trainer.checkpoint, self.step)
        if math.isfinite(validation.loss) and self.checkpoints.keep(self.step, take):
            self._save_to_disk(force=False)

    # ----- commands -------------------------------------------------------------------------
    def apply_pending_commands(self, block: bool, timeout: float = IDLE_WAIT_S) -> None:
        """Apply every queued command; while idle (or held by the pace), wait up to ``timeout``
        for one instead of spinning."""
        if not block and self.commands.empty():
            return  # the usual case between two steps: no exception raised and caught
        try:
            command = self.commands.get(timeout=timeout) if block else self.commands.get_nowait()
        except queue.Empty:
            if block and self._publish_due_while_waiting():
                self.publish_steps()
            return
        while True:
            self.apply(command)
            try:
                command = self.commands.get_nowait()
            except queue.Empty:
                return

    def _publish_due_while_waiting(self) -> bool:
        """Paused: publish as before (resources, a fresh rate clock). Held by the pace: only
        steps not yet sent, because an empty publish restarts the rate's clock and the next
        rate would then leave out the time spent waiting, overstating a slow pace."""
        if time.perf_counter() - self.last_published < PUBLISH_INTERVAL_S:
            return False
        return self.steps_since_publish > 0 or not self._should_step()

    def apply(self, command: cmd.Command) -> None:
        """Carry out one command: ``COMMAND_HANDLERS`` names the method for each kind."""
        COMMAND_HANDLERS[type(command)](self, command)

    def _pause(self, _command: cmd.Pause) -> None:
        self.steps_left_in_single_step = 0
        self.publish_steps()
        self._set_state("paused")

    def _resume(self, _command: cmd.Resume) -> None:
        self._set_state("running")

    def _single_steps(self, command: cmd.Step) -> None:
        self.publish_steps()
        self._set_state("paused")
        self.steps_left_in_single_step = command.n

    def _stop(self, _command: cmd.Stop) -> None:
        self.stop_requested = True

    def _set_pace(self, command: cmd.SetPace) -> None:
        self.pacer.set(command.steps_per_second)

    def _evaluate_now(self, _command: cmd.Evaluate) -> None:
        self.publish_steps()
        self.evaluate(refresh_insights=True)

    def _set_insights(self, command: cmd.SetInsights) -> None:
        self.insights.configure(command, self.step)

    def _preview_data(self, command: cmd.PreviewData) -> None:
        from trainscope.engine.projection import preview

        self.emit(preview(command.dataset, command.seed))

    def set_param(self, change: cmd.SetParam) -> None:
        old = self.trainer.settings[change.key]
        if old == change.value:
            return
        self.trainer.apply_setting(change.key, change.value)
        self.emit(ev.ParamChanged(step=self.step + 1, key=change.key, old=old, new=change.value))

    def rewind(self, _command: cmd.Rewind | None = None) -> None:
        """Back to the last good checkpoint after a divergence, else to the newest earlier one."""
        self.publish_steps()
        target = self.checkpoints.rewind_target(self.step)
        if target is None:
            self.emit(
                ev.CommandRefused(
                    step=self.step, message="there is no earlier checkpoint to rewind to"
                )
            )
            return
        self.trainer.restore(target)
        self.emit(ev.Rewound(from_step=self.step, to_step=target.step))
        self.step = target.step
        if self.state == "running":
            self._set_state("paused")
        self.evaluate()

    def reset(self, _command: cmd.Reset | None = None) -> None:
        """Back to the start: step 0 with fresh weights, or a fork's starting checkpoint."""
        self.trainer.reset()
        self.step = 0
        self.checkpoints.clear()
        self.schedule = sorted(self.config.schedule, key=lambda change: change.step)
        self.max_steps = self._planned_steps()
        self._restore_start()
        self.checkpoints.forget_after(self.step)
        self.last_published, self.steps_since_publish = time.perf_counter(), 0
        self._announce()
        self.checkpoints.keep(self.step, partial(self.trainer.checkpoint, self.step))
        self.evaluate()

    def set_temperature(self, command: cmd.FitTemperature | cmd.ClearTemperature) -> None:
        """Fit (or clear) the temperature, report it with the ECE it buys, and re-evaluate."""
        fit = isinstance(command, cmd.FitTemperature)
        self.publish_steps()
        epoch = self.step / self.trainer.steps_per_epoch
        self.trainer.temperature = 1.0
        before = self.trainer.evaluate("validation", self.step, epoch).calibration.ece
        temperature = self.trainer.fit_temperature() if fit else 1.0
        after = self.trainer.evaluate("validation", self.step, epoch).calibration.ece
        self.emit(
            ev.TemperatureFitted(
                step=self.step, temperature=temperature, ece_before=before, ece_after=after
            )
        )
        self.evaluate()

    def open_test_set(self, _command: cmd.OpenTestSet | None = None) -> None:
        if self.test_opened_at is not None:
            return
        if len(self.data.test_y) == 0:  # a student's own data given without test=
            message = "this run has no test split to open (trainscope.show takes one as test=)"
            self.emit(ev.CommandRefused(step=self.step, message=message))
            return
        self.test_opened_at = self.step
        self.emit(ev.TestSetOpened(step=self.step))
        epoch = self.step / self.trainer.steps_per_epoch
        self.emit(self.trainer.evaluate("test", self.step, epoch))


#: Which method of the loop carries out each command (``_TrainingLoop.apply``).
COMMAND_HANDLERS: dict[type, Callable[[_TrainingLoop, Any], None]] = {
    cmd.SetParam: _TrainingLoop.set_param,
    cmd.Pause: _TrainingLoop._pause,
    cmd.Resume: _TrainingLoop._resume,
    cmd.Step: _TrainingLoop._single_steps,
    cmd.Stop: _TrainingLoop._stop,
    cmd.SetPace: _TrainingLoop._set_pace,
    cmd.Reset: _TrainingLoop.reset,
    cmd.Rewind: _TrainingLoop.rewind,
    cmd.OpenTestSet: _TrainingLoop.open_test_set,
    cmd.Evaluate: _TrainingLoop._evaluate_now,
    cmd.FitTemperature: _TrainingLoop.set_temperature,
    cmd.ClearTemperature: _TrainingLoop.set_temperature,
    cmd.SetInsights: _TrainingLoop._set_insights,
    cmd.PreviewData: _TrainingLoop._preview_data,
}

if TYPE_CHECKING:

    def _satisfies_session(session: ThreadSession) -> Session:
        """The type checker proves that this class offers the whole ``Session`` interface."""
        return session
