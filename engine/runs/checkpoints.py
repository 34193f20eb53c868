"""Checkpoints on disk, so a recorded run can be forked from a step or its weights exported.

Files sit in the run's folder next to the database: ``step_<n>.pt`` (weights and optimizer
state, written with ``torch.save`` and read back only with ``weights_only=True``, which loads
tensors and plain containers and never runs code) and ``step_<n>.json`` (the settings in force
and what made them, readable without torch, so the window can offer a fork without loading
it). Writes go to a temporary name and are renamed into place, so a crash never leaves half
a checkpoint. torch is imported inside the functions that need it, never at module level.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainscope.engine.runs.errors import RunFileError

CHECKPOINT_INTERVAL_S = 30.0
_NAME = re.compile(r"^step_(\d+)\.pt$")


@dataclass(frozen=True)
class LoadedCheckpoint:
    """A checkpoint read back; its fields mirror ``engine.trainer.Checkpoint`` for ``restore``."""

    step: int
    model_state: dict
    optimizer_name: str
    optimizer_state: dict
    meta: dict[str, Any]


def checkpoint_file(folder: Path, step: int) -> Path:
    return folder / f"step_{int(step)}.pt"


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def save_checkpoint(
    path: str | os.PathLike[str], model_state: dict, optimizer_state: dict, meta: dict[str, Any]
) -> Path:
    """Write weights + optimizer state (``meta`` must be JSON: step, optimizer name, settings)."""
    import torch

    path = Path(path)
    meta_text = json.dumps(meta)  # fails here, loudly, if meta is not plain data
    buffer = io.BytesIO()
    torch.save(
        {"model_state": model_state, "optimizer_state": optimizer_state, "meta": meta_text}, buffer
    )
    _atomic_write(path, buffer.getvalue())
    _atomic_write(path.with_suffix(".json"), meta_text.encode())
    return path


def load_checkpoint(path: str | os.PathLike[str]) -> LoadedCheckpoint:
    """Read a checkpoint with ``weights_only=True``; anything else is one ``RunFileError``."""
    return read_checkpoint(path)[1]


def read_checkpoint(path: str | os.PathLike[str]) -> tuple[bytes, LoadedCheckpoint]:
    """A checkpoint file's bytes and what the safe loader makes of them (export packs the bytes)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise RunFileError(
            f"the checkpoint {path} cannot be read ({error.strerror or error})"
        ) from None
    return data, load_checkpoint_bytes(data, f"the checkpoint {path}")


def load_checkpoint_bytes(data: bytes, source: str) -> LoadedCheckpoint:
    """Checkpoint bytes (a file, an archive member) → tensors; ``source`` names it in errors."""
    import torch

    try:
        loaded = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:  # weights_only refused something that is not plain data
        raise RunFileError(
            f"{source} cannot be read safely (it holds objects other than tensors and plain "
            "data, and TrainScope never loads those)"
        ) from None
    except Exception:  # a truncated zip, another format …
        raise RunFileError(
            f"{source} cannot be read safely (it is damaged or not a PyTorch checkpoint)"
        ) from None
    try:
        meta = json.loads(loaded["meta"])
        return LoadedCheckpoint(
            step=int(meta["step"]),
            model_state=dict(loaded["model_state"]),
            optimizer_name=str(meta.get("optimizer_name", "")),
            optimizer_state=dict(loaded["optimizer_state"]),
            meta=meta,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise RunFileError(f"{source} is not a TrainScope checkpoint ({error})") from None


def checkpoint_meta(path: Path) -> dict[str, Any]:
    """The JSON sidecar of a checkpoint (no torch needed)."""
    try:
        meta = json.loads(path.with_suffix(".json").read_text())
    except (OSError, ValueError) as error:
        raise RunFileError(
            f"the checkpoint notes {path.with_suffix('.json')} are unreadable ({error})"
        ) from None
    if not isinstance(meta, dict):
        raise RunFileError(f"the checkpoint notes {path.with_suffix('.json')} are malformed")
    return meta


def list_checkpoints(folder: Path) -> list[tuple[int, Path]]:
    """(step, path) of every complete checkpoint in a run's folder, by step."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = _NAME.match(path.name)
        if match and path.with_suffix(".json").exists():
            found.append((int(match.group(1)), path))
    return sorted(found)


def restore_into(trainer: Any, path: str | os.PathLike[str]) -> int:
    """Load a checkpoint into a ``Trainer`` (weights, optimizer if it matches); return its step.

    The hook a forked session calls right after building its trainer.
    """
    checkpoint = load_checkpoint(path)
    trainer.restore(checkpoint)
    return checkpoint.step


class PeriodicCheckpoints:
    """Writes the training loop's in-memory checkpoints to disk every ``interval_s`` seconds.

    Called by the training thread after each evaluation's in-memory checkpoint; a rewind or
    reset drops files from the timeline that no longer holds, so a fork never starts from an
    abandoned branch.
    """

    def __init__(
        self, folder: str | os.PathLike[str], interval_s: float = CHECKPOINT_INTERVAL_S
    ) -> None:
        self.folder = Path(folder)
        self.interval_s = interval_s
        self._last_saved = -float("inf")

    def due(self) -> bool:
        return time.monotonic() - self._last_saved >= self.interval_s

    def save(
        self, checkpoint: Any, settings: dict[str, Any], config: dict[str, Any] | None = None
    ) -> Path:
        """Save an ``engine.trainer.Checkpoint`` (step, model_state, optimizer_name/_state)."""
        meta = {
            "step": int(checkpoint.step),
            "optimizer_name": checkpoint.optimizer_name,
            "settings": _plain_settings(settings),
            "saved_at": time.time(),
            **({"config": config} if config is not None else {}),
        }
        path = save_checkpoint(
            checkpoint_file(self.folder, checkpoint.step),
            checkpoint.model_state,
            checkpoint.optimizer_state,
            meta,
        )
        self._last_saved = time.monotonic()
        return path

    def maybe_save(self, checkpoint: Any, settings: dict[str, Any]) -> Path | None:
        return self.save(checkpoint, settings) if self.due() else None

    def discard_after(self, step: int) -> None:
        """Forget checkpoints later than ``step`` (after a rewind to it, or a reset to 0)."""
        for saved_step, path in list_checkpoints(self.folder):
            if saved_step > step:
                path.unlink(missing_ok=True)
                path.with_suffix(".json").unlink(missing_ok=True)


def _plain_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Settings as JSON scalars (numpy numbers become Python numbers)."""
    return {
        key: value.item() if hasattr(value, "item") else value for key, value in settings.items()
    }
