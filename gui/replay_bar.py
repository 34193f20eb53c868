"""Replaying a recorded run in the window: a speed choice and a scrub bar under the panels.

The replay itself is an ``engine.runs.ReplaySession`` handed to the window's ``start_session``
in place of a live session, so every panel draws it exactly as it drew the live run. This bar
only sends commands: ``SetSpeed`` when a speed is picked and ``Seek(step)`` when the scrub bar
is let go (dragging only moves the label — cheap work while the mouse moves). The controller
reads the run on screen and starts the replay through ``gui.window_api``'s protocols; the
``QMainWindow`` it is given only holds the bar and the dialogs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSlider, QToolBar, QWidget

from trainscope.engine.errors import TrainScopeError
from trainscope.engine.runs.replay import SPEEDS, ReplaySession, Seek, SetSpeed
from trainscope.gui.dialogs import show_error

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMainWindow

    from trainscope.engine import commands as cmd
    from trainscope.engine.runs.replay import ReplayCommand
    from trainscope.gui.recording import RunLibrary
    from trainscope.gui.window_api import RunReader, RunStarter, StatusMessages

FOLLOW_INTERVAL_MS = 100


def speed_label(speed: float | str) -> str:
    return "max" if speed == "max" else f"{speed:g}×"


class OwnedReplaySession(ReplaySession):
    """A replay that owns its store: the store's connection closes with the session."""

    def close(self, timeout: float = 0.0) -> None:
        super().close(timeout)
        self.store.close()  # closing twice is harmless; a closed replay never reads again


class ReplayBar(QWidget):
    """Speed 1×/4×/16×/max and a scrub bar over the recorded steps."""

    command_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("")
        self.speed = QComboBox()
        for speed in SPEEDS:
            self.speed.addItem(speed_label(speed), speed)
        self.scrub = QSlider(Qt.Orientation.Horizontal)
        self.scrub.setMinimumWidth(300)
        self.position = QLabel("step 0")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        for widget, stretch in ((self.title, 0), (QLabel("speed"), 0), (self.speed, 0)):
            layout.addWidget(widget, stretch)
        layout.addWidget(self.scrub, 1)
        layout.addWidget(self.position)
        self.speed.currentIndexChanged.connect(self._on_speed_chosen)
        self.scrub.sliderMoved.connect(self._on_scrub_moved)
        self.scrub.sliderReleased.connect(self._on_scrub_released)

    def show_replay(self, title: str, total_steps: int, speed: float | str) -> None:
        self.title.setText(title)
        self.scrub.setRange(0, max(total_steps, 0))
        self.scrub.setValue(0)
        self.speed.blockSignals(True)
        self.speed.setCurrentIndex(max(0, self.speed.findData(speed)))
        self.speed.blockSignals(False)
        self.follow(0)

    def follow(self, step: int) -> None:
        """Show where the replay stands (not while the scrub bar is held)."""
        if not self.scrub.isSliderDown():
            self.scrub.setValue(step)
            self.position.setText(f"step {step:,} / {self.scrub.maximum():,}")

    def seek(self, step: int) -> None:
        """Jump to ``step`` (what letting go of the scrub bar does)."""
        self.scrub.setValue(step)
        self.command_requested.emit(Seek(int(self.scrub.value())))

    @Slot(int)
    def _on_speed_chosen(self, index: int) -> None:
        self.command_requested.emit(SetSpeed(self.speed.itemData(index)))

    @Slot(int)
    def _on_scrub_moved(self, step: int) -> None:
        self.position.setText(f"step {step:,} / {self.scrub.maximum():,}")

    @Slot()
    def _on_scrub_released(self) -> None:
        self.command_requested.emit(Seek(int(self.scrub.value())))


class ReplayController(QObject):
    """Opens recorded runs as replays in the window and keeps the replay bar in step."""

    def __init__(
        self,
        window: QMainWindow,
        library: RunLibrary,
        *,
        run: RunReader,
        starter: RunStarter,
        status: StatusMessages,
    ) -> None:
        """``window`` holds the replay bar (a toolbar) and parents the dialogs."""
        super().__init__(window)
        self.window = window
        self.library = library
        self.run, self.starter, self.status = run, starter, status
        self.bar = ReplayBar()
        self.bar.command_requested.connect(self._send)
        self.toolbar = QToolBar("Replay")
        self.toolbar.setObjectName("replayBar")
        self.toolbar.setMovable(False)
        self.toolbar.addWidget(self.bar)
        self.toolbar.toggleViewAction().setVisible(False)
        window.addToolBar(Qt.ToolBarArea.BottomToolBarArea, self.toolbar)
        self.toolbar.hide()
        self.session: ReplaySession | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(FOLLOW_INTERVAL_MS)
        self.timer.timeout.connect(self._follow)

    @property
    def active(self) -> bool:
        """A replay is what the window is showing now."""
        return self.session is not None and self.run.session is self.session

    def open(self, run_id: int, speed: float | str = 1.0) -> bool:
        """Replay run ``run_id`` through the window's panels; False (after a dialog) if it cannot."""
        try:
            store = self.library.open_store()
        except TrainScopeError as error:
            show_error(self.window, "Cannot replay", str(error))
            return False
        try:
            session = OwnedReplaySession(store, run_id, speed)
        except TrainScopeError as error:
            store.close()
            show_error(self.window, "Cannot replay", str(error))
            return False
        config = session.config or self.run.config
        self.starter.start_session(config, session_factory=lambda _config: session)
        if self.run.session is not session:
            store.close()
            return False
        self.session = session
        info = session.info
        self.bar.show_replay(f"Replay of run {info.id} “{info.name}”", info.steps, speed)
        self.toolbar.show()
        self.timer.start()
        self.status.show_message(f"replaying run {info.id} ({info.name})")
        return True

    def _send(self, command: cmd.Command | ReplayCommand) -> None:
        if self.active and self.session is not None and self.session.is_alive():
            self.session.send(command)

    @Slot()
    def _follow(self) -> None:
        if self.active:
            self.bar.follow(self.run.state.step)
        else:  # a live run (or nothing) took over: the bar goes away
            self.timer.stop()
            self.toolbar.hide()
            self.session = None
