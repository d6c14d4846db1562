"""Bundle integrity: fullUrls unique, references resolve.

A `urn:uuid:` / `urn:oid:` reference names a bundle entry and nothing else, so an unresolved one is
an error; so is any unresolved reference in a document bundle, which must be self-contained. A
relative `Patient/p1` in a collection or transaction points at the receiving server (a hospital's
own patient record), so there it is only a warning."""

from __future__ import annotations

from typing import Any

from .issues import Issue


def _references(node: dict[str, Any], path: list[str], out: list[tuple[str, str]]) -> None:
    """(reference, location) of every string 'reference' under node, depth first; `path` holds the
    location's parts, joined only where there is a reference."""
    ref = node.get("reference")
    if isinstance(ref, str):
        out.append((ref, "".join(path) + ".reference"))
    for k, v in node.items():
        if isinstance(v, list):
            for i, item in enumerate(v):
                if isinstance(item, dict):
                    path.append(f".{k}[{i}]")
                    _references(item, path, out)
                    path.pop()
        elif isinstance(v, dict):
            path.append(f".{k}")
            _references(v, path, out)
            path.pop()


def _entries(bundle: dict[str, Any]) -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
    """(index, entry, its resource or {}) of the entries that are JSON objects; an entry list,
    entry or resource of another JSON type is the structural check's finding, not followed here."""
    entries = bundle.get("entry")
    out = []
    for i, entry in enumerate(entries if isinstance(entries, list) else ()):
        if isinstance(entry, dict):
            res = entry.get("resource")
            out.append((i, entry, res if isinstance(res, dict) else {}))
    return out


def check_bundle(bundle: dict[str, Any]) -> list[Issue]:
    out: list[Issue] = []
    entries = _entries(bundle)
    targets: set[str] = set()
    seen: dict[str, int] = {}
    for i, entry, res in entries:
        full = entry.get("fullUrl")
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
    for i, _entry, res in entries:
        found: list[tuple[str, str]] = []
        _references(res, [f"Bundle.entry[{i}].resource"], found)
        for ref, where in found:
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
