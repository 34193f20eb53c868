"""Setup: what to train on and what to train — the choices that need a new model.

Unlike the live settings, changing the data or the architecture cannot happen between two
optimizer steps: it means a new worker with a new model. So nothing here takes effect while it
is edited; "Apply" checks the whole configuration first (engine validation, the CSV read in
full), shows what is wrong in one sentence, asks before throwing the current run away, and only
then emits ``apply_requested`` with the new ``RunConfig`` (built with ``dataclasses.replace``
on the current one, so flags such as the schedule or eval_every carry over).
"""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSignalBlocker, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from trainscope.engine.cli import parse_hidden
from trainscope.engine.config import ACTIVATIONS, MODEL_KINDS, DatasetSpec, RunConfig
from trainscope.engine.csv_import import DELIMITERS
from trainscope.engine.data import DATASET_NAMES, load_csv
from trainscope.engine.errors import DataError, TrainScopeError
from trainscope.gui import dialogs

if TYPE_CHECKING:
    from trainscope.gui.theme import Theme

RESTART_QUESTION = "This needs a new model and restarts training — continue?"
PREVIEW_DELAY_MS = 200  # a spin box held down previews once it settles, not at every value


def read_csv_header(path: str) -> list[str]:
    """Column names from the first non-blank line (same delimiters as the engine's reader)."""
    name = Path(path).name
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            line = next((text for text in handle if text.strip()), "")
    except OSError as error:
        raise DataError(f"could not open {name}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise DataError(f"{name} is not a text CSV file (save it as CSV UTF-8)") from None
    if not line:
        raise DataError(f"{name} is empty")
    delimiter = max(DELIMITERS, key=line.count)
    return [column.strip() for column in next(csv.reader([line], delimiter=delimiter))]


class SetupPanel(QWidget):
    """Dataset and model choices; ``apply_requested(RunConfig)`` once confirmed."""

    apply_requested = Signal(object)
    #: (DatasetSpec, seed) shortly after a data knob changed, so the new points can be previewed.
    data_preview_requested = Signal(object, int)

    def __init__(self, theme: Theme, config: RunConfig, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SetupPanel")
        self.config = config
        self.csv_path: str | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(self._build_data_box())
        layout.addWidget(self._build_model_box())
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        layout.addWidget(self.error_label)
        self.apply_button = QPushButton("Apply and restart training…")
        layout.addWidget(self.apply_button)
        layout.addStretch(1)
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(PREVIEW_DELAY_MS)
        self._connect()
        self.apply_theme(theme)
        self.show_config(config)

    # --- building ------------------------------------------------------------------------
    def _build_data_box(self) -> QGroupBox:
        box = QGroupBox("Data")
        form = QFormLayout(box)
        self.dataset_combo = QComboBox()
        self.dataset_combo.addItems(DATASET_NAMES)
        self.dataset_combo.setToolTip(
            "circle, xor, gaussians and spiral are TensorFlow Playground's sets (circle: a disk "
            "inside a ring); circles is scikit-learn's pair of thin concentric rings."
        )
        self.n_samples_spin = _int_spin(0, 1_000_000, "default")
        self.n_samples_spin.setToolTip("Rows to generate or keep; 'default' uses the usual size.")
        self.noise_spin = _float_spin(0.0, 10.0, 0.05)
        self.noise_spin.setToolTip(
            "Input noise (for moons and circles: the generator's noise; for circle, xor, "
            "gaussians and spiral: Playground's noise slider, 0 to 0.5)."
        )
        self.label_noise_spin = _float_spin(0.0, 0.95, 0.05)
        self.label_noise_spin.setToolTip("Share of training labels flipped to a wrong class.")
        self.imbalance_spin = _float_spin(0.0, 0.49, 0.05, special="balanced")
        self.imbalance_spin.setToolTip("Share of the rare class in two-class data.")
        self.seed_spin = _int_spin(0, 2**31 - 1)
        self.import_button = QPushButton("Import CSV…")
        self.csv_label = QLabel("no file")
        self.csv_label.setWordWrap(True)
        self.label_column_combo = QComboBox()
        self.label_column_combo.setToolTip("The column that holds the class of each row.")
        form.addRow("dataset", self.dataset_combo)
        form.addRow("samples", self.n_samples_spin)
        form.addRow("noise", self.noise_spin)
        form.addRow("label noise", self.label_noise_spin)
        form.addRow("imbalance", self.imbalance_spin)
        form.addRow("seed", self.seed_spin)
        form.addRow(self.import_button)
        form.addRow("file", self.csv_label)
        form.addRow("label column", self.label_column_combo)
        return box

    def _build_model_box(self) -> QGroupBox:
        box = QGroupBox("Model")
        form = QFormLayout(box)
        self.model_combo = QComboBox()
        self.model_combo.addItems(MODEL_KINDS)
        self.model_combo.setToolTip("mlp: fully connected layers; cnn: a small CNN for 8x8 digits.")
        self.hidden_field = QLineEdit()
        self.hidden_field.setToolTip(
            "Widths of the hidden layers, e.g. 128,128; 'none' = logistic regression."
        )
        self.activation_combo = QComboBox()
        self.activation_combo.addItems(ACTIVATIONS)
        form.addRow("model", self.model_combo)
        form.addRow("hidden layers", self.hidden_field)
        form.addRow("activation", self.activation_combo)
        return box

    def _connect(self) -> None:
        self.import_button.clicked.connect(self.import_csv)
        self.apply_button.clicked.connect(self.ask_apply)
        self.model_combo.currentTextChanged.connect(self._on_model_kind_chosen)
        self.label_column_combo.currentTextChanged.connect(self._on_label_column_chosen)
        self._preview_timer.timeout.connect(self._emit_preview)
        for spin in (self.n_samples_spin, self.noise_spin, self.label_noise_spin):
            spin.valueChanged.connect(self._on_data_knob_changed)
        for spin in (self.imbalance_spin, self.seed_spin):
            spin.valueChanged.connect(self._on_data_knob_changed)
        for combo in (self.dataset_combo, self.label_column_combo):
            combo.currentTextChanged.connect(self._on_data_knob_changed)

    # --- reading and writing the form ----------------------------------------------------
    def show_config(self, config: RunConfig) -> None:
        """Fill the form from the configuration the current run uses."""
        self.config = config
        spec, model = config.dataset, config.model
        self.dataset_combo.setCurrentText(spec.name)
        self.n_samples_spin.setValue(spec.n_samples or 0)
        self.noise_spin.setValue(spec.noise)
        self.label_noise_spin.setValue(spec.label_noise)
        self.imbalance_spin.setValue(spec.imbalance or 0.0)
        self.seed_spin.setValue(config.seed)
        self.model_combo.setCurrentText(model.kind)
        self.hidden_field.setText(",".join(str(width) for width in model.hidden) or "none")
        self.activation_combo.setCurrentText(model.activation)
        if spec.csv_path:
            self._show_csv(spec.csv_path, spec.label_column)
        self._preview_timer.stop()  # filling the form is not the student turning a knob

    def build_config(self) -> RunConfig:
        """The configuration the form describes; raises ``TrainScopeError`` in one sentence."""
        dataset = self.pending_dataset()
        is_csv = dataset.name == "csv"
        model = replace(
            self.config.model,
            kind=self.model_combo.currentText(),
            hidden=parse_hidden(self.hidden_field.text()),
            activation=self.activation_combo.currentText(),
        )
        config = replace(self.config, dataset=dataset, model=model, seed=self.seed_spin.value())
        config.validate_to_start()  # every knob, the device, the schedule against the length
        if is_csv:
            assert dataset.csv_path  # validate_spec refuses a csv set without a file
            load_csv(dataset.csv_path, dataset.label_column)  # the whole file, numbers checked
        return config

    def pending_dataset(self) -> DatasetSpec:
        """The data the form describes (not yet checked); raises ``DataError`` for csv without a file."""
        name = self.dataset_combo.currentText()
        is_csv = name == "csv"
        if is_csv and not self.csv_path:
            raise DataError("choose a file with Import CSV… first")
        return replace(
            self.config.dataset,
            name=name,
            n_samples=self.n_samples_spin.value() or None,
            noise=self.noise_spin.value(),
            label_noise=self.label_noise_spin.value(),
            imbalance=self.imbalance_spin.value() or None,
            csv_path=self.csv_path if is_csv else None,
            label_column=(self.label_column_combo.currentText() or None) if is_csv else None,
        )

    @Slot()
    def _on_data_knob_changed(self) -> None:
        self._preview_timer.start()  # restarts: one preview when the knob comes to rest

    @Slot()
    def _emit_preview(self) -> None:
        try:
            dataset = self.pending_dataset()
        except TrainScopeError:
            return  # nothing to preview yet (csv chosen, no file): Apply says why
        self.data_preview_requested.emit(dataset, self.seed_spin.value())

    # --- actions -------------------------------------------------------------------------
    @Slot()
    def ask_apply(self) -> None:
        """Check everything, then ask; only a confirmed, valid configuration leaves the panel."""
        try:
            config = self.build_config()
        except TrainScopeError as error:
            self.show_error(str(error))
            return
        self.show_error(None)
        if dialogs.confirm(self.window(), "Start a new run", RESTART_QUESTION, "Restart training"):
            self.config = config
            self.apply_requested.emit(config)

    @Slot()
    def import_csv(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import a CSV file", "", "CSV files (*.csv *.tsv *.txt);;All files (*)"
        )
        if path:
            self._show_csv(path, None)

    def _show_csv(self, path: str, label_column: str | None) -> None:
        """Read the header into the label-column list (last column by default) and check the file."""
        try:
            header = read_csv_header(path)
        except DataError as error:
            self.show_error(str(error))
            return
        self.csv_path = path
        self.csv_label.setText(Path(path).name)
        self.csv_label.setToolTip(path)
        with QSignalBlocker(self.label_column_combo):
            self.label_column_combo.clear()
            self.label_column_combo.addItems(header)
            self.label_column_combo.setCurrentText(label_column or header[-1])
        self.dataset_combo.setCurrentText("csv")
        self._check_csv()

    @Slot(str)
    def _on_label_column_chosen(self, _column: str) -> None:
        self._check_csv()

    def _check_csv(self) -> None:
        """Read the whole file now, so a text cell in a numeric column is reported before Apply."""
        if not self.csv_path:
            return
        try:
            dataset = load_csv(self.csv_path, self.label_column_combo.currentText() or None)
        except TrainScopeError as error:
            self.show_error(str(error))
            return
        self.show_error(None)
        classes = len(dataset.class_names)
        self.csv_label.setText(
            f"{Path(self.csv_path).name}: {len(dataset.labels)} rows, "
            f"{len(dataset.feature_names)} features, {classes} classes"
        )

    @Slot(str)
    def _on_model_kind_chosen(self, kind: str) -> None:
        self.hidden_field.setEnabled(kind == "mlp")

    def show_error(self, sentence: str | None) -> None:
        self.error_label.setVisible(bool(sentence))
        self.error_label.setText(sentence or "")

    def apply_theme(self, theme: Theme) -> None:
        self.setFont(theme.font(theme.base_font_pt + 1.5))
        self.apply_button.setMinimumHeight(round(theme.px(32)))
        self.error_label.setStyleSheet(
            theme.label_stylesheet(theme.base_font_pt + 1, theme.palette.error_text)
        )


def _int_spin(low: int, high: int, special: str | None = None) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    if special:
        spin.setSpecialValueText(special)
    return spin


def _float_spin(low: float, high: float, step: float, special: str | None = None) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(low, high)
    spin.setSingleStep(step)
    spin.setDecimals(2)
    if special:
        spin.setSpecialValueText(special)
    return spin
