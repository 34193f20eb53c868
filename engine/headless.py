"""The headless run: train in-process, print progress, end with an optional JSON summary."""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING, TextIO

from trainscope.engine import events as ev
from trainscope.engine.commands import Stop
from trainscope.engine.lesson_moment import MomentWatch
from trainscope.engine.session import ThreadSession
from trainscope.engine.summary import RunSummary

if TYPE_CHECKING:
    from trainscope.engine.config import RunConfig
    from trainscope.engine.runs.recorder import RunRecorder
    from trainscope.engine.scenario import Scenario

PROGRESS_INTERVAL_S = 1.0


def run_headless(
    config: RunConfig,
    emit_json: bool,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    scenario: Scenario | None = None,
    recorder: RunRecorder | None = None,
    session: ThreadSession | None = None,
) -> int:
    """Run ``config`` to its planned end (or divergence); return the process exit code.

    ``session``: one already built, not started (``--model-file``/``--data``: your own model).

    With a scenario, the JSON also says which lesson ran and whether each of its promises
    (its ``[expect]`` section) held. With a recorder, every drained batch is handed to it (its
    own thread writes) and the session saves checkpoints into the run's folder.
    """
    checkpoint_dir = recorder.checkpoint_dir if recorder is not None else None
    session = session or ThreadSession(config, checkpoint_dir=checkpoint_dir)
    summary = RunSummary()
    moment = MomentWatch(scenario) if scenario is not None else None
    progress = _Progress(err)
    session.start()
    try:
        while True:
            ended = False
            events = session.drain()
            if recorder is not None:
                recorder.record(events)
            for event in events:
                summary.update(event)
                progress.note(event)
                ended = ended or _ends_run(event)
                if moment is not None:  # event by event: dated at the evaluation it came at,
                    moment.observe((event,), summary.fold)  # however the drains batch them
            progress.maybe_print(summary)
            if ended or not session.is_alive():
                break
            time.sleep(0.02)
    except KeyboardInterrupt:
        print("interrupted: stopping the run", file=err)
    finally:
        session.send(Stop())
        session.close()
    tail = session.drain()
    for event in tail:
        summary.update(event)
    if recorder is not None:
        recorder.record(tail)
        _finish_recording(recorder, err)
    progress.finish(summary)
    if emit_json:
        print(json.dumps(_report(summary, scenario, moment)), file=out, flush=True)
    return 1 if summary.errors else 0


def _finish_recording(recorder: RunRecorder, err: TextIO) -> None:
    """File the run (its status judged from its events); a failing store costs only the record."""
    from trainscope.engine.errors import TrainScopeError

    try:
        status = recorder.finish()
    except TrainScopeError as error:
        print(f"warning: {error}", file=err)
        return
    if recorder.failure:
        print(f"warning: {recorder.failure}", file=err)
    else:
        print(f"recorded as run {recorder.run_id} ({status})", file=err)


def _report(summary: RunSummary, scenario: Scenario | None, moment: MomentWatch | None) -> dict:
    """The summary, plus the scenario's id, the step of its moment (``engine.lesson_moment``)
    and the outcome of each of its expectations."""
    from trainscope.engine.expectations import check

    report = summary.to_dict()
    report["scenario"] = scenario.id if scenario else None
    report["moment_step"] = moment.step if moment is not None else None
    outcomes = check(scenario.expect, summary.fold, scenario.decision) if scenario else []
    report["expectations"] = [outcome.to_dict() for outcome in outcomes]
    return report


def _ends_run(event: ev.Event) -> bool:
    """A headless run ends when it completes, diverges (paused by itself) or fails."""
    return isinstance(event, ev.Diverged | ev.Error) or (
        isinstance(event, ev.Finished) and event.reason == "completed"
    )


class _Progress:
    """Progress on stderr: a bar when it is a terminal, a line a second otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.last_print = 0.0
        self.max_steps: int | None = None
        self.is_terminal = stream.isatty()

    def note(self, event: ev.Event) -> None:
        if isinstance(event, ev.RunStarted):
            self.max_steps = event.max_steps
            print(
                f"training {event.model_description} ({event.parameter_count:,} parameters) on "
                f"{event.dataset} [{event.n_train}/{event.n_validation}/{event.n_test}] on {event.device}",
                file=self.stream,
            )
        elif isinstance(event, ev.Diverged):
            print(f"diverged: {event.message}", file=self.stream)
        elif isinstance(event, ev.ParamChanged):
            print(f"step {event.step}: {event.key} {event.old} → {event.new}", file=self.stream)
        elif isinstance(event, ev.Error):
            print(f"error: {event.message}", file=self.stream)
        elif isinstance(event, ev.Hint):
            print(f"hint at step {event.step}: {event.title}. {event.evidence}", file=self.stream)

    def maybe_print(self, summary: RunSummary) -> None:
        now = time.monotonic()
        if now - self.last_print >= PROGRESS_INTERVAL_S:
            self.last_print = now
            self._line(summary, end="\r" if self.is_terminal else "\n")

    def finish(self, summary: RunSummary) -> None:
        self._line(summary, end="\n")

    def _line(self, summary: RunSummary, end: str) -> None:
        last = summary.last_validation
        total = f"/{self.max_steps}" if self.max_steps else ""
        bar = ""
        if self.max_steps and self.is_terminal:
            filled = int(20 * min(1.0, summary.steps / self.max_steps))
            bar = "[" + "#" * filled + "." * (20 - filled) + "] "
        scores = f"val loss {last.loss:.4f}  val acc {last.accuracy:.3f}  " if last else ""
        print(
            f"{bar}step {summary.steps}{total}  epoch {summary.epoch:.1f}  {scores}"
            f"{summary.steps_per_second:.0f} steps/s",
            end=end,
            file=self.stream,
            flush=True,
        )
