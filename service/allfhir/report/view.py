"""A report Bundle -> what a molecular pathology report shows (plain dataclasses for the template).

Read from the Bundle alone, so a stored, received or re-delivered Bundle renders the same: every
value here is read from a resource of the Bundle (by its profile and codes, the ones
service/allfhir/fhir/ writes), never recomputed from the input files. References resolve by
fullUrl (`urn:uuid:...` in a converted Bundle) or by `Type/id` (a Bundle assembled from the
store, whose resources reference each other that way).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .. import codes

Json = dict[str, Any]

_LEVEL = re.compile(r"level ([A-D])\b")
# a trial cited as evidence (fhir/therapy.py _trial_citation): id, title, status with its date
_TRIAL_CITATION = re.compile(r"^ClinicalTrials\.gov (NCT\d{8})(?:: (.*))? \(([^()]*)\); listed as evidence")
# The tier of an AMP/ASCO/CAP 2017 level, as mappings/evidence_policy.csv sections them.
TIERS = (("standard-of-care", "Standard of care"),
         ("investigational", "Investigational (limited clinical evidence)"),
         ("preclinical", "Preclinical evidence only, not treatment recommendations"))


@dataclass(slots=True)
class Score:
    label: str
    value: float
    called: bool


@dataclass(slots=True)
class ScoreSeries:
    title: str  # 'ALLSorts probability', 'ALLCatchR score (ML_ columns)'
    scores: list[Score]  # sorted, highest first
    threshold: float | None = None
    # False when the classifier's label is no call (Unclassified, or a label it marks unclassified)
    assigned: bool = True


@dataclass(slots=True)
class Fusion:
    name: str
    iscn: str | None
    junction_reads: int | None
    spanning_reads: int | None
    breakpoints: list[str]
    caller: str | None
    confidence: str | None
    reading_frame: str | None


@dataclass(slots=True)
class Variant:
    gene: str
    hgvs_c: str | None
    hgvs_p: str | None
    hgvs_g: str | None
    vaf: float | None
    depth: int | None
    origin: str | None


@dataclass(slots=True)
class CopyNumber:
    label: str  # ISCN or variation code, e.g. 'iAMP21', '+21', '55,XX,...'
    detail: str  # 'copy number 3', 'modal chromosome number 55'


@dataclass(slots=True)
class Call:
    sentence: str
    subtype: str | None  # display of the subtype implied, None for no subtype
    who_haem5: str | None
    icc_2022: str | None
    basis: str | None  # the call-basis display
    defining: list[str]  # the findings the call is derived from
    outcome: str | None  # the review's outcome statement with its source
    assigned: bool


@dataclass(slots=True)
class Therapy:
    agent: str
    level: str | None
    tier: str
    context: str | None
    setting: str | None
    sources: list[str]  # '[n]' (the n-th of References) or 'trial NCT... (evidence only)'


@dataclass(slots=True)
class TrialView:
    nct: str
    url: str
    title: str | None
    phase: str | None
    status: str  # the ResearchStudy status, or the registry status as the citation states it
    as_of: str  # the date that status was read on the registry ('not stated' when unknown)
    note: str  # the recruitment note or citation it was read from
    enrolling: bool  # a trial recommended for enrolment (it has a Task), not evidence only


@dataclass(slots=True)
class ReportView:
    title: str
    report_id: str
    report_system: str | None
    resource_id: str
    version: str | None
    status: str
    amended: bool
    patient: str
    specimen: str
    order: str
    effective: str | None
    issued: str | None
    last_updated: str | None
    classifier: str
    conclusion: str
    calls: list[Call] = field(default_factory=list)
    charts: list[ScoreSeries] = field(default_factory=list)
    fusions: list[Fusion] = field(default_factory=list)
    variants: list[Variant] = field(default_factory=list)
    copy_numbers: list[CopyNumber] = field(default_factory=list)
    therapies: dict[str, list[Therapy]] = field(default_factory=dict)
    trials: list[TrialView] = field(default_factory=list)
    followups: list[str] = field(default_factory=list)
    tested: list[str] = field(default_factory=list)
    not_tested: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)


class Resolver:
    """Finds a Bundle's resources by the references its resources hold."""

    def __init__(self, bundle: Json) -> None:
        self.resources: list[Json] = []
        self._by_ref: dict[str, Json] = {}
        for entry in bundle.get("entry") or []:
            res = entry.get("resource")
            if not isinstance(res, dict):
                continue
            self.resources.append(res)
            if entry.get("fullUrl"):
                self._by_ref[entry["fullUrl"]] = res
            if res.get("id"):
                self._by_ref[f"{res.get('resourceType')}/{res['id']}"] = res

    def get(self, ref: Json | None) -> Json | None:
        if not ref or "reference" not in ref:
            return None
        target = ref["reference"]
        if target in self._by_ref:
            return self._by_ref[target]
        # an absolute server URL ending in Type/id
        tail = "/".join(target.rsplit("/", 2)[-2:])
        return self._by_ref.get(tail)

    def of_type(self, rtype: str) -> list[Json]:
        return [r for r in self.resources if r.get("resourceType") == rtype]


def _profiled(res: Json, profile: str) -> bool:
    return profile in (res.get("meta") or {}).get("profile", [])


def _codes(concept: Json | None) -> set[tuple[str, str]]:
    return {(c.get("system", ""), c.get("code", "")) for c in (concept or {}).get("coding", [])}


def _component(res: Json, system: str, code: str) -> list[Json]:
    return [c for c in res.get("component", []) if (system, code) in _codes(c.get("code"))]


def _first(res: Json, system: str, code: str) -> Json | None:
    found = _component(res, system, code)
    return found[0] if found else None


def _text(value: Json | None) -> str | None:
    """A CodeableConcept as a person reads it: its text, else its first display or code."""
    if not value:
        return None
    if value.get("text"):
        return value["text"]
    for c in value.get("coding", []):
        if c.get("display") or c.get("code"):
            return c.get("display") or c.get("code")
    return None


def _value_text(comp: Json | None) -> str | None:
    if comp is None:
        return None
    if "valueString" in comp:
        return comp["valueString"]
    if "valueCodeableConcept" in comp:
        return _text(comp["valueCodeableConcept"])
    if "valueQuantity" in comp:
        return f"{comp['valueQuantity'].get('value'):g}"
    return None


def _quantity(comp: Json | None) -> float | None:
    if comp is None or "valueQuantity" not in comp:
        return None
    return comp["valueQuantity"].get("value")


def _loinc(res: Json, code: str) -> Json | None:
    return _first(res, codes.LOINC, code)


def _ours(res: Json, code: str) -> Json | None:
    return _first(res, codes.CS_ALLFHIR, code)


def _reference_text(ref: Json | None) -> str | None:
    """'Patient/123', 'system|value' or the display, as the report names it."""
    if not ref:
        return None
    if ref.get("reference"):
        return ref["reference"]
    if ref.get("display"):
        return ref["display"]
    ident = ref.get("identifier")
    if ident:
        label = ident.get("value", "")
        return f"{label} ({ident['system']})" if ident.get("system") else label
    return None


def read(bundle: Json) -> ReportView:
    """The report a Bundle holds; ValueError when it holds no DiagnosticReport."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise ValueError("not a FHIR Bundle (resourceType is not 'Bundle')")
    rs = Resolver(bundle)
    reports = rs.of_type("DiagnosticReport")
    if not reports:
        raise ValueError("the Bundle holds no DiagnosticReport")
    rep = reports[0]
    results = [r for r in (rs.get(ref) for ref in rep.get("result", [])) if r]
    devices = rs.of_type("Device")
    ident = (rep.get("identifier") or [{}])[0]
    meta = rep.get("meta") or {}
    view = ReportView(
        title=(rep.get("presentedForm") or [{}])[0].get("title") or "BCP-ALL molecular subtype report",
        report_id=ident.get("value") or rep.get("id", ""),
        report_system=ident.get("system"),
        resource_id=rep.get("id", ""),
        version=meta.get("versionId"),
        status=rep.get("status", "unknown"),
        amended=rep.get("status") in ("amended", "corrected", "appended"),
        patient=_reference_text(rep.get("subject")) or "not given",
        specimen=", ".join(filter(None, (_reference_text(s) for s in rep.get("specimen", []))))
        or "not given",
        order=", ".join(filter(None, (_reference_text(o) for o in rep.get("basedOn", [])))) or "not given",
        effective=rep.get("effectiveDateTime"),
        issued=rep.get("issued"),
        last_updated=meta.get("lastUpdated"),
        classifier=", ".join(_device_name(d) for d in devices) or "none (findings submitted without a "
                                                                 "classifier call)",
        conclusion=rep.get("conclusion", ""),
    )
    _findings(view, rs, results)
    _calls(view, rs, results)
    _signatures(view, rs, results)
    _actionability(view, rs, rep, results)
    _methods(view, results, devices)
    return view


def _device_name(dev: Json) -> str:
    name = next((n.get("name") for n in dev.get("deviceName", []) if n.get("name")), "classifier")
    version = next((v.get("value") for v in dev.get("version", []) if v.get("value")), None)
    return f"{name} {version}" if version else f"{name} (version not stated)"


def _findings(view: ReportView, rs: Resolver, results: list[Json]) -> None:
    variants = [r for r in results if _profiled(r, codes.PROFILE_VARIANT)]
    breakpoints: set[int] = set()
    fusions = []
    for obs in variants:
        change = _loinc(obs, codes.LOINC_CODING_CHANGE_TYPE)
        if change and _text(change.get("valueCodeableConcept")) == "gene_fusion":
            fusions.append(obs)
            for ref in obs.get("derivedFrom", []):
                target = rs.get(ref)
                if target is not None:
                    breakpoints.add(id(target))
    for obs in variants:
        if id(obs) in breakpoints:
            continue
        if obs in fusions:
            view.fusions.append(_fusion(rs, obs))
        elif any(_loinc(obs, c) for c in (codes.LOINC_CODING_HGVS, codes.LOINC_PROTEIN_HGVS,
                                          codes.LOINC_GENOMIC_HGVS)):
            view.variants.append(_variant(obs))
        else:
            view.copy_numbers.append(_copy_number(obs))


def _fusion(rs: Resolver, obs: Json) -> Fusion:
    name = _value_text(_loinc(obs, codes.LOINC_VARIATION_CODE)) or "fusion"
    iscn = _value_text(_loinc(obs, codes.LOINC_CYTOGENOMIC_NOMENCLATURE))
    points = []
    for ref in obs.get("derivedFrom", []):
        target = rs.get(ref)
        text = _value_text(_loinc(target, codes.LOINC_VARIATION_CODE)) if target else None
        if text:
            points.append(text.removeprefix(f"{name} "))
    note = "; ".join(n.get("text", "") for n in obs.get("note", []))
    caller = None
    for part in filter(None, (p.strip() for p in note.split(";"))):
        if part.startswith("called by "):
            caller = part.removeprefix("called by ")
        else:
            points.append(part)  # a breakpoint kept as the caller wrote it
    junction = _quantity(_ours(obs, codes.C_JUNCTION_READS))
    spanning = _quantity(_ours(obs, codes.C_SPANNING_READS))
    return Fusion(name=name.removesuffix(" fusion"), iscn=iscn,
                  junction_reads=None if junction is None else int(junction),
                  spanning_reads=None if spanning is None else int(spanning),
                  breakpoints=points, caller=caller,
                  confidence=_value_text(_ours(obs, codes.C_CALLER_CONFIDENCE)),
                  reading_frame=_value_text(_ours(obs, codes.C_READING_FRAME)))


def _variant(obs: Json) -> Variant:
    depth = _quantity(_loinc(obs, codes.LOINC_ALLELIC_READ_DEPTH))
    return Variant(gene=_value_text(_loinc(obs, codes.LOINC_GENE_STUDIED)) or "",
                   hgvs_c=_value_text(_loinc(obs, codes.LOINC_CODING_HGVS)),
                   hgvs_p=_value_text(_loinc(obs, codes.LOINC_PROTEIN_HGVS)),
                   hgvs_g=_value_text(_loinc(obs, codes.LOINC_GENOMIC_HGVS)),
                   vaf=_quantity(_loinc(obs, codes.LOINC_ALLELE_FREQUENCY)),
                   depth=None if depth is None else int(depth),
                   origin=_value_text(_loinc(obs, codes.LOINC_GENOMIC_SOURCE_CLASS)))


def _copy_number(obs: Json) -> CopyNumber:
    label = (_value_text(_loinc(obs, codes.LOINC_VARIATION_CODE))
             or _value_text(_loinc(obs, codes.LOINC_CYTOGENOMIC_NOMENCLATURE))
             or _value_text(_loinc(obs, codes.LOINC_GENE_STUDIED)) or "copy-number finding")
    details = []
    change = _value_text(_loinc(obs, codes.LOINC_CODING_CHANGE_TYPE))
    if change:
        details.append(change.replace("_", " "))  # the SO term as words: 'copy number loss'
    gene = _value_text(_loinc(obs, codes.LOINC_GENE_STUDIED))
    if gene and gene != label:
        details.append(f"gene {gene}")
    where = _value_text(_loinc(obs, codes.LOINC_CYTOGENETIC_LOCATION))
    if where:
        details.append(f"region {where}")
    iscn = _value_text(_loinc(obs, codes.LOINC_CYTOGENOMIC_NOMENCLATURE))
    if iscn and iscn != label:
        details.append(f"ISCN {iscn}")
    copies = _quantity(_loinc(obs, codes.LOINC_COPY_NUMBER))
    if copies is not None:
        details.append(f"copy number {copies:g}")
    count = _quantity(_ours(obs, codes.C_CHROMOSOME_COUNT))
    if count is not None:
        details.append(f"modal chromosome number {count:g}")
        if label == "copy-number finding":
            label = f"{count:g} chromosomes"
    return CopyNumber(label=label, detail="; ".join(details))


def _finding_name(res: Json) -> str:
    """A derivedFrom target named as the findings table names it."""
    text = _value_text(_loinc(res, codes.LOINC_VARIATION_CODE))
    hgvs = _value_text(_loinc(res, codes.LOINC_PROTEIN_HGVS)) or _value_text(
        _loinc(res, codes.LOINC_CODING_HGVS))
    gene = _value_text(_loinc(res, codes.LOINC_GENE_STUDIED))
    if hgvs:
        return f"{gene} {hgvs}" if gene and not hgvs.startswith(gene) else hgvs
    if text:
        return text
    count = _quantity(_ours(res, codes.C_CHROMOSOME_COUNT))
    if count is not None:
        return f"{count:g} chromosomes"
    return _value_text(_loinc(res, codes.LOINC_CYTOGENOMIC_NOMENCLATURE)) or gene or "finding"


def _calls(view: ReportView, rs: Resolver, results: list[Json]) -> None:
    for obs in results:
        if not _profiled(obs, codes.PROFILE_DIAGNOSTIC_IMPLICATION):
            continue
        phenotype = _loinc(obs, codes.LOINC_PREDICTED_PHENOTYPE)
        concept = (phenotype or {}).get("valueCodeableConcept")
        ours = next((c for c in (concept or {}).get("coding", []) if c.get("system") == codes.CS_SUBTYPE),
                    None)
        sentence = _value_text(_first(obs, codes.TBD_CODES, codes.TBD_CONCLUSION_STRING)) or ""
        assigned = "no subtype assigned" not in sentence and (ours or {}).get("code") != "unclassified"
        basis = _ours(obs, codes.C_CALL_BASIS)
        defining = []
        for ref in obs.get("derivedFrom", []):
            target = rs.get(ref)
            if target is not None and _profiled(target, codes.PROFILE_VARIANT):
                defining.append(_finding_name(target))
        view.calls.append(Call(
            sentence=sentence, subtype=_text(concept) if assigned else None,
            who_haem5=_value_text(_ours(obs, codes.C_WHO_HAEM5_ENTITY)),
            icc_2022=_value_text(_ours(obs, codes.C_ICC_2022_ENTITY)),
            basis=_value_text(basis), defining=defining,
            outcome="; ".join(n["text"] for n in obs.get("note", []) if n.get("text")) or None,
            assigned=assigned))
        for note in obs.get("note", []):
            source = note.get("text", "").rpartition("Source: ")[2].rstrip(".")
            if source and source != note.get("text"):
                _reference(view, source)


def _signatures(view: ReportView, rs: Resolver, results: list[Json]) -> None:
    # a signature whose implication assigns no subtype charts its label as the best, not a call
    unassigned = {id(target) for obs, call in zip(
        [o for o in results if _profiled(o, codes.PROFILE_DIAGNOSTIC_IMPLICATION)], view.calls, strict=True)
        if not call.assigned for target in (rs.get(r) for r in obs.get("derivedFrom", [])) if target}
    for obs in results:
        if not _profiled(obs, codes.PROFILE_MOLECULAR_BIOMARKER):
            continue
        scores = [(c["code"].get("text", ""), _quantity(c))
                  for c in _ours_all(obs, codes.C_LABEL_SCORE)]
        if not scores:
            continue
        called = (obs.get("valueCodeableConcept") or {}).get("text", "")
        kind = "probability" if _ours(obs, codes.C_CLASSIFIER_PROBABILITY) else "score"
        name = (obs.get("code") or {}).get("text", "").removesuffix(" expression subtype signature")
        threshold = _quantity(_ours(obs, codes.C_CLASSIFIER_THRESHOLD))
        for (prefix, sep), series in _series(scores).items():
            title = f"{name} {kind}" + (f" ({prefix}{sep} columns)" if prefix else "")
            bars = [Score(label, value, label in (called, f"{prefix}{sep}{called}"))
                    for label, value in series if value is not None]
            bars.sort(key=lambda s: (-s.value, s.label))
            view.charts.append(ScoreSeries(title, bars, threshold, id(obs) not in unassigned))


def _ours_all(res: Json, code: str) -> list[Json]:
    return _component(res, codes.CS_ALLFHIR, code)


_PREFIX = re.compile(r"^([A-Za-z]{2,4})(_)|^([a-z_]+)(:)")
Scores = list[tuple[str, float | None]]


def _series(scores: Scores) -> dict[tuple[str, str], Scores]:
    """One chart per score family: a classifier that scores labels by two methods writes them as
    '<METHOD>_<label>' columns (ALLCatchR ML_ / NN_) or '<column>:<label>' (MD-ALL's final call
    carries both GEP methods' shares), each family a chart of its own."""
    prefixes = [_PREFIX.match(label) for label, _ in scores]
    if not all(prefixes):
        return {("", ""): scores}
    out: dict[tuple[str, str], Scores] = {}
    for m, score in zip(prefixes, scores, strict=True):
        assert m is not None
        key = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        out.setdefault(key, []).append(score)
    return out


def _actionability(view: ReportView, rs: Resolver, rep: Json, results: list[Json]) -> None:
    tier_of = _tier_of()
    therapies: dict[str, list[Therapy]] = {}
    enrolling: set[str] = set()
    evidence: dict[str, tuple[str | None, str]] = {}
    for obs in results:
        if not _profiled(obs, codes.PROFILE_THERAPEUTIC_IMPLICATION):
            continue
        trial = _first(obs, codes.TBD_CODES, codes.TBD_ASSOCIATED_THERAPY)
        if trial is not None:
            enrolling |= {c.get("code", "") for c in trial["valueCodeableConcept"].get("coding", [])}
            continue
        agent = _value_text(_loinc(obs, codes.LOINC_MEDICATION_ASSESSED)) or "therapy"
        levels, sources = [], []
        for comp in _component(obs, codes.LOINC, codes.LOINC_EVIDENCE_LEVEL):
            m = _LEVEL.search(_value_text(comp) or "")
            if m:
                levels.append(m.group(1))
            for ext in comp.get("extension", []):
                cite = (ext.get("valueRelatedArtifact") or {}).get("citation")
                trial_cited = _TRIAL_CITATION.match(cite or "")
                if trial_cited:
                    nct, title, status = trial_cited.groups()
                    sources.append(f"trial {nct} (evidence only)")
                    evidence.setdefault(nct, (title, status))
                elif cite:
                    sources.append(f"[{_reference(view, cite)}]")  # numbered in References
        level = min(levels) if levels else None
        tier = tier_of.get(level or "", "investigational")
        therapies.setdefault(tier, []).append(Therapy(
            agent=agent, level=level, tier=tier,
            context=_value_text(_loinc(obs, codes.LOINC_PREDICTED_PHENOTYPE)),
            setting=_value_text(_ours(obs, codes.C_THERAPEUTIC_SETTING)), sources=sources))
    view.therapies = {key: therapies[key] for key, _ in TIERS if key in therapies}
    for study in rs.of_type("ResearchStudy"):
        nct = next((i.get("value") for i in study.get("identifier", [])
                    if i.get("system") == codes.CLINICALTRIALS), study.get("id", ""))
        phase = (study.get("phase") or {}).get("coding", [{}])[0].get("code")
        note = "; ".join(n.get("text", "") for n in study.get("note", []))
        view.trials.append(TrialView(
            nct=nct, url=f"https://clinicaltrials.gov/study/{nct}", title=study.get("title"),
            phase=phase, status=study.get("status") or "not stated (status not read recently)",
            as_of=_date(note), note=note, enrolling=nct in enrolling))
    listed = {t.nct for t in view.trials}
    for nct, (title, status) in evidence.items():
        if nct not in listed:  # the review's trials that do not enrol: their registry status
            view.trials.append(TrialView(nct=nct, url=f"https://clinicaltrials.gov/study/{nct}",
                                         title=title, phase=None,
                                         status=status.rpartition(": ")[2].removeprefix("status "),
                                         as_of=_date(status), note=status, enrolling=False))
    actions = [rs.get(e.get("valueReference")) for e in rep.get("extension", [])
               if e.get("url") == codes.EXT_RECOMMENDED_ACTION]
    for task in filter(None, actions):
        focus = rs.get(task.get("focus"))
        trial_task = focus is not None and focus.get("resourceType") == "ResearchStudy"
        if _profiled(task, codes.PROFILE_FOLLOWUP_RECOMMENDATION) and not trial_task:
            view.followups.append(task.get("description") or _text(task.get("code")) or "")


def _date(text: str) -> str:
    found = re.search(r"\d{4}-\d{2}-\d{2}", text)
    return found.group(0) if found else "not stated"


def _tier_of() -> dict[str, str]:
    """Evidence level -> section, from the knowledge's evidence policy (mappings/evidence_policy.csv)."""
    from .. import knowledge

    return {level: p.section for level, p in knowledge.default().evidence_policy.items()}


def _methods(view: ReportView, results: list[Json], devices: list[Json]) -> None:
    if devices:
        view.tested.append("Gene-expression subtype classification from RNA-seq by "
                           + ", ".join(_device_name(d) for d in devices))
    callers = sorted({f.caller for f in view.fusions if f.caller})
    if view.fusions:
        view.tested.append("Gene fusions from RNA-seq" + (f" ({', '.join(callers)})" if callers else ""))
    if view.variants:
        view.tested.append("Sequence variants as submitted (HGVS, allele fraction)")
    if view.copy_numbers:
        view.tested.append("Chromosome number / copy-number state as submitted")
    if not view.fusions:
        view.not_tested.append("gene fusions: no fusion-caller result was submitted or none was "
                               "detected")
    if not view.variants:
        view.not_tested.append("sequence variants: no variant call was submitted or none was "
                               "reported")
    if not view.copy_numbers:
        view.not_tested.append("copy number and chromosome number: not submitted")


# a pinpoint at the end of a citation ("... (Table 1)"): the References list the work once, the
# pinpoint stays where the work is cited
PINPOINT = re.compile(r"\s*\((?:Table|Figure|Fig\.|Supplementary)\b[^()]*\)$")


def _reference(view: ReportView, cite: str) -> int:
    """The number of the cited work in the report's References (1-based), added when new."""
    work = PINPOINT.sub("", cite)
    if work not in view.references:
        view.references.append(work)
    return view.references.index(work) + 1
