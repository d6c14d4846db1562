"""Shared fixtures: the real curated knowledge and the workplace's real example files."""

from __future__ import annotations

from pathlib import Path

import pytest

from allfhir import knowledge
from allfhir.knowledge import Knowledge

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
# Real classifier outputs live beside the repository in this workplace only; tests that need them
# skip elsewhere (several of those files may not be redistributed).
SHARED = REPO.parent / "shared"
needs_shared = pytest.mark.skipif(not (SHARED / "classifier-examples").is_dir(),
                                  reason="../shared/classifier-examples is not present")


@pytest.fixture(scope="session")
def kb() -> Knowledge:
    return knowledge.default()


@pytest.fixture(scope="session")
def profile_validator() -> object:
    """The FHIR profile validator (allfhir.validation); skips when the FHIR packages are absent
    (`allfhir packages fetch`, which .ci/run runs, provides them)."""
    from allfhir.validation.packages import missing_reason
    from allfhir.validation.validator import Validator

    if missing_reason():
        pytest.skip(str(missing_reason()))
    return Validator()
