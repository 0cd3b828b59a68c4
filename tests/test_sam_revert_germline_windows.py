"""sam-revert-germline's C path for one-``M`` reads on germline windows against the one-record path.

The bulk reverter hands a block's one-``M`` reads that touch a window (their ``MC``, if any,
left as it is) to ``scan.sam_revert_windows``, which reverts their windows and builds their
lines in C. Hypothesis draws blocks of such reads packed onto close germline sites (SNVs side
by side, a deletion, an insertion: several windows a read, overlapping ones), with bases in
either case, ``N`` and ``=``, ``MD`` or ``NM`` alone, tags that go, and mates whose ``MC``
changes (left to the Python rule); the bytes and counts must be the one-record path's
(``GENOSCRUB_ONE_BY_ONE``), with the C loops and with their pure-Python twins, and the
report's keys must come in the same order either way.

The windows themselves: ``germline_sites.shifted_window`` (each walk's end from prefix counts)
is held to the base-by-base walks it replaced (``shifted_window_oracle``).
"""

from __future__ import annotations

import contextlib
import io
import random
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from genoscrub import germline_sites, scan
from genoscrub.fasta import Fasta
from genoscrub.germline_sites import GermlineSites, LengthChanges, length_change
from genoscrub.record_reverter import RevertOptions
from genoscrub.report import Report
from genoscrub.revert import clip_start
from genoscrub.sam_revert_germline import RevertSetup, record_chunks, revert_stream
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CONTIG_LENGTH = 300
TAGS = ["MD:Z:30", "NM:i:2", "RG:Z:PATIENT-0042", "AS:i:30", "XS:i:1", "MC:Z:30M", "MC:Z:10M2I18M", "SA:Z:chr1,5,+,30M,60,0;", "MQ:i:60"]


@contextlib.contextmanager
def python_loops() -> Iterator[None]:
    """Every loop of ``scan`` bound to its pure twin for the duration."""
    saved = {name: getattr(scan, name) for name in (*scan.LOOPS, "native")}
    for name in scan.LOOPS:
        setattr(scan, name, getattr(scan.python, name))
    scan.native = None
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(scan, name, value)


@st.composite
def packed_sites(draw: st.DrawFn) -> tuple[str, list[tuple[int, str, str]], str]:
    """A reference, close germline sites (0-based start, REF, ALT) and one-M reads over them."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    reference = "".join(rng.choice("ACGT") for _ in range(CONTIG_LENGTH))
    sites: list[tuple[int, str, str]] = []
    start = 40
    while start < CONTIG_LENGTH - 60 and len(sites) < 8:
        kind = draw(st.sampled_from(["snv", "snv", "snv", "deletion", "insertion"]))
        ref = reference[start]
        if kind == "snv":
            sites.append((start, ref, rng.choice([b for b in "ACGT" if b != ref])))
        elif kind == "deletion":
            sites.append((start, reference[start : start + 3], ref))
        else:
            sites.append((start, ref, ref + "G"))
        start += draw(st.integers(1, 25))
    lines = []
    for index in range(draw(st.integers(1, 30))):
        size = draw(st.sampled_from([1, 2, 30, 30, 30]))
        site = rng.choice(sites)[0]
        position = max(0, min(CONTIG_LENGTH - size, site - draw(st.integers(-3, size + 3))))
        bases = list(reference[position : position + size])
        for _ in range(draw(st.integers(0, 4))):
            at = min(size - 1, max(0, site - position + draw(st.integers(-2, 2))))
            bases[at] = draw(st.sampled_from("ACGTNacgtn="))
        tags = draw(st.lists(st.sampled_from(TAGS), max_size=4))
        mate_position = max(1, rng.choice(sites)[0] - 9 + draw(st.integers(-2, 2)))
        fields = [f"read{index}", "99", "chr1", str(position + 1), "60", f"{size}M", "=", str(mate_position), "0", "".join(bases),
                  "I" * size, *tags]
        lines.append("\t".join(fields))
    lines.sort(key=lambda line: int(line.split("\t")[3]))
    header = ["@HD\tVN:1.6\tSO:coordinate", f"@SQ\tSN:chr1\tLN:{CONTIG_LENGTH}"]
    return reference, sites, "\n".join(header + lines) + "\n"


def revert(sam: str, folder: Path, one_by_one: bool) -> tuple[bytes, list[tuple[str, int]]]:
    report = Report("sam-revert-germline")
    setup = RevertSetup(Fasta(str(folder / "ref.fa")), GermlineSites(str(folder / "germline.vcf"), report), None, RevertOptions(),
                        "in.sam", report, one_by_one=one_by_one)
    output = b"".join(revert_stream(record_chunks(io.BytesIO(sam.encode()), "in.sam"), setup))
    return output, list(report.counts.items())


@pytest.mark.slow  # a long sweep of the bulk path against the one-record path: make test-slow (CI runs it after make test)
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(packed_sites())
def test_one_m_reads_on_windows_give_the_one_record_answer(case: tuple[str, list[tuple[int, str, str]], str]) -> None:
    reference, sites, sam = case
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "ref.fa").write_text(f">chr1\n{reference}\n")
        records = "".join(f"chr1\t{start + 1}\t.\t{ref}\t{alt}\t50\tPASS\t.\n" for start, ref, alt in sites)
        (folder / "germline.vcf").write_text(
            f"##fileformat=VCFv4.2\n##contig=<ID=chr1,length={CONTIG_LENGTH}>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n{records}"
        )
        bulk = revert(sam, folder, one_by_one=False)
        with python_loops():
            pure = revert(sam, folder, one_by_one=False)
        one_by_one = revert(sam, folder, one_by_one=True)
    assert bulk == pure
    assert bulk[0] == one_by_one[0]
    assert dict(bulk[1]) == dict(one_by_one[1])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 200), st.integers(0, 30)), max_size=12),
    st.lists(st.tuples(st.integers(-10, 240), st.integers(0, 60)), max_size=20),
)
def test_windows_of_spans_are_the_windows_of_each_span(windows: list[tuple[int, int]], spans: list[tuple[int, int]]) -> None:
    """The bulk window lookup lists, span by span, what ``SiteTable.windows`` lists for that
    span alone (nested, overlapping and empty windows included)."""
    import numpy as np
    from genoscrub.germline_sites import SiteTable

    table = SiteTable()
    table.add_contig("chr1", np.array([start for start, _ in windows], dtype=np.int64),
                     np.array([start + width for start, width in windows], dtype=np.int64))
    starts = np.array([start for start, _ in spans], dtype=np.int64)
    ends = np.array([start + width for start, width in spans], dtype=np.int64)
    rows, window_starts, window_ends = table.windows_of_spans("chr1", starts, ends)
    found = list(zip(rows.tolist(), window_starts.tolist(), window_ends.tolist(), strict=True))
    wanted = [(index, *window) for index, (start, end) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True))
              for window in table.windows("chr1", start, end)]
    assert found == wanted
    assert table.windows_of_spans("chr2", starts, ends)[0].tolist() == []


def test_the_exact_spans_a_left_clip_is_aligned_across() -> None:
    """A germline allele that changes the length is kept at its exact span, REF and ALT trimmed
    (``length_change``), and a removed left clip is aligned across those it reaches
    (``revert.clip_start``): a deletion adds its length to the move, an insertion takes its bases
    from the clip, an SNV (no span) leaves the clip's own length."""
    assert length_change(99, b"ACGT", b"A", b".") == (100, 103, 0)
    assert length_change(99, b"A", b"ATT", b".") == (100, 100, 2)
    assert length_change(99, b"A", b"<DEL>", b"END=200") == (100, 200, 0)
    assert length_change(99, b"A", b"<INS>", b"SVLEN=2") == length_change(99, b"A", b"ATT", b".")  # the same insertion
    assert length_change(99, b"A", b"<INS>", b".") is None  # its length unknown: a clip moves by its own length
    assert length_change(99, b"A", b"C", b".") is None and length_change(99, b"AC", b"*", b".") is None
    spans = LengthChanges([(990, 1000, 0), (900, 900, 2), (500, 510, 0)])
    assert spans.ending_before(1000, 200) == [(990, 1000, 0), (900, 900, 2)]
    assert clip_start(1000, 3, spans.ending_before(1000, 1003)) == 987  # 3S147M at 1001: 150M at 988
    assert clip_start(1002, 3, spans.ending_before(1002, 1003)) == 989  # two bases after the deletion, one before
    assert clip_start(905, 8, [(900, 900, 2)]) == 899  # 5 bases after the insertion, its 2, then 1 before it
    assert clip_start(905, 6, [(900, 900, 2)]) == 899  # it starts in the inserted bases: as many before the point as are left
    assert clip_start(905, 7, [(900, 900, 2)]) == 898  # (not all at the point, where only carriers' reads would pile up)
    assert clip_start(1000, 3, []) == 997  # an SNV's window, or --all: the clip's own length


def test_the_breakpoints_of_a_structural_allele_are_windowed() -> None:
    """Each breakpoint of a symbolic ALT or breakend gets a window of its own, a base each side of
    its junction and 50 bases more each way (``breakpoint_windows``, 0-based half-open): POS, END,
    POS plus SVLEN where they disagree, a breakend's mate's place from ALT or INFO (CHR2/POS2),
    widened by CIPOS/CIEND, by 500 for IMPRECISE without them; a number off the grammar is left
    out, never an error. A symbolic deletion whose END and SVLEN disagree is placed by both spans."""
    from genoscrub.germline_sites import breakpoint_windows, length_change_spans

    assert breakpoint_windows(b"chr1", 999, [b"<DEL>"], b"END=1000;SVLEN=-400") == [(b"chr1", 948, 1051), (b"chr1", 1348, 1451)]
    assert breakpoint_windows(b"chr1", 999, [b"<DUP>"], b"END=1100;SVLEN=100") == [(b"chr1", 948, 1051), *[(b"chr1", 1048, 1151)] * 2]
    assert breakpoint_windows(b"chr1", 1098, [b"<DEL>"], b"IMPRECISE;END=1300;CIPOS=-150,150;CIEND=-20,20") == [
        (b"chr1", 897, 1300), (b"chr1", 1228, 1371)]
    assert breakpoint_windows(b"chr1", 1098, [b"<DEL>"], b"IMPRECISE;END=1300") == [(b"chr1", 547, 1650), (b"chr1", 748, 1851)]
    assert breakpoint_windows(b"chr1", 599, [b"C[chr1:1001["], b"SVTYPE=BND") == [(b"chr1", 548, 651), (b"chr1", 949, 1052)]
    assert breakpoint_windows(b"chr1", 1399, [b"<TRA>"], b"CHR2=chr2;POS2=2101") == [(b"chr1", 1348, 1451), (b"chr2", 2049, 2152)]
    assert breakpoint_windows(b"chr1", 1399, [b"G."], b".") == [(b"chr1", 1348, 1451)]
    assert breakpoint_windows(b"chr1", 1399, [b"<INS>"], b"SVLEN=300") == [(b"chr1", 1348, 1451)]  # SVLEN is no span here
    assert breakpoint_windows(b"chr1", 1399, [b"N[<ctg1>:5["], b"CIPOS=--3,4;SVLEN=x") == [(b"chr1", 1344, 1455)]
    assert breakpoint_windows(b"chr1", 1399, [b"ACGT"], b"END=2000") == []  # bases: no breakpoint
    assert length_change_spans(999, b"A", b"<DEL>", b"END=1100;SVLEN=-400") == [(1000, 1100, 0), (1000, 1400, 0)]
    assert length_change_spans(999, b"A", b"<DEL>", b"END=1400;SVLEN=-400") == [(1000, 1400, 0)]


# --- the window of reads placed a few bases along (shifted_window) ------------------------------


def shifted_window_oracle(
    reference: bytes, haplotype: bytes, first: int, last: int, after: int, mismatches: int
) -> tuple[tuple[int, int], bool]:
    """``germline_sites.shifted_window`` as it was written first, base by base (cubic in the
    allele's length): the answer the fast form must give. ``REPEAT_LIMIT`` read from the module at each call (a test may lower it)."""
    low, high = first, last
    complete = True
    read_size, reference_size = len(haplotype), len(reference)
    moved = last - after  # a haplotype base after the allele is this far from its reference base
    ends = germline_sites._read_ends(first, after, mismatches)
    for distance in range(1, max(after - first, last - first, germline_sites.STR_UNIT) + 1):
        for shift in (distance, -distance):
            for step, begin, spare in ends:
                matched = count = 0
                read_at = begin
                while count < germline_sites.REPEAT_LIMIT:  # inline, not a function: it runs for every allele
                    reference_at = read_at + shift if read_at < after else read_at + moved + shift
                    if not (0 <= read_at < read_size and 0 <= reference_at < reference_size):
                        complete = False
                        break
                    if haplotype[read_at] == reference[reference_at]:
                        matched += 1
                    elif spare:
                        spare -= 1
                    else:
                        break
                    count += 1
                    read_at += step
                if not matched:
                    continue
                placed = begin + shift if begin < after else begin + moved + shift  # where the read's end lands
                if step > 0:  # its bases on [placed, placed + count), the gap at most at the end
                    low, high = min(low, placed), max(high, placed + count + 1)
                else:
                    low, high = min(low, placed - count), max(high, placed + 1)
    return (low, high), complete


def every_walk_at_a_shift(
    shift: int, counts: np.ndarray, origin: int, mismatches_then_far: np.ndarray, near_then_mismatches: np.ndarray,
    matches_at: np.ndarray, edge_right: int, edge_left: int, first: int, after: int, mismatches: int, ends: int,
    limit: int, forward_placed: np.ndarray, backward_placed: np.ndarray,
) -> tuple[int, int, bool]:
    """``germline_sites._dominant_walks`` from every walk of the shift, not the few it picks: each
    read end's stop read off the same counts (the ``s + 1``-th mismatch, the nearest edge, the
    limit), as ``_counted_window`` does where an end's own base is past a string. Held equal to it
    call by call, so a slip in its choice of walks shows even where another shift sets the window."""
    low, high, complete = 1 << 62, -(1 << 62), True
    total = len(mismatches_then_far) - 1
    for k in range(ends):
        begin, spare = first + k, mismatches - k
        stop = int(mismatches_then_far[min(int(counts[begin - origin]) + spare, total)])
        end = min(stop, edge_right, begin + limit)
        complete = complete and not (edge_right < stop and edge_right < begin + limit)
        count = end - begin
        if count > int(counts[end - origin]) - int(counts[begin - origin]):
            placed = int(forward_placed[k]) + shift
            low, high = min(low, placed), max(high, placed + count + 1)
        begin = after - 1 - k
        stop = int(near_then_mismatches[max(int(counts[begin - origin + 1]) - spare, 0)])
        end = max(stop, edge_left, begin - limit)
        complete = complete and not (edge_left > stop and edge_left > begin - limit)
        count = begin - end
        if count > int(counts[begin - origin + 1]) - int(counts[end + 1 - origin]):
            placed = int(backward_placed[k]) + shift
            low, high = min(low, placed - count), max(high, placed + 1)
    return low, high, complete


def checked_dominant_walks(*arguments: Any) -> tuple[int, int, bool]:
    """``_dominant_walks``, asserted equal to every walk of its shift."""
    found = DOMINANT_WALKS(*arguments)
    assert found == every_walk_at_a_shift(*arguments), arguments[0]
    return found


DOMINANT_WALKS = germline_sites._dominant_walks


class StringReference:
    """A contig's bases as ``sequence_window`` reads them (``ContigReference.fetch``: clipped to the contig)."""

    def __init__(self, bases: bytes) -> None:
        self.bases = bases

    def fetch(self, name: str, start: int, end: int) -> bytes:
        return self.bases[max(start, 0) : max(end, 0)]


def repetitive(rng: random.Random, size: int, alphabet: str) -> str:
    """Bases with repeats: random runs, copied units and stretches copied from earlier."""
    bases = ""
    while len(bases) < size:
        kind = rng.randrange(3)
        if kind == 0 or not bases:
            bases += "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8)))
        elif kind == 1:
            unit = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6)))
            bases += unit * rng.randint(2, 6)
        else:
            start = rng.randrange(len(bases))
            bases += bases[start : start + rng.randint(1, 12)]
    return bases[:size]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32),
    size=st.integers(0, 60),
    alphabet=st.sampled_from(["A", "AC", "ACG", "ACGT"]),
    kind=st.sampled_from(["snv", "mnp", "insertion", "deletion", "complex", "long insertion", "long deletion"]),
    place=st.sampled_from(["start", "middle", "end", "anywhere"]),
    limit=st.sampled_from([1, 2, 3, 7, 1000]),
    budget=st.integers(-1, 3),
)
def test_the_shifted_window_is_the_base_by_base_walks(
    seed: int, size: int, alphabet: str, kind: str, place: str, limit: int, budget: int
) -> None:
    """``shifted_window`` finds each walk's end from the mismatches' prefix counts, shift by shift
    (``_counted_window``; alleles up to ``WALKED`` bases walked as before); both must give the
    base-by-base walks' window and flag exactly: for SNVs, MNPs, insertions, deletions and
    complex alleles, short and long, in repeats, at the strings' ends (where a walk runs off
    them), with ``REPEAT_LIMIT`` small enough to stop walks and a mismatch budget other than
    the allele's (``budget``: 0 is the allele's, -1 one fewer...). At each shift the few walks
    ``_dominant_walks`` reads are held to every walk of that shift too (``every_walk_at_a_shift``):
    the window is set by a few shifts only, so a wrong pick elsewhere would not show in it."""
    rng = random.Random(seed)
    reference = repetitive(rng, size, alphabet).encode()
    lengths = {"snv": (1, 1), "mnp": (rng.randint(2, 5),) * 2, "insertion": (0, rng.randint(1, 6)),
               "deletion": (rng.randint(1, 6), 0), "complex": (rng.randint(1, 6), rng.randint(1, 6)),
               "long insertion": (0, rng.randint(10, 40)), "long deletion": (rng.randint(10, 40), 0)}
    deleted, inserted = lengths[kind]
    deleted = min(deleted, size)
    first = {"start": 0, "middle": (size - deleted) // 2, "end": size - deleted, "anywhere": rng.randint(0, size - deleted)}[place]
    last = first + deleted
    copied = (reference[first:] * 40)[rng.randrange(3) :][:inserted]  # a copy of the bases after it: a repeat
    alternate = repetitive(rng, inserted, alphabet).encode() if rng.random() < 0.5 or len(copied) < inserted else copied
    haplotype = reference[:first] + alternate + reference[last:]
    after = first + len(alternate)
    mismatches = max(deleted, len(alternate)) - 1 + budget
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(germline_sites, "REPEAT_LIMIT", limit)
        patch.setattr(germline_sites, "_dominant_walks", checked_dominant_walks)
        expected = shifted_window_oracle(reference, haplotype, first, last, after, mismatches)
        assert germline_sites.shifted_window(reference, haplotype, first, last, after, mismatches) == expected
        counted = germline_sites._counted_window(reference, haplotype, first, last, after, mismatches)  # short alleles too
        assert counted == expected


@pytest.mark.parametrize("size", [30, pytest.param(120, marks=pytest.mark.slow)])  # 120: make test-slow
def test_long_insertions_get_the_walks_windows(size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """``sequence_window`` of a long literal insertion (random, a copy of the bases after it, a
    tandem repeat's units, near the contig's start) is the same with the base-by-base walks,
    and with the near try walked through where it now ends at once (a read placed 120 bases
    along leaves the bases fetched near a 120-base insertion: ``shifted_ends_outside``)."""
    rng = random.Random(size)
    contig = "".join(rng.choice("ACGT") for _ in range(3000))
    reference = StringReference(contig.encode())
    cases = [
        (1500, "".join(rng.choice("ACGT") for _ in range(size))),
        (1500, contig[1501 : 1501 + size]),
        (1500, ("CAG" * size)[:size]),
        (20, "".join(rng.choice("ACGT") for _ in range(size))),
    ]
    found = [germline_sites.sequence_window(reference, "chr1", position, contig[position].encode(), (contig[position] + inserted).encode())  # type: ignore[arg-type]
             for position, inserted in cases]
    monkeypatch.setattr(germline_sites, "shifted_window", shifted_window_oracle)
    monkeypatch.setattr(germline_sites, "shifted_ends_outside", lambda *_: False)  # every near try walked through
    walked = [germline_sites.sequence_window(reference, "chr1", position, contig[position].encode(), (contig[position] + inserted).encode())  # type: ignore[arg-type]
              for position, inserted in cases]
    assert found == walked


def test_a_2000_base_insertion_is_windowed() -> None:
    """A 2,000-base literal insertion (cubic before: hours) is windowed. Its bases (G) are none
    of the reference's (A and C), so every read that begins or ends in it, placed along, meets
    only mismatches there and runs out of them before it matches a base: the shifted window
    is the allele's own span, told from strings wide enough."""
    rng = random.Random(2000)
    contig = "".join(rng.choice("AC") for _ in range(12000)).encode()
    first = 4001
    haplotype = contig[:first] + b"G" * 2000 + contig[first:]
    assert germline_sites.shifted_window(contig, haplotype, first, first, first + 2000, 1999) == ((first, first), True)
    start, end = germline_sites.sequence_window(StringReference(contig), "chr1", 4000, contig[4000:4001], contig[4000:4001] + b"G" * 2000)  # type: ignore[arg-type]
    assert start < 4000 < first < end  # the anchor and the point of insertion, widened over repeats
