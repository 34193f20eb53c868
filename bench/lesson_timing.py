"""Lesson timing with a clock: at each lesson's own pace, when does its moment come, and how long
does the student then have to act before the run ends?

Each scenario runs at the pace its file declares (the window's pace for it), in its own process
so the lessons do not share an interpreter; a paced run mostly waits, so they all run at once.
The clock starts when the run announces itself (RunStarted: the panels' first frame). The
*moment* is the first validation evaluation at which every promise of the lesson holds
(``engine.lesson_moment``) — what the lesson panel announces as "look now". The time to act runs
from the moment to the planned end; a run that diverges pauses itself, so its time to act lasts
until the student does something. The rules (CURRICULUM "Pace"): moment ≥ ~10 s, act ≥ 15 s.

Run:  .venv/bin/python bench/lesson_timing.py [--scenarios overfitting,lr-too-high] [--seed 42]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trainscope.engine import events as ev  # noqa: E402
from trainscope.engine.lesson_moment import ACT_AT_LEAST_S, MOMENT_AT_LEAST_S, first_moment  # noqa: E402
from trainscope.engine.lesson_run import collect_until  # noqa: E402
from trainscope.engine.scenario import list_scenarios, load_scenario  # noqa: E402
from trainscope.engine.session import ThreadSession  # noqa: E402


def time_lesson(scenario_id: str, seed: int) -> dict:
    """Run one lesson at its pace to its planned end (or its divergence); time what arrives."""
    scenario = load_scenario(scenario_id)
    config = scenario.run_config(seed=seed)
    config = replace(config, pace=scenario.pace)
    session = ThreadSession(config)
    events: list[ev.Event] = []
    arrived: dict[int, float] = {}  # index into events -> seconds since RunStarted
    started_at: float | None = None

    def ended(collected: list[ev.Event]) -> bool:
        nonlocal started_at
        now = time.monotonic()
        for index in range(len(arrived), len(collected)):
            if started_at is None and isinstance(collected[index], ev.RunStarted):
                started_at = now
            arrived[index] = now - started_at if started_at is not None else 0.0
        return any(
            isinstance(e, ev.Diverged) or (isinstance(e, ev.Finished) and e.reason == "completed")
            for e in collected
        )

    session.start()
    try:
        collect_until(session, events, ended)
    finally:
        session.close()
    moment_step = first_moment(scenario, events)
    moment_s = next(
        (
            arrived[index]
            for index, e in enumerate(events)
            if isinstance(e, ev.Evaluation) and e.split == "validation" and e.step == moment_step
        ),
        None,
    )
    end = events[-1] if events else None
    diverged = any(isinstance(e, ev.Diverged) for e in events)
    return {
        "id": scenario_id,
        "pace": scenario.pace,
        "moment_step": moment_step,
        "moment_s": moment_s,
        "end_step": end.step if end is not None else None,
        "end_s": arrived[len(events) - 1] if events else None,
        "pauses_itself": diverged,
    }


def row(result: dict) -> str:
    moment, end = result["moment_s"], result["end_s"]
    if moment is None:
        return f"{result['id']:<20} {result['pace']:>6g} {'never':>10} {'':>8} {'':>9}  FAIL: no moment"
    act = "until acted" if result["pauses_itself"] else f"{end - moment:.1f}"
    verdict = []
    if moment < MOMENT_AT_LEAST_S:
        verdict.append(f"moment before {MOMENT_AT_LEAST_S:g} s")
    if not result["pauses_itself"] and end - moment < ACT_AT_LEAST_S:
        verdict.append(f"less than {ACT_AT_LEAST_S:g} s to act")
    return (
        f"{result['id']:<20} {result['pace']:>6g} {moment:>10.1f} {result['moment_step']:>8}"
        f" {act:>11}  {'; '.join(verdict) or 'ok'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", help="comma-separated ids (default: every lesson)")
    parser.add_argument("--seed", type=int, default=42)
    options = parser.parse_args()
    # An experiment lesson has no single run's moment (tests/engine/test_experiment_lessons.py)
    every = [info.id for info in list_scenarios() if info.experiment is None]
    ids = options.scenarios.split(",") if options.scenarios else every
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=len(ids), mp_context=context) as pool:
        results = list(pool.map(time_lesson, ids, [options.seed] * len(ids)))
    print(f"seed {options.seed}; seconds from the run's start (RunStarted)")
    print(f"{'lesson':<20} {'pace':>6} {'moment s':>10} {'at step':>8} {'act for s':>11}  verdict")
    for result in results:
        print(row(result), flush=True)


if __name__ == "__main__":
    main()
