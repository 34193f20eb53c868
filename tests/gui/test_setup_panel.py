"""The setup panel: a new dataset or model is checked in full, asked about, then handed over."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QFileDialog

from tests.engine.session_helpers import small_config
from trainscope.engine.commands import SetParam
from trainscope.engine.config import ScheduledChange
from trainscope.gui import dialogs
from trainscope.gui.setup_panel import SetupPanel


@pytest.fixture
def setup(qtbot, theme) -> SetupPanel:
    panel = SetupPanel(theme, small_config())
    qtbot.addWidget(panel)
    panel.show()
    return panel


@pytest.fixture
def applied(setup) -> list:
    configs: list = []
    setup.apply_requested.connect(configs.append)
    return configs


def choose_file(monkeypatch, path) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(path), ""))


def answer(monkeypatch, *answers: bool) -> None:
    replies = iter(answers)
    monkeypatch.setattr(dialogs, "confirm", lambda *args, **kwargs: next(replies))


def test_form_shows_the_current_configuration(setup):
    assert setup.dataset_combo.currentText() == "moons"
    assert setup.n_samples_spin.value() == 400
    assert setup.hidden_field.text() == "16"


def test_a_confirmed_change_builds_on_the_current_configuration(setup, applied, monkeypatch):
    answer(monkeypatch, False, True)
    setup.hidden_field.setText("32,32")
    setup.label_noise_spin.setValue(0.1)
    setup.apply_button.click()
    assert applied == []
    setup.apply_button.click()
    (config,) = applied
    assert config.model.hidden == (32, 32)
    assert config.dataset.label_noise == pytest.approx(0.1)
    assert config.eval_every == small_config().eval_every
    assert config.dataset.name == "moons"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda panel: panel.hidden_field.setText("12,abc"), "--hidden"),
        (lambda panel: panel.model_combo.setCurrentText("cnn"), "CNN"),
        (lambda panel: panel.n_samples_spin.setValue(5), "n_samples"),
    ],
)
def test_an_invalid_choice_is_one_sentence_and_nothing_restarts(
    setup, applied, monkeypatch, change, words
):
    answer(monkeypatch, True)
    change(setup)
    setup.apply_button.click()
    assert applied == []
    assert setup.error_label.isVisible()
    assert words in setup.error_label.text()
    assert "\n" not in setup.error_label.text()


def test_csv_import_fills_the_label_columns_and_runs_on_the_file(
    setup, applied, monkeypatch, tmp_path
):
    path = tmp_path / "flowers.csv"
    rows = ["kind,petal,sepal"] + [f"{'ab'[i % 2]},{i},{i * 2 % 7}" for i in range(60)]
    path.write_text("\n".join(rows) + "\n")
    choose_file(monkeypatch, path)
    setup.import_button.click()
    columns = [
        setup.label_column_combo.itemText(i) for i in range(setup.label_column_combo.count())
    ]
    assert columns == ["kind", "petal", "sepal"]
    assert setup.label_column_combo.currentText() == "sepal"  # the last column by default
    setup.label_column_combo.setCurrentText("kind")
    assert not setup.error_label.isVisible()
    assert "60 rows" in setup.csv_label.text()
    assert "2 classes" in setup.csv_label.text()
    answer(monkeypatch, True)
    setup.apply_button.click()
    (config,) = applied
    assert (config.dataset.name, config.dataset.label_column) == ("csv", "kind")
    assert config.dataset.csv_path == str(path)


def test_a_csv_with_text_in_a_number_column_is_refused_in_one_sentence(
    setup, applied, monkeypatch, tmp_path
):
    path = tmp_path / "broken.csv"
    rows = ["x,y,label"] + [f"{i},{'oops' if i == 7 else i},{i % 2}" for i in range(40)]
    path.write_text("\n".join(rows) + "\n")
    choose_file(monkeypatch, path)
    setup.import_button.click()
    sentence = setup.error_label.text()
    assert setup.error_label.isVisible()
    assert "oops" in sentence
    assert "\n" not in sentence
    answer(monkeypatch, True)
    setup.apply_button.click()
    assert applied == []


def test_a_scheduled_change_the_new_data_would_never_reach_is_refused(qtbot, theme, monkeypatch):
    """The schedule carries over from the current run; fewer rows mean fewer steps per epoch."""
    late = ScheduledChange(step=30, change=SetParam("lr", 0.1))
    current = small_config(epochs=4, schedule=(late,)).validate()  # 4 x 9 steps: 30 fits
    panel = SetupPanel(theme, current)
    qtbot.addWidget(panel)
    configs: list = []
    panel.apply_requested.connect(configs.append)
    answer(monkeypatch, True)
    panel.n_samples_spin.setValue(60)  # 42 training rows: 4 x 2 steps
    panel.apply_button.click()
    assert configs == []
    assert "step 30 would never happen" in panel.error_label.text()
    assert "which is 8 steps" in panel.error_label.text()
