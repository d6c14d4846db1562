"""HGVS syntax checks with the biocommons `hgvs` parser (offline: grammar only, no sequences).

Used by the adapters (VCF annotations, generic JSON) and by the validator, so one parser decides
what a valid HGVS string is everywhere.
"""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def _parser() -> Any:
    """The parser, built once on first use (building the grammar takes about a second)."""
    import hgvs.parser

    return hgvs.parser.Parser()


def hgvs_error(expression: str) -> str | None:
    """None when the expression parses as an HGVS variant, else the parser's message."""
    import hgvs.exceptions

    # A bare 'p.' (SnpEff writes no protein accession) is checked behind a placeholder accession:
    # the parser needs one, and the placeholder is never stored.
    text = expression if ":" in expression else f"NP_000000.0:{expression}"
    try:
        _parser().parse_hgvs_variant(text)
    except hgvs.exceptions.HGVSError as exc:
        return str(exc)
    return None
