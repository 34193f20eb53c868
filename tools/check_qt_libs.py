"""``make run`` asks this first: are the system libraries Qt's window needs installed?

On Linux with the xcb (X11) platform, it lists what PySide6's ``libqxcb.so`` cannot find
(``ldd``, so nothing the plugin links against is overlooked, plus the libraries TrainScope
knows by name), prints the line that installs them and exits 1 so ``make`` stops before Qt
aborts with its own message. It installs nothing itself. Elsewhere (macOS, Windows,
``QT_QPA_PLATFORM=offscreen``, a Wayland session) it says nothing and exits 0, and so it does
when the app's arguments (passed on by ``make run``) open no window, as ``--headless`` does.

    .venv/bin/python tools/check_qt_libs.py [main.py's arguments]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trainscope.gui.platform_check import (  # noqa: E402 (the project root goes on the path first)
    ldd_missing,
    missing_libraries,
    missing_libraries_message,
    uses_xcb,
)

#: main.py's flags that print or train and exit without opening the window.
NO_WINDOW_FLAGS = {"--headless", "--list-scenarios", "--runs", "--export", "--import", "-h"}
NO_WINDOW_FLAGS |= {"--import-archive", "--help"}


def opens_window(app_arguments: list[str]) -> bool:
    return not any(argument.split("=")[0] in NO_WINDOW_FLAGS for argument in app_arguments)


def main(app_arguments: list[str]) -> int:
    if not opens_window(app_arguments) or not uses_xcb():
        return 0
    missing = list(dict.fromkeys([*missing_libraries(), *ldd_missing()]))
    if not missing:
        return 0
    print(f"trainscope: {missing_libraries_message(missing)}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
