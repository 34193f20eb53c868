"""Is the process that owns a "running" run still there? A run whose owner died is interrupted.

Two independent signs, because either alone can lie: the owner's pid (on this host) no longer
names a live process, or its heartbeat — refreshed by the recorder's writer at least every
couple of seconds, even while the run is paused — has gone stale.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

#: A recorder refreshes its heartbeat every ``HEARTBEAT_S``; silence this long means it is gone.
HEARTBEAT_S = 2.0
STALE_AFTER_S = 15.0


def this_host() -> str:
    return socket.gethostname()


def pid_alive(pid: int) -> bool:
    """True while ``pid`` names a live process (a zombie, killed but not yet reaped, is dead)."""
    if sys.platform == "win32":
        return True  # no cheap check there: the heartbeat decides
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True  # no /proc (macOS): kill(0) answered, so it lives
    return "State:\tZ" not in status


def owner_gone(pid: int | None, host: str | None, heartbeat: float, now: float) -> bool:
    """Whether a run recorded as running has lost the process that was recording it."""
    if now - heartbeat > STALE_AFTER_S:
        return True
    return pid is not None and host == this_host() and not pid_alive(pid)
