"""Validate FHIR resources/bundles allfhir emits (design: the docstring of allfhir/validation/__init__.py)."""

from __future__ import annotations

from typing import Any

from .codes import check_codes
from .issues import Issue, Stats, operation_outcome
from .packages import Packages
from .packages import default as default_packages
from .profile import ProfileValidator
from .references import check_bundle
from .structural import check_structure
from .terminology import Terminology

BASE = "http://hl7.org/fhir/StructureDefinition/"


class Validator:
    """Reusable (caches snapshots, ValueSet expansions, compiled FHIRPath); not thread-safe."""

    def __init__(self, packages: Packages | None = None) -> None:
        self.packages = packages or default_packages()
        self.stats = Stats()
        self.terminology = Terminology(self.packages)
        self.profiles = ProfileValidator(self.packages, self.terminology, self.stats)

    def validate(self, resource: dict[str, Any]) -> list[Issue]:
        rtype = resource.get("resourceType") if isinstance(resource, dict) else None
        if not isinstance(rtype, str):
            return [Issue("not a FHIR resource (no resourceType)", "$this", code="structure",
                          check="structure")]
        issues = check_structure(resource, rtype)
        if rtype == "Bundle":
            issues += self._resource(resource, "Bundle", resource)
            for i, entry in enumerate(resource.get("entry") or []):
                res = entry.get("resource") if isinstance(entry, dict) else None
                if isinstance(res, dict) and isinstance(res.get("resourceType"), str):
                    issues += self._resource(res, f"Bundle.entry[{i}].resource", res)
            issues += check_bundle(resource)
        else:
            issues += self._resource(resource, rtype, resource)
        return issues

    def _resource(self, res: dict[str, Any], loc: str, root: dict[str, Any]) -> list[Issue]:
        rtype = res["resourceType"]
        urls = [BASE + rtype]
        for url in (res.get("meta") or {}).get("profile") or []:
            if isinstance(url, str) and url.split("|", 1)[0] not in urls:
                urls.append(url.split("|", 1)[0])
        out: list[Issue] = []
        walked: set[tuple[int, int, str]] = set()  # see ProfileValidator.validate
        for url in urls:
            # Every profile walk after the first (the base definition) skips what the base checked.
            out += self.profiles.validate(res, loc, url, root, walked, None if url == urls[0] else urls[0])
        out += check_codes(res, loc, self.stats)
        for i, contained in enumerate(res.get("contained") or []):
            if isinstance(contained, dict) and isinstance(contained.get("resourceType"), str):
                out += self._resource(contained, f"{loc}.contained[{i}]", contained)
        return _dedupe(out)


def _dedupe(issues: list[Issue]) -> list[Issue]:
    # Base and profile walks both report e.g. a base cardinality error: keep one.
    seen: set[tuple[str, str, str]] = set()
    out = []
    for i in issues:
        key = (i.expression, i.message.split(": ", 1)[-1], i.severity)
        if key not in seen:
            seen.add(key)
            out.append(i)
    return out


_shared: Validator | None = None


def validate(resource: dict[str, Any]) -> list[Issue]:
    """Issues for one resource or Bundle (a shared Validator; packages must be present)."""
    global _shared
    if _shared is None:
        _shared = Validator()
    return _shared.validate(resource)


def validate_to_outcome(resource: dict[str, Any]) -> dict[str, Any]:
    return operation_outcome(validate(resource))
