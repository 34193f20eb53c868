"""A hyperparameter search: Optuna asks for trials, each trains as an ordinary run, live.

``SearchRunner`` is an ``ExperimentRunner`` whose runs are not known up front: as a slot frees
up it asks the study for a trial (grid, random or TPE sampler), builds the trial's config from
the base config and the trial's values (``engine.search_space``), and starts it in the same
kind of session as any run. Every validation evaluation is reported to the trial; when the
pruner (median, or successive halving) says the trial is worse than the others were at that
step, the run is stopped there and marked "pruned", so a person sees bad trials end early.
A finished trial's score is its best validation loss (lower is better); a diverged, failed or
stopped one is told to Optuna as failed, which its samplers leave out.

With a ``storage`` URL (``sqlite:///…/search.db`` beside the run store) the study outlives the
process: the same study name resumes it and its new trials join the old. Optuna is an optional
dependency (``pip install trainscope[search]``), imported only when a search starts.
"""

from __future__ import annotations

import itertools
import logging
import math
import random
import time
from typing import TYPE_CHECKING, Any

from trainscope.engine import events as ev
from trainscope.engine.errors import ConfigError
from trainscope.engine.experiment_plan import PlannedRun
from trainscope.engine.experiment_runner import ExperimentRunner, RunProgress
from trainscope.engine.search_space import apply_params

if TYPE_CHECKING:
    from trainscope.engine.experiment_plan import ExperimentPlan, SearchSpec
    from trainscope.engine.experiment_runner import RecordStart, SessionFactory
    from trainscope.engine.search_space import Dimension, Value

logger = logging.getLogger(__name__)
SEARCH_DATABASE = "search.db"  # Optuna's own storage, beside the run store
#: Trials that must finish before the pruner judges others, and evaluations a trial is given.
PRUNE_AFTER_TRIALS, PRUNE_AFTER_EVALUATIONS = 3, 2


def import_optuna() -> Any:
    """Optuna, or a one-sentence ``ConfigError`` saying how to install it."""
    try:
        import optuna
    except ImportError:
        raise ConfigError(
            "a search needs Optuna: pip install 'trainscope[search]' (or pip install optuna)"
        ) from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


class SearchRunner(ExperimentRunner):
    """Asks ``plan.search``'s study for trials as slots free up and reports their evaluations."""

    def __init__(
        self,
        plan: ExperimentPlan,
        parallel: int,
        session_factory: SessionFactory,
        record_start: RecordStart | None = None,
        storage: str | None = None,
    ) -> None:
        if plan.search is None:
            raise ValueError("a SearchRunner needs a search plan")
        super().__init__(plan, parallel, session_factory, record_start)
        self.spec: SearchSpec = plan.search
        self.resumable = storage is not None
        self._optuna = import_optuna()
        self.study = self._optuna.create_study(
            study_name=self.spec.study or time.strftime("search-%Y%m%d-%H%M%S"),
            storage=storage,
            load_if_exists=True,
            direction="minimize",
            sampler=self._sampler(plan.base.seed),
            pruner=self._pruner(plan.base.eval_every),
        )
        self.trials: dict[int, Any] = {}  # run index -> its Optuna trial
        self._asked = 0
        self._reported: dict[int, set[int]] = {}  # run index -> the steps told to its trial
        if self.spec.sampler == "grid":
            self._enqueue_grid(plan.base.seed)

    # ----- the loop ----------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self._asked >= self.spec.trials and super().done

    def stop(self, index: int | None = None) -> None:
        if index is None:
            self._asked = self.spec.trials  # "stop all" also ends the search: no new trials
        super().stop(index)

    def _start_queued(self) -> None:
        waiting = sum(run.status == "queued" for run in self.runs)
        while (
            not self._held
            and self._asked < self.spec.trials
            and len(self._sessions) + waiting < self.parallel
        ):
            self._ask()
            waiting += 1
        super()._start_queued()

    def _fold(self, progress: RunProgress, events: list[ev.Event]) -> None:
        """Fold the events, then mark the trial pruned at the first evaluation the pruner
        refuses, whatever else the same batch holds: the decision depends on the evaluations,
        not on how often the runner is polled."""
        super()._fold(progress, events)
        trial = self.trials.get(progress.planned.index)
        if trial is None or progress.pruned_at is not None:
            return
        reported = self._reported.setdefault(progress.planned.index, set())
        for event in events:
            if not (isinstance(event, ev.Evaluation) and event.split == "validation"):
                continue
            if not math.isfinite(event.loss) or event.step in reported:
                continue  # a step evaluated again (after a rewind, a single step) counts once
            reported.add(event.step)
            trial.report(event.loss, event.step)
            if trial.should_prune():
                progress.pruned_at, progress.status = event.step, "pruned"
                return

    def _end(self, index: int) -> list[ev.Event]:
        tail = super()._end(index)
        trial = self.trials.pop(index, None)
        if trial is not None:
            self._tell(trial, self.runs[index])
        return tail

    # ----- results -----------------------------------------------------------------------------
    def best_params(self) -> dict[str, Value] | None:
        """The values of the best finished trial of this study (resumed trials included)."""
        try:
            return dict(self.study.best_params)
        except ValueError:  # no trial has finished
            return None

    def importances(self) -> dict[str, float] | None:
        """Optuna's parameter importance (fANOVA) where it can give one, else None."""
        if len(self.spec.space) < 2:
            return None
        try:
            found = self._optuna.importance.get_param_importances(self.study)
        except (ValueError, RuntimeError) as error:  # too few finished trials, a flat space
            logger.info("no parameter importance: %s", error)
            return None
        return {name: float(share) for name, share in found.items()}

    # ----- inside ------------------------------------------------------------------------------
    def _ask(self) -> None:
        trial = self.study.ask()
        params = {dimension.name: _suggest(trial, dimension) for dimension in self.spec.space}
        index = len(self.runs)
        config = apply_params(self.plan.base, params)
        planned = PlannedRun(index, f"trial {trial.number}", float(trial.number), config, params)
        self.runs.append(RunProgress(planned))
        self.trials[index] = trial
        self._asked += 1

    def _tell(self, trial: Any, progress: RunProgress) -> None:
        states = self._optuna.trial.TrialState
        losses = [e.loss for e in progress.summary.fold.evaluations() if math.isfinite(e.loss)]
        if progress.status == "pruned":
            self.study.tell(trial, state=states.PRUNED)
        elif progress.status == "finished" and losses:
            self.study.tell(trial, min(losses))
        else:  # diverged, failed or stopped: no score the sampler should learn from
            self.study.tell(trial, state=states.FAIL)

    def _enqueue_grid(self, seed: int) -> None:
        """Every grid point as an enqueued trial, in a shuffled order (as Optuna's GridSampler
        walks it: ascending order would finish the worst learning rates first and give the
        pruner nothing to compare with). Optuna's GridSampler itself stops the study when the
        grid is done, which only works inside ``study.optimize``, not for asked trials."""
        names = [dimension.name for dimension in self.spec.space]
        points = list(itertools.product(*(dimension.grid() for dimension in self.spec.space)))
        random.Random(seed).shuffle(points)
        for point in points:
            self.study.enqueue_trial(dict(zip(names, point, strict=True)), skip_if_exists=True)

    def _sampler(self, seed: int) -> Any:
        samplers = self._optuna.samplers
        if self.spec.sampler in ("random", "grid"):  # a grid's trials are enqueued points
            return samplers.RandomSampler(seed=seed)
        return samplers.TPESampler(seed=seed, n_startup_trials=min(10, self.spec.trials // 2))

    def _pruner(self, eval_every: int) -> Any:
        pruners = self._optuna.pruners
        if self.spec.pruner == "none":
            return pruners.NopPruner()
        warmup = PRUNE_AFTER_EVALUATIONS * eval_every
        if self.spec.pruner == "halving":
            return pruners.SuccessiveHalvingPruner(min_resource=warmup)
        return pruners.MedianPruner(n_startup_trials=PRUNE_AFTER_TRIALS, n_warmup_steps=warmup)


def _suggest(trial: Any, dimension: Dimension) -> Value:
    """The trial's value for ``dimension``, asked the way Optuna's samplers understand it."""
    if dimension.is_choice:
        return trial.suggest_categorical(dimension.name, list(dimension.choices))
    if dimension.whole:
        return trial.suggest_int(
            dimension.name, int(dimension.low), int(dimension.high), log=dimension.log
        )
    return trial.suggest_float(dimension.name, dimension.low, dimension.high, log=dimension.log)


def runner_for(
    plan: ExperimentPlan,
    parallel: int,
    session_factory: SessionFactory,
    record_start: RecordStart | None,
    runs_dir: str | None,
) -> ExperimentRunner:
    """The runner for ``plan``: a search's keeps its Optuna study in ``search.db`` beside the
    run store when runs are recorded (``record_start``; so it can be resumed by name), in
    memory otherwise."""
    if plan.search is None:
        return ExperimentRunner(plan, parallel, session_factory, record_start)
    storage = None
    if record_start is not None:
        from trainscope.engine.runs.paths import resolve_runs_dir

        folder = resolve_runs_dir(runs_dir)
        folder.mkdir(parents=True, exist_ok=True)
        storage = f"sqlite:///{folder / SEARCH_DATABASE}"
    return SearchRunner(plan, parallel, session_factory, record_start, storage)
