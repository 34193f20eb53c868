"""``--model-file PATH.py:CLASS`` / ``--data FILE.npz`` on the command line: your own model or
arrays, trained as ``trainscope.show`` trains them (in this process; the window is a child).

Imported only for those flags: it brings torch into the command's process, which the bundled
runs keep in their worker. Refused combinations are one sentence, exit 2, before anything
trains; these runs are not recorded yet (a recording names a bundled dataset and model).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trainscope.engine.cli import fail
from trainscope.engine.errors import TrainScopeError

if TYPE_CHECKING:
    import argparse

    from trainscope.engine.config import RunConfig

CLASHES = (
    ("scenario", "a lesson sets its own data and model"),
    ("experiment", "experiments run the bundled models in worker processes"),
    ("csv", "give your rows either as --csv or as --data"),
    ("replay", "a replay shows a recorded run"),
)


def run_own(args: argparse.Namespace, config: RunConfig) -> int:
    """Train your model (or the bundled one on your arrays) headless or in the window."""
    from trainscope.engine.headless import run_headless
    from trainscope.engine.own_files import own_run_parts
    from trainscope.engine.user_run import user_session

    flag = "--model-file" if args.model_file else "--data"
    try:
        for name, reason in CLASHES:
            if getattr(args, name, None):
                raise TrainScopeError(f"{flag} cannot be combined with --{name}: {reason}")
        model, splits, settings = own_run_parts(args.model_file, args.model_args, args.data, config)
        session = user_session(model, *splits, **settings) if args.headless else None
    except TrainScopeError as error:
        fail(str(error))
    if session is not None:
        return run_headless(session.config, emit_json=args.json, session=session)
    from trainscope.live import show

    try:
        show(model, *splits, block=True, window_args=_window_args(args), **settings)
    except TrainScopeError as error:
        fail(str(error))
    return 0


def _window_args(args: argparse.Namespace) -> tuple[str, ...]:
    """The window flags ``gui.attached`` takes, passed on."""
    passed: list[str] = []
    if args.size:
        passed += ["--size", "x".join(str(side) for side in args.size)]
    if args.quit_after is not None:
        passed += ["--quit-after", str(args.quit_after)]
    if args.screenshot:
        passed += ["--screenshot", args.screenshot]
    return tuple(passed)
