"""The window and the insight panels: what the session is asked to collect, which tab is raised,
the Setup panel's data preview, and the resource readout; then the same with a real session."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import pytest
from PySide6.QtWidgets import QApplication

from tests import event_factory
from tests.engine.session_helpers import small_config
from tests.gui.window_helpers import open_window, wait_for_run
from trainscope.engine import commands as cmd
from trainscope.engine import events as ev
from trainscope.engine.config import DatasetSpec, RunConfig
from trainscope.engine.projection import preview

if TYPE_CHECKING:
    from trainscope.gui.main_window import MainWindow


class ScriptedSession:
    """A session whose events the test hands in and whose commands it reads back."""

    made: list[ScriptedSession] = []

    def __init__(self, config: RunConfig, **_options: object) -> None:
        self.config = config
        self.sent: list[cmd.Command] = []
        self.pending: list[ev.Event] = []
        self.alive = False
        ScriptedSession.made.append(self)

    def start(self) -> None:
        self.alive = True

    def send(self, command: cmd.Command) -> None:
        self.sent.append(command)
        if isinstance(command, cmd.Stop):
            self.alive = False
        elif isinstance(command, cmd.PreviewData):  # answered as the training process does
            self.pending.append(preview(command.dataset, command.seed))

    def drain(self) -> list[ev.Event]:
        events, self.pending = self.pending, []
        return events

    def is_alive(self) -> bool:
        return self.alive

    def close(self) -> None:
        self.alive = False

    def insights(self) -> list[cmd.SetInsights]:
        return [command for command in self.sent if isinstance(command, cmd.SetInsights)]


def two_feature_run() -> ev.RunStarted:
    return replace(
        event_factory.run_started(2), dataset="moons", feature_names=("x1", "x2"), n_train=140
    )


def feed(window: MainWindow, *events: ev.Event) -> None:
    """Events arrive and one frame draws them, as the frame timer would."""
    window.session.pending.extend(events)
    window.frame()


@pytest.fixture
def window(qtbot, tmp_path) -> MainWindow:
    ScriptedSession.made.clear()
    return open_window(
        qtbot,
        tmp_path,
        RunConfig(dataset=DatasetSpec(name="moons", n_samples=200), seed=3),
        session_factory=ScriptedSession,
    )


def test_the_session_collects_only_the_insights_on_screen(window: MainWindow, qtbot) -> None:
    feed(window, two_feature_run(), event_factory.moons_view())
    feed(window)  # the boundary tab was raised after the first frame's redraw
    session = window.session
    assert session.insights()[-1] == cmd.SetInsights(boundary=True, layer_health=False)
    window.docks["layer_health"].raise_()
    wait_for_run(qtbot, window, lambda: window.panels["layer_health"].isVisible())
    feed(window)
    assert session.insights()[-1] == cmd.SetInsights(boundary=False, layer_health=True)
    window.docks["layer_health"].close()
    window.docks["mistakes"].raise_()
    feed(window)
    assert session.insights()[-1] == cmd.SetInsights(boundary=False, layer_health=False)
    count = len(session.insights())
    feed(window)
    feed(window)
    assert len(session.insights()) == count  # sent on a change only


def test_a_new_session_is_told_again_once_its_run_started(window: MainWindow) -> None:
    feed(window, two_feature_run(), event_factory.moons_view())
    feed(window)
    window.start_session(window.config)
    feed(window)
    second = ScriptedSession.made[-1]
    assert second is window.session
    assert second is not ScriptedSession.made[0]
    assert second.insights() == []  # not before its data is known: the raised tab may change
    feed(window, two_feature_run(), event_factory.moons_view())
    assert second.insights() == [cmd.SetInsights(boundary=True, layer_health=False)]


def test_the_useful_tab_is_raised_once_per_kind_of_data(window: MainWindow) -> None:
    boundary, mistakes = window.panels["boundary"], window.panels["mistakes"]
    feed(window, event_factory.run_started(10))  # digits-like: 8 features
    feed(window)
    assert not mistakes.visibleRegion().isEmpty()
    assert boundary.visibleRegion().isEmpty()
    window.docks["boundary"].raise_()  # the student's choice…
    feed(window, event_factory.run_started(10))  # …survives a reset on the same data
    feed(window)
    assert not boundary.visibleRegion().isEmpty()
    window.docks["mistakes"].raise_()
    feed(window, two_feature_run(), event_factory.moons_view())  # two features: the boundary
    feed(window)
    assert not boundary.visibleRegion().isEmpty()
    assert mistakes.visibleRegion().isEmpty()


def test_a_data_knob_previews_its_points_and_going_back_clears_it(
    window: MainWindow, qtbot
) -> None:
    feed(window, two_feature_run(), event_factory.moons_view())
    feed(window)
    panel, setup = window.panels["boundary"], window.setup
    setup.noise_spin.setValue(0.35)
    setup.n_samples_spin.setValue(300)
    wait_for_run(qtbot, window, lambda: panel.preview is not None)
    window.frame()
    asked = [c for c in ScriptedSession.made[-1].sent if isinstance(c, cmd.PreviewData)]
    assert asked[-1].dataset.noise == 0.35  # the training process builds the points
    expected = 300 - round(300 * 0.15) - round(300 * 0.15)
    assert abs(len(panel.train_points.data) - expected) <= 2
    assert panel.plot_title(panel.plot).startswith("preview")
    setup.noise_spin.setValue(0.0)
    setup.n_samples_spin.setValue(200)
    wait_for_run(qtbot, window, lambda: panel.preview is None)


def test_a_knob_that_makes_no_data_says_why_in_the_panel(window: MainWindow, qtbot) -> None:
    feed(window, two_feature_run(), event_factory.moons_view())
    feed(window)
    panel = window.panels["boundary"]
    window.setup.n_samples_spin.setValue(10)
    wait_for_run(qtbot, window, lambda: panel.preview_error is not None)
    window.frame()
    assert "n_samples must be at least" in panel.message_label.text()
    assert panel.message_label.isVisible()


def test_filling_the_form_for_a_new_run_is_not_a_preview(window: MainWindow, qtbot) -> None:
    with qtbot.assertNotEmitted(window.setup.data_preview_requested, wait=400):
        window.setup.show_config(replace(window.config, seed=11))


def test_resources_show_in_the_status_bar(window: MainWindow) -> None:
    feed(window, event_factory.run_started(10), event_factory.resources(gpu_memory_mib=1024.0))
    text = window.status.fields["resources"].text()
    assert text.startswith("worker CPU 98% · 412 MiB · GPU 1,024 MiB · window ")
    assert text.endswith(" MiB")


# --- end to end: a real training thread on moons ---------------------------------------------
def test_a_real_run_fills_the_boundary_the_gallery_and_layer_health(qtbot, tmp_path) -> None:
    window = open_window(qtbot, tmp_path, small_config())

    def insights():
        return window.state.insights  # a new session brings a new state: always read it afresh

    wait_for_run(qtbot, window, lambda: insights().boundary is not None)
    boundary = window.panels["boundary"]
    wait_for_run(qtbot, window, lambda: boundary.image.isVisible())
    assert boundary.image.image.shape == insights().boundary.confidence.shape
    assert len(boundary.train_points.data) == window.state.run.n_train
    window.docks["mistakes"].raise_()
    mistakes = window.panels["mistakes"]
    wait_for_run(qtbot, window, lambda: mistakes.evaluation is not None)
    evaluation = mistakes.evaluation
    predicted = (evaluation.probabilities[:, 1] >= window.state.threshold).astype(int)
    assert mistakes.total_mistakes == int((predicted != evaluation.labels).sum())
    window.docks["layer_health"].raise_()
    wait_for_run(qtbot, window, lambda: insights().layer_health is not None)
    layer_health = window.panels["layer_health"]
    wait_for_run(qtbot, window, lambda: layer_health.table.rowCount() == 2)  # 2 → 16 → 2
    wait_for_run(qtbot, window, lambda: "worker CPU" in window.status.fields["resources"].text())
    assert all(panel.last_error is None for panel in window.panels.values())


def test_a_positive_class_pick_moves_only_the_one_vs_rest_views(window: MainWindow, qtbot) -> None:
    evaluation = event_factory.weak_class_evaluation(100, weak_class=2)
    window.docks["mistakes"].raise_()
    feed(window, event_factory.run_started(3), evaluation)
    threshold, confusion = window.panels["threshold"], window.panels["confusion"]
    mistakes = window.panels["mistakes"]
    assert window.state.positive_class == 2
    assert confusion.marked_class == 2
    threshold.class_picker.setCurrentIndex(0)  # the user's pick; no frame in between
    assert window.state.positive_class == 0
    assert confusion.marked_class == 0
    assert "positive: class 0 vs rest" in threshold.readout.text()
    threshold.slider.setValue(90)  # the one-vs-rest threshold, far from any arg-max
    assert threshold.point.threshold == 0.9
    feed(window)
    wait_for_run(qtbot, window, lambda: mistakes.evaluation is evaluation)
    arg_max = evaluation.probabilities.argmax(axis=1)
    assert mistakes.total_mistakes == int((arg_max != evaluation.labels).sum())
    assert (confusion.confusion == evaluation.confusion).all()
    assert all(panel.last_error is None for panel in window.panels.values())


def test_the_threshold_panel_keeps_two_thirds_of_its_row_on_a_multi_class_task(
    window: MainWindow,
) -> None:
    feed(window, event_factory.run_started(2))
    QApplication.processEvents()  # the row is re-shared just after the frame (a zero timer)
    feed(window, event_factory.run_started(10), event_factory.weak_class_evaluation(0, 3, 10))
    QApplication.processEvents()
    calibration, threshold = window.docks["calibration"], window.docks["threshold"]
    assert threshold.width() > 1.5 * calibration.width()  # it has three charts here too
