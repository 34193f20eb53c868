"""TrainScope's entry point: parse the flags, then run headless or open the window."""

from __future__ import annotations

import sys

from engine.cli import build_parser, config_from_args, fail
from engine.errors import TrainScopeError


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = config_from_args(args, headless_default_epochs=20 if args.headless else None)
    except TrainScopeError as error:
        fail(str(error))
    if args.headless:
        from engine.headless import run_headless

        return run_headless(config, emit_json=args.json)
    from gui.app import run_window

    return run_window(config, args)


if __name__ == "__main__":
    sys.exit(main())
