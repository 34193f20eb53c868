"""The window's side of the insight panels (issue #8): what to collect, what to raise, previews.

Three jobs the main window hands over, each checked once per frame (a few cheap calls):

* **Collect only what is shown.** The decision boundary and layer health cost the training
  process time, so the session is told (``SetInsights``) to collect each only while its panel
  is really on screen — visible and not tabbed away, the rule the frame uses to redraw — and
  told again whenever a new session starts. A replay records no insights and is never asked.
* **Raise the useful tab.** The three insight panels share one tabbed dock; the first run on
  two-feature data raises the decision boundary, any other data the mistakes gallery — only
  when the kind of data changes, never in the middle of a run the student is looking at.
* **Preview data knobs.** A changed noise, sample count or dataset in the Setup panel is
  turned into points for the boundary panel at once, while that panel is shown — by the
  training process (``PreviewData`` → ``DataPreview``), or here when there is none; a setting
  that makes no data shows its one sentence there.

It also keeps the status bar's resource readout current. The window hands it only what
these jobs read (``gui.window_api.RunReader`` for the run on screen, the panels, docks and
layout helpers) and connects the Setup panel's preview requests to ``preview_data``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Slot

from trainscope.engine.commands import PreviewData, SetInsights
from trainscope.engine.projection import preview
from trainscope.engine.resources import resident_mib
from trainscope.engine.runs.replay import ReplaySession
from trainscope.gui.resources_readout import resources_text

if TYPE_CHECKING:
    from collections.abc import Mapping

    from PySide6.QtWidgets import QDockWidget, QWidget

    from trainscope.engine.config import DatasetSpec
    from trainscope.engine.events import DataPreview
    from trainscope.gui.classroom import ClassroomLayout
    from trainscope.gui.panels.base import Panel
    from trainscope.gui.status_line import StatusLine
    from trainscope.gui.window_api import RunReader
    from trainscope.gui.window_layout import WindowLayout

log = logging.getLogger(__name__)

INSIGHT_DOCKS = ("boundary", "mistakes", "layer_health")
"""The insight panels' names in ``PANEL_TYPES`` and the window's docks, tabbed together."""


def on_screen(widget: QWidget) -> bool:
    """Visible and not tabbed away or covered (a tabbed-away dock keeps ``isVisible()``)."""
    return widget.isVisible() and not widget.visibleRegion().isEmpty()


class InsightsWiring(QObject):
    """Keeps the session's insight collection, the insight tabs and the preview in step."""

    def __init__(
        self,
        window: QWidget,
        *,
        run: RunReader,
        panels: Mapping[str, Panel],
        docks: Mapping[str, QDockWidget],
        status: StatusLine,
        layout: WindowLayout,
        classroom: ClassroomLayout,
        layout_was_restored: bool,
    ) -> None:
        """``window``: minimized, nothing is on screen; ``layout_was_restored``: the layout is
        the one the person left last time, so the first run's tab is theirs, not ours."""
        super().__init__(window)
        self.window = window
        self.run = run
        self.boundary = panels["boundary"]
        self.layer_health = panels["layer_health"]
        self.docks, self.status = docks, status
        self.layout_keeper, self.classroom = layout, classroom
        self.layout_was_restored = layout_was_restored
        self._session: object | None = None  # the session ``_sent`` was told
        self._sent: SetInsights | None = None
        self._run_seen: object | None = None
        self._raised_for_two_features: bool | None = None
        self._pending_preview: tuple[DatasetSpec, int] | None = None
        self._asked_preview: tuple[DatasetSpec, int] | None = None  # sent, not yet answered
        self._resources_shown: tuple[object, int] | None = None  # (InsightState, version)

    def after_frame(self) -> None:
        """Once per frame, after the panels redrew: cheap checks, work only on a change."""
        self._raise_tab_for_new_data()  # first: what is on screen depends on the raised tab
        self._tell_session()
        if self._pending_preview is not None and on_screen(self.boundary):
            self._make_preview(*self._pending_preview)
        self._take_preview_answer()
        self._show_resources()

    # --- what the session collects -------------------------------------------------------
    def wanted(self) -> SetInsights:
        minimized = self.window.isMinimized()
        return SetInsights(
            boundary=not minimized and on_screen(self.boundary),
            layer_health=not minimized and on_screen(self.layer_health),
        )

    def _tell_session(self) -> None:
        """Send what is on screen when it changed; a new session hears it once its run started.

        Before its ``RunStarted`` the window does not know the data yet, so the tab it will raise
        (and thus the insight worth collecting) is unknown: asking early would make the worker
        compute a boundary nobody sees while the student waits for the first step.
        """
        session = self.run.session
        if session is None or isinstance(session, ReplaySession) or self.run.awaiting_new_run:
            return
        wanted = self.wanted()
        if (session, wanted) == (self._session, self._sent) or not session.is_alive():
            return
        session.send(wanted)
        self._session, self._sent = session, wanted

    # --- which tab is raised -------------------------------------------------------------
    def _raise_tab_for_new_data(self) -> None:
        state = self.run.state
        if state.run is None or state.run_key == self._run_seen:
            return
        self._run_seen = state.run_key
        two_features = len(state.run.feature_names) == 2
        if two_features == self._raised_for_two_features:
            return  # a reset, or more of the same kind of data: the student's tab stays
        first_in_remembered_layout = (
            self._raised_for_two_features is None and self.layout_was_restored
        )
        self._raised_for_two_features = two_features
        if not first_in_remembered_layout:
            self.raise_tab()

    def raise_tab(self) -> None:
        """The boundary for two-feature data, the gallery otherwise (not in classroom mode,
        whose layout shows only what the lesson names, nor where the default layout of a
        smaller screen tabs the insights with the confusion matrix or accuracy)."""
        two_features = self._raised_for_two_features
        if two_features is None or self.classroom.active:
            return
        keeper = self.layout_keeper
        if keeper.tier != "wide" and not keeper.customized:
            return  # smaller layouts tab the insights with the core charts: those stay in front
        self.docks["boundary" if two_features else "mistakes"].raise_()

    # --- previewing data knobs -----------------------------------------------------------
    @Slot(object, int)
    def preview_data(self, spec: DatasetSpec, seed: int) -> None:
        """The Setup panel's knobs moved: show the points they make (now, or once shown)."""
        config = self.run.config
        if spec == config.dataset and seed == config.seed:
            self._pending_preview = None
            self.boundary.clear_preview()  # back to what the run trains on
            return
        self._pending_preview = (spec, seed)
        if on_screen(self.boundary):
            self._make_preview(spec, seed)

    def _make_preview(self, spec: DatasetSpec, seed: int) -> None:
        """Ask the training process (it has the generators loaded); build here only without one.

        Building in the window would import scikit-learn into it: a second's freeze and
        ~100 MiB the first time a knob moves.
        """
        self._pending_preview = None
        session = self.run.session
        if session is not None and not isinstance(session, ReplaySession) and session.is_alive():
            self._asked_preview = (spec, seed)
            session.send(PreviewData(spec, seed))
            return
        self._show_preview(preview(spec, seed))

    def _take_preview_answer(self) -> None:
        """Show the training process's answer to the newest question (older answers are stale)."""
        insights = self.run.state.insights
        answer = insights.preview
        if answer is None or self._asked_preview is None:
            return
        if (answer.dataset, answer.seed) == self._asked_preview:
            self._asked_preview = None
            self._show_preview(answer)

    def _show_preview(self, answer: DataPreview) -> None:
        if answer.view is None:
            self.boundary.show_preview_error(
                answer.error or "these settings make no points to show"
            )
        else:
            self.boundary.show_preview(answer.view, answer.class_names)
        self.boundary.safe_refresh(self.run.state)

    # --- resources -----------------------------------------------------------------------
    def _show_resources(self) -> None:
        insights = self.run.state.insights
        shown = self._resources_shown
        if insights.resources is None or (
            shown is not None and shown[0] is insights and shown[1] == insights.resources_version
        ):
            return
        self._resources_shown = (insights, insights.resources_version)
        self.status.show_resources(resources_text(insights.resources, resident_mib()))
