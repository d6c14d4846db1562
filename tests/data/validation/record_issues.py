"""Record every issue (all severities) the validator finds on the IG examples and the negative fixtures.

Run from the repo root: python tests/data/validation/record_issues.py
The result, issues-recorded.json, is what tests/test_validation_recorded.py compares against: a change
that makes the validator faster must find exactly the same issues, in the same order.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
REPO = HERE.parents[2]
sys.path.insert(0, str(REPO))

from allfhir.validation.packages import packages_dir  # noqa: E402
from allfhir.validation.validator import Validator  # noqa: E402

OUT = HERE / "issues-recorded.json"


def inputs() -> list[tuple[str, Path]]:
    """(label, path): IG examples by file name, negative fixtures by file name."""
    examples = sorted((packages_dir() / "ig" / "package" / "example").glob("*.json"))
    fixtures = sorted(HERE.glob("bad-*.json"))
    return [(f"ig/{p.name}", p) for p in examples] + [(f"fixture/{p.name}", p) for p in fixtures]


def issues_of(validator: Validator, path: Path) -> list[list[str]]:
    resource: Any = json.loads(path.read_text(encoding="utf-8"))
    return [[i.severity, i.code, i.check, i.expression, i.message] for i in validator.validate(resource)]


def record() -> dict[str, list[list[str]]]:
    validator = Validator()
    return {label: issues_of(validator, path) for label, path in inputs()}


if __name__ == "__main__":
    OUT.write_text(json.dumps(record(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")
