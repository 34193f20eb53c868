"""The one interface every session offers, whatever trains or plays the run.

A live run in a thread (``engine.session.ThreadSession``), in a worker process
(``engine.worker.ProcessSession``), a recorded run played back (``engine.runs.ReplaySession``),
and the experiment runner to come: the window, the headless CLI and the tests hold a
``Session`` and cannot tell which. Each of those modules states that it satisfies this protocol
(``_satisfies_session``, checked by mypy). Torch-free: the window imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from trainscope.engine import commands as cmd
    from trainscope.engine import events as ev


class Session(Protocol):
    """Commands go in with ``send``; events come out with ``drain``; nothing else is shared."""

    def start(self) -> None:
        """Begin (a thread, a process, or the replay's clock)."""

    def send(self, command: cmd.Command) -> None:
        """Queue a command; it is applied between two steps and answered by events."""

    def drain(self) -> list[ev.Event]:
        """Every event since the last call, oldest first (never blocks)."""

    def is_alive(self) -> bool:
        """Still able to train or play: False once stopped, finished and closed, or crashed."""

    def close(self, timeout: float = ...) -> None:
        """Stop and release the thread or process, waiting at most ``timeout`` seconds."""

    def join(self, timeout: float | None = None) -> None:
        """Wait for the session to end by itself (a planned run reaching its last step)."""
