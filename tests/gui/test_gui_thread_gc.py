"""Cyclic garbage is freed by the GUI thread's timer, not by whichever thread allocates."""

from __future__ import annotations

import gc
import weakref

from trainscope.gui.gui_thread_gc import GuiThreadCollector


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cyclic collector frees it


def test_the_collector_frees_cycles_on_its_timer_with_automatic_collection_off(qtbot):
    """(Every GUI test runs under one, from the conftest; this one makes its own to check it.)"""
    collector = GuiThreadCollector()
    try:
        assert not gc.isenabled()
        garbage = weakref.ref(Node())
        assert garbage() is not None  # nothing collects it until the timer does
        qtbot.waitUntil(lambda: garbage() is None, timeout=10_000)
    finally:
        collector.stop()
    assert not gc.isenabled()  # the conftest's collector still holds it off until the test ends
