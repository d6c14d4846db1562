"""Bundle integrity: fullUrls unique, references resolve.

A `urn:uuid:` / `urn:oid:` reference names a bundle entry and nothing else, so an unresolved one is
an error; so is any unresolved reference in a document bundle, which must be self-contained. A
relative `Patient/p1` in a collection or transaction points at the receiving server (a hospital's
own patient record), so there it is only a warning."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .issues import Issue


def _references(node: Any, loc: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        ref = node.get("reference")
        if isinstance(ref, str):
            yield ref, f"{loc}.reference"
        for k, v in node.items():
            if isinstance(v, list):
                for i, item in enumerate(v):
                    yield from _references(item, f"{loc}.{k}[{i}]")
            elif isinstance(v, dict):
                yield from _references(v, f"{loc}.{k}")


def check_bundle(bundle: dict[str, Any]) -> list[Issue]:
    out: list[Issue] = []
    entries = bundle.get("entry") or []
    targets: set[str] = set()
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries):
        full = entry.get("fullUrl")
        res = entry.get("resource") or {}
        if isinstance(full, str):
            if full in seen:
                out.append(Issue(f"fullUrl '{full}' is not unique (also Bundle.entry[{seen[full]}])",
                                 f"Bundle.entry[{i}].fullUrl", code="duplicate", check="bundle"))
            seen.setdefault(full, i)
            targets.add(full)
        if res.get("resourceType") and res.get("id"):
            # A relative reference 'Type/id' resolves to the entry holding that resource.
            targets.add(f"{res['resourceType']}/{res['id']}")
            if isinstance(full, str) and full.endswith(f"/{res['resourceType']}/{res['id']}"):
                targets.add(full)
    document = bundle.get("type") == "document"
    for i, entry in enumerate(entries):
        for ref, where in _references(entry.get("resource") or {}, f"Bundle.entry[{i}].resource"):
            if ref.startswith("#"):
                continue  # contained resource
            urn = ref.startswith(("urn:uuid:", "urn:oid:"))
            relative = "://" not in ref and ref.count("/") in (1, 3)
            if not (urn or relative) or ref.split("/_history/", 1)[0] in targets:
                continue
            if urn or document:
                out.append(Issue(f"reference '{ref}' does not resolve to an entry of the bundle", where,
                                 code="not-found", check="bundle"))
            else:
                out.append(Issue(f"reference '{ref}' is not in the bundle: the receiving server must "
                                 "hold it", where, severity="warning", code="not-found", check="bundle"))
    return out
