"""A wheel (what `pip install allfhir` installs) carries the knowledge and the conformance JSON."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from .conftest import REPO


def test_wheel_ships_mappings_and_compiled_profiles(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "-w", str(tmp_path), str(REPO)], check=True, capture_output=True)
    [wheel] = tmp_path.glob("allfhir-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    mappings = {p.name for p in (REPO / "mappings").iterdir() if p.suffix in (".csv", ".tsv", ".md")}
    assert {f"service/mappings/{n}" for n in mappings} <= names
    compiled = {p.name for p in (REPO / "profiles" / "fsh-generated" / "resources").glob("*.json")}
    assert {f"service/profiles/{n}" for n in compiled} <= names
    assert "service/profiles/StructureDefinition-bcp-all-subtype-implication.json" in names
    assert "service/validation/snapshot.py" in names and "service/ingest/vcf.py" in names
