"""Command-line flags → a validated ``RunConfig``; bad flags become one sentence and exit 2.

No torch and no Qt here: the window process parses the same flags to configure its run.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from trainscope.engine.commands import parse_assignment, split_assignment
from trainscope.engine.config import (
    ACTIVATIONS,
    MODEL_KINDS,
    DatasetSpec,
    ModelSpec,
    RunConfig,
    ScheduledChange,
)
from trainscope.engine.data import DATASET_NAMES
from trainscope.engine.errors import TrainScopeError
from trainscope.engine.pace import validate_pace
from trainscope.engine.settings import NEEDS_NEW_RUN, SETTINGS

#: The window's pace unless ``--pace`` says otherwise: the default digits run does most of its
#: learning in its first ~1,400 steps, which at this pace takes about 25 seconds to watch.
WINDOW_PACE = 60.0
#: A window run's planned end unless a length is given: past the default run's best validation
#: loss (~step 1,400 of ~39 steps an epoch), so it stops on its own with "finished — Space to
#: go on" instead of training on unwatched. Headless runs default to ``HEADLESS_EPOCHS``.
WINDOW_EPOCHS = 40.0
HEADLESS_EPOCHS = 20.0

if TYPE_CHECKING:
    from collections.abc import Sequence

    from trainscope.engine.experiment_plan import ExperimentPlan
    from trainscope.engine.scenario import Scenario

#: Flags that describe the data or the model; a scenario already fixes both.
SCENARIO_FIXED = (
    "dataset",
    "n_samples",
    "noise",
    "label_noise",
    "imbalance",
    "n_classes",
    "n_features",
    "csv",
    "label_column",
    "model",
    "hidden",
    "activation",
)


#: A value that starts with a minus sign: a negative number, -inf, -nan, or --at's "-3:lr=0.1".
NEGATIVE_VALUE = re.compile(r"^-(\d|\.\d|inf|nan)", re.IGNORECASE)


class OneSentenceParser(argparse.ArgumentParser):
    """argparse, but a bad flag prints one sentence (no usage dump) and exits 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"trainscope: error: {message}\n")

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        argv = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(self._attach_negative_values(argv), namespace)

    def _attach_negative_values(self, argv: list[str]) -> list[str]:
        """``--at -3:lr=0.1`` → ``--at=-3:lr=0.1`` (likewise ``--noise -1e3``, ``--epochs -inf``).

        argparse reads a value that starts with '-' as another flag unless it is a plain
        negative number, and answers "expected one argument"; joined to its flag, the value
        reaches validation, which can say what is really wrong with it.
        """
        takes_value = {
            option
            for action in self._actions
            if action.nargs is None
            for option in action.option_strings
        }
        joined: list[str] = []
        index = 0
        while index < len(argv):
            token = argv[index]
            if token == "--":
                joined += argv[index:]
                break
            following = argv[index + 1] if index + 1 < len(argv) else ""
            if token in takes_value and NEGATIVE_VALUE.match(following):
                joined.append(f"{token}={following}")
                index += 2
            else:
                joined.append(token)
                index += 1
        return joined


def seconds(text: str) -> float:
    """argparse type of ``--quit-after``: a finite number of seconds, 0 or more."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"takes a number of seconds, 0 or more (got {text!r})")
    return value


#: The smallest window the layout is made for, and a sanity bound on a side.
MIN_WINDOW, MAX_WINDOW_SIDE = (640, 480), 16384


def window_size(text: str) -> tuple[int, int]:
    """argparse type of ``--size``: 'WIDTHxHEIGHT' in pixels, e.g. 1024x640."""
    width, _, height = text.lower().partition("x")
    try:
        size = (int(width), int(height))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"takes WIDTHxHEIGHT in pixels, e.g. 1024x640 (got {text!r})"
        ) from None
    if size[0] < MIN_WINDOW[0] or size[1] < MIN_WINDOW[1] or max(size) > MAX_WINDOW_SIDE:
        raise argparse.ArgumentTypeError(
            f"must be at least {MIN_WINDOW[0]}x{MIN_WINDOW[1]} and at most {MAX_WINDOW_SIDE} "
            f"a side (got {text!r})"
        )
    return size


def build_parser() -> argparse.ArgumentParser:
    parser = OneSentenceParser(
        prog="trainscope", description="Watch and steer neural-network training live."
    )
    mode = parser.add_argument_group("mode")
    mode.add_argument(
        "--headless", action="store_true", help="train without a window and print progress"
    )
    mode.add_argument(
        "--json", action="store_true", help="end with one JSON line summarising the run"
    )
    mode.add_argument(
        "--screenshot", metavar="PATH", help="window: save a PNG of the window before quitting"
    )
    mode.add_argument(
        "--quit-after",
        type=seconds,
        metavar="SECONDS",
        help="window: quit after this many seconds, but not before the run's first step is shown",
    )
    mode.add_argument(
        "--size",
        type=window_size,
        metavar="WxH",
        help="window: its size in pixels, e.g. 1024x640 or 1920x1080 (default: fits the screen)",
    )
    mode.add_argument(
        "--timing",
        action="store_true",
        help="window: print start-up timings (window shown, first training step) as JSON to stderr",
    )
    mode.add_argument(
        "--list-scenarios", action="store_true", help="list the bundled lessons and exit"
    )
    mode.add_argument(
        "--install-desktop-entry",
        action="store_true",
        help="Linux: add TrainScope (this venv's) to the application menu, then exit",
    )
    mode.add_argument(
        "--present",
        action="store_true",
        help="window: classroom mode for a projector (large type, high contrast, the lesson's panels)",
    )
    mode.add_argument(
        "--scenario",
        metavar="ID",
        help="run a lesson (an id from --list-scenarios or a .toml path); "
        "--seed, --steps, --epochs, --eval-every, --set, --at and --device still apply",
    )
    data = parser.add_argument_group("data")
    data.add_argument(
        "--dataset",
        default="digits",
        choices=DATASET_NAMES,
        help="circle, xor, gaussians, spiral: TensorFlow Playground's sets (circle is a disk "
        "inside a ring); circles: scikit-learn's two concentric rings",
    )
    data.add_argument("--n-samples", type=int, help="rows to generate or keep")
    data.add_argument(
        "--noise",
        type=float,
        default=0.0,
        help="input noise; moons, circles and Playground's sets (0-0.5) use their own",
    )
    data.add_argument(
        "--label-noise", type=float, default=0.0, help="fraction of training labels flipped"
    )
    data.add_argument("--imbalance", type=float, help="minority-class fraction (binary tasks)")
    data.add_argument("--n-classes", type=int, help="classes for blobs / classification")
    data.add_argument("--n-features", type=int, help="features for blobs / classification")
    data.add_argument("--csv", metavar="PATH", help="import a CSV file (implies --dataset csv)")
    data.add_argument("--label-column", help="CSV column holding the label (default: the last)")
    data.add_argument(
        "--data",
        metavar="FILE.npz",
        help="your own arrays: X and y, optional X_val/y_val and X_test/y_test (used as given)",
    )
    model = parser.add_argument_group("model")
    model.add_argument("--model", default="mlp", choices=MODEL_KINDS)
    model.add_argument(
        "--hidden",
        default="128,128",
        help="hidden widths, e.g. 128,128; 'none' = logistic regression",
    )
    model.add_argument("--activation", default="relu", choices=ACTIVATIONS)
    model.add_argument(
        "--model-file",
        metavar="PATH.py:CLASS",
        help="your own nn.Module class, imported from that file (code you chose to run)",
    )
    model.add_argument(
        "--model-args", metavar="JSON", help="keyword arguments for it, e.g. '{\"hidden\": 64}'"
    )
    run = parser.add_argument_group("run")
    length = run.add_mutually_exclusive_group()
    length.add_argument("--steps", type=int, help="optimizer steps to train")
    length.add_argument(
        "--epochs",
        type=float,
        help=f"epochs to train (default: {HEADLESS_EPOCHS:g} headless, {WINDOW_EPOCHS:g} in the window)",
    )
    length.add_argument(
        "--endless",
        action="store_true",
        help="no planned end: train until stopped (benchmarks, soaks)",
    )
    run.add_argument("--eval-every", type=int, default=100, help="steps between evaluations")
    settings_help = "; ".join(f"{name}: {spec.help}" for name, spec in SETTINGS.items())
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"initial setting ({settings_help}); not settings but a new run: "
        f"{', '.join(NEEDS_NEW_RUN)} (their own flags)",
    )
    run.add_argument(
        "--at",
        action="append",
        default=[],
        metavar="STEP:KEY=VALUE",
        help="scripted mid-run change",
    )
    run.add_argument(
        "--pace",
        metavar="STEPS_PER_SECOND",
        help="steps per second training holds, or 'max' (default: max headless; "
        f"{WINDOW_PACE:g} in the window, so a person can watch and act)",
    )
    run.add_argument("--seed", type=int, default=42)
    run.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    run.add_argument(
        "--threads",
        type=int,
        default=1,
        help="CPU threads for torch (default 1: fastest for small models)",
    )
    add_experiment_arguments(parser)
    return parser


def add_experiment_arguments(parser: argparse.ArgumentParser) -> None:
    """``--experiment KIND`` and the flags that size it (``engine.experiment_plan``)."""
    from trainscope.engine.experiment_plan import EXPERIMENT_KINDS, PRUNERS, SAMPLERS

    group = parser.add_argument_group("experiments (many runs of one config)")
    group.add_argument(
        "--experiment",
        choices=(*EXPERIMENT_KINDS, "lr-find"),
        help="kfold: one run per validation fold; seeds: one per seed; learning-curve: one per "
        "training share; bagging: one per bootstrap resample; search: Optuna trials over --space; "
        "lr-find: the learning-rate range test, 1e-7 to 10",
    )
    group.add_argument("--folds", type=int, help="kfold: how many folds (default 5)")
    group.add_argument(
        "--repeat", type=int, help="seeds: this many seeds counting up from --seed (default 5)"
    )
    group.add_argument("--seeds", metavar="S1,S2,...", help="seeds: exactly these seeds")
    group.add_argument(
        "--train-fractions",
        metavar="F1,F2,...",
        help="learning-curve: shares of the training rows (default 0.1,0.25,0.5,1)",
    )
    group.add_argument("--members", type=int, help="bagging: ensemble members (default 5)")
    group.add_argument(
        "--space",
        action="append",
        metavar="NAME=RANGE",
        help="search: one knob per flag, e.g. 'lr=log(1e-4,1e-1)', 'dropout=0..0.5,n=3', "
        "'hidden=[32,64,128]' (n= gives a grid's points)",
    )
    group.add_argument("--trials", type=int, help="search: how many trials (default 20; grid: all)")
    group.add_argument("--sampler", choices=SAMPLERS, help="search: how trials are chosen (tpe)")
    group.add_argument(
        "--pruner",
        choices=PRUNERS,
        help="search: stop bad trials early, median or halving (median)",
    )
    group.add_argument(
        "--study", metavar="NAME", help="search: the Optuna study's name; an existing one resumes"
    )
    group.add_argument(
        "--table-csv", metavar="PATH", help="also write the table of runs to this CSV file"
    )
    group.add_argument(
        "--tensorboard-dir",
        metavar="DIR",
        help="also export every run for TensorBoard, one event folder per run, under DIR (new or empty)",
    )
    group.add_argument(
        "--mlflow-db",
        metavar="PATH",
        help="also export the runs to the MLflow SQLite tracking store at PATH (needs trainscope[mlflow])",
    )
    group.add_argument(
        "--parallel",
        type=int,
        help="runs trained at once (default: every core headless, one fewer beside the window)",
    )
    group.add_argument(
        "--ray",
        metavar="ADDRESS",
        help="run the experiment's runs on Ray: 'auto' starts or joins a local instance, "
        "ADDRESS joins a cluster (needs trainscope[ray]); --parallel defaults to its CPUs",
    )
    group.add_argument(
        "--baselines",
        action="store_true",
        help="also fit logistic regression, a random forest and gradient boosting on the split",
    )


#: Flags that only mean something with ``--experiment``.
EXPERIMENT_ONLY = (
    "folds",
    "repeat",
    "seeds",
    "train_fractions",
    "members",
    "space",
    "trials",
    "sampler",
    "pruner",
    "study",
    "table_csv",
    "tensorboard_dir",
    "mlflow_db",
    "parallel",
    "ray",
    "baselines",
)
#: The experiment flags an experiment lesson takes: how its runs run and where they are written.
LESSON_EXPERIMENT_FLAGS = (
    "table_csv",
    "tensorboard_dir",
    "mlflow_db",
    "parallel",
    "ray",
    "baselines",
)


def plan_from_args(
    args: argparse.Namespace, base: RunConfig, lesson: Scenario | None = None
) -> ExperimentPlan:
    """The experiment the flags (or an experiment ``lesson``) ask for, checked against the
    data before anything starts."""
    from trainscope.engine.experiment_plan import check_plan, plan_experiment

    if args.parallel is not None and args.parallel < 1:
        raise TrainScopeError(f"--parallel must be at least 1 (got {args.parallel})")
    if args.table_csv is not None:
        _check_writable(args.table_csv, "--table-csv")
    check_export_flags(args)
    if args.ray is not None:
        from trainscope.engine.ray_executor import import_ray

        if not args.ray.strip():
            raise TrainScopeError("--ray takes 'auto' or the address of a Ray cluster")
        import_ray()  # missing Ray is one sentence now, not after the runs were planned
    if lesson is not None and lesson.experiment is not None:
        plan = lesson.experiment.plan(base)
    else:
        plan = plan_experiment(
            args.experiment,
            base,
            folds=args.folds,
            seeds=_numbers(args.seeds, "--seeds", int),
            repeat=args.repeat,
            train_fractions=_numbers(args.train_fractions, "--train-fractions", float),
            members=args.members,
            space=args.space,
            trials=args.trials,
            sampler=args.sampler or "tpe",
            pruner=args.pruner or "median",
            study=args.study,
        )
    if plan.search is not None:
        from trainscope.engine.search_runner import import_optuna

        import_optuna()  # missing Optuna is one sentence now, not a traceback later
    return check_plan(plan)


def check_export_flags(args: argparse.Namespace) -> None:
    """The experiment's exports read its recorded runs: refuse what cannot be written now."""
    wanted = [
        flag
        for flag, value in (
            ("--tensorboard-dir", args.tensorboard_dir),
            ("--mlflow-db", args.mlflow_db),
        )
        if value is not None
    ]
    if wanted and getattr(args, "no_record", False):
        raise TrainScopeError(f"{wanted[0]} exports the recorded runs; drop --no-record")
    if args.tensorboard_dir is not None:
        from trainscope.engine.runs.experiment_export import holds_files

        folder = Path(args.tensorboard_dir).expanduser()
        if holds_files(folder):
            raise TrainScopeError(
                f"--tensorboard-dir {args.tensorboard_dir} already holds files; give a new or empty folder"
            )
        if not folder.parent.is_dir():
            raise TrainScopeError(
                f"--tensorboard-dir {args.tensorboard_dir}: the folder {folder.parent} does not exist"
            )
    if args.mlflow_db is not None:
        _check_writable(args.mlflow_db, "--mlflow-db")
        from trainscope.engine.runs.experiment_export import import_mlflow

        import_mlflow()  # missing MLflow is one sentence now, not after every run has trained


def check_experiment_flags(args: argparse.Namespace, lesson: Scenario | None = None) -> None:
    """Refuse an experiment's flag given without ``--experiment`` (it would be ignored). An
    experiment ``lesson`` takes how it runs and where it is written (``LESSON_EXPERIMENT_FLAGS``),
    not its size: the lesson's promise is about the experiment its file describes."""
    if getattr(args, "experiment", None) is not None:
        return
    for dest in EXPERIMENT_ONLY:
        value = getattr(args, dest, None)
        if value in (None, False):
            continue
        flag = "--" + dest.replace("_", "-")
        if lesson is None or lesson.experiment is None:
            raise TrainScopeError(f"{flag} sizes an experiment; add --experiment KIND")
        if dest not in LESSON_EXPERIMENT_FLAGS:
            raise TrainScopeError(
                f"{flag} cannot be combined with the lesson {lesson.id}: it sets its own experiment"
            )


def _check_writable(path: str, flag: str) -> None:
    """A file the run can write at its end: its folder exists and it is not a folder itself."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise TrainScopeError(f"{flag} {path} is a folder; give a file name")
    if not target.parent.is_dir():
        raise TrainScopeError(f"{flag} {path}: the folder {target.parent} does not exist")


def _numbers(text: str | None, flag: str, kind: type) -> list | None:
    if text is None:
        return None
    try:
        values = [kind(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise TrainScopeError(
            f"{flag} takes numbers separated by commas, e.g. {'3,7,42' if kind is int else '0.1,0.5,1'} "
            f"(got {text!r})"
        ) from None
    if not values:
        raise TrainScopeError(f"{flag} needs at least one number")
    if kind is float and not all(math.isfinite(value) for value in values):
        raise TrainScopeError(f"{flag} takes finite numbers (got {text!r})")
    return values


def parse_hidden(text: str) -> tuple[int, ...]:
    """'128,128' → (128, 128); '' / 'none' / '0' → () (logistic regression)."""
    cleaned = text.strip().lower()
    if cleaned in ("", "none", "0"):
        return ()
    try:
        widths = tuple(int(part) for part in cleaned.split(","))
    except ValueError:
        raise TrainScopeError(
            f"--hidden takes whole numbers separated by commas, e.g. 128,128 (got {text!r})"
        ) from None
    return widths


def parse_scheduled(text: str) -> ScheduledChange:
    """'200:lr=0.5' → the change that step 200 is the first to use."""
    step_text, sep, assignment = text.partition(":")
    if not sep:
        raise TrainScopeError(f"--at takes STEP:KEY=VALUE, e.g. 200:lr=0.5 (got {text!r})")
    try:
        step = int(step_text)
    except ValueError:
        raise TrainScopeError(
            f"--at needs a whole step number before the colon (got {step_text!r})"
        ) from None
    return ScheduledChange(step=step, change=parse_assignment(assignment))


def config_from_args(
    args: argparse.Namespace, planned_epochs: float | None = HEADLESS_EPOCHS
) -> RunConfig:
    """Build and validate the run the flags describe; raises ``TrainScopeError`` in one sentence."""
    dataset_name = "csv" if args.csv else args.dataset
    if dataset_name == "csv" and not args.csv:
        raise TrainScopeError("--dataset csv needs --csv PATH")
    dataset = DatasetSpec(
        name=dataset_name,
        n_samples=args.n_samples,
        noise=args.noise,
        label_noise=args.label_noise,
        imbalance=args.imbalance,
        n_classes=args.n_classes,
        n_features=args.n_features,
        csv_path=args.csv,
        label_column=args.label_column,
    )
    config = RunConfig(
        dataset=dataset,
        model=ModelSpec(
            kind=args.model, hidden=parse_hidden(args.hidden), activation=args.activation
        ),
        steps=args.steps,
        epochs=args.epochs if args.epochs is not None or args.steps is not None else planned_epochs,
        eval_every=args.eval_every,
        seed=args.seed,
        device=args.device,
        threads=args.threads,
        pace=pace_from_args(args),
    )
    config = config.with_settings(**dict(map(split_assignment, args.set)))  # checked once, there
    config = replace(config, schedule=tuple(parse_scheduled(text) for text in args.at))
    return config.validate_to_start()


def default_epochs(args: argparse.Namespace) -> float | None:
    """The planned length when none is typed: none with ``--endless``, else the mode's."""
    if getattr(args, "endless", False):
        return None
    return HEADLESS_EPOCHS if getattr(args, "headless", False) else WINDOW_EPOCHS


def pace_from_args(args: argparse.Namespace, scenario: Scenario | None = None) -> float | None:
    """``--pace``, or the mode's default: max headless; in the window the lesson's own pace,
    else ``WINDOW_PACE``."""
    if getattr(args, "pace", None) is not None:
        return validate_pace(args.pace)
    if getattr(args, "headless", False):
        return None
    return scenario.pace if scenario is not None and scenario.pace is not None else WINDOW_PACE


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one sentence to stderr and exit non-zero."""
    print(f"trainscope: error: {message}", file=sys.stderr)
    raise SystemExit(code)


def explicit_flags(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> set[str]:
    """The destinations the user really typed (not filled in from a default).

    argparse only fills in a default where the namespace has no value yet, so parsing again
    into a namespace pre-filled with a marker tells typed values apart, even one that equals
    its default. List-valued flags (--set, --at) add to the scenario and are not tracked.
    """
    marker = object()
    defaults = vars(parser.parse_args([]))
    markers = {dest: marker for dest, value in defaults.items() if not isinstance(value, list)}
    typed_argv = list(sys.argv[1:] if argv is None else argv)
    parsed, _ = parser.parse_known_args(typed_argv, namespace=argparse.Namespace(**markers))
    return {dest for dest in markers if getattr(parsed, dest) is not marker}


def configure_run(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    argv: Sequence[str] | None,
    planned_epochs: float | None = HEADLESS_EPOCHS,
) -> tuple[RunConfig, Scenario | None]:
    """The run to start and, with ``--scenario``, the lesson it comes from."""
    if not args.scenario:
        return config_from_args(args, planned_epochs), None
    from trainscope.engine.scenario import load_scenario

    typed = explicit_flags(parser, argv)
    clashing = [dest for dest in SCENARIO_FIXED if dest in typed]
    if clashing:
        flag = "--" + clashing[0].replace("_", "-")
        raise TrainScopeError(
            f"{flag} cannot be combined with --scenario: the scenario sets the data and the model"
        )
    scenario = load_scenario(args.scenario)
    config = scenario.run_config(seed=args.seed if "seed" in typed else None)
    config = _with_run_flags(config, args, typed, planned_epochs)
    return replace(config, pace=pace_from_args(args, scenario)).validate_to_start(), scenario


def _with_run_flags(
    config: RunConfig, args: argparse.Namespace, typed: set[str], planned_epochs: float | None
) -> RunConfig:
    """A scenario's run with the typed run flags (length, settings, changes, device) applied."""
    if "steps" in typed or "epochs" in typed or getattr(args, "endless", False):
        config = replace(config, steps=args.steps, epochs=args.epochs)
    elif config.steps is None and config.epochs is None:
        config = replace(config, epochs=planned_epochs)
    if "eval_every" in typed:
        config = replace(config, eval_every=args.eval_every)
    if "device" in typed:
        config = replace(config, device=args.device)
    if "threads" in typed:
        config = replace(config, threads=args.threads)
    config = config.with_settings(**dict(map(split_assignment, args.set)))  # checked once, there
    extra = tuple(parse_scheduled(text) for text in args.at)
    return replace(config, schedule=config.schedule + extra)


def format_scenario_list() -> str:
    """One line per bundled lesson: id, difficulty and its one-line summary."""
    from trainscope.engine.scenario import list_scenarios

    infos = list_scenarios()
    width = max((len(info.id) for info in infos), default=0)
    return "\n".join(f"{info.id:<{width}}  {info.difficulty:<12}  {info.summary}" for info in infos)
