"""The integrated call: expression class x defining finding x karyotype -> entity and call basis.

Golden cases: one per state of the call basis and per entity row kind of mappings/entities.csv
(driver `defining` with and without lineage, `alteration:` for the Ph-like sub-entities, `none`),
plus the pitfall row. Each pins the call basis code, the WHO-HAEM5 / ICC names, the report status
and the review Task, and the one sentence a clinician reads.
"""

from __future__ import annotations

import pytest

from allfhir.convert import report
from allfhir.fhir.bundle import BuildOptions
from allfhir.knowledge import Knowledge
from allfhir.model import ClassifierRun, Fusion, Ploidy, Sample, SequenceVariant, SubtypeCall

from .fhir_asserts import Json, by_profile, component_value, components, parse_r4b, resources

IG = "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition"
ALLFHIR = "https://allfhir.org/fhir/CodeSystem/allfhir-codes"
SUBTYPE_CS = "https://allfhir.org/fhir/CodeSystem/bcp-all-subtype"
TBD = "http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/tbd-codes-cs"
LOINC = "http://loinc.org"
ALLSORTS = ClassifierRun(classifier_id="allsorts", name="ALLSorts", version="0.4.0")
ALLCATCHR = ClassifierRun(classifier_id="allcatchr", name="ALLCatchR", version="1.0")
WHO = "(Alaggio et al., Leukemia 2022, doi:10.1038/s41375-022-01620-2)"
ICC = "(Arber et al., Blood 2022, doi:10.1182/blood.2022015850)"
PH_WHO = "B-lymphoblastic leukaemia/lymphoma with BCR::ABL1 fusion"
LIKE_WHO = "B-lymphoblastic leukaemia/lymphoma with BCR::ABL1-like features"
OTHER_WHO = "B-lymphoblastic leukaemia/lymphoma with other defined genetic abnormalities"
REVIEW = "Review by a haematopathologist"


def arriba(gene5: str, gene3: str) -> Fusion:
    return Fusion(gene5=gene5, gene3=gene3, caller="Arriba", junction_reads=12, spanning_reads=5)


P80R = SequenceVariant(gene="PAX5", hgvs_p="NP_057953.1:p.Pro80Arg", consequences=["missense_variant"])


def bundle_of(kb: Knowledge, label: str, classifier: ClassifierRun = ALLSORTS, lineage: str | None = None,
              reviewed: bool = False, **findings: object) -> Json:
    column = "Pred" if classifier is ALLSORTS else "Prediction"
    call = SubtypeCall(label=label, label_column=column, probability=0.9, lineage=lineage,  # type: ignore[arg-type]
                       called=label != "Unclassified")
    sample = Sample(sample_id="S1", classifier=classifier, calls=[call], **findings)  # type: ignore[arg-type]
    bundle = report(sample, kb, BuildOptions(reviewed=reviewed))
    parse_r4b(bundle)
    return bundle


def states(bundle: Json) -> list[tuple[str, str | None, str | None, str | None]]:
    """(phenotype code, call basis, WHO-HAEM5 name, ICC name) per subtype implication."""
    out = []
    for obs in by_profile(bundle, f"{IG}/diagnostic-implication"):
        basis = components(obs, ALLFHIR, "call-basis")
        who = components(obs, ALLFHIR, "who-haem5-entity")
        icc = components(obs, ALLFHIR, "icc-2022-entity")
        out.append((component_value(obs, LOINC, "81259-4")["coding"][0]["code"],
                    basis[0]["valueCodeableConcept"]["coding"][0]["code"] if basis else None,
                    who[0]["valueString"] if who else None, icc[0]["valueString"] if icc else None))
    return out


def sentence(bundle: Json, code: str) -> str:
    obs = next(o for o in by_profile(bundle, f"{IG}/diagnostic-implication")
               if component_value(o, LOINC, "81259-4")["coding"][0]["code"] == code
               and components(o, ALLFHIR, "call-basis"))
    return component_value(obs, TBD, "conclusion-string")


def review_tasks(bundle: Json) -> list[Json]:
    return [t for t in resources(bundle, "Task") if t["code"] == {"text": REVIEW}]


def status(bundle: Json) -> str:
    return resources(bundle, "DiagnosticReport")[0]["status"]


BCR_ABL1_READS = "driver BCR::ABL1 by Arriba (12 split reads, 5 discordant mates)"

GOLDEN = {
    "ph-confirmed": (
        {"label": "Ph", "fusions": [arriba("BCR", "ABL1")]},
        [("ph", "driver-confirmed", PH_WHO, "B-ALL with t(9;22)(q34.1;q11.2)/BCR::ABL1")], "final",
        f"ALLSorts 0.4.0: expression class Ph (BCR::ABL1) ('Ph', probability 0.9). {BCR_ABL1_READS}. "
        f"WHO-HAEM5: {PH_WHO} {WHO}; ICC 2022: B-ALL with t(9;22)(q34.1;q11.2)/BCR::ABL1 {ICC}. "
        "Call basis: driver-confirmed (the expression class and its defining finding agree)."),
    "ph-multilineage": (
        {"label": "Ph-pos", "classifier": ALLCATCHR, "lineage": "multilineage",
         "fusions": [arriba("BCR", "ABL1")]},
        [("ph", "driver-confirmed", PH_WHO,
          "B-ALL with t(9;22)(q34.1;q11.2)/BCR::ABL1 with multilineage involvement")], "final", None),
    "ph-lymphoid": (
        {"label": "Ph-pos", "classifier": ALLCATCHR, "lineage": "lymphoid",
         "fusions": [arriba("BCR", "ABL1")]},
        [("ph", "driver-confirmed", PH_WHO,
          "B-ALL with t(9;22)(q34.1;q11.2)/BCR::ABL1 with lymphoid only involvement")], "final", None),
    "ph-without-fusion": (
        {"label": "Ph"}, [("ph", "expression-only", None, None)], "final",
        "ALLSorts 0.4.0: expression class Ph (BCR::ABL1) ('Ph', probability 0.9). Call basis: "
        "expression-only; the entity is not asserted: no BCR::ABL1 was submitted or detected."),
    "ph-like-abl-class": (
        {"label": "Ph-like", "fusions": [arriba("EBF1", "PDGFRB")]},
        [("ph-like", "driver-confirmed", LIKE_WHO, "B-ALL, BCR::ABL1-like, ABL-1 class rearranged")],
        "final", None),
    "ph-like-jak-stat": (
        {"label": "Ph-like", "fusions": [arriba("PAX5", "JAK2")]},
        [("ph-like", "driver-confirmed", LIKE_WHO, "B-ALL, BCR::ABL1-like, JAK-STAT activated")],
        "final", None),
    "ph-like-nos": (
        {"label": "Ph-like"}, [("ph-like", "expression-only", LIKE_WHO, "B-ALL, BCR::ABL1-like, NOS")],
        "final", None),
    "ph-like-with-bcr-abl1": (
        {"label": "Ph-like", "fusions": [arriba("BCR", "ABL1")]},
        [("ph", "discordant", PH_WHO, "B-ALL with t(9;22)(q34.1;q11.2)/BCR::ABL1")], "preliminary",
        f"ALLSorts 0.4.0: expression class Ph-like (BCR::ABL1-like) ('Ph-like', probability 0.9). "
        f"{BCR_ABL1_READS}. WHO-HAEM5: {PH_WHO} {WHO}; ICC 2022: B-ALL with "
        f"t(9;22)(q34.1;q11.2)/BCR::ABL1 {ICC}. Call basis: discordant (the expression class points "
        "to Ph-like (BCR::ABL1-like), the driver to Ph (BCR::ABL1); reported as Ph (BCR::ABL1)); "
        "review by a haematopathologist."),
    "kmt2a-group-confirmed": (
        {"label": "KMT2A Group", "fusions": [arriba("KMT2A", "AFF1")]},
        [("kmt2a", "driver-confirmed", "B-lymphoblastic leukaemia/lymphoma with KMT2A rearrangement",
          "B-ALL with t(v;11q23.3)/KMT2A rearranged")], "final", None),
    "kmt2a-group-expression-only": (
        {"label": "KMT2A Group"}, [("kmt2a-group", "expression-only", None, None)], "final",
        "ALLSorts 0.4.0: expression class KMT2A-rearranged or KMT2A-like (group) ('KMT2A Group', "
        "probability 0.9). Call basis: expression-only; the entity is not asserted: no fusion of "
        "KMT2A was submitted or detected."),
    "masked-hypodiploidy": (
        {"label": "High hyperdiploid", "ploidy": Ploidy(chromosome_count=27)},
        [("high-hyperdiploid", "discordant", None, None)], "preliminary",
        "ALLSorts 0.4.0: expression class High hyperdiploid ('High hyperdiploid', probability 0.9). "
        "karyotype 27 chromosomes. Call basis: discordant (possible masked hypodiploidy: a doubled "
        "near-haploid clone can look hyperdiploid); review by a haematopathologist."),
    "hyperdiploid-karyotype-class": (
        {"label": "High hyperdiploid", "ploidy": Ploidy(karyotype_class="hyperdiploid")},
        [("high-hyperdiploid", "driver-confirmed", "B-lymphoblastic leukaemia/lymphoma with high "
          "hyperdiploidy", "B-ALL, hyperdiploid")], "final", None),
    "pax5-p80r-with-bcr-abl1": (
        {"label": "PAX5 P80R", "fusions": [arriba("BCR", "ABL1")], "variants": [P80R]},
        [("pax5-p80r", "dual-driver", OTHER_WHO, "B-ALL with mutated PAX5 P80R")], "preliminary",
        f"ALLSorts 0.4.0: expression class PAX5 P80R ('PAX5 P80R', probability 0.9). "
        f"{BCR_ABL1_READS}. SNV PAX5 NP_057953.1:p.Pro80Arg. WHO-HAEM5: {OTHER_WHO} {WHO}; ICC 2022: "
        f"B-ALL with mutated PAX5 P80R {ICC}. Second driver: Ph (BCR::ABL1), WHO-HAEM5: {PH_WHO} "
        f"{WHO}; ICC 2022: B-ALL with t(9;22)(q34.1;q11.2)/BCR::ABL1 {ICC}. Call basis: dual-driver "
        "(PAX5 P80R and Ph (BCR::ABL1) both defined by findings of this sample; both are "
        "reported); review by a haematopathologist."),
    "unclassified-with-etv6-runx1": (
        {"label": "Unclassified", "fusions": [arriba("ETV6", "RUNX1")]},
        [("unclassified", None, None, None),
         ("etv6-runx1", "driver-only", "B-lymphoblastic leukaemia/lymphoma with ETV6::RUNX1 fusion",
          "B-ALL with t(12;21)(p13.2;q22.1)/ETV6::RUNX1")], "final",
        "ALLSorts 0.4.0: no subtype assigned (best label 'Unclassified', probability 0.9). driver "
        "ETV6::RUNX1 by Arriba (12 split reads, 5 discordant mates). WHO-HAEM5: B-lymphoblastic "
        f"leukaemia/lymphoma with ETV6::RUNX1 fusion {WHO}; ICC 2022: B-ALL with "
        f"t(12;21)(p13.2;q22.1)/ETV6::RUNX1 {ICC}. Call basis: driver-only (ETV6::RUNX1 rests on the "
        "defining finding; no expression call supports it)."),
}


@pytest.mark.parametrize("case", sorted(GOLDEN))
def test_golden_case(kb: Knowledge, case: str) -> None:
    inputs, expected, report_status, text = GOLDEN[case]
    inputs = dict(inputs)
    bundle = bundle_of(kb, inputs.pop("label"), **inputs)
    assert states(bundle) == expected
    assert status(bundle) == report_status
    assert len(review_tasks(bundle)) == (1 if report_status == "preliminary" else 0)
    if text:
        assert sentence(bundle, expected[-1][0]) == text


def test_review_task_rests_on_the_implication_and_reviewed_cases_are_final(kb: Knowledge) -> None:
    bundle = bundle_of(kb, "Ph-like", fusions=[arriba("BCR", "ABL1")])
    [task] = review_tasks(bundle)
    [implication] = by_profile(bundle, f"{IG}/diagnostic-implication")
    assert task["reasonReference"] == {"reference": f"urn:uuid:{implication['id']}"}
    assert task["description"] == ("Review by a haematopathologist before sign-out: call basis "
                                   "discordant (the expression class and the driver disagree).")
    reviewed = bundle_of(kb, "Ph-like", fusions=[arriba("BCR", "ABL1")], reviewed=True)
    assert status(reviewed) == "final"


def test_discordant_bcr_abl1_is_treated_as_ph(kb: Knowledge) -> None:
    # the report states BCR::ABL1-positive disease: its TKIs apply at level A, resting on the fusion
    bundle = bundle_of(kb, "Ph-like", fusions=[arriba("BCR", "ABL1")])
    agents = sorted(component_value(o, LOINC, "51963-7")["text"]
                    for o in by_profile(bundle, f"{IG}/therapeutic-implication"))
    assert agents == ["dasatinib", "imatinib", "ponatinib"]


def test_entity_not_asserted_keeps_only_our_code(kb: Knowledge) -> None:
    [obs] = by_profile(bundle_of(kb, "Ph"), f"{IG}/diagnostic-implication")
    assert component_value(obs, LOINC, "81259-4") == {
        "coding": [{"system": SUBTYPE_CS, "code": "ph", "display": "Ph (BCR::ABL1)"}],
        "text": "Ph (BCR::ABL1)"}
    assert "note" not in obs  # the review's outcome statement belongs to an asserted entity


def test_a_driver_another_call_names_is_not_a_discordance(kb: Knowledge) -> None:
    call = [SubtypeCall(label=lab, label_column="Pred", probability=0.5)
            for lab in ("High hyperdiploid", "ETV6-RUNX1")]
    sample = Sample(sample_id="S1", classifier=ALLSORTS, calls=call, fusions=[arriba("ETV6", "RUNX1")])
    bundle = report(sample, kb, BuildOptions())
    assert [s[:2] for s in states(bundle)] == [("high-hyperdiploid", "expression-only"),
                                                ("etv6-runx1", "driver-confirmed")]
    assert review_tasks(bundle) == [] and status(bundle) == "final"


def _row_sample(kb: Knowledge, row: dict[str, str]) -> dict[str, object]:
    """The finding that satisfies one entities.csv row, built from the subtype's definition."""
    st = kb.subtypes[row["subtype_id"]]
    driver = row["driver"]
    if driver == "none":
        return {}
    if driver.startswith("alteration:"):
        alteration = kb.alterations[driver.split(":", 1)[1]]
        if alteration.kind == "mutation":
            return {"variants": [SequenceVariant(gene=alteration.genes[0], hgvs_p="NP_004963.1:p.Arg683Gly",
                                                 consequences=["missense_variant"])]}
        return {"fusions": [arriba("TNIP1", alteration.genes[0])]}
    if st.defining_fusions:
        gene5, gene3 = st.defining_fusions[0].split("::")
        return {"fusions": [arriba(gene5, gene3)]}
    if st.defining_genes:
        return {"fusions": [arriba(st.defining_genes[0], "LSM14A")]}
    if st.defining_variants:
        gene, change = st.defining_variants[0].split(":")
        return {"variants": [SequenceVariant(gene=gene, hgvs_p=f"NP_000000.1:{change}",
                                             consequences=["missense_variant"])]}
    token = st.defining_cytogenetics[0]
    if token == "iAMP21":
        return {"ploidy": Ploidy(iamp21=True)}
    low = int(token.split(":", 1)[1].split("-")[0])
    return {"ploidy": Ploidy(chromosome_count=low)}


def _entity_rows() -> list[dict[str, str]]:
    import csv

    from .conftest import REPO

    with open(REPO / "mappings" / "entities.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("row", _entity_rows(),
                         ids=lambda r: f"{r['subtype_id']}:{r['driver']}:{r['lineage'] or 'any'}")
def test_every_entity_row_is_reached_by_its_own_finding(kb: Knowledge, row: dict[str, str]) -> None:
    generic = ClassifierRun(classifier_id="generic", name="generic")
    bundle = bundle_of(kb, row["subtype_id"], classifier=generic, lineage=row["lineage"] or None,
                       **_row_sample(kb, row))
    basis = "expression-only" if row["driver"] == "none" else "driver-confirmed"
    assert states(bundle) == [(row["subtype_id"], basis, row["who_haem5"] or None,
                               row["icc_2022"] or None)]
