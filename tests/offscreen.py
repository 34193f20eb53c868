"""Running a student's script as they would, with the window drawn offscreen."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


def run_offscreen(script: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``python script args`` from ``cwd`` (where nothing of the repository's own is importable),
    its window offscreen; fails the test with the script's last words if it does not exit 0."""
    result = subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=cwd,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result
