"""GUI test fixtures: offscreen Qt, a theme, and run states folded from synthetic streams."""

from __future__ import annotations

import gc
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from tests import event_factory  # noqa: E402
from trainscope.gui.gui_thread_gc import GuiThreadCollector  # noqa: E402
from trainscope.gui.run_state import RunState  # noqa: E402
from trainscope.gui.theme import Theme  # noqa: E402


@pytest.fixture(autouse=True)
def collect_old_windows_on_the_gui_thread(qapp):
    """Free the previous tests' windows now, on the GUI thread, and let no other thread collect
    cycles during the test.

    Windows live in reference cycles; left to the cyclic collector, one can be freed inside a
    ``ThreadSession``'s training thread while the GUI thread deletes Qt objects too, and the two
    deadlock on Qt's lock and the interpreter lock (seen: a test hung in ~QObject while the
    collector ran inside the training thread's import of scipy). The app itself collects on
    the GUI thread only (``gui.gui_thread_gc``), and so does every GUI test.
    """
    gc.collect()
    collector = GuiThreadCollector()  # as in the app: automatic collection off, a timer on
    yield
    collector.stop()


@pytest.fixture
def theme() -> Theme:
    return Theme.for_scale(1.0)


def folded(events: list) -> RunState:
    state = RunState()
    state.apply(events)
    return state


@pytest.fixture
def ten_class_state() -> RunState:
    """A healthy 10-class run: 2000 steps, an evaluation every 100, an lr change at 801."""
    return folded(event_factory.training_stream(10))


@pytest.fixture
def binary_state() -> RunState:
    """The same run on a two-class task (so threshold analysis applies)."""
    return folded(event_factory.training_stream(2))
