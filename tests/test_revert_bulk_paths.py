"""sam-revert-germline's bulk paths against its one-record path, on records drawn to reach
their edges.

filters/block_reverter.py settles most records without splitting them: one-``M`` reads
over a window (with or without tags that copy another record, ``SA`` included), records
that only lose tags (a copying tag, an ``MC`` to rewrite), reads whose lengths do not add
up (left to the one-record path). Hypothesis draws blocks of such records, with planted
identifiers in tags, unnamed ``*`` reads, ``*`` SEQ or QUAL, records with no tags, tags
without a value, CRLF line ends, and checks that the bulk paths give the same bytes and
report counts as ``GENOSCRUB_ONE_BY_ONE`` (the one-record path), which reads every record
(a bad record the bulk path need not read passes it unread), and that no tag that copies
another record survives anywhere. One drawn block also goes through the command
three ways (bulk, one record at a time, pure-Python twins of the C loops).
"""

from __future__ import annotations

import io
import itertools
import os
import random
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest
from genoscrub.block_reverter import left_clipped_mates, mate_cigar_fields, tag_spans, tag_spans_of_rows
from genoscrub.contigs import ContigMap
from genoscrub.fasta import Fasta
from genoscrub.germline_sites import GermlineSites
from genoscrub.keep_list import GERMLINE_AF, read_keep_list, screen_keep_list
from genoscrub.record_reverter import ALIGNMENT_LISTS, COPYING_TAGS, NearbyBases, RevertOptions
from genoscrub.report import Report
from genoscrub.revert import CLIP_MARGIN, ClipRule
from genoscrub.sam_columns import block_fields
from genoscrub.sam_revert_germline import RevertSetup, record_chunks, revert_stream
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.conftest import run_command

CONTIG_LENGTH = 400
READ_LENGTH = 40
BASES = "ACGT"
PLANTED = "PATIENT-0042"
"""A planted identifier: it may stay in kept tags (RG), never in a copying tag."""

CIGARS = [
    "40M", "40M", "40M", "5S35M", "35M5S", "18M2D22M", "20M1I19M", "10H40M", "38M2S", "20M3N20M", "20M200N20M", "40=", "*",
    "3S37M", "37M3S", "2S36M2S", "5H3S32M", "30M10H", "4S30M1D6M", "6S34=",
]
TAGS = [
    f"RG:Z:{PLANTED}", "MD:Z:0", "NM:i:9", "MQ:i:60", "AS:i:40", "MC:Z:40M", "MC:Z:18M2D22M", "MC:Z:20M1I19M",
    "MC:Z:5S30M1I4M", "MC:Z:3S37M", "MC:Z:37M3S", "MC:Z:10H30M", "MC:Z:20M3N20M", "MC:Z:20M200N20M", "MC:Z:2I2D38M",
    f"R2:Z:ACGT{PLANTED}", "Q2:Z:IIII",
    f"XA:Z:chr1,+10,40M,0;{PLANTED}",
    f"XB:Z:chr1,+10,18M2D22M,2,30,60;{PLANTED}", "SA:Z:chr1,200,+,40M,60,0;",
    "SA:Z:chr1,20,+,35M5S,60,0;", f"OQ:Z:{PLANTED}", f"XX:Z:{PLANTED}", "MDx", "NMnumber", "OA:Z:chr1,5,+,40M,60,0;",
    "vA:B:c,1", "vG:B:i,12", "vW:i:1", "cs:Z::40", "ds:Z::40",
    "CP:i:100", "CP:i:19900101", "CP:Z:100",  # a position past its contig, or not an integer: goes
]


def query_length(cigar: str) -> int:
    return sum(int(length) for length, op in re.findall(r"(\d+)([MIS=X])", cigar))


@st.composite
def sam_blocks(draw: st.DrawFn) -> tuple[str, list[tuple[int, str, str]], str]:
    """A reference, germline sites (0-based start, REF, ALT) and SAM text over them."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    reference = "".join(rng.choice(BASES) for _ in range(CONTIG_LENGTH))
    sites = []
    for start in sorted(rng.sample(range(20, CONTIG_LENGTH - 20), draw(st.integers(1, 6)))):
        kind = rng.choice(["snv", "snv", "deletion", "insertion"])
        ref = reference[start]
        if kind == "snv":
            sites.append((start, ref, rng.choice([b for b in BASES if b != ref])))
        elif kind == "deletion":
            sites.append((start, reference[start : start + 3], ref))
        else:
            sites.append((start, ref, ref + "TT"))
    lines = []
    for index in range(draw(st.integers(1, 40))):
        cigar = draw(st.sampled_from(CIGARS))
        flag = draw(st.sampled_from([0, 16, 99, 147, 163, 83, 256, 2048, 4, 0x200]))
        position = draw(st.integers(1, CONTIG_LENGTH - 60))
        length = query_length(cigar) if cigar != "*" else READ_LENGTH
        start = position - 1
        bases = list(reference[start : start + length].ljust(length, "A"))
        for _ in range(draw(st.integers(0, 3))):
            at = rng.randrange(length)
            bases[at] = rng.choice("ACGTNacgt")
        sequence = "".join(bases)
        quality = "".join(chr(33 + rng.randrange(40)) for _ in range(length))
        shape = draw(st.sampled_from(["plain", "plain", "plain", "no sequence", "no quality"]))
        if index == 0 and draw(st.integers(0, 9)) == 0:
            shape = "lengths differ"
        if shape == "no sequence":
            sequence = quality = "*"
        elif shape == "no quality":
            quality = "*"
        elif shape == "lengths differ":
            sequence = sequence[:-1]
            quality = quality[:-1]
        name = "*" if draw(st.booleans()) and index % 3 == 0 else f"read{index}"
        tags = draw(st.lists(st.sampled_from(TAGS), max_size=6))
        mate_position = draw(st.integers(1, CONTIG_LENGTH - 60))
        if draw(st.booleans()):  # the mate's 20th base (where an MC of 20M3N20M skips) beside a site
            mate_position = max(1, rng.choice(sites)[0] - 19 + draw(st.integers(-3, 3)))
        elif not draw(st.integers(0, 9)):  # past twice the contig and a read: the mate's place goes
            mate_position = 19900101
        mate = f"=\t{mate_position}\t0" if flag & 1 else "*\t0\t0"
        fields = [name, str(flag), "chr1", str(position), "60", cigar, *mate.split("\t"), sequence, quality, *tags]
        lines.append("\t".join(fields))
    lines.sort(key=lambda line: int(line.split("\t")[3]))
    end = "\r\n" if draw(st.booleans()) else "\n"
    header = ["@HD\tVN:1.6\tSO:coordinate", f"@SQ\tSN:chr1\tLN:{CONTIG_LENGTH}", f"@RG\tID:{PLANTED}\tSM:{PLANTED}"]
    return reference, sites, end.join(header + lines) + end


def write_inputs(folder: Path, reference: str, sites: list[tuple[int, str, str]]) -> tuple[Path, Path]:
    fasta = folder / "ref.fa"
    fasta.write_text(f">chr1\n{reference}\n")
    vcf = folder / "germline.vcf"
    records = "".join(f"chr1\t{start + 1}\t.\t{ref}\t{alt}\t50\tPASS\t.\n" for start, ref, alt in sites)
    vcf.write_text(f"##fileformat=VCFv4.2\n##contig=<ID=chr1,length={CONTIG_LENGTH}>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n{records}")
    return fasta, vcf


def revert(
    sam: str, fasta: Path, vcf: Path | None, options: RevertOptions, one_by_one: bool, keep_vcf: Path | None = None
) -> tuple[bytes, dict[str, int]] | str:
    """The reverted SAM text and counts, or the error a bad record raises (the same on both paths);
    ``keep_vcf``: ``--all --keep`` with that list (``vcf`` None)."""
    report = Report("sam-revert-germline")
    sites = GermlineSites(str(vcf), report) if vcf is not None else None
    reference = Fasta(str(fasta))
    keep = None
    if keep_vcf is not None:
        keep, listed = read_keep_list(str(keep_vcf), reference, report)
        screen_keep_list(keep, listed, None, "AF", GERMLINE_AF, report)
    setup = RevertSetup(reference, sites, keep, options, "in.sam", report, one_by_one=one_by_one)
    try:
        return b"".join(revert_stream(record_chunks(io.BytesIO(sam.encode()), "in.sam"), setup)), dict(report.counts)
    except Exception as error:  # noqa: BLE001 - the error itself is what is compared
        return f"{type(error).__name__}: {error}"


def copying_tags_left(output: bytes, passed_on: frozenset[bytes] = frozenset()) -> list[bytes]:
    """The copying tags an output kept, but those ``--keep-alignment-lists`` passes on."""
    return [
        tag
        for line in output.split(b"\n")
        if line and not line.startswith(b"@")
        for tag in line.rstrip(b"\r").split(b"\t")[11:]
        if tag[:2] in COPYING_TAGS and tag[:2] not in passed_on
    ]


@pytest.mark.slow  # a long sweep of the bulk path against the one-record path: make test-slow (CI runs it after make test)
@settings(max_examples=int(os.environ.get("BULK_PATH_EXAMPLES", "150")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(sam_blocks(), st.sampled_from(["germline", "germline", "all", "all-keep"]), st.booleans(), st.booleans(), st.booleans())
def test_bulk_paths_give_the_one_record_answer(
    case: tuple[str, list[tuple[int, str, str]], str], mode: str, keep_clips_off_sites: bool, keep_secondary_seq: bool,
    keep_alignment_lists: bool,
) -> None:
    reference, sites, sam = case
    options = RevertOptions(
        keep_secondary_seq=keep_secondary_seq,
        clips=ClipRule.NEAR_WINDOWS if keep_clips_off_sites and mode == "germline" else ClipRule.DIFFERING,
        keep_alignment_lists=keep_alignment_lists,
    )
    with tempfile.TemporaryDirectory() as name:
        fasta, vcf = write_inputs(Path(name), reference, sites)
        variants = vcf if mode == "germline" else None
        keep_vcf = vcf if mode == "all-keep" else None  # the sites' alleles kept, every other difference reverted
        bulk = revert(sam, fasta, variants, options, one_by_one=False, keep_vcf=keep_vcf)
        one_by_one = revert(sam, fasta, variants, options, one_by_one=True, keep_vcf=keep_vcf)
        event("one-record path: " + (one_by_one if isinstance(one_by_one, str) else "records"))
        if isinstance(one_by_one, str):  # a record whose lengths do not add up: the bulk path passes it unread
            assert not isinstance(bulk, str) or bulk.startswith("InputError")  # when nothing in it changes
            return
        assert bulk == one_by_one
        if not isinstance(bulk, str):
            assert not copying_tags_left(bulk[0], ALIGNMENT_LISTS if keep_alignment_lists else frozenset())
            assert b"19900101" not in bulk[0] and b"CP:Z" not in bulk[0]  # no place past the contig
            if mode == "germline":
                assert not clips_at_sites(bulk[0], sites)
            else:
                assert not clips_left(bulk[0])


def clips_left(output: bytes) -> list[bytes]:
    """``--all``: the records of an output that keep a clip (a mapped record's CIGAR, or the ``MC``
    of a record whose mate is placed), or a supplementary record: none may be left."""
    found = []
    for line in output.split(b"\n"):
        fields = line.rstrip(b"\r").split(b"\t")
        if line.startswith(b"@") or len(fields) < 11:
            continue
        flag = int(fields[1])
        mate_cigars = [tag[5:] for tag in fields[11:] if tag.startswith(b"MC:Z:")] if fields[6] != b"*" else []
        if flag & 0x800 or (not flag & 4 and re.search(rb"[SH]", fields[5])) or any(re.search(rb"[SH]", cigar) for cigar in mate_cigars):
            found.append(line)
    return found


def clips_at_sites(output: bytes, sites: list[tuple[int, str, str]]) -> list[bytes]:
    """The records of an output with a clip whose projection (plus ``CLIP_MARGIN``) touches a
    site's REF span, or a supplementary record whose alignment or clips do, judged by a cruder rule
    than the reverter's windows (which hold every REF span): none may be left."""
    spans = [(start, start + len(ref)) for start, ref, _ in sites]
    found = []
    for line in output.split(b"\n"):
        fields = line.rstrip(b"\r").split(b"\t")
        if line.startswith(b"@") or len(fields) < 11 or int(fields[1]) & 4 or fields[5] == b"*":
            continue
        operations = [(op, int(length)) for length, op in re.findall(rb"(\d+)([MIDNSHP=X])", fields[5])]
        start = int(fields[3]) - 1
        end = start + sum(length for op, length in operations if op in b"MDN=X")
        leading = sum(length for op, length in itertools.takewhile(lambda item: item[0] in b"SH", operations))
        trailing = sum(length for op, length in itertools.takewhile(lambda item: item[0] in b"SH", reversed(operations)))
        reaches = []
        if leading:
            reaches.append((start - leading - CLIP_MARGIN, start))
        if trailing:
            reaches.append((end, end + trailing + CLIP_MARGIN))
        if int(fields[1]) & 0x800:
            reaches.append((start, end))
        if any(a < site_end and site_start < b for a, b in reaches for site_start, site_end in spans):
            found.append(line)
    return found


def test_the_command_gives_the_same_bytes_bulk_one_by_one_and_pure_python(tmp_path: Path) -> None:
    """One drawn block through bin/sam-revert-germline: bulk, GENOSCRUB_ONE_BY_ONE=1 and
    GENOSCRUB_PURE_PYTHON=1 write the same bytes."""
    rng = random.Random(7)
    reference = "".join(rng.choice(BASES) for _ in range(CONTIG_LENGTH))
    sites = [(60, reference[60], "T" if reference[60] != "T" else "G"), (120, reference[120:123], reference[120]),
             (200, reference[200], reference[200] + "TT")]
    fasta, vcf = write_inputs(tmp_path, reference, sites)
    lines = []
    for index, position in enumerate(range(30, 300, 7)):
        cigar = CIGARS[index % len(CIGARS)]
        length = query_length(cigar) if cigar != "*" else READ_LENGTH
        bases = list(reference[position - 1 : position - 1 + length].ljust(length, "A"))
        bases[index % length] = "C" if bases[index % length] != "C" else "G"
        tags = [TAGS[(index * 3 + k) % len(TAGS)] for k in range(index % 5)]
        lines.append("\t".join([f"read{index}", "99" if index % 2 else "147", "chr1", str(position), "60", cigar, "=",
                                str(position + 5), "0", "".join(bases), "I" * length, *tags]))
    sam = f"@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:{CONTIG_LENGTH}\n" + "\n".join(lines) + "\n"
    for arguments in (["-v", str(vcf)], ["--all"]):
        outputs = []
        for environment in ({}, {"GENOSCRUB_ONE_BY_ONE": "1"}, {"GENOSCRUB_PURE_PYTHON": "1"}):
            result = run_command("sam-revert-germline", "-q", "-r", str(fasta), *arguments, input=sam.encode(), env=environment)
            assert result.returncode == 0, result.stderr.decode()
            outputs.append(result.stdout)
        assert outputs[0] == outputs[1] == outputs[2]
        assert not copying_tags_left(outputs[0])


@given(st.lists(st.tuples(st.sampled_from(["chr1", "chr2"]), st.integers(-50, 1200), st.integers(0, 300)), min_size=1, max_size=30))
def test_nearby_bases_are_the_fetched_bases(spans: list[tuple[str, int, int]]) -> None:
    """NearbyBases slices what it fetched 64 kb at a time: the same bytes as a fetch each,
    clamped at a contig's ends the same way."""
    with tempfile.TemporaryDirectory() as name:
        fasta = Path(name) / "ref.fa"
        rng = random.Random(3)
        fasta.write_text("".join(f">{contig}\n{''.join(rng.choice(BASES) for _ in range(length))}\n"
                                 for contig, length in (("chr1", 1000), ("chr2", 700))))
        reference = Fasta(str(fasta)).through(ContigMap({"chr1": 1000, "chr2": 700}, {"chr1": 1000, "chr2": 700}, "reference", "ref.fa"))
        nearby = NearbyBases(reference)
        for contig, start, size in spans:
            assert nearby.fetch(contig, start, start + size) == reference.fetch(contig, start, start + size)


def test_a_one_match_read_whose_mate_goes_is_left_to_the_one_record_path(tmp_path: Path) -> None:
    """A one-``M`` read over a site whose mate will be removed (its skip starts at a germline
    deletion and ends far past it): the bulk path hands it over, and the record goes with its
    mate (an unpaired mate would mark the carriers), counted once."""
    rng = random.Random(11)
    reference = "".join(rng.choice(BASES) for _ in range(CONTIG_LENGTH))
    snv = (100, reference[100], "A" if reference[100] != "A" else "C")
    fasta, vcf = write_inputs(tmp_path, reference, [snv, (150, reference[150:153], reference[150])])
    sequence = reference[80:100] + snv[2] + reference[101:120]
    read = "\t".join(["pair1", "99", "chr1", "81", "60", "40M", "=", "131", "90", sequence, "I" * 40, "MC:Z:20M200N20M",
                      "MQ:i:60", f"RG:Z:{PLANTED}", "R2:Z:ACGT"])
    sam = f"@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:{CONTIG_LENGTH}\n{read}\n"
    bulk = revert(sam, fasta, vcf, RevertOptions(), one_by_one=False)
    assert bulk == revert(sam, fasta, vcf, RevertOptions(), one_by_one=True)
    assert not isinstance(bulk, str)
    output, counts = bulk
    assert not [line for line in output.decode().splitlines() if not line.startswith("@")]
    assert counts["reads_removed_with_their_mate"] == 1 and "reads_changed" not in counts


def test_all_rewrites_a_clipped_mate_cigar_in_bulk_as_one_by_one(tmp_path: Path) -> None:
    """``--all``: a one-``M`` read whose mate is clipped at its right end (``MC:Z:17M3S``) is settled
    in bulk, its ``MC`` becoming the mate's ``20M`` and TLEN following the mate's new end, the same
    bytes as the one-record path; a QUAL that spells an ``MC`` tag (``MC:Z:17M3S...``) is not taken
    for it. (A mate clipped at its left end moves: such a read goes to the one-record path.)"""
    rng = random.Random(5)
    reference = "".join(rng.choice(BASES) for _ in range(CONTIG_LENGTH))
    fasta, _ = write_inputs(tmp_path, reference, [])
    lines = []
    for index, quality in enumerate(["I" * 20, "MC:Z:17M3S" + "I" * 10]):
        start = 10 + 100 * index
        lines += [
            f"p{index}\t99\tchr1\t{start + 1}\t60\t20M\t=\t{start + 51}\t67\t{reference[start : start + 20]}\t{quality}\tMC:Z:17M3S",
            f"p{index}\t147\tchr1\t{start + 51}\t60\t17M3S\t=\t{start + 1}\t-67\t{reference[start + 50 : start + 67]}AAA\t{'I' * 20}"
            "\tMC:Z:20M",
        ]
    sam = f"@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:{CONTIG_LENGTH}\n" + "\n".join(lines) + "\n"
    bulk = revert(sam, fasta, None, RevertOptions(), one_by_one=False)
    assert bulk == revert(sam, fasta, None, RevertOptions(), one_by_one=True)
    assert not isinstance(bulk, str)
    records = [line.split("\t") for line in bulk[0].decode().splitlines() if not line.startswith("@")]
    assert [(fields[5], fields[8], fields[-1]) for fields in records] == [("20M", "70", "MC:Z:20M"), ("20M", "-70", "MC:Z:20M")] * 2


MATE_CIGAR_TAGS = st.sampled_from([b"MC:Z:3S37M", b"MC:Z:40M", b"MC:i:4", b"MQ:i:60", b"NM:i:0", b"MCZ", b"MC:Z:", b"XA:Z:MC:Z:1S"])


@settings(max_examples=200, deadline=None)
@given(
    tags=st.lists(st.lists(MATE_CIGAR_TAGS, max_size=4), min_size=1, max_size=8),
    chosen=st.lists(st.booleans(), min_size=8, max_size=8),
)
def test_mate_cigar_fields_are_the_chosen_lines_mc_fields(tags: list[list[bytes]], chosen: list[bool]) -> None:
    """``block_reverter.mate_cigar_fields``, which looks only at the chosen lines' optional fields,
    finds each ``MC:Z:`` field of those lines, in text order, as a split of each line finds it;
    ``tag_spans_of_rows``, given the lines holding a named field, finds what ``tag_spans`` finds
    looking at every field of the block."""
    lines = [b"\t".join([b"r", b"99", b"chr1", b"10", b"60", b"40M", b"=", b"50", b"80", b"A" * 40, b"I" * 40, *line]) for line in tags]
    text = b"\n".join(lines) + b"\n"
    table = block_fields(text)
    assert table is not None
    rows = np.flatnonzero(chosen[: len(lines)])
    tabs, ends, owners = mate_cigar_fields(table, rows)
    found = [(int(owner), text[int(tab) + 1 : int(end)]) for tab, end, owner in zip(tabs, ends, owners, strict=True)]
    assert found == [(row, tag) for row in rows.tolist() for tag in tags[row] if tag.startswith(b"MC:Z:")]
    clipped = left_clipped_mates(table, rows).tolist()
    assert clipped == [any(re.match(rb"MC:Z:[0-9]+[SH]", tag) for tag in tags[row]) for row in rows.tolist()]
    mask = np.array(chosen[: len(lines)])
    for names in ((b"MQ",), (b"MC", b"XA")):
        holding = np.array([row for row, line in enumerate(tags) if any(tag[:2] in names for tag in line)], dtype=np.int64)
        expected = tag_spans(table, names, mask)
        for found_spans in (tag_spans_of_rows(table, names, holding, mask), tag_spans_of_rows(table, names, np.arange(len(lines)), mask)):
            assert [part.tolist() for part in found_spans] == [part.tolist() for part in expected]
