"""The integrated call: expression class + detected drivers + karyotype -> a WHO-HAEM5 / ICC entity
with an honest call basis.

A lab signs out an entity of the classifications, supported (or not) by the driver that defines
it. For each expression call this module decides one call basis (`mappings/entities.csv` names
the entities and the driver each needs; `pitfalls.csv` the combinations a person must review):

- driver-confirmed: a defining finding of the called subtype is in the sample;
- expression-only: none is; a driver-defined entity (Ph, KMT2A-r, ...) is then not asserted, a
  "-like"/NOS entity stands on the expression class, said so in words;
- driver-only: a defining finding with no (or an unclassified) expression call;
- discordant: the expression class points to one subtype, the driver to another (the driver's
  entity is reported), or a known pitfall (a hyperdiploid signature with a near-haploid count);
- dual-driver: two subtype-defining drivers; both are named, never silently one.
Discordant and dual-driver calls need review by a haematopathologist.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .actionability import fusion_matches, variant_matches
from .knowledge import Entity, Finding, Knowledge, Pitfall, Subtype
from .model import CopyNumberChange, Fusion, Ploidy, Sample, SequenceVariant
from .resolve import ResolvedCall, ResolvedSample
from .worked import Worked

CALL_BASES = ("driver-confirmed", "expression-only", "driver-only", "discordant", "dual-driver")
NEEDS_REVIEW = frozenset({"discordant", "dual-driver"})
# Classifier confidences that mean the classifier itself is unsure of its label.
_LOW_CONFIDENCE = frozenset({"candidate", "low"})
_WHO_CITATION = "Alaggio et al., Leukemia 2022, doi:10.1038/s41375-022-01620-2"
_ICC_CITATION = "Arber et al., Blood 2022, doi:10.1182/blood.2022015850"


@dataclass(frozen=True, slots=True)
class Driver:
    """A subtype-defining finding of the sample and the subtype it defines."""

    subtype: Subtype
    finding: Finding


@dataclass(slots=True)
class IntegratedCall:
    call: ResolvedCall | None  # the expression call (None: a driver with no expression call)
    basis: str  # one of CALL_BASES
    subtype: Subtype | None  # the entity's subtype: the driver's when discordant
    entity: Entity | None  # None: not asserted
    drivers: list[Driver] = field(default_factory=list)  # the findings the call rests on
    others: list[Driver] = field(default_factory=list)  # drivers of other subtypes
    flags: list[str] = field(default_factory=list)
    other_entities: list[tuple[Subtype, Entity | None]] = field(default_factory=list)

    @property
    def needs_review(self) -> bool:
        return self.basis in NEEDS_REVIEW



def actionable_calls(integrated: list[IntegratedCall]) -> tuple[ResolvedCall, ...]:
    """The calls actionability reads: each reports its integrated entity's subtype (the driver's
    when discordant or driver-only), and a second driver adds its own subtype."""
    out: list[ResolvedCall] = []
    for ic in integrated:
        if ic.call is None:
            continue
        rc = ic.call
        out.append(rc if ic.subtype is None else ResolvedCall(rc.call, rc.subtype, ic.subtype))
        for st in dict.fromkeys(d.subtype for d in ic.others if d.subtype is not ic.subtype):
            out.append(ResolvedCall(rc.call, rc.subtype, st))
    return tuple(out)


def integrate(rs: ResolvedSample, kb: Knowledge) -> list[IntegratedCall]:
    """One integrated call per expression call, plus one per driver no call accounts for."""
    sample = rs.sample
    calls = [c for c in rs.calls if c.reported.kind != "no-call"]
    if not (sample.fusions or sample.variants or sample.copy_numbers or sample.ploidy):
        # No finding: none confirms, contradicts or adds to a call (what _one finds then).
        return [_expression_only(kb, c) for c in calls]
    drivers = sample_drivers(kb, sample)
    claimed = {m for c in calls for m in (c.reported.id, *c.reported.members)}
    out = [_one(kb, sample, c, drivers, claimed) for c in calls]
    explained = {id(d.finding) for i in out for d in (*i.drivers, *i.others)}
    loose = [d for d in drivers if id(d.finding) not in explained]
    if loose:
        unclassified = next((c for c in rs.calls if c.reported.kind == "no-call"), None)
        by_subtype = _by_subtype(loose)
        basis = "dual-driver" if len(by_subtype) > 1 else "driver-only"
        for st, found in by_subtype.items():
            others = [d for d in loose if d.subtype is not st]
            out.append(IntegratedCall(unclassified, basis, st, entity_for(kb, st, sample, None), found,
                                      others, other_entities=_entities(kb, others, sample)))
    return out


def sample_drivers(kb: Knowledge, sample: Sample) -> list[Driver]:
    """Every finding that defines a driver-defined subtype (each finding once, its most specific
    subtype: an exact defining fusion before a gene-level one)."""
    out = []
    candidates = [st for st in kb.subtypes.values() if st.kind == "subtype" and kb.driver_defined(st)]
    for f in sample.findings():
        hits = [st for st in candidates if kb.defines(st, f)] if kb.may_define(f) else []
        if isinstance(f, Fusion):
            exact = [st for st in hits if kb.fusion_name(f) in st.defining_fusions]
            hits = exact or hits
        out += [Driver(st, f) for st in hits[:1]]
    return out


def _one(kb: Knowledge, sample: Sample, call: ResolvedCall, drivers: list[Driver],
         claimed: set[str]) -> IntegratedCall:
    """`claimed`: the subtypes the sample's calls name; a driver another call names is that
    call's evidence, not a discordance of this one (it still makes a confirmed call dual)."""
    st = call.reported
    members = [kb.subtypes[m] for m in st.members] if st.kind == "group" else [st]
    for member in members:
        entity, found = _confirmed_entity(kb, member, sample, call)
        if entity is not None:
            others = [d for d in drivers if d.subtype.id not in {m.id for m in members}
                      and id(d.finding) not in {id(f) for f in found}]
            basis = "dual-driver" if others else "driver-confirmed"
            own = [Driver(member, f) for f in found]
            return IntegratedCall(call, basis, member, entity, own, others,
                                  other_entities=_entities(kb, others, sample))
    others = [d for d in drivers if d.subtype.id not in {m.id for m in members}
              and d.subtype.id not in claimed]
    pitfall = _pitfall(kb, st, others)
    if pitfall is not None:
        return IntegratedCall(call, "discordant", None, None, [], others, [pitfall.flag])
    if others:
        by_subtype = _by_subtype(others)
        if len(by_subtype) > 1:
            return IntegratedCall(call, "dual-driver", None, None, [], others,
                                  other_entities=_entities(kb, others, sample))
        driver_st, found = next(iter(by_subtype.items()))
        return IntegratedCall(call, "discordant", driver_st,
                              entity_for(kb, driver_st, sample, call), found, [])
    return _expression_only(kb, call)


def _expression_only(kb: Knowledge, call: ResolvedCall) -> IntegratedCall:
    """Nothing confirms the call: a "-like"/NOS entity may stand on expression; a driver-defined
    one is not asserted."""
    st = call.reported
    stands = next((e for e in kb.entities.get(st.id, ()) if e.driver == "none"), None)
    return IntegratedCall(call, "expression-only", st if stands else None, stands)


def _confirmed_entity(kb: Knowledge, st: Subtype, sample: Sample,
                      call: ResolvedCall | None) -> tuple[Entity | None, list[Finding]]:
    """The first entity row of `st` whose driver is in the sample (and lineage fits)."""
    for entity in kb.entities.get(st.id, ()):
        if not _lineage_fits(entity, call):
            continue
        found = driver_findings(kb, entity, st, sample)
        if found:
            return entity, found
    return None, []


def entity_for(kb: Knowledge, st: Subtype, sample: Sample, call: ResolvedCall | None) -> Entity | None:
    return _confirmed_entity(kb, st, sample, call)[0]


def driver_findings(kb: Knowledge, entity: Entity, st: Subtype, sample: Sample) -> list[Finding]:
    if entity.driver == "defining":
        return [f for f in sample.findings() if kb.defines(st, f)]
    if entity.driver.startswith("alteration:"):
        alteration = kb.alterations[entity.driver.split(":", 1)[1]]
        if alteration.kind == "mutation":
            return [v for v in sample.variants if variant_matches(kb, alteration, v)]
        return [f for f in sample.fusions if fusion_matches(kb, alteration, f)]
    return []


def _lineage_fits(entity: Entity, call: ResolvedCall | None) -> bool:
    lineage = call.call.lineage if call else None
    return entity.lineage is None or entity.lineage == lineage


def _pitfall(kb: Knowledge, st: Subtype, others: list[Driver]) -> Pitfall | None:
    return next((p for p in kb.pitfalls for d in others
                 if p.expression_subtype == st.id and p.driver_subtype == d.subtype.id), None)


def _entities(kb: Knowledge, drivers: list[Driver], sample: Sample) -> list[tuple[Subtype, Entity | None]]:
    return [(st, entity_for(kb, st, sample, None)) for st in _by_subtype(drivers)]


def is_low_confidence(call: ResolvedCall) -> bool:
    return (call.call.confidence or "").casefold() in _LOW_CONFIDENCE


def _by_subtype(drivers: list[Driver]) -> dict[Subtype, list[Driver]]:
    out: dict[Subtype, list[Driver]] = {}
    for d in drivers:
        out.setdefault(d.subtype, []).append(d)
    return out


# --- the sentence a clinician reads --------------------------------------------------------------

def sentence(kb: Knowledge, ic: IntegratedCall, classifier: str) -> str:
    """In order: expression class; driver with caller and reads; karyotype; SNVs; the entity's
    WHO-HAEM5 and ICC names with their citations; what is missing or discordant."""
    parts = [_expression(ic, classifier)]
    findings = [d.finding for d in (*ic.drivers, *ic.others)]
    fusions = [f for f in findings if isinstance(f, Fusion)]
    if fusions:
        parts.append("driver " + "; ".join(_fusion(kb, f) for f in fusions))
    karyotype = [f for f in findings if isinstance(f, (Ploidy, CopyNumberChange))]
    if karyotype:
        parts.append("karyotype " + "; ".join(_karyotype(f) for f in karyotype))
    snvs = [f for f in findings if isinstance(f, SequenceVariant)]
    if snvs:
        parts.append("SNV " + "; ".join(f"{kb.symbol(v.gene)} {v.hgvs_p or v.hgvs_c or ''}".strip()
                                        for v in snvs))
    if ic.entity:
        parts.append(_names(ic.entity))
    for st, entity in ic.other_entities:
        parts.append(f"Second driver: {st.display}" + (f", {_names(entity)}" if entity else ""))
    parts.append(_state(kb, ic))
    return ". ".join(p.rstrip(".") for p in parts if p) + "."


_names_worked: Worked[str] = Worked()
_wanted_worked: Worked[str] = Worked()


def _names(entity: Entity) -> str:
    """The entity's WHO-HAEM5 and ICC names with their citations (worked out once per entity)."""
    names = _names_worked.get(id(entity))
    if names is None:
        names = _names_worked.put(id(entity), entity, _entity_names(entity))
    return names


def _entity_names(entity: Entity) -> str:
    names = []
    if entity.who_haem5:
        names.append(f"WHO-HAEM5: {entity.who_haem5} ({_WHO_CITATION})")
    if entity.icc_2022:
        names.append(f"ICC 2022: {entity.icc_2022} ({_ICC_CITATION})")
    return "; ".join(names) or "no WHO-HAEM5 or ICC 2022 entity"


def _expression(ic: IntegratedCall, classifier: str) -> str:
    if ic.call is None:
        return "No expression call"
    call = ic.call.call
    who = f"{classifier} ({call.method})" if call.method else classifier
    support = f", {call.score_type} {call.probability:g}" if call.probability is not None else ""
    conf = f", confidence '{call.confidence}'" if call.confidence else ""
    if ic.call.reported.kind == "no-call":
        return f"{who}: no subtype assigned (best label '{call.label}'{support}{conf})"
    low = ", low confidence: interpret with caution" if is_low_confidence(ic.call) else ""
    return f"{who}: expression class {ic.call.reported.display} ('{call.label}'{support}{conf}{low})"


def _fusion(kb: Knowledge, f: Fusion) -> str:
    reads = []
    if f.junction_reads is not None:
        reads.append(f"{f.junction_reads} split reads")
    if f.spanning_reads is not None:
        reads.append(f"{f.spanning_reads} discordant mates")
    by = f" by {f.caller}" if f.caller else ""
    return f"{kb.fusion_name(f)}{by}" + (f" ({', '.join(reads)})" if reads else "")


def _karyotype(f: Ploidy | CopyNumberChange) -> str:
    if isinstance(f, CopyNumberChange):
        return f.iscn or "iAMP21"
    parts = []
    if f.chromosome_count is not None:
        parts.append(f"{f.chromosome_count} chromosomes")
    if f.karyotype_class:
        parts.append(f"RNA-seq karyotype class {f.karyotype_class}")
    if f.iamp21:
        parts.append("iAMP21")
    return ", ".join(parts) or (f.iscn or "")


def _state(kb: Knowledge, ic: IntegratedCall) -> str:
    if ic.basis == "driver-confirmed":
        return "Call basis: driver-confirmed (the expression class and its defining finding agree)"
    if ic.basis == "driver-only":
        return (f"Call basis: driver-only ({ic.subtype.display if ic.subtype else 'the driver'} rests on "
                "the defining finding; no expression call supports it)")
    if ic.basis == "expression-only":
        call = ic.call.reported if ic.call else None
        wanted = _wanted(kb, call) if call else "its defining finding"
        if ic.entity is not None:
            return (f"Call basis: expression-only (the entity stands on the expression class; "
                    f"no {wanted} was submitted or detected)")
        return (f"Call basis: expression-only; the entity is not asserted: no {wanted} was "
                "submitted or detected")
    if ic.basis == "discordant":
        if ic.flags:
            return f"Call basis: discordant ({'; '.join(ic.flags)}); review by a haematopathologist"
        expressed = ic.call.reported.display if ic.call else "no expression call"
        driven = ic.subtype.display if ic.subtype else "another subtype"
        return (f"Call basis: discordant (the expression class points to {expressed}, the driver to "
                f"{driven}; reported as {driven}); review by a haematopathologist")
    named = sorted({d.subtype.display for d in (*ic.drivers, *ic.others)})
    return (f"Call basis: dual-driver ({' and '.join(named)} both defined by findings of this "
            "sample; both are reported); review by a haematopathologist")


def _wanted(kb: Knowledge, st: Subtype) -> str:
    """What would confirm `st`, in words ('BCR::ABL1', 'KMT2A fusion', 'chromosome count'); worked
    out once per subtype (and subtype table: a group's members are read from it)."""
    key = (id(st), id(kb.subtypes))
    words = _wanted_worked.get(key)
    if words is None:
        words = _wanted_worked.put(key, (st, kb.subtypes), _wanted_words(kb, st))
    return words


def _wanted_words(kb: Knowledge, st: Subtype) -> str:
    subtypes = [kb.subtypes[m] for m in st.members] if st.kind == "group" else [st]
    words: list[str] = []
    for s in subtypes:
        words += list(s.defining_fusions)
        genes = [g for g in s.defining_genes if not any(g in f for f in s.defining_fusions)]
        if genes:
            words.append(f"fusion of {'/'.join(genes)}")
        words += [v.replace(":", " ") for v in s.defining_variants]
        if any(c.startswith(("chromosome_count", "karyotype")) for c in s.defining_cytogenetics):
            words.append("chromosome count")
        if "iAMP21" in s.defining_cytogenetics:
            words.append("iAMP21 finding")
    return " or ".join(dict.fromkeys(words)) or "defining finding"
