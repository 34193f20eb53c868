"""Input widgets the controls are built from: a log-scale slider, a 1-2-5 spin box, and the
widget a setting's spec (``engine.settings``) asks for.

Learning rates and weight decays span several orders of magnitude, so a linear slider or a
fixed-step spin box would spend almost all of its travel on the largest decade. These widgets
move in equal steps of log10 (the slider) or along the 1-2-5 ladder that students know from
papers (the spin box), while still accepting any exact value typed in.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QSlider, QSpinBox, QWidget

if TYPE_CHECKING:
    from trainscope.engine.settings import SettingSpec

TICKS_PER_DECADE = 100


def round_significant(value: float, digits: int = 3) -> float:
    """``value`` rounded to a few significant digits, so a slider lands on 0.002, not 0.0019953."""
    if value == 0 or not math.isfinite(value):
        return value
    return float(f"{value:.{digits}g}")


class LogSlider(QSlider):
    """A horizontal slider whose integer position maps to ``10 ** exponent`` between two bounds.

    Tracking is off: while the handle is dragged only ``sliderMoved`` fires (cheap, for a live
    readout) and ``valueChanged`` fires once on release, so a drag sends one command, not fifty.
    Arrow keys and Page Up/Down move it in 1/100 and 1/10 of a decade.
    """

    def __init__(self, low: float, high: float, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.low_exponent = math.log10(low)
        self.high_exponent = math.log10(high)
        ticks = round((self.high_exponent - self.low_exponent) * TICKS_PER_DECADE)
        self.setRange(0, ticks)
        self.setSingleStep(1)
        self.setPageStep(TICKS_PER_DECADE // 10)
        self.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.setTickInterval(TICKS_PER_DECADE)  # one tick per decade: 1e-5, 1e-4, … 10
        self.setTracking(False)

    def value_at(self, position: int) -> float:
        """The setting value a slider position stands for (3 significant digits)."""
        exponent = self.low_exponent + position / TICKS_PER_DECADE
        return round_significant(10.0**exponent)

    def position_of(self, value: float) -> int:
        """The nearest slider position for ``value`` (clamped to the slider's ends)."""
        if value <= 0:
            return self.minimum()
        position = round((math.log10(value) - self.low_exponent) * TICKS_PER_DECADE)
        return min(max(position, self.minimum()), self.maximum())

    def current_value(self) -> float:
        return self.value_at(self.value())


#: The values a ladder spin box steps through (any other value can still be typed).
ONE_TWO_FIVE = tuple(
    round_significant(mantissa * 10.0**exponent)
    for exponent in range(-6, 3)
    for mantissa in (1.0, 2.0, 5.0)
)


class LadderSpinBox(QDoubleSpinBox):
    """A spin box whose arrows step 0 → 1e-5 → 2e-5 → 5e-5 → 1e-4 … instead of by a constant.

    Weight decay, like the learning rate, matters by its order of magnitude: 0.0001 and 0.0002
    differ as much as 0.01 and 0.02.
    """

    def __init__(self, low: float, high: float, decimals: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.setRange(low, high)
        self.setDecimals(decimals)
        self.setKeyboardTracking(False)  # typing "0.001" must not send 0.0, then 0.00, …
        smallest = 10.0**-decimals
        self.ladder = (0.0, *[v for v in ONE_TWO_FIVE if smallest <= v <= high])

    def stepBy(self, steps: int) -> None:  # noqa: N802 (Qt's name)
        value = self.value()
        if steps > 0:
            higher = [v for v in self.ladder if v > value * (1 + 1e-9)]
            target = higher[min(steps, len(higher)) - 1] if higher else self.maximum()
        else:
            lower = [v for v in self.ladder if v < value * (1 - 1e-9)]
            target = lower[max(len(lower) + steps, 0)] if lower else self.minimum()
        self.setValue(target)


def setting_widget(spec: SettingSpec) -> QComboBox | QSpinBox | QDoubleSpinBox:
    """The settings column's widget for a ``spin``, ``ladder`` or ``combo`` setting, from its spec.

    Keyboard tracking is off everywhere: typing "0.95" must not send 0.9 first.
    """
    if spec.widget == "combo":
        combo = QComboBox()
        combo.addItems(list(spec.choices))
        combo.setToolTip(spec.tooltip or spec.help)
        return combo
    low, high = spec.widget_range or (spec.low or 0.0, spec.high or 1.0)
    box: QSpinBox | QDoubleSpinBox
    if spec.widget == "ladder":
        box = LadderSpinBox(low, high, spec.widget_decimals)
    elif spec.kind == "whole":
        box = QSpinBox()
        box.setRange(int(low), int(high))
        box.setSingleStep(max(1, int(spec.widget_step)))
    else:
        box = QDoubleSpinBox()
        box.setRange(low, high)
        box.setSingleStep(spec.widget_step)
        box.setDecimals(spec.widget_decimals)
    box.setKeyboardTracking(False)
    if spec.widget_zero_text:
        box.setSpecialValueText(spec.widget_zero_text)
    box.setToolTip(spec.tooltip or spec.help)
    return box
