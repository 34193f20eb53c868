"""The window's layout holds on every screen a class meets and at every interface size.

Each case opens the real window at a size (as ``--size`` would) and an interface size, feeds
it a ten-class run, and asks ``layout_checks.layout_problems`` what a person would find broken:
a plot below 200 x 150 px, a cut title, readout, tab or status field. The zoom round trip,
Restore default layout, a resize and a saved layout too big for the screen are checked too.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt

from tests import event_factory
from tests.gui.layout_checks import layout_problems, settle
from tests.gui.window_helpers import show_active, temp_settings
from trainscope.engine.config import RunConfig
from trainscope.gui.main_window import MainWindow
from trainscope.gui.status_line import MESSAGE_ROOM_PX
from trainscope.gui.window_layout import size_for_screen

SIZES = [(1024, 640), (1366, 768), (1920, 1080), (2560, 1440)]
SCALES = [0.85, 1.0, 1.15, 1.3, 1.5]


def open_at(qtbot, tmp_path, size: tuple[int, int], scale: float = 1.0) -> MainWindow:
    """A window as launched with ``--size`` after a session at ``scale``, showing a run."""
    settings = temp_settings(tmp_path)
    settings.setValue("interface/scale", scale)
    window = MainWindow(
        RunConfig(), session_factory=lambda _config: None, settings=settings, size=size
    )
    show_active(qtbot, window)
    show_run(window)
    return window


def show_run(window: MainWindow) -> None:
    window.state.apply(event_factory.training_stream(10))
    for panel in window.panels.values():
        panel.safe_refresh(window.state)
    window.status.show_resources("worker CPU 17% · 401 MiB · window 154 MiB")
    window.status.show_run(window.state)
    settle(window)


def dock_geometry(window: MainWindow) -> dict[str, tuple[int, int, int, int]]:
    settle(window)
    return {  # a dock tabbed behind another has no place of its own on screen
        name: dock.geometry().getRect()
        for name, dock in window.docks.items()
        if dock.isVisible() and not dock.visibleRegion().isEmpty()
    }


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_the_default_layout_holds_at_every_size_and_interface_size(qtbot, tmp_path, size, scale):
    window = open_at(qtbot, tmp_path, size, scale)
    assert layout_problems(window) == []
    message = window.status.message_label.width()
    assert message >= MESSAGE_ROOM_PX * window.theme.scale * 0.9  # room left to read a message
    column = window.docks["controls"].width()
    assert column <= window.docks["controls"].minimumSizeHint().width() + 2  # charts get the rest


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_zooming_in_and_out_keeps_the_layout_usable_and_the_round_trip_is_exact(
    qtbot, tmp_path, size
):
    window = open_at(qtbot, tmp_path, size)
    before = dock_geometry(window)
    for key, modifier in [(Qt.Key_Equal, Qt.ControlModifier)] * 2:
        qtbot.keyClick(window, key, modifier)
        show_run(window)
        assert layout_problems(window) == [], f"zoomed to {window.theme.scale:.0%}"
    for _ in range(3):
        qtbot.keyClick(window, Qt.Key_Minus, Qt.ControlModifier)
        show_run(window)
        assert layout_problems(window) == [], f"zoomed to {window.theme.scale:.0%}"
    qtbot.keyClick(window, Qt.Key_0, Qt.ControlModifier)
    assert window.theme.scale == 1.0
    assert dock_geometry(window) == before


def test_restore_default_layout_fits_the_window_it_is_in_now(qtbot, tmp_path):
    window = open_at(qtbot, tmp_path, (1920, 1080))
    window.resize(1024, 640)
    window.actions_by_name["restore_layout"].trigger()
    show_run(window)
    assert window.layout_keeper.tier in ("compact", "narrow")
    assert layout_problems(window) == []


def test_a_bigger_window_gives_its_width_to_the_charts_not_the_controls(qtbot, tmp_path):
    window = open_at(qtbot, tmp_path, (1366, 768))
    column, loss = window.docks["controls"].width(), window.docks["loss"].width()
    window.resize(1920, 1080)
    qtbot.waitUntil(lambda: window.layout_keeper.tier == "wide")  # laid out for the new size
    settle(window)
    assert abs(window.docks["controls"].width() - column) <= 2
    assert window.docks["loss"].width() > loss + 30
    assert layout_problems(window) == []


def test_a_saved_layout_too_big_for_this_screen_is_dropped(qtbot, tmp_path):
    big = open_at(qtbot, tmp_path, (2560, 1440))
    big.close()  # remembers its geometry and layout
    settings = QSettings(str(tmp_path / "trainscope.ini"), QSettings.IniFormat)
    again = MainWindow(  # as the app opens it: sized for this screen
        RunConfig(), session_factory=lambda _config: None, settings=settings, size=size_for_screen()
    )
    show_active(qtbot, again)
    screen = again.screen().availableGeometry()  # 800 x 800 on the offscreen platform
    assert not again._layout_was_restored
    assert again.width() <= max(screen.width(), again.minimumSizeHint().width())
    assert again.height() <= screen.height()


@pytest.mark.parametrize("size", [(1024, 640), (1920, 1080)], ids=["1024x640", "1920x1080"])
def test_classroom_mode_holds_too(qtbot, tmp_path, size):
    window = open_at(qtbot, tmp_path, size)
    window.set_classroom(True)
    show_run(window)
    assert layout_problems(window) == []
