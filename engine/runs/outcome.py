"""What a run came to: final and best numbers, and how it ended, for the run list's row.

The recorder keeps one of these up to date so the run list can show a run's numbers without
decoding its events, and an import rebuilds it from the archive's events instead of trusting
the numbers written beside them. It reads the same fold as every other view of a run, kept
without step rows (one small point per evaluation, thinned past a bound), so a recording that
goes on for hours stays small in memory.
"""

from __future__ import annotations

import math

from trainscope.engine.run_fold import RunFold

STATUSES = ("running", "completed", "stopped", "diverged", "interrupted")


def _clean(value: float | None) -> float | None:
    """JSON has no NaN: a missing or non-finite number is reported as None."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


class RunOutcome:
    """The run row's scalars, read from the run's one fold (``engine.run_fold``), kept without
    step rows; ``status`` says how the run ended if it ended now."""

    def __init__(self) -> None:
        self.fold = RunFold.bounded(keep_steps=False)

    def update(self, event: object) -> None:
        self.fold.update(event)

    @property
    def steps(self) -> int:
        return self.fold.step

    @property
    def dataset(self) -> str | None:
        return self.fold.run.dataset if self.fold.run is not None else None

    @property
    def device(self) -> str | None:
        return self.fold.run.device if self.fold.run is not None else None

    @property
    def test_opened_at(self) -> int | None:
        return self.fold.session.test_opened_at

    @property
    def status(self) -> str:
        """A divergence nobody recovered from outranks the planned end, which outranks a stop;
        a run whose training died before it ended is interrupted."""
        session = self.fold.session
        if session.failed and not session.ended and not session.completed:
            return "interrupted"
        if self.fold.diverging:
            return "diverged"
        if session.completed:
            return "completed"
        return "stopped"

    def final(self) -> dict[str, float | int | None]:
        """The run list's numbers: last validation (and test, if opened) and the best epoch."""
        latest, best = self.fold.latest, self.fold.best
        validation = latest.get("validation")
        final: dict[str, float | int | None] = {
            "steps": self.steps,
            "val_loss": _clean(validation.loss) if validation else None,
            "val_accuracy": _clean(validation.accuracy) if validation else None,
            "train_loss": _clean(validation.train_loss) if validation else None,
            "train_accuracy": _clean(validation.train_accuracy) if validation else None,
            "ece": _clean(validation.calibration.ece) if validation else None,
            "best_val_loss": _clean(best.loss) if best else None,
            "best_step": best.step if best else None,
            "best_val_accuracy": _clean(best.accuracy) if best else None,
        }
        for split in ("test", "deployment"):
            if split in latest:
                final[f"{split}_loss"] = _clean(latest[split].loss)
                final[f"{split}_accuracy"] = _clean(latest[split].accuracy)
        return final
