"""What `allfhir convert` tells the user besides the reports: a repeated JSON key is refused with
its line, a sample id taken from a file name is said aloud."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import pytest

from allfhir.cli import main

from .conftest import DATA

ARRIBA = DATA / "fusions" / "arriba-fusions.tsv"


def test_generic_json_duplicated_key_is_refused_with_its_line(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    doc = tmp_path / "calls.json"
    doc.write_text('{\n  "sample_id": "LAB-1",\n  "calls": [\n    {"label": "ph", "probability": 0.9,\n'
                   '     "label": "dux4"}\n  ]\n}\n')
    assert main(["convert", str(doc)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert json.loads(err)["issue"] == [{
        "severity": "error", "code": "duplicate",
        "diagnostics": f"{doc}, line 5, column 'calls[0].label': duplicate key 'label' in one object: "
                       "only one value can be meant",
        "location": [f"{doc}, line 5, column 'calls[0].label'"]}]


def test_sample_id_from_a_file_name_is_a_warning_and_a_report_comment(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", "--no-actionability", str(ARRIBA)]) == 0
    out, err = capsys.readouterr()
    note = ("sample id 'arriba-fusions' taken from the file name arriba-fusions.tsv: the file does "
            "not name its sample (set it with --sample)")
    assert json.loads(err) == {"resourceType": "OperationOutcome", "issue": [{
        "severity": "warning", "code": "informational", "diagnostics": f"{ARRIBA}: {note}",
        "location": [str(ARRIBA)]}]}
    [bundle] = [json.loads(line) for line in out.splitlines()]
    [report] = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DiagnosticReport"]
    assert escape(note) in report["text"]["div"]


def test_sample_option_names_it_without_a_warning(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", "--no-actionability", "--sample", "LAB-7", str(ARRIBA)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    [bundle] = [json.loads(line) for line in out.splitlines()]
    assert bundle["entry"][0]["resource"]["identifier"][0]["value"] == "findings:LAB-7"
