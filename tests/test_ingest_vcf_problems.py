"""allfhir.ingest.vcf reports the problems of a whole-file read: the same messages, lines and
offsets as recorded from the whole-file reader."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from allfhir.errors import InputError
from allfhir.ingest import vcf
from allfhir.ingest.source import Source

SRC = (Path(__file__).resolve().parent / "data" / "vcf" / "vep-pax5.vcf").read_bytes()
HEAD, _, REST = SRC.partition(b"\n")
CASES = {
    "blank": b"  \n\n \t\n",
    # A BOM: the whole-file read counted offsets after it (kept: the message is unchanged).
    "bom-bad-byte-line-2": b"\xef\xbb\xbf" + HEAD + b"\n\xff" + REST,
    # A bad byte anywhere is reported before a header problem, as when the file was decoded whole.
    "bad-first-line-and-bad-byte-later": b"hello\n" + REST + b"\n\xfe\n",
    "bad-byte-in-a-record": SRC + b"chr9\t1\xff\n",
    "no-chrom-line": b"##fileformat=VCFv4.2\n##x=1\n",
    # str.splitlines() line breaks (form feed) still split a record, with the same line numbers.
    "form-feed-in-a-record": SRC.replace(b"PASS\t", b"PA\x0cSS\t", 1),
    "gzip-crc": gzip.compress(SRC)[:-8] + b"\0\0\0\0" + gzip.compress(SRC)[-4:],
    "gzip-truncated": gzip.compress(SRC)[:-30],
}
EXPECTED = {
    "blank": ("raised", [
        ('the file is empty', None, None, 'required'),
    ]),
    "bom-bad-byte-line-2": ("raised", [
        ('not UTF-8 text (byte 0x2e at offset 21); save the file as UTF-8', 1, None, 'invalid'),
    ]),
    "bad-first-line-and-bad-byte-later": ("raised", [
        ('not UTF-8 text (byte 0xfe at offset 2034); save the file as UTF-8', 17, None, 'invalid'),
    ]),
    "bad-byte-in-a-record": ("raised", [
        ('not UTF-8 text (byte 0xff at offset 2054); save the file as UTF-8', 16, None, 'invalid'),
    ]),
    "no-chrom-line": ("raised", [
        ("missing the '#CHROM POS ID REF ALT QUAL FILTER INFO' header line", 3, None, 'structure'),
    ]),
    "form-feed-in-a-record": ("rows", [
        ('7 fields where the header has 11 (tab-separated)', 13, None, 'structure'),
        ('5 fields where the header has 11 (tab-separated)', 14, None, 'structure'),
    ]),
    "gzip-crc": ("raised", [
        ('not a readable gzip file (CRC check failed 0x0 != 0x13aaf0e8)', None, None, 'invalid'),
    ]),
    "gzip-truncated": ("raised", [
        (('not a readable gzip file (Compressed file ended before the '
             'end-of-stream marker was reached)'), None, None, 'invalid'),
    ]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_problems_are_those_of_the_whole_file_read(case: str, tmp_path: Path) -> None:
    path = tmp_path / f"{case}.vcf"
    path.write_bytes(CASES[case])
    try:
        problems = [p for i in vcf.read(Source(path)) if isinstance(i, InputError) for p in i.problems]
        kind = "rows"
    except InputError as err:
        problems, kind = err.problems, "raised"
    assert (kind, [(p.message, p.row, p.column, p.code) for p in problems]) == EXPECTED[case]


def test_crlf_and_gzip_read_as_plain(tmp_path: Path) -> None:
    plain, crlf, gz = tmp_path / "a.vcf", tmp_path / "b.vcf", tmp_path / "c.vcf.gz"
    plain.write_bytes(SRC)
    crlf.write_bytes(SRC.replace(b"\n", b"\r\n"))
    gz.write_bytes(gzip.compress(SRC))
    found = [[[(v.hgvs_c, v.hgvs_p, v.position, v.read_depth, v.allele_frequency, v.source.row)
                for v in s.variants] for s in vcf.read(Source(p))] for p in (plain, crlf, gz)]
    assert found[0] == found[1] == found[2]
    assert found[0][0]
