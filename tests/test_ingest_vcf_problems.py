"""allfhir.ingest.vcf reports the problems of a whole-file read: the same messages, lines and
offsets as recorded from the whole-file reader."""

from __future__ import annotations

import gzip
import os
import threading
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
    # The header is read first, the rest after it: a bad byte further on still comes first.
    "bad-format-column-and-bad-byte-later": SRC.replace(b"\tFORMAT\t", b"\tFMT\t", 1) + b"\xfe\n",
    "bom-and-bad-byte-in-a-record": b"\xef\xbb\xbf" + SRC + b"chr9\t\xff\n",
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
    "bad-format-column-and-bad-byte-later": ("raised", [
        ('not UTF-8 text (byte 0xfe at offset 2045); save the file as UTF-8', 16, None, 'invalid'),
    ]),
    "bom-and-bad-byte-in-a-record": ("raised", [
        ('not UTF-8 text (byte 0x72 at offset 2053); save the file as UTF-8', 16, None, 'invalid'),
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


def test_records_are_streamed_not_read_whole(tmp_path: Path) -> None:
    # A bad record is reported while the pipe's writer still holds the rest of the file back: a
    # reader that read the whole input first would wait for the writer, which waits for it.
    fifo = tmp_path / "streamed.vcf"
    os.mkfifo(fifo)
    reported = threading.Event()
    padding = SRC.partition(b"#CHROM")[2].partition(b"\n")[2] * 200  # past the sniffed head
    bad = b"chr9\tnot-a-position\t.\tG\tC\t.\tPASS\t.\tGT\t0/1\t0/1\n"
    waited: list[bool] = []

    def write() -> None:
        with fifo.open("wb") as fh:
            fh.write(SRC + padding + bad)
            fh.flush()
            waited.append(reported.wait(timeout=60))
            fh.write(padding)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    items = vcf.read(Source(fifo))
    first = next(i for i in items if isinstance(i, InputError))
    reported.set()
    rest = list(items)
    writer.join()
    assert [(p.message, p.row, p.column) for p in first.problems] == [
        ("POS 'not-a-position' is not a positive integer",
         SRC.count(b"\n") + padding.count(b"\n") + 1, "POS")]
    assert waited == [True]
    assert [len(s.variants) for s in rest] == [401, 401]
