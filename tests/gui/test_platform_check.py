"""Before Qt: missing xcb libraries or no X display are one sentence and exit 2, never Qt's abort."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from trainscope.gui import platform_check
from trainscope.gui.platform_check import (
    APT_LINE,
    XCB_LIBRARIES,
    display_problem,
    ldd_missing,
    missing_libraries,
    missing_libraries_message,
    not_found_in_ldd,
    uses_xcb,
    window_problem,
)

REPO = Path(__file__).resolve().parents[2]

# What `ldd libqxcb.so` printed on a Debian 12 machine without libxcb-icccm4 and libxcb-keysyms1.
LDD_OUTPUT = """\
\tlinux-vdso.so.1 (0x00007f1d5418e000)
\tlibGL.so.1 => /lib/x86_64-linux-gnu/libGL.so.1 (0x00007f1d5402f000)
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f1d53fd5000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-util.so.1 => /lib/x86_64-linux-gnu/libxcb-util.so.1 (0x00007f1d53fcd000)
\tlibxcb-keysyms.so.1 => not found
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/plugins/platforms/../../lib/libQt6XcbQpa.so.6 (0x7f)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\t/lib64/ld-linux-x86-64.so.2 (0x00007f1d54190000)
"""


def fake_loader(missing: set[str]):
    def load(name: str) -> object:
        if name in missing:
            raise OSError(f"{name}: cannot open shared object file: No such file or directory")
        return object()

    return load


def test_the_check_runs_only_where_qt_would_start_on_xcb():
    assert uses_xcb({}, "linux")
    assert uses_xcb({"QT_QPA_PLATFORM": "xcb"}, "linux")
    assert uses_xcb({"QT_QPA_PLATFORM": "xcb;wayland"}, "linux")
    assert not uses_xcb({"QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert not uses_xcb({"QT_QPA_PLATFORM": "wayland"}, "linux")
    assert not uses_xcb({"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert not uses_xcb({}, "darwin")
    assert not uses_xcb({"QT_QPA_PLATFORM": "xcb"}, "win32")


def test_libraries_the_loader_cannot_open_are_reported_in_order():
    load = fake_loader({"libxcb-keysyms.so.1", "libxcb-cursor.so.0"})
    assert missing_libraries(load=load) == ["libxcb-cursor.so.0", "libxcb-keysyms.so.1"]
    assert missing_libraries(load=fake_loader(set())) == []


def test_the_list_covers_what_a_minimal_desktop_lacks():
    for package in ("libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxkbcommon-x11-0"):
        assert package in XCB_LIBRARIES.values()
        assert f" {package}" in APT_LINE
    assert APT_LINE.startswith("sudo apt-get install ")


def test_ldd_not_found_lines_are_reported_once_each():
    assert not_found_in_ldd(LDD_OUTPUT) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert not_found_in_ldd("\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x7f)\n") == []


def test_ldd_of_the_plugin_is_read_through_the_given_runner(tmp_path):
    plugin = tmp_path / "libqxcb.so"
    asked: list[str] = []

    def run(path: str) -> str:
        asked.append(path)
        return LDD_OUTPUT

    assert ldd_missing(plugin, run) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert asked == [str(plugin)]


def test_the_message_is_one_sentence_naming_packages_and_the_apt_line():
    message = missing_libraries_message(["libxcb-icccm.so.4", "libxcb-keysyms.so.1"], apt=True)
    assert "libxcb-icccm.so.4 (libxcb-icccm4)" in message
    assert "libxcb-keysyms.so.1 (libxcb-keysyms1)" in message
    assert message.endswith(APT_LINE)
    assert "\n" not in message
    assert message.count(". ") == 0


def test_without_apt_the_message_names_the_libraries_only():
    message = missing_libraries_message(["libxcb-icccm.so.4"], apt=False)
    assert "libxcb-icccm.so.4" in message
    assert "apt-get" not in message


def test_window_problem_is_none_when_all_is_well_and_a_sentence_otherwise():
    env = {"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":0"}
    all_there = fake_loader(set())
    assert window_problem(env, "linux", all_there, display=lambda _env: None) is None
    problem = window_problem(env, "linux", fake_loader({"libxcb-icccm.so.4"}), lambda _env: None)
    assert problem is not None
    assert "libxcb-icccm.so.4" in problem
    no_display = window_problem(env, "linux", all_there, lambda _env: "no X display is set")
    assert no_display is not None
    assert "--headless" in no_display
    offscreen = {"QT_QPA_PLATFORM": "offscreen"}
    assert window_problem(offscreen, "linux", fake_loader(set(XCB_LIBRARIES))) is None


def test_an_empty_or_silent_display_is_a_problem():
    assert "DISPLAY" in display_problem({})
    if missing_libraries(["libxcb.so.1"]):
        pytest.skip("libxcb is not installed here")
    assert "does not answer" in display_problem({"DISPLAY": ":4711"})


# main.py as `python main.py ARGS` runs it, with the platform check's view of the machine
# changed first: one library made missing, or every library present (then the display decides).
RUN_MAIN = textwrap.dedent(
    """
    import runpy, sys
    import trainscope.gui.platform_check as check
    if sys.argv[1] == "missing-library":
        check.XCB_LIBRARIES = {**check.XCB_LIBRARIES, "libtrainscope-absent.so.9": "absent9"}
    else:
        check.missing_libraries = lambda names=None, load=None: []
    sys.argv = ["main.py", *sys.argv[2:]]
    runpy.run_path("main.py", run_name="__main__")
    """
)


def run_main_on_xcb(case: str, display: str | None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb"}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    if display is not None:
        env["DISPLAY"] = display
    return subprocess.run(
        [sys.executable, "-c", RUN_MAIN, case, "--quit-after", "0", "--no-record"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_a_missing_library_is_one_sentence_and_exit_2_not_a_qt_abort():
    result = run_main_on_xcb("missing-library", display=":4711")
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("trainscope: error: the window cannot open")
    assert "libtrainscope-absent.so.9" in lines[0]
    assert "qt.qpa" not in result.stderr
    assert "Traceback" not in result.stderr


def test_no_display_is_one_sentence_and_exit_2_not_a_qt_abort():
    result = run_main_on_xcb("all-libraries", display=None)
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "trainscope: error: the window cannot open: no X display is set (DISPLAY is empty); "
        "run TrainScope in a desktop session, or train without a window with --headless"
    ]


def load_tool():
    spec = importlib.util.spec_from_file_location("check_qt_libs", REPO / "tools/check_qt_libs.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_make_runs_check_stops_with_the_line_only_when_a_window_would_fail(monkeypatch, capsys):
    tool = load_tool()
    monkeypatch.setattr(tool, "uses_xcb", lambda: True)
    monkeypatch.setattr(tool, "missing_libraries", lambda: ["libxcb-icccm.so.4"])
    monkeypatch.setattr(tool, "ldd_missing", lambda: ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"])
    monkeypatch.setattr(platform_check.shutil, "which", lambda name: f"/usr/bin/{name}")
    assert tool.main([]) == 1
    printed = capsys.readouterr().err.strip().splitlines()
    assert len(printed) == 1
    assert printed[0].endswith(APT_LINE)
    assert "libxcb-keysyms.so.1 (libxcb-keysyms1)" in printed[0]
    assert tool.main(["--headless", "--epochs", "3"]) == 0  # no window, no check
    monkeypatch.setattr(tool, "missing_libraries", lambda: [])
    monkeypatch.setattr(tool, "ldd_missing", lambda: [])
    assert tool.main([]) == 0
    assert capsys.readouterr().err == ""


def test_make_runs_check_is_silent_offscreen():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "tools/check_qt_libs.py"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0
    assert result.stderr == ""
