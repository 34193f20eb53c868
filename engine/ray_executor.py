"""An experiment's runs on a Ray cluster: ``--ray auto`` (start or join a local Ray instance) or
``--ray ADDRESS`` (join a lab's cluster); the window or the headless loop stays where it is.

Each run is the same ``ThreadSession`` a single run uses, inside a Ray actor that holds one
CPU; ``RaySession`` is its ``Session`` on this side, so the experiment runner, the recording,
the table and the band cannot tell a Ray run from a local worker process. Events come back in
batches: each ``drain`` collects the batch the actor handed over since the last one and asks
for the next (never blocking the caller's loop). Nothing phones home: usage statistics are
switched off before Ray is imported, and no dashboard is started.

Ray is the optional extra ``trainscope[ray]``. On a cluster, every node needs TrainScope
installed (the actors import it); the runs' checkpoints stay on the node that trained them, so
a run recorded from a cluster replays and exports but cannot be forked or rewound later.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING, Any

from trainscope.engine import events as ev
from trainscope.engine.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

    from trainscope.engine import commands as cmd
    from trainscope.engine.config import RunConfig
    from trainscope.engine.session_protocol import Session

_actor_class: Any = None


def import_ray() -> Any:
    """The ``ray`` module (statistics off), or one sentence that says how to get it."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "--ray needs Ray: pip install 'trainscope[ray]' (or pip install ray)"
        ) from None
    return ray


def connect(address: str, num_cpus: int | None = None) -> int:
    """Join the cluster at ``address``, or with "auto" a running local instance, else start one
    (``num_cpus`` sizes a new local one). Returns how many CPUs the cluster offers."""
    ray = import_ray()
    if not ray.is_initialized():
        _init_within(ray, address, num_cpus)
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def _init_within(ray: Any, address: str, num_cpus: int | None) -> None:
    """``ray.init`` on this (the main) thread: started from another thread, its client lost
    the control store it had just started and ended the process. The wait is bounded by Ray
    itself: a client whose control store does not answer within 60 s gives up
    (``RAY_gcs_rpc_server_reconnect_timeout_s``), and a failed start raises, said here in one
    sentence."""
    quiet = {"include_dashboard": False, "log_to_driver": False, "logging_level": "ERROR"}
    try:
        if address == "auto":
            try:
                ray.init(address="auto", **quiet)  # a local instance already running
            except ConnectionError:
                ray.init(num_cpus=num_cpus, **quiet)  # none: start one here
        else:
            ray.init(address=address, **quiet)
    except Exception as error:
        raise ConfigError(f"could not join Ray at {address}: {error}") from None


def shutdown() -> None:
    """Leave the cluster (a local instance this process started ends with it)."""
    ray = import_ray()
    if ray.is_initialized():
        ray.shutdown()


def _run_actor() -> Any:
    """The actor class, made once: a ThreadSession on a Ray worker, one CPU each."""
    global _actor_class
    if _actor_class is None:
        ray = import_ray()

        class RunActor:
            def __init__(self, config: RunConfig, checkpoint_dir: str | None) -> None:
                from trainscope.engine.session import ThreadSession

                self.session = ThreadSession(config, checkpoint_dir=checkpoint_dir)

            def start(self) -> None:
                self.session.start()

            def send(self, command: cmd.Command) -> None:
                self.session.send(command)

            def drain(self) -> tuple[list[ev.Event], bool]:
                alive = self.session.is_alive()  # read first: the last events follow the end
                return self.session.drain(), alive

            def join(self, timeout: float | None) -> None:
                self.session.join(timeout)

            def close(self) -> list[ev.Event]:
                self.session.close(timeout=5.0)
                return self.session.drain()

        _actor_class = ray.remote(num_cpus=1)(RunActor)
    return _actor_class


class RaySession:
    """A run in a Ray actor, behind the ``Session`` interface (``session_factory`` for the runner).

    ``keep_checkpoints`` passes the run's checkpoint folder to the actor: right for a local
    instance (same disk), wrong for a cluster, whose nodes have their own disks.
    """

    def __init__(
        self,
        config: RunConfig,
        checkpoint_dir: str | Path | None = None,
        keep_checkpoints: bool = True,
    ) -> None:
        self.config = config.validate()
        self._checkpoint_dir = str(checkpoint_dir) if checkpoint_dir and keep_checkpoints else None
        self._ray = import_ray()
        self._actor: Any = None
        self._pending: Any = None
        self._alive = True
        self._lost = False

    def start(self) -> None:
        self._actor = _run_actor().remote(self.config, self._checkpoint_dir)
        self._actor.start.remote()
        self._pending = self._actor.drain.remote()

    def send(self, command: cmd.Command) -> None:
        if self._actor is not None and not self._lost:
            self._actor.send.remote(command)

    def drain(self) -> list[ev.Event]:
        """The batch the actor handed over, if it has arrived; never waits for it."""
        if self._pending is None or self._lost:
            return []
        ready, _ = self._ray.wait([self._pending], timeout=0)
        if not ready:
            return []
        try:
            events, alive = self._ray.get(self._pending)
        except Exception as error:  # the actor or its node died: this run only
            return self._report_lost(error)
        self._alive = alive
        self._pending = self._actor.drain.remote() if alive else None
        return events

    def _report_lost(self, error: BaseException) -> list[ev.Event]:
        self._lost, self._alive, self._pending = True, False, None
        message = f"the run's Ray worker was lost ({type(error).__name__}); the others go on"
        return [
            ev.Error(message=message, detail=str(error)),
            ev.StateChanged(step=0, state="error"),
        ]

    def is_alive(self) -> bool:
        return self._alive

    def close(self, timeout: float = 5.0) -> None:
        if self._actor is None:
            return
        actor, self._actor, self._pending, self._alive = self._actor, None, None, False
        # Already gone, or too slow to say goodbye: it is killed below either way.
        with contextlib.suppress(Exception):
            self._ray.get(actor.close.remote(), timeout=timeout)
        self._ray.kill(actor)

    def join(self, timeout: float | None = None) -> None:
        if self._actor is not None and not self._lost:
            self._ray.get(self._actor.join.remote(timeout))


def session_factory(keep_checkpoints: bool) -> Any:
    """What the experiment runner calls for each run: ``factory(config, checkpoint_dir=...)``."""

    def make(config: RunConfig, checkpoint_dir: str | Path | None = None) -> Session:
        return RaySession(config, checkpoint_dir, keep_checkpoints)

    return make


def _satisfies_session(session: RaySession) -> Session:
    """The type checker proves that this class offers the whole ``Session`` interface."""
    return session
