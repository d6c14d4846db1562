"""allfhir.hgvs_syntax: the regular-expression pre-screen accepts only what the grammar accepts, so
hgvs_error gives exactly the parser's verdict (and message) on every string."""

from __future__ import annotations

import random

from allfhir.hgvs_syntax import _PLAIN, _qualified, hgvs_error, parse_error

ACCESSIONS = ["NM_016734.3", "NP_057953.1", "ENST00000358127.9", "ENSP00000350844.4", "NC_000009.12",
              "LRG_1t1", "NM-1.2", "a", "NM__1.2", "NM_1.", "NM_1-", "1NM_1.2", "NM_1.2.3", ""]
C_POS = ["239", "-14", "+3", "370+12", "100-2", "*5", "*5+1", "*", "0", "12a", "-", "1++2", "3-"]
EDITS = ["C>G", "A>T", "N>A", "c>g", "C>>G", "C>", "del", "delA", "delAT", "del3", "dup", "dupGC",
         "insA", "ins", "insAC", "delinsAT", "delins", "=", "A=", "inv", ">G", "CG>T", "C>GT"]
AA = ["Pro", "Arg", "Ter", "Ala", "Xaa", "P", "pro", "Prx", "*", "X"]
P_EDITS = ["Arg", "Ter", "=", "del", "dup", "fs", "ArgfsTer5", "fsTer", "fsTer12", "Valfs", "insAla",
           "insAlaGly", "delinsArg", "ins", "Arg ", "R", "*", "extTer5", "?"]


def _corpus(n: int = 2500) -> list[str]:
    rng = random.Random(9)
    out = ["c.239C>G", "p.Pro80Arg", "p.(Pro80Arg)", "p.Pro80=", "p.Pro80%3D", "NM_016734.3:c.239C>>G",
           "NP_057953.1:p.Pro80Arg", "NP_057953.1:p.(Pro80Arg", "NM_016734.3:c.239_240delinsAT",
           "NC_000009.12:g.37015165G>C", "NC_000009.12:g.37015165_37015166del", "n.5A>G",
           "NM_016734.3(PAX5):c.239C>G", "NM_016734.3:c.239C>G ", " NM_016734.3:c.239C>G",
           "NM_016734.3:c.(239C>G)", "NP_1.1:p.Lys12_Gly14del", "NP_1.1:p.Lys12_Gly13insAlaGly"]
    for _ in range(n):
        acc = rng.choice(ACCESSIONS)
        kind = rng.choice("ccngpp")
        if kind == "p":
            pos = f"{rng.choice(AA)}{rng.choice(['80', '1', '', '0'])}"
            if rng.random() < 0.3:
                pos += f"_{rng.choice(AA)}{rng.choice(['82', '3'])}"
            body = pos + rng.choice(P_EDITS)
            if rng.random() < 0.2:
                body = f"({body})"
        else:
            pos = rng.choice(C_POS if kind in "cn" else ["37015165", "1", "0", "-5", "*5"])
            if rng.random() < 0.3:
                pos += "_" + rng.choice(C_POS if kind in "cn" else ["37015170", "2"])
            body = pos + rng.choice(EDITS)
        text = f"{kind}.{body}"
        out.append(f"{acc}:{text}" if acc or rng.random() < 0.5 else text)
    return out


def test_prescreen_accepts_only_what_the_grammar_accepts() -> None:
    corpus = _corpus()
    accepted = [s for s in corpus if _PLAIN.fullmatch(_qualified(s))]
    assert len(accepted) > 200  # the corpus exercises the pre-screen, not only the parser
    assert {s: parse_error(s) for s in accepted if parse_error(s) is not None} == {}


def test_verdict_and_message_are_the_grammars() -> None:
    corpus = _corpus(800)
    assert [hgvs_error(s) for s in corpus] == [parse_error(s) for s in corpus]
    assert sum(parse_error(s) is not None for s in corpus) > 200  # errors are exercised too
