"""The subject operations of the Genomics Reporting IG on BCP-ALL results stored through
`$convert` (tests/genomics/conftest.py), with the IG's example requests (CGOpsRequests.fsh)
adapted: the exact Parameters, read back against the stored Observations."""

from __future__ import annotations

import pytest

from tests.genomics.conftest import ARRIBA, Stored, _convert

# Observation ids as the pipeline makes them (stable: derived from the findings)
A_BCR, A_ABL1 = "a785d272-7663-5594-88b8-f0377cd2b598", "f961c4f1-7857-5d69-b0f7-f6fa78ca7a25"
A_FUSION, A_IKZF1 = "f3562a3c-7ec6-5d15-884e-db93bf59f529", "c2e4bad1-9cf5-5e25-ae59-03c5585f2971"
A_DX = "dea30412-153f-5cc1-a303-c408612a58af"
A_IMATINIB, A_DASATINIB, A_PONATINIB = ("8f7108ed-1e0b-5d7f-9322-b31aff2ab7bf",
                                        "dfb52707-143c-5d8e-8014-36f1eb546e2f",
                                        "27d632cc-517a-5953-8cca-ddb5f269398a")
B_PAX5, B_DX = "e3c45b73-0a43-5787-9724-7da84f81142c", "a71d66ab-9137-576d-8b8a-d51c92d04d3d"
D_IAMP21 = "54adddb7-00f4-55a5-999e-d1ab9f8d360b"
SUBTYPE = "https://allfhir.org/fhir/CodeSystem/bcp-all-subtype"
NCIT = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
# GRCh38 regions: BCR (chr22) and IKZF1 (chr7), RUNX1 (chr21); the IG example's ERBB2 region
BCR_RANGE, IKZF1_RANGE = "NC_000022.11:23180000-23320000", "NC_000007.14:50300000-50400000"
INSIDE_IKZF1_DEL, RUNX1_RANGE = "NC_000007.14:50310000-50320000", "NC_000021.9:34787800-36004667"
IG_EXAMPLE_RANGE = "NC_000017.11:39688093-39728660"


def ok(r) -> dict:
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.content_type == "application/fhir+json; charset=utf-8"
    return r.get_json()


def obs(s: Stored, *ids: str) -> list[dict]:
    return [s.read(f"Observation/{i}") for i in ids]


def item(kind: str, text: str, found: list[dict] | None, include: bool = True) -> dict:
    parts = [{"name": kind, "valueString": text}, {"name": "presence", "valueBoolean": bool(found)}]
    if include:
        parts += [{"name": "variant", "resource": v} for v in found or []]
    return {"name": "variants", "part": parts}


def test_specific_variants_by_coding_protein_and_spdi_only_of_the_subject(stored: Stored) -> None:
    asked = ["NM_016734.3:c.239C>G", "NP_057953.1:p.Pro80Arg", "NM_000038.6:c.55G>T",
             "NC_000009.12:37015164:G:C"]  # the IG example's APC variant is absent here
    got = ok(stored.get("/fhir/$find-subject-specific-variants", subject="Patient/B",
                        variants=",".join(asked)))
    pax5 = obs(stored, B_PAX5)
    assert got == {"resourceType": "Parameters", "parameter": [
        item("variantItem", asked[0], pax5), item("variantItem", asked[1], pax5),
        item("variantItem", asked[2], []), item("variantItem", asked[3], pax5)]}
    # the same variants asked of another subject: nothing of Patient/B
    other = ok(stored.get("/fhir/$find-subject-specific-variants", subject="Patient/A",
                          variants=asked[0]))
    assert other == {"resourceType": "Parameters", "parameter": [item("variantItem", asked[0], [])]}


def test_post_parameters_answers_as_get(stored: Stored) -> None:
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "subject", "valueString": "Patient/B"},
        {"name": "variants", "valueString": "NP_057953.1:p.Pro80Arg"},
        {"name": "genomicSourceClass", "valueString": "somatic"}]}
    posted = ok(stored.post("/fhir/$find-subject-specific-variants", body))
    assert posted == ok(stored.get("/fhir/$find-subject-specific-variants", subject="Patient/B",
                                   variants="NP_057953.1:p.Pro80Arg"))
    body["parameter"][2]["valueString"] = "germline"  # no germline variant is stored
    assert ok(stored.post("/fhir/$find-subject-specific-variants", body))["parameter"] == [
        item("variantItem", "NP_057953.1:p.Pro80Arg", [])]


def test_reference_implementation_path_answers_the_same(stored: Stored) -> None:
    args = {"subject": "Patient/B", "variants": "NP_057953.1:p.Pro80Arg"}
    assert ok(stored.get("/subject-operations/genotype-operations/$find-subject-specific-variants",
                         **args)) == ok(stored.get("/fhir/$find-subject-specific-variants", **args))


def test_structural_intersecting_finds_fusions_by_breakpoint_and_deletions_by_region(
        stored: Stored) -> None:
    got = ok(stored.get("/fhir/$find-subject-structural-intersecting-variants", subject="Patient/A",
                        ranges=f"{BCR_RANGE},{IKZF1_RANGE},{IG_EXAMPLE_RANGE},"
                               "NC_000022.10:23180000-23320000", includeVariants="true"))
    assert got == {"resourceType": "Parameters", "parameter": [
        item("rangeItem", BCR_RANGE, obs(stored, A_BCR, A_FUSION)),
        item("rangeItem", IKZF1_RANGE, obs(stored, A_IKZF1)),
        item("rangeItem", IG_EXAMPLE_RANGE, []),
        item("rangeItem", "NC_000022.10:23180000-23320000", [])]}  # GRCh37: another assembly
    # without includeVariants: presence only
    bare = ok(stored.get("/fhir/$find-subject-structural-intersecting-variants",
                         subject="Patient/A", ranges=BCR_RANGE))
    assert bare["parameter"] == [item("rangeItem", BCR_RANGE, [1], include=False)]  # type: ignore[list-item]


def test_breakpoints_without_an_assembly_are_not_placed(stored: Stored) -> None:
    # Patient/C's BCR::ABL1 came from Arriba, which names no assembly
    got = ok(stored.get("/fhir/$find-subject-structural-intersecting-variants", subject="Patient/C",
                        ranges="NC_000022.11:23600000-23700000"))
    assert got["parameter"] == [item("rangeItem", "NC_000022.11:23600000-23700000", [],
                                     include=False)]


def test_breakpoints_of_a_conversion_given_the_assembly_are_placed(stored: Stored) -> None:
    # a sample of its own: SJBALL043684 is stored for Patient/C, and one sample reported for two
    # patients is refused (409); the single sample takes the Arriba file, which names none
    calls = b",Prediction\nE-43684,Ph\n"
    _convert(stored.api, "Patient/E", [("calls.csv", calls), (ARRIBA.name, ARRIBA.read_bytes())],
             assembly="GRCh38")
    # Arriba's BCR breakpoint 22:23632600 and ABL1 breakpoint 9:133729451 (1-based, GRCh38)
    got = ok(stored.get("/fhir/$find-subject-structural-intersecting-variants", subject="Patient/E",
                        ranges="NC_000022.11:23632599-23632600,NC_000022.11:23632600-23632700,"
                               "NC_000009.12:133729450-133729451", includeVariants="true"))
    def variation(obs: dict) -> str:  # its variation-code (81252-9) text
        return next(c["valueCodeableConcept"]["text"] for c in obs["component"]
                    if c["code"]["coding"][0]["code"] == "81252-9")

    presence = [(p["part"][0]["valueString"], p["part"][1]["valueBoolean"],
                 [variation(q["resource"]) for q in p["part"][2:]]) for p in got["parameter"]]
    assert presence == [
        ("NC_000022.11:23632599-23632600", True, ["BCR::ABL1 fusion 5' breakpoint 22:23632600",
                                                   "BCR::ABL1 fusion"]),
        ("NC_000022.11:23632600-23632700", False, []),
        ("NC_000009.12:133729450-133729451", True, ["BCR::ABL1 fusion 3' breakpoint 9:133729451",
                                                     "BCR::ABL1 fusion"])]
    bad = stored.api.client.post("/fhir/$convert", data=calls, content_type="text/csv",
                                 query_string={"assembly": "hg19"}, headers=stored.api.auth("writer"))
    assert bad.status_code == 400
    assert bad.get_json()["issue"][0]["diagnostics"] == "assembly 'hg19' is not GRCh37 or GRCh38"


def test_structural_subsuming_needs_the_whole_change_inside(stored: Stored) -> None:
    got = ok(stored.get("/fhir/$find-subject-structural-subsuming-variants", subject="Patient/A",
                        ranges=f"{IKZF1_RANGE},{INSIDE_IKZF1_DEL},{BCR_RANGE}",
                        includeVariants="true"))
    assert got["parameter"] == [
        item("rangeItem", IKZF1_RANGE, obs(stored, A_IKZF1)),
        item("rangeItem", INSIDE_IKZF1_DEL, []),
        # the BCR breakpoint is inside, the fusion is not (its ABL1 breakpoint is on chr9)
        item("rangeItem", BCR_RANGE, obs(stored, A_BCR))]


def test_iamp21_is_a_chromosome_21_change(stored: Stored) -> None:
    got = ok(stored.get("/fhir/$find-subject-structural-intersecting-variants", subject="Patient/D",
                        ranges=f"{RUNX1_RANGE},{BCR_RANGE}", includeVariants="true"))
    assert got["parameter"] == [item("rangeItem", RUNX1_RANGE, obs(stored, D_IAMP21)),
                                item("rangeItem", BCR_RANGE, [])]
    whole = ok(stored.get("/fhir/$find-subject-structural-subsuming-variants", subject="Patient/D",
                          ranges=f"{RUNX1_RANGE},NC_000021.9:0-46709983"))
    assert [p["part"][1]["valueBoolean"] for p in whole["parameter"]] == [False, True]


def test_subject_variants_covers_small_and_structural(stored: Stored) -> None:
    pax5 = "NC_000009.12:37015000-37015200"
    got = ok(stored.get("/fhir/$find-subject-variants", subject="Patient/B", ranges=pax5,
                        includeVariants="true"))
    assert got["parameter"] == [item("rangeItem", pax5, obs(stored, B_PAX5))]
    structural = ok(stored.get("/fhir/$find-subject-structural-intersecting-variants",
                               subject="Patient/B", ranges=pax5))
    assert structural["parameter"] == [item("rangeItem", pax5, [], include=False)]


@pytest.mark.parametrize("condition", [f"{SUBTYPE}|ph", f"{NCIT}|C80331", f"{ICDO3}|9812/3",
                                       "http://data.mskcc.org/ontologies/oncotree|BLLBCRABL1"])
def test_dx_implications_by_subtype_or_mapped_code(stored: Stored, condition: str) -> None:
    got = ok(stored.get("/fhir/$find-subject-dx-implications", subject="Patient/A",
                        conditions=condition))
    assert got == {"resourceType": "Parameters", "parameter": [
        *({"name": "implication", "resource": r} for r in obs(stored, A_DX)),
        *({"name": "variant", "resource": r} for r in obs(stored, A_FUSION))]}


def test_dx_implications_of_another_subtype_or_variant_are_none(stored: Stored) -> None:
    assert ok(stored.get("/fhir/$find-subject-dx-implications", subject="Patient/A",
                         conditions=f"{SUBTYPE}|high-hyperdiploid")) == {"resourceType": "Parameters"}
    by_variant = ok(stored.get("/fhir/$find-subject-dx-implications", subject="Patient/B",
                               variants="NP_057953.1:p.Pro80Arg"))
    assert by_variant["parameter"] == [{"name": "implication", "resource": obs(stored, B_DX)[0]},
                                       {"name": "variant", "resource": obs(stored, B_PAX5)[0]}]
    by_range = ok(stored.get("/fhir/$find-subject-dx-implications", subject="Patient/A",
                             ranges=BCR_RANGE))
    assert [p["resource"]["id"] for p in by_range["parameter"]] == [A_DX, A_FUSION]


def test_tx_implications_by_rxnorm_treatment_and_condition(stored: Stored) -> None:
    got = ok(stored.get("/fhir/$find-subject-tx-implications", subject="Patient/A",
                        treatments=f"{RXNORM}|282388"))
    assert got == {"resourceType": "Parameters", "parameter": [
        {"name": "implication", "resource": obs(stored, A_IMATINIB)[0]},
        {"name": "variant", "resource": obs(stored, A_FUSION)[0]}]}
    every = ok(stored.get("/fhir/$find-subject-tx-implications", subject="Patient/A",
                          conditions=f"{NCIT}|C80331"))
    assert sorted(p["resource"]["id"] for p in every["parameter"] if p["name"] == "implication") == \
        sorted([A_IMATINIB, A_DASATINIB, A_PONATINIB])
    assert [p["resource"]["id"] for p in every["parameter"] if p["name"] == "variant"] == [A_FUSION]
    # haplotypes are never stored: no implication rests on one
    assert ok(stored.get("/fhir/$find-subject-tx-implications", subject="Patient/A",
                         haplotypes="HLA-A*23")) == {"resourceType": "Parameters"}


def test_study_metadata_lists_the_subjects_tests_and_filters_them(stored: Stored) -> None:
    reports = {r["identifier"][0]["value"]: r for r in (
        e["resource"] for e in stored.get("/fhir/DiagnosticReport", subject="Patient/C")
        .get_json()["entry"])}
    got = ok(stored.get("/fhir/$find-study-metadata", subject="Patient/C"))
    assert sorted(p["part"][0]["valueString"] for p in got["parameter"]) == sorted(reports) == [
        "allsorts:SJALL015972", "allsorts:SJBALL014030", "allsorts:SJBALL043684"]
    first = next(p for p in got["parameter"] if p["part"][0]["valueString"] == "allsorts:SJBALL043684")
    assert first["part"] == [
        {"name": "testId", "valueString": "allsorts:SJBALL043684"},
        {"name": "testDate", "valueDateTime": reports["allsorts:SJBALL043684"]["meta"]["lastUpdated"]},
        {"name": "specimenId", "valueString": "SJBALL043684"}]
    one = ok(stored.get("/fhir/$find-study-metadata", subject="Patient/C",
                        specimenIdentifiers="SJALL015972"))
    assert [p["part"][0]["valueString"] for p in one["parameter"]] == ["allsorts:SJALL015972"]
    assert ok(stored.get("/fhir/$find-study-metadata", subject="Patient/C",
                         testDateRange="le2000-01-01")) == {"resourceType": "Parameters"}
    build = ok(stored.get("/fhir/$find-study-metadata", subject="Patient/A"))
    assert build["parameter"][0]["part"][3] == {"name": "genomicBuild", "valueCodeableConcept": {
        "coding": [{"system": "http://loinc.org", "code": "LA26806-2", "display": "GRCh38"}]}}


def test_test_filters_narrow_the_results(stored: Stored) -> None:
    args = {"subject": "Patient/A", "conditions": f"{SUBTYPE}|ph"}
    assert ok(stored.get("/fhir/$find-subject-dx-implications", testIdentifiers="allsorts:PT11_D",
                         **args))["parameter"][0]["resource"]["id"] == A_DX
    assert ok(stored.get("/fhir/$find-subject-dx-implications", testIdentifiers="allsorts:OTHER",
                         **args)) == {"resourceType": "Parameters"}
    assert ok(stored.get("/fhir/$find-subject-dx-implications", specimenIdentifiers="SJX1",
                         **args)) == {"resourceType": "Parameters"}


def test_test_date_range_as_a_period_in_a_parameters_body(stored: Stored) -> None:
    def asked(period: dict) -> dict:
        return ok(stored.post("/fhir/$find-study-metadata", {"resourceType": "Parameters", "parameter": [
            {"name": "subject", "valueString": "Patient/B"},
            {"name": "testDateRange", "valuePeriod": period}]}))

    assert [p["part"][0]["valueString"] for p in asked({"start": "2000-01-01"})["parameter"]] == [
        "allsorts:ALL-001"]
    assert asked({"end": "2000-01-01"}) == {"resourceType": "Parameters"}
