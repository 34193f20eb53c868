"""What seeing inside the model costs training: insights off, boundary on, layer health on, both.

Runs the real ThreadSession (headless, one torch thread, like the engine's default) on the
digits default MLP (64-128-128-10) and on moons (2-128-128-2), with repeats interleaved across
the four modes and medians reported, because shared machines are noisy. Also reports what each
insight costs per collection (its own ``duration_ms``) and how many evaluations got one — the
collector skips an insight until 40x its cost has passed (a 2.5% share), so on slow hardware the share drops
instead of the training speed. ``--with-cnn`` adds the digits CNN, whose 10 000-image grid is
far dearer. The window part (panels shown vs hidden) is measured elsewhere.
Run:  .venv/bin/python bench/insights_bench.py [--steps 3000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from trainscope.engine import commands as cmd  # noqa: E402
from trainscope.engine import events as ev  # noqa: E402
from trainscope.engine.config import DatasetSpec, ModelSpec, RunConfig  # noqa: E402
from trainscope.engine.session import ThreadSession  # noqa: E402
from trainscope.engine.summary import RunSummary  # noqa: E402

MODES: dict[str, cmd.SetInsights] = {
    "off": cmd.SetInsights(),
    "boundary": cmd.SetInsights(boundary=True),
    "layer_health": cmd.SetInsights(layer_health=True),
    "both": cmd.SetInsights(boundary=True, layer_health=True),
}


@dataclass
class Sample:
    """One run: its throughput and what its insights cost."""

    steps_per_second: float
    seconds: float  # wall time the steady rate was measured over
    evaluations: int
    first_boundary_ms: float  # the one drawn when the insight is switched on (full grid)
    boundary_ms: list[float] = field(default_factory=list)
    layer_ms: list[float] = field(default_factory=list)


def run_once(config: RunConfig, insights: cmd.SetInsights) -> Sample:
    """Train ``config`` to its end with ``insights`` switched on from the first step."""
    session = ThreadSession(config)
    summary = RunSummary()
    boundary_ms: list[float] = []
    layer_ms: list[float] = []
    batches: list[ev.StepMetrics] = []
    first_boundary_ms = float("nan")
    session.send(insights)  # queued before start: applied before the first step
    session.start()
    finished = False
    while not finished:
        time.sleep(0.05)
        for event in session.drain():
            summary.update(event)
            if isinstance(event, ev.StepMetrics):
                batches.append(event)
            elif isinstance(event, ev.DecisionBoundary) and event.step == 0:
                first_boundary_ms = event.duration_ms  # drawn when switched on, before training
            elif isinstance(event, ev.DecisionBoundary):
                boundary_ms.append(event.duration_ms)
            elif isinstance(event, ev.LayerHealth):
                layer_ms.append(event.duration_ms)
            elif isinstance(event, ev.Error):
                raise RuntimeError(event.message)
            finished = finished or isinstance(event, ev.Finished)
    session.close()
    rate, seconds = steady_rate(batches)
    return Sample(rate, seconds, len(summary.eval_ms), first_boundary_ms, boundary_ms, layer_ms)


def steady_rate(batches: list[ev.StepMetrics]) -> tuple[float, float]:
    """Steps/s from the first published step batch to the last (evaluations and insights
    included), leaving out the start: building data and model is not training speed."""
    first, last = batches[0], batches[-1]
    seconds = last.published_at - first.published_at
    steps = float(last.steps[-1] - first.steps[-1])
    return (steps / seconds if seconds > 0 else float("nan")), seconds


def cases(with_cnn: bool, steps: int, eval_every: int) -> dict[str, RunConfig]:
    made = {
        "digits MLP": RunConfig(dataset=DatasetSpec(name="digits"), model=ModelSpec()),
        "moons MLP": RunConfig(dataset=DatasetSpec(name="moons"), model=ModelSpec()),
    }
    if with_cnn:
        made["digits CNN"] = RunConfig(
            dataset=DatasetSpec(name="digits"), model=ModelSpec(kind="cnn")
        )
    return {
        name: RunConfig(**{**config.__dict__, "steps": steps, "eval_every": eval_every})
        for name, config in made.items()
    }


def median_or_nan(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(name: str, samples: dict[str, list[Sample]]) -> None:
    off = statistics.median(sample.steps_per_second for sample in samples["off"])
    evaluations = {
        mode: sum(sample.evaluations for sample in runs) for mode, runs in samples.items()
    }
    print(f"\n{name}")
    print(
        f"  {'mode':<13}{'steps/s':>9}{'ratio':>8}{'first ms':>10}"
        f"{'boundary ms':>13}{'of evals':>10}{'layers ms':>11}{'of evals':>10}{'wall %':>8}"
    )
    for mode, runs in samples.items():
        rate = statistics.median(sample.steps_per_second for sample in runs)
        boundary = [ms for sample in runs for ms in sample.boundary_ms]
        layers = [ms for sample in runs for ms in sample.layer_ms]
        total = max(1, evaluations[mode])
        # The insights' own time over the run's wall time: the budget's promise, immune to
        # machine noise that moves steps/s.
        wall_share = statistics.median(
            (sum(sample.boundary_ms) + sum(sample.layer_ms)) / 1000 / sample.seconds
            for sample in runs
        )
        print(
            f"  {mode:<13}{rate:9.1f}{rate / off:8.3f}"
            f"{median_or_nan([sample.first_boundary_ms for sample in runs]):10.1f}"
            f"{median_or_nan(boundary):13.2f}{len(boundary) / total:10.0%}"
            f"{median_or_nan(layers):11.2f}{len(layers) / total:10.0%}{wall_share:8.1%}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--eval-every", type=int, default=100)
    parser.add_argument("--with-cnn", action="store_true", help="also the digits CNN")
    args = parser.parse_args()
    configs = cases(args.with_cnn, args.steps, args.eval_every)
    samples = {name: {mode: [] for mode in MODES} for name in configs}
    for repeat in range(args.repeats):
        for name, config in configs.items():
            for mode, insights in MODES.items():
                seeded = RunConfig(**{**config.__dict__, "seed": repeat})
                samples[name][mode].append(run_once(seeded, insights))
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads in this process, "
        f"{args.steps} steps, eval every {args.eval_every}, {args.repeats} repeats (interleaved), "
        "medians"
    )
    print(
        "ratio: steps/s over insights off; of evals: collections per validation evaluation; "
        "wall %: insight time over wall time"
    )
    for name, by_mode in samples.items():
        report(name, by_mode)


if __name__ == "__main__":
    main()
