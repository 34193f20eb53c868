"""The Experiments view, driven as a person drives it: real runs, the chart, the table, a click."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.engine.session_helpers import small_config
from tests.gui.window_helpers import HANG_TIMEOUT_MS, open_window
from trainscope.engine.experiment_plan import check_plan, plan_experiment
from trainscope.engine.worker import ProcessSession


def test_a_kfold_experiment_trains_folds_in_parallel_processes_draws_the_band_and_a_click_shows_a_fold(
    qtbot, tmp_path
):
    window = open_window(qtbot, tmp_path, session_factory=ProcessSession, start=False)
    base = replace(small_config(), steps=300, epochs=None, pace=None)
    plan = check_plan(plan_experiment("kfold", base, folds=3))
    experiment = window.experiments.open(plan, parallel=2)
    runner = experiment.runner
    most_live, band_while_training = 0, False

    def watch() -> bool:
        nonlocal most_live, band_while_training
        most_live = max(most_live, sum(run.live for run in runner.runs))
        mean = experiment.plot._mean.getData()[0]
        if mean is not None and len(mean) > 0 and not runner.done:
            band_while_training = True
        return runner.done

    qtbot.waitUntil(watch, timeout=HANG_TIMEOUT_MS)
    assert most_live == 2  # two worker processes at once, the third queued
    assert band_while_training  # the mean ± std band was on screen while folds still trained
    assert [run.status for run in runner.runs] == ["finished"] * 3
    experiment.redraw()
    assert "over 3 ended runs" in experiment.summary.text()
    assert "95% interval" in experiment.summary.text()
    upper = experiment.plot._upper.getData()[1]
    lower = experiment.plot._lower.getData()[1]
    assert (upper >= lower).all()
    assert (upper > lower).any()
    assert upper.max() <= 1.0, "an accuracy band never leaves [0, 1]"
    assert not experiment.plot._band.path().isEmpty(), "the band is drawn, not only computed"
    # A click on the second fold's row, then "Show in panels": the normal panels show that fold.
    row = next(
        r
        for r in range(experiment.table.rowCount())
        if experiment.table.item(r, 0).text() == "fold 2"
    )
    experiment.table.selectRow(row)
    qtbot.mouseClick(experiment.buttons["show"], Qt.LeftButton)
    fold_steps = runner.runs[1].summary.steps
    qtbot.waitUntil(lambda: window.state.step == fold_steps, timeout=HANG_TIMEOUT_MS)
    best = runner.runs[1].summary.fold.best
    assert window.state.fold.best.step == best.step
    assert window.state.fold.best.accuracy == best.accuracy


def test_pause_all_holds_the_queue_and_promote_starts_a_live_run_of_that_config(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, start=False)  # in-process sessions: fast
    base = replace(small_config(), steps=None, epochs=None, pace=None)
    plan = plan_experiment("seeds", base, repeat=3)
    experiment = window.experiments.open(plan, parallel=1)
    runner = experiment.runner
    qtbot.waitUntil(lambda: runner.runs[0].summary.steps > 20, timeout=HANG_TIMEOUT_MS)
    qtbot.mouseClick(experiment.buttons["pause"], Qt.LeftButton)
    qtbot.waitUntil(lambda: runner.runs[0].status == "paused", timeout=HANG_TIMEOUT_MS)
    assert experiment.buttons["pause"].text() == "Resume all"
    assert runner.runs[1].status == "queued"  # held with the rest
    experiment.table.selectRow(0)
    chosen = experiment.selected_index()
    qtbot.mouseClick(experiment.buttons["promote"], Qt.LeftButton)
    qtbot.waitUntil(lambda: window.state.step > 0, timeout=HANG_TIMEOUT_MS)
    assert window.config.seed == plan.runs[chosen].config.seed
    qtbot.mouseClick(experiment.buttons["stop"], Qt.LeftButton)
    assert runner.done
    assert [run.status for run in runner.runs] == ["stopped"] * 3


def test_a_search_from_the_menu_asks_its_space_adds_a_row_per_trial_and_prunes_a_hopeless_one(
    qtbot, tmp_path, monkeypatch
):
    """Experiments → Hyperparameter search…: the space typed as on the command line, a grid of
    six learning rates; each trial appears as a row with its values, and one of the hopeless
    learning rates is stopped early by the median pruner."""
    from PySide6.QtWidgets import QInputDialog

    pytest.importorskip("optuna")
    config = replace(small_config(), epochs=10, steps=None, pace=None)
    window = open_window(qtbot, tmp_path, config=config, start=False)
    monkeypatch.setattr(
        QInputDialog, "getText", lambda *_args, **_kw: ("lr=log(1e-6,1e-1,n=6)", True)
    )
    monkeypatch.setattr(QInputDialog, "getItem", lambda *_args, **_kw: ("grid", True))
    plan = window.experiments.ask("search")
    assert plan is not None
    assert plan.search.trials == 6
    experiment = window.experiments.experiment
    experiment.runner.parallel = 1  # one in-process session at a time: reproducible trials
    qtbot.waitUntil(lambda: experiment.runner.done, timeout=HANG_TIMEOUT_MS)
    experiment.redraw()
    assert experiment.table.rowCount() == 6
    assert experiment.table.horizontalHeaderItem(1).text() == "values"
    values = {experiment.table.item(row, 1).text() for row in range(6)}
    assert values == {"lr=1e-06", "lr=1e-05", "lr=0.0001", "lr=0.001", "lr=0.01", "lr=0.1"}
    statuses = [run.status for run in experiment.runner.runs]
    assert "pruned" in statuses, [
        (r.planned.params, r.status, r.summary.steps) for r in experiment.runner.runs
    ]
    assert "pruned" in experiment.summary.text()
    finished = experiment.scatter._finished.getData()[0]
    pruned = experiment.scatter._pruned.getData()[0]
    assert len(finished) + len(pruned) == 6, "one point per trial on the scatter"
    assert len(pruned) == statuses.count("pruned")
    xs = sorted([*finished, *pruned])
    assert xs == pytest.approx([-6, -5, -4, -3, -2, -1]), "log10 lr on the log axis"


def test_export_table_writes_one_csv_row_per_run_with_its_value_and_figures(qtbot, tmp_path):
    import csv

    window = open_window(qtbot, tmp_path, start=False)
    base = replace(small_config(), steps=40, epochs=None, pace=None)
    experiment = window.experiments.open(plan_experiment("seeds", base, repeat=2), parallel=1)
    qtbot.waitUntil(lambda: experiment.runner.done, timeout=HANG_TIMEOUT_MS)
    written = experiment.export_table(str(tmp_path / "seeds.csv"))
    rows = list(csv.DictReader((tmp_path / "seeds.csv").open()))
    assert written == str(tmp_path / "seeds.csv")
    assert [row["label"] for row in rows] == [run.planned.label for run in experiment.runner.runs]
    assert [int(row["seed"]) for row in rows] == [7, 8]
    assert all(row["status"] == "finished" and int(row["steps"]) == 40 for row in rows)
    assert all(0 < float(row["val_accuracy"]) <= 1 for row in rows)


def test_export_menu_writes_the_recorded_runs_for_tensorboard_once_they_have_ended(qtbot, tmp_path):
    from trainscope.gui.experiment_exports import NOT_ENDED, NOT_RECORDED
    from trainscope.gui.recording import RunLibrary

    window = open_window(qtbot, tmp_path, start=False, runs=RunLibrary(tmp_path / "runs"))
    base = replace(small_config(), steps=40, epochs=None, pace=None)
    experiment = window.experiments.open(plan_experiment("seeds", base, repeat=2), parallel=1)
    exports = experiment.exports
    assert experiment.buttons["export"].menu() is exports.menu
    exports.refresh()
    if not experiment.runner.done:  # while runs train there is nothing whole to export
        assert not exports.actions["tensorboard"].isEnabled()
        assert exports.actions["tensorboard"].toolTip() == NOT_ENDED
    qtbot.waitUntil(lambda: experiment.runner.done, timeout=HANG_TIMEOUT_MS)
    exports.refresh()
    assert exports.actions["tensorboard"].isEnabled()
    assert exports.actions["mlflow"].isEnabled()
    out = tmp_path / "tb"
    assert exports.export_tensorboard(str(out))
    qtbot.waitUntil(lambda: "TensorBoard:" in exports.note.text(), timeout=HANG_TIMEOUT_MS)
    assert exports.note.isVisible()
    assert sorted(path.name for path in out.iterdir()) == ["00-seed_7", "01-seed_8"]
    experiment.close()
    # Recording off: the entries say why they are greyed out.
    window.recording.library.record = False
    experiment = window.experiments.open(plan_experiment("seeds", base, repeat=2), parallel=1)
    qtbot.waitUntil(lambda: experiment.runner.done, timeout=HANG_TIMEOUT_MS)
    experiment.exports.refresh()
    assert not experiment.exports.actions["mlflow"].isEnabled()
    assert experiment.exports.actions["mlflow"].toolTip() == NOT_RECORDED


def test_the_range_test_draws_its_sweep_beside_the_run_and_one_click_starts_a_fresh_run_there(
    qtbot, tmp_path
):
    window = open_window(qtbot, tmp_path)
    qtbot.waitUntil(lambda: window.state.step > 0, timeout=HANG_TIMEOUT_MS)
    served, base = window.session, window.config
    finder = window.experiments.find_lr()
    qtbot.waitUntil(lambda: finder.finding is not None, timeout=HANG_TIMEOUT_MS)
    suggestion = finder.finding.suggestion
    assert suggestion is not None
    lrs, _smoothed = finder._smoothed.getData()
    assert len(lrs) > 20
    assert np.all(np.diff(finder.finding.lrs) > 0)
    assert finder._marker.isVisible()
    assert f"{suggestion:.2g}" in finder.apply_button.text()
    assert "minimum rule" in finder.note.text()
    assert window.session is served, "the run it serves goes on"
    assert served.is_alive()
    qtbot.mouseClick(finder.apply_button, Qt.LeftButton)
    qtbot.waitUntil(
        lambda: window.session is not served and window.state.step > 0, timeout=HANG_TIMEOUT_MS
    )
    assert window.config.settings["lr"] == pytest.approx(suggestion)
    assert window.config.seed == base.seed  # the same initial weights the sweep started from
    finder.close()


def test_an_experiment_lesson_opens_its_runs_in_the_view_and_judges_its_promise_there(
    qtbot, tmp_path
):
    window = open_window(qtbot, tmp_path, start=False)
    assert window.lessons.open("one-split-lies")
    experiment = window.experiments.experiment
    assert experiment is not None
    assert experiment.lesson is not None
    assert experiment.lesson.id == "one-split-lies"
    assert [run.label for run in experiment.plan.runs] == [f"fold {n}" for n in range(1, 6)]
    assert "judged when every run has ended" in experiment.lesson_note.text()
    experiment.runner.set_pace(None)  # the lesson's pace is for people watching, not for a test
    qtbot.waitUntil(lambda: experiment.lesson_outcomes is not None, timeout=HANG_TIMEOUT_MS)
    assert [outcome.held for outcome in experiment.lesson_outcomes] == [True]
    assert "✓ held: val_accuracy_spread >= 0.05" in experiment.lesson_note.text()
    qtbot.waitUntil(lambda: window.state.step > 0, timeout=HANG_TIMEOUT_MS)  # fold 1 in panels
    assert window.lessons.scenario.id == "one-split-lies"


def test_the_experiments_view_follows_the_interface_size_and_takes_the_zoom_keys(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, start=False)
    base = replace(small_config(), steps=20, epochs=None, pace=None)
    experiment = window.experiments.open(plan_experiment("seeds", base, repeat=2), parallel=1)
    zoom_in = window.actions_by_name["zoom_in"]
    assert zoom_in in experiment.actions(), "Ctrl+= works while the view has the focus"
    font, row = (
        experiment.font().pointSizeF(),
        experiment.table.verticalHeader().defaultSectionSize(),
    )
    tick = experiment.plot.getPlotItem().getAxis("bottom").style["tickFont"].pointSizeF()
    zoom_in.trigger()
    assert experiment.font().pointSizeF() > font
    assert experiment.table.verticalHeader().defaultSectionSize() > row
    assert experiment.plot.getPlotItem().getAxis("bottom").style["tickFont"].pointSizeF() > tick
    qtbot.waitUntil(lambda: experiment.runner.done, timeout=HANG_TIMEOUT_MS)


def test_the_summary_is_over_ended_runs_and_the_table_has_room_for_every_fold(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, start=False)
    window.resize(1024, 640)
    base = replace(small_config(), steps=200, epochs=None, pace=None)
    experiment = window.experiments.open(check_plan(plan_experiment("kfold", base, folds=5)), 1)
    qtbot.waitUntil(lambda: experiment.runner.runs[0].status == "finished", timeout=HANG_TIMEOUT_MS)
    qtbot.waitUntil(lambda: experiment.runner.runs[1].summary.steps > 0, timeout=HANG_TIMEOUT_MS)
    experiment.redraw()
    first = experiment.runner.runs[0].summary.last_validation.accuracy
    assert f"Validation accuracy {first:.3f} over 1 ended run" in experiment.summary.text()
    header = experiment.table.horizontalHeader().height()
    rows_shown = (experiment.table.viewport().height()) / experiment.table.rowHeight(0)
    assert header > 0
    assert rows_shown >= 5, f"{rows_shown:.1f} rows of 5 folds in a {experiment.height()} px view"
    experiment.stop_all()


def test_an_experiment_lessons_try_runs_its_experiment_again_changed_and_judges_the_try(
    qtbot, tmp_path, monkeypatch
):
    from trainscope.gui import dialogs

    window = open_window(qtbot, tmp_path, start=False)
    assert window.lessons.open("seed-lottery")
    first = window.experiments.experiment
    questions: list[str] = []
    monkeypatch.setattr(dialogs, "confirm", lambda *args, **_: questions.append(args[2]) or True)
    window.lessons.try_step(0)
    assert "runs the lesson's experiment again" in questions[0]
    experiment = window.experiments.experiment
    assert experiment is not first
    assert all(run.config.model.hidden == (64, 64) for run in experiment.plan.runs)
    assert [p.describe() for p in experiment.promises] == ["val_accuracy_spread <= 0.1"]
    experiment.runner.set_pace(None)
    qtbot.waitUntil(lambda: experiment.lesson_outcomes is not None, timeout=HANG_TIMEOUT_MS)
    assert [outcome.held for outcome in experiment.lesson_outcomes] == [True]
    assert "val_accuracy_spread <= 0.1" in experiment.lesson_note.text()
