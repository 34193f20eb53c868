"""Does the worker hold the pace it is asked for? Asked vs measured steps/s, headless and window.

Each pace runs the default run (digits, MLP 128,128) for about ``--seconds`` of training, once
headless (``main.py --headless --pace P --steps N``) and once in the real window offscreen
(``main.py --pace P --endless --quit-after S``); both report the run's own measured steps/s in their JSON
summary (steps over the time their publishes covered). "max" shows what the machine can reach:
a pace above it cannot be held, and the table says so.

Run:  QT_QPA_PLATFORM=offscreen .venv/bin/python bench/pace_bench.py [--paces 10,60,250,max] [--seconds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def measured_rate(arguments: list[str], timeout: float) -> float:
    """Run main.py with ``arguments`` and return the steps/s its JSON summary reports."""
    environment = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    result = subprocess.run(
        [sys.executable, "main.py", *arguments, "--json", "--no-record"],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return float(json.loads(result.stdout.strip().splitlines()[-1])["steps_per_second"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paces", default="10,60,250,max")
    parser.add_argument("--seconds", type=float, default=10.0)
    options = parser.parse_args()
    print(f"{'pace asked':>12} {'headless steps/s':>18} {'window steps/s':>16}")
    for text in options.paces.split(","):
        steps = 3000 if text == "max" else max(20, round(float(text) * options.seconds))
        headless = measured_rate(["--headless", "--pace", text, "--steps", str(steps)], 600)
        window_run = ["--pace", text, "--endless", "--quit-after", str(options.seconds + 2)]
        window = measured_rate(window_run, 600)  # endless: the default run's plan would end it
        print(f"{text:>12} {headless:>18,.1f} {window:>16,.1f}", flush=True)


if __name__ == "__main__":
    main()
