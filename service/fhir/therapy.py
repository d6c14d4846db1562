"""Recommendations -> TherapeuticImplication, ResearchStudy and recommendation Tasks.

Follows the IG 3.0.0: medication-assessed (51963-7) coded in RxNorm, phenotypic-treatment-context
(81259-4) = the BCP-ALL subtype, evidence-level (93044-6) with citations as
workflow-relatedArtifactComponent extensions, and trials as the IG's ROS1-Fusion-therapuTrial
example does it (associated-therapy component coded http://clinicaltrials.gov#NCT...), plus a
therapy-assessed-reference to a ResearchStudy. MedicationRecommendation / FollowupRecommendation
Tasks are linked from the report with the recommended-action extension.
"""

from __future__ import annotations

from .. import codes
from ..actionability import Recommendation
from ..knowledge import Knowledge, Rule, Trial
from .common import (
    Json,
    ReportContext,
    coding,
    component,
    concept,
    loinc,
    observation,
    ref_to,
    stable_id,
    text_concept,
)
from .subtype import subtype_concept

IMPLICATION_DISPLAY = {"responsive": "Responsive", "resistant": "Resistant"}
EXT_THERAPY_ASSESSED_REFERENCE = f"{codes.IG}/StructureDefinition/therapy-assessed-reference"
RESEARCH_STUDY_PHASE = "http://terminology.hl7.org/CodeSystem/research-study-phase"
# ClinicalTrials.gov overall status -> ResearchStudy.status (R4 required binding).
_STATUS = {
    "recruiting": "active",
    "enrolling by invitation": "active",
    "not yet recruiting": "approved",
    "active, not recruiting": "closed-to-accrual",
    "suspended": "temporarily-closed-to-accrual",
    "completed": "completed",
    "terminated": "administratively-completed",
    "withdrawn": "withdrawn",
}
_PHASE = {
    "early phase 1": "early-phase-1",
    "phase 1": "phase-1",
    "phase 1/phase 2": "phase-1-phase-2",
    "phase 1/2": "phase-1-phase-2",
    "phase 2": "phase-2",
    "phase 2/phase 3": "phase-2-phase-3",
    "phase 2/3": "phase-2-phase-3",
    "phase 3": "phase-3",
    "phase 4": "phase-4",
    "not applicable": "n-a",
}


def label(rec: Recommendation) -> str:
    what = rec.agent.name if rec.agent else (rec.trial.nct_id if rec.trial else "therapy")
    if rec.implication == "eligible-for-trial":
        return f"clinical trial {rec.trial.nct_id if rec.trial else ''}".strip()
    return f"{what} ({rec.implication})"


def evidence_text(rule: Rule) -> str:
    return f"{rule.evidence_scale}: level {rule.evidence_level}"


def research_study(trial: Trial) -> Json:
    study: Json = {
        "resourceType": "ResearchStudy",
        "id": stable_id("trial", trial.nct_id),
        "identifier": [{"system": codes.CLINICALTRIALS, "value": trial.nct_id}],
    }
    if trial.title:  # titles are recorded only where read in a source
        study["title"] = trial.title
    status = _STATUS.get(trial.status.casefold())
    if status:
        study["status"] = status
    else:
        # R4 requires a status, but we never state one we did not read in a source.
        study["_status"] = {"extension": [{
            "url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
            "valueCode": "unknown"}]}
    phase = _PHASE.get((trial.phase or "").casefold())
    if phase:
        study["phase"] = concept(coding(RESEARCH_STUDY_PHASE, phase))
    if trial.conditions:
        study["condition"] = [text_concept(c.strip()) for c in trial.conditions.split(";")]
    seen = (f"Recruitment status '{trial.status}'"
            + (f" as of {trial.status_as_of}" if trial.status_as_of else "")
            + (f" ({trial.status_source})" if trial.status_source else ""))
    study["note"] = [{"text": seen}]
    return study


def build(ctx: ReportContext, kb: Knowledge, rec: Recommendation, basis_refs: list[Json],
          study_ref: Json | None) -> Json:
    key = "|".join(rec.key)
    obs = observation(ctx, ctx.new_id("therapeutic-implication", key),
                      codes.PROFILE_THERAPEUTIC_IMPLICATION,
                      concept(coding(codes.TBD_CODES, codes.TBD_THERAPEUTIC_IMPLICATION,
                                     "Therapeutic Implication")))
    comps: list[Json] = []
    if rec.implication in IMPLICATION_DISPLAY:
        answer = kb.loinc_answer("genetic-therapeutic-implications-vs",
                                 IMPLICATION_DISPLAY[rec.implication])
        comps.append(component(concept(coding(codes.TBD_CODES, codes.TBD_THERAPEUTIC_IMPLICATION)),
                               valueCodeableConcept=concept(answer)))
    if rec.context:
        comps.append(component(loinc(codes.LOINC_PREDICTED_PHENOTYPE),
                               valueCodeableConcept=subtype_concept(rec.context)))
    if rec.agent:
        value = (concept(*rec.agent.codings, text=rec.agent.name) if rec.agent.codings
                 else text_concept(rec.agent.name))
        comps.append(component(loinc(codes.LOINC_MEDICATION_ASSESSED), valueCodeableConcept=value))
    if rec.trial:
        trial_comp = component(
            concept(coding(codes.TBD_CODES, codes.TBD_ASSOCIATED_THERAPY)),
            valueCodeableConcept=concept(coding(codes.CLINICALTRIALS, rec.trial.nct_id,
                                                rec.trial.nct_id), text=rec.trial.title or None))
        if study_ref:
            trial_comp["extension"] = [{"url": EXT_THERAPY_ASSESSED_REFERENCE,
                                        "valueReference": study_ref}]
        comps.append(trial_comp)
    for rule in rec.rules:
        level = component(loinc(codes.LOINC_EVIDENCE_LEVEL),
                          valueCodeableConcept=text_concept(evidence_text(rule)))
        level["extension"] = [
            {"url": codes.EXT_RELATED_ARTIFACT_COMPONENT,
             "valueRelatedArtifact": {"type": "citation", "citation": cite}}
            for cite in _citations(rule.citation)
        ]
        comps.append(level)
    comps.append(component(concept(coding(codes.TBD_CODES, codes.TBD_CONCLUSION_STRING)),
                           valueString=sentence(rec)))
    obs["component"] = comps
    obs["derivedFrom"] = basis_refs
    ctx.add(obs)
    return obs


def sentence(rec: Recommendation) -> str:
    context = rec.context.display if rec.context else "BCP-ALL"
    rules = ", ".join(r.id for r in rec.rules)
    if rec.implication == "eligible-for-trial" and rec.trial:
        title = f" ({rec.trial.title})" if rec.trial.title else ""
        return (f"{context}: potentially eligible for clinical trial {rec.trial.nct_id}{title}; "
                f"recruitment status {rec.trial.status}"
                f"{' as of ' + rec.trial.status_as_of if rec.trial.status_as_of else ''} "
                f"[rules {rules}].")
    agent = rec.agent.name if rec.agent else "therapy"
    return (f"{context}: {rec.implication} to {agent} (best evidence level {rec.best_level}) "
            f"[rules {rules}].")


def _citations(text: str) -> list[str]:
    return [c.strip() for c in text.split(";") if c.strip()]


def task(ctx: ReportContext, rec: Recommendation, implication_ref: Json, study_ref: Json | None) -> Json:
    trial = rec.implication == "eligible-for-trial"
    profile = (codes.PROFILE_FOLLOWUP_RECOMMENDATION if trial
               else codes.PROFILE_MEDICATION_RECOMMENDATION)
    rid = ctx.new_id("task", "|".join(rec.key))
    t: Json = {
        "resourceType": "Task",
        "id": rid,
        "meta": {"profile": [profile]},
        "identifier": [{"system": codes.NS_RESOURCE_ID, "value": rid}],
        "status": "requested",
        "intent": "proposal",
        "description": (f"Consider enrolment in {rec.trial.nct_id}" if trial and rec.trial
                        else f"Consider {rec.agent.name if rec.agent else 'therapy'}") + ": "
                       + sentence(rec),
    }
    if trial and study_ref:
        t["focus"] = study_ref
    if ctx.subject:
        t["for"] = ctx.subject
    t["reasonReference"] = implication_ref  # 0..1 in R4
    ctx.add(t)
    return t


def study_entry(trial: Trial) -> tuple[Json, Json]:
    study = research_study(trial)
    return study, ref_to(study)
