"""Do the hints keep quiet on healthy runs? Every bundled dataset, long, with the app's defaults.

A hint that fires on a run with nothing wrong teaches the wrong lesson, and the rare ones only
show up late: a healthy Adam 1e-3 run once got "the loss is blowing up" from a single batch at
step 53,200. ``tests/engine/test_hint_false_alarms.py`` checks a short run of every dataset in
CI; this is the long version: every dataset of ``engine.data.DATASET_NAMES`` (but "csv", which
needs a file) with the default model and settings (MLP 128-128, Adam at 1e-3, batch 32), for
each seed, for 50,000 steps at max pace, one torch thread, sequentially. It prints one row per
run: the hints that fired (kind@step), the batches whose loss went over the blow-up line
(``EXPLOSION_FACTOR`` x ln K) and the most of them in any ``EXPLOSION_WINDOW`` steps (the hint
needs ``EXPLOSION_SPIKES``), the validation loss's rise above its minimum, the final validation
accuracy. Not every hint here is a false alarm: a small dataset trained this long does overfit,
and the row's numbers say by how much; read them before changing a threshold.
Run:  .venv/bin/python bench/hint_false_alarms.py [--steps 50000] [--seeds 1,2,3]
      [--datasets moons,digits]   (about an hour on one core for the whole sweep)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from typing import TYPE_CHECKING

import numpy as np  # noqa: E402
import torch  # noqa: E402

from trainscope.engine.config import DatasetSpec, RunConfig  # noqa: E402
from trainscope.engine.data import DATASET_NAMES  # noqa: E402
from trainscope.engine.diagnosis import EXPLOSION_FACTOR, EXPLOSION_SPIKES, EXPLOSION_WINDOW  # noqa: E402
from trainscope.engine.lesson_run import finished_run  # noqa: E402

if TYPE_CHECKING:
    from trainscope.engine.run_fold import RunFold

BUNDLED = tuple(name for name in DATASET_NAMES if name != "csv")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50_000)
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated (1,2,3)")
    parser.add_argument("--datasets", default="", help="comma-separated (default: every one)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    seeds = [int(seed) for seed in args.seeds.split(",")]
    names = [name for name in args.datasets.split(",") if name] or list(BUNDLED)

    print(
        f"spikes: batches over {EXPLOSION_FACTOR:g} x ln K; in {EXPLOSION_WINDOW}: the most of "
        f"them in {EXPLOSION_WINDOW} steps (a blow-up takes {EXPLOSION_SPIKES}); val rise: final "
        "validation loss minus its minimum"
    )
    print(
        f"{'dataset':15} {'seed':>4} {'steps':>7} {'spikes':>6} {'in ' + str(EXPLOSION_WINDOW):>6} "
        f"{'val rise':>9} {'val acc':>7} {'time':>6}  hints"
    )
    started, quiet = time.perf_counter(), 0
    for name in names:
        for seed in seeds:
            began = time.perf_counter()
            # The defaults, evaluation every 100 steps included: hints confirm over evaluations.
            config = RunConfig(dataset=DatasetSpec(name=name), steps=args.steps, seed=seed)
            history = finished_run(config)
            quiet += not history.hints
            print(_row(name, seed, history, time.perf_counter() - began), flush=True)
    runs = len(names) * len(seeds)
    elapsed = time.perf_counter() - started
    print(f"\n{quiet} of {runs} runs without a hint, {args.steps} steps each, in {elapsed:.0f} s")
    return 0


def _row(name: str, seed: int, history: RunFold, seconds: float) -> str:
    losses = np.asarray(history.losses)
    steps = np.asarray(history.steps)
    over = steps[~np.isfinite(losses) | (losses > EXPLOSION_FACTOR * history.chance_loss)]
    validation = history.evaluations("validation")
    final = validation[-1]
    rise = final.loss - min(point.loss for point in validation)
    hints = ", ".join(f"{hint.kind}@{hint.step}" for hint in history.hints) or "-"
    return (
        f"{name:15} {seed:>4} {int(steps[-1]):>7} {over.size:>6} {_most_in_window(over):>6} "
        f"{rise:>+9.3f} {final.accuracy:>7.3f} {seconds:>5.0f}s  {hints}"
    )


def _most_in_window(spike_steps: np.ndarray) -> int:
    """The most spikes inside any ``EXPLOSION_WINDOW`` consecutive steps (the hint needs
    ``EXPLOSION_SPIKES``): how close a run came to being called a blow-up."""
    if spike_steps.size == 0:
        return 0
    ends = np.searchsorted(spike_steps, spike_steps + EXPLOSION_WINDOW, side="left")
    return int(np.max(ends - np.arange(spike_steps.size)))


if __name__ == "__main__":
    sys.exit(main())
