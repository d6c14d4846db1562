"""Offline ValueSet expansion from the packages, for 'required' bindings.

A ValueSet is expandable when every compose.include is either an explicit concept list or a whole
CodeSystem whose content is 'complete' in the packages (or nested ValueSets that are). Filters,
external code systems (LOINC, SNOMED, HGNC...) and incomplete code systems make it unexpandable: the
binding is then skipped and the reason recorded in Stats.value_sets_skipped.
"""

from __future__ import annotations

from typing import Any

from .packages import Packages

Codes = frozenset[tuple[str, str]]  # (system, code)


class NotExpandable(Exception):
    pass


def _cs_codes(concepts: list[dict[str, Any]], system: str, out: set[tuple[str, str]]) -> None:
    for c in concepts:
        if "code" in c:
            out.add((system, c["code"]))
        _cs_codes(c.get("concept", []), system, out)


class Terminology:
    def __init__(self, packages: Packages) -> None:
        self.packages = packages
        self._cache: dict[str, Codes | str] = {}

    def expand(self, url: str) -> Codes:
        """The (system, code) pairs of a ValueSet; raises NotExpandable(why)."""
        url = url.split("|", 1)[0]
        hit = self._cache.get(url)
        if hit is None:
            try:
                hit = frozenset(self._expand(url, set()))
            except NotExpandable as exc:
                hit = str(exc)
            self._cache[url] = hit
        if isinstance(hit, str):
            raise NotExpandable(hit)
        return hit

    def _expand(self, url: str, seen: set[str]) -> set[tuple[str, str]]:
        if url in seen:
            raise NotExpandable(f"ValueSet {url} includes itself")
        seen = seen | {url}
        vs = self.packages.value_set(url)
        if vs is None:
            raise NotExpandable(f"ValueSet {url} is not in the packages")
        compose = vs.get("compose")
        if not compose:
            expansion = vs.get("expansion", {}).get("contains")
            if expansion:
                return {(c["system"], c["code"]) for c in expansion if "code" in c}
            raise NotExpandable(f"ValueSet {url} has no compose")
        out: set[tuple[str, str]] = set()
        for inc in compose.get("include", []):
            out |= self._include(inc, seen, url)
        for exc in compose.get("exclude", []):
            out -= self._include(exc, seen, url)
        return out

    def _include(self, inc: dict[str, Any], seen: set[str], url: str) -> set[tuple[str, str]]:
        if inc.get("filter"):
            raise NotExpandable(f"ValueSet {url} uses a filter on {inc.get('system')}")
        part: set[tuple[str, str]] | None = None
        system = inc.get("system")
        if system and inc.get("concept"):
            part = {(system, c["code"]) for c in inc["concept"]}
        elif system:
            cs = self.packages.code_system(system)
            if cs is None:
                raise NotExpandable(f"ValueSet {url} includes code system {system}, not in the packages")
            if cs.get("content") != "complete":
                raise NotExpandable(f"ValueSet {url} includes code system {system} "
                                    f"(content {cs.get('content')})")
            part = set()
            _cs_codes(cs.get("concept", []), system, part)
        for vs_url in inc.get("valueSet", []):
            nested = self._expand(vs_url.split("|", 1)[0], seen)
            part = nested if part is None else part & nested
        return part or set()
