"""Lay out the ``trainscope`` package as installed, from symlinks, for the static checkers.

The repository keeps ``engine/``, ``gui/``, ``scenarios/`` and ``assets/`` at its top, and
``pyproject.toml``'s ``package-dir`` maps them into ``trainscope`` at install time; an editable
install does the same with an import hook. Checkers that read files instead of importing them
(mypy, and grimp under import-linter) see neither, so this writes the installed shape under
``build/package-view/`` — ``trainscope/engine`` a link to ``engine/`` and so on — and they read
the checkout's own files through it. Run:  python tools/package_view.py  (prints the folder).
"""

from __future__ import annotations

import shutil
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VIEW = REPO / "build" / "package-view"


def package_dirs(pyproject: Path = REPO / "pyproject.toml") -> dict[str, str]:
    """``[tool.setuptools.package-dir]``: package name -> folder in the checkout."""
    settings = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    return settings["tool"]["setuptools"]["package-dir"]


def build_view(view: Path = VIEW) -> Path:
    """(Re)write the view; every package folder in it links to the checkout's folder."""
    if view.exists():
        shutil.rmtree(view)
    for package, folder in sorted(package_dirs().items()):
        target = view.joinpath(*package.split("."))
        source = REPO / folder
        if package.count(".") == 0:  # the top package: a real folder, its files linked
            target.mkdir(parents=True)
            for entry in source.iterdir():
                if entry.suffix == ".py":
                    (target / entry.name).symlink_to(entry)
        else:
            target.symlink_to(source, target_is_directory=True)
    return view


if __name__ == "__main__":
    print(build_view())
    sys.exit(0)
