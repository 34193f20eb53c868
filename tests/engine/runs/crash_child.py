"""Child process for the crash test: train and record until killed, printing each step recorded.

Run as ``python crash_child.py DATABASE``; it never ends by itself — the test SIGKILLs it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from tests.engine.session_helpers import small_config  # noqa: E402
from trainscope.engine import events as ev  # noqa: E402
from trainscope.engine.runs.recorder import RunRecorder  # noqa: E402
from trainscope.engine.runs.store import RunStore  # noqa: E402
from trainscope.engine.session import ThreadSession  # noqa: E402


def main(database: str) -> None:
    config = small_config()  # no planned end: it trains until the test kills it
    with RunStore(database) as store:
        recorder = RunRecorder(store, config, name="doomed")
    session = ThreadSession(config)
    session.start()
    print(f"run {recorder.run_id}", flush=True)
    while True:
        events = session.drain()
        recorder.record(events)
        metrics = [event for event in events if isinstance(event, ev.StepMetrics)]
        if metrics:
            print(f"step {int(metrics[-1].steps[-1])}", flush=True)
        time.sleep(0.02)


if __name__ == "__main__":
    main(sys.argv[1])
