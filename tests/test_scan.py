"""The compiled byte loops (filters/_scan.c) against their pure-Python twins, on the same bytes.

``scan`` binds one implementation of every loop at import; ``scan.compiled`` and
``scan.python`` are the two. These tests hold them to the same answers (offsets,
verdicts, output bytes, the exception type for a refused argument), function by
function on random blocks that include every irregular case the twins handle (wrong
column counts, empty CHROM, bad POS, keys inside other keys, wrapped FASTQ records,
blank lines, cut records, reads over an N), and through the commands' own code with
each implementation bound. The goldens run a second time without the C loops
(tests/test_golden.py).
"""

from __future__ import annotations

import bisect
import contextlib
import inspect
import io
import os
import random
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from genoscrub import scan, vcf
from genoscrub.fastq_scrub_names import NameReplacer, fastq_blocks, scrub_records
from genoscrub.pseudonyms import Pseudonyms
from genoscrub.report import InputError, Report
from genoscrub.streams import EndCheckingReader
from hypothesis import example, given, settings
from hypothesis import strategies as st

compiled = scan.compiled
python = scan.python
needs_compiled = pytest.mark.skipif(compiled is None, reason="genoscrub._scan is not built (no C compiler?): only the Python twins run")
IMPLEMENTATIONS = [pytest.param(python, id="python"), pytest.param(compiled, id="compiled", marks=needs_compiled)]


@contextlib.contextmanager
def python_loops() -> Iterator[None]:
    """Every loop of ``scan`` bound to its pure twin for the duration, as without the build
    (``scan.native`` too, for the code that still asks for the C module itself)."""
    saved = {name: getattr(scan, name) for name in (*scan.LOOPS, "native")}
    for name in scan.LOOPS:
        setattr(scan, name, getattr(python, name))
    scan.native = None
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(scan, name, value)


def without_compiled(function: Callable[..., Any], *args: Any) -> Any:
    with python_loops():
        return function(*args)


def both(name: str, *args: Any) -> tuple[Any, Any]:
    """What the compiled loop and its twin return (or raise: the exception type) on the same arguments."""
    assert compiled is not None
    results = []
    for implementation in (compiled, python):
        try:
            results.append(getattr(implementation, name)(*args))
        except Exception as error:  # noqa: BLE001 - the type is the answer
            results.append(type(error))
    return results[0], results[1]


# --- the dispatch -----------------------------------------------------------------------------


def test_make_test_runs_with_the_c_loops_built() -> None:
    """make test sets GENOSCRUB_REQUIRE_SCAN: a build that lost its C module must not pass on the slow path."""
    if os.environ.get("GENOSCRUB_REQUIRE_SCAN") and not os.environ.get("GENOSCRUB_PURE_PYTHON"):
        assert compiled is not None and scan.native is not None
    elif compiled is None:
        pytest.skip("genoscrub._scan is not built and GENOSCRUB_REQUIRE_SCAN is not set")


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_each_implementation_defines_every_loop_with_one_signature(implementation: ModuleType) -> None:
    for name in scan.LOOPS:
        function = getattr(implementation, name)
        assert inspect.signature(function) == inspect.signature(getattr(python, name)), name
        assert function.__doc__, name
    chosen = compiled if compiled is not None else python
    assert all(getattr(scan, name) is getattr(chosen, name) for name in scan.LOOPS)


def bound_loops(environment: dict[str, str]) -> str:
    """Which implementation ``scan`` binds in a fresh interpreter with ``environment``."""
    code = "from genoscrub import scan; print(scan.count_lines.__module__, scan.native is None)"
    env = {key: value for key, value in os.environ.items() if not key.startswith("GENOSCRUB_")}
    result = subprocess.run([sys.executable, "-c", code], env={**env, **environment}, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@needs_compiled
def test_the_environment_picks_the_implementation_once_for_every_loop() -> None:
    assert bound_loops({}) == "genoscrub.scan_compiled False"
    assert bound_loops({"GENOSCRUB_PURE_PYTHON": "1"}) == "genoscrub.scan_python True"
    assert bound_loops({"GENOSCRUB_PURE_PYTHON": "1", "GENOSCRUB_REQUIRE_SCAN": "1"}) == "genoscrub.scan_python True"


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


@pytest.mark.slow  # a long sweep of the C against its Python twin: make test-slow (CI runs it after make test)
@needs_compiled
@settings(max_examples=400, deadline=None)
@given(vcf_block(), st.integers(0, 8))
def test_vcf_columns_locate_and_reject_as_numpy_does(block: tuple[bytes, int], kept_choice: int) -> None:
    text, column_count = block
    tabs_kept = 2 + kept_choice % (column_count - 2)
    assert compiled is not None
    ours, twin = compiled.vcf_columns(text, column_count, tabs_kept), python.vcf_columns(text, column_count, tabs_kept)
    assert (ours.problem, ours.bad_row, ours.columns_found) == (twin.problem, twin.bad_row, twin.columns_found)
    assert ours.line_count == twin.line_count == text.count(b"\n")
    assert ours.tabs.shape == twin.tabs.shape == (ours.line_count, tabs_kept)
    if ours.problem != scan.BAD_COLUMN_COUNT:  # after a wrong column count the offsets are undefined
        assert ours.starts.tolist() == twin.starts.tolist()
        assert ours.ends.tolist() == twin.ends.tolist()
        assert ours.tabs.tolist() == twin.tabs.tolist()
    assert located(text, column_count) == without_compiled(located, text, column_count)
    ours, twin = both("vcf_columns", text + b"chr1\t7\t.", column_count, tabs_kept)  # what follows the last newline is no line
    assert ours.problem == twin.problem and ours.bad_row == twin.bad_row and ours.line_count == twin.line_count


@needs_compiled
@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.lists(st.tuples(st.integers(0, 200), st.integers(0, 40)), max_size=20))
def test_spans_within_agrees_with_numpy(text: bytes, spans: list[tuple[int, int]]) -> None:
    spans = [(min(start, len(text)), min(start + length, len(text))) for start, length in spans]
    starts = np.array([start for start, _ in spans], dtype=np.int64)
    ends = np.array([end for _, end in spans], dtype=np.int64)
    data = np.frombuffer(text, dtype=np.uint8)
    for allowed in (vcf.DIGITS, vcf.NUMBER_BYTES, ~vcf.DIGITS):
        ours, twin = both("spans_within", data, starts, ends, allowed)
        expected = [all(allowed[byte] for byte in text[start:end]) for start, end in spans]
        assert ours.dtype == twin.dtype == np.bool_
        assert ours.tolist() == twin.tolist() == expected
        assert vcf.spans_within(data, text, starts, ends, allowed).tolist() == expected


@needs_compiled
@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.lists(st.tuples(st.integers(0, 600), st.integers(0, 254)), max_size=20))
def test_keyed_name_hashes_agree_and_hash_a_name_alike_in_any_batch(text: bytes, spans: list[tuple[int, int]]) -> None:
    """The C loop and its twin give one hash a span, each the hash of that span alone (so a read
    name hashes alike in every block, whatever the other names' lengths: ``audit_mates`` joins
    mates across blocks by it); equal names hash alike, and a span longer than the key covers is
    refused by both."""
    spans = [(min(start, len(text)), min(start + length, len(text))) for start, length in spans]
    starts = np.array([start for start, _ in spans], dtype=np.int64)
    ends = np.array([end for _, end in spans], dtype=np.int64)
    key = np.frombuffer(bytes(byte % 256 for byte in range(1, 8 * 40 + 1)), dtype=np.uint64) | np.uint64(1)
    ours, twin = both("keyed_name_hashes", text, starts, ends, key)
    assert ours.dtype == twin.dtype == np.uint64 and ours.tolist() == twin.tolist()
    for index, (start, end) in enumerate(spans):
        alone, _ = both("keyed_name_hashes", text[start:end], np.zeros(1, dtype=np.int64), np.array([end - start], dtype=np.int64), key)
        assert alone.tolist() == [ours[index]]
    too_long = both("keyed_name_hashes", bytes(300), np.zeros(1, dtype=np.int64), np.array([300], dtype=np.int64), key[:20])
    assert too_long == (ValueError, ValueError)


@st.composite
def run_tables(draw: st.DrawFn) -> np.ndarray:
    """A table allowing one run of bytes and a few more (0 to 3), sometimes with other nonzero
    values than 1: the compiled loop compares such a run's bytes instead of looking them up."""
    low = draw(st.integers(0, 255))
    high = draw(st.integers(low, min(255, low + draw(st.sampled_from([5, 15, 16, 94, 200, 255])))))
    table = np.zeros(256, dtype=np.uint8)
    table[low : high + 1] = draw(st.sampled_from([1, 2, 255]))
    for extra in draw(st.lists(st.integers(0, 255), max_size=3)):
        table[extra] = 1
    return table


@pytest.mark.slow  # a long sweep of the C against its Python twin: make test-slow (CI runs it after make test)
@needs_compiled
@settings(max_examples=400, deadline=None)
@given(
    st.data(),
    run_tables(),
    st.lists(st.tuples(st.integers(0, 300), st.integers(0, 120)), max_size=12),
)  # fmt: skip
def test_spans_within_a_run_of_bytes_agrees_with_the_twin(data: st.DataObject, allowed: np.ndarray, spans: list[tuple[int, int]]) -> None:
    """The tables sam-scrub-rg and fastq-scrub-names hold SEQ and QUAL to (``!`` to ``~`` and a tab,
    a blank to ``~`` and a newline) and any run-shaped table: the same answers as the twin, in
    spans of any length around the 32 bytes the compiled loop compares at once, the one byte
    outside the table anywhere in them or none."""
    inside = np.flatnonzero(allowed).astype(np.uint8)
    size = data.draw(st.integers(0, 300))
    text = bytearray(data.draw(st.lists(st.sampled_from(inside.tolist()), min_size=size, max_size=size)) if len(inside) else bytes(size))
    if text and data.draw(st.booleans()):
        text[data.draw(st.integers(0, len(text) - 1))] = data.draw(st.integers(0, 255))
    spans = [(min(start, len(text)), min(start + length, len(text))) for start, length in spans]
    starts = np.array([start for start, _ in spans], dtype=np.int64)
    ends = np.array([end for _, end in spans], dtype=np.int64)
    buffer = np.frombuffer(bytes(text), dtype=np.uint8)
    ours, twin = both("spans_within", buffer, starts, ends, allowed)
    assert ours.tolist() == twin.tolist() == [all(allowed[byte] for byte in text[start:end]) for start, end in spans]


INFO_PIECE = st.sampled_from(
    ["AF=0.1", "AF_eas=0.02", "xAF_eas=1", "AF_eas", "AF_eas=", "AF_eas=0.3,0.4", "DP=7", "", "AF_easy=2", "=AF_eas=5"]
)


@needs_compiled
@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(INFO_PIECE, max_size=5), min_size=1, max_size=8), st.sampled_from([b"AF_eas", b"AF", b"DP"]))
def test_info_values_agree_with_the_regex_rule(infos: list[list[str]], key: bytes) -> None:
    lines = [f"chr1\t{index + 1}\t.\tA\tC\t.\t.\t{';'.join(pieces) or '.'}\n" for index, pieces in enumerate(infos)]
    text = "".join(lines).encode()
    block = vcf.RecordBlock(1, text, "x.vcf", 8)
    info_start, info_end = block.column(7)
    ours, twin = both("info_values", text, info_start, info_end, key)
    assert [part.dtype for part in ours] == [part.dtype for part in twin] == [np.bool_, np.int64, np.int64]
    assert [part.tolist() for part in ours] == [part.tolist() for part in twin]
    for row, (found, start, end) in enumerate(zip(*(part.tolist() for part in ours), strict=True)):
        info = text[info_start[row] : info_end[row]]
        values = [piece[len(key) + 1 :] for piece in info.split(b";") if piece.startswith(key + b"=")]
        assert found == bool(values) and (not found or text[start:end] == values[0])
    with_numpy = without_compiled(vcf.info_values, text, block.data, block.starts, key, info_start, info_end)
    assert [part.tolist() for part in vcf.info_values(text, block.data, block.starts, key, info_start, info_end)] == [
        part.tolist() for part in with_numpy
    ]


@needs_compiled
@settings(max_examples=300, deadline=None)
@given(st.lists(INFO_PIECE, max_size=12), st.lists(st.integers(0, 120), max_size=12), st.sampled_from([b"AF_eas", b"AF", b"DP"]))
def test_info_values_agree_on_any_ordered_spans(pieces: list[str], cuts: list[int], key: bytes) -> None:
    """Spans that start or end inside a key, a value or a separator, as ``repeated_info_values`` asks for the rest of a column."""
    text = ";".join(pieces).encode()
    edges = sorted(min(cut, len(text)) for cut in cuts)
    starts = np.array(edges[0::2][: len(edges) // 2], dtype=np.int64)
    ends = np.array(edges[1::2], dtype=np.int64)
    ours, twin = both("info_values", text, starts, ends, key)
    assert [part.tolist() for part in ours] == [part.tolist() for part in twin]


@needs_compiled
@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=120), st.lists(st.integers(0, 120), max_size=12), st.sampled_from([b".", b"", b"rs1"]))
def test_replace_and_join_spans_are_slices(text: bytes, cuts: list[int], replacement: bytes) -> None:
    edges = sorted(min(cut, len(text)) for cut in cuts)
    starts = np.array(edges[0::2][: len(edges) // 2], dtype=np.int64)
    ends = np.array(edges[1::2], dtype=np.int64)
    pieces, copied = [], 0
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        pieces += [text[copied:start], replacement]
        copied = end
    assert both("replace_spans", text, starts, ends, replacement) == (b"".join(pieces) + text[copied:],) * 2
    joined = b"".join(text[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True))
    assert both("join_spans", text, starts, ends) == (joined, joined)
    sliced = [text[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]
    assert both("span_list", text, starts, ends) == (sliced, sliced)


@needs_compiled
@given(st.binary(max_size=70000))
@settings(max_examples=50, deadline=None)
def test_first_of_strings_is_the_first_find(text: bytes) -> None:
    needles = [b"ANN=", b"A", b"PID", b"\n\n"]
    places = [place for place in (text.find(needle) for needle in needles) if place >= 0]
    assert both("first_of_strings", text, needles) == (min(places, default=-1),) * 2
    assert both("first_of_strings", text, [b"\xff\xfe"]) == (text.find(b"\xff\xfe"),) * 2
    planted = text.replace(b"A", b"") + b"PI\tPGT;ANN="  # a needle's prefix before a whole needle, one at the end
    expected = min(place for place in (planted.find(needle) for needle in (b"PGT", b"ANN=", b"PID")) if place >= 0)
    assert both("first_of_strings", planted, [b"ANN=", b"PID", b"PGT"]) == (expected,) * 2


@needs_compiled
@given(st.binary(max_size=70000))
@settings(max_examples=50, deadline=None)
def test_count_lines_is_bytes_count(text: bytes) -> None:
    assert both("count_lines", text) == (text.count(b"\n"),) * 2
    assert both("count_lines", b"\n" * 70000) == (70000, 70000)


TEXT = b"chr1\t1\t.\tA\tC\t.\t.\t.\n"
LINES = b"a\nbb\nccc\nd\n"
LINE_STARTS, LINE_ENDS = np.array([0, 2, 5, 9], dtype=np.int64), np.array([1, 4, 8, 10], dtype=np.int64)
ONE = np.array([0], dtype=np.int64)
KEEP = np.zeros(1 << 16, dtype=np.uint8)
REFUSED = [
    ("spans_within", (np.frombuffer(TEXT, dtype=np.uint8), ONE, np.array([99], dtype=np.int64), vcf.DIGITS), IndexError),
    ("spans_within", (np.frombuffer(TEXT, dtype=np.uint8), ONE, ONE, vcf.DIGITS[:10]), ValueError),
    ("spans_within", (np.frombuffer(TEXT, dtype=np.uint8), ONE, np.array([1, 2], dtype=np.int64), vcf.DIGITS), ValueError),
    ("join_spans", (TEXT, np.array([5], dtype=np.int64), np.array([4], dtype=np.int64)), IndexError),
    ("join_spans", (TEXT, np.array([-1], dtype=np.int64), ONE), IndexError),
    ("replace_spans", (TEXT, np.array([4, 2], dtype=np.int64), np.array([6, 3], dtype=np.int64), b"."), ValueError),
    ("info_values", (TEXT, np.array([0], dtype=np.int32), np.array([3], dtype=np.int32), b"AF"), TypeError),
    ("info_values", (TEXT, ONE, np.array([len(TEXT) + 1], dtype=np.int64), b"AF"), IndexError),
    ("vcf_columns", (TEXT, 8, 9), ValueError),
    ("vcf_columns", (TEXT, 8, 1), ValueError),
    ("fastq_rebuild", (b"@a\nA\n+\nI\n", 1, b"@x\n@y"), ValueError),
    ("fastq_rebuild", (b"@a\nA\n+\nI\n@b\n", 1, b"@x"), ValueError),
    ("fastq_rebuild", (b"@a\nA\n+\nI\n", 0, b""), ValueError),
    ("fastq_rebuild", (b"@a\nA\n+\nI\n", -1, b""), ValueError),
    ("fastq_rebuild", (b"@a\nA\n+\nI", 1, b"@x"), ValueError),  # no newline at the end
    ("fastq_rebuild", (b"a\nA\n+\nI\n", 1, b"@x"), ValueError),  # no '@'
    ("fastq_rebuild", (b"@a\nA\n\nI\n", 1, b"@x"), ValueError),  # an empty '+' line
    ("fastq_rebuild", (b"@a\nAC\n+\nI\n", 1, b"@x"), ValueError),  # lengths differ
    ("fastq_kseq_block", ([b"@a", b"A", b"+"], 1), ValueError),
    ("fastq_kseq_block", ([], -1), ValueError),
    ("fastq_kseq_block", ([b"@a", "A", b"+", b"I"], 1), TypeError),
    ("fastq_kseq_block", ([b"a", b"A", b"+", b"I", b"@b", b"C", b"+", None], 2), TypeError),  # after a record off the rule
    ("fastq_kseq_block", ((b"@a", b"A", b"+", b"I"), 1), TypeError),
    ("splice_lines", (LINES, LINE_STARTS, LINE_ENDS, np.array([2, 1], dtype=np.int64), [b"X", b"Y"]), IndexError),
    ("splice_lines", (LINES, LINE_STARTS, LINE_ENDS, np.array([4], dtype=np.int64), [b"X"]), IndexError),
    ("splice_lines", (LINES, np.array([0, 0]), np.array([4, 8]), np.array([0, 1], dtype=np.int64), [b"X", b"Y"]), IndexError),
    ("splice_lines", (LINES, LINE_STARTS, LINE_ENDS, np.array([0], dtype=np.int64), ["X"]), TypeError),
    ("splice_lines", (LINES, LINE_STARTS, LINE_ENDS, np.array([0], dtype=np.int64), (b"X",)), TypeError),
    ("splice_lines", (LINES, LINE_STARTS, LINE_ENDS, np.array([0, 1], dtype=np.int64), [b"X"]), ValueError),
    ("sam_revert_matches", (b"r\t*\tI\n", ONE, ONE, ONE, ONE, ONE, b"A", ONE, KEEP, KEEP), IndexError),
    ("sam_revert_matches", (b"r\t*\tI\n", ONE, ONE, ONE, ONE, ONE, b"A", ONE, KEEP[:10], KEEP), ValueError),
    ("sam_revert_matches", (b"r\t*\tI\n", ONE, ONE, ONE, ONE, np.array([0, 1], dtype=np.int64), b"A", ONE, KEEP, KEEP), ValueError),
    ("sam_revert_matches", (b"r\t*\tI\n", ONE, ONE, ONE, ONE, ONE, b"A", ONE.astype(np.float64), KEEP, KEEP), TypeError),
    ("line_fields", (LINES, 0), ValueError),
    ("span_list", (TEXT, np.array([5], dtype=np.int64), np.array([4], dtype=np.int64)), IndexError),
    ("span_list", (TEXT, ONE, np.array([1, 2], dtype=np.int64)), ValueError),
    ("md_lengths", (TEXT, ONE, ONE, KEEP[:255]), ValueError),
    ("cigar_lengths", (TEXT, ONE, ONE, KEEP[:256], KEEP[:255]), ValueError),
    ("cigar_lengths", (TEXT, ONE, np.array([len(TEXT) + 1], dtype=np.int64), KEEP[:256], KEEP[:256]), IndexError),
    ("md_lengths", (TEXT, ONE, np.array([len(TEXT) + 1], dtype=np.int64), KEEP[:256]), IndexError),
    ("md_lengths", (TEXT, ONE, ONE.astype(np.int32), KEEP[:256]), TypeError),
    ("splice_spans", (TEXT, np.array([4, 2], dtype=np.int64), np.array([6, 3], dtype=np.int64), [b"."], np.zeros(2, dtype=np.int64)),
     ValueError),
    ("splice_spans", (TEXT, ONE, ONE, [b"."], np.array([1], dtype=np.int64)), IndexError),
    ("splice_spans", (TEXT, ONE, ONE, [b"."], np.array([-1], dtype=np.int64)), IndexError),
    ("splice_spans", (TEXT, ONE, ONE, [b"."], np.zeros(2, dtype=np.int64)), ValueError),
    ("splice_spans", (TEXT, ONE, ONE, ["."], ONE), TypeError),
    ("splice_spans", (TEXT, ONE, ONE, (b".",), ONE), TypeError),
    ("splice_spans", (TEXT, ONE, np.array([len(TEXT) + 1], dtype=np.int64), [b"."], ONE), IndexError),
    ("splice_spans", (TEXT, ONE, ONE, [b"."], ONE.astype(np.int32)), TypeError),
    ("md_and_nm", (0, ((ord("M"), 5),), b"ACGT", b"ACGTA", 0), ValueError),
    ("md_and_nm", (0, ((ord("M"), 5),), b"ACGTA", b"ACGT", 0), ValueError),
    ("md_and_nm", (2, ((ord("D"), 3),), b"", b"ACGT", 0), ValueError),
    ("md_and_nm", (0, ((ord("M"), 2),), b"AC", b"ACGT", 1), ValueError),
    ("md_and_nm", (0, ((ord("S"), 1), (ord("M"), 4)), b"ACGT", b"ACGT", 0), ValueError),
    ("span_numbers", (TEXT, np.array([5], dtype=np.int64), np.array([4], dtype=np.int64)), IndexError),
    ("span_numbers", (TEXT, ONE, np.array([1, 2], dtype=np.int64)), ValueError),
    ("sam_tag_lines", (TEXT, ONE, ONE + 2, KEEP, KEEP[:256], 4), ValueError),
    ("sam_tag_lines", (TEXT, ONE, ONE, KEEP, KEEP[:256], 4), ValueError),
    ("sam_tag_lines", (TEXT, ONE, ONE + 1, KEEP[:255], KEEP[:256], 4), ValueError),
    ("sam_tag_lines", (TEXT, ONE, ONE + 1, KEEP, KEEP[:256], 0), ValueError),
    ("sam_tag_lines", (TEXT, np.array([len(TEXT)], dtype=np.int64), ONE + 1, KEEP, KEEP[:256], 4), IndexError),
    ("sam_tag_lines", (TEXT, ONE, (ONE + 1).astype(np.int32), KEEP, KEEP[:256], 4), TypeError),
    ("repeated_tags", (TEXT, ONE, ONE + 3, ONE), ValueError),  # counts add up to 0 of 1 field
    ("repeated_tags", (TEXT, ONE, ONE + 3, np.array([2, -1], dtype=np.int64)), ValueError),
    ("repeated_tags", (TEXT, ONE, ONE + len(TEXT) + 1, ONE + 1), IndexError),
    ("repeated_tags", (TEXT, ONE + 3, ONE, ONE + 1), IndexError),
    ("repeated_tags", (TEXT, ONE, ONE + 3, (ONE + 1).astype(np.int32)), TypeError),
    ("repeated_tags", (TEXT, ONE.astype(np.int32), ONE + 3, ONE + 1), TypeError),
    ("sam_revert_windows", (b"r\t*\tI\n", ONE, ONE, ONE, ONE, ONE, ONE, b"A", ONE, ONE, ONE, ONE, KEEP), IndexError),
    ("sam_revert_windows", (b"r\tA\tI\n", ONE, ONE + 2, ONE + 3, ONE + 4, ONE + 5, ONE, b"A", ONE, ONE, ONE, ONE + 1, KEEP[:10]),
     ValueError),
    ("sam_revert_windows", (b"r\tA\tI\n", ONE, ONE + 2, ONE + 3, ONE + 4, ONE + 5, ONE, b"A", ONE, ONE, ONE, ONE + 2, KEEP), ValueError),
    ("sam_revert_windows", (b"r\tA\tI\n", ONE, ONE + 2, ONE + 3, ONE + 4, ONE + 5, ONE, b"A", ONE, ONE, ONE[:0], ONE + 1, KEEP),
     ValueError),
    ("sam_revert_windows", (b"r\tA\tI\n", ONE, ONE + 2, ONE + 3, ONE + 4, ONE + 5, ONE, b"A", ONE + 1, ONE, ONE, ONE + 1, KEEP),
     IndexError),
    ("sam_revert_windows", (b"r\tA\tI\n", ONE, ONE + 2, ONE + 3, ONE + 4, ONE + 5, ONE, b"A", ONE, ONE, ONE, (ONE + 1).astype(np.int32),
     KEEP), TypeError),
    ("md_and_nm", (0, ((ord("M"), -1),), b"ACGT", b"ACGT", 0), ValueError),
    ("md_and_nm", (0, None, b"ACGT", b"ACGT", 0), TypeError),
    ("md_and_nm", (0, ((ord("M"), 2, 0),), b"ACGT", b"ACGT", 0), ValueError),
    ("tag_codes", (TEXT, ONE, ONE, KEEP[:255].tobytes()), ValueError),
    ("tag_codes", (TEXT, ONE, np.array([len(TEXT) + 1], dtype=np.int64), KEEP[:256].tobytes()), IndexError),
    ("tag_codes", (TEXT, np.array([3], dtype=np.int64), np.array([2], dtype=np.int64), KEEP[:256].tobytes()), IndexError),
    ("tag_codes", (TEXT, ONE, ONE.astype(np.int32), KEEP[:256].tobytes()), TypeError),
    ("tag_codes", (TEXT, ONE, np.array([1, 2], dtype=np.int64), KEEP[:256].tobytes()), ValueError),
    ("span_choices", (TEXT, ONE, ONE, [b"x", "y"]), TypeError),
    ("span_choices", (TEXT, ONE, ONE, (b"x",)), TypeError),
    ("span_choices", (TEXT, ONE, np.array([len(TEXT) + 1], dtype=np.int64), [b"x"]), IndexError),
    ("span_choices", (TEXT, ONE, ONE.astype(np.int32), [b"x"]), TypeError),
]


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize(("name", "arguments", "error"), REFUSED, ids=[f"{case[0]}-{index}" for index, case in enumerate(REFUSED)])
def test_bad_arguments_raise_rather_than_read_outside_the_text(
    implementation: ModuleType, name: str, arguments: tuple[Any, ...], error: type[Exception]
) -> None:
    with pytest.raises(error):
        getattr(implementation, name)(*arguments)


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


@needs_compiled
@settings(max_examples=400, deadline=None)
@given(st.lists(RECORD, max_size=14), st.integers(0, 40), st.booleans())
def test_fastq_scan_and_rebuild_agree(records: list[tuple[str, str]], skip: int, cut: bool) -> None:
    data = fastq_text(records)
    if cut and data:
        data = data[: len(data) * 2 // 3]
    view = memoryview(data)[min(skip, len(data)) :]  # as the reader hands them a block's rest
    ours, twin = both("fastq_scan", view)
    assert ours == twin
    assert isinstance(ours, scan.FastqRecords) and isinstance(twin, scan.FastqRecords)
    count, end, heads, _ = ours
    heads_new = b"\n".join(b"@new%d" % number for number in range(count))
    rebuilt = both("fastq_rebuild", view[:end], count, heads_new)
    assert rebuilt[0] == rebuilt[1]
    lines = bytes(view[:end]).split(b"\n")
    assert rebuilt[0].split(b"\n")[1::2] == lines[1::2]  # sequences and qualities as they were
    assert heads == b"\n".join(lines[0:-1:4])
    ours, twin = both("fastq_scan", data[:-1])  # the last line without its newline: no whole line
    assert ours == twin


KSEQ_LINE = st.one_of(
    st.sampled_from([b"@r", b"@", b"+", b"+r", b"", b"ACGT", b"IIII", b"AC", b"II", b"+A", b"@A", b"r"]),
    st.binary(max_size=6),  # any byte: the stripped ones (space, \t, \r, \v, \f), NUL, high bytes
    st.builds(lambda left, space, right: left + space + right, st.sampled_from([b"", b"AC", b"I" * 40]),
              st.sampled_from([b" ", b"\t", b"\r", b"\x0b", b"\x0c", b"\x00", b"!", b"\x1f"]), st.sampled_from([b"", b"G", b"I" * 40])),
)  # fmt: skip


@st.composite
def kseq_lines(draw: st.DrawFn) -> tuple[list[bytes], int]:
    """Lines of four-line records, most of them on kseq's rule, a few lines changed; and a count."""
    records = draw(st.lists(st.tuples(st.sampled_from([b"ACGT", b"A" * 40, b"", b"N+"]), st.booleans()), max_size=8))
    lines: list[bytes] = []
    for sequence, named in records:
        lines += [b"@r", sequence, b"+r" if named else b"+", b"I" * len(sequence)]
    for _ in range(draw(st.integers(0, 2))):
        if lines:
            lines[draw(st.integers(0, len(lines) - 1))] = draw(KSEQ_LINE)
    lines += draw(st.lists(KSEQ_LINE, max_size=3))  # beyond the records counted: never read
    return lines, draw(st.integers(0, len(lines) // 4))


@needs_compiled
@settings(max_examples=400, deadline=None)
@given(kseq_lines())
def test_fastq_kseq_block_agrees(case: tuple[list[bytes], int]) -> None:
    lines, count = case
    ours, twin = both("fastq_kseq_block", lines, count)
    assert ours == twin
    assert both("fastq_kseq_block", lines, 0) == (True, True)


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


@pytest.mark.slow  # a long sweep of the C against its Python twin: make test-slow (CI runs it after make test)
@needs_compiled
@settings(max_examples=400, deadline=None)
@given(st.lists(RECORD, max_size=14), st.sampled_from([1, 7, 23, 64, 1 << 16]), st.booleans())
def test_fastq_records_found_in_c_give_the_python_output(records: list[tuple[str, str]], block_size: int, cut: bool) -> None:
    data = fastq_text(records)
    if cut and data:
        data = data[: len(data) * 2 // 3]
    assert scrubbed(data, block_size) == without_compiled(scrubbed, data, block_size)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_plain_fastq_is_renamed_as_text(implementation: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    """Of a file of plain records, only the record cut by a block's end goes line by line."""
    from genoscrub.fastq_scrub_names import RecordReader

    for name in ("fastq_scan", "fastq_rebuild"):
        monkeypatch.setattr(scan, name, getattr(implementation, name))
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


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("pipe_size", [0, 1 << 20])
def test_read_into_fills_the_buffer_from_a_pipe_written_in_small_pieces(implementation: ModuleType, pipe_size: int) -> None:
    """With a pipe of 1 MiB the compiled loop waits after a short read for the pipe to fill; with the default one it does not."""
    import fcntl

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
    assert implementation.read_into(read_end, buffer) == 100_000
    rest = bytearray(1 << 20)
    size = implementation.read_into(read_end, memoryview(rest))
    assert bytes(buffer) + bytes(rest[:size]) == b"".join(pieces)
    assert implementation.read_into(read_end, rest) == 0
    writer.join()
    os.close(read_end)
    with pytest.raises(OSError):
        implementation.read_into(read_end, rest)


@pytest.mark.parametrize("c_loops", [True, False])
def test_stdin_reader_returns_what_a_format_sniffer_peeked_first(c_loops: bool) -> None:
    """The SAM commands peek at stdin to tell SAM from BAM; the descriptor is read only after those bytes."""
    if c_loops and compiled is None:
        pytest.skip("genoscrub._scan is not built")
    read_end, write_end = os.pipe()
    data = b"@SQ\tSN:chr1\tLN:9\n" + b"r\t4\t*\t0\t0\t*\t*\t0\t0\tACGT\tIIII\n" * 20000

    def produce() -> None:
        os.write(write_end, data)
        os.close(write_end)

    writer = threading.Thread(target=produce)
    writer.start()
    with open(read_end, "rb") as raw, contextlib.nullcontext() if c_loops else python_loops():
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


@pytest.mark.slow  # a long sweep of the C against its Python twin: make test-slow (CI runs it after make test)
@needs_compiled
@settings(max_examples=300, deadline=None)
@given(sam_records())
def test_revert_all_in_c_gives_the_python_records_and_counts(reference_file: str, sam: bytes) -> None:
    assert reverted_all(sam, reference_file) == without_compiled(reverted_all, sam, reference_file)


MATCH_TAGS = ["MD:Z:10", "NM:i:1", "MC:Z:20M", "RG:Z:rg1", "XA:Z:chr1,+5,4M,0", "OQ:Z:IIII", "NM", "M", "", "MDx:1"]
TAG_NAMES = [b"MD", b"NM", b"MC", b"RG", b"XA", b"OQ"]


def tag_table(names: list[bytes]) -> np.ndarray:
    table = np.zeros(1 << 16, dtype=np.uint8)
    table[[(name[0] << 8) | name[1] for name in names]] = 1
    return table


@st.composite
def one_run_reads(draw: st.DrawFn) -> tuple[bytes, list[np.ndarray], np.ndarray]:
    """Records of one M run as text, with the offsets ``sam_revert_matches`` takes (in any
    order of records): reads equal to the reference, in lower case, with other bases, over
    an N of the reference, of length 0, with repeated tabs and pieces too short for a tag."""
    reference = REFERENCE_BASES.encode()
    text = b""
    rows: list[tuple[int, ...]] = []
    for index in range(draw(st.integers(0, 12))):
        length = draw(st.integers(0, 12))
        offset = draw(st.integers(0, len(reference) - length))
        bases = reference[offset : offset + length]
        kind = draw(st.sampled_from(["same", "lower", "other"]))
        sequence = bases.lower() if kind == "lower" else bases
        if kind == "other":
            sequence = bytes(draw(st.lists(st.sampled_from(b"ACGTNa"), min_size=length, max_size=length)))
        head = b"r%d\t0\tchr1\t%d\t60\t%dM\t*\t0\t0\t" % (index, offset + 1, length)
        tags = draw(st.lists(st.sampled_from(MATCH_TAGS), max_size=4))
        line = head + sequence + b"\t" + b"I" * max(length, 1) + b"".join(b"\t" + tag.encode() for tag in tags)
        start = len(text)
        sequence_start = start + len(head)
        quality_end = sequence_start + len(sequence) + 1 + max(length, 1)
        rows.append((start, sequence_start, sequence_start + length, quality_end, start + len(line), offset))
        text += line + b"\n"
    order = draw(st.permutations(range(len(rows))))
    columns = [np.array([rows[row][column] for row in order], dtype=np.int64) for column in range(6)]
    keep = tag_table(draw(st.lists(st.sampled_from(TAG_NAMES), unique=True)))
    return text, columns, keep


@pytest.mark.slow  # a long sweep of the C against its Python twin: make test-slow (CI runs it after make test)
@needs_compiled
@settings(max_examples=300, deadline=None)
@given(one_run_reads(), st.lists(st.sampled_from(TAG_NAMES), unique=True))
def test_sam_revert_matches_agree(reads: tuple[bytes, list[np.ndarray], np.ndarray], changed_names: list[bytes]) -> None:
    text, (starts, sequence_starts, sequence_ends, quality_ends, ends, offsets), keep_unchanged = reads
    reference = REFERENCE_BASES.encode()
    keep_changed = tag_table(changed_names)
    offset_arrays = (starts, sequence_starts, sequence_ends, quality_ends, ends)
    ours, twin = both("sam_revert_matches", text, *offset_arrays, reference, offsets, keep_unchanged, keep_changed)
    assert isinstance(ours, scan.RevertedMatches) and ours == twin
    for line, start, sequence_start, sequence_end, offset in zip(
        ours.lines, starts.tolist(), sequence_starts.tolist(), sequence_ends.tolist(), offsets.tolist(), strict=True
    ):
        read, target = text[sequence_start:sequence_end], reference[offset : offset + sequence_end - sequence_start]
        if line is None:
            assert b"N" in target and read.upper() != target
        else:
            assert line.startswith(text[start:sequence_start]) and line.split(b"\t")[9] == (target if read.upper() != target else read)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_splice_lines_replaces_and_drops_whole_lines(implementation: ModuleType) -> None:
    splice = implementation.splice_lines
    assert splice(LINES, LINE_STARTS, LINE_ENDS, np.array([1, 2], dtype=np.int64), [b"X", None]) == b"a\nX\nd\n"
    assert splice(LINES, LINE_STARTS, LINE_ENDS, np.array([], dtype=np.int64), []) == LINES
    assert splice(LINES, LINE_STARTS, LINE_ENDS, np.array([0, 3], dtype=np.int64), [None, b""]) == b"bb\nccc\n\n"


@needs_compiled
@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=6).filter(lambda line: b"\n" not in line), max_size=10), st.data())
def test_splice_lines_agree(lines: list[bytes], data: st.DataObject) -> None:
    text = b"".join(line + b"\n" for line in lines)
    ends = np.cumsum([len(line) + 1 for line in lines], dtype=np.int64) - 1
    starts = ends - np.array([len(line) for line in lines], dtype=np.int64)
    rows = sorted(data.draw(st.sets(st.integers(0, max(len(lines) - 1, 0)), max_size=len(lines))) if lines else [])
    new = [data.draw(st.one_of(st.none(), st.binary(max_size=4))) for _ in rows]
    ours, twin = both("splice_lines", text, starts, ends, np.array(rows, dtype=np.int64), new)
    replaced = dict(zip(rows, new, strict=True))
    expected = b"".join(
        line + b"\n" if row not in replaced else (b"" if replaced[row] is None else replaced[row] + b"\n")  # type: ignore[operator]
        for row, line in enumerate(lines)
    )
    assert ours == twin == expected


# --- SAM-like lines: tabs located, spans spliced ----------------------------------------------

SAM_FIELD = st.sampled_from([b"", b"*", b"r1", b"@", b"RG:Z:g", b"NM:i:0", b"\r", b"ACGT" * 9])


def fields_by_split(text: bytes, tabs_kept: int) -> tuple[list[list[int]], list[tuple[int, int]], list[int], int]:
    """``line_fields`` worked out with bytes.split: each line's first tabs, its further fields' spans, their count, bad_row."""
    tabs: list[list[int]] = []
    extras: list[tuple[int, int]] = []
    counts: list[int] = []
    start = 0
    lines = text.split(b"\n")[:-1]
    for row, line in enumerate(lines):
        at = [start + index for index, byte in enumerate(line) if byte == 9]
        if len(at) < tabs_kept:
            return tabs, extras, counts, row
        tabs.append(at[:tabs_kept])
        further = at[tabs_kept:]
        extras += list(zip(further, [*further[1:], start + len(line)][: len(further)], strict=True))
        counts.append(len(further))
        start += len(line) + 1
    return tabs, extras, counts, -1


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(SAM_FIELD, min_size=1, max_size=14), max_size=8), st.integers(1, 11), st.binary(max_size=4))
def test_line_fields_find_what_split_finds(lines: list[list[bytes]], tabs_kept: int, tail: bytes) -> None:
    text = b"".join(b"\t".join(fields) + b"\n" for fields in lines) + tail.replace(b"\n", b"")
    tabs, extras, counts, bad_row = fields_by_split(text, tabs_kept)
    results = [implementation.line_fields(text, tabs_kept) for implementation in (python, compiled) if implementation is not None]
    for found in results:
        assert found.bad_row == bad_row
        assert found.line_count == len(tabs) == len(found.starts) == len(found.ends) == len(found.extra_counts)
        assert found.tabs.reshape(-1, tabs_kept).tolist() == tabs
        assert list(zip(found.extra_starts.tolist(), found.extra_ends.tolist(), strict=True)) == extras
        assert found.extra_counts.tolist() == counts
        assert all(text[end] == 10 for end in found.ends.tolist())
        assert all(start == 0 or text[start - 1] == 10 for start in found.starts.tolist())


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=120), st.lists(st.integers(0, 120), max_size=12), st.lists(st.binary(max_size=3), min_size=1, max_size=4),
       st.data())
def test_splice_spans_replace_each_span_by_its_piece(text: bytes, cuts: list[int], pieces: list[bytes], data: st.DataObject) -> None:
    edges = sorted(min(cut, len(text)) for cut in cuts)
    starts = np.array(edges[0::2][: len(edges) // 2], dtype=np.int64)
    ends = np.array(edges[1::2], dtype=np.int64)
    choices = np.array([data.draw(st.integers(0, len(pieces) - 1)) for _ in starts], dtype=np.int64)
    expected, copied = [], 0
    for start, end, choice in zip(starts.tolist(), ends.tolist(), choices.tolist(), strict=True):
        expected += [text[copied:start], pieces[choice]]
        copied = end
    expected.append(text[copied:])
    for implementation in (python, compiled):
        if implementation is not None:
            assert implementation.splice_spans(text, starts, ends, pieces, choices) == b"".join(expected)


def tab_joined(values: list[str]) -> tuple[bytes, np.ndarray, np.ndarray]:
    """The values joined by tabs, and the span of each (a value may hold a tab itself)."""
    lengths = np.array([len(value.encode()) for value in values], dtype=np.int64)
    starts = np.cumsum(lengths + 1) - lengths - 1
    return b"\t".join(value.encode() for value in values), starts, starts + lengths


MD_PIECE = st.sampled_from(["0", "1", "10", "150", "000000007", "1234567890", "A", "N", "a", "^", "^AC", "^", "Z", "-", "\t", "T"])


@settings(max_examples=500, deadline=None)
@given(st.lists(st.lists(MD_PIECE, max_size=7).map("".join), max_size=8))
def test_md_lengths_follow_the_md_grammar(values: list[str]) -> None:
    """Both loops give ``aux_values.md_reference_length`` (the regex rule) for each span."""
    from genoscrub.aux_values import MD_LETTERS, md_reference_length

    text, starts, ends = tab_joined(values)
    arguments = (text, starts, ends, MD_LETTERS)
    wanted = [md_reference_length(value.encode()) for value in values]
    for implementation in (python, compiled):
        if implementation is not None:
            assert implementation.md_lengths(*arguments).tolist() == wanted


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(b"MIDNSHP=XQ"), st.integers(0, 9)), max_size=7),
    st.binary(max_size=30).map(lambda raw: bytes(b"ACGTNacgtn=."[byte % 12] for byte in raw)),
    st.binary(max_size=40).map(lambda raw: bytes(b"ACGTN"[byte % 5] for byte in raw)),
    st.integers(-2, 12),
    st.integers(0, 3),
)
def test_md_and_nm_loops_agree(operations: list[tuple[int, int]], sequence: bytes, reference: bytes, position: int, offset: int) -> None:
    """The same MD and NM, or the same refusal, for any operations over any bases (runs
    past the sequence or the reference included)."""
    if compiled is not None:
        from_c, from_python = both("md_and_nm", position, tuple(operations), sequence, reference, offset)
        assert from_c == from_python


CIGAR_PIECE = st.sampled_from(
    ["0", "1", "10", "150", "000000007", "1234567890", "M", "I", "D", "N", "S", "H", "P", "X", "=", "Q", "*", "\t"]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.lists(CIGAR_PIECE, max_size=7).map("".join), max_size=8))
def test_cigar_lengths_follow_the_cigar_grammar(values: list[str]) -> None:
    """Both loops give ``aux_values.cigar_reference_length`` (the regex rule) for each span."""
    from genoscrub.aux_values import CIGAR_OPERATION_BYTES, REFERENCE_OPERATIONS, cigar_reference_length

    text, starts, ends = tab_joined(values)
    arguments = (text, starts, ends, CIGAR_OPERATION_BYTES, REFERENCE_OPERATIONS)
    wanted = [cigar_reference_length(value.encode()) for value in values]
    for implementation in (python, compiled):
        if implementation is not None:
            assert implementation.cigar_lengths(*arguments).tolist() == wanted


NUMBER_PIECE = st.sampled_from(["0", "1", "9", "42", "2147483647", "2147483648", "9999999999", "12345678901", "-1", "+1", "a", " ", ""])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(NUMBER_PIECE, max_size=3).map("".join), max_size=8))
def test_span_numbers_read_digits(values: list[str]) -> None:
    """Each span's value when it is 1 to 10 digits, else -1 (``int`` of the digits)."""
    text, starts, ends = tab_joined(values)
    wanted = [int(value) if value.isdigit() and len(value) <= 10 else -1 for value in values]
    for implementation in (python, compiled):
        if implementation is not None:
            assert implementation.span_numbers(text, starts, ends).tolist() == wanted


TAG_PIECE = st.sampled_from(
    ["MC:Z:", "MC:Z:150M", "MC:Z:5S145M", "MC:Z:10M2I138M", "MC:Z:1234567890123456789012345M", "MC:i:3", "MC", "M", "SA:Z:x",
     "XA:Z:", "OA", "RG:Z:a", "NM:i:0", "CP:i:19900101", "CP", "C", "I", "D", "N", "X", "\t", ""]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.lists(TAG_PIECE, max_size=3).map("".join), max_size=4), min_size=1, max_size=6), st.integers(1, 30))
def test_sam_tag_lines_mark_what_a_byte_by_byte_reading_finds(lines: list[list[str]], width: int) -> None:
    """Both loops mark the lines a byte-by-byte reading of each optional field names, each
    once, for tags cut anywhere (a name of one letter, an MC value at the block's end), and
    the lines holding a ``CP`` by the bit its code gives (``sam_columns.tag_lines``)."""
    from genoscrub.sam_columns import block_fields, tag_codes

    text = "".join("r\t0\tc\t1\t0\t*\t*\t0\t0\t*\t*" + "".join("\t" + tag for tag in tags) + "\n" for tags in lines).encode()
    table = block_fields(text)
    assert table is not None
    names = [b"SA", b"XA", b"OA", b"MC"]
    letters = np.zeros(256, dtype=np.uint8)
    letters[list(b"IDXN")] = 1
    located = table.located

    def byte(offset: int) -> int:  # past the end: the last byte, as both loops read it
        return text[min(offset, len(text) - 1)]

    codes = tag_codes(names)
    codes[(ord("C") << 8) | ord("P")] = scan.TAG_LINE_PLACE
    named, mate, placed = set(), set(), set()
    for tab in located.extra_starts.tolist():
        line = bisect.bisect_right(table.line_starts.tolist(), tab) - 1
        if bytes([byte(tab + 1), byte(tab + 2)]) in names:
            named.add(line)
        if bytes([byte(tab + 1), byte(tab + 2)]) == b"CP":
            placed.add(line)
        if bytes(byte(tab + k) for k in range(1, 6)) == b"MC:Z:":
            value = [byte(tab + 6 + k) for k in range(width)]
            cut = next((k for k, value_byte in enumerate(value) if value_byte in (9, 10)), None)
            if cut is None or any(letters[value_byte] for value_byte in value[:cut]):
                mate.add(line)
    for implementation in (python, compiled):
        if implementation is not None:
            found = implementation.sam_tag_lines(text, located.extra_starts, located.extra_counts, codes, letters, width)
            assert np.flatnonzero(found & scan.TAG_LINE_NAMED).tolist() == sorted(named)
            assert np.flatnonzero(found & scan.TAG_LINE_MATE_CIGAR).tolist() == sorted(mate)
            assert np.flatnonzero(found & scan.TAG_LINE_PLACE).tolist() == sorted(placed)


REPEATED_FIELD = st.one_of(
    st.sampled_from([b"NM:i:0", b"NM:Z:x", b"MD:Z:4", b"MC:Z:4M", b"", b"N", b"NM", b"\r", b"N\r"]),
    st.binary(max_size=3).filter(lambda field: b"\t" not in field and b"\n" not in field),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(REPEATED_FIELD, max_size=24), max_size=8))
def test_repeated_tags_mark_what_a_set_of_each_line_finds(lines: list[list[bytes]]) -> None:
    """Both loops mark each optional field whose first two bytes an earlier field of its line
    starts with (fields of fewer bytes never), for lines with no field, one, or many."""
    text = b"".join(b"r\t0\tc\t1\t0\t*\t*\t0\t0\t*\t*" + b"".join(b"\t" + field for field in fields) + b"\n" for fields in lines)
    located = scan.python.line_fields(text, 10)
    expected = []
    for fields in lines:
        seen: set[bytes] = set()
        for field in fields:
            expected.append(int(len(field) >= 2 and field[:2] in seen))
            if len(field) >= 2:
                seen.add(field[:2])
    for implementation in (python, compiled):
        if implementation is not None:
            found = implementation.repeated_tags(text, located.extra_starts, located.extra_ends, located.extra_counts)
            assert found.tolist() == expected


WindowCase = tuple[bytes, list[tuple[int, ...]], bytes, list[tuple[int, int]], list[int]]
"""SAM text, each read's offsets, the reference, the windows and how many each read owns."""
WINDOW_READ_TAGS = ["MD:Z:40", "NM:i:3", "RG:Z:g1", "AS:i:40", "MC:Z:40M", "M", "MDx", "XA:Z:c,+1,40M,0", ""]


@st.composite
def window_reads(draw: st.DrawFn) -> WindowCase:
    """One-M reads (bases of either case, N, '=') over a reference with an N and a lowercase
    base, each with windows in, across, beside and outside it (overlapping ones included)."""
    reference = draw(st.text("ACGTACGTNa", min_size=60, max_size=60)).encode()
    lines: list[bytes] = []
    rows: list[tuple[int, ...]] = []
    windows: list[tuple[int, int]] = []
    counts: list[int] = []
    offset = 0
    for index in range(draw(st.integers(0, 6))):
        position = draw(st.integers(0, 40))
        size = draw(st.integers(1, 20))
        bases = bytearray(reference[position : position + size])
        for _ in range(draw(st.integers(0, 4))):
            bases[draw(st.integers(0, size - 1))] = draw(st.sampled_from(b"ACGTNacgtn="))
        tags = draw(st.lists(st.sampled_from(WINDOW_READ_TAGS), max_size=4))
        head = b"r%d\t0\tc\t%d\t60\t%dM\t*\t0\t0\t" % (index, position + 1, size)
        line = head + bytes(bases) + b"\t" + b"I" * size + b"".join(b"\t" + tag.encode() for tag in tags)
        start = offset
        sequence_start = start + len(head)
        quality_end = sequence_start + 2 * size + 1
        rows.append((start, sequence_start, sequence_start + size, quality_end, start + len(line), position, position, size))
        offset += len(line) + 1
        lines.append(line)
        read_windows = draw(st.lists(st.tuples(st.integers(-5, 65), st.integers(0, 8)), max_size=3))
        windows += [(start_, start_ + width) for start_, width in read_windows]
        counts.append(len(read_windows))
    return b"".join(line + b"\n" for line in lines), rows, reference, windows, counts


@settings(max_examples=400, deadline=None)
@given(window_reads())
def test_sam_revert_windows_is_the_one_m_read_rule(case: WindowCase) -> None:
    """Both loops give, read by read, what ``revert.revert_match_run`` and calmd's MD and NM
    make of it (the bulk reverter's rule before the loop), tags kept as its pattern keeps them."""
    from genoscrub.block_reverter import KEEP_CHANGED_CODES, KEPT_CHANGED_TAG_FIELDS, md_and_nm_of_match
    from genoscrub.revert import revert_match_run

    text, rows, reference, windows, counts = case
    columns = [np.array([row[k] for row in rows], dtype=np.int64) for k in range(7)]
    arguments = (
        text, *columns[:6], reference, columns[6], np.array([w[0] for w in windows], dtype=np.int64),
        np.array([w[1] for w in windows], dtype=np.int64), np.array(counts, dtype=np.int64), KEEP_CHANGED_CODES,
    )
    wanted_lines, changed, reverted_bases, used = [], 0, 0, 0
    for (start, sequence_start, sequence_end, quality_end, end, position, _, size), count in zip(rows, counts, strict=True):
        bases = reference[position : position + size]
        sequence, reverted = revert_match_run(position, text[sequence_start:sequence_end], bases, windows[used : used + count])
        used += count
        kept = KEPT_CHANGED_TAG_FIELDS.findall(text, quality_end, end)
        tag_text = text[quality_end:end]
        if b"\tMD" in tag_text or b"\tNM" in tag_text:
            md, distance = md_and_nm_of_match(sequence, bases)
            kept += [b"MD:Z:" + md] if b"\tMD" in tag_text else []
            kept += [b"NM:i:%d" % distance] if b"\tNM" in tag_text else []
        wanted_lines.append(b"\t".join([text[start:sequence_start] + sequence + text[sequence_end:quality_end], *kept]))
        changed += reverted > 0
        reverted_bases += reverted
    for implementation in (python, compiled):
        if implementation is not None:
            assert tuple(implementation.sam_revert_windows(*arguments)) == (wanted_lines, changed, reverted_bases)


# --- BAM: the audit's record walk ---------------------------------------------------------------

AUX_VALUES = {
    "A": st.binary(min_size=1, max_size=1),
    "c": st.binary(min_size=1, max_size=1),
    "C": st.binary(min_size=1, max_size=1),
    "s": st.binary(min_size=2, max_size=2),
    "S": st.binary(min_size=2, max_size=2),
    "i": st.binary(min_size=4, max_size=4),
    "I": st.binary(min_size=4, max_size=4),
    "f": st.binary(min_size=4, max_size=4),
    "Z": st.binary(max_size=8).map(lambda value: value.replace(b"\0", b"x") + b"\0"),
    "H": st.text("0123456789ABCDEF", max_size=6).map(lambda value: value.encode() + b"\0"),
}


@st.composite
def aux_field(draw: st.DrawFn) -> bytes:
    """One aux field: every type, arrays of every subtype, and a few that do not parse
    (an unknown type or subtype, a text value without its NUL, an array longer than its bytes)."""
    code = draw(st.sampled_from([b"RG", b"MD", b"NM", b"XA", b"OQ", b"zz", b"CG"]))
    kind = draw(st.sampled_from([*AUX_VALUES, "B", "B"]))
    if draw(st.integers(0, 30)) == 0:
        return code + draw(st.sampled_from([b"Q\x01", b"Zab", b"B", b"BA\x01\0\0\0x", b"Bc\x05\0\0\0ab", b"i\x01"]))
    if kind == "B":
        subtype = draw(st.sampled_from("cCsSiIf"))
        width = {"c": 1, "C": 1, "s": 2, "S": 2, "i": 4, "I": 4, "f": 4}[subtype]
        count = draw(st.integers(0, 3))
        values = draw(st.binary(min_size=count * width, max_size=count * width))
        return code + b"B" + subtype.encode() + count.to_bytes(4, "little") + values
    return code + kind.encode() + draw(AUX_VALUES[kind])


@st.composite
def bam_record(draw: st.DrawFn) -> bytes:
    """One BAM record, its block_size set to fit its fields (or, now and then, not)."""
    name = draw(st.sampled_from([b"r1", b"READ12", b"*", b"", b"0123456789abcdef01234567", b"a\0b"])) + b"\0"
    if draw(st.integers(0, 20)) == 0:
        name = name[:-1] + b"x"  # a read name without its NUL
    cigar = draw(st.lists(st.tuples(st.integers(0, 15), st.integers(0, 1 << 27)), max_size=4))
    length = draw(st.integers(0, 9))
    sequence = draw(st.binary(min_size=(length + 1) // 2 + length, max_size=(length + 1) // 2 + length))
    aux = b"".join(draw(st.lists(aux_field(), max_size=4)))
    if not draw(st.integers(0, 3)):  # a long CIGAR's placeholder and its CG (SAM 1.6, 4.2.2), or nearly
        cigar = [(4, length + draw(st.sampled_from([0, 0, 0, 1]))), (3, draw(st.integers(0, 99)))][: draw(st.integers(1, 2))]
        words = draw(st.lists(st.tuples(st.integers(0, 15), st.integers(0, 50)), max_size=5))
        subtype = draw(st.sampled_from([b"I", b"I", b"i", b"S"]))
        width = 2 if subtype == b"S" else 4
        values = b"".join((size << 4 | op).to_bytes(4, "little")[:width] for op, size in words)
        long_cigar = b"CGB" + subtype + len(words).to_bytes(4, "little") + values
        aux = long_cigar + aux if draw(st.booleans()) else aux + long_cigar
    fixed = struct.pack(
        "<iiBBHHHiiii", draw(st.integers(-1, 3)), draw(st.integers(-2, 1000)), len(name), 60, 0, len(cigar), draw(st.integers(0, 0xFFFF)),
        length if draw(st.integers(0, 20)) else -1, -1, -1, 0,
    )  # fmt: skip
    body = fixed + name + b"".join(struct.pack("<I", length << 4 | op) for op, length in cigar) + sequence + aux
    size = len(body) + (draw(st.sampled_from([-1, 1, -len(body) + 31])) if draw(st.integers(0, 30)) == 0 else 0)
    return struct.pack("<i", size) + body


NOISE = st.one_of(st.just(b""), st.binary(min_size=1, max_size=3))
"""Nothing, or a byte overwritten somewhere (where, from the other bytes)."""


def walked(implementation: ModuleType, data: bytes, start: int) -> tuple[Any, ...] | type[Exception]:
    try:
        found = implementation.bam_records(data, start)
    except Exception as error:  # noqa: BLE001 - the type is the answer
        return type(error)
    assert found.records.shape == (len(scan.BAM_RECORD_FIELDS), found.record_count)
    assert found.tags.shape[0] == len(scan.BAM_TAG_FIELDS)
    return found.record_count, found.stop, found.records.tolist(), found.tags.tolist()


@pytest.mark.slow  # a long sweep of the C against its Python twin: make test-slow (CI runs it after make test)
@needs_compiled
@settings(max_examples=600, deadline=None)
@given(st.lists(bam_record(), max_size=6), st.one_of(st.just(0), st.integers(0, 60)), st.integers(0, 8), NOISE)
def test_bam_records_walks_and_rejects_as_numpy_does(records: list[bytes], cut: int, start: int, noise: bytes) -> None:
    """Whole records, a last one cut short, a start inside a record, a corrupt field anywhere:
    the same records, fields, aux spans and stop, or the same refusal."""
    data = b"".join(records)
    data = data[: len(data) - cut] if cut < len(data) else data
    if noise and data:
        at = int.from_bytes(noise, "little") % len(data)
        data = data[:at] + noise[:1] + data[at + 1 :]
    start = min(start, len(data)) if start % 2 else 0
    assert compiled is not None
    assert walked(compiled, data, start) == walked(python, data, start)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_bam_records_finds_fields_and_aux_spans(implementation: ModuleType) -> None:
    aux = b"RGZrg1\0" + b"NMi\x02\0\0\0" + b"XBBs\x02\0\0\0\x01\0\x02\0"
    name = b"READ7\0"
    body = struct.pack("<iiBBHHHiiii", 1, 99, len(name), 60, 0, 2, 16, 3, -1, -1, 0) + name
    body += struct.pack("<II", 2 << 4 | 4, 5 << 4 | 0) + b"\x12\x40" + b"III" + aux
    record = struct.pack("<i", len(body)) + body
    found = implementation.bam_records(record + record[:10], 0)
    assert (found.record_count, found.stop) == (1, len(record))
    assert dict(zip(scan.BAM_RECORD_FIELDS, found.records[:, 0].tolist(), strict=True)) == {
        "offset": 0, "ref_id": 1, "pos": 99, "flag": 16, "name_length": 6, "cigar_count": 2, "sequence_length": 3,
        "end": len(record), "reference_length": 5, "first_operation": 4, "contiguous": 1, "leading_clip": 2, "laid_length": 7,
        "cigar_start": 36 + len(name), "sequence_start": 36 + len(name) + 8, "off_grammar": 0,
    }  # fmt: skip
    aux_start = len(record) - len(aux)
    assert found.tags.T.tolist() == [
        [0, ord("R") << 8 | ord("G"), ord("Z"), aux_start + 3, aux_start + 6],
        [0, ord("N") << 8 | ord("M"), ord("i"), aux_start + 10, aux_start + 14],
        [0, ord("X") << 8 | ord("B"), ord("B"), aux_start + 17, aux_start + 26],
    ]
    for corrupt in (record[:4] + b"\x01" + record[5:12] + b"\0" + record[13:], struct.pack("<i", 20) + body):
        with pytest.raises(ValueError):
            implementation.bam_records(corrupt, 0)
    with pytest.raises(IndexError):
        implementation.bam_records(record, len(record) + 1)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_bam_records_take_a_long_cigar_from_cg_as_htslib_does(implementation: ModuleType) -> None:
    """A CIGAR of more than 65535 operations is stored as ``<l_seq>S<n>N`` and ``CG:B:I`` (SAM
    1.6, 4.2.2): the walk reads CG's operations where htslib's ``bam_tag2cigar`` takes them (a
    placed record, the first CG, B:I or B:i, as many operations at least), and flags an
    operation off MIDNSHP=X in the CIGAR readers see."""
    name = b"READ7\0"
    real = [(0, 2), (1, 1), (0, 2), (9, 3)]  # 2M1I2M3B: 4 reference bases, an operation off the grammar
    values = b"".join(struct.pack("<I", length << 4 | op) for op, length in real)

    def record(ref_id: int, subtype: bytes, first: int, before: bytes = b"") -> bytes:
        body = struct.pack("<iiBBHHHiiii", ref_id, 99, len(name), 60, 0, 2, 0, 5, -1, -1, 0) + name
        body += struct.pack("<II", first << 4 | 4, 4 << 4 | 3) + b"\x12\x48\x10" + b"IIIII"
        aux = before + b"CGB" + subtype + struct.pack("<I", 16 // (2 if subtype == b"S" else 4)) + values
        return struct.pack("<i", len(body + aux)) + body + aux

    fields = {name: index for index, name in enumerate(scan.BAM_RECORD_FIELDS)}
    for data, taken in (
        (record(0, b"I", 5), True), (record(0, b"i", 5), True), (record(-1, b"I", 5), False), (record(0, b"I", 4), False),
        (record(0, b"S", 5), False), (record(0, b"I", 5, b"CGZx\0"), False),
    ):  # fmt: skip
        found = implementation.bam_records(data, 0)
        column = found.records[:, 0]
        stored_cigar = 36 + len(name)
        assert column[fields["sequence_start"]] == stored_cigar + 8
        if taken:
            assert column[fields["cigar_start"]] == len(data) - len(values) and column[fields["cigar_count"]] == 4
            assert (column[fields["reference_length"]], column[fields["first_operation"]], column[fields["off_grammar"]]) == (4, 0, 1)
        else:
            assert column[fields["cigar_start"]] == stored_cigar and column[fields["cigar_count"]] == 2
            assert (column[fields["reference_length"]], column[fields["first_operation"]], column[fields["off_grammar"]]) == (4, 4, 0)


# --- many strings at once: the forbid list -----------------------------------------------------------

NEEDLE = st.one_of(
    st.sampled_from([b"S2301217", b"s23", b"/data/", b"ab", b"a", b"\0x", b"\xff\xfe", b"2023-10-29"]), st.binary(min_size=1, max_size=5)
)


@needs_compiled
@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(NEEDLE, st.binary(max_size=12)), max_size=10), st.lists(NEEDLE, max_size=8), st.booleans())
def test_find_strings_finds_what_bytes_find_finds(pieces: list[bytes], needles: list[bytes], upper: bool) -> None:
    """Every occurrence, overlapping ones and either case included, in needle then text order:
    the C pass and the twin, and both against ``bytes.find`` on folded text."""
    text = b"".join(pieces)
    text = text.upper() if upper else text
    assert compiled is not None
    found = [(int(index), int(at)) for index, at in zip(*compiled.find_strings(text, needles), strict=True)]
    assert found == [(int(index), int(at)) for index, at in zip(*python.find_strings(text, needles), strict=True)]
    expected = []
    for index, needle in enumerate(needles):
        at = text.lower().find(needle.lower())
        while at >= 0:
            expected.append((index, at))
            at = text.lower().find(needle.lower(), at + 1)
    assert found == expected


SPREAD_PIECE = st.one_of(NEEDLE, st.binary(max_size=12), st.sampled_from([b" ", b"_", b".", b":", b"/", b"-", b"\t", b"__", b"\n"]))


@needs_compiled
@settings(max_examples=500, deadline=None)
@given(st.lists(SPREAD_PIECE, max_size=16), st.lists(NEEDLE, max_size=8), st.booleans())
def test_find_spread_strings_finds_each_needle_across_separators(pieces: list[bytes], needles: list[bytes], upper: bool) -> None:
    """The C pass and the twin give the same (needle, start, end) triples, those of a search of the
    text read without the separators, each start on a byte that is none and its end after the
    needle's last byte; a needle holding a separator is never found."""
    text = b"".join(pieces)
    text = text.upper() if upper else text
    skipped = b" \t_.:/-"
    assert compiled is not None
    found = [tuple(map(int, triple)) for triple in zip(*compiled.find_spread_strings(text, needles, skipped), strict=True)]
    assert found == [tuple(map(int, triple)) for triple in zip(*python.find_spread_strings(text, needles, skipped), strict=True)]
    kept = [at for at, byte in enumerate(text) if byte not in skipped]
    squeezed = bytes(text[at] for at in kept).lower()
    expected = []
    for index, needle in enumerate(needles):
        at = squeezed.find(needle.lower())
        while at >= 0 and not any(byte in skipped for byte in needle):
            expected.append((index, kept[at], kept[at + len(needle) - 1] + 1))
            at = squeezed.find(needle.lower(), at + 1)
    assert found == expected


@needs_compiled
@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(NEEDLE, st.binary(max_size=12)), max_size=10), st.lists(NEEDLE, max_size=8), st.integers(0, 255))
def test_find_strings_through_a_table_finds_what_it_finds_in_the_translated_text(
    pieces: list[bytes], needles: list[bytes], shift: int
) -> None:
    """With a table, the C pass and the twin find in the text what they find in the text
    translated by it (base qualities read as Phred+33 without a copy)."""
    table = bytes((value + shift) & 0xFF for value in range(256))
    text = b"".join(pieces)
    assert compiled is not None
    found = [(int(index), int(at)) for index, at in zip(*compiled.find_strings(text, needles, table), strict=True)]
    assert found == [(int(index), int(at)) for index, at in zip(*python.find_strings(text, needles, table), strict=True)]
    assert found == [(int(index), int(at)) for index, at in zip(*compiled.find_strings(text.translate(table), needles), strict=True)]


@needs_compiled
@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.one_of(NEEDLE, st.binary(max_size=12)), max_size=10),
    st.lists(st.one_of(NEEDLE, st.binary(min_size=1, max_size=12)), max_size=8),
    st.booleans(),
    st.integers(0, 255),
)
def test_any_strings_says_whether_find_strings_finds_one(pieces: list[bytes], needles: list[bytes], through: bool, shift: int) -> None:
    """The C pass that looks at every (m - 1)th position only and the twin say whether
    ``find_strings`` finds an occurrence, with a table and without."""
    table = bytes((value + shift) & 0xFF for value in range(256)) if through else None
    text = b"".join(pieces)
    assert compiled is not None
    expected = len(compiled.find_strings(text, needles, table)[0]) > 0
    assert compiled.any_strings(text, needles, table) is expected
    assert python.any_strings(text, needles, table) is expected


@needs_compiled
@pytest.mark.parametrize("shortest", [1, 2, 3, 5, 8, 9])
def test_any_strings_finds_a_needle_at_every_offset(shortest: int) -> None:
    """A needle is found wherever it starts (any offset from the positions looked at), in either
    case, beside longer needles that set nothing; text without it holds none."""
    generator = random.Random(shortest)
    assert compiled is not None
    for _ in range(20):
        needle = bytes(generator.choice(b"ACGTacgt0123") for _ in range(shortest + generator.randrange(4)))
        longer = [bytes(generator.choice(b"ACGT") for _ in range(shortest + 6)) for _ in range(3)]
        needles = [*longer, needle, b"x" * shortest]
        for start in range(0, 3 * shortest + 3):
            filler = bytes(generator.choice(b"ACGTacgt0123") for _ in range(start + 2 * shortest + 3))
            text = filler[:start] + needle.swapcase() + filler[start:]
            for implementation in (compiled, python):
                assert implementation.any_strings(text, needles) is (len(python.find_strings(text, needles)[0]) > 0)
            assert compiled.any_strings(text, needles) is True


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_any_strings_refuses_what_find_strings_refuses(implementation: ModuleType) -> None:
    with pytest.raises(ValueError, match="256"):
        implementation.any_strings(b"abc", [b"ab"], bytes(255))
    with pytest.raises(ValueError):
        implementation.any_strings(b"abc", [b"ab", b""])
    with pytest.raises(TypeError):
        implementation.any_strings(b"abc", [b"ab", "ab"])


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_find_strings_refuses_a_table_of_another_length(implementation: ModuleType) -> None:
    with pytest.raises(ValueError, match="256"):
        implementation.find_strings(b"abc", [b"ab"], bytes(255))


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize(("needles", "error"), [([b"ab", b""], ValueError), ([b"ab", "ab"], TypeError), ((b"ab",), TypeError)])
def test_find_strings_refuses_an_empty_needle_or_one_not_bytes(implementation: ModuleType, needles: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        implementation.find_strings(b"abc", needles)


# --- tag codes --------------------------------------------------------------------------------

FIELD_PIECE = st.sampled_from(["\t", "NM", "RG", "X", "A!", ":", "i", "Z", "B", "Q", "0", "rg1", "\n", "", "\xff"])


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.lists(FIELD_PIECE, max_size=6).map("".join), max_size=8), st.booleans())
def test_tag_codes_loops_agree(fields: list[str], newline: bool) -> None:
    """The same codes, or the same None, for fields well formed or not (short, a colon
    missing, no type, ending in the text's last 8 bytes), against ``aux_tags.tag_code``."""
    from genoscrub.aux_tags import TYPE_BYTES, TYPES, tag_code

    text, starts, ends = tab_joined(["", *fields])
    text += b"\n" if newline else b""
    starts, ends = starts[1:] - 1, ends[1:]  # each field from its tab
    codes = python.tag_codes(text, starts, ends, TYPE_BYTES)
    regular = [
        len(field) >= 6 and field[3:4] == b":" and field[5:6] == b":" and field[4] in TYPES
        for field in (text[start:end] for start, end in zip(starts.tolist(), ends.tolist(), strict=True))
    ]
    if all(regular):
        assert codes is not None
        wanted = [tag_code(text[start + 1 : start + 3], text[start + 4]) for start in starts.tolist()]
        assert codes.tolist() == wanted
    else:
        assert codes is None
    if compiled is not None:
        from_c = compiled.tag_codes(text, starts, ends, TYPE_BYTES)
        assert (from_c is None and codes is None) or (from_c is not None and codes is not None and from_c.tolist() == codes.tolist())


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_tag_codes_of_a_record(implementation: ModuleType) -> None:
    """Each field's code, the last one within the text's last 8 bytes; one bad field is None."""
    from genoscrub.aux_tags import TYPE_BYTES, tag_code

    text = b"r\t0\t*\t0\t0\t*\t*\t0\t0\t*\t*\tNM:i:0\tRG:Z:rg1\tXA:Z:x\tAB:A:c\n"
    starts = np.array([i for i in range(len(text)) if text[i] == 9][10:], dtype=np.int64)
    ends = np.append(starts[1:], len(text) - 1)
    codes = implementation.tag_codes(text, starts, ends, TYPE_BYTES)
    assert codes is not None
    assert codes.tolist() == [tag_code(name, kind) for name, kind in ((b"NM", 105), (b"RG", 90), (b"XA", 90), (b"AB", 65))]
    assert implementation.tag_codes(text.replace(b"AB:A:", b"AB:a:"), starts, ends, TYPE_BYTES) is None
    assert implementation.tag_codes(text.replace(b"NM:i:", b"NM:i;"), starts, ends, TYPE_BYTES) is None
    assert implementation.tag_codes(text, starts[:1], starts[:1] + 5, TYPE_BYTES) is None


# --- span choices -----------------------------------------------------------------------------

CHOICE_PIECE = st.sampled_from(["\tRG:Z:", "rg1", "rg10", "rg", "1", "0", "\t", "", "\xff"])


@settings(max_examples=500, deadline=None)
@given(st.lists(st.lists(CHOICE_PIECE, max_size=4).map("".join), max_size=10),
       st.lists(st.lists(CHOICE_PIECE, max_size=3).map("".join), max_size=5))  # fmt: skip
def test_span_choices_loops_agree(spans: list[str], values: list[str]) -> None:
    """Each span's first equal value, prefixes and repeated values included (``rg1`` is no ``rg10``)."""
    text, starts, ends = tab_joined(spans)
    choices = [value.encode() for value in values]
    wanted = [next((k for k, value in enumerate(choices) if value == text[start:end]), -1) for start, end in zip(starts, ends, strict=True)]
    assert python.span_choices(text, starts, ends, choices).tolist() == wanted
    if compiled is not None:
        assert compiled.span_choices(text, starts, ends, choices).tolist() == wanted


@needs_compiled
@settings(max_examples=600, deadline=None)
@given(st.text(alphabet="0123456789:\t\n .-_/ab|;,~+", max_size=120).map(str.encode), st.sampled_from([7, 0, 2]))
@example(b"x 010~1234~5678 1990|01|01 01;01;1990 02 - 123 - 4567 2000,10,12,15", 7)
@example(b"x 29.10.23 23. 10. 29. 29_10_23\t1:10 29 23", 0)
def test_date_junctions_agree(text: bytes, info_column: int) -> None:
    """The audit's search for dates written with separators (``1990. 01. 01.``, ``01:01:1990`` in
    INFO), and for phone numbers and dates joined by a list's separator (red team 9 B1, B2): the C
    loop gives the offsets of its numpy twin."""
    ours, twin = both("date_junctions", text, info_column)
    assert ours.dtype == twin.dtype == np.int64
    assert ours.tolist() == twin.tolist()


# --- BCF records: the audit's walk (tests/test_audit_bcf.py plants them in bcftools' files) --------------


def both_walks(data: bytes, start: int, samples: int, kinds: bytes, keys: tuple[int, int, int, int] = scan.BCF_NO_KEYS,
               phase_printed: bool = False) -> list[Any]:  # fmt: skip
    answers: list[Any] = []
    for implementation in (scan.python, scan.compiled):
        assert implementation is not None
        try:
            found = implementation.bcf_records(data, start, samples, kinds, keys, phase_printed)
        except Exception as error:  # noqa: BLE001 - the type is the answer
            answers.append(type(error))
            continue
        assert found.problems.shape[0] == len(scan.BCF_PROBLEM_FIELDS)
        answers.append((found.record_count, found.stop, found.problems.tolist()))
    return answers


TYPE_BYTES = st.sampled_from([0x00, 0x07, 0x17, 0x11, 0x12, 0x13, 0x15, 0x21, 0x31, 0x35, 0x47, 0xF7, 0xF1, 0x14, 0x16, 0x01, 0x91,
                              0x22, 0x32, 0x23, 0x57])  # fmt: skip
"""Type descriptors: MISSING, strings, integers, floats, overflow counts, reserved codes, odd counts."""
ELEMENTS = st.sampled_from([b"\0", b"\x81", b"\x01\x80", b"\x01\x00\x00\x80", b"\x02\x00\x80\x7f", b"\x01\x00\x80\x7f", b"\x00\x00\xc0\x7f",
                            b"\x49\x4b\xc0\x7f", b"A", b"\x11\x02", b"\x12\x20\x00", b"\x13\x03\x00\x00\x00", b"\x07", b"\x02", b"\x03",
                            b"\x04", b"\x05", b"\x80", b"\x00\x80", b"<DEL>", b"<*>", b"<DUP:TANDEM>", b"\x11\x00", b"\x11\x01",
                            b"\x11\x03", b"\x12\x10\x00"])  # fmt: skip
"""Elements: NULs, END_OF_VECTOR and MISSING of each type, NaNs, a character, typed keys (0 to 3, the
indexes the keys of a walk take), 0x07, GT alleles with and without their phase bit, symbolic alleles."""


@st.composite
def bcf_record(draw: st.DrawFn) -> bytes:
    """A record of typed pieces in a plausible order, its counts and lengths sometimes off."""
    n_sample = draw(st.integers(0, 3))
    n_fmt = draw(st.integers(0, 3))
    n_info = draw(st.integers(0, 3))
    n_allele = draw(st.integers(0, 3))
    fixed = struct.pack("<iiifHHI", 0, draw(st.integers(-1, 99)), draw(st.sampled_from([0, 1, 2, 5, 100, -1, 1 << 30])),
                        draw(st.sampled_from([1.0, float("nan")])), n_info, n_allele, n_sample | n_fmt << 24)  # fmt: skip
    if draw(st.booleans()):
        fixed = fixed[:12] + draw(st.sampled_from([b"\x01\x00\x80\x7f", b"\x49\x4b\xc0\x7f", b"\x00\x00\xc0\x7f"])) + fixed[16:]
    pieces = draw(st.lists(st.tuples(TYPE_BYTES, st.lists(ELEMENTS, max_size=4)), max_size=8))
    shared = fixed + b"".join(bytes([kind]) + b"".join(elements) for kind, elements in pieces)
    formats = draw(st.lists(st.tuples(TYPE_BYTES, st.lists(ELEMENTS, max_size=6)), max_size=6))
    indiv = b"".join(bytes([kind]) + b"".join(elements) for kind, elements in formats)
    shared_length = len(shared) + draw(st.sampled_from([0, 0, 0, -1, 1, -30]))
    indiv_length = len(indiv) + draw(st.sampled_from([0, 0, 0, -1, 2]))
    return struct.pack("<II", max(0, shared_length), max(0, indiv_length)) + shared + indiv


KEYS = st.tuples(*[st.integers(-1, 4)] * 4)
"""Indexes of GT, END, SVLEN and LEN: among the keys the records hold (0 to 3), or none."""


@pytest.mark.slow  # a long sweep of the C against its Python twin: make test-slow (CI runs it after make test)
@needs_compiled
@settings(max_examples=800, deadline=None)
@given(st.lists(bcf_record(), max_size=5), st.integers(0, 4), st.binary(min_size=1, max_size=12), st.integers(0, 3), st.integers(0, 40),
       KEYS, st.booleans())  # fmt: skip
def test_the_c_walk_finds_what_its_twin_finds(records: list[bytes], samples: int, kinds: bytes, start: int, cut: int,
                                              keys: tuple[int, int, int, int], phase_printed: bool) -> None:  # fmt: skip
    """Random records (types, counts, lengths, padding, NaNs off, GT, END, SVLEN and LEN among
    their keys, symbolic alleles, declared Types in ``kinds``), a start inside one, the data cut
    short: the same records, stop and problems from the C walk and the Python twin."""
    data = b"".join(records)
    data = data[: max(0, len(data) - cut)]
    start = min(start, len(data))
    first, second = both_walks(data, start, samples, kinds, keys, phase_printed)
    assert first == second




def typed_value(kind: int, values: list[int] | bytes) -> bytes:
    """A typed vector (``values`` of integer type ``kind``, or a string's bytes for type 7)."""
    size = scan.BCF_TYPE_SIZES[kind]
    body = values if isinstance(values, bytes) else b"".join(value.to_bytes(size, "little", signed=True) for value in values)
    count = len(body) // max(1, scan.BCF_TYPE_SIZES[kind])
    return bytes([min(count, 15) << 4 | kind]) + (bytes([0x11, count]) if count >= 15 else b"") + body


SPAN_ALLELES = st.sampled_from([b"A", b"ACGT", b"", b"<DEL>", b"<DUP:TANDEM>", b"<INV>", b"<CNV>", b"<*>", b"<NON_REF>", b"<INS>",
                                b"<DEL>\0\0", b"A\x07"])  # fmt: skip
NUMBERS = st.sampled_from([0, 1, -1, 5, 99, 100, 104, 600, -500, -128, -127, 127, 20_000, -32768, 1 << 20, -(1 << 31)])


@st.composite
def bcf_span_record(draw: st.DrawFn) -> bytes:
    """A well-formed record of the keys the multi-field rules read (END 1 and SVLEN 2 in INFO, GT 4
    and LEN 3 in FORMAT, 5 another), with symbolic alleles, END, SVLEN and LEN of any integer
    type or none, GT of any ploidy and phase, ``rlen`` drawn near what they give."""
    n_sample = draw(st.integers(1, 3))
    alleles = [draw(SPAN_ALLELES) for _ in range(draw(st.integers(1, 10)))]
    pos = draw(st.sampled_from([0, 99, 1000]))
    info = []
    for key in draw(st.lists(st.sampled_from([1, 2, 5]), max_size=4)):
        kind = draw(st.sampled_from([1, 2, 3, 5, 7]))
        if kind == 5:
            info.append(bytes([0x11, key]) + bytes([0x15]) + struct.pack("<f", 104.0))
        elif kind == 7:
            info.append(bytes([0x11, key]) + typed_value(7, draw(st.sampled_from([b"104", b"a\x07", b""]))))
        else:
            values = draw(st.lists(st.one_of(NUMBERS, st.integers(pos - 2, pos + 700)), min_size=0, max_size=3))
            bits = 8 * scan.BCF_TYPE_SIZES[kind]
            values = [value for value in values if -(1 << bits - 1) <= value < 1 << bits - 1]
            info.append(bytes([0x11, key]) + typed_value(kind, values))
    formats = []
    for key in draw(st.lists(st.sampled_from([4, 3, 5]), max_size=3)):
        kind = draw(st.sampled_from([1, 1, 2, 3, 7]))
        count = draw(st.integers(0, 3))
        if kind == 7:
            body = b"".join(draw(st.sampled_from([b"\x07", b"ab", b"a\0", b"\0\0"]))[:1].ljust(count, b"\0") for _ in range(n_sample))
            formats.append(bytes([0x11, key, count << 4 | 7]) + body)
            continue
        size = scan.BCF_TYPE_SIZES[kind]
        missing, vector_end = -(1 << 8 * size - 1), scan.BCF_VECTOR_END[kind] - (1 << 8 * size)
        elements = st.sampled_from([0, 1, 2, 3, 4, 5, 7, missing, vector_end, 60, 600])
        body = b""
        for _ in range(n_sample):
            values = [draw(elements) for _ in range(count)]
            body += b"".join((value % (1 << 8 * size)).to_bytes(size, "little") for value in values)
        formats.append(bytes([0x11, key, count << 4 | kind]) + body)
    shared = b"".join([bytes([0x07]), *(typed_value(7, allele) for allele in alleles), bytes([0x00]), *info])
    indiv = b"".join(formats)
    rlen = draw(st.sampled_from([0, 1, 4, 5, 101, 501, 601, 1 << 20, -1])) + draw(st.sampled_from([0, 0, 1, -1]))
    fixed = struct.pack("<iiifHHI", 0, pos, rlen, 1.0, len(info), len(alleles), n_sample | len(formats) << 24)
    return struct.pack("<II", len(fixed) + len(shared), len(indiv)) + fixed + shared + indiv


@pytest.mark.slow  # a long sweep of the C against its Python twin: make test-slow (CI runs it after make test)
@needs_compiled
@settings(max_examples=600, deadline=None)
@given(st.lists(bcf_span_record(), min_size=1, max_size=3), st.lists(st.integers(0, 127), min_size=6, max_size=6), st.booleans(),
       st.sampled_from([(4, 1, 2, 3), (4, 1, 2, -1), (-1, -1, -1, 3)]))  # fmt: skip
def test_the_walks_agree_on_gt_end_svlen_and_len(records: list[bytes], kinds: list[int], phase_printed: bool,
                                                 keys: tuple[int, int, int, int]) -> None:  # fmt: skip
    """Records built for the rules that read more than one field (GT's phase, END, ``rlen``,
    declared Types, 0x07): the C walk and the Python twin give the same problems."""
    data = b"".join(records)
    first, second = both_walks(data, 0, len(records) and int.from_bytes(records[0][28:31], "little"), bytes(kinds), keys, phase_printed)
    assert first == second


def test_the_bcf_walks_refuse_a_start_outside_the_data() -> None:
    assert both_walks(b"\0" * 8, 9, 0, b"") == [IndexError, IndexError]


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize(("needles", "error"), [([b"ab", b""], ValueError), ([b"ab", "ab"], TypeError), ((b"ab",), TypeError)])
def test_find_spread_strings_refuses_an_empty_needle_or_one_not_bytes(
    implementation: ModuleType, needles: Any, error: type[Exception]
) -> None:
    with pytest.raises(error):
        implementation.find_spread_strings(b"abc", needles, b"_")
