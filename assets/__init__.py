"""TrainScope's shipped files: the application icon, sample data and the bundled datasets.

Read through ``importlib.resources``, so they load the same from a checkout, an editable install
or a wheel. Qt-free: the window turns the bytes into an icon (``gui.app_icon``), the launcher
copies them (``gui.desktop_entry``).
"""

from __future__ import annotations

from importlib import resources

#: The icon's PNG sizes: taskbars 16-32, launchers 48-64, app grids and switchers 128-256.
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)


def icon_png(size: int) -> bytes:
    """The PNG of the icon at ``size`` x ``size`` pixels (``tools/make_icons.py`` makes them)."""
    return (resources.files(__name__) / "icon" / f"trainscope-{size}.png").read_bytes()


def icon_svg() -> bytes:
    return (resources.files(__name__) / "icon" / "trainscope.svg").read_bytes()


def sample_path(name: str) -> str:
    """Where a sample file under ``assets/samples`` is (a real file in a checkout or a wheel)."""
    return str(resources.files(__name__) / "samples" / name)


def dataset_path(name: str) -> str:
    """Where a bundled dataset's arrays are (``assets/datasets/<name>.npz``)."""
    return str(resources.files(__name__) / "datasets" / f"{name}.npz")
