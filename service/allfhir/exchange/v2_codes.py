"""The two tables an HL7 v2 message needs from mappings/: which LOINC an OBX-3 may carry, and the
HL7 table 0396 name of each FHIR code system (CWE-3).

Both are curated CSV with a source per row (mappings/v2_observations.csv,
mappings/v2_coding_systems.csv); nothing here is a code literal.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..knowledge import mappings_dir, numbered_records


@dataclass(frozen=True, slots=True)
class V2Codes:
    loinc: dict[str, str]  # LOINC code -> display as the cited source writes it ("" when none)
    systems: dict[str, str]  # FHIR system URL -> HL7 table 0396 name (CWE-3 / CWE-6)


@lru_cache(maxsize=4)
def v2_codes(root: Path | None = None) -> V2Codes:
    root = root or mappings_dir()
    loinc = {r["loinc_code"]: r["display"]
             for _, r in numbered_records(root / "v2_observations.csv")}
    systems = {r["fhir_system"]: r["v2_name"]
               for _, r in numbered_records(root / "v2_coding_systems.csv")}
    return V2Codes(loinc=loinc, systems=systems)
