"""Faded copies of a chart's curves for the history the latest rewind cut off.

The loss and accuracy panels each draw ``RunState.ghost`` with one of these: the same colours
as the live curves, faded and dashed, under them, with one legend entry "before rewind" (its
sample is the first ghost curve; the colours say which live curve each ghost belongs to). The
ghost never changes between two rewinds, so its data is set once per ``ghost_version`` and its
curves are painted from a pixmap cache while the live curves repaint every frame.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from trainscope.gui.ghost import RewindGhost
from trainscope.gui.panels.base import cache_as_pixmap
from trainscope.gui.theme import Palette, Theme

if TYPE_CHECKING:
    import pyqtgraph as pg

GHOST_NAME = "before rewind"

#: (x of the ghost, y of the ghost, the colour of the live curve it shadows)
GhostColumn = tuple[
    Callable[[RewindGhost], np.ndarray],
    Callable[[RewindGhost], np.ndarray],
    Callable[[Palette], str],
]


class GhostCurves:
    """One faded, dashed curve per column of ``RewindGhost``, shown while the state has one."""

    def __init__(self, plot: pg.PlotItem, theme: Theme, columns: Sequence[GhostColumn]) -> None:
        self.plot = plot
        self.theme = theme
        self.columns = tuple(columns)
        self.curves: list[pg.PlotDataItem] = []
        for _ in self.columns:
            curve = plot.plot()  # not by name: one legend entry stands for all of them
            curve.setClipToView(True)
            curve.setZValue(-1)  # under the live curves it is compared with
            curve.setVisible(False)
            cache_as_pixmap(curve.curve)
            self.curves.append(curve)
        self.ghost: RewindGhost | None = None
        self.apply_theme(theme)

    def update(self, ghost: RewindGhost | None) -> None:
        """Show ``ghost`` (None hides the curves and their legend entry)."""
        self.ghost = ghost
        for curve, (x_of, y_of, _color) in zip(self.curves, self.columns, strict=True):
            if ghost is None:
                curve.setData([], [])
            else:
                curve.setData(x_of(ghost), y_of(ghost))
            curve.setVisible(ghost is not None)
        self._show_in_legend(ghost is not None)

    def ys(self) -> list[np.ndarray]:
        """The ghost's y values, so the view keeps it in sight beside the live curves."""
        if self.ghost is None:
            return []
        return [y_of(self.ghost) for _x, y_of, _color in self.columns]

    @property
    def last_step(self) -> float | None:
        return self.ghost.last_step if self.ghost is not None else None

    def apply_theme(self, theme: Theme) -> None:
        self.theme = theme
        for curve, (_x, _y, color_of) in zip(self.curves, self.columns, strict=True):
            curve.setPen(theme.ghost_pen(color_of(theme.palette)))
        if self.ghost is not None:
            self._show_in_legend(True)  # the sample takes the new pen

    def _show_in_legend(self, shown: bool) -> None:
        legend = self.plot.legend
        if legend is None or not self.curves:
            return
        legend.removeItem(self.curves[0])
        if shown:
            legend.addItem(self.curves[0], GHOST_NAME)
            self.theme.style_legend(legend)
