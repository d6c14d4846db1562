"""ORU^R01 from converted report Bundles: parsed back (hl7apy STRICT and python-hl7) field by field,
for the README example and a VCF with variants; orders, dates, statuses, escaping, the mappings."""

from __future__ import annotations

import copy
import csv
import io
import json
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import hl7
import pytest
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message

from allfhir.cli import main
from allfhir.errors import InputError
from allfhir.exchange.v2_message import bundle_messages, oru_r01, reports
from tests.conftest import DATA, REPO

EXAMPLE = [REPO / "examples" / "allsorts" / "probabilities.csv",
           REPO / "examples" / "allsorts" / "SJBALL043684.arriba.fusions.tsv"]
VCF = DATA / "vcf" / "vep-ikzf1.vcf"
PATIENT = "http://hospital.example/mrn|42"
MAPPINGS = REPO / "mappings"


def convert(tmp_path: Path, *args: str) -> Path:
    out = tmp_path / "bundles.ndjson"
    assert main(["convert", *args, "-o", str(out)]) == 0
    return out


def bundles(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def export(path: Path, *args: str) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["v2", "export", str(path), *args]) == 0
    return out.getvalue()


def obx_rows(message: str) -> list[tuple[str, ...]]:
    """(OBX-1, -2, -3, -4, -5, -6, -11) of every OBX, read with python-hl7 (unescaped)."""
    parsed = hl7.parse(message)
    return [tuple(parsed.unescape(str(s(n))) for n in (1, 2, 3, 4, 5, 6, 11))
            for s in parsed.segments("OBX")]


def strict(message: str) -> Any:
    parsed = parse_message(message, validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)
    assert parsed.validate() is True
    return parsed


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return convert(tmp_path_factory.mktemp("readme"), *map(str, EXAMPLE))


@pytest.fixture(scope="module")
def vcf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return convert(tmp_path_factory.mktemp("vcf"), str(VCF), "--patient", PATIENT,
                   "--effective", "2026-11-25T09:30:00+01:00")


def test_export_prints_one_message_per_report_segments_split_by_cr(example: Path) -> None:
    out = export(example, "--sent-at", "2026-12-01T08:00:00Z")
    messages = out.split("\n")
    assert messages[-1] == ""  # each message ends with a newline
    messages = messages[:-1]
    assert len(messages) == 3 == len(bundles(example))
    for message in messages:
        assert message.startswith("MSH|^~\\&|") and "\n" not in message
        assert [s[:3] for s in message.split("\r")][:4] == ["MSH", "ORC", "OBR", "NTE"]
        strict(message)
    # the same input gives the same bytes
    assert export(example, "--sent-at", "2026-12-01T08:00:00Z") == out


def test_readme_example_ph_message_field_by_field(example: Path) -> None:
    bundle = bundles(example)[0]
    report = bundle["entry"][0]["resource"]
    [message] = bundle_messages(bundle, sent_at="2026-12-01T08:00:00Z")
    parsed = strict(message)
    msh = parsed.msh
    assert [msh.msh_3.to_er7(), msh.msh_4.to_er7(), msh.msh_5.to_er7(), msh.msh_6.to_er7()] == [
        "ALLFHIR", "LAB", "EHR", "HOSPITAL"]
    assert msh.msh_7.to_er7() == "20261201080000+0000"
    assert msh.msh_9.to_er7() == "ORU^R01^ORU_R01"
    assert len(msh.msh_10.to_er7()) == 20
    assert [msh.msh_11.to_er7(), msh.msh_12.to_er7(), msh.msh_18.to_er7()] == [
        "P", "2.5.1", "UNICODE UTF-8"]
    result = parsed.oru_r01_patient_result
    assert [c.name for c in result.children] == ["ORU_R01_ORDER_OBSERVATION"]  # no subject: no PID
    order = result.oru_r01_order_observation
    filler = "allsorts:SJBALL043684^^https://allfhir.org/fhir/NamingSystem/report-id^URI"
    assert order.orc.orc_1.to_er7() == "RE"
    assert order.orc.orc_2.to_er7() == "" and order.orc.orc_3.to_er7() == filler
    assert order.obr.obr_1.to_er7() == "1" and order.obr.obr_3.to_er7() == filler
    assert order.obr.obr_2.to_er7() == ""
    assert order.obr.obr_4.to_er7() == "51969-4^Genetic analysis report^LN"
    assert order.obr.obr_25.to_er7() == "F"
    assert order.nte.nte_2.to_er7() == "L"
    assert hl7.parse(message).segment("NTE")(3) and \
        hl7.parse(message).unescape(str(hl7.parse(message).segment("NTE")(3))) == report["conclusion"]

    rows = obx_rows(message)
    assert [r[0] for r in rows] == [str(n) for n in range(1, len(rows) + 1)]
    assert {r[6] for r in rows} == {"F"}
    # (type, OBX-3, sub-ID, value, units) of the findings: the two breakpoint parts (1, 2), the
    # molecular consequence (3), the fusion (4), the expression signature (5), the subtype (6), and
    # the three therapy lines (7-9)
    got = [r[1:6] for r in rows]
    gene_studied = "48018-6^Gene studied [ID]^LN"
    present = "LA9633-4^Present^LN"
    somatic = ("CWE", "48002-0^Genomic source class^LN")
    ph = ("ph^Ph (BCR::ABL1)^99ALFST^BLLBCRABL1^"
          "B-Lymphoblastic Leukemia/Lymphoma with t(9;22)(q34.1;q11.2);BCR-ABL1^99OTREE")

    def breakpoint_part(n: str, gene: str, end: str, chromosome: str, position: str) -> list[tuple]:
        number = chromosome.split("^")[1].split()[1]
        return [("CWE", "69548-6^Genetic variant assessment^LN", n, present, ""),
                ("CWE", gene_studied, n, gene, ""),
                ("ST", "81252-9^Discrete genetic variant^LN", n,
                 f"BCR::ABL1 fusion {end} breakpoint {number}:{position}", ""),
                ("CWE", "48000-4^^LN", n, chromosome, ""),
                ("NR", "81254-5^Genomic allele start-end^LN", n, f"{position}^{position}", ""),
                (*somatic, n, "LA6684-0^Somatic^LN", "")]

    assert got[:13] == [
        *breakpoint_part("1", "HGNC:1014^BCR^99HGNC", "5'", "LA21275-5^Chromosome 22^LN", "23632600"),
        *breakpoint_part("2", "HGNC:76^ABL1^99HGNC", "3'", "LA21262-3^Chromosome 9^LN", "133729451"),
        ("CWE", "functional-effect^Functional Effect^99GRTBD", "3", "SO:0001886^transcript_fusion^99SO", ""),
    ]
    assert got[13:27] == [
        ("CWE", "69548-6^Genetic variant assessment^LN", "4", present, ""),
        ("CWE", gene_studied, "4", "HGNC:1014^BCR^99HGNC", ""),
        ("CWE", gene_studied, "4", "HGNC:76^ABL1^99HGNC", ""),
        ("ST", "81252-9^Discrete genetic variant^LN", "4", "BCR::ABL1 fusion", ""),
        ("CWE", "48019-4^DNA change type^LN", "4", "SO:0001565^gene_fusion^99SO", ""),
        ("CWE", "81291-7^Variant ISCN^LN", "4", "t(9;22)(q34.1;q11.2)^^99ISCN", ""),
        (*somatic, "4", "LA6684-0^Somatic^LN", ""),
        ("NM", "82121-5^Allelic read depth^LN", "4", "11", "1^1^UCUM"),
        ("NM", "fusion-junction-reads^Fusion junction (split) reads^99ALFC", "4", "11", "1^1^UCUM"),
        ("NM", "fusion-spanning-reads^Fusion spanning fragments^99ALFC", "4", "0", "1^1^UCUM"),
        ("ST", "caller-confidence^Caller confidence^99ALFC", "4", "high", ""),
        ("ST", "fusion-reading-frame^Fusion reading frame^99ALFC", "4", "in-frame", ""),
        ("CWE", "expression-subtype-signature^BCP-ALL gene-expression subtype signature^99ALFC", "5",
         "ph^Ph (BCR::ABL1)^99ALFST", ""),
        ("NM", "classifier-probability^Classifier probability^99ALFC", "5", "0.932", "1^1^UCUM"),
    ]
    assert got[27:32] == [
        ("CWE", "81259-4^Associated phenotype^LN", "6", ph, ""),
        ("NM", "classifier-probability^Classifier probability^99ALFC", "6", "0.932", "1^1^UCUM"),
        ("CWE", "call-basis^Call basis^99ALFC", "6",
         "driver-confirmed^Expression class confirmed by its defining driver^99ALFC", ""),
        ("ST", "who-haem5-entity^WHO-HAEM5 entity^99ALFC", "6",
         "B-lymphoblastic leukaemia/lymphoma with BCR::ABL1 fusion", ""),
        ("ST", "icc-2022-entity^ICC 2022 entity^99ALFC", "6",
         "B-ALL with t(9;22)(q34.1;q11.2)/BCR::ABL1", ""),
    ]
    therapy = [(r[1], r[2], r[3]) for r in got[32:]]
    assert [t for t in therapy if t[0].startswith("51963-7")] == [
        ("51963-7^Medication assessed^LN", "7", "282388^imatinib^RXNORM^C62035^imatinib^99NCIT"),
        ("51963-7^Medication assessed^LN", "8", "475342^dasatinib^RXNORM"),
        ("51963-7^Medication assessed^LN", "9", "1364347^ponatinib^RXNORM")]
    for sub_id in "789":
        lines = [t for t in therapy if t[1] == sub_id]
        assert [t[0] for t in lines] == [
            "therapeutic-implication^^99GRTBD", "81259-4^Associated phenotype^LN",
            "51963-7^Medication assessed^LN", "93044-6^Level of Evidence^LN", "conclusion-string^^99GRTBD"]
        assert lines[0][2] == "LA6677-4^Responsive^LN" and lines[1][2] == ph
        assert lines[3][2] == "AMP/ASCO/CAP 2017: level A"
    assert len(rows) == 47

    # the notes: the fusion caller's note after group 4, the subtype's conclusion (too long for an
    # OBX ST) and its outcome note after group 6, each NTE in the group it belongs to
    groups = order.oru_r01_observation
    notes = {(g.obx.obx_4.to_er7(), n.nte_1.to_er7()): (n.nte_3.to_er7(), n.nte_4.to_er7())
             for g in groups for n in g.children if n.name == "NTE"}
    assert notes[("4", "1")] == ("called by Arriba", "")
    subtype = next(e["resource"] for e in bundle["entry"]
                   if "diagnostic-implication" in e["resource"].get("meta", {}).get("profile", [""])[0])
    conclusion = next(c["valueString"] for c in subtype["component"]
                      if c["code"]["coding"][0]["code"] == "conclusion-string")
    assert notes[("6", "1")] == (conclusion, "conclusion-string^^99GRTBD")
    assert notes[("6", "2")][0].startswith("Ph (BCR::ABL1): frequency 15-25% in adults")


def test_vcf_variants_with_patient_and_dates(vcf: Path) -> None:
    [bundle] = bundles(vcf)
    [message] = bundle_messages(bundle)
    parsed = strict(message)
    assert parsed.msh.msh_7.to_er7() == "20261125093000+0100"  # the report's effective time
    pid = parsed.oru_r01_patient_result.oru_r01_patient.pid
    assert pid.pid_1.to_er7() == "1"
    assert pid.pid_3.to_er7() == "42^^^&http://hospital.example/mrn&URI"
    assert pid.pid_5.to_er7() == "^^^^^^U"
    order = parsed.oru_r01_patient_result.oru_r01_order_observation
    assert order.obr.obr_7.to_er7() == "20261125093000+0100"
    rows = [r[1:6] for r in obx_rows(message)]
    variant = [
        ("CWE", "69548-6^Genetic variant assessment^LN", "{n}", "LA9633-4^Present^LN", ""),
        ("CWE", "48018-6^Gene studied [ID]^LN", "{n}", "HGNC:13176^IKZF1^99HGNC", ""),
        ("CWE", "48004-6^DNA change (c.HGVS)^LN", "{n}", "{c}^{c}^99HGVS", ""),
        ("CWE", "48005-3^Amino acid change (pHGVS)^LN", "{n}", "{p}^{p}^99HGVS", ""),
        ("CWE", "51958-7^Transcript reference sequence [ID]^LN", "{n}", "NM_006060.6^^99RSEQ", ""),
        ("CWE", "48019-4^DNA change type^LN", "{n}", "{so}", ""),
        ("ST", "69547-8^Ref nucleotide^LN", "{n}", "{ref}", ""),
        ("ST", "69551-0^Alt allele^LN", "{n}", "{alt}", ""),
        ("CWE", "48002-0^Genomic source class^LN", "{n}", "LA6684-0^Somatic^LN", ""),
        ("NM", "81258-6^Sample VAF^LN", "{n}", "{vaf}", "1^1^UCUM"),
        ("NM", "82121-5^Allelic read depth^LN", "{n}", "{depth}", "1^1^UCUM"),
    ]

    def filled(**values: str) -> list[tuple[str, ...]]:
        return [tuple(part.format(**values) for part in row) for row in variant]

    assert rows[:11] == filled(n="1", c="NM_006060.6:c.475A>T", p="NP_006051.1:p.Asn159Tyr",
                               so="SO:0001483^SNV^99SO", ref="A", alt="T", vaf="0.4", depth="40")
    assert rows[11:22] == filled(n="2", c="NM_006060.6:c.1234del", p="NP_006051.1:p.Leu412TrpfsTer5",
                                 so="SO:0000159^deletion^99SO", ref="TC", alt="T", vaf="0.1", depth="10")
    assert rows[22:] == [
        ("CWE", "81259-4^Associated phenotype^LN", "3", "ikzf1-n159y^IKZF1 N159Y^99ALFST", ""),
        ("CWE", "call-basis^Call basis^99ALFC", "3",
         "driver-only^Defining driver without a supporting expression call^99ALFC", ""),
        ("ST", "who-haem5-entity^WHO-HAEM5 entity^99ALFC", "3",
         "B-lymphoblastic leukaemia/lymphoma with other defined genetic abnormalities", ""),
        ("ST", "icc-2022-entity^ICC 2022 entity^99ALFC", "3", "B-ALL with mutated IKZF1 N159Y", ""),
    ]
    # every OBX carries the observation time
    assert {str(s(14)) for s in hl7.parse(message).segments("OBX")} == {"20261125093000+0100"}


def test_order_numbers_dates_and_statuses_come_from_the_report(vcf: Path) -> None:
    [bundle] = bundles(vcf)
    [(report, results)] = list(reports(bundle))
    report = {**copy.deepcopy(report), "status": "preliminary", "issued": "2026-11-26T14:05:09Z",
              "basedOn": [{"identifier": {"system": "http://hospital.example/orders", "value": "ORD-7"}}]}
    results = [{**r, "status": "preliminary"} for r in results]
    parsed = strict(oru_r01(report, results))
    order = parsed.oru_r01_patient_result.oru_r01_order_observation
    placer = "ORD-7^^http://hospital.example/orders^URI"
    assert order.orc.orc_2.to_er7() == placer and order.obr.obr_2.to_er7() == placer
    assert order.obr.obr_3.to_er7() == "findings:PT42_D^^https://allfhir.org/fhir/NamingSystem/report-id^URI"
    assert parsed.msh.msh_7.to_er7() == "20261126140509+0000"  # issued wins over effective
    assert order.obr.obr_22.to_er7() == "20261126140509+0000"
    assert order.obr.obr_25.to_er7() == "P"
    assert {g.obx.obx_11.to_er7() for g in order.oru_r01_observation} == {"P"}
    # a changed report is a new message: MSH-10 follows the content
    assert parsed.msh.msh_10.to_er7() != strict(bundle_messages(bundle)[0]).msh.msh_10.to_er7()


def test_text_is_escaped_and_reads_back(vcf: Path) -> None:
    [bundle] = bundles(vcf)
    [(report, results)] = list(reports(bundle))
    said = "a|b^c&d~e\\f\nsecond line"
    message = oru_r01({**report, "conclusion": said}, results)
    strict(message)
    parsed = hl7.parse(message)
    first, second = parsed.segments("NTE")[:2]  # one NTE per line
    assert [str(first(1)), str(first(3))] == ["1", "a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f"]
    assert parsed.unescape(str(first(3))) == "a|b^c&d~e\\f"
    assert [str(second(1)), str(second(3))] == ["2", "second line"]


def test_every_loinc_and_code_system_emitted_is_in_mappings_with_a_source(example: Path, vcf: Path) -> None:
    with (MAPPINGS / "v2_observations.csv").open() as f:
        loinc = {r["loinc_code"]: r for r in csv.DictReader(f)}
    with (MAPPINGS / "v2_coding_systems.csv").open() as f:
        systems = {r["v2_name"]: r for r in csv.DictReader(f)}
    assert all(r["source"] for r in loinc.values()) and all(r["source"] for r in systems.values())
    seen_loinc, seen_systems = set(), set()
    for path in (example, vcf):
        for bundle in bundles(path):
            for message in bundle_messages(bundle):
                parsed = hl7.parse(message)
                for seg in [*parsed.segments("OBX"), parsed.segment("OBR")]:
                    field = str(seg(3) if str(seg[0]) == "OBX" else seg(4)).split("^")
                    seen_systems.add(field[2])
                    if field[2] == "LN":
                        seen_loinc.add(field[0])
                        assert field[0] in loinc, field
                        assert field[1] == loinc[field[0]]["display"]
                for seg in parsed.segments("OBX"):
                    if str(seg(2)) == "CWE":
                        parts = str(seg(5)).split("^")
                        seen_systems.update(p for p in parts[2::3] if p)
    assert seen_systems <= set(systems)
    assert {"48018-6", "48004-6", "48005-3", "81258-6", "81259-4", "51963-7", "51969-4"} <= seen_loinc


def test_an_unmapped_loinc_is_refused_by_name(vcf: Path) -> None:
    [bundle] = bundles(vcf)
    [(report, results)] = list(reports(bundle))
    changed = copy.deepcopy(results)
    changed[0]["component"][0]["code"]["coding"][0]["code"] = "99999-9"
    with pytest.raises(InputError, match=r"LOINC 99999-9 has no row in mappings/v2_observations.csv") as err:
        oru_r01(report, changed)
    assert err.value.problems[0].column == f"Observation/{results[0]['id']}.component[0].code"


def test_export_refuses_a_line_that_is_not_a_bundle(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.ndjson"
    bad.write_text('{"resourceType": "Bundle", "type": "collection", "entry": []}\nnot json\n')
    assert main(["v2", "export", str(bad)]) == 2
    outcome = json.loads(capsys.readouterr().err)
    assert outcome["issue"][0]["location"] == [f"{bad}, line 2"]
    assert outcome["issue"][0]["code"] == "structure"


CONVERTIBLE = sorted(p.relative_to(DATA).as_posix() for folder in ("classifiers", "fusions", "vcf")
                     for p in (DATA / folder).iterdir()
                     if p.name not in ("README.md", "PROVENANCE") and not p.name.endswith(".bgz"))


@pytest.mark.parametrize("name", CONVERTIBLE)
def test_every_converted_test_file_becomes_valid_messages(name: str, tmp_path: Path) -> None:
    # whatever the converter emits (copy number, breakends, SnpEff, Ensembl transcripts, cohorts)
    # has its codes in mappings/ and passes the v2.5.1 structure
    out = tmp_path / "bundles.ndjson"
    if main(["convert", str(DATA / name), "-o", str(out)]) != 0:
        pytest.skip("a deliberately broken fixture: the converter refuses it")
    converted = bundles(out)
    produced = [m for b in converted for m in bundle_messages(b)]
    assert len(produced) == len(converted)
    for message in produced:
        strict(message)
