"""`allfhir convert | formats | schema`: NDJSON out, OperationOutcome on bad input, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from allfhir.cli import main

from .conftest import REPO
from .fhir_asserts import (
    assert_internal_refs_resolve,
    by_profile,
    component_value,
    components,
    fusion_variants,
    parse_r4b,
)

EXAMPLES = REPO / "examples" / "allsorts"
PROBABILITIES = EXAMPLES / "probabilities.csv"
ARRIBA = EXAMPLES / "SJBALL043684.arriba.fusions.tsv"
IG = "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict], str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines() if line.strip()], err


def subtype_codes(bundle: dict) -> list[str]:
    return [component_value(imp, "http://loinc.org", "81259-4")["coding"][0]["code"]
            for imp in by_profile(bundle, f"{IG}/diagnostic-implication")]


def test_readme_example_converts_each_sample_with_its_fusions(capsys: pytest.CaptureFixture[str]) -> None:
    code, bundles, err = run(capsys, "convert", str(PROBABILITIES), str(ARRIBA))
    assert code == 0 and err == ""
    assert [b["entry"][0]["resource"]["identifier"][0]["value"] for b in bundles] == [
        "allsorts:SJBALL043684", "allsorts:SJALL015972", "allsorts:SJBALL014030"]
    for bundle in bundles:
        parse_r4b(bundle)
        assert_internal_refs_resolve(bundle)
    ph, hyper, double = bundles
    assert subtype_codes(ph) == ["ph"]
    assert subtype_codes(hyper) == ["high-hyperdiploid"]
    # a multi-label call keeps every label, each as its own implication
    assert subtype_codes(double) == ["low-hypodiploid", "ph-like"]
    # the Arriba file names SJBALL043684, so its BCR::ABL1 fusion joins that report only
    [fusion] = fusion_variants(ph)
    assert component_value(fusion, "http://loinc.org", "81252-9") == {"text": "BCR::ABL1 fusion"}
    assert by_profile(hyper, f"{IG}/variant") == []
    [implication] = by_profile(ph, f"{IG}/diagnostic-implication")
    assert {"reference": f"urn:uuid:{fusion['id']}"} in implication["derivedFrom"]


@pytest.mark.parametrize("assembly", [None, "GRCh38"])
def test_assembly_option_reaches_the_fusion_breakpoints(
        capsys: pytest.CaptureFixture[str], assembly: str | None) -> None:
    extra = ["--assembly", assembly] if assembly else []
    code, printed, _ = run(capsys, "convert", str(PROBABILITIES), str(ARRIBA), *extra)
    assert code == 0
    ph = printed[0]
    [fusion] = fusion_variants(ph)
    points = [e["resource"] for e in ph["entry"]
              if {"reference": e["fullUrl"]} in fusion["derivedFrom"]]
    assert len(points) == 2
    found = [components(p, "http://loinc.org", "62374-4") for p in points]
    if assembly is None:
        assert found == [[], []]
    else:
        assert [c[0]["valueCodeableConcept"]["coding"][0]["code"] for c in found] == ["LA26806-2"] * 2


def test_assembly_option_accepts_only_grch37_and_grch38(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["convert", str(PROBABILITIES), "--assembly", "hg19"])
    assert exc.value.code == 2


def test_output_file_and_transaction_bundles(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "out.ndjson"
    code, printed, _ = run(capsys, "convert", str(PROBABILITIES), "--bundle-type", "transaction",
                           "--patient", "Patient/p1", "-o", str(out))
    assert code == 0 and printed == []
    bundles = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(bundles) == 3 and {b["type"] for b in bundles} == {"transaction"}
    assert bundles[0]["entry"][0]["resource"]["subject"] == {"reference": "Patient/p1"}


def test_bad_row_reports_operation_outcome_and_keeps_good_samples(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    lines = PROBABILITIES.read_text().splitlines()
    lines[2] = lines[2].replace("0.902", "1.7", 1)
    bad = tmp_path / "probabilities.csv"
    bad.write_text("\n".join(lines) + "\n")
    code, bundles, err = run(capsys, "convert", str(bad), "--no-actionability")
    assert code == 2
    assert len(bundles) == 2  # the two good samples are still converted
    outcome = json.loads(err)
    assert outcome["resourceType"] == "OperationOutcome"
    [issue] = outcome["issue"]
    assert issue["severity"] == "error"
    assert "1.7" in issue["diagnostics"] and str(bad) in issue["diagnostics"]
    assert issue["location"] == [f"{bad}, line 3, column 'High hyperdiploid'"]


def test_missing_file_and_unknown_format_are_input_errors(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "convert", str(tmp_path / "absent.csv"))
    assert code == 2 and json.loads(err)["issue"][0]["code"] == "not-found"
    odd = tmp_path / "notes.txt"
    odd.write_text("hello\nworld\n")
    code, _, err = run(capsys, "convert", str(odd))
    assert code == 2
    assert "format not recognised; pass --format with one of: " in json.loads(err)["issue"][0]["diagnostics"]


def test_formats_lists_every_adapter(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["formats"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert names == ["allcatchr", "allsorts", "arriba", "fusioncatcher", "generic_json",
                     "mdall", "star_fusion", "vcf"]


def test_schema_is_the_generic_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["type"] == "object"
    assert "samples" in json.dumps(schema)


def test_internal_error_is_exit_1_with_an_operation_outcome(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import allfhir.cli

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(allfhir.cli, "convert", boom)
    monkeypatch.delenv("ALLFHIR_DEBUG", raising=False)
    assert main(["convert", str(PROBABILITIES)]) == 1
    err = capsys.readouterr().err
    assert json.loads(err) == {"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": "exception", "diagnostics": "internal error: RuntimeError: boom"}]}
    assert "Traceback" not in err


def test_format_choices_are_the_adapters() -> None:
    from allfhir import cli, ingest

    assert sorted(cli.FORMATS) == sorted(ingest.ADAPTERS)


def test_importing_the_cli_imports_no_pipeline() -> None:
    # Start-up: `allfhir --version` and `import allfhir.cli` stay cheap (the pipeline is lazy).
    import subprocess
    import sys

    code = ("import sys, allfhir.cli; heavy = [m for m in ('pandas', 'pydantic', 'allfhir.convert',"
            " 'allfhir.knowledge', 'fhirpathpy') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_converting_the_readme_example_imports_only_what_it_uses() -> None:
    # Start-up of `allfhir convert`: without ALLFHIR_* variables the identifier systems are the
    # defaults, so pydantic-settings (asyncio, dotenv) is not imported for them; the generic JSON
    # adapter's models are built only for a generic JSON input.
    import os
    import subprocess
    import sys

    code = ("import sys; from allfhir.cli import main; rc = main(['convert', *sys.argv[1:]]); "
            "unused = [m for m in ('pydantic_settings', 'asyncio') if m in sys.modules]; "
            "from allfhir.ingest import generic_json; "
            "print(rc, unused, generic_json._models.cache_info().currsize, file=sys.stderr)")
    env = {k: v for k, v in os.environ.items() if not k.lower().startswith("allfhir_")}
    out = subprocess.run([sys.executable, "-c", code, str(PROBABILITIES), str(ARRIBA)],
                         capture_output=True, text=True, check=True, env=env)
    assert out.stderr.strip() == "0 [] 0"
    assert len(out.stdout.splitlines()) == 3
