"""The wheel ships the report's templates: an installed allfhir renders without the source tree."""

from __future__ import annotations

import site
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import REPO


def test_installed_wheel_renders_a_report(tmp_path: Path) -> None:
    out = tmp_path / "wheel"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out),
                    str(REPO)], check=True, capture_output=True)
    [wheel] = out.glob("allfhir-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"allfhir/report/templates/report.html.j2", "allfhir/report/templates/report.css"} <= names
    target = tmp_path / "installed"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
                    str(target), str(wheel)], check=True, capture_output=True)
    env = {"PYTHONPATH": ":".join([str(target), *site.getsitepackages()]), "PATH": "/usr/bin:/bin"}
    example = REPO / "examples" / "allsorts" / "probabilities.csv"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        # -S: the editable install of this checkout stays invisible
        return subprocess.run([sys.executable, "-S", "-m", "allfhir", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)

    assert run("convert", str(example), "-o", "reports.ndjson").returncode == 0
    rendered = run("report", "reports.ndjson", "--sample", "SJALL015972")
    assert rendered.returncode == 0, rendered.stderr
    assert "<h1>BCP-ALL molecular subtype report - sample SJALL015972</h1>" in rendered.stdout
    pdf = run("report", "reports.ndjson", "--sample", "SJALL015972", "-o", "r.pdf")
    assert pdf.returncode == 0, pdf.stderr
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF-")
