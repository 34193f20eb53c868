"""The learning-rate range test (Smith 2015; fastai's ``lr_find``, Lightning's ``Tuner.lr_find``).

A short run from the config's own initial weights (same seed, so the same weights the real run
starts from) raises the learning rate exponentially, step by step, from 1e-7 to 10, and records
each step's training loss. The loss is smoothed the way fastai does (an exponential moving
average with bias correction, beta 0.98) and the sweep stops once the smoothed loss is four
times its lowest, or not a number: the learning rate has blown up. The suggestion is a tenth
of the learning rate at the smoothed loss's lowest (fastai's ``minimum`` rule): the bottom is
where the loss is about to turn, so a full run backs off a decade from it. The learning rate of
steepest descent (fastai's ``steep``) is reported beside it. Measured against a 9-point grid of
full runs (the "find the learning rate" lesson, digits, Adam, seeds 1-6), the steepest point lay
3.1-5.5x above the grid's best and fastai's ``valley`` 3-8x below it; the minimum rule 1.4-2.4x.
The smoothing's lag (beta 0.98 over a 100-step sweep) pushes the steep part to the right.

It is a separate session: the run it serves is never touched. Applying the suggestion starts a
fresh run with the same seed, so the same initial weights, at that learning rate.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TextIO

import numpy as np

from trainscope.engine import events as ev
from trainscope.engine.commands import SetParam
from trainscope.engine.config import ScheduledChange
from trainscope.engine.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable

    from trainscope.engine.config import RunConfig
    from trainscope.engine.session_protocol import Session

LR_LOW, LR_HIGH, SWEEP_STEPS = 1e-7, 10.0, 100
SMOOTHING = 0.98  # fastai's beta
DIVERGED_FACTOR = 4.0  # stop once the smoothed loss is this many times its lowest
SKIP_START = 5  # the first points are mostly the smoothing warming up
RULE = "a tenth of the lr at the smoothed loss's lowest (fastai's minimum rule)"
POLL_S = 0.02


@dataclass(frozen=True)
class LrFinding:
    """The sweep's points (up to where it stopped), why it stopped, and the suggestion."""

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    stopped: str  # "diverged" or "end"
    suggestion: float | None
    steepest: float | None = None  # where the smoothed loss falls fastest against log lr
    rule: str = RULE

    def to_dict(self) -> dict:
        return {
            "lrs": self.lrs.tolist(),
            "losses": self.losses.tolist(),
            "smoothed": self.smoothed.tolist(),
            "stopped": self.stopped,
            "suggested_lr": self.suggestion,
            "rule": self.rule,
            "steepest_lr": self.steepest,
        }


def sweep_lrs(steps: int = SWEEP_STEPS, low: float = LR_LOW, high: float = LR_HIGH) -> np.ndarray:
    """The learning rate of each step of the sweep: exponential from ``low`` to ``high``."""
    if steps < SKIP_START * 4:
        raise ConfigError(f"a learning-rate sweep needs at least {SKIP_START * 4} steps")
    if not 0 < low < high:
        raise ConfigError(
            f"the sweep goes from a low learning rate to a higher one ({low}..{high})"
        )
    return np.geomspace(low, high, steps)


def sweep_config(base: RunConfig, steps: int = SWEEP_STEPS) -> RunConfig:
    """``base`` as a sweep: its seed (so its initial weights), ``steps`` steps, the learning
    rate raised before each step, evaluated only at the start and the end."""
    lrs = sweep_lrs(steps)
    schedule = tuple(
        ScheduledChange(step=index + 1, change=SetParam("lr", float(lr)))
        for index, lr in enumerate(lrs)
    )
    config = base.with_settings(lr=float(lrs[0]))
    return replace(config, steps=steps, epochs=None, schedule=schedule, eval_every=steps, pace=None)


def smooth(losses: np.ndarray, beta: float = SMOOTHING) -> np.ndarray:
    """Exponential moving average with bias correction (fastai's ``lr_find`` smoothing)."""
    smoothed, average = np.empty(len(losses)), 0.0
    for index, loss in enumerate(losses):
        average = beta * average + (1 - beta) * float(loss)
        smoothed[index] = average / (1 - beta ** (index + 1))
    return smoothed


def analyse(lrs: np.ndarray, losses: np.ndarray) -> LrFinding:
    """Cut the sweep where it blew up; suggest a tenth of the lowest point's lr (and find the
    steepest descent before that point)."""
    smoothed = smooth(losses)
    blown = _blown(smoothed)
    end = int(np.argmax(blown)) if blown.any() else len(losses)
    stopped = "diverged" if blown.any() else "end"
    lrs, losses, smoothed = lrs[:end], losses[:end], smoothed[:end]
    suggestion = steepest = None
    bottom = int(np.argmin(smoothed)) + 1 if end else 0  # the steep part comes before it
    if bottom > SKIP_START + 2:
        slope = np.gradient(smoothed[SKIP_START:bottom], np.log(lrs[SKIP_START:bottom]))
        fastest = int(np.argmin(slope))
        if slope[fastest] < 0:  # the loss fell somewhere: the sweep found a usable range
            steepest = float(lrs[SKIP_START + fastest])
            suggestion = max(float(lrs[bottom - 1]) / 10, float(lrs[0]))
    return LrFinding(lrs, losses, smoothed, stopped, suggestion, steepest)


def sweep_diverged(losses: np.ndarray) -> bool:
    """True once the sweep so far has blown up (the loop stops the session then)."""
    return bool(_blown(smooth(losses)).any())


def _blown(smoothed: np.ndarray) -> np.ndarray:
    """Where the smoothed loss is not a number or four times its lowest so far."""
    lowest = np.minimum.accumulate(np.where(np.isfinite(smoothed), smoothed, np.inf))
    return ~np.isfinite(smoothed) | (smoothed > DIVERGED_FACTOR * lowest)


class LrSweep:
    """The sweep as it goes, for a caller that polls (the window's timer, or ``run_lr_find``):
    ``poll`` takes the session's new losses and stops the session once the loss has blown up;
    ``finding`` reads the sweep so far. It is a session of its own: the run it serves is
    untouched. ``session_factory`` makes the session, as for any run."""

    def __init__(
        self,
        base: RunConfig,
        session_factory: Callable[..., Session],
        steps: int = SWEEP_STEPS,
    ) -> None:
        self.base, self.steps = base, steps
        self.lrs = sweep_lrs(steps)
        self._steps_seen: list[np.ndarray] = []
        self._losses_seen: list[np.ndarray] = []
        self.done = False
        self.session = session_factory(sweep_config(base, steps))
        self.session.start()

    def poll(self) -> bool:
        """Take what the sweep trained since the last call; True once it has ended."""
        if self.done:
            return True
        ended = False
        for event in self.session.drain():
            if isinstance(event, ev.StepMetrics):
                self._steps_seen.append(np.asarray(event.steps))
                self._losses_seen.append(np.asarray(event.loss, dtype=float))
            elif isinstance(event, ev.Error):
                self.close()
                raise ConfigError(f"the sweep failed: {event.message}")
            elif isinstance(event, ev.Finished | ev.Diverged):
                ended = True
        losses = np.concatenate(self._losses_seen) if self._losses_seen else np.empty(0)
        if ended or sweep_diverged(losses) or not self.session.is_alive():
            self.close()
        return self.done

    def finding(self) -> LrFinding:
        """The sweep so far: its points up to where it blew up, and the suggestion."""
        steps = np.concatenate(self._steps_seen) if self._steps_seen else np.empty(0, dtype=int)
        losses = np.concatenate(self._losses_seen) if self._losses_seen else np.empty(0)
        keep = (steps >= 1) & (steps <= self.steps)
        return analyse(self.lrs[steps[keep] - 1], losses[keep])

    def close(self) -> None:
        if not self.done:
            self.done = True
            self.session.close()


def run_lr_find(
    base: RunConfig,
    session_factory: Callable[..., Session],
    steps: int = SWEEP_STEPS,
    timeout_s: float = 600.0,
) -> LrFinding:
    """Sweep to the end (or the blow-up) and read the finding."""
    sweep = LrSweep(base, session_factory, steps)
    deadline = time.monotonic() + timeout_s
    try:
        while not sweep.poll() and time.monotonic() < deadline:
            time.sleep(POLL_S)
    finally:
        sweep.close()
    return sweep.finding()


def finding_line(finding: LrFinding) -> str:
    """The sweep's outcome in one line for the terminal."""
    if finding.suggestion is None:
        return f"lr-find: no learning rate made the loss fall ({finding.stopped})"
    ended = "blew up" if finding.stopped == "diverged" else "ended"
    return (
        f"lr-find: suggested lr {finding.suggestion:.2g} ({finding.rule}); the sweep {ended} "
        f"at lr {finding.lrs[-1]:.2g}; --lr {finding.suggestion:.2g} starts a run there"
    )


def run_lr_find_headless(
    base: RunConfig, emit_json: bool, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    """``--headless --experiment lr-find``: the sweep in a worker process, a line, the JSON."""
    from trainscope.engine.worker import ProcessSession

    finding = run_lr_find(base, ProcessSession)
    print(finding_line(finding), file=err)
    if emit_json:
        print(json.dumps({"experiment": "lr-find", **finding.to_dict()}), file=out, flush=True)
    return 0
