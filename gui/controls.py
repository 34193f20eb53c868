"""The steering wheel: live settings and run buttons, each turned into one validated command.

The panel never changes a run itself. Every control builds an ``engine.commands`` object,
validated at this boundary (a learning rate typed as -1 or 'abc' is refused here in one
sentence, shown under the field, and nothing is sent), and emits it through
``command_requested``; the window forwards it to the session. What the widgets show follows the
run: ``follow`` writes ``RunStarted`` / ``ParamChanged`` values back into them with their
signals blocked, so a scripted ``--at`` change moves the slider without sending it back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSignalBlocker, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from trainscope.engine import commands as cmd
from trainscope.engine import events as ev
from trainscope.engine.errors import SettingError
from trainscope.engine.settings import SETTINGS
from trainscope.gui import dialogs
from trainscope.gui.pace_control import PaceControl
from trainscope.gui.run_state import format_value
from trainscope.gui.setting_widgets import LogSlider, round_significant, setting_widget

if TYPE_CHECKING:
    from trainscope.engine.settings import SettingSpec
    from trainscope.gui.theme import Theme


def _widget_range(name: str) -> tuple[float, float]:
    spec = SETTINGS[name]
    if spec.widget_range is None:
        raise ValueError(f"the settings table gives {name} no widget range")
    return spec.widget_range


LR_RANGE = _widget_range("lr")
"""What the learning-rate slider spans, and so what the field beside it takes. The engine
accepts any rate above 0 (a scripted ``--set lr=50`` or a scenario may go further, to show a
divergence), but a field that took 50 while its slider stopped at 10 showed two values at once."""
LR_FIELD_TOOLTIP = "Type an exact learning rate, e.g. 0.003 or 3e-3, then Enter."
DROPOUT_STEPS = round(_widget_range("dropout")[1] * 100)  # 0.01 steps, up to 0.95
PAUSE_TEXT = {"running": "Pause", "finished": "Train on", "idle": "Start"}
NO_RUN_YET = "no run yet"  # e.g. a --replay that could not be opened: nothing is starting
STARTING = "starting the training process…"
SHORTCUT_HINT = (
    "Space pause/resume · → one step · R reset · ↑/↓ learning rate ×2 / ÷2 · [ / ] slower / "
    "faster · Esc leave a field"
)
TEST_SET_QUESTION = (
    "The test set is a sealed envelope: open it once, when you are done choosing settings, to "
    "report how the final model does on data that never influenced any of your choices.\n\n"
    "From now on every evaluation also scores the test set, and the step at which you opened "
    "it is recorded. Open it now?"
)


class ControlsPanel(QWidget):
    """Run buttons, live settings and the test-set envelope, in one narrow column."""

    command_requested = Signal(object)

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ControlsPanel")
        self.theme = theme
        self.settings: dict = {}
        self.run_state = "idle"
        self.test_opened_at: int | None = None
        #: Controls the run cannot take (``ev.ControlsLimited``): name → the reason on hover.
        self.limits: dict[str, str] = {}
        self._own_tooltips: dict[QWidget, str] = {}
        layout = QVBoxLayout(self)
        layout.addWidget(self._build_run_buttons())
        layout.addWidget(self._build_settings())
        layout.addWidget(self._build_test_set())
        layout.addWidget(self._build_run_info())
        layout.addStretch(1)
        self._connect()
        self.apply_theme(theme)
        self._show_run_state()

    # --- building ------------------------------------------------------------------------
    def _build_run_buttons(self) -> QGroupBox:
        box = QGroupBox("Run")
        grid = QGridLayout(box)
        self.pause_button = QPushButton("Start")
        self.step_button = QPushButton("Step")
        self.rewind_button = QPushButton("Rewind")
        self.reset_button = QPushButton("Reset…")
        self.pause_button.setToolTip("Pause or resume training (Space).")
        self.step_button.setToolTip("Pause, then take exactly one optimizer step (→).")
        self.rewind_button.setToolTip(
            "Go back to the last checkpoint (taken at each evaluation) before this step."
        )
        self.reset_button.setToolTip("Start over from the initial weights (R).")
        for index, button in enumerate(
            (self.pause_button, self.step_button, self.rewind_button, self.reset_button)
        ):
            grid.addWidget(button, index // 2, index % 2)
        self.pace_control = PaceControl(None)
        grid.addWidget(self.pace_control, 2, 0, 1, 2)
        self.hint_label = QLabel(SHORTCUT_HINT)
        self.hint_label.setWordWrap(True)
        grid.addWidget(self.hint_label, 3, 0, 1, 2)
        return box

    def _build_settings(self) -> QGroupBox:
        box = QGroupBox("Settings — used from the next step")
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        lr_ends = self._add_learning_rate_rows(form)
        dropout_ends = self._add_dropout_rows(form)
        self.range_labels = (*lr_ends, *dropout_ends)
        #: the rows built from the settings table (``engine.settings``): spin boxes and lists
        self.setting_widgets: dict[str, QComboBox | QSpinBox | QDoubleSpinBox] = {}
        for spec in SETTINGS.values():
            if spec.widget in ("spin", "ladder", "combo"):
                widget = setting_widget(spec)
                form.addRow(spec.label, widget)
                self.setting_widgets[spec.name] = widget
        self._set_tooltips()
        self.settings_form = form
        return box

    def _add_learning_rate_rows(self, form: QFormLayout) -> tuple[QLabel, QLabel]:
        """The exact field on the label's row, the log slider full width below, the error under it."""
        self.lr_slider = LogSlider(*LR_RANGE)
        self.lr_field = QLineEdit()
        self.lr_field.setToolTip(LR_FIELD_TOOLTIP)
        self.lr_field.setObjectName("lrField")
        form.addRow("learning rate", self.lr_field)
        ends = (QLabel(format_value(LR_RANGE[0])), QLabel(format_value(LR_RANGE[1])))
        form.addRow(_slider_row(self.lr_slider, *ends))
        self.error_label = QLabel()
        self.error_label.setObjectName("settingError")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        form.addRow(self.error_label)
        return ends

    def _add_dropout_rows(self, form: QFormLayout) -> tuple[QLabel, QLabel]:
        self.dropout_slider = QSlider(Qt.Orientation.Horizontal)
        self.dropout_slider.setRange(0, DROPOUT_STEPS)
        self.dropout_slider.setPageStep(5)
        self.dropout_slider.setTracking(False)  # one command on release, not one per pixel
        self.dropout_value = QLabel("0")
        form.addRow("dropout", self.dropout_value)
        ends = (QLabel("0"), QLabel(format_value(DROPOUT_STEPS / 100)))
        form.addRow(_slider_row(self.dropout_slider, *ends))
        return ends

    def _set_tooltips(self) -> None:
        low, high = (format_value(end) for end in LR_RANGE)
        self.lr_slider.setToolTip(
            f"Learning rate on a log scale, {low} to {high} (↑/↓ double/halve)."
        )
        self.dropout_slider.setToolTip(SETTINGS["dropout"].tooltip)

    def _build_test_set(self) -> QGroupBox:
        box = QGroupBox("Test set")
        layout = QVBoxLayout(box)
        self.test_set_button = QPushButton("Open test set…")
        self.test_set_button.setToolTip("A sealed envelope: open it once, at the end.")
        layout.addWidget(self.test_set_button)
        return box

    def _build_run_info(self) -> QGroupBox:
        box = QGroupBox("This run")
        layout = QVBoxLayout(box)
        self.run_info_label = QLabel(NO_RUN_YET)
        self.run_info_label.setWordWrap(True)
        layout.addWidget(self.run_info_label)
        return box

    def _connect(self) -> None:
        self.pause_button.clicked.connect(self.toggle_pause)
        self.step_button.clicked.connect(self.step_once)
        self.rewind_button.clicked.connect(self.rewind)
        self.reset_button.clicked.connect(self.ask_reset)
        self.test_set_button.clicked.connect(self.ask_open_test_set)
        self.lr_slider.valueChanged.connect(self._on_lr_slider_released)
        self.lr_slider.sliderMoved.connect(self._on_lr_slider_dragged)
        self.lr_field.editingFinished.connect(self._on_lr_typed)
        self.dropout_slider.valueChanged.connect(self._on_dropout_released)
        self.dropout_slider.sliderMoved.connect(self._on_dropout_dragged)
        for name, widget in self.setting_widgets.items():
            changed = (
                widget.currentTextChanged if isinstance(widget, QComboBox) else widget.valueChanged
            )
            changed.connect(lambda value, name=name: self.request_setting(name, value))
        self.pace_control.pace_chosen.connect(self._on_pace_chosen)

    # --- commands ------------------------------------------------------------------------
    def request_setting(self, key: str, raw: object) -> bool:
        """Validate and send one setting; on a bad value show the sentence and send nothing."""
        if key in self.limits:
            self.show_error(self.limits[key], key)
            return False
        try:
            command = cmd.SetParam(key, raw)
        except SettingError as error:
            self.show_error(str(error), key)
            return False
        if key == "lr" and (refusal := outside_lr_range(float(command.value), raw)):
            self.show_error(refusal, key)
            return False
        self.show_error(None)
        self.show_setting(key, command.value)
        if self.settings.get(key) != command.value:
            self.settings[key] = command.value  # so ↑ pressed twice doubles twice
            self.command_requested.emit(command)
        return True

    def scale_lr(self, factor: float) -> None:
        """↑ / ↓: double or halve the learning rate (3 significant digits)."""
        current = self.settings.get("lr")
        if isinstance(current, (int, float)):
            self.request_setting("lr", round_significant(float(current) * factor))

    @Slot()
    def toggle_pause(self) -> None:
        self.command_requested.emit(cmd.Pause() if self.run_state == "running" else cmd.Resume())

    @Slot()
    def step_once(self) -> None:
        if not self._refused_here("step"):
            self.command_requested.emit(cmd.Step(1))

    @Slot()
    def rewind(self) -> None:
        if not self._refused_here("rewind"):
            self.command_requested.emit(cmd.Rewind())

    @Slot()
    def ask_reset(self) -> None:
        if self._refused_here("reset"):
            return
        question = "Start over from the initial weights? The curves restart at step 0; your current settings are kept."
        if dialogs.confirm(self.window(), "Reset training", question, "Reset"):
            self.command_requested.emit(cmd.Reset())

    @Slot()
    def ask_open_test_set(self) -> None:
        if self.test_opened_at is not None:
            return
        if dialogs.confirm(self.window(), "Open the test set", TEST_SET_QUESTION, "Open it"):
            self.test_set_button.setEnabled(False)
            self.test_set_button.setText("Opening the test set…")
            self.command_requested.emit(cmd.OpenTestSet())

    # --- user input ----------------------------------------------------------------------
    @Slot(int)
    def _on_lr_slider_dragged(self, position: int) -> None:
        self.lr_field.setText(format_value(self.lr_slider.value_at(position)))

    @Slot(int)
    def _on_lr_slider_released(self, position: int) -> None:
        self.request_setting("lr", self.lr_slider.value_at(position))

    @Slot()
    def _on_lr_typed(self) -> None:
        text = self.lr_field.text().strip()
        if text and text != format_value(self.settings.get("lr", "")):
            self.request_setting("lr", text)

    @Slot(int)
    def _on_dropout_dragged(self, position: int) -> None:
        self.dropout_value.setText(format_value(position / 100))

    @Slot(int)
    def _on_dropout_released(self, position: int) -> None:
        self.request_setting("dropout", position / 100)

    @Slot(object)
    def _on_pace_chosen(self, pace: float | None) -> None:
        self.command_requested.emit(cmd.SetPace(pace))

    # --- following the run ---------------------------------------------------------------
    def follow(self, events: list[ev.Event], run_state: str) -> None:
        """Show what the run reports (once per frame); nothing here sends a command."""
        for event in events:
            if isinstance(event, ev.RunStarted):
                self.run_info_label.setText(describe_run(event))
                self.settings = dict(event.settings)
                for key, value in event.settings.items():
                    self.show_setting(key, value)
            elif isinstance(event, ev.ParamChanged):
                self.settings[event.key] = event.new
                self.show_setting(event.key, event.new)
            elif isinstance(event, ev.ControlsLimited):
                self.limit(event.reasons, event.shown)
            elif isinstance(event, ev.StepMetrics) and "lr" in self.limits and len(event.lr):
                self.show_setting("lr", float(event.lr[-1]))  # a scheduler's: shown as it moves
            elif isinstance(event, ev.TestSetOpened):
                self.test_opened_at = event.step
                self.test_set_button.setEnabled(False)
                self.test_set_button.setText(f"Test set opened at step {event.step}")
        if run_state != self.run_state:
            self.run_state = run_state
            self._show_run_state()

    def limit(self, reasons: dict[str, str], shown: dict[str, str] | None = None) -> None:
        """Grey out what the run cannot take, the reason on hover; give back what it now can.

        ``shown``: what a greyed list or number box says instead of a value it does not know.
        """
        self.limits = dict(reasons)
        for name, widgets in self._limitable().items():
            for widget in widgets:
                own = self._own_tooltips.setdefault(widget, widget.toolTip())
                reason = reasons.get(name)
                widget.setEnabled(reason is None)
                widget.setToolTip(own if reason is None else reason)
        for name, widget in self.setting_widgets.items():
            show_instead(widget, (shown or {}).get(name), SETTINGS[name])
        if self.test_opened_at is not None:
            self.test_set_button.setEnabled(False)  # an opened envelope stays opened

    def _limitable(self) -> dict[str, tuple[QWidget, ...]]:
        return {
            "lr": (self.lr_slider, self.lr_field),
            "dropout": (self.dropout_slider,),
            "step": (self.step_button,),
            "rewind": (self.rewind_button,),
            "reset": (self.reset_button,),
            "open_test_set": (self.test_set_button,),
            **{name: (widget,) for name, widget in self.setting_widgets.items()},
        }

    def _refused_here(self, name: str) -> bool:
        """A key asked for a greyed-out action: say why under the settings, send nothing."""
        reason = self.limits.get(name)
        if reason is not None:
            self.show_error(reason)
        return reason is not None

    def new_session(self) -> None:
        """A fresh worker has a fresh, sealed test set, and its run is not described yet."""
        self.run_info_label.setText(STARTING)
        self.test_opened_at = None
        self.limit({})  # a new run says itself what it cannot take
        self.test_set_button.setEnabled(True)
        self.test_set_button.setText("Open test set…")
        self.show_error(None)

    def show_setting(self, key: str, value: object) -> None:
        """Put a value into its widget without the widget sending it back (no echo)."""
        widget = self._widget_for(key)
        if widget is None:
            return
        with QSignalBlocker(widget):
            if key == "lr":
                self.lr_slider.setValue(self.lr_slider.position_of(float(value)))
                self.lr_field.setText(format_value(value))
                self.lr_field.setStyleSheet("")
            elif key == "dropout":
                self.dropout_slider.setValue(round(float(value) * 100))
                self.dropout_value.setText(format_value(float(value)))
            elif isinstance(widget, QComboBox):
                widget.setCurrentText(str(value))
            elif isinstance(widget, QSpinBox):
                widget.setValue(int(value))
            else:
                widget.setValue(float(value))

    def _widget_for(self, key: str) -> QWidget | None:
        sliders: dict[str, QWidget] = {"lr": self.lr_slider, "dropout": self.dropout_slider}
        return sliders.get(key) or self.setting_widgets.get(key)

    def show_error(self, sentence: str | None, key: str | None = None) -> None:
        """One sentence under the learning-rate row (the only free-text field); None clears it."""
        self.error_label.setVisible(bool(sentence))
        self.error_label.setText(sentence or "")
        outline = f"border: 2px solid {self.theme.palette.error_text};"
        on_field = bool(sentence) and key == "lr"
        self.lr_field.setStyleSheet(outline if on_field else "")
        self.lr_field.setToolTip(sentence if sentence and on_field else LR_FIELD_TOOLTIP)

    def _show_run_state(self) -> None:
        text = PAUSE_TEXT.get(self.run_state, "Resume")
        self.pause_button.setText(f"{text}  [Space]")

    # --- looks ---------------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        """Controls are read from across a room: a size above the charts' body text."""
        self.theme = theme
        self.setFont(theme.font(theme.base_font_pt + 1.5))
        height = round(theme.px(32))
        for button in (
            self.pause_button,
            self.step_button,
            self.rewind_button,
            self.reset_button,
            self.test_set_button,
        ):
            button.setMinimumHeight(height)
        self.pause_button.setFont(theme.font(theme.base_font_pt + 2.5, bold=True))
        self.lr_field.setMinimumWidth(round(theme.px(80)))
        self.hint_label.setStyleSheet(
            theme.label_stylesheet(theme.annotation_pt, theme.palette.muted)
        )
        self.error_label.setStyleSheet(
            theme.label_stylesheet(theme.base_font_pt + 1, theme.palette.error_text)
        )


def outside_lr_range(value: float, raw: object) -> str | None:
    """One sentence when ``value`` lies outside the slider's range (``LR_RANGE``), else None."""
    low, high = LR_RANGE
    if low <= value <= high:
        return None
    return (
        f"learning rate must be between {format_value(low)} and {format_value(high)} here, "
        f"the slider's range (got {raw})"
    )


def show_instead(
    widget: QComboBox | QSpinBox | QDoubleSpinBox, text: str | None, spec: SettingSpec
) -> None:
    """Make ``widget`` say ``text`` (a value it cannot hold), or give it back its own values."""
    with QSignalBlocker(widget):
        if isinstance(widget, QComboBox):
            for index in range(widget.count() - 1, -1, -1):
                if widget.itemText(index) not in spec.choices:
                    widget.removeItem(index)  # an earlier run's stand-in
            if text is not None:
                widget.addItem(text)
                widget.setCurrentText(text)
        else:
            widget.setSpecialValueText(text or spec.widget_zero_text or "")
            if text is not None:  # the special text shows at the minimum
                widget.setValue(widget.minimum())  # type: ignore[arg-type]


def describe_run(run: ev.RunStarted) -> str:
    """What is being trained on what, in the words of the status a student would ask for."""
    if run.own_loop:  # trainscope.watch: rows, seed and epochs are the loop's own
        return (
            f"{run.dataset}: {len(run.class_names)} classes, "
            f"{run.n_validation:,} validation examples\n"
            f"{run.model_description}, {run.parameter_count:,} parameters\n"
            "its training rows, seed and length are set by your loop"
        )
    planned = f"{run.max_steps:,} steps planned" if run.max_steps else "no planned end"
    return (
        f"{run.dataset}: {len(run.class_names)} classes, {run.n_train:,} training · "
        f"{run.n_validation:,} validation · {run.n_test:,} test examples\n"
        f"{run.model_description}, {run.parameter_count:,} parameters\n"
        f"seed {run.seed} · {run.steps_per_epoch} steps per epoch · {planned}"
    )


def _slider_row(slider: QSlider, low: QLabel, high: QLabel) -> QWidget:
    """A full-width slider under its value, with the two ends of its range written beside it."""
    holder = QWidget()
    layout = QHBoxLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(low)
    layout.addWidget(slider, 1)
    layout.addWidget(high)
    return holder
