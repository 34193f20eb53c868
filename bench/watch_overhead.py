"""What ``live.step`` (engine.live_loop, ``trainscope.watch``'s handle) costs a student's own loop.

The same hand-written loop — digits, MLP 64-128-128-10, Adam (the engine's implementation
choice), batch 32 — with and without a ``LiveLoop.step`` call after each step (validation
scored every 100 steps, events drained by a consumer thread as a window's relay would), and
with ``live.step`` but no ``val`` (the per-step cost alone, without the scoring). Repeats are
interleaved and medians reported. Run:  .venv/bin/python bench/watch_overhead.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

torch.set_num_threads(1)
# The first optimizer step of a process imports torch's compiler stack (about a second): taken
# here, untimed, so it lands in no repeat.
torch.optim.Adam([torch.zeros(1, requires_grad=True)]).step()
import torch.nn.functional as F  # noqa: E402

from trainscope.engine.config import DatasetSpec  # noqa: E402
from trainscope.engine.data import prepare_data  # noqa: E402
from trainscope.engine.live_loop import LiveLoop  # noqa: E402
from trainscope.engine.models import build_mlp  # noqa: E402
from trainscope.engine.trainer import optimizer_implementation  # noqa: E402


def steps_per_second(steps: int, seed: int, watched: bool, evaluate: bool = True) -> float:
    data = prepare_data(DatasetSpec(name="digits"), seed)
    torch.manual_seed(seed)
    x, y = torch.as_tensor(data.train_x), torch.as_tensor(data.train_y)
    model = build_mlp(x.shape[1], data.n_classes, (128, 128), "relu", 0.0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, **optimizer_implementation(x.device))
    val = (data.validation_x, data.validation_y) if evaluate else None
    live = LiveLoop(model, optimizer, val=val, eval_every=100)
    done = threading.Event()
    consumer = threading.Thread(
        target=lambda: [live.drain() for _ in iter(lambda: done.wait(0.01), True)]
    )
    consumer.start()
    generator = torch.Generator().manual_seed(seed)
    order, position = torch.randperm(len(y), generator=generator), 0
    started = time.perf_counter()
    for _ in range(steps):
        if position >= len(order):
            order, position = torch.randperm(len(y), generator=generator), 0
        indices = order[position : position + 32]
        position += 32
        logits = model(x[indices])
        loss = F.cross_entropy(logits, y[indices])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if watched:
            live.step(loss, outputs=logits, targets=y[indices])
    rate = steps / (time.perf_counter() - started)
    done.set()
    consumer.join()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    bare, watched, unscored = [], [], []
    for repeat in range(args.repeats):
        bare.append(steps_per_second(args.steps, repeat, watched=False))
        watched.append(steps_per_second(args.steps, repeat, watched=True))
        unscored.append(steps_per_second(args.steps, repeat, watched=True, evaluate=False))
    bare_rate = statistics.median(bare)
    print(f"bare loop                    : {bare_rate:8.1f} steps/s (median of {args.repeats})")
    print(f"bare loop + live.step        : {statistics.median(watched):8.1f} steps/s")
    print(f"  without val (no scoring)   : {statistics.median(unscored):8.1f} steps/s")
    print(f"ratio watched / bare         : {statistics.median(watched) / bare_rate:8.3f}")
    print(f"ratio watched, no val / bare : {statistics.median(unscored) / bare_rate:8.3f}")


if __name__ == "__main__":
    main()
