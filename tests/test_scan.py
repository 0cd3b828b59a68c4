"""The C byte loops (filters/_scan.c) against their pure-Python twins, on the same bytes.

Every function of genoscrub._scan is a faster way to compute what a numpy or Python
function already computes; these tests hold the two to the same answers (offsets,
verdicts, output bytes, and the line and message of an error), on random blocks
that include every irregular case the twins handle: wrong column counts, empty
CHROM, bad POS, keys inside other keys, wrapped FASTQ records, blank lines, cut
records. The goldens run a second time without the C loops (tests/test_golden.py).
"""

from __future__ import annotations

import io
import os
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest
from genoscrub import scan, vcf
from genoscrub.fastq_scrub_names import NameReplacer, fastq_blocks, scrub_records
from genoscrub.pseudonyms import Pseudonyms
from genoscrub.report import InputError, Report
from genoscrub.streams import EndCheckingReader
from hypothesis import given, settings
from hypothesis import strategies as st

native = scan.native
needs_native = pytest.mark.skipif(native is None, reason="genoscrub._scan is not built (no C compiler?): only the Python twins run")


@pytest.fixture
def pure_python(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run the code under test without the C loops."""
    monkeypatch.setattr(scan, "native", None)
    yield


def without_native(function, *args):  # type: ignore[no-untyped-def]
    saved, scan.native = scan.native, None
    try:
        return function(*args)
    finally:
        scan.native = saved


def test_make_test_runs_with_the_c_loops_built() -> None:
    """make test sets GENOSCRUB_REQUIRE_SCAN: a build that lost its C module must not pass on the slow path."""
    if os.environ.get("GENOSCRUB_REQUIRE_SCAN"):
        assert native is not None
    elif native is None:
        pytest.skip("genoscrub._scan is not built and GENOSCRUB_REQUIRE_SCAN is not set")


# --- VCF ------------------------------------------------------------------------------------

FIELD = st.text("ACGT.;=,_:0123456789rsHOSPx", max_size=6)


@st.composite
def vcf_block(draw: st.DrawFn) -> tuple[bytes, int]:
    """Lines of mostly ``column_count`` columns; now and then one too few or too many, an
    empty CHROM or a POS that is not digits."""
    column_count = draw(st.integers(8, 11))
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        columns = draw(st.integers(column_count - 1, column_count + 1)) if draw(st.integers(0, 9)) == 0 else column_count
        fields = [draw(FIELD) for _ in range(columns)]
        fields[0] = draw(st.sampled_from(["chr1", "2", ""])) if draw(st.integers(0, 9)) == 0 else "chr1"
        if len(fields) > 1:
            odd_position = draw(st.integers(0, 9)) == 0
            fields[1] = draw(st.sampled_from(["12", "0", "", "1x", "-3"])) if odd_position else str(draw(st.integers(1, 10**9)))
        lines.append("\t".join(fields) + "\n")
    return "".join(lines).encode(), column_count


def located(text: bytes, column_count: int) -> tuple[object, ...]:
    """What RecordBlock makes of a block: its offsets, or the error."""
    try:
        block = vcf.RecordBlock(5, text, "x.vcf", column_count)
    except InputError as error:
        return ("error", error.line, error.message)
    return ("ok", block.count, block.starts.tolist(), block.ends.tolist(), block.tabs.tolist())


@needs_native
@settings(max_examples=400, deadline=None)
@given(vcf_block())
def test_vcf_columns_locate_and_reject_as_numpy_does(block: tuple[bytes, int]) -> None:
    text, column_count = block
    assert located(text, column_count) == without_native(located, text, column_count)


@needs_native
@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.lists(st.tuples(st.integers(0, 200), st.integers(0, 40)), max_size=20))
def test_spans_within_agrees_with_numpy(text: bytes, spans: list[tuple[int, int]]) -> None:
    spans = [(min(start, len(text)), min(start + length, len(text))) for start, length in spans]
    starts = np.array([start for start, _ in spans], dtype=np.int64)
    ends = np.array([end for _, end in spans], dtype=np.int64)
    data = np.frombuffer(text, dtype=np.uint8)
    for allowed in (vcf.DIGITS, vcf.NUMBER_BYTES, ~vcf.DIGITS):
        expected = without_native(vcf.spans_within, data, text, starts, ends, allowed)
        assert vcf.spans_within(data, text, starts, ends, allowed).tolist() == expected.tolist()


INFO_PIECE = st.sampled_from(
    ["AF=0.1", "AF_eas=0.02", "xAF_eas=1", "AF_eas", "AF_eas=", "AF_eas=0.3,0.4", "DP=7", "", "AF_easy=2", "=AF_eas=5"]
)


@needs_native
@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(INFO_PIECE, max_size=5), min_size=1, max_size=8), st.sampled_from([b"AF_eas", b"AF", b"DP"]))
def test_info_values_agree_with_the_regex_rule(infos: list[list[str]], key: bytes) -> None:
    lines = [f"chr1\t{index + 1}\t.\tA\tC\t.\t.\t{';'.join(pieces) or '.'}\n" for index, pieces in enumerate(infos)]
    text = "".join(lines).encode()
    block = vcf.RecordBlock(1, text, "x.vcf", 8)
    info_start, info_end = block.column(7)
    found, starts, ends = vcf.info_values(text, block.data, block.starts, key, info_start, info_end)
    twin = without_native(vcf.info_values, text, block.data, block.starts, key, info_start, info_end)
    assert found.tolist() == twin[0].tolist()
    assert starts[found].tolist() == twin[1][twin[0]].tolist()
    assert ends[found].tolist() == twin[2][twin[0]].tolist()


@needs_native
@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=120), st.lists(st.integers(0, 120), max_size=12), st.sampled_from([b".", b"", b"rs1"]))
def test_replace_and_join_spans_are_slices(text: bytes, cuts: list[int], replacement: bytes) -> None:
    assert native is not None
    edges = sorted(min(cut, len(text)) for cut in cuts)
    starts = np.array(edges[0::2][: len(edges) // 2], dtype=np.int64)
    ends = np.array(edges[1::2], dtype=np.int64)
    pieces, copied = [], 0
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        pieces += [text[copied:start], replacement]
        copied = end
    assert native.replace_spans(text, starts, ends, replacement) == b"".join(pieces) + text[copied:]
    assert native.join_spans(text, starts, ends) == b"".join(text[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True))


@needs_native
@given(st.binary(max_size=70000))
@settings(max_examples=50, deadline=None)
def test_count_lines_is_bytes_count(text: bytes) -> None:
    assert native is not None
    assert native.count_lines(text) == text.count(b"\n")
    assert native.count_lines(b"\n" * 70000) == 70000


@needs_native
def test_bad_arguments_raise_rather_than_read_outside_the_text() -> None:
    assert native is not None
    text = b"chr1\t1\t.\tA\tC\t.\t.\t.\n"
    with pytest.raises(IndexError):
        native.spans_within(text, np.array([0], dtype=np.int64), np.array([99], dtype=np.int64), vcf.DIGITS)
    with pytest.raises(IndexError):
        native.join_spans(text, np.array([5], dtype=np.int64), np.array([4], dtype=np.int64))
    with pytest.raises(ValueError):
        native.replace_spans(text, np.array([4, 2], dtype=np.int64), np.array([6, 3], dtype=np.int64), b".")
    with pytest.raises(TypeError):
        native.info_values(text, np.array([0], dtype=np.int32), np.array([3], dtype=np.int32), b"AF")
    with pytest.raises(ValueError):
        native.vcf_columns(text, 8, 9)
    with pytest.raises(ValueError):
        native.fastq_rebuild(b"@a\nA\n+\nI\n", 1, b"@x\n@y")
    with pytest.raises(ValueError):
        native.fastq_rebuild(b"@a\nA\n+\nI\n@b\n", 1, b"@x")
    for not_plain in (b"a\nA\n+\nI\n", b"@a\nA\n\nI\n", b"@a\nAC\n+\nI\n"):  # no '@', an empty '+' line, lengths differ
        with pytest.raises(ValueError):
            native.fastq_rebuild(not_plain, 1, b"@x")


# --- FASTQ ----------------------------------------------------------------------------------

RECORD = st.one_of(
    st.tuples(st.just("plain"), st.text("ACGTN", max_size=12)),
    st.tuples(st.just("named-plus"), st.text("ACGT", max_size=5)),
    st.tuples(st.just("wrapped"), st.text("ACGT", min_size=2, max_size=12)),
    st.tuples(st.just("blank"), st.just("")),
    st.tuples(st.just("bad"), st.sampled_from(["x\nAC\n+\nII\n", "@r\nACGT\n+\nII\n", "@r\nAC\n", "@r\n+\n+\n+\n", "@r\n@s\n"])),
)


def fastq_text(records: list[tuple[str, str]]) -> bytes:
    out = []
    for index, (kind, sequence) in enumerate(records):
        name = f"M1:9:FC:1:1101:{index // 2}:7 {1 + index % 2}:N:0:ACGT"
        quality = "I" * len(sequence)
        if kind == "plain":
            out.append(f"@{name}\n{sequence}\n+\n{quality}\n")
        elif kind == "named-plus":
            out.append(f"@{name}\n{sequence}\n+{name}\n{quality}\n")
        elif kind == "wrapped":
            half = len(sequence) // 2
            out.append(f"@{name}\n{sequence[:half]}\n{sequence[half:]}\n+\n{quality[:half]}\n{quality[half:]}\n")
        elif kind == "blank":
            out.append("\n")
        else:
            out.append(sequence)
    return "".join(out).encode()


def scrubbed(data: bytes, block_size: int) -> tuple[bytes, tuple[int | None, str] | None, dict[str, int]]:
    """Output, error and counts of scrub_records with counter names, in blocks of ``block_size``."""
    report = Report("fastq-scrub-names")
    names = NameReplacer(Pseudonyms(), "<test>")
    chunks: list[bytes] = []
    try:
        for chunk in scrub_records(fastq_blocks(io.BytesIO(data), "<test>", size=block_size), names, "<test>", report):
            chunks.append(chunk)
    except InputError as error:
        return b"".join(chunks), (error.line, error.message), dict(report.counts)
    return b"".join(chunks), None, dict(report.counts)


@needs_native
@settings(max_examples=400, deadline=None)
@given(st.lists(RECORD, max_size=14), st.sampled_from([1, 7, 23, 64, 1 << 16]), st.booleans())
def test_fastq_records_found_in_c_give_the_python_output(records: list[tuple[str, str]], block_size: int, cut: bool) -> None:
    data = fastq_text(records)
    if cut and data:
        data = data[: len(data) * 2 // 3]
    assert scrubbed(data, block_size) == without_native(scrubbed, data, block_size)


@needs_native
def test_plain_fastq_takes_the_c_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Of a file of plain records, only the record cut by a block's end goes line by line."""
    from genoscrub.fastq_scrub_names import RecordReader

    lines_seen: list[int] = []
    original = RecordReader.from_lines

    def counting(self: RecordReader, first_line: int, lines: list[bytes]) -> list:  # type: ignore[type-arg]
        lines_seen.append(len(lines))
        return original(self, first_line, lines)

    monkeypatch.setattr(RecordReader, "from_lines", counting)
    data = b"".join(b"@M1:9:FC:1:1101:%d:7 1:N:0:ACGT\nACGT\n+M1\nIIII\n" % n for n in range(5000))
    block_size = 4096 + 3
    output, error, counts = scrubbed(data, block_size)
    assert error is None and counts["records"] == 5000 and counts["plus_lines_cleared"] == 5000
    assert output == b"".join(b"@READ%d 1:N:0\nACGT\n+\nIIII\n" % n for n in range(1, 5001))
    assert max(lines_seen) < 4 and len(lines_seen) <= len(data) // block_size + 1


# --- reading pipes --------------------------------------------------------------------------


@needs_native
@pytest.mark.parametrize("pipe_size", [0, 1 << 20])
def test_read_into_fills_the_buffer_from_a_pipe_written_in_small_pieces(pipe_size: int) -> None:
    """With a pipe of 1 MiB it waits after a short read for the pipe to fill; with the default one it does not."""
    import fcntl

    assert native is not None
    read_end, write_end = os.pipe()
    if pipe_size:
        fcntl.fcntl(read_end, fcntl.F_SETPIPE_SZ, pipe_size)
    pieces = [bytes([65 + i % 26]) * 4096 for i in range(64)]

    def produce() -> None:
        for piece in pieces:
            os.write(write_end, piece)
            time.sleep(0.0005)
        os.close(write_end)

    writer = threading.Thread(target=produce)
    writer.start()
    buffer = bytearray(100_000)
    assert native.read_into(read_end, buffer) == 100_000
    rest = bytearray(1 << 20)
    size = native.read_into(read_end, rest)
    assert bytes(buffer) + bytes(rest[:size]) == b"".join(pieces)
    assert native.read_into(read_end, rest) == 0
    writer.join()
    os.close(read_end)
    with pytest.raises(OSError):
        native.read_into(read_end, rest)


@pytest.mark.parametrize("c_loops", [True, False])
def test_stdin_reader_returns_what_a_format_sniffer_peeked_first(c_loops: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """The SAM commands peek at stdin to tell SAM from BAM; the descriptor is read only after those bytes."""
    if c_loops and native is None:
        pytest.skip("genoscrub._scan is not built")
    if not c_loops:
        monkeypatch.setattr(scan, "native", None)
    read_end, write_end = os.pipe()
    data = b"@SQ\tSN:chr1\tLN:9\n" + b"r\t4\t*\t0\t0\t*\t*\t0\t0\tACGT\tIIII\n" * 20000

    def produce() -> None:
        os.write(write_end, data)
        os.close(write_end)

    writer = threading.Thread(target=produce)
    writer.start()
    with open(read_end, "rb") as raw:
        assert raw.peek(16).startswith(b"@SQ")
        stream = io.BufferedReader(EndCheckingReader(raw, "-"))
        assert stream.read() == data
    writer.join()


# --- SAM: sam-revert-germline --all ---------------------------------------------------------

REFERENCE_BASES = "ACGTTGCANNACGGATCCATTAGGCATCGATCGGATACCAGTNACGTAGCTAGCTAGGATCCGATCGTAGCTAGCATCGATCGATTTAGCGATCGA" * 2
TAGS = ["MD:Z:10", "NM:i:1", "MC:Z:20M", "MC:Z:5M1I14M", "RG:Z:rg1", "AS:i:3", "OQ:Z:IIII", "XA:Z:chr1,+5,4M,0", "MQ:i:60", "M", ""]


@pytest.fixture(scope="module")
def reference_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    import pysam

    path = tmp_path_factory.mktemp("scan") / "ref.fa"
    path.write_text(f">chr1\n{REFERENCE_BASES}\n")
    pysam.faidx(str(path))
    return str(path)


@st.composite
def sam_records(draw: st.DrawFn) -> bytes:
    lines = [f"@SQ\tSN:chr1\tLN:{len(REFERENCE_BASES)}"]
    for index in range(draw(st.integers(1, 25))):
        length = draw(st.integers(1, 12))
        position = draw(st.integers(0, len(REFERENCE_BASES) - length))
        reference = REFERENCE_BASES[position : position + length]
        kind = draw(st.sampled_from(["same", "same", "lower", "snv", "clip", "star"]))
        sequence = reference.replace("N", "A") if kind != "snv" else "".join(draw(st.sampled_from("ACGTN")) for _ in reference)
        cigar = f"{length}M"
        if kind == "lower":
            sequence = sequence.lower()
        elif kind == "clip" and length > 2:
            cigar = f"1S{length - 1}M"
        quality = "*" if kind == "star" else "I" * length
        tags = draw(st.lists(st.sampled_from(TAGS), max_size=4))
        lines.append("\t".join([f"r{index}", "0", "chr1", str(position + 1), "60", cigar, "*", "0", "0", sequence, quality, *tags]))
    return ("\n".join(lines) + "\n").encode()


def reverted_all(sam: bytes, reference: str) -> tuple[bytes, dict[str, int]]:
    from genoscrub.fasta import Fasta
    from genoscrub.record_reverter import RevertOptions
    from genoscrub.sam_revert_germline import RevertSetup, revert_stream

    report = Report("sam-revert-germline")
    setup = RevertSetup(Fasta(reference), None, None, RevertOptions(), "x.sam", report)
    try:
        output = b"".join(revert_stream([sam], setup))
    except InputError as error:
        return f"{error.line}: {error.message}".encode(), dict(report.counts)
    return output, dict(report.counts)


@needs_native
@settings(max_examples=300, deadline=None)
@given(sam_records())
def test_revert_all_in_c_gives_the_python_records_and_counts(reference_file: str, sam: bytes) -> None:
    assert reverted_all(sam, reference_file) == without_native(reverted_all, sam, reference_file)


@needs_native
def test_splice_lines_replaces_and_drops_whole_lines() -> None:
    assert native is not None
    text = b"a\nbb\nccc\nd\n"
    starts, ends = np.array([0, 2, 5, 9]), np.array([1, 4, 8, 10])
    assert native.splice_lines(text, starts, ends, np.array([1, 2], dtype=np.int64), [b"X", None]) == b"a\nX\nd\n"
    assert native.splice_lines(text, starts, ends, np.array([], dtype=np.int64), []) == text
    with pytest.raises(IndexError):
        native.splice_lines(text, starts, ends, np.array([2, 1], dtype=np.int64), [b"X", b"Y"])
    with pytest.raises(IndexError):  # lines that overlap
        native.splice_lines(text, np.array([0, 0]), np.array([4, 8]), np.array([0, 1], dtype=np.int64), [b"X", b"Y"])
    with pytest.raises(TypeError):
        native.splice_lines(text, starts, ends, np.array([0], dtype=np.int64), ["X"])
