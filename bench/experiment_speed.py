"""Many runs at once, measured side by side in one run (medians over interleaved repeats).

Reports, at ``--pace max`` for the same model and data (digits, MLP 64-128-128-10, batch 32):
- one run's training steps/s through the experiment runner (a worker process), headless;
- the runner's ``--parallel 2`` over two runs, headless: their summed steps/s and the ratio to one;
- the same two runs with the Experiments view live (offscreen Qt, its own poll timer);
- the view's frame cost with 8 runs overlaid (table + chart + a synchronous paint of the whole
  view), median and 95th percentile of its wall time over the frames that redrew, and the
  median of the GUI thread's own CPU time in them (the wall also holds the time the two
  training workers kept the GUI off a core).

Steps/s is the steady throughput: all runs' steps between their first and last training events,
over the time from the first run's first event to the last run's last, as published in the
workers; the workers' start-up (torch's import, the data) is reported apart, as the wall.

Run:  QT_QPA_PLATFORM=offscreen .venv/bin/python bench/experiment_speed.py [--steps 4000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from trainscope.engine import events as ev  # noqa: E402
from trainscope.engine.config import DatasetSpec, ModelSpec, RunConfig  # noqa: E402
from trainscope.engine.experiment_plan import ExperimentPlan, plan_experiment  # noqa: E402
from trainscope.engine.experiment_runner import ExperimentRunner  # noqa: E402
from trainscope.engine.worker import ProcessSession  # noqa: E402


def bench_config(steps: int) -> RunConfig:
    return RunConfig(
        dataset=DatasetSpec(name="digits"),
        model=ModelSpec(hidden=(128, 128)),
        eval_every=100,
        seed=0,
        steps=steps,
        epochs=None,
        pace=None,
    )


@dataclass
class Rates:
    """What one experiment's runs did: summed steady steps/s, wall seconds, frames (ms)."""

    steps_per_s: float
    wall_s: float
    frames_ms: list[float]
    frames_cpu_ms: list[float]


class StepClock:
    """Each run's first and last training event: (time it left its training thread, step).

    The publish time, not the arrival: the parent drains in batches, and a batch that arrives
    late would shorten the measured interval and inflate the rate (seen: 2.3x one run on 2 cores).
    """

    def __init__(self) -> None:
        self.first: dict[int, tuple[float, int]] = {}
        self.last: dict[int, tuple[float, int]] = {}

    def see(self, batches: list[tuple[int, list[ev.Event]]]) -> None:
        for index, events in batches:
            for event in events:
                if isinstance(event, ev.StepMetrics) and len(event.steps):
                    self.first.setdefault(index, (event.published_at, int(event.steps[0])))
                    self.last[index] = (event.published_at, int(event.steps[-1]))

    def summed_rate(self) -> float:
        """Every run's steps over the time from the first run's first step to the last run's
        last: the throughput. (Summing each run's own rate counted two runs that hardly
        overlapped as twice one: 2.25x one run on 2 cores.)"""
        if not self.first:
            return 0.0
        steps = sum(self.last[index][1] - first for index, (_, first) in self.first.items())
        began = min(time for time, _ in self.first.values())
        ended = max(time for time, _ in self.last.values())
        return steps / (ended - began) if ended > began else 0.0


def seed_plan(runs: int, steps: int) -> ExperimentPlan:
    """``runs`` seeds of the bench config (one run: the first of two; a plan needs a spread)."""
    plan = plan_experiment("seeds", bench_config(steps), repeat=max(runs, 2))
    return replace(plan, runs=plan.runs[:runs])


def headless(runs: int, parallel: int, steps: int) -> Rates:
    plan = seed_plan(runs, steps)
    runner = ExperimentRunner(plan, parallel, ProcessSession)
    clock, start = StepClock(), time.perf_counter()
    try:
        while not runner.done:
            clock.see(runner.poll())
            time.sleep(0.02)
    finally:
        runner.close()
    return Rates(clock.summed_rate(), time.perf_counter() - start, [], [])


def with_view(runs: int, parallel: int, steps: int) -> Rates:
    """The runs inside the Experiments view, its own timer polling; each redraw's frame timed."""
    from PySide6.QtWidgets import QApplication

    from trainscope.gui.experiment_window import ExperimentWindow
    from trainscope.gui.theme import Theme

    app = QApplication.instance() or QApplication([])
    plan = seed_plan(runs, steps)
    view = ExperimentWindow(plan, parallel, ProcessSession, Theme.for_scale(), None)
    view.resize(1024, 640)
    view.show()
    clock, frames, frames_cpu = StepClock(), [], []
    poll, redraw = view.runner.poll, view.redraw

    def timed_poll() -> list[tuple[int, list[ev.Event]]]:
        batches = poll()
        clock.see(batches)
        return batches

    def timed_redraw() -> None:
        began, began_cpu = time.perf_counter(), time.thread_time()
        redraw()
        view.repaint()  # the paint, synchronously, so the frame's whole cost is counted
        frames.append((time.perf_counter() - began) * 1000)
        frames_cpu.append((time.thread_time() - began_cpu) * 1000)

    view.runner.poll = timed_poll  # type: ignore[method-assign]
    view.redraw = timed_redraw  # type: ignore[method-assign]
    start = time.perf_counter()
    try:
        while not view.runner.done:
            app.processEvents()
            time.sleep(0.005)
    finally:
        view.shutdown()
        view.close()
    return Rates(clock.summed_rate(), time.perf_counter() - start, frames, frames_cpu)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4000, help="steps per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    one, two, two_view, eight = [], [], [], []
    for repeat in range(args.repeats):  # interleaved, so a busy moment hits every figure alike
        one.append(headless(1, 1, args.steps))
        two.append(headless(2, 2, args.steps))
        two_view.append(with_view(2, 2, args.steps))
        eight.append(with_view(8, 2, args.steps // 4))
        print(
            f"repeat {repeat + 1}: one {one[-1].steps_per_s:,.0f}, two {two[-1].steps_per_s:,.0f}, "
            f"two with the view {two_view[-1].steps_per_s:,.0f} steps/s",
            file=sys.stderr,
            flush=True,
        )
    median = statistics.median
    one_rate = median(r.steps_per_s for r in one)
    frames = [frame for rates in eight for frame in rates.frames_ms]
    frames_cpu = [frame for rates in eight for frame in rates.frames_cpu_ms]
    figures = {
        "steps_per_run": args.steps,
        "repeats": args.repeats,
        "cores": os.cpu_count(),
        "one_run_steps_per_s": round(one_rate),
        "one_run_wall_s": round(median(r.wall_s for r in one), 2),
        "two_parallel_steps_per_s": round(median(r.steps_per_s for r in two)),
        "two_parallel_wall_s": round(median(r.wall_s for r in two), 2),
        "ratio_two_parallel_headless": round(median(r.steps_per_s for r in two) / one_rate, 3),
        "two_parallel_with_view_steps_per_s": round(median(r.steps_per_s for r in two_view)),
        "ratio_two_parallel_with_view": round(
            median(r.steps_per_s for r in two_view) / one_rate, 3
        ),
        "eight_overlaid_frames": len(frames),
        "eight_overlaid_frame_median_ms": round(median(frames), 2) if frames else None,
        "eight_overlaid_frame_p95_ms": round(percentile(frames, 0.95), 2) if frames else None,
        "eight_overlaid_frame_cpu_median_ms": round(median(frames_cpu), 2) if frames else None,
    }
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:38} {value}")


if __name__ == "__main__":
    main()
