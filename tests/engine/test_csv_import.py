"""CSV import: good files load; bad ones get one sentence naming the file, column or row.

Driven through ``engine.data.load_csv``, the entry point the GUI and CLI use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest

from trainscope.engine.config import DatasetSpec
from trainscope.engine.data import load_csv, load_dataset, prepare_data
from trainscope.engine.errors import DataError

if TYPE_CHECKING:
    from pathlib import Path


def write_csv(tmp_path: Path, text: str, name: str = "patients.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def csv_rows(label_values: list[str], header: str = "age,weight,outcome") -> str:
    """A small valid CSV: two numeric features and the given labels in the last column.

    Row numbers as a spreadsheet shows them: the header is row 1, label_values[i] is row i + 2.
    """
    lines = [header] + [f"{20 + i},{60.5 + i},{label}" for i, label in enumerate(label_values)]
    return "\n".join(lines) + "\n"


def test_csv_with_text_labels_sorts_the_class_names(tmp_path: Path) -> None:
    path = write_csv(tmp_path, csv_rows(["sick", "well", "sick", "well", "sick", "well"]))
    dataset = load_csv(path, None)
    assert dataset.class_names == ("sick", "well")
    assert dataset.name == "patients"
    assert dataset.feature_names == ("age", "weight")
    assert dataset.labels.tolist() == [0, 1, 0, 1, 0, 1]
    np.testing.assert_allclose(dataset.features[1], [21, 61.5])
    assert dataset.features.dtype == np.float32
    assert dataset.labels.dtype == np.int64


def test_csv_with_integer_labels_orders_them_numerically(tmp_path: Path) -> None:
    path = write_csv(tmp_path, csv_rows(["10", "2", "10", "2", "10", "2.0", "7", "7", "7"]))
    dataset = load_csv(path, None)
    assert dataset.class_names == ("2", "7", "10")
    assert dataset.labels.tolist() == [2, 0, 2, 0, 2, 0, 1, 1, 1]


def test_csv_label_column_may_sit_in_the_middle(tmp_path: Path) -> None:
    text = "x,kind,y\n" + "".join(f"{i},{'ab'[i % 2]},{i * 2}\n" for i in range(8))
    dataset = load_csv(write_csv(tmp_path, text), "kind")
    assert dataset.feature_names == ("x", "y")
    assert dataset.class_names == ("a", "b")
    np.testing.assert_allclose(dataset.features[3], [3, 6])
    assert dataset.labels[3] == 1


def test_csv_tolerates_semicolons_quotes_blank_lines_and_a_bom(tmp_path: Path) -> None:
    text = '\ufeff"size";"label"\n1.5;a\n\n2;b\n3;"a"\n4;b\n5;a\n6;b\n'
    path = write_csv(tmp_path, text, name="parts.csv")
    dataset = load_csv(path, "label")
    assert dataset.feature_names == ("size",)
    assert dataset.labels.tolist() == [0, 1, 0, 1, 0, 1]


def test_a_csv_dataset_goes_through_prepare_data(tmp_path: Path) -> None:
    path = write_csv(tmp_path, csv_rows(["low", "mid", "high"] * 20))
    prepared = prepare_data(DatasetSpec(name="csv", csv_path=path), seed=0)
    assert prepared.class_names == ("high", "low", "mid")
    assert prepared.name == "patients"
    assert len(prepared.train_y) + len(prepared.validation_y) + len(prepared.test_y) == 60


@pytest.mark.parametrize(
    ("text", "label_column", "words"),
    [
        ("", None, ["patients.csv", "empty"]),
        ("age,weight,outcome\n", None, ["patients.csv", "no data rows"]),
        (csv_rows(["a", "b"] * 3), "diagnosis", ["'diagnosis'", "age, weight, outcome"]),
        (csv_rows(["a", "b"] * 3).replace("23,", "abc,"), None, ["'age'", "'abc'", "row 5"]),
        (csv_rows(["a", "b"] * 3).replace("62.5", ""), None, ["'weight'", "missing", "row 4"]),
        (csv_rows(["a", "b"] * 3).replace("62.5", "NA"), None, ["'weight'", "missing", "row 4"]),
        (csv_rows(["a", "b"] * 3).replace("62.5", "inf"), None, ["'weight'", "row 4"]),
        (csv_rows(["a", "", "a", "b", "b", "a"]), None, ["'outcome'", "missing", "row 3"]),
        (csv_rows(["a"] * 6), None, ["only one class", "'a'"]),
        (csv_rows(["a", "b", "a", "b", "a", "c", "c"]), None, ["class 'b'", "only 2 rows"]),
        (csv_rows(["a", "b"] * 3).replace("22,", "22,1,"), None, ["row 4", "4 values"]),
        ("age,age,outcome\n1,2,a\n", None, ["'age'", "twice"]),
        ("outcome\na\nb\n", None, ["only one column"]),
        (csv_rows(["0.5", "1", "2"] * 3), None, ["fractional", "0.5"]),
    ],
)
def test_bad_csv_files_are_refused_with_a_sentence_naming_the_problem(
    tmp_path: Path, text: str, label_column: str | None, words: list[str]
) -> None:
    path = write_csv(tmp_path, text)
    with pytest.raises(DataError) as caught:
        load_csv(path, label_column)
    message = str(caught.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_a_missing_csv_file_is_named(tmp_path: Path) -> None:
    missing = str(tmp_path / "nowhere.csv")
    with pytest.raises(DataError, match="nowhere.csv.*does not exist"):
        load_csv(missing, None)
    with pytest.raises(DataError, match="does not exist"):
        prepare_data(DatasetSpec(name="csv", csv_path=missing), seed=0)


def test_imbalance_on_a_two_class_csv(tmp_path: Path) -> None:
    path = write_csv(tmp_path, csv_rows(["no"] * 150 + ["yes"] * 50))
    spec = DatasetSpec(name="csv", csv_path=path, imbalance=0.1)
    assert load_dataset(spec, seed=0).labels.mean() == pytest.approx(0.1, abs=0.01)
