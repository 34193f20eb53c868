"""``main.py --headless --experiment``, run as a user runs it: real worker processes, real JSON."""

from __future__ import annotations

import csv

import pytest

from tests.engine.test_cli import run_main, summary_of


def test_a_five_fold_experiment_prints_five_runs_their_spread_and_three_baselines():
    result = summary_of(
        run_main(
            "--experiment", "kfold", "--folds", "5", "--dataset", "breast_cancer",
            "--epochs", "4", "--json", "--baselines", "--parallel", "2", "--no-record",
        )
    )  # fmt: skip
    assert result["experiment"] == "kfold"
    assert [run["fold"] for run in result["runs"]] == [1, 2, 3, 4, 5]
    assert all(run["status"] == "finished" for run in result["runs"])
    accuracy = result["summary"]["val_accuracy"]
    assert accuracy["n"] == 5
    assert 0.8 < accuracy["mean"] <= 1
    assert accuracy["std"] > 0
    assert accuracy["ci95"][0] < accuracy["mean"] < accuracy["ci95"][1]
    names = [row["name"] for row in result["sklearn_baselines"]]
    assert names == ["logistic regression", "random forest", "gradient boosting"]
    for row in result["sklearn_baselines"]:
        assert 0.8 < row["val_accuracy"] <= 1
        assert row["fit_seconds"] > 0
        assert row["splits"] == 5
    for run in result["runs"]:  # each run keeps its own full summary, baselines block included
        assert run["summary"]["baselines"]["zero_rule_accuracy"] > 0.5
    assert "ensemble" not in result  # folds validate on different rows: no vote to pool


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (("--experiment", "kfold", "--folds", "1"), "--folds must be at least 2"),
        (("--experiment", "kfold", "--folds", "60", "--dataset", "iris"), "use fewer folds"),
        (("--experiment", "learning-curve", "--train-fractions", "0.5,2"), "at most 1"),
        (("--experiment", "learning-curve", "--train-fractions", "half"), "numbers separated"),
        (("--experiment", "seeds", "--parallel", "0"), "--parallel must be at least 1"),
        (("--experiment", "search"), "a search needs a space"),
        (("--experiment", "search", "--space", "lr=log(0,1)"), "must be greater than 0"),
        (("--experiment", "search", "--space", "depth=1..3"), "cannot search 'depth'"),
        (
            ("--experiment", "search", "--sampler", "grid", "--space", "lr=log(1e-4,1)"),
            "add ,n=POINTS",
        ),
        (("--experiment", "search", "--space", "lr=0..1", "--trials", "0"), "between 1 and 64"),
        (("--space", "lr=0..1"), "add --experiment"),
        (("--experiment", "seeds", "--table-csv", "/no/such/folder/t.csv"), "does not exist"),
        (("--experiment", "seeds", "--tensorboard-dir", "/no/such/folder/tb"), "does not exist"),
        (("--experiment", "seeds", "--mlflow-db", "m.db", "--no-record"), "drop --no-record"),
        (("--mlflow-db", "m.db"), "add --experiment"),
        (("--scenario", "seed-lottery", "--folds", "3"), "sets its own experiment"),
        (("--ray", "auto"), "add --experiment"),
        (("--experiment", "seeds", "--ray", " "), "--ray takes 'auto' or the address"),
        (("--scenario", "seed-lottery", "--experiment", "kfold"), "runs its own seeds experiment"),
        (
            (
                "--folds",
                "5",
            ),
            "add --experiment",
        ),
    ],
)
def test_a_bad_experiment_flag_is_one_sentence_exit_2_and_nothing_starts(flags, words):
    # No tight timeout: a refusal takes 0.4 s, but a busy CI machine once stalled one past 60 s.
    # An experiment that did start would end with exit 0 and a summary, failing the lines below.
    result = run_main(*flags, "--json")
    assert result.returncode == 2
    assert words in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_a_search_runs_its_trials_in_worker_processes_and_reports_the_best_values(tmp_path):
    table = tmp_path / "search.csv"
    result = summary_of(
        run_main(
            "--experiment", "search", "--space", "lr=log(1e-3,1e-1)", "--space", "hidden=[8,32]",
            "--trials", "3", "--sampler", "random", "--dataset", "moons", "--epochs", "2",
            "--parallel", "2", "--json", "--no-record", "--table-csv", str(table),
        )
    )  # fmt: skip
    rows = list(csv.DictReader(table.open()))
    assert [row["label"] for row in rows] == ["trial 0", "trial 1", "trial 2"]
    assert [float(row["lr"]) for row in rows] == [run["params"]["lr"] for run in result["runs"]]
    assert {row["hidden"] for row in rows} <= {"8", "32"}
    assert result["experiment"] == "search"
    assert [run["label"] for run in result["runs"]] == ["trial 0", "trial 1", "trial 2"]
    for run in result["runs"]:
        assert run["status"] == "finished"
        assert 1e-3 <= run["params"]["lr"] <= 1e-1
        assert run["params"]["hidden"] in (8, 32)
        assert run["summary"]["parameter_count"] > 0
    search = result["search"]
    assert search["space"] == ["lr=log(0.001,0.1)", "hidden=[8,32]"]
    assert set(search["best_params"]) == {"lr", "hidden"}


def test_an_experiment_exports_its_recorded_runs_for_tensorboard_and_mlflow(tmp_path):
    pytest.importorskip("mlflow")
    tensorboard, mlflow_db = tmp_path / "tb", tmp_path / "mlflow.db"
    result = run_main(
        "--experiment", "seeds", "--repeat", "2", "--dataset", "moons", "--steps", "40",
        "--parallel", "2", "--runs-dir", str(tmp_path / "runs"),
        "--tensorboard-dir", str(tensorboard), "--mlflow-db", str(mlflow_db),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in tensorboard.iterdir()) == ["00-seed_42", "01-seed_43"]
    assert all(any(folder.glob("events.out.tfevents.*")) for folder in tensorboard.iterdir())
    assert f"TensorBoard: one folder per run in {tensorboard}" in result.stderr
    assert f"MLflow: the runs are in sqlite:///{mlflow_db}" in result.stderr
    assert mlflow_db.stat().st_size > 0


def test_lr_find_sweeps_in_a_worker_process_and_suggests_a_learning_rate():
    result = summary_of(run_main("--experiment", "lr-find", "--dataset", "moons", "--json"))
    assert result["experiment"] == "lr-find"
    assert result["lrs"][0] == pytest.approx(1e-7)
    assert len(result["lrs"]) == len(result["smoothed"]) <= 100
    assert 1e-5 < result["suggested_lr"] < 1
    assert "minimum rule" in result["rule"]
    bottom = result["lrs"][min(range(len(result["smoothed"])), key=result["smoothed"].__getitem__)]
    assert result["suggested_lr"] == pytest.approx(bottom / 10)
    assert result["steepest_lr"] > 0


def test_an_experiment_lesson_runs_its_experiment_and_judges_its_promise():
    result = summary_of(
        run_main(
            "--scenario", "one-split-lies", "--json", "--parallel", "2", "--no-record",
        )
    )  # fmt: skip
    assert result["scenario"] == "one-split-lies"
    assert result["experiment"] == "kfold"
    assert len(result["runs"]) == 5
    assert [outcome["held"] for outcome in result["expectations"]] == [True]
    assert "val_accuracy_spread" in result["expectations"][0]["name"]


def test_ray_auto_runs_the_experiment_on_a_local_ray_instance():
    pytest.importorskip("ray")
    result = summary_of(
        run_main(
            "--experiment", "seeds", "--seeds", "1,2", "--dataset", "moons", "--steps", "60",
            "--ray", "auto", "--json", "--no-record",
        )
    )  # fmt: skip
    assert [run["status"] for run in result["runs"]] == ["finished", "finished"]
    assert [run["summary"]["steps"] for run in result["runs"]] == [60, 60]
