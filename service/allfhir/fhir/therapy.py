"""An Assessment -> TherapeuticImplications, ResearchStudies, MedicationStatements and Tasks.

Follows the IG 3.0.0: medication-assessed (51963-7) coded in RxNorm, phenotypic-treatment-context
(81259-4) = the BCP-ALL subtype, evidence-level (93044-6) with citations as
workflow-relatedArtifactComponent extensions, trials as the IG's ROS1 example does it
(associated-therapy component coded http://clinicaltrials.gov#NCT..., therapy-assessed-reference
to a ResearchStudy). MedicationRecommendation Tasks carry the IG's LL4049-4 code and `focus` a
MedicationStatement (intended); FollowupRecommendation Tasks carry an LL1037-2 code. Nothing here
decides what applies: that is `service/allfhir/actionability.py`; this module renders its answer.
"""

from __future__ import annotations

from datetime import date

from .. import codes
from ..actionability import (
    Assessment,
    FollowUp,
    Recommendation,
    TrialFit,
    best_level,
    is_fresh,
    status_wording,
)
from ..integrate import IntegratedCall
from ..knowledge import Knowledge, Rule, Trial
from ..worked import Worked
from .common import (
    Json,
    ReportContext,
    allfhir_code,
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

EXT_THERAPY_ASSESSED_REFERENCE = f"{codes.IG}/StructureDefinition/therapy-assessed-reference"
RESEARCH_STUDY_PHASE = "http://terminology.hl7.org/CodeSystem/research-study-phase"
DATA_ABSENT_REASON = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
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
_LINE = {"relapsed-refractory": "relapsed/refractory disease", "newly-diagnosed": "newly diagnosed disease"}
_SECTION_TITLE = {
    "standard-of-care": "Standard of care",
    "investigational": "Investigational (limited clinical evidence)",
    "preclinical": "Preclinical evidence only, not treatment recommendations",
}


# setting() and sentence() by the identities of the knowledge objects they read: the same words
# for every sample a rule applies to, asked for the narrative, the Observation and the Task.
_settings: Worked[str] = Worked()
_sentences: Worked[str] = Worked()


def setting(rules: list[Rule]) -> str:
    """'relapsed/refractory disease; age >= 1 year; requires ...' ('' when unrestricted)."""
    key = tuple(map(id, rules))
    where = _settings.get(key)
    if where is None:
        where = _settings.put(key, tuple(rules), _setting(rules))
    return where


def _setting(rules: list[Rule]) -> str:
    parts: list[str] = []
    for rule in rules:
        age = rule.age_group
        for part in (_LINE.get(rule.line_of_therapy, ""),
                     "" if age == "any" else f"age {age}" if age[:1] in "<>0123456789" else age,
                     f"requires {rule.co_finding}" if rule.co_finding else ""):
            if part and part not in parts:
                parts.append(part)
    return "; ".join(parts)


def sentence(rec: Recommendation) -> str:
    """The recommendation in words (context, agent or trial, evidence, setting, rules)."""
    trial = rec.trial
    key = (id(rec.context), id(rec.agent), id(rec.policy), tuple(map(id, rec.rules)),
           (id(trial.trial), trial.status_text) if trial else None,
           tuple((id(f.trial), f.status_text) for f in rec.evidence_trials))
    text = _sentences.get(key)
    if text is None:
        keep = (rec.context, rec.agent, rec.policy, tuple(rec.rules), trial.trial if trial else None,
                tuple(f.trial for f in rec.evidence_trials))
        text = _sentences.put(key, keep, _sentence(rec))
    return text


def _sentence(rec: Recommendation) -> str:
    context = rec.context.display if rec.context else "BCP-ALL"
    rules = ", ".join(r.id for r in rec.rules)
    where = setting(rec.rules)
    where = f"; setting: {where}" if where else ""
    notes = "; ".join(dict.fromkeys(r.notes for r in rec.rules if r.notes))
    notes = f"; {notes}" if notes else ""
    if rec.trial:
        trial = rec.trial.trial
        title = f" ({trial.title})" if trial.title else ""
        return (f"{context}: clinical trial {trial.nct_id}{title} open for enrolment, "
                f"{rec.trial.status_text}; population: {_population(trial)} [rules {rules}].")
    agent = rec.agent.name if rec.agent else "therapy"
    evidence = "".join(f"; trial {f.trial.nct_id} listed as evidence ({f.status_text})"
                       for f in rec.evidence_trials)
    return (f"{context}: {agent}, {rec.policy.wording} (AMP/ASCO/CAP 2017 level {rec.best_level})"
            f"{where}{notes}{evidence} [rules {rules}].")


def _population(trial: Trial) -> str:
    line = _LINE.get(trial.line_of_therapy or "", trial.line_of_therapy)
    return f"{', '.join(trial.diseases)}, {line}, ages {trial.min_age} to {trial.max_age}"


_studies: Worked[Json] = Worked()


def research_study(trial: Trial, on: date) -> Json:
    """The trial as a ResearchStudy (the same for every report that names it on that date)."""
    key = (id(trial), on)
    study = _studies.get(key)
    if study is None:
        study = _studies.put(key, trial, _research_study(trial, on))
    return dict(study)  # its own resource, the parts shared


def _research_study(trial: Trial, on: date) -> Json:
    study: Json = {
        "resourceType": "ResearchStudy",
        "id": stable_id("trial", trial.nct_id),
        "identifier": [{"system": codes.CLINICALTRIALS, "value": trial.nct_id}],
    }
    if trial.title:  # titles are recorded only where read in a source
        study["title"] = trial.title
    status = _STATUS.get(trial.status)
    if status and is_fresh(trial, on):
        study["status"] = status
    else:
        # R4 requires a status, but we never state as current one we did not read recently.
        study["_status"] = {"extension": [{"url": DATA_ABSENT_REASON, "valueCode": "unknown"}]}
    phase = _PHASE.get((trial.phase or "").casefold())
    if phase:
        study["phase"] = concept(coding(RESEARCH_STUDY_PHASE, phase))
    if trial.conditions:
        study["condition"] = [text_concept(c.strip()) for c in trial.conditions.split(";")]
    seen = f"Recruitment: {status_wording(trial, on)}" + (
        f" ({trial.status_source})" if trial.status_source else "")
    study["note"] = [{"text": seen}]
    return study


def implication(ctx: ReportContext, kb: Knowledge, rec: Recommendation, basis_refs: list[Json],
                study_ref: Json | None) -> Json:
    obs = observation(ctx, ctx.new_id("therapeutic-implication", "|".join(rec.key)),
                      codes.PROFILE_THERAPEUTIC_IMPLICATION,
                      concept(coding(codes.TBD_CODES, codes.TBD_THERAPEUTIC_IMPLICATION,
                                     "Therapeutic Implication")))
    comps: list[Json] = []
    if rec.implication == "responsive":
        answer = kb.loinc_answer("genetic-therapeutic-implications-vs", rec.policy.answer)
        comps.append(component(concept(coding(codes.TBD_CODES, codes.TBD_THERAPEUTIC_IMPLICATION)),
                               valueCodeableConcept=concept(answer)))
    elif rec.implication == "resistant":
        answer = kb.loinc_answer("genetic-therapeutic-implications-vs", "Resistant")
        comps.append(component(concept(coding(codes.TBD_CODES, codes.TBD_THERAPEUTIC_IMPLICATION)),
                               valueCodeableConcept=concept(answer)))
    if rec.context:
        comps.append(component(loinc(codes.LOINC_PREDICTED_PHENOTYPE),
                               valueCodeableConcept=subtype_concept(rec.context)))
    if rec.agent:
        comps.append(component(loinc(codes.LOINC_MEDICATION_ASSESSED),
                               valueCodeableConcept=agent_concept(rec)))
    if rec.trial:
        trial = rec.trial.trial
        trial_comp = component(
            concept(coding(codes.TBD_CODES, codes.TBD_ASSOCIATED_THERAPY)),
            valueCodeableConcept=concept(coding(codes.CLINICALTRIALS, trial.nct_id, trial.nct_id),
                                         text=trial.title or None))
        if study_ref:
            trial_comp["extension"] = [{"url": EXT_THERAPY_ASSESSED_REFERENCE,
                                        "valueReference": study_ref}]
        comps.append(trial_comp)
    for rule in rec.rules:
        level = component(loinc(codes.LOINC_EVIDENCE_LEVEL),
                          valueCodeableConcept=text_concept(
                              f"{rule.evidence_scale}: level {rule.evidence_level}"))
        level["extension"] = [_citation(cite) for cite in _citations(rule.citation)]
        comps.append(level)
    if rec.evidence_trials:
        # A trial that is not an enrolment opportunity is still evidence for the pairing.
        comps[-1]["extension"] += [_trial_citation(f) for f in rec.evidence_trials]
    where = setting(rec.rules)
    if where:
        comps.append(component(allfhir_code(codes.C_THERAPEUTIC_SETTING), valueString=where))
    comps.append(component(concept(coding(codes.TBD_CODES, codes.TBD_CONCLUSION_STRING)),
                           valueString=sentence(rec)))
    obs["component"] = comps
    obs["derivedFrom"] = basis_refs
    ctx.add(obs)
    return obs


def agent_concept(rec: Recommendation) -> Json:
    assert rec.agent is not None
    if rec.agent.codings:
        return concept(*rec.agent.codings, text=rec.agent.name)
    return text_concept(rec.agent.name)


def _citation(cite: str) -> Json:
    return {"url": codes.EXT_RELATED_ARTIFACT_COMPONENT,
            "valueRelatedArtifact": {"type": "citation", "citation": cite}}


def _trial_citation(fit: TrialFit) -> Json:
    trial = fit.trial
    return {"url": codes.EXT_RELATED_ARTIFACT_COMPONENT,
            "valueRelatedArtifact": {"type": "citation",
                                     "citation": f"ClinicalTrials.gov {trial.nct_id}"
                                                 f"{': ' + trial.title if trial.title else ''} "
                                                 f"({fit.status_text}); listed as evidence, not "
                                                 "an enrolment opportunity"}}


def _citations(text: str) -> list[str]:
    return [c.strip() for c in text.split(";") if c.strip()]


def medication_task(ctx: ReportContext, kb: Knowledge, rec: Recommendation,
                    implication_ref: Json) -> list[Json]:
    """[MedicationStatement (intended), Task medication-recommendation focused on it]."""
    statement: Json = {
        "resourceType": "MedicationStatement",
        "id": ctx.new_id("medication-statement", "|".join(rec.key)),
        "identifier": [],
        "status": "intended",
        "medicationCodeableConcept": agent_concept(rec),
        # R4 requires a subject; without a patient in the input the report names its sample.
        "subject": ctx.subject or {"display": f"patient of {ctx.specimen_display}"},
        "reasonReference": [implication_ref],
    }
    statement["identifier"] = [{"system": ctx.systems.resource, "value": statement["id"]}]
    rid = ctx.new_id("task", "|".join(rec.key))
    task = _task(rid, codes.PROFILE_MEDICATION_RECOMMENDATION, ctx,
                 concept(kb.loinc_answer("LL4049-4", "Consider alternative medication")),
                 f"Consider {rec.agent.name if rec.agent else 'therapy'}: {sentence(rec)}",
                 implication_ref)
    task["focus"] = ref_to(statement)
    return [statement, task]


def trial_task(ctx: ReportContext, rec: Recommendation, implication_ref: Json,
               study_ref: Json) -> Json:
    assert rec.trial is not None
    nct = rec.trial.trial.nct_id
    task = _task(ctx.new_id("task", "|".join(rec.key)), codes.PROFILE_FOLLOWUP_RECOMMENDATION, ctx,
                 # LL1037-2 has no answer for trial enrolment; the binding is extensible.
                 text_concept(f"Consider enrolment in clinical trial {nct}"),
                 f"Consider enrolment in {nct}: {sentence(rec)}", implication_ref)
    task["focus"] = study_ref
    return task


_followup_codes: Worked[Json] = Worked()


def followup_task(ctx: ReportContext, kb: Knowledge, fu: FollowUp, call_ref: Json) -> Json:
    conf = fu.confirmation
    key = (id(conf), id(kb.loinc_answers))
    code = _followup_codes.get(key)
    if code is None:
        code = _followup_codes.put(key, (conf, kb.loinc_answers), concept(
            kb.loinc_answer("LL1037-2", "Confirmatory testing recommended"),
            text=f"Confirm: {conf.followup_test}"))
    return _task(ctx.new_id("followup", conf.target, fu.call.call.label, fu.call.call.method or ""),
                 codes.PROFILE_FOLLOWUP_RECOMMENDATION, ctx, code, followup_sentence(fu), call_ref)


def review_task(ctx: ReportContext, ic: IntegratedCall, implication_ref: Json) -> Json:
    """A discordant or dual-driver call goes to a haematopathologist before sign-out."""
    # LL1037-2 has no answer for a case review; the binding is extensible.
    what = "; ".join(ic.flags) or (
        "two subtype-defining drivers" if ic.basis == "dual-driver"
        else "the expression class and the driver disagree")
    key = ic.call.call.label if ic.call else "driver"
    return _task(ctx.new_id("review", key, ic.subtype.id if ic.subtype else ""),
                 codes.PROFILE_FOLLOWUP_RECOMMENDATION, ctx,
                 text_concept("Review by a haematopathologist"),
                 f"Review by a haematopathologist before sign-out: call basis {ic.basis} ({what}).",
                 implication_ref)


# followup_sentence() by the identities of what it reads (subtype, confirmation, unlocked rules):
# the same sentence is written for the Task, the narrative and the conclusion of every sample with
# that call. The cache holds those objects, so their ids stay theirs; it is bounded.
_FOLLOWUP_SENTENCES: dict[tuple[int, ...], tuple[tuple[object, ...], str]] = {}
_FOLLOWUP_SENTENCES_MAX = 4096


def followup_sentence(fu: FollowUp) -> str:
    parts = (fu.call.reported, fu.confirmation, *fu.unlocks)
    key = tuple(map(id, parts))
    hit = _FOLLOWUP_SENTENCES.get(key)
    if hit is not None:
        return hit[1]
    text = _followup_sentence(fu)
    if len(_FOLLOWUP_SENTENCES) >= _FOLLOWUP_SENTENCES_MAX:
        _FOLLOWUP_SENTENCES.clear()
    _FOLLOWUP_SENTENCES[key] = (parts, text)
    return text


def _followup_sentence(fu: FollowUp) -> str:
    st = fu.call.reported
    conf = fu.confirmation
    wanted = [*conf.fusions]
    if conf.genes:
        wanted.append(f"a fusion of {'/'.join(conf.genes)}")
    if conf.findings == "chromosome-count":
        wanted.append("a chromosome count")
    elif conf.findings == "defining":
        wanted.append("its defining finding")
    missing = f"no confirming finding ({' or '.join(wanted)}) in the submitted data"
    state = ("the call is unconfirmed and no therapy is recommended on it" if conf.required
             else "the call stands on gene expression, its actionable drivers are untested")
    text = f"{st.display}: {missing}; {state}. Test: {conf.followup_test}."
    agents = _unlocked_agents(fu)
    if agents:
        text += f" Once positive: {agents}."
    trials = sorted({r.trial for r in fu.unlocks if r.trial})
    if trials:
        # Named, not offered: whether a trial enrols is decided on its registry record (trial_fit).
        text += (f" Trials the review names for it (evidence, not enrolment opportunities until their "
                 f"registry records are checked): {', '.join(trials)}.")
    return text


def _unlocked_agents(fu: FollowUp) -> str:
    # by the agent's name: a drug class the review names without an agent reads as that class
    by_agent: dict[str, list[Rule]] = {}
    for rule in fu.unlocks:
        if rule.agent and not rule.trial:
            by_agent.setdefault(fu.agents[rule.agent].name, []).append(rule)
    return ", ".join(f"{agent} (level {best_level(rs)})" for agent, rs in by_agent.items())


def _task(rid: str, profile: str, ctx: ReportContext, code: Json, description: str,
          reason: Json) -> Json:
    task: Json = {
        "resourceType": "Task",
        "id": rid,
        "meta": {"profile": [profile]},
        "identifier": [{"system": ctx.systems.resource, "value": rid}],
        "status": "requested",
        "intent": "proposal",
        "code": code,
        "description": description,
    }
    if ctx.subject:
        task["for"] = ctx.subject
    task["reasonReference"] = reason  # 0..1 in R4
    return task


def conclusion(assessment: Assessment) -> str:
    """The report's closing sentences: standard of care apart from investigational and
    preclinical evidence, open trials, follow-up tests."""
    if not assessment:
        return (" No actionable finding: no agent, clinical trial or follow-up test in the allfhir "
                "knowledge base applies to these results.")
    text = ""
    sections: dict[str, list[str]] = {}
    for rec in assessment.recommendations:
        if rec.agent and not rec.trial:
            where = setting(rec.rules)
            sections.setdefault(rec.policy.section, []).append(
                f"{rec.agent.name} (level {rec.best_level}{'; ' + where if where else ''})")
    for section, title in _SECTION_TITLE.items():
        if section in sections:
            text += f" {title}: {', '.join(dict.fromkeys(sections[section]))}."
    trials = sorted({r.trial.trial.nct_id for r in assessment.recommendations if r.trial})
    if trials:
        text += f" Clinical trials open for enrolment: {', '.join(trials)}."
    for fu in assessment.followups:
        text += f" Follow-up: {followup_sentence(fu)}"
    evidence = {f.trial.nct_id for r in assessment.recommendations for f in r.evidence_trials}
    evidence |= {f.trial.nct_id for f in assessment.listed_trials}
    if evidence:
        text += (f" Trials listed as evidence only (not enrolling, or registry record incomplete): "
                 f"{', '.join(sorted(evidence))}.")
    return text
