"""The controls panel alone: every control sends one validated command, and follows the run."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests import event_factory
from trainscope.engine import commands as cmd
from trainscope.engine import events as ev
from trainscope.engine.settings import SETTINGS
from trainscope.gui import dialogs
from trainscope.gui.controls import ControlsPanel
from trainscope.gui.setting_widgets import LadderSpinBox, LogSlider


@pytest.fixture
def controls(qtbot, theme) -> ControlsPanel:
    panel = ControlsPanel(theme)
    qtbot.addWidget(panel)
    panel.show()
    panel.follow([event_factory.run_started(2)], "running")
    return panel


@pytest.fixture
def sent(controls) -> list:
    commands: list = []
    controls.command_requested.connect(commands.append)
    return commands


def type_lr(qtbot, controls: ControlsPanel, text: str) -> None:
    controls.lr_field.clear()
    qtbot.keyClicks(controls.lr_field, text)
    qtbot.keyClick(controls.lr_field, Qt.Key_Return)


@pytest.mark.parametrize("typed", ["-1", "abc", "0"])
def test_an_invalid_learning_rate_is_explained_inline_and_not_sent(qtbot, controls, sent, typed):
    type_lr(qtbot, controls, typed)
    assert sent == []
    assert controls.error_label.isVisible()
    sentence = controls.error_label.text()
    assert sentence.count(".") <= 1
    assert "\n" not in sentence
    assert "learning rate" in sentence or "lr" in sentence
    type_lr(qtbot, controls, "0.01")  # fixing it clears the message
    assert sent == [cmd.SetParam("lr", 0.01)]
    assert not controls.error_label.isVisible()


@pytest.mark.parametrize("typed", ["50", "1e-7", "10.5"])
def test_a_learning_rate_beyond_the_slider_is_refused_in_one_sentence(qtbot, controls, sent, typed):
    type_lr(qtbot, controls, typed)
    assert sent == []
    sentence = controls.error_label.text()
    assert controls.error_label.isVisible()
    assert "\n" not in sentence
    assert "1e-5" in sentence
    assert "10" in sentence
    assert typed in sentence
    assert controls.lr_field.toolTip() == sentence  # also where the pointer is
    assert controls.lr_slider.value() == controls.lr_slider.position_of(1e-3)  # unmoved
    type_lr(qtbot, controls, "10")  # the slider's end is in range
    assert sent == [cmd.SetParam("lr", 10.0)]
    assert not controls.error_label.isVisible()
    assert controls.lr_slider.value() == controls.lr_slider.maximum()
    assert "e.g." in controls.lr_field.toolTip()  # the field's own help is back


def test_the_field_and_the_slider_span_the_same_range(controls):
    slider = controls.lr_slider
    low, high = slider.value_at(slider.minimum()), slider.value_at(slider.maximum())
    assert controls.request_setting("lr", low)
    assert controls.request_setting("lr", high)
    assert not controls.request_setting("lr", high * 1.01)
    assert not controls.request_setting("lr", low * 0.99)


def test_up_at_the_top_of_the_range_is_refused_not_sent(controls, sent):
    controls.follow([ev.ParamChanged(step=5, key="lr", old=1e-3, new=8.0)], "running")
    controls.scale_lr(2.0)
    assert sent == []
    assert controls.error_label.isVisible()


def test_typed_learning_rate_moves_the_slider_without_a_second_command(qtbot, controls, sent):
    type_lr(qtbot, controls, "3e-2")
    assert sent == [cmd.SetParam("lr", 0.03)]
    assert controls.lr_slider.value() == controls.lr_slider.position_of(0.03)
    assert controls.lr_field.text() == "0.03"


def test_released_slider_sends_its_value_and_fills_the_field(controls, sent):
    slider = controls.lr_slider
    slider.setValue(slider.position_of(0.1))  # what a release at that position emits
    assert sent == [cmd.SetParam("lr", 0.1)]
    assert controls.lr_field.text() == "0.1"


def test_a_change_reported_by_the_run_updates_widgets_without_echo(controls, sent):
    controls.follow(
        [
            ev.ParamChanged(step=201, key="lr", old=0.001, new=0.5),
            ev.ParamChanged(step=201, key="dropout", old=0.0, new=0.3),
            ev.ParamChanged(step=201, key="optimizer", old="adam", new="sgd"),
            ev.ParamChanged(step=201, key="batch_size", old=32, new=64),
        ],
        "running",
    )
    assert sent == []
    assert controls.lr_field.text() == "0.5"
    assert controls.lr_slider.value() == controls.lr_slider.position_of(0.5)
    assert controls.dropout_slider.value() == 30
    assert controls.dropout_value.text() == "0.3"
    assert controls.setting_widgets["optimizer"].currentText() == "sgd"
    assert controls.setting_widgets["batch_size"].value() == 64


def test_every_setting_control_sends_a_validated_command(controls, sent):
    controls.dropout_slider.setValue(25)
    controls.setting_widgets["weight_decay"].stepBy(1)
    controls.setting_widgets["momentum"].setValue(0.5)
    controls.setting_widgets["optimizer"].setCurrentText("sgd")
    controls.setting_widgets["batch_size"].setValue(128)
    controls.setting_widgets["grad_clip"].setValue(1.5)
    controls.setting_widgets["label_smoothing"].stepBy(2)
    assert sent == [
        cmd.SetParam("dropout", 0.25),
        cmd.SetParam("weight_decay", 1e-5),
        cmd.SetParam("momentum", 0.5),
        cmd.SetParam("optimizer", "sgd"),
        cmd.SetParam("batch_size", 128),
        cmd.SetParam("grad_clip", 1.5),
        cmd.SetParam("label_smoothing", 0.1),
    ]


def test_the_settings_column_is_built_from_the_settings_table(controls):
    """Every setting the table gives a spin box or a list has its row, label and tooltip."""
    form = controls.settings_form
    labels = {
        form.labelForField(widget).text(): name for name, widget in controls.setting_widgets.items()
    }
    expected = {
        spec.label: name
        for name, spec in SETTINGS.items()
        if spec.widget in ("spin", "ladder", "combo")
    }
    assert labels == expected
    assert "label smoothing" in labels
    smoothing = controls.setting_widgets["label_smoothing"]
    assert smoothing.specialValueText() == "off"
    assert smoothing.maximum() == 0.5
    assert "overconfidence" in smoothing.toolTip()


def test_a_label_smoothing_change_from_a_script_moves_its_box_without_echo(controls, sent):
    controls.follow([ev.ParamChanged(step=40, key="label_smoothing", old=0.0, new=0.2)], "running")
    assert controls.setting_widgets["label_smoothing"].value() == pytest.approx(0.2)
    assert sent == []


def test_up_twice_doubles_twice_before_the_run_confirms(controls, sent):
    controls.scale_lr(2.0)
    controls.scale_lr(2.0)
    controls.scale_lr(0.5)
    assert [command.value for command in sent] == [0.002, 0.004, 0.002]


def test_the_pause_button_follows_the_run_state(controls, sent):
    assert "Pause" in controls.pause_button.text()
    controls.pause_button.click()
    controls.follow([ev.StateChanged(step=40, state="paused")], "paused")
    assert "Resume" in controls.pause_button.text()
    controls.pause_button.click()
    controls.step_button.click()
    controls.rewind_button.click()
    assert sent == [cmd.Pause(), cmd.Resume(), cmd.Step(1), cmd.Rewind()]


def test_reset_and_the_test_set_ask_first(controls, sent, monkeypatch):
    answers = iter([False, True, False, True])
    monkeypatch.setattr(dialogs, "confirm", lambda *args, **kwargs: next(answers))
    controls.reset_button.click()
    controls.reset_button.click()
    controls.test_set_button.click()
    controls.test_set_button.click()
    assert sent == [cmd.Reset(), cmd.OpenTestSet()]
    assert not controls.test_set_button.isEnabled()
    controls.follow([ev.TestSetOpened(step=120)], "running")
    assert controls.test_set_button.text() == "Test set opened at step 120"
    controls.new_session()
    assert controls.test_set_button.isEnabled()


def test_run_started_fills_every_control_and_the_run_description(controls, sent):
    settings = dict(event_factory.SETTINGS, momentum=0.8, grad_clip=2.0, weight_decay=5e-4)
    controls.follow([event_factory.run_started(10, settings)], "running")
    assert sent == []
    assert controls.setting_widgets["momentum"].value() == 0.8
    assert controls.setting_widgets["grad_clip"].value() == 2.0
    assert controls.setting_widgets["weight_decay"].value() == pytest.approx(5e-4)
    assert "10 classes" in controls.run_info_label.text()
    assert "18,000 parameters" in controls.run_info_label.text()


def test_log_slider_covers_six_decades_and_lands_on_round_values(qtbot):
    slider = LogSlider(1e-5, 10.0)
    qtbot.addWidget(slider)
    assert slider.value_at(slider.minimum()) == 1e-5
    assert slider.value_at(slider.maximum()) == 10.0
    for value in (1e-4, 0.003, 0.05, 1.0):
        assert slider.value_at(slider.position_of(value)) == pytest.approx(value, rel=0.02)
    assert slider.position_of(100.0) == slider.maximum()
    assert slider.position_of(-1) == 0


def test_ladder_spin_box_steps_one_two_five(qtbot):
    spin = LadderSpinBox(0.0, 0.1, 5)
    qtbot.addWidget(spin)
    seen = []
    for _ in range(4):
        spin.stepBy(1)
        seen.append(spin.value())
    assert seen == pytest.approx([1e-5, 2e-5, 5e-5, 1e-4])
    spin.stepBy(-2)
    assert spin.value() == pytest.approx(2e-5)
