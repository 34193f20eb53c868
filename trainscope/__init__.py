"""TrainScope: watch and steer neural-network training live.

The one top-level name TrainScope installs. Its parts keep the repository's layout and are
mapped into this package by ``pyproject.toml`` (``package-dir``): ``trainscope.engine`` is the
checkout's ``engine/``, ``trainscope.gui`` its ``gui/``, and so on. Importing this package stays
light — no torch, no Qt — so it can sit in any environment, a notebook's included.
"""

from __future__ import annotations

from typing import Any

__all__ = ["__version__", "show", "watch"]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """``show`` and ``watch`` are imported on first use (they bring torch), not with the package."""
    if name == "show":
        from trainscope.live import show

        return show
    if name == "watch":
        from trainscope.watch import watch

        return watch
    raise AttributeError(f"module 'trainscope' has no attribute {name!r}")
