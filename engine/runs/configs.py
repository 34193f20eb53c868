"""A ``RunConfig`` as plain JSON and back, and the library versions a run was made with.

The store keeps the config as JSON (never pickled) so any tool can read it. Decoding is
lenient about fields: keys a newer TrainScope added are dropped and missing ones take their
defaults, because config.py keeps growing and an old run must still open.
"""

from __future__ import annotations

import dataclasses
import platform
from importlib import metadata
from typing import Any

from trainscope.engine.commands import SetParam
from trainscope.engine.config import DatasetSpec, ModelSpec, RunConfig, ScheduledChange
from trainscope.engine.errors import TrainScopeError
from trainscope.engine.runs.errors import RunFileError

#: Distributions whose versions make a run reproducible; read from metadata, never imported.
VERSIONED_PACKAGES = ("trainscope", "torch", "numpy", "scikit-learn")


def config_to_dict(config: RunConfig) -> dict[str, Any]:
    """The whole config as JSON-ready values (tuples become lists, changes become triples)."""
    return {
        "dataset": _plain(dataclasses.asdict(config.dataset)),
        "model": _plain(dataclasses.asdict(config.model)),
        "settings": dict(config.settings),
        "schedule": [
            {"step": change.step, "key": change.change.key, "value": change.change.value}
            for change in config.schedule
        ],
        **{
            field.name: _plain(getattr(config, field.name))
            for field in dataclasses.fields(config)
            if field.name not in ("dataset", "model", "settings", "schedule")
        },
    }


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def config_from_dict(data: dict[str, Any]) -> RunConfig:
    """Rebuild and validate a config; anything unusable is one ``RunFileError`` sentence."""
    try:
        dataset = _known(DatasetSpec, data.get("dataset") or {})
        model = _known(ModelSpec, data.get("model") or {})
        model = dataclasses.replace(model, hidden=tuple(int(width) for width in model.hidden))
        schedule = tuple(
            ScheduledChange(step=int(item["step"]), change=SetParam(item["key"], item["value"]))
            for item in data.get("schedule") or ()
        )
        top = {
            key: value
            for key, value in data.items()
            if key not in ("dataset", "model", "schedule")
            and key in {field.name for field in dataclasses.fields(RunConfig)}
        }
        config = RunConfig(dataset=dataset, model=model, schedule=schedule, **top)
        return config.validate()
    except TrainScopeError as error:
        raise RunFileError(f"the recorded run settings are not valid: {error}") from None
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        raise RunFileError(f"the recorded run settings are malformed ({error})") from None


def _known(cls: type, values: dict[str, Any]) -> Any:
    names = {field.name for field in dataclasses.fields(cls)}
    return cls(**{key: value for key, value in values.items() if key in names})


def library_versions() -> dict[str, str | None]:
    """Python and package versions, read from installed metadata so torch is not imported."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions
