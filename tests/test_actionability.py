"""Actionability: every recommendation rests on evidence that is in the sample, worded and coded
as strongly as that evidence and no more.

One test (or parametrised group) per rule of mappings/ACTIONABILITY.md, each on both sides: the
finding that makes the rule apply, and the near miss that must not. Expected codes are written
out by hand from mappings/, so a change of any RxNorm code, evidence level, answer code or NCT id
shows up here.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path

import pytest

from allfhir.actionability import assess, frame_class, trial_fit
from allfhir.cli import main
from allfhir.convert import report
from allfhir.fhir.bundle import BuildOptions
from allfhir.knowledge import Knowledge, Ploidy
from allfhir.model import ClassifierRun, Fusion, Sample, SequenceVariant, SubtypeCall
from allfhir.resolve import resolve

from .fhir_asserts import (
    Json,
    assert_internal_refs_resolve,
    by_profile,
    component_value,
    components,
    parse_r4b,
    resources,
)
from .fhir_asserts import resolve as deref

LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
NCIT = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"
NCT = "http://clinicaltrials.gov"
TBD = "http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/tbd-codes-cs"
ALLFHIR = "https://allfhir.org/fhir/CodeSystem/allfhir-codes"
IG = "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition"
SUBTYPE_CS = "https://allfhir.org/fhir/CodeSystem/bcp-all-subtype"
THERAPEUTIC = f"{IG}/therapeutic-implication"
MEDICATION_TASK = f"{IG}/medication-recommendation"
FOLLOWUP_TASK = f"{IG}/followup-recommendation"
RESPONSIVE = "LA6677-4"
PRESUMED_RESPONSIVE = "LA9661-5"
CONSIDER_MEDICATION = {"system": LOINC, "code": "LA26421-0", "display": "Consider alternative medication"}
CONFIRMATORY_TESTING = {"system": LOINC, "code": "LA14021-2", "display": "Confirmatory testing recommended"}
NO_ACTIONABLE = (" No actionable finding: no agent, clinical trial or follow-up test in the allfhir "
                 "knowledge base applies to these results.")
REVIEW = ("Li J et al. Emerging molecular subtypes and therapeutic targets in B-cell precursor acute "
          "lymphoblastic leukemia. Front Med 2021, 15(3):347-371 (DOI and PMID not confirmed against "
          "a stored page)")

ALLSORTS = ClassifierRun(classifier_id="allsorts", name="ALLSorts", version="0.4.0")
ALLCATCHR = ClassifierRun(classifier_id="allcatchr", name="ALLCatchR", version="1.0")


def sample(*labels: str, classifier: ClassifierRun = ALLSORTS, fusions: tuple[Fusion, ...] = (),
           variants: tuple[SequenceVariant, ...] = (), ploidy: Ploidy | None = None) -> Sample:
    column = "Pred" if classifier is ALLSORTS else "Prediction"
    return Sample(sample_id="S1", classifier=classifier,
                  calls=[SubtypeCall(label=lab, label_column=column, probability=0.9) for lab in labels],
                  fusions=list(fusions), variants=list(variants), ploidy=ploidy)


def convert(kb: Knowledge, *labels: str, opts: BuildOptions | None = None, **findings: object) -> Json:
    bundle = report(sample(*labels, **findings), kb, opts or BuildOptions())  # type: ignore[arg-type]
    parse_r4b(bundle)
    assert_internal_refs_resolve(bundle)
    return bundle


def fusion(gene5: str, gene3: str, frame: str | None = None) -> Fusion:
    return Fusion(gene5=gene5, gene3=gene3, caller="Arriba", reading_frame=frame)


def jak2(change: str = "p.Arg683Gly", consequence: str = "missense_variant",
         origin: str = "somatic") -> SequenceVariant:
    return SequenceVariant(gene="JAK2", hgvs_p=f"NP_004963.1:{change}", consequences=[consequence],
                           origin=origin)  # type: ignore[arg-type]


Row = tuple[str | None, tuple[tuple[str, str], ...], str, str | None]


def summary(bundle: Json) -> list[Row]:
    """(agent text, agent codings, evidence levels, answer code) per therapeutic implication."""
    out: list[Row] = []
    for obs in by_profile(bundle, THERAPEUTIC):
        med = components(obs, LOINC, "51963-7")
        agent = med[0]["valueCodeableConcept"] if med else {}
        answer = components(obs, TBD, "therapeutic-implication")
        out.append((
            agent.get("text"),
            tuple((c["system"], c["code"]) for c in agent.get("coding", [])),
            "".join(c["valueCodeableConcept"]["text"].removeprefix("AMP/ASCO/CAP 2017: level ")
                    for c in components(obs, LOINC, "93044-6")),
            answer[0]["valueCodeableConcept"]["coding"][0]["code"] if answer else None,
        ))
    return sorted(out, key=str)


def tasks(bundle: Json, profile: str) -> list[Json]:
    return by_profile(bundle, profile)


def conclusion(bundle: Json) -> str:
    return resources(bundle, "DiagnosticReport")[0]["conclusion"]


IMATINIB = ("imatinib", ((RXNORM, "282388"), (NCIT, "C62035")))
DASATINIB = ("dasatinib", ((RXNORM, "475342"),))
PONATINIB = ("ponatinib", ((RXNORM, "1364347"),))
RUXOLITINIB = ("ruxolitinib", ((RXNORM, "1193326"),))
VENETOCLAX = ("venetoclax", ((RXNORM, "1747556"),))
GILTERITINIB = ("gilteritinib", ((RXNORM, "2105806"),))
REVUMENIB = ("revumenib", ((RXNORM, "2698325"),))
PALBOCICLIB = ("palbociclib", ((RXNORM, "1601374"),))
PANOBINOSTAT = ("panobinostat", ((RXNORM, "1603350"),))
VORINOSTAT = ("vorinostat", ((RXNORM, "194337"),))
PINOMETOSTAT = ("pinometostat", ())
THZ1 = ("THZ1", ())
BET = ("BET bromodomain inhibitor", ())
TKI = ("tyrosine kinase inhibitor", ())
BCR_BCL6 = ("BCR-signalling / BCL6 inhibitor", ())


def row(agent: tuple[str, tuple[tuple[str, str], ...]], level: str) -> Row:
    answer = RESPONSIVE if level in ("A", "B") else PRESUMED_RESPONSIVE
    return (agent[0], agent[1], level, answer)


# --- 1. TKIs only on a detected BCR::ABL1 ---------------------------------------------------------

PH_TKIS = [row(DASATINIB, "A"), row(IMATINIB, "A"), row(PONATINIB, "A")]


@pytest.mark.parametrize(("label", "classifier"), [("Ph", ALLSORTS), ("Ph-pos", ALLCATCHR)])
def test_expression_only_ph_gets_a_confirmatory_test_not_a_tki(
        kb: Knowledge, label: str, classifier: ClassifierRun) -> None:
    bundle = convert(kb, label, classifier=classifier)
    assert summary(bundle) == []
    assert tasks(bundle, MEDICATION_TASK) == [] and resources(bundle, "MedicationStatement") == []
    [followup] = tasks(bundle, FOLLOWUP_TASK)
    assert followup["code"] == {"coding": [CONFIRMATORY_TESTING],
                                "text": "Confirm: BCR::ABL1 by RT-PCR or FISH (or an RNA-seq fusion call)"}
    assert followup["description"] == (
        "Ph (BCR::ABL1): no confirming finding (BCR::ABL1) in the submitted data; the call is "
        "unconfirmed and no therapy is recommended on it. Test: BCR::ABL1 by RT-PCR or FISH (or an "
        "RNA-seq fusion call). Once positive: imatinib (level A), dasatinib (level A), ponatinib "
        "(level A).")
    # the follow-up rests on the subtype call it would confirm
    [diagnostic] = by_profile(bundle, f"{IG}/diagnostic-implication")
    assert followup["reasonReference"] == {"reference": f"urn:uuid:{diagnostic['id']}"}
    assert "the call is unconfirmed" in conclusion(bundle)
    report_actions = [e["valueReference"] for e in resources(bundle, "DiagnosticReport")[0]["extension"]]
    assert report_actions == [{"reference": f"urn:uuid:{followup['id']}"}]


def test_ph_with_detected_bcr_abl1_gets_level_a_tkis_resting_on_the_fusion(kb: Knowledge) -> None:
    bundle = convert(kb, "Ph", fusions=(fusion("BCR", "ABL1"),))
    assert summary(bundle) == PH_TKIS
    assert tasks(bundle, FOLLOWUP_TASK) == []
    [variant] = by_profile(bundle, f"{IG}/variant")
    [biomarker] = by_profile(bundle, f"{IG}/molecular-biomarker")
    for obs in by_profile(bundle, THERAPEUTIC):
        # the IG points a therapeutic implication at what supports it, not at our diagnosis
        assert obs["derivedFrom"] == [{"reference": f"urn:uuid:{variant['id']}"},
                                      {"reference": f"urn:uuid:{biomarker['id']}"}]
    assert len(tasks(bundle, MEDICATION_TASK)) == 3
    assert conclusion(bundle).endswith(
        "Standard of care: imatinib (level A), dasatinib (level A), ponatinib (level A).")


def test_reciprocal_abl1_bcr_does_not_confirm_ph(kb: Knowledge) -> None:
    bundle = convert(kb, "Ph", fusions=(fusion("ABL1", "BCR"),))
    assert summary(bundle) == [] and len(tasks(bundle, FOLLOWUP_TASK)) == 1


def test_medication_task_has_the_igs_code_and_focus(kb: Knowledge) -> None:
    bundle = convert(kb, "Ph", fusions=(fusion("BCR", "ABL1"),), opts=BuildOptions(patient="Patient/7"))
    task = next(t for t in tasks(bundle, MEDICATION_TASK) if t["description"].startswith("Consider imatinib"))
    assert task["code"] == {"coding": [CONSIDER_MEDICATION]}
    statement = deref(bundle, task["focus"])
    assert statement["resourceType"] == "MedicationStatement"
    assert statement["status"] == "intended" and statement["subject"] == {"reference": "Patient/7"}
    assert statement["medicationCodeableConcept"] == {
        "coding": [{"system": RXNORM, "code": "282388", "display": "imatinib"},
                   {"system": NCIT, "code": "C62035", "display": "imatinib"}], "text": "imatinib"}
    implication = deref(bundle, task["reasonReference"])
    assert THERAPEUTIC in implication["meta"]["profile"]
    assert statement["reasonReference"] == [task["reasonReference"]]
    assert task["description"] == (
        "Consider imatinib: Ph (BCR::ABL1): imatinib, standard of care (AMP/ASCO/CAP 2017 level A); "
        "with multi-agent chemotherapy in Ph+ disease (review) [rules ph-imatinib].")


# --- 2. Alteration conditions: orientation, frame, origin, consequence, context --------------------

ABL_CLASS = [row(DASATINIB, "C"), row(IMATINIB, "C"), row(PONATINIB, "C")]


@pytest.mark.parametrize(("found", "expected"), [
    (fusion("EBF1", "PDGFRB"), ABL_CLASS),
    (fusion("EBF1", "PDGFRB", "in-frame"), ABL_CLASS),
    (fusion("ETV6", "ABL1", "INFRAME"), ABL_CLASS),  # STAR-Fusion's wording
    (fusion("PAX5", "JAK2"), [row(RUXOLITINIB, "C")]),
    (fusion("IGH", "EPOR"), [row(RUXOLITINIB, "C")]),
    (fusion("EPOR", "IGH"), [row(RUXOLITINIB, "C")]),  # enhancer hijack: either orientation
    # the near misses: kinase as 5' partner, out of frame, stop codon, the reciprocal of BCR::ABL1
    (fusion("PDGFRB", "EBF1"), []),
    (fusion("EBF1", "PDGFRB", "out-of-frame"), []),
    (fusion("ETV6", "ABL1", "FRAMESHIFT"), []),
    (fusion("ETV6", "ABL1", "stop-codon"), []),
    (fusion("JAK2", "PAX5"), []),
    (fusion("ABL1", "BCR"), []),
], ids=lambda v: f"{v.gene5}::{v.gene3}:{v.reading_frame}" if isinstance(v, Fusion) else None)
def test_kinase_fusion_rules_need_the_kinase_3prime_and_in_frame(
        kb: Knowledge, found: Fusion, expected: list[Row]) -> None:
    bundle = convert(kb, "Ph-like", fusions=(found,))
    kinase_agents = {"imatinib", "dasatinib", "ponatinib", "ruxolitinib"}
    assert [r for r in summary(bundle) if r[0] in kinase_agents] == expected
    [variant] = by_profile(bundle, f"{IG}/variant")
    for obs in by_profile(bundle, THERAPEUTIC):
        if component_value(obs, LOINC, "51963-7")["text"] in kinase_agents:
            assert {"reference": f"urn:uuid:{variant['id']}"} in obs["derivedFrom"]


def test_frame_words_of_the_callers() -> None:
    assert [frame_class(w) for w in ("in-frame", "INFRAME", "out-of-frame", "FRAMESHIFT",
                                     "stop-codon", ".", None, "CDS(truncated)/UTR")] == [
        "in-frame", "in-frame", "out-of-frame", "out-of-frame", "out-of-frame", "unknown",
        "unknown", "unknown"]


@pytest.mark.parametrize(("labels", "variant", "expected"), [
    (("Ph-like",), jak2(), [row(RUXOLITINIB, "C")]),
    (("Ph-like",), jak2(consequence="inframe_deletion"), [row(RUXOLITINIB, "C")]),
    # germline, synonymous, intronic / UTR: never an activating mutation
    (("Ph-like",), jak2(origin="germline"), []),
    (("Ph-like",), jak2("p.Ser547=", "synonymous_variant"), []),
    (("Ph-like",), jak2("p.?", "intron_variant"), []),
    (("Ph-like",), jak2("p.?", "3_prime_UTR_variant"), []),
    # the issue's case: a germline synonymous JAK2 variant in high-hyperdiploid ALL
    (("High hyperdiploid",), jak2("p.Ser547=", "synonymous_variant", "germline"), []),
    # a somatic missense JAK2 variant outside the Ph-like context
    (("High hyperdiploid",), jak2(), []),
], ids=["missense", "inframe", "germline", "synonymous", "intronic", "utr", "issue-case",
        "no-context"])
def test_jak_mutation_rule_needs_somatic_activating_variant_in_ph_like(
        kb: Knowledge, labels: tuple[str, ...], variant: SequenceVariant, expected: list[Row]) -> None:
    bundle = convert(kb, *labels, variants=(variant,))
    assert [r for r in summary(bundle) if r[0] == "ruxolitinib"] == expected


# --- 3. Evidence level decides answer code, Task and wording ---------------------------------------

def test_preclinical_pairings_are_presumed_responsive_with_no_medication_task(kb: Knowledge) -> None:
    bundle = convert(kb, "BCL2/MYC", fusions=(fusion("IGH", "MYC"),))
    assert summary(bundle) == [row(THZ1, "D"), row(VENETOCLAX, "D")]
    assert tasks(bundle, MEDICATION_TASK) == []
    assert conclusion(bundle).endswith(
        "Preclinical evidence only, not treatment recommendations: venetoclax (level D), THZ1 "
        "(level D). Trials listed as evidence only (not enrolling, or registry record incomplete): "
        "NCT03181126, NCT03319901, NCT03504644, NCT03808610, NCT03826992, NCT04029688.")
    thz1 = next(o for o in by_profile(bundle, THERAPEUTIC)
                if component_value(o, LOINC, "51963-7") == {"text": "THZ1"})
    assert component_value(thz1, TBD, "conclusion-string") == (
        "BCL2/MYC-rearranged: THZ1, preclinical evidence only; not a treatment recommendation "
        "(AMP/ASCO/CAP 2017 level D); CDK7 inhibitor tool compound; preclinical only "
        "[rules bcl2-myc-thz1].")


def test_level_c_gets_a_task_only_for_an_agent_a_clinician_can_obtain(kb: Knowledge) -> None:
    # ruxolitinib is approved (in another disease): level C allows a Task
    approved = convert(kb, "Ph-like", fusions=(fusion("PAX5", "JAK2"),))
    assert [t["description"].split(":")[0] for t in tasks(approved, MEDICATION_TASK)] == [
        "Consider ruxolitinib"]
    # pinometostat is investigational with no open trial in the knowledge base: no Task
    kmt2a = convert(kb, "KMT2A", classifier=ALLCATCHR, fusions=(fusion("KMT2A", "AFF1"),))
    assert ("pinometostat", (), "C", PRESUMED_RESPONSIVE) in summary(kmt2a)
    assert [t["description"].split(":")[0] for t in tasks(kmt2a, MEDICATION_TASK)] == [
        "Consider revumenib"]


def test_investigational_agent_with_an_open_trial_gets_a_task(kb: Knowledge) -> None:
    open_trial = dataclasses.replace(
        kb.trials["NCT01684150"], diseases=("ALL",), min_age="18 Years", max_age="N/A",
        line_of_therapy="relapsed-refractory", status="recruiting", status_as_of="2026-10-01")
    kb2 = dataclasses.replace(kb, trials={**kb.trials, "NCT01684150": open_trial})
    bundle = convert(kb2, "KMT2A", classifier=ALLCATCHR, fusions=(fusion("KMT2A", "AFF1"),))
    assert sorted(t["description"].split(":")[0] for t in tasks(bundle, MEDICATION_TASK)) == [
        "Consider pinometostat", "Consider revumenib"]


# --- 4. Group calls and unconfirmed -like calls say what to test next -------------------------------

@pytest.mark.parametrize(("label", "test"), [
    ("Ph Group", "BCR::ABL1 by RT-PCR or FISH; if negative, kinase-fusion and CRLF2 testing for "
                 "Ph-like ALL"),
    ("KMT2A Group", "KMT2A rearrangement by FISH or RT-PCR"),
    ("ZNF384 Group", "ZNF384 rearrangement by FISH or an RNA-seq fusion call"),
    ("High Sig", "chromosome count by karyotype, SNP array or flow-cytometric DNA index, to tell high "
                 "hyperdiploid from a doubled near-haploid or low-hypodiploid clone"),
    ("Ph-like", "kinase-fusion testing (ABL-class, JAK2, EPOR) and CRLF2 testing (flow cytometry or "
                "FISH)"),
])
def test_unconfirmed_group_call_gets_the_confirmatory_test(kb: Knowledge, label: str, test: str) -> None:
    bundle = convert(kb, label)
    [followup] = tasks(bundle, FOLLOWUP_TASK)
    assert followup["code"] == {"coding": [CONFIRMATORY_TESTING], "text": f"Confirm: {test}"}
    assert f"Test: {test}." in followup["description"]
    assert not conclusion(bundle).endswith(NO_ACTIONABLE)


def test_followups_name_what_becomes_applicable(kb: Knowledge) -> None:
    [kmt2a] = tasks(convert(kb, "KMT2A Group"), FOLLOWUP_TASK)
    assert "Once positive: revumenib (level A), pinometostat (level C), panobinostat (level D), " \
           "vorinostat (level D), palbociclib (level D), venetoclax (level D)." in kmt2a["description"]
    # the review's trials are named as evidence, never as places to enrol
    assert kmt2a["description"].endswith(
        " Trials the review names for it (evidence, not enrolment opportunities until their registry "
        "records are checked): NCT01684150, NCT02141828, NCT02310243, NCT02553460, NCT03132454, "
        "NCT03181126, NCT03319901, NCT03472573, NCT03504644, NCT03515200, NCT03792256, NCT03808610, "
        "NCT03826992, NCT04029688.")
    [ph_like] = tasks(convert(kb, "Ph-like"), FOLLOWUP_TASK)
    # Ph-like keeps its own (expression-level) pairings; the test unlocks the kinase rules
    assert "Once positive: imatinib (level C), dasatinib (level C), ponatinib (level C), " \
           "ruxolitinib (level C)." in ph_like["description"]


def test_followups_name_a_drug_class_by_its_name_not_its_table_id(kb: Knowledge) -> None:
    # the review names tyrosine kinase inhibition for PAX5alt, no agent: the clinician reads the
    # class's name, never the curation table's key ('tki-class')
    [pax5alt] = tasks(convert(kb, "PAX5alt"), FOLLOWUP_TASK)
    assert " Once positive: tyrosine kinase inhibitor (level D)." in pax5alt["description"]
    assert "tki-class" not in pax5alt["description"]


@pytest.mark.parametrize(("label", "findings"), [
    ("KMT2A Group", {"fusions": (fusion("KMT2A", "AFF1"),)}),
    ("Ph Group", {"fusions": (fusion("BCR", "ABL1"),)}),
    ("Ph Group", {"fusions": (fusion("EBF1", "PDGFRB"),)}),
    ("High Sig", {"ploidy": Ploidy(chromosome_count=55)}),
    ("Ph-like", {"fusions": (fusion("PAX5", "JAK2"),)}),
])
def test_confirmed_group_call_needs_no_followup(kb: Knowledge, label: str, findings: dict) -> None:
    assert tasks(convert(kb, label, **findings), FOLLOWUP_TASK) == []


def test_group_call_with_defining_fusion_applies_member_rules(kb: Knowledge) -> None:
    bundle = convert(kb, "KMT2A Group", fusions=(fusion("KMT2A", "AFF1"),))
    implication = next(o for o in by_profile(bundle, THERAPEUTIC)
                       if component_value(o, LOINC, "51963-7")["text"] == "revumenib")
    assert component_value(implication, LOINC, "81259-4")["coding"][0]["code"] == "kmt2a"
    [variant] = by_profile(bundle, f"{IG}/variant")
    assert {"reference": f"urn:uuid:{variant['id']}"} in implication["derivedFrom"]


def test_ph_group_with_bcr_abl1_gets_the_ph_tkis(kb: Knowledge) -> None:
    assert summary(convert(kb, "Ph Group", fusions=(fusion("BCR", "ABL1"),))) == PH_TKIS


# --- 5. Trials are offered only when their registry record fits ------------------------------------

def fitting(kb: Knowledge, **change: object) -> Knowledge:
    """The knowledge with NCT03472573 made an open, fully recorded R/R B-ALL trial (then changed)."""
    fields: dict[str, object] = {"diseases": ("B-ALL",), "min_age": "1 Year", "max_age": "21 Years",
                                 "line_of_therapy": "relapsed-refractory", "status": "recruiting",
                                 "status_as_of": "2026-06-01"}
    trial = dataclasses.replace(kb.trials["NCT03472573"], **(fields | change))  # type: ignore[arg-type]
    return dataclasses.replace(kb, trials={**kb.trials, trial.nct_id: trial})


def test_no_trial_of_the_review_is_offered_today(kb: Knowledge) -> None:
    offered = [t.nct_id for t in kb.trials.values() if trial_fit(t, kb.as_of).offered]
    assert offered == []
    bundle = convert(kb, "KMT2A", classifier=ALLCATCHR, fusions=(fusion("KMT2A", "AFF1"),))
    assert resources(bundle, "ResearchStudy") == []
    assert all(not t["description"].startswith("Consider enrolment") for t in resources(bundle, "Task"))
    # every trial of the review is still there, as evidence of its pairing
    palbociclib = next(o for o in by_profile(bundle, THERAPEUTIC)
                       if component_value(o, LOINC, "51963-7")["text"] == "palbociclib")
    cited = [e["valueRelatedArtifact"]["citation"] for c in components(palbociclib, LOINC, "93044-6")
             for e in c["extension"]]
    assert cited == [
        REVIEW,
        "ClinicalTrials.gov NCT02310243: Study of Palbociclib in MLL-rearranged Acute Leukemias "
        "(status unknown); listed as evidence, not an enrolment opportunity",
        "ClinicalTrials.gov NCT03472573: Palbociclib and Dexamethasone in Treating Participants With "
        "Relapsed or Refractory B-Cell Acute Lymphoblastic Leukemia (status last verified 2022-06-03: "
        "completed); listed as evidence, not an enrolment opportunity",
        "ClinicalTrials.gov NCT03515200: Treatment With Combination Chemotherapy for Relapsed or "
        "Refractory Acute Lymphoblastic Leukemia (status last verified 2020-09-01: terminated); listed "
        "as evidence, not an enrolment opportunity",
        "ClinicalTrials.gov NCT03132454: Palbociclib and Sorafenib, Decitabine, or Dexamethasone in "
        "Treating Patients With Recurrent or Refractory Leukemia (status unknown); listed as evidence, "
        "not an enrolment opportunity",
        "ClinicalTrials.gov NCT03792256: Palbociclib in Combination With Chemotherapy in Treating "
        "Children With Relapsed Acute Lymphoblastic Leukemia (ALL) or Lymphoblastic Lymphoma (LL) "
        "(status last verified 2025-03-21: completed); listed as evidence, not an enrolment "
        "opportunity"]


def test_fitting_trial_is_offered_with_its_study_and_task(kb: Knowledge) -> None:
    bundle = convert(fitting(kb), "KMT2A", classifier=ALLCATCHR, fusions=(fusion("KMT2A", "AFF1"),))
    [study] = resources(bundle, "ResearchStudy")
    assert study["identifier"] == [{"system": NCT, "value": "NCT03472573"}]
    assert study["status"] == "active"
    assert study["note"] == [{"text": "Recruitment: recruiting as of 2026-06-01 "
                                      "(https://clinicaltrials.gov/show/NCT03472573)"}]
    [task] = [t for t in tasks(bundle, FOLLOWUP_TASK) if t["description"].startswith("Consider enrolment")]
    assert task["code"] == {"text": "Consider enrolment in clinical trial NCT03472573"}
    assert deref(bundle, task["focus"]) is study
    implication = deref(bundle, task["reasonReference"])
    [trial] = components(implication, TBD, "associated-therapy")
    assert trial["valueCodeableConcept"]["coding"] == [
        {"system": NCT, "code": "NCT03472573", "display": "NCT03472573"}]
    assert deref(bundle, trial["extension"][0]["valueReference"]) is study
    assert "population: B-ALL, relapsed/refractory disease, ages 1 Year to 21 Years" in \
        component_value(implication, TBD, "conclusion-string")
    assert "Clinical trials open for enrolment: NCT03472573." in conclusion(bundle)


@pytest.mark.parametrize(("change", "reason"), [
    ({"status_as_of": "2025-06-01"}, "status last verified 2025-06-01: recruiting"),
    ({"status": "completed"}, "not enrolling (completed as of 2026-06-01)"),
    ({"status": "active, not recruiting"}, "not enrolling (active, not recruiting as of 2026-06-01)"),
    ({"status_as_of": None}, "status unknown"),
    ({"diseases": ("AML",)}, "conditions do not include B-ALL"),
    ({"diseases": ()}, "conditions not recorded"),
    ({"max_age": None}, "age range not recorded"),
    ({"line_of_therapy": None}, "line of therapy not recorded"),
])
def test_trial_whose_record_does_not_fit_is_evidence_only(kb: Knowledge, change: dict, reason: str) -> None:
    changed = fitting(kb, **change)
    fit = trial_fit(changed.trials["NCT03472573"], kb.as_of)
    assert not fit.offered and reason in fit.reasons
    bundle = convert(changed, "KMT2A", classifier=ALLCATCHR, fusions=(fusion("KMT2A", "AFF1"),))
    assert resources(bundle, "ResearchStudy") == []


def test_stale_status_is_never_shown_as_current(kb: Knowledge) -> None:
    # a year after the status was read, the same record is 'last verified', and not offered
    assert trial_fit(fitting(kb).trials["NCT03472573"], date(2027, 6, 2)).status_text == \
        "status last verified 2026-06-01: recruiting"
    # the report's own date decides
    bundle = convert(fitting(kb), "KMT2A", classifier=ALLCATCHR, fusions=(fusion("KMT2A", "AFF1"),),
                     opts=BuildOptions(effective="2027-06-02"))
    assert resources(bundle, "ResearchStudy") == []


def test_aml_only_trials_are_not_bcp_all_trials(kb: Knowledge) -> None:
    assert kb.trials["NCT03701295"].diseases == ("AML",)
    assert not [r for r in kb.rules if r.trial in ("NCT03701295", "NCT03724084")]


def test_car_t_trials_are_linked_to_cd19_disease(kb: Knowledge) -> None:
    car_t = {"NCT03330691", "NCT03937544", "NCT00450944", "NCT04012879", "NCT04094766"}
    assert {r.trial for r in kb.rules if r.target == "cd19-positive" and r.trial} == car_t
    assert "NCT03472573" in {r.trial for r in kb.rules if r.target == "kmt2a"}


# --- 6. The therapeutic setting travels with the recommendation --------------------------------------

def test_revumenib_carries_its_setting(kb: Knowledge) -> None:
    bundle = convert(kb, "KMT2A", classifier=ALLCATCHR, fusions=(fusion("KMT2A", "AFF1"),))
    revumenib = next(o for o in by_profile(bundle, THERAPEUTIC)
                     if component_value(o, LOINC, "51963-7")["text"] == "revumenib")
    where = ("relapsed/refractory disease; age >= 1 year; requires KMT2A translocation (not KMT2A "
             "partial tandem duplication)")
    assert component_value(revumenib, ALLFHIR, "therapeutic-setting") == where
    [task] = [t for t in tasks(bundle, MEDICATION_TASK) if t["description"].startswith("Consider revumenib")]
    assert f"setting: {where}" in task["description"]
    assert f"revumenib (level A; {where})" in conclusion(bundle)
    # an unrestricted rule has no setting component
    [imatinib] = [o for o in by_profile(convert(kb, "Ph", fusions=(fusion("BCR", "ABL1"),)), THERAPEUTIC)
                  if component_value(o, LOINC, "51963-7")["text"] == "imatinib"]
    assert components(imatinib, ALLFHIR, "therapeutic-setting") == []


# --- 7. The review is cited, and its Table 1 is complete ----------------------------------------------

def test_pairings_cite_the_review_and_never_the_other_one(kb: Knowledge) -> None:
    assert all(REVIEW in r.citation.split(";") for r in kb.rules)
    for path in kb.root.glob("*.csv"):
        assert "34501239" not in path.read_text(), path.name


@pytest.mark.parametrize(("labels", "findings", "expected"), [
    (("TCF3::PBX1",), {"fusions": (fusion("TCF3", "PBX1"),)}, [row(PALBOCICLIB, "D")]),
    (("HLF",), {"fusions": (fusion("TCF3", "HLF"),)},
     sorted([row(PALBOCICLIB, "D"), row(TKI, "D"), row(VENETOCLAX, "D"), row(BCR_BCL6, "D")], key=str)),
    (("PAX5alt",), {"fusions": (fusion("PAX5", "ETV6"),)}, [row(TKI, "D")]),
    (("PAX5 P80R",), {"variants": (SequenceVariant(gene="PAX5", hgvs_p="NP_057953.1:p.Pro80Arg",
                                                   consequences=["missense_variant"]),)},
     [row(TKI, "D")]),
    (("Ph-like",), {}, [row(VENETOCLAX, "D")]),
    (("MEF2D",), {"fusions": (fusion("MEF2D", "BCL9"),)}, [row(PANOBINOSTAT, "D"), row(VORINOSTAT, "D")]),
    (("ZNF384",), {"fusions": (fusion("EP300", "ZNF384"),)}, [row(GILTERITINIB, "D")]),
    (("NUTM1",), {"fusions": (fusion("ACIN1", "NUTM1"),)}, [row(BET, "D")]),
    (("Near haploid",), {"ploidy": Ploidy(chromosome_count=26)}, [row(VENETOCLAX, "D")]),
    (("Low hypodiploid",), {"ploidy": Ploidy(chromosome_count=36)}, [row(VENETOCLAX, "D")]),
    (("KMT2A",), {"fusions": (fusion("KMT2A", "AFF1"),)}, sorted([
        row(REVUMENIB, "A"), row(PINOMETOSTAT, "C"), row(PANOBINOSTAT, "D"), row(VORINOSTAT, "D"),
        row(PALBOCICLIB, "D"), row(VENETOCLAX, "D")], key=str)),
])
def test_table_1_pairings_at_their_honest_level(kb: Knowledge, labels: tuple[str, ...],
                                                findings: dict, expected: list[Row]) -> None:
    classifier = ALLCATCHR if labels[0] in ("KMT2A", "TCF3::PBX1", "HLF", "ZNF384") else ALLSORTS
    bundle = convert(kb, *labels, classifier=classifier, **findings)
    assert summary(bundle) == expected


@pytest.mark.parametrize(("label", "classifier"), [
    ("TCF3::PBX1", ALLCATCHR), ("HLF", ALLCATCHR), ("MEF2D", ALLSORTS), ("NUTM1", ALLSORTS),
    ("Near haploid", ALLSORTS), ("PAX5 P80R", ALLSORTS),
])
def test_driver_defined_subtypes_without_their_driver_get_only_a_followup(
        kb: Knowledge, label: str, classifier: ClassifierRun) -> None:
    bundle = convert(kb, label, classifier=classifier)
    assert summary(bundle) == [] and len(tasks(bundle, FOLLOWUP_TASK)) == 1


def test_outcome_of_table_1_is_stated_as_the_reviews(kb: Knowledge) -> None:
    bundle = convert(kb, "Ph", fusions=(fusion("BCR", "ABL1"),))
    [diagnostic] = by_profile(bundle, f"{IG}/diagnostic-implication")
    assert diagnostic["note"] == [{"text": (
        f"Ph (BCR::ABL1): frequency 15-25% in adults, 2-5% in children; outcome poor, improved with "
        f"TKI. Source: {REVIEW} (Table 1).")}]
    [low] = by_profile(convert(kb, "Low hypodiploid", ploidy=Ploidy(chromosome_count=36)),
                       f"{IG}/diagnostic-implication")
    assert "(childhood frequency as printed; the review's text gives 2-3% for hypodiploidy overall)" \
        in low["note"][0]["text"]


# --- 8. Codes ---------------------------------------------------------------------------------------

def test_agents_of_the_issue_carry_their_rxnorm_ingredient(kb: Knowledge) -> None:
    assert {a: kb.agents[a].rxnorm for a in (
        "revumenib", "palbociclib", "panobinostat", "vorinostat", "blinatumomab",
        "inotuzumab-ozogamicin", "tisagenlecleucel", "brexucabtagene-autoleucel", "rituximab")} == {
        "revumenib": "2698325", "palbociclib": "1601374", "panobinostat": "1603350",
        "vorinostat": "194337", "blinatumomab": "1597258", "inotuzumab-ozogamicin": "1942950",
        "tisagenlecleucel": "1986438", "brexucabtagene-autoleucel": "2387277", "rituximab": "121191"}


def test_agent_without_a_code_is_named_not_coded(kb: Knowledge) -> None:
    bundle = convert(kb, "BCL2/MYC", fusions=(fusion("IGH", "MYC"),))
    assert ("THZ1", (), "D", PRESUMED_RESPONSIVE) in summary(bundle)


def test_predicted_phenotype_holds_only_synonymous_codings(kb: Knowledge) -> None:
    generic = ClassifierRun(classifier_id="generic", name="generic")
    for st in kb.subtypes.values():
        bundle = convert(kb, st.id, classifier=generic)
        for obs in by_profile(bundle, f"{IG}/diagnostic-implication"):
            codings = component_value(obs, LOINC, "81259-4")["coding"]
            exact = {(c.coding.system, c.coding.code) for c in st.codes if c.exact}
            assert {(c["system"], c["code"]) for c in codings[1:]} <= exact
            systems = [c["system"] for c in codings]
            assert len(systems) == len(set(systems)), st.id  # one concept per system
            assert "http://hl7.org/fhir/sid/icd-10-cm" not in systems


def test_entity_codes_only_when_the_entity_is_asserted(kb: Knowledge) -> None:
    def phenotype(bundle: Json) -> list[tuple[str, str]]:
        [obs] = by_profile(bundle, f"{IG}/diagnostic-implication")
        return [(c["system"], c["code"]) for c in component_value(obs, LOINC, "81259-4")["coding"]]

    ph = [(SUBTYPE_CS, "ph")]
    assert phenotype(convert(kb, "Ph")) == ph  # expression only: not asserted
    assert phenotype(convert(kb, "Ph", fusions=(fusion("BCR", "ABL1"),))) == [
        *ph, ("http://data.mskcc.org/ontologies/oncotree", "BLLBCRABL1"), (NCIT, "C80331"),
        ("http://terminology.hl7.org/CodeSystem/icd-o-3", "9812/3")]


# --- Reports, CLI, knowledge show ---------------------------------------------------------------------

def test_every_action_of_the_report_resolves(kb: Knowledge) -> None:
    bundle = convert(kb, "KMT2A", "Ph-pos", classifier=ALLCATCHR, fusions=(fusion("KMT2A", "AFF1"),))
    report_ = resources(bundle, "DiagnosticReport")[0]
    actions = [deref(bundle, e["valueReference"]) for e in report_["extension"]
               if e["url"] == f"{IG}/recommended-action"]
    assert sorted(t["meta"]["profile"][0] for t in actions) == [
        FOLLOWUP_TASK, MEDICATION_TASK]  # revumenib; confirm BCR::ABL1 for the Ph call
    assert all(t["resourceType"] == "Task" and "code" in t for t in actions)


def test_unclassified_and_non_actionable_samples_say_so(kb: Knowledge) -> None:
    bundle = convert(kb, "Unclassified")
    assert [r["resourceType"] for r in resources(bundle)] == [
        "DiagnosticReport", "Observation", "Observation", "Device"]
    assert conclusion(bundle).endswith(NO_ACTIONABLE)
    both = convert(kb, "High hyperdiploid", "ETV6-RUNX1", fusions=(fusion("ETV6", "RUNX1"),))
    assert by_profile(both, THERAPEUTIC) == [] and resources(both, "Task") == []
    assert conclusion(both).endswith(NO_ACTIONABLE)


def test_assessment_is_empty_only_when_nothing_applies(kb: Knowledge) -> None:
    assert not assess(resolve(sample("Unclassified"), kb), kb)
    assert assess(resolve(sample("Ph"), kb), kb)  # a follow-up is something to do


def test_cli_no_actionability_leaves_recommendations_out(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "calls.json"
    path.write_text(json.dumps({"sample_id": "S9", "calls": [{"label": "ph", "probability": 0.95}],
                                "fusions": [{"gene5": "BCR", "gene3": "ABL1"}]}))
    assert main(["convert", str(path)]) == 0
    with_actions = json.loads(capsys.readouterr().out)
    assert len(resources(with_actions, "Task")) == 3
    assert main(["convert", "--no-actionability", str(path)]) == 0
    without = json.loads(capsys.readouterr().out)
    # the report, the fusion and its molecular consequence, the signature and the subtype call
    assert [r["resourceType"] for r in resources(without)] == [
        "DiagnosticReport", "Observation", "Observation", "Observation", "Observation"]
    assert by_profile(without, THERAPEUTIC) == [] and "extension" not in resources(without)[0]


def test_knowledge_show_prints_rules_with_setting_confirmation_and_sources(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["knowledge", "show", "kmt2a"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "KMT2A-rearranged [kmt2a] (subtype)"
    assert ("  confirmed by: a fusion of KMT2A (required before its rules apply); follow-up test: "
            "KMT2A rearrangement by FISH or RT-PCR (or an RNA-seq fusion call)") in lines
    assert ("  outcome (review, Table 1): poor; frequency 4-10% in adults, 3-4% in children") in lines
    revumenib = next(line for line in lines if line.startswith("  [kmt2a-revumenib]"))
    assert revumenib.startswith(
        "  [kmt2a-revumenib] responsive: revumenib; AMP/ASCO/CAP 2017 level A -> Responsive, "
        "medication Task; setting: relapsed/refractory disease; age >= 1 year; requires KMT2A "
        "translocation (not KMT2A partial tandem duplication); ")
    assert main(["knowledge", "show", "no-such-subtype"]) == 2
