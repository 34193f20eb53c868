"""What a run came to, folded from its events: final and best numbers, and how it ended.

The recorder keeps one of these up to date so the run list can show a run's numbers without
decoding its events, and an import rebuilds it from the archive's events instead of trusting
the numbers written beside them. Constant memory: it keeps scalars, never series.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from trainscope.engine import events as ev

STATUSES = ("running", "completed", "stopped", "diverged", "interrupted")


def _clean(value: float | None) -> float | None:
    """JSON has no NaN: a missing or non-finite number is reported as None."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


@dataclass
class RunOutcome:
    """Scalars of the run so far; ``status`` says how it ended if it ended now."""

    steps: int = 0
    dataset: str | None = None
    device: str | None = None
    test_opened_at: int | None = None
    last: dict[str, dict[str, float | None]] = field(default_factory=dict)
    best_val_loss: float | None = None
    best_step: int | None = None
    best_val_accuracy: float | None = None
    diverged: bool = False
    completed: bool = False
    ended: bool = False
    failed: bool = False

    def update(self, event: object) -> None:
        if isinstance(event, ev.StepMetrics) and len(event.steps):
            self.steps = int(event.steps[-1])
        elif isinstance(event, ev.Evaluation):
            self._add_evaluation(event)
        elif isinstance(event, ev.RunStarted):
            # A reset starts a new timeline: its numbers start over, as in the run summary.
            self.dataset, self.device = event.dataset, event.device
            self.diverged, self.steps, self.last = False, 0, {}
            self.best_val_loss = self.best_step = self.best_val_accuracy = None
        elif isinstance(event, ev.Diverged):
            self.diverged = True
        elif isinstance(event, ev.Rewound):
            self.diverged, self.steps = False, event.to_step
        elif isinstance(event, ev.TestSetOpened) and self.test_opened_at is None:
            self.test_opened_at = event.step
        elif isinstance(event, ev.Finished):
            self.ended = True
            self.completed = self.completed or event.reason == "completed"
        elif isinstance(event, ev.Error):
            self.failed = True  # the training thread or the worker died

    def _add_evaluation(self, evaluation: ev.Evaluation) -> None:
        self.last[evaluation.split] = {
            "loss": _clean(evaluation.loss),
            "accuracy": _clean(evaluation.accuracy),
            "train_loss": _clean(evaluation.train_loss),
            "train_accuracy": _clean(evaluation.train_accuracy),
            "ece": _clean(evaluation.calibration.ece),
        }
        improves = self.best_val_loss is None or evaluation.loss < self.best_val_loss
        if evaluation.split == "validation" and math.isfinite(evaluation.loss) and improves:
            self.best_val_loss = float(evaluation.loss)
            self.best_step = int(evaluation.step)
            self.best_val_accuracy = _clean(evaluation.accuracy)

    @property
    def status(self) -> str:
        """A divergence nobody recovered from outranks the planned end, which outranks a stop;
        a run whose training died before it ended is interrupted."""
        if self.failed and not self.ended and not self.completed:
            return "interrupted"
        if self.diverged:
            return "diverged"
        if self.completed:
            return "completed"
        return "stopped"

    def final(self) -> dict[str, float | int | None]:
        """The run list's numbers: last validation (and test, if opened) and the best epoch."""
        validation = self.last.get("validation", {})
        final: dict[str, float | int | None] = {
            "steps": self.steps,
            "val_loss": validation.get("loss"),
            "val_accuracy": validation.get("accuracy"),
            "train_loss": validation.get("train_loss"),
            "train_accuracy": validation.get("train_accuracy"),
            "ece": validation.get("ece"),
            "best_val_loss": self.best_val_loss,
            "best_step": self.best_step,
            "best_val_accuracy": self.best_val_accuracy,
        }
        for split in ("test", "deployment"):
            if split in self.last:
                final[f"{split}_loss"] = self.last[split]["loss"]
                final[f"{split}_accuracy"] = self.last[split]["accuracy"]
        return final
