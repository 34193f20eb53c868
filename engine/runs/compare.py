"""Comparing runs: which settings differ, and their final and best numbers side by side.

Pure data for a table (the run browser) or the CLI: every value is a tuple with one entry per
run, in the order asked for. Settings are flattened to dotted names ("settings.lr",
"model.hidden") so a difference deep in the config still gets its own row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trainscope.engine import events as ev
from trainscope.engine.runs.errors import RunStoreError
from trainscope.engine.settings import default_settings

if TYPE_CHECKING:
    from trainscope.engine.runs.store import RunInfo, RunStore

FINAL_METRICS = ("steps", "val_loss", "val_accuracy", "train_loss", "train_accuracy", "ece")
OPTIONAL_FINAL = ("test_loss", "test_accuracy", "deployment_loss", "deployment_accuracy")
BEST_METRICS = ("best_val_loss", "best_step", "best_val_accuracy")


@dataclass(frozen=True)
class Comparison:
    """Runs side by side; each mapping's values hold one entry per run, in ``run_ids`` order."""

    run_ids: tuple[int, ...]
    names: tuple[str, ...]
    statuses: tuple[str, ...]
    differing: dict[str, tuple[Any, ...]]  # only the settings that are not all equal
    shared: dict[str, Any]  # the settings every run has in common
    final: dict[str, tuple[Any, ...]]
    best: dict[str, tuple[Any, ...]]
    changes: tuple[tuple[str, ...], ...]  # each run's live changes, e.g. "step 200: lr 0.001 → 0.1"


def flatten_settings(info: RunInfo) -> dict[str, Any]:
    """A run's config as dotted keys, plus the device it really ran on."""
    flat: dict[str, Any] = {}
    for key, value in info.config.items():
        if key == "settings":
            # A run recorded before a setting existed trained with its default: say so, rather
            # than list it as a difference (None against 0.0) beside a newer run.
            value = {**default_settings(), **value}
        if isinstance(value, dict):
            flat.update({f"{key}.{inner}": _cell(item) for inner, item in value.items()})
        elif key == "schedule":
            flat[key] = tuple(f"{item['step']}:{item['key']}={item['value']}" for item in value)
        else:
            flat[key] = _cell(value)
    flat["device (used)"] = info.device
    return flat


def _cell(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def compare_runs(store: RunStore, run_ids: list[int] | tuple[int, ...]) -> Comparison:
    """Compare recorded runs; an unknown id is one ``RunStoreError`` sentence."""
    if not run_ids:
        raise RunStoreError("choose at least one run to compare")
    infos = [store.get_run(run_id) for run_id in run_ids]
    flats = [flatten_settings(info) for info in infos]
    keys = sorted({key for flat in flats for key in flat})
    differing, shared = {}, {}
    for key in keys:
        values = tuple(flat.get(key) for flat in flats)
        if all(value == values[0] for value in values):
            shared[key] = values[0]
        else:
            differing[key] = values
    optional = [key for key in OPTIONAL_FINAL if any(key in info.final for info in infos)]
    return Comparison(
        run_ids=tuple(run_ids),
        names=tuple(info.name for info in infos),
        statuses=tuple(info.status for info in infos),
        differing=differing,
        shared=shared,
        final={
            key: tuple(info.final.get(key) for info in infos) for key in (*FINAL_METRICS, *optional)
        },
        best={key: tuple(info.final.get(key) for info in infos) for key in BEST_METRICS},
        changes=tuple(_changes(store, info.id) for info in infos),
    )


def _changes(store: RunStore, run_id: int) -> tuple[str, ...]:
    changes = store.load_events(run_id, kinds=("ParamChanged",))
    return tuple(
        f"step {change.step}: {change.key} {change.old} → {change.new}"
        for change in changes
        if isinstance(change, ev.ParamChanged)
    )
