"""The lesson beside the charts: the scenario's story, where to look, and what to try.

A scenario is a ready-made lesson (``engine.scenario``); this panel tells it. The story says
what is going on, each "watch for" note names the panel to look at (a link that brings that
panel forward), and each "try this" step is a button numbered like its keyboard key, so an
instructor at a projector can say "press 1" instead of hunting for a slider. The panel only
*asks*: its signals go to ``gui.lesson_controller``, which sends commands or starts runs.
Text wraps and follows the theme, so classroom mode makes it readable from the back row.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from trainscope.gui.docks import SCENARIO_PANEL_DOCKS
from trainscope.gui.flow_layout import FlowLayout
from trainscope.gui.panels.base import Panel
from trainscope.gui.run_state import RunState, format_value

if TYPE_CHECKING:
    from trainscope.engine.scenario import Scenario, TryThis
    from trainscope.gui.theme import Theme

EMPTY_TEXT = (
    "No lesson is open. A lesson is a ready-made run with a short story, what to watch and "
    "what to try while it trains.\n\nPick one with Scenarios ▸ Browse scenarios… (Ctrl+O), "
    "or start TrainScope with --scenario ID (--list-scenarios lists them)."
)
OTHER_RUN_NOTE = (
    "The run on screen is not this lesson's run. Restart scenario (Ctrl+R) brings it back."
)
PANEL_NAMES = {
    "loss": "Loss",
    "accuracy": "Accuracy",
    "confusion": "Confusion matrix",
    "reliability": "Calibration",
    "threshold": "Threshold",
    "slices": "Slices",
    "deployment": "Deployment",
    "hints": "Hints",
    "gradients": "Gradient norm",
    "learning_rate": "Learning rate",
    "settings": "Controls",
}
MAX_KEYED_STEPS = 9  # keys 1-9 carry out the try-this steps


def moment_text(scenario: Scenario) -> str:
    """What the panel says once the lesson's phenomenon is on screen: where to look, what to try."""
    parts = ["Now is the moment."]
    if scenario.watch_for:
        watch = scenario.watch_for[0]
        parts.append(f"Look at {PANEL_NAMES.get(watch.panel, watch.panel)}: {watch.note}")
    keyed = [
        i for i, step in enumerate(scenario.try_this[:MAX_KEYED_STEPS]) if describe_action(step)
    ]
    if keyed:
        parts.append(f"Then try step {keyed[0] + 1} (press {keyed[0] + 1}) before the run ends.")
    return " ".join(parts)


def reflow(text: str) -> str:
    """Join a TOML block's hard-wrapped lines into paragraphs, so the label wraps to its width."""
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n\n".join(" ".join(part.split()) for part in paragraphs)


def describe_action(step: TryThis) -> str:
    """What a step's button does, in the words of the controls: 'dropout 0.5 · weight decay 0.01'."""
    parts: list[str] = []
    if step.command is not None:
        parts.append(step.command.replace("_", " "))
    parts += [
        f"{key.replace('_', ' ')} {format_value(value)}" for key, value in step.settings.items()
    ]
    if step.threshold is not None:
        parts.append(f"threshold {format_value(step.threshold)}")
    changes = {**step.dataset, **step.model}
    if changes:
        described = ", ".join(
            f"{key.replace('_', ' ')} {_plain(value)}" for key, value in changes.items()
        )
        parts.insert(0, f"new run with {described}")
    return " · ".join(parts)


def _plain(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(str(item) for item in value) + "]" if value else "none"
    return format_value(value) if isinstance(value, (int, float, str)) else str(value)


class StepButton(QPushButton):
    """A try-this button that says which step it is when clicked (no lambda per button)."""

    chosen = Signal(int)

    def __init__(self, index: int, step: TryThis) -> None:
        key = f"  [{index + 1}]" if index < MAX_KEYED_STEPS else ""
        super().__init__(("New run…" if step.needs_restart else "Do it") + key)
        self.index = index
        self.setToolTip(describe_action(step))
        self.clicked.connect(self._on_clicked)

    @Slot()
    def _on_clicked(self) -> None:
        self.chosen.emit(self.index)


class LessonPanel(Panel):
    """Title, story, watch-for notes and try-this steps of the open scenario (or how to open one)."""

    title = "Lesson"
    try_requested = Signal(int)  # index into scenario.try_this
    restart_requested = Signal()
    browse_requested = Signal()
    panel_requested = Signal(str)  # a dock name, from a watch-for link

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.scenario: Scenario | None = None
        self.step_buttons: list[StepButton] = []
        self.stack = QStackedWidget()
        self.stack.addWidget(self._build_empty_page())
        self.lesson_scroll = self._scrolling(self._build_lesson_page())
        self.stack.addWidget(self.lesson_scroll)
        self.content_layout.addWidget(self.stack, 1)
        self.apply_theme(theme)

    # --- building ------------------------------------------------------------------------
    def _build_empty_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.empty_label = _label(EMPTY_TEXT, "lessonEmpty")
        self.empty_browse_button = QPushButton("Browse scenarios…")
        self.empty_browse_button.clicked.connect(self.browse_requested)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.empty_browse_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)
        return page

    def _build_lesson_page(self) -> QWidget:
        page = QWidget()
        page.setObjectName("lessonPage")
        layout = QVBoxLayout(page)
        layout.setSpacing(8)
        self.title_label = _label("", "lessonTitle")
        self.level_label = _label("", "lessonLevel")
        self.note_label = _label(OTHER_RUN_NOTE, "lessonNote")
        self.note_label.hide()
        self.moment_label = _label("", "lessonMoment")
        self.moment_label.hide()
        self.story_label = _label("", "lessonStory")
        self.watch_heading = _label("Watch for", "lessonHeading")
        self.watch_box = QVBoxLayout()
        self.try_heading = _label("Try this", "lessonHeading")
        self.try_box = QVBoxLayout()
        self.try_box.setSpacing(10)
        layout.addWidget(self.title_label)
        layout.addWidget(self.level_label)
        layout.addLayout(self._build_buttons())  # on top: always in view, however long the story
        for widget in (self.note_label, self.moment_label, self.story_label, self.watch_heading):
            layout.addWidget(widget)
        layout.addLayout(self.watch_box)
        layout.addWidget(self.try_heading)
        layout.addLayout(self.try_box)
        layout.addStretch(1)
        return page

    def _build_buttons(self) -> FlowLayout:
        """Two buttons side by side, one under the other where the column is narrow (classroom
        type on a laptop): never a cut label."""
        self.restart_button = QPushButton("Restart scenario")
        self.restart_button.setToolTip("Start this lesson's run again from step 0 (Ctrl+R).")
        self.restart_button.clicked.connect(self.restart_requested)
        self.browse_button = QPushButton("Other lessons…")
        self.browse_button.setToolTip("Choose another lesson (Ctrl+O).")
        self.browse_button.clicked.connect(self.browse_requested)
        row = FlowLayout()
        for button in (self.restart_button, self.browse_button):
            row.addWidget(button)
        return row

    def _scrolling(self, page: QWidget) -> QScrollArea:
        scroll = QScrollArea()
        scroll.setWidget(page)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        return scroll

    # --- content -------------------------------------------------------------------------
    def show_scenario(self, scenario: Scenario | None) -> None:
        """Tell ``scenario`` (None: say how to pick one)."""
        self.scenario = scenario
        self.invalidate()
        if scenario is None:
            self.stack.setCurrentIndex(0)
            return
        self.title_label.setText(scenario.title)
        self.level_label.setText(f"{scenario.difficulty.capitalize()} lesson")
        self.story_label.setText(reflow(scenario.story))
        _clear(self.watch_box)
        for watch in scenario.watch_for:
            self.watch_box.addWidget(self._watch_label(watch.panel, watch.note))
        self.watch_heading.setVisible(bool(scenario.watch_for))
        _clear(self.try_box)
        self.step_buttons = []
        for index, step in enumerate(scenario.try_this):
            self.try_box.addWidget(self._try_row(index, step))
        self.try_heading.setVisible(bool(scenario.try_this))
        self.show_moment(False)
        self.stack.setCurrentIndex(1)
        self.lesson_scroll.verticalScrollBar().setValue(0)

    def show_moment(self, now: bool) -> None:
        """Say (or stop saying) that the lesson's phenomenon is on screen now, above the story."""
        if now and self.scenario is not None:
            self.moment_label.setText(moment_text(self.scenario))
            self.lesson_scroll.verticalScrollBar().setValue(0)  # a scenario: the lesson page
        self.moment_label.setVisible(now and self.scenario is not None)

    def _watch_label(self, panel: str, note: str) -> QLabel:
        name = html.escape(PANEL_NAMES.get(panel, panel))
        dock = SCENARIO_PANEL_DOCKS.get(panel)
        named = f'<a href="{dock}">{name}</a>' if dock else name
        label = _label(f"<b>{named}</b> — {html.escape(note)}", "lessonWatch", rich=True)
        label.linkActivated.connect(self.panel_requested)
        return label

    def _try_row(self, index: int, step: TryThis) -> QWidget:
        row = QFrame()
        row.setObjectName("lessonTry")
        layout = QVBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(_label(f"{index + 1}. {step.text}", "lessonTryText"))
        action = describe_action(step)
        if action:
            button = StepButton(index, step)
            button.chosen.connect(self.try_requested)
            self.step_buttons.append(button)
            line = QHBoxLayout()
            line.addWidget(button)
            line.addWidget(_label(action, "lessonAction"), 1)
            layout.addLayout(line)
        self._style_buttons()
        return row

    def refresh(self, state: RunState) -> None:
        """Only one thing follows the run: a note when the run on screen is not the lesson's."""
        lesson = self.scenario.id if self.scenario is not None else None
        key = (state.run_key, lesson)
        if key == self._drawn:
            return
        other_run = lesson is not None and state.run is not None and state.run.scenario != lesson
        self.note_label.setVisible(other_run)
        self._drawn = key

    def step_texts(self) -> list[str]:
        """The try-this buttons' texts, in order (what tests and a reader see)."""
        return [button.text() for button in self.step_buttons]

    # --- looks ---------------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        palette, base = theme.palette, theme.base_font_pt
        styles = {  # name: (size, colour, extra)
            "lessonTitle": (theme.title_font_pt + 4, palette.foreground, "font-weight: bold;"),
            "lessonLevel": (base, palette.muted, ""),
            "lessonStory": (base + 1.5, palette.foreground, ""),
            "lessonHeading": (base + 1.5, palette.train, "font-weight: bold;"),
            "lessonWatch": (base + 0.5, palette.foreground, ""),
            "lessonTryText": (base + 0.5, palette.foreground, ""),
            "lessonAction": (base, palette.muted, ""),
            "lessonNote": (base + 0.5, palette.error_text, "font-weight: bold;"),
            "lessonMoment": (
                base + 1.5,
                palette.foreground,
                f"font-weight: bold; border: 2px solid {palette.best}; padding: 6px;",
            ),
            "lessonEmpty": (base + 1, palette.foreground, ""),
        }
        rules = [f"QWidget#lessonPage {{ background: {palette.background}; }}"]
        rules += [
            f"QLabel#{name} {{ color: {color}; font-size: {theme.pt(size)}pt; {extra} }}"
            for name, (size, color, extra) in styles.items()
        ]
        self.setStyleSheet("".join(rules))
        self._style_buttons()

    def _style_buttons(self) -> None:
        theme = self.theme
        font = theme.font(theme.base_font_pt + 1, bold=True)
        buttons = [*self.step_buttons, self.restart_button, self.browse_button]
        for button in [*buttons, self.empty_browse_button]:
            button.setFont(font)
            button.setMinimumHeight(round(theme.px(34)))


def _label(text: str, name: str, rich: bool = False) -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
    return label


def _clear(layout: QVBoxLayout) -> None:
    """Remove and delete every widget in ``layout`` (the previous scenario's rows)."""
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget() if item is not None else None
        if widget is not None:
            widget.deleteLater()
