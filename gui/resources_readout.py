"""The status bar's resource readout: what the training process and the window itself use.

The worker reports its CPU share and memory (``Resources``, about once a second); the window's
own memory is read here from ``/proc/self/statm`` — one small file read, no psutil — so a
student can see that the window is light and the training process is where the work is.
"""

from __future__ import annotations

import os

from engine.events import Resources

STATM = "/proc/self/statm"


def window_rss_mib(statm_path: str = STATM) -> float | None:
    """This process's resident memory in MiB; None where ``/proc`` does not exist (macOS, Windows)."""
    try:
        with open(statm_path, encoding="ascii") as handle:
            resident_pages = int(handle.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def resources_text(resources: Resources, window_mib: float | None) -> str:
    """e.g. 'worker CPU 98% · 412 MiB · GPU 1,024 MiB · window 160 MiB' (steps/s sits beside it)."""
    parts = [f"worker CPU {resources.cpu_percent:.0f}%", f"{resources.rss_mib:,.0f} MiB"]
    if resources.gpu_memory_mib is not None:
        parts.append(f"GPU {resources.gpu_memory_mib:,.0f} MiB")
    if window_mib is not None:
        parts.append(f"window {window_mib:,.0f} MiB")
    return " · ".join(parts)
