"""The window on a real training session: what a student does, and what they then see."""

from __future__ import annotations

import multiprocessing
import os
import signal

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests import event_factory
from tests.engine.session_helpers import small_config
from tests.gui.window_helpers import (
    HANG_TIMEOUT_MS,
    RecordingThreadSession,
    of_type,
    open_window,
    pause,
    show_active,
    temp_settings,
    wait_for_run,
    wait_for_steps,
)
from trainscope.engine import commands as cmd
from trainscope.engine import events as ev
from trainscope.engine.worker import ProcessSession
from trainscope.gui import dialogs
from trainscope.gui.main_window import MainWindow


@pytest.fixture
def window(qtbot, tmp_path) -> MainWindow:
    return open_window(qtbot, tmp_path)


def _lr_by_step(events: list[ev.Event]) -> dict[int, float]:
    return {
        int(step): float(lr)
        for metrics in of_type(events, ev.StepMetrics)
        for step, lr in zip(metrics.steps, metrics.lr, strict=True)
    }


def _take_one_step(qtbot, window: MainWindow, from_step: int) -> None:
    qtbot.mouseClick(window.controls.step_button, Qt.LeftButton)
    wait_for_run(qtbot, window, lambda: window.state.step == from_step + 1)


# --- (a) a learning rate set in the controls reaches the optimizer at the next step ---------
def test_typed_learning_rate_is_used_from_the_next_step_and_marked_on_the_loss_chart(qtbot, window):
    wait_for_steps(qtbot, window, 15)
    paused_at = pause(qtbot, window)
    field = window.controls.lr_field
    field.clear()
    qtbot.keyClicks(field, "0.05")
    qtbot.keyClick(field, Qt.Key_Return)
    log = window.session.log
    wait_for_run(qtbot, window, lambda: bool(of_type(log, ev.ParamChanged)))
    change = of_type(log, ev.ParamChanged)[0]
    assert (change.key, change.new, change.step) == ("lr", 0.05, paused_at + 1)
    _take_one_step(qtbot, window, paused_at)
    assert _lr_by_step(log)[paused_at + 1] == 0.05
    loss_panel = window.panels["loss"]
    wait_for_run(qtbot, window, lambda: "lr 0.001 → 0.05" in loss_panel.markers.labels())
    assert window.controls.lr_slider.value() == window.controls.lr_slider.position_of(0.05)


def test_moving_the_learning_rate_slider_changes_the_rate_at_the_next_step(qtbot, window):
    wait_for_steps(qtbot, window, 15)
    paused_at = pause(qtbot, window)
    slider = window.controls.lr_slider
    expected = slider.value_at(slider.value() + slider.pageStep())
    slider.setFocus()
    qtbot.keyClick(slider, Qt.Key_PageUp)  # a tenth of a decade up: 0.001 → 0.00126
    log = window.session.log
    wait_for_run(qtbot, window, lambda: bool(of_type(log, ev.ParamChanged)))
    change = of_type(log, ev.ParamChanged)[0]
    assert (change.new, change.step) == (expected, paused_at + 1)
    assert window.controls.lr_field.text() == "0.00126"
    _take_one_step(qtbot, window, paused_at)
    assert _lr_by_step(log)[paused_at + 1] == expected


# --- (b) the threshold answers at once, from the cached probabilities -----------------------
def test_threshold_drag_while_paused_changes_counts_and_readout_without_a_step(qtbot, window):
    wait_for_steps(qtbot, window, 25)
    paused_at = pause(qtbot, window)
    wait_for_run(qtbot, window, lambda: window.state.latest_validation is not None)
    confusion, threshold = window.panels["confusion"], window.panels["threshold"]
    metrics_before = len(of_type(window.session.log, ev.StepMetrics))
    threshold.slider.setValue(5)  # what a drag to 0.05 emits
    low_cells, low_readout = confusion.cell_strings(), threshold.readout.text()
    threshold.slider.setValue(95)  # no frame in between: the window redraws these two at once
    high_cells, high_readout = confusion.cell_strings(), threshold.readout.text()
    assert low_cells != high_cells
    assert "0.05" in low_readout
    assert "0.95" in high_readout
    assert low_readout != high_readout
    assert window.state.threshold == 0.95
    assert window.state.step == paused_at
    assert len(of_type(window.session.log, ev.StepMetrics)) == metrics_before


# --- (c) pause stops the count, (d) step advances it by exactly one -------------------------
def test_pause_stops_the_step_count_and_step_advances_it_by_exactly_one(qtbot, window):
    wait_for_steps(qtbot, window, 10)
    paused_at = pause(qtbot, window)
    qtbot.wait(300)  # not synchronisation: a paused run must show no progress meanwhile
    assert window.state.step == paused_at
    assert f"step {paused_at:,}" in window.status.fields["step"].text()
    _take_one_step(qtbot, window, paused_at)
    log = window.session.log
    wait_for_run(
        qtbot, window, lambda: any(e.step == paused_at + 1 for e in of_type(log, ev.Evaluation))
    )
    published = [int(step) for m in of_type(log, ev.StepMetrics) for step in m.steps]
    assert published[-1] == paused_at + 1
    assert published.count(paused_at + 1) == 1
    assert window.state.step == paused_at + 1


# --- (e) rewind restores the earlier weights ------------------------------------------------
def test_rewind_restores_the_weights_of_the_earlier_checkpoint(qtbot, window):
    wait_for_steps(qtbot, window, 35)
    pause(qtbot, window)
    qtbot.mouseClick(window.controls.rewind_button, Qt.LeftButton)
    log = window.session.log
    wait_for_run(qtbot, window, lambda: bool(of_type(log, ev.Rewound)))
    rewound = of_type(log, ev.Rewound)[0]
    position = log.index(rewound)
    wait_for_run(qtbot, window, lambda: bool(of_type(log[position:], ev.Evaluation)))
    after = of_type(log[position:], ev.Evaluation)[0]
    earlier = [e for e in of_type(log[:position], ev.Evaluation) if e.step == rewound.to_step]
    assert after.step == rewound.to_step < rewound.from_step
    assert earlier, "the checkpoint step was evaluated before"
    assert np.array_equal(after.probabilities, earlier[0].probabilities)
    assert after.loss == earlier[0].loss
    wait_for_run(qtbot, window, lambda: window.state.step == rewound.to_step)
    assert "rewind from" in " ".join(window.panels["loss"].markers.labels())


# --- (f) one broken panel does not take the others down -------------------------------------
def test_a_panel_that_raises_shows_its_error_and_the_others_keep_drawing(
    qtbot, window, monkeypatch
):
    accuracy, loss = window.panels["accuracy"], window.panels["loss"]

    def broken_refresh(state) -> None:
        raise RuntimeError("simulated drawing bug")

    monkeypatch.setattr(accuracy, "refresh", broken_refresh)
    wait_for_steps(qtbot, window, 5)
    wait_for_run(qtbot, window, lambda: accuracy.last_error is not None)
    assert accuracy.error_label.isVisible()
    assert "simulated drawing bug" in accuracy.error_label.text()
    drawn = len(loss.smoothed_curve.xData)
    wait_for_run(qtbot, window, lambda: len(loss.smoothed_curve.xData) > drawn)
    assert window.isVisible()
    assert loss.last_error is None


def test_closed_panels_are_not_redrawn_and_catch_up_when_shown(qtbot, window, monkeypatch):
    confusion = window.panels["confusion"]
    calls: list[int] = []
    original = confusion.refresh
    monkeypatch.setattr(confusion, "refresh", lambda state: (calls.append(1), original(state)))
    window.docks["confusion"].close()
    wait_for_steps(qtbot, window, 25)
    assert calls == []
    window.actions_by_name["restore_layout"].trigger()
    wait_for_run(qtbot, window, lambda: bool(calls) and confusion.confusion is not None)
    assert window.docks["confusion"].isVisible()


# --- keyboard ------------------------------------------------------------------------------
def test_space_arrows_and_up_drive_the_run_even_with_a_slider_focused(qtbot, window):
    wait_for_steps(qtbot, window, 10)
    slider = window.controls.dropout_slider
    slider.setFocus()
    qtbot.keyClick(slider, Qt.Key_Space)
    wait_for_run(qtbot, window, lambda: window.state.state == "paused")
    qtbot.keyClick(slider, Qt.Key_Right)  # the focused slider keeps its arrows …
    assert slider.value() == 1
    qtbot.keyClick(window, Qt.Key_Escape)  # … until Esc gives them back to the window
    paused_at = window.state.step
    qtbot.keyClick(window.controls.pause_button, Qt.Key_Right)
    wait_for_run(qtbot, window, lambda: window.state.step == paused_at + 1)
    qtbot.keyClick(window.controls.pause_button, Qt.Key_Up)
    log = window.session.log
    wait_for_run(qtbot, window, lambda: any(e.key == "lr" for e in of_type(log, ev.ParamChanged)))
    assert [e.new for e in of_type(log, ev.ParamChanged) if e.key == "lr"] == [0.002]


def test_a_focused_spin_box_keeps_its_arrows_and_a_text_field_passes_up_on(
    qtbot, tmp_path, monkeypatch
):
    # The controls show the run's own settings from the start: momentum 0 here, so ↑ makes 0.05.
    window = open_window(qtbot, tmp_path, small_config(settings={"momentum": 0.0}), start=False)
    # What the run reports at its start: every setting, momentum 0 among them.
    window.controls.follow([event_factory.run_started(2, settings={"momentum": 0.0})], "running")
    questions: list[str] = []
    monkeypatch.setattr(dialogs, "confirm", lambda *args, **kwargs: questions.append(args[1]))
    sent: list = []
    window.controls.command_requested.connect(sent.append)
    spin = window.controls.setting_widgets["momentum"]
    spin.setFocus()
    qtbot.keyClick(spin, Qt.Key_Up)
    assert sent == [cmd.SetParam("momentum", 0.05)]
    field = window.controls.lr_field
    field.setFocus()
    qtbot.keyClick(field, Qt.Key_Up)
    assert sent[-1] == cmd.SetParam("lr", 0.002)
    assert field.text() == "0.002"
    qtbot.keyClick(field, Qt.Key_R)  # typed, not a reset
    assert field.text() == "0.002r"
    assert questions == []


def test_reset_key_asks_first(qtbot, window, monkeypatch):
    questions: list[str] = []
    monkeypatch.setattr(dialogs, "confirm", lambda *args, **kwargs: questions.append(args[1]))
    wait_for_steps(qtbot, window, 5)
    qtbot.keyClick(window, Qt.Key_R)
    assert questions == ["Reset training"]


# --- (i) interface size ---------------------------------------------------------------------
def test_interface_size_follows_ctrl_plus_and_is_remembered(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, start=False)
    qtbot.keyClick(window, Qt.Key_Equal, Qt.ControlModifier)
    assert window.theme.scale == pytest.approx(1.15)
    assert all(panel.theme.scale == pytest.approx(1.15) for panel in window.panels.values())
    assert window.controls.theme.scale == pytest.approx(1.15)
    window.close()
    again = MainWindow(
        small_config(), session_factory=RecordingThreadSession, settings=temp_settings(tmp_path)
    )
    show_active(qtbot, again)
    assert again.theme.scale == pytest.approx(1.15)
    assert again.panels["loss"].theme.scale == pytest.approx(1.15)
    qtbot.keyClick(again, Qt.Key_0, Qt.ControlModifier)
    assert again.theme.scale == 1.0


def test_the_dock_layout_is_remembered_and_can_be_restored(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, start=False)
    window.docks["calibration"].close()
    window.close()
    again = MainWindow(
        small_config(), session_factory=RecordingThreadSession, settings=temp_settings(tmp_path)
    )
    show_active(qtbot, again)
    assert not again.docks["calibration"].isVisible()
    assert again.docks["loss"].isVisible()
    again.actions_by_name["restore_layout"].trigger()
    assert all(dock.isVisible() or name == "setup" for name, dock in again.docks.items())


# --- setup: a new dataset or model means a new run ------------------------------------------
def test_setup_applies_a_new_model_only_after_confirmation(qtbot, window, monkeypatch):
    wait_for_steps(qtbot, window, 5)
    first_session = window.session
    answers = iter([False, True])
    monkeypatch.setattr(dialogs, "confirm", lambda *args, **kwargs: next(answers))
    window.setup.hidden_field.setText("8,8")
    window.setup.apply_button.click()
    assert window.session is first_session
    window.setup.apply_button.click()
    assert window.session is not first_session
    assert not first_session.is_alive()
    wait_for_run(
        qtbot,
        window,
        lambda: window.state.run is not None and "2-8-8-2" in window.state.run.model_description,
    )
    assert window.config.model.hidden == (8, 8)
    assert window.config.eval_every == 10  # everything else carried over


# --- (g) a killed worker: banner, data kept, restart; (h) closing leaves no worker ----------
def test_killed_worker_shows_banner_keeps_the_charts_and_restarts(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, session_factory=ProcessSession)
    wait_for_steps(qtbot, window, 20)
    first_pid = window.session.pid
    loss = window.panels["loss"]
    wait_for_run(qtbot, window, lambda: len(loss.smoothed_curve.xData) > 0)
    os.kill(first_pid, signal.SIGKILL)
    qtbot.waitUntil(window.banner.isVisible, timeout=HANG_TIMEOUT_MS)
    assert "killed" in window.banner.message()
    assert "kept" in window.banner.message()
    drawn, first_run = len(loss.smoothed_curve.xData), window.state.run
    assert drawn > 0
    assert window.state.step >= 20
    qtbot.mouseClick(window.banner.restart_button, Qt.LeftButton)
    assert window.session.pid != first_pid
    assert not window.banner.isVisible()
    assert len(loss.smoothed_curve.xData) == drawn  # kept until the new run starts
    qtbot.waitUntil(lambda: window.state.run is not first_run, timeout=HANG_TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.state.step > 0, timeout=HANG_TIMEOUT_MS)
    window.close()
    assert multiprocessing.active_children() == []


def test_closing_the_window_ends_the_worker_process(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, session_factory=ProcessSession)
    session = window.session
    wait_for_run(qtbot, window, lambda: window.state.run is not None)
    window.close()
    assert not session.is_alive()
    assert multiprocessing.active_children() == []
    assert window.summary.to_dict()["finished"] == "stopped"


def test_before_the_run_starts_the_controls_show_its_settings_not_widget_defaults(qtbot, tmp_path):
    config = small_config(settings={"optimizer": "adam", "lr": 0.003, "batch_size": 32})
    window = open_window(qtbot, tmp_path, config, start=False)
    controls = window.controls
    assert controls.setting_widgets["optimizer"].currentText() == "adam"
    assert controls.lr_field.text() == "0.003"
    assert controls.setting_widgets["batch_size"].value() == 32
