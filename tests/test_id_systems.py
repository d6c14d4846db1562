"""The lab's identifier systems (ALLFHIR_*_ID_SYSTEM) reach every identifier the CLI writes;
without them the output keeps the project's demo namespaces."""

from __future__ import annotations

import pytest

from .conftest import REPO
from .fhir_asserts import LAB_ENV, LAB_SYSTEMS, assert_lab_systems
from .test_cli import run

EXAMPLES = REPO / "examples" / "allsorts"
PROBABILITIES = EXAMPLES / "probabilities.csv"
ARRIBA = EXAMPLES / "SJBALL043684.arriba.fusions.tsv"


def test_cli_writes_the_configured_identifier_systems(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in LAB_ENV.items():
        monkeypatch.setenv(name, value)
    code, bundles, _ = run(capsys, "convert", str(PROBABILITIES), str(ARRIBA),
                           "--bundle-type", "transaction")
    assert code == 0 and len(bundles) == 3
    first = bundles[0]
    report = first["entry"][0]["resource"]
    assert report["identifier"] == [{"system": LAB_SYSTEMS["report"],
                                     "value": "allsorts:SJBALL043684"}]
    # the fusion sample carries Observations, MedicationStatements and Tasks: all in the lab's system
    assert sorted({e["resource"]["resourceType"] for e in first["entry"]}) == [
        "Device", "DiagnosticReport", "MedicationStatement", "Observation", "Task"]
    for bundle in bundles:
        sample = bundle["entry"][0]["resource"]["identifier"][0]["value"].split(":", 1)[1]
        assert_lab_systems(bundle, sample)


def test_cli_patient_identifier_without_system_takes_the_sample_system(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLFHIR_SAMPLE_ID_SYSTEM", LAB_SYSTEMS["sample"])
    code, bundles, _ = run(capsys, "convert", str(PROBABILITIES), "--patient", "|MRN-7")
    assert code == 0
    assert bundles[0]["entry"][0]["resource"]["subject"] == {
        "identifier": {"system": LAB_SYSTEMS["sample"], "value": "MRN-7"}}


def test_cli_default_systems_are_the_demo_namespaces(capsys: pytest.CaptureFixture[str]) -> None:
    code, bundles, _ = run(capsys, "convert", str(PROBABILITIES))
    assert code == 0
    report = bundles[0]["entry"][0]["resource"]
    assert report["identifier"] == [{"system": "https://allfhir.org/fhir/NamingSystem/report-id",
                                     "value": "allsorts:SJBALL043684"}]
    assert report["specimen"][0]["identifier"]["system"] == \
        "https://allfhir.org/fhir/NamingSystem/sample-id"
