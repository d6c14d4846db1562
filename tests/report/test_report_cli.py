"""`allfhir report` and `allfhir convert --presented-form pdf`, through `allfhir.cli.main`."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from allfhir.cli import EXIT_INPUT, EXIT_OK, main
from tests.conftest import REPO

from .page import parse, pdf_text

EXAMPLE = [REPO / "examples" / "allsorts" / "probabilities.csv",
           REPO / "examples" / "allsorts" / "SJBALL043684.arriba.fusions.tsv"]
SAMPLES = ["SJBALL043684", "SJALL015972", "SJBALL014030"]


@pytest.fixture
def ndjson(tmp_path: Path) -> Path:
    out = tmp_path / "reports.ndjson"
    assert main(["convert", *map(str, EXAMPLE), "-o", str(out)]) == EXIT_OK
    return out


def outcome(capsys: pytest.CaptureFixture[str]) -> list[str]:
    body = json.loads(capsys.readouterr().err)
    assert body["resourceType"] == "OperationOutcome"
    return [i["diagnostics"] for i in body["issue"]]


def test_one_sample_as_pdf(ndjson: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    assert main(["report", str(ndjson), "--sample", "SJBALL043684", "-o", str(out)]) == EXIT_OK
    text = pdf_text(out.read_bytes())
    assert "BCP-ALL molecular subtype report - sample SJBALL043684" in text
    assert "0.932 (call)" in text and "imatinib" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.pdf", "reports.ndjson"]  # no .part


def test_several_bundles_each_into_its_own_file(ndjson: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.html"
    assert main(["report", str(ndjson), "-o", str(out)]) == EXIT_OK
    written = [tmp_path / f"report-{s}.html" for s in SAMPLES]
    assert capsys.readouterr().err.split() == [str(p) for p in written]
    assert not out.exists()
    for sample, path in zip(SAMPLES, written, strict=True):
        page = parse(path.read_text(encoding="utf-8"))
        assert [e.text.strip() for e in page.elements if e.tag == "h1"] == [
            f"BCP-ALL molecular subtype report - sample {sample}"]


def test_one_html_report_on_stdout(ndjson: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(ndjson), "--sample", "SJALL015972"]) == EXIT_OK
    html = capsys.readouterr().out
    assert html.startswith("<!DOCTYPE html>") and "High hyperdiploid" in html


def test_a_single_pretty_printed_bundle(ndjson: Path, tmp_path: Path) -> None:
    one = tmp_path / "one.json"
    one.write_text(json.dumps(json.loads(ndjson.read_text().splitlines()[0]), indent=2))
    out = tmp_path / "one.htm"
    assert main(["report", str(one), "-o", str(out)]) == EXIT_OK
    assert "SJBALL043684" in out.read_text(encoding="utf-8")


def test_refusals_are_operation_outcomes(ndjson: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(ndjson), "--sample", "nope"]) == EXIT_INPUT
    assert outcome(capsys) == [f"{ndjson}: no report for sample 'nope' in the file; it holds: "
                               "SJALL015972, SJBALL014030, SJBALL043684"]
    assert main(["report", str(ndjson)]) == EXIT_INPUT
    assert outcome(capsys) == [f"{ndjson}: give -o OUT: a PDF, or several reports, are written to files "
                               "(3 report(s) in the file; --sample picks one)"]
    assert main(["report", str(ndjson), "-o", str(tmp_path / "r.txt")]) == EXIT_INPUT
    assert outcome(capsys) == [f"{tmp_path / 'r.txt'}: cannot tell the format from '.txt': name the "
                               "output .html or .pdf, or give --format"]
    assert main(["report", str(tmp_path / "missing.ndjson")]) == EXIT_INPUT
    assert outcome(capsys) == [f"{tmp_path / 'missing.ndjson'}: no such file"]


def test_a_bad_line_writes_nothing(ndjson: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = ndjson.read_text().splitlines()
    bad = tmp_path / "bad.ndjson"
    bad.write_text("\n".join([lines[0], "{not json", json.dumps({"resourceType": "Patient"}),
                              json.dumps({"resourceType": "Bundle", "entry": []})]) + "\n")
    out = tmp_path / "out" / "report.pdf"
    out.parent.mkdir()
    assert main(["report", str(bad), "-o", str(out)]) == EXIT_INPUT
    assert outcome(capsys) == [
        f"{bad}, line 2: not JSON: Expecting property name enclosed in double quotes (column 2)",
        f"{bad}, line 3: not a FHIR Bundle (resourceType is not 'Bundle'): give a file that "
        "`allfhir convert` wrote",
        f"{bad}, line 4: the Bundle holds no DiagnosticReport: not a report Bundle"]
    assert list(out.parent.iterdir()) == []


def test_convert_presented_form_pdf_embeds_the_report(tmp_path: Path) -> None:
    out = tmp_path / "with-pdf.ndjson"
    assert main(["convert", *map(str, EXAMPLE), "--presented-form", "pdf", "-o", str(out)]) == EXIT_OK
    plain = tmp_path / "plain.ndjson"
    assert main(["convert", *map(str, EXAMPLE), "-o", str(plain)]) == EXIT_OK
    for line, before in zip(out.read_text().splitlines(), plain.read_text().splitlines(), strict=True):
        report = json.loads(line)["entry"][0]["resource"]
        html, pdf = report["presentedForm"]
        assert html == json.loads(before)["entry"][0]["resource"]["presentedForm"][0]
        assert (pdf["contentType"], pdf["language"], pdf["title"]) == (
            "application/pdf", "en", html["title"])
        data = base64.b64decode(pdf["data"])
        assert data.startswith(b"%PDF-") and html["title"] in pdf_text(data)
        # everything else is the Bundle as converted without it
        rest = json.loads(line)
        rest["entry"][0]["resource"]["presentedForm"] = [html]
        assert rest == json.loads(before)
