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
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from trainscope.engine import events as ev
from trainscope.engine.metrics import macro_roc_auc, prior_loss

#: Hints read from ``LayerHealth``: they fire only while layer health is collected (the window
#: shows that panel), so headless runs and scenarios never see them.
LAYER_HINT_KINDS = ("vanishing_gradients", "exploding_gradients", "dead_units")
HINT_KINDS = (
    "diverged",
    "stuck_at_chance",
    "overfitting",
    "no_better_than_baseline",
    "minority_recall_collapse",
    "overconfident",
    *LAYER_HINT_KINDS,
)
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


class Diagnostician:
    """Feed it every event with ``observe``; it returns the hints that event completes."""

    def __init__(self) -> None:
        self.episode = _Episode()

    def observe(self, event: ev.Event) -> list[ev.Hint]:
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
        elif isinstance(event, ev.Diverged):
            return self._fire(event.step, "diverged", _diverged_texts(event.step, event.loss))
        elif isinstance(event, ev.StepMetrics):
            return self._check_explosion(event)
        elif isinstance(event, ev.Evaluation) and event.split == "validation":
            return self._check_evaluation(event)
        elif isinstance(event, ev.LayerHealth):
            return self._check_layers(event)
        return []

    # ----- bookkeeping ----------------------------------------------------------------------
    def _rewound(self, to_step: int) -> None:
        episode = self.episode
        episode.validation = [point for point in episode.validation if point.step <= to_step]
        episode.spikes = [spike for spike in episode.spikes if spike[0] <= to_step]
        episode.recent_losses = np.zeros(0)
        episode.fired.discard("diverged")
        episode.streaks.clear()

    def _fire(self, step: int, kind: str, texts: tuple[str, str, str]) -> list[ev.Hint]:
        if kind in self.episode.fired:
            return []
        self.episode.fired.add(kind)
        title, evidence, suggestion = texts
        return [
            ev.Hint(step=step, kind=kind, title=title, evidence=evidence, suggestion=suggestion)
        ]

    def _confirmed(self, kind: str, holds: bool) -> bool:
        """True once ``holds`` has been seen at ``CONFIRMATIONS`` evaluations in a row."""
        streak = self.episode.streaks.get(kind, 0) + 1 if holds else 0
        self.episode.streaks[kind] = streak
        return streak >= CONFIRMATIONS

    # ----- checks ---------------------------------------------------------------------------
    def _check_explosion(self, event: ev.StepMetrics) -> list[ev.Hint]:
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
        to the last good checkpoint goes back before that step). A non-finite loss is diverged
        outright.
        """
        if "diverged" in self.episode.fired:
            return []
        losses = np.asarray(event.loss, dtype=np.float64)
        broken = ~np.isfinite(losses)
        if broken.any():
            index = int(np.argmax(broken))
            step = int(event.steps[index])
            return self._fire(step, "diverged", _diverged_texts(step, float(losses[index])))
        episode = self.episode
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
                return self._fire(
                    step, "diverged", _exploding_texts(spikes, median, chance, episode.lr)
                )
        return []

    def _check_evaluation(self, evaluation: ev.Evaluation) -> list[ev.Hint]:
        if not math.isfinite(evaluation.loss):
            return []
        self.episode.validation.append(
            _Point(evaluation.step, evaluation.loss, evaluation.train_loss)
        )
        hints = self._check_overfitting(evaluation)
        if evaluation.step >= WARMUP_STEPS:
            hints += self._check_stuck(evaluation)
            hints += self._check_baseline(evaluation)
            hints += self._check_minority_recall(evaluation)
            hints += self._check_overconfidence(evaluation)
        return hints

    def _check_stuck(self, evaluation: ev.Evaluation) -> list[ev.Hint]:
        """The loss sits at (or above) what knowing only the class shares gives, and the model
        ranks cases like a coin: both, because a few confident mistakes lift the loss of a model
        that does rank well, and a model can rank a little while its loss says nothing yet."""
        prior = self.episode.prior_loss
        auc = math.nan
        if evaluation.loss >= (1 - STUCK_TOLERANCE) * prior:
            auc = macro_roc_auc(evaluation.probabilities, evaluation.labels)
        stuck = math.isfinite(auc) and auc <= STUCK_MAX_AUC
        if not self._confirmed("stuck_at_chance", stuck):
            return []
        where = "above" if evaluation.loss > prior else "near"
        evidence = (
            f"At step {evaluation.step} the validation loss is {evaluation.loss:.3f}, {where} "
            f"{prior:.3f}, the loss of a model that only knows {self._prior_words()}, and it "
            f"ranks new cases no better than a coin (ROC AUC {auc:.2f}; 0.5 is guessing): the "
            "model still knows nothing it can use on new data."
        )
        suggestion = (
            "Check the learning rate (too small crawls), the model's capacity (a line cannot "
            "separate rings) and that the labels really belong to their inputs."
        )
        return self._fire(
            evaluation.step, "stuck_at_chance", ("Loss stuck at chance", evidence, suggestion)
        )

    def _prior_words(self) -> str:
        """What the know-nothing model knows, in words: the class shares it would answer with."""
        counts = np.asarray(self.episode.class_counts, dtype=np.float64)
        k = len(self.episode.class_names) or len(counts)
        if counts.size == 0:
            return f"how many classes there are (ln {k})"
        shares = counts / counts.sum()
        if shares.max() - shares.min() < 0.02:
            return f"that the {k} classes are about equally common (about ln {k})"
        common = int(np.argmax(shares))
        return (
            f"how common each class is in the training data ({shares[common]:.0%} are "
            f"'{self._class_name(common)}')"
        )

    def _check_overfitting(self, evaluation: ev.Evaluation) -> list[ev.Hint]:
        """Validation loss turned up while training loss still falls, by a share and by an
        amount: a model that has all but solved the task (loss 0.001) wobbles by +30% from one
        evaluation to the next without learning anything wrong."""
        points = self.episode.validation
        if len(points) < 3:
            return []
        best = min(points[:-1], key=lambda point: point.loss)
        rise = evaluation.loss / best.loss - 1 if best.loss > 0 else 0.0
        holds = (
            rise >= OVERFIT_RISE
            and evaluation.loss - best.loss >= OVERFIT_MIN_RISE
            and evaluation.train_loss < best.train_loss
        )
        if not self._confirmed("overfitting", holds):
            return []
        evidence = (
            f"Validation loss rose from its minimum {best.loss:.3f} at step {best.step} to "
            f"{evaluation.loss:.3f} at step {evaluation.step} (+{rise:.0%}) while training loss "
            f"fell from {best.train_loss:.3f} to {evaluation.train_loss:.3f}."
        )
        suggestion = (
            f"Stop early (the best weights were at step {best.step}), add dropout (0.2-0.5) or "
            "weight decay, use a smaller network or get more data."
        )
        return self._fire(evaluation.step, "overfitting", ("Overfitting", evidence, suggestion))

    def _check_baseline(self, evaluation: ev.Evaluation) -> list[ev.Hint]:
        baseline = evaluation.zero_rule_accuracy
        holds = evaluation.accuracy <= baseline + BASELINE_MARGIN
        if not self._confirmed("no_better_than_baseline", holds):
            return []
        evidence = (
            f"At step {evaluation.step} validation accuracy is {evaluation.accuracy:.3f}, while "
            f"always answering the most common class scores {baseline:.3f}."
        )
        suggestion = (
            "Look at recall per class and the confusion matrix; try class weights or a lower "
            "decision threshold, and compare every score with this baseline."
        )
        texts = ("No better than always guessing the majority", evidence, suggestion)
        return self._fire(evaluation.step, "no_better_than_baseline", texts)

    def _check_minority_recall(self, evaluation: ev.Evaluation) -> list[ev.Hint]:
        counts = np.bincount(evaluation.labels, minlength=len(evaluation.recall))
        rare = int(np.argmin(np.where(counts > 0, counts, counts.max() + 1)))
        share = counts[rare] / counts.sum()
        fair_share = 1.0 / len(counts)
        recall = float(evaluation.recall[rare])
        holds = share < RARE_SHARE * fair_share and recall < RECALL_FLOOR
        if not self._confirmed("minority_recall_collapse", holds):
            return []
        name = self._class_name(rare)
        caught = int(evaluation.confusion[rare, rare])
        evidence = (
            f"At step {evaluation.step} the model catches {caught} of {counts[rare]} '{name}' "
            f"cases (recall {recall:.2f}) while overall accuracy reads {evaluation.accuracy:.3f}."
        )
        suggestion = (
            "Lower the decision threshold, or weight the classes (class_weighting = balanced) "
            "so the rare class counts as much as the common one."
        )
        texts = (f"The rare class '{name}' is missed", evidence, suggestion)
        return self._fire(evaluation.step, "minority_recall_collapse", texts)

    def _check_overconfidence(self, evaluation: ev.Evaluation) -> list[ev.Hint]:
        confidence = float(np.mean(np.max(evaluation.probabilities, axis=1)))
        gap = confidence - evaluation.accuracy
        ece = evaluation.calibration.ece
        holds = ece >= HIGH_ECE and gap >= OVERCONFIDENCE_GAP
        if not self._confirmed("overconfident", holds):
            return []
        evidence = (
            f"At step {evaluation.step} the model is on average {confidence:.0%} sure but right "
            f"{evaluation.accuracy:.0%} of the time (ECE {ece:.3f})."
        )
        suggestion = (
            "Fit a temperature on the validation split (temperature scaling): confidence "
            "comes down, predictions stay the same."
        )
        texts = ("Overconfident probabilities", evidence, suggestion)
        return self._fire(evaluation.step, "overconfident", texts)

    def _check_layers(self, health: ev.LayerHealth) -> list[ev.Hint]:
        """Each layer check counts its own streak of ``LayerHealth`` reports in a row."""
        return (
            self._check_vanishing(health)
            + self._check_exploding(health)
            + self._check_dead_units(health)
        )

    def _check_vanishing(self, health: ev.LayerHealth) -> list[ev.Hint]:
        """The first layer learns a thousand times slower than the last: depth ate its signal."""
        if len(health.grad_norm) < 2 or health.step < WARMUP_STEPS:
            return []
        first, last = float(health.grad_norm[0]), float(health.grad_norm[-1])
        holds = last > 0 and first < VANISHING_RATIO * last
        if not self._confirmed("vanishing_gradients", holds):
            return []
        evidence = (
            f"At step {health.step} the gradient reaching {health.layer_names[0]} is {first:.2g}, "
            f"{last / max(first, 1e-300):.0f}x smaller than at {health.layer_names[-1]} "
            f"({last:.2g}): the first layers barely learn."
        )
        suggestion = (
            "Use relu, leaky_relu or gelu instead of sigmoid/tanh, fewer layers, normalisation "
            "between layers, or an initialisation scaled to each layer's width (He/Xavier)."
        )
        texts = ("Vanishing gradients", evidence, suggestion)
        return self._fire(health.step, "vanishing_gradients", texts)

    def _check_exploding(self, health: ev.LayerHealth) -> list[ev.Hint]:
        """Gradients or steps so large that one update rewrites a good part of the weights."""
        total = float(np.sqrt(np.sum(np.square(health.grad_norm))))
        ratios = np.nan_to_num(health.update_ratio, nan=0.0)
        worst = int(np.argmax(ratios))
        holds = total > EXPLODING_GRAD_NORM or ratios[worst] > EXPLODING_UPDATE_RATIO
        if not self._confirmed("exploding_gradients", holds):
            return []
        evidence = (
            f"At step {health.step} the gradient norm is {total:.3g} and one step changed "
            f"{health.layer_names[worst]} by {100 * ratios[worst]:.2g}% of its size (a healthy "
            "step changes a layer by about 0.1%)."
        )
        suggestion = (
            "Lower the learning rate (divide it by 10), clip the gradients (grad_clip 1.0), or "
            "add normalisation; check the initialisation is scaled to the layers' widths."
        )
        texts = ("Exploding gradients", evidence, suggestion)
        return self._fire(health.step, "exploding_gradients", texts)

    def _check_dead_units(self, health: ev.LayerHealth) -> list[ev.Hint]:
        """ReLU units that never fire get no gradient, so they stay off for good."""
        dead = np.nan_to_num(health.dead_fraction, nan=0.0)
        worst = int(np.argmax(dead)) if len(dead) else 0
        holds = len(dead) > 0 and dead[worst] > DEAD_SHARE
        if not self._confirmed("dead_units", holds):
            return []
        evidence = (
            f"At step {health.step}, {dead[worst]:.0%} of the units in "
            f"{health.layer_names[worst]} never fire on any validation example: they output 0, "
            "get no gradient and cannot learn again."
        )
        suggestion = (
            "Lower the learning rate (a too-large step often kills ReLUs), switch to leaky_relu "
            "or gelu, add normalisation, or use He initialisation; rewind to before they died."
        )
        texts = ("Dead units", evidence, suggestion)
        return self._fire(health.step, "dead_units", texts)

    def _class_name(self, index: int) -> str:
        names = self.episode.class_names
        return names[index] if index < len(names) else f"class {index}"


def _diverged_texts(step: int, loss: float) -> tuple[str, str, str]:
    evidence = f"The training loss became {loss} at step {step}: the weights left the numbers."
    suggestion = "Rewind to the last good checkpoint and divide the learning rate by 10."
    return "Training diverged", evidence, suggestion


def _exploding_texts(
    spikes: list[tuple[int, float]], median: float, chance: float, lr: float
) -> tuple[str, str, str]:
    first, last = spikes[0][0], spikes[-1][0]
    worst_step, worst = max(spikes, key=lambda spike: spike[1])
    evidence = (
        f"From step {first} the batch loss jumped above {EXPLOSION_FACTOR:g}x the chance loss "
        f"{chance:.3f} of a model that knows nothing {len(spikes)} times in {last - first + 1} "
        f"steps, up to {worst:.3g} ({worst / chance:.0f}x) at step {worst_step}, and the typical "
        f"batch never settles (median {median:.3g}; learning rate {lr:g})."
    )
    suggestion = "Divide the learning rate by 10 (rewind first), or clip the gradients."
    return "The loss is blowing up", evidence, suggestion
