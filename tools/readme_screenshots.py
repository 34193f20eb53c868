"""Make the README's screenshots from the real window, so they stay true as the window changes.

Each shot launches ``main.py`` at 1920x1080 on a virtual X display (``xvfb-run``, Debian's
xvfb; offscreen rendering where there is none), lets it train for a while at its own pace and
saves the window with ``--screenshot`` just before ``--quit-after`` closes it. The shots land
in ``docs/``, which the README shows. Run:  .venv/bin/python tools/readme_screenshots.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
SIZE = "1920x1080"
#: file name -> (flags, seconds to train before the shot)
SHOTS = {
    "window-default-run.png": ([], 25),
    "window-lesson-classroom.png": (["--scenario", "overfitting", "--present"], 30),
}


def command(flags: list[str], seconds: float, out: Path) -> list[str]:
    app = [sys.executable, "main.py", "--size", SIZE, "--no-record", *flags]
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
    for name, (flags, seconds) in SHOTS.items():
        out = DOCS / name
        subprocess.run(command(flags, seconds, out), cwd=REPO, env=environment, check=True)
        print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
