"""One real recorded training run, shared (read-only) by the tests that need one."""

from __future__ import annotations

import pytest

from tests.engine.runs.helpers import record_live_run


@pytest.fixture(scope="session")
def recorded(tmp_path_factory):
    """(database path, run id, the live events) of a real run recorded once per session."""
    path = tmp_path_factory.mktemp("recorded") / "runs.sqlite"
    run_id, events = record_live_run(path)
    return path, run_id, events
