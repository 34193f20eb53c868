"""Carry out a scenario the way a learner would and measure whether its lesson shows.

Two kinds of claim are checked here, each as a list of ``Check`` (a measured value beside the
bound it must clear, so the margin can be read):

- ``promise_checks``: the scenario's ``[expect]`` section on a plain run to its planned end;
- ``try_this_checks``: the effect its "try this" claims, applied at a known step of a
  ``engine.lesson_run.LessonRun``; data and model changes are new runs compared with the
  original.

``tests/engine/test_scenario_files.py`` asserts that every check holds on the CI seeds;
``bench/scenario_seeds.py`` prints them for many seeds with their margins. Runs are real
``ThreadSession`` runs; callers that want steady timing set one torch thread.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from trainscope.engine import events as ev
from trainscope.engine.expectations import check, measure
from trainscope.engine.lesson_run import LessonRun, finished_run, lesson_run, validation_evaluations
from trainscope.engine.thresholds import ThresholdTable

if TYPE_CHECKING:
    from collections.abc import Callable

    from trainscope.engine.run_fold import RunFold
    from trainscope.engine.scenario import Scenario, TryThis

# --- what is checked --------------------------------------------------------------------------

_HOLDS: dict[str, Callable[[float, float], bool]] = {
    ">=": lambda value, bound: value >= bound,
    ">": lambda value, bound: value > bound,
    "<=": lambda value, bound: value <= bound,
    "<": lambda value, bound: value < bound,
    "==": lambda value, bound: value == bound,
}


@dataclass(frozen=True)
class Check:
    """One claim: ``value op bound`` (or, for a flag or hint list, ``held`` with a reading)."""

    name: str
    held: bool
    value: float | None = None
    op: str | None = None
    bound: float | None = None
    detail: str = ""

    @classmethod
    def compare(cls, name: str, value: float, op: str, bound: float, detail: str = "") -> Check:
        value, bound = float(value), float(bound)
        held = not math.isnan(value) and _HOLDS[op](value, bound)
        return cls(name, bool(held), value, op, bound, detail)

    @property
    def margin(self) -> float | None:
        """How far the value is inside its bound (negative: outside); None for flags."""
        if self.value is None or self.bound is None or self.op is None:
            return None
        if self.op in (">=", ">"):
            return self.value - self.bound
        if self.op in ("<=", "<"):
            return self.bound - self.value
        return -abs(self.value - self.bound)

    @property
    def relative_margin(self) -> float | None:
        """``margin`` as a share of the bound (of 1 when the bound is 0)."""
        margin = self.margin
        if margin is None:
            return None
        return margin / (abs(self.bound) if self.bound else 1.0)

    def describe(self) -> str:
        if self.value is None:
            return f"{self.name}: {'held' if self.held else 'FAILED'} ({self.detail})"
        text = f"{self.name}: {self.value:.4g} {self.op} {self.bound:.4g}"
        return text + (f" ({self.detail})" if self.detail else "")


def promise_checks(history: RunFold, scenario: Scenario) -> list[Check]:
    """The scenario's ``[expect]`` section judged on ``history``, one check per bound."""
    checks: list[Check] = []
    for expectation, outcome in zip(
        scenario.expect, check(scenario.expect, history, scenario.decision), strict=True
    ):
        candidates = ((">=", expectation.at_least), ("<=", expectation.at_most))
        bounds = [(op, bound) for op, bound in candidates if bound is not None]
        if outcome.value is None or not bounds:
            checks.append(Check(outcome.name, outcome.held, detail=outcome.detail))
            continue
        for op, bound in bounds:
            compared = Check.compare(expectation.name, outcome.value, op, bound, outcome.detail)
            checks.append(replace(compared, held=compared.held and outcome.held))
    return checks


def run_promise(scenario: Scenario, seed: int) -> list[Check]:
    """Run the scenario to its planned end on ``seed`` and judge its ``[expect]`` section."""
    return promise_checks(finished_run(scenario.run_config(seed)), scenario)


# --- the "try this" of each scenario ----------------------------------------------------------


def _step_losses(history: RunFold, first: int, last: int) -> np.ndarray:
    steps, losses = np.asarray(history.steps), np.asarray(history.losses)
    return losses[(steps >= first) & (steps <= last)]


def _healthy_baseline(scenario: Scenario, seed: int) -> list[Check]:
    """Opening the sealed test set at the end: it agrees with validation, the diagonal is full."""
    with lesson_run(scenario.run_config(seed)) as run:
        run.to_end().apply(scenario.try_this[1].commands())
        history = run.history
    test, validation = history.evaluations("test")[-1], history.evaluations()[-1]
    confusion = history.latest["test"].confusion
    return [
        Check.compare(
            "|test - validation accuracy|",
            abs(test.accuracy - validation.accuracy),
            "<=",
            0.04,
            f"test {test.accuracy:.3f}, validation {validation.accuracy:.3f}",
        ),
        Check.compare(
            "test confusion on the diagonal", np.trace(confusion) / confusion.sum(), ">=", 0.93
        ),
    ]


#: How long a learner takes to act on a hint they are watching for: they rewind this many
#: seconds (at the lesson's pace) after the "loss is blowing up" hint appears.
REACTION_S = 3.0


def _blow_up(history: RunFold) -> ev.Hint | None:
    return next((hint for hint in history.hints if hint.kind == "diverged"), None)


def _lr_too_high(scenario: Scenario, seed: int, more_steps: int = 300) -> list[Check]:
    """Rewind to the last good checkpoint and ÷10, a few seconds after the blow-up hint (when a
    learner acts, not at the run's end, where Adam at 0.1 has sometimes settled by itself):
    the loss falls, beats staying at 0.1, and does not blow up again."""
    hint = _blow_up(finished_run(scenario.run_config(seed)))
    if hint is None:
        return [Check("the loss blew up, so there is something to fix", False, detail="no hint")]
    began = hint.first_step
    act_at = hint.step + round(REACTION_S * (scenario.pace or 8))
    config = replace(scenario.run_config(seed), steps=act_at)
    outcomes = {}
    for label, commands in (("kept", []), ("fixed", scenario.try_this[0].commands())):
        with lesson_run(config) as run:
            history = run.to_end().history
            before = float(np.median(_step_losses(history, act_at - 50, act_at)))
            start = run.apply(commands)
            end = run.train(more_steps)
            outcomes[label] = (start, end, run.history)
    start, end, fixed = outcomes["fixed"]
    after = float(np.median(_step_losses(fixed, end - 50, end)))
    kept = float(np.median(_step_losses(outcomes["kept"][2], end - 50, end)))
    worst = float(np.max(_step_losses(fixed, start + 1, end)))
    return [
        Check.compare(
            "steps the rewind goes back before the first blow-up",
            began - start,
            ">",
            0,
            f"rewound at step {act_at} to step {start}, first spike at step {began}",
        ),
        Check.compare(
            "late loss fall after ÷10",
            1.0 - after / before,
            ">",
            0.5,
            f"median {before:.3f} → {after:.3f}",
        ),
        Check.compare("÷10 late loss / kept-at-0.1 late loss", after / kept, "<", 1.0),
        Check.compare("worst loss after ÷10 / chance", worst / fixed.chance_loss, "<", 5.0),
    ]


def _lr_too_low(scenario: Scenario, seed: int) -> list[Check]:
    """×100: the training loss halves within 200 steps, at five times the per-epoch pace."""
    with lesson_run(scenario.run_config(seed)) as run:
        slow = measure("train_loss_drop_per_epoch", run.to_end().history)
        start = run.apply(scenario.try_this[0].commands())
        run.train(200)
        window = run.history.since(start)
    fast = measure("train_loss_drop_per_epoch", window)
    return [
        Check.compare(
            "train loss drop in 200 steps at ×100", measure("train_loss_drop", window), ">=", 0.5
        ),
        Check.compare(
            "per-epoch drop, ×100 / before",
            fast / slow if slow > 0 else math.inf,
            ">=",
            5.0,
            f"{slow:.4f} → {fast:.4f} per epoch",
        ),
    ]


def _overfitting(scenario: Scenario, seed: int, more_steps: int = 300) -> list[Check]:
    """Dropout and weight decay once validation turns up: the climb stops, the gap narrows."""
    first = finished_run(scenario.run_config(seed))
    turned_up = next((hint.step for hint in first.hints if hint.kind == "overfitting"), None)
    if turned_up is None:
        return [Check("the overfitting hint fires", False, detail="it never fired")]
    config = replace(scenario.run_config(seed), steps=turned_up)
    windows = {}
    for label, commands in (("control", []), ("fixed", scenario.try_this[0].commands())):
        with lesson_run(config) as run:
            run.to_end()
            start = run.apply(commands)
            run.train(more_steps)
            windows[label] = run.history.since(start).evaluations()
    control, fixed = windows["control"], windows["fixed"]
    gap = {label: points[-1].loss - points[-1].train_loss for label, points in windows.items()}
    return [
        Check.compare(
            "without the fix: val loss end / start",
            control[-1].loss / control[0].loss,
            ">=",
            1.05,
            f"{control[0].loss:.3f} → {control[-1].loss:.3f} from step {turned_up}",
        ),
        Check.compare(
            "with the fix: val loss end / start",
            fixed[-1].loss / fixed[0].loss,
            "<=",
            1.0,
            f"{fixed[0].loss:.3f} → {fixed[-1].loss:.3f} from step {turned_up}",
        ),
        Check.compare(
            "generalization gap narrowed by",
            gap["control"] - gap["fixed"],
            ">=",
            0.1,
            f"control {gap['control']:.3f}, fixed {gap['fixed']:.3f}",
        ),
    ]


def _threshold_of(suggestion: TryThis) -> float:
    """The threshold a suggestion moves to; these lessons' suggestions always carry one."""
    if suggestion.threshold is None:
        raise ValueError(f"the suggestion {suggestion.text!r} sets no threshold")
    return suggestion.threshold


def _underfitting(scenario: Scenario, seed: int) -> list[Check]:
    """A hidden layer (a new run): both losses fall below half of chance, accuracy ≥ 90%."""
    suggestion = scenario.try_this[0]
    history = finished_run(suggestion.restart_config(scenario.run_config(seed)))
    chance = history.chance_loss
    return [
        Check.compare("val loss / chance", measure("final_val_loss", history) / chance, "<=", 0.5),
        Check.compare(
            "train loss / chance", measure("final_train_loss", history) / chance, "<=", 0.5
        ),
        Check.compare("val accuracy", measure("final_val_accuracy", history), ">=", 0.9),
        Check.compare("train accuracy", measure("final_train_accuracy", history), ">=", 0.9),
    ]


def _accuracy_lies(scenario: Scenario, seed: int) -> list[Check]:
    """A lower threshold finds the positives with many false alarms; so do class weights."""
    lower, weights = scenario.try_this
    with lesson_run(scenario.run_config(seed)) as run:
        run.to_end()
        latest = run.history.latest["validation"]
        table = ThresholdTable.from_scores(latest.probabilities[:, 1], latest.labels)
        default, lowered = table.at(scenario.decision.threshold), table.at(_threshold_of(lower))
        start = run.apply(weights.commands())
        run.train(200)
        weighted = run.history.since(start)
    return [
        Check.compare(
            "recall gained by the lower threshold",
            lowered.recall - default.recall,
            ">=",
            0.5,
            f"{default.recall:.3f} → {lowered.recall:.3f}",
        ),
        Check.compare("false alarms added", lowered.fp - default.fp, ">", 0),
        Check.compare("precision at the lower threshold", lowered.precision, "<", 0.5),
        Check.compare(
            "recall gained by class weights",
            measure("minority_recall", weighted) - default.recall,
            ">=",
            0.3,
        ),
    ]


def _threshold_costs(scenario: Scenario, seed: int) -> list[Check]:
    """The suggested threshold more than halves the cost and sits in the cost curve's valley."""
    decision = scenario.decision
    costs = (decision.cost_false_positive, decision.cost_false_negative)
    latest = finished_run(scenario.run_config(seed)).latest["validation"]
    table = ThresholdTable.from_scores(latest.probabilities[:, 1], latest.labels)
    best = table.at(table.best_cost_threshold(*costs), *costs).expected_cost
    moved = table.at(_threshold_of(scenario.try_this[0]), *costs).expected_cost
    default = table.at(decision.threshold, *costs).expected_cost
    return [
        Check.compare("cost at the suggestion / at 0.5", moved / default, "<=", 0.5),
        Check.compare("cost at the suggestion / cheapest", moved / best, "<=", 1.35),
    ]


def _calibration(scenario: Scenario, seed: int) -> list[Check]:
    """A temperature fitted on validation: ECE at least halves, every prediction stays."""
    with lesson_run(scenario.run_config(seed)) as run:
        run.to_end()
        before = run.history.latest["validation"]
        run.apply(scenario.try_this[0].commands())
        after = run.history.latest["validation"]
        fitted = [event for event in run.events if isinstance(event, ev.TemperatureFitted)]
    temperature = fitted[-1].temperature if fitted else math.nan
    changed = int(np.count_nonzero(after.probabilities.argmax(1) != before.probabilities.argmax(1)))
    return [
        Check.compare("temperatures fitted", len(fitted), "==", 1),
        Check.compare("fitted temperature", temperature, ">", 1.0, "an overconfident model cools"),
        Check.compare(
            "evaluation's temperature - the fitted one", after.temperature - temperature, "==", 0.0
        ),
        Check.compare(
            "ECE after / before", after.calibration.ece / before.calibration.ece, "<=", 0.5
        ),
        Check.compare("accuracy change", after.accuracy - before.accuracy, "==", 0.0),
        Check.compare("predictions changed", changed, "==", 0),
    ]


def _distribution_shift(scenario: Scenario, seed: int) -> list[Check]:
    """No shift, or training data that covers the turn (new runs): the gap closes."""
    config = scenario.run_config(seed)
    checks = []
    for suggestion in scenario.try_this:
        drop = measure("deployment_accuracy_drop", finished_run(suggestion.restart_config(config)))
        change = ", ".join(f"{key} {value}" for key, value in suggestion.dataset.items())
        checks.append(Check.compare(f"|deployment drop| with {change}", abs(drop), "<=", 0.08))
    return checks


def _data_leakage(scenario: Scenario, seed: int) -> list[Check]:
    """Without the leaked feature (a new run) validation is honest and matches deployment."""
    config = scenario.run_config(seed)
    leaky = finished_run(config)
    honest = finished_run(scenario.try_this[0].restart_config(config))
    return [
        Check.compare(
            "val accuracy fall without the leak",
            measure("final_val_accuracy", leaky) - measure("final_val_accuracy", honest),
            ">=",
            0.15,
        ),
        # 300 deployment rows: a difference of a few points is sampling noise, not leakage.
        Check.compare(
            "|honest deployment drop|", abs(measure("deployment_accuracy_drop", honest)), "<=", 0.08
        ),
        Check.compare(
            "deployment accuracy gained",
            measure("final_deployment_accuracy", honest)
            - measure("final_deployment_accuracy", leaky),
            ">=",
            0.0,
        ),
    ]


def _repeat_evaluation_spread(run: LessonRun) -> float:
    """Evaluate the same weights three times; the spread of the validation losses."""
    seen = len(run.events)
    for _ in range(3):
        run.current_step()
    return float(np.ptp([event.loss for event in validation_evaluations(run.events[seen:])]))


def _loop_bugs(scenario: Scenario, seed: int) -> list[Check]:
    """Each switch brings its symptom and takes it away again."""
    unshuffle, zero_grad_on, zero_grad_off, eval_on, eval_off = scenario.try_this
    with lesson_run(scenario.run_config(seed)) as run:
        run.to_end()
        run.apply(unshuffle.commands())
        run.train(300)
        learned = measure("final_val_accuracy", run.history)
        growth = {}
        for label, suggestion in (("on", zero_grad_on), ("off", zero_grad_off)):
            start = run.apply(suggestion.commands())
            run.train(200)
            growth[label] = measure("grad_norm_growth", run.history.since(start))
        noise = {}
        for label, suggestion in (("on", eval_on), ("off", eval_off)):
            run.apply(suggestion.commands())
            noise[label] = _repeat_evaluation_spread(run)
    return [
        Check.compare("val accuracy 300 steps after unshuffling", learned, ">=", 0.6),
        Check.compare("gradient norm growth, no_zero_grad on", growth["on"], ">=", 5.0),
        Check.compare("gradient norm growth, no_zero_grad off", growth["off"], "<=", 2.0),
        Check.compare("repeat-evaluation spread, no_eval_mode on", noise["on"], ">", 1e-3),
        Check.compare("repeat-evaluation spread, no_eval_mode off", noise["off"], "==", 0.0),
    ]


def _slices(scenario: Scenario, seed: int) -> list[Check]:
    """Balanced slice weights for 300 steps: the slice gap at least halves, to ≤ 0.15."""
    with lesson_run(scenario.run_config(seed)) as run:
        run.to_end()
        before = measure("slice_accuracy_gap", run.history)
        run.apply(scenario.try_this[0].commands())
        run.train(300)
        after = measure("slice_accuracy_gap", run.history)
    return [
        Check.compare(
            "slice gap after / before", after / before, "<=", 0.5, f"{before:.3f} → {after:.3f}"
        ),
        Check.compare("slice gap after weighting", after, "<=", 0.15),
    ]


def _overfit_one_batch(scenario: Scenario, seed: int) -> list[Check]:
    """Even without hidden layers (a new run), ten examples reach 100% training accuracy."""
    config = scenario.try_this[0].restart_config(scenario.run_config(seed))
    return [
        Check(
            "the suggestion has no hidden layer",
            config.model.hidden == (),
            detail=str(config.model.hidden),
        ),
        Check.compare(
            "train accuracy", measure("final_train_accuracy", finished_run(config)), ">=", 1.0
        ),
    ]


def _adam_vs_sgd(scenario: Scenario, seed: int) -> list[Check]:
    """From the same start Adam ends far lower, and switching mid-run drops the loss faster."""
    switch = scenario.try_this[0]
    config = scenario.run_config(seed)
    sgd = finished_run(config)
    adam = finished_run(config.with_settings(**switch.settings))
    drops = {}
    for label, commands in (("sgd", []), ("adam", switch.commands())):
        with lesson_run(config) as run:
            run.to_end()
            start = run.apply(commands)
            run.train(100)
            drops[label] = measure("train_loss_drop", run.history.since(start))
    return [
        Check.compare(
            "final train loss, Adam / SGD",
            measure("final_train_loss", adam) / measure("final_train_loss", sgd),
            "<=",
            0.25,
        ),
        Check.compare(
            "100-step drop after switching, Adam / SGD",
            drops["adam"] / drops["sgd"]
            if drops["sgd"] > 0
            else math.copysign(math.inf, drops["adam"]),
            ">=",
            2.0,
            f"Adam {drops['adam']:.3f}, SGD {drops['sgd']:.3f}",
        ),
    ]


#: The "try this" check of every bundled scenario, by id.
TRY_THIS_CHECKS: dict[str, Callable[[Scenario, int], list[Check]]] = {
    "healthy-baseline": _healthy_baseline,
    "lr-too-high": _lr_too_high,
    "lr-too-low": _lr_too_low,
    "overfitting": _overfitting,
    "underfitting": _underfitting,
    "accuracy-lies": _accuracy_lies,
    "threshold-costs": _threshold_costs,
    "calibration": _calibration,
    "distribution-shift": _distribution_shift,
    "data-leakage": _data_leakage,
    "loop-bugs": _loop_bugs,
    "slices": _slices,
    "overfit-one-batch": _overfit_one_batch,
    "adam-vs-sgd": _adam_vs_sgd,
}


def try_this_checks(scenario: Scenario, seed: int) -> list[Check]:
    """Carry out the scenario's "try this" on ``seed`` and check the effect its story claims."""
    if scenario.id not in TRY_THIS_CHECKS:
        return [Check("a try-this check exists", False, detail=f"none for {scenario.id}")]
    return TRY_THIS_CHECKS[scenario.id](scenario, seed)
