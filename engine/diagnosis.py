"""Diagnosis hints: watch a run's events and name the classic problem when it shows up.

A student staring at a loss curve often sees *something* without knowing its name. The
``Diagnostician`` folds the same event stream the panels draw and, when the numbers show a
textbook problem, returns a ``Hint`` with the evidence (the numbers and steps) and what to try.
Each kind fires at most once per episode (a reset starts a new one; a rewind re-arms the
divergence hint), so hints inform rather than nag. Torch-free: the window could run one too.

The thresholds follow CURRICULUM.md: a validation loss 20% (and 0.05) above its minimum while
training loss still falls is overfitting, an ECE of 0.1 is badly calibrated. Each hint is read
against the baseline it is really about. "Stuck at chance" compares the loss with that of a
model that knows only the training class shares (-sum p_k ln p_k, ln K only for balanced
classes: 0.325, not 0.693, on a 90/10 task) and asks that the model also rank cases no better
than a coin, so a few confident mistakes cannot make a model with ROC AUC 0.94 "know nothing".
Accuracy is read against the zero-rule (always the training majority, scored on the validation
split). A loss "blows up" only when it jumps above many times ln K again and again within a
short stretch of steps; one spike in a long healthy run is noise, and a non-finite loss is
diverged at once.
The three layer hints (vanishing or exploding gradients, dead units) read ``LayerHealth``, so
they fire only while the window collects it.

Every hint is one ``Rule`` in ``RULES``: the event type it reads, a measure that says whether
the problem shows and with which numbers, and the texts as templates over those numbers. One
loop in ``Diagnostician.observe`` runs them, so a new hint is a table entry plus its measure.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np

from trainscope.engine import events as ev
from trainscope.engine.measures import (
    confidence_gap,
    mean_confidence,
    rare_class_recall,
    validation_loss_rise,
)
from trainscope.engine.metrics import macro_roc_auc, prior_loss
from trainscope.engine.rewind import survives

#: Hints read from ``LayerHealth``: they fire only while layer health is collected (the window
#: shows that panel), so headless runs and scenarios never see them.
LAYER_HINT_KINDS = ("vanishing_gradients", "exploding_gradients", "dead_units")
WARMUP_STEPS = 200  # judge "stuck" or "no better than a baseline" only after this many steps
STUCK_TOLERANCE = 0.05  # validation loss no more than 5% below the prior's loss (or above it)
STUCK_MAX_AUC = 0.6  # and it ranks validation cases little better than a coin (0.5)
OVERFIT_RISE = 0.2  # validation loss 20% above its minimum …
OVERFIT_MIN_RISE = 0.05  # … and at least this many nats: 0.001 → 0.0013 is +30% and noise
BASELINE_MARGIN = 0.01  # accuracy at most one point above the zero-rule baseline
RECALL_FLOOR = 0.1  # the rare class is caught less than one time in ten
RARE_SHARE = 0.5  # "rare": fewer than half its fair share (1/K) of the validation rows
HIGH_ECE = 0.1
OVERCONFIDENCE_GAP = 0.05  # mean confidence at least 5 points above accuracy
EXPLOSION_FACTOR = 5.0  # a batch loss this many times ln K is a spike: an update overshot
EXPLOSION_SPIKES = 3  # spikes it takes to call it a blow-up …
EXPLOSION_WINDOW = 200  # … within this many optimizer steps …
EXPLOSION_MEDIAN_SHARE = 0.1  # … while the median batch loss there is at least 0.1 x ln K
CONFIRMATIONS = 2  # evaluations in a row that must agree before a hint fires
VANISHING_RATIO = 1e-3  # the first layer's gradient norm below this share of the last layer's
EXPLODING_GRAD_NORM = 1e3  # global gradient norm (from the layers' norms)
EXPLODING_UPDATE_RATIO = 0.1  # one step moves a layer's weights by a tenth of their size
DEAD_SHARE = 0.5  # more than half of a layer's units never active over the validation set


@dataclass
class _Point:
    step: int
    loss: float
    train_loss: float


@dataclass
class _Episode:
    """What the diagnostician remembers about the current run since its last (re)start."""

    chance_loss: float = math.log(2)
    class_names: tuple[str, ...] = ()
    class_counts: tuple[int, ...] = ()  # training rows per class; () in old recordings
    fired: set[str] = field(default_factory=set)
    validation: list[_Point] = field(default_factory=list)
    streaks: dict[str, int] = field(default_factory=dict)
    spikes: list[tuple[int, float]] = field(default_factory=list)  # (step, loss), recent ones
    recent_losses: np.ndarray = field(default_factory=lambda: np.zeros(0))  # last window's
    lr: float = math.nan

    @property
    def prior_loss(self) -> float:
        """The loss of always answering with the training class shares (ln K when unknown)."""
        return prior_loss(np.asarray(self.class_counts)) if self.class_counts else self.chance_loss

    def prior_words(self) -> str:
        """What the know-nothing model knows, in words: the class shares it would answer with."""
        counts = np.asarray(self.class_counts, dtype=np.float64)
        k = len(self.class_names) or len(counts)
        if counts.size == 0:
            return f"how many classes there are (ln {k})"
        shares = counts / counts.sum()
        if shares.max() - shares.min() < 0.02:
            return f"that the {k} classes are about equally common (about ln {k})"
        common = int(np.argmax(shares))
        return (
            f"how common each class is in the training data ({shares[common]:.0%} are "
            f"'{self.class_name(common)}')"
        )

    def class_name(self, index: int) -> str:
        names = self.class_names
        return names[index] if index < len(names) else f"class {index}"


# ----- the rule template --------------------------------------------------------------------
@dataclass(frozen=True)
class Reading:
    """A measure's verdict on one event: does the problem show, at which step, with which numbers.

    ``facts`` fill the rule's text templates (``step`` is added to them); they are only read
    when the hint fires, so a reading that does not hold carries none.
    """

    holds: bool
    step: int = 0
    facts: Mapping[str, object] = field(default_factory=dict)


#: The problem does not show on this event: a confirmation streak starts over.
CLEAR = Reading(holds=False)


def _holds(step: int, **facts: object) -> Reading:
    return Reading(holds=True, step=step, facts=facts)


E = TypeVar("E", bound=ev.Event)
#: A measure: the ``Reading`` of one event, or None when the event cannot judge the problem yet
#: (too few evaluations, a single layer), which leaves the confirmation streak as it was.
Measure = Callable[[_Episode, E], Reading | None]


@dataclass(frozen=True)
class Rule(Generic[E]):
    """One hint: which events it reads, how it measures them, what it says, when it may fire.

    A rule is judged on events of type ``reads`` from step ``from_step`` on; it fires once its
    measure has held at ``confirmations`` such events in a row. A kind fires once per episode
    (rules may share a kind: there are two ways to diverge); ``rearmed_by_rewind`` lets it fire
    again after a rewind, for the divergence a rewind is meant to undo. The texts are
    ``str.format`` templates over the reading's facts.
    """

    kind: str
    reads: type[E]
    measure: Measure[E]
    title: str
    evidence: str
    suggestion: str
    confirmations: int = CONFIRMATIONS
    from_step: int = 0
    rearmed_by_rewind: bool = False

    def hint(self, reading: Reading) -> ev.Hint:
        facts = {"step": reading.step, **reading.facts}
        began = reading.facts.get("first")
        return ev.Hint(
            began=began if isinstance(began, int) else None,
            step=reading.step,
            kind=self.kind,
            title=self.title.format(**facts),
            evidence=self.evidence.format(**facts),
            suggestion=self.suggestion.format(**facts),
        )


# ----- measures -----------------------------------------------------------------------------
def _diverged(episode: _Episode, event: ev.Diverged) -> Reading:
    """The trainer saw the loss become non-finite and paused the run."""
    return _holds(event.step, loss=event.loss)


def _non_finite(episode: _Episode, event: ev.StepMetrics) -> Reading:
    """A non-finite batch loss is diverged outright, at the first such step."""
    losses = np.asarray(event.loss, dtype=np.float64)
    broken = ~np.isfinite(losses)
    if not broken.any():
        return CLEAR
    index = int(np.argmax(broken))
    return _holds(int(event.steps[index]), loss=float(losses[index]))


def _blowing_up(episode: _Episode, event: ev.StepMetrics) -> Reading:
    """Batch losses far above chance, again and again: the updates overshoot.

    A model that knows nothing scores ln K on every batch; one that scores many times that
    is confidently wrong, which only a too-large step gets it to this fast. One such batch
    is not enough: a healthy run that has trained for tens of thousands of steps meets the
    odd batch it is very sure about and wrong on. Nor is a burst of them in a run whose
    typical batch scores ~0: Adam, tens of thousands of steps into a solved task (the
    spiral at step 47,700), overshoots a few times in fifty steps and settles again by
    itself, at 100% validation accuracy. A blow-up lifts the loss as a whole, so the
    median batch of the window must be up too. The hint is dated at the spike that makes
    it a pattern, like the other hints at the evaluation that confirms them (and a rewind
    to the last good checkpoint goes back before that step). It keeps the recent spikes and
    losses in the episode as it reads; it runs only on finite batches, while "diverged" has
    not fired.
    """
    losses = np.asarray(event.loss, dtype=np.float64)
    chance = episode.chance_loss
    spikes, earlier = episode.spikes, episode.recent_losses
    episode.recent_losses = np.concatenate([earlier, losses])[-EXPLOSION_WINDOW:]
    for spike_index in np.flatnonzero(losses > EXPLOSION_FACTOR * chance):
        step = int(event.steps[spike_index])
        spikes[:] = [spike for spike in spikes if spike[0] > step - EXPLOSION_WINDOW]
        spikes.append((step, float(losses[spike_index])))
        if len(spikes) < EXPLOSION_SPIKES:
            continue
        window = np.concatenate([earlier, losses[: spike_index + 1]])[-EXPLOSION_WINDOW:]
        median = float(np.median(window))
        if median >= EXPLOSION_MEDIAN_SHARE * chance:
            first, last = spikes[0][0], spikes[-1][0]
            worst_step, worst = max(spikes, key=lambda spike: spike[1])
            return _holds(
                step,
                first=first,
                factor=EXPLOSION_FACTOR,
                chance=chance,
                count=len(spikes),
                span=last - first + 1,
                worst=worst,
                times=worst / chance,
                worst_step=worst_step,
                median=median,
                lr=episode.lr,
            )
    return CLEAR


def _stuck(episode: _Episode, evaluation: ev.Evaluation) -> Reading:
    """The loss sits at (or above) what knowing only the class shares gives, and the model
    ranks cases like a coin: both, because a few confident mistakes lift the loss of a model
    that does rank well, and a model can rank a little while its loss says nothing yet."""
    prior = episode.prior_loss
    auc = math.nan
    if evaluation.loss >= (1 - STUCK_TOLERANCE) * prior:
        auc = macro_roc_auc(evaluation.probabilities, evaluation.labels)
    if not (math.isfinite(auc) and auc <= STUCK_MAX_AUC):
        return CLEAR
    return _holds(
        evaluation.step,
        loss=evaluation.loss,
        where="above" if evaluation.loss > prior else "near",
        prior=prior,
        prior_words=episode.prior_words(),
        auc=auc,
    )


def _overfitting(episode: _Episode, evaluation: ev.Evaluation) -> Reading | None:
    """Validation loss turned up while training loss still falls, by a share and by an
    amount: a model that has all but solved the task (loss 0.001) wobbles by +30% from one
    evaluation to the next without learning anything wrong."""
    points = episode.validation
    if len(points) < 3:
        return None
    # The same rise the lesson promise "the validation loss rises" reads (engine.measures).
    measured = validation_loss_rise(points)
    if measured is None:
        return None
    best, rise = measured.lowest, measured.relative
    holds = (
        rise >= OVERFIT_RISE
        and measured.absolute >= OVERFIT_MIN_RISE
        and evaluation.train_loss < best.train_loss
    )
    if not holds:
        return CLEAR
    return _holds(
        evaluation.step,
        best_loss=best.loss,
        best_step=best.step,
        loss=evaluation.loss,
        rise=rise,
        best_train_loss=best.train_loss,
        train_loss=evaluation.train_loss,
    )


def _no_better_than_baseline(episode: _Episode, evaluation: ev.Evaluation) -> Reading:
    """Accuracy no better than always answering the majority class (the zero rule)."""
    baseline = evaluation.zero_rule_accuracy
    if evaluation.accuracy > baseline + BASELINE_MARGIN:
        return CLEAR
    return _holds(evaluation.step, accuracy=evaluation.accuracy, baseline=baseline)


def _minority_recall(episode: _Episode, evaluation: ev.Evaluation) -> Reading:
    """The rarest validation class (well under its fair share) is almost never caught."""
    counts = np.bincount(evaluation.labels, minlength=len(evaluation.recall))
    rare, recall = rare_class_recall(evaluation)  # the class the promise watches too
    share = counts[rare] / counts.sum()
    fair_share = 1.0 / len(counts)
    if not (share < RARE_SHARE * fair_share and recall < RECALL_FLOOR):
        return CLEAR
    return _holds(
        evaluation.step,
        name=episode.class_name(rare),
        caught=int(evaluation.confusion[rare, rare]),
        count=counts[rare],
        recall=recall,
        accuracy=evaluation.accuracy,
    )


def _overconfident(episode: _Episode, evaluation: ev.Evaluation) -> Reading:
    """Badly calibrated, and on the sure side: more confident on average than accurate."""
    confidence = mean_confidence(evaluation)
    gap = confidence_gap(evaluation)  # the gap the promise confidence_minus_accuracy reads
    ece = evaluation.calibration.ece
    if not (ece >= HIGH_ECE and gap >= OVERCONFIDENCE_GAP):
        return CLEAR
    return _holds(evaluation.step, confidence=confidence, accuracy=evaluation.accuracy, ece=ece)


def _vanishing(episode: _Episode, health: ev.LayerHealth) -> Reading | None:
    """The first layer learns a thousand times slower than the last: depth ate its signal."""
    if len(health.grad_norm) < 2:
        return None
    first, last = float(health.grad_norm[0]), float(health.grad_norm[-1])
    if not (last > 0 and first < VANISHING_RATIO * last):
        return CLEAR
    return _holds(
        health.step,
        first_layer=health.layer_names[0],
        first=first,
        times=last / max(first, 1e-300),
        last_layer=health.layer_names[-1],
        last=last,
    )


def _exploding(episode: _Episode, health: ev.LayerHealth) -> Reading:
    """Gradients or steps so large that one update rewrites a good part of the weights."""
    total = float(np.sqrt(np.sum(np.square(health.grad_norm))))
    ratios = np.nan_to_num(health.update_ratio, nan=0.0)
    worst = int(np.argmax(ratios))
    if not (total > EXPLODING_GRAD_NORM or ratios[worst] > EXPLODING_UPDATE_RATIO):
        return CLEAR
    return _holds(
        health.step, total=total, layer=health.layer_names[worst], percent=100 * ratios[worst]
    )


def _dead_units(episode: _Episode, health: ev.LayerHealth) -> Reading:
    """ReLU units that never fire get no gradient, so they stay off for good."""
    dead = np.nan_to_num(health.dead_fraction, nan=0.0)
    worst = int(np.argmax(dead)) if len(dead) else 0
    if not (len(dead) > 0 and dead[worst] > DEAD_SHARE):
        return CLEAR
    return _holds(health.step, share=dead[worst], layer=health.layer_names[worst])


# ----- the rules ----------------------------------------------------------------------------
_DIVERGED_SUGGESTION = "Rewind to the last good checkpoint and divide the learning rate by 10."


#: Every hint, in the order the rules are judged on an event (their hints come in this order).
#: A new hint: its measure above and its entry here (``HINT_KINDS`` follows from the rules).
def _diverged_rule(reads: type[E], measure: Measure[E]) -> Rule[E]:
    """A non-finite loss, however it is seen: one hint, the same words."""
    return Rule(
        "diverged",
        reads,
        measure,
        title="Training diverged",
        evidence="The training loss became {loss} at step {step}: the weights left the numbers.",
        suggestion=_DIVERGED_SUGGESTION,
        confirmations=1,
        rearmed_by_rewind=True,
    )


RULES: tuple[Rule[Any], ...] = (
    _diverged_rule(ev.Diverged, _diverged),  # the loop reported it
    _diverged_rule(ev.StepMetrics, _non_finite),  # seen in a batch of step losses
    Rule(
        "diverged",
        ev.StepMetrics,
        _blowing_up,
        title="The loss is blowing up",
        evidence=(
            "From step {first} the batch loss jumped above {factor:g}x the chance loss "
            "{chance:.3f} of a model that knows nothing {count} times in {span} steps, up to "
            "{worst:.3g} ({times:.0f}x) at step {worst_step}, and the typical batch never "
            "settles (median {median:.3g}; learning rate {lr:g})."
        ),
        suggestion="Divide the learning rate by 10 (rewind first), or clip the gradients.",
        confirmations=1,
        rearmed_by_rewind=True,
    ),
    Rule(
        "overfitting",
        ev.Evaluation,
        _overfitting,
        title="Overfitting",
        evidence=(
            "Validation loss rose from its minimum {best_loss:.3f} at step {best_step} to "
            "{loss:.3f} at step {step} (+{rise:.0%}) while training loss fell from "
            "{best_train_loss:.3f} to {train_loss:.3f}."
        ),
        suggestion=(
            "Stop early (the best weights were at step {best_step}), add dropout (0.2-0.5) or "
            "weight decay, use a smaller network or get more data."
        ),
    ),
    Rule(
        "stuck_at_chance",
        ev.Evaluation,
        _stuck,
        title="Loss stuck at chance",
        evidence=(
            "At step {step} the validation loss is {loss:.3f}, {where} {prior:.3f}, the loss of "
            "a model that only knows {prior_words}, and it ranks new cases no better than a coin "
            "(ROC AUC {auc:.2f}; 0.5 is guessing): the model still knows nothing it can use on "
            "new data."
        ),
        suggestion=(
            "Check the learning rate (too small crawls), the model's capacity (a line cannot "
            "separate rings) and that the labels really belong to their inputs."
        ),
        from_step=WARMUP_STEPS,
    ),
    Rule(
        "no_better_than_baseline",
        ev.Evaluation,
        _no_better_than_baseline,
        title="No better than always guessing the majority",
        evidence=(
            "At step {step} validation accuracy is {accuracy:.3f}, while always answering the "
            "most common class scores {baseline:.3f}."
        ),
        suggestion=(
            "Look at recall per class and the confusion matrix; try class weights or a lower "
            "decision threshold, and compare every score with this baseline."
        ),
        from_step=WARMUP_STEPS,
    ),
    Rule(
        "minority_recall_collapse",
        ev.Evaluation,
        _minority_recall,
        title="The rare class '{name}' is missed",
        evidence=(
            "At step {step} the model catches {caught} of {count} '{name}' cases (recall "
            "{recall:.2f}) while overall accuracy reads {accuracy:.3f}."
        ),
        suggestion=(
            "Lower the decision threshold, or weight the classes (class_weighting = balanced) "
            "so the rare class counts as much as the common one."
        ),
        from_step=WARMUP_STEPS,
    ),
    Rule(
        "overconfident",
        ev.Evaluation,
        _overconfident,
        title="Overconfident probabilities",
        evidence=(
            "At step {step} the model is on average {confidence:.0%} sure but right "
            "{accuracy:.0%} of the time (ECE {ece:.3f})."
        ),
        suggestion=(
            "Fit a temperature on the validation split (temperature scaling): confidence "
            "comes down, predictions stay the same."
        ),
        from_step=WARMUP_STEPS,
    ),
    Rule(
        "vanishing_gradients",
        ev.LayerHealth,
        _vanishing,
        title="Vanishing gradients",
        evidence=(
            "At step {step} the gradient reaching {first_layer} is {first:.2g}, {times:.0f}x "
            "smaller than at {last_layer} ({last:.2g}): the first layers barely learn."
        ),
        suggestion=(
            "Use relu, leaky_relu or gelu instead of sigmoid/tanh, fewer layers, normalisation "
            "between layers, or an initialisation scaled to each layer's width (He/Xavier)."
        ),
        from_step=WARMUP_STEPS,
    ),
    Rule(
        "exploding_gradients",
        ev.LayerHealth,
        _exploding,
        title="Exploding gradients",
        evidence=(
            "At step {step} the gradient norm is {total:.3g} and one step changed {layer} by "
            "{percent:.2g}% of its size (a healthy step changes a layer by about 0.1%)."
        ),
        suggestion=(
            "Lower the learning rate (divide it by 10), clip the gradients (grad_clip 1.0), or "
            "add normalisation; check the initialisation is scaled to the layers' widths."
        ),
    ),
    Rule(
        "dead_units",
        ev.LayerHealth,
        _dead_units,
        title="Dead units",
        evidence=(
            "At step {step}, {share:.0%} of the units in {layer} never fire on any validation "
            "example: they output 0, get no gradient and cannot learn again."
        ),
        suggestion=(
            "Lower the learning rate (a too-large step often kills ReLUs), switch to leaky_relu "
            "or gelu, add normalisation, or use He initialisation; rewind to before they died."
        ),
    ),
)
#: Every kind a hint can have, in the order of the rules (the scenario schema lists these).
HINT_KINDS: tuple[str, ...] = tuple(dict.fromkeys(rule.kind for rule in RULES))
_REARMED_BY_REWIND = frozenset(rule.kind for rule in RULES if rule.rearmed_by_rewind)


class Diagnostician:
    """Feed it every event with ``observe``; it returns the hints that event completes."""

    def __init__(self) -> None:
        self.episode = _Episode()

    def observe(self, event: ev.Event) -> list[ev.Hint]:
        """Fold ``event`` into the episode, then judge it by every rule that reads its type.

        A rule whose kind has fired is not measured again (nothing it finds could fire).
        """
        if not self._remember(event):
            return []
        episode = self.episode
        hints: list[ev.Hint] = []
        for rule in RULES:
            if not isinstance(event, rule.reads) or rule.kind in episode.fired:
                continue
            if rule.from_step and event.step < rule.from_step:
                continue
            reading = rule.measure(episode, event)
            if reading is not None and self._confirmed(rule, reading.holds):
                episode.fired.add(rule.kind)
                hints.append(rule.hint(reading))
        return hints

    def _remember(self, event: ev.Event) -> bool:
        """Keep what the rules need to know about ``event``; False when no rule should read it."""
        if isinstance(event, ev.RunStarted):
            self.episode = _Episode(
                chance_loss=event.chance_loss,
                class_names=event.class_names,
                class_counts=event.train_class_counts,
            )
            self.episode.lr = float(event.settings.get("lr", math.nan))
        elif isinstance(event, ev.Rewound):
            self._rewound(event.to_step)
        elif isinstance(event, ev.ParamChanged) and event.key == "lr":
            self.episode.lr = float(event.new)
        elif isinstance(event, ev.Evaluation):
            if event.split != "validation" or not math.isfinite(event.loss):
                return False
            self.episode.validation.append(_Point(event.step, event.loss, event.train_loss))
        return True

    def _rewound(self, to_step: int) -> None:
        episode = self.episode
        episode.validation = [
            point for point in episode.validation if survives(point.step, to_step)
        ]
        episode.spikes = [spike for spike in episode.spikes if survives(spike[0], to_step)]
        episode.recent_losses = np.zeros(0)
        episode.fired -= _REARMED_BY_REWIND
        episode.streaks.clear()

    def _confirmed(self, rule: Rule[Any], holds: bool) -> bool:
        """True once ``holds`` has been seen at ``rule.confirmations`` events in a row."""
        streak = self.episode.streaks.get(rule.kind, 0) + 1 if holds else 0
        self.episode.streaks[rule.kind] = streak
        return streak >= rule.confirmations
