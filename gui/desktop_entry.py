"""``--install-desktop-entry``: put TrainScope in a Linux desktop's application menu.

Writes a freedesktop ``.desktop`` file and the icon (a PNG per size and the SVG) under the
user's data folder (``$XDG_DATA_HOME``, usually ``~/.local/share``) — no root, no installer.
The entry starts this same interpreter with ``-m trainscope``, so it opens the TrainScope that
wrote it (a venv's, say), whether installed from a wheel or from a checkout. Qt-free: it only copies files.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from trainscope.assets import ICON_SIZES, icon_png, icon_svg

DESKTOP_ID = "trainscope"


def data_home() -> Path:
    configured = os.environ.get("XDG_DATA_HOME", "")
    return Path(configured) if configured else Path.home() / ".local" / "share"


def _quoted(argument: str) -> str:
    """An Exec argument, quoted the way the desktop entry specification asks."""
    escaped = "".join("\\" + char if char in '"`$\\' else char for char in argument)
    return f'"{escaped}"'


def desktop_file_text(python: str = sys.executable) -> str:
    command = " ".join(_quoted(part) for part in (python, "-m", "trainscope"))
    return "\n".join(
        [
            "[Desktop Entry]",
            "Type=Application",
            "Version=1.4",
            "Name=TrainScope",
            "GenericName=Training viewer",
            "Comment=Watch and steer neural-network training live",
            f"Exec={command}",
            f"Icon={DESKTOP_ID}",
            "Terminal=false",
            "Categories=Education;ComputerScience;",
            "Keywords=neural network;training;machine learning;",
            "StartupNotify=true",
            "",
        ]
    )


def install_desktop_entry(home: Path | None = None) -> list[Path]:
    """Write the entry and its icons under ``home`` (default: the user's data folder)."""
    home = home or data_home()
    written = []
    for size in ICON_SIZES:
        path = home / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{DESKTOP_ID}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(icon_png(size))
        written.append(path)
    svg = home / "icons" / "hicolor" / "scalable" / "apps" / f"{DESKTOP_ID}.svg"
    svg.parent.mkdir(parents=True, exist_ok=True)
    svg.write_bytes(icon_svg())
    entry = home / "applications" / f"{DESKTOP_ID}.desktop"
    entry.parent.mkdir(parents=True, exist_ok=True)
    entry.write_text(desktop_file_text(), encoding="utf-8")
    return [entry, svg, *written]
