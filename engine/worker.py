"""The training session in a child process, behind the same interface as ``ThreadSession``.

Why a process: on two cores a training thread beside a live pyqtgraph window keeps only
0.5-0.8 of its speed, because drawing holds the interpreter lock; a worker process keeps ~0.97
(see PERF-NOTES.md). Commands and events cross a pipe as the same plain dataclasses.

Lifecycle rules: the worker never outlives its parent (it asks the kernel for SIGKILL when the
parent dies, and it also exits when the pipe closes or its parent pid changes); a worker that
dies is reported as one ``Error`` event by ``drain`` and never takes the caller down.

Closing is quick: a worker that has stopped leaves with ``os._exit`` once its last events are in
the pipe, because tearing down an interpreter with torch loaded took 1.8-2.1 s on two cores —
time the window spent waiting after its user closed it. A worker that has not said anything yet
(still importing torch or building its data) has nothing to keep and is terminated at once.

This module imports neither torch nor Qt: the GUI process uses it, the child imports torch.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING

from trainscope.engine import commands as cmd
from trainscope.engine import events as ev

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from pathlib import Path

    from trainscope.engine.config import RunConfig
    from trainscope.engine.session import ThreadSession
    from trainscope.engine.session_protocol import Session

#: How often the worker forwards its session's events to the parent (seconds).
FORWARD_INTERVAL_S = 0.01


class ProcessSession:
    """A ``ThreadSession`` running inside a spawned child process.

    ``checkpoint_dir`` and ``start_from`` pass through to the ``ThreadSession`` (disk
    checkpoints of a recorded run; the checkpoint a fork starts from).
    """

    def __init__(
        self,
        config: RunConfig,
        checkpoint_dir: str | Path | None = None,
        start_from: str | Path | None = None,
    ) -> None:
        self.config = config.validate()
        context = multiprocessing.get_context("spawn")
        self._connection, child_connection = context.Pipe(duplex=True)
        self._child_connection: Connection | None = child_connection
        self._process = context.Process(
            target=worker_process_main,
            args=(self.config, child_connection, os.getpid(), checkpoint_dir, start_from),
            name="trainscope-worker",
            daemon=True,
        )
        self._lost_reported = False
        self._heard_from_worker = False  # no event yet: the worker is still starting up

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def start(self) -> None:
        self._process.start()
        # The parent must not hold the child's end, or it would never see EOF when the child dies.
        if self._child_connection is not None:
            self._child_connection.close()
            self._child_connection = None

    def send(self, command: cmd.Command) -> None:
        """Send a command; one sent to a dead worker is dropped (its death is reported by drain)."""
        with contextlib.suppress(OSError, EOFError, ValueError):
            self._connection.send(command)

    def drain(self) -> list[ev.Event]:
        drained: list[ev.Event] = []
        try:
            while self._connection.poll():
                drained.extend(self._connection.recv())
                self._heard_from_worker = True
        except (EOFError, OSError):
            drained.extend(self._report_lost())
        return drained

    def _report_lost(self) -> list[ev.Event]:
        if self._lost_reported:
            return []
        self._lost_reported = True
        self._process.join(1.0)
        code = self._process.exitcode
        if code is not None and code < 0:
            how = f"was killed by signal {-code} ({signal.Signals(-code).name})"
        elif code == 0:
            return []  # a clean exit after Stop is not a loss
        else:
            how = f"exited with code {code}"
        message = f"the training process {how}; everything shown so far is kept — press Restart to train again"
        return [ev.Error(message=message, detail=""), ev.StateChanged(step=0, state="error")]

    def is_alive(self) -> bool:
        return self._process.is_alive()

    def close(self, timeout: float = 2.0) -> None:
        """Stop the run and make sure the child is gone (terminate, then kill).

        A worker not heard from yet is terminated without waiting: it is still importing torch
        or building its data, and would take seconds to reach the point where it reads Stop.
        """
        if self._process.pid is None:
            return
        self.send(cmd.Stop())
        if self._heard_from_worker:
            self._process.join(timeout)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(1.0)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(1.0)
        with contextlib.suppress(OSError):
            self._connection.close()

    def join(self, timeout: float | None = None) -> None:
        self._process.join(timeout)


# ----- the child side ------------------------------------------------------------------------
def worker_process_main(
    config: RunConfig,
    connection: Connection,
    parent_pid: int,
    checkpoint_dir: str | Path | None = None,
    start_from: str | Path | None = None,
) -> None:
    """The worker process's target: ``worker_main``, then leave at once.

    By now the last events are in the pipe and checkpoints are closed files; what the normal exit
    would add is the interpreter's teardown, which with torch loaded takes ~2 s on two cores.
    An exception takes the normal path (traceback, exit code 1), where the time does not matter.
    """
    worker_main(config, connection, parent_pid, checkpoint_dir, start_from)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(0)


def _die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGKILL this process when its parent dies; exit now if it already has."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            pr_set_pdeathsig = 1
            libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent_pid:
        os._exit(0)


def worker_main(
    config: RunConfig,
    connection: Connection,
    parent_pid: int,
    checkpoint_dir: str | Path | None = None,
    start_from: str | Path | None = None,
) -> None:
    """Entry point of the worker process: run a ThreadSession and relay both ways."""
    _die_with_parent(parent_pid)
    from trainscope.engine.session import ThreadSession

    session = ThreadSession(config, checkpoint_dir, start_from)
    session.start()
    reader = threading.Thread(
        target=_relay_commands, args=(connection, session), name="trainscope-commands", daemon=True
    )
    reader.start()
    try:
        _relay_events(connection, session, parent_pid)
    finally:
        session.close(timeout=2.0)
        with contextlib.suppress(OSError, EOFError, BrokenPipeError):
            connection.send(session.drain())
        connection.close()


def _relay_commands(connection: Connection, session: ThreadSession) -> None:
    """Parent → session. EOF means the parent is gone: stop the run."""
    try:
        while True:
            session.send(connection.recv())
    except (EOFError, OSError):
        session.send(cmd.Stop())


def _relay_events(connection: Connection, session: ThreadSession, parent_pid: int) -> None:
    """Session → parent, batched every ``FORWARD_INTERVAL_S`` until the session ends."""
    while True:
        events = session.drain()
        if events:
            try:
                connection.send(events)
            except (OSError, EOFError, BrokenPipeError):
                session.send(cmd.Stop())
                return
        if not session.is_alive() or os.getppid() != parent_pid:
            return
        time.sleep(FORWARD_INTERVAL_S)


if TYPE_CHECKING:

    def _satisfies_session(session: ProcessSession) -> Session:
        """The type checker proves that this class offers the whole ``Session`` interface."""
        return session
