"""What an experiment lesson promises, checked against the experiment's result (the ``--json``
line of ``--experiment``): the spread of its runs, the gain along a learning curve, the vote
against its members, the network against scikit-learn's baselines, the range test against a grid.

A lesson's ``[expect]`` names these measures with the same bounds as a single run's
(``{ at_least = x }``, ``{ at_most = y }``); ``engine.expectations`` judges runs, this judges
experiments. Each measure returns its value and where it came from, in words. Torch-free.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from trainscope.engine.expectations import MeasureUnavailable, Outcome

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from trainscope.engine.expectations import Expectation

Result = dict[str, Any]
Measured = tuple[float, str]


def _scored(result: Result) -> list[dict]:
    runs = [run for run in result["runs"] if run.get("val_accuracy") is not None]
    if len(runs) < 2:
        raise MeasureUnavailable(f"{len(runs)} of the runs were evaluated; a spread needs 2")
    return runs


def _spread(result: Result) -> Measured:
    runs = _scored(result)
    low = min(runs, key=lambda run: run["val_accuracy"])
    high = max(runs, key=lambda run: run["val_accuracy"])
    value = high["val_accuracy"] - low["val_accuracy"]
    return value, (
        f"{value:.3f} ({low['label']} {low['val_accuracy']:.3f} to "
        f"{high['label']} {high['val_accuracy']:.3f})"
    )


def _std(result: Result) -> Measured:
    accuracy = result["summary"]["val_accuracy"]
    if accuracy["std"] is None:
        raise MeasureUnavailable("fewer than 2 runs were evaluated")
    return accuracy["std"], f"{accuracy['std']:.4f} over {accuracy['n']} runs"


def _curve_gain(result: Result) -> Measured:
    if result["axis"] != "train_fraction":
        raise MeasureUnavailable("only a learning curve has training shares")
    runs = sorted(_scored(result), key=lambda run: run["train_fraction"])
    smallest, largest = runs[0], runs[-1]
    value = largest["val_accuracy"] - smallest["val_accuracy"]
    return value, (
        f"{value:.3f} ({smallest['label']} of the rows {smallest['val_accuracy']:.3f}, "
        f"{largest['label']} {largest['val_accuracy']:.3f})"
    )


def _ensemble(result: Result) -> dict:
    if "ensemble" not in result:
        raise MeasureUnavailable("these runs scored different rows, so they cannot vote")
    return result["ensemble"]


def _ensemble_gain(result: Result) -> Measured:
    vote = _ensemble(result)
    value = vote["accuracy"] - vote["members_mean"]["accuracy"]
    return value, (
        f"{value:+.3f} (the vote {vote['accuracy']:.3f}, the members' mean "
        f"{vote['members_mean']['accuracy']:.3f}, best {vote['members_best']['accuracy']:.3f})"
    )


def _ensemble_over_best(result: Result) -> Measured:
    vote = _ensemble(result)
    value = vote["accuracy"] - vote["members_best"]["accuracy"]
    return (
        value,
        f"{value:+.3f} (the vote {vote['accuracy']:.3f}, best member {vote['members_best']['accuracy']:.3f})",
    )


def _ensemble_log_loss_drop(result: Result) -> Measured:
    vote = _ensemble(result)
    value = vote["members_mean"]["log_loss"] - vote["log_loss"]
    return value, (
        f"{value:.4f} nats (the vote {vote['log_loss']:.4f}, the members' mean "
        f"{vote['members_mean']['log_loss']:.4f})"
    )


def _network_minus_baseline(name: str | None) -> Callable[[Result], Measured]:
    """The runs' mean validation accuracy minus a baseline's (None: the best of them)."""

    def measured(result: Result) -> Measured:
        rows = result.get("sklearn_baselines")
        if not rows:
            raise MeasureUnavailable("no baselines were fitted (the lesson needs baselines = true)")
        row = (
            max(rows, key=lambda row: row["val_accuracy"])
            if name is None
            else next(row for row in rows if row["name"] == name)
        )
        network = result["summary"]["val_accuracy"]["mean"]
        if network is None:
            raise MeasureUnavailable("no run was evaluated")
        value = network - row["val_accuracy"]
        return (
            value,
            f"{value:+.3f} (the network {network:.3f}, {row['name']} {row['val_accuracy']:.3f})",
        )

    return measured


def _lr_factor(result: Result) -> Measured:
    """How far the range test's suggestion is from the search's best lr, as a factor ≥ 1."""
    suggested = result.get("suggested_lr")
    best = (result.get("search") or {}).get("best_params") or {}
    if suggested is None:
        raise MeasureUnavailable("the range test made no suggestion")
    if "lr" not in best:
        raise MeasureUnavailable("the search found no best learning rate")
    value = max(suggested / best["lr"], best["lr"] / suggested)
    return value, f"{value:.2f}× (suggested {suggested:.3g}, the grid's best {best['lr']:.3g})"


#: name → (how it is measured on the result, what it means).
EXPERIMENT_MEASURES: dict[str, tuple[Callable[[Result], Measured], str]] = {
    "val_accuracy_spread": (_spread, "best run's final validation accuracy minus the worst's"),
    "val_accuracy_std": (_std, "sample std of the runs' final validation accuracy"),
    "learning_curve_gain": (
        _curve_gain,
        "validation accuracy with every training row minus with the smallest share",
    ),
    "ensemble_accuracy_gain": (_ensemble_gain, "the soft vote's accuracy minus its members' mean"),
    "ensemble_minus_best_member": (
        _ensemble_over_best,
        "the soft vote's accuracy minus its best member's",
    ),
    "ensemble_log_loss_drop": (
        _ensemble_log_loss_drop,
        "the members' mean log loss minus the soft vote's",
    ),
    "network_minus_best_baseline": (
        _network_minus_baseline(None),
        "the runs' mean validation accuracy minus the best scikit-learn baseline's",
    ),
    "network_minus_forest": (
        _network_minus_baseline("random forest"),
        "the runs' mean validation accuracy minus the random forest's",
    ),
    "lr_suggestion_factor": (
        _lr_factor,
        "the factor between the range test's suggested lr and the search's best lr",
    ),
}


def check_experiment(expectations: Iterable[Expectation], result: Result) -> list[Outcome]:
    """Judge each of an experiment lesson's promises against its result."""
    outcomes = []
    for expectation in expectations:
        name = expectation.describe()
        try:
            value, detail = EXPERIMENT_MEASURES[expectation.name][0](result)
        except MeasureUnavailable as missing:
            outcomes.append(Outcome(name, False, f"not measurable: {missing}"))
            continue
        held = math.isfinite(value)
        if expectation.at_least is not None:
            held = held and value >= expectation.at_least
        if expectation.at_most is not None:
            held = held and value <= expectation.at_most
        outcomes.append(Outcome(name, bool(held), detail, float(value)))
    return outcomes
