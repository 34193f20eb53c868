"""The mistakes gallery holds exactly the misclassified validation samples, surest first."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests import event_factory
from trainscope.gui.panels.mistakes_panel import (
    MIN_REBUILD_INTERVAL_S,
    SHOWN_MISTAKES,
    MistakesPanel,
)
from trainscope.gui.run_state import RunState


@pytest.fixture
def panel(qtbot, theme) -> MistakesPanel:
    widget = MistakesPanel(theme)
    qtbot.addWidget(widget)
    widget.resize(450, 600)
    widget.show()
    return widget


def _digits_state(skill: float = 1.0) -> RunState:
    labels = event_factory.synthetic_labels(10)
    probabilities = event_factory.synthetic_probabilities(labels, 10, skill)
    state = RunState()
    state.apply(
        [
            event_factory.run_started(10),
            event_factory.digit_inputs(labels),
            event_factory.evaluation(400, probabilities, labels),
        ]
    )
    return state


def _misclassified_by_confidence(probabilities: np.ndarray, labels: np.ndarray) -> list[int]:
    """The direct computation the gallery must agree with."""
    wrong = [i for i in range(len(labels)) if probabilities[i].argmax() != labels[i]]
    return sorted(wrong, key=lambda i: (-probabilities[i].max(), i))


def test_the_gallery_shows_the_most_confident_mistakes_as_captioned_images(
    panel: MistakesPanel,
) -> None:
    state = _digits_state()
    panel.safe_refresh(state)
    evaluation = state.latest_validation
    expected = _misclassified_by_confidence(evaluation.probabilities, evaluation.labels)
    assert len(expected) > SHOWN_MISTAKES
    assert panel.gallery.isVisible()
    assert not panel.table.isVisible()
    assert panel.gallery.count() == SHOWN_MISTAKES
    assert panel.mistakes.tolist() == expected[:SHOWN_MISTAKES]
    assert panel.total_mistakes == len(expected)
    assert panel.summary_label.text().startswith(f"{SHOWN_MISTAKES} of {len(expected)} mistakes")
    first = expected[0]
    predicted = int(evaluation.probabilities[first].argmax())
    true = int(evaluation.labels[first])
    confidence = float(evaluation.probabilities[first].max())
    assert panel.gallery.item(0).text() == f"pred {predicted} · true {true}\n{confidence:.0%} sure"
    icon = panel.gallery.item(0).icon()
    assert not icon.isNull()
    assert icon.availableSizes()[0].width() == 48  # 8 x 8 scaled up 6 times
    assert panel.last_error is None


def test_fewer_mistakes_than_the_limit_are_all_shown(panel: MistakesPanel) -> None:
    state = _digits_state(skill=3.5)
    panel.safe_refresh(state)
    evaluation = state.latest_validation
    expected = _misclassified_by_confidence(evaluation.probabilities, evaluation.labels)
    assert 0 < len(expected) < SHOWN_MISTAKES
    assert panel.gallery.count() == len(expected)
    assert panel.summary_label.text().startswith(f"{len(expected)} of {len(expected)} mistakes")


def test_clicking_a_mistake_shows_its_probabilities(panel: MistakesPanel, qtbot) -> None:
    state = _digits_state()
    panel.safe_refresh(state)
    assert not panel.probability_widget.isVisible()
    rect = panel.gallery.visualItemRect(panel.gallery.item(2))
    qtbot.mouseClick(panel.gallery.viewport(), Qt.LeftButton, pos=rect.center())
    row = int(panel.mistakes[2])
    assert panel.selected == row
    assert panel.probability_widget.isVisible()
    heights = panel.probability_bars.opts["height"]
    np.testing.assert_allclose(heights, state.latest_validation.probabilities[row])
    true = int(state.latest_validation.labels[row])
    assert f"true {true}:" in panel.plot_title(panel.probability_plot)
    brushes = panel.probability_bars.opts["brushes"]
    assert brushes[true] == panel.theme.palette.best


def test_tabular_data_shows_a_table_that_follows_the_threshold(panel: MistakesPanel) -> None:
    labels = event_factory.synthetic_labels(2)
    probabilities = event_factory.synthetic_probabilities(labels, 2, 1.0)
    state = RunState()
    state.apply(
        [
            event_factory.run_started(2),
            event_factory.tabular_inputs(len(labels), 4),
            event_factory.evaluation(300, probabilities, labels),
        ]
    )
    panel.safe_refresh(state)
    assert panel.table.isVisible()
    assert not panel.gallery.isVisible()
    headers = [panel.table.horizontalHeaderItem(i).text() for i in range(panel.table.columnCount())]
    assert headers == ["predicted", "true", "confidence", *(f"feature {i}" for i in range(4))]
    for threshold in (0.5, 0.25):
        state.set_threshold(threshold)
        panel.safe_refresh(state)
        predicted = (probabilities[:, 1] >= threshold).astype(int)
        wrong = int(np.sum(predicted != labels))
        assert panel.total_mistakes == wrong
        assert panel.table.rowCount() == min(wrong, SHOWN_MISTAKES)
        row = int(panel.mistakes[0])
        assert panel.table.item(0, 0).text() == event_factory.BINARY_NAMES[predicted[row]]
        assert panel.table.item(0, 1).text() == event_factory.BINARY_NAMES[labels[row]]


def test_refreshes_only_when_a_new_validation_evaluation_arrives(
    panel: MistakesPanel, monkeypatch
) -> None:
    state = _digits_state()
    panel.safe_refresh(state)
    rebuilt = []
    monkeypatch.setattr(panel, "_fill_gallery", lambda *args: rebuilt.append(1))
    state.apply(event_factory.training_stream(10, total_steps=50)[3:5])  # step metrics only
    panel.safe_refresh(state)
    assert rebuilt == []
    labels = state.latest_validation.labels
    probabilities = event_factory.synthetic_probabilities(labels, 10, 2.0, seed=9)
    state.apply([event_factory.evaluation(500, probabilities, labels)])
    clock = [time.monotonic()]
    panel.throttle.clock = lambda: clock[0]
    panel.safe_refresh(state)
    assert rebuilt == []  # evaluations come fast: at most one rebuild per interval
    clock[0] += MIN_REBUILD_INTERVAL_S
    panel.safe_refresh(state)
    assert rebuilt == [1]
    assert panel.evaluation is state.latest_validation


def test_waiting_and_a_perfect_model(panel: MistakesPanel) -> None:
    panel.safe_refresh(RunState())
    assert "Waiting for the first validation evaluation" in panel.summary_label.text()
    labels = event_factory.synthetic_labels(10)
    perfect = np.eye(10, dtype=np.float32)[labels]
    state = RunState()
    state.apply([event_factory.run_started(10), event_factory.evaluation(100, perfect, labels)])
    panel.safe_refresh(state)
    assert panel.summary_label.text() == "No mistakes on the validation set at step 100."
    assert not panel.gallery.isVisible()
    assert not panel.table.isVisible()
