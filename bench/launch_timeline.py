"""Launch → window → worker → first step: the start-up timeline of the real window.

Each repeat starts ``main.py --timing`` as a fresh process (offscreen Qt) and reads the moments
it prints: the worker process started, the worker ready (torch and the training loop imported),
the window shown, the first training step on screen; all in seconds since the launch. Pass
several checkouts to compare them side by side (``DIR`` or ``DIR=PYTHON``, the interpreter that
has that checkout installed): their repeats are interleaved, medians shown.
Run:  .venv/bin/python bench/launch_timeline.py [--repeats 7] [CHECKOUT[=PYTHON] ...]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MOMENTS = ("worker_started", "worker_ready", "window_shown", "first_step")


def one_launch(checkout: str) -> dict[str, float]:
    """The moments of one launch, in seconds after it (missing ones are left out)."""
    folder, _, python = checkout.partition("=")
    launched = time.time()
    result = subprocess.run(
        [python or sys.executable, "main.py", "--timing", "--no-record", "--quit-after", "0.5"],
        cwd=folder,
        capture_output=True,
        text=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "TRAINSCOPE_TIMING": "1"},
        timeout=120,
    )
    moments: dict[str, float] = {}
    for line in result.stderr.splitlines():
        if line.startswith("{"):
            moments.update(json.loads(line))
    return {name: moments[name] - launched for name in MOMENTS if name in moments}


def import_torch_seconds() -> float:
    """``import torch`` alone in a fresh interpreter: the floor the first step is measured on."""
    code = "import time; t = time.perf_counter(); import torch; print(time.perf_counter() - t)"
    return float(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("checkouts", nargs="*", default=[str(REPO)])
    args = parser.parse_args()
    rows: dict[str, list[dict[str, float]]] = {checkout: [] for checkout in args.checkouts}
    torch_import = []
    for _ in range(args.repeats):
        torch_import.append(import_torch_seconds())
        for checkout in args.checkouts:
            rows[checkout].append(one_launch(checkout))
    print(f"import torch alone: {statistics.median(torch_import):.2f} s (median of {args.repeats})")
    for checkout, launches in rows.items():
        cells = []
        for name in MOMENTS:
            values = [launch[name] for launch in launches if name in launch]
            cells.append(f"{name} {statistics.median(values):.2f} s" if values else f"{name} -")
        print(f"{checkout}: " + ", ".join(cells))


if __name__ == "__main__":
    main()
