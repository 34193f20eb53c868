"""A student's own model and data in TrainScope's loop (``engine.user_run``): trained in place,
steered mid-run, and every common mistake refused in one sentence before anything trains."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from torch import nn

from trainscope.engine import commands as cmd
from trainscope.engine import events as ev
from trainscope.engine.errors import TrainScopeError
from trainscope.engine.user_run import user_session

CLASSES = 3


def blobs(n: int = 240, features: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three well-separated Gaussian blobs: any small network learns them within a few hundred steps."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % CLASSES
    centres = np.random.default_rng(features).normal(0, 3, (CLASSES, features))  # one task
    return (centres[labels] + rng.normal(0, 0.5, (n, features))).astype(np.float32), labels


def collect_until(session, seen: list, done, timeout: float = 60.0) -> list:
    deadline = time.monotonic() + timeout
    while not any(done(event) for event in seen):
        assert time.monotonic() < deadline, "the run did not get there in time"
        time.sleep(0.01)
        seen += session.drain()
    return seen


def test_a_model_class_defined_here_trains_in_place_and_takes_lr_and_dropout_mid_run(
    one_torch_thread,
):
    class Net(nn.Module):  # defined in the test: not importable, never pickled
        def __init__(self) -> None:
            super().__init__()
            self.body = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.1))
            self.head = nn.Sequential(nn.Dropout(0.1), nn.Linear(16, CLASSES))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(self.body(x))

    model = Net()
    before = model.head[1].weight.detach().clone()
    x, y = blobs()
    session = user_session(model, train=(x, y), val=blobs(60, seed=1), steps=400, lr=1e-2)
    session.send(cmd.Step(50))  # paused after 50 steps: the change lands on step 51
    session.start()
    seen = collect_until(session, [], lambda e: isinstance(e, ev.Evaluation) and e.step == 50)
    session.send(cmd.SetParam("lr", 3e-3))
    session.send(cmd.SetParam("dropout", 0.3))
    session.send(cmd.Resume())
    seen = collect_until(session, seen, lambda e: isinstance(e, ev.Finished))
    session.close()
    changes = {e.key: e for e in seen if isinstance(e, ev.ParamChanged)}
    assert changes["lr"].step == 51
    assert changes["dropout"].step == 51
    assert changes["dropout"].old == pytest.approx(0.1)  # the model's own dropout, read at start
    assert [m.p for m in model.modules() if isinstance(m, nn.Dropout)] == [0.3, 0.3]
    lrs = np.concatenate([e.lr for e in seen if isinstance(e, ev.StepMetrics)])
    steps = np.concatenate([e.steps for e in seen if isinstance(e, ev.StepMetrics)])
    assert set(lrs[steps <= 50]) == {1e-2}
    assert set(lrs[steps > 50]) == {3e-3}
    assert not torch.equal(model.head[1].weight, before)  # the student's object itself trained
    started = next(e for e in seen if isinstance(e, ev.RunStarted))
    assert started.model_description == "Net (your model)"
    assert started.dataset == "your data"
    assert started.n_train == 240
    evaluations = [e for e in seen if isinstance(e, ev.Evaluation)]
    assert evaluations[-1].accuracy > 0.9
    assert evaluations[-1].loss < evaluations[0].loss


def test_image_shaped_inputs_reach_the_model_in_their_shape(one_torch_thread):
    class Conv(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 3, padding=1)
            self.head = nn.Linear(4 * 8 * 8, CLASSES)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            assert x.shape[1:] == (1, 8, 8)
            return self.head(torch.relu(self.conv(x)).flatten(1))

    x, y = blobs(120, features=64)
    session = user_session(Conv(), train=(torch.as_tensor(x).view(-1, 1, 8, 8), y), steps=30)
    session.start()
    seen = collect_until(session, [], lambda e: isinstance(e, ev.Finished | ev.Error))
    session.close()
    assert not [e for e in seen if isinstance(e, ev.Error)]
    assert next(e for e in seen if isinstance(e, ev.RunStarted)).n_validation == 18  # 15% held out


class Linear4(nn.Module):
    def __init__(self, outputs: int = CLASSES) -> None:
        super().__init__()
        self.layer = nn.Linear(4, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x)


class Raises(Linear4):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x.view(len(x), 2, 2))  # a shape mistake, in this file


def _nan_inputs():
    x, y = blobs()
    x[17, 2] = np.nan
    return x, y


@pytest.mark.parametrize(
    ("model", "train", "message"),
    [
        (Linear4(5), blobs(), "your model outputs 5 values per example, the data has 3 classes"),
        (Linear4(), _nan_inputs(), "hold 1 NaN or infinite values in 1 rows (the first is row 17)"),
        (Linear4(), (blobs()[0], blobs()[1] + 1), "never show class 0"),
        (Linear4(), (blobs()[0], blobs()[1] - 0.5), "must be the class numbers 0..K-1 (found"),
        (Linear4(), (blobs()[0], np.array(["a", "b", "c"] * 80)), "found np.str_('a')"),
        (Linear4(), (blobs()[0].astype(str), blobs()[1]), "inputs must be numbers"),
        (Linear4(), (blobs()[0][:200], blobs()[1]), "have 200 rows but 240 labels"),
        (Linear4(), blobs()[0], "must be an (X, y) pair, a torch Dataset or a pandas DataFrame"),
        (Raises(), blobs(), "your model's forward raised RuntimeError"),
        (
            Linear4().to("meta"),
            blobs(),
            "your model's weights are on meta but the run trains on cpu",
        ),
    ],
)
def test_each_common_mistake_is_one_sentence_before_anything_trains(model, train, message):
    with pytest.raises(TrainScopeError) as raised:
        user_session(model, train=train, device="cpu", steps=10)
    text = str(raised.value)
    assert message in text
    assert text.count(". ") == 0
    assert "\n" not in text


def test_a_forward_that_raises_is_located_in_the_students_own_file():
    with pytest.raises(TrainScopeError, match=r"\(test_user_run\.py, line \d+\)$"):
        user_session(Raises(), train=blobs(), steps=10)


def test_validation_inputs_of_another_shape_are_refused():
    with pytest.raises(TrainScopeError, match="each validation example has shape"):
        user_session(Linear4(), train=blobs(), val=blobs(60, features=5), steps=10)


def test_a_torch_dataset_is_read_item_by_item(one_torch_thread):
    x, y = blobs()
    dataset = torch.utils.data.TensorDataset(torch.as_tensor(x), torch.as_tensor(y))
    session = user_session(Linear4(), train=dataset, steps=20)
    session.start()
    seen = collect_until(session, [], lambda e: isinstance(e, ev.Finished | ev.Error))
    session.close()
    assert any(isinstance(e, ev.Finished) for e in seen)


def test_opening_a_test_split_that_was_not_given_is_refused_in_one_sentence(one_torch_thread):
    session = user_session(Linear4(), train=blobs(), steps=20)
    session.send(cmd.OpenTestSet())
    session.start()
    seen = collect_until(session, [], lambda e: isinstance(e, ev.Finished | ev.Error))
    session.close()
    refused = [e for e in seen if isinstance(e, ev.CommandRefused)]
    assert [e.message for e in refused] == [
        "this run has no test split to open (trainscope.show takes one as test=)"
    ]
    assert not [e for e in seen if isinstance(e, ev.Evaluation) and e.split == "test"]


def test_pandas_dataframes_with_a_label_column_train_and_name_the_features(one_torch_thread):
    pandas = pytest.importorskip("pandas")  # optional for users; the test install has it

    def frame(n: int, seed: int):
        x, y = blobs(n, seed=seed)
        table = pandas.DataFrame(x, columns=["height", "width", "depth", "weight"])
        table["kind"] = y
        return table

    torch.manual_seed(0)  # the model's first weights: not whatever an earlier test left
    session = user_session(
        Linear4(), train=frame(240, 0), val=frame(60, 1), label_column="kind", lr=1e-2, steps=300
    )
    session.start()
    seen = collect_until(session, [], lambda e: isinstance(e, ev.Finished | ev.Error))
    session.close()
    started = next(e for e in seen if isinstance(e, ev.RunStarted))
    assert started.feature_names == ("height", "width", "depth", "weight")
    assert started.n_validation == 60  # the given frame, not a held-out share
    assert [e for e in seen if isinstance(e, ev.Evaluation)][-1].accuracy > 0.9
    with pytest.raises(TrainScopeError, match="has no column 'label'"):
        user_session(Linear4(), train=frame(240, 0), label_column="label")
    with pytest.raises(TrainScopeError, match="a DataFrame needs label_column"):
        user_session(Linear4(), train=frame(240, 0))
