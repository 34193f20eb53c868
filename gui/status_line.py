"""The status bar: where the run is (device, state, step, epoch, speed) and the latest message.

A refused command or a divergence is said here in one sentence, on the left where the eye
reads first; the run's vital signs sit on the right and change colour with the state, so
"paused" or "diverged" is noticed from the back of a room.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QLabel, QSizePolicy, QStatusBar

from trainscope.engine.pace import describe_pace

if TYPE_CHECKING:
    from trainscope.gui.run_state import RunState
    from trainscope.gui.theme import Theme

FIELDS = ("device", "state", "step", "epoch", "speed", "pace", "resources")
#: On a narrow window these go first, in this order, so the rest are never cut and the
#: message keeps room to be read; the state field's tooltip still lists them all.
DROPPABLE = ("resources", "device", "epoch")
MESSAGE_ROOM_PX = 260
#: What the state field reads, where the bare state name would not say what to do next.
STATE_TEXTS = {"finished": "finished — Space to go on", "starting": "starting…"}


def step_text(state: RunState) -> str:
    """'step 120 / 600' while the run is within its plan; past it (trained on), just the step."""
    run = state.run
    planned = run.max_steps if run is not None else None
    if planned and state.step <= planned:
        return f"step {state.step:,} / {planned:,}"
    return f"step {state.step:,}"


class StatusLine:
    """Labels inside a ``QStatusBar``; the window calls ``show_run`` when the status version moves."""

    def __init__(self, status_bar: QStatusBar, theme: Theme) -> None:
        self.theme = theme
        self.message_label = QLabel()
        self.message_label.setObjectName("statusMessage")
        # A long sentence is cut (its tooltip keeps it whole) rather than pushing the run's
        # vital signs off the right edge, which classroom-size type would otherwise do.
        self.message_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        status_bar.addWidget(self.message_label, 1)
        self.fields = {name: QLabel() for name in FIELDS}
        for label in self.fields.values():
            status_bar.addPermanentWidget(label)
        self._message_is_error = False
        self._shown_message: str | None = None
        # A message about a state ("loss became nan", "the run has finished") is cleared when
        # the run leaves that state, so it never stays on screen after it stops being true.
        self._message_state: str | None = None
        self.status_bar = status_bar
        self._fitter = _RefitOnResize(self)
        status_bar.installEventFilter(self._fitter)
        self.apply_theme(theme)

    def fit_fields(self) -> None:
        """Show as many fields as fit whole beside ``MESSAGE_ROOM_PX`` of message."""
        room = self.status_bar.width() - round(MESSAGE_ROOM_PX * self.theme.scale)
        shown = {name: bool(self.fields[name].text()) for name in FIELDS}  # empty: not known
        spacing = 12  # a permanent widget's frame and the gap to the next

        def needed() -> int:
            hints = [self.fields[name].sizeHint().width() + spacing for name in FIELDS]
            return sum(hint for name, hint in zip(FIELDS, hints, strict=True) if shown[name])

        for name in DROPPABLE:
            if needed() <= room:
                break
            shown[name] = False
        for name, visible in shown.items():
            self.fields[name].setVisible(visible)
        every = " · ".join(label.text() for label in self.fields.values() if label.text())
        self.fields["state"].setToolTip(every)

    def show_run(self, state: RunState) -> None:
        run = state.run
        self.fields["device"].setText(f"device {run.device}" if run else "device …")
        state_text = STATE_TEXTS.get(state.state, state.state)
        if self.fields["state"].text() != state_text:  # restyling costs: only on a change
            self.fields["state"].setText(state_text)
            self.fields["state"].setStyleSheet(self._state_style(state.state))
        if self._message_state is not None and state.state != self._message_state:
            self.show_message("")
        self.fields["step"].setText(step_text(state))
        own_loop = run is not None and run.own_loop  # its epochs are its own: not counted here
        self.fields["epoch"].setText("" if own_loop else f"epoch {state.epoch:.2f}")
        self.fields["speed"].setText(f"{state.steps_per_second:,.0f} steps/s")
        if state.messages and state.messages[-1] is not self._shown_message:
            self.show_message(state.messages[-1], error=True, while_state=state.state)
            self._shown_message = state.messages[-1]
        self.fit_fields()

    def show_resources(self, text: str) -> None:
        """The worker's CPU and memory and the window's own (``gui.resources_readout``)."""
        if self.fields["resources"].text() != text:
            self.fields["resources"].setText(text)
            self.fit_fields()

    def show_pace(self, pace: float | None) -> None:
        """The pace the worker holds (not a run's figure: it stays across runs)."""
        self.fields["pace"].setText(f"pace {describe_pace(pace)}")

    def show_message(self, text: str, error: bool = False, while_state: str | None = None) -> None:
        """One sentence; errors in the theme's error colour. With ``while_state`` the sentence
        is about that state and goes when the run leaves it."""
        self._message_is_error = error
        self._message_state = while_state
        self.message_label.setText(text)
        self.message_label.setToolTip(text)
        self._style_message()

    def message(self) -> str:
        return self.message_label.text()

    def _state_style(self, state: str) -> str:
        palette = self.theme.palette
        color = {
            "running": palette.best,
            "paused": palette.validation,
            "diverged": palette.diverged,
            "error": palette.error_text,
        }.get(state, palette.foreground)
        return f"color: {color}; font-weight: bold;"

    def _style_message(self) -> None:
        palette = self.theme.palette
        color = palette.error_text if self._message_is_error else palette.foreground
        self.message_label.setStyleSheet(f"color: {color};")

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        font = theme.font(theme.base_font_pt + 1)
        self.message_label.setFont(font)
        for label in self.fields.values():
            label.setFont(font)
        self._style_message()
        self.fields["state"].setStyleSheet(self._state_style(self.fields["state"].text()))
        self.fit_fields()


class _RefitOnResize(QObject):
    """Refits the status line's fields whenever the status bar changes width."""

    def __init__(self, line: StatusLine) -> None:
        super().__init__(line.status_bar)
        self.line = line

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Resize:
            self.line.fit_fields()
        return False
