"""sam-revert-germline: per-read rules, then end-to-end checks by independent tools.

The end-to-end tests run the filter on the simulator's tumour/normal set and
check the output with samtools and bcftools:
(a) it parses and passes quickcheck, (b) ``samtools calmd`` changes nothing,
(c) ``bcftools mpileup | bcftools call`` finds no germline site, (d) every
somatic alt observation is still there, (e) reads that overlap no germline site
are byte-identical.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import tempfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
import pysam
import pytest
from genoscrub import block_reverter, scan
from genoscrub.alignments import open_alignment_text
from genoscrub.cigar import format_cigar, match_op, md_and_nm, parse_cigar
from genoscrub.fasta import ContigReference, Fasta
from genoscrub.germline_sites import GermlineSites, SiteTable, indel_window, snv_windows
from genoscrub.record_reverter import ALL_BELOW_MAPQ, RevertOptions
from genoscrub.report import InputError, Report
from genoscrub.revert import (
    CLIP_MARGIN,
    MAX_SHIFT,
    NO_ALIGNED_BASE,
    ClipRule,
    Reverted,
    Windows,
    borrowed_qualities,
    quality_draw_key,
    revert_alignment,
    rewrite_mate_cigar,
)
from genoscrub.sam_revert_germline import RevertSetup, record_chunks, revert_stream
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT, SITE_KEY, run_command, site_key_file
from tests.independent import alt_observations, called_sites, variant_records

COMMAND = "sam-revert-germline"
MD_AND_NM_LOOPS = [scan.python.md_and_nm] + ([scan.compiled.md_and_nm] if scan.compiled is not None else [])
"""The twin and the C loop (where built): each must compute calmd's MD and NM."""
REFERENCE = b"GGATCACAGTCTACACTGCTCACTCCAACCCCGGCCCCTGAGTCCGAGGAGAGGGTGCTTCACACACAGTATACCACTGGGTAGGATACGGCGGAGGGCA"


def ops(cigar: bytes) -> list[tuple[int, int]]:
    shape = parse_cigar(cigar)
    assert shape is not None
    return list(shape.operations)


# --- per-read rules (filters/revert.py) ------------------------------------------


def random_reference(folder: Path, length: int, seed: int) -> str:
    """A random chr1 of ``length`` bases written to ``folder/ref.fa`` and indexed; its bases."""
    rng = random.Random(seed)
    bases = "".join(rng.choice("ACGT") for _ in range(length))
    (folder / "ref.fa").write_text(">chr1\n" + "\n".join(bases[i : i + 60] for i in range(0, length, 60)) + "\n")
    pysam.faidx(str(folder / "ref.fa"))
    return bases


def germline_snv(folder: Path, bases: str, position: int) -> None:
    """``folder/germline.vcf``: one SNV of chr1 at ``position`` (1-based), off the reference's base."""
    vcf = f"##fileformat=VCFv4.2\n##contig=<ID=chr1,length={len(bases)}>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    reference = bases[position - 1]
    (folder / "germline.vcf").write_text(vcf + f"chr1\t{position}\t.\t{reference}\t{'C' if reference != 'C' else 'A'}\t.\tPASS\t.\n")


def test_snv_in_window_reverted_and_outside_kept() -> None:
    read = bytearray(REFERENCE[10:30])
    read[4] = ord("G")  # in the window
    read[15] = ord("T") if REFERENCE[25] != ord("T") else ord("A")  # a somatic change outside
    result = revert_alignment(10, ops(b"20M"), bytes(read), b"I" * 20, REFERENCE, 0, [(14, 15)])
    assert isinstance(result, Reverted)
    assert result.sequence[4] == REFERENCE[14]
    assert result.sequence[15] == read[15]
    assert result.bases_reverted == 1
    assert md_and_nm(10, result.operations, result.sequence, REFERENCE, 0) == (b"15%c4" % REFERENCE[25], 1)


def test_deletion_filled_with_reference_and_qualities_borrowed_from_its_neighbours() -> None:
    sequence = REFERENCE[30:42] + REFERENCE[44:54]
    qualities = b"ABCDEFGHIJK5@LMNOPQRS"[:11] + b"5@" + b"LMNOPQRST"
    result = revert_alignment(30, ops(b"12M2D10M"), sequence, qualities, REFERENCE, 0, [(40, 44)])
    assert isinstance(result, Reverted)
    # filled, then the read keeps its 22 bases: two taken from its right end
    assert format_cigar(result.operations) == b"22M"
    assert result.sequence == REFERENCE[30:52]
    assert result.qualities[:12] + result.qualities[14:] == qualities[:12] + qualities[12:20]
    assert set(result.qualities[12:14]) <= set(qualities)  # two of the read's own (within 32 each side)
    assert (result.indels_reverted, result.bases_trimmed_to_length) == (1, 2)
    again = revert_alignment(30, ops(b"12M2D10M"), sequence, qualities, REFERENCE, 0, [(40, 44)])
    assert isinstance(again, Reverted) and again.qualities == result.qualities  # the same read, the same qualities


def test_qualities_at_a_reverted_indel_do_not_tell_carriers(tmp_path: Path) -> None:
    """With unbinned qualities (Q10 to Q40 drawn per base), the reads of a germline deletion's or
    insertion's carriers, reverted, show a run of equal qualities where the bases were added no
    more often than the reads of the reference allele show one there (all carriers showed one
    when the added bases all took one value)."""
    rng = random.Random(11)
    site, unit = 60, REFERENCE[60:62]  # a 2-base deletion / insertion after REFERENCE[59]
    runs: Counter[str] = Counter()
    for _ in range(200):
        qualities = bytes(rng.randint(43, 73) for _ in range(40))
        start = rng.randint(35, 50)
        k = site - start
        carriers = {
            "deletion": (ops(b"%dM2D%dM" % (k, 40 - k)), REFERENCE[start:site] + REFERENCE[site + 2 : start + 42], k, k + 2),
            "insertion": (ops(b"%dM2I%dM" % (k, 38 - k)), REFERENCE[start:site] + unit + REFERENCE[site : start + 38], 37, 40),
        }
        for kind, (operations, sequence, first, last) in carriers.items():
            result = revert_alignment(start, operations, sequence, qualities, REFERENCE, 0, [(site - 4, site + 6)])
            assert isinstance(result, Reverted) and result.sequence == REFERENCE[start : start + 40]
            runs[kind] += len(set(result.qualities[first - 1 : last])) == 1 or len(set(result.qualities[first : last + 1])) == 1
            runs[kind + " reference"] += len(set(qualities[first - 1 : last])) == 1 or len(set(qualities[first : last + 1])) == 1
    for kind in ("deletion", "insertion"):
        assert runs[kind] <= runs[kind + " reference"] + 10, runs


def unkeyed_draw(qualities: bytes, start: int, end: int, count: int) -> bytes:
    """The draw of the qualities given back for a removed insertion as sam-revert-germline made it
    before it was keyed (``random.Random(zlib.crc32(QUAL, start))``): what a recipient can redo."""
    pool = qualities[max(0, start) : max(0, end)]
    choose = random.Random(zlib.crc32(qualities, max(0, start))).randrange
    return bytes(pool[choose(len(pool))] for _ in range(count))


def test_qualities_given_back_for_a_removed_insertion_are_no_function_of_what_a_recipient_holds() -> None:
    """A recipient who drops a read's last 2 qualities and draws them again from the 32 before,
    by the unkeyed draw, found them in every carrier's read of a removed 2-base insertion (and in
    no other read): the carrier's genotype, no key needed. Keyed by the site key, the draw is no
    function of QUAL: that test finds the carriers' reads no more often than the non-carriers' (by
    chance, two draws from 32 qualities agreeing), nor does the keyed draw redone with another key;
    with the key the draw is redone exactly (the data holder's view: the test looks where it should)."""
    rng = random.Random(5)
    site, unit = 60, REFERENCE[60:62]
    key, other = quality_draw_key(SITE_KEY), quality_draw_key(b"another site's key, 32 bytes!!!!")
    found: Counter[str] = Counter()
    for _ in range(300):
        qualities = bytes(rng.randint(43, 73) for _ in range(40))  # unbinned
        start = rng.randint(35, 50)
        k = site - start
        read = REFERENCE[start:site] + unit + REFERENCE[site : start + 38]
        operations = ops(b"%dM2I%dM" % (k, 38 - k))
        result = revert_alignment(start, operations, read, qualities, REFERENCE, 0, [(site - 4, site + 6)], quality_key=key)
        assert isinstance(result, Reverted) and result.sequence == REFERENCE[start : start + 40]
        kept, given = result.qualities[:38], result.qualities[38:]
        found["carrier, unkeyed"] += unkeyed_draw(kept, 6, 38, 2) == given
        found["non-carrier, unkeyed"] += unkeyed_draw(qualities[:38], 6, 38, 2) == qualities[38:]
        found["carrier, another key"] += borrowed_qualities(kept, 6, 38, 2, other) == given
        found["carrier, the key"] += borrowed_qualities(kept, 6, 38, 2, key) == given
    assert found["carrier, the key"] == 300, found
    assert found["carrier, unkeyed"] <= found["non-carrier, unkeyed"] + 6 and found["carrier, unkeyed"] <= 12, found
    assert found["carrier, another key"] <= 12, found


def indel_carriers(folder: Path) -> tuple[list[str], set[str]]:
    """``folder/ref.fa``, ``folder/germline.vcf`` (a 3-base insertion and a 3-base deletion) and
    ``folder/in.sam``: 20 carriers' reads of each and 20 non-carriers' (unbinned qualities).
    Returns the SAM lines and the carriers' read names."""
    rng = random.Random(9)
    contig = "".join(rng.choice("ACGT") for _ in range(1500))
    (folder / "ref.fa").write_text(">chr1\n" + contig + "\n")
    pysam.faidx(str(folder / "ref.fa"))
    (folder / "germline.vcf").write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=1500>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        f"chr1\t500\t.\t{contig[499]}\t{contig[499]}GTC\t50\tPASS\t.\n"
        f"chr1\t1000\t.\t{contig[999:1003]}\t{contig[999]}\t50\tPASS\t.\n"
    )
    records, carriers = [], set()
    for number in range(80):
        site, insertion, carrier = (500 if number < 40 else 1000), number < 40, number % 2 == 0
        left = rng.randint(15, 80)
        position = site - left  # 0-based: the anchor is the read's left-th base
        if not carrier:
            bases, cigar = contig[position : position + 100], "100M"
        elif insertion:
            bases, cigar = contig[position:site] + "GTC" + contig[site : position + 97], f"{left}M3I{97 - left}M"
        else:
            bases, cigar = contig[position:site] + contig[site + 3 : position + 103], f"{left}M3D{100 - left}M"
        name = f"r{number}"
        carriers |= {name} if carrier else set()
        qualities = "".join(chr(33 + rng.randint(2, 41)) for _ in range(100))
        records.append((position, f"{name}\t0\tchr1\t{position + 1}\t60\t{cigar}\t*\t0\t0\t{bases}\t{qualities}"))
    lines = [line for _, line in sorted(records)]
    (folder / "in.sam").write_text("@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:1500\n" + "\n".join(lines) + "\n")
    return lines, carriers


def test_the_drawn_qualities_follow_the_key_file(tmp_path: Path) -> None:
    """With --key-file, the same bytes on every run, on the bulk and the one-record path; another
    key draws other qualities for the bases the reverted indels add, and changes nothing else;
    without one, each run draws with a secret of its own (two runs differ there, and only there).
    A key file others may read is refused, as sam-scrub-rg refuses it."""
    _, carriers = indel_carriers(tmp_path)
    site_key_file(tmp_path)
    (tmp_path / "other.key").write_bytes(b"another site's key, 32 bytes!!!!")
    (tmp_path / "other.key").chmod(0o600)

    def records(*key: str, one_by_one: bool = False) -> dict[str, list[str]]:
        environment = {**os.environ, "GENOSCRUB_ONE_BY_ONE": "1"} if one_by_one else None
        result = subprocess.run(
            [str(ROOT / "bin" / COMMAND), "-q", "-r", "ref.fa", "-v", "germline.vcf", *key, "in.sam"],
            cwd=tmp_path, capture_output=True, env=environment, timeout=300,
        )
        assert result.returncode == 0, result.stderr.decode()
        return {line.split("\t")[0]: line.split("\t") for line in result.stdout.decode().splitlines() if not line.startswith("@")}

    def differing(one: dict[str, list[str]], two: dict[str, list[str]]) -> set[str]:
        """The reads whose records differ, after checking that they differ in QUAL alone, at 3 bases at most."""
        assert one.keys() == two.keys()
        names = {name for name in one if one[name] != two[name]}
        for name in names:
            assert one[name][:10] + one[name][11:] == two[name][:10] + two[name][11:]
            assert sum(a != b for a, b in zip(one[name][10], two[name][10], strict=True)) <= 3
        return names

    keyed = records("--key-file", "site.key")
    assert records("--key-file", "site.key") == keyed == records("--key-file", "site.key", one_by_one=True)
    other_key = differing(keyed, records("--key-file", "other.key"))
    assert len(other_key) >= 30 and other_key <= carriers
    other_run = differing(records(), records())
    assert len(other_run) >= 30 and other_run <= carriers
    (tmp_path / "site.key").chmod(0o644)
    refused = subprocess.run(
        [str(ROOT / "bin" / COMMAND), "-q", "-r", "ref.fa", "-v", "germline.vcf", "--key-file", "site.key", "in.sam"],
        cwd=tmp_path, capture_output=True, timeout=300,
    )
    assert refused.returncode == 2 and b"readable by group or others" in refused.stderr and not refused.stdout


def test_insertion_removed_only_when_its_anchor_is_in_a_window() -> None:
    sequence = REFERENCE[50:61] + b"CA" + REFERENCE[61:71]
    result = revert_alignment(50, ops(b"11M2I10M"), sequence, b"I" * 23, REFERENCE, 0, [(59, 69)])
    # removed, then the read keeps its 23 bases: the 2 reference bases after its end added
    assert isinstance(result, Reverted) and format_cigar(result.operations) == b"23M"
    assert result.sequence == REFERENCE[50:73] and result.bases_added_to_length == 2
    kept = revert_alignment(50, ops(b"11M2I10M"), sequence, b"I" * 23, REFERENCE, 0, [(80, 81)])
    assert isinstance(kept, Reverted) and format_cigar(kept.operations) == b"11M2I10M" and not kept.changed


def test_soft_clip_masked_only_when_its_projection_touches_a_window() -> None:
    sequence = b"TACGCTGC" + REFERENCE[19:34]
    masked = revert_alignment(19, ops(b"8S15M"), sequence, b"I" * 23, REFERENCE, 0, [(14, 15)])
    assert isinstance(masked, Reverted)
    assert masked.sequence[:8] == b"N" * 8 and masked.qualities[:8] == b"#" * 8
    assert masked.sequence[8:] == sequence[8:]
    far = revert_alignment(19, ops(b"8S15M"), sequence, b"I" * 23, REFERENCE, 0, [(70, 71)])
    assert isinstance(far, Reverted) and far.sequence == sequence and not far.changed


def test_record_without_sequence_gets_its_cigar_reverted() -> None:
    result = revert_alignment(30, ops(b"12M2D10M"), b"*", b"*", REFERENCE, 0, [(40, 44)])
    assert isinstance(result, Reverted)
    assert (format_cigar(result.operations), result.sequence, result.qualities) == (b"22M", b"*", b"*")


def test_match_mismatch_cigar_stays_match_mismatch() -> None:
    read = bytearray(REFERENCE[10:25])
    read[4] = ord("G")
    read[10] = ord("A") if REFERENCE[20] != ord("A") else ord("C")
    result = revert_alignment(10, ops(b"4=1X5=1X4="), bytes(read), b"I" * 15, REFERENCE, 0, [(14, 15)])
    assert isinstance(result, Reverted) and format_cigar(result.operations) == b"10=1X4="


def test_a_record_spelling_matches_m_gets_m_where_its_x_is_reverted() -> None:
    """Red team 7 F10: an aligner writing mismatches ``X`` beside ``M`` (``5M1X14M``): the carrier
    became ``5M1=14M`` where a non-carrier reads ``20M``, its CIGAR marking it and the site. Its
    reverted base, and a deletion it fills, are spelled ``M``, and its mate's MC says the same."""
    read = bytearray(REFERENCE[10:30])
    read[5] = ord("A") if REFERENCE[15] != ord("A") else ord("C")
    result = revert_alignment(10, ops(b"5M1X14M"), bytes(read), b"I" * 20, REFERENCE, 0, [(15, 16)])
    assert isinstance(result, Reverted) and format_cigar(result.operations) == b"20M"
    assert rewrite_mate_cigar(10, b"5M1X14M", [(15, 16)]) == b"20M"
    other = b"A" if REFERENCE[14] != ord("A") else b"C"
    deletion = bytes(REFERENCE[10:14] + other + REFERENCE[17:32])
    result = revert_alignment(10, ops(b"4M1X2D15M"), deletion, b"I" * 20, REFERENCE, 0, [(14, 17)])
    assert isinstance(result, Reverted) and format_cigar(result.operations) == b"20M", result
    assert rewrite_mate_cigar(10, b"4M1X2D15M", [(14, 17)]) == b"20M"
    assert match_op(ops(b"4=1X5=")) == ord("=") and match_op(ops(b"20X")) == ord("=") and match_op(ops(b"20M")) == ord("M")


def test_nothing_aligned_left_means_the_record_goes() -> None:
    assert revert_alignment(60, ops(b"3S2I"), b"AAACA", b"IIIII", REFERENCE, 0, [(55, 65)]) is NO_ALIGNED_BASE


def test_keep_hook_spares_exact_alleles_for_tumour_only_mode() -> None:
    """The keep list (tumour-only mode): the hook sees (position, REF, ALT) of each difference."""
    read = bytearray(REFERENCE[10:30])
    read[4] = ord("G")
    seen: list[tuple[int, bytes, bytes]] = []

    def keep(position: int, reference: bytes, alternate: bytes) -> bool:
        seen.append((position, reference, alternate))
        return True

    result = revert_alignment(10, ops(b"20M"), bytes(read), b"I" * 20, REFERENCE, 0, [(9, 31)], keep=keep)
    assert isinstance(result, Reverted) and result.sequence == bytes(read)
    assert seen == [(14, bytes((REFERENCE[14],)), b"G")]


@pytest.mark.parametrize("loop", MD_AND_NM_LOOPS)
def test_md_and_nm_follow_samtools_calmd_for_deletions_and_n(loop: Callable[..., tuple[bytes, int]]) -> None:
    sequence = b"N" + REFERENCE[1:5] + REFERENCE[7:10]
    assert loop(0, ops(b"5M2D3M"), sequence, REFERENCE, 0) == (b"0G4^%s3" % REFERENCE[5:7], 3)


def test_indel_window_spans_the_repeat() -> None:
    # REFERENCE[60:68] is CACACACA: a CA insertion after the T at 59 may sit anywhere in it;
    # the window covers the repeat plus one base, the insertion's length (2) and the gap bar (4)
    # each way (a little more where short repeats beside it let the allele move)
    start, end = indel_window(REFERENCE, 0, 59, b"T", b"TCA")
    assert start <= 60 - 7 and end >= 68 + 7 and end - start < 30
    # a deletion of GT at 41-42, in no long repeat: its span, one base, its length and the gap bar
    # (more on the left, where a read ending at it may be placed along the GAG repeats before it)
    start, end = indel_window(REFERENCE, 0, 40, b"AGT", b"A")
    assert start <= 41 - 7 and end >= 43 + 7 and end - start < 30
    # an SNV: its base, and the few bases beside it that repeat (ATA, GG: a read ending there may
    # be placed a period along; its T on the T of ATA, with a gap of 2 before it)
    start, end = indel_window(REFERENCE, 0, 88, b"C", b"T")
    assert start <= 84 and end > 88 and end - start <= 8



MNP_CONTEXT_START = 240
MNP_CONTEXT = b"GATTTGCCTGAAAAAAAAACCGGGGAGAAGCCGGTCGATCAGCAGTGGTAATTGGATATT"
"""Reference from 240 on, with an MNP AC>CG at 258-259 whose ALT makes ``CGCG`` with the CG after it."""


def test_window_covers_a_read_placed_along_a_repeat_the_alt_makes() -> None:
    # the ALT haplotype's read that begins at the MNP, placed 2 bases right (its CG on the
    # reference's CG at 260), a gap bar pushing the insertion that brings it back in step past a
    # mismatch: 4M2I42M at 260, mismatch at 262, insertion at 264; all of it must be reverted
    start, end = indel_window(MNP_CONTEXT, MNP_CONTEXT_START, 258, b"AC", b"CG")
    assert start <= 258 and end > 264
    reference = b"N" * MNP_CONTEXT_START + MNP_CONTEXT
    haplotype = reference[:258] + b"CG" + reference[260:]
    read = haplotype[258:292]
    result = revert_alignment(260, ops(b"4M2I28M"), read, b"I" * len(read), reference, 0, [(start, end)])
    assert isinstance(result, Reverted) and format_cigar(result.operations) == b"34M"
    assert result.sequence == reference[260:294]
    assert rewrite_mate_cigar(260, b"4M2I28M", [(start, end)]) == b"34M"
    # an SNV keeps its narrow window: a read placed along has no mismatch to spare
    start, end = indel_window(MNP_CONTEXT, MNP_CONTEXT_START, 258, b"A", b"C")
    assert end - start <= 12



def test_window_covers_a_unit_inserted_at_the_far_end_of_a_repeat_an_snv_extends() -> None:
    # AACAACAAC then T; the SNV T>A makes AACAACAACA. The read that ends at it, placed a unit (3)
    # back, is in step along the repeat and writes the unit as an insertion at the repeat's start
    flank = b"GATTCGTAGCCTGAGTCCAGTGCATGACTTGCGTACCGTG"
    reference = flank + b"AACAACAAC" + b"T" + b"GGCATCGTTCAGGCTTAGCA"
    snv = len(flank) + 9
    haplotype = reference[:snv] + b"A" + reference[snv + 1 :]
    read = haplotype[snv + 1 - 48 : snv + 1]
    start, end = indel_window(reference, 0, snv, b"T", b"A")
    result = revert_alignment(2, ops(b"38M3I7M"), read, b"I" * 48, reference, 0, [(start, end)])
    assert isinstance(result, Reverted) and format_cigar(result.operations) == b"48M"
    assert result.sequence == reference[2:50]


def test_snv_windows_in_bulk_equal_one_by_one(tmp_path: Path) -> None:
    # the numpy path for SNVs gives every SNV the window indel_window gives it, in repeats
    # (where a read placed along one may put its gap at the far end) and at the contig's ends
    rng = random.Random(7)
    pieces = []
    for _ in range(40):
        unit = "".join(rng.choice("ACGT") for _ in range(rng.randint(1, 6)))
        pieces.append("".join(rng.choice("ACGT") for _ in range(rng.randint(3, 20))) + unit * rng.randint(2, 8))
    contig = "".join(pieces).encode()
    (tmp_path / "ref.fa").write_bytes(b">chr1\n" + contig + b"\n")
    pysam.faidx(str(tmp_path / "ref.fa"))
    reference = ContigReference(Fasta(str(tmp_path / "ref.fa")), {"chr1": "chr1"})
    positions = np.arange(len(contig), dtype=np.int64)
    alternates = np.array([rng.choice([b for b in b"ACGT" if b != base]) for base in contig], dtype=np.uint8)
    starts, ends = snv_windows(reference, "chr1", positions, alternates)
    for position in range(len(contig)):
        expected = indel_window(contig, 0, position, contig[position : position + 1], bytes((int(alternates[position]),)))
        assert (max(0, int(starts[position])), int(ends[position])) == (max(0, expected[0]), expected[1]), position


alignments = st.builds(
    lambda parts, start: (start, parts),
    st.one_of(
        st.lists(st.tuples(st.sampled_from(b"MMMMIDS"), st.integers(1, 6)), min_size=1, max_size=8),
        st.tuples(st.just(ord("M")), st.integers(1, 40)).map(lambda part: [part]),
    ),
    st.integers(10, 40),
)


def build_read(start: int, parts: list[tuple[int, int]], rng: random.Random) -> tuple[list[tuple[int, int]], bytes]:
    """A valid alignment (clips only at the ends) with random bases."""
    operations: list[tuple[int, int]] = []
    for op, length in parts:
        if op == ord("S"):
            continue
        if operations and operations[-1][0] == op:
            operations[-1] = (op, operations[-1][1] + length)
        else:
            operations.append((op, length))
    if parts[0][0] == ord("S"):
        operations.insert(0, (ord("S"), parts[0][1]))
    if not any(op == ord("M") for op, _ in operations):
        operations.append((ord("M"), 3))
    query = sum(length for op, length in operations if op in b"MIS")
    return operations, bytes(rng.choice(b"ACGT") for _ in range(query))


def test_a_deletion_joined_by_a_reverted_insertion_is_judged_whole() -> None:
    """``1D3I1D3M`` at 10 beside a window ending at 9: the insertion's reach (3 bases each side)
    touches the window, so it goes; the two deletions then join into ``2D``, whose reach (2 each
    side) touches it too, so it is filled. One walk left the ``2D`` (a second run filled it): the
    rules now run until nothing changes, in the record's walk and in its mate's MC alike."""
    operations = [(ord("D"), 1), (ord("I"), 3), (ord("D"), 1), (ord("M"), 3)]
    sequence = b"TTAGTT"
    result = revert_alignment(10, operations, sequence, b"I" * 6, REFERENCE, 0, [(1, 9)])
    assert isinstance(result, Reverted)
    # 5 bases for 6: the reference base after the end added
    expected = REFERENCE[10:12] + b"GTT" + REFERENCE[15:16]
    assert (format_cigar(result.operations), result.sequence, result.indels_reverted) == (b"6M", expected, 2)
    assert rewrite_mate_cigar(10, b"1D3I1D3M", [(1, 9)]) == b"6M"
    again = revert_alignment(10, result.operations, result.sequence, result.qualities, REFERENCE, 0, [(1, 9)])
    assert isinstance(again, Reverted) and not again.changed


@settings(max_examples=150, deadline=None)
@given(alignments, st.lists(st.tuples(st.integers(0, 90), st.integers(1, 8)), max_size=4), st.integers(0, 1000))
def test_revert_invariants(alignment: tuple[int, list[tuple[int, int]]], spans: list[tuple[int, int]], seed: int) -> None:
    start, parts = alignment
    operations, sequence = build_read(start, parts, random.Random(seed))
    windows = sorted((a, a + b) for a, b in spans)
    result = revert_alignment(start, operations, sequence, b"I" * len(sequence), REFERENCE, 0, windows)
    assert isinstance(result, Reverted)
    # the one-M-run shortcut and the general walk agree
    general = revert_alignment(start, operations, sequence, b"I" * len(sequence), REFERENCE, 0, Windows(windows))
    assert isinstance(general, Reverted)
    assert (general.operations, general.sequence, general.qualities, general.bases_reverted) == (
        result.operations, result.sequence, result.qualities, result.bases_reverted)
    shape = parse_cigar(format_cigar(result.operations))
    before = parse_cigar(format_cigar(operations))
    assert shape is not None and before is not None
    # valid: CIGAR and SEQ agree, and the read keeps its length (POS never moves)
    assert shape.query_length == len(result.sequence) == len(result.qualities) == before.query_length == len(sequence)
    # the mate computes the same CIGAR from MC alone
    assert rewrite_mate_cigar(start, format_cigar(operations), windows) == format_cigar(result.operations)
    # inside windows every aligned base is the reference; no window, no change
    position, query = start, 0
    for op, length in result.operations:
        if op == ord("M"):
            for i in range(length):
                if any(a <= position + i < b for a, b in windows):
                    assert result.sequence[query + i] == REFERENCE[position + i]
        position += length if op in b"MD" else 0
        query += length if op in b"MIS" else 0
    again = revert_alignment(start, result.operations, result.sequence, result.qualities, REFERENCE, 0, windows)
    assert isinstance(again, Reverted) and not again.changed
    if not windows:
        assert not result.changed and result.sequence == sequence


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 500), st.integers(1, 30)), min_size=1, max_size=30),
    st.lists(st.tuples(st.integers(0, 520), st.integers(1, 200)), min_size=1, max_size=20),
)
def test_site_table_agrees_with_brute_force(windows: list[tuple[int, int]], spans: list[tuple[int, int]]) -> None:
    table = SiteTable()
    table.add_contig("chr1", np.array([a for a, _ in windows]), np.array([a + b for a, b in windows]))
    starts = np.array([a for a, _ in spans])
    ends = np.array([a + b for a, b in spans])
    touching = table.touching("chr1", starts, ends)
    for (start, end), hit in zip(zip(starts.tolist(), ends.tolist(), strict=True), touching.tolist(), strict=True):
        expected = sorted((a, a + b) for a, b in windows if a < end and a + b > start)
        assert hit == bool(expected)
        assert sorted(table.windows("chr1", start, end)) == expected


# --- end to end, on the simulator's tumour/normal set ------------------------------


SIMULATION = {"pairs": 3000, "seed": 3, "contig_length": 8000, "read_length": 150}


@pytest.fixture(scope="module")
def reverted(simulated: Path) -> dict[str, Path]:
    """The tumour and normal BAMs through the filter, as the man page's pipe runs it (with the site's
    key, so that the other tests' runs of the same input give the same bytes)."""
    outputs: dict[str, Path] = {}
    key = str(site_key_file(simulated))
    for sample in ("tumour", "normal"):
        sam = simulated / f"{sample}.reverted.sam"
        report = simulated / f"{sample}.report.json"
        result = run_command(COMMAND, "-r", str(simulated / "ref.fa"), "-v", str(simulated / "germline.vcf.gz"), "--key-file", key,
                             "--report", str(report), str(simulated / f"{sample}.bam"))
        assert result.returncode == 0, result.stderr.decode()
        sam.write_bytes(result.stdout)
        bam = simulated / f"{sample}.reverted.bam"
        pysam.sort("-o", str(bam), str(sam))
        pysam.index(str(bam))
        outputs[sample] = bam
        outputs[f"{sample}_sam"] = sam
        outputs[f"{sample}_report"] = report
    return outputs


def test_output_passes_samtools(reverted: dict[str, Path]) -> None:
    for sample in ("tumour", "normal"):
        subprocess.run(["samtools", "quickcheck", str(reverted[sample])], check=True)
        view = subprocess.run(["samtools", "view", "-c", str(reverted[f"{sample}_sam"])], capture_output=True, check=True)
        assert view.stderr == b"" and int(view.stdout) > 1000


def test_samtools_calmd_changes_nothing(simulated: Path, reverted: dict[str, Path]) -> None:
    for sample in ("tumour", "normal"):
        calmd = subprocess.run(["samtools", "calmd", str(reverted[sample]), str(simulated / "ref.fa")], capture_output=True, check=True)
        ours = subprocess.run(["samtools", "view", str(reverted[sample])], capture_output=True, check=True).stdout
        assert b"\n".join(line for line in calmd.stdout.splitlines() if not line.startswith(b"@")) + b"\n" == ours


def test_variant_calling_finds_no_germline_site(simulated: Path, reverted: dict[str, Path]) -> None:
    germline = {(chrom, pos) for chrom, pos, _, _ in variant_records(simulated / "germline.vcf.gz")}
    before = called_sites(simulated / "normal.bam", simulated / "ref.fa")
    assert len(before & germline) > len(germline) // 2, "the check must be able to see germline sites"
    for sample in ("tumour", "normal"):
        assert not called_sites(reverted[sample], simulated / "ref.fa") & germline


def test_every_somatic_alt_observation_remains(simulated: Path, reverted: dict[str, Path]) -> None:
    somatic = variant_records(simulated / "somatic.vcf.gz")
    total = 0
    for chrom, pos, ref, alt in somatic:
        before = alt_observations(simulated / "tumour.bam", chrom, pos, ref, alt)
        assert alt_observations(reverted["tumour"], chrom, pos, ref, alt) == before, (chrom, pos)
        total += before
    assert total > 20


@pytest.mark.parametrize("one_by_one", [False, True])
def test_lower_case_and_equals_bases_tell_neither_carriers_nor_windows(tmp_path: Path, one_by_one: bool) -> None:
    """Red team 7 F7: SAM allows SEQ in lower case and ``=`` for the reference's base. The
    reverter wrote the bases it put back in upper case and left a read equal to the reference but
    for case as it was, so in lower-case reads the carriers were the reads with an upper-case
    stretch; and it wrote out the ``=`` of the reads over a window only, which showed where the
    windows (the person's variant sites) lie. Every read's SEQ is now written plain: upper case,
    each ``=`` the reference's base, in either path, near a site or not, carrier or not."""
    bases = random_reference(tmp_path, 2000, seed=3)
    site = bases[99:119]
    carrier = site[:5] + ("C" if site[5] != "C" else "A") + site[6:]
    far = bases[299:319]
    spellings = {
        "lower": (site.lower(), carrier.lower()),
        "mixed": (site[:10].lower() + site[10:], carrier[:10].lower() + carrier[10:]),
        "equals": ("=" * 20, "=" * 5 + carrier[5] + "=" * 14),
        "upper": (site, carrier),
    }
    lines = ["@HD\tVN:1.6\tSO:unsorted", "@SQ\tSN:chr1\tLN:2000"]
    for kind, (reference_read, carrier_read) in spellings.items():
        for who, sequence in (("ref", reference_read), ("alt", carrier_read)):
            lines.append(f"{kind}_{who}\t0\tchr1\t100\t60\t20M\t*\t0\t0\t{sequence}\t{'I' * 20}\tNM:i:0")
    lines += [f"far_lower\t0\tchr1\t300\t60\t20M\t*\t0\t0\t{far.lower()}\t{'I' * 20}",
              f"far_equals\t0\tchr1\t300\t60\t5S15M\t*\t0\t0\t{'=' * 20}\t{'I' * 20}"]  # fmt: skip
    (tmp_path / "in.sam").write_text("\n".join(lines) + "\n")
    vcf = "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=2000>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    (tmp_path / "germline.vcf").write_text(vcf + f"chr1\t105\t.\t{site[5]}\t{carrier[5]}\t.\tPASS\t.\n")
    environment = {"GENOSCRUB_ONE_BY_ONE": "1"} if one_by_one else {}
    result = run_command("sam-revert-germline", "-q", "-r", "ref.fa", "-v", "germline.vcf", "in.sam", cwd=tmp_path, env=environment)
    assert result.returncode == 0, result.stderr.decode()
    records = {line.split(b"\t")[0].decode(): line.split(b"\t") for line in result.stdout.splitlines() if not line.startswith(b"@")}
    for kind in spellings:
        assert records[f"{kind}_ref"][9] == records[f"{kind}_alt"][9] == site.encode(), kind
    assert records["far_lower"][9] == far.encode()
    assert records["far_equals"][9] == b"N" * 5 + bases[299:314].encode()


@pytest.mark.parametrize("one_by_one", [False, True])
@pytest.mark.parametrize("mode", [["-v", "germline.vcf"], ["--all"], ["--all", "--keep", "germline.vcf"]], ids=["sites", "all", "keep"])
def test_no_mode_writes_an_equals_base(tmp_path: Path, one_by_one: bool, mode: list[str]) -> None:
    """genoscrub-audit makes any ``=`` in a delivered SEQ a finding (its own copy of the rule above):
    so no mode may write one, over a site or far from it, in a clip, an insertion or a kept
    unmapped read."""
    bases = random_reference(tmp_path, 1000, seed=7)
    germline_snv(tmp_path, bases, 505)
    far = "=" * 5 + bases[304:314]
    lines = [
        "@HD\tVN:1.6\tSO:unsorted",
        "@SQ\tSN:chr1\tLN:1000",
        f"site\t0\tchr1\t500\t60\t10M\t*\t0\t0\t{'=' * 10}\t{'I' * 10}",
        f"far\t0\tchr1\t300\t60\t3S5M2I5M\t*\t0\t0\t{far}\t{'I' * 15}",
        f"at_mate\t69\tchr1\t100\t0\t*\t=\t100\t0\tACG=ACGTAC\t{'I' * 10}",
        f"at_mate\t137\tchr1\t100\t60\t10M\t=\t100\t0\t{'=' * 10}\t{'I' * 10}",
    ]
    (tmp_path / "in.sam").write_text("\n".join(lines) + "\n")
    environment = {"GENOSCRUB_ONE_BY_ONE": "1"} if one_by_one else {}
    result = subprocess.run(
        [str(ROOT / "bin" / "sam-revert-germline"), "-q", "--keep-unmapped", "-r", "ref.fa", *mode, "in.sam"],
        cwd=tmp_path, capture_output=True, check=True, env={**os.environ, **environment},
    )  # fmt: skip
    sequences = [line.split(b"\t")[9] for line in result.stdout.splitlines() if line[:1] != b"@"]
    assert len(sequences) == 4 and not any(b"=" in sequence for sequence in sequences), sequences


@pytest.mark.parametrize("one_by_one", [False, True])
@pytest.mark.parametrize("mode", [["--all"], ["-v", "germline.vcf"]], ids=["all", "sites"])
def test_kept_unmapped_reads_are_written_plain_too(tmp_path: Path, one_by_one: bool, mode: list[str]) -> None:
    """Red team 9 A4: with --keep-unmapped an unmapped read (unplaced, placed at its mate, or with
    CIGAR ``*``) kept its lower case and ``=``, so the reads the command had rewritten stood apart
    from the rest. Every SEQ written is plain: upper case, and ``=`` an ``N`` in a read no reference
    base lies under; counted in ``sequences_written_plain``; QUAL stays."""
    bases = random_reference(tmp_path, 1000, seed=5)
    germline_snv(tmp_path, bases, 505)
    lines = [
        "@HD\tVN:1.6\tSO:unsorted",
        "@SQ\tSN:chr1\tLN:1000",
        "unplaced\t4\t*\t0\t0\t*\t*\t0\t0\tacgtACGTac\tIIIIIIII#I",
        "at_mate\t69\tchr1\t100\t0\t*\t=\t100\t0\tACG=ACGTAC\tIIIIIIIIII",
        f"at_mate\t137\tchr1\t100\t60\t10M\t=\t100\t0\t{bases[99:109]}\tIIIIIIIIII",
        "no_cigar\t0\tchr1\t200\t60\t*\t*\t0\t0\tac=tacgtac\tIIIIIIIIII",
        "plain\t4\t*\t0\t0\t*\t*\t0\t0\tACGTNNACGT\tIIIIIIIIII",
    ]
    (tmp_path / "in.sam").write_text("\n".join(lines) + "\n")
    environment = {"GENOSCRUB_ONE_BY_ONE": "1"} if one_by_one else {}
    result = run_command("sam-revert-germline", "-q", "--keep-unmapped", "-r", "ref.fa", *mode, "--report", "report.json", "in.sam",
                         cwd=tmp_path, env=environment)  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    records = {(fields[0], fields[1]): fields for fields in (line.split(b"\t") for line in result.stdout.splitlines() if line[:1] != b"@")}
    assert records[(b"unplaced", b"4")][9:11] == [b"ACGTACGTAC", b"IIIIIIII#I"]
    assert records[(b"at_mate", b"69")][9] == b"ACGNACGTAC"
    assert records[(b"no_cigar", b"0")][9] == b"ACNTACGTAC"
    assert records[(b"plain", b"4")][9] == b"ACGTNNACGT"
    assert json.loads((tmp_path / "report.json").read_text())["counts"]["sequences_written_plain"] == 3


def test_reads_overlapping_no_site_are_byte_identical(simulated: Path, reverted: dict[str, Path]) -> None:
    """Judged by a cruder rule than the filter's: 60 bases of slack around every REF span."""
    sites: dict[str, list[tuple[int, int]]] = {}
    insertions: dict[str, list[tuple[int, int]]] = {}  # a pair with an unmapped mate near one goes
    for chrom, pos, ref, alt in variant_records(simulated / "germline.vcf.gz"):
        sites.setdefault(chrom, []).append((pos - 60, pos + len(ref) + 60))
        if len(alt) > len(ref) or alt.startswith("<"):
            insertions.setdefault(chrom, []).append((pos - 1000, pos + len(ref) + 1000))
    original = subprocess.run(["samtools", "view", str(simulated / "tumour.bam")], capture_output=True, check=True).stdout
    output = set(reverted["tumour_sam"].read_bytes().splitlines())
    checked = 0
    for line in original.splitlines():
        fields = line.split(b"\t")
        flag = int(fields[1])
        if flag & 0x104 or any(tag[:2] in (b"R2", b"Q2", b"SA", b"XA", b"OA") for tag in fields[11:]):
            continue
        if b"S" in fields[5]:
            continue  # a soft clip that differs from the reference is masked wherever it lies
        if int(fields[4]) < ALL_BELOW_MAPQ or int(fields[4]) == 255:
            continue  # reverted whole wherever it lies (--all-below-mapq): it may belong at a site's paralog
        if any(tag.startswith(b"MC:Z:") and any(op in tag[5:] for op in b"IDSH") for tag in fields[11:]):
            continue  # the mate's indel or clip may change (its MC and TLEN with it)
        start = int(fields[3])
        end = start + 200
        windows = sites.get(fields[2].decode(), [])
        if any(a < end + 20 and b > start - 20 for a, b in windows):
            continue
        if flag & 0x8 and any(a <= start <= b for a, b in insertions.get(fields[2].decode(), [])):
            continue
        assert line in output
        checked += 1
    assert checked > 1000


def test_no_germline_allele_left_in_soft_clips(simulated: Path, reverted: dict[str, Path]) -> None:
    snvs = {(c, p - 1): a for c, p, r, a in variant_records(simulated / "germline.vcf.gz") if len(r) == len(a) == 1}
    leaks = carriers = 0
    for name, bam in (("input", simulated / "tumour.bam"), ("output", reverted["tumour"])):
        with pysam.AlignmentFile(str(bam)) as alignments:
            for read in alignments.fetch(until_eof=True):
                if read.is_unmapped or not read.cigartuples or read.query_sequence is None:
                    continue
                assert read.reference_end is not None and read.reference_name is not None
                clip_pairs = []
                if read.cigartuples[0][0] == 4:
                    length = read.cigartuples[0][1]
                    clip_pairs += [(i, read.reference_start - length + i) for i in range(length)]
                if read.cigartuples[-1][0] == 4:
                    length = read.cigartuples[-1][1]
                    clip_pairs += [(read.query_length - length + i, read.reference_end + i) for i in range(length)]
                for query, position in clip_pairs:
                    alt = snvs.get((read.reference_name, position))
                    if alt is not None and read.query_sequence[query] == alt:
                        if name == "input":
                            carriers += 1
                        else:
                            leaks += 1
    assert carriers > 0, "the simulated set must carry germline alleles in soft clips"
    assert leaks == 0


def test_mate_fields_stay_consistent(reverted: dict[str, Path]) -> None:
    """MC of each primary record equals its mate's CIGAR (samtools fixmate's view of it)."""
    primaries: dict[tuple[bytes, int], list[bytes]] = {}
    for line in reverted["tumour_sam"].read_bytes().splitlines():
        if line.startswith(b"@"):
            continue
        fields = line.split(b"\t")
        flag = int(fields[1])
        if flag & 0x900 or not flag & 1:
            continue
        primaries[(fields[0], flag & 0xC0)] = fields
    checked = 0
    for (name, which), fields in primaries.items():
        mate = primaries.get((name, 0xC0 - which))
        mate_cigar = next((tag[5:] for tag in fields[11:] if tag.startswith(b"MC:Z:")), None)
        if mate is None or mate_cigar is None:
            continue
        assert mate_cigar == mate[5]
        assert int(fields[7]) == int(mate[3])
        checked += 1
    assert checked > 1000


def test_copying_tags_removed_and_report_counts(reverted: dict[str, Path]) -> None:
    text = reverted["tumour_sam"].read_bytes()
    for tag in (b"\tR2:Z:", b"\tQ2:Z:", b"\tXA:Z:", b"\tSA:Z:"):
        assert tag not in text
    report = json.loads(reverted["tumour_report"].read_text())
    counts = report["counts"]
    # the records removed: a split read's supplementary record whose primary lies at a germline site
    # (its SA read first), and those of pairs with an unmapped mate near a germline insertion
    removed = counts.get("supplementary_records_removed", 0) + counts.get("reads_removed_unmapped_pair_at_insertion", 0)
    assert counts["reads_in"] - removed == counts["reads_out"] > 1000
    assert counts["bases_reverted"] > 0 and counts["indels_reverted"] > 0 and counts["clip_bases_masked"] > 0
    assert report["mode"] == "germline"
    assert text.count(b"@PG\tID:sam-revert-germline\tPN:genoscrub") == 1


def test_all_mode_leaves_no_difference(simulated: Path, tmp_path: Path) -> None:
    result = run_command(COMMAND, "-q", "-r", str(simulated / "ref.fa"), "--all", "-O", "bam", "-o", str(tmp_path / "all.bam"),
                         str(simulated / "tumour.bam"))
    assert result.returncode == 0, result.stderr.decode()
    subprocess.run(["samtools", "quickcheck", str(tmp_path / "all.bam")], check=True)
    pysam.sort("-o", str(tmp_path / "sorted.bam"), str(tmp_path / "all.bam"))
    pysam.index(str(tmp_path / "sorted.bam"))
    assert not called_sites(tmp_path / "sorted.bam", simulated / "ref.fa")
    calmd = subprocess.run(["samtools", "calmd", str(tmp_path / "all.bam"), str(simulated / "ref.fa")], capture_output=True, check=True)
    distances = Counter(tag for line in calmd.stdout.splitlines() if not line.startswith(b"@")
                        for tag in line.split(b"\t")[11:] if tag.startswith(b"NM:i:"))
    assert set(distances) == {b"NM:i:0"}
    clipped = subprocess.run(["samtools", "view", "-c", "-F", "4", "-e", 'cigar =~ "[SH]" || [MC] =~ "[SH]" || flag.supplementary',
                              str(tmp_path / "all.bam")], capture_output=True, check=True)
    assert clipped.stdout.strip() == b"0"  # no clip edge, in a record or its mate's MC, nor a split read's other part
    before = subprocess.run(["samtools", "view", "-c", "-F", "4", "-e", 'cigar =~ "[SH]"', str(simulated / "tumour.bam")],
                            capture_output=True, check=True)
    assert int(before.stdout) > 0, "the check must be able to see clips"


def test_bam_on_stdin_and_sam_text_give_the_same_records(simulated: Path, reverted: dict[str, Path]) -> None:
    bam = (simulated / "tumour.bam").read_bytes()
    result = run_command(
        COMMAND, "-q", "-r", str(simulated / "ref.fa"), "-v", str(simulated / "germline.vcf.gz"), "--key-file", str(simulated / "site.key"),
        input=bam,
    )
    assert result.returncode == 0
    assert result.stdout == reverted["tumour_sam"].read_bytes()


# --- the real corpus, read in place ----------------------------------------------


def corpus_pairs(corpus: Path) -> list[tuple[Path, Path]]:
    lines = (corpus / "MANIFEST.tsv").read_text().splitlines()
    columns = lines[0].split("\t")
    pairs = []
    for line in lines[1:]:
        row = dict(zip(columns, line.split("\t"), strict=False))
        if row["category"] == "sam" and row.get("matched_reference"):
            pairs.append((corpus / row["file"], corpus / "ref" / row["matched_reference"].split("|")[0]))
    return pairs


def revert_in_process(alignment: Path, reference: Path, variants: Path | None) -> bytes:
    """The command's stream, run in this process (the corpus has ~80 files: one
    interpreter start each would make this the slowest test of the suite)."""
    report = Report(COMMAND)
    sites = GermlineSites(str(variants), report) if variants is not None else None
    setup = RevertSetup(Fasta(str(reference)), sites, None, RevertOptions(), str(alignment), report)
    source = open_alignment_text(str(alignment), str(reference))
    try:
        return b"".join(revert_stream(record_chunks(source, str(alignment)), setup))
    finally:
        source.close()


def every_37th_base(reference: Path, path: Path) -> set[tuple[str, int]]:
    """A made-up germline list: an SNV at every 37th reference base."""
    fasta = pysam.FastaFile(str(reference))
    sites = {(name, position) for name in fasta.references for position in range(5, fasta.get_reference_length(name), 37)}
    lines = ["##fileformat=VCFv4.2", "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    for name, position in sorted(sites):
        base = fasta.fetch(name, position, position + 1).upper()
        lines.append(f"{name}\t{position + 1}\t.\t{base}\t{'C' if base != 'C' else 'G'}\t.\t.\t.")
    path.write_text("\n".join(lines) + "\n")
    return sites


@pytest.mark.slow  # every corpus file with a reference, reverted: make test-slow
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # streams leaves a raw SAM.gz handle to the GC
def test_corpus_files_with_their_reference(corpus: Path, tmp_path: Path) -> None:
    """Every corpus alignment that has a matched reference, with --all and with a
    made-up germline list: samtools reads the output and no aligned base at a
    reverted position differs from the reference (checked with pysam), or the
    file is refused with an InputError."""
    pairs = corpus_pairs(corpus)
    assert pairs
    succeeded = 0
    germline_lists: dict[Path, tuple[Path, set[tuple[str, int]]]] = {}  # reference: its made-up list, written once
    for alignment, reference in pairs:
        binary = alignment.suffix in (".bam", ".cram")  # decoding is tested once, with --all
        for mode in ("all",) if binary else ("all", "germline"):
            variants: Path | None = None
            sites: set[tuple[str, int]] = set()
            if mode == "germline":
                if reference not in germline_lists:
                    listed = tmp_path / f"sites-{len(germline_lists)}.vcf"
                    germline_lists[reference] = (listed, every_37th_base(reference, listed))
                variants, sites = germline_lists[reference]
            try:
                text = revert_in_process(alignment, reference, variants)
            except InputError:
                continue
            out = tmp_path / "out.sam"
            out.write_bytes(text)
            view = subprocess.run(["samtools", "view", "-h", "-T", str(reference), str(out)], capture_output=True)
            assert view.returncode == 0, (alignment.name, view.stderr)
            fasta = pysam.FastaFile(str(reference))
            contigs: dict[str, str] = {}  # name: sequence, upper case, fetched once
            with pysam.AlignmentFile(str(out), check_sq=False) as alignments:
                for read in alignments.fetch(until_eof=True):
                    name = read.reference_name
                    if read.is_unmapped or read.query_sequence is None or name is None or name not in fasta.references:
                        continue
                    if "P" in (read.cigarstring or ""):
                        continue  # pysam's aligned pairs misplace the bases after a P operation
                    if name not in contigs:
                        contigs[name] = fasta.fetch(name).upper()
                    contig, sequence = contigs[name], read.query_sequence.upper()
                    for query, position in read.get_aligned_pairs(matches_only=True):
                        if mode == "germline" and (name, position) not in sites:
                            continue
                        expected = contig[position] if position < len(contig) else "N"
                        assert sequence[query] == expected, (alignment.name, mode, read.query_name)
            succeeded += 1
    assert succeeded > len(pairs)


def test_corpus_file_through_the_command(corpus: Path, tmp_path: Path) -> None:
    """One corpus BAM through bin/ end to end, BAM out, samtools quickcheck."""
    result = run_command(COMMAND, "-q", "-r", str(corpus / "ref" / "pysam__ex1.fa"), "--all", "-O", "bam", "-o",
                         str(tmp_path / "out.bam"), str(corpus / "sam" / "pysam__ex1.bam"))
    assert result.returncode == 0, result.stderr.decode()
    subprocess.run(["samtools", "quickcheck", str(tmp_path / "out.bam")], check=True)


def test_usage_errors_exit_2() -> None:
    assert run_command(COMMAND, "--all", input=b"").returncode == 2
    assert run_command(COMMAND, "-r", "ref.fa", input=b"").returncode == 2


@pytest.mark.parametrize("one_by_one", [False, True])
def test_all_below_mapq_reverts_a_read_of_low_mapq_whole_wherever_it_lies(tmp_path: Path, one_by_one: bool) -> None:
    """A read a listed allele sent to a paralogous copy lies where no window is, with a low MAPQ:
    with the default --all-below-mapq (30) a read of MAPQ 29 or 255 has its mismatch reverted and
    its clip masked far from the site, a read of MAPQ 30 keeps its (somatic) mismatch, and
    --all-below-mapq 0 keeps them all; a threshold off 0 to 256 is a usage error."""
    bases = random_reference(tmp_path, 1000, seed=5)
    germline_snv(tmp_path, bases, 105)
    read = bases[599:649]
    somatic = read[:10] + ("A" if read[10] != "A" else "C") + read[11:]
    clipped = "GGGGG" + somatic[5:]
    lines = ["@HD\tVN:1.6\tSO:unsorted", "@SQ\tSN:chr1\tLN:1000"]
    for name, mapq in (("low", 29), ("unknown", 255), ("placed", 30)):
        lines.append(f"{name}\t0\tchr1\t600\t{mapq}\t50M\t*\t0\t0\t{somatic}\t{'I' * 50}")
        lines.append(f"{name}_clip\t0\tchr1\t605\t{mapq}\t5S45M\t*\t0\t0\t{clipped}\t{'I' * 50}")
    (tmp_path / "in.sam").write_text("\n".join(lines) + "\n")
    environment = {"GENOSCRUB_ONE_BY_ONE": "1"} if one_by_one else {}
    outputs = {}
    for option in ([], ["--all-below-mapq", "0"]):
        result = run_command(COMMAND, "-q", "-r", "ref.fa", "-v", "germline.vcf", *option, "in.sam", cwd=tmp_path, env=environment)
        assert result.returncode == 0, result.stderr.decode()
        outputs[bool(option)] = {line.split(b"\t")[0].decode(): line.split(b"\t")[9].decode() for line in result.stdout.splitlines()[3:]}
    for name in ("low", "unknown"):
        assert outputs[False][name] == read and outputs[False][f"{name}_clip"] == "NNNNN" + read[5:], name
    assert outputs[False]["placed"] == somatic
    assert outputs[True]["low"] == outputs[True]["unknown"] == somatic
    assert run_command(COMMAND, "-r", "ref.fa", "-v", "germline.vcf", "--all-below-mapq", "257", "in.sam", cwd=tmp_path).returncode == 2


def test_read_left_without_aligned_base_is_removed_with_its_mate(tmp_path: Path) -> None:
    """A record that would keep no aligned base goes; its mate learns it from MC alone and goes
    too: left unpaired, it would mark the reads that carried the insertion."""
    reference = tmp_path / "ref.fa"
    reference.write_bytes(b">chr1\n" + REFERENCE + b"\n")
    pysam.faidx(str(reference))
    (tmp_path / "sites.vcf").write_bytes(
        b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + b"chr1\t60\t.\t%c\tN\t.\t.\t.\n" % REFERENCE[59]
    )  # the site is the insertion's anchor
    report = Report(COMMAND)
    setup = RevertSetup(Fasta(str(reference)), GermlineSites(str(tmp_path / "sites.vcf"), report), None, RevertOptions(), "-", report)
    reverter = setup.reverter([b"@SQ\tSN:chr1\tLN:100"])
    lines = [
        b"p\t65\tchr1\t61\t60\t2I3S\t=\t80\t0\tAAACA\tIIIII\tMC:Z:10M",
        b"p\t129\tchr1\t80\t60\t10M\t=\t61\t0\t" + REFERENCE[79:89] + b"\tIIIIIIIIII\tMC:Z:2I3S\tRG:Z:L1",
    ]
    out = reverter.revert_block(b"\n".join(lines) + b"\n", 1).splitlines()
    assert out == []
    assert report.counts["reads_removed_no_aligned_base"] == 1 and report.counts["reads_removed_with_their_mate"] == 1


def test_tags_naming_germline_sites_or_copying_bases_go_from_every_record_and_the_audit_finds_them(tmp_path: Path) -> None:
    """STAR's WASP tags name the germline variants it was given: a read with the reference allele
    at one (nothing to revert, no window of the list, here none at all) would still show the
    site. They go from every record, as minimap2's cs and ds, bwa's XA and XB and a supplementary
    alignment's SA (a germline deletion in another alignment's CIGAR), OP, and the mate's score
    (YS, nM) do; genoscrub-audit --germline finds each in the input and none in the output."""
    reference, sites = reference_and_site_at_95(tmp_path)
    # XA: bwa's alternative hits, XB: bwa mem -u's with scores, here each with a 2-base deletion at the site
    tags = {"vA": "B:c,1", "vG": "B:i,30", "vW": "i:1", "cs": "Z::10", "ds": "Z::10", "XA": "Z:chr1,+90,5M2D5M,2;",
            "XB": "Z:chr1,+90,5M2D5M,2,-6,60;", "SA": "Z:chr1,90,+,5M2D5M,60,2;", "OP": "i:93", "YS": "i:-6", "nM": "i:1"}  # fmt: skip
    header = "@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:100\n"
    body = "".join(
        f"r{number}\t0\tchr1\t21\t60\t10M\t*\t0\t0\t{REFERENCE[20:30].decode()}\tIIIIIIIIII\tMD:Z:10\t{tag}:{value}\n"
        for number, (tag, value) in enumerate(tags.items())
    )
    planted = tmp_path / "planted.sam"
    planted.write_text(header + body)
    result = run_command(COMMAND, "-q", "-r", str(reference), "-v", str(sites), "-O", "bam", "-o", str(tmp_path / "out.bam"), str(planted))
    assert result.returncode == 0, result.stderr.decode()
    records = str(pysam.view(str(tmp_path / "out.bam"))).splitlines()
    assert len(records) == len(tags) and all(record.split("\t")[11:] == ["MD:Z:10"] for record in records)
    audited = {}
    for name in ("planted.sam", "out.bam"):
        report = tmp_path / f"{name}.json"
        run_command("genoscrub-audit", "-q", "--germline", str(sites), "-r", str(reference), "--report", str(report), str(tmp_path / name))
        audited[name] = json.loads(report.read_text())["files"][0]["findings"]["germline"].get("by_key", {})
    assert audited["planted.sam"] == {"tag copying sequence cs": 1, "tag copying sequence ds": 1, "tag copying sequence XA": 1,
                                      "tag copying sequence XB": 1, "tag copying sequence SA": 1, "tag copying sequence OP": 1,
                                      "tag copying sequence YS": 1, "tag copying sequence nM": 1,
                                      "tag naming germline sites vA": 1,
                                      "tag naming germline sites vG": 1, "tag naming germline sites vW": 1}  # fmt: skip
    assert audited["out.bam"] == {}


@pytest.mark.parametrize("one_by_one", [False, True])
def test_the_mate_quality_sum_of_samtools_fixmate_goes_from_every_record(tmp_path: Path, one_by_one: bool) -> None:
    """``samtools fixmate -m`` writes ``ms:i``, the sum of the mate's base qualities of 15 or more
    (minimap2 writes its DP score under the same name): a mate reverted at a germline site (its
    qualities borrowed for a filled deletion) no longer sums to it, so a stale ``ms`` on the far
    mate marked the carriers. It goes from every record, on both paths, as ``YS`` and ``nM`` do;
    the audit finds it in the input (off its allowlist) and nothing in the output."""
    reference, sites = reference_and_site_at_95(tmp_path)
    carrier = bytearray(REFERENCE[80:100])
    carrier[14] = ord("T") if REFERENCE[94] != ord("T") else ord("G")  # the ALT at 95
    named = tmp_path / "named.sam"
    named.write_text(
        "@HD\tVN:1.6\tSO:queryname\n@SQ\tSN:chr1\tLN:100\n"
        f"p\t99\tchr1\t21\t60\t10M\t=\t81\t80\t{REFERENCE[20:30].decode()}\tIIII5IIIII\n"
        f"p\t147\tchr1\t81\t60\t20M\t=\t21\t-80\t{carrier.decode()}\t{'I' * 20}\n"
        f"q\t99\tchr1\t31\t60\t10M\t=\t41\t20\t{REFERENCE[30:40].decode()}\tIIIIIIIIII\n"
        f"q\t147\tchr1\t41\t60\t10M\t=\t31\t-20\t{REFERENCE[40:50].decode()}\tIIIIIIIIII\n"
    )
    fixed = tmp_path / "fixed.sam"
    pysam.fixmate("-m", "--no-PG", "-O", "SAM", str(named), str(fixed), catch_stdout=False)  # an independent writer of ms
    assert fixed.read_text().count("\tms:i:") == 4
    environment = {"GENOSCRUB_ONE_BY_ONE": "1"} if one_by_one else None
    output = tmp_path / "out.sam"
    result = run_command(COMMAND, "-q", "-r", str(reference), "-v", str(sites), "-o", str(output), str(fixed), env=environment)
    assert result.returncode == 0, result.stderr.decode()
    records = [line for line in output.read_text().splitlines() if not line.startswith("@")]
    assert len(records) == 4 and not any("\tms:" in record for record in records)
    audited = {}
    for name in ("fixed.sam", "out.sam"):
        report = tmp_path / f"{name}.json"
        run_command("genoscrub-audit", "-q", "--germline", str(sites), "-r", str(reference), "--report", str(report), str(tmp_path / name))
        audited[name] = json.loads(report.read_text())["files"][0]["findings"]["metadata"].get("by_key", {})
    assert audited["fixed.sam"].get("aux tag ms") == 4
    assert "aux tag ms" not in audited["out.sam"]  # the read names and fixmate's @PG are sam-scrub-rg's


def split_read_at_deletion(tmp_path: Path) -> tuple[str, list[str]]:
    """A random 3,000-base chr1 (``ref.fa``, indexed) and a pair read across a 60-base deletion
    after 1000, as bwa mem writes split reads: the primary ``90M60S`` ending where the deletion
    starts, its supplementary ``90H60M`` after it, the mate ``3S97M`` clipped at the far edge."""
    rng = random.Random(3)
    contig = "".join(rng.choice("ACGT") for _ in range(3000))
    (tmp_path / "ref.fa").write_text(">chr1\n" + contig + "\n")
    pysam.faidx(str(tmp_path / "ref.fa"))
    read = contig[910:1000] + contig[1060:1120]
    mate = contig[997:1000] + contig[1060:1157]
    return contig, [
        f"s\t99\tchr1\t911\t60\t90M60S\t=\t1061\t247\t{read}\t{'F' * 150}\tMC:Z:3S97M\tSA:Z:chr1,1061,+,90H60M,60,0;",
        f"s\t2145\tchr1\t1061\t60\t90H60M\t=\t1061\t0\t{read[90:]}\t{'F' * 60}\tSA:Z:chr1,911,+,90M60S,60,0;",
        f"s\t147\tchr1\t1061\t60\t3S97M\t=\t911\t-247\t{mate}\t{'F' * 100}\tMC:Z:90M60S",
    ]


def reverted_records(tmp_path: Path, lines: list[str], arguments: list[str], one_by_one: bool) -> list[pysam.AlignedSegment]:
    """The command run on ``lines`` (``split.sam`` against ``ref.fa``) with ``arguments``; its
    records as htslib reads them, its report in ``report.json``."""
    (tmp_path / "split.sam").write_text("@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:3000\n" + "\n".join(lines) + "\n")
    environment = {"GENOSCRUB_ONE_BY_ONE": "1"} if one_by_one else None
    result = run_command(COMMAND, "-q", "-r", "ref.fa", *arguments, "--report", "report.json", "-o", "out.sam", "split.sam", cwd=tmp_path,
                         env=environment)  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    with pysam.AlignmentFile(str(tmp_path / "out.sam")) as reads:
        return list(reads.fetch(until_eof=True))


@pytest.mark.parametrize("one_by_one", [False, True])
def test_a_split_read_at_a_germline_deletion_loses_its_supplementary_part_and_its_clip(tmp_path: Path, one_by_one: bool) -> None:
    """A 60-base germline deletion read by split reads, as bwa mem writes them: the primary
    ``90M60S`` ending where the deletion starts, the supplementary ``90H60M`` starting after it. A
    non-carrier has no split read there: the supplementary record goes (counted in
    ``supplementary_records_removed``, not in ``reads_out``) and the primary becomes ``150M`` of
    the reference; its mate, clipped at the deletion's far edge (``3S97M`` at 1061), becomes
    ``100M`` at 998, where a non-carrier's read of the fragment starts, and the primary's ``MC``
    and PNEXT say so, TLEN following both ends. The audit finds nothing left."""
    contig, lines = split_read_at_deletion(tmp_path)
    (tmp_path / "sv.vcf").write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=3000>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        f"chr1\t1000\t.\t{contig[999:1060]}\t{contig[999]}\t50\tPASS\t.\n"
    )
    records = reverted_records(tmp_path, lines, ["-v", "sv.vcf"], one_by_one)
    assert [(record.flag, record.reference_start, record.cigarstring) for record in records] == [(99, 910, "150M"), (147, 997, "100M")]
    first, second = records
    assert first.query_sequence == contig[910:1060] and second.query_sequence == contig[997:1097]
    assert first.get_tag("MC") == "100M" and second.get_tag("MC") == "150M"
    assert first.next_reference_start == 997 and second.next_reference_start == 910
    assert first.template_length == 1097 - 910 == -second.template_length  # the outer rule on the new ends
    counts = json.loads((tmp_path / "report.json").read_text())["counts"]
    assert counts["supplementary_records_removed"] == 1 and counts["reads_out"] == 2 and counts["clip_bases_aligned"] == 63
    options = ["-q", "--germline", "sv.vcf", "-r", "ref.fa", "--report", "audit.json", "split.sam"]
    audit = run_command("genoscrub-audit", *options, cwd=tmp_path)
    found = json.loads((tmp_path / "audit.json").read_text())["files"][0]["findings"]["germline"].get("by_key", {})
    assert any("clip at a germline site" in key for key in found), (audit.returncode, found)
    run_command("genoscrub-audit", "-q", "--germline", str(tmp_path / "sv.vcf"), "-r", str(tmp_path / "ref.fa"),
                "--report", str(tmp_path / "out.json"), str(tmp_path / "out.sam"))  # fmt: skip
    assert json.loads((tmp_path / "out.json").read_text())["files"][0]["findings"]["germline"].get("by_key", {}) == {}


@pytest.mark.parametrize("keep", [False, True])
@pytest.mark.parametrize("one_by_one", [False, True])
def test_all_removes_every_clip_and_every_supplementary_record(tmp_path: Path, one_by_one: bool, keep: bool) -> None:
    """``--all`` (and ``--all --keep``) has no germline list, so a clip's edge anywhere may mark a
    carrier: a split read's primary ``90M60S`` ending where a 60-base deletion starts becomes
    ``150M`` of the reference and its supplementary ``90H60M`` goes (``supplementary_records_removed``);
    its mate ``3S97M`` becomes ``100M`` 3 bases before its POS (no deletion's span is known) and the
    primary's ``MC`` and PNEXT say so, TLEN following both ends; and clips far from any allele go
    too, even one that is the reference's bases (``37M3S``), a hard clip with its bases given back
    before POS (``5H35M`` at 2101 becomes ``40M`` at 2096). The same bytes on the bulk and the
    one-record paths."""
    contig, lines = split_read_at_deletion(tmp_path)
    lines += [
        f"a\t0\tchr1\t2001\t60\t37M3S\t*\t0\t0\t{contig[2000:2040]}\t{'G' * 40}",
        f"h\t16\tchr1\t2101\t60\t5H35M\t*\t0\t0\t{contig[2100:2135]}\t{'H' * 35}",
    ]
    arguments = ["--all"]
    if keep:  # a somatic SNV elsewhere: --all --keep removes clips as --all does
        (tmp_path / "keep.vcf").write_text(
            "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=3000>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
            f"chr1\t500\t.\t{contig[499]}\t{'A' if contig[499] != 'A' else 'C'}\t50\tPASS\t.\n"
        )
        arguments += ["--keep", "keep.vcf"]
    records = reverted_records(tmp_path, lines, arguments, one_by_one)
    assert [(record.flag, record.reference_start, record.cigarstring) for record in records] == [
        (99, 910, "150M"), (147, 1057, "100M"), (0, 2000, "40M"), (16, 2095, "40M"),
    ]
    first, second, adapter, hard = (record.query_sequence for record in records)
    assert (first, second, adapter, hard) == (contig[910:1060], contig[1057:1157], contig[2000:2040], contig[2095:2135])
    assert records[0].get_tag("MC") == "100M" and records[1].get_tag("MC") == "150M"
    assert records[0].next_reference_start == 1057
    assert records[0].template_length == 1157 - 910 == -records[1].template_length  # the outer rule on the new ends
    counts = json.loads((tmp_path / "report.json").read_text())["counts"]
    assert counts["supplementary_records_removed"] == 1 and counts["reads_out"] == 4
    assert counts["clip_bases_aligned"] == 60 + 3 + 3 + 5 and counts.get("clip_bases_masked", 0) == 0
    if not one_by_one:  # the other path gives the same bytes
        again = run_command(COMMAND, "-q", "-r", "ref.fa", *arguments, "split.sam", cwd=tmp_path, env={"GENOSCRUB_ONE_BY_ONE": "1"})
        assert again.stdout == (tmp_path / "out.sam").read_bytes()


def test_closed_pipe_ends_quietly(simulated: Path) -> None:
    result = subprocess.run(
        f"{ROOT / 'bin' / COMMAND} -r {simulated / 'ref.fa'} -v {simulated / 'germline.vcf.gz'} {simulated / 'tumour.bam'} | head -1",
        shell=True, capture_output=True, executable="/bin/bash",
    )
    assert result.stdout.startswith(b"@HD") and b"Traceback" not in result.stderr


def test_any_sort_order_gives_the_same_records(simulated: Path, reverted: dict[str, Path], tmp_path: Path) -> None:
    """Name-sorted input (mates together, contigs interleaved) is reverted record for record the same."""
    by_name = tmp_path / "by_name.bam"
    pysam.sort("-n", "-o", str(by_name), str(simulated / "tumour.bam"))
    result = run_command(
        COMMAND, "-q", "-r", str(simulated / "ref.fa"), "-v", str(simulated / "germline.vcf.gz"), "--key-file", str(simulated / "site.key"),
        str(by_name),
    )
    assert result.returncode == 0, result.stderr.decode()
    records = sorted(line for line in result.stdout.splitlines() if not line.startswith(b"@"))
    expected = sorted(line for line in reverted["tumour_sam"].read_bytes().splitlines() if not line.startswith(b"@"))
    assert records == expected


# --- --drop-unknown-contigs leaves no mate pointing at a dropped read ---------------------


def split_pairs_sam(rng: random.Random, pairs: int) -> tuple[bytes, int]:
    """Pairs on chr1 (the reference's only contig), some with one mate on a decoy
    the reference lacks; returns the SAM text and how many pairs are split."""
    header = b"@HD\tVN:1.6\n@SQ\tSN:chr1\tLN:100\n@SQ\tSN:chrUn_decoy\tLN:50\n@RG\tID:L1\tSM:S1\n"
    records: list[bytes] = []
    split = 0
    for number in range(pairs):
        name = b"pair%d" % number
        on_decoy = number % 3 == 0
        first, second = rng.randrange(1, 60), rng.randrange(1, 30 if on_decoy else 60)
        split += on_decoy
        second_contig = b"chrUn_decoy" if on_decoy else b"chr1"
        for flag, contig, position, mate_contig, mate_position in (
            (97, b"chr1", first, second_contig, second),
            (145, second_contig, second, b"chr1", first),
        ):
            rnext = b"=" if mate_contig == contig else mate_contig
            tlen = second + 20 - first if rnext == b"=" else 0
            sequence = bytes(rng.choice(b"ACGT") for _ in range(20)) if contig != b"chr1" else REFERENCE[position - 1 : position + 19]
            records.append(b"\t".join([
                name, b"%d" % flag, contig, b"%d" % position, b"60", b"20M", rnext, b"%d" % mate_position,
                b"%d" % (tlen if flag == 97 else -tlen), sequence, b"I" * 20, b"MC:Z:20M", b"MQ:i:60", b"RG:Z:L1",
            ]))
    return header + b"\n".join(records) + b"\n", split


@pytest.mark.parametrize("mode", [["--all"], ["-v", "sites.vcf"]])
def test_dropped_reads_leave_no_mate_pointing_at_them(tmp_path: Path, mode: list[str]) -> None:
    """Every record that says it is paired has its mate in the output (checked with
    pysam and samtools flagstat); a mate left behind is unpaired, without MC/MQ."""
    reference = tmp_path / "ref.fa"
    reference.write_bytes(b">chr1\n" + REFERENCE + b"\n")
    pysam.faidx(str(reference))
    vcf_header = b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    (tmp_path / "sites.vcf").write_bytes(vcf_header + b"chr1\t40\t.\tG\tT\t.\t.\t.\n")
    text, split = split_pairs_sam(random.Random(11), 30)
    (tmp_path / "in.sam").write_bytes(text)
    report = tmp_path / "report.json"
    result = run_command(COMMAND, "-q", "-r", str(reference), *mode, "--drop-unknown-contigs", "--report", str(report),
                         "-O", "bam", "-o", str(tmp_path / "out.bam"), str(tmp_path / "in.sam"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    subprocess.run(["samtools", "quickcheck", str(tmp_path / "out.bam")], check=True)
    counts = json.loads(report.read_text())["counts"]
    assert counts["reads_dropped_unknown_contig"] == split and counts["mates_dropped_unknown_contig"] == split
    with pysam.AlignmentFile(str(tmp_path / "out.bam")) as alignments:
        records = list(alignments)
    present = {(record.query_name, record.is_read1, record.reference_name, record.reference_start) for record in records}
    alone = 0
    for record in records:
        assert record.reference_name == "chr1"
        if not record.is_paired:
            alone += 1
            assert (record.next_reference_id, record.next_reference_start, record.template_length) == (-1, -1, 0)
            assert not record.has_tag("MC") and not record.has_tag("MQ") and record.flag & 0xEB == 0
            continue
        mate = (record.query_name, not record.is_read1, record.next_reference_name, record.next_reference_start)
        assert mate in present, "a paired record points at a mate that is not in the output"
    assert alone == split
    flagstat = subprocess.run(["samtools", "flagstat", str(tmp_path / "out.bam")], capture_output=True, check=True, text=True).stdout
    assert "0 + 0 with mate mapped to a different chr\n" in flagstat
    assert f"{2 * (30 - split)} + 0 with itself and mate mapped\n" in flagstat
    assert "0 + 0 singletons" in flagstat


# --- --drop-contigs: no read on an allele contig, no mate pointing at one -----------------

ALLELE_CONTIGS = (b"HLA-A*02:01:01:01", b"chr6_GL000250v2_alt")


def allele_contig_pairs_sam(rng: random.Random, pairs: int) -> tuple[bytes, int, int]:
    """Coordinate-sorted pairs on chr1 and on allele contigs (an HLA allele, an MHC alt): both mates
    on one, or one mate there and the other on chr1 (an unmapped mate placed beside it too); returns
    the SAM text, the records on allele contigs and the records on chr1 whose mate is on one."""
    header = b"@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:100\n"
    header += b"".join(b"@SQ\tSN:%s\tLN:80\n" % name for name in ALLELE_CONTIGS) + b"@RG\tID:L1\tSM:S1\n"
    records: list[tuple[int, int, bytes]] = []
    on_listed = pointing = 0
    for number in range(pairs):
        name = b"pair%d" % number
        kind = number % 4  # 0: both on chr1, 1: both on an allele contig, 2: one mate there, 3: an unmapped mate placed there
        contig = ALLELE_CONTIGS[number % 2]
        first, second = rng.randrange(1, 60), rng.randrange(1, 60)
        places = {0: (b"chr1", b"chr1"), 1: (contig, contig), 2: (b"chr1", contig), 3: (contig, contig)}[kind]
        on_listed += sum(place != b"chr1" for place in places)
        pointing += kind == 2
        for mate, (flag, place, position) in enumerate(((97, places[0], first), (145, places[1], second))):
            other_place, other_position = places[1 - mate], (second, first)[mate]
            if kind == 3:
                flag, position = ((105, first), (149, first))[mate]  # the read mapped, its mate unmapped at its place
                other_position = first
            rnext = b"=" if other_place == place else other_place
            tlen = 0 if rnext != b"=" or kind == 3 else (second + 20 - first) * (1 if mate == 0 else -1)
            cigar = b"*" if flag & 4 else b"20M"
            sequence = REFERENCE[position - 1 : position + 19] if place == b"chr1" else bytes(rng.choice(b"ACGT") for _ in range(20))
            tags = [b"MC:Z:20M", b"MQ:i:60"] if not flag & 8 and not flag & 4 else []
            line = b"\t".join([name, b"%d" % flag, place, b"%d" % position, b"60", cigar, rnext, b"%d" % other_position,
                               b"%d" % tlen, sequence, b"I" * 20, *tags, b"RG:Z:L1"])  # fmt: skip
            records.append(([b"chr1", *ALLELE_CONTIGS].index(place), position, line))
    return header + b"\n".join(line for _, _, line in sorted(records)) + b"\n", on_listed, pointing


@pytest.mark.parametrize("one_by_one", [False, True])
@pytest.mark.parametrize("mode", [["--all"], ["-v", "sites.vcf"]])
def test_drop_contigs_leaves_no_read_on_them_and_no_mate_pointing_there(tmp_path: Path, mode: list[str], one_by_one: bool) -> None:
    """``--drop-contigs 'HLA-*' --drop-contigs '*_alt'``: every record on those contigs goes (the
    reference lacks one of them: no error), a mate on chr1 is left unpaired without MC/MQ, the
    @SQ lines stay, the output stays sorted; read back with pysam and samtools idxstats."""
    reference = tmp_path / "ref.fa"
    reference.write_bytes(b">chr1\n" + REFERENCE + b"\n>HLA-A*02:01:01:01\n" + b"ACGT" * 20 + b"\n")
    pysam.faidx(str(reference))
    vcf_header = b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    (tmp_path / "sites.vcf").write_bytes(vcf_header + b"chr1\t40\t.\tG\tT\t.\t.\t.\n")
    text, on_listed, pointing = allele_contig_pairs_sam(random.Random(5), 40)
    (tmp_path / "in.sam").write_bytes(text)
    report, out = tmp_path / "report.json", tmp_path / "out.bam"
    environment = {"GENOSCRUB_ONE_BY_ONE": "1"} if one_by_one else {}
    done = run_command(COMMAND, "-q", "-r", str(reference), *mode, "--drop-contigs", "HLA-*", "--drop-contigs", "*_alt",
                       "--report", str(report), "-O", "bam", "-o", str(out), "in.sam", cwd=tmp_path, env=environment)  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    counts = json.loads(report.read_text())["counts"]
    assert counts["reads_dropped_listed_contig"] == on_listed and counts["mates_dropped_listed_contig"] == pointing
    assert counts["reads_out"] == counts["reads_in"] - on_listed
    pysam.index(str(out))
    with pysam.AlignmentFile(str(out)) as alignments:
        assert [name.encode() for name in alignments.references] == [b"chr1", *ALLELE_CONTIGS]
        records = list(alignments)
    assert len(records) == 80 - on_listed
    assert [record.reference_start for record in records] == sorted(record.reference_start for record in records)
    for record in records:
        assert record.reference_name == "chr1" and record.next_reference_name in (None, "chr1")
        if not record.is_paired:
            assert (record.next_reference_id, record.next_reference_start, record.template_length) == (-1, -1, 0)
            assert not record.has_tag("MC") and not record.has_tag("MQ") and record.flag & 0xEB == 0
    assert sum(not record.is_paired for record in records) == pointing
    idxstats = subprocess.run(["samtools", "idxstats", str(out)], capture_output=True, check=True, text=True).stdout
    assert [line.split("\t")[2:] for line in idxstats.splitlines()[1:3]] == [["0", "0"], ["0", "0"]]


def test_drop_contigs_matching_nothing_changes_nothing(tmp_path: Path) -> None:
    """Patterns no @SQ name matches (``chrUn_decoy`` is no ``*_alt``) leave the output byte for byte
    what it is without them."""
    reference = tmp_path / "ref.fa"
    reference.write_bytes(b">chr1\n" + REFERENCE + b"\n")
    pysam.faidx(str(reference))
    text, _ = split_pairs_sam(random.Random(3), 20)
    (tmp_path / "in.sam").write_bytes(text)
    common = ["-q", "-r", str(reference), "--all", "--drop-unknown-contigs"]
    plain = run_command(COMMAND, *common, str(tmp_path / "in.sam"))
    listed = run_command(COMMAND, *common, "--drop-contigs", "HLA-*", "--drop-contigs", "*_alt", str(tmp_path / "in.sam"))
    assert plain.returncode == listed.returncode == 0, listed.stderr.decode()
    assert plain.stdout == listed.stdout


def test_germline_vcf_contig_length_read_whatever_the_key_order(tmp_path: Path) -> None:
    """##contig=<length=...,ID=...> keeps its length (the same-genome check depends on it)."""
    vcf = tmp_path / "sites.vcf"
    vcf.write_text(
        "##fileformat=VCFv4.2\n##contig=<length=100,ID=chr1>\n##contig=<ID=chr2,length=50,assembly=b38>\n"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nchr1\t15\t.\tA\tG\t.\t.\t.\n"
    )
    sites = GermlineSites(str(vcf), Report(COMMAND))
    assert sites.contigs == {"chr1": 100, "chr2": 50}


def test_symbolic_deletion_windowed_over_its_span() -> None:
    from genoscrub.germline_sites import info_span, symbolic_kind

    assert info_span(b"SVTYPE=DEL;END=52;SVLEN=-7") == (52, 7)
    assert info_span(b"SVLEN=-3,12") == (None, 12)
    # a key written twice: the largest, whatever the order (a carrier's 30S50M at 1101 after a
    # deletion of 1001-1100 kept its clip edge with END=1100;END=1010, lost it the other way)
    assert info_span(b"END=1100;END=1010") == info_span(b"END=1010;END=1100") == (1100, None)
    assert info_span(b"SVLEN=-10;SVLEN=-100") == info_span(b"SVLEN=-100;SVLEN=-10") == (None, 100)
    assert symbolic_kind(b"<DEL:ME:ALU>") == b"DEL" and symbolic_kind(b"N[chr2:10[") == b""


def calmd_by_base(position: int, cigar: bytes, sequence: bytes, reference: bytes) -> tuple[bytes, int]:
    """MD and NM one base at a time, as the SAM spec words calmd's rule: the reference for ``md_and_nm``."""
    md, run, distance, query, at = b"", 0, 0, 0, position
    for op, length in ops(cigar):
        if op in b"M=X":
            for _ in range(length):
                base = sequence[query : query + 1].upper()
                if base == b"=" or (base == reference[at : at + 1] and base != b"N"):
                    run += 1
                else:
                    md += b"%d" % run + reference[at : at + 1]
                    run = 0
                    distance += 1
                query += 1
                at += 1
        elif op == ord("D"):
            md += b"%d^" % run + reference[at : at + length]
            run = 0
            distance += length
            at += length
        elif op == ord("I"):
            distance += length
            query += length
        elif op == ord("S"):
            query += length
        elif op == ord("N"):
            at += length
    return md + b"%d" % run, distance


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(b"MIDSX="), st.integers(1, 12)), min_size=1, max_size=6),
    st.randoms(use_true_random=False),
    st.integers(0, 20),
)
def test_md_and_nm_equal_calmd_base_by_base_with_masked_runs(pieces: list[tuple[int, int]], rng: random.Random, position: int) -> None:
    """Runs of N (a masked stretch), lone mismatches, '=' and deletions: the run-at-once MD equals
    the base-by-base rule."""
    cigar = b"".join(b"%d%c" % (length, op) for op, length in pieces)
    shape = parse_cigar(cigar)
    if shape is None:
        return
    sequence = bytearray()
    at = position
    for op, length in ops(cigar):
        if op in b"M=X":
            for offset in range(length):
                sequence += rng.choice([REFERENCE[at + offset : at + offset + 1]] * 3 + [b"N", b"A", b"=", b"c"])
            at += length
        elif op in b"IS":
            sequence += bytes(rng.choice(b"ACGTN") for _ in range(length))
        elif op in b"DN":
            at += length
    wanted = calmd_by_base(position, cigar, bytes(sequence), REFERENCE)
    for loop in MD_AND_NM_LOOPS:
        assert loop(position, ops(cigar), bytes(sequence), REFERENCE, 0) == wanted


# --- a read aligned past its contig's end ----------------------------------------------------------


def test_bases_aligned_past_the_contig_end_become_n_on_both_paths(tmp_path: Path) -> None:
    """chrM is circular: a read an aligner writes past its end (16520 100M on a 16569-base chrM)
    holds the contig's first bases there, a germline allele at chrM:30 included, which no
    window near the end reverted. Every base past the end becomes N, on the bulk path and the
    one-record path; a read inside the contig, and the bases before the end, stay."""
    random.seed(7)
    bases = "".join(random.choice("ACGT") for _ in range(16569))
    (tmp_path / "ref.fa").write_text(">chrM\n" + "\n".join(bases[i : i + 60] for i in range(0, len(bases), 60)) + "\n")
    pysam.faidx(str(tmp_path / "ref.fa"))
    allele = "G" if bases[29] != "G" else "T"
    first = bases[:29] + allele + bases[30:50]  # the contig's first 50 bases, chrM:30's allele in them
    (tmp_path / "germline.vcf").write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=chrM,length=16569>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        f"chrM\t30\t.\t{bases[29]}\t{allele}\t50\tPASS\t.\n"
    )
    records = [
        f"pastend\t0\tchrM\t16520\t60\t100M\t*\t0\t0\t{bases[16519:] + first}\t{'I' * 100}",
        f"inside\t0\tchrM\t8000\t60\t100M\t*\t0\t0\t{bases[7999:8099]}\t{'I' * 100}",
    ]
    sam = ("@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chrM\tLN:16569\n" + "".join(line + "\n" for line in records)).encode()
    outputs = []
    for switch in ({}, {"GENOSCRUB_ONE_BY_ONE": "1"}):
        with pytest.MonkeyPatch.context() as monkeypatch:
            for name, value in switch.items():
                monkeypatch.setenv(name, value)
            arguments = ["-q", "-r", str(tmp_path / "ref.fa"), "-v", str(tmp_path / "germline.vcf")]
            result = run_command("sam-revert-germline", *arguments, input=sam)
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    reads = {fields[0]: fields for fields in (line.split("\t") for line in outputs[0].decode().splitlines() if not line.startswith("@"))}
    assert reads["pastend"][9] == bases[16519:] + "N" * 50 and reads["pastend"][5] == "100M"
    assert reads["inside"][9] == bases[7999:8099]


def test_a_chimeric_part_on_a_site_is_found_whatever_the_spelling_of_its_contig(tmp_path: Path) -> None:
    """A record whose SA part lies on a germline site is reverted as a read there is, its clip
    given back as the reference (``10M10S`` becomes ``20M``), even with --keep-clips-off-sites:
    the part's contig read through the header's spellings (``1`` in a ``chr1`` header, as
    ``samtools reheader`` leaves SA), and a part on a contig the header cannot place taken as
    lying on one."""
    reference = tmp_path / "ref.fa"
    reference.write_bytes(b">chr1\n" + REFERENCE + b"\n")
    pysam.faidx(str(reference))
    (tmp_path / "sites.vcf").write_bytes(
        b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + b"chr1\t60\t.\t%c\tT\t.\t.\t.\n" % REFERENCE[59]
    )
    clip = b"ACGTACGTAC"
    lines = [
        b"r%d\t0\tchr1\t11\t60\t10M10S\t*\t0\t0\t%s%s\t%s\tSA:Z:%s;" % (number, REFERENCE[10:20], clip, b"I" * 20, part)
        for number, part in enumerate([b"chr1,55,+,10H10M,60,0", b"1,55,+,10H10M,60,0", b"chrZ,55,+,10H10M,60,0", b"1,3,+,10H10M,60,0"])
    ]
    for one_by_one in (False, True):
        report = Report(COMMAND)
        options = RevertOptions(clips=ClipRule.NEAR_WINDOWS)
        sites = GermlineSites(str(tmp_path / "sites.vcf"), report)
        setup = RevertSetup(Fasta(str(reference)), sites, None, options, "-", report, one_by_one)
        reverter = setup.reverter([b"@SQ\tSN:chr1\tLN:100"])
        out = reverter.revert_block(b"\n".join(lines) + b"\n", 1).splitlines()
        fields = [line.split(b"\t") for line in out]
        assert [(field[5], field[9]) for field in fields] == [(b"20M", REFERENCE[10:30])] * 3 + [(b"10M10S", REFERENCE[10:20] + clip)]


def test_a_germline_deletion_written_as_a_skip_is_filled_and_no_mate_is_left_unpaired(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An RNA aligner writes a germline deletion of 21 bases or more as a skip (``N``). Lying
    wholly in the deletion's window, it is filled like the deletion: the pair stays a pair, as
    a reference pair does. A skip with one edge in the window and the other far past it (the
    deletion beside an intron) removes the read and its mate, which learns it from MC: an
    unpaired mate would be left only at the carriers' fragments. ``reads_out`` counts what is
    written. STAR's ``jI`` and ``jM``, the junctions of the pair, go from every mate: they named
    the skip. Both paths alike."""
    rng = random.Random(8)
    genome = "".join(rng.choice("ACGT") for _ in range(2000))
    reference = tmp_path / "ref.fa"
    reference.write_text(f">chr1\n{genome}\n")
    pysam.faidx(str(reference))
    (tmp_path / "sites.vcf").write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=2000>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        f"chr1\t1000\t.\t{genome[999:1030]}\t{genome[999]}\t.\t.\t.\n"
    )  # deletes chr1:1001-1030
    mate = genome[1150:1250]
    pairs = {
        "carrier": ("50M30N50M", genome[950:1000] + genome[1030:1080]),
        "reference": ("100M", genome[950:1050]),
        "intron": ("50M300N50M", genome[950:1000] + genome[1300:1350]),
    }
    lines = ["@SQ\tSN:chr1\tLN:2000"]
    for name, (cigar, sequence) in pairs.items():
        lines.append(f"{name}\t99\tchr1\t951\t60\t{cigar}\t=\t1151\t300\t{sequence}\t{'I' * 100}\tMC:Z:100M")
        junctions = "jI:B:i,1001,1030\tjM:B:c,1" if name == "carrier" else "jI:B:i,-1\tjM:B:c,-1"  # STAR: the pair's, in both mates
        lines.append(f"{name}\t147\tchr1\t1151\t60\t100M\t=\t951\t-300\t{mate}\t{'I' * 100}\tMC:Z:{cigar}\t{junctions}")
    (tmp_path / "in.sam").write_text("\n".join(lines) + "\n")
    outputs = set()
    for one_by_one in ("0", "1"):
        monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", one_by_one)
        report = tmp_path / f"report{one_by_one}.json"
        result = run_command(COMMAND, "-q", "-r", str(reference), "-v", str(tmp_path / "sites.vcf"), "--report", str(report),
                             str(tmp_path / "in.sam"))  # fmt: skip
        assert result.returncode == 0, result.stderr.decode()
        outputs.add(result.stdout)
        counts = json.loads(report.read_text())["counts"]
        assert counts["reads_in"] == 6 and counts["reads_out"] == 4
        assert counts["reads_removed_skip_at_germline_deletion"] == 1 and counts["reads_removed_with_their_mate"] == 1
    assert len(outputs) == 1
    records = [line.split("\t") for line in result.stdout.decode().splitlines() if not line.startswith("@")]
    assert [(fields[0], fields[1], fields[5], fields[8]) for fields in records] == [
        ("carrier", "99", "100M", "300"), ("carrier", "147", "100M", "-300"),
        ("reference", "99", "100M", "300"), ("reference", "147", "100M", "-300"),
    ]  # fmt: skip
    assert records[0][9] == records[2][9] == genome[950:1050]
    # every mate loses the pair's junctions: they named the carrier's deletion, and where only the carrier's
    # mate lost them (its MC rewritten), the reference's mate kept them and told the two apart (red team 8a F5)
    assert records[1][11:] == records[3][11:] == ["MC:Z:100M"]


def reference_and_site_at_95(folder: Path) -> tuple[Path, Path]:
    """``ref.fa`` (chr1, REFERENCE, indexed) and ``sites.vcf``, a germline SNV at chr1:95."""
    reference = folder / "ref.fa"
    reference.write_bytes(b">chr1\n" + REFERENCE + b"\n")
    pysam.faidx(str(reference))
    sites = folder / "sites.vcf"
    sites.write_bytes(b"##fileformat=VCFv4.2\n##contig=<ID=chr1,length=100>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                      b"chr1\t95\t.\t%c\tT\t.\t.\t.\n" % REFERENCE[94])  # fmt: skip
    return reference, sites


def two_spellings_revert(tmp_path: Path, contigs: list[str], vcf_lines: list[tuple[str, int]], one_by_one: bool) -> dict[str, bytes]:
    """Reads carrying the ALT at every site of ``vcf_lines`` (contig, 1-based POS), one per input
    contig of ``contigs`` (all the same sequence, REFERENCE, named in the FASTA as the first
    input contig), reverted in process: the bases of each."""
    reference = tmp_path / "ref.fa"
    reference.write_bytes(b">%s\n" % contigs[0].encode() + REFERENCE + b"\n")
    pysam.faidx(str(reference))
    alternate = {ord("A"): b"C", ord("C"): b"G", ord("G"): b"T", ord("T"): b"A"}
    body = b"".join(b"%s\t%d\t.\t%c\t%s\t.\t.\t.\n" % (name.encode(), pos, REFERENCE[pos - 1], alternate[REFERENCE[pos - 1]])
                    for name, pos in vcf_lines)  # fmt: skip
    (tmp_path / "sites.vcf").write_bytes(b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + body)
    read = bytearray(REFERENCE[20:100])
    for _, pos in vcf_lines:
        read[pos - 21] = alternate[REFERENCE[pos - 1]][0]
    report = Report(COMMAND)
    setup = RevertSetup(Fasta(str(reference)), GermlineSites(str(tmp_path / "sites.vcf"), report), None, RevertOptions(), "-", report,
                        one_by_one=one_by_one)  # fmt: skip
    reverter = setup.reverter([b"@SQ\tSN:%s\tLN:100" % name.encode() for name in contigs])
    lines = b"".join(b"r%d\t0\t%s\t21\t60\t80M\t*\t0\t0\t%s\t%s\n" % (index, name.encode(), bytes(read), b"I" * 80)
                     for index, name in enumerate(contigs))  # fmt: skip
    return {fields[2].decode(): fields[9] for fields in (line.split(b"\t") for line in reverter.revert_block(lines, 1).splitlines())}


@pytest.mark.parametrize(("contigs", "vcf_lines"), [
    (["chr1", "1"], [("chr1", 95)]),  # the header names one contig twice: both spellings are reverted
    (["1", "chr1"], [("chr1", 95)]),
    (["chrM", "MT"], [("MT", 40)]),
    (["chr1"], [("chr1", 95), ("1", 40)]),  # the germline list names it twice: both lists' sites are reverted
])  # fmt: skip
def test_a_contig_spelled_two_ways_is_reverted_under_each(tmp_path: Path, contigs: list[str], vcf_lines: list[tuple[str, int]]) -> None:
    """``@SQ`` lines of ``chrM`` and ``MT`` (a mitochondrion added to a reference that had one), or a
    germline list with ``chr1`` and ``1``: every input contig gets the windows of every list contig
    that spells it, on the bulk and the one-record path (one input contig got them before, and the
    reads on the other kept the germline alleles)."""
    results = [two_spellings_revert(tmp_path, contigs, vcf_lines, one_by_one) for one_by_one in (False, True)]
    assert results[0] == results[1]
    assert results[0] == {name: REFERENCE[20:100] for name in contigs}


def test_the_audit_checks_a_contig_spelled_two_ways_under_each(tmp_path: Path) -> None:
    """genoscrub-audit joins its germline list and its regions with every input contig that spells
    a list contig: reads of the ALT on ``chr1`` and on ``1`` (one header) are both findings, and so
    are their bases in a region (the reads on one spelling passed before)."""
    reference, sites = reference_and_site_at_95(tmp_path)
    (tmp_path / "r.bed").write_text("chr1\t30\t40\n")
    read = bytearray(REFERENCE[20:100])
    read[74] = ord("T")
    contigs = ["chr1", "1"]
    (tmp_path / "in.sam").write_text(
        "@HD\tVN:1.6\n@SQ\tSN:chr1\tLN:100\n@SQ\tSN:1\tLN:100\n"
        + "".join(f"r{index}\t0\t{contig}\t21\t60\t80M\t*\t0\t0\t{read.decode()}\t{'I' * 80}\n" for index, contig in enumerate(contigs))
    )
    report = tmp_path / "audit.json"
    arguments = ["-q", "--germline", str(sites), "-r", str(reference), "--bed", str(tmp_path / "r.bed"), "--report", str(report)]
    run_command("genoscrub-audit", *arguments, str(tmp_path / "in.sam"))
    findings = json.loads(report.read_text())["files"][0]["findings"]
    assert findings["germline"]["by_key"] == {"chr1:95": 1, "1:95": 1}
    assert findings["regions"]["by_key"] == {"chr1:31-40": 1, "1:31-40": 1}


@pytest.mark.parametrize(("records", "line"), [
    ([(95, "%c", "T")], None),  # agrees
    ([(95, "N", "T"), (40, "%c", "A,%c")], None),  # N agrees with any base; lower case is the same base
    ([(30, "%c", "T"), (95, "X", "T")], 5),  # X is no base: the record's line is named
    ([(41, "%c", "A"), (95, "@", "T")], 5),
    ([(95, "%c", "T"), (60, "%c%c%c", "A")], 5),  # a deletion's REF one base along
    ([(95, "%c", "T"), (60, "%c%c%c", "<DEL>")], 5),
])  # fmt: skip
def test_a_germline_record_whose_ref_is_not_the_reference_stops_the_command(
    tmp_path: Path, records: list[tuple[int, str, str]], line: int | None
) -> None:
    """A germline list of another build without ``##contig`` lengths (VarScan's, a hand-made site
    list) windowed the wrong places and protected nothing: each record's REF is compared with the
    reference (codes as sets: ``N``, ``R`` and lower case agree with the bases they stand for), and
    the first that differs is an error naming its line, before any record is written."""
    reference = tmp_path / "ref.fa"
    reference.write_bytes(b">chr1\n" + REFERENCE + b"\n")
    pysam.faidx(str(reference))
    body = ""
    for position, ref, alt in records:
        if ref == "@":
            ref = "Y" if REFERENCE[position - 1] in b"AG" else "R"  # a code for two bases, neither the reference's
        elif ref == "%c%c%c" and line is not None:
            ref = REFERENCE[position : position + 3].decode()  # one base along: not the reference at POS
        else:
            ref = ref.replace("%c", REFERENCE[position - 1 : position].decode())
        body += f"chr1\t{position}\t.\t{ref}\t{alt.replace('%c', REFERENCE[position - 1 : position].decode().lower())}\t.\t.\t.\n"
    (tmp_path / "sites.vcf").write_text("##fileformat=VCFv4.2\n##source=hand\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + body)
    report = Report(COMMAND)
    setup = RevertSetup(Fasta(str(reference)), GermlineSites(str(tmp_path / "sites.vcf"), report), None, RevertOptions(), "-", report)
    if line is None:
        setup.reverter([b"@SQ\tSN:chr1\tLN:100"])
        return
    with pytest.raises(InputError) as error:
        setup.reverter([b"@SQ\tSN:chr1\tLN:100"])
    assert (error.value.file, error.value.line) == (str(tmp_path / "sites.vcf"), line)
    assert "REF differs from the reference" in error.value.message


@pytest.mark.parametrize("one_by_one", [False, True])
@pytest.mark.parametrize(
    "mode", [["--all"], ["-v", "germline.vcf"], ["-v", "germline.vcf", "--keep-unmapped"]], ids=["all", "sites", "kept"]
)
def test_a_mate_placed_past_its_contig_loses_its_place_and_a_far_hit_its_position(
    tmp_path: Path, one_by_one: bool, mode: list[str]
) -> None:
    """Red team 9's leftover (H1): the reverter copied a PNEXT past its contig (``RNEXT =``, ``PNEXT
    19900101`` on a contig of 5000) and a ``CP`` there as it read them (run sam-scrub-rg first,
    the page said). As sam-scrub-rg does, through the same check (``sam_columns.ReadPlaces``), on
    both paths and a BAM input: the mate's place becomes unavailable (``*``, 0, 0) and its ``MC``
    goes, a ``CP`` past twice RNAME's LN and a read goes; at the bound both stay."""
    bases = random_reference(tmp_path, 5000, seed=7)
    germline_snv(tmp_path, bases, 3005)
    read = bases[99:109]
    lines = [
        "@HD\tVN:1.6\tSO:coordinate",
        "@SQ\tSN:chr1\tLN:5000",
        f"far\t97\tchr1\t100\t60\t10M\t=\t19900101\t0\t{read}\tIIIIIIIIII\tMC:Z:10M\tRG:Z:g",
        f"edge\t97\tchr1\t100\t60\t10M\t=\t10010\t0\t{read}\tIIIIIIIIII\tMC:Z:10M",  # twice LN 5000 and a read: a place
        f"hit\t0\tchr1\t100\t60\t10M\t*\t0\t0\t{read}\tIIIIIIIIII\tCP:i:19900101\tOP:i:19900101",
        f"near\t0\tchr1\t100\t60\t10M\t*\t0\t0\t{read}\tIIIIIIIIII\tCP:i:10010",
        f"gone\t77\t*\t0\t0\t*\t*\t19900101\t0\t{read}\tIIIIIIIIII\tCP:i:19900101",  # unmapped, RNEXT '*': the longest contig
    ]
    (tmp_path / "in.sam").write_text("\n".join(lines) + "\n")
    subprocess.run(["samtools", "view", "-b", "-o", "in.bam", "in.sam"], cwd=tmp_path, check=True)
    environment = {"GENOSCRUB_ONE_BY_ONE": "1"} if one_by_one else {}
    result = run_command("sam-revert-germline", "-q", "-r", "ref.fa", *mode, "--report", "r.json", "in.bam", cwd=tmp_path, env=environment)
    assert result.returncode == 0, result.stderr.decode()
    assert b"19900101" not in result.stdout
    records = {line.split(b"\t")[0]: line.split(b"\t") for line in result.stdout.splitlines() if not line.startswith(b"@")}
    assert records[b"far"][6:9] == [b"*", b"0", b"0"] and not any(tag.startswith(b"MC:") for tag in records[b"far"][11:])
    assert records[b"edge"][6:8] == [b"=", b"10010"]
    assert not any(tag.startswith((b"CP:", b"OP:")) for tag in records[b"hit"][11:])
    assert records[b"gone"][6:8] == [b"*", b"0"] and records[b"gone"][11:] == []
    counts = json.loads((tmp_path / "r.json").read_text())["counts"]
    assert counts["mate_places_cleared"] == 2 and counts["mate_cigar_tags_removed"] == 1
    if mode != ["--all"]:  # --all keeps no CP on a rewritten read: only the far ones count
        assert records[b"near"][11:] == [b"CP:i:10010"]
        assert counts["aux_values_removed"] == 2


def deletion_carrier_and_non_carrier(tmp_path: Path) -> tuple[str, list[str], list[str]]:
    """A random 3,000-base chr1 (``ref.fa``, indexed), a germline 10-base deletion of 991-1000
    (``del.vcf``), and the same two fragments read from a carrier and from a non-carrier: the
    carrier's first read clipped at the deletion's far edge (``3S147M`` at 1001, its 3 clipped
    bases the reference's 988-990), the non-carrier's ``150M`` at 988; the mates ``150M`` at 1301."""
    rng = random.Random(11)
    contig = "".join(rng.choice("ACGT") for _ in range(3000))
    (tmp_path / "ref.fa").write_text(">chr1\n" + contig + "\n")
    pysam.faidx(str(tmp_path / "ref.fa"))
    (tmp_path / "del.vcf").write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=3000>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        f"chr1\t990\t.\t{contig[989:1000]}\t{contig[989]}\t50\tPASS\t.\n"
    )
    mate, qualities = contig[1300:1450], "F" * 150
    carrier = contig[987:990] + contig[1000:1147]
    return contig, [
        f"c\t99\tchr1\t1001\t60\t3S147M\t=\t1301\t449\t{carrier}\t{qualities}\tMC:Z:150M",
        f"c\t147\tchr1\t1301\t60\t150M\t=\t1001\t-449\t{mate}\t{qualities}\tMC:Z:3S147M",
    ], [
        f"n\t99\tchr1\t988\t60\t150M\t=\t1301\t462\t{contig[987:1137]}\t{qualities}\tMC:Z:150M",
        f"n\t147\tchr1\t1301\t60\t150M\t=\t988\t-462\t{mate}\t{qualities}\tMC:Z:150M",
    ]


@pytest.mark.parametrize("one_by_one", [False, True])
def test_a_left_clip_at_a_germline_deletion_starts_where_a_non_carrier_read_starts(tmp_path: Path, one_by_one: bool) -> None:
    """Metamorphic: the same fragments read from a carrier of a 10-base deletion (its read clipped
    at the deletion's far edge, ``3S147M`` at 1001) and from a non-carrier (``150M`` at 988) leave
    the reverter with the same POS, CIGAR, PNEXT, TLEN and ``MC`` for every read: a carrier's read
    starts must not gather at the deletion's far edge."""
    _, carrier, non_carrier = deletion_carrier_and_non_carrier(tmp_path)

    def places(lines: list[str]) -> list[tuple[object, ...]]:
        return [
            (record.flag, record.reference_start, record.cigarstring, record.next_reference_start, record.template_length,
             record.get_tag("MC"))
            for record in reverted_records(tmp_path, lines, ["-v", "del.vcf"], one_by_one)
        ]  # fmt: skip

    assert places(carrier) == places(non_carrier)


@pytest.mark.parametrize("one_by_one", [False, True])
def test_reads_that_begin_inside_a_germline_insertion_do_not_pile_up_at_its_point(tmp_path: Path, one_by_one: bool) -> None:
    """A carrier of a 60-base insertion after 1000, read from its haplotype with a read starting
    every 2 bases as a non-carrier's: the reads that begin inside the inserted bases are aligned
    ``16S84M`` ... ``58S42M`` at 1001. Their clips go and they start as many bases before the
    point as their clip is long (at an SNV the same), not all at 1001, where 21 starts would
    show the insertion to anyone counting read starts; and the list writing the inserted bases
    or ``<INS> SVLEN=60`` gives the same starts."""
    generator = random.Random(6)
    contig = "".join(generator.choice("ACGT") for _ in range(3000))
    (tmp_path / "ref.fa").write_text(">chr1\n" + contig + "\n")
    inserted = "".join(generator.choice("ACGT") for _ in range(60))
    haplotype = contig[:1000] + inserted + contig[1000:]
    lines = []
    for start in range(800, 1200, 2):
        bases, before = haplotype[start : start + 100], 1000 - start
        if before >= 100:
            cigar, position = "100M", start + 1
        elif before >= 20:
            cigar, position = (f"{before}M60I{40 - before}M", start + 1) if before <= 20 else (f"{before}M{100 - before}S", start + 1)
        elif start + 100 <= 1060:
            continue  # wholly inserted: an aligner leaves it unmapped
        else:
            clip = max(0, 1060 - start)
            cigar, position = (f"{clip}S{100 - clip}M", 1001) if clip else ("100M", start - 59)
        lines.append((position, f"r{start}\t0\tchr1\t{position}\t60\t{cigar}\t*\t0\t0\t{bases}\t{'F' * 100}"))
    lines.sort()
    header = "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=3000>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    (tmp_path / "bases.vcf").write_text(header + f"chr1\t1000\t.\t{contig[999]}\t{contig[999] + inserted}\t50\tPASS\t.\n")
    (tmp_path / "symbolic.vcf").write_text(header + f"chr1\t1000\t.\t{contig[999]}\t<INS>\t50\tPASS\tSVLEN=60\n")
    starts = {}
    for listed in ("bases.vcf", "symbolic.vcf"):
        records = reverted_records(tmp_path, [line for _, line in lines], ["-v", listed], one_by_one)
        starts[listed] = sorted(record.reference_start for record in records)
    assert max(Counter(starts["bases.vcf"]).values()) <= 2
    assert starts["bases.vcf"] == starts["symbolic.vcf"]


@pytest.mark.parametrize("one_by_one", [False, True])
def test_a_moved_read_keeps_a_sorted_output_across_blocks_and_samtools_indexes_it(tmp_path: Path, one_by_one: bool) -> None:
    """A carrier's ``3S147M`` at 1001 moves to 988 (:func:`revert.clip_start`), before reads at
    989-1000 of the block before its own: those are held back until the next block is known, so
    the output stays sorted by coordinate and ``samtools index`` accepts it. Its mate's PNEXT and
    TLEN follow, and so does an unmapped mate placed at it, with the bulk and the one-record path."""
    contig, carrier, _ = deletion_carrier_and_non_carrier(tmp_path)
    fillers = [
        f"f{start}\t0\tchr1\t{start}\t60\t150M\t*\t0\t0\t{contig[start - 1 : start + 149]}\t{'F' * 150}" for start in range(980, 1001)
    ]
    placed = [
        f"u\t73\tchr1\t1001\t60\t3S147M\t=\t1001\t0\t{contig[987:990] + contig[1000:1147]}\t{'F' * 150}",
        f"u\t133\tchr1\t1001\t0\t*\t=\t1001\t0\t{'A' * 150}\t{'F' * 150}\tMC:Z:3S147M",
    ]
    header = "@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:3000\n"
    first_block = header + "\n".join(fillers) + "\n"
    second_block = "\n".join([carrier[0], *placed, carrier[1]]) + "\n"
    report = Report(COMMAND)
    sites = GermlineSites(str(tmp_path / "del.vcf"), report)
    setup = RevertSetup(Fasta(str(tmp_path / "ref.fa")), sites, None, RevertOptions(), "-", report, one_by_one=one_by_one)
    output = b"".join(revert_stream([first_block.encode(), second_block.encode()], setup))
    (tmp_path / "out.sam").write_bytes(output)
    pysam.view("-b", "-o", str(tmp_path / "out.bam"), str(tmp_path / "out.sam"), catch_stdout=False)
    pysam.index(str(tmp_path / "out.bam"))
    with pysam.AlignmentFile(str(tmp_path / "out.bam")) as reads:
        records = list(reads.fetch(until_eof=True))
    starts = [record.reference_start for record in records]
    assert starts == sorted(starts) and len(records) == len(fillers) + 4
    moved = {(record.query_name, record.flag): record for record in records if record.query_name in ("c", "u")}
    assert (moved["c", 99].reference_start, moved["c", 99].cigarstring) == (987, "150M")
    assert moved["c", 147].next_reference_start == 987 and moved["c", 147].template_length == -462
    assert (moved["u", 73].reference_start, moved["u", 73].next_reference_start, moved["u", 73].cigarstring) == (987, 987, "150M")
    assert (moved["u", 133].reference_start, moved["u", 133].next_reference_start) == (987, 987)
    assert moved["u", 133].get_tag("MC") == "150M"
    assert report.counts["read_starts_moved"] == 2 and report.counts["mate_places_moved"] == 2


@pytest.mark.parametrize("one_by_one", [False, True])
def test_a_mate_without_mc_loses_the_place_of_a_read_that_may_have_moved(tmp_path: Path, one_by_one: bool) -> None:
    """A mate without ``MC`` cannot learn that its mate's removed left clip moved it (``3S147M`` at
    1001 to 988): PNEXT 1001 would show the deletion's far edge, so its mate's place becomes
    unavailable (RNEXT ``*``, PNEXT and TLEN 0, counted as ``mate_places_cleared``)."""
    _, carrier, _ = deletion_carrier_and_non_carrier(tmp_path)
    lines = [carrier[0], carrier[1].replace("\tMC:Z:3S147M", "")]
    records = reverted_records(tmp_path, lines, ["-v", "del.vcf"], one_by_one)
    assert (records[0].reference_start, records[0].next_reference_start, records[0].template_length) == (987, 1300, 462)
    mate = records[1]
    assert (mate.next_reference_id, mate.next_reference_start, mate.template_length) == (-1, -1, 0)
    counts = json.loads((tmp_path / "report.json").read_text())["counts"]
    assert counts["mate_places_cleared"] == 1


# --- the coordinate order a moved read keeps: a bounded hold ------------------------------


def reverted_lines(
    folder: Path, blocks: list[str], contigs: dict[str, int], variants: str | None, sorted_header: bool = True, one_by_one: bool = False
) -> list[bytes]:
    """``blocks`` of records (each whole lines) reverted in process against ``folder/ref.fa`` with
    ``folder/<variants>`` (None: ``--all``), after a header that says SO:coordinate or not; the
    records written, in order."""
    report = Report(COMMAND)
    sites = GermlineSites(str(folder / variants), report) if variants is not None else None
    setup = RevertSetup(Fasta(str(folder / "ref.fa")), sites, None, RevertOptions(), "-", report, one_by_one=one_by_one)
    header = ("@HD\tVN:1.6\tSO:coordinate\n" if sorted_header else "@HD\tVN:1.6\n") + "".join(
        f"@SQ\tSN:{name}\tLN:{length}\n" for name, length in contigs.items()
    )
    output = b"".join(revert_stream([(header + blocks[0]).encode(), *(block.encode() for block in blocks[1:])], setup))
    return [line for line in output.splitlines() if not line.startswith(b"@")]


def coordinate_key(contigs: list[str]) -> Callable[[bytes], tuple[int, int, int]]:
    """samtools sort's order: contig, POS, then forward before reverse (FLAG 0x10)."""

    def key(line: bytes) -> tuple[int, int, int]:
        fields = line.split(b"\t", 4)
        return contigs.index(fields[2].decode()), int(fields[3]), (int(fields[1]) >> 4) & 1

    return key


def clipped_reads_around_sites(rng: random.Random, folder: Path) -> tuple[dict[str, int], str, list[str]]:
    """Two random contigs (``ref.fa``), germline deletions, insertions and SNVs at random places of
    both (``sites.vcf``), and reads around them sorted by coordinate (forward before reverse at
    a POS, as samtools sort leaves them), many left-clipped where a
    carrier's read is (at a deletion's far edge, a few bases either side), some right-clipped
    or hard-clipped, some far from any site."""
    contigs = {"chr1": 6000, "chr2": 3000}
    bases = {name: "".join(rng.choice("ACGT") for _ in range(length)) for name, length in contigs.items()}
    (folder / "ref.fa").write_text("".join(f">{name}\n{sequence}\n" for name, sequence in bases.items()))
    pysam.faidx(str(folder / "ref.fa"))
    vcf = ["##fileformat=VCFv4.2", *(f"##contig=<ID={name},length={length}>" for name, length in contigs.items())]
    vcf.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO")
    edges: list[tuple[str, int]] = []
    for name, length in contigs.items():
        for position in sorted(rng.sample(range(300, length - 300, 50), rng.randint(1, 4))):
            sequence = bases[name]
            kind = rng.choice(["deletion", "insertion", "snv"])
            if kind == "deletion":
                size = rng.choice([1, 5, 30, 300])
                ref, alt = sequence[position - 1 : position + size], sequence[position - 1]
            elif kind == "insertion":
                ref, alt = sequence[position - 1], sequence[position - 1] + "".join(rng.choice("ACGT") for _ in range(rng.randint(1, 20)))
            else:
                ref = sequence[position - 1]
                alt = "C" if ref != "C" else "A"
            vcf.append(f"{name}\t{position}\t.\t{ref}\t{alt}\t50\tPASS\t.")
            edges.append((name, position + len(ref)))
    (folder / "sites.vcf").write_text("\n".join(vcf) + "\n")
    reads: list[tuple[int, int, int, str]] = []
    for number in range(rng.randint(50, 250)):
        if rng.random() < 0.7:
            name, edge = rng.choice(edges)
            position = edge + rng.choice([rng.randint(-8, 12), rng.randint(-8, 400)])
        else:
            name = rng.choice(list(contigs))
            position = rng.randint(1, contigs[name] - 500)
        length = rng.choice([100, 100, 400])  # a long read's long clip reaches a window far before it
        clip = rng.randint(1, length - 20)
        left, right = f"{clip}S{length - clip}M", f"{length - clip}M{clip}S"
        cigar = rng.choice([left, left, f"{clip}H{length}M", f"{length}M", right])
        start = max(0, position - 1 - (clip if cigar.startswith(f"{clip}S") else 0))
        sequence = bases[name][start : start + length].ljust(length, "A")
        flag = rng.choice([0, 16])
        line = f"r{number}\t{flag}\t{name}\t{position}\t60\t{cigar}\t*\t0\t0\t{sequence}\t{'F' * length}"
        reads.append((list(contigs).index(name), position, flag, line))
    reads.sort(key=lambda read: (read[0], read[1], read[2]))
    return contigs, "sites.vcf", [line for _, _, _, line in reads]


def cut_into_blocks(rng: random.Random, lines: list[str]) -> list[str]:
    cuts = sorted(rng.sample(range(1, len(lines)), min(len(lines) - 1, rng.randint(0, 12))))
    return ["".join(line + "\n" for line in lines[start:end]) for start, end in zip([0, *cuts], [*cuts, len(lines)], strict=True)]


@pytest.mark.slow  # a long sweep of the bulk path against the one-record path: make test-slow (CI runs it after make test)
@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), revert_all=st.booleans(), one_by_one=st.booleans())
def test_moved_reads_leave_a_sorted_output_the_stable_sort_of_their_unheld_order(seed: int, revert_all: bool, one_by_one: bool) -> None:
    """Random reads clipped around random germline sites of two contigs, cut into random blocks:
    with SO:coordinate the output is sorted by coordinate and holds the records, in the order, of
    the output without the hold (a header without SO:coordinate: every record where it was) put
    through a stable sort by contig, POS and strand, as samtools sort orders them (a moved forward
    read after a reverse one at its POS would mark it); the same on both paths, with ``-v`` and
    with ``--all``."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        contigs, variants, lines = clipped_reads_around_sites(rng, folder)
        blocks = cut_into_blocks(rng, lines)
        sites = None if revert_all else variants
        held = reverted_lines(folder, blocks, contigs, sites, one_by_one=one_by_one)
        unheld = reverted_lines(folder, blocks, contigs, sites, sorted_header=False, one_by_one=one_by_one)
    key = coordinate_key(list(contigs))
    assert held == sorted(unheld, key=key)
    assert [key(line) for line in held] == sorted(key(line) for line in held)


def carrier_pileup(tmp_path: Path, depth: int, carriers: int) -> list[str]:
    """The carrier's and the non-carrier's fragments of :func:`deletion_carrier_and_non_carrier`
    piled up: ``depth`` reads ``150M`` at 1001 (the deletion's far edge) of which ``carriers``
    are a carrier's ``3S147M`` (they move to 988), between reads of every POS from 900 to 2900,
    sorted by coordinate (``ref.fa``, ``del.vcf`` in ``tmp_path``)."""
    contig, _, _ = deletion_carrier_and_non_carrier(tmp_path)
    quality = "F" * 150
    lines = [f"b{start}\t0\tchr1\t{start}\t60\t150M\t*\t0\t0\t{contig[start - 1 : start + 149]}\t{quality}" for start in range(900, 1001)]
    every = depth // carriers if carriers else depth + 1
    for number in range(depth):
        if number % every == every - 1:
            lines.append(f"c{number}\t0\tchr1\t1001\t60\t3S147M\t*\t0\t0\t{contig[987:990] + contig[1000:1147]}\t{quality}")
        else:
            lines.append(f"p{number}\t16\tchr1\t1001\t60\t150M\t*\t0\t0\t{contig[1000:1150]}\t{quality}")
    lines += [f"a{start}\t0\tchr1\t{start}\t60\t150M\t*\t0\t0\t{contig[start - 1 : start + 149]}\t{quality}" for start in range(1002, 2851)]
    return lines


@pytest.mark.parametrize("one_by_one", [False, True])
def test_a_pileup_past_the_hold_limit_waits_in_a_file_that_is_gone_after_and_gives_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, one_by_one: bool
) -> None:
    """A pileup of 600 reads at a 10-base deletion's far edge, 12 of them a carrier's ``3S147M``
    that move 13 bases left, held to keep the output sorted: past a hold limit lowered to 8 kB
    the reads that did not move wait in a temporary file, read back 1 kB at a time; the output
    is the same bytes as with the default limit, sorted (samtools indexes it), the file closed
    after and nothing left in the temporary folder."""
    lines = carrier_pileup(tmp_path, 600, 12)
    blocks = cut_into_blocks(random.Random(5), lines)
    contigs = {"chr1": 3000}
    expected = reverted_lines(tmp_path, blocks, contigs, "del.vcf", one_by_one=one_by_one)
    files: list[IO[bytes]] = []
    unnamed = tempfile.TemporaryFile

    def watched(*args: Any, **kwargs: Any) -> IO[bytes]:
        files.append(unnamed(*args, **kwargs))
        return files[-1]

    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    monkeypatch.setattr(tempfile, "TemporaryFile", watched)
    monkeypatch.setattr(block_reverter, "HOLD_LIMIT", 8192)
    monkeypatch.setattr(block_reverter, "SPILL_READ", 1024)
    assert reverted_lines(tmp_path, blocks, contigs, "del.vcf", one_by_one=one_by_one) == expected
    assert len(files) == 1 and files[0].closed and not list((tmp_path / "tmp").iterdir())
    assert sum(line.startswith(b"c") and b"\t988\t60\t150M\t" in line for line in expected) == 12
    (tmp_path / "out.sam").write_bytes(b"@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:3000\n" + b"".join(line + b"\n" for line in expected))
    pysam.view("-b", "-o", str(tmp_path / "out.bam"), str(tmp_path / "out.sam"), catch_stdout=False)
    pysam.index(str(tmp_path / "out.bam"))


def test_moved_reads_past_the_hold_limit_end_the_run_naming_the_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Moved reads wait in memory: past the hold limit (lowered to 1 kB, three carriers' reads of
    about 330 bytes) the run ends with one line naming the record's line and no read."""
    lines = carrier_pileup(tmp_path, 40, 10)
    monkeypatch.setattr(block_reverter, "HOLD_LIMIT", 1024)
    with pytest.raises(InputError) as raised:
        reverted_lines(tmp_path, ["".join(line + "\n" for line in lines)], {"chr1": 3000}, "del.vcf")
    fourth = [index for index, line in enumerate(lines) if line.startswith("c")][3]
    assert raised.value.line == fourth + 3  # after the header's two lines
    assert "1024 bytes" in raised.value.message and "\t" not in raised.value.message and "c" + str(fourth) not in raised.value.message


def test_records_no_move_can_land_before_go_out_at_once(tmp_path: Path) -> None:
    """Fed one block at a time, the reverter gives out a record as soon as no later record can
    land before it once moved: here the only window is the deletion's (991-1000), so past
    ``MAX_SHIFT`` and ``CLIP_MARGIN`` bases after it every record read is out before the next
    block is read; a record within ``MAX_SHIFT`` bases of it waits."""
    lines = carrier_pileup(tmp_path, 20, 2)
    written: list[bytes] = []
    seen: dict[int, bytes] = {}

    def blocks() -> Iterator[bytes]:
        yield ("@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:3000\n" + "".join(line + "\n" for line in lines[:10])).encode()
        for index in range(10, len(lines), 10):
            seen[index] = b"".join(written)
            yield "".join(line + "\n" for line in lines[index : index + 10]).encode()

    report = Report(COMMAND)
    sites = GermlineSites(str(tmp_path / "del.vcf"), report)
    setup = RevertSetup(Fasta(str(tmp_path / "ref.fa")), sites, None, RevertOptions(), "-", report)
    for piece in revert_stream(blocks(), setup):
        written.append(piece)
    final = [int(line.split(b"\t")[3]) for line in b"".join(written).splitlines() if not line.startswith(b"@")]
    assert final == sorted(final) and final.count(988) == 2 + 1  # the carriers and the read at 988
    for index, text in seen.items():
        out = [int(line.split(b"\t")[3]) for line in text.splitlines() if not line.startswith(b"@")]
        last_read = int(lines[index - 1].split("\t")[3])
        if last_read > 1100 + MAX_SHIFT + CLIP_MARGIN:  # no window a later read's clip can reach
            assert len(out) == index
        elif last_read < 1990:  # a later read may move up to MAX_SHIFT bases before it, no further
            assert out == [position for position in final if position < last_read - MAX_SHIFT]


@pytest.mark.parametrize("one_by_one", [False, True])
def test_input_found_not_sorted_is_held_no_more(tmp_path: Path, one_by_one: bool) -> None:
    """A header that says SO:coordinate over records that are not (a block whose first record
    sorts before the last one read, as a file written twice in a row): the held records go out
    in order when the block comes, and from then on every record stays where it was, moved or
    not, as with a header without SO:coordinate (nothing to keep sorted, nothing held)."""
    lines = carrier_pileup(tmp_path, 20, 4)
    blocks = cut_into_blocks(random.Random(8), lines)
    contigs = {"chr1": 3000}
    held = reverted_lines(tmp_path, blocks + blocks, contigs, "del.vcf", one_by_one=one_by_one)
    unheld = reverted_lines(tmp_path, blocks + blocks, contigs, "del.vcf", sorted_header=False, one_by_one=one_by_one)
    first = len(held) // 2
    assert held[:first] == sorted(unheld[:first], key=coordinate_key(["chr1"])) != unheld[:first]
    assert held[first:] == unheld[first:]
