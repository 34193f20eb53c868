"""Per-panel refresh timing for the benchmarks: wraps each panel's ``safe_refresh`` in a timer."""

from __future__ import annotations

import time
from collections import defaultdict


def timed_panels(window) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Time every ``safe_refresh`` call of ``window.panels`` (ms, early returns included).

    Returns every call's cost per panel, and a dict the current frame's costs accumulate in
    (the caller clears it each frame). Painting is not in these: Qt paints after ``frame()``.
    """
    costs: dict[str, list[float]] = defaultdict(list)
    this_frame: dict[str, float] = defaultdict(float)
    for name, panel in window.panels.items():
        original = panel.safe_refresh

        def timed(state, original=original, name=name) -> bool:
            began = time.perf_counter()
            try:
                return original(state)
            finally:
                cost = (time.perf_counter() - began) * 1000
                costs[name].append(cost)
                this_frame[name] += cost

        panel.safe_refresh = timed
    return costs, this_frame
