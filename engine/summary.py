"""The run summary: folds an event stream into the one JSON line a run ends with.

Used by the headless CLI and by the window's ``--json``, so the two can be compared number for
number. No torch here: the GUI process imports it.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from trainscope.engine import events as ev
from trainscope.engine.history import RunHistory

if TYPE_CHECKING:
    from collections.abc import Sequence

BOUNDED_HISTORY_ROWS = 1 << 19  # ~12 MiB of step rows
RECENT_EVALUATIONS = 10_000  # evaluation costs kept for the median (bounded for long runs)


def _clean(value: float | None) -> float | None:
    """JSON has no NaN/inf: report them as null."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


@dataclass
class RunSummary:
    """Accumulates what the final JSON needs while events stream past."""

    run: ev.RunStarted | None = None
    last_validation: ev.Evaluation | None = None
    last_test: ev.Evaluation | None = None
    best: ev.Evaluation | None = None
    steps: int = 0
    epoch: float = 0.0
    timed_steps: int = 0
    timed_seconds: float = 0.0
    diverged: ev.Diverged | None = None
    changes: list[dict] = field(default_factory=list)
    test_opened_at: int | None = None
    errors: list[str] = field(default_factory=list)
    finished_reason: str | None = None
    eval_ms: deque[float] = field(default_factory=lambda: deque(maxlen=RECENT_EVALUATIONS))
    last_deployment: ev.Evaluation | None = None
    hints: list[ev.Hint] = field(default_factory=list)
    history: RunHistory = field(default_factory=RunHistory)

    @classmethod
    def bounded(cls) -> RunSummary:
        """For a window that may train for hours: its history thins old steps past ~0.5M rows."""
        return cls(history=RunHistory(max_rows=BOUNDED_HISTORY_ROWS))

    def update(self, event: ev.Event) -> None:
        self.history.update(event)
        if isinstance(event, ev.Hint):
            self.hints.append(event)
        elif isinstance(event, ev.RunStarted):
            self.run, self.best, self.last_validation = event, None, None
        elif isinstance(event, ev.StepMetrics):
            self._add_steps(event)
        elif isinstance(event, ev.Evaluation):
            self._add_evaluation(event)
        elif isinstance(event, ev.ParamChanged):
            self.changes.append(
                {"step": event.step, "key": event.key, "old": event.old, "value": event.new}
            )
        elif isinstance(event, ev.Diverged) and self.diverged is None:
            self.diverged = event
        elif isinstance(event, ev.TestSetOpened):
            self.test_opened_at = event.step
        elif isinstance(event, ev.Error):
            self.errors.append(event.message)
        elif isinstance(event, ev.Finished) and self.finished_reason != "completed":
            self.finished_reason = event.reason
        elif isinstance(event, ev.Rewound):
            self.steps = event.to_step

    def _add_steps(self, event: ev.StepMetrics) -> None:
        count = len(event.steps)
        self.steps = int(event.steps[-1])
        self.epoch = event.epoch
        if event.steps_per_second > 0:
            self.timed_steps += count
            self.timed_seconds += count / event.steps_per_second

    def _add_evaluation(self, event: ev.Evaluation) -> None:
        if event.split == "test":
            self.last_test = event
            return
        if event.split == "deployment":
            self.last_deployment = event
            return
        if event.split != "validation":
            return
        self.last_validation = event
        self.eval_ms.append(event.duration_ms)
        if math.isfinite(event.loss) and (self.best is None or event.loss < self.best.loss):
            self.best = event

    @property
    def steps_per_second(self) -> float:
        return self.timed_steps / self.timed_seconds if self.timed_seconds > 0 else 0.0

    def _lesson_numbers(self) -> dict:
        """Temperature, hints, and the deployment and per-slice scores when the run has them."""
        last = self.last_validation
        numbers: dict = {
            "temperature": _clean(last.temperature) if last else None,
            "hints": [_hint_dict(hint) for hint in self.hints],
        }
        if self.last_deployment is not None:
            numbers["deployment"] = {
                "accuracy": _clean(self.last_deployment.accuracy),
                "loss": _clean(self.last_deployment.loss),
            }
        if last is not None and last.slice_accuracy:
            numbers["slice_accuracy"] = {
                name: _clean(value) for name, value in last.slice_accuracy.items()
            }
        return numbers

    def to_dict(self) -> dict:
        last, best, run = self.last_validation, self.best, self.run
        summary: dict = {
            "dataset": run.dataset if run else None,
            "model": run.model_description if run else None,
            "parameter_count": run.parameter_count if run else None,
            "device": run.device if run else None,
            "seed": run.seed if run else None,
            "steps": self.steps,
            "epochs": round(self.epoch, 3),
            "final": _evaluation_numbers(last),
            "best": {"step": best.step, **_evaluation_numbers(best)}
            if best
            else {"step": None, "val_loss": None},
            "baselines": {
                "zero_rule_accuracy": _clean(last.zero_rule_accuracy) if last else None,
                "random_accuracy": _clean(last.random_accuracy) if last else None,
                "chance_loss": _clean(run.chance_loss) if run else None,
            },
            "ece": _clean(last.calibration.ece) if last else None,
            "mce": _clean(last.calibration.mce) if last else None,
            "roc_auc": _clean(last.roc_auc) if last else None,
            "steps_per_second": round(self.steps_per_second, 2),
            "eval_ms_median": _clean(_median(self.eval_ms)),
            "diverged": self.diverged is not None,
            "diverged_at": self.diverged.step if self.diverged else None,
            "changes": self.changes,
            "test_opened_at": self.test_opened_at,
            "finished": self.finished_reason,
            "errors": self.errors,
        }
        if self.last_test is not None:
            summary["test"] = _evaluation_numbers(self.last_test)
        summary.update(self._lesson_numbers())
        return summary


def _hint_dict(hint: ev.Hint) -> dict:
    return {"step": hint.step, "kind": hint.kind, "title": hint.title, "evidence": hint.evidence}


def _evaluation_numbers(evaluation: ev.Evaluation | None) -> dict:
    if evaluation is None:
        return {"train_loss": None, "val_loss": None, "val_accuracy": None, "train_accuracy": None}
    return {
        "train_loss": _clean(evaluation.train_loss),
        "train_accuracy": _clean(evaluation.train_accuracy),
        "val_loss": _clean(evaluation.loss),
        "val_accuracy": _clean(evaluation.accuracy),
    }


def _median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
