"""What a run is made of: dataset spec, model spec, initial settings and scripted changes.

Plain dataclasses with no torch, so the GUI process, the CLI and scenario files can build and
validate them. ``validate()`` refuses an inconsistent configuration with one sentence.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from engine.commands import DEFAULT_SETTINGS, SetParam, validate_setting
from engine.errors import ConfigError

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
    settings: dict = field(default_factory=lambda: dict(DEFAULT_SETTINGS))
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

    def with_settings(self, **changes: object) -> RunConfig:
        """A copy with some initial settings replaced (each validated)."""
        settings = dict(self.settings)
        for key, value in changes.items():
            settings[key] = validate_setting(key, value)
        return replace(self, settings=settings)

    def validate(self) -> RunConfig:
        """Check the whole configuration; return self so calls can chain."""
        for key, value in self.settings.items():
            validate_setting(key, value)
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
        if self.steps is not None and self.steps < 1:
            raise ConfigError(f"steps must be at least 1 (got {self.steps})")
        if self.epochs is not None and self.epochs <= 0:
            raise ConfigError(f"epochs must be greater than 0 (got {self.epochs})")
        if self.eval_every < 1:
            raise ConfigError(f"eval_every must be at least 1 (got {self.eval_every})")
        if self.threads < 1:
            raise ConfigError(f"threads must be at least 1 (got {self.threads})")
        if self.checkpoints_kept < 1:
            raise ConfigError(f"checkpoints_kept must be at least 1 (got {self.checkpoints_kept})")
        for scheduled in self.schedule:
            if scheduled.step < 1:
                raise ConfigError(
                    f"a scheduled change needs a step of at least 1 (got {scheduled.step})"
                )
        return self
