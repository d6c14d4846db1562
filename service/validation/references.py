"""Bundle integrity: fullUrls unique, every reference resolves to an entry of the bundle."""

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
    for i, entry in enumerate(entries):
        for ref, where in _references(entry.get("resource") or {}, f"Bundle.entry[{i}].resource"):
            if ref.startswith("#"):
                continue  # contained resource
            relative = ref.startswith("urn:uuid:") or ref.startswith("urn:oid:") or (
                "://" not in ref and ref.count("/") in (1, 3))
            if relative and ref.split("/_history/", 1)[0] not in targets:
                out.append(Issue(f"reference '{ref}' does not resolve to an entry of the bundle", where,
                                 code="not-found", check="bundle"))
    return out
