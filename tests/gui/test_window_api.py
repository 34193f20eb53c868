"""The window's helpers get narrow ways in (``gui.window_api``), never the window itself.

Read from the source, not imported: a helper that imported ``MainWindow`` (even only for type
checking) would close an import circle with the window that builds it, and one that read the
window's private attributes would depend on what the window may change freely.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

HELPERS = (
    "insights_wiring",
    "lesson_controller",
    "menus",
    "runs_menu",
    "run_browser",
    "replay_bar",
    "fork_dialog",
)
WINDOW_PRIVATE = ("_awaiting_new_run", "_layout_was_restored")


def _source_tree(name: str) -> ast.Module:
    spec = importlib.util.find_spec(f"trainscope.gui.{name}")
    assert spec is not None
    assert spec.origin is not None
    return ast.parse(Path(spec.origin).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", HELPERS)
def test_a_helper_does_not_import_the_window(name):
    tree = _source_tree(name)
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert "trainscope.gui.main_window" not in imported


@pytest.mark.parametrize("name", HELPERS)
def test_a_helper_reads_no_private_attribute_of_the_window(name):
    tree = _source_tree(name)
    read = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    assert not read & set(WINDOW_PRIVATE)
