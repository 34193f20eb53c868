"""Forking: a new run that starts from a recorded run's checkpoint, with some settings changed.

Pure planning, no torch: it reads the run's config and the checkpoint's JSON notes and returns
the config of the new run and the checkpoint file the session loads before its first step
(``engine.runs.checkpoints.restore_into``). The new run starts with the settings that were in
force at the checkpoint (live changes included), then ``changes`` on top.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trainscope.engine.runs.checkpoints import checkpoint_meta, list_checkpoints
from trainscope.engine.runs.errors import RunStoreError
from trainscope.engine.settings import SETTINGS

if TYPE_CHECKING:
    from trainscope.engine.config import RunConfig
    from trainscope.engine.runs.store import RunStore


def fork_config(
    store: RunStore, run_id: int, step: int, changes: dict[str, Any] | None = None
) -> tuple[RunConfig, Path]:
    """The config of a fork of ``run_id`` from its last checkpoint at or before ``step``."""
    config = store.run_config(run_id)
    refuse_own_model(config, run_id)
    saved = list_checkpoints(store.checkpoint_dir(run_id))
    usable = [(saved_step, path) for saved_step, path in saved if saved_step <= step]
    if not usable:
        saved_steps = ", ".join(str(saved_step) for saved_step, _ in saved) or "none"
        raise RunStoreError(
            f"run {run_id} has no checkpoint at or before step {step} (saved steps: {saved_steps})"
        )
    start, path = usable[-1]
    in_force = checkpoint_meta(path).get("settings", {})  # the settings at the checkpoint
    settings = config.settings.replace(**{k: v for k, v in in_force.items() if k in SETTINGS})
    settings = settings.replace(**(changes or {}))
    steps = config.steps
    if steps is not None and steps <= start:
        steps = start + steps  # forked at (or past) the planned end: train as long again
    forked = replace(
        config,
        settings=settings,
        steps=steps,
        schedule=tuple(change for change in config.schedule if change.step > start),
    )
    return forked.validate(), path


def fork_origin(store: RunStore, run_id: int, checkpoint_path: Path) -> dict[str, Any]:
    """What the new run's ``forked_from`` records: the parent run and the checkpoint step."""
    info = store.get_run(run_id)
    step = int(Path(checkpoint_path).stem.removeprefix("step_"))
    return {"run_id": run_id, "uid": info.uid, "name": info.name, "step": step}


def refuse_own_model(config: RunConfig, run_id: int) -> None:
    """A run of a student's own model cannot be forked here: only their code can build it."""
    if config.own_model:
        raise RunStoreError(
            f"run {run_id} trained your own model, which only your code can build: fork it "
            "while it runs (Rewind in its window), or train it again with trainscope.show "
            "or --model-file"
        )
