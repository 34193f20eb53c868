"""mypy over the installed package: ``trainscope.engine`` clean, the GUI held to a baseline.

mypy reads files, not import hooks, so it checks the package through ``build/package-view``
(see ``tools/package_view.py``) with the settings in ``pyproject.toml``. Every error fails,
except those listed in ``tools/mypy-baseline.txt``: errors the GUI had when the check began
(``path: message [code]``, without line numbers, so moving code keeps them matched). The list
may only shrink: an error not in it fails, and so does an entry that no longer occurs — delete
that line. ``--write-baseline`` rewrites the list from the current errors (for deletions only;
the review of the diff says whether it grew). Run:  python tools/typecheck.py
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

from mypy import api

sys.path.insert(0, str(Path(__file__).resolve().parent))
from package_view import REPO, build_view  # noqa: E402

BASELINE = REPO / "tools" / "mypy-baseline.txt"
ERROR_LINE = re.compile(r"^(?P<path>[^:]+):\d+: error: (?P<message>.*)$")
#: What may appear in the baseline: the GUI's old errors. The engine has none.
BASELINE_MAY_COVER = "trainscope/gui/"


def current_errors() -> tuple[Counter[str], str]:
    """The errors mypy reports now, as baseline entries, and its full report."""
    build_view()
    out, err, _status = api.run(["--config-file", str(REPO / "pyproject.toml")])
    errors: Counter[str] = Counter()
    for line in out.splitlines():
        match = ERROR_LINE.match(line)
        if match:
            path = match["path"].split("package-view/", 1)[-1]
            errors[f"{path}: {match['message']}"] += 1
    return errors, out + err


def read_baseline() -> Counter[str]:
    if not BASELINE.exists():
        return Counter()
    lines = BASELINE.read_text(encoding="utf-8").splitlines()
    return Counter(line for line in lines if line and not line.startswith("#"))


def main(argv: list[str]) -> int:
    errors, report = current_errors()
    if "--write-baseline" in argv:
        header = "# mypy errors the GUI still has; this list may only shrink (tools/typecheck.py)\n"
        entries = sorted(errors.elements())
        BASELINE.write_text(header + "".join(f"{entry}\n" for entry in entries), encoding="utf-8")
        print(f"{BASELINE.relative_to(REPO)}: {len(entries)} entries")
        return 0
    baseline = read_baseline()
    new = errors - baseline
    gone = baseline - errors
    outside = [entry for entry in baseline if not entry.startswith(BASELINE_MAY_COVER)]
    problems = []
    if new:
        problems.append("new mypy errors (fix them; the baseline only shrinks):")
        problems += [f"  {entry}" for entry in sorted(new.elements())]
    if gone:
        problems.append(f"fixed, so delete from {BASELINE.relative_to(REPO)}:")
        problems += [f"  {entry}" for entry in sorted(gone.elements())]
    if outside:
        problems.append(f"only GUI errors may be listed in {BASELINE.relative_to(REPO)}:")
        problems += [f"  {entry}" for entry in outside]
    if problems:
        print(report if new else "", "\n".join(problems), sep="\n")
        return 1
    print(f"mypy: clean but {sum(baseline.values())} listed GUI errors")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
