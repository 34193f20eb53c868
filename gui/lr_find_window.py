"""The learning-rate range test in the window: the sweep's loss against lr on a log axis, drawn as
it trains, the suggestion marked, and one click to a fresh run at that rate.

The sweep is a session of its own (``engine.lr_finder.LrSweep``) from the current run's config,
so it starts from the same initial weights a fresh run with that seed starts from; the run on
screen goes on untouched. "Start a fresh run at lr …" starts exactly that run: same config and
seed, the suggested learning rate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from trainscope.engine.errors import TrainScopeError
from trainscope.engine.lr_finder import LrSweep

if TYPE_CHECKING:
    from collections.abc import Callable

    from PySide6.QtGui import QCloseEvent

    from trainscope.engine.config import RunConfig
    from trainscope.engine.lr_finder import LrFinding
    from trainscope.engine.session_protocol import Session
    from trainscope.gui.theme import Theme

POLL_MS = 100


class LrFindWindow(QDialog):
    """Runs one sweep and shows it; ``apply_requested`` carries the lr to start a run at."""

    apply_requested = Signal(float)

    def __init__(
        self,
        base: RunConfig,
        session_factory: Callable[..., Session],
        theme: Theme,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Find the learning rate: {base.dataset.name}")
        self.setModal(False)
        self.theme = theme
        self.finding: LrFinding | None = None
        self._build()
        self.sweep = LrSweep(base, session_factory)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        self.timer.start()

    def _build(self) -> None:
        theme = self.theme
        self.setFont(theme.font())
        layout = QVBoxLayout(self)
        self.plot = pg.PlotWidget(background=theme.palette.background)
        item = self.plot.getPlotItem()
        item.setLogMode(x=True, y=False)
        item.setLabel("bottom", "learning rate (log scale)")
        item.setLabel("left", "training loss")
        item.addLegend(offset=(-10, 10))
        theme.style_plot(item, "Loss while the learning rate grows, 1e-7 to 10")
        self._raw = item.plot(pen=theme.pen(theme.palette.muted, 1.0), name="loss per step")
        self._smoothed = item.plot(pen=theme.pen(theme.palette.train, 3.0), name="smoothed")
        self._marker = pg.InfiniteLine(angle=90, pen=theme.reference_pen())
        self._marker.setVisible(False)
        item.addItem(self._marker)
        layout.addWidget(self.plot, 1)
        self.note = QLabel("Sweeping: the loss is drawn as each step trains…")
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        buttons = QHBoxLayout()
        self.apply_button = QPushButton("Start a fresh run at the suggested lr")
        self.apply_button.setEnabled(False)
        self.apply_button.setToolTip("Available once the sweep has suggested a learning rate")
        self.apply_button.clicked.connect(self._apply)
        buttons.addStretch(1)
        buttons.addWidget(self.apply_button)
        layout.addLayout(buttons)

    def apply_theme(self, theme: Theme) -> None:
        """Follow the main window's interface size (Ctrl+= / Ctrl+- / Ctrl+0 work here too)."""
        self.theme = theme
        self.setFont(theme.font())
        theme.style_plot(self.plot.getPlotItem())
        self._raw.setPen(theme.pen(theme.palette.muted, 1.0))
        self._smoothed.setPen(theme.pen(theme.palette.train, 3.0))
        self._marker.setPen(theme.reference_pen())

    @Slot()
    def poll(self) -> None:
        try:
            done = self.sweep.poll()
        except TrainScopeError as error:  # the sweep's own failure, said in the window
            self.timer.stop()
            self.note.setText(f"The sweep failed: {error}")
            return
        finding = self.sweep.finding()
        if len(finding.lrs):
            self._raw.setData(finding.lrs, finding.losses)
            self._smoothed.setData(finding.lrs, finding.smoothed)
            self._fit_y(finding.smoothed)
        if done:
            self.timer.stop()
            self._show_finding(finding)

    def _fit_y(self, smoothed: np.ndarray) -> None:
        """The y range of the smoothed curve, which is what a person reads: one raw batch's
        spike (seen: 20+ nats against a curve near 2) would flatten it to a line."""
        finite = smoothed[np.isfinite(smoothed)]
        if len(finite):
            low, high = float(finite.min()), float(finite.max())
            margin = max(0.1 * (high - low), 0.05 * abs(high), 1e-3)
            self.plot.getPlotItem().setYRange(low - margin, high + margin, padding=0)

    def _show_finding(self, finding: LrFinding) -> None:
        self.finding = finding
        if finding.suggestion is None:
            self.note.setText(
                "No learning rate made the loss fall, so there is nothing to suggest: "
                "check the data and the model, or try another optimizer."
            )
            return
        self._marker.setValue(np.log10(finding.suggestion))  # the axis is log10 in log mode
        self._marker.setVisible(True)
        ended = (
            f"stopped where the loss blew up (lr {finding.lrs[-1]:.2g})"
            if finding.stopped == "diverged"
            else "ended when the learning rate reached 10"
        )
        steepest = (
            f"; the loss fell fastest at lr {finding.steepest:.2g}" if finding.steepest else ""
        )
        self.note.setText(
            f"Suggested lr {finding.suggestion:.2g}: {finding.rule}. The sweep {ended}"
            f"{steepest}. The run on screen was not touched."
        )
        self.apply_button.setText(f"Start a fresh run at lr {finding.suggestion:.2g}")
        self.apply_button.setToolTip(
            "The same config and seed, so the same initial weights the sweep started from"
        )
        self.apply_button.setEnabled(True)

    @Slot()
    def _apply(self) -> None:
        if self.finding is not None and self.finding.suggestion is not None:
            self.apply_requested.emit(self.finding.suggestion)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        self.timer.stop()
        self.sweep.close()
