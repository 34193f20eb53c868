"""The window as a child of a student's process: ``trainscope.show`` and ``trainscope.watch``.

Here the training runs in the student's own process (a notebook's model class needs no
pickling) and the window is the child, started as a fresh interpreter with ``subprocess`` —
not ``multiprocessing``'s spawn, which would import the student's ``__main__`` again and run
their script a second time. The two talk over a local socket (``multiprocessing.connection``,
an authentication key passed in the child's environment) with the same commands and events a
worker's pipe carries.

``WindowLink`` is the student's side: it listens, starts the window, and relays between the
window and any object with ``send``/``drain`` (a ``ThreadSession`` or a ``LiveLoop``).
``AttachedSession`` is the window's side: a ``Session`` whose run lives in the other process.
Torch-free: the window imports this module.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Client, Connection, Listener
from typing import TYPE_CHECKING, Protocol

from trainscope.engine import commands as cmd
from trainscope.engine import events as ev
from trainscope.engine.errors import TrainScopeError

if TYPE_CHECKING:
    from trainscope.engine.config import RunConfig
    from trainscope.engine.session_protocol import Session

KEY_VARIABLE = "TRAINSCOPE_ATTACH_KEY"
FORWARD_INTERVAL_S = 0.01  # as a worker's relay (engine.worker)
CONNECT_TIMEOUT_S = 60.0  # the window imports Qt and builds itself before it connects


@dataclass(frozen=True)
class AttachedRun:
    """The first message to the window: the run's configuration and what it can be asked."""

    config: RunConfig
    #: Why the window cannot start another run of this one (shown when Setup or a lesson asks).
    new_run_refusal: str


class Steerable(Protocol):
    def send(self, command: cmd.Command) -> None: ...

    def drain(self) -> list[ev.Event]: ...


class WindowLink:
    """The student's side: a window process and the relay between it and ``run``."""

    def __init__(
        self,
        run: Steerable,
        first: AttachedRun,
        window_args: tuple[str, ...] = (),
        spawn: bool = True,
    ) -> None:
        """``spawn`` False: start no window process; one connects to ``address`` with ``key``
        (a test's window, in the test's own process)."""
        self.run = run
        self.closed = threading.Event()  # the window went away (closed by its user, or died)
        self.key = secrets.token_bytes(16)
        self._listener = Listener(("127.0.0.1", 0), authkey=self.key)
        host, port = self._listener.address
        self.address = f"{host}:{port}"
        self.process: subprocess.Popen | None = None
        if spawn:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "trainscope.gui.attached", self.address, *window_args],
                env={**os.environ, KEY_VARIABLE: self.key.hex()},
            )
        self._first = first
        self._connection: Connection | None = None
        self._relay = threading.Thread(
            target=self._serve, name="trainscope-window-link", daemon=True
        )
        self._relay.start()

    def _serve(self) -> None:
        try:
            self._connection = self._listener.accept()
            self._connection.send(self._first)
            reader = threading.Thread(target=self._read_commands, daemon=True)
            reader.start()
            while not self.closed.is_set():
                events = self.run.drain()
                if events:
                    self._connection.send(events)
                time.sleep(FORWARD_INTERVAL_S)
        except (OSError, EOFError, TypeError):  # TypeError: send on a link closed meanwhile
            pass
        finally:
            self.closed.set()

    def _read_commands(self) -> None:
        assert self._connection is not None
        try:
            while True:
                self.run.send(self._connection.recv())
        except (OSError, EOFError, TypeError):  # TypeError: recv on a link closed meanwhile
            self.closed.set()  # the window is gone: its run stops with it
            self.run.send(cmd.Stop())

    def wait_closed(self, timeout: float | None = None) -> None:
        """Wait until the window has gone (its process ended: closed by its user, or died)."""
        if self.process is not None:
            self.process.wait(timeout)
        else:
            self.closed.wait(timeout)

    @property
    def window_gone(self) -> bool:
        """The window was closed (which ends or stops the run) or has died."""
        return self.closed.is_set() or (
            self.process is not None and self.process.poll() is not None
        )

    def close(self) -> None:
        """End the link; the window stays open on what it has (its curves are kept)."""
        self.closed.set()
        if self._connection is not None:  # wake the reader blocked in recv, tell the window
            with (
                contextlib.suppress(OSError),
                socket.socket(fileno=os.dup(self._connection.fileno())) as end,
            ):
                end.shutdown(socket.SHUT_RDWR)
        for closing in (self._connection, self._listener):
            with contextlib.suppress(OSError, AttributeError):
                closing.close()  # type: ignore[union-attr]


class AttachedSession:
    """The window's side: a ``Session`` whose run trains in the process that opened the window."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._lost = False

    @classmethod
    def connect(cls, address: str, key: bytes | None = None) -> tuple[AttachedSession, AttachedRun]:
        """Connect to ``HOST:PORT`` with ``key`` (default: the environment's); read the run's
        first message."""
        host, _, port = address.rpartition(":")
        key = key if key is not None else bytes.fromhex(os.environ.get(KEY_VARIABLE, ""))
        try:
            connection = Client((host, int(port)), authkey=key)
            first = connection.recv()
        except (OSError, EOFError, ValueError) as error:
            raise TrainScopeError(
                f"could not reach the training process at {address}: {error}"
            ) from None
        return cls(connection), first

    def start(self) -> None:
        """The run was started by the process that opened the window."""

    def send(self, command: cmd.Command) -> None:
        with contextlib.suppress(OSError, EOFError, ValueError):
            self._connection.send(command)

    def drain(self) -> list[ev.Event]:
        drained: list[ev.Event] = []
        try:
            while self._connection.poll():
                drained.extend(self._connection.recv())
        except (OSError, EOFError):
            if not self._lost:
                self._lost = True
                message = "your training process has ended or died; everything shown so far is kept"
                drained += [
                    ev.Error(message=message, detail=""),
                    ev.StateChanged(step=0, state="error"),
                ]
        return drained

    def is_alive(self) -> bool:
        return not self._lost

    def close(self, timeout: float = 1.0) -> None:
        """Closing the window ends a ``show`` run: the other side reads EOF and stops it."""
        self.send(cmd.Stop())
        with contextlib.suppress(OSError):
            self._connection.close()
        self._lost = True

    def join(self, timeout: float | None = None) -> None:
        """The run ends in the other process; there is nothing here to wait for."""


if TYPE_CHECKING:

    def _satisfies_session(session: AttachedSession) -> Session:
        return session
