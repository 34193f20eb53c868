"""What the command line asks of the window, typed: the window never reads argparse itself.

``trainscope.launch`` parses and checks the flags, loads the scenario once (``configure_run``)
and hands ``run_window`` a ``RunConfig`` and these options; a test builds them directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

    from trainscope.engine.experiment_plan import ExperimentPlan
    from trainscope.engine.scenario import Scenario


@dataclass(frozen=True, slots=True)
class WindowOptions:
    """The window's flags, each already checked by the parser."""

    size: tuple[int, int] | None = None  # --size; None fits the screen
    scenario: Scenario | None = None  # --scenario, loaded once, the lesson the panel tells
    present: bool = False  # --present: classroom mode
    browse: bool = False  # --browse: the run browser opens with the window
    replay: int | None = None  # --replay RUN_ID
    runs_dir: str | None = None  # --runs-dir
    record: bool = True  # not --no-record
    run_name: str | None = None  # --run-name
    quit_after: float | None = None  # --quit-after SECONDS (scripted runs)
    screenshot: str | None = None  # --screenshot PATH, saved just before quitting
    print_summary: bool = False  # --json: one JSON line when the window closes
    timing: bool = False  # --timing: start-up timings on stderr
    experiment: ExperimentPlan | None = None  # --experiment KIND: opened instead of one run
    lr_find: bool = False  # --experiment lr-find: the range test opens beside the run
    parallel: int | None = None  # --parallel N (None: cores - 1)
    ray: str | None = None  # --ray ADDRESS|auto: the Experiments view's runs go to Ray

    @classmethod
    def from_args(
        cls,
        args: argparse.Namespace,
        scenario: Scenario | None,
        experiment: ExperimentPlan | None = None,
    ) -> WindowOptions:
        """The options of parsed flags (``main``'s parser, runs flags included)."""
        return cls(
            size=args.size,
            scenario=scenario,
            present=args.present,
            browse=args.browse,
            replay=args.replay,
            runs_dir=args.runs_dir,
            record=not args.no_record,
            run_name=args.run_name,
            quit_after=args.quit_after,
            screenshot=args.screenshot,
            print_summary=args.json,
            timing=args.timing,
            experiment=experiment,
            lr_find=getattr(args, "experiment", None) == "lr-find",
            parallel=getattr(args, "parallel", None),
            ray=getattr(args, "ray", None),
        )
