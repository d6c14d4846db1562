"""Profile conformance: walk a StructureDefinition snapshot over a resource's JSON.

Checked per element: cardinality (min/max), fixed[x] (equality) and pattern[x] (subset match), allowed
types of choice elements (value[x]), slicing by value/pattern discriminators (each repetition is
assigned to the slice whose fixed/pattern value it matches; slice min/max enforced; 'closed' slicing
rejects unmatched repetitions), required bindings whose ValueSet expands offline (see terminology.py),
and constraint.expression via fhirpathpy (expressions it cannot evaluate are skipped and counted).
Elements without children in the profile snapshot are checked against the base definition of their
type (data types, or the extension's own profile), so nested Codings/Quantities/extensions are walked too.
Not evaluated: 'profile' discriminators (resolve()), 'exists' discriminators; repetitions they would
sort are checked against the un-sliced element only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from .issues import STATS_KEPT, Issue, Stats
from .packages import Packages
from .prescreen import SCREENS, Screen
from .terminology import NotExpandable, Terminology

Json = dict[str, Any]
CODED = ("code", "Coding", "CodeableConcept")
# Types whose content is a resource validated separately (bundle entries, contained).
RESOURCE_TYPES = ("Resource", "DomainResource")
KEYS_KEPT = 256  # JSON keys remembered per element (what they feed, which type they name)


@dataclass(slots=True)
class Snapshot:
    sd: Json
    by_id: dict[str, Json] = field(default_factory=dict)
    children: dict[str, list[Json]] = field(default_factory=dict)
    slices: dict[str, list[Json]] = field(default_factory=dict)
    fixed: dict[int, tuple[str, Any] | None] = field(default_factory=dict)  # _fixed_or_pattern, once
    walks: dict[str, _Walk] = field(default_factory=dict)  # children of an element, prepared
    types: dict[int, _Types] = field(default_factory=dict)  # an element's types and binding, once
    # A slice's discriminator (by id() of both dicts): what _disc_match compares, worked out once.
    discs: dict[tuple[int, int], _Disc | None] = field(default_factory=dict)
    slice_indexes: dict[int, _SliceIndex] = field(default_factory=dict)  # by id() of the sliced element

    def types_of(self, el: Json) -> _Types:
        found = self.types.get(id(el))
        if found is None:
            found = self.types[id(el)] = _types(el, self)
        return found

    def fixed_or_pattern(self, el: Json) -> tuple[str, Any] | None:
        key = id(el)
        if key not in self.fixed:
            self.fixed[key] = _fixed_or_pattern(el)
        return self.fixed[key]

    def walk_of(self, parent_id: str) -> _Walk:
        found = self.walks.get(parent_id)
        if found is None:
            children = tuple(_child(el, self) for el in self.children.get(parent_id, []))
            found = self.walks[parent_id] = _Walk(
                children, frozenset(i for i, c in enumerate(children) if c.minimum > 0 or c.irregular))
        return found

    @property
    def root_id(self) -> str:
        return self.sd["snapshot"]["element"][0]["id"]

    @property
    def root_plan(self) -> _Plan:
        return self.types_of(self.by_id[self.root_id]).plan

    @property
    def name(self) -> str:
        return self.sd.get("name") or self.sd["url"]


@dataclass(frozen=True, slots=True)
class _Child:
    """What walking needs of a child element, worked out once: its JSON name (the stem of a choice
    element), the name in locations, and its minimum (an absent optional element needs nothing)."""

    el: Json
    name: str
    loc_name: str
    choice: bool
    minimum: int
    maximum: int | None  # None for '*'
    irregular: bool  # min/max not plain numbers: _cardinality judges (and complains) every time
    slices: list[Json]  # its slices when it is sliced (el has 'slicing'), else empty
    info: _Types

    def fed_by(self, key: str) -> bool:
        """Whether a JSON key holds (part of) this element: its name or '_name' sibling, or for a
        choice element a key of the stem followed by a type suffix (see _walk)."""
        if self.choice:
            stem = self.loc_name
            return key.startswith(stem) and len(key) > len(stem) and key[len(stem)].isupper()
        return key == self.name or key == "_" + self.name


def _child(el: Json, snap: Snapshot) -> _Child:
    name = el["path"].rsplit(".", 1)[-1]
    choice = name.endswith("[x]")
    slices = snap.slices.get(el["id"], [])
    lo, hi = el.get("min", 0), el.get("max", "*")
    regular = type(lo) is int and (hi == "*" or (isinstance(hi, str) and hi.isdigit()))
    return _Child(el, name, name[:-3] if choice else name, choice, lo if regular else 0,
                  int(hi) if regular and hi != "*" else None, not regular,
                  slices if slices and el.get("slicing") else [], snap.types_of(el))


@dataclass(slots=True)
class _Walk:
    """The children of one element, in snapshot order, and which of them a JSON key feeds: a node
    is walked over its own keys (plus the required children), not over every child definition."""

    children: tuple[_Child, ...]
    required: frozenset[int]  # positions of the children with a minimum: checked when absent too
    feeds: dict[str, tuple[int, ...]] = field(default_factory=dict)  # JSON key -> positions, as met

    def present(self, node: Json) -> list[_Child]:
        """The children to check for `node`, in snapshot order: those its keys feed and the required
        ones; every other child is absent and optional, which nothing can break."""
        positions = set(self.required)
        feeds = self.feeds
        for key in node:
            fed = feeds.get(key)
            if fed is None:
                fed = tuple(i for i, c in enumerate(self.children) if c.fed_by(key))
                if len(feeds) < KEYS_KEPT:  # bounded: $validate takes any JSON
                    feeds[key] = fed
            positions.update(fed)
        children = self.children
        return [children[i] for i in sorted(positions)]


@dataclass(frozen=True, slots=True)
class _Disc:
    """One discriminator of one slice, prepared: a type discriminator's allowed codes, or the
    path into the value and the fixed/pattern value expected there."""

    type_codes: list[str] | None
    path: list[str] | None  # None for $this
    kind: str
    want: Any


@dataclass(frozen=True, slots=True)
class _Types:
    """What checking a value of an element needs, worked out once per element."""

    codes: list[str]  # type codes, in order
    single: str | None  # the type when there is exactly one
    required_value_set: str | None  # a required binding's ValueSet
    profiles: dict[str, list[str]]  # type code -> its profiles
    fixed: tuple[str, Any] | None  # _fixed_or_pattern
    walk_id: str | None  # where its children are in the snapshot: its own id, or its contentReference
    plan: _Plan  # its constraints, compiled
    # type code -> (the snapshot of the type's profile, the type's base snapshot), filled as met.
    subs: dict[str, tuple[Snapshot | None, Snapshot | None]]
    suffixes: dict[str, str | None]  # choice type suffix -> its type code (_suffix_type), as met


def _types(el: Json, snap: Snapshot) -> _Types:
    codes = [t["code"] for t in el.get("type", [])]
    binding = el.get("binding") or {}
    required = binding.get("valueSet") if binding.get("strength") == "required" else None
    profiles: dict[str, list[str]] = {}
    for t in el.get("type", []):
        profiles.setdefault(t["code"], []).extend(t.get("profile", []))
    walk_id = (el["id"] if snap.children.get(el["id"])
               else el["contentReference"].split("#", 1)[-1] if el.get("contentReference") else None)
    return _Types(codes, codes[0] if len(codes) == 1 else None, required or None, profiles,
                  snap.fixed_or_pattern(el), walk_id, _plan(el), {}, {})


ELE_1 = "hasValue() or (children().count() > id.count())"


@dataclass(frozen=True, slots=True)
class _Constraint:
    key: str
    expression: str
    fn: Any  # compiled FHIRPath; None for ele-1 (checked natively) or an expression that does not compile
    native: bool
    screen: Screen | None  # decides the cases the JSON alone settles (prescreen.py)
    severity: str
    human: str
    # It reads more than the node: %resource / %rootResource (or another %variable), or the clock.
    contextual: bool


@dataclass(frozen=True, slots=True)
class _Plan:
    """An element's constraints, compiled, with the type fhirpathpy is told the node has."""

    constraints: tuple[_Constraint, ...]
    nested: bool  # the element is not a resource root: the node is typed (see _constraints)
    node_type: str


def _plan(el: Json) -> _Plan:
    constraints = []
    for con in el.get("constraint", []):
        expr = con.get("expression")
        if not expr:
            continue
        native = expr == ELE_1
        constraints.append(_Constraint(
            key=con.get("key", "?"), expression=expr, fn=None if native else _compiled(expr), native=native,
            screen=SCREENS.get(expr),
            severity="warning" if con.get("severity") == "warning" else "error", human=con.get("human", ""),
            contextual="%" in expr or any(f in expr for f in ("now()", "today()", "timeOfDay()"))))
    codes = [t["code"] for t in el.get("type", [])]
    node_type = (codes[0] if len(codes) == 1 and codes[0][:1].isupper()
                 and codes[0] not in ("BackboneElement", "Element")
                 else (el.get("base") or {}).get("path") or el["path"])
    return _Plan(tuple(constraints), "." in el["path"], node_type)


def element_has_content(value: Json) -> bool:
    """ele-1 ("hasValue() or (children().count() > id.count())") for a complex element's JSON: it
    has a child other than its id. A primitive child present only through its '_name' sibling (an
    extension on it) is a child. fhirpathpy cannot evaluate ele-1 (it has no hasValue()), and ele-1
    is most of the constraint evaluations, so it is checked here."""
    for key, child in value.items():
        if key in ("id", "_id") or child is None or child == []:
            continue
        if key[:1] == "_" and isinstance(child, dict) and not any(
                k != "id" and v not in (None, []) for k, v in child.items()):
            continue
        return True
    return False


def index(sd: Json) -> Snapshot:
    snap = Snapshot(sd)
    for el in sd.get("snapshot", {}).get("element", []):
        eid = el.get("id") or el["path"]
        snap.by_id[eid] = el
        last = eid.rsplit(".", 1)[-1]
        if ":" in last and "." in eid:
            base_name, slice_name = last.split(":", 1)
            if "/" in slice_name:  # re-slices: not handled, the parent slice covers them
                continue
            snap.slices.setdefault(eid.rsplit(".", 1)[0] + "." + base_name, []).append(el)
        elif "." in eid:
            snap.children.setdefault(eid.rsplit(".", 1)[0], []).append(el)
    return snap


# The kept sub-walk issues: at most this many contents, each of at most FROZEN_NODES values and
# strings of at most FROZEN_TEXT characters (a narrative is unique anyway), so memory stays bounded.
SUB_ISSUES_KEPT = 20_000
FROZEN_NODES = 64
FROZEN_TEXT = 512


def _freeze(value: Any) -> Any:
    """A hashable copy of small JSON, types and key order included (1, 1.0 and True stay apart:
    the walk tells them apart); None when too big, or for a number that is not equal to itself."""
    budget = [FROZEN_NODES]
    return _frozen(value, budget)


def _frozen(value: Any, budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        return None
    t = type(value)
    if t is dict:
        items = []
        for k, v in value.items():
            f = _frozen(v, budget)
            if f is None:
                return None
            items.append((k, f))
        return (dict, tuple(items))
    if t is list:
        frozen = []
        for v in value:
            f = _frozen(v, budget)
            if f is None:
                return None
            frozen.append(f)
        return (list, tuple(frozen))
    if (t is float and value != value) or (t is str and len(value) > FROZEN_TEXT):
        return None
    if t in (str, int, float, bool) or value is None:
        return (t, value)
    return None


def _signature(el: Json, snap: Snapshot) -> tuple[Any, ...]:
    """Everything of an element the walk reads, but its children and slices (see _same_as_base)."""
    info = snap.types_of(el)
    plan = info.plan
    return (el["path"].rsplit(".", 1)[-1], el.get("min", 0), el.get("max", "*"), info.codes, info.profiles,
            info.fixed, info.required_value_set, el.get("contentReference"), el.get("slicing"),
            plan.nested, plan.node_type,
            [(c.key, c.expression, c.severity, c.human) for c in plan.constraints])


def _disc(s: Json, d: Json, snap: Snapshot) -> _Disc | None:
    """What a repetition must hold to match slice `s` by discriminator `d`; None: it never does."""
    path = d.get("path", "$this")
    if d.get("type") == "type":
        return _Disc([t["code"] for t in s.get("type", [])], None, "", None)
    target = s if path == "$this" else snap.by_id.get(f"{s['id']}.{path}")
    expected = snap.fixed_or_pattern(target) if target else None
    if expected is None and path == "url":
        profiles = [p for t in s.get("type", []) for p in t.get("profile", [])]
        if profiles:
            expected = ("fixed", profiles[0])
    if expected is None:
        return None
    return _Disc(None, None if path == "$this" else path.split("."), expected[0], expected[1])


@dataclass(frozen=True, slots=True)
class _SliceIndex:
    """The slices of one element by what their first discriminator requires of a repetition: a
    fixed or pattern primitive at the path (an extension's url), or the (system, code) of the one
    Coding of a CodeableConcept pattern (which a matching value must hold among its codings). A
    slice not listed under any of the value's keys cannot match it; `always` ones are tried anyway."""

    slices: list[Json]
    path: list[str] | None
    codings: bool  # keys are (system, code) of the codings at the path, else the values there
    by_key: dict[Any, list[int]]
    always: list[int]

    def candidates(self, value: Any) -> list[Json]:
        actual = _at_path(value, self.path)
        keys: list[Any] = []
        if self.codings:
            for a in actual:
                coding = a.get("coding") if isinstance(a, dict) else None
                for c in coding if isinstance(coding, list) else [coding]:
                    if isinstance(c, dict) and _hashable(c.get("system")) and _hashable(c.get("code")):
                        keys.append((c.get("system"), c.get("code")))
        else:
            keys = [a for a in actual if _hashable(a)]
        positions = set(self.always)
        for key in keys:
            positions.update(self.by_key.get(key, ()))
        return [self.slices[i] for i in sorted(positions)]


def _at_path(value: Any, path: list[str] | None) -> list[Any]:
    """The values at a discriminator's dotted path (lists flattened); [value] for $this."""
    actual: list[Any] = [value]
    for part in path or ():
        nxt: list[Any] = []
        for a in actual:
            if isinstance(a, dict) and part in a:
                v = a[part]
                nxt.extend(v if isinstance(v, list) else [v])
        actual = nxt
    return actual


def _hashable(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float)


def _slice_index(slices: list[Json], disc: Json, snap: Snapshot) -> _SliceIndex | None:
    """None when the first discriminator is of a type no index is built for (every slice is tried)."""
    if disc.get("type") not in ("value", "pattern"):
        return None
    path = disc.get("path", "$this")
    prepared = [_disc(s, disc, snap) for s in slices]
    by_key: dict[Any, list[int]] = {}
    always: list[int] = []
    codings = any(d is not None and isinstance(d.want, dict) for d in prepared)
    for i, d in enumerate(prepared):
        if d is None:
            continue  # never matches (see _disc_match)
        key = _coding_key(d) if codings else d.want if isinstance(d.want, str) else None
        if key is None:
            always.append(i)
        else:
            by_key.setdefault(key, []).append(i)
    return _SliceIndex(slices, None if path == "$this" else path.split("."), codings, by_key, always)


def _coding_key(d: _Disc) -> tuple[str, str] | None:
    # pattern {"coding": [{"system": S, "code": C, ...}]}: a match holds a Coding with S and C.
    want = d.want
    if d.kind != "pattern" or not isinstance(want, dict) or not isinstance(want.get("coding"), list):
        return None
    first = want["coding"][0] if len(want["coding"]) == 1 else None
    if not isinstance(first, dict) or not isinstance(first.get("system"), str) \
            or not isinstance(first.get("code"), str):
        return None
    return first["system"], first["code"]


def _suffix_type(suffix: str, allowed: list[str]) -> str | None:
    for code in allowed:
        if code[:1].upper() + code[1:] == suffix:
            return code
    return None


def matches_pattern(value: Any, pattern: Any) -> bool:
    """FHIR pattern[x] semantics: every property in the pattern is present (recursively) in the value;
    a pattern list element must match some element of the value list."""
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return False
        return all(k in value and matches_pattern(value[k], v) for k, v in pattern.items())
    if isinstance(pattern, list):
        vals = value if isinstance(value, list) else [value]
        return all(any(matches_pattern(v, p) for v in vals) for p in pattern)
    return value == pattern


def _fixed_or_pattern(el: Json) -> tuple[str, Any] | None:
    for k, v in el.items():
        if k.startswith("fixed"):
            return "fixed", v
        if k.startswith("pattern"):
            return "pattern", v
    return None


def _short(v: Any) -> str:
    return json.dumps(v, separators=(",", ":"), sort_keys=True)


def _member(system: Any, code: Any, codes: frozenset[tuple[str, str]]) -> bool:
    try:
        return (system, code) in codes
    except TypeError:  # an object or array as system or code (the structural check's finding)
        return False  # is in no ValueSet


def _shown(v: Any) -> Any:
    # A malformed system or code (an object, an array) in a message: as JSON, not as Python.
    return v if _hashable(v) else _short(v)


class ProfileValidator:
    def __init__(self, packages: Packages, terminology: Terminology, stats: Stats) -> None:
        self.packages = packages
        self.terminology = terminology
        self.stats = stats
        # Indexed definitions by canonical URL (no '|version'): at most one per StructureDefinition
        # of the packages, whatever URLs a client sends. An unknown URL is not remembered (asking
        # the packages again is a dict lookup): $validate takes any JSON, and each extension's url
        # is looked up. Never evicted: the walk's caches key on id() of snapshots and elements.
        self._snapshots: dict[str, Snapshot] = {}
        # When a list: every constraint a pre-screen decided, (expression, node, plan, root, holds),
        # for tests that re-evaluate them with fhirpathpy.
        self.audit: list[tuple[str, Json, _Plan, Json, bool]] | None = None
        self._walked: set[tuple[int, int, str]] = set()
        self._same: dict[tuple[int, int, int], bool] = {}  # _same_as_base
        self._sub_issues: dict[tuple[int, Any], tuple[Issue, ...]] = {}  # _sub_walk
        self._contextual = 0  # contextual constraints met so far (_sub_walk)

    def snapshot(self, url: str) -> Snapshot | None:
        found = self._snapshots.get(url)
        if found is None:
            canonical = url.split("|", 1)[0]  # a version names the same definition (see Packages)
            found = self._snapshots.get(canonical)
            if found is None:
                sd = self.packages.structure_definition(canonical)
                if not (sd and sd.get("snapshot")):
                    return None
                found = self._snapshots[canonical] = index(sd)
        return found

    def base_snapshot(self, type_name: str) -> Snapshot | None:
        return self.snapshot(f"http://hl7.org/fhir/StructureDefinition/{type_name}")

    # -- entry point ---------------------------------------------------------------------------

    def validate(self, resource: Json, loc: str, url: str, root: Json,
                 walked: set[tuple[int, int, str]] | None = None,
                 walked_base: str | None = None) -> list[Issue]:
        """Issues of `resource` against the profile `url`. `walked` is shared by the walks of one
        resource (its base definition, then each profile): a data type or extension value already
        walked against the same definition at the same place is not walked again, because its
        issues would be exact repeats of ones already found, which the caller drops (_dedupe).
        `walked_base`: the base definition this resource was walked against already (same `loc`,
        same `walked`); an element the profile leaves as the base defines it is not walked again,
        for the same reason (see _same_as_base)."""
        self._walked = walked if walked is not None else set()
        snap = self.snapshot(url)
        if snap is None:
            if len(self.stats.profiles_missing) < STATS_KEPT:  # bounded: the URL is the client's
                self.stats.profiles_missing.add(url)
            # A differential-only profile whose snapshot could not be generated says why.
            why = self.packages.snapshot_errors.get(url)
            msg = (f"profile {url} has no snapshot and none could be generated: {why}" if why
                   else f"profile {url} is not known (not in the FHIR packages or profiles/)")
            return [Issue(msg, loc, severity="warning", code="not-supported", check="profile")]
        out: list[Issue] = []
        root_el = snap.by_id[snap.root_id]
        self._constraints(resource, snap.types_of(root_el).plan, loc, snap, root, out)
        base = self.snapshot(walked_base) if walked_base else None
        # The caller tells repeats by the text after the first ': ' (the definition's name before it).
        comparable = base is not None and base is not snap and base.root_id == snap.root_id \
            and ": " not in snap.name and ": " not in base.name
        self._walk(resource, snap.root_id, loc, snap, root, out, base if comparable else None)
        return out

    def _same_as_base(self, snap: Snapshot, el: Json, base: Snapshot, base_el: Json) -> bool:
        """Whether walking a value against `el` of the profile finds what walking it against
        `base_el` of the base definition found, issue for issue but for the profile's name in front:
        everything the walk reads of the two (cardinality, types and their profiles, fixed/pattern,
        required binding, constraints and how they are evaluated, slicing, contentReference) is the
        same, and so are their children, recursively. Worked out once per pair."""
        key = (id(snap), id(el), id(base))
        found = self._same.get(key)
        if found is None:
            # Within a contentReference cycle the pair counts as different: walked again, which is
            # never wrong (assuming sameness there could make a wrong answer stick).
            self._same[key] = False
            found = self._same[key] = self._compare(snap, el, base, base_el)
        return found

    def _compare(self, snap: Snapshot, el: Json, base: Snapshot, base_el: Json) -> bool:
        if el.get("id") != base_el.get("id") or _signature(el, snap) != _signature(base_el, base):
            return False
        if snap.slices.get(el["id"]) or base.slices.get(base_el["id"]):
            return False
        walk_id = snap.types_of(el).walk_id
        if walk_id != base.types_of(base_el).walk_id:
            return False
        if walk_id is None:
            return True
        mine, theirs = snap.walk_of(walk_id).children, base.walk_of(walk_id).children
        return len(mine) == len(theirs) and all(
            self._same_as_base(snap, a.el, base, b.el) for a, b in zip(mine, theirs, strict=True))

    # -- walking -------------------------------------------------------------------------------

    @staticmethod
    def _choice_items(node: Json, stem: str) -> list[tuple[Any, str, bool]]:
        """(value, type suffix, was-list) for a choice element: every key of the stem followed by a
        type suffix, in the node's key order."""
        out: list[tuple[Any, str, bool]] = []
        n = len(stem)
        for key, val in node.items():
            if key.startswith(stem) and len(key) > n and key[n].isupper():
                suffix = key[n:]
                if isinstance(val, list):
                    out.extend((v, suffix, True) for v in val)
                else:
                    out.append((val, suffix, False))
        return out

    def _walk(self, node: Any, parent_id: str, loc: str, snap: Snapshot, root: Json,
              out: list[Issue], base: Snapshot | None = None) -> None:
        """`base`: a base definition that walked this node already, from an element of the same id
        as `parent_id` (see validate)."""
        if not isinstance(node, dict):
            return
        for child in snap.walk_of(parent_id).present(node):
            base_el = base.by_id.get(child.el["id"]) if base is not None else None
            if base_el is not None:
                if self._same_as_base(snap, child.el, base, base_el):  # type: ignore[arg-type]
                    continue  # its issues would all repeat the base walk's
                if base.slices.get(base_el["id"]) or base_el.get("slicing"):  # type: ignore[union-attr]
                    base_el = None  # the base walk may have checked its values against slices
            name, loc_name = child.name, child.loc_name
            items: list[tuple[Any, str | None, bool]]
            if child.choice:
                items = self._choice_items(node, loc_name)  # type: ignore[assignment]
                count = len(items)
            elif name in node:
                val = node[name]
                items = [(v, None, True) for v in val] if isinstance(val, list) else [(val, None, False)]
                # Primitive elements may carry only their _name sibling (id/extension): present.
                count = len(items) or (1 if "_" + name in node else 0)
            else:
                items, count = [], 1 if "_" + name in node else 0
            if child.irregular or count < child.minimum or (
                    child.maximum is not None and count > child.maximum):
                self._cardinality(child.el, count, f"{loc}.{loc_name}" if count else loc, snap, out,
                                  what=child.el["id"])
            if not items:
                continue
            here = f"{loc}.{loc_name}"
            located = [(v, sfx, f"{here}[{i}]" if was_list else here)
                       for i, (v, sfx, was_list) in enumerate(items)]
            if child.slices:
                located = self._slice(child.el, child.slices, located, loc, snap, root, out)
            info = child.info
            base_info = base.types_of(base_el) if base_el is not None else None  # type: ignore[union-attr]
            for value, sfx, vloc in located:
                self._element(value, sfx, child.el, info, vloc, snap, root, out, base, base_info)

    def _cardinality(self, el: Json, count: int, loc: str, snap: Snapshot, out: list[Issue],
                     what: str) -> None:
        lo, hi = el.get("min", 0), el.get("max", "*")
        if count < lo:
            out.append(Issue(f"{snap.name}: {what}: minimum required = {lo}, but only found {count}",
                             loc, code="required", check="cardinality"))
        if hi != "*" and count > int(hi):
            out.append(Issue(f"{snap.name}: {what}: max allowed = {hi}, but found {count}",
                             loc, code="structure", check="cardinality"))

    def _slice(self, el: Json, slices: list[Json], located: list[tuple[Any, str | None, str]], loc: str,
               snap: Snapshot, root: Json, out: list[Issue]) -> list[tuple[Any, str | None, str]]:
        """Assign repetitions to slices; check the slices; return the unmatched repetitions."""
        slicing = el["slicing"]
        discs = slicing.get("discriminator", [])
        evaluable = all(d.get("type") in ("value", "pattern", "type") for d in discs)
        counts: dict[str, int] = {s["id"]: 0 for s in slices}
        unmatched: list[tuple[Any, str | None, str]] = []
        index = snap.slice_indexes.get(id(el))
        if index is None and evaluable and discs:
            index = snap.slice_indexes[id(el)] = _slice_index(slices, discs[0], snap)
        for value, sfx, vloc in located:
            hit = None
            if evaluable:
                # Only the slices whose first discriminator the value could meet, in slice order.
                for s in index.candidates(value) if index is not None else slices:
                    if all(self._disc_match(value, sfx, s, d, snap) for d in discs):
                        hit = s
                        break
            if hit is None:
                unmatched.append((value, sfx, vloc))
                continue
            counts[hit["id"]] += 1
            self._element(value, sfx, hit, snap.types_of(hit), vloc, snap, root, out)
        if evaluable:
            name = el["path"].rsplit(".", 1)[-1]
            slice_loc = f"{loc}.{name[:-3] if name.endswith('[x]') else name}"
            for s in slices:
                self._cardinality(s, counts[s["id"]], slice_loc if counts[s["id"]] else loc, snap, out,
                                  what=f"{s['id']} (slice '{s.get('sliceName')}')")
            if slicing.get("rules") == "closed":
                for _value, _sfx, vloc in unmatched:
                    out.append(Issue(f"{snap.name}: {el['id']}: does not match any slice of closed slicing",
                                     vloc, code="structure", check="slicing"))
        return unmatched

    def _disc_match(self, value: Any, sfx: str | None, s: Json, d: Json, snap: Snapshot) -> bool:
        key = (id(s), id(d))
        if key in snap.discs:
            disc = snap.discs[key]
        else:
            disc = snap.discs[key] = _disc(s, d, snap)
        if disc is None:
            return False
        if disc.type_codes is not None:
            return sfx is not None and _suffix_type(sfx, disc.type_codes) is not None
        actual = _at_path(value, disc.path)
        want = disc.want
        if disc.kind == "fixed":
            return any(a == want for a in actual)
        return any(matches_pattern(a, want) for a in actual)

    def _element(self, value: Any, sfx: str | None, el: Json, info: _Types, loc: str, snap: Snapshot,
                 root: Json, out: list[Issue], base: Snapshot | None = None,
                 base_info: _Types | None = None) -> None:
        """`base`, `base_info`: the base definition and its element of the same id, which checked
        this value already (see _walk)."""
        types = info.codes
        type_code: str | None = info.single
        if sfx is not None:
            if sfx in info.suffixes:
                type_code = info.suffixes[sfx]
            else:
                type_code = _suffix_type(sfx, types)
                if len(info.suffixes) < KEYS_KEPT:
                    info.suffixes[sfx] = type_code
            if type_code is None:
                out.append(Issue(f"{snap.name}: {el['id']}: type {sfx} is not allowed here "
                                 f"(allowed: {', '.join(types)})", loc, code="structure", check="type"))
                return
        fp = info.fixed
        if fp is not None:
            kind, want = fp
            ok = value == want if kind == "fixed" else matches_pattern(value, want)
            if not ok:
                out.append(Issue(f"{snap.name}: {el['id']}: value {_short(value)} does not match "
                                 f"{kind} value {_short(want)}", loc, code="value", check=kind))
        if info.required_value_set and type_code in CODED:
            self._binding(value, type_code, info.required_value_set, el, loc, snap, out)
        if isinstance(value, dict):
            self._constraints(value, info.plan, loc, snap, root, out)
            if info.walk_id is not None:  # its children in this snapshot, or its contentReference
                # The base walk went on into the same children when its element has them too and
                # took the value's type (a type it refused stopped it there).
                walked = base_info is not None and base_info.walk_id == info.walk_id and (
                    sfx is None or _suffix_type(sfx, base_info.codes) is not None)
                self._walk(value, info.walk_id, loc, snap, root, out, base if walked else None)
            elif type_code and type_code not in RESOURCE_TYPES and type_code[:1].isupper():
                subs = info.subs.get(type_code)
                if subs is None:
                    subs = info.subs[type_code] = self._subs(info, type_code)
                sub, base = subs
                if sub is None and type_code == "Extension" and isinstance(value.get("url"), str):
                    sub = self.snapshot(value["url"])  # an extension not named by the profile
                sub = sub or base
                if sub is not None and sub is not snap:
                    done = (id(sub), id(value), loc)
                    if done in self._walked:
                        return
                    self._walked.add(done)
                    self._sub_walk(value, sub, loc, root, out)
                elif sub is snap and sub is not None:
                    self._walk(value, sub.root_id, loc, sub, root, out)

    def _sub_walk(self, value: Json, sub: Snapshot, loc: str, root: Json, out: list[Issue]) -> None:
        """Walk a data type or extension value against its own definition. What that finds depends
        on the value's content alone, but for constraints that read the resource or the clock
        (`contextual`), so the issues of a content once walked are kept (their locations relative
        to `loc`) and given again for equal content elsewhere: the same Codings, Quantities,
        References and extensions recur in every bundle. (A nested value the walk would have
        skipped as walked at the same place already adds only repeats, which the caller drops.)"""
        key = None
        if self.audit is None:
            frozen = _freeze(value)
            if frozen is not None:
                key = (id(sub), frozen)
                found = self._sub_issues.get(key)
                if found is not None:
                    out += [Issue(i.message, loc + i.expression, i.severity, i.code, i.check) for i in found]
                    return
        mark, contextual = len(out), self._contextual
        self._constraints(value, sub.root_plan, loc, sub, root, out)
        self._walk(value, sub.root_id, loc, sub, root, out)
        new = out[mark:]
        if key is not None and self._contextual == contextual and all(
                i.expression.startswith(loc) for i in new):
            if len(self._sub_issues) >= SUB_ISSUES_KEPT:
                self._sub_issues.clear()  # bounded: $validate takes any JSON
            self._sub_issues[key] = tuple(
                Issue(i.message, i.expression[len(loc):], i.severity, i.code, i.check) for i in new)

    def _subs(self, info: _Types, type_code: str) -> tuple[Snapshot | None, Snapshot | None]:
        """The definitions a value of `type_code` without children in the profile is walked against:
        the type's profile named by the element, and the type's base definition."""
        profiles = info.profiles.get(type_code, [])
        return (self.snapshot(profiles[0]) if profiles else None), self.base_snapshot(type_code)

    def _binding(self, value: Any, type_code: str, vs_url: str, el: Json, loc: str, snap: Snapshot,
                 out: list[Issue]) -> None:
        try:
            codes = self.terminology.expand(vs_url)
        except NotExpandable as exc:
            self.stats.value_sets_skipped.setdefault(vs_url.split("|", 1)[0], str(exc))
            return
        if type_code == "code":
            if isinstance(value, str) and not any(c == value for _s, c in codes):
                out.append(Issue(f"{snap.name}: {el['id']}: code '{value}' is not in the required "
                                 f"ValueSet {vs_url}", loc, code="code-invalid", check="binding"))
            return
        listed = value.get("coding") if isinstance(value, dict) else None
        # A coding that is no array (the structural check's finding) holds no Coding to check.
        codings = [value] if type_code == "Coding" else listed if isinstance(listed, list) else []
        coded = [c for c in codings if isinstance(c, dict) and "code" in c]
        if not coded:
            return  # text-only CodeableConcept: nothing to check against the ValueSet
        if not any(_member(c.get("system"), c["code"], codes) for c in coded):
            shown = ", ".join(f"{_shown(c.get('system'))}#{_shown(c['code'])}" for c in coded)
            out.append(Issue(f"{snap.name}: {el['id']}: {shown} is not in the required ValueSet {vs_url}",
                             loc, code="code-invalid", check="binding"))

    def _constraints(self, value: Json, plan: _Plan, loc: str, snap: Snapshot, root: Json,
                     out: list[Issue]) -> None:
        node: Any = None
        for con in plan.constraints:
            if con.contextual:
                self._contextual += 1  # see _sub_walk
            if con.native:
                ok = element_has_content(value)
            else:
                if con.fn is None:
                    self.stats.constraints_skipped.setdefault(
                        con.key, f"fhirpathpy cannot compile: {con.expression}")
                    continue
                decided = con.screen(value, root) if con.screen is not None else None
                if decided is not None:
                    if self.audit is not None:  # tests: the expression must agree
                        self.audit.append((con.expression, value, plan, root, decided))
                    self.stats.constraints_evaluated += 1
                    if not decided:
                        out.append(self._failed(con, snap, loc))
                    continue
                if node is None:
                    node = value
                    if plan.nested or value.get("resourceType") is None:
                        # Tell fhirpathpy the node's type, so choice elements (value[x]) resolve by `value`.
                        node = _resource_node(value, plan.node_type)
                try:
                    result = con.fn(node, {"resource": root, "rootResource": root})
                except Exception as exc:  # fhirpathpy raises plain Exceptions for unsupported functions
                    self.stats.constraints_skipped.setdefault(
                        con.key, f"fhirpathpy cannot evaluate {con.expression}: {exc}")
                    continue
                ok = result != [False]
            self.stats.constraints_evaluated += 1
            if not ok:
                out.append(self._failed(con, snap, loc))

    @staticmethod
    def _failed(con: _Constraint, snap: Snapshot, loc: str) -> Issue:
        return Issue(f"{snap.name}: constraint {con.key} failed: {con.human} ({con.expression})",
                     loc, severity=con.severity, code="invariant", check="constraint")


@cache
def _compiled(expr: str) -> Any:
    from fhirpathpy import compile as fp_compile
    from fhirpathpy.models import models

    try:
        # trace() output goes nowhere: a validator must not print.
        return fp_compile(expr, models["r4"], options={"traceFn": lambda *_: None})
    except Exception:
        return None


def _resource_node(value: Json, path: str) -> Any:
    from fhirpathpy.engine.nodes import ResourceNode

    return ResourceNode.create_node(value, path)
