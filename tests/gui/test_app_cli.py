"""`main.py` opening the real window in its own process: screenshot, JSON summary, no torch."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.engine.session_helpers import small_config
from tests.gui.window_helpers import RecordingThreadSession, open_window
from trainscope.engine.runs.paths import database_path
from trainscope.engine.runs.store import RunStore
from trainscope.gui import replay_bar
from trainscope.gui.app import SessionStarter
from trainscope.gui.recording import RunLibrary

if TYPE_CHECKING:
    from trainscope.engine.config import RunConfig

REPO = Path(__file__).resolve().parents[2]

# Runs main.py exactly as `python main.py ARGS` would (runpy, __main__), then reports whether
# torch (or scikit-learn) ever entered this — the GUI — process. The worker is a separate, spawned interpreter.
RUN_MAIN_AND_REPORT_TORCH = textwrap.dedent(
    """
    import runpy, sys
    sys.argv = ["main.py", *sys.argv[1:]]
    code = 0
    try:
        runpy.run_path("main.py", run_name="__main__")
    except SystemExit as exit:
        code = exit.code
    print("GUI_PROCESS_IMPORTED_TORCH=" + str("torch" in sys.modules), file=sys.stderr)
    print("GUI_PROCESS_IMPORTED_SKLEARN=" + str("sklearn" in sys.modules), file=sys.stderr)
    sys.exit(code)
    """
)


def _environment(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),  # never the user's real settings
    }


def _run(tmp_path: Path, *command: str, timeout: float) -> subprocess.CompletedProcess:
    """``python *command`` in the repository, offscreen and with its own settings folder."""
    return subprocess.run(
        [sys.executable, *command],
        cwd=REPO,
        env=_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    return struct.unpack(">II", header[16:24])


def test_window_run_saves_a_screenshot_prints_the_summary_and_never_imports_torch(tmp_path):
    screenshot = tmp_path / "out.png"
    arguments = ["--dataset", "moons", "--n-samples", "400", "--hidden", "16"]
    arguments += ["--screenshot", str(screenshot), "--quit-after", "6", "--json"]
    arguments += ["--size", "1024x640"]
    result = _run(tmp_path, "-c", RUN_MAIN_AND_REPORT_TORCH, *arguments, timeout=90)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "GUI_PROCESS_IMPORTED_TORCH=False" in result.stderr
    assert "GUI_PROCESS_IMPORTED_SKLEARN=False" in result.stderr  # data is built in the worker
    assert _png_size(screenshot) == (1024, 640)
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["dataset"] == "moons"
    assert summary["steps"] > 0
    assert summary["steps_per_second"] > 0
    assert summary["errors"] == []
    assert summary["finished"] == "stopped"
    assert "Traceback" not in result.stderr


def test_every_gui_module_imports_without_torch():
    code = (
        "import sys, trainscope.gui.app, trainscope.gui.main_window, trainscope.gui.controls, trainscope.gui.setup_panel; "
        "print('torch' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_a_bad_flag_is_one_sentence_and_no_window(tmp_path):
    result = _run(tmp_path, "main.py", "--hidden", "12,abc", timeout=240)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "--hidden" in result.stderr


# --- a failed --replay leaves the window idle ------------------------------------------------


@pytest.fixture
def idle_window(qtbot, tmp_path, monkeypatch):
    """A window on a run store in tmp_path, not started; every session it starts is counted
    and every error dialog recorded instead of shown (a modal dialog would block the test)."""
    started: list[RunConfig] = []
    dialogs_shown: list[str] = []
    monkeypatch.setattr(
        replay_bar, "show_error", lambda _parent, _title, sentence: dialogs_shown.append(sentence)
    )

    def counting_factory(config: RunConfig, **_options):
        started.append(config)
        return RecordingThreadSession(config, **_options)

    library = RunLibrary(tmp_path / "runs")
    window = open_window(
        qtbot, tmp_path, small_config(), session_factory=counting_factory, start=False, runs=library
    )
    return window, started, dialogs_shown


def test_replaying_an_unknown_run_shows_why_and_starts_nothing(idle_window, tmp_path):
    window, started, dialogs_shown = idle_window
    SessionStarter(window, window.config, replay=42).start()
    assert len(dialogs_shown) == 1
    assert "42" in dialogs_shown[0]
    assert started == []
    assert window.session is None
    assert "could not be replayed" in window.status.message()
    with RunStore.open_dir(tmp_path / "runs") as store:
        assert store.list_runs() == []  # nothing was recorded


def test_replaying_from_a_damaged_store_shows_why_and_starts_nothing(idle_window, tmp_path):
    window, started, dialogs_shown = idle_window
    damaged = database_path(tmp_path / "runs")
    damaged.parent.mkdir(parents=True, exist_ok=True)
    damaged.write_bytes(b"this is not a database" * 100)
    SessionStarter(window, window.config, replay=1).start()
    assert len(dialogs_shown) == 1
    assert started == []
    assert window.session is None
    assert damaged.read_bytes() == b"this is not a database" * 100  # nothing written into it


def test_without_replay_the_starter_starts_the_run(idle_window):
    window, started, _dialogs = idle_window
    SessionStarter(window, window.config).start()
    assert len(started) == 1
    assert window.session is not None


def test_experiment_lr_find_in_the_window_opens_the_range_test_beside_the_run(idle_window):
    window, started, _dialogs = idle_window
    starter = SessionStarter(window, window.config)
    starter.lr_find = True  # --experiment lr-find (WindowOptions.lr_find)
    starter.start()
    assert len(started) >= 1  # the run it serves, and the sweep in a session of its own
    assert window.experiments.lr_find is not None
    assert window.experiments.lr_find.isVisible()
    window.experiments.lr_find.close()


def test_a_lesson_in_the_window_goes_at_its_pace_and_is_still_under_way_after_8_seconds(tmp_path):
    """Made to be watched: at the lesson's pace its 600 steps take over a minute, so 8 s in,
    the student is still watching it unfold (at max it would long be over)."""
    lesson = ["--scenario", "overfitting", "--quit-after", "8", "--json", "--no-record"]
    result = _run(tmp_path, "main.py", *lesson, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["finished"] != "completed"
    assert 0 < summary["steps"] < 600
