"""Cyclic garbage is collected on the GUI thread only.

Python's collector runs in whichever thread happens to allocate when a threshold is crossed.
The window's process has other Python threads (the run recorder's writer; in tests and
``--headless``-style embeddings, an in-process training thread). If one of them frees a Qt
object caught in a reference cycle while the GUI thread is deleting widgets, the two deadlock
on Qt's object lock and the interpreter lock (seen: a test hung in ``~QObject`` with the
collector running inside the training thread's ``import``). So automatic collection is
switched off while the window runs and a timer on the GUI thread collects instead: the young
generations often (cheap), everything now and then.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

YOUNG_EVERY_MS = 1000
FULL_EVERY = 30  # young collections between two full ones


class GuiThreadCollector(QObject):
    """Owns the collection schedule; ``stop`` gives automatic collection back."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ticks = 0
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(YOUNG_EVERY_MS)
        self._timer.timeout.connect(self.collect)
        self._timer.start()

    def collect(self) -> None:
        self._ticks += 1
        gc.collect(2 if self._ticks % FULL_EVERY == 0 else 1)

    def stop(self) -> None:
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
