"""The status bar's resource readout: what the training process and the window itself use.

The worker reports its CPU share and memory (``Resources``, about once a second); the window's
own memory comes from ``engine.resources.resident_mib`` (torch-free, the same reading the worker
uses), so a student can see that the window is light and the training process is where the
work is.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trainscope.engine.events import Resources


def resources_text(resources: Resources, window_mib: float) -> str:
    """e.g. 'worker CPU 98% · 412 MiB · GPU 1,024 MiB · window 160 MiB' (steps/s sits beside it).

    A window size of NaN (no way to read it on this system) is left out.
    """
    parts = [f"worker CPU {resources.cpu_percent:.0f}%", f"{resources.rss_mib:,.0f} MiB"]
    if resources.gpu_memory_mib is not None:
        parts.append(f"GPU {resources.gpu_memory_mib:,.0f} MiB")
    if math.isfinite(window_mib):
        parts.append(f"window {window_mib:,.0f} MiB")
    return " · ".join(parts)
