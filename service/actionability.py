"""Which agents and trials apply to a resolved sample, and why (rules from mappings/).

A rule targets a subtype (applies when the sample is called that subtype) or an alteration
(applies when a finding of the sample matches it: a fusion or variant of one of its genes).
Phenotype-only rules (e.g. CD19-positive relapsed disease) cannot be decided from molecular data
and are never applied automatically; `allfhir knowledge show` lists them.
Rules that recommend the same agent/trial with the same implication are merged into one
recommendation that keeps every rule (evidence, citations) and every finding it rests on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .knowledge import Agent, Knowledge, Rule, Subtype, Trial
from .model import Fusion, SequenceVariant
from .resolve import ResolvedCall, ResolvedSample

# Evidence levels of the AMP/ASCO/CAP 2017 scale, strongest first (see mappings/ACTIONABILITY.md).
_LEVEL_ORDER = ("A", "B", "C", "D")


@dataclass(slots=True)
class Basis:
    """What a recommendation rests on: a subtype call and/or findings (for derivedFrom)."""

    calls: list[ResolvedCall] = field(default_factory=list)
    findings: list[Fusion | SequenceVariant] = field(default_factory=list)


@dataclass(slots=True)
class Recommendation:
    agent: Agent | None
    trial: Trial | None
    implication: str
    context: Subtype | None  # the BCP-ALL subtype that is the treatment context
    rules: list[Rule]
    basis: Basis

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.agent.id if self.agent else "", self.trial.nct_id if self.trial else "",
                self.implication)

    @property
    def best_level(self) -> str:
        levels = sorted((r.evidence_level for r in self.rules),
                        key=lambda lv: _LEVEL_ORDER.index(lv) if lv in _LEVEL_ORDER else 99)
        return levels[0]


def called(rs: ResolvedSample) -> list[ResolvedCall]:
    """Calls that state a subtype (not 'unclassified', not disowned by the classifier)."""
    return [c for c in rs.calls if c.reported.kind != "no-call"]


def recommendations(rs: ResolvedSample, kb: Knowledge) -> list[Recommendation]:
    calls = called(rs)
    context = calls[0].reported if calls else None
    merged: dict[tuple[str, str, str], Recommendation] = {}
    for rule in kb.rules:
        basis = _basis(rule, rs, kb, calls)
        if basis is None:
            continue
        # A subtype rule's context is its subtype (also when reached through a group call).
        ctx = kb.subtypes[rule.target] if rule.target_kind == "subtype" else (
            basis.calls[0].reported if basis.calls else context)
        rec = Recommendation(kb.agents.get(rule.agent) if rule.agent else None,
                             kb.trials.get(rule.trial) if rule.trial else None,
                             rule.implication, ctx, [rule], basis)
        if rec.key in merged:
            into = merged[rec.key]
            into.rules.append(rule)
            into.basis.calls += [c for c in basis.calls if c not in into.basis.calls]
            into.basis.findings += [f for f in basis.findings if f not in into.basis.findings]
        else:
            merged[rec.key] = rec
    return list(merged.values())


def _basis(rule: Rule, rs: ResolvedSample, kb: Knowledge, calls: list[ResolvedCall]) -> Basis | None:
    if rule.target_kind == "subtype":
        hits = [c for c in calls if c.reported.id == rule.target]
        if hits:
            return Basis(calls=hits)
        return _group_with_defining_finding(rule.target, rs, kb, calls)
    alteration = kb.alterations.get(rule.target)
    if alteration is None or not alteration.genes:
        return None
    genes = set(alteration.genes)
    found: list[Fusion | SequenceVariant] = []
    if alteration.kind in ("fusion", "rearrangement"):
        # A fusion that itself defines a subtype (BCR::ABL1 = Ph) is that subtype's evidence, not
        # an instance of a gene-class alteration such as "ABL-class fusion".
        found += [f for f in rs.sample.fusions if {kb.symbol(f.gene5), kb.symbol(f.gene3)} & genes
                  and kb.fusion_name(f) not in kb.defining_fusions]
    if alteration.kind in ("mutation", "variant"):
        found += [v for v in rs.sample.variants if kb.symbol(v.gene) in genes]
    return Basis(findings=found) if found else None


def _group_with_defining_finding(target: str, rs: ResolvedSample, kb: Knowledge,
                                 calls: list[ResolvedCall]) -> Basis | None:
    """A group call (e.g. ALLSorts 'KMT2A Group') plus a finding that defines one member (a
    KMT2A::AFF1 fusion) makes that member's rules apply: the evidence is the finding, so the
    call itself is still reported as the group, never narrowed."""
    groups = [c for c in calls if c.reported.kind == "group" and target in c.reported.members]
    if not groups:
        return None
    member = kb.subtypes[target]
    found = [f for f in (*rs.sample.fusions, *rs.sample.variants) if kb.defines(member, f)]
    return Basis(calls=groups, findings=found) if found else None
