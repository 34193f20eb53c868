"""Diagnosis hints as they arise: the name of the problem, the numbers that show it, what to try.

A beginner looking at a loss curve often sees *something* without knowing what it is called.
The engine's diagnostician names it (a ``Hint`` event) and ``RunState`` keeps the run's hints;
this panel lists them newest first, each as a card with its step, so the latest advice is
where the eye lands and the earlier ones stay readable below. Hints are few (each kind fires at
most once per run), so the cards are simply rebuilt when one arrives.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from trainscope.gui.panels.base import Panel

if TYPE_CHECKING:
    from trainscope.engine.events import Hint
    from trainscope.gui.run_state import RunState
    from trainscope.gui.theme import Theme

EMPTY_TEXT = (
    "No hints yet. While the run trains, TrainScope watches for the classic problems: a loss "
    "that blows up or sits at chance, overfitting, a score no better than always guessing the "
    "majority, a rare class that is never found, overconfidence. Each is named here with the "
    "numbers that show it."
)


class HintCard(QFrame):
    """One hint: title and step, the evidence, and the suggestion."""

    def __init__(self, hint: Hint, newest: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hint = hint
        self.setObjectName("newestHintCard" if newest else "hintCard")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 8, 8)
        layout.setSpacing(3)
        self.title_label = _wrapped(f"{hint.title} — step {hint.step:,}", "hintTitle")
        self.evidence_label = _wrapped(hint.evidence, "hintEvidence")
        self.suggestion_label = _wrapped(f"Try: {hint.suggestion}", "hintSuggestion")
        for label in (self.title_label, self.evidence_label, self.suggestion_label):
            layout.addWidget(label)

    def text(self) -> str:
        """Everything the card says, as a reader would read it."""
        parts = (self.title_label, self.evidence_label, self.suggestion_label)
        return "\n".join(label.text() for label in parts)


class HintsPanel(Panel):
    """The run's hints, newest on top; says what it watches for while there are none."""

    title = "Hints"

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.placeholder = _wrapped(EMPTY_TEXT, "hintPlaceholder")
        holder = QWidget()
        holder.setObjectName("hintHolder")
        self.cards_layout = QVBoxLayout(holder)
        self.cards_layout.setContentsMargins(4, 4, 4, 4)
        self.cards_layout.setSpacing(8)
        self.cards_layout.addWidget(self.placeholder)
        self.cards_layout.addStretch(1)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidget(holder)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.content_layout.addWidget(self.scroll_area, 1)
        self.cards: list[HintCard] = []
        self.apply_theme(theme)

    def refresh(self, state: RunState) -> None:
        key = (state.run_key, state.hints_version)
        if key == self._drawn:
            return
        self._show(state.hints)
        self._drawn = key

    def _show(self, hints: list[Hint]) -> None:
        for card in self.cards:
            self.cards_layout.removeWidget(card)
            card.deleteLater()
        self.cards = []
        newest_first = list(reversed(hints))
        for index, hint in enumerate(newest_first):
            card = HintCard(hint, newest=index == 0)
            self.cards_layout.insertWidget(index, card)
            self.cards.append(card)
        self.placeholder.setVisible(not hints)
        self.scroll_area.verticalScrollBar().setValue(0)  # the newest hint is the one to read

    def titles(self) -> list[str]:
        """The hint titles in the order shown (newest first)."""
        return [card.hint.title for card in self.cards]

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        palette = theme.palette
        hint = theme.brush(palette.hint)
        tint = f"rgba({hint.red()}, {hint.green()}, {hint.blue()}, 30)"
        self.setStyleSheet(
            f"QWidget#hintHolder {{ background: {palette.background}; }}"
            f"QFrame#hintCard, QFrame#newestHintCard {{ border-left: {round(theme.px(5))}px solid "
            f"{palette.hint}; background: {palette.background}; }}"
            f"QFrame#newestHintCard {{ background: {tint}; }}"
            f"QLabel#hintTitle {{ color: {palette.foreground}; font-weight: bold;"
            f" font-size: {theme.pt(theme.title_font_pt)}pt; }}"
            f"QLabel#hintEvidence {{ color: {palette.foreground};"
            f" font-size: {theme.pt(theme.base_font_pt + 0.5)}pt; }}"
            f"QLabel#hintSuggestion {{ color: {palette.foreground}; font-style: italic;"
            f" font-size: {theme.pt(theme.base_font_pt + 0.5)}pt; }}"
            f"QLabel#hintPlaceholder {{ color: {palette.muted};"
            f" font-size: {theme.pt(theme.base_font_pt)}pt; }}"
        )


def _wrapped(text: str, name: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label
