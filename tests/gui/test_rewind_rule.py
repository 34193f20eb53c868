"""Every view of a run cuts a rewind at the same step (``engine.rewind``'s one rule).

One event stream — a run, a rewind, then the loop's fresh evaluation at the rewind's step — is
folded by each view the product has: the window's ``RunState``, the lesson checks'
``RunFold``, the exports' ``Timeline``, the headless ``RunSummary`` and the store's
``RunOutcome``. At every point of the stream they must agree on the last step and on which
evaluations are still part of the run.
"""

from __future__ import annotations

import pytest

from tests import event_factory
from trainscope.engine.run_fold import RunFold
from trainscope.engine.runs.outcome import RunOutcome
from trainscope.engine.runs.timeline import Timeline
from trainscope.engine.summary import RunSummary
from trainscope.gui.run_state import RunState

FROM_STEP, TO_STEP = 500, 300


def _views(events: list) -> dict[str, tuple[int, list[int]]]:
    """(last step, validation evaluation steps) as each view sees ``events``."""
    state = RunState()
    state.apply(events)
    history = RunFold.from_events(events)
    timeline = Timeline.from_events(events)
    summary, outcome = RunSummary(), RunOutcome()
    for event in events:
        summary.update(event)
        outcome.update(event)
    timeline_evaluations = [
        int(row["step"]) for row in timeline.evaluations if row["split"] == "validation"
    ]
    return {
        "RunState": (int(state.step), [int(step) for step in state.evaluations["step"]]),
        "RunFold": (int(history.steps[-1]), [p.step for p in history.evaluations()]),
        "Timeline": (int(timeline.train["step"][-1]), timeline_evaluations),
        "RunSummary": (summary.steps, None),
        "RunOutcome": (outcome.steps, None),
    }


def _agree(views: dict[str, tuple[int, list[int] | None]], last: int, evaluated: list[int]) -> None:
    for name, (step, evaluations) in views.items():
        assert step == last, f"{name} is at step {step}, not {last}"
        if evaluations is not None:
            assert evaluations == evaluated, f"{name} keeps evaluations {evaluations}"


@pytest.fixture
def stream() -> list:
    return event_factory.training_stream(10, total_steps=FROM_STEP, eval_every=100)


def test_before_the_rewind_every_view_sees_the_whole_run(stream):
    _agree(_views(stream), FROM_STEP, [0, 100, 200, 300, 400, 500])


def test_right_after_the_rewind_every_view_keeps_what_is_at_or_before_its_step(stream):
    rewound = [*stream, event_factory.rewound(FROM_STEP, TO_STEP)]
    _agree(_views(rewound), TO_STEP, [0, 100, 200, 300])


def test_the_fresh_evaluation_at_the_rewind_step_replaces_the_old_one_everywhere(stream):
    labels = event_factory.synthetic_labels(10)
    again = event_factory.evaluation(
        TO_STEP, event_factory.synthetic_probabilities(labels, 10, 1.0), labels
    )
    events = [*stream, event_factory.rewound(FROM_STEP, TO_STEP), again]
    _agree(_views(events), TO_STEP, [0, 100, 200, 300])
    assert RunFold.from_events(events).evaluations()[-1].loss == pytest.approx(again.loss)
    state = RunState()
    state.apply(events)
    assert state.evaluations.last("val_loss") == pytest.approx(again.loss)


def _best_and_latest(events: list) -> dict[str, tuple[int | None, int | None]]:
    """(best validation step, latest validation step) as each view reports them."""
    state = RunState()
    state.apply(events)
    summary, outcome = RunSummary(), RunOutcome()
    for event in events:
        summary.update(event)
        outcome.update(event)
    report, row = summary.to_dict(), outcome.final()
    latest = state.latest_validation
    return {
        "RunState": (state.best_step, latest.step if latest else None),
        "RunSummary": (report["best"]["step"], summary.last_validation.step),
        "RunOutcome": (row["best_step"], None),
    }


def test_after_a_rewind_past_the_best_every_view_finds_the_same_best_on_the_timeline(stream):
    before = _best_and_latest(stream)
    assert {best for best, _ in before.values()} == {FROM_STEP}  # the loss falls to the end
    after = _best_and_latest([*stream, event_factory.rewound(FROM_STEP, TO_STEP)])
    for name, (best, latest) in after.items():
        assert best == TO_STEP, f"{name} still reports the cut-off best at step {best}"
        assert latest in (None, TO_STEP), f"{name} shows the evaluation at {latest}"
