"""Validate FHIR resources/bundles allfhir emits (design: the docstring of allfhir/validation/__init__.py)."""

from __future__ import annotations

from typing import Any

from .codes import check_codes
from .issues import Issue, Stats, operation_outcome
from .nesting import nesting_issue
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
        try:
            return self._validate(resource, rtype)
        except RecursionError:
            # The checks recurse along the JSON: a document nested hundreds of levels deep exhausts
            # the stack (the caches are left consistent: each entry is stored once computed).
            # $validate refuses such input before it gets here (nesting_issue); other callers get
            # the same issue, or this one when the stack was short of MAX_DEPTH levels.
            return [nesting_issue(resource, rtype) or Issue(
                "objects and arrays nested too deeply to validate", rtype, code="structure",
                check="structure")]

    def _validate(self, resource: dict[str, Any], rtype: str) -> list[Issue]:
        issues = check_structure(resource, rtype)
        if rtype == "Bundle":
            issues += self._resource(resource, "Bundle", resource)
            # A malformed entry list (an object, a string ...) is the structural check's finding.
            for i, entry in enumerate(_listed(resource.get("entry"))):
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
        meta = res.get("meta")
        # A meta or profile of the wrong JSON type is the structural check's finding: no profiles.
        # (A string or object profile is iterated as before: its characters or keys are unknown URLs.)
        profiles = meta.get("profile") if isinstance(meta, dict) else None
        for url in profiles if isinstance(profiles, list | str | dict) else ():
            if isinstance(url, str) and url.split("|", 1)[0] not in urls:
                urls.append(url.split("|", 1)[0])
        out: list[Issue] = []
        walked: set[tuple[int, int, str]] = set()  # see ProfileValidator.validate
        for url in urls:
            # Every profile walk after the first (the base definition) skips what the base checked.
            out += self.profiles.validate(res, loc, url, root, walked, None if url == urls[0] else urls[0])
        out += check_codes(res, loc, self.stats)
        for i, contained in enumerate(_listed(res.get("contained"))):
            if isinstance(contained, dict) and isinstance(contained.get("resourceType"), str):
                out += self._resource(contained, f"{loc}.contained[{i}]", contained)
        return _dedupe(out)


def _listed(value: Any) -> list[Any]:
    """A JSON array's items; nothing for any other value (which the structural check refuses)."""
    return value if isinstance(value, list) else []


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
