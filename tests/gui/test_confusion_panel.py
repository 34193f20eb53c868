"""The confusion matrix shows the evaluation's counts, and for two classes follows the threshold."""

from __future__ import annotations

import numpy as np
import pytest

from tests import event_factory
from trainscope.engine.metrics import ThresholdTable
from trainscope.gui.panels.confusion_panel import ConfusionPanel
from trainscope.gui.panels.threshold_panel import ThresholdPanel


@pytest.fixture
def panel(qtbot, theme) -> ConfusionPanel:
    widget = ConfusionPanel(theme)
    qtbot.addWidget(widget)
    widget.resize(500, 450)
    widget.show()
    return widget


def test_ten_classes_show_the_evaluation_counts(panel: ConfusionPanel, ten_class_state) -> None:
    panel.safe_refresh(ten_class_state)
    confusion = ten_class_state.latest_validation.confusion
    np.testing.assert_array_equal(panel.confusion, confusion)
    assert panel.cell_strings() == [[str(int(value)) for value in row] for row in confusion]
    ticks = panel.plot.getAxis("bottom")._tickLevels[0]
    assert [name for _, name in ticks] == list(ten_class_state.class_names)
    accuracy = np.trace(confusion) / confusion.sum()
    positive = ten_class_state.class_names[ten_class_state.positive_class]
    assert panel.plot_title(panel.plot) == f"accuracy {accuracy:.3f} · outlined: {positive} vs rest"
    panel.grab()
    assert panel.last_error is None


def test_row_fractions_toggle(panel: ConfusionPanel, ten_class_state) -> None:
    panel.safe_refresh(ten_class_state)
    panel.normalize_checkbox.setChecked(True)
    panel.safe_refresh(ten_class_state)
    confusion = ten_class_state.latest_validation.confusion
    fractions = confusion / confusion.sum(axis=1, keepdims=True)
    assert panel.cell_strings()[0] == [f"{value:.2f}" for value in fractions[0]]


def test_binary_counts_follow_the_threshold_without_new_events(
    panel, binary_state, qtbot, theme
) -> None:
    threshold_panel = ThresholdPanel(theme)
    qtbot.addWidget(threshold_panel)
    threshold_panel.threshold_changed.connect(binary_state.set_threshold)  # the window's job
    panel.safe_refresh(binary_state)
    before = panel.confusion.copy()
    evaluation_version = binary_state.evaluation_version
    threshold_panel.slider.setValue(20)  # the user drags to 0.20
    assert binary_state.threshold == pytest.approx(0.2)
    panel.safe_refresh(binary_state)
    evaluation = binary_state.latest_validation
    table = ThresholdTable.from_scores(evaluation.probabilities[:, 1], evaluation.labels)
    tp, fp, fn, tn = table.counts(0.2)
    np.testing.assert_array_equal(panel.confusion, [[tn, fp], [fn, tp]])
    assert not np.array_equal(panel.confusion, before)
    assert binary_state.evaluation_version == evaluation_version  # no training step needed
    assert panel.cell_strings() == [[str(tn), str(fp)], [str(fn), str(tp)]]
    assert "at threshold 0.20" in panel.plot_title(panel.plot)


def test_no_evaluation_yet_draws_nothing(panel: ConfusionPanel) -> None:
    from tests import event_factory
    from trainscope.gui.run_state import RunState

    state = RunState()
    state.apply([event_factory.run_started(10)])
    assert panel.safe_refresh(state)
    assert panel.confusion is None
    assert panel.cell_strings() == []


def test_evaluations_faster_than_four_a_second_are_drawn_late_but_drags_at_once(
    panel: ConfusionPanel, binary_state
) -> None:
    now = [0.0]
    panel.throttle.clock = lambda: now[0]
    panel.safe_refresh(binary_state)
    first = panel.confusion.copy()
    latest = binary_state.latest_validation
    flipped = event_factory.evaluation(2100, latest.probabilities[:, ::-1].copy(), latest.labels)
    binary_state.apply([flipped])
    now[0] += 0.05
    panel.safe_refresh(binary_state)
    np.testing.assert_array_equal(panel.confusion, first)  # held back: drawn 50 ms ago
    now[0] += 0.25
    panel.safe_refresh(binary_state)
    assert not np.array_equal(panel.confusion, first)  # the next frame past the interval
    shown = panel.confusion.copy()
    binary_state.set_threshold(0.9)
    now[0] += 0.01
    panel.safe_refresh(binary_state)
    assert not np.array_equal(panel.confusion, shown)  # a threshold drag is never held back


def outlined_cells(panel: ConfusionPanel) -> list[tuple[float, float, float, float]]:
    """(x, y, width, height) of each visible outline, in cell coordinates."""
    return [
        (rect.x(), rect.y(), rect.width(), rect.height())
        for outline in panel.positive_outline
        if outline.isVisible()
        for rect in [outline.rect()]
    ]


def test_multiclass_outlines_the_positive_class_and_keeps_the_arg_max_counts(
    panel: ConfusionPanel,
) -> None:
    from trainscope.gui.run_state import RunState

    state = RunState()
    evaluation = event_factory.weak_class_evaluation(100, weak_class=1)
    state.apply([event_factory.run_started(3), evaluation])
    panel.safe_refresh(state)
    assert panel.marked_class == state.positive_class == 1
    assert outlined_cells(panel) == [(-0.5, 0.5, 3.0, 1.0), (0.5, -0.5, 1.0, 3.0)]
    assert "outlined: class 1 vs rest" in panel.plot_title(panel.plot)
    state.set_positive_class(2)  # the user's pick in the threshold panel
    state.set_threshold(0.9)  # moves only the one-vs-rest view, not these counts
    panel.safe_refresh(state)
    assert panel.marked_class == 2
    assert outlined_cells(panel) == [(-0.5, 1.5, 3.0, 1.0), (1.5, -0.5, 1.0, 3.0)]
    np.testing.assert_array_equal(panel.confusion, evaluation.confusion)
    accuracy = np.trace(evaluation.confusion) / evaluation.confusion.sum()
    assert panel.plot_title(panel.plot).startswith(f"accuracy {accuracy:.3f} ")
    panel.grab()
    assert panel.last_error is None


def test_binary_has_no_outline(panel: ConfusionPanel, binary_state) -> None:
    panel.safe_refresh(binary_state)
    assert panel.marked_class is None
    assert outlined_cells(panel) == []
    assert "outlined" not in panel.plot_title(panel.plot)
