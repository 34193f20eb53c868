"""What ships in assets/: the icon the window carries, the menu entry, the sample CSV files."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSize

from tests.gui.window_helpers import open_window
from trainscope.assets import ICON_SIZES, sample_path
from trainscope.engine.csv_import import read_csv_table
from trainscope.engine.errors import DataError
from trainscope.gui.desktop_entry import desktop_file_text, install_desktop_entry

REPO = Path(__file__).resolve().parents[2]


def test_the_window_carries_the_shipped_icon_at_every_size(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, start=False)
    sizes = window.windowIcon().availableSizes()
    assert set(sizes) == {QSize(size, size) for size in ICON_SIZES}


def test_the_menu_entry_and_its_icons_are_written_and_valid(tmp_path):
    written = install_desktop_entry(home=tmp_path)
    entry = tmp_path / "applications" / "trainscope.desktop"
    assert written[0] == entry
    assert all(path.is_file() for path in written)
    for size in ICON_SIZES:
        assert (tmp_path / f"icons/hicolor/{size}x{size}/apps/trainscope.png").stat().st_size > 0
    text = entry.read_text(encoding="utf-8")
    assert f'Exec="{sys.executable}" "-m" "trainscope"' in text
    assert "Icon=trainscope" in text
    if not sys.platform.startswith("linux"):
        pytest.skip("desktop entries are a Linux desktop's")
    validator = shutil.which("desktop-file-validate")
    assert validator, "desktop-file-validate is missing: `make test` installs desktop-file-utils"
    result = subprocess.run([validator, str(entry)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
    assert not result.stdout.strip(), result.stdout


def test_exec_arguments_are_quoted_as_the_specification_asks():
    text = desktop_file_text(python='/opt/py $x/"b"/python')
    assert 'Exec="/opt/py \\$x/\\"b\\"/python" "-m" "trainscope"' in text


def test_the_good_sample_imports_and_the_bad_one_is_refused_in_one_sentence():
    table = read_csv_table(sample_path("exam-results.csv"), None)
    assert table.feature_names == ("hours_studied", "hours_slept", "practice_tests")
    assert table.class_names == ("0", "1")
    assert len(table.labels) == 240
    with pytest.raises(DataError, match="column 'student' has a non-numeric value"):
        read_csv_table(sample_path("exam-results-with-names.csv"), None)
    result = subprocess.run(
        [sys.executable, "main.py", "--headless", "--no-record", "--steps", "5"]
        + ["--csv", sample_path("exam-results-with-names.csv")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 2  # refused before anything starts
    assert result.stderr.strip().count("\n") == 0
    assert "non-numeric" in result.stderr
