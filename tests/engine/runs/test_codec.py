"""The event codec: every event type round-trips bit for bit, and a hostile row runs nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pytest

from tests.engine.runs.helpers import assert_same
from trainscope.engine import events as ev
from trainscope.engine.runs import codec
from trainscope.engine.runs.codec import (
    RecordedEvent,
    decode_event,
    encode_event,
    event_steps,
    pack_arrays,
    unpack_arrays,
)
from trainscope.engine.runs.errors import RunFileError


def _calibration() -> ev.Calibration:
    return ev.Calibration(
        bin_edges=np.linspace(0, 1, 4),
        mean_confidence=np.array([0.2, np.nan, 0.9]),
        observed_frequency=np.array([0.1, np.nan, 1.0]),
        counts=np.array([3, 0, 5], dtype=np.int64),
        ece=0.05,
        mce=0.2,
    )


def _evaluation() -> ev.Evaluation:
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(2), size=8).astype(np.float32)
    return ev.Evaluation(
        step=50,
        epoch=1.5,
        split="validation",
        loss=0.3,
        accuracy=0.875,
        confusion=np.array([[3, 1], [0, 4]], dtype=np.int64),
        precision=np.array([1.0, 0.8]),
        recall=np.array([0.75, 1.0]),
        f1=np.array([0.857, 0.889]),
        calibration=_calibration(),
        roc_auc=None,
        probabilities=probabilities,
        labels=np.array([0, 0, 0, 0, 1, 1, 1, 1], dtype=np.int64),
        train_loss=float("inf"),
        train_accuracy=0.9,
        zero_rule_accuracy=0.5,
        random_accuracy=0.5,
        duration_ms=1.25,
        temperature=1.3,
        slice_accuracy={"young": 0.5, "old": float("nan")},
        slice_ids=np.array([0, 1, 0, 1, 0, 1, 0, 1], dtype=np.int64),
    )


EVERY_EVENT = [
    ev.RunStarted(
        "moons",
        ("a", "b"),
        ("x", "y"),
        280,
        60,
        60,
        "MLP 2-16-2",
        82,
        "cpu",
        {"lr": 0.001, "optimizer": "adam", "no_zero_grad": False, "batch_size": 32},
        7,
        None,
        9,
        0.6931471805599453,
        slice_names=("young", "old"),
        scenario="s1",
        train_class_counts=(150, 130),
    ),
    ev.StepMetrics(
        np.arange(1, 6, dtype=np.int64),
        np.array([0.7, 0.6, np.nan, np.inf, 0.5]),
        np.full(5, 0.5),
        np.linspace(0, 1, 5),
        np.full(5, 1e-3),
        0.55,
        812.5,
        1.7e9,
    ),
    _evaluation(),
    ev.ParamChanged(step=41, key="optimizer", old="adam", new="sgd"),
    ev.ParamChanged(step=42, key="no_eval_mode", old=False, new=True),
    ev.CommandRefused(step=3, message="there is no earlier checkpoint to rewind to"),
    ev.StateChanged(step=0, state="running"),
    ev.Rewound(from_step=120, to_step=100),
    ev.TestSetOpened(step=12),
    ev.Diverged(step=9, loss=float("nan"), message="the loss became nan"),
    ev.TemperatureFitted(step=30, temperature=1.7, ece_before=0.1, ece_after=0.02),
    ev.Hint(step=80, kind="overfitting", title="Overfitting", evidence="…", suggestion="…"),
    ev.Finished(step=120, reason="completed"),
    ev.Error(message="training stopped: ✗", detail="Traceback …"),
]


@pytest.mark.parametrize("event", EVERY_EVENT, ids=lambda event: type(event).__name__)
def test_every_event_round_trips_exactly(event):
    encoded = encode_event(event)
    assert encoded.kind == type(event).__name__
    assert_same(decode_event(encoded.payload, encoded.arrays), event)


def test_a_run_start_recorded_before_class_counts_existed_still_opens():
    encoded = encode_event(EVERY_EVENT[0])
    tree = json.loads(encoded.payload)
    del tree["f"]["train_class_counts"]
    decoded = decode_event(json.dumps(tree), encoded.arrays)
    assert isinstance(decoded, ev.RunStarted)
    assert decoded.train_class_counts == ()
    assert decoded.dataset == "moons"
    assert decoded.scenario == "s1"


def test_step_columns_let_the_store_seek_without_decoding():
    assert event_steps(EVERY_EVENT[1]) == (1, 5)
    assert event_steps(ev.Rewound(from_step=120, to_step=100)) == (100, 100)
    assert event_steps(ev.Error("x", "")) == (None, None)


def test_step_metrics_are_stored_compactly():
    steps = np.arange(1, 51, dtype=np.int64)
    noisy = np.random.default_rng(0).random(50)
    metrics = ev.StepMetrics(steps, noisy, noisy, noisy, np.full(50, 1e-3), 1.0, 1.0)
    encoded = encode_event(metrics)
    assert len(encoded.arrays) < 5 * 8 * 50 * 0.7
    assert len(encoded.payload) < 400
    assert unpack_arrays(pack_arrays(b"\x07" * 3)) == b"\x07" * 3  # too small to pack: kept raw


def test_array_packing_is_checked_and_capped(monkeypatch):
    payload = encode_event(EVERY_EVENT[1]).payload
    with pytest.raises(RunFileError, match="unknown packing"):
        decode_event(payload, b"\x09" + b"\0" * 64)
    with pytest.raises(RunFileError, match="damaged"):
        decode_event(payload, b"\x01" + b"not zlib data")
    monkeypatch.setattr(codec, "MAX_UNPACKED_BYTES", 1000)
    with pytest.raises(RunFileError, match="impossibly large"):
        decode_event(payload, pack_arrays(b"\0" * 100_000))


def test_an_unknown_event_type_is_kept_by_its_fields():
    @dataclass(frozen=True)
    class Novel:
        step: int
        scores: np.ndarray

    encoded = encode_event(Novel(step=4, scores=np.array([1.5, 2.5])))
    decoded = decode_event(encoded.payload, encoded.arrays)
    assert isinstance(decoded, RecordedEvent)
    assert decoded.kind == "Novel"
    np.testing.assert_array_equal(decoded.fields["scores"], [1.5, 2.5])
    again = encode_event(decoded)
    assert again.kind == "Novel"
    assert again.step == 4


def test_a_row_naming_outside_code_is_data_not_code():
    payload = json.dumps({"$dc": "system", "f": {"command": "touch /tmp/pwned"}})
    decoded = decode_event(payload, b"")
    assert isinstance(decoded, RecordedEvent)
    assert decoded.kind == "system"


@pytest.mark.parametrize(
    ("payload", "arrays", "words"),
    [
        ('{"$dc": "TestSetOpened"', b"", "not valid JSON"),
        ('{"$dc": "X", "f": {"a": {"$a": [0, "|O", [1]]}}}', b"\0" * 8, "forbidden type"),
        ('{"$dc": "X", "f": {"a": {"$a": [0, "<f8", [4]]}}}', b"\0" * 8, "truncated"),
        ('{"$dc": "X", "f": {"a": {"$a": [0, "<f8", [-1]]}}}', b"", "negative"),
        ('{"$dc": "X", "f": {"a": {"$zz": 1}}}', b"", "unknown form"),
        ("[1, 2]", b"", "no event type"),
    ],
)
def test_a_malformed_row_is_one_sentence(payload, arrays, words):
    with pytest.raises(RunFileError, match=words):
        decode_event(payload, arrays)
