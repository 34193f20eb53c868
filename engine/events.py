"""Events: everything a run produces leaves as one of these.

Plain, immutable, picklable dataclasses holding Python scalars and numpy arrays, so the same
stream feeds the window (across a process pipe), the headless CLI, the tests and, later, the
run store and replay. No torch tensors ever appear in an event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from trainscope.engine.settings import Settings

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True, slots=True)
class RunStarted:
    """The session built its data and model (also re-sent after a reset).

    ``settings`` holds the live settings in force at step 0 (lr, dropout, optimizer, …), as
    the typed ``engine.settings.Settings``; a plain mapping (a recording read back) becomes one.
    """

    dataset: str
    class_names: tuple[str, ...]
    feature_names: tuple[str, ...]
    n_train: int
    n_validation: int
    n_test: int
    model_description: str
    parameter_count: int
    device: str
    settings: Settings
    seed: int
    max_steps: int | None
    steps_per_epoch: int
    chance_loss: float  # ln K: the loss of a model that has learned nothing
    n_deployment: int = 0  # rows in the deployment split; 0 = no deployment split
    slice_names: tuple[str, ...] = ()  # subgroup names, indexed by Evaluation.slice_ids
    scenario: str | None = None  # the scenario id this run was built from
    # Training rows per class: the class shares a know-nothing model can still learn, whose
    # loss (engine.metrics.prior_loss) is the honest "chance" on imbalanced data. Empty in runs
    # recorded before it existed; readers then fall back to ln K.
    train_class_counts: tuple[int, ...] = ()
    # A student's own training loop (``trainscope.watch``): its training rows, seed and epochs
    # are its own, unknown here, and the window says so instead of showing zeros.
    own_loop: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.settings, Settings):
            object.__setattr__(self, "settings", Settings(self.settings))


@dataclass(frozen=True, slots=True)
class StepMetrics:
    """A batch of consecutive optimizer steps, published by time (not per step).

    Arrays all have one entry per step; ``steps`` are 1-based step numbers (step 1 is the
    first optimizer step). ``loss`` may hold NaN/inf when a run diverges.
    """

    steps: np.ndarray  # int64
    loss: np.ndarray  # float64
    batch_accuracy: np.ndarray  # float64
    grad_norm: np.ndarray  # float64, global L2 norm before clipping
    lr: np.ndarray  # float64
    epoch: float  # fractional epoch after the last step in this batch
    steps_per_second: float
    published_at: float = 0.0  # time.time() when it left the training thread (latency probes)


@dataclass(frozen=True, slots=True)
class Calibration:
    """Reliability bins over top-label confidence (binary: the positive-class probability)."""

    bin_edges: np.ndarray  # (n_bins + 1,)
    mean_confidence: np.ndarray  # (n_bins,), NaN for an empty bin
    observed_frequency: np.ndarray  # (n_bins,), NaN for an empty bin
    counts: np.ndarray  # (n_bins,) int64
    ece: float
    mce: float


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Scores of one split at one step, with what panels need to redraw without the model.

    ``probabilities`` (N x K, float32) and ``labels`` (N,) let the GUI recompute every threshold
    metric without waiting for training. ``split`` is "validation", "test" or "deployment".
    """

    step: int
    epoch: float
    split: str
    loss: float
    accuracy: float
    confusion: np.ndarray  # (K, K) int64, rows = true class, columns = predicted
    precision: np.ndarray  # (K,)
    recall: np.ndarray  # (K,)
    f1: np.ndarray  # (K,)
    calibration: Calibration
    roc_auc: float | None  # binary tasks only
    probabilities: np.ndarray  # (N, K) float32
    labels: np.ndarray  # (N,) int64
    train_loss: float  # full-pass (eval mode) loss on the training split at this step
    train_accuracy: float
    zero_rule_accuracy: float  # always predict the training majority class
    random_accuracy: float  # guess by the training label distribution
    duration_ms: float
    temperature: float = 1.0
    slice_accuracy: dict[str, float] | None = None
    slice_ids: np.ndarray | None = None  # (N,) int64


@dataclass(frozen=True, slots=True)
class ParamChanged:
    """A live setting changed; ``step`` is the first optimizer step that used ``new``."""

    step: int
    key: str
    old: float | int | str
    new: float | int | str


@dataclass(frozen=True, slots=True)
class CommandRefused:
    """A command could not be applied (e.g. rewind with no checkpoint); the run goes on."""

    step: int
    message: str


@dataclass(frozen=True, slots=True)
class StateChanged:
    """The session's run state changed: "running", "paused", "finished" or "stopped"."""

    step: int
    state: str


@dataclass(frozen=True, slots=True)
class Rewound:
    """Weights and optimizer were restored to ``to_step``; history after it no longer holds."""

    from_step: int
    to_step: int


@dataclass(frozen=True, slots=True)
class TestSetOpened:
    """The sealed test split was opened at ``step`` (recorded for honesty)."""

    step: int


@dataclass(frozen=True, slots=True)
class Diverged:
    """The loss became non-finite at ``step``; the run paused itself."""

    step: int
    loss: float
    message: str


@dataclass(frozen=True, slots=True)
class TemperatureFitted:
    """A temperature was fitted on validation at ``step`` (or cleared: ``temperature`` 1.0).

    Every later evaluation divides the logits by it; ``ece_before``/``ece_after`` are the
    validation ECE at this step without and with it.
    """

    step: int
    temperature: float
    ece_before: float
    ece_after: float


@dataclass(frozen=True, slots=True)
class Hint:
    """A diagnosis: the run shows a classic problem, with the numbers that show it.

    ``kind`` is one of ``engine.diagnosis.HINT_KINDS`` ("diverged", "stuck_at_chance",
    "overfitting", "no_better_than_baseline", "minority_recall_collapse", "overconfident", and,
    from ``LayerHealth`` when that is collected, "vanishing_gradients", "exploding_gradients",
    "dead_units");
    ``evidence`` is one sentence with the numbers and steps; ``suggestion`` what to try.
    """

    step: int
    kind: str
    title: str
    evidence: str
    suggestion: str
    #: Where the problem began when that is before ``step`` (a blow-up's first spike; the hint
    #: is dated at the spike that makes it a pattern): the last good checkpoint is before it.
    began: int | None = None

    @property
    def first_step(self) -> int:
        """The step the problem began at: ``began`` where it is known, else ``step``."""
        return self.step if self.began is None else self.began


@dataclass(frozen=True, slots=True)
class Finished:
    """The run reached its planned length (``reason`` "completed") or was stopped ("stopped")."""

    step: int
    reason: str


@dataclass(frozen=True, slots=True)
class Error:
    """The training thread hit an unexpected error; the message is one sentence, the detail a traceback."""

    message: str
    detail: str


# ----- insights (issue #8): collected in the worker, small arrays only --------------------------
#: Insight events are not written to the run store: they are views of the model that replay can
#: not rebuild cheaply and would multiply a run's size; the numbers a lesson needs are elsewhere.
@dataclass(frozen=True, slots=True)
class DataView:
    """The 2-D plane the decision-boundary panel draws (after every ``RunStarted``).

    For two-feature data the plane is the features themselves; otherwise the first two principal
    components of the (standardized) training inputs, every other direction held at the training
    mean — ``note`` says so in words ("" when nothing is held). Coordinates are in the plane's own
    units; ``x_range``/``y_range`` cover the points with a margin and are the grid's extent.
    """

    x_label: str
    y_label: str
    note: str
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    train_xy: np.ndarray  # (n_train, 2) float32
    train_y: np.ndarray  # (n_train,) int64
    validation_xy: np.ndarray  # (n_validation, 2) float32
    validation_y: np.ndarray  # (n_validation,) int64


@dataclass(frozen=True, slots=True)
class DecisionBoundary:
    """The model's predictions over a grid covering ``DataView``'s ranges, at ``step``.

    Grids are (rows, cols) with row 0 at ``y_range[0]`` and column 0 at ``x_range[0]``; 100 x 100
    as a rule, coarser (down to 32 x 32) for a model too slow to predict 10 000 points quickly,
    so read the size from the array. ``positive_probability`` is P(class 1) for two-class data,
    else None.
    """

    step: int
    predicted_class: np.ndarray  # (rows, cols) int16
    confidence: np.ndarray  # (rows, cols) float32, the top class's probability
    positive_probability: np.ndarray | None  # (rows, cols) float32, binary only
    duration_ms: float


@dataclass(frozen=True, slots=True)
class LayerHealth:
    """Per-layer training health at ``step`` (one entry per Linear/Conv layer, input side first).

    ``grad_norm`` is each layer's L2 gradient norm (weight and bias together) at that step, so
    the square root of the sum of their squares is the global norm; ``update_ratio`` is
    ||step's change|| / ||weights||; ``dead_fraction`` the share of units never active over the
    validation set (NaN where the layer has no ReLU-like activation after it). Activation
    histograms: ``activation_counts[i]`` over ``activation_edges[i]`` (the layer's output after
    its activation, over the validation set).
    """

    step: int
    layer_names: tuple[str, ...]
    grad_norm: np.ndarray  # (L,) float64
    weight_norm: np.ndarray  # (L,) float64
    update_ratio: np.ndarray  # (L,) float64
    dead_fraction: np.ndarray  # (L,) float64
    activation_edges: np.ndarray  # (L, B + 1) float64
    activation_counts: np.ndarray  # (L, B) int64
    duration_ms: float


@dataclass(frozen=True, slots=True)
class ValidationInputs:
    """The validation rows in their original units (after every ``RunStarted``), for the gallery.

    Row i matches ``Evaluation.labels[i]`` of a validation evaluation. ``image_shape`` is set
    for image data (digits: (8, 8)).
    """

    features: np.ndarray  # (n_validation, n_features) float32, unscaled
    feature_names: tuple[str, ...]
    image_shape: tuple[int, int] | None


@dataclass(frozen=True, slots=True)
class Resources:
    """What the training process uses, about once a second.

    ``cpu_percent``: CPU time over wall time since the last report (100 = one core busy).
    """

    step: int
    cpu_percent: float
    rss_mib: float
    gpu_memory_mib: float | None  # allocated by torch on CUDA; None elsewhere


@dataclass(frozen=True, slots=True)
class DataPreview:
    """The answer to ``PreviewData``: the points pending data settings would give, or why none.

    ``view`` is None when the settings make no data (``error`` says why in one sentence) or the
    data has a single feature (``error`` says so too).
    """

    dataset: object  # the DatasetSpec asked about, so a stale answer can be told apart
    seed: int
    view: DataView | None
    class_names: tuple[str, ...]
    error: str | None


#: The insight events, which the run store leaves out (see the note above ``DataView``).
INSIGHT_EVENTS = (
    DataView,
    DecisionBoundary,
    LayerHealth,
    ValidationInputs,
    Resources,
    DataPreview,
)


@dataclass(frozen=True, slots=True)
class ReplaySeeked:
    """A replay's first event after a seek: what follows rebuilds the run up to ``step``."""

    step: int


@dataclass(frozen=True, slots=True)
class ControlsLimited:
    """What the window may not ask of this run, by control, each with the reason shown on hover.

    Sent by runs the window did not build (``trainscope.show`` and ``watch``): ``reasons`` maps
    a setting's name, an action ("rewind", "reset", "step", "open_test_set") or "new_run"
    (Setup, lessons, experiments) to one sentence. ``shown`` holds what a greyed setting's
    widget says instead of a number it does not know ("your loop's"), or a value outside its
    list (an optimizer the table does not have). A later one replaces the earlier.
    """

    step: int
    reasons: dict[str, str]
    shown: dict[str, str] = field(default_factory=dict)


Event = (
    RunStarted
    | StepMetrics
    | Evaluation
    | ParamChanged
    | CommandRefused
    | StateChanged
    | Rewound
    | TestSetOpened
    | Diverged
    | Finished
    | Error
    | TemperatureFitted
    | Hint
    | DataView
    | DecisionBoundary
    | LayerHealth
    | ValidationInputs
    | Resources
    | DataPreview
    | ReplaySeeked  # a replay's only event of its own
    | ControlsLimited
)
