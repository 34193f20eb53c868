"""Run-store costs: training throughput with and without recording, and replay speed at "max".

1. Throughput: a ThreadSession on digits (MLP 128,128) drained every ~50 ms, as the CLI does;
   with the store attached, each drained batch is handed to a RunRecorder. Same process,
   repeats interleaved (off, on, off, on …), medians reported, because shared machines are noisy.
   The rate is the session's own measured steps/s (training time only, as the CLI reports).
2. Replay: a synthetic 100k-step run (batches of 50 steps, a digits-sized validation evaluation
   every 50 steps) is recorded, then replayed at "max" through gui.run_state.RunState; reports
   events/s, wall time, and the cost of a seek to the middle and to the end.

3. Store size of a long run (``--minutes M``): the default window run (RunConfig(), endless)
   trains at full speed in a ThreadSession for M minutes, recorded twice — into a store with
   compaction (the default) and one without — and prints both sizes and bytes/step each minute.
4. Store size of a long run at a chosen speed (``--simulate-minutes M --rate R``): the event
   stream of M minutes at R steps/s (StepMetrics batches of 100 steps, a digits-sized
   validation evaluation every 100 steps, as the session publishes them), written through the
   real recorder, compactor and SQLite as fast as the writer takes it — what an hour at 2,500
   steps/s costs, on a machine too slow to train that fast.

Run:  .venv/bin/python bench/recording_bench.py [--steps 3000 --repeats 3 --replay-steps 100000]
      [--threads 1]
      .venv/bin/python bench/recording_bench.py --minutes 30            # part 3 only
      .venv/bin/python bench/recording_bench.py --simulate-minutes 60 --rate 2500   # part 4 only
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from trainscope.engine import events as ev  # noqa: E402
from trainscope.engine import metrics  # noqa: E402
from trainscope.engine.config import DatasetSpec, ModelSpec, RunConfig  # noqa: E402
from trainscope.engine.runs.compaction import CompactionPolicy  # noqa: E402
from trainscope.engine.runs.recorder import RunRecorder  # noqa: E402
from trainscope.engine.runs.replay import ReplaySession, Seek  # noqa: E402
from trainscope.engine.runs.store import RunStore  # noqa: E402
from trainscope.engine.summary import RunSummary  # noqa: E402
from trainscope.gui.run_state import RunState  # noqa: E402

DRAIN_INTERVAL_S = 0.05
EXACT_SAMPLE_STEPS = 40_000  # before the first compaction pass changes anything


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
    from trainscope.engine.session import ThreadSession

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
    from trainscope.engine.session import ThreadSession

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
    assert played == count
    assert len(state.train) == total_steps
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


# ----- 3 and 4: the size of a long run ------------------------------------------------------
def _mb(size: float) -> str:
    return f"{size / 1e6:7.1f} MB"


def _store_line(label: str, store: RunStore, run_id: int, steps: int) -> str:
    on_disk = store.file_bytes
    stored = store.get_run(run_id).stored_bytes
    per_step = on_disk / steps if steps else 0.0
    return (
        f"  {label:<10}: file {_mb(on_disk)} ({per_step:6.1f} B/step), "
        f"events {_mb(stored)} ({stored / max(steps, 1):6.1f} B/step)"
    )


def long_run(minutes: float, folder: Path, exact_too: bool = True) -> None:
    """Train the default window run at full speed for ``minutes``, recorded as the window would."""
    from trainscope.engine.session import ThreadSession

    config = RunConfig()
    stores = {"compacted": RunStore(folder / "compacted.sqlite")}
    if exact_too:
        stores["exact"] = RunStore(folder / "exact.sqlite")
    recorders = {
        label: RunRecorder(store, config, name="long", compact=label == "compacted")
        for label, store in stores.items()
    }
    session = ThreadSession(config)
    summary = RunSummary()
    print(f"long run: the default run ({config.dataset.name}, MLP {config.model.hidden}), "
          f"endless, {minutes:g} min at full speed, drained every 50 ms")  # fmt: skip
    started = time.monotonic()
    next_report = started + 60.0
    session.start()
    try:
        while time.monotonic() - started < minutes * 60:
            time.sleep(DRAIN_INTERVAL_S)
            events = session.drain()
            for recorder in recorders.values():
                recorder.record(events)
            for event in events:
                summary.update(event)
            if time.monotonic() >= next_report:
                next_report += 60.0
                _report_long(started, summary, stores, recorders)
    finally:
        session.close()
    tail = session.drain()
    for recorder in recorders.values():
        recorder.record(tail)
        recorder.finish()
    for event in tail:
        summary.update(event)
    print("final:")
    _report_long(started, summary, stores, recorders)
    compacted = recorders["compacted"]
    print(
        f"  compaction: {compacted.compactions} passes, {compacted.compaction_seconds:.2f} s of "
        f"writer time in all ({1000 * compacted.compaction_seconds / max(compacted.compactions, 1):.0f} ms a pass)"
    )
    for store in stores.values():
        store.close()


def _report_long(started: float, summary: RunSummary, stores: dict, recorders: dict) -> None:
    minutes = (time.monotonic() - started) / 60
    steps = summary.steps
    print(f"  {minutes:5.1f} min, {steps:,} steps ({steps / max(minutes * 60, 1e-9):,.0f} steps/s)")
    for label, store in stores.items():
        print("  " + _store_line(label, store, recorders[label].run_id, steps))


def simulated_run(minutes: float, rate: float, folder: Path) -> None:
    """Write ``minutes`` at ``rate`` steps/s of events through the real recorder; sizes after."""
    rng = np.random.default_rng(0)
    config = digits_config(10, 0)
    total = int(minutes * 60 * rate)
    store = RunStore(folder / "simulated.sqlite")
    recorder = RunRecorder(store, config, name=f"simulated {minutes:g} min at {rate:g} steps/s")
    pool = [synthetic_evaluation(100 * (i + 1), rng) for i in range(32)]
    recorder.record([synthetic_start(config, total), ev.StateChanged(0, "running")], at=0.0)
    print(f"simulated run: {minutes:g} min at {rate:,.0f} steps/s = {total:,} steps, "
          f"StepMetrics of 100 steps + a digits validation evaluation every 100 steps")  # fmt: skip
    began = time.perf_counter()
    exact_bytes_per_step = None
    frame: list[object] = []
    for first in range(1, total + 1, 100):
        steps = np.arange(first, min(first + 100, total + 1), dtype=np.int64)
        losses = np.exp(-steps / 1e6) + rng.normal(0, 0.05, len(steps))
        frame.append(
            ev.StepMetrics(steps, losses, rng.random(len(steps)), rng.random(len(steps)),
                           np.full(len(steps), 1e-3), float(steps[-1] / 40), rate)
        )  # fmt: skip
        frame.append(dataclasses.replace(pool[(first // 100) % len(pool)], step=int(steps[-1])))
        if len(frame) >= 50:  # about two seconds of a 2,500 steps/s run per hand-over
            recorder.record(frame, at=float(steps[-1] / rate))
            frame = []
            while recorder.queued > 4:  # as fast as the writer takes it, in bounded memory
                time.sleep(0.01)
        if exact_bytes_per_step is None and steps[-1] >= EXACT_SAMPLE_STEPS:
            while recorder.queued:
                time.sleep(0.01)
            exact_bytes_per_step = store.get_run(recorder.run_id).stored_bytes / steps[-1]
        if first % (total // 10 // 100 * 100 or 100) == 1 and first > 1:
            print(f"  {first / rate / 60:5.1f} simulated min: " + _store_line(
                "store", store, recorder.run_id, first - 1).strip())  # fmt: skip
    recorder.record([*frame, ev.Finished(total, "completed")], at=total / rate)
    recorder.finish(timeout=600)
    wall = time.perf_counter() - began
    print(f"final after {wall:.0f} s of wall time:")
    print(_store_line("compacted", store, recorder.run_id, total))
    if exact_bytes_per_step is not None:
        print(f"  without compaction (first {EXACT_SAMPLE_STEPS:,} steps, measured): {exact_bytes_per_step:.1f} "
              f"B/step -> {_mb(exact_bytes_per_step * total)} for the whole run (extrapolated)")  # fmt: skip
    print(f"  compaction: {recorder.compactions} passes, {recorder.compaction_seconds:.1f} s of "
          f"writer time ({1000 * recorder.compaction_seconds / max(recorder.compactions, 1):.0f} ms a pass)")  # fmt: skip
    policy = CompactionPolicy()
    print(f"  policy: {policy.recent_steps:,} recent steps exact, at most {policy.max_buckets:,} buckets, "
          f"{policy.recent_evaluations} + {policy.old_evaluations} evaluations per split")  # fmt: skip
    store.close()


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
    parser.add_argument(
        "--minutes", type=float, help="only part 3: train and record this long, print sizes"
    )
    parser.add_argument("--no-exact", action="store_true", help="part 3 without the exact twin")
    parser.add_argument(
        "--simulate-minutes", type=float, help="only part 4: simulate this long a run"
    )
    parser.add_argument("--rate", type=float, default=2500.0, help="part 4: steps per second")
    parser.add_argument("--keep", metavar="DIR", help="write the stores here and keep them")
    args = parser.parse_args()
    if args.simulate_minutes:
        with tempfile.TemporaryDirectory(prefix="trainscope-bench-") as folder:
            simulated_run(args.simulate_minutes, args.rate, Path(args.keep or folder))
        return
    import torch

    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} intra-op thread(s)")
    if args.minutes:
        with tempfile.TemporaryDirectory(prefix="trainscope-bench-") as folder:
            long_run(args.minutes, Path(args.keep or folder), exact_too=not args.no_exact)
        return
    with tempfile.TemporaryDirectory(prefix="trainscope-bench-") as folder:
        throughput(args.steps, args.repeats, Path(folder))
        recording_cpu(args.steps, Path(folder))
        replay_speed(args.replay_steps, Path(folder))


if __name__ == "__main__":
    main()
