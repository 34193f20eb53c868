"""``python -m trainscope.gui.attached HOST:PORT``: the window of a student's own run.

Started by ``engine.attach.WindowLink`` in the student's process (``trainscope.show`` and
``trainscope.watch``), which trains; this process only shows and steers, as the window always
does. It cannot rebuild the student's model, so a new run from Setup or a lesson is refused with
the reason the run gave, on the status line; pause, single steps, the live settings and the
insights work as for any run. The run is recorded like any other (``--no-record``: not): it
lists and replays in the run browser, and a fork from there says it needs the student's model.
Torch-free, like every window.
"""

from __future__ import annotations

import argparse
import sys

from trainscope.engine.attach import AttachedSession
from trainscope.engine.errors import TrainScopeError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="trainscope-attached", description=__doc__)
    parser.add_argument("address", help="HOST:PORT of the training process")
    parser.add_argument("--quit-after", type=float, default=None)
    parser.add_argument("--screenshot", default=None)
    parser.add_argument("--size", default=None, help="WIDTHxHEIGHT")
    parser.add_argument("--runs-dir", default=None, help="where the run is recorded")
    parser.add_argument("--no-record", action="store_true", help="do not record the run")
    args = parser.parse_args(argv)
    try:
        session, first = AttachedSession.connect(args.address)
    except TrainScopeError as error:
        print(f"trainscope: error: {error}", file=sys.stderr)
        return 2
    from trainscope.gui.app import run_window
    from trainscope.gui.window_options import WindowOptions

    handed_out = False

    def sessions(_config: object, **_ignored: object) -> AttachedSession:
        nonlocal handed_out
        if handed_out:
            raise TrainScopeError(first.new_run_refusal)
        handed_out = True
        return session

    size = tuple(int(part) for part in args.size.split("x")) if args.size else None
    options = WindowOptions(
        size=size,  # type: ignore[arg-type]
        record=not args.no_record,
        runs_dir=args.runs_dir,
        quit_after=args.quit_after,
        screenshot=args.screenshot,
    )
    return run_window(first.config, options, sessions=sessions)


if __name__ == "__main__":
    sys.exit(main())
