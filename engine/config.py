"""What a run is made of: dataset spec, model spec, initial settings and scripted changes.

Plain dataclasses with no torch, so the GUI process, the CLI and scenario files can build and
validate them. ``validate()`` refuses an inconsistent configuration with one sentence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from trainscope.engine.device import check_device, device_name
from trainscope.engine.errors import ConfigError
from trainscope.engine.pace import validate_pace
from trainscope.engine.settings import Settings

if TYPE_CHECKING:
    from trainscope.engine.commands import SetParam

ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu", "leaky_relu")
MODEL_KINDS = ("mlp", "cnn")


@dataclass(frozen=True)
class DatasetSpec:
    """Which data to train on and the knobs that shape it.

    ``name`` is a bundled set (digits, breast_cancer, wine, iris), a generator (moons, circles,
    blobs, classification, wave; TensorFlow Playground's circle, xor, gaussians, spiral) or
    "csv" with ``csv_path`` and ``label_column``.
    ``imbalance`` is the fraction of the minority class for generators that support it
    (None = balanced); ``label_noise`` is the fraction of training labels flipped.

    The lesson knobs (see ``engine.data_variants``): ``deployment`` holds out a deployment split
    scored beside validation; ``shift`` moves the deployment inputs away from the training
    region and ``train_width`` widens that region (the "wave" dataset only); ``leak_feature``
    adds a column that is the label in disguise, except at deployment; ``slice_fraction`` makes
    a subgroup of that share of the rows whose inputs relate to the label differently;
    ``train_subset`` trains on only that many training rows.

    The experiment knobs (``engine.experiment_plan`` sets them, one run per value): ``folds``
    and ``fold`` make the validation split fold ``fold`` of a stratified k-fold over the rows
    the test split leaves (the test split stays what it would be, sealed); ``train_fraction``
    trains on that share of the training rows (a learning curve's point); ``bootstrap`` trains
    on a resample, with replacement, of the training rows drawn with that seed (a bagging
    member); ``split_seed`` fixes the data and the split while the run's own seed moves only
    the initial weights and the batch order (a seed-spread experiment).
    """

    name: str = "digits"
    n_samples: int | None = None  # None: the generator's default (bundled sets use all rows)
    # Input noise: std of Gaussian noise added to standardized features; moons, circles and
    # Playground's sets (0-0.5, its noise slider / 100) take it as their own noise instead.
    noise: float = 0.0
    label_noise: float = 0.0
    imbalance: float | None = None
    n_classes: int | None = None  # for blobs / classification
    n_features: int | None = None  # for blobs / classification
    csv_path: str | None = None
    label_column: str | None = None
    validation_fraction: float = 0.15
    test_fraction: float = 0.15
    deployment: bool = False
    shift: float = 0.0
    train_width: float = 1.0
    leak_feature: bool = False
    slice_fraction: float | None = None
    train_subset: int | None = None
    folds: int | None = None
    fold: int = 0
    train_fraction: float | None = None
    bootstrap: int | None = None
    split_seed: int | None = None


@dataclass(frozen=True)
class ModelSpec:
    """An MLP (``hidden`` empty = logistic regression) or the small CNN for 8x8 digits."""

    kind: str = "mlp"
    hidden: tuple[int, ...] = (128, 128)
    activation: str = "relu"


@dataclass(frozen=True)
class ScheduledChange:
    """A scripted mid-run change: the optimizer step numbered ``step`` is the first to use it."""

    step: int
    change: SetParam


@dataclass(frozen=True)
class RunConfig:
    """Everything needed to start a run reproducibly (same seed + device → same numbers)."""

    dataset: DatasetSpec = field(default_factory=DatasetSpec)
    model: ModelSpec = field(default_factory=ModelSpec)
    settings: Settings = field(default_factory=Settings)
    steps: int | None = None  # planned length in steps; None with epochs None = until stopped
    epochs: float | None = None
    eval_every: int = 100  # steps between evaluations (~3% of training time for the default MLP)
    seed: int = 42
    device: str = "auto"  # auto, cpu, cuda, cuda:N, mps
    schedule: tuple[ScheduledChange, ...] = ()
    checkpoints_kept: int = 5  # in-memory checkpoints available to rewind
    # CPU threads for torch. One is the default on purpose: these small models gain little from
    # more, and on a 2-core machine two spinning OpenMP threads beside anything else running
    # (the window, another job) were measured to collapse from ~1200 to 30-80 steps/s.
    threads: int = 1
    scenario: str | None = None  # the id of the scenario this run was built from, if any
    pace: float | None = None  # steps per second the training loop holds; None = max (engine.pace)
    # A student's own model or loop (trainscope.show / watch, --model-file): it replays like any
    # run, but only the student's code can build the model, so it cannot be forked from here.
    own_model: bool = False

    def __post_init__(self) -> None:
        """Settings given as a plain mapping (a scenario, a recording) are checked here, once."""
        if not isinstance(self.settings, Settings):
            object.__setattr__(self, "settings", Settings(self.settings))

    def with_settings(self, **changes: object) -> RunConfig:
        """A copy with some initial settings replaced (each validated)."""
        return replace(self, settings=self.settings.replace(**changes))

    def validate(self) -> RunConfig:
        """Check what the configuration says; return self so calls can chain.

        Every value, wherever it came from: settings, model, length (a finite number of
        epochs), the dataset knobs and the seed (``engine.data``), the device's name, scheduled
        steps. Nothing here depends on the machine, so a run recorded on a GPU machine still
        opens, replays and imports on a laptop; ``validate_to_start`` adds what does.
        """
        # engine.data imports this module (for DatasetSpec), so it is imported here, not above.
        from trainscope.engine.data import check_seed, validate_spec

        self._validate_model()
        if self.steps is not None and self.steps < 1:
            raise ConfigError(f"steps must be at least 1 (got {self.steps})")
        if self.epochs is not None and not (math.isfinite(self.epochs) and self.epochs > 0):
            raise ConfigError(f"epochs must be a number greater than 0 (got {self.epochs})")
        if self.eval_every < 1:
            raise ConfigError(f"eval_every must be at least 1 (got {self.eval_every})")
        if self.threads < 1:
            raise ConfigError(f"threads must be at least 1 (got {self.threads})")
        if self.checkpoints_kept < 1:
            raise ConfigError(f"checkpoints_kept must be at least 1 (got {self.checkpoints_kept})")
        validate_spec(self.dataset)
        check_seed(self.seed)
        validate_pace(self.pace)
        device_name(self.device)
        for scheduled in self.schedule:
            if scheduled.step < 1:
                raise ConfigError(
                    f"a scheduled change needs a step of at least 1 (got {scheduled.step})"
                )
        return self

    def validate_to_start(self) -> RunConfig:
        """``validate``, then what a run about to start on this machine also needs.

        The device must exist here (a torch-free probe, ``engine.device.check_device``),
        every scheduled change must fall within the planned run, and a CSV file must read. Called where a student asks
        for a new run (the flags, the Setup panel, a lesson's suggestion), so a bad request is
        refused in one sentence before any worker starts or anything is recorded.
        """
        self.validate()
        check_device(self.device)
        self._check_schedule_within_run()
        if self.dataset.name == "csv":  # a student's file: read it now, not in the worker
            from trainscope.engine.csv_import import read_csv_table

            read_csv_table(self.dataset.csv_path or "", self.dataset.label_column)
        return self

    def planned_steps(self, training_rows: int) -> int | None:
        """The run's length in optimizer steps (None: until stopped), as the session counts it."""
        if self.steps is not None:
            return self.steps
        if self.epochs is None:
            return None
        steps_per_epoch = max(1, math.ceil(training_rows / self.settings.whole("batch_size")))
        return max(1, math.ceil(self.epochs * steps_per_epoch))

    def _validate_model(self) -> None:
        if self.model.kind not in MODEL_KINDS:
            raise ConfigError(
                f"model must be one of {', '.join(MODEL_KINDS)} (got {self.model.kind!r})"
            )
        if self.model.activation not in ACTIVATIONS:
            raise ConfigError(
                f"activation must be one of {', '.join(ACTIVATIONS)} (got {self.model.activation!r})"
            )
        if any(width < 1 for width in self.model.hidden):
            raise ConfigError(f"hidden layer widths must be at least 1 (got {self.model.hidden})")
        if self.model.kind == "cnn" and self.dataset.name != "digits":
            raise ConfigError(
                "the CNN is built for the 8x8 digits; choose --dataset digits or an MLP"
            )

    def _check_schedule_within_run(self) -> None:
        """Refuse a scheduled change the run would end before reaching (it would never apply).

        A length in steps is compared directly. A length in epochs depends on how many rows
        the run trains on, known exactly only once the data is built: every epoch is at least
        one step, so a change within the first ``ceil(epochs)`` steps always fits without
        looking; a later one has the data built (torch-free, ``engine.data.training_rows``)
        to count the steps exactly as the session will.
        """
        last = max((scheduled.step for scheduled in self.schedule), default=None)
        if last is None or (self.steps is None and self.epochs is None):
            return
        if self.steps is not None:
            if last > self.steps:
                raise ConfigError(
                    f"the change scheduled for step {last} would never happen: "
                    f"the run is planned for {self.steps} steps"
                )
            return
        assert self.epochs is not None
        if last <= math.ceil(self.epochs):
            return
        from trainscope.engine.data import training_rows

        rows = training_rows(self.dataset, self.seed)
        planned = self.planned_steps(rows)
        if planned is not None and last > planned:
            raise ConfigError(
                f"the change scheduled for step {last} would never happen: the run is planned "
                f"for {self.epochs:g} epochs of {rows} training rows in batches of "
                f"{self.settings['batch_size']}, which is {planned} steps"
            )
