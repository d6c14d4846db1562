"""The conformance resources this server publishes: the JSON SUSHI compiled from profiles/
(`allfhir.conformance.compiled_dir()`), read once per process and folder, indexed by id and url.

They are files of the release, not data of the store: they change with a deployment, never
with a request, so they are not kept in the database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ..conformance import compiled_dir

Json = dict[str, Any]
TYPES = ("StructureDefinition", "CodeSystem", "ValueSet", "ConceptMap", "NamingSystem",
         "OperationDefinition")


@dataclass(frozen=True, slots=True)
class Catalogue:
    by_id: dict[tuple[str, str], Json]  # (type, id) -> resource
    by_type: dict[str, list[Json]]  # type -> resources, in file-name order

    def read(self, rtype: str, rid: str) -> Json | None:
        return self.by_id.get((rtype, rid))

    def find(self, rtype: str, url: str | None) -> list[Json]:
        """Resources of `rtype`, all or those whose canonical url is `url` (`url|version` too);
        a NamingSystem has no url in R4: its uri-typed uniqueId stands for it."""
        found = self.by_type.get(rtype, [])
        if url is None:
            return found
        base, _, version = url.partition("|")
        return [r for r in found if base in canonicals(r) and (not version or r.get("version") == version)]

    def code_system(self, url: str) -> Json | None:
        hits = self.find("CodeSystem", url)
        return hits[0] if hits else None


def canonicals(resource: Json) -> list[str]:
    if resource.get("resourceType") == "NamingSystem":
        return [u["value"] for u in resource.get("uniqueId") or [] if u.get("type") == "uri"]
    return [resource["url"]] if resource.get("url") else []


@cache
def load(folder: Path) -> Catalogue:
    by_id: dict[tuple[str, str], Json] = {}
    by_type: dict[str, list[Json]] = {t: [] for t in TYPES}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        res = json.loads(path.read_text(encoding="utf-8"))
        rtype = res.get("resourceType")
        if rtype in by_type and isinstance(res.get("id"), str):
            by_id[(rtype, res["id"])] = res
            by_type[rtype].append(res)
    return Catalogue(by_id, by_type)


def default() -> Catalogue:
    return load(compiled_dir())
