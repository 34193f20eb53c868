"""Engine overhead: the engine's training throughput against a minimal hand-written torch loop.

Same data (digits, standardized, on the device), same model (MLP 64-128-128-10), same batch size
and optimizer; repeats are interleaved and medians reported, because shared machines are noisy.
Also reports the cost of one evaluation. Run:  .venv/bin/python bench/engine_throughput.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

torch.set_num_threads(1)  # the engine trains on one thread by default (see RunConfig.threads)
import torch.nn.functional as F  # noqa: E402

from trainscope.engine import events as ev  # noqa: E402
from trainscope.engine.config import DatasetSpec, ModelSpec, RunConfig  # noqa: E402
from trainscope.engine.data import prepare_data  # noqa: E402
from trainscope.engine.models import build_mlp  # noqa: E402
from trainscope.engine.session import ThreadSession  # noqa: E402
from trainscope.engine.summary import RunSummary  # noqa: E402
from trainscope.engine.trainer import TRAIN_EVAL_ROWS, optimizer_implementation  # noqa: E402


def bare_loop_steps_per_second(steps: int, seed: int, eval_every: int | None) -> float:
    """The loop a careful person writes by hand: index batches on the device, no extras."""
    data = prepare_data(DatasetSpec(name="digits"), seed)
    torch.manual_seed(seed)
    x = torch.as_tensor(data.train_x)
    y = torch.as_tensor(data.train_y)
    vx = torch.as_tensor(data.validation_x)
    # The rows the engine scores the training split on (its train curve), as it picks them.
    train_rows = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    train_rows = train_rows[:TRAIN_EVAL_ROWS].sort().values
    tx, ty = x[train_rows], y[train_rows]
    model = build_mlp(x.shape[1], data.n_classes, (128, 128), "relu", 0.0)
    # The engine's own choice of implementation (fused where the device has it), so the ratio
    # measures the engine's overhead, not a faster optimizer.
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, **optimizer_implementation(x.device))
    generator = torch.Generator().manual_seed(seed)
    order, position = torch.randperm(len(y), generator=generator), 0
    started = time.perf_counter()
    for step in range(1, steps + 1):
        if position >= len(order):
            order, position = torch.randperm(len(y), generator=generator), 0
        indices = order[position : position + 32]
        position += 32
        loss = F.cross_entropy(model(x[indices]), y[indices])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if eval_every and step % eval_every == 0:
            # What a hand-written loop needs for the same two curves: the validation split's
            # probabilities and the training rows' loss and accuracy, in eval mode.
            with torch.no_grad():
                model.eval()
                model(vx).log_softmax(1).exp().numpy()
                train_log_probabilities = model(tx).log_softmax(1)
                torch.stack(
                    (
                        F.nll_loss(train_log_probabilities, ty),
                        (train_log_probabilities.argmax(1) == ty).float().mean(),
                    )
                ).numpy()
                model.train()
    return steps / (time.perf_counter() - started)


def engine_steps_per_second(steps: int, seed: int, eval_every: int) -> tuple[float, float]:
    """Run the real ThreadSession; return its own measured steps/s and median evaluation ms."""
    config = RunConfig(
        dataset=DatasetSpec(name="digits"),
        model=ModelSpec(hidden=(128, 128)),
        steps=steps,
        eval_every=eval_every,
        seed=seed,
    )
    session = ThreadSession(config)
    summary = RunSummary()
    session.start()
    finished = False
    while not finished:
        time.sleep(0.05)
        for event in session.drain():
            summary.update(event)
            finished = finished or isinstance(event, ev.Finished | ev.Error)
    session.close()
    return summary.steps_per_second, summary.to_dict()["eval_ms_median"] or 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--eval-every", type=int, default=100)
    args = parser.parse_args()
    bare, bare_eval, engine, eval_ms = [], [], [], []
    for repeat in range(args.repeats):
        bare.append(bare_loop_steps_per_second(args.steps, repeat, None))
        bare_eval.append(bare_loop_steps_per_second(args.steps, repeat, args.eval_every))
        rate, cost = engine_steps_per_second(args.steps, repeat, args.eval_every)
        engine.append(rate)
        eval_ms.append(cost)
    median = statistics.median
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.steps} steps x {args.repeats} repeats (interleaved)"
    )
    print(f"bare torch loop                 : {median(bare):8.1f} steps/s (median)")
    print(f"bare loop + val & train eval/{args.eval_every:<3d}: {median(bare_eval):8.1f} steps/s")
    print(f"engine (ThreadSession, full)    : {median(engine):8.1f} steps/s")
    print(f"ratio engine / bare             : {median(engine) / median(bare):8.3f}")
    print(f"ratio engine / bare+eval        : {median(engine) / median(bare_eval):8.3f}")
    print(f"one evaluation (val+train+metrics): {median(eval_ms):6.2f} ms median")


if __name__ == "__main__":
    main()
