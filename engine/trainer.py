"""The trainer: model, optimizer and data on one device, and the three things done to them —
take an optimizer step, evaluate a split, and save or restore a checkpoint.

It knows nothing about threads or commands; ``engine.session`` drives it. Per-step numbers
(loss, batch accuracy, gradient norm) stay on the device as tensors and are fetched in one
transfer by ``fetch_step_records`` a few times a second, so a GPU run never waits on the host.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import clip_grads_with_norm_

from trainscope.engine import metrics
from trainscope.engine.events import Evaluation
from trainscope.engine.layers import LayerStep, StepProbe, find_layers
from trainscope.engine.models import build_model, set_dropout

if TYPE_CHECKING:
    from collections.abc import Callable

    from trainscope.engine.config import RunConfig
    from trainscope.engine.data import PreparedData
    from trainscope.engine.settings import Settings, Value

#: The training split is scored on at most this many fixed rows per evaluation, so evaluation
#: stays a small fraction of training time even on large generated sets.
TRAIN_EVAL_ROWS = 2048
SHUFFLED_LABELS_STREAM = 11  # seeds the fixed shuffle the shuffled-labels bug trains on


def _balanced(ids: torch.Tensor, n_groups: int) -> torch.Tensor:
    """(n_groups,) weights n / (G * n_g): each class (or slice) adds up to the same total weight."""
    counts = torch.bincount(ids, minlength=n_groups).float()
    present = int((counts > 0).sum())
    return torch.where(counts > 0, len(ids) / (present * counts.clamp(min=1)), 0.0)


@dataclass
class Checkpoint:
    """Weights and optimizer state at ``step``, kept in memory for rewind."""

    step: int
    model_state: dict
    optimizer_name: str
    optimizer_state: dict


#: Devices where the optimizer uses its fused kernel (one call updates every parameter).
#: The CPU too, measured side by side (``bench/engine_throughput.py --steps 3000 --repeats 5``):
#: the engine trains the default MLP at 1,801 steps/s fused against 1,395 with the multi-tensor
#: implementation (+29%). Its rounding differs from the per-tensor loop's in the last bits; the
#: 11-seed lesson table passed in full on it (``TRAINSCOPE_SCENARIO_SEEDS=1,...,10,42 pytest
#: tests/engine/test_scenario_files.py``). It once failed lr-too-high on 3 of 11 seeds, which
#: turned out to be that lesson's own fragility (fixed: 0 of 100 seeds fail).
FUSED_DEVICES = frozenset({"cuda", "cpu"})


def optimizer_implementation(device: torch.device) -> dict[str, bool]:
    """The implementation the engine's optimizers use on ``device``: fused where PyTorch has
    the kernel (``FUSED_DEVICES``), else the multi-tensor ("foreach") one, bit for bit the
    per-tensor default (``tests/engine/test_trainer_speed_paths.py``). The benchmark's
    hand-written loop asks for the same, so the engine's overhead is measured fairly."""
    return {"fused": True} if device.type in FUSED_DEVICES else {"foreach": True}


def build_optimizer(
    name: str, parameters: list[nn.Parameter], settings: Settings
) -> torch.optim.Optimizer:
    """SGD uses ``momentum`` as its momentum; Adam/AdamW use it as beta1."""
    lr, weight_decay, momentum = (
        settings.number("lr"),
        settings.number("weight_decay"),
        settings.number("momentum"),
    )
    implementation = optimizer_implementation(parameters[0].device)
    if name == "sgd":
        return torch.optim.SGD(
            parameters, lr=lr, momentum=momentum, weight_decay=weight_decay, **implementation
        )
    optimizer_class = torch.optim.Adam if name == "adam" else torch.optim.AdamW
    return optimizer_class(
        parameters, lr=lr, betas=(momentum, 0.999), weight_decay=weight_decay, **implementation
    )


def parameter_norms(grads: list[torch.Tensor]) -> list[torch.Tensor]:
    """Each gradient's 2-norm in one fused call (the global norm is the norm of these)."""
    return list(torch._foreach_norm(grads))


class Trainer:
    """Owns the model, optimizer and device tensors of one run."""

    def __init__(
        self,
        config: RunConfig,
        data: PreparedData,
        device: torch.device,
        model: nn.Module | None = None,
    ) -> None:
        """``model``: a student's own (``engine.user_run``), checked and taking flat rows;
        None builds the one ``config.model`` describes."""
        self.config = config
        self.data = data
        self.device = device
        self.settings: Settings = config.settings  # replaced (never changed) by apply_setting
        self.temperature = 1.0
        torch.manual_seed(config.seed)
        if model is None:
            model = build_model(
                config.model,
                data.n_features,
                data.n_classes,
                self.settings.number("dropout"),
                data.image_shape,
            )
        self.model = model.to(device)
        self.initial_state = copy.deepcopy(self.model.state_dict())
        self.parameters = list(self.model.parameters())
        self.layers = find_layers(self.model)
        self.optimizer = build_optimizer(
            self.settings.choice("optimizer"), self.parameters, self.settings
        )
        self.train_x = torch.as_tensor(data.train_x, device=device)
        self._build_training_labels(data, config.seed)
        self.splits = {
            "validation": (torch.as_tensor(data.validation_x, device=device), data.validation_y),
            "test": (torch.as_tensor(data.test_x, device=device), data.test_y),
        }
        self.split_slices = {"validation": data.validation_slices, "test": data.test_slices}
        if data.deployment_x is not None:
            assert data.deployment_y is not None  # attached together with deployment_x
            deployment_x = torch.as_tensor(data.deployment_x, device=device)
            self.splits["deployment"] = (deployment_x, data.deployment_y)
            self.split_slices["deployment"] = data.deployment_slices
        rows = np.random.default_rng(config.seed).permutation(len(data.train_y))[:TRAIN_EVAL_ROWS]
        self.train_eval_rows = torch.as_tensor(np.sort(rows), device=device)
        self.train_eval_x = self.train_x[self.train_eval_rows]
        # Per split: always-the-training-majority scores that class's share of *this* split, and
        # a deployment split with a moved base rate moves it (label shift).
        self.baselines = {
            split: metrics.baselines(data.train_y, labels, data.n_classes)
            for split, (_, labels) in self.splits.items()
        }
        self.generator = torch.Generator(device=device)
        self._restart_sampling()
        self._clear_records()

    # ----- labels and loss weights ----------------------------------------------------------
    def _build_training_labels(self, data: PreparedData, seed: int) -> None:
        """The true training labels, a fixed shuffle of them (for the bug), and slice ids."""
        self.true_train_y = torch.as_tensor(data.train_y, device=self.device)
        shuffle = np.random.default_rng([seed, SHUFFLED_LABELS_STREAM]).permutation(
            len(data.train_y)
        )
        self.shuffled_train_y = self.true_train_y[torch.as_tensor(shuffle, device=self.device)]
        self.train_slices = (
            None
            if data.train_slices is None
            else torch.as_tensor(data.train_slices, device=self.device)
        )
        self._choose_training_labels()

    def _choose_training_labels(self) -> None:
        """Point training at the true or the shuffled labels, and rebuild the loss weights."""
        self.train_y = (
            self.shuffled_train_y if self.settings.switch("shuffled_labels") else self.true_train_y
        )
        self.row_weights = self._row_weights()

    def _row_weights(self) -> torch.Tensor | None:
        """Per-row loss weights, or None when every row counts the same (the fast path)."""
        weights = torch.ones(len(self.train_y), device=self.device)
        if self.settings.choice("class_weighting") == "balanced":
            weights = weights * _balanced(self.train_y, self.data.n_classes)[self.train_y]
        if self.settings.choice("slice_weighting") == "balanced" and self.train_slices is not None:
            n_slices = len(self.data.slice_names)
            weights = weights * _balanced(self.train_slices, n_slices)[self.train_slices]
        if bool((weights == 1).all()):
            return None
        return weights

    # ----- sampling -------------------------------------------------------------------------
    def _restart_sampling(self) -> None:
        self.generator.manual_seed(self.config.seed)
        self._order = torch.randperm(
            len(self.train_y), generator=self.generator, device=self.device
        )
        self._position = 0

    def _next_batch_indices(self) -> torch.Tensor:
        """Indices of the next batch; a new random order starts at every epoch."""
        batch_size = self.settings.whole("batch_size")
        if self._position >= len(self._order):
            self._order = torch.randperm(
                len(self.train_y), generator=self.generator, device=self.device
            )
            self._position = 0
        indices = self._order[self._position : self._position + batch_size]
        self._position += batch_size
        return indices

    @property
    def steps_per_epoch(self) -> int:
        return max(1, math.ceil(len(self.train_y) / self.settings.whole("batch_size")))

    # ----- one step -------------------------------------------------------------------------
    def train_step(self, step: int, inspect_layers: bool = False) -> LayerStep | None:
        """One optimizer step; its loss, batch accuracy and gradient norm stay on the device.

        ``inspect_layers`` (one step per evaluation interval, when layer health is shown) also
        measures each layer's gradient norm and how far the update moved its weights; every
        other step pays only for the flag's check.
        """
        indices = self._next_batch_indices()
        inputs, targets = self.train_x[indices], self.train_y[indices]
        logits = self.model(inputs)
        loss, objective = self._loss_and_objective(logits, targets, indices)
        settings = self.settings
        if not settings.switch("no_zero_grad"):
            self.optimizer.zero_grad(set_to_none=True)
        objective.backward()
        norms = parameter_norms([p.grad for p in self.parameters if p.grad is not None])
        probe = StepProbe(self.layers) if inspect_layers else None
        if probe is not None:
            probe.before_update()
        clip = settings.number("grad_clip")
        if clip > 0:
            total = torch.linalg.vector_norm(torch.stack(norms))
            clip_grads_with_norm_(self.parameters, clip, total)
        # Measured at once, not at the fetch: keeping every step's gradients until then was
        # measured slower (0.763 vs 0.790 of a bare loop), and the no_zero_grad bug changes
        # them in place.
        self._step_norms.append(norms)
        self.optimizer.step()
        # Kept as they are, reduced once per fetch: the batch accuracy from the logits and
        # the global norm from the per-parameter norms cost no kernel here.
        self._losses.append(loss.detach())
        self._step_logits.append(logits.detach())
        self._step_targets.append(targets)
        self._record_steps.append(step)
        self._record_lrs.append(settings.number("lr"))
        return None if probe is None else probe.after_update()

    def _loss_and_objective(
        self, logits: torch.Tensor, targets: torch.Tensor, indices: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The loss reported (plain cross-entropy) and the objective the optimizer minimises.

        They differ only with loss weights or label smoothing: the curves show plain
        cross-entropy, so training stays comparable with validation whatever is minimised.
        """
        smoothing = self.settings.number("label_smoothing")
        if self.row_weights is None and smoothing == 0:
            loss = F.cross_entropy(logits, targets)
            return loss, loss
        losses = F.cross_entropy(logits, targets, reduction="none")
        minimised = losses
        if smoothing > 0:
            minimised = F.cross_entropy(
                logits, targets, reduction="none", label_smoothing=smoothing
            )
        if self.row_weights is None:
            return losses.mean(), minimised.mean()
        weights = self.row_weights[indices]
        return losses.mean(), (minimised * weights).sum() / weights.sum()

    def fetch_step_records(
        self,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Steps, loss, batch accuracy, gradient norm and lr since the last fetch (one transfer).

        The per-step work was only keeping references; here a few batched kernels reduce them:
        every kept step's predictions against its targets, and the global gradient norm of each
        step as the norm of its per-parameter norms (what ``get_total_norm`` computes).
        """
        if not self._losses:
            empty = np.empty(0)
            return np.empty(0, dtype=np.int64), empty, empty, empty, empty
        sizes = [len(targets) for targets in self._step_targets]
        hits = torch.cat(self._step_logits).argmax(1) == torch.cat(self._step_targets)
        if len(set(sizes)) == 1:  # one batch size throughout: one reshape
            correct = hits.view(len(sizes), sizes[0]).sum(1).float()
        else:  # the batch size changed, or an epoch ended on a short batch
            rows = torch.repeat_interleave(
                torch.arange(len(sizes), device=hits.device),
                torch.as_tensor(sizes, device=hits.device),
            )
            correct = torch.zeros(len(sizes), device=hits.device).index_add_(0, rows, hits.float())
        stacked = torch.stack((torch.stack(self._losses).float(), correct, self._global_norms()))
        loss, correct_count, grad_norm = stacked.to("cpu", torch.float64).numpy()
        accuracy = correct_count / np.asarray(sizes, dtype=np.float64)
        steps = np.asarray(self._record_steps, dtype=np.int64)
        lrs = np.asarray(self._record_lrs, dtype=np.float64)
        self._clear_records()
        return steps, loss, accuracy, grad_norm, lrs

    def _global_norms(self) -> torch.Tensor:
        """Each kept step's global gradient norm (float32), in one call when the steps agree on
        how many parameters had gradients (they do unless a parameter only sometimes has one)."""
        counts = {len(norms) for norms in self._step_norms}
        if len(counts) == 1:
            per_parameter = torch.stack([norm for norms in self._step_norms for norm in norms])
            rows = per_parameter.reshape(len(self._step_norms), counts.pop()).float()
            return torch.linalg.vector_norm(rows, dim=1)
        return torch.stack(
            [torch.linalg.vector_norm(torch.stack(norms).float()) for norms in self._step_norms]
        )

    def _clear_records(self) -> None:
        self._losses: list[torch.Tensor] = []
        self._step_logits: list[torch.Tensor] = []
        self._step_targets: list[torch.Tensor] = []
        self._step_norms: list[list[torch.Tensor]] = []
        self._record_steps: list[int] = []
        self._record_lrs: list[float] = []

    # ----- settings -------------------------------------------------------------------------
    def apply_setting(self, key: str, value: Value) -> None:
        """Write one validated live setting into the model or optimizer (between two steps).

        ``SETTING_EFFECTS`` says what each setting touches; a setting it does not name is read
        where it is used, at every step (batch size, gradient clip, label smoothing, the bugs).
        """
        self.settings = self.settings.replace(**{key: value})
        effect = SETTING_EFFECTS.get(key)
        if effect is not None:
            effect(self)

    def _set_dropout(self) -> None:
        set_dropout(self.model, self.settings.number("dropout"))

    def _rebuild_optimizer(self) -> None:
        self.optimizer = build_optimizer(
            self.settings.choice("optimizer"), self.parameters, self.settings
        )

    def _write_param_groups(self) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = self.settings.number("lr")
            group["weight_decay"] = self.settings.number("weight_decay")
            if "momentum" in group:
                group["momentum"] = self.settings.number("momentum")
            if "betas" in group:
                group["betas"] = (self.settings.number("momentum"), group["betas"][1])

    # ----- evaluation -----------------------------------------------------------------------
    @torch.no_grad()
    def _logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """The model's logits in eval mode — unless the no_eval_mode bug leaves dropout on."""
        was_training = self.model.training
        self.model.train(self.settings.switch("no_eval_mode"))
        try:
            return self.model(inputs)
        finally:
            self.model.train(was_training)

    def probabilities(self, inputs: torch.Tensor) -> torch.Tensor:
        """Class probabilities exactly as an evaluation sees them: eval mode (unless the
        no_eval_mode bug), logits divided by the current temperature."""
        return torch.softmax(self._logits(inputs).float() / self.temperature, dim=1)

    def _log_probabilities(self, split: str) -> torch.Tensor:
        """Raw (temperature 1) log-probabilities of a split's rows."""
        return torch.log_softmax(self._logits(self.splits[split][0]).float(), dim=1)

    def fit_temperature(self) -> float:
        """Fit the temperature on validation log-probabilities; later evaluations use it."""
        log_probabilities = self._log_probabilities("validation").cpu().numpy()
        if not np.isfinite(log_probabilities).all():
            return self.temperature
        self.temperature = metrics.fit_temperature(log_probabilities, self.splits["validation"][1])
        return self.temperature

    def evaluate(self, split: str, step: int, epoch: float) -> Evaluation:
        """Score ``split`` (eval mode, current temperature) and package what the panels need."""
        started = time.perf_counter()
        labels = self.splits[split][1]
        log_probabilities = self._log_probabilities(split)
        if self.temperature != 1.0:
            log_probabilities = torch.log_softmax(log_probabilities / self.temperature, dim=1)
        train_eval_y = self.train_y[self.train_eval_rows]
        train_log_probabilities = torch.log_softmax(self._logits(self.train_eval_x).float(), dim=1)
        train_loss = F.nll_loss(train_log_probabilities, train_eval_y)
        train_accuracy = (train_log_probabilities.argmax(1) == train_eval_y).float().mean()
        probabilities = log_probabilities.exp().cpu().numpy()
        train_numbers = torch.stack((train_loss, train_accuracy)).cpu().numpy()
        evaluation = package_evaluation(
            split, step, epoch, probabilities, labels, train_numbers, self.baselines[split], started
        )
        return self._with_slices(evaluation, self.split_slices.get(split))

    def _with_slices(self, evaluation: Evaluation, slice_ids: np.ndarray | None) -> Evaluation:
        """Add the temperature and, when the data has slices, each slice's accuracy."""
        if slice_ids is None:
            return replace(evaluation, temperature=self.temperature)
        correct = evaluation.probabilities.argmax(1) == evaluation.labels
        slice_accuracy = {
            name: float(correct[slice_ids == index].mean())
            if (slice_ids == index).any()
            else math.nan
            for index, name in enumerate(self.data.slice_names)
        }
        return replace(
            evaluation,
            temperature=self.temperature,
            slice_accuracy=slice_accuracy,
            slice_ids=np.asarray(slice_ids, dtype=np.int64),
        )

    # ----- checkpoints ----------------------------------------------------------------------
    def checkpoint(self, step: int) -> Checkpoint:
        model_state = {
            name: tensor.detach().clone() for name, tensor in self.model.state_dict().items()
        }
        return Checkpoint(
            step,
            model_state,
            self.settings.choice("optimizer"),
            _cloned(self.optimizer.state_dict()),
        )

    def restore(self, checkpoint: Checkpoint) -> None:
        """Load weights and (if the optimizer kind still matches) its state; keep current settings."""
        self.model.load_state_dict(checkpoint.model_state)
        self.optimizer.zero_grad(set_to_none=True)  # gradients piled up by the no_zero_grad bug
        self.optimizer = build_optimizer(
            self.settings.choice("optimizer"), self.parameters, self.settings
        )
        if checkpoint.optimizer_name == self.settings.choice("optimizer"):
            self.optimizer.load_state_dict(_cloned(checkpoint.optimizer_state))
            self._write_param_groups()
        self._clear_records()

    def reset(self) -> None:
        """Back to the initial weights and a fresh optimizer, keeping the current settings."""
        self.model.load_state_dict(self.initial_state)
        self.optimizer.zero_grad(set_to_none=True)
        self.temperature = 1.0
        set_dropout(self.model, self.settings.number("dropout"))
        self.optimizer = build_optimizer(
            self.settings.choice("optimizer"), self.parameters, self.settings
        )
        self._restart_sampling()
        self._clear_records()


def package_evaluation(
    split: str,
    step: int,
    epoch: float,
    probabilities: np.ndarray,
    labels: np.ndarray,
    train_numbers: np.ndarray,
    baseline: metrics.Baselines,
    started: float,
) -> Evaluation:
    """An ``Evaluation`` from a split's probabilities: every figure the panels draw.

    ``train_numbers`` is (training loss, training accuracy) on the fixed training rows.
    """
    n_classes = probabilities.shape[1]
    finite = bool(np.isfinite(probabilities).all())
    if not finite:
        # A diverged model: score it as a know-nothing guess, but report its loss as NaN.
        probabilities = np.full_like(probabilities, 1.0 / n_classes)
    predictions = probabilities.argmax(1)
    confusion = metrics.confusion_matrix(labels, predictions, n_classes)
    precision, recall, f1 = metrics.precision_recall_f1(confusion)
    roc_auc = None
    if n_classes == 2 and len(np.unique(labels)) == 2:
        roc_auc = float(metrics.roc_auc(probabilities[:, 1], labels))
    return Evaluation(
        step=step,
        epoch=epoch,
        split=split,
        loss=metrics.log_loss(probabilities, labels) if finite else float("nan"),
        accuracy=float(np.mean(predictions == labels)) if len(labels) else float("nan"),
        confusion=confusion,
        precision=precision,
        recall=recall,
        f1=f1,
        calibration=metrics.calibration_from_probabilities(probabilities, labels),
        roc_auc=roc_auc,
        probabilities=probabilities.astype(np.float32),
        labels=np.asarray(labels, dtype=np.int64),
        train_loss=float(train_numbers[0]),
        train_accuracy=float(train_numbers[1]),
        zero_rule_accuracy=baseline.zero_rule_accuracy,
        random_accuracy=baseline.random_accuracy,
        duration_ms=(time.perf_counter() - started) * 1000.0,
    )


def _cloned(state: Any) -> Any:
    """A copy of an optimizer's state dict: tensors cloned, containers rebuilt, the rest shared
    (numbers, strings). ``copy.deepcopy`` does the same at several times the cost: a checkpoint
    is taken at every evaluation."""
    if isinstance(state, torch.Tensor):
        return state.detach().clone()
    if isinstance(state, dict):
        return {key: _cloned(value) for key, value in state.items()}
    if isinstance(state, list | tuple):
        return type(state)(_cloned(value) for value in state)
    return state


#: How a live setting (``engine.settings``) takes effect when it changes mid-run.
SETTING_EFFECTS: dict[str, Callable[[Trainer], None]] = {
    "dropout": Trainer._set_dropout,
    "optimizer": Trainer._rebuild_optimizer,
    "lr": Trainer._write_param_groups,
    "weight_decay": Trainer._write_param_groups,
    "momentum": Trainer._write_param_groups,
    "shuffled_labels": Trainer._choose_training_labels,
    "class_weighting": Trainer._choose_training_labels,
    "slice_weighting": Trainer._choose_training_labels,
}
