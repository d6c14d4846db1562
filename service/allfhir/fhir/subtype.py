"""The subtype call -> MolecularBiomarker (expression signature) + DiagnosticImplication.

An RNA-seq classifier's call is an expression-signature result: it becomes a MolecularBiomarker
holding the label and the classifier's probability. The DiagnosticImplication states the subtype
(our CodeSystem + mapped SNOMED CT / NCIt / ICD-O-3 / OncoTree / ICD-10-CM codings) and is
`derivedFrom` that biomarker plus every finding of the sample that defines the subtype (fusion,
hotspot variant, chromosome count, iAMP21). 'Unclassified' and low-confidence calls are reported
as such, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import codes
from ..knowledge import Finding, Knowledge, Outcome, Subtype
from ..model import ClassifierRun, SubtypeCall
from ..resolve import ResolvedCall
from .common import (
    Json,
    ReportContext,
    allfhir_code,
    coding,
    component,
    concept,
    observation,
    unit_quantity,
)

_SCORE_CODE = {
    "probability": codes.C_CLASSIFIER_PROBABILITY,
    "score": codes.C_CLASSIFIER_SCORE,
    "vote-share": codes.C_CLASSIFIER_SCORE,
    "run-share": codes.C_CLASSIFIER_SCORE,
}
_LOW_CONFIDENCE = {"candidate", "low"}


@dataclass(frozen=True, slots=True)
class BuiltFinding:
    finding: Finding
    ref: Json


def subtype_concept(st: Subtype) -> Json:
    """Our code plus the codes that mean the same; broader ones (B-ALL NOS, parent hypodiploid)
    stay in the ConceptMap: codings of one CodeableConcept must be synonyms."""
    return concept(st.coding, *(c.coding for c in st.codes if c.exact), text=st.display)


def device(classifier: ClassifierRun) -> Json:
    """The classifier (name + version) as a Device shared by every report it produced."""
    version = classifier.version or "unknown"
    dev: Json = {
        "resourceType": "Device",
        "id": _device_id(classifier),
        "identifier": [{"system": codes.NS_DEVICE, "value": f"{classifier.classifier_id}/{version}"}],
        "deviceName": [{"name": classifier.name, "type": "user-friendly-name"}],
        "type": {"text": "BCP-ALL molecular subtype classifier (software)"},
    }
    if classifier.version:
        dev["version"] = [{"value": classifier.version}]
    return dev


def _device_id(classifier: ClassifierRun) -> str:
    from .common import stable_id

    return stable_id("device", classifier.classifier_id, classifier.version or "")


def outcome_sentence(st: Subtype, outcome: Outcome) -> str:
    """The review's Table 1 statement, as its statement: frequency and outcome, cited."""
    freq = (f"frequency {outcome.frequency_adult or '?'} in adults, "
            f"{outcome.frequency_child or '?'} in children")
    said = f"outcome {outcome.outcome}" if outcome.outcome else "no outcome stated"
    note = f" ({outcome.note})" if outcome.note else ""
    return f"{st.display}: {freq}; {said}{note}. Source: {outcome.source}."


def is_low_confidence(rc: ResolvedCall) -> bool:
    return (rc.call.confidence or "").casefold() in _LOW_CONFIDENCE


def _caller(classifier: str, call: SubtypeCall) -> str:
    """'MD-ALL (SVM)': the method is named when a classifier reports several calls per sample."""
    return f"{classifier} ({call.method})" if call.method else classifier


def call_sentence(rc: ResolvedCall, classifier: str) -> str:
    call = rc.call
    classifier = _caller(classifier, call)
    support = ""
    if call.probability is not None:
        support = f" ({call.score_type} {call.probability:g})"
    if rc.reported.id != rc.subtype.id:
        return (f"{classifier}: no subtype assigned (best label '{call.label}'{support}, "
                f"confidence '{call.confidence}')")
    conf = f", confidence '{call.confidence}'" if call.confidence else ""
    kind = "group-level call" if rc.subtype.kind == "group" else "call"
    low = " - low confidence, interpret with caution" if is_low_confidence(rc) else ""
    return f"{classifier} {kind}: {rc.subtype.display}{support}{conf}{low}"


def build(ctx: ReportContext, kb: Knowledge, rc: ResolvedCall, classifier: str,
          findings: list[BuiltFinding]) -> tuple[Json, Json]:
    """(MolecularBiomarker, DiagnosticImplication) for one call."""
    call = rc.call
    support: list[Json] = []
    if call.probability is not None:
        support.append(component(allfhir_code(_SCORE_CODE[call.score_type]),
                                 valueQuantity=unit_quantity(call.probability)))
    if call.confidence:
        support.append(component(allfhir_code(codes.C_CLASSIFIER_CONFIDENCE),
                                 valueString=call.confidence))

    # One sample may carry the same label from two methods (MD-ALL SVM and PhenoGraph).
    method = (call.method,) if call.method else ()
    biomarker = observation(ctx, ctx.new_id("signature", call.label, *method),
                            codes.PROFILE_MOLECULAR_BIOMARKER,
                            concept(coding(codes.CS_ALLFHIR, codes.C_EXPRESSION_SIGNATURE,
                                           codes.ALLFHIR_CODE_DISPLAY[codes.C_EXPRESSION_SIGNATURE]),
                                    text=f"{_caller(classifier, call)} expression subtype signature"))
    biomarker["category"].insert(1, concept(coding(codes.TBD_CODES, codes.TBD_BIOMARKER_CATEGORY)))
    # The label as the classifier wrote it stays in text; the coding says what it means.
    biomarker["valueCodeableConcept"] = concept(rc.subtype.coding, text=call.label)
    if support:
        biomarker["component"] = list(support)
    if ctx.device_ref:
        biomarker["device"] = ctx.device_ref
    biomarker_ref = ctx.add(biomarker)

    st = rc.reported
    implication = observation(
        ctx, ctx.new_id("implication", call.label, st.id, *method),
        codes.PROFILE_DIAGNOSTIC_IMPLICATION,
        concept(coding(codes.TBD_CODES, codes.TBD_DIAGNOSTIC_IMPLICATION, "Diagnostic Implication")),
    )
    implication["meta"]["profile"].append(codes.PROFILE_SUBTYPE_IMPLICATION)
    derived = [biomarker_ref] + [b.ref for b in findings if kb.defines(st, b.finding)]
    implication["derivedFrom"] = derived
    implication["component"] = [
        component({"coding": [coding(codes.LOINC, codes.LOINC_PREDICTED_PHENOTYPE)]},
                  valueCodeableConcept=subtype_concept(st)),
        *support,
        component(concept(coding(codes.TBD_CODES, codes.TBD_CONCLUSION_STRING)),
                  valueString=call_sentence(rc, classifier)),
    ]
    if ctx.device_ref:
        implication["device"] = ctx.device_ref
    outcome = kb.outcomes.get(st.id)
    if outcome:
        implication["note"] = [{"text": outcome_sentence(st, outcome)}]
    ctx.add(implication)
    return biomarker, implication
