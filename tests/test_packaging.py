"""The wheel: built from pyproject.toml, installed into a fresh venv beside other packages, it runs.

Nothing is downloaded: the wheel is built with this venv's setuptools (no build isolation) and
installed with ``--no-deps``; the fresh venv borrows torch, PySide6 and the rest through a
``.pth`` line naming this venv's site-packages — added paths, whose own ``.pth`` files Python does
not run, so the checkout's editable install stays out of the way.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REPOSITORY_FOLDERS = ("engine", "gui", "scenarios", "assets")
# What a wheel needs from the checkout; the tests, benches, tools and docs stay out.
BUILD_INPUTS = ("pyproject.toml", "README.md", "trainscope", *REPOSITORY_FOLDERS)


def _build_wheel(tmp_path: Path) -> Path:
    """Build the wheel from a copy of the checkout, so no build/ or egg-info lands in it."""
    source = tmp_path / "source"
    for name in BUILD_INPUTS:
        origin = REPO / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(origin, source / name)
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
        + ["--wheel-dir", str(dist), str(source)],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    (wheel,) = dist.glob("trainscope-*.whl")
    return wheel


def _fresh_venv_with(wheel: Path, tmp_path: Path) -> Path:
    """A new venv holding only the wheel; it sees this venv's packages through one .pth line."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet"]
        + ["--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (site / "project-venv.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return venv


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    if not sys.platform.startswith("linux"):
        pytest.skip("the wheel check drives a Linux venv layout (bin/)")
    tmp_path = tmp_path_factory.mktemp("wheel")
    wheel = _build_wheel(tmp_path)
    return wheel, _fresh_venv_with(wheel, tmp_path)


def _run(venv: Path, *command: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": "",
        "XDG_CONFIG_HOME": str(cwd / "config"),  # never the user's real settings
    }
    return subprocess.run(
        [str(venv / "bin" / command[0]), *command[1:]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_the_wheel_installs_one_top_level_name(installed):
    wheel, venv = installed
    with zipfile.ZipFile(wheel) as archive:
        top_level = {name.split("/")[0] for name in archive.namelist()}
    assert top_level == {"trainscope", "trainscope-0.1.0.dist-info"}
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    # The data the app loads at run time travels in the wheel.
    assert "trainscope/scenarios/overfitting.toml" in names
    assert "trainscope/assets/icon/trainscope-256.png" in names
    assert "trainscope/assets/samples/exam-results.csv" in names
    site = next((venv / "lib").glob("python*/site-packages"))
    installed_names = {path.name for path in site.iterdir()} - {"project-venv.pth"}
    assert installed_names == {"trainscope", "trainscope-0.1.0.dist-info"}


def test_the_installed_command_runs_outside_the_checkout(installed, tmp_path):
    _, venv = installed
    help_text = _run(venv, "trainscope", "--help", cwd=tmp_path)
    assert help_text.returncode == 0, help_text.stderr
    assert "--scenario" in help_text.stdout, help_text.stderr
    as_module = _run(venv, "python", "-m", "trainscope", "--list-scenarios", cwd=tmp_path)
    assert as_module.returncode == 0, as_module.stderr
    assert "overfitting" in as_module.stdout, as_module.stderr
    headless = _run(
        venv,
        "trainscope",
        "--headless",
        "--no-record",
        "--steps",
        "5",
        "--json",
        cwd=tmp_path,
    )
    assert headless.returncode == 0, headless.stderr
    assert '"steps": 5' in headless.stdout


def test_the_installed_window_opens_and_uses_only_installed_modules(installed, tmp_path):
    _, venv = installed
    shot = tmp_path / "window.png"
    code = (
        "import importlib.util, sys\n"
        "from trainscope.launch import main\n"
        f"code = main(['--no-record', '--size', '1024x640', '--quit-after', '3', '--screenshot', {str(shot)!r}])\n"
        "bare = [n for n in ('engine', 'gui', 'scenarios', 'assets', 'main')"
        " if importlib.util.find_spec(n) is not None]\n"
        "outside = sorted(m.__name__ for m in list(sys.modules.values())"
        " if m.__name__.startswith('trainscope') and getattr(m, '__file__', None)"
        f" and not m.__file__.startswith({str(venv)!r}))\n"
        "print('BARE', bare, 'OUTSIDE', outside, 'CODE', code)\n"
    )
    result = _run(venv, "python", "-c", code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "BARE [] OUTSIDE [] CODE 0" in result.stdout, result.stdout + result.stderr
    assert shot.stat().st_size > 10_000


def _imported_top_level_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_code_imports_only_the_installed_names():
    """A bare ``import engine`` works in a checkout (its root is on sys.path) but not installed."""
    offenders = [
        str(path.relative_to(REPO))
        for folder in ("trainscope", *REPOSITORY_FOLDERS, "tests", "bench", "tools")
        for path in (REPO / folder).rglob("*.py")
        if _imported_top_level_names(path) & {*REPOSITORY_FOLDERS, "main"}
    ]
    assert offenders == []
