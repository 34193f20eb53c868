"""One family of user-facing errors: each carries a single sentence a student can act on."""

from __future__ import annotations


class TrainScopeError(Exception):
    """Base of every error that is shown to the user as one sentence instead of a traceback."""


class SettingError(TrainScopeError):
    """A training setting (learning rate, dropout, …) was given an invalid value."""


class DataError(TrainScopeError):
    """A dataset could not be built or imported (unknown name, bad CSV, bad knob)."""


class ConfigError(TrainScopeError):
    """A run configuration (command-line flags, model spec) is invalid."""


class ScenarioError(TrainScopeError):
    """A scenario file is missing, unreadable, or has an unknown key, wrong type or bad value.

    The message names the file and the key, so an author can fix the file without a traceback.
    """
