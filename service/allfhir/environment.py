"""Whether the environment configures allfhir at all: any `ALLFHIR_*` variable.

`settings.Settings` reads every setting from these variables (pydantic-settings, which matches
their names in any case, and reads no other source: no .env file, no secrets folder). With none
of them set, every setting is its default, so a command that needs one or two settings
(`allfhir convert`: the identifier systems) can take the defaults without importing
pydantic-settings, and asyncio and dotenv through it, which is about a tenth of its start-up.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

PREFIX = "ALLFHIR_"


def any_setting(environ: Mapping[str, str] = os.environ) -> bool:
    """True when some variable could be a setting (the data-folder overrides ALLFHIR_MAPPINGS and
    ALLFHIR_FHIR_PACKAGES count too: a false yes only costs the import)."""
    prefix = PREFIX.lower()
    return any(name.lower().startswith(prefix) for name in environ)
