"""Code syntax checks that need no terminology server: LOINC check digit, HGNC ids, NCT ids, HGVS
strings (parsed with biocommons hgvs), and our own bcp-all-subtype CodeSystem (ids of mappings/subtypes.csv).
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import Any

from ..hgvs_syntax import hgvs_error as syntax_error
from .issues import STATS_KEPT, Issue, Stats

LOINC = "http://loinc.org"
HGNC = "http://www.genenames.org"
HGNC_SYSTEMS = ("http://www.genenames.org", "http://www.genenames.org/geneId")
CLINICALTRIALS = "http://clinicaltrials.gov"
HGVS = "http://varnomen.hgvs.org"
SUBTYPE_CS = "https://allfhir.org/fhir/CodeSystem/bcp-all-subtype"

_LOINC_RE = re.compile(r"^(\d{1,7})-(\d)$")
_HGNC_RE = re.compile(r"^HGNC:\d+$")
_NCT_RE = re.compile(r"^NCT\d{8}$")
# HGVS repeated-sequence notation (e.g. NM_004643.3:c.3GGC[14], used by IG examples): biocommons hgvs
# 1.5 has no grammar for it, so such strings are not judged (recorded in Stats.hgvs_repeats_skipped).
_HGVS_REPEAT = re.compile(r"[ACGTU]+\[\d+\]")
_CHOICE = re.compile(
    r"^(value|effective|occurrence|onset|abatement|deceased|multipleBirth|medication)[A-Z]\w*$")


def loinc_check_digit(number: str) -> int:
    """LOINC's mod-10 check digit: from the rightmost digit, double every other digit (starting with
    the rightmost), sum all digits of the results, check = (10 - sum % 10) % 10."""
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
        total += d // 10 + d % 10
    return (10 - total % 10) % 10


def hgvs_error(text: str) -> str | None:
    """The first line of the parser's complaint; a coded HGVS expression needs its reference
    sequence (a bare 'p.Pro80Arg' belongs in text, not in a coding)."""
    if ":" not in text:
        return "no reference sequence (expected e.g. NM_016734.3:c.239C>G)"
    err = syntax_error(text)
    return err.splitlines()[0] if err else None


@cache
def _subtype_ids() -> frozenset[str]:
    from ..knowledge import default

    return frozenset(default().subtypes)


def check_coding(system: str, code: str, stats: Stats | None = None) -> str | None:
    """Why a (system, code) is malformed, or None; what could not be judged goes to `stats`."""
    if system == LOINC:
        m = _LOINC_RE.match(code)
        if m and loinc_check_digit(m.group(1)) != int(m.group(2)):
            return (f"LOINC code '{code}' has a wrong check digit "
                    f"(expected {loinc_check_digit(m.group(1))})")
        if not m and re.match(r"^\d+-?\d*$", code):
            return f"LOINC code '{code}' is not of the form nnnnn-n"
    elif system in HGNC_SYSTEMS:
        if not _HGNC_RE.match(code):
            return f"HGNC id '{code}' is not of the form HGNC:<digits>"
    elif system == CLINICALTRIALS:
        if not _NCT_RE.match(code):
            return f"ClinicalTrials.gov id '{code}' is not of the form NCT<8 digits>"
    elif system == HGVS:
        err = hgvs_error(code)
        if err and _HGVS_REPEAT.search(code):
            # Bounded: the strings are the input's.
            if stats is not None and len(stats.hgvs_repeats_skipped) < STATS_KEPT:
                stats.hgvs_repeats_skipped.add(code)
            return None  # repeat syntax is valid HGVS the parser lacks (see _HGVS_REPEAT)
        if err:
            return f"HGVS '{code}' does not parse: {err}"
    elif system == SUBTYPE_CS:
        if code not in _subtype_ids():
            return f"'{code}' is not a code of {SUBTYPE_CS} (ids of mappings/subtypes.csv)"
    return None


@lru_cache(maxsize=4096)
def _fhirpath_name(key: str) -> str:
    # FHIRPath names a choice element by its stem: valueCodeableConcept -> value (the keys of
    # FHIR JSON are few, so each is worked out once; bounded, since $validate takes any JSON).
    return _CHOICE.sub(r"\1", key)


def _coded(node: Any, path: list[str], out: list[tuple[dict[str, Any], str]]) -> None:
    """(node, location) of every object with a string 'system', depth first; `path` holds the
    location's parts, joined only for such objects (most of a resource is neither)."""
    if isinstance(node.get("system"), str):
        out.append((node, "".join(path)))
    for k, v in node.items():
        if k == "resource" or k == "contained":
            continue  # entries/contained resources are checked with their own locations
        if isinstance(v, dict):
            path.append(f".{_fhirpath_name(k)}")
            _coded(v, path, out)
            path.pop()
        elif isinstance(v, list):
            name = _fhirpath_name(k)
            for i, item in enumerate(v):
                if isinstance(item, dict):
                    path.append(f".{name}[{i}]")
                    _coded(item, path, out)
                    path.pop()


def check_codes(resource: dict[str, Any], loc: str, stats: Stats | None = None) -> list[Issue]:
    out: list[Issue] = []
    found: list[tuple[dict[str, Any], str]] = []
    _coded(resource, [loc], found)
    for node, where in found:
        system = node["system"]
        # Codings carry `code`; Identifiers (e.g. ClinicalTrials.gov ids) carry `value`.
        for key in ("code", "value"):
            val = node.get(key)
            if isinstance(val, str):
                err = check_coding(system, val, stats)
                if err:
                    out.append(Issue(err, f"{where}.{key}", code="code-invalid", check="code-syntax"))
    return out
