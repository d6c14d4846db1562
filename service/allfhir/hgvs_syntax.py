"""HGVS syntax checks with the biocommons `hgvs` parser (offline: grammar only, no sequences).

Used by the adapters (VCF annotations, generic JSON) and by the validator, so one parser decides
what a valid HGVS string is everywhere.

The grammar parse costs about a millisecond a string (a VCF has several per record). Most strings
are of a few plain forms (substitutions, small deletions / duplications / insertions, missense and
nonsense protein changes), so a regular expression recognises those first: it matches only strings
the grammar accepts (a strict subset of it; tests/test_hgvs_syntax.py checks that against the
parser), and everything it does not match is parsed, so every error the grammar finds is still
found, with the grammar's own message.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

# Pieces of the grammar (hgvs/_data/hgvs.pymeta), ASCII only (the grammar's letters are wider).
_ACCESSION = r"[A-Za-z](?:[A-Za-z0-9]|[-_](?=[A-Za-z0-9]))*(?:\.[0-9]+)?"
_NT = r"[ACGT]"
_N_POS = r"[-+]?[0-9]+(?:[-+][0-9]+)?"  # base and offset
_C_POS = r"(?:[-+]?[0-9]+|\*[0-9]+)(?:[-+][0-9]+)?"  # c. also counts after the stop codon: *base
_G_POS = r"[0-9]+"
_NT_EDIT = rf"(?:{_NT}>{_NT}|del{_NT}*|dup{_NT}*|ins{_NT}+|delins{_NT}+|=)"
_AA3 = r"(?:Ala|Arg|Asn|Asp|Cys|Gln|Glu|Gly|His|Ile|Leu|Lys|Met|Phe|Pro|Ser|Thr|Trp|Tyr|Val)"
_P_POS = rf"{_AA3}[0-9]+"
_P_EDIT = (rf"(?:{_P_POS}(?:{_AA3}|Ter|=|del|dup|(?:{_AA3})?fs(?:Ter[0-9]+)?)"
           rf"|{_P_POS}_{_P_POS}(?:del|dup|ins{_AA3}+|delins{_AA3}+))")
_PLAIN = re.compile(
    rf"{_ACCESSION}:(?:"
    rf"c\.{_C_POS}(?:_{_C_POS})?{_NT_EDIT}"
    rf"|n\.{_N_POS}(?:_{_N_POS})?{_NT_EDIT}"
    rf"|g\.{_G_POS}(?:_{_G_POS})?{_NT_EDIT}"
    rf"|p\.(?:{_P_EDIT}|\({_P_EDIT}\))"
    r")"
)


@cache
def _parser() -> Any:
    """The parser, built once on first use (building the grammar takes about a second)."""
    import hgvs.parser

    return hgvs.parser.Parser()


def _qualified(expression: str) -> str:
    # A bare 'p.' (SnpEff writes no protein accession) is checked behind a placeholder accession:
    # the parser needs one, and the placeholder is never stored.
    return expression if ":" in expression else f"NP_000000.0:{expression}"


def parse_error(expression: str) -> str | None:
    """The grammar's verdict alone (no pre-screen): None when it parses, else the message."""
    import hgvs.exceptions

    try:
        _parser().parse_hgvs_variant(_qualified(expression))
    except hgvs.exceptions.HGVSError as exc:
        return str(exc)
    return None


def hgvs_error(expression: str) -> str | None:
    """None when the expression parses as an HGVS variant, else the parser's message."""
    if _PLAIN.fullmatch(_qualified(expression)):
        return None
    return parse_error(expression)
