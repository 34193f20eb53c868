"""Building real windows on real sessions for tests, with settings in a temporary ini file."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt

from tests.engine.session_helpers import small_config
from trainscope.engine.session import ThreadSession
from trainscope.gui.main_window import MainWindow

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from trainscope.engine import events as ev
    from trainscope.engine.config import RunConfig
    from trainscope.gui.recording import RunLibrary

#: Only a hang-catcher. On a shared, busy machine a worker can take far longer than usual to
#: import torch or to reach a step, so the waits below do not guess how long that takes: they
#: wait for the condition and fail at once when the run reports an error.
HANG_TIMEOUT_MS = 240_000


class RunFailed(Exception):
    """The run a test waits on failed: waiting longer cannot help.

    Not an ``AssertionError`` on purpose: ``qtbot.waitUntil`` retries on those until its timeout.
    """


class RecordingThreadSession(ThreadSession):
    """A real ThreadSession that also keeps every event the window drained, for assertions."""

    def __init__(self, config: RunConfig, **options) -> None:
        super().__init__(config, **options)  # checkpoint_dir / start_from of a recorded run
        self.log: list[ev.Event] = []

    def drain(self) -> list[ev.Event]:
        events = super().drain()
        self.log.extend(events)
        return events


def temp_settings(folder: Path) -> QSettings:
    """Never the user's real settings."""
    return QSettings(str(folder / "trainscope.ini"), QSettings.IniFormat)


def open_window(
    qtbot,
    folder: Path,
    config: RunConfig | None = None,
    session_factory=RecordingThreadSession,
    start: bool = True,
    runs: RunLibrary | None = None,
) -> MainWindow:
    """A shown (and, when ``start``, running) window; pytest-qt closes it after the test.

    ``runs``: record into (and browse) that library, e.g. ``RunLibrary(tmp_path / "runs")``.
    """
    window = MainWindow(
        config or small_config(),
        session_factory=session_factory,
        settings=temp_settings(folder),
        runs=runs,
    )
    show_active(qtbot, window)
    if start:
        window.start_session()
    return window


def show_active(qtbot, window: MainWindow) -> None:
    """Shown and active: window-wide shortcuts only reach the active window."""
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)


def of_type(events: list[ev.Event], kind: type) -> list:
    return [event for event in events if isinstance(event, kind)]


def wait_for_run(
    qtbot, window: MainWindow, condition: Callable[[], object], timeout: int = HANG_TIMEOUT_MS
) -> None:
    """Wait until ``condition()`` is true while the window's run goes on.

    Fails at once (``RunFailed``) when the run reports an error, so a real fault is not
    mistaken for a slow machine; otherwise only a hang reaches the timeout.
    """

    def holds() -> bool:
        if condition():
            return True
        if window.state.state == "error":
            raise RunFailed(f"the run failed: {window.state.messages[-1:]}")
        return False

    qtbot.waitUntil(holds, timeout=timeout)


def wait_for_steps(qtbot, window: MainWindow, steps: int) -> None:
    wait_for_run(qtbot, window, lambda: window.state.step >= steps)


def pause(qtbot, window: MainWindow) -> int:
    """Press Pause and wait until the run says it is paused; return the step it stopped at."""
    qtbot.mouseClick(window.controls.pause_button, Qt.LeftButton)
    wait_for_run(qtbot, window, lambda: window.state.state == "paused")
    return window.state.step
