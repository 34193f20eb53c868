"""Search: the space's syntax, the plan, and Optuna trials run live, pruned, resumed.

Trials run in in-process ``ThreadSession``s, one at a time (they share torch's global random
generator, so one at a time keeps every trial reproducible from its seed).
"""

from __future__ import annotations

import io
import json

import pytest

from tests.engine.session_helpers import small_config
from trainscope.engine.config import ModelSpec
from trainscope.engine.errors import ConfigError
from trainscope.engine.experiment_headless import run_experiment_headless
from trainscope.engine.experiment_plan import check_plan, plan_experiment
from trainscope.engine.search_space import apply_params, parse_dimension, parse_space
from trainscope.engine.session import ThreadSession

pytest.importorskip("optuna")


def thread_session(config, checkpoint_dir=None):
    return ThreadSession(config, checkpoint_dir=checkpoint_dir)


# --- the space ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "grid"),
    [
        ("lr=log(1e-4,1e-1,n=4)", [1e-4, 1e-3, 1e-2, 1e-1]),
        ("dropout=0..0.5,n=3", [0.0, 0.25, 0.5]),
        ("hidden=[32,64,128]", [32, 64, 128]),
        ("optimizer=[adam, SGD]", ["adam", "sgd"]),
        ("batch_size=16..64,n=3", [16, 40, 64]),
    ],
)
def test_a_dimension_reads_as_written_and_gives_its_grid_points(text, grid):
    assert parse_dimension(text).grid() == pytest.approx(grid)


def test_a_range_without_points_is_continuous_and_cannot_be_walked_as_a_grid():
    dimension = parse_dimension("lr=log(1e-4,1e-1)")
    assert (dimension.low, dimension.high, dimension.log) == (1e-4, 1e-1, True)
    with pytest.raises(ConfigError, match="add ,n=POINTS"):
        dimension.grid()


@pytest.mark.parametrize(
    ("texts", "words"),
    [
        (["lr=log(0,1)"], "learning rate must be greater than 0"),
        (["dropout=0..1.5"], "dropout must be at least 0 and below 1"),
        (["depth=1..3"], "cannot search 'depth'; the knobs are: lr,"),
        (["no_eval_mode=[on,off]"], "cannot search 'no_eval_mode'"),
        (["lr=0.1"], "cannot read the search space 'lr=0.1'"),
        (["lr=[0.1]"], "needs at least two values"),
        (["optimizer=0..1"], "optimizer is not a number"),
        (["lr=0.1..0.01"], "must go from low to high"),
        (["lr=log(1e-4,1e-1,n=1)"], "n for lr must be between 2 and 20"),
        (["lr=log(1e-4,1e-1)", "lr=0.1..0.2"], "names lr twice"),
        ([], "a search needs a space"),
    ],
)
def test_a_bad_space_is_one_sentence(texts, words):
    with pytest.raises(ConfigError, match=words.replace("(", r"\(")) as caught:
        parse_space(texts)
    assert "\n" not in str(caught.value)


def test_a_trials_values_become_its_settings_and_hidden_sets_every_layers_width():
    base = small_config(model=ModelSpec(hidden=(16, 16)))
    config = apply_params(base, {"lr": 0.02, "optimizer": "sgd", "hidden": 64})
    assert config.settings["lr"] == 0.02
    assert config.settings["optimizer"] == "sgd"
    assert config.model.hidden == (64, 64)
    assert base.model.hidden == (16, 16)


def test_a_grid_search_has_one_trial_per_point_and_refuses_a_continuous_range():
    base = small_config()
    space = ["lr=log(1e-3,1e-1,n=3)", "optimizer=[adam,sgd]"]
    assert plan_experiment("search", base, space=space, sampler="grid").search.trials == 6
    capped = plan_experiment("search", base, space=space, sampler="grid", trials=4)
    assert capped.search.trials == 4
    with pytest.raises(ConfigError, match="add ,n=POINTS"):
        plan_experiment("search", base, space=["lr=log(1e-3,1e-1)"], sampler="grid")


# --- trials, live -----------------------------------------------------------------------------


def search(tmp_path, *space: str, record: bool = False, **options) -> dict:
    base = small_config(epochs=10)
    plan = check_plan(plan_experiment("search", base, space=list(space), **options))
    out, err = io.StringIO(), io.StringIO()
    code = run_experiment_headless(
        plan,
        parallel=1,
        emit_json=True,
        runs_dir=str(tmp_path),
        record=record,
        out=out,
        err=err,
        session_factory=thread_session,
    )
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue())


def test_a_median_pruned_search_stops_clearly_bad_trials_early(tmp_path):
    """Learning rates from 1e-6 (the loss hardly moves) to 0.1: once three trials have finished,
    the hopeless ones are stopped at an evaluation, well before their planned end."""
    result = search(tmp_path, "lr=log(1e-6,1e-1,n=6)", sampler="grid", pruner="median", trials=6)
    runs = result["runs"]
    assert len(runs) == 6
    pruned = [run for run in runs if run["status"] == "pruned"]
    finished = [run for run in runs if run["status"] == "finished"]
    assert pruned, [(run["params"], run["status"]) for run in runs]
    planned = max(run["summary"]["steps"] for run in finished)
    for run in pruned:
        assert run["pruned_at"] < planned, "a pruned trial is stopped before its end"
        assert run["params"]["lr"] <= 1e-3, "only a hopeless learning rate is pruned"
    best = result["search"]["best_params"]["lr"]
    assert best >= 1e-2
    assert result["search"]["objective"].startswith("best validation loss")


def test_a_named_study_lives_beside_the_run_store_and_resumes(tmp_path):
    first = search(
        tmp_path, "lr=log(1e-3,1e-1)", "dropout=0..0.3", record=True, trials=2, study="mine"
    )
    again = search(
        tmp_path, "lr=log(1e-3,1e-1)", "dropout=0..0.3", record=True, trials=2, study="mine"
    )
    assert (tmp_path / "search.db").is_file()
    assert first["search"]["trials_in_study"] == 2
    assert again["search"]["trials_in_study"] == 4, "the second call added to the same study"
    assert [run["label"] for run in again["runs"]] == ["trial 2", "trial 3"]
    assert all(run["run_id"] is not None for run in again["runs"]), "each trial is recorded"
