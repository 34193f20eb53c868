"""Healthy runs get no hint: every bundled dataset, trained past convergence, stays quiet.

A hint that fires on a run with nothing wrong teaches the wrong lesson ("stuck at chance" at 95%
accuracy, "blowing up" from one batch), so each dataset the engine offers is trained with a
sensible model until well after its validation accuracy has settled, and no hint may fire.
The runs are short to fit CI (2,000 steps each); ``bench/hint_false_alarms.py`` runs every
dataset for 50,000 steps on three seeds. Each hint still fires in its own lesson: that is
``tests/engine/test_scenario_files.py``.
"""

from __future__ import annotations

import pytest

from trainscope.engine.config import DatasetSpec, ModelSpec, RunConfig
from trainscope.engine.data import DATASET_NAMES
from trainscope.engine.lesson_run import finished_run

#: Every dataset the engine lists but "csv", which needs a file of the user's.
BUNDLED = [name for name in DATASET_NAMES if name != "csv"]
STEPS = 1500
EVAL_EVERY = 50  # 40 evaluations: many chances for a hint to be confirmed wrongly
#: A 32-32 network with weight decay: without it the small tables (wine: 124 training rows)
#: really do overfit within a thousand steps, and then the overfitting hint is right.
SENSIBLE = {"hidden": (32, 32), "weight_decay": 1e-2}
#: The spiral needs a curvier boundary, and with 700 rows of two features it does not overfit.
SENSIBLE_FOR = {"spiral": {"hidden": (64, 64), "weight_decay": 1e-3}}
SETTLED_WITHIN = 0.05  # validation accuracy by the half-way point is within 5 points of the end
LEARNED_OVER_ZERO_RULE = 0.2  # and the end beats always-the-majority by 20 points


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def healthy_config(name: str, seed: int = 1) -> RunConfig:
    choice = SENSIBLE_FOR.get(name, SENSIBLE)
    config = RunConfig(
        dataset=DatasetSpec(name=name),
        model=ModelSpec(hidden=choice["hidden"]),
        steps=STEPS,
        eval_every=EVAL_EVERY,
        seed=seed,
    )
    return config.with_settings(weight_decay=choice["weight_decay"])


def test_every_bundled_dataset_is_covered():
    assert len(BUNDLED) >= 13
    assert {"digits", "classification", "spiral", "wave"} <= set(BUNDLED)


@pytest.mark.parametrize("name", BUNDLED)
def test_a_healthy_run_past_convergence_gets_no_hint(name: str):
    history = finished_run(healthy_config(name))
    validation = history.evaluations("validation")
    final = validation[-1]
    settled = max(point.accuracy for point in validation if point.step <= STEPS // 2)
    # Silence only counts on a run that learned, and settled with half its steps still to go.
    assert final.accuracy >= final.zero_rule_accuracy + LEARNED_OVER_ZERO_RULE, final.accuracy
    assert settled >= final.accuracy - SETTLED_WITHIN, (settled, final.accuracy)
    fired = [f"{hint.kind} at step {hint.step}: {hint.evidence}" for hint in history.hints]
    assert fired == []
