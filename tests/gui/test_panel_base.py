"""safe_refresh keeps the app alive when one panel fails, and says so inside that panel."""

from __future__ import annotations

import logging

from gui.panels.base import Panel
from gui.run_state import RunState
from gui.theme import Theme


class FlakyPanel(Panel):
    title = "Flaky"

    def __init__(self, theme: Theme) -> None:
        super().__init__(theme)
        self.fail = True
        self.calls = 0

    def refresh(self, state: RunState) -> None:
        self.calls += 1
        if self.fail:
            raise ZeroDivisionError("bins went empty\nsecond line")


def test_safe_refresh_logs_shows_one_red_line_and_recovers(qtbot, theme, caplog) -> None:
    panel = FlakyPanel(theme)
    qtbot.addWidget(panel)
    panel.show()
    with caplog.at_level(logging.ERROR):
        assert panel.safe_refresh(RunState()) is False
    assert "Flaky" in caplog.text and "ZeroDivisionError" in caplog.text
    assert panel.error_label.isVisible()
    assert panel.error_label.text() == "Flaky: ZeroDivisionError: bins went empty"
    assert panel.safe_refresh(RunState()) is False  # still failing: still shown, still no raise
    assert caplog.text.count("failed to refresh") == 1  # logged once, not every frame
    panel.fail = False
    assert panel.safe_refresh(RunState()) is True
    assert not panel.error_label.isVisible() and panel.last_error is None
    assert panel.calls == 3


def test_base_refresh_is_abstract(qtbot, theme) -> None:
    panel = Panel(theme)
    qtbot.addWidget(panel)
    assert panel.safe_refresh(RunState()) is False
    assert "NotImplementedError" in panel.error_label.text()
