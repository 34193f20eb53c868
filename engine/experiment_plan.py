"""An experiment: one config made into a set of runs along one axis, checked before any starts.

The course's point is that one run on one split tells you little. Each kind varies one thing
and keeps the rest: ``kfold`` the validation fold (the test split stays sealed), ``seeds`` the
run's seed with the data held still, ``learning-curve`` the share of training rows, and
``bagging`` a bootstrap resample of them. Every planned run is an ordinary ``RunConfig``, so it
trains in the same engine session as a single run and is recorded, replayed, forked and
exported the same way. Torch-free: the window plans experiments too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from trainscope.engine.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from trainscope.engine.config import RunConfig
    from trainscope.engine.search_space import Dimension, Value

#: kind → (the axis it varies, what a person reads in the table's header).
EXPERIMENT_KINDS: dict[str, tuple[str, str]] = {
    "kfold": ("fold", "fold"),
    "seeds": ("seed", "seed"),
    "learning-curve": ("train_fraction", "training share"),
    "bagging": ("resample", "member"),
    "search": ("trial", "trial"),
}
DEFAULT_FOLDS, DEFAULT_REPEAT, DEFAULT_MEMBERS = 5, 5, 5
DEFAULT_TRAIN_FRACTIONS = (0.1, 0.25, 0.5, 1.0)
DEFAULT_TRIALS = 20
SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("median", "halving", "none")
MAX_RUNS = 64  # more is a cluster's job, not a laptop's window


@dataclass(frozen=True)
class PlannedRun:
    """One run of an experiment: its place, the value it varies, and its whole config."""

    index: int
    label: str
    value: float
    config: RunConfig
    params: Mapping[str, Value] | None = None  # a search trial's values


@dataclass(frozen=True)
class SearchSpec:
    """What a search walks: its space, how many trials, the sampler and the pruner, and the
    Optuna study it lives in (a name that exists resumes that study)."""

    space: tuple[Dimension, ...]
    trials: int
    sampler: str = "tpe"
    pruner: str = "median"
    study: str | None = None


@dataclass(frozen=True)
class ExperimentPlan:
    """``runs`` are known up front, except for a search's: ``search`` says how they are asked."""

    kind: str
    base: RunConfig
    runs: tuple[PlannedRun, ...]
    search: SearchSpec | None = None

    @property
    def axis(self) -> str:
        return EXPERIMENT_KINDS[self.kind][0]

    @property
    def axis_title(self) -> str:
        return EXPERIMENT_KINDS[self.kind][1]

    @property
    def shares_validation_rows(self) -> bool:
        """True when every run scores the same validation rows, so their votes can be pooled."""
        return self.kind in ("seeds", "bagging")


@dataclass(frozen=True)
class ExperimentRequest:
    """An experiment asked for by name and options: a lesson's ``[experiment]`` table.

    ``lr_find`` also runs the learning-rate range test on the base run first (the "find the
    learning rate" lesson sets it against a grid over lr); ``baselines`` fits scikit-learn's
    models on the same split. ``plan`` makes the runs with the same rules as the CLI's flags.
    """

    kind: str
    folds: int | None = None
    repeat: int | None = None
    seeds: tuple[int, ...] | None = None
    train_fractions: tuple[float, ...] | None = None
    members: int | None = None
    space: tuple[str, ...] = ()
    trials: int | None = None
    sampler: str = "tpe"
    pruner: str = "median"
    baselines: bool = False
    lr_find: bool = False

    def plan(self, base: RunConfig) -> ExperimentPlan:
        return plan_experiment(
            self.kind,
            base,
            folds=self.folds,
            seeds=self.seeds,
            repeat=self.repeat,
            train_fractions=self.train_fractions,
            members=self.members,
            space=self.space,
            trials=self.trials,
            sampler=self.sampler,
            pruner=self.pruner,
        )


def plan_experiment(
    kind: str,
    base: RunConfig,
    *,
    folds: int | None = None,
    seeds: Sequence[int] | None = None,
    repeat: int | None = None,
    train_fractions: Sequence[float] | None = None,
    members: int | None = None,
    space: Sequence[str] | None = None,
    trials: int | None = None,
    sampler: str = "tpe",
    pruner: str = "median",
    study: str | None = None,
) -> ExperimentPlan:
    """The runs of a ``kind`` experiment around ``base``; ``ConfigError`` in one sentence when
    the request is not one (it is checked again against the data by ``check_plan``)."""
    if kind not in EXPERIMENT_KINDS:
        raise ConfigError(
            f"unknown experiment '{kind}'; choose one of {', '.join(EXPERIMENT_KINDS)}"
        )
    if kind == "search":
        return ExperimentPlan(kind, base, (), _search(space or (), trials, sampler, pruner, study))
    if kind == "kfold":
        runs = _kfold_runs(base, DEFAULT_FOLDS if folds is None else folds)
    elif kind == "seeds":
        runs = _seed_runs(base, _seed_list(base.seed, seeds, repeat))
    elif kind == "learning-curve":
        runs = _fraction_runs(base, train_fractions or DEFAULT_TRAIN_FRACTIONS)
    else:
        runs = _bagging_runs(base, DEFAULT_MEMBERS if members is None else members)
    if len(runs) > MAX_RUNS:
        raise ConfigError(f"an experiment holds at most {MAX_RUNS} runs (this one {len(runs)})")
    return ExperimentPlan(kind, base, tuple(runs))


def check_plan(plan: ExperimentPlan) -> ExperimentPlan:
    """Build the data of the runs most likely to be refused (torch-free, no worker started):
    more folds than a class has rows, a training share too small to hold every class."""
    from trainscope.engine.data import prepare_data

    for run in plan.runs:
        run.config.validate_to_start()
    if plan.search is not None:  # each value was checked by its setting's rule when parsed
        plan.base.validate_to_start()
    if plan.kind in ("kfold", "learning-curve"):
        smallest = min(plan.runs, key=lambda run: run.value)
        prepare_data(smallest.config.dataset, smallest.config.seed)
    return plan


def _kfold_runs(base: RunConfig, folds: int) -> list[PlannedRun]:
    if folds < 2:
        raise ConfigError(
            f"--folds must be at least 2: one fold would validate on the rows it trains on (got {folds})"
        )
    return [
        PlannedRun(
            fold,
            f"fold {fold + 1}",
            fold + 1,
            replace(base, dataset=replace(base.dataset, folds=folds, fold=fold)),
        )
        for fold in range(folds)
    ]


def _seed_list(first: int, seeds: Sequence[int] | None, repeat: int | None) -> list[int]:
    if seeds is not None and repeat is not None:
        raise ConfigError("give either --seeds or --repeat, not both")
    if seeds is not None:
        chosen = list(seeds)
        if len(set(chosen)) != len(chosen):
            raise ConfigError(f"--seeds lists a seed twice ({', '.join(map(str, chosen))})")
    else:
        count = DEFAULT_REPEAT if repeat is None else repeat
        if count < 2:
            raise ConfigError(f"--repeat must be at least 2 to show a spread (got {count})")
        chosen = list(range(first, first + count))
    if len(chosen) < 2:
        raise ConfigError("a seed experiment needs at least 2 seeds")
    return chosen


def _seed_runs(base: RunConfig, seeds: list[int]) -> list[PlannedRun]:
    # The data and split stay those of the base seed: only the initial weights and the batch
    # order move, which is the lottery the lesson is about (and the runs can vote together).
    split_seed = base.dataset.split_seed if base.dataset.split_seed is not None else base.seed
    dataset = replace(base.dataset, split_seed=split_seed)
    return [
        PlannedRun(index, f"seed {seed}", seed, replace(base, seed=seed, dataset=dataset))
        for index, seed in enumerate(seeds)
    ]


def _fraction_runs(base: RunConfig, fractions: Sequence[float]) -> list[PlannedRun]:
    for fraction in fractions:
        if not 0 < fraction <= 1:
            raise ConfigError(
                f"--train-fractions takes shares greater than 0 and at most 1 (got {fraction:g})"
            )
    if len(set(fractions)) != len(fractions):
        raise ConfigError("--train-fractions lists a share twice")
    ordered = sorted(fractions)
    return [
        PlannedRun(
            index,
            f"{fraction:.0%}",
            fraction,
            replace(base, dataset=replace(base.dataset, train_fraction=fraction)),
        )
        for index, fraction in enumerate(ordered)
    ]


def _bagging_runs(base: RunConfig, members: int) -> list[PlannedRun]:
    if members < 2:
        raise ConfigError(f"a bagging ensemble needs at least 2 members (got {members})")
    return [
        PlannedRun(
            index,
            f"member {index + 1}",
            index + 1,
            # Each member: its own resample and its own initial weights, on the same split.
            replace(
                base,
                seed=base.seed + index,
                dataset=replace(base.dataset, bootstrap=index, split_seed=base.seed),
            ),
        )
        for index in range(members)
    ]


def _search(
    texts: Sequence[str], trials: int | None, sampler: str, pruner: str, study: str | None
) -> SearchSpec:
    from trainscope.engine.search_space import grid_size, parse_space

    if sampler not in SAMPLERS:
        raise ConfigError(f"unknown sampler '{sampler}'; choose one of {', '.join(SAMPLERS)}")
    if pruner not in PRUNERS:
        raise ConfigError(f"unknown pruner '{pruner}'; choose one of {', '.join(PRUNERS)}")
    if trials is not None and not 1 <= trials <= MAX_RUNS:
        raise ConfigError(f"trials must be between 1 and {MAX_RUNS} (got {trials})")
    space = parse_space(texts)
    if sampler == "grid":
        points = grid_size(space)
        if points > MAX_RUNS:
            raise ConfigError(f"the grid has {points} points; at most {MAX_RUNS} runs fit")
        trials = points if trials is None else min(trials, points)
    return SearchSpec(space, DEFAULT_TRIALS if trials is None else trials, sampler, pruner, study)
