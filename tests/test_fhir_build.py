"""One Sample -> one Bundle: exact resources, codes, references and probabilities.

Samples are built directly (no adapter) so these tests pin the FHIR side alone; literal URLs and
codes are spelled out on purpose, so a change of any emitted code shows up here.
"""

from __future__ import annotations

import base64
import json

import pytest

from allfhir.errors import InputError
from allfhir.fhir.bundle import BuildOptions, build
from allfhir.knowledge import Knowledge
from allfhir.model import (
    ClassifierRun,
    CopyNumberChange,
    Fusion,
    Ploidy,
    Sample,
    SequenceVariant,
    SourceRef,
    SubtypeCall,
)
from allfhir.resolve import resolve

from .fhir_asserts import (
    assert_internal_refs_resolve,
    by_profile,
    codings,
    component_value,
    components,
    fusion_variants,
    parse_r4b,
    resources,
)
from .fhir_asserts import (
    resolve as deref,
)

LOINC = "http://loinc.org"
HGNC = "http://www.genenames.org"
SUBTYPE_CS = "https://allfhir.org/fhir/CodeSystem/bcp-all-subtype"
ALLFHIR_CS = "https://allfhir.org/fhir/CodeSystem/allfhir-codes"
SO = "http://www.sequenceontology.org"
IG = "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition"
TBD = "http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/tbd-codes-cs"
NO_ACTIONS = BuildOptions(actionability=False)

ALLSORTS = ClassifierRun(classifier_id="allsorts", name="ALLSorts", version="0.1.0")


def ph_sample() -> Sample:
    return Sample(
        sample_id="S1",
        classifier=ALLSORTS,
        calls=[SubtypeCall(label="Ph", label_column="Pred", probability=0.932)],
        fusions=[Fusion(gene5="BCR", gene3="ABL1", breakpoint5="chr22:23632600:+",
                        breakpoint3="chr9:133729451:+", junction_reads=12, spanning_reads=7,
                        caller="Arriba", confidence="high", reading_frame="in-frame")],
    )


def convert_one(kb: Knowledge, sample: Sample, opts: BuildOptions = NO_ACTIONS) -> dict:
    bundle = build(resolve(sample, kb), kb, opts)
    parse_r4b(bundle)
    assert_internal_refs_resolve(bundle)
    return bundle


def test_report_lists_every_observation_and_comes_first(kb: Knowledge) -> None:
    bundle = convert_one(kb, ph_sample())
    report = bundle["entry"][0]["resource"]
    assert report["resourceType"] == "DiagnosticReport"
    assert report["meta"]["profile"] == [f"{IG}/genomic-report"]
    assert codings(report["code"]) == {(LOINC, "51969-4")}
    assert report["status"] == "final"
    observations = {f"urn:uuid:{r['id']}" for r in resources(bundle, "Observation")}
    assert {r["reference"] for r in report["result"]} == observations
    # fusion, its two breakpoints and its molecular consequence + expression signature +
    # diagnostic implication
    assert len(observations) == 6
    assert report["specimen"] == [{"identifier": {"system": "https://allfhir.org/fhir/NamingSystem/sample-id",
                                                  "value": "S1"}, "display": "sample S1"}]
    assert "BCR::ABL1" in report["text"]["div"] and report["text"]["status"] == "generated"
    assert report["conclusion"].startswith("ALLSorts 0.1.0 call: Ph (BCR::ABL1) (probability 0.932)")
    [form] = report["presentedForm"]
    assert form["contentType"] == "text/html; charset=utf-8"
    assert base64.b64decode(form["data"]).decode() == report["text"]["div"]


def test_fusion_variant_observation(kb: Knowledge) -> None:
    bundle = convert_one(kb, ph_sample())
    [fusion] = fusion_variants(bundle)
    assert codings(fusion["code"]) == {(LOINC, "69548-6")}
    assert codings(fusion["valueCodeableConcept"]) == {(LOINC, "LA9633-4")}
    genes = [codings(c["valueCodeableConcept"]) for c in components(fusion, LOINC, "48018-6")]
    assert genes == [{(HGNC, "HGNC:1014")}, {(HGNC, "HGNC:76")}]
    assert component_value(fusion, LOINC, "81252-9") == {"text": "BCR::ABL1 fusion"}
    assert codings(component_value(fusion, LOINC, "48019-4")) == {(SO, "SO:0001565")}
    assert codings(component_value(fusion, LOINC, "48002-0")) == {(LOINC, "LA6684-0")}
    # allelic read depth = all reads supporting the fusion (junction + spanning)
    assert component_value(fusion, LOINC, "82121-5")["value"] == 19
    assert component_value(fusion, ALLFHIR_CS, "fusion-junction-reads")["value"] == 12
    assert component_value(fusion, ALLFHIR_CS, "fusion-spanning-reads")["value"] == 7
    assert component_value(fusion, ALLFHIR_CS, "caller-confidence") == "high"


def fusion_only(gene5: str = "BCR", gene3: str = "ABL1", **fields: object) -> Sample:
    return Sample(sample_id="F1", fusions=[Fusion(gene5=gene5, gene3=gene3, **fields)])


def test_fusion_iscn_comes_from_the_karyotype_mappings(kb: Knowledge) -> None:
    [fusion] = fusion_variants(convert_one(kb, ph_sample()))
    assert components(fusion, LOINC, "81291-7") == [
        {"code": {"coding": [{"system": LOINC, "code": "81291-7"}]},
         "valueCodeableConcept": {"coding": [{"system": "https://iscn.karger.com",
                                              "code": "t(9;22)(q34.1;q11.2)"}]}}]
    # the reciprocal product of the same translocation has the same karyotype
    [reciprocal] = fusion_variants(convert_one(kb, fusion_only("ABL1", "BCR")))
    assert codings(component_value(reciprocal, LOINC, "81291-7")) == {
        ("https://iscn.karger.com", "t(9;22)(q34.1;q11.2)")}
    [etv6] = fusion_variants(convert_one(kb, fusion_only("ETV6", "RUNX1")))
    assert codings(component_value(etv6, LOINC, "81291-7")) == {
        ("https://iscn.karger.com", "t(12;21)(p13.2;q22.1)")}


def test_fusion_without_known_karyotype_has_no_iscn_and_the_input_iscn_wins(kb: Knowledge) -> None:
    [pax5] = fusion_variants(convert_one(kb, fusion_only("PAX5", "ZNF521")))
    assert components(pax5, LOINC, "81291-7") == []
    [given] = fusion_variants(convert_one(kb, fusion_only(iscn="t(9;22)(q34;q11)")))
    assert codings(component_value(given, LOINC, "81291-7")) == {
        ("https://iscn.karger.com", "t(9;22)(q34;q11)")}


def test_fusion_molecular_consequence_is_transcript_fusion_as_in_the_ig_ros1_example(
        kb: Knowledge) -> None:
    bundle = convert_one(kb, ph_sample())
    [fusion] = fusion_variants(bundle)
    [consequence] = by_profile(bundle, f"{IG}/molecular-consequence")
    tbd = "http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/tbd-codes-cs"
    assert consequence["code"] == {"coding": [{"system": tbd, "code": "molecular-consequence",
                                               "display": "Molecular Consequence"}]}
    assert consequence["derivedFrom"] == [{"reference": f"urn:uuid:{fusion['id']}"}]
    assert "valueCodeableConcept" not in consequence
    assert consequence["component"] == [
        {"code": {"coding": [{"system": tbd, "code": "functional-effect", "display": "Functional Effect"}]},
         "valueCodeableConcept": {"coding": [{"system": SO, "code": "SO:0001886",
                                              "display": "transcript_fusion"}]}}]
    # the fusion keeps its change type beside it
    assert codings(component_value(fusion, LOINC, "48019-4")) == {(SO, "SO:0001565")}
    report = bundle["entry"][0]["resource"]
    assert {"reference": f"urn:uuid:{consequence['id']}"} in report["result"]


def _breakpoints(bundle: dict, fusion: dict) -> list[dict]:
    return [deref(bundle, r) for r in fusion["derivedFrom"]]


def test_fusion_breakpoints_are_variants_with_chromosome_and_exact_position(kb: Knowledge) -> None:
    bundle = convert_one(kb, ph_sample())
    [fusion] = fusion_variants(bundle)
    five, three = _breakpoints(bundle, fusion)
    assert five["meta"]["profile"] == [f"{IG}/variant"]
    assert codings(five["valueCodeableConcept"]) == {(LOINC, "LA9633-4")}
    assert five["component"] == [
        {"code": {"coding": [{"system": LOINC, "code": "48018-6"}]},
         "valueCodeableConcept": {"coding": [{"system": HGNC, "code": "HGNC:1014", "display": "BCR"}]}},
        {"code": {"coding": [{"system": LOINC, "code": "81252-9"}]},
         "valueCodeableConcept": {"text": "BCR::ABL1 fusion 5' breakpoint chr22:23632600:+"}},
        {"code": {"coding": [{"system": LOINC, "code": "48000-4"}]},
         "valueCodeableConcept": {"coding": [{"system": LOINC, "code": "LA21275-5",
                                              "display": "Chromosome 22"}]}},
        {"code": {"coding": [{"system": LOINC, "code": "81254-5"}]},
         "valueRange": {"low": {"value": 23632600}, "high": {"value": 23632600}}},
        {"code": {"coding": [{"system": LOINC, "code": "48002-0"}]},
         "valueCodeableConcept": {"coding": [{"system": LOINC, "code": "LA6684-0", "display": "Somatic"}]}},
    ]
    assert codings(component_value(three, LOINC, "48018-6")) == {(HGNC, "HGNC:76")}
    assert codings(component_value(three, LOINC, "48000-4")) == {(LOINC, "LA21262-3")}
    assert component_value(three, LOINC, "81254-5") == {"low": {"value": 133729451},
                                                         "high": {"value": 133729451}}
    # no assembly unless given; the old free-text breakpoint components are gone
    for obs in (fusion, five, three):
        assert components(obs, LOINC, "62374-4") == []
    text = json.dumps(bundle)
    assert "fusion-breakpoint" not in text
    # everything else the caller said is still there
    assert component_value(fusion, ALLFHIR_CS, "fusion-reading-frame") == "in-frame"
    assert fusion["note"] == [{"text": "called by Arriba"}]


@pytest.mark.parametrize(("assembly", "code"), [("GRCh37", "LA14029-5"), ("GRCh38", "LA26806-2")])
def test_fusion_breakpoints_carry_the_assembly_when_given(kb: Knowledge, assembly: str, code: str) -> None:
    bundle = convert_one(kb, ph_sample(), BuildOptions(actionability=False, assembly=assembly))
    [fusion] = fusion_variants(bundle)
    assert components(fusion, LOINC, "62374-4") == []
    for point in _breakpoints(bundle, fusion):
        assert components(point, LOINC, "62374-4") == [
            {"code": {"coding": [{"system": LOINC, "code": "62374-4"}]},
             "valueCodeableConcept": {"coding": [{"system": LOINC, "code": code, "display": assembly}]}}]
    assert json.dumps(bundle) == json.dumps(
        convert_one(kb, ph_sample(), BuildOptions(actionability=False, assembly=assembly)))


def test_fusion_breakpoint_that_is_no_chromosome_position_stays_as_written(kb: Knowledge) -> None:
    bundle = convert_one(kb, fusion_only(breakpoint5="chrUn_gl000220:105424:+", breakpoint3="9:133729451"))
    [fusion] = fusion_variants(bundle)
    [three] = _breakpoints(bundle, fusion)
    assert codings(component_value(three, LOINC, "48000-4")) == {(LOINC, "LA21262-3")}
    assert fusion["note"] == [{"text": "5' breakpoint chrUn_gl000220:105424:+"}]


def test_subtype_call_biomarker_and_implication(kb: Knowledge) -> None:
    bundle = convert_one(kb, ph_sample())
    [signature] = by_profile(bundle, f"{IG}/molecular-biomarker")
    assert codings(signature["code"]) == {(ALLFHIR_CS, "expression-subtype-signature")}
    assert signature["valueCodeableConcept"]["text"] == "Ph"
    assert (SUBTYPE_CS, "ph") in codings(signature["valueCodeableConcept"])
    assert component_value(signature, ALLFHIR_CS, "classifier-probability") == {
        "value": 0.932, "system": "http://unitsofmeasure.org", "code": "1"}
    device = deref(bundle, signature["device"])
    assert device["resourceType"] == "Device"
    assert device["deviceName"] == [{"name": "ALLSorts", "type": "user-friendly-name"}]
    assert device["version"] == [{"value": "0.1.0"}]

    [implication] = by_profile(bundle, f"{IG}/diagnostic-implication")
    assert implication["meta"]["profile"][1] == \
        "https://allfhir.org/fhir/StructureDefinition/bcp-all-subtype-implication"
    phenotype = component_value(implication, LOINC, "81259-4")
    assert phenotype["coding"][0] == {"system": SUBTYPE_CS, "code": "ph", "display": "Ph (BCR::ABL1)"}
    assert component_value(implication, ALLFHIR_CS, "classifier-probability")["value"] == 0.932
    [fusion] = fusion_variants(bundle)
    derived = [deref(bundle, r)["id"] for r in implication["derivedFrom"]]
    assert derived == [signature["id"], fusion["id"]]


def test_same_input_gives_byte_identical_output(kb: Knowledge) -> None:
    one = json.dumps(convert_one(kb, ph_sample(), BuildOptions()))
    two = json.dumps(convert_one(kb, ph_sample(), BuildOptions()))
    assert one == two
    other = ph_sample()
    other.sample_id = "S2"
    assert json.loads(json.dumps(convert_one(kb, other)))["id"] != json.loads(one)["id"]


def test_transaction_creates_conditionally_on_stable_identifiers(kb: Knowledge) -> None:
    bundle = convert_one(kb, ph_sample(), BuildOptions(bundle_type="transaction", actionability=False))
    assert bundle["type"] == "transaction"
    for entry in bundle["entry"]:
        res = entry["resource"]
        ident = res["identifier"][0]
        assert entry["request"] == {"method": "POST", "url": res["resourceType"],
                                    "ifNoneExist": f"identifier={ident['system']}|{ident['value']}"}
    report = bundle["entry"][0]["resource"]
    assert report["identifier"][0]["system"] == "https://allfhir.org/fhir/NamingSystem/report-id"
    assert report["identifier"][0]["value"] == "allsorts:S1"


def test_patient_reference_literal_or_identifier(kb: Knowledge) -> None:
    literal = convert_one(kb, ph_sample(), BuildOptions(patient="Patient/123", actionability=False))
    assert literal["entry"][0]["resource"]["subject"] == {"reference": "Patient/123"}
    logical = convert_one(kb, ph_sample(),
                          BuildOptions(patient="urn:oid:1.2.36.146.595.217.0.1|MRN77",
                                       actionability=False))
    for res in resources(logical, "Observation"):
        assert res["subject"] == {"identifier": {"system": "urn:oid:1.2.36.146.595.217.0.1",
                                                 "value": "MRN77"}}


def test_group_call_is_reported_as_the_group(kb: Knowledge) -> None:
    sample = Sample(sample_id="G1", classifier=ALLSORTS,
                    calls=[SubtypeCall(label="Ph Group", label_column="Pred", probability=0.81)])
    bundle = convert_one(kb, sample)
    [implication] = by_profile(bundle, f"{IG}/diagnostic-implication")
    assert component_value(implication, LOINC, "81259-4")["coding"][0]["code"] == "ph-group"
    assert "group-level call" in component_value(implication, TBD, "conclusion-string")


def test_unclassified_is_reported_not_dropped(kb: Knowledge) -> None:
    sample = Sample(sample_id="U1", classifier=ALLSORTS,
                    calls=[SubtypeCall(label="Unclassified", label_column="Pred")])
    bundle = convert_one(kb, sample)
    [implication] = by_profile(bundle, f"{IG}/diagnostic-implication")
    assert component_value(implication, LOINC, "81259-4")["coding"][0]["code"] == "unclassified"
    assert bundle["entry"][0]["resource"]["conclusion"].startswith("ALLSorts 0.1.0 call: Unclassified")


def test_disowned_low_confidence_call_keeps_the_label(kb: Knowledge) -> None:
    sample = Sample(sample_id="L1", classifier=ClassifierRun(classifier_id="allcatchr", name="ALLCatchR"),
                    calls=[SubtypeCall(label="DUX4", label_column="Prediction", probability=0.41,
                                       score_type="score", confidence="unclassified", called=False)])
    bundle = convert_one(kb, sample)
    [implication] = by_profile(bundle, f"{IG}/diagnostic-implication")
    assert component_value(implication, LOINC, "81259-4")["coding"][0]["code"] == "unclassified"
    assert component_value(implication, ALLFHIR_CS, "classifier-score")["value"] == 0.41
    assert component_value(implication, TBD, "conclusion-string") == (
        "ALLCatchR: no subtype assigned (best label 'DUX4' (score 0.41), confidence 'unclassified')")


def test_hotspot_variant_defines_pax5_p80r(kb: Knowledge) -> None:
    variant = SequenceVariant(gene="PAX5", hgvs_c="NM_016734.3:c.239C>G", hgvs_p="NP_057953.1:p.(Pro80Arg)",
                              transcript="NM_016734.3", chromosome="9", position=37015120, ref="G",
                              alt="C", assembly="GRCh37", allele_frequency=0.46, read_depth=212,
                              allele_depth=98, consequences=["missense_variant"])
    sample = Sample(sample_id="P1", classifier=ALLSORTS,
                    calls=[SubtypeCall(label="PAX5 P80R", label_column="Pred", probability=0.88)],
                    variants=[variant])
    bundle = convert_one(kb, sample)
    [obs] = by_profile(bundle, f"{IG}/variant")
    assert codings(component_value(obs, LOINC, "48018-6")) == {(HGNC, "HGNC:8619")}
    assert codings(component_value(obs, LOINC, "48004-6")) == {
        ("http://varnomen.hgvs.org", "NM_016734.3:c.239C>G")}
    assert codings(component_value(obs, LOINC, "48005-3")) == {
        ("http://varnomen.hgvs.org", "NP_057953.1:p.(Pro80Arg)")}
    assert component_value(obs, LOINC, "81258-6")["value"] == 0.46
    assert codings(component_value(obs, LOINC, "48019-4")) == {(SO, "SO:0001483")}  # SNV
    [implication] = by_profile(bundle, f"{IG}/diagnostic-implication")
    assert component_value(implication, LOINC, "81259-4")["coding"][0]["code"] == "pax5-p80r"
    assert f"urn:uuid:{obs['id']}" in [r["reference"] for r in implication["derivedFrom"]]


def test_ploidy_and_deletion_findings(kb: Knowledge) -> None:
    sample = Sample(sample_id="H1", classifier=ALLSORTS,
                    calls=[SubtypeCall(label="High hyperdiploid", label_column="Pred", probability=0.9)],
                    ploidy=Ploidy(chromosome_count=55, iscn="55,XX,+4,+6,+10,+14,+17,+18,+21,+21,+X"),
                    copy_numbers=[CopyNumberChange(change="deletion", gene="IKZF1", chromosome="7")])
    bundle = convert_one(kb, sample)
    variants = by_profile(bundle, f"{IG}/variant")
    assert len(variants) == 2
    ploidy = next(v for v in variants if components(v, ALLFHIR_CS, "chromosome-count"))
    assert component_value(ploidy, ALLFHIR_CS, "chromosome-count")["value"] == 55
    assert component_value(ploidy, LOINC, "81291-7") == {"text": "55,XX,+4,+6,+10,+14,+17,+18,+21,+21,+X"}
    deletion = next(v for v in variants if v is not ploidy)
    assert codings(component_value(deletion, LOINC, "48018-6")) == {(HGNC, "HGNC:13176")}
    assert codings(component_value(deletion, LOINC, "48019-4")) == {(SO, "SO:0001743")}
    [implication] = by_profile(bundle, f"{IG}/diagnostic-implication")
    derived = {r["reference"] for r in implication["derivedFrom"]}
    # the chromosome count defines high hyperdiploidy; the IKZF1 deletion does not
    assert f"urn:uuid:{ploidy['id']}" in derived and f"urn:uuid:{deletion['id']}" not in derived


def test_iamp21_is_a_chromosome_21_gain_that_defines_the_call(kb: Knowledge) -> None:
    sample = Sample(sample_id="I1", classifier=ALLSORTS,
                    calls=[SubtypeCall(label="iAMP21", label_column="Pred", probability=0.88)],
                    ploidy=Ploidy(iamp21=True, iscn="47,XY,+X,iamp(21)"))
    bundle = convert_one(kb, sample)
    [gain] = [v for v in by_profile(bundle, f"{IG}/variant") if components(v, LOINC, "81252-9")]
    assert component_value(gain, LOINC, "81252-9") == {"text": "iAMP21"}
    assert codings(component_value(gain, LOINC, "48019-4")) == {(SO, "SO:0001742")}  # copy_number_gain
    assert codings(component_value(gain, LOINC, "48000-4")) == {(LOINC, "LA21274-8")}  # Chromosome 21
    [implication] = by_profile(bundle, f"{IG}/diagnostic-implication")
    assert component_value(implication, LOINC, "81259-4")["coding"][0]["code"] == "iamp21"
    assert {"reference": f"urn:uuid:{gain['id']}"} in implication["derivedFrom"]


def test_unknown_gene_and_label_point_at_their_source(kb: Knowledge) -> None:
    sample = Sample(sample_id="X1", classifier=ALLSORTS,
                    calls=[SubtypeCall(label="Ph-ish", label_column="Pred",
                                       source=SourceRef(file="p.csv", row=4, column="Pred"))],
                    fusions=[Fusion(gene5="NOTAGENE1", gene3="ABL1",
                                    source=SourceRef(file="f.tsv", row=2, column="gene1"))])
    with pytest.raises(InputError) as err:
        resolve(sample, kb)
    first, second = err.value.problems
    assert (first.file, first.row, first.column) == ("p.csv", 4, "Pred")
    assert first.message.startswith("unknown ALLSorts label 'Ph-ish'; known labels: ")
    assert (second.file, second.row, second.column) == ("f.tsv", 2, "gene1")
    assert second.message.startswith("unknown gene symbol 'NOTAGENE1'")
