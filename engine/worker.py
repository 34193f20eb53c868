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

Starting early: importing torch is most of the time from launch to the first step (and would be
twice that if the first optimizer imported ``torch._dynamo``: ``engine.torch_startup``). A ``WarmWorker`` is
spawned as soon as the command line is checked and does those imports while the window is
built in the parent; the first ``ProcessSession`` then hands it its run instead of spawning a
process of its own. Every worker, warm or not, receives its run as the first message on the
pipe (``WorkerStart``), so the two start the same way.

This module imports neither torch nor Qt: the GUI process uses it, the child imports torch.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
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


@dataclass(frozen=True)
class WorkerStart:
    """The run a worker is to train: the first message it reads from its pipe."""

    config: RunConfig
    checkpoint_dir: str | Path | None = None
    start_from: str | Path | None = None


class WarmWorker:
    """A worker process started before any run is asked for, importing torch meanwhile.

    ``take`` gives its process and pipe to the first session that asks (once); ``close``
    ends it if nobody did. It costs one idle interpreter with torch loaded until then.
    """

    def __init__(self) -> None:
        self._process, self._connection, child_connection = _new_worker()
        self._process.start()
        child_connection.close()  # the parent must not hold the child's end (EOF on death)
        self._taken = False

    def take(self) -> tuple[multiprocessing.process.BaseProcess, Connection] | None:
        """The warm process and its pipe, the first time and while it lives; else None."""
        if self._taken or not self._process.is_alive():
            return None
        self._taken = True
        return self._process, self._connection

    def close(self) -> None:
        """End the worker if no session took it (it holds nothing worth waiting for)."""
        if self._taken:
            return
        self._taken = True
        with contextlib.suppress(OSError):
            self._connection.close()
        self._process.terminate()
        self._process.join(1.0)


class ProcessSession:
    """A ``ThreadSession`` running inside a spawned child process.

    ``checkpoint_dir`` and ``start_from`` pass through to the ``ThreadSession`` (disk
    checkpoints of a recorded run; the checkpoint a fork starts from). With ``warm``, the
    session runs in that already started worker when it is still free, else in a new one.
    """

    def __init__(
        self,
        config: RunConfig,
        checkpoint_dir: str | Path | None = None,
        start_from: str | Path | None = None,
        warm: WarmWorker | None = None,
    ) -> None:
        self.config = config.validate()
        self._start = WorkerStart(self.config, checkpoint_dir, start_from)
        taken = warm.take() if warm is not None else None
        self._child_connection: Connection | None = None
        if taken is not None:
            self._process, self._connection = taken
        else:
            self._process, self._connection, self._child_connection = _new_worker()
        self._lost_reported = False
        self._heard_from_worker = False  # no event yet: the worker is still starting up

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def start(self) -> None:
        if self._child_connection is not None:  # not a warm worker: start the process now
            self._process.start()
            # The parent must not hold the child's end, or it would never see EOF on its death.
            self._child_connection.close()
            self._child_connection = None
        # The worker waits for its run after its imports (a dead one is reported by drain).
        with contextlib.suppress(OSError, EOFError, ValueError):
            self._connection.send(self._start)

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


def _new_worker() -> tuple[multiprocessing.process.BaseProcess, Connection, Connection]:
    """A worker process, not started yet, and both ends of its pipe (parent's, child's)."""
    context = multiprocessing.get_context("spawn")
    connection, child_connection = context.Pipe(duplex=True)
    process = context.Process(
        target=worker_process_main,
        args=(child_connection, os.getpid()),
        name="trainscope-worker",
        daemon=True,
    )
    return process, connection, child_connection


# ----- the child side ------------------------------------------------------------------------
def worker_process_main(connection: Connection, parent_pid: int) -> None:
    """The worker process's target: warm up, wait for its run, ``worker_main``, leave at once.

    By now the last events are in the pipe and checkpoints are closed files; what the normal exit
    would add is the interpreter's teardown, which with torch loaded takes ~2 s on two cores.
    An exception takes the normal path (traceback, exit code 1), where the time does not matter.
    """
    _die_with_parent(parent_pid)
    _say_when("worker_started")
    _warm_up()
    _say_when("worker_ready")
    try:
        start = connection.recv()
    except (EOFError, OSError):  # the parent closed the window before asking for a run
        os._exit(0)
    if not isinstance(start, WorkerStart):  # closed before it was given a run (a Stop)
        os._exit(0)
    worker_main(start, connection, parent_pid)
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


def _say_when(moment: str) -> None:
    """For ``bench/launch_timeline.py`` (``TRAINSCOPE_TIMING=1``): one JSON line on stderr."""
    if os.environ.get("TRAINSCOPE_TIMING"):
        print(json.dumps({moment: time.time()}), file=sys.stderr, flush=True)


def _warm_up() -> None:
    """Import what every run needs before the run is known: torch and the training loop. The
    compiler stack the first optimizer would import (``torch._dynamo``, ~1.1 s here) is never
    needed in this process, which does not compile (``engine.torch_startup``)."""
    from trainscope.engine.torch_startup import skip_dynamo_import

    skip_dynamo_import()
    import trainscope.engine.session  # noqa: F401  (torch, the trainer, the data)


def worker_main(start: WorkerStart, connection: Connection, parent_pid: int) -> None:
    """Entry point of the worker process: run a ThreadSession and relay both ways."""
    from trainscope.engine.session import ThreadSession

    session = ThreadSession(start.config, start.checkpoint_dir, start.start_from)
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
