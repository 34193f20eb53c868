"""Does every lesson hold on any seed, and by how much? Promises and try-this effects, by seed.

For each scenario and seed this runs what ``tests/engine/test_scenario_files.py`` checks: the
``[expect]`` section on a plain run, and the "try this" carried out the way a learner would
(``engine.lesson_checks``). It prints one row per claim: its bound, the measured value on each
seed (``!`` failed, ``~`` thin), the worst margin and ``z``, the mean margin in standard
deviations across seeds — how many seed-spreads the typical run sits inside its bound (a row
with z < 2 may fail on a seed not tried yet). Runs are sequential on one torch thread, like the
tests, so the numbers match them exactly.
Run:  .venv/bin/python bench/scenario_seeds.py [--seeds 1,2,42] [--scenarios overfitting,slices]
      [--part promise|try|both] [--json results.json] [--directory variants/]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from trainscope.engine.lesson_checks import Check, run_promise, try_this_checks  # noqa: E402
from trainscope.engine.scenario import list_scenarios, load_scenario  # noqa: E402

DEFAULT_SEEDS = "1,2,3,4,5,6,7,8,9,10,42"
THIN_Z = 2.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default=DEFAULT_SEEDS, help=f"comma-separated ({DEFAULT_SEEDS})")
    parser.add_argument("--scenarios", default="", help="comma-separated ids (default: all)")
    parser.add_argument("--part", choices=("promise", "try", "both"), default="both")
    parser.add_argument("--json", type=Path, help="also write every check to this file")
    parser.add_argument("--directory", type=Path, help="scenario files to try (default: bundled)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    seeds = [int(seed) for seed in args.seeds.split(",")]
    ids = (
        [s for s in args.scenarios.split(",") if s]
        or [
            info.id  # experiment lessons: TRAINSCOPE_SCENARIO_SEEDS=... tests/engine/test_experiment_lessons.py
            for info in list_scenarios(args.directory)
            if info.experiment is None
        ]
    )
    parts = {"promise": ("promise",), "try": ("try",), "both": ("promise", "try")}[args.part]

    records: list[dict] = []
    started = time.perf_counter()
    for scenario_id in ids:
        scenario = load_scenario(scenario_id, args.directory)
        rows: dict[tuple[str, str], dict[int, Check]] = {}
        timings: dict[str, float] = {}
        for part in parts:
            run = run_promise if part == "promise" else try_this_checks
            began = time.perf_counter()
            for seed in seeds:
                for check in _checks(run, scenario, seed):
                    rows.setdefault((part, _label(check)), {})[seed] = check
                    records.append(
                        {"scenario": scenario_id, "part": part, "seed": seed, **_record(check)}
                    )
            timings[part] = time.perf_counter() - began
        _print_scenario(scenario_id, seeds, rows, timings)
    elapsed = time.perf_counter() - started

    failed = [r for r in records if not r["held"]]
    print(
        f"\n{len(records) - len(failed)} of {len(records)} checks held "
        f"({len(ids)} scenarios × {len(seeds)} seeds) in {elapsed:.0f} s"
    )
    for record in failed:
        print(
            f"  FAILED {record['scenario']} seed {record['seed']} [{record['part']}] "
            f"{record['name']}: {record['text']}"
        )
    if args.json:
        args.json.write_text(json.dumps(records, indent=1))
    return 1 if failed else 0


def _checks(run, scenario, seed: int) -> list[Check]:
    try:
        return run(scenario, seed)
    except Exception as error:  # one broken run must not hide the rest of the table
        detail = f"{type(error).__name__}: {error}".splitlines()[0]
        traceback.print_exc(limit=3)
        return [Check("the run itself", False, detail=detail)]


def _label(check: Check) -> str:
    return f"{check.name} {check.op} {check.bound:.4g}" if check.op else check.name


def _record(check: Check) -> dict:
    return {
        "name": _label(check),
        "held": check.held,
        "value": check.value,
        "margin": check.margin,
        "text": check.describe(),
    }


def _cell(check: Check | None, thin: bool) -> str:
    if check is None:
        return "-"
    if check.value is None:
        return "ok" if check.held else "FAIL!"
    mark = "!" if not check.held else ("~" if thin else "")
    return f"{check.value:.3g}{mark}"


def _print_scenario(
    scenario_id: str,
    seeds: list[int],
    rows: dict[tuple[str, str], dict[int, Check]],
    timings: dict[str, float],
) -> None:
    took = ", ".join(f"{part} {seconds:.0f} s" for part, seconds in timings.items())
    print(f"\n== {scenario_id}  ({took})")
    width = max(len(label) for _, label in rows) + 10
    header = f"{'':{width}}" + "".join(f"{seed:>9}" for seed in seeds) + "   worst margin      z"
    print(header)
    for (part, label), by_seed in rows.items():
        margins = [c.margin for c in by_seed.values() if c.margin is not None]
        z = _z(margins)
        thin = z < THIN_Z
        cells = "".join(f"{_cell(by_seed.get(seed), thin):>9}" for seed in seeds)
        worst = f"{min(margins):+.3g}" if margins else "   "
        shown_z = "" if not margins else ("inf" if math.isinf(z) else f"{z:.1f}")
        print(f"{part:7} {label:{width - 8}}" + cells + f"   {worst:>12} {shown_z:>6}")


def _z(margins: list[float]) -> float:
    """Mean margin over its spread across seeds (inf when every seed measures the same)."""
    finite = [m for m in margins if math.isfinite(m)]
    if not finite:
        return math.inf
    if len(finite) < 2 or statistics.stdev(finite) == 0:
        return math.inf if min(finite) >= 0 else -math.inf
    return statistics.mean(finite) / statistics.stdev(finite)


if __name__ == "__main__":
    sys.exit(main())
