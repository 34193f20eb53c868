"""The GPU check: what TrainScope's engine does on a CUDA machine, in under three minutes.

Made for a lent GPU machine that has Python, a CUDA build of torch, numpy and scikit-learn but
no PySide6, no pyqtgraph, no network and no virtualenv. Run from the repository root:

    PYTHONPATH=. python3 bench/gpu_check.py            (--quick: a smoke run of a few seconds)

It prints: the device and its memory; training steps/s on the CPU and on CUDA for the MLP and
the CNN at batch 32 and 512 (the trainer's own step, figures fetched as the window gets them);
host synchronizations per training step (``torch.cuda.set_sync_debug_mode``); evaluation and
the insights (decision boundary, layer health) on the device; and the worker-process session
against the in-process session on CUDA. Without CUDA it says so and runs the CPU columns only.
The window itself cannot run there (no Qt): the check says so in one line.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import ModuleType

REPO = Path(__file__).resolve().parent.parent


def _map_checkout() -> None:
    """Make ``trainscope.engine`` (and scenarios, assets) importable from a plain checkout.

    An install maps the repository's folders into the ``trainscope`` package (``pyproject``'s
    ``package-dir``); with only ``PYTHONPATH=.`` there is no install, so the same mapping is
    made here. It runs at import, so a spawned worker process (which imports this file as its
    ``__mp_main__``) gets it too.
    """
    sys.path.insert(0, str(REPO))
    import trainscope

    for name in ("engine", "scenarios", "assets"):
        full = f"trainscope.{name}"
        if full in sys.modules:
            continue
        folder = REPO / name
        spec = importlib.util.spec_from_file_location(
            full, folder / "__init__.py", submodule_search_locations=[str(folder)]
        )
        assert spec is not None
        assert spec.loader is not None
        module: ModuleType = importlib.util.module_from_spec(spec)
        sys.modules[full] = module
        spec.loader.exec_module(module)
        setattr(trainscope, name, module)


_map_checkout()

import torch  # noqa: E402

from trainscope.engine import commands as cmd  # noqa: E402
from trainscope.engine import events as ev  # noqa: E402
from trainscope.engine.config import DatasetSpec, ModelSpec, RunConfig  # noqa: E402
from trainscope.engine.data import prepare_data  # noqa: E402
from trainscope.engine.session import ThreadSession  # noqa: E402
from trainscope.engine.trainer import Trainer  # noqa: E402
from trainscope.engine.worker import ProcessSession  # noqa: E402

FETCH_EVERY = 25  # steps between fetches of the per-step figures (the window's ~25 ms publish)


def config_for(model: str, batch: int, device: str, steps: int = 1000) -> RunConfig:
    spec = ModelSpec(kind="cnn") if model == "cnn" else ModelSpec(hidden=(128, 128))
    return RunConfig(
        dataset=DatasetSpec(name="digits"),
        model=spec,
        steps=steps,
        device=device,
        seed=0,
    ).with_settings(batch_size=batch)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def trainer_steps_per_second(config: RunConfig, seconds: float, repeats: int) -> float:
    """The trainer's own steps/s (median of repeats of about ``seconds`` each), the figures
    fetched every FETCH_EVERY steps as the window gets them."""
    device = torch.device(config.device)
    trainer = Trainer(config, prepare_data(config.dataset, config.seed), device)
    for step in range(1, 21):  # warm up: kernels, allocator, cuDNN's choice
        trainer.train_step(step)
    trainer.fetch_step_records()
    rates = []
    for _ in range(repeats):
        synchronize(device)
        started, step = time.perf_counter(), 0
        while step < FETCH_EVERY or time.perf_counter() - started < seconds:
            step += 1
            trainer.train_step(step)
            if step % FETCH_EVERY == 0:
                trainer.fetch_step_records()
        synchronize(device)
        rates.append(step / (time.perf_counter() - started))
    return statistics.median(rates)


def syncs_per_step(config: RunConfig, steps: int) -> tuple[float, float]:
    """Host synchronizations per training step, without and with the per-publish fetch."""
    device = torch.device(config.device)
    trainer = Trainer(config, prepare_data(config.dataset, config.seed), device)
    for step in range(1, 11):
        trainer.train_step(step)
    trainer.fetch_step_records()

    def count(fetch: bool) -> int:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            torch.cuda.set_sync_debug_mode("warn")
            try:
                for step in range(1, steps + 1):
                    trainer.train_step(step)
                    if fetch and step % FETCH_EVERY == 0:
                        trainer.fetch_step_records()
            finally:
                torch.cuda.set_sync_debug_mode("default")
        return sum("synchroniz" in str(warning.message) for warning in caught)

    return count(fetch=False) / steps, count(fetch=True) / steps


def evaluation_ms(config: RunConfig, repeats: int = 20) -> float:
    device = torch.device(config.device)
    trainer = Trainer(config, prepare_data(config.dataset, config.seed), device)
    trainer.evaluate("validation", 0, 0.0)
    costs = []
    for _ in range(repeats):
        started = time.perf_counter()
        trainer.evaluate("validation", 0, 0.0)
        costs.append((time.perf_counter() - started) * 1000)
    return statistics.median(costs)


def session_run(session_class: type, config: RunConfig, insights: bool) -> dict[str, float]:
    """A whole session to its planned end: steps/s as it reported them, and insight events."""
    session = session_class(config)
    session.start()
    if insights:
        session.send(cmd.SetInsights(boundary=True, layer_health=True))
    events: list[object] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(0.05)
        events.extend(session.drain())
        if any(isinstance(event, ev.Finished | ev.Error) for event in events):
            break
    session.close()
    errors = [event.message for event in events if isinstance(event, ev.Error)]
    if errors:
        raise RuntimeError(errors[0])
    timed = [event for event in events if isinstance(event, ev.StepMetrics)]
    steps = sum(len(event.steps) for event in timed if event.steps_per_second > 0)
    seconds = sum(
        len(event.steps) / event.steps_per_second for event in timed if event.steps_per_second > 0
    )
    boundaries = [event for event in events if isinstance(event, ev.DecisionBoundary)]
    layers = [event for event in events if isinstance(event, ev.LayerHealth)]
    return {
        "steps_per_second": steps / seconds if seconds else 0.0,
        "boundaries": len(boundaries),
        "boundary_ms": statistics.median(e.duration_ms for e in boundaries) if boundaries else 0.0,
        "layer_health": len(layers),
        "layer_ms": statistics.median(e.duration_ms for e in layers) if layers else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    args = parser.parse_args()
    seconds, repeats, steps = (0.2, 1, 30) if args.quick else (1.5, 3, 300)
    started = time.monotonic()
    torch.set_num_threads(1)  # the engine's default: one torch thread
    cuda = torch.cuda.is_available()
    print(f"python {sys.version.split()[0]}, torch {torch.__version__}, numpy ok, one torch thread")
    if cuda:
        properties = torch.cuda.get_device_properties(0)
        print(
            f"device: {properties.name}, {properties.total_memory / 2**30:.1f} GiB, "
            f"compute capability {properties.major}.{properties.minor}, CUDA {torch.version.cuda}"
        )
    else:
        print("device: no CUDA GPU here; the CUDA columns are skipped (CPU only)")
    if importlib.util.find_spec("PySide6") is None or importlib.util.find_spec("pyqtgraph") is None:
        print("the window cannot run here (no PySide6/pyqtgraph): engine and sessions only")
    else:
        print("the window is not measured here: bench/window_bench.py measures it")
    devices = ["cpu", "cuda"] if cuda else ["cpu"]

    print(
        f"\ntraining steps/s (trainer, median of {repeats} x {seconds:g} s, figures fetched every {FETCH_EVERY} steps)"
    )
    for model in ("mlp", "cnn"):
        for batch in (32, 512):
            rates = {
                d: trainer_steps_per_second(config_for(model, batch, d), seconds, repeats)
                for d in devices
            }
            cells = "  ".join(f"{d} {rate:8.1f}" for d, rate in rates.items())
            ratio = f"  cuda/cpu {rates['cuda'] / rates['cpu']:.2f}" if cuda else ""
            print(f"  {model:<4} batch {batch:<4}: {cells}{ratio}")

    if cuda:
        print("\nhost synchronizations per training step (set_sync_debug_mode)")
        for model in ("mlp", "cnn"):
            bare, fetched = syncs_per_step(config_for(model, 32, "cuda"), max(steps, 50))
            print(
                f"  {model:<4}: {bare:.3f} per step while training, {fetched:.3f} with the fetch every {FETCH_EVERY}"
            )

    print("\none evaluation (validation + training rows + metrics), median ms")
    for model in ("mlp", "cnn"):
        cells = "  ".join(f"{d} {evaluation_ms(config_for(model, 32, d)):6.2f}" for d in devices)
        print(f"  {model:<4}: {cells}")

    session_steps = 60 if args.quick else 1500
    print(f"\nsessions on {devices[-1]} ({session_steps} steps, MLP, batch 32), as the run reports")
    for name, session_class in (
        ("in-process (thread)", ThreadSession),
        ("worker process", ProcessSession),
    ):
        for insights in (False, True):
            config = config_for("mlp", 32, devices[-1], steps=session_steps)
            result = session_run(session_class, config, insights)
            extra = (
                f"; boundary {result['boundaries']:.0f}x {result['boundary_ms']:.1f} ms, "
                f"layer health {result['layer_health']:.0f}x {result['layer_ms']:.1f} ms"
                if insights
                else ""
            )
            label = "with insights" if insights else "plain"
            print(f"  {name:<20} {label:<14}: {result['steps_per_second']:8.1f} steps/s{extra}")
    print(f"\ndone in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
