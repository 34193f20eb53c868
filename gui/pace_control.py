"""The pace control: how fast training goes, from one step a second up to "max".

A ladder of named paces on a slider (and ``[`` / ``]`` from anywhere in the window): a person
picks "slow enough to watch" or "fast", not a number to type. Moving it sends one
``SetPace`` on release; the worker holds the pace itself (``engine.pace``).
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from trainscope.engine.pace import describe_pace

#: The rungs, slowest first; None is "max". 60 is the window's default (engine.cli.WINDOW_PACE).
PACE_LADDER: tuple[float | None, ...] = (
    1.0,
    2.0,
    5.0,
    10.0,
    20.0,
    30.0,
    60.0,
    120.0,
    250.0,
    500.0,
    1000.0,
    2000.0,
    None,
)


def nearest_rung(pace: float | None) -> int:
    """The ladder position closest to ``pace`` (by ratio; "max" is the top)."""
    if pace is None:
        return len(PACE_LADDER) - 1
    finite = [rung for rung in PACE_LADDER if rung is not None]
    return min(range(len(finite)), key=lambda index: abs(finite[index] / pace - 1.0))


class PaceControl(QWidget):
    """A labelled slider over ``PACE_LADDER``; ``pace_chosen`` carries the new pace."""

    pace_chosen = Signal(object)  # float | None

    def __init__(self, pace: float | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pace = pace
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, len(PACE_LADDER) - 1)
        self.slider.setPageStep(1)
        self.slider.setTracking(False)  # one command on release
        self.slider.setToolTip(
            "How fast training goes, in optimizer steps per second ([ slower, ] faster). "
            "Pace changes nothing about what is learned, only how fast you see it."
        )
        self.value_label = QLabel()
        ends = QHBoxLayout()
        ends.setContentsMargins(0, 0, 0, 0)
        ends.addWidget(QLabel("1"))
        ends.addWidget(self.slider, 1)
        ends.addWidget(QLabel("max"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.value_label)
        layout.addLayout(ends)
        self.slider.valueChanged.connect(self._on_released)
        self.slider.sliderMoved.connect(self._on_dragged)
        self.show_pace(pace)

    def show_pace(self, pace: float | None) -> None:
        """Show ``pace`` without sending it (no echo)."""
        self.pace = pace
        with QSignalBlocker(self.slider):
            self.slider.setValue(nearest_rung(pace))
        self.value_label.setText(f"pace: {describe_pace(pace)}")

    def choose(self, pace: float | None) -> None:
        if pace != self.pace:
            self.show_pace(pace)
            self.pace_chosen.emit(pace)

    def slower(self) -> None:
        """``[``: one rung down (from a pace between rungs, the rung below it)."""
        position = nearest_rung(self.pace)
        rung = PACE_LADDER[position]  # a finite rung whenever the pace is
        if self.pace is not None and rung is not None and rung < self.pace:
            position += 1
        self.choose(PACE_LADDER[max(0, position - 1)])

    def faster(self) -> None:
        """``]``: one rung up, to "max" at the top."""
        position = nearest_rung(self.pace)
        rung = PACE_LADDER[position]
        if self.pace is not None and rung is not None and rung > self.pace:
            position -= 1
        self.choose(PACE_LADDER[min(len(PACE_LADDER) - 1, position + 1)])

    @Slot(int)
    def _on_dragged(self, position: int) -> None:
        self.value_label.setText(f"pace: {describe_pace(PACE_LADDER[position])}")

    @Slot(int)
    def _on_released(self, position: int) -> None:
        self.choose(PACE_LADDER[position])
