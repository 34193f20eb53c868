"""The ``trainscope`` command (also ``python -m trainscope`` and ``python main.py``): parse the
flags, then run headless or open the window."""

from __future__ import annotations

from trainscope.engine.cli import (
    build_parser,
    check_experiment_flags,
    configure_run,
    default_epochs,
    fail,
    format_scenario_list,
    plan_from_args,
)
from trainscope.engine.errors import TrainScopeError
from trainscope.engine.runs.cli import add_runs_arguments, run_runs_command, start_recording
from trainscope.engine.worker import WarmWorker


def install_launcher() -> int:
    """``--install-desktop-entry``: write the menu entry and icons; say where, in one line each."""
    from trainscope.gui.desktop_entry import install_desktop_entry

    try:
        written = install_desktop_entry()
    except OSError as error:
        fail(f"the menu entry could not be written: {error}", code=1)
    print(f"TrainScope is in the application menu: {written[0]}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    add_runs_arguments(parser)  # --runs --runs-dir --no-record --export --import-archive --replay
    args = parser.parse_args(argv)
    try:
        handled = run_runs_command(args)  # --runs / --export / --import-archive: print, exit
        if handled is not None:
            return handled
        if args.replay is not None and args.headless:
            raise TrainScopeError("--replay opens a recorded run in the window; drop --headless")
        if args.browse and args.headless:
            raise TrainScopeError("--browse opens the run browser in the window; drop --headless")
        if args.list_scenarios:
            print(format_scenario_list())
            return 0
        if args.install_desktop_entry:
            return install_launcher()
        config, scenario = configure_run(parser, args, argv, default_epochs(args))
        check_experiment_flags(args, scenario)
        for flag, value in (
            ("--table-csv", args.table_csv),
            ("--tensorboard-dir", args.tensorboard_dir),
            ("--mlflow-db", args.mlflow_db),
        ):
            if value is not None and not args.headless:
                raise TrainScopeError(
                    f"{flag} exports a headless experiment; in the window use its Export menu"
                )
        request = scenario.experiment if scenario is not None else None
        lesson = scenario if request is not None else None
        if request is not None and args.experiment is not None:
            raise TrainScopeError(
                f"the lesson {args.scenario} runs its own {request.kind} experiment; drop --experiment"
            )
        wanted = lesson is not None or args.experiment not in (None, "lr-find")
        plan = plan_from_args(args, config, lesson) if wanted else None
    except TrainScopeError as error:
        fail(str(error))
    if args.model_file or args.data or args.model_args:
        from trainscope.own_run import run_own

        return run_own(args, config)
    if args.experiment == "lr-find" and args.headless:
        from trainscope.engine.lr_finder import run_lr_find_headless

        return run_lr_find_headless(config, emit_json=args.json)
    if plan is not None and args.headless:
        from trainscope.engine.experiment_headless import run_experiment_headless
        from trainscope.engine.experiment_runner import default_parallel

        parallel, session_factory = args.parallel, None
        if args.ray is not None:
            from trainscope.engine import ray_executor

            try:
                cpus = ray_executor.connect(args.ray, num_cpus=args.parallel)
            except TrainScopeError as error:
                fail(str(error), code=1)
            parallel = parallel or cpus
            session_factory = ray_executor.session_factory(keep_checkpoints=args.ray == "auto")
        return run_experiment_headless(
            plan,
            parallel or default_parallel(beside_window=False),
            session_factory=session_factory,
            emit_json=args.json,
            with_baselines=args.baselines,
            runs_dir=args.runs_dir,
            record=not args.no_record,
            csv_path=args.table_csv,
            tensorboard_dir=args.tensorboard_dir,
            mlflow_db=args.mlflow_db,
            lesson=lesson,
        )
    if args.headless:
        from trainscope.engine.headless import run_headless

        recorder = None if args.no_record else start_recording(config, args.runs_dir, args.run_name)
        return run_headless(config, emit_json=args.json, scenario=scenario, recorder=recorder)
    # The worker starts importing torch now, on another core, while Qt builds the window.
    warm = None if args.replay is not None else WarmWorker()
    try:
        from trainscope.gui.app import run_window
        from trainscope.gui.window_options import WindowOptions

        return run_window(config, WindowOptions.from_args(args, scenario, plan), warm)
    finally:
        if warm is not None:
            warm.close()
