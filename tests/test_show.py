"""``trainscope.show`` end to end: a student's script whose model class lives in ``__main__``
trains in the student's process while the real window (offscreen) shows it; settings changed
mid-run land on the next step; closing the window ends the run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.offscreen import run_offscreen

SCRIPT = Path(__file__).parent / "scripts" / "show_own_model.py"


def test_a_model_class_from_main_trains_in_the_window_and_takes_changes_mid_run(tmp_path):
    result = run_offscreen(SCRIPT, "--quit-after", "5", cwd=tmp_path)
    report = json.loads(result.stdout.splitlines()[-1])
    lr, dropout = report["changes"]
    assert (lr["key"], lr["old"], lr["new"]) == ("lr", 0.01, 0.002)
    assert (dropout["key"], dropout["old"], dropout["new"]) == ("dropout", 0.1, 0.4)
    assert lr["step"] == dropout["step"] > 100  # both on the step after they were asked for
    assert report["lr_before"] == [0.01]
    assert report["lr_after"] == [0.002]
    assert report["dropout"] == 0.4  # the student's own nn.Dropout module
    assert report["window_exit"] == 0
    assert report["window_closed"] is True
    assert report["closed"] is True
    assert report["training_after_close"] is False  # closing the window ended the run
    assert report["val_accuracy"] > 0.9


def test_import_trainscope_stays_light():
    code = "import sys, trainscope; print(sorted({'torch', 'PySide6'} & set(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=240
    )
    assert result.stdout.strip() == "[]"


def test_the_own_model_example_runs_end_to_end(tmp_path):
    example = Path(__file__).parent.parent / "examples" / "own_model.py"
    result = run_offscreen(example, "--quit-after", "3", cwd=tmp_path)
    assert result.stdout.strip().startswith("last validation accuracy: ")


def test_the_notebook_is_a_valid_notebook_whose_cells_compile():
    notebook = json.loads(
        (Path(__file__).parent.parent / "examples" / "own_model_and_loop.ipynb").read_text()
    )
    assert notebook["nbformat"] == 4
    code = ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert any("trainscope.show(" in cell for cell in code)
    assert any("trainscope.watch(" in cell for cell in code)
    for index, cell in enumerate(code):
        compile(cell, f"cell {index}", "exec")  # a syntax error fails here
