"""Device choice: CUDA when available, else Apple MPS, else CPU; ``--device`` overrides."""

from __future__ import annotations

import torch

from engine.errors import ConfigError


def resolve_device(requested: str = "auto") -> torch.device:
    """Return the torch device for ``requested`` or refuse one that is not available here."""
    name = requested.strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(
            f"unknown device {requested!r}; use auto, cpu, cuda, cuda:N or mps"
        ) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {requested!r} was asked for but no CUDA GPU is available")
    if (
        device.type == "cuda"
        and device.index is not None
        and device.index >= torch.cuda.device_count()
    ):
        raise ConfigError(
            f"device {requested!r} does not exist; this machine has {torch.cuda.device_count()} GPU(s)"
        )
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("device 'mps' was asked for but Apple MPS is not available")
    if device.type not in ("cpu", "cuda", "mps"):
        raise ConfigError(f"unsupported device {requested!r}; use auto, cpu, cuda, cuda:N or mps")
    return device
