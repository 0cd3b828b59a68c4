"""fastq-scrub-names on multi-line (wrapped) FASTQ and FASTQ with blank lines: read as kseq reads it, written as 4-line records."""

from __future__ import annotations

import io
from pathlib import Path

import pysam
import pytest
from genoscrub.fastq_scrub_names import NameReplacer, fastq_blocks, scrub_records
from genoscrub.pseudonyms import Pseudonyms
from genoscrub.report import InputError, Report
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import run_command

BASES = "ACGTN"
# Every printable quality, '@' and '+' included: a wrapped quality line may start with either.
QUALITIES = "".join(chr(c) for c in range(33, 127))

Record = tuple[str, str, str]


def four_line(records: list[Record]) -> bytes:
    return "".join(f"@{name}\n{sequence}\n+\n{quality}\n" for name, sequence, quality in records).encode()


def wrap(text: str, width: int) -> str:
    """``text`` in lines of ``width`` characters; an empty text stays one empty line."""
    return "\n".join(text[i : i + width] for i in range(0, len(text), width)) if text else ""


def wrapped(records: list[Record], widths: list[int]) -> bytes:
    out = []
    for index, (name, sequence, quality) in enumerate(records):
        width = widths[index % len(widths)]
        out.append(f"@{name}\n{wrap(sequence, width)}\n+{name if index % 3 == 1 else ''}\n{wrap(quality, width)}\n")
    return "".join(out).encode()


@st.composite
def fastq_records(draw: st.DrawFn) -> list[Record]:
    records = []
    for index in range(draw(st.integers(min_value=1, max_value=10))):
        sequence = draw(st.text(BASES, min_size=0, max_size=40))
        quality = draw(st.text(QUALITIES, min_size=len(sequence), max_size=len(sequence)))
        mate = draw(st.sampled_from(["", "/1", "/2", " 1:N:0:ACGT", " 2:N:0"]))
        records.append((f"M1:9:FC:1:1101:{index // 2}:7{mate}", sequence, quality))
    return records


def scrub_in_process(data: bytes, block_size: int) -> bytes:
    """Counter names through scrub_records with tiny blocks: wrapped records cross block ends."""
    names = NameReplacer(Pseudonyms(), "<test>")
    blocks = fastq_blocks(io.BytesIO(data), "<test>", size=block_size)
    return b"".join(scrub_records(blocks, names, "<test>", Report("fastq-scrub-names")))


@settings(max_examples=200, deadline=None)
@given(records=fastq_records(), widths=st.lists(st.integers(1, 45), min_size=1, max_size=3), block_size=st.integers(1, 300))
def test_wrapped_input_gives_the_output_of_unwrapped_input(records: list[Record], widths: list[int], block_size: int) -> None:
    expected = scrub_in_process(four_line(records), 1 << 16)
    assert scrub_in_process(wrapped(records, widths), block_size) == expected


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=fastq_records(), width=st.integers(min_value=1, max_value=12))
def test_sequences_and_qualities_as_htslib_reads_them(records: list[Record], width: int, tmp_path: Path) -> None:
    """pysam.FastxFile (htslib's kseq) is the independent reader, on the input and the output."""
    source = tmp_path / "wrapped.fq"
    source.write_bytes(wrapped(records, [width]))
    result = run_command("fastq-scrub-names", "-q", str(source))
    assert result.returncode == 0, result.stderr
    target = tmp_path / "out.fq"
    target.write_bytes(result.stdout)
    assert read_with_htslib(target) == read_with_htslib(source)
    assert all(len(lines) == 4 for lines in chunks(result.stdout.split(b"\n")[:-1], 4))


def read_with_htslib(path: Path) -> list[tuple[str | None, str]]:
    with pysam.FastxFile(str(path)) as reader:
        return [(record.sequence, record.quality or "") for record in reader]


def chunks(items: list[bytes], size: int) -> list[list[bytes]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def with_blank_lines(data: bytes, where: list[int]) -> bytes:
    """``data`` with an empty line added after each line whose index is in ``where``."""
    lines = data.split(b"\n")
    for index in sorted(set(where), reverse=True):
        if index < len(lines) - 1:
            lines.insert(index + 1, b"")
    return b"\n".join(lines)


@settings(max_examples=200, deadline=None)
@given(
    records=fastq_records(),
    width=st.integers(1, 45),
    where=st.lists(st.integers(0, 200), max_size=12),
    leading=st.booleans(),
    block_size=st.integers(1, 300),
)
def test_blank_lines_add_nothing(records: list[Record], width: int, where: list[int], leading: bool, block_size: int) -> None:
    """Blank lines anywhere kseq skips them (between records, in a sequence or a quality) are dropped."""
    expected = scrub_in_process(four_line(records), 1 << 16)
    data = (b"\n" if leading else b"") + with_blank_lines(wrapped(records, [width]), where)
    assert scrub_in_process(data, block_size) == expected


@pytest.mark.parametrize(
    "name", ["htslib__multiline.fq", "htslib__fastqs.fq", "picard__permissive-format_pair1.txt", "picard__s_1_2_sequence.txt"]
)
def test_multi_line_corpus_files(corpus: Path, tmp_path: Path, name: str) -> None:
    source = corpus / "fastq" / name
    result = run_command("fastq-scrub-names", "-q", str(source))
    assert result.returncode == 0, result.stderr
    target = tmp_path / "out.fq"
    target.write_bytes(result.stdout)
    assert read_with_htslib(target) == read_with_htslib(source)


QUALITY_OUTSIDE = "the record's quality holds a control byte or a byte outside ASCII (Phred+33 is ! to ~)"
SEQUENCE_OUTSIDE = "the record's sequence holds a control byte or a byte outside ASCII (no base code)"


@pytest.mark.parametrize(
    ("data", "line", "message"),
    [
        (b"@r1\nAC\nGT\n+\nII\n", 5, "sequence and quality lengths differ"),  # ends inside the quality
        (b"@r1\nAC\nGT\n", 3, "file ends inside a FASTQ record"),  # ends before the '+' line
        (b"@r1\nAC\nGT\n+\n", 4, "file ends inside a FASTQ record"),  # ends after it
        (b"@r1\nAC\nGT\n+\nII\nIII\n@r2\nA\n+\nI\n", 5, "sequence and quality lengths differ"),  # quality too long
        (b"@r1\nAC\nGT\n+\nIIII\nr2\nA\n+\nI\n", 6, "expected a record starting with '@'"),
        (b"@r1\nAC\nGT\n@r2\nA\n+\nI\n", 4, "expected a '+' line"),  # a record without quality
        (b"@r1\nA\n+\nI\n\n \n@r2\nA\n+\nI\n", 6, "expected a record starting with '@'"),  # blank, not empty
        # red team 7 F8: bytes outside ASCII spell a name (UTF-8) no check reads; the record's first line
        ("@r1\nACGTA\n+\nIIIII\n@r2\nAC\nGT\n+\nI김\n".encode(), 5, QUALITY_OUTSIDE),
        ("@r1\nACGT\n+\nI김\n".encode(), 1, QUALITY_OUTSIDE),
        ("@r1 김\nA\n+\nI\n@r2\nAC김\n+\nIIIII\n".encode(), 5, SEQUENCE_OUTSIDE),
        # red team 9 A1: control bytes (a BAM's qualities 224 to 254 print as 0x01 to 0x1F) pass unread too
        (b"@r1\nACGT\n+\nIIII\n@r2\nACGT\n+\nI\x01\x1f\x7f\n", 5, QUALITY_OUTSIDE),
        (b"@r1\nACGTA\n+\nIIIII\n@r2\nAC\nG\tT\n+\nIIIII\n", 5, SEQUENCE_OUTSIDE),
        (b"@r1\tcomment\nA\x0bGT\n+\nIIII\n", 1, SEQUENCE_OUTSIDE),
    ],
)
def test_bad_wrapped_records_name_the_line(data: bytes, line: int, message: str) -> None:
    for block_size in (3, 1 << 16):
        with pytest.raises(InputError) as caught:
            scrub_in_process(data, block_size)
        assert (caught.value.line, caught.value.message) == (line, message)


def test_four_line_blocks_after_a_wrapped_one_take_the_fast_path_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only blocks with a wrapped record go through the slow parser (from that record on)."""
    from genoscrub import fastq_scrub_names

    fed: list[int] = []
    original = fastq_scrub_names.WrappedRecords.feed

    def counting_feed(
        self: fastq_scrub_names.WrappedRecords, lines: list[bytes], first_line: int, until_record_ends: bool = False
    ) -> tuple[list[int], list[bytes], int]:
        header_lines, records, used = original(self, lines, first_line, until_record_ends)
        fed.append(used)
        return header_lines, records, used

    monkeypatch.setattr(fastq_scrub_names.WrappedRecords, "feed", counting_feed)
    data = b"@w\nAC\nGT\n+\nII\nII\n" + b"@r\nACGT\n+\nIIII\n" * 2000
    output = scrub_in_process(data, 4096)
    assert output.startswith(b"@READ1\nACGT\n+\nIIII\n@READ2\nACGT\n") and output.count(b"\n") == 4 * 2001
    assert sum(fed) < 2 * 4096 // 7  # the first block (about 4096 / 7.5 lines) and the end of its last record
