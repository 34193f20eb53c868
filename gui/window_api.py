"""The window's ways in, one small protocol per need, for the helpers the window builds.

The lesson controller, the menus, the insight wiring and the recorded-run tools each get only
the needs they have (send a command, start a run, say something in the status bar, read the
run on screen...), typed with these protocols, instead of the whole ``MainWindow``. So a
helper's signature says what it may touch, a test can hand it a small stand-in, and no helper
imports the window that imports it. ``MainWindow`` satisfies every protocol here; it is the
one that changes its run, its session and its ``RunState`` — a helper asks, the window does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from trainscope.engine.commands import Command
    from trainscope.engine.config import RunConfig
    from trainscope.engine.expectations import Expectation
    from trainscope.engine.experiment_plan import ExperimentPlan
    from trainscope.engine.scenario import Scenario
    from trainscope.engine.session_protocol import Session
    from trainscope.gui.run_state import RunState
    from trainscope.gui.theme import Theme


class CommandSender(Protocol):
    """Changes the running run, exactly as the controls do (a sentence when none is running)."""

    def send_command(self, command: Command) -> None: ...


class RunStarter(Protocol):
    """Stops the run on screen and starts another: live, forked from a checkpoint, or a replay."""

    def start_session(
        self,
        config: RunConfig | None = None,
        *,
        session_factory: Callable[[RunConfig], Session] | None = None,
        start_from: str | Path | None = None,
        forked_from: dict | None = None,
    ) -> None: ...

    def open_experiment(
        self,
        plan: ExperimentPlan,
        lesson: Scenario | None = None,
        promises: tuple[Expectation, ...] | None = None,
    ) -> None:
        """Open ``plan`` in the Experiments view; an experiment ``lesson``'s promise (or a try's
        ``promises``) is judged there."""
        ...


class RunReader(Protocol):
    """The run on screen, read-only; read it each time: a new run replaces all of it."""

    @property
    def state(self) -> RunState: ...

    @property
    def session(self) -> Session | None: ...

    @property
    def config(self) -> RunConfig: ...

    @property
    def awaiting_new_run(self) -> bool:
        """A session was started and has not announced its run yet (its old run is on screen)."""
        ...


class DecisionSetter(Protocol):
    """Sets the decision rule the threshold panels show: the threshold, and the two costs."""

    def set_decision(self, threshold: float, costs: tuple[float, float] | None = None) -> None: ...


class StatusMessages(Protocol):
    """One sentence in the status bar; ``error`` shows it as a problem."""

    def show_message(self, text: str, error: bool = False) -> None: ...


class ThemeReader(Protocol):
    """The theme now (a zoom or classroom mode replaces it): for windows a helper opens."""

    @property
    def theme(self) -> Theme: ...


class WindowActions(Protocol):
    """What the Run and View menus do that belongs to the window rather than to a panel."""

    def restart_session(self) -> None: ...

    def double_lr(self) -> None: ...

    def halve_lr(self) -> None: ...

    def zoom_in(self) -> None: ...

    def zoom_out(self) -> None: ...

    def zoom_reset(self) -> None: ...

    def set_classroom(self, classroom: bool) -> None: ...

    def restore_default_layout(self) -> None: ...

    def leave_field(self) -> None: ...
