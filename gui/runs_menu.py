"""The Runs and Export menus: browse recorded runs, replay, compare, fork, export, import.

``RunTools`` is everything the window needs for recorded runs, built once per window: the
replay controller, the run browser (made when first opened) and the menu actions. Each export
is a method taking a path (what tests call) behind a menu entry that asks for the path; a
failure is one sentence in a dialog. Of the window it gets the ``QMainWindow`` its menus,
toolbar and dialogs sit in, its docks and recording, and ``gui.window_api``'s protocols.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from trainscope.engine.errors import TrainScopeError
from trainscope.engine.runs.archive import import_archive
from trainscope.engine.runs.export import export_run
from trainscope.gui import dialogs
from trainscope.gui.panel_image import save_panel_png
from trainscope.gui.recording import RunLibrary
from trainscope.gui.replay_bar import ReplayController

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

    from PySide6.QtWidgets import QDockWidget, QMainWindow

    from trainscope.gui.recording import WindowRecording
    from trainscope.gui.run_browser import RunBrowser
    from trainscope.gui.window_api import RunReader, RunStarter, StatusMessages, ThemeReader

#: format → (menu text, suggested file name, "is it a folder")
EXPORTS = {
    "csv": ("Run as CSV…", "run-{id}-csv", True),
    "tensorboard": ("Run as TensorBoard logs…", "run-{id}-tensorboard", True),
    "archive": ("Run as archive…", "run-{id}.zip", False),
    "weights": ("Trained weights…", "run-{id}-weights.pt", False),
}


class RunTools(QObject):
    """Recorded runs in the window: replay, browser, export and import."""

    def __init__(
        self,
        window: QMainWindow,
        library: RunLibrary | None,
        *,
        run: RunReader,
        starter: RunStarter,
        status: StatusMessages,
        theme: ThemeReader,
        docks: Mapping[str, QDockWidget],
        recording: WindowRecording,
    ) -> None:
        """``window`` holds the menus, the replay bar and the dialogs; ``recording`` knows the
        live run last recorded (what an export takes when nothing else is chosen)."""
        super().__init__(window)
        self.window = window
        self.starter, self.status, self.theme_source = starter, status, theme
        self.docks, self.recording = docks, recording
        # A window that does not record still browses the default folder (or the one given).
        self.library = library or RunLibrary(record=False)
        self.replays = ReplayController(
            window, self.library, run=run, starter=starter, status=status
        )
        self.browser: RunBrowser | None = None
        self.actions: dict[str, QAction] = {}
        self._build_menus()

    # ----- menus ------------------------------------------------------------------------------
    def _add(
        self,
        menu: QMenu,
        name: str,
        text: str,
        slot: Callable[..., object],  # triggered may pass its checked state
        shortcut: str | None = None,
    ) -> None:
        action = QAction(text, self.window)
        if shortcut:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        self.window.addAction(action)
        self.actions[name] = action

    def _build_menus(self) -> None:
        bar = self.window.menuBar()
        runs = bar.addMenu("R&uns")
        self._add(runs, "browse_runs", "Browse recorded runs…", self.open_browser, "Ctrl+Shift+R")
        export = bar.addMenu("&Export")
        panels = export.addMenu("Panel as PNG")
        for name, dock in self.docks.items():
            action = QAction(dock.windowTitle(), self.window)
            action.triggered.connect(lambda _checked=False, name=name: self.ask_panel_png(name))
            panels.addAction(action)
            self.actions[f"png_{name}"] = action
        self._add(export, "png_window", "Window as PNG…", self.ask_window_png)
        export.addSeparator()
        for format, (text, _suggested, _folder) in EXPORTS.items():
            self._add(
                export,
                f"export_{format}",
                text,
                lambda _checked=False, format=format: self.ask_export(format),
            )
        export.addSeparator()
        self._add(export, "import_archive", "Import archive…", self.ask_import)

    # ----- the browser ------------------------------------------------------------------------
    @Slot()
    def open_browser(self) -> RunBrowser:
        from trainscope.gui.run_browser import RunBrowser

        if self.browser is None:
            self.browser = RunBrowser(
                self.window,
                self.library,
                self.replays,
                theme=self.theme_source,
                starter=self.starter,
            )
        else:
            self.browser.refresh()
        self.browser.show()
        self.browser.raise_()
        return self.browser

    def current_run_id(self) -> int | None:
        """The run to export: the one selected in the browser, else the one on screen."""
        if self.browser is not None and self.browser.isVisible():
            selected = self.browser.selected_ids()
            if len(selected) == 1:
                return selected[0]
        if self.replays.active and self.replays.session is not None:
            return self.replays.session.run_id
        return self.recording.last_run_id

    # ----- exports (paths in) -------------------------------------------------------------------
    def save_png(self, widget: QWidget, path: str | Path) -> str | None:
        """A PNG of ``widget`` as it is on screen (the window); a sentence when it cannot be written.

        A single panel is saved with ``gui.panel_image.save_panel_png`` instead: its charts at a
        size worth projecting.
        """
        if not widget.grab().save(str(path), "PNG"):
            return f"could not write the image to {path}"
        return None

    def export(self, run_id: int, format: str, path: str | Path) -> str | None:
        """Export run ``run_id`` as ``format``; a sentence when that fails."""
        try:
            with self.library.open_store() as store:
                export_run(store, run_id, format, path)
        except TrainScopeError as error:
            return str(error)
        return None

    def import_archive(self, path: str | Path) -> tuple[int | None, str | None]:
        """Add an archived run to the store: (its new id, None) or (None, a sentence)."""
        try:
            with self.library.open_store() as store:
                run_id = import_archive(store, path)
        except TrainScopeError as error:
            return None, str(error)
        if self.browser is not None:
            self.browser.refresh()
        return run_id, None

    # ----- the same, asking for a path ----------------------------------------------------------
    def _report(self, title: str, problem: str | None, done: str) -> None:
        if problem:
            dialogs.show_error(self.window, title, problem)
        else:
            self.status.show_message(done)

    def _ask_path(self, title: str, suggested: str, filter: str = "") -> str | None:
        path, _ = QFileDialog.getSaveFileName(self.window, title, suggested, filter)
        return path or None

    def ask_panel_png(self, name: str) -> None:
        dock = self.docks[name]
        if path := self._ask_path(
            f"Save {dock.windowTitle()} as PNG", f"{name}.png", "PNG (*.png)"
        ):
            problem = save_panel_png(dock.widget(), path)  # its charts, sharp, no checkboxes
            self._report("Cannot save the image", problem, f"saved {path}")

    @Slot()
    def ask_window_png(self) -> None:
        if path := self._ask_path("Save the window as PNG", "trainscope.png", "PNG (*.png)"):
            self._report("Cannot save the image", self.save_png(self.window, path), f"saved {path}")

    def ask_export(self, format: str) -> None:
        run_id = self.current_run_id()
        if run_id is None:
            dialogs.show_error(self.window, "Export", "there is no recorded run to export yet")
            return
        text, suggested, _folder = EXPORTS[format]
        if path := self._ask_path(text.rstrip("…"), suggested.format(id=run_id)):
            problem = self.export(run_id, format, path)
            self._report("Cannot export", problem, f"exported run {run_id} as {format} to {path}")

    @Slot()
    def ask_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Import a run archive", "", "Run archives (*.zip);;All files (*)"
        )
        if path:
            run_id, problem = self.import_archive(path)
            self._report("Cannot import", problem, f"imported {path} as run {run_id}")
