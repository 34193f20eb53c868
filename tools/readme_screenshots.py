"""Make the README's screenshots from the real window, so they stay true as the window changes.

Each shot launches ``main.py`` at 1920x1080 on a virtual X display (``xvfb-run``, Debian's
xvfb; offscreen rendering where there is none), lets it train for a while at its own pace and
saves the window with ``--screenshot`` just before ``--quit-after`` closes it. The run
browser's shot first records a few short runs headless into a scratch run store, then opens
the window on that store with ``--browse``. The shots land in ``docs/``, which the README
shows. Run:  .venv/bin/python tools/readme_screenshots.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
SIZE = "1920x1080"
#: file name -> (flags, seconds to train before the shot)
SHOTS = {
    "window-default-run.png": ([], 25),
    "window-lesson-classroom.png": (["--scenario", "overfitting", "--present"], 30),
    "window-run-browser.png": (["--browse"], 12),
}
#: the runs the browser's shot lists, recorded headless first (name, flags)
RECORDED_RUNS = [
    ("digits, 10 epochs", ["--epochs", "10"]),
    ("moons 16,16", ["--dataset", "moons", "--hidden", "16,16", "--steps", "800"]),
    ("overfitting lesson", ["--scenario", "overfitting"]),
    ("learning rate too high", ["--scenario", "lr-too-high"]),
]


def record_runs(runs_dir: Path, environment: dict[str, str]) -> None:
    for name, flags in RECORDED_RUNS:
        command = [sys.executable, "main.py", "--headless", "--runs-dir", str(runs_dir)]
        command += ["--run-name", name, *flags]
        subprocess.run(command, cwd=REPO, env=environment, check=True, stdout=subprocess.DEVNULL)


def command(flags: list[str], seconds: float, out: Path, runs_dir: Path) -> list[str]:
    app = [sys.executable, "main.py", "--size", SIZE, "--no-record", "--runs-dir", str(runs_dir)]
    app += flags
    app += ["--screenshot", str(out), "--quit-after", str(seconds)]
    if shutil.which("xvfb-run"):
        width, height = SIZE.split("x")
        return ["xvfb-run", "-a", "-s", f"-screen 0 {width}x{height}x24", *app]
    return app


def main() -> int:
    DOCS.mkdir(exist_ok=True)
    environment = dict(os.environ)
    if not shutil.which("xvfb-run"):
        environment["QT_QPA_PLATFORM"] = "offscreen"
    with tempfile.TemporaryDirectory(prefix="trainscope-shots-") as scratch:
        runs_dir = Path(scratch) / "runs"
        environment["XDG_CONFIG_HOME"] = str(Path(scratch) / "config")
        record_runs(runs_dir, environment)
        for name, (flags, seconds) in SHOTS.items():
            out = DOCS / name
            run = command(flags, seconds, out, runs_dir)
            subprocess.run(run, cwd=REPO, env=environment, check=True)
            print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
