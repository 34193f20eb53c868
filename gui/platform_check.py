"""Can Qt open a window here? Asked before ``QApplication`` exists, because Qt cannot be asked.

When Qt's xcb platform plugin cannot load (a system library is missing, or no X display answers),
Qt prints its own message — which names ``libxcb-cursor0`` whatever is really missing — and
aborts the process. So on Linux, with the xcb platform, the window first tries to load the
system libraries the plugin links against (``ldd`` of PySide6's ``libqxcb.so``, PySide6 6.10)
and to connect to the display, and turns a failure into one sentence and exit code 2.
``make run`` asks the same questions through ``tools/check_qt_libs.py`` before starting.

This module imports neither Qt nor torch: it must answer when Qt itself cannot load.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

#: The system libraries Qt's xcb platform needs (its plugin and QtGui), with the Debian/Ubuntu
#: package that holds each. The first ones are the libraries a minimal desktop tends to lack.
XCB_LIBRARIES: dict[str, str] = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
}

#: What to type on Debian or Ubuntu (packages already installed are left as they are).
APT_LINE = "sudo apt-get install " + " ".join(XCB_LIBRARIES.values())

_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)


def uses_xcb(environ: Mapping[str, str] = os.environ, platform: str = sys.platform) -> bool:
    """Whether Qt will try the xcb (X11) platform first: Linux, and no other platform chosen.

    ``QT_QPA_PLATFORM=offscreen`` (tests), ``wayland`` or any other choice skips the check, and
    so does a Wayland session with no choice made, where Qt starts on its Wayland plugin.
    """
    if not platform.startswith("linux"):
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "").strip()
    if chosen:
        first = chosen.split(";")[0].split(":")[0].strip().lower()
        return first == "xcb"
    wayland_session = environ.get("XDG_SESSION_TYPE", "").lower() == "wayland"
    return not (wayland_session and environ.get("WAYLAND_DISPLAY"))


def missing_libraries(
    names: Iterable[str] | None = None, load: Callable[[str], object] = ctypes.CDLL
) -> list[str]:
    """The libraries among ``names`` (``XCB_LIBRARIES``) that ``load`` cannot open (OSError).

    Opening them is cheap (~1 ms all told) and costs nothing later: Qt's xcb plugin loads the
    same libraries a moment afterwards, and QtGui's own are already loaded.
    """
    missing = []
    for name in XCB_LIBRARIES if names is None else names:
        try:
            load(name)
        except OSError:
            missing.append(name)
    return missing


def not_found_in_ldd(output: str) -> list[str]:
    """The libraries ``ldd`` reports as ``=> not found``, each once, in the order it lists them."""
    return list(dict.fromkeys(_NOT_FOUND.findall(output)))


def xcb_plugin_path() -> Path | None:
    """PySide6's ``libqxcb.so``, found without importing Qt (which might not load)."""
    import importlib.util

    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    plugin = Path(spec.submodule_search_locations[0]) / "Qt/plugins/platforms/libqxcb.so"
    return plugin if plugin.exists() else None


def ldd_missing(plugin: Path | None = None, run: Callable[..., str] | None = None) -> list[str]:
    """Every library the xcb plugin links against, directly or not, that cannot be found.

    Thorough but a subprocess (~30 ms): ``make run`` uses it; the window uses the faster
    ``missing_libraries``. Without ``ldd`` or the plugin this finds nothing, and says so by
    returning an empty list.
    """
    import subprocess  # imported here: the window's own check never needs it

    plugin = plugin or xcb_plugin_path()
    if plugin is None:
        return []
    if run is None:
        if shutil.which("ldd") is None:
            return []

        def run(path: str) -> str:
            done = subprocess.run(["ldd", path], capture_output=True, text=True, timeout=30)
            return done.stdout

    try:
        return not_found_in_ldd(run(str(plugin)))
    except (OSError, subprocess.SubprocessError):
        return []


def display_problem(environ: Mapping[str, str] = os.environ) -> str | None:
    """Why no X display answers, or ``None`` when one does (connects once, with libxcb)."""
    display = environ.get("DISPLAY", "")
    if not display:
        return "no X display is set (DISPLAY is empty)"
    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError:
        return None  # reported as a missing library instead
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(display.encode(), None)
    try:
        failed = connection is None or xcb.xcb_connection_has_error(connection) != 0
    finally:
        if connection is not None:
            with contextlib.suppress(Exception):
                xcb.xcb_disconnect(connection)
    return f"the X display {display} does not answer" if failed else None


def missing_libraries_message(missing: Iterable[str], apt: bool | None = None) -> str:
    """One sentence: which libraries are missing and the line that installs them.

    Where apt exists (Debian, Ubuntu) the sentence names the packages and the apt line; where
    it does not, only the libraries, whose package names differ from one distribution to another.
    """
    missing = list(missing)
    apt = shutil.which("apt-get") is not None if apt is None else apt
    if apt:
        named = ", ".join(
            f"{name} ({XCB_LIBRARIES[name]})" if name in XCB_LIBRARIES else name for name in missing
        )
        advice = f"install them with: {APT_LINE}"
    else:
        named = ", ".join(missing)
        advice = "install the packages of your distribution that provide them"
    return (
        f"the window cannot open: Qt's X11 (xcb) platform needs system libraries "
        f"that are missing here — {named}; {advice}"
    )


def window_problem(
    environ: Mapping[str, str] = os.environ,
    platform: str = sys.platform,
    load: Callable[[str], object] = ctypes.CDLL,
    display: Callable[[Mapping[str, str]], str | None] = display_problem,
) -> str | None:
    """The one sentence to print instead of letting Qt abort, or ``None`` when all is well."""
    if not uses_xcb(environ, platform):
        return None
    missing = missing_libraries(load=load)
    if missing:
        return missing_libraries_message(missing)
    problem = display(environ)
    if problem:
        return (
            f"the window cannot open: {problem}; run TrainScope in a desktop session, "
            f"or train without a window with --headless"
        )
    return None
