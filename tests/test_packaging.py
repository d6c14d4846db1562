"""A wheel (what `pip install allfhir` installs) is the package `allfhir` alone, carrying the
knowledge and the conformance JSON, and converts without the source tree."""

from __future__ import annotations

import json
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "-w", str(out), str(REPO)], check=True, capture_output=True)
    [built] = out.glob("allfhir-*.whl")
    return built


def test_wheel_is_allfhir_alone_with_mappings_and_compiled_profiles(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    names = set(archive.namelist())
    [top_level] = [n for n in names if n.endswith(".dist-info/top_level.txt")]
    assert archive.read(top_level).decode().split() == ["allfhir"]
    assert {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")} == {"allfhir"}
    mappings = {p.name for p in (REPO / "mappings").iterdir() if p.suffix in (".csv", ".tsv", ".md")}
    assert {f"allfhir/mappings/{n}" for n in mappings} <= names
    compiled = {p.name for p in (REPO / "profiles" / "fsh-generated" / "resources").glob("*.json")}
    assert {f"allfhir/profiles/{n}" for n in compiled} <= names
    assert "allfhir/profiles/StructureDefinition-bcp-all-subtype-implication.json" in names
    assert "allfhir/validation/snapshot.py" in names and "allfhir/ingest/vcf.py" in names
    assert "allfhir/__main__.py" in names


def test_installed_wheel_converts_without_the_source_tree(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "installed"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
                    str(target), str(wheel)], check=True, capture_output=True)
    # -S: no site processing, so the editable install of this checkout is invisible; the
    # dependencies come from this environment's site-packages, allfhir only from the wheel.
    path = [str(target), *site.getsitepackages()]
    env = {"PYTHONPATH": ":".join(path), "PATH": "/usr/bin:/bin"}
    example = REPO / "examples" / "allsorts"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-S", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)

    where = run("-c", "import allfhir, allfhir.knowledge as k; print(allfhir.__file__); "
                      "print(k.mappings_dir())")
    assert where.returncode == 0, where.stderr
    assert where.stdout.splitlines() == [str(target / "allfhir" / "__init__.py"),
                                         str(target / "allfhir" / "mappings")]
    converted = run("-m", "allfhir", "convert", str(example / "probabilities.csv"),
                    str(example / "SJBALL043684.arriba.fusions.tsv"))
    assert converted.returncode == 0, converted.stderr
    bundles = [json.loads(line) for line in converted.stdout.splitlines()]
    assert [b["entry"][0]["resource"]["identifier"][0]["value"] for b in bundles] == [
        "allsorts:SJBALL043684", "allsorts:SJALL015972", "allsorts:SJBALL014030"]
    assert run("-c", "import service").returncode == 1


def test_installed_wheel_migrates_its_database(wheel: Path, tmp_path: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"allfhir/store/migrations/env.py", "allfhir/store/migrations/script.py.mako",
            "allfhir/store/migrations/versions/0001_initial_schema.py", "allfhir/api/fhir.py"} <= names
    target = tmp_path / "installed"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
                    str(target), str(wheel)], check=True, capture_output=True)
    env = {"PYTHONPATH": ":".join([str(target), *site.getsitepackages()]), "PATH": "/usr/bin:/bin",
           "ALLFHIR_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-S", "-m", "allfhir", "db", "upgrade"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (0, "database at the current schema\n"), done.stderr
    assert (tmp_path / "data" / "allfhir.db").is_file()
