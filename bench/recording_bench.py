"""Run-store costs: training throughput with and without recording, and replay speed at "max".

1. Throughput: a ThreadSession on digits (MLP 128,128) drained every ~50 ms, as the CLI does;
   with the store attached, each drained batch is handed to a RunRecorder. Same process,
   repeats interleaved (off, on, off, on …), medians reported, because shared machines are noisy.
   The rate is the session's own measured steps/s (training time only, as the CLI reports).
2. Replay: a synthetic 100k-step run (batches of 50 steps, a digits-sized validation evaluation
   every 50 steps) is recorded, then replayed at "max" through gui.run_state.RunState; reports
   events/s, wall time, and the cost of a seek to the middle and to the end.

Run:  .venv/bin/python bench/recording_bench.py [--steps 3000 --repeats 3 --replay-steps 100000]
      [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from engine import events as ev  # noqa: E402
from engine import metrics  # noqa: E402
from engine.config import DatasetSpec, ModelSpec, RunConfig  # noqa: E402
from engine.runs.recorder import RunRecorder  # noqa: E402
from engine.runs.replay import ReplaySession, Seek  # noqa: E402
from engine.runs.store import RunStore  # noqa: E402
from engine.summary import RunSummary  # noqa: E402
from gui.run_state import RunState  # noqa: E402

DRAIN_INTERVAL_S = 0.05


def digits_config(steps: int, seed: int) -> RunConfig:
    return RunConfig(
        dataset=DatasetSpec(name="digits"),
        model=ModelSpec(hidden=(128, 128)),
        steps=steps,
        eval_every=50,
        seed=seed,
    )


def training_rate(steps: int, seed: int, store: RunStore | None) -> tuple[float, float]:
    """(session steps/s, wall steps/s) of one run, recorded into ``store`` when given."""
    from engine.session import ThreadSession

    config = digits_config(steps, seed)
    recorder = RunRecorder(store, config, name=f"bench {seed}") if store else None
    session = ThreadSession(config)
    summary = RunSummary()
    started = time.perf_counter()
    session.start()
    finished = False
    while not finished:
        time.sleep(DRAIN_INTERVAL_S)
        events = session.drain()
        if recorder is not None:
            recorder.record(events)
        for event in events:
            summary.update(event)
            finished = finished or isinstance(event, ev.Finished | ev.Error)
    wall = time.perf_counter() - started
    session.close()
    if recorder is not None:
        recorder.record(session.drain())
        recorder.finish()
    return summary.steps_per_second, steps / wall


def throughput(steps: int, repeats: int, folder: Path) -> None:
    rates: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    with RunStore(folder / "throughput.sqlite") as store:
        training_rate(300, 99, None)  # warm-up: imports, allocator, data caches
        for repeat in range(repeats):
            order = (False, True) if repeat % 2 == 0 else (True, False)
            for recording in order:
                rates[recording].append(training_rate(steps, repeat, store if recording else None))
    median = statistics.median
    off = median(rate for rate, _ in rates[False])
    on = median(rate for rate, _ in rates[True])
    off_wall = median(wall for _, wall in rates[False])
    on_wall = median(wall for _, wall in rates[True])
    print(
        f"training: digits MLP 128,128, {steps} steps x {repeats} repeats (interleaved), drained every 50 ms"
    )
    print(
        f"  without store : {off:8.1f} steps/s (session)   {off_wall:8.1f} steps/s (wall, incl. setup)"
    )
    print(
        f"  with store    : {on:8.1f} steps/s (session)   {on_wall:8.1f} steps/s (wall, incl. setup)"
    )
    print(f"  ratio with/without: {on / off:6.3f} (session)   {on_wall / off_wall:6.3f} (wall)")


def recording_cpu(steps: int, folder: Path) -> None:
    """CPU time the recorder spends on one run's events, measured alone (immune to load)."""
    from engine.session import ThreadSession

    session = ThreadSession(digits_config(steps, 0))
    batches: list[list] = []
    summary = RunSummary()
    session.start()
    while not any(isinstance(event, ev.Finished) for batch in batches[-1:] for event in batch):
        time.sleep(DRAIN_INTERVAL_S)
        batches.append(session.drain())
        for event in batches[-1]:
            summary.update(event)
    session.close()
    with RunStore(folder / "cpu.sqlite") as store:
        cpu = time.process_time()
        recorder = RunRecorder(store, digits_config(steps, 0))
        for batch in batches:
            recorder.record(batch)
        recorder.finish()
        cpu = time.process_time() - cpu
    training_s = summary.timed_seconds
    count = sum(len(batch) for batch in batches)
    print(
        f"  recorder CPU  : {cpu * 1000:6.1f} ms for one {steps}-step run ({count} events), "
        f"{100 * cpu / training_s:.1f}% of its {training_s:.2f} s of training"
    )


def synthetic_evaluation(step: int, rng: np.random.Generator) -> ev.Evaluation:
    """A validation evaluation the size of digits' (270 rows x 10 classes)."""
    labels = rng.integers(0, 10, 270).astype(np.int64)
    probabilities = rng.dirichlet(np.ones(10) * 0.3, size=270).astype(np.float32)
    confusion = metrics.confusion_matrix(labels, probabilities.argmax(1), 10)
    precision, recall, f1 = metrics.precision_recall_f1(confusion)
    return ev.Evaluation(
        step=step,
        epoch=step / 40,
        split="validation",
        loss=float(rng.random()),
        accuracy=float(rng.random()),
        confusion=confusion,
        precision=precision,
        recall=recall,
        f1=f1,
        calibration=metrics.calibration_from_probabilities(probabilities, labels),
        roc_auc=None,
        probabilities=probabilities,
        labels=labels,
        train_loss=0.1,
        train_accuracy=0.9,
        zero_rule_accuracy=0.1,
        random_accuracy=0.1,
        duration_ms=3.0,
    )


def synthetic_start(config: RunConfig, total_steps: int) -> ev.RunStarted:
    return ev.RunStarted(
        "digits",
        tuple(str(d) for d in range(10)),
        tuple(f"pixel_{i}" for i in range(64)),
        1257,
        270,
        270,
        "MLP 64-128-128-10",
        26_122,
        "cpu",
        dict(config.settings),
        0,
        total_steps,
        40,
        float(np.log(10)),
    )


def synthesize_run(store: RunStore, total_steps: int, batch: int = 50) -> tuple[int, int, float]:
    """Record a ``total_steps`` run: (run id, events, seconds the recorder needed)."""
    rng = np.random.default_rng(0)
    config = digits_config(total_steps, 0)
    recorder = RunRecorder(store, config, name=f"synthetic {total_steps} steps")
    start = synthetic_start(config, total_steps)
    recorder.record([start, ev.StateChanged(0, "running")], at=0.0)
    count = 2
    started = time.perf_counter()
    for first in range(1, total_steps + 1, batch):
        steps = np.arange(first, min(first + batch, total_steps + 1), dtype=np.int64)
        losses = np.exp(-steps / 20_000) + rng.normal(0, 0.05, len(steps))
        metrics_event = ev.StepMetrics(
            steps,
            losses,
            rng.random(len(steps)),
            rng.random(len(steps)),
            np.full(len(steps), 1e-3),
            float(steps[-1] / 40),
            1500.0,
        )
        recorder.record(
            [metrics_event, synthetic_evaluation(int(steps[-1]), rng)], at=steps[-1] / 1500
        )
        count += 2
    recorder.record([ev.Finished(total_steps, "completed")], at=total_steps / 1500)
    recorder.finish()
    return recorder.run_id, count + 1, time.perf_counter() - started


def replay_speed(total_steps: int, folder: Path) -> None:
    path = folder / "replay.sqlite"
    with RunStore(path) as store:
        run_id, count, record_s = synthesize_run(store, total_steps)
        replay = ReplaySession(store, run_id, speed="max")
        state = RunState()
        started = time.perf_counter()
        replay.start()
        played = 0
        while not replay.at_end:
            events = replay.drain()
            played += len(events)
            state.apply(events)
        wall = time.perf_counter() - started
        seeks = {}
        for target in (total_steps // 2, total_steps):
            fresh = RunState()
            began = time.perf_counter()
            replay.send(Seek(target))
            fresh.apply(replay.drain())
            seeks[target] = time.perf_counter() - began
        replay.close()
    assert played == count and len(state.train) == total_steps
    size_mb = path.stat().st_size / 1e6  # the WAL is folded back in once the store is closed
    print(
        f"replay: synthetic {total_steps:,}-step run, {count:,} events, database {size_mb:.1f} MB"
    )
    print(
        f"  synthesize+record: {record_s:6.2f} s ({count / record_s:,.0f} events/s, incl. making the metrics)"
    )
    print(
        f"  replay at max  : {wall:6.2f} s wall, {played / wall:,.0f} events/s, {total_steps / wall:,.0f} steps/s (into RunState)"
    )
    for target, seconds in seeks.items():
        print(f"  seek to {target:>7,} : {seconds:6.2f} s (rebuild the panels from the start)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--replay-steps", type=int, default=100_000)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch intra-op threads (default 1: on a busy 2-core machine two OpenMP threads "
        "stall each other and swamp the difference being measured)",
    )
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} intra-op thread(s)")
    with tempfile.TemporaryDirectory(prefix="trainscope-bench-") as folder:
        throughput(args.steps, args.repeats, Path(folder))
        recording_cpu(args.steps, Path(folder))
        replay_speed(args.replay_steps, Path(folder))


if __name__ == "__main__":
    main()
