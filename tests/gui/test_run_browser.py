"""Recorded runs in the window: recording, the run browser, replay, compare and fork."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QImage

from tests.engine.session_helpers import small_config
from tests.gui.window_helpers import open_window, wait_for_run
from trainscope.engine import events as ev
from trainscope.engine.runs.store import RunStore
from trainscope.gui import dialogs
from trainscope.gui.app import prepare_window, window_with_dialogs
from trainscope.gui.recording import RunLibrary
from trainscope.gui.run_browser import size_text
from trainscope.gui.window_options import WindowOptions

STEPS = 60


def _train_to_the_end(qtbot, window) -> int:
    """Wait until the window's run completed, then end the session (which files the recording)."""
    wait_for_run(qtbot, window, lambda: window.state.state == "finished")
    run_id = window.recording.last_run_id
    window.shutdown_session()
    return run_id


def _series(state) -> dict[str, np.ndarray]:
    columns = {
        f"train.{name}": state.train[name].copy() for name in ("step", "loss", "smoothed_loss")
    }
    columns |= {f"eval.{name}": state.evaluations[name].copy() for name in state.evaluations.names}
    return columns


@pytest.fixture
def recorded_window(qtbot, tmp_path):
    """A window that recorded one complete live run; (window, run id, its RunState series)."""
    library = RunLibrary(tmp_path / "runs")
    window = open_window(qtbot, tmp_path, small_config(steps=STEPS), runs=library)
    run_id = _train_to_the_end(qtbot, window)
    return window, run_id, _series(window.state)


def test_a_window_run_is_recorded_and_replays_into_the_same_state(qtbot, recorded_window):
    window, run_id, live = recorded_window
    with window.runs.library.open_store() as store:
        info = store.get_run(run_id)
        assert info.status == "completed"
        assert info.steps == STEPS
        assert any(isinstance(event, ev.RunStarted) for event in store.load_events(run_id))
    browser = window.runs.open_browser()
    assert browser.ids() == [run_id]
    assert browser.table.item(0, 3).text() == "completed"
    assert browser.replay(run_id, "max")
    replays = window.runs.replays
    assert replays.active
    assert replays.toolbar.isVisible()
    wait_for_run(qtbot, window, lambda: replays.session.at_end and window.state.step == STEPS)
    replayed = _series(window.state)
    assert live.keys() == replayed.keys()
    for name in live:
        np.testing.assert_array_equal(replayed[name], live[name], err_msg=name)
    # Scrubbing back rebuilds the state at that step, as a fresh start (no reset marker).
    replays.bar.seek(30)
    wait_for_run(qtbot, window, lambda: window.state.step == 30)
    assert window.state.train["step"][-1] == 30
    assert all(marker.kind != "reset" for marker in window.state.markers)


def test_rename_note_and_delete_from_the_browser(qtbot, recorded_window, monkeypatch):
    window, run_id, _ = recorded_window
    browser = window.runs.open_browser()
    browser.rename(run_id, "first try")
    browser.set_note(run_id, "lr too high?")
    assert browser.table.item(0, 0).text() == "first try"
    assert browser.table.item(0, 8).text() == "lr too high?"
    asked = []
    monkeypatch.setattr(dialogs, "confirm", lambda *args: asked.append(args) or False)
    browser.select(run_id)
    browser.ask_delete()
    assert asked
    assert browser.ids() == [run_id]
    monkeypatch.setattr(dialogs, "confirm", lambda *args: True)
    browser.ask_delete()
    assert browser.ids() == []


def test_the_browser_shows_each_runs_size_and_the_stores_total(qtbot, recorded_window):
    window, run_id, _ = recorded_window
    with window.runs.library.open_store() as store:
        stored, on_disk = store.get_run(run_id).stored_bytes, store.file_bytes
    assert 0 < stored < on_disk
    browser = window.runs.open_browser()
    assert browser.table.horizontalHeaderItem(7).text() == "Size"
    assert browser.table.item(0, 7).text() == size_text(stored)
    assert f"1 run, {size_text(on_disk)} on disk" in browser.location.text()
    assert [size_text(n) for n in (999, 3_400, 12_345_678, 2_500_000_000)] == [
        "999 B",
        "3.40 kB",
        "12.3 MB",
        "2.50 GB",
    ]


def test_compare_and_fork_from_the_browser(qtbot, recorded_window):
    window, first, _ = recorded_window
    browser = window.runs.open_browser()
    # Fork the finished run from its last checkpoint with another dropout: a new live run.
    assert browser.fork(first, STEPS, {"dropout": 0.25})
    wait_for_run(qtbot, window, lambda: window.state.step >= STEPS + 20)
    assert window.state.evaluations["step"][0] == STEPS  # it went on from the fork's step
    assert window.state.settings["dropout"] == 0.25
    fork = window.recording.last_run_id
    window.shutdown_session()
    with RunStore.open_dir(window.runs.library.runs_dir) as store:
        assert store.get_run(fork).forked_from == {
            "run_id": first,
            "uid": store.get_run(first).uid,
            "name": store.get_run(first).name,
            "step": STEPS,
        }
    browser.refresh()
    assert f"fork of run {first} @ {STEPS}" in browser.table.item(0, 0).text()
    view = browser.compare([first, fork])
    assert view is not None
    for run_id in (first, fork):
        for kind in ("training", "validation"):
            x, y = view.curves[(run_id, kind)].getData()
            assert len(x) > 0
            assert np.isfinite(y).any()
    assert "settings.dropout" in view.comparison.differing
    assert view.cell_text("settings.dropout", fork) == "0.25"
    view.close()


def test_browse_opens_the_browser_and_the_screenshot_shows_it_over_the_window(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, start=False, runs=RunLibrary(tmp_path / "runs"))
    prepare_window(window, small_config(), WindowOptions(browse=True))
    qtbot.waitUntil(lambda: window.runs.browser is not None and window.runs.browser.isVisible())
    browser = window.runs.browser
    picture = window_with_dialogs(window).toImage().convertToFormat(QImage.Format.Format_RGB32)
    where = QRect(browser.geometry().topLeft() - window.geometry().topLeft(), browser.size())
    assert window.rect().contains(where), "the browser opens over the window"
    drawn = picture.copy(where)
    assert drawn == browser.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    assert picture != window.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
