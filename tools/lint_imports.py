"""import-linter over the installed package's layout: the contracts in ``pyproject.toml``.

grimp (under import-linter) finds a package's modules by walking its folder, and in the
checkout ``trainscope/`` holds none of ``engine/`` or ``gui/``; ``build/package-view`` lays the
package out as installed (see ``tools/package_view.py``), and this runs the contracts on it.
Run:  python tools/lint_imports.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from package_view import REPO, build_view  # noqa: E402


def main() -> int:
    view = build_view()
    # import-linter puts the working folder first on sys.path: there, `trainscope` is whole.
    os.chdir(view)
    sys.path.insert(0, str(view))
    from importlinter.cli import lint_imports

    return lint_imports(config_filename=str(REPO / "pyproject.toml"), no_cache=True)


if __name__ == "__main__":
    sys.exit(main())
