"""Delimited files as labs save them (service/allfhir/ingest/_tabular.py): Excel's trailing empty columns,
a header with no rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from allfhir.cli import main

from .conftest import DATA, REPO

PROBABILITIES = REPO / "examples" / "allsorts" / "probabilities.csv"
MDALL = DATA / "classifiers" / "mdall-df_sums.tsv"


def converted(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, list[str], str]:
    code = main(["convert", "--no-actionability", str(path)])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


@pytest.mark.parametrize(("source", "pad"), [(PROBABILITIES, ",,"), (MDALL, "\t\t")])
def test_excel_trailing_empty_columns_are_ignored(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, source: Path, pad: str) -> None:
    # Excel writes an empty cell for every formatted column past the data, on every line.
    plain = tmp_path / "plain" / source.name
    excel = tmp_path / "excel" / source.name
    for path, suffix in ((plain, ""), (excel, pad)):
        path.parent.mkdir()
        path.write_text("".join(f"{line}{suffix}\r\n" for line in source.read_text().splitlines()))
    code, expected, err = converted(capsys, plain)
    assert (code, err) == (0, "") and expected
    code, got, err = converted(capsys, excel)
    assert (code, err) == (0, "")
    assert [line.replace(str(excel), str(plain)) for line in got] == expected


def test_value_in_an_unnamed_trailing_column_is_an_error(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    header, first, *rest = PROBABILITIES.read_text().splitlines()
    bad = tmp_path / "probabilities.csv"
    bad.write_text("\n".join([header + ",,", first + ",,0.5", *(r + ",," for r in rest)]) + "\n")
    code, out, err = converted(capsys, bad)
    assert (code, out) == (2, [])
    assert json.loads(err)["issue"] == [{
        "severity": "error", "code": "structure",
        "diagnostics": f"{bad}, line 2: field 24 has a value but its column has no name in the header",
        "location": [f"{bad}, line 2"]}]


@pytest.mark.parametrize("source", [PROBABILITIES, MDALL])
def test_header_only_classifier_file_is_refused(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, source: Path) -> None:
    empty = tmp_path / source.name
    empty.write_text(source.read_text().splitlines()[0] + "\n")
    code, out, err = converted(capsys, empty)
    assert (code, out) == (2, [])
    assert json.loads(err)["issue"] == [{
        "severity": "error", "code": "required",
        "diagnostics": f"{empty}: no samples in the file (a header and no data rows)",
        "location": [str(empty)]}]
