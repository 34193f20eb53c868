"""Read a student's own CSV file into arrays, refusing bad input with one sentence.

Only the standard library's ``csv`` module and numpy: a spreadsheet export is small, and a
hand-written reader lets every complaint name the file, the column and the row a student can
open in a spreadsheet (the header is row 1). ``engine.data.load_csv`` wraps the result in a
``Dataset``; this module knows nothing about datasets so the two do not import each other.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trainscope.engine.errors import DataError

MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})
DELIMITERS = (",", ";", "\t")
MIN_ROWS_PER_CLASS = 3  # one each for train, validation and test


@dataclass(frozen=True, eq=False)
class CsvTable:
    """The numbers and names read from a CSV file, labels already encoded as 0..K-1."""

    features: np.ndarray  # (N, D) float32
    labels: np.ndarray  # (N,) int64
    class_names: tuple[str, ...]
    feature_names: tuple[str, ...]
    name: str


def read_csv_table(path: str, label_column: str | None) -> CsvTable:
    """Parse ``path``; the label column defaults to the last one, every other must be numeric."""
    file_name = Path(path).name
    header, rows = _read_rows(path)
    label_index = _label_index(header, label_column, file_name)
    label_name = header[label_index]
    feature_names = tuple(name for index, name in enumerate(header) if index != label_index)
    features = np.empty((len(rows), len(feature_names)), dtype=np.float32)
    raw_labels: list[str] = []
    for position, (row_number, values) in enumerate(rows):
        label_value = values[label_index].strip()
        if label_value.lower() in MISSING_TOKENS:
            raise DataError(f"label column '{label_name}' has a missing value in row {row_number}")
        raw_labels.append(label_value)
        feature_values = [value for index, value in enumerate(values) if index != label_index]
        features[position] = _parse_numbers(feature_values, feature_names, row_number)
    labels, class_names = _encode_labels(raw_labels, label_name)
    _check_classes(labels, class_names, label_name, file_name)
    return CsvTable(features, labels, class_names, feature_names, Path(path).stem)


def _read_rows(path: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and data rows (with their spreadsheet row numbers), blank lines skipped."""
    file_name = Path(path).name
    if not Path(path).exists():
        raise DataError(f"CSV file '{path}' does not exist")
    if not Path(path).is_file():
        raise DataError(f"'{path}' is a folder, not a CSV file")
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    except UnicodeDecodeError as error:
        raise DataError(f"CSV file '{file_name}' is not UTF-8 text") from error
    except OSError as error:
        raise DataError(f"CSV file '{path}' could not be read ({error.strerror})") from error
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_guess_delimiter(text))
    rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    if not rows:
        raise DataError(f"CSV file '{file_name}' is empty")
    (_, header), data = rows[0], rows[1:]
    header = [name.strip() for name in header]
    _check_header(header, file_name)
    if not data:
        raise DataError(f"CSV file '{file_name}' has a header row but no data rows")
    for row_number, values in data:
        if len(values) != len(header):
            raise DataError(
                f"row {row_number} of '{file_name}' has {len(values)} values "
                f"but the header has {len(header)} columns"
            )
    return header, data


def _guess_delimiter(text: str) -> str:
    """Comma unless the header clearly uses semicolons (European spreadsheets) or tabs."""
    first_line = text.split("\n", 1)[0]
    return max(DELIMITERS, key=lambda delimiter: (first_line.count(delimiter), delimiter == ","))


def _check_header(header: list[str], file_name: str) -> None:
    """A header names every column once and leaves room for at least one feature."""
    if len(header) < 2:
        raise DataError(
            f"CSV file '{file_name}' has only one column; it needs a label and at least one feature"
        )
    for position, name in enumerate(header, start=1):
        if not name:
            raise DataError(f"column {position} of the header of '{file_name}' has no name")
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise DataError(f"column '{name}' appears twice in the header of '{file_name}'")
        seen.add(name)


def _label_index(header: list[str], label_column: str | None, file_name: str) -> int:
    """Where the labels are: the named column, or the last one when none is named."""
    if label_column is None:
        return len(header) - 1
    if label_column not in header:
        raise DataError(
            f"label column '{label_column}' is not in '{file_name}'; "
            f"its columns are {', '.join(header)}"
        )
    return header.index(label_column)


def _parse_numbers(values: list[str], names: tuple[str, ...], row_number: int) -> list[float]:
    """One row's feature values as floats; the first bad cell is named with its column and row."""
    numbers = []
    for value, name in zip(values, names, strict=True):
        text = value.strip()
        if text.lower() in MISSING_TOKENS:
            raise DataError(f"column '{name}' has a missing value in row {row_number}")
        try:
            number = float(text)
        except ValueError:
            raise DataError(
                f"column '{name}' has a non-numeric value '{text}' in row {row_number}"
            ) from None
        if not math.isfinite(number):
            raise DataError(f"column '{name}' has a non-finite value '{text}' in row {row_number}")
        numbers.append(number)
    return numbers


def _encode_labels(raw_labels: list[str], label_name: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Map labels to 0..K-1: whole numbers sort numerically, anything else as text.

    Decimal labels such as 0.37 are refused rather than turned into hundreds of classes: they
    almost always mean the label column is a measurement, and TrainScope only classifies.
    """
    numbers = _as_numbers(raw_labels)
    if numbers is None:
        class_names = tuple(sorted(set(raw_labels)))
        index = {name: code for code, name in enumerate(class_names)}
        return np.array([index[label] for label in raw_labels], dtype=np.int64), class_names
    fractional = next((number for number in numbers if not number.is_integer()), None)
    if fractional is not None:
        raise DataError(
            f"label column '{label_name}' holds a fractional number ({fractional:g}); "
            "labels must be class names or whole numbers"
        )
    values = sorted({int(number) for number in numbers})
    code_of = {value: code for code, value in enumerate(values)}
    labels = np.array([code_of[int(number)] for number in numbers], dtype=np.int64)
    return labels, tuple(str(value) for value in values)


def _as_numbers(raw_labels: list[str]) -> list[float] | None:
    """The labels as finite numbers, or None when any of them is text."""
    try:
        numbers = [float(label) for label in raw_labels]
    except ValueError:
        return None
    return numbers if all(math.isfinite(number) for number in numbers) else None


def _check_classes(
    labels: np.ndarray, class_names: tuple[str, ...], label_name: str, file_name: str
) -> None:
    """At least two classes, each large enough for a stratified train/validation/test split."""
    if len(class_names) < 2:
        raise DataError(
            f"label column '{label_name}' of '{file_name}' has only one class "
            f"('{class_names[0]}'); a classifier needs at least 2"
        )
    counts = np.bincount(labels, minlength=len(class_names))
    for name, count in zip(class_names, counts, strict=True):
        if count < MIN_ROWS_PER_CLASS:
            raise DataError(
                f"class '{name}' has only {count} row{'s' if count != 1 else ''} in "
                f"'{file_name}'; each class needs at least {MIN_ROWS_PER_CLASS} "
                "to be split into train, validation and test"
            )
