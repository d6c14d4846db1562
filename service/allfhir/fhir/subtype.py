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

from .. import codes, integrate
from ..integrate import IntegratedCall, is_low_confidence
from ..knowledge import Finding, Knowledge, Outcome, Subtype
from ..model import ClassifierRun, SubtypeCall
from ..resolve import ResolvedCall
from ..worked import Worked
from .common import (
    CATEGORIES,
    Json,
    ReportContext,
    allfhir_code,
    coding,
    component,
    concept,
    observation_of,
    unit_quantity,
)

_SCORE_CODE = {
    "probability": codes.C_CLASSIFIER_PROBABILITY,
    "score": codes.C_CLASSIFIER_SCORE,
    "vote-share": codes.C_CLASSIFIER_SCORE,
    "run-share": codes.C_CLASSIFIER_SCORE,
}


@dataclass(frozen=True, slots=True)
class BuiltFinding:
    finding: Finding
    ref: Json


def subtype_concept(st: Subtype) -> Json:
    """Our code plus the codes that mean the same; broader ones (B-ALL NOS, parent hypodiploid)
    stay in the ConceptMap: codings of one CodeableConcept must be synonyms."""
    return concept(st.coding, *(c.coding for c in st.codes if c.exact), text=st.display)


_devices: Worked[Json] = Worked()


def device(classifier: ClassifierRun) -> Json:
    """The classifier (name + version) as a Device shared by every report it produced."""
    key = (classifier.classifier_id, classifier.name, classifier.version)
    dev = _devices.get(key)
    if dev is None:
        dev = _devices.put(key, None, _device(classifier))
    return dict(dev)  # its own resource, the parts shared


def _device(classifier: ClassifierRun) -> Json:
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
          findings: list[BuiltFinding], ic: IntegratedCall | None = None,
          scores: dict[str, float] | None = None, text: str | None = None) -> tuple[Json, Json]:
    """(MolecularBiomarker, DiagnosticImplication) for one expression call; `ic` is its
    integrated call (entity, call basis), None for a call that states no subtype; `scores` every
    label's score as the classifier reported it (Sample.scores); `text` the call's sentence
    (`sentence`) when the caller has it already."""
    call = rc.call
    support = _support(call)
    # One sample may carry the same label from two methods (MD-ALL SVM and PhenoGraph).
    method = (call.method,) if call.method else ()
    biomarker = observation_of(ctx, ctx.new_id("signature", call.label, *method), _SIGNATURE_PROFILES,
                               _SIGNATURE_CATEGORIES, _signature_code(_caller(classifier, call)))
    # The label as the classifier wrote it stays in text; the coding says what it means.
    biomarker["valueCodeableConcept"] = _label_concept(rc.subtype, call.label)
    comps = [*support, *_threshold(call), *_label_scores(call, scores or {})]
    if comps:
        biomarker["component"] = comps
    if ctx.device_ref:
        biomarker["device"] = ctx.device_ref
    biomarker_ref = ctx.add(biomarker)

    st = (ic.subtype or rc.reported) if ic else rc.reported
    rid = ctx.new_id("implication", call.label, rc.reported.id, *method)
    if text is None:
        text = sentence(kb, rc, ic, classifier)
    if ic is None:
        derived = [b.ref for b in findings if kb.defines(st, b.finding)]
        entity_codes = True
    else:
        derived = _refs(findings, [d.finding for d in (*ic.drivers, *ic.others)])
        entity_codes = ic.entity is not None
    implication = _implication(ctx, kb, rid, st, [biomarker_ref, *derived], support, text,
                               entity_codes, ic)
    return biomarker, implication


def sentence(kb: Knowledge, rc: ResolvedCall, ic: IntegratedCall | None, classifier: str) -> str:
    """The sentence of an expression call: its integrated call's, or for a call that states no
    subtype its own."""
    return integrate.sentence(kb, ic, classifier) if ic else call_sentence(rc, classifier)


def driver_implication(ctx: ReportContext, kb: Knowledge, ic: IntegratedCall, classifier: str,
                       findings: list[BuiltFinding], text: str | None = None) -> Json:
    """The DiagnosticImplication of a driver no expression call states (driver-only)."""
    assert ic.subtype is not None
    rid = ctx.new_id("implication", "driver", ic.subtype.id)
    derived = _refs(findings, [d.finding for d in (*ic.drivers, *ic.others)])
    if text is None:
        text = integrate.sentence(kb, ic, classifier)
    return _implication(ctx, kb, rid, ic.subtype, derived, [], text, ic.entity is not None, ic)


# The constant parts of the two Observations, shared by every report (see common.Worked).
_SIGNATURE_PROFILES = [codes.PROFILE_MOLECULAR_BIOMARKER, codes.PROFILE_EXPRESSION_SIGNATURE]
_SIGNATURE_CATEGORIES = [CATEGORIES[0], concept(coding(codes.TBD_CODES, codes.TBD_BIOMARKER_CATEGORY)),
                         CATEGORIES[1]]
_IMPLICATION_PROFILES = [codes.PROFILE_DIAGNOSTIC_IMPLICATION, codes.PROFILE_SUBTYPE_IMPLICATION]
_IMPLICATION_CODE = concept(coding(codes.TBD_CODES, codes.TBD_DIAGNOSTIC_IMPLICATION,
                                   "Diagnostic Implication"))
_CONCLUSION_CODE = concept(coding(codes.TBD_CODES, codes.TBD_CONCLUSION_STRING))
_SCORE_CODES = {score_type: allfhir_code(code) for score_type, code in _SCORE_CODE.items()}
_CONFIDENCE_CODE = allfhir_code(codes.C_CLASSIFIER_CONFIDENCE)
_THRESHOLD_CODE = allfhir_code(codes.C_CLASSIFIER_THRESHOLD)
_LABEL_SCORE_CODE = allfhir_code(codes.C_LABEL_SCORE)
_UCUM = codes.UCUM
_signature_codes: Worked[Json] = Worked()
_label_codes: Worked[Json] = Worked()
_label_concepts: Worked[Json] = Worked()
_implication_parts_worked: Worked[tuple[Json, list[Json], list[Json] | None]] = Worked()


def _signature_code(caller: str) -> Json:
    code = _signature_codes.get(caller)
    if code is None:
        code = _signature_codes.put(caller, None, concept(
            coding(codes.CS_ALLFHIR, codes.C_EXPRESSION_SIGNATURE,
                   codes.ALLFHIR_CODE_DISPLAY[codes.C_EXPRESSION_SIGNATURE]),
            text=f"{caller} expression subtype signature"))
    return code


def _label_concept(st: Subtype, label: str) -> Json:
    key = (id(st), label)
    value = _label_concepts.get(key)
    if value is None:
        value = _label_concepts.put(key, st, concept(st.coding, text=label))
    return value


def _support(call: SubtypeCall) -> list[Json]:
    support: list[Json] = []
    if call.probability is not None:
        support.append({"code": _SCORE_CODES[call.score_type],
                        "valueQuantity": {"value": call.probability, "system": _UCUM, "code": "1"}})
    if call.confidence:
        support.append({"code": _CONFIDENCE_CODE, "valueString": call.confidence})
    return support


def _threshold(call: SubtypeCall) -> list[Json]:
    if call.threshold is None:
        return []
    return [{"code": _THRESHOLD_CODE, "valueQuantity": unit_quantity(call.threshold)}]


def label_scores(call: SubtypeCall, scores: dict[str, float]) -> dict[str, float]:
    """The scores behind this call, in the classifier's column order. A classifier with several
    methods keys them '<column>:<label>' (MD-ALL): a method's call carries its own method's
    scores, under the label alone; any other call carries every score as the classifier named it."""
    if ":" not in "".join(scores):  # no label of a method: one look at all of them
        return dict(scores)
    prefix = f"{call.label_column}:"
    own = {k[len(prefix):]: v for k, v in scores.items() if k.startswith(prefix)}
    return own or dict(scores)


def _label_scores(call: SubtypeCall, scores: dict[str, float]) -> list[Json]:
    # Every label the classifier scored, not only the winner: a reader (and the report's chart)
    # sees how close the runner-up came. The label stays as written, in code.text.
    worked = _label_codes
    out = []
    for label, value in label_scores(call, scores).items():
        code = worked.get(label)
        if code is None:
            code = worked.put(label, None, {**_LABEL_SCORE_CODE, "text": label})
        out.append({"code": code, "valueQuantity": {"value": value, "system": _UCUM, "code": "1"}})
    return out


def _refs(built: list[BuiltFinding], findings: list[object]) -> list[Json]:
    wanted = {id(f) for f in findings}
    return [b.ref for b in built if id(b.finding) in wanted]


def _implication(ctx: ReportContext, kb: Knowledge, rid: str, st: Subtype, derived: list[Json],
                 support: list[Json], text: str, entity_codes: bool,
                 ic: IntegratedCall | None) -> Json:
    implication = observation_of(ctx, rid, _IMPLICATION_PROFILES, CATEGORIES, _IMPLICATION_CODE)
    implication["derivedFrom"] = derived
    phenotype, entity, note = _implication_parts(kb, st, entity_codes, ic)
    implication["component"] = [phenotype, *support, *entity,
                                {"code": _CONCLUSION_CODE, "valueString": text}]
    if ctx.device_ref:
        implication["device"] = ctx.device_ref
    if note:
        implication["note"] = note
    ctx.add(implication)
    return implication


def _implication_parts(kb: Knowledge, st: Subtype, entity_codes: bool,
                       ic: IntegratedCall | None) -> tuple[Json, list[Json], list[Json] | None]:
    """What a DiagnosticImplication of `st` says whatever the sample: the phenotype component,
    the call basis and entity components, the outcome note."""
    basis = ic.basis if ic is not None else None
    entity = ic.entity if ic is not None else None
    outcome = kb.outcomes.get(st.id)
    key = (id(st), entity_codes, basis, id(entity), id(outcome))
    parts = _implication_parts_worked.get(key)
    if parts is not None:
        return parts
    # An entity that is not asserted carries our (expression-class) code only: the NCIt /
    # ICD-O-3 / OncoTree codes name the WHO/ICC entity.
    phenotype = subtype_concept(st) if entity_codes else concept(st.coding, text=st.display)
    comps: list[Json] = []
    if basis is not None:
        comps.append(component(allfhir_code(codes.C_CALL_BASIS), valueCodeableConcept=concept(
            coding(codes.CS_ALLFHIR, basis, codes.ALLFHIR_CODE_DISPLAY[basis]))))
        if entity and entity.who_haem5:
            comps.append(component(allfhir_code(codes.C_WHO_HAEM5_ENTITY), valueString=entity.who_haem5))
        if entity and entity.icc_2022:
            comps.append(component(allfhir_code(codes.C_ICC_2022_ENTITY), valueString=entity.icc_2022))
    note = ([{"text": outcome_sentence(st, outcome)}]
            if outcome and (ic is None or entity is not None) else None)
    return _implication_parts_worked.put(key, (st, entity, outcome), (
        component({"coding": [coding(codes.LOINC, codes.LOINC_PREDICTED_PHENOTYPE)]},
                  valueCodeableConcept=phenotype), comps, note))
