"""The subtype call -> MolecularBiomarker (expression signature) + DiagnosticImplication.

An RNA-seq classifier's call is an expression-signature result: it becomes a MolecularBiomarker
holding the label and the classifier's probability. The DiagnosticImplication states the subtype
(our CodeSystem + mapped SNOMED CT / NCIt / ICD-O-3 / OncoTree / ICD-10-CM codings) and is
`derivedFrom` that biomarker plus every finding of the sample that defines the subtype (fusion,
hotspot variant, chromosome count, iAMP21). 'Unclassified' and low-confidence calls are reported
as such, never dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..knowledge import Knowledge, Subtype
from ..model import ClassifierRun, CopyNumberChange, Fusion, Ploidy, SequenceVariant, SubtypeCall
from ..resolve import ResolvedCall
from . import codes
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
from .fusion import fusion_name

Finding = Fusion | SequenceVariant | CopyNumberChange | Ploidy

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
    return concept(st.coding, *(c.coding for c in st.codes), text=st.display)


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
    derived = [biomarker_ref] + [b.ref for b in findings if defines(kb, st, b.finding)]
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
    ctx.add(implication)
    return biomarker, implication


# --- which findings define a subtype --------------------------------------------------------------

def defines(kb: Knowledge, st: Subtype, finding: Finding) -> bool:
    """True when `finding` is one of the alterations that define `st` (or a member of group st)."""
    subtypes = [st] if st.kind != "group" else [kb.subtypes[m] for m in st.members]
    return any(_defines_one(kb, s, finding) for s in subtypes)


def _defines_one(kb: Knowledge, st: Subtype, finding: Finding) -> bool:
    if isinstance(finding, Fusion):
        name = fusion_name(kb, finding)
        if name in st.defining_fusions:
            return True
        genes = {name.split("::")[0], name.split("::")[1]}
        # A gene-defined subtype (e.g. KMT2A-r with any partner) is defined by a fusion of that
        # gene, unless the exact fusion defines another subtype (BCR::ABL1 is Ph, not Ph-like;
        # it does not define `st`, checked above).
        return bool(genes & set(st.defining_genes)) and name not in kb.defining_fusions
    if isinstance(finding, SequenceVariant):
        change = _protein_change(finding.hgvs_p)
        return change is not None and f"{_approved(kb, finding.gene)}:{change}" in {
            _normalise_variant(v) for v in st.defining_variants}
    if isinstance(finding, Ploidy):
        return _ploidy_matches(st, finding)
    if isinstance(finding, CopyNumberChange):
        return bool(finding.iscn and "iAMP21" in finding.iscn and "iAMP21" in
                    st.defining_cytogenetics)
    return False


def _approved(kb: Knowledge, symbol: str) -> str:
    gene = kb.gene(symbol)
    return gene.symbol if gene else symbol


_PCHANGE = re.compile(r"p\.\(?([A-Za-z]{3}\d+[A-Za-z]{3})\)?")


def _protein_change(hgvs_p: str | None) -> str | None:
    if not hgvs_p:
        return None
    m = _PCHANGE.search(hgvs_p)
    return f"p.{m.group(1)}" if m else None


def _normalise_variant(defining: str) -> str:
    gene, _, change = defining.partition(":")
    normal = _protein_change(change)
    return f"{gene}:{normal or change}"


def _ploidy_matches(st: Subtype, p: Ploidy) -> bool:
    for rule in st.defining_cytogenetics:
        if rule == "iAMP21" and p.iamp21:
            return True
        if rule.startswith("chromosome_count:") and p.chromosome_count is not None:
            low, _, high = rule.split(":", 1)[1].partition("-")
            if int(low) <= p.chromosome_count <= int(high or low):
                return True
    return False
