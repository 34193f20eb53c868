"""The view range of a live time chart, moved by us a few times per run instead of every frame.

pyqtgraph's auto-range refits the view whenever any curve changes, which on a live chart is
every frame: the axes re-tick, their pictures are rebuilt and the whole plot repaints, often
twice. That was most of a frame's cost. ``LiveRange`` keeps auto-range off and moves the view
only when the data leaves it: the x range grows in 25% jumps (so it changes a few dozen times
in a whole run), and y is refitted when new data falls outside it, or with each x jump.

The user stays in charge: a wheel zoom, a drag or a box zoom stops the following until a
double-click on the chart or pyqtgraph's "A" button (shown while the user has the view), after
which the chart follows the data again.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Slot

if TYPE_CHECKING:
    from collections.abc import Iterable

    import pyqtgraph as pg
    from pyqtgraph.GraphicsScene.mouseEvents import MouseClickEvent

X_GROWTH = 0.25
"""Headroom added on the right at each x jump, as a share of the data's span."""
Y_MARGIN = 0.06
"""Space above and below the data when y is refitted, as a share of the data's span."""
MIN_X_SPAN = 50.0


class LiveRange(QObject):
    """Follows a plot's data with rare range changes; hands the view to the user when they zoom."""

    def __init__(self, plot: pg.PlotItem, fixed_y: tuple[float, float] | None = None) -> None:
        super().__init__(plot)
        self.plot = plot
        self.view = plot.getViewBox()
        self.fixed_y = fixed_y
        self.following = True
        self.log_y = False
        self.x_range: tuple[float, float] | None = None
        self.y_range: tuple[float, float] | None = None
        self._bounds: tuple[float, float, float | None, float | None] | None = None
        self._refit = True  # the next follow() fits whether or not the data left the view
        self._quiet = False  # our own auto-range changes must not look like the user's
        self.view.disableAutoRange()
        if fixed_y is not None:
            low, high = fixed_y
            self.y_range = (low - 0.02 * (high - low), high + 0.02 * (high - low))
            self.view.setYRange(*self.y_range, padding=0.0)
        self.view.sigRangeChangedManually.connect(self._on_manual_change)
        self.view.sigStateChanged.connect(self._on_state_changed)
        plot.scene().sigMouseClicked.connect(self._on_click)
        plot.updateButtons = self._update_buttons  # "A" only while the user holds the view

    # --- following the data ----------------------------------------------------------------
    def follow(self, x_low: float, x_high: float, ys: Iterable[np.ndarray] = ()) -> bool:
        """Keep ``[x_low, x_high]`` and the finite values of ``ys`` in view; True if it moved.

        Costs a min/max over ``ys`` (pass the drawn, already decimated arrays) and nothing
        else unless the data left the view.
        """
        y_low, y_high = self._y_bounds(ys)
        self._bounds = (x_low, x_high, y_low, y_high)
        if not self.following:
            return False
        force, self._refit = self._refit, False
        return self._fit(self._bounds, force)

    def reset(self) -> None:
        """A new run: follow again and refit on the next ``follow``."""
        self.following = True
        self._bounds = None
        self._refit = True

    def set_log_y(self, log_y: bool) -> None:
        """Call before ``plot.setLogMode``: view y becomes log10 of the data, so refit next time.

        pyqtgraph turns its auto-range on when the log mode changes; that resumes following,
        and with no bounds known until the next ``follow`` nothing is fitted in the wrong space.
        """
        self.log_y = log_y
        self._bounds = None
        self._refit = True

    def resume(self) -> None:
        """Follow the data again (double-click, the "A" button), refitting at once if we can."""
        self.following = True
        self._set_auto_range_off()
        if self._bounds is not None:
            self._fit(self._bounds, force=True)
        else:
            self._refit = True
        self.plot.autoBtn.hide()

    def _fit(self, bounds: tuple[float, float, float | None, float | None], force: bool) -> bool:
        x_low, x_high, y_low, y_high = bounds
        x_range, y_range = self.x_range, self.y_range
        x_jump = force or x_range is None or x_low < x_range[0] or x_high > x_range[1]
        if not x_jump and x_range is not None:
            # A rewind can leave the data in a corner: refit when it fills less than half.
            width = x_range[1] - x_range[0]
            x_jump = x_high - x_range[0] < 0.5 * width and width > MIN_X_SPAN * (1 + X_GROWTH)
        if x_jump:
            span = max(x_high - x_low, MIN_X_SPAN)
            x_range = (x_low, x_low + span * (1.0 + X_GROWTH))
        if self.fixed_y is None and y_low is not None and y_high is not None:
            escaped = y_range is None or y_low < y_range[0] or y_high > y_range[1]
            if x_jump or escaped:
                margin = (y_high - y_low) * Y_MARGIN or max(abs(y_high) * 0.1, 0.05)
                y_range = (y_low - margin, y_high + margin)
        if not force and (x_range, y_range) == (self.x_range, self.y_range):
            return False
        self.x_range, self.y_range = x_range, y_range
        self._quiet = True
        try:
            self.view.setRange(xRange=x_range, yRange=y_range, padding=0.0)
        finally:
            self._quiet = False
        return True

    def _y_bounds(self, ys: Iterable[np.ndarray]) -> tuple[float | None, float | None]:
        """Lowest and highest finite value (positive only on a log axis), in view coordinates."""
        low, high = math.inf, -math.inf
        for y in ys:
            if not len(y):
                continue
            finite = y[np.isfinite(y)]
            if self.log_y:
                finite = finite[finite > 0]
            if len(finite):
                low, high = min(low, float(finite.min())), max(high, float(finite.max()))
        if low > high:
            return None, None
        if self.log_y:
            return math.log10(low), math.log10(high)
        return low, high

    # --- the user's hand on the view -------------------------------------------------------
    @Slot(object)
    def _on_manual_change(self, _mask: object) -> None:
        """A wheel, drag or box zoom: the user has the view.

        The "A" button also lands here, after its auto-range already resumed following (see
        ``_on_state_changed``); the view is then exactly ours, which no user gesture leaves.
        """
        if any(self.view.autoRangeEnabled()):
            self.resume()
        elif not (self.following and self._view_is_ours()):
            self.following = False

    def _view_is_ours(self) -> bool:
        if self.x_range is None:
            return True  # nothing fitted yet: the first data will be
        (x_low, x_high), (y_low, y_high) = self.view.viewRange()
        ours = [(self.x_range, (x_low, x_high))]
        if self.y_range is not None and self.fixed_y is None:
            ours.append((self.y_range, (y_low, y_high)))
        return all(
            math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9 * (high - low))
            for (low, high), shown in ours
            for a, b in zip((low, high), shown, strict=True)
        )

    @Slot()
    def _on_state_changed(self) -> None:
        """The view menu's "Auto" checkboxes also mean: follow the data again."""
        if not self._quiet and any(self.view.autoRangeEnabled()):
            self.resume()

    @Slot(object)
    def _on_click(self, event: MouseClickEvent) -> None:
        if not event.double() or self.following:
            return
        if self.view.sceneBoundingRect().contains(event.scenePos()):
            event.accept()
            self.resume()

    def _set_auto_range_off(self) -> None:
        self._quiet = True
        try:
            self.view.disableAutoRange()
        finally:
            self._quiet = False

    def _update_buttons(self) -> None:
        """PlotItem.updateButtons: show "A" on hover only while the user holds the view."""
        try:
            if self.plot.mouseHovering and not self.plot.buttonsHidden and not self.following:
                self.plot.autoBtn.show()
            else:
                self.plot.autoBtn.hide()
        except RuntimeError:
            pass  # the plot is being deleted
