"""What the training process costs the machine: CPU, resident memory and GPU memory.

A student who sees a run crawl wants to know whether the CPU is busy or the GPU full. The
training loop asks ``ResourceMonitor.maybe_sample`` on its publishing path (running or idle) and
gets a ``Resources`` event about once a second; between samples the check is one clock read.
CPU is this process's CPU time over wall time (100 = one core busy, 200 = two), so in the
window's worker process it is the training alone.
"""

from __future__ import annotations

import math
import os
import sys
import time
from typing import TYPE_CHECKING

from trainscope.engine.events import Resources

if TYPE_CHECKING:
    import torch

#: Seconds between two ``Resources`` events.
RESOURCES_INTERVAL_S = 1.0
_MIB = 1024.0 * 1024.0


def resident_mib() -> float:
    """Resident memory now, from /proc/self/statm on Linux.

    Elsewhere it falls back to ``getrusage``'s peak resident size (kilobytes on most systems,
    bytes on macOS): a high-water mark that never goes down, so it reads "at most this much".
    Where neither exists (Windows) it is NaN.
    """
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            resident_pages = int(statm.read().split()[1])
        return resident_pages * os.sysconf("SC_PAGE_SIZE") / _MIB
    except (OSError, ValueError, IndexError, AttributeError):
        pass
    try:
        import resource
    except ImportError:
        return math.nan
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / _MIB if sys.platform == "darwin" else peak / 1024.0


class ResourceMonitor:
    """Turns clock deltas into a ``Resources`` event at most every ``interval_s`` seconds."""

    def __init__(
        self, device: torch.device | None = None, interval_s: float = RESOURCES_INTERVAL_S
    ) -> None:
        self.cuda_device = device if device is not None and device.type == "cuda" else None
        self.interval_s = interval_s
        self.last_wall = time.perf_counter()
        self.last_cpu = time.process_time()

    def maybe_sample(self, step: int) -> Resources | None:
        """A fresh ``Resources`` when the interval is up, else None (one clock read)."""
        wall = time.perf_counter()
        if wall - self.last_wall < self.interval_s:
            return None
        cpu = time.process_time()
        cpu_percent = 100.0 * (cpu - self.last_cpu) / (wall - self.last_wall)
        self.last_wall, self.last_cpu = wall, cpu
        return Resources(
            step=step,
            cpu_percent=cpu_percent,
            rss_mib=resident_mib(),
            gpu_memory_mib=self._gpu_mib(),
        )

    def _gpu_mib(self) -> float | None:
        if self.cuda_device is None:
            return None
        import torch

        return torch.cuda.memory_allocated(self.cuda_device) / _MIB
