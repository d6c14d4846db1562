"""Snapshot generation for differential-only StructureDefinitions (SUSHI output).

The profile walker (profile.py) only reads snapshots, and SUSHI writes differentials only. This is a
small generator that covers what our own profiles use, not the full FHIR algorithm:
  - start from the base definition's snapshot (generated recursively when the base is differential-only);
  - differential element whose id is in the snapshot: merge it (see MERGE_KEYS, fixed/pattern, constraint);
  - new slice 'X:s' of an existing X: clone X's subtree (as the base profile defined it, before this
    differential constrained X) under the slice id, insert it after X's last descendant/slice, merge;
  - new child under an element without children in the snapshot (value[x].coding, value[x].system):
    expand the parent's (single, possibly differential-restricted) type from its base definition.
Not handled (raise SnapshotError, the profile then stays "not known"): re-slicing ('X:a/b'), children of
multi-typed choice elements, contentReference parents, type changes of the root.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

Json = dict[str, Any]
# Simple replace-on-merge properties (type and binding replace too: a differential narrows them whole).
MERGE_KEYS = ("min", "max", "type", "binding", "slicing", "mustSupport", "short", "definition", "comment",
              "requirements", "maxLength", "isModifier", "isSummary", "sliceName")


class SnapshotError(ValueError):
    pass


def _is_fixed_or_pattern(key: str) -> bool:
    return key.startswith("fixed") or key.startswith("pattern")


def merge(target: Json, diff: Json) -> None:
    """Apply one differential element onto a snapshot element in place."""
    for key in MERGE_KEYS:
        if key in diff:
            target[key] = copy.deepcopy(diff[key])
    if any(_is_fixed_or_pattern(k) for k in diff):
        # Only one fixed[x]/pattern[x] may exist: the differential's replaces the base's.
        for k in [k for k in target if _is_fixed_or_pattern(k)]:
            del target[k]
        for k, v in diff.items():
            if _is_fixed_or_pattern(k):
                target[k] = copy.deepcopy(v)
    if diff.get("constraint"):
        # Constraints accumulate down the profile chain; a repeated key (same invariant) is not doubled.
        have = {c.get("key") for c in target.get("constraint", [])}
        target.setdefault("constraint", []).extend(
            copy.deepcopy(c) for c in diff["constraint"] if c.get("key") not in have)


def _split_last(eid: str) -> tuple[str, str]:
    """'A.b:s.c' -> ('A.b:s', 'c'); the parent id and last segment (slice names have no dots here)."""
    parent, _, last = eid.rpartition(".")
    return parent, last


def _in_subtree(eid: str, root: str, with_slices: bool) -> bool:
    if eid == root or eid.startswith(root + "."):
        return True
    return with_slices and eid.startswith(root + ":")


class _Builder:
    def __init__(self, elements: list[Json], base_type: Callable[[str], Json | None]) -> None:
        self.elements = elements
        # The base profile's elements as they were before this differential: new slices clone these.
        self.original = {e["id"]: copy.deepcopy(e) for e in elements}
        self.base_type = base_type

    def _pos(self, eid: str) -> int | None:
        for i, e in enumerate(self.elements):
            if e["id"] == eid:
                return i
        return None

    def ensure(self, eid: str) -> Json:
        """The snapshot element with this id, creating it (slice clone / type expansion) when needed."""
        pos = self._pos(eid)
        if pos is not None:
            return self.elements[pos]
        parent_id, last = _split_last(eid)
        if not parent_id:
            raise SnapshotError(f"element {eid} is not in the base snapshot")
        name, _, slice_name = last.partition(":")
        if slice_name:
            if "/" in slice_name:
                raise SnapshotError(f"re-slice {eid} not supported")
            sliced = f"{parent_id}.{name}"
            self.ensure(sliced)
            self._add_slice(sliced, slice_name)
        else:
            parent = self.ensure(parent_id)
            self._expand(parent)
        pos = self._pos(eid)
        if pos is None:
            raise SnapshotError(f"element {eid} not found under its parent's type")
        return self.elements[pos]

    def _add_slice(self, sliced: str, slice_name: str) -> None:
        new_root = f"{sliced}:{slice_name}"
        subtree = [e for e in self.elements if _in_subtree(e["id"], sliced, with_slices=False)]
        clones = []
        for e in subtree:
            clone = copy.deepcopy(self.original.get(e["id"], e))
            clone["id"] = new_root + e["id"][len(sliced):]
            clones.append(clone)
        # The slice is one member of the sliced element: it carries no slicing of its own.
        clones[0].pop("slicing", None)
        clones[0]["sliceName"] = slice_name
        # After X, its descendants and its existing slices (with their descendants).
        last = max(i for i, e in enumerate(self.elements) if _in_subtree(e["id"], sliced, with_slices=True))
        self.elements[last + 1:last + 1] = clones

    def _expand(self, parent: Json) -> None:
        pid = parent["id"]
        if any(e["id"].startswith(pid + ".") for e in self.elements):
            return  # children are there already: the missing one does not exist in this type
        if parent.get("contentReference"):
            raise SnapshotError(f"cannot expand {pid}: contentReference")
        codes = [t.get("code") for t in parent.get("type", [])]
        if len(codes) != 1 or not codes[0]:
            # value[x] with several types: the differential must first restrict it to one.
            raise SnapshotError(f"cannot expand {pid}: types {codes}")
        sd = self.base_type(codes[0])
        elements = ((sd or {}).get("snapshot") or {}).get("element") or []
        if not elements:
            raise SnapshotError(f"no base definition with a snapshot for type {codes[0]}")
        type_root = elements[0]["id"]
        children = []
        for e in elements[1:]:
            child = copy.deepcopy(e)
            # Re-root 'Quantity.system' as '<parent id>.system' (path likewise, from the parent's path).
            child["id"] = pid + e["id"][len(type_root):]
            child["path"] = parent["path"] + e["path"][len(type_root):]
            children.append(child)
        pos = self._pos(pid)
        assert pos is not None
        self.elements[pos + 1:pos + 1] = children


def generate(sd: Json, base_snapshot: Json, base_type: Callable[[str], Json | None]) -> Json:
    """A copy of `sd` with a snapshot built from `base_snapshot` (the base SD's snapshot) and its
    differential; raises SnapshotError for constructs this generator does not handle."""
    elements = copy.deepcopy(base_snapshot.get("element") or [])
    if not elements:
        raise SnapshotError("base has an empty snapshot")
    builder = _Builder(elements, base_type)
    for diff in (sd.get("differential") or {}).get("element") or []:
        eid = diff.get("id") or diff.get("path")
        if not isinstance(eid, str):
            raise SnapshotError(f"differential element without id: {diff}")
        merge(builder.ensure(eid), diff)
    out = dict(sd)
    out["snapshot"] = {"element": builder.elements}
    return out
