"""The run store on the command line: list runs, export one, import an archive, record a run.

``main.py`` wires these in (see ``add_runs_arguments`` / ``run_runs_command``); each function
takes the ``--runs-dir`` value (None: the user's data folder), returns text or a value, and
lets ``TrainScopeError`` carry its one sentence up to ``engine.cli.fail``.
"""

from __future__ import annotations

import logging
import os
import time
from typing import TYPE_CHECKING

from trainscope.engine.errors import TrainScopeError
from trainscope.engine.runs.export import FORMATS
from trainscope.engine.runs.recorder import RunRecorder
from trainscope.engine.runs.store import RunInfo, RunStore

if TYPE_CHECKING:
    import argparse
    from pathlib import Path
    from typing import TextIO

    from trainscope.engine.config import RunConfig

logger = logging.getLogger(__name__)
PathLike = str | os.PathLike[str] | None


def _number(value: object, digits: int) -> str:
    return f"{value:.{digits}f}" if isinstance(value, int | float) else "-"


def _line(info: RunInfo) -> str:
    created = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.created))
    final = info.final
    name = info.name if info.title in info.name else f"{info.name} ({info.title})"
    note = f"  — {info.note}" if info.note else ""
    return (
        f"{info.id:>4}  {created}  {info.status:<11}  {info.steps:>7}  "
        f"{_number(final.get('val_accuracy'), 3):>7}  {_number(final.get('val_loss'), 4):>8}  "
        f"{name}{note}"
    )


def list_runs_text(runs_dir: PathLike = None) -> str:
    """The ``--runs`` table: one line per recorded run, newest first."""
    with RunStore.open_dir(runs_dir) as store:
        runs = store.list_runs()
        if not runs:
            return f"no recorded runs yet in {store.runs_dir}"
        header = f"{'id':>4}  {'created':<16}  {'status':<11}  {'steps':>7}  {'val acc':>7}  {'val loss':>8}  name"
        return "\n".join([header, *(_line(info) for info in runs)])


def export_run(
    runs_dir: PathLike, run_id: int, format: str, out_path: str | os.PathLike[str]
) -> Path:
    """``--export RUN_ID --format csv|tensorboard|archive|weights --out PATH``."""
    from trainscope.engine.runs.export import export_run as export

    with RunStore.open_dir(runs_dir) as store:
        return export(store, run_id, format, out_path)


def import_archive(runs_dir: PathLike, path: str | os.PathLike[str]) -> int:
    """``--import-archive PATH``: add an archived run to the store; return its new id."""
    from trainscope.engine.runs.archive import import_archive as add

    with RunStore.open_dir(runs_dir) as store:
        return add(store, path)


def start_recording(
    config: RunConfig, runs_dir: PathLike = None, name: str | None = None
) -> RunRecorder | None:
    """A recorder for a run about to start, or None (with a warning) when the store is unusable.

    Recording must never stop someone from training, so a damaged or unwritable store only
    costs the recording.
    """
    try:
        with RunStore.open_dir(runs_dir) as store:
            return RunRecorder(store, config, name)
    except (TrainScopeError, OSError) as error:
        logger.warning("this run will not be recorded: %s", error)
        return None


def add_runs_arguments(parser: argparse.ArgumentParser) -> None:
    """The run-store flags, as one argument group."""
    group = parser.add_argument_group("recorded runs")
    group.add_argument("--runs", action="store_true", help="list recorded runs and exit")
    group.add_argument(
        "--runs-dir", metavar="DIR", help="where runs are recorded (default: the user data folder)"
    )
    group.add_argument("--no-record", action="store_true", help="do not record this run")
    group.add_argument("--run-name", metavar="NAME", help="name the recorded run")
    group.add_argument(
        "--export", type=int, metavar="RUN_ID", help="export a recorded run and exit"
    )
    group.add_argument(
        "--format", choices=FORMATS, default="archive", help="export format (with --export)"
    )
    group.add_argument("--out", metavar="PATH", help="where --export writes")
    group.add_argument(
        "--import-archive",
        "--import",
        dest="import_path",
        metavar="ARCHIVE",
        help="import a run archive and exit",
    )
    group.add_argument("--replay", type=int, metavar="RUN_ID", help="window: replay a recorded run")
    group.add_argument(
        "--browse",
        action="store_true",
        help="window: open the run browser (Runs > Browse recorded runs) as the window opens",
    )


def run_runs_command(args: argparse.Namespace, out: TextIO | None = None) -> int | None:
    """Handle --runs / --export / --import-archive; None when none was given (train as usual).

    Text goes to ``out``, or to standard output when it is None.
    """

    def write(text: str) -> None:
        print(text, file=out)  # file=None: sys.stdout, as a plain print

    if args.runs:
        write(list_runs_text(args.runs_dir))
        return 0
    if args.export is not None:
        if not args.out:
            raise TrainScopeError("--export needs --out PATH (a folder, or a .zip/.pt file)")
        written = export_run(args.runs_dir, args.export, args.format, args.out)
        write(f"exported run {args.export} as {args.format} to {written}")
        return 0
    if args.import_path:
        run_id = import_archive(args.runs_dir, args.import_path)
        write(f"imported {args.import_path} as run {run_id}")
        return 0
    return None
