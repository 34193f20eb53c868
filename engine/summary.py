"""The run summary: the one JSON line a run ends with, read from the run's fold.

Used by the headless CLI and by the window's ``--json``, so the two can be compared number for
number. No torch here: the GUI process imports it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from trainscope.engine.run_fold import EvaluationPoint, RunFold

if TYPE_CHECKING:
    from collections.abc import Sequence

    from trainscope.engine import events as ev


def _clean(value: float | None) -> float | None:
    """JSON has no NaN/inf: report them as null."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


@dataclass
class RunSummary:
    """The final JSON of a run, read from the run's one fold (``engine.run_fold``).

    The window hands it the fold its ``RunState`` keeps, so the events are folded once; headless,
    the summary keeps its own.
    """

    fold: RunFold = field(default_factory=RunFold)

    def update(self, event: ev.Event) -> None:
        self.fold.update(event)

    @property
    def last_validation(self) -> ev.Evaluation | None:
        return self.fold.latest_validation

    @property
    def steps(self) -> int:
        return self.fold.step

    @property
    def epoch(self) -> float:
        return self.fold.epoch

    @property
    def steps_per_second(self) -> float:
        return self.fold.session.mean_steps_per_second

    @property
    def errors(self) -> list[str]:
        return self.fold.session.errors

    def _lesson_numbers(self) -> dict:
        """Temperature, hints, and the deployment and per-slice scores when the run has them."""
        last, deployment = self.last_validation, self.fold.latest.get("deployment")
        numbers: dict = {
            "temperature": _clean(last.temperature) if last else None,
            "hints": [_hint_dict(hint) for hint in self.fold.session.hints],
        }
        if deployment is not None:
            numbers["deployment"] = {
                "accuracy": _clean(deployment.accuracy),
                "loss": _clean(deployment.loss),
            }
        if last is not None and last.slice_accuracy:
            numbers["slice_accuracy"] = {
                name: _clean(value) for name, value in last.slice_accuracy.items()
            }
        return numbers

    def to_dict(self) -> dict:
        fold, session = self.fold, self.fold.session
        last, best, run = self.last_validation, fold.best, fold.run
        diverged, test = session.first_divergence, fold.latest.get("test")
        summary: dict = {
            "dataset": run.dataset if run else None,
            "model": run.model_description if run else None,
            "parameter_count": run.parameter_count if run else None,
            "device": run.device if run else None,
            "seed": run.seed if run else None,
            "steps": fold.step,
            "epochs": round(fold.epoch, 3),
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
            "steps_per_second": round(session.mean_steps_per_second, 2),
            "eval_ms_median": _clean(_median(session.eval_ms)),
            "diverged": diverged is not None,
            "diverged_at": diverged.step if diverged else None,
            "changes": [
                {"step": change.step, "key": change.key, "old": change.old, "value": change.new}
                for change in session.changes
            ],
            "test_opened_at": session.test_opened_at,
            "finished": session.finished_reason,
            "errors": session.errors,
        }
        if test is not None:
            summary["test"] = _evaluation_numbers(test)
        summary.update(self._lesson_numbers())
        return summary


def _hint_dict(hint: ev.Hint) -> dict:
    return {"step": hint.step, "kind": hint.kind, "title": hint.title, "evidence": hint.evidence}


def _evaluation_numbers(evaluation: ev.Evaluation | EvaluationPoint | None) -> dict:
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
