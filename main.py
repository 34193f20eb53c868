"""TrainScope's entry point: parse the flags, then run headless or open the window."""

from __future__ import annotations

import sys

from engine.cli import build_parser, configure_run, fail, format_scenario_list
from engine.errors import TrainScopeError


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.list_scenarios:
            print(format_scenario_list())
            return 0
        default_epochs = 20 if args.headless else None
        config, scenario = configure_run(parser, args, argv, default_epochs)
    except TrainScopeError as error:
        fail(str(error))
    if args.headless:
        from engine.headless import run_headless

        return run_headless(config, emit_json=args.json, scenario=scenario)
    from gui.app import run_window

    return run_window(config, args)


if __name__ == "__main__":
    sys.exit(main())
