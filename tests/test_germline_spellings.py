"""sam-revert-germline against every spelling of a germline allele, checked without reading CIGARs.

Hypothesis draws a reference with a tandem repeat, a germline site in or beside
it (SNV, MNP, insertion, deletion, complex, symbolic deletion) and reads taken
from the ALT haplotype, spelled the ways aligners spell them (tests/spelling.py:
gaps shifted left or right in the repeat, ``1I1D`` and ``1D1I``, mismatches
near an end where a gap bar forbids a gap, soft clips, ``=``/``X``), plus split
reads with ``SA``, secondary copies placed elsewhere and a deletion written as
a skip. After the command:

- no read sequence holds a k-mer of the ALT haplotype that the reference lacks
  (on either strand) — the check never looks at a CIGAR;
- the output is valid: samtools reads it back as BAM, ``samtools calmd`` finds
  the same MD and NM, every ``MC`` equals its mate's CIGAR, and a record that
  says it is paired has its mate in the output;
- the bulk paths and the one-record path (``GENOSCRUB_ONE_BY_ONE``) give the
  same bytes and counts, and a second run changes no record.
"""

from __future__ import annotations

import functools
import os
import random
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pysam
import pytest
from genoscrub.fasta import ContigReference, Fasta
from genoscrub.germline_sites import GermlineSites, indel_window, left_aligned
from genoscrub.record_reverter import RevertOptions
from genoscrub.report import Report
from genoscrub.revert import ClipRule, Reverted, revert_alignment
from genoscrub.sam_revert_germline import RevertSetup, revert_stream
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from tests.spelling import Scoring, align, cigar_text, match_mismatch

BASES = "ACGT"
COMPLEMENT = str.maketrans("ACGTN", "TGCAN")
CONTIG_LENGTH = 600
READ_LENGTH = 48
K_SIZES = (12, 16, 24, 32, 40)


@dataclass(frozen=True)
class Site:
    """One germline record, 0-based: ``reference[start:start + len(ref)]`` is REF."""

    start: int
    ref: str
    alt: str
    info: str = "."

    def haplotype(self, reference: str) -> str:
        if self.alt.startswith("<"):
            end = int(self.info.split("END=")[1].split(";")[0])
            return reference[: self.start + 1] + reference[end:]
        return reference[: self.start] + self.alt + reference[self.start + len(self.ref) :]

    def vcf_line(self) -> str:
        return f"chr1\t{self.start + 1}\t.\t{self.ref}\t{self.alt}\t50\tPASS\t{self.info}"


def random_bases(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(BASES) for _ in range(count))


def other_base(rng: random.Random, base: str) -> str:
    return rng.choice([b for b in BASES if b != base])


@st.composite
def genomes(draw: st.DrawFn) -> tuple[str, Site, int]:
    """A reference, a germline site and where its repeat starts."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    unit = draw(st.sampled_from(["A", "CA", "AGC", "ATCT"]))
    copies = draw(st.integers(2, 8))
    repeat_start = 250
    reference = random_bases(rng, repeat_start) + unit * copies + random_bases(rng, CONTIG_LENGTH - repeat_start - len(unit) * copies)
    repeat_end = repeat_start + len(unit) * copies
    kind = draw(st.sampled_from(["snv", "mnp", "insertion", "deletion", "complex", "symbolic"]))
    where = draw(st.sampled_from(["repeat start", "repeat end", "outside"]))
    anchor = {"repeat start": repeat_start - 1, "repeat end": repeat_end - 1, "outside": 200}[where]
    if kind == "snv":
        position = anchor + 1
        site = Site(position, reference[position], other_base(rng, reference[position]))
    elif kind == "mnp":
        position, size = anchor + 1, draw(st.integers(2, 3))
        bases = reference[position : position + size]
        site = Site(position, bases, "".join(other_base(rng, base) for base in bases))
    elif kind == "insertion":
        inserted = unit * draw(st.integers(1, 2)) if where != "outside" else random_bases(rng, draw(st.integers(1, 6)))
        if where == "repeat end":
            anchor = repeat_start - 1  # left-normalised, as callers write it
        site = Site(anchor, reference[anchor], reference[anchor] + inserted)
    elif kind == "deletion":
        size = len(unit) * draw(st.integers(1, 2)) if where != "outside" else draw(st.integers(1, 6))
        if where == "repeat end":
            anchor = repeat_start - 1
        size = min(size, repeat_end - anchor - 1) if where != "outside" else size
        site = Site(anchor, reference[anchor : anchor + 1 + size], reference[anchor])
    elif kind == "complex":  # delete a unit at the repeat's end and change the base after it
        position = repeat_end - len(unit) if where != "outside" else 200
        deleted = reference[position : position + len(unit) + 1]
        site = Site(position, deleted, other_base(rng, deleted[-1]))
    else:
        size = draw(st.integers(3, 30))
        end = anchor + 1 + size
        site = Site(anchor, reference[anchor], "<DEL>", f"SVTYPE=DEL;END={end};SVLEN=-{size}")
    return reference, site, repeat_start


@dataclass
class Record:
    name: str
    flag: int
    position: int
    cigar: str
    sequence: str
    tags: list[str]

    def line(self, mate: Record | None) -> str:
        rnext, pnext = ("=", str(mate.position + 1)) if mate is not None else ("*", "0")
        quality = "".join(chr(33 + 20 + (i * 7) % 20) for i in range(len(self.sequence))) if self.sequence != "*" else "*"
        fields = [self.name, str(self.flag), "chr1", str(self.position + 1), "60", self.cigar, rnext, pnext, "0", self.sequence, quality]
        mate_cigar = [f"MC:Z:{mate.cigar}"] if mate is not None else []
        return "\t".join(fields + self.tags + mate_cigar + ["RG:Z:L1"])


@st.composite
def read_sets(draw: st.DrawFn) -> tuple[str, Site, list[str]]:
    """The genome, the site and SAM lines: pairs of reads from the ALT haplotype, spelled by
    aligners of drawn scores, and the split, secondary and spliced records aligners also write."""
    reference, site, _ = draw(genomes())
    haplotype = site.haplotype(reference)
    lines: list[str] = []
    pairs = draw(st.integers(2, 5))
    for number in range(pairs):
        spelled: list[Record] = []
        for which in (0x40, 0x80):
            offset = draw(st.integers(-READ_LENGTH + 4, 8))
            start = max(0, min(len(haplotype) - READ_LENGTH, site.start + offset))
            read = haplotype[start : start + READ_LENGTH]
            scoring = Scoring(
                mismatch=draw(st.integers(1, 20)),
                gap_open=draw(st.integers(1, 8)),
                gap_extend=draw(st.integers(1, 3)),
                gap_bar=draw(st.sampled_from([0, 0, 4])),
                clip=draw(st.sampled_from([None, None, 2, 6])),
                gaps_right=draw(st.booleans()),
            )
            window_start = max(0, start - 12)
            position, operations = align(read, reference[window_start : start + READ_LENGTH + 40], scoring)
            position += window_start
            if not any(op == "M" for op, _ in operations):
                continue
            if draw(st.booleans()):
                operations = match_mismatch(operations, read, reference, position)
            spelled.append(Record(f"p{number}", 0x1 | which, position, cigar_text(operations), read, []))
        if len(spelled) == 2:
            first, second = spelled
            lines += [first.line(second), second.line(first)]
        else:
            for record in spelled:
                record.flag &= ~0xC1
                lines.append(record.line(None))
    lines += draw(extra_records(reference, site, haplotype))
    return reference, site, lines


@st.composite
def extra_records(draw: st.DrawFn, reference: str, site: Site, haplotype: str) -> list[str]:
    """A split read (primary with a clip + supplementary, SA both ways), a secondary copy placed
    elsewhere with its full SEQ, and for a deletion the read that writes it as a skip."""
    lines: list[str] = []
    start = max(0, site.start - READ_LENGTH // 2)
    read = haplotype[start : start + READ_LENGTH]
    cut = site.start - start
    if 8 <= cut <= READ_LENGTH - 8:
        rest = read[cut:]
        rest_position, rest_operations = align(rest, reference[site.start - 10 : site.start + READ_LENGTH + 40], Scoring(clip=None))
        rest_position += site.start - 10
        primary = f"{cut}M{len(rest)}S"
        supplementary = f"{cut}H{cigar_text(rest_operations)}"
        lines.append(Record("split", 0, start, primary, read, [f"SA:Z:chr1,{rest_position + 1},+,{supplementary},60,0;"]).line(None))
        lines.append(Record("split", 0x800, rest_position, supplementary, rest, [f"SA:Z:chr1,{start + 1},+,{primary},60,0;"]).line(None))
    if draw(st.booleans()):
        lines.append(Record("secondary", 0x100, 500 - READ_LENGTH, f"{READ_LENGTH}M", read, []).line(None))
    deleted = len(site.ref) - len(site.alt) if not site.alt.startswith("<") else int(site.info.split("SVLEN=-")[1])
    if deleted > 0 and 8 <= cut <= READ_LENGTH - 8:
        left = site.start + 1 - start
        spliced = Record("spliced", 0x1 | 0x40, start, f"{left}M{deleted}N{READ_LENGTH - left}M", read, [])
        mate = Record("spliced", 0x1 | 0x80, start + 100, "30M", reference[start + 100 : start + 130], [])
        lines += [spliced.line(mate), mate.line(spliced)]
    return lines


def kmers(text: str, size: int) -> set[str]:
    return {text[i : i + size] for i in range(len(text) - size + 1)}


@functools.lru_cache(maxsize=16)
def allele_kmers(reference: str, haplotype: str, size: int) -> frozenset[str]:
    """The ALT haplotype's k-mers the reference lacks on either strand (the same for every read of a site)."""
    known = kmers(reference, size) | kmers(reference.translate(COMPLEMENT)[::-1], size)
    return frozenset(kmers(haplotype, size) - known)


def leaked_kmers(reference: str, haplotype: str, sequences: list[str]) -> list[str]:
    """ALT-haplotype k-mers the reference lacks (either strand) found in any read sequence."""
    found = []
    for size in K_SIZES:
        specific = allele_kmers(reference, haplotype, size)
        for sequence in sequences:
            found += sorted(kmers(sequence, size) & specific)
    return found


def write_inputs(folder: Path, reference: str, site: Site) -> tuple[Path, Path]:
    fasta = folder / "ref.fa"
    fasta.write_text(">chr1\n" + "\n".join(reference[i : i + 60] for i in range(0, len(reference), 60)) + "\n")
    pysam.faidx(str(fasta))
    vcf = folder / "germline.vcf"
    vcf.write_text(
        f"##fileformat=VCFv4.2\n##contig=<ID=chr1,length={len(reference)}>\n"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + site.vcf_line() + "\n"
    )
    return fasta, vcf


def revert(sam: str, fasta: Path, vcf: Path | None, options: RevertOptions, one_by_one: bool) -> tuple[bytes, dict[str, int]]:
    report = Report("sam-revert-germline")
    sites = GermlineSites(str(vcf), report) if vcf is not None else None
    setup = RevertSetup(Fasta(str(fasta)), sites, None, options, "in.sam", report, one_by_one=one_by_one)
    return b"".join(revert_stream([sam.encode()], setup)), dict(report.counts)


def records(text: bytes) -> list[list[str]]:
    return [line.split("\t") for line in text.decode().splitlines() if line and not line.startswith("@")]


def check_valid(output: bytes, fasta: Path, folder: Path) -> None:
    """samtools reads it as BAM, calmd agrees with MD/NM, MC equals the mate's CIGAR, no dangling mate."""
    (folder / "out.sam").write_bytes(output)
    subprocess.run(["samtools", "view", "-b", "-o", str(folder / "out.bam"), str(folder / "out.sam")], check=True, capture_output=True)
    subprocess.run(["samtools", "quickcheck", str(folder / "out.bam")], check=True)
    calmd = subprocess.run(["samtools", "calmd", str(folder / "out.bam"), str(fasta)], check=True, capture_output=True)
    for ours, theirs in zip(records(output), records(calmd.stdout), strict=True):
        for tag in ("MD", "NM"):
            mine = [field for field in ours[11:] if field.startswith(tag + ":")]
            if mine and ours[9] != "*":
                assert mine == [field for field in theirs[11:] if field.startswith(tag + ":")], (ours, theirs)
    primaries = {(fields[0], int(fields[1]) & 0xC0): fields for fields in records(output) if not int(fields[1]) & 0x900}
    for fields in records(output):
        flag = int(fields[1])
        if not flag & 1:
            assert fields[6:8] == ["*", "0"]
            continue
        mate = primaries.get((fields[0], 0xC0 - (flag & 0xC0)))
        assert mate is not None, "a record says it is paired, its mate is not in the output"
        mate_cigar = [field[5:] for field in fields[11:] if field.startswith("MC:Z:")]
        assert mate_cigar in ([], [mate[5]]), (fields, mate)


MNP_BESIDE_ITS_OWN_REPEAT = (
    # A read of the ALT haplotype that starts at an MNP whose ALT makes a ``CGCG`` run the
    # reference lacks, placed two bases right (the ALT ``CG`` on the reference's ``CG``) with a
    # mismatch and an insertion past the allele, where a gap bar pushed them.
    (
        "TTAGTTGTGCCGCAGCGAAGTAGTGCTTGAAATATGCGACCCCTAAGTAGGAGCGTATGCGCCCAGTAACCAATGCCTGTTGAGATGCCAGACGCGTAAC"
        "CAAAACATAGAAACCATCAATAGACAGGTCATAATCGGTCCACCGGATCATTGGTGCATAGAGCCTGGGCGTTAACGCCCTTTATTACTAGCTTAATGGT"
        "ATCACATTGACAAACACGGCATTAAGTAGCGACGAAACGGGATTTGCCTGAAAAAAAAACCGGGGAGAAGCCGGTCGATCAGCAGTGGTAATTGGATATT"
        "AGGCCTAAACCATAATGTTCTAGCGCTCGAAATCATTGCACCACTTGCATCTTTGTTCCAGGGACGCTGTAAAACCAGATGCCTGTAAATCGTTTCAACG"
        "GGATGGTTTACCCGGAATTCTACGTATTTAATCAACGAGCTTAATGAGCTGACATTGCTGAAATGACCATGACTTAATAATCATTTATGGAGAAGAGGCA"
        "CGACCACAAGGACCCTATGGCACGGTGGGCAAGCTCCCGCCCGGTACATAACTGTCTGGACTGATTATGTCGGTACAGACTTCTTCCTGCGTATCGATTA"
    ),
    Site(start=258, ref="AC", alt="CG"),
    [
        "p0\t65\tchr1\t260\t60\t1M1I46M\t=\t260\t0\tCGCGGGGAGAAGCCGGTCGATCAGCAGTGGTAATTGGATATTAGGCCT\t5<C6=D7>E8?F9@G:AH;B5<C6=D7>E8?F9@G:AH;B5<C6=D7>\tMC:Z:1M1I46M\tRG:Z:L1",
        "p0\t129\tchr1\t260\t60\t1M1I46M\t=\t260\t0\tCGCGGGGAGAAGCCGGTCGATCAGCAGTGGTAATTGGATATTAGGCCT\t5<C6=D7>E8?F9@G:AH;B5<C6=D7>E8?F9@G:AH;B5<C6=D7>\tMC:Z:1M1I46M\tRG:Z:L1",
        "p1\t65\tchr1\t260\t60\t1M1I46M\t=\t261\t0\tCGCGGGGAGAAGCCGGTCGATCAGCAGTGGTAATTGGATATTAGGCCT\t5<C6=D7>E8?F9@G:AH;B5<C6=D7>E8?F9@G:AH;B5<C6=D7>\tMC:Z:4M2I42M\tRG:Z:L1",
        "p1\t129\tchr1\t261\t60\t4M2I42M\t=\t260\t0\tCGCGGGGAGAAGCCGGTCGATCAGCAGTGGTAATTGGATATTAGGCCT\t5<C6=D7>E8?F9@G:AH;B5<C6=D7>E8?F9@G:AH;B5<C6=D7>\tMC:Z:1M1I46M\tRG:Z:L1",
        "split\t0\tchr1\t235\t60\t24M24S\t*\t0\t0\tAAACGGGATTTGCCTGAAAAAAAACGCGGGGAGAAGCCGGTCGATCAG\t5<C6=D7>E8?F9@G:AH;B5<C6=D7>E8?F9@G:AH;B5<C6=D7>\tSA:Z:chr1,260,+,24H1M1I22M,60,0;\tRG:Z:L1",
        "split\t2048\tchr1\t260\t60\t24H1M1I22M\t*\t0\t0\tCGCGGGGAGAAGCCGGTCGATCAG\t5<C6=D7>E8?F9@G:AH;B5<C6\tSA:Z:chr1,235,+,24M24S,60,0;\tRG:Z:L1",
    ],
)


@settings(
    max_examples=int(os.environ.get("SPELLING_EXAMPLES", "120")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],  # no explain phase: it traces every line
)
@given(read_sets(), st.sampled_from(["germline", "germline", "all"]), st.booleans())
@example(case=MNP_BESIDE_ITS_OWN_REPEAT, mode="germline", clips_off_sites=False)
def test_no_spelling_of_a_germline_allele_survives(case: tuple[str, Site, list[str]], mode: str, clips_off_sites: bool) -> None:
    reference, site, lines = case
    haplotype = site.haplotype(reference)
    sam = f"@HD\tVN:1.6\n@SQ\tSN:chr1\tLN:{len(reference)}\n@RG\tID:L1\tSM:S1\n" + "\n".join(lines) + "\n"
    options = RevertOptions(clips=ClipRule.NEAR_WINDOWS if clips_off_sites and mode == "germline" else ClipRule.DIFFERING)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        fasta, vcf = write_inputs(folder, reference, site)
        variants = vcf if mode == "germline" else None
        output, counts = revert(sam, fasta, variants, options, one_by_one=False)
        sequences = [fields[9] for fields in records(output) if fields[9] != "*"]
        assert not leaked_kmers(reference, haplotype, sequences), (site, leaked_kmers(reference, haplotype, sequences))
        check_valid(output, fasta, folder)
        assert revert(sam, fasta, variants, options, one_by_one=True) == (output, counts)
        again, _ = revert(output.decode(), fasta, variants, options, one_by_one=False)
        assert records(again) == records(output)


def shifted_read_sites(rng: random.Random) -> tuple[str, int, str, str]:
    """A reference with a tandem repeat and an allele at, just before or just past it:
    (reference, 0-based position, REF, ALT)."""
    unit = "".join(rng.choice(BASES) for _ in range(rng.randint(1, 6)))
    copies = rng.randint(2, 6)
    reference = "".join(rng.choice(BASES) for _ in range(120)) + unit * copies + "".join(rng.choice(BASES) for _ in range(160))
    repeat_start, repeat_end = 120, 120 + len(unit) * copies
    beside = [repeat_start - 2, repeat_start - 1, repeat_start, repeat_start + 1, repeat_end - 1, repeat_end, repeat_end + 1]
    position = rng.choice([*beside, rng.randint(repeat_start, repeat_end)])
    kind = rng.choice(["snv", "mnp", "mnp", "mnp", "insertion", "deletion", "complex"])  # MNPs most: the rarest to leak
    if kind == "snv":
        ref = reference[position]
        alt = rng.choice([base for base in BASES if base != ref])
    elif kind == "mnp":
        ref = reference[position : position + rng.randint(2, 3)]
        alt = "".join(rng.choice([base for base in BASES if base != old]) for old in ref)
    elif kind == "insertion":
        ref = reference[position]
        inserted = (unit * 2)[: rng.randint(1, 4)] if rng.random() < 0.5 else "".join(rng.choice(BASES) for _ in range(rng.randint(1, 4)))
        alt = ref + inserted
    elif kind == "deletion":
        ref = reference[position : position + 1 + rng.randint(1, 6)]
        alt = ref[0]
    else:
        length = rng.randint(1, 6)
        ref = reference[position : position + 1 + length]
        changed = rng.choice([base for base in BASES if base != reference[position + length]])
        alt = changed + ("" if rng.random() < 0.5 else rng.choice(BASES))
    return reference, position, ref, alt


def test_reads_that_begin_or_end_at_an_allele_placed_along_its_repeat_carry_nothing() -> None:
    """A seeded sweep where hypothesis rarely goes: reads of the ALT haplotype that begin or end
    within a few bases of an SNV, MNP, insertion, deletion or complex allele in or beside a repeat,
    aligned by the test aligner under random scorings (so placed along the repeat, gapped past the
    allele, clipped), then reverted with the allele's window: no ALT k-mer survives."""
    rng = random.Random(20261205)
    leaks = []
    for _ in range(int(os.environ.get("SHIFTED_READ_SITES", "300"))):
        reference, position, ref, alt = shifted_read_sites(rng)
        haplotype = reference[:position] + alt + reference[position + len(ref) :]
        window = indel_window(reference.encode(), 0, position, ref.encode(), alt.encode())
        for _ in range(6):
            start = position + rng.randint(-8, 4) if rng.random() < 0.5 else position + len(alt) - READ_LENGTH + rng.randint(-3, 8)
            start = max(0, min(len(haplotype) - READ_LENGTH, start))
            read = haplotype[start : start + READ_LENGTH]
            scoring = Scoring(mismatch=rng.randint(1, 20), gap_open=rng.randint(1, 8), gap_extend=rng.randint(1, 3),
                              gap_bar=rng.choice([0, 4, 4]), clip=rng.choice([None, None, 2, 6]),
                              gaps_right=rng.random() < 0.5)  # fmt: skip
            stretch = max(0, start - 12)
            offset, operations = align(read, reference[stretch : start + READ_LENGTH + 40], scoring)
            if not any(op == "M" for op, _ in operations):
                continue
            result = revert_alignment(stretch + offset, [(ord(op), length) for op, length in operations], read.encode(),
                                      b"I" * READ_LENGTH, reference.encode(), 0, [window], clips=ClipRule.DIFFERING)  # fmt: skip
            if isinstance(result, Reverted) and leaked_kmers(reference, haplotype, [result.sequence.decode()]):
                leaks.append((position, ref, alt, cigar_text(operations)))
    assert not leaks


def list_spellings(reference: str, site: Site) -> list[Site]:
    """Every way a germline list may write the site's allele, the reads unchanged: an insertion
    or deletion anchored at each base along its repeat where it makes the same haplotype, and
    each with one shared base more after it (``1982 CCC C`` for ``1981 TCC T``); a symbolic
    deletion with END, with SVLEN (negative as VCF 4.2 writes it, positive as 4.4 does) or
    both. Any other allele: only as written."""
    if site.alt.startswith("<"):
        end = int(site.info.split("END=")[1].split(";")[0])
        size = end - site.start - 1
        infos = (f"SVTYPE=DEL;END={end}", f"SVTYPE=DEL;SVLEN=-{size}", f"SVTYPE=DEL;SVLEN={size}", site.info)
        return [Site(site.start, site.ref, site.alt, info) for info in infos]
    if len(site.ref) == len(site.alt) or not (site.ref.startswith(site.alt) or site.alt.startswith(site.ref)):
        return [site]
    haplotype = site.haplotype(reference)
    size = abs(len(site.ref) - len(site.alt))
    spellings = []
    for anchor in range(max(0, site.start - 40), min(len(reference) - size - 2, site.start + 40)):
        if len(site.ref) > len(site.alt):
            candidate = Site(anchor, reference[anchor : anchor + 1 + size], reference[anchor])
        else:
            candidate = Site(anchor, reference[anchor], reference[anchor] + haplotype[anchor + 1 : anchor + 1 + size])
        if candidate.haplotype(reference) == haplotype:
            after = reference[anchor + len(candidate.ref)]
            spellings += [candidate, Site(anchor, candidate.ref + after, candidate.alt + after)]
    return spellings


@settings(
    max_examples=int(os.environ.get("SPELLING_EXAMPLES", "120")) // 2,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)
@given(read_sets())
def test_every_spelling_of_a_germline_list_record_gives_the_same_output(case: tuple[str, Site, list[str]]) -> None:
    """Same input, same answer: the list's record of one allele written at either end of its
    repeat, with a base more than it needs, or as ``<DEL>`` with END or SVLEN, gives the reads
    the same bytes and counts. (Windows were made from the record as written: a read's clip at
    616-617 went with ``600 A AGCGC`` and stayed with ``606 C CGCGC``; a carrier's left-clipped
    read moved to where non-carriers' reads start with END, and to where only carriers' do with
    SVLEN alone.)"""
    reference, site, lines = case
    sam = f"@HD\tVN:1.6\n@SQ\tSN:chr1\tLN:{len(reference)}\n@RG\tID:L1\tSM:S1\n" + "\n".join(lines) + "\n"
    outputs = set()
    with tempfile.TemporaryDirectory() as name:
        for spelled in list_spellings(reference, site):
            fasta, vcf = write_inputs(Path(name), reference, spelled)
            output, counts = revert(sam, fasta, vcf, RevertOptions(), one_by_one=False)
            outputs.add((output, tuple(sorted(counts.items()))))
    assert len(outputs) == 1, site


def test_left_aligned_gives_one_spelling_of_an_indel() -> None:
    """``germline_sites.left_aligned``: an indel carried to the start of its repeat and anchored
    on the base before (as ``bcftools norm`` writes it); SNVs, MNPs and complex alleles as written."""
    reference = "TTTTTTTTTA" + "GCGCGC" + "TACCCGATTTTTTTTT"  # (GC)3 at 0-based 10-15, CCC at 18-20
    with tempfile.TemporaryDirectory() as name:
        fasta = Path(name) / "ref.fa"
        fasta.write_text(">chr1\n" + reference + "\n")
        pysam.faidx(str(fasta))
        bases = ContigReference(Fasta(str(fasta)), {"chr1": "chr1"})
        assert left_aligned(bases, "chr1", 15, b"C", b"CGCGC") == (9, b"A", b"AGCGC")  # from the repeat's far end
        assert left_aligned(bases, "chr1", 9, b"A", b"AGCGC") == (9, b"A", b"AGCGC")  # already leftmost
        assert left_aligned(bases, "chr1", 13, b"CGC", b"C") == (9, b"AGC", b"A")  # a deletion of GC
        assert left_aligned(bases, "chr1", 18, b"CCC", b"C") == (17, b"ACC", b"A")  # a base more than it needs
        assert left_aligned(bases, "chr1", 18, b"c", b"ca") == (18, b"C", b"CA")  # nothing to carry: in upper case
        assert left_aligned(bases, "chr1", 12, b"G", b"T") == (12, b"G", b"T")
        assert left_aligned(bases, "chr1", 12, b"GC", b"TA") == (12, b"GC", b"TA")
        assert left_aligned(bases, "chr1", 12, b"GCG", b"T") == (12, b"GCG", b"T")
        assert left_aligned(bases, "chr1", 3, b"TT", b"T") == (3, b"TT", b"T")  # carried to the contig's start: no anchor


@dataclass(frozen=True)
class Junction:
    """Where a carrier's reads across a structural variant's junction are clipped: on ``contig``,
    the aligned part ending at ``at`` (0-based, exclusive: ``side`` R, the clip after it) or
    starting there (L, the clip before it), the clip's bases the other side's ``partner`` (after
    the junction for R, before it for L), the aligner having run ``past`` bases on beyond the
    junction on bases that happened to match."""

    contig: str
    at: int
    side: str
    partner: str
    past: int = 0


def structural_cases(seed: int) -> tuple[dict[str, str], list[tuple[str, str, list[Junction]]]]:
    """Two contigs and structural germline records (a VCF line each, or a missing mate) with the
    junctions their carriers' reads show: a precise ``<DEL>``, one IMPRECISE with CIPOS/CIEND
    and one without (its true breakpoints 200 bases from POS and END), ``<DEL>`` whose END and
    SVLEN disagree, ``<DUP>`` and ``<INV>`` with reads aligned on past the breakpoint, a breakend
    pair, a breakend whose mate record is missing, a one-record breakend to another contig
    (CHR2/POS2, Delly's), an ``<INS>`` and a single breakend."""
    rng = random.Random(seed)
    one, two = list(random_bases(rng, 38000)), random_bases(rng, 3000)
    one[17100:17102] = one[17000:17002]  # the <DUP>'s junction reads run 2 bases past END...
    one[16998:17000] = one[17098:17100]  # ...and 2 before its start
    chr1 = "".join(one)
    inserted = random_bases(rng, 60)
    inverted = chr1[20000:20200].translate(COMPLEMENT)[::-1]
    bases = {"chr1": chr1, "chr2": two}

    def deletion(first: int, last: int, past: int = 0) -> list[Junction]:  # bases [first, last) gone
        return [Junction("chr1", first, "R", chr1[last:], past), Junction("chr1", last, "L", chr1[:first], past)]

    cases = [
        ("<DEL>", f"chr1\t2000\t.\t{chr1[1999]}\t<DEL>\t50\tPASS\tSVTYPE=DEL;END=2400;SVLEN=-400", deletion(2000, 2400)),
        ("IMPRECISE <DEL>, CIPOS/CIEND", f"chr1\t5099\t.\t{chr1[5098]}\t<DEL>\t50\tPASS\tIMPRECISE;SVTYPE=DEL;END=5300;SVLEN=-201;"
         "CIPOS=-150,150;CIEND=-150,150", deletion(5000, 5400)),
        ("IMPRECISE <DEL>, no interval", f"chr1\t8200\t.\t{chr1[8199]}\t<DEL>\t50\tPASS\tIMPRECISE;SVTYPE=DEL;END=8500",
         deletion(8000, 8300)),
        ("<DEL>, END at POS", f"chr1\t11000\t.\t{chr1[10999]}\t<DEL>\t50\tPASS\tSVTYPE=DEL;END=11000;SVLEN=-400", deletion(11000, 11400)),
        ("<DEL>, END short of SVLEN", f"chr1\t14000\t.\t{chr1[13999]}\t<DEL>\t50\tPASS\tSVTYPE=DEL;END=14100;SVLEN=-400",
         deletion(14000, 14400)),
        ("<DUP>", f"chr1\t17000\t.\t{chr1[16999]}\t<DUP>\t50\tPASS\tSVTYPE=DUP;END=17100;SVLEN=100",
         [Junction("chr1", 17100, "R", chr1[17000:], 2), Junction("chr1", 17000, "L", chr1[:17100], 2)]),
        ("<INV>", f"chr1\t20000\t.\t{chr1[19999]}\t<INV>\t50\tPASS\tSVTYPE=INV;END=20200",
         [Junction("chr1", 20000, "R", inverted + chr1[20200:]), Junction("chr1", 20200, "L", chr1[:20000] + inverted),
          Junction("chr1", 20000, "L", chr1[19800:20000].translate(COMPLEMENT)[::-1], 1),
          Junction("chr1", 20200, "R", chr1[20200:20400].translate(COMPLEMENT)[::-1])]),
        ("breakend pair", f"chr1\t23000\tb1\t{chr1[22999]}\t{chr1[22999]}[chr1:23501[\t50\tPASS\tSVTYPE=BND;MATEID=b2\n"
         f"chr1\t23501\tb2\t{chr1[23500]}\t]chr1:23000]{chr1[23500]}\t50\tPASS\tSVTYPE=BND;MATEID=b1", deletion(23000, 23500, 1)),
        ("breakend, mate missing", f"chr1\t26000\tb3\t{chr1[25999]}\t{chr1[25999]}[chr1:26801[\t50\tPASS\tSVTYPE=BND;MATEID=b4",
         deletion(26000, 26800)),
        ("one-record breakend", f"chr1\t29000\t.\t{chr1[28999]}\t{chr1[28999]}[chr2:1001[\t50\tPASS\tSVTYPE=BND;CHR2=chr2;POS2=1001",
         [Junction("chr1", 29000, "R", two[1000:], 1), Junction("chr2", 1000, "L", chr1[:29000])]),
        ("<INS>", f"chr1\t32000\t.\t{chr1[31999]}\t<INS>\t50\tPASS\tSVTYPE=INS;SVLEN=60",
         [Junction("chr1", 32000, "R", inserted + chr1[32000:]), Junction("chr1", 32000, "L", chr1[:32000] + inserted)]),
        ("single breakend", f"chr1\t35000\t.\t{chr1[34999]}\t{chr1[34999]}.\t50\tPASS\tSVTYPE=BND",
         [Junction("chr1", 35000, "R", random_bases(rng, 200))]),
    ]
    return bases, cases


def junction_reads(bases: dict[str, str], junctions: list[Junction], name: str) -> tuple[list[str], list[str]]:
    """Carrier reads clipped at each junction (20 to 80 aligned bases, both strands) and a
    non-carrier's reads of the reference at the same places."""
    carrier, other = [], []
    for index, junction in enumerate(junctions):
        reference, at, past = bases[junction.contig], junction.at, junction.past
        for aligned in range(20, 81, 10):
            clipped = READ_LENGTH * 2 - aligned
            if junction.side == "R":
                start, cigar = at - aligned, f"{aligned + past}M{clipped - past}S"
                sequence = reference[start : at + past] + junction.partner[past:clipped]
            else:
                start, cigar = at - past, f"{clipped - past}S{aligned + past}M"
                before = len(junction.partner)
                sequence = junction.partner[before - clipped : before - past] + reference[at - past : at + aligned]
            plain, qualities = reference[start : start + len(sequence)], "I" * len(sequence)
            for flag in (0, 16):
                read = f"{name}.{index}.{aligned}.{flag}\t{flag}\t{junction.contig}\t{start + 1}\t60"
                carrier.append(f"{read}\t{cigar}\t*\t0\t0\t{sequence}\t{qualities}")
                other.append(f"{read}\t{len(sequence)}M\t*\t0\t0\t{plain}\t{qualities}")
    return carrier, other


def clip_findings(bam: Path, folder: Path) -> tuple[int, int]:
    """genoscrub-audit --germline's clip findings on ``bam`` (in one process), and all its germline findings."""
    from genoscrub import audit_bam
    from genoscrub.audit_bam import BamAudit, CountedBlocks, RecordChecks, bgzf_blocks, read_header
    from genoscrub.audit_findings import Findings
    from genoscrub.audit_sites import GermlineSites as AuditSites
    from genoscrub.audit_sites import Reference, read_variants

    variants = read_variants(str(folder / "germline.vcf"), "germline list")
    with open(bam, "rb") as stream:
        blocks = CountedBlocks(bgzf_blocks(stream, str(bam)))
        header, rest = read_header(blocks, str(bam))
        names = {name: length for name, length in header.references}
        sites = AuditSites(variants, "germline", names, Reference(str(folder / "ref.fa")))
        findings = Findings()
        BamAudit(RecordChecks(str(bam), list(names), germline=sites), findings, 1).run(blocks, rest)
    found = findings.as_dict()["germline"].get("by_key", {})
    return int(found.get(audit_bam.CLIP_AT_SITE, 0)), sum(found.values())


def test_reads_across_a_structural_variants_junction_are_alike_once_reverted(tmp_path: Path) -> None:
    """A carrier's reads across an SV's junction are clipped there (every clip edge on one base,
    what Manta and DELLY genotype from), a non-carrier's are not. Every breakpoint of every kind
    of structural record is windowed (its POS, END and SVLEN's end where they disagree, a
    breakend's mate's place whether or not its record is there, CIPOS/CIEND, IMPRECISE without
    them, reads aligned a base or two past it): once reverted, the carrier's reads are the
    reference's, as the non-carrier's are; genoscrub-audit --germline fails each SV's raw reads
    and passes the reverted ones, and both draw the same breakpoints."""
    from genoscrub.audit_sites import structural_breakpoints
    from genoscrub.germline_sites import breakpoint_windows

    bases, cases = structural_cases(11)
    fasta = tmp_path / "ref.fa"
    fasta.write_text("".join(f">{name}\n{text}\n" for name, text in bases.items()))
    pysam.faidx(str(fasta))
    lines = [line for _, record, _ in cases for line in record.split("\n")]
    (tmp_path / "germline.vcf").write_text(
        "##fileformat=VCFv4.2\n" + "".join(f"##contig=<ID={name},length={len(text)}>\n" for name, text in bases.items())
        + "".join(f"##INFO=<ID={key},Number={number},Type={kind},Description=\"{key}\">\n" for key, number, kind in (
            ("SVTYPE", 1, "String"), ("END", 1, "Integer"), ("SVLEN", ".", "Integer"), ("IMPRECISE", 0, "Flag"), ("CIPOS", 2, "Integer"),
            ("CIEND", 2, "Integer"), ("MATEID", ".", "String"), ("CHR2", 1, "String"), ("POS2", 1, "Integer")))
        + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + "\n".join(lines) + "\n"
    )
    for line in lines:  # the reverter's windows and the audit's reach agree, breakpoint by breakpoint
        chrom, pos, _, _, alt, _, _, info = line.split("\t")
        ours = breakpoint_windows(chrom.encode(), int(pos) - 1, alt.encode().split(b","), info.encode())
        assert [(contig.decode(), start, end) for contig, start, end in ours] == structural_breakpoints(line), line
    header = "@HD\tVN:1.6\tSO:coordinate\n" + "".join(f"@SQ\tSN:{name}\tLN:{len(text)}\n" for name, text in bases.items())

    def bam(name: str, reads: list[str]) -> Path:
        (tmp_path / f"{name}.sam").write_text(header + "".join(read + "\n" for read in reads))
        pysam.sort("-o", str(tmp_path / f"{name}.bam"), str(tmp_path / f"{name}.sam"), catch_stdout=False)
        return tmp_path / f"{name}.bam"

    everyone: dict[str, list[str]] = {"carrier": [], "non-carrier": []}
    for name, _, junctions in cases:
        carrier, other = junction_reads(bases, junctions, name.replace(" ", "_"))
        assert clip_findings(bam("raw", carrier), tmp_path)[0] == len(carrier), name  # every raw junction read is a finding
        everyone["carrier"] += carrier
        everyone["non-carrier"] += other
    for who, reads in everyone.items():
        sam = "".join(read + "\n" for read in sorted(reads, key=lambda read: (read.split("\t")[2], int(read.split("\t")[3]))))
        output, _ = revert(header + sam, fasta, tmp_path / "germline.vcf", RevertOptions(), one_by_one=False)
        reverted = records(output)
        assert len(reverted) == len(reads), who
        for fields in reverted:  # no clip, no base of the other side: the reference's read of that place
            start, length = int(fields[3]) - 1, len(fields[9])
            assert fields[5] == f"{length}M" and fields[9] == bases[fields[2]][start : start + length], (who, fields[:6])
        assert clip_findings(bam(f"{who}.reverted", [line for line in output.decode().splitlines() if not line.startswith("@")]),
                             tmp_path) == (0, 0), who


def copied_insertion_case(seed: int) -> tuple[str, int, int, int, list[tuple[int, str]], list[tuple[int, str]]]:
    """A germline insertion after ``point`` of ``length`` bases copied from ``source`` (a dispersed
    duplication, a retrocopy, a mobile element), and the reads of 100 bases that run into it, as
    bwa mem splits a carrier's: the part before the point aligned there, the inserted part at its
    source, the longer part the primary (the other supplementary and hard-clipped, or the
    primary soft-clipped), ``SA`` naming the other part (its contig spelled ``1`` or ``chr1``, as
    a header renamed by ``samtools reheader`` leaves it), on either strand; a read with too few
    bases in the insertion is clipped. The non-carrier's reads of the same places are plain."""
    rng = random.Random(seed)
    reference = random_bases(rng, 3000)
    length = rng.randrange(40, 81)
    source = rng.randrange(200, 800)
    point = rng.randrange(1800, 2600)
    haplotype = reference[:point] + reference[source : source + length] + reference[point:]
    carrier: list[tuple[int, str]] = []
    other: list[tuple[int, str]] = []
    size = 100
    for number, start in enumerate(range(point - 95, point - 5, rng.randrange(2, 5))):
        name, flag, qualities = f"r{number}", rng.choice((0, 16)), "I" * size
        strand, spelled = "-" if flag else "+", rng.choice(("chr1", "1"))
        sequence = haplotype[start : start + size]
        before = point - start
        inserted = min(length, size - before)
        after = size - before - inserted
        tail = f"{after}S" if after else ""
        hard_tail = f"{after}H" if after else ""
        at_site, at_source = f"{before}M{size - before}S", f"{before}S{inserted}M{tail}"
        if before >= 30 and inserted >= 30:
            if before >= inserted:
                carrier.append((start + 1, f"{name}\t{flag}\tchr1\t{start + 1}\t60\t{at_site}\t*\t0\t0\t{sequence}\t{qualities}"
                                           f"\tSA:Z:{spelled},{source + 1},{strand},{at_source},60,0;"))
                carrier.append((source + 1, f"{name}\t{flag | 0x800}\tchr1\t{source + 1}\t60\t{before}H{inserted}M{hard_tail}\t*\t0\t0\t"
                                            f"{sequence[before : before + inserted]}\t{'I' * inserted}"
                                            f"\tSA:Z:{spelled},{start + 1},{strand},{at_site},60,0;"))
            else:
                carrier.append((source + 1, f"{name}\t{flag}\tchr1\t{source + 1}\t60\t{at_source}\t*\t0\t0\t{sequence}\t{qualities}"
                                            f"\tSA:Z:{spelled},{start + 1},{strand},{at_site},60,0;"))
                carrier.append((start + 1, f"{name}\t{flag | 0x800}\tchr1\t{start + 1}\t60\t{before}M{size - before}H\t*\t0\t0\t"
                                           f"{sequence[:before]}\t{'I' * before}\tSA:Z:{spelled},{source + 1},{strand},{at_source},60,0;"))
        else:
            carrier.append((start + 1, f"{name}\t{flag}\tchr1\t{start + 1}\t60\t{at_site}\t*\t0\t0\t{sequence}\t{qualities}"))
        plain = reference[start : start + size]
        other.append((start + 1, f"{name}\t{flag}\tchr1\t{start + 1}\t60\t{size}M\t*\t0\t0\t{plain}\t{qualities}"))
    # One match reaching the site, another base far from its window, and an SA naming a part at
    # the site: the bulk paths leave it to the one-record path, which reverts the whole read.
    start = point - 98
    sequence = other_base(rng, reference[start]) + reference[start + 1 : start + size]
    carrier.append((start + 1, f"one\t0\tchr1\t{start + 1}\t60\t{size}M\t*\t0\t0\t{sequence}\t{'I' * size}"
                               f"\tSA:Z:chr1,{point - 20},+,{size}S40M,60,0;"))
    return reference, source, length, point, sorted(carrier), sorted(other)


INSERTION_AT = 1999
"""0-based POS of the germline records of the unmapped-mate cases (chr1:2000)."""


def insertion_records(chr1: str, inserted: str) -> dict[str, tuple[str, str, str]]:
    """REF, ALT and INFO of each kind of germline record at ``INSERTION_AT``: those that add bases
    (a pair with an unmapped mate near them marks a carrier) and those that do not."""
    base = chr1[INSERTION_AT]
    return {
        "literal insertion": (base, base + inserted, "."),
        "<INS>": (base, "<INS>", "SVTYPE=INS;SVLEN=400"),
        "<INS>, no length": (base, "<INS>", "SVTYPE=INS"),
        "mobile element": (base, "<INS:ME:ALU>", "SVTYPE=INS;SVLEN=300"),
        "tandem duplication": (base, "<DUP:TANDEM>", "SVTYPE=DUP;END=2300;SVLEN=300"),
        "single breakend": (base, base + ".", "SVTYPE=BND"),
        "breakend with inserted bases": (base, base + "GATTACA[chr2:101[", "SVTYPE=BND"),
        "complex, longer": (chr1[INSERTION_AT : INSERTION_AT + 3], "TTTTTTTT", "."),
        "deletion": (chr1[INSERTION_AT : INSERTION_AT + 30], base, "."),
        "<DEL>": (base, "<DEL>", "SVTYPE=DEL;END=2300;SVLEN=-300"),
        "breakend": (base, base + "[chr2:101[", "SVTYPE=BND"),
        "SNV": (base, "A" if base != "A" else "C", "."),
    }


ADDS_BASES = {"literal insertion", "<INS>", "<INS>, no length", "mobile element", "tandem duplication", "single breakend",
              "breakend with inserted bases", "complex, longer"}


@st.composite
def unmapped_mate_cases(draw: st.DrawFn) -> list[tuple[str, int, int]]:
    """Records of pairs with an unmapped mate (and of pairs without) as (shape, 0-based place,
    strand), placed about the edges of the reach of a germline record's window at ``INSERTION_AT``
    (REF spans of 1, 3 and 30 bases) and anywhere."""
    edges = [INSERTION_AT - 1000, *(INSERTION_AT + length + 1000 for length in (1, 3, 30))]
    shapes = ["mate unmapped", "unmapped, placed", "unmapped, at its mate", "supplementary", "pair", "single"]
    return [
        (draw(st.sampled_from(shapes)), draw(st.one_of(st.integers(edge - 3, edge + 2), st.integers(1, 3900))),
         draw(st.sampled_from([0, 0x10])))
        for edge in (draw(st.sampled_from(edges)) for _ in range(draw(st.integers(1, 24))))
    ]


def unmapped_mate_lines(kind: str, drawn: list[tuple[str, int, int]]) -> tuple[list[str], int]:
    """The SAM lines of ``drawn`` and how many of them the rule removes at a record of ``kind``:
    FLAG 0x4 or 0x8 and the record's own place or its mate's within 1000 bases of the REF span."""
    ref_length = {"complex, longer": 3, "deletion": 30}.get(kind, 1)
    reach = (INSERTION_AT - 1000, INSERTION_AT + ref_length + 1000)
    lines: list[str] = []
    inside = 0
    for number, (shape, at, strand) in enumerate(drawn):
        name, sequence, quality = f"r{number}", "ACGT" * 10, "I" * 40
        place = reach[0] <= at < reach[1] and kind in ADDS_BASES
        if shape == "mate unmapped":
            line = f"{name}\t{0x1 | 0x8 | 0x40 | strand}\tchr1\t{at + 1}\t60\t40M\t=\t{at + 1}\t0"
        elif shape == "unmapped, placed":
            line = f"{name}\t{0x1 | 0x4 | 0x80}\tchr1\t{at + 1}\t0\t*\t=\t{at + 1}\t0"
        elif shape == "unmapped, at its mate":
            line = f"{name}\t{0x1 | 0x4 | 0x80}\t*\t0\t0\t*\tchr1\t{at + 1}\t0"
        elif shape == "supplementary":  # on chr2, naming the unmapped mate placed at its primary
            line = f"{name}\t{0x1 | 0x8 | 0x40 | 0x800 | strand}\tchr2\t1500\t60\t10H30M\tchr1\t{at + 1}\t0"
            sequence, quality = sequence[10:], quality[10:]
        elif shape == "pair":
            line, place = f"{name}\t{0x1 | 0x40 | strand}\tchr1\t{at + 1}\t60\t40M\t=\t{at + 1}\t0", False
        else:
            line, place = f"{name}\t{strand}\tchr1\t{at + 1}\t60\t40M\t*\t0\t0", False
        lines.append(f"{line}\t{sequence}\t{quality}\tRG:Z:L1")
        inside += place
    return lines, inside


def germline_findings(bam: Path, vcf: Path, fasta: Path, jobs: int = 1) -> dict[str, int]:
    """genoscrub-audit --germline's germline findings on ``bam`` by key (in this process, ``jobs`` workers)."""
    from genoscrub.audit_bam import BamAudit, CountedBlocks, RecordChecks, bgzf_blocks, read_header
    from genoscrub.audit_findings import Findings
    from genoscrub.audit_sites import GermlineSites as AuditSites
    from genoscrub.audit_sites import Reference, read_variants

    variants = read_variants(str(vcf), "germline list")
    with open(bam, "rb") as stream:
        blocks = CountedBlocks(bgzf_blocks(stream, str(bam)))
        header, rest = read_header(blocks, str(bam))
        names = {name: length for name, length in header.references}
        sites = AuditSites(variants, "germline", names, Reference(str(fasta)))
        findings = Findings()
        BamAudit(RecordChecks(str(bam), list(names), germline=sites), findings, jobs).run(blocks, rest)
    return dict(findings.as_dict()["germline"].get("by_key", {}))


@pytest.mark.parametrize("seed", range(6))
def test_reads_split_by_a_copied_insertion_leave_nothing_at_its_source(tmp_path: Path, seed: int) -> None:
    """A germline insertion of bases copied from elsewhere splits a carrier's reads: the inserted
    part aligns at its source, away from every window, as a supplementary record or as the
    primary with the rest clipped, its ``SA`` naming the part at the insertion. The reverter
    judges every part by all its parts: a supplementary record whose ``SA`` names a part at a
    window goes, a primary is reverted over its whole alignment (its clip given back as the
    reference, POS moved by it), so neither the carrier nor the non-carrier has a clipped, split
    or differing record at the source, or at the site; the bulk and the one-record paths give the
    same bytes, and ``1`` for ``chr1`` in ``SA`` changes nothing. genoscrub-audit --germline
    fails what the reverter left before (the supplementary records at the source, whose primary
    lies at the insertion; ``SA`` removed, as the cohort workflow's masker removes it) and passes
    the reverted reads."""
    from genoscrub.audit_split_reads import SPLIT_AT_SITE

    reference, source, length, point, carrier, other = copied_insertion_case(seed)
    fasta = tmp_path / "ref.fa"
    fasta.write_text(">chr1\n" + "\n".join(reference[i : i + 60] for i in range(0, len(reference), 60)) + "\n")
    pysam.faidx(str(fasta))
    (tmp_path / "germline.vcf").write_text(
        f"##fileformat=VCFv4.2\n##contig=<ID=chr1,length={len(reference)}>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        f"chr1\t{point}\t.\t{reference[point - 1]}\t{reference[point - 1]}{reference[source : source + length]}\t50\tPASS\t.\n"
    )
    header = f"@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:{len(reference)}\n"

    def bam(name: str, lines: list[str]) -> Path:
        (tmp_path / f"{name}.sam").write_text(header + "".join(line + "\n" for line in lines))
        pysam.sort("-o", str(tmp_path / f"{name}.bam"), str(tmp_path / f"{name}.sam"), catch_stdout=False)
        return tmp_path / f"{name}.bam"

    assert any(int(line.split("\t")[3]) == source + 1 for _, line in carrier)  # the split parts at the source
    outputs = {}
    for who, reads in (("carrier", carrier), ("non-carrier", other)):
        sam = header + "".join(line + "\n" for _, line in reads)
        output, counts = revert(sam, fasta, tmp_path / "germline.vcf", RevertOptions(), one_by_one=False)
        assert revert(sam, fasta, tmp_path / "germline.vcf", RevertOptions(), one_by_one=True)[0] == output, who
        spelled = sam.replace("SA:Z:1,", "SA:Z:chr1,")
        assert revert(spelled, fasta, tmp_path / "germline.vcf", RevertOptions(), one_by_one=False)[0] == output, who
        for fields in records(output):  # the reference's read of its place: no clip, no split, no other base
            start, size = int(fields[3]) - 1, len(fields[9])
            assert not int(fields[1]) & 0x800 and fields[5] == f"{size}M", (who, fields[:6])
            assert fields[9] == reference[start : start + size], (who, fields[:6])
        outputs[who] = records(output)
        if who == "carrier":
            assert counts["supplementary_records_removed"] == sum(int(line.split("\t")[1]) & 0x800 != 0 for _, line in carrier)
        found = germline_findings(bam(f"{who}.reverted", [line for line in output.decode().splitlines() if not line.startswith("@")]),
                                  tmp_path / "germline.vcf", tmp_path / "ref.fa", jobs=1 + seed % 2)
        assert found == {}, (who, found)
    near_source = range(source - 100, source + length + 100)
    assert not [fields for fields in outputs["non-carrier"] if int(fields[3]) - 1 in near_source]
    left = [line.split("\tSA:Z:")[0] for _, line in carrier]  # SA removed, as the reverter of before left them
    supplementary_at_source = sum(int(line.split("\t")[1]) & 0x800 != 0 and int(line.split("\t")[3]) == source + 1 for line in left)
    found = germline_findings(bam("carrier.split", left), tmp_path / "germline.vcf", tmp_path / "ref.fa", jobs=1 + seed % 2)
    assert found.get(SPLIT_AT_SITE) == supplementary_at_source


def test_paired_parts_of_a_read_split_by_a_copied_insertion_keep_their_mates(tmp_path: Path) -> None:
    """A paired record cannot be moved or given back its clips for an ``SA`` part at a germline
    window: its mate names its place and CIGAR (PNEXT, ``MC``) and cannot read that ``SA``. So
    the supplementary record goes, the primary at the source keeps its place and CIGAR with its
    clips masked, and the pair still agrees (MC the mate's CIGAR, PNEXT its POS; genoscrub-audit
    --germline passes): the mate's PNEXT at the source is the known limit the man page states."""
    reference, source, length, point, carrier, _ = copied_insertion_case(3)
    fasta, vcf = tmp_path / "ref.fa", tmp_path / "germline.vcf"
    fasta.write_text(">chr1\n" + "\n".join(reference[i : i + 60] for i in range(0, len(reference), 60)) + "\n")
    pysam.faidx(str(fasta))
    vcf.write_text(
        f"##fileformat=VCFv4.2\n##contig=<ID=chr1,length={len(reference)}>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        f"chr1\t{point}\t.\t{reference[point - 1]}\t{reference[point - 1]}{reference[source : source + length]}\t50\tPASS\t.\n"
    )
    primaries = {line.split("\t")[0]: line.split("\t") for _, line in carrier if not int(line.split("\t")[1]) & 0x800}
    mate_at = point + 300
    lines = []
    for _, line in carrier:
        fields = line.split("\t")
        primary = primaries[fields[0]]
        flag = int(fields[1]) | 0x1 | 0x40 | 0x20
        fields[1:2], fields[6:9] = [str(flag)], ["=", str(mate_at + 1), "0"]
        if not flag & 0x800:
            fields[8] = str(mate_at + 100 - int(fields[3]) + 1)
            fields.insert(11, "MC:Z:100M")
        lines.append((int(fields[3]), "\t".join(fields)))
        if not flag & 0x800:
            mate = [fields[0], str(0x1 | 0x80 | 0x10), "chr1", str(mate_at + 1), "60", "100M", "=", primary[3], f"-{fields[8]}",
                    reference[mate_at : mate_at + 100], "I" * 100, f"MC:Z:{primary[5]}"]
            lines.append((mate_at + 1, "\t".join(mate)))
    header = f"@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:{len(reference)}\n"
    sam = header + "".join(line + "\n" for _, line in sorted(lines))
    output, counts = revert(sam, fasta, vcf, RevertOptions(), one_by_one=False)
    assert revert(sam, fasta, vcf, RevertOptions(), one_by_one=True)[0] == output
    assert counts["supplementary_records_removed"] == sum(int(line.split("\t")[1]) & 0x800 != 0 for _, line in carrier)
    check_valid(output, fasta, tmp_path)
    assert any(int(fields[3]) == source + 1 and not int(fields[1]) & 0x800 for fields in records(output))
    for fields in records(output):
        if int(fields[3]) == source + 1:  # at the source: its place and CIGAR kept, its clips masked
            assert fields[5] == primaries[fields[0]][5] and set(fields[9][: int(fields[5].split("S")[0])]) == {"N"}, fields[:6]
    (tmp_path / "out.sam").write_bytes(output)
    pysam.sort("-o", str(tmp_path / "out.sorted.bam"), str(tmp_path / "out.sam"), catch_stdout=False)
    assert germline_findings(tmp_path / "out.sorted.bam", tmp_path / "germline.vcf", tmp_path / "ref.fa") == {}


PARALOG_LENGTH = 300
PARALOG_SNVS = (60, 100, 130, 170)
"""The offsets in copy A of the duplication's single-base differences between its two copies (PSVs);
the patient's copy A carries copy B's bases at the first two (a gene conversion), both listed."""
PARALOG_DELETION = 115
"""Copy B lacks copy A's two bases from this offset: a PSV a read of copy A placed on B shows as ``2I``."""


def paralog_case(seed: int, spelled: str = "chr1") -> tuple[str, list[int], str, dict[str, list[str]]]:
    """A reference holding a segmental duplication (copy A at 401, copy B at 1101, differing at
    ``PARALOG_SNVS`` and ``PARALOG_DELETION``), the listed SNVs (0-based places at copy A), the
    carrier's haplotype, and each person's reads: the carrier's reads of copy A placed on copy B
    (aligned there with mismatches, the 2-base insertion and clips), paired with a read of copy B
    with ``MC`` and ``MQ`` as ``samtools fixmate`` writes them, their MAPQ low (0 to 29, or 255), or
    single with MAPQ 60 and an ``XA``/``XB`` hit at copy A (its contig written ``spelled``); and
    both people's reads of copy A placed there and of copy B placed there (MAPQ 60)."""
    rng = random.Random(seed)
    segment = random_bases(rng, PARALOG_LENGTH)
    copy_b = list(segment)
    for offset in PARALOG_SNVS:
        copy_b[offset] = other_base(rng, segment[offset])
    del copy_b[PARALOG_DELETION : PARALOG_DELETION + 2]
    a_start, b_start = 400, 1100
    reference = random_bases(rng, a_start) + segment + random_bases(rng, b_start - a_start - PARALOG_LENGTH) + "".join(copy_b)
    reference += random_bases(rng, 400)
    sites = [a_start + offset for offset in PARALOG_SNVS[:2]]
    haplotype = list(reference)
    for site in sites:
        haplotype[site] = copy_b[site - a_start]
    carrier_haplotype = "".join(haplotype)
    scoring = Scoring(clip=8)
    reads: dict[str, list[str]] = {"carrier": [], "non-carrier": []}

    def read_line(name: str, flag: int, position: int, mapq: int, cigar: str, sequence: str, tags: list[str]) -> str:
        fields = [name, str(flag), "chr1", str(position + 1), str(mapq), cigar, *tags[:3], sequence, "I" * len(sequence)]
        return "\t".join(fields + tags[3:])

    for number, offset in enumerate(range(20, 100, 5)):  # each over a listed SNV: copy B fits it better
        read = carrier_haplotype[a_start + offset : a_start + offset + 100]
        if number % 3 == 1:
            read = read[:95] + random_bases(rng, 5)  # an adapter's bases: clipped
        window = b_start + offset - 20
        start, operations = align(read, reference[window : window + 140], scoring)
        assert start <= 20
        position, cigar = window + start, cigar_text(operations)
        span = sum(length for op, length in operations if op in "MD")
        strand = 16 * (number % 2)
        name = f"moved{number}"
        if number % 4 == 3:  # placed with MAPQ 60, its alternative hit at copy A
            hit = f"{spelled},{'-' if strand else '+'}{a_start + offset + 1},100M,2"
            tag = f"XA:Z:{hit};" if number % 8 == 3 else f"XB:Z:{hit},150,0;"
            reads["carrier"].append(read_line(name, strand, position, 60, cigar, read, ["*", "0", "0", "RG:Z:L1", tag]))
            continue
        mapq, mate_mapq = rng.choice([0, 1, 5, 11, 20, 29, 255]), rng.choice([60, 3])
        mate_position = position + 120
        mate = reference[mate_position : mate_position + 100]
        outer = mate_position + 100 - position
        reads["carrier"].append(read_line(
            name, 99, position, mapq, cigar, read,
            ["=", str(mate_position + 1), str(outer), "RG:Z:L1", "MC:Z:100M", f"MQ:i:{mate_mapq}"],
        ))
        reads["carrier"].append(read_line(
            name, 147, mate_position, mate_mapq, "100M", mate,
            ["=", str(position + 1), str(-outer), "RG:Z:L1", f"MC:Z:{cigar}", f"MQ:i:{mapq}"],
        ))
        assert span > 0
    for number, start in enumerate(range(1420, 1700, 40)):  # one M run, a base off (an error, a somatic allele)
        single = list(reference[start : start + 100])
        single[number * 7 + 3] = other_base(rng, single[number * 7 + 3])
        tags = ["*", "0", "0", "RG:Z:L1"]
        if number % 3 == 0:  # MAPQ 60, an alternative hit over a listed SNV
            mapq, tags = 60, [*tags, f"XA:Z:{spelled},+{sites[number % 2] - 30},100M,1;"]
        else:
            mapq = rng.choice([0, 7, 29, 255])
        for who in reads:
            reads[who].append(read_line(f"single{number}", 16 * (number % 2), start, mapq, "100M", "".join(single), tags))
    for number, offset in enumerate(range(20, 100, 5)):
        for who in reads:
            for copy, start in (("a", a_start), ("b", b_start)):
                if copy == "a" and who == "carrier":
                    continue  # the carrier's reads of copy A went to copy B
                bases = reference[start + offset : start + offset + 100]
                flag = 16 * (number % 2)
                reads[who].append(read_line(f"{copy}{number}", flag, start + offset, 60, "100M", bases, ["*", "0", "0", "RG:Z:L1"]))
    return reference, sites, carrier_haplotype, reads


def paralog_findings(bam: Path, folder: Path, threshold: int = 30) -> int:
    """genoscrub-audit --germline's germline findings on ``bam`` (in one process), reads of a MAPQ
    below ``threshold`` held to the reference (``--all-below-mapq``)."""
    from genoscrub.audit_bam import BamAudit, CountedBlocks, LowMappingQuality, RecordChecks, bgzf_blocks, read_header
    from genoscrub.audit_findings import Findings
    from genoscrub.audit_sites import GermlineSites as AuditSites
    from genoscrub.audit_sites import Reference, read_variants

    variants = read_variants(str(folder / "germline.vcf"), "germline list")
    with open(bam, "rb") as stream:
        blocks = CountedBlocks(bgzf_blocks(stream, str(bam)))
        header, rest = read_header(blocks, str(bam))
        names = {name: length for name, length in header.references}
        reference = Reference(str(folder / "ref.fa"))
        sites = AuditSites(variants, "germline", names, reference)
        low = LowMappingQuality(threshold, reference, list(names)) if threshold else None
        findings = Findings()
        BamAudit(RecordChecks(str(bam), list(names), germline=sites, low_mapq=low), findings, 1).run(blocks, rest)
    return int(sum(findings.as_dict()["germline"].get("by_key", {}).values()))


@pytest.mark.parametrize("seed", range(4))
def test_reads_a_germline_allele_sends_to_a_paralog_are_alike_once_reverted(seed: int, tmp_path: Path) -> None:
    """Listed germline SNVs that give copy A of a segmental duplication copy B's bases (a gene
    conversion, as SMN1/SMN2, PMS2/PMS2CL) send the carrier's reads to copy B, placed there with a
    low MAPQ or with an XA/XB hit at copy A, where they show copy A's bases at the PSVs no caller
    lists (mismatches, an insertion, clipped bases). sam-revert-germline reverts such reads whole
    (``--all-below-mapq``, the XA/XB rule): once reverted, no read of either person shows a base
    other than the reference's at copy B's PSVs (htslib's count), no read holds a k-mer of the
    carrier's haplotype the reference lacks, the output is valid with each MC its mate's CIGAR
    (the mates' MQ tells them), the bulk and one-record paths give the same bytes and counts,
    an XA contig written ``1`` in a ``chr1`` header changes nothing, and genoscrub-audit
    --germline fails the raw carrier's reads and passes both people's reverted ones. Without the
    rule (0, no XA) the carrier's reads still tell them apart."""
    reference, sites, haplotype, reads = paralog_case(seed)
    site = Site(start=sites[0], ref=reference[sites[0]], alt=haplotype[sites[0]])
    fasta, vcf = write_inputs(tmp_path, reference, site)
    vcf.write_text(vcf.read_text() + f"chr1\t{sites[1] + 1}\t.\t{reference[sites[1]]}\t{haplotype[sites[1]]}\t50\tPASS\t.\n")
    header = f"@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:{len(reference)}\n@RG\tID:L1\tSM:S1\n"

    def sorted_sam(lines: list[str]) -> str:
        return header + "".join(line + "\n" for line in sorted(lines, key=lambda line: int(line.split("\t")[3])))

    def bam(name: str, text: bytes) -> Path:
        (tmp_path / f"{name}.sam").write_bytes(text)
        pysam.sort("-o", str(tmp_path / f"{name}.bam"), str(tmp_path / f"{name}.sam"), catch_stdout=False)
        pysam.index(str(tmp_path / f"{name}.bam"))
        return tmp_path / f"{name}.bam"

    b_places = [1100 + offset - (2 if offset > PARALOG_DELETION else 0) for offset in PARALOG_SNVS]

    def other_bases_at_copy_b(path: Path) -> int:
        with pysam.AlignmentFile(str(path)) as alignments:
            counts = [alignments.count_coverage("chr1", place, place + 1, quality_threshold=0) for place in b_places]
        return sum(int(count[0]) for place, found in zip(b_places, counts, strict=True)
                   for letter, count in zip("ACGT", found, strict=True) if letter != reference[place])  # fmt: skip

    def reads_differing(path: Path) -> int:
        """Reads with an aligned base other than the reference's or N, or an indel (htslib's pairs)."""
        differing = 0
        with pysam.AlignmentFile(str(path)) as alignments:
            for read in alignments.fetch("chr1"):
                bases = read.query_sequence or ""
                indel = any(op in (1, 2) for op, _ in read.cigartuples or [])
                pairs = read.get_aligned_pairs(matches_only=True)
                differing += indel or any(bases[query] not in (reference[place], "N") for query, place in pairs)
        return differing

    raw = sorted_sam(reads["carrier"])
    assert other_bases_at_copy_b(bam("raw", raw.encode())) > 0
    assert paralog_findings(tmp_path / "raw.bam", tmp_path) > 0
    unchanged, _ = revert(raw, fasta, vcf, RevertOptions(all_below_mapq=0), one_by_one=False)
    assert reads_differing(bam("unchanged", unchanged)) > 0  # the rule is what removes them
    options = RevertOptions()
    for who, lines in reads.items():
        sam = sorted_sam(lines)
        output, counts = revert(sam, fasta, vcf, options, one_by_one=False)
        check_valid(output, fasta, tmp_path)
        assert other_bases_at_copy_b(bam(who, output)) == 0, who
        assert reads_differing(tmp_path / f"{who}.bam") == 0, who
        assert paralog_findings(tmp_path / f"{who}.bam", tmp_path) == 0, who
        assert revert(sam, fasta, vcf, options, one_by_one=True) == (output, counts), who
        again, _ = revert(output.decode(), fasta, vcf, options, one_by_one=False)
        assert records(again) == records(output), who
        if who == "carrier":
            assert counts["reads_reverted_whole_low_mapq"] > 0 and counts["reads_reverted_whole_alternative_hit"] > 0
            respelled = sorted_sam(paralog_case(seed, spelled="1")[3]["carrier"])
            assert respelled != sam
            assert revert(respelled, fasta, vcf, options, one_by_one=False) == (output, counts)


def unmapped_mate_inputs(folder: Path, kind: str, vcf_contig: str = "chr1") -> tuple[dict[str, str], Path, Path]:
    rng = random.Random(7)
    bases = {"chr1": random_bases(rng, 4000), "chr2": random_bases(rng, 3000)}
    fasta = folder / "ref.fa"
    if not fasta.exists():
        fasta.write_text("".join(f">{name}\n{text}\n" for name, text in bases.items()))
        pysam.faidx(str(fasta))
    ref, alt, info = insertion_records(bases["chr1"], random_bases(rng, 60))[kind]
    names = {"chr1": vcf_contig, "chr2": "2" if vcf_contig == "1" else "chr2"}
    alt = alt.replace("chr2:", names["chr2"] + ":")
    vcf = folder / f"germline.{vcf_contig}.vcf"
    vcf.write_text(
        "##fileformat=VCFv4.2\n" + "".join(f"##contig=<ID={names[name]},length={len(text)}>\n" for name, text in bases.items())
        + "".join(f"##INFO=<ID={key},Number={number},Type={kind},Description=\"{key}\">\n" for key, number, kind in (
            ("SVTYPE", 1, "String"), ("END", 1, "Integer"), ("SVLEN", ".", "Integer")))
        + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        + f"{vcf_contig}\t{INSERTION_AT + 1}\t.\t{ref}\t{alt}\t50\tPASS\t{info}\n"
    )
    return bases, fasta, vcf


def sorted_bam(folder: Path, name: str, header: str, lines: list[str]) -> Path:
    (folder / f"{name}.sam").write_text(header + "".join(line + "\n" for line in lines))
    pysam.sort("-o", str(folder / f"{name}.bam"), str(folder / f"{name}.sam"), catch_stdout=False)
    return folder / f"{name}.bam"


@pytest.mark.slow  # a long sweep of spellings through the commands: make test-slow (CI runs it after make test)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(unmapped_mate_cases())
def test_pairs_with_an_unmapped_mate_at_an_insertion_go_as_the_audit_finds_them(drawn: list[tuple[str, int, int]]) -> None:
    """A record with FLAG 0x4 or 0x8 whose own place or its mate's lies within 1000 bases of a
    germline record that adds bases (a literal insertion, a longer complex allele, ``<INS>`` with
    or without SVLEN, ``<INS:ME:ALU>``, ``<DUP:TANDEM>``, a single breakend, a breakend with bases
    before its join) is removed, on the bulk and the one-record path alike, whether the list names
    the contig ``chr1`` or ``1``; records of other pairs, and of records that add no bases (a
    deletion, ``<DEL>``, a plain breakend, an SNV), stay. genoscrub-audit --germline finds exactly
    the records removed: as many in the raw file as the reverter counts, none in its output."""
    from genoscrub.audit_bam import UNMAPPED_PAIR_AT_INSERTION
    from genoscrub.record_reverter import UNMAPPED_MATE_AT_INSERTION

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for kind in insertion_records("A" * 4000, "C"):
            lines, inside = unmapped_mate_lines(kind, drawn)
            bases, fasta, vcf = unmapped_mate_inputs(folder, kind)
            _, _, numbered = unmapped_mate_inputs(folder, kind, "1")
            header = "@HD\tVN:1.6\n" + "".join(f"@SQ\tSN:{contig}\tLN:{len(text)}\n" for contig, text in bases.items())
            header += "@RG\tID:L1\tSM:S1\n"
            sam = header + "".join(line + "\n" for line in lines)
            output, counts = revert(sam, fasta, vcf, RevertOptions(), one_by_one=False)
            assert revert(sam, fasta, vcf, RevertOptions(), one_by_one=True) == (output, counts), kind
            assert revert(sam, fasta, numbered, RevertOptions(), one_by_one=False) == (output, counts), kind
            assert counts.get(UNMAPPED_MATE_AT_INSERTION, 0) == inside, kind
            assert len(records(output)) == len(lines) - inside, kind
            kept = revert(sam, fasta, vcf, RevertOptions(keep_unmapped=True), one_by_one=False)[1]
            assert kept.get(UNMAPPED_MATE_AT_INSERTION, 0) == inside, kind  # --keep-unmapped keeps no such read
            raw = germline_findings(sorted_bam(folder, "raw", header, lines), vcf, fasta)
            assert raw.get(UNMAPPED_PAIR_AT_INSERTION, 0) == inside, kind
            reverted = [line for line in output.decode().splitlines() if not line.startswith("@")]
            assert UNMAPPED_PAIR_AT_INSERTION not in germline_findings(sorted_bam(folder, "reverted", header, reverted), vcf, fasta), kind


def insertion_fragments(reference: str, point: int, inserted: str, carrier: bool) -> list[str]:
    """Pairs of 100-base reads of 350-base fragments every 3 bases across ``point`` (0-based: the
    bases inserted after ``reference[point - 1]``), as an aligner places them: a carrier's read
    with fewer than 20 bases outside the inserted ones is unmapped and placed at its mate (FLAG
    0x4, the mate 0x8), one across the point is clipped there; a non-carrier's are all ``100M``."""
    haplotype = reference[:point] + inserted + reference[point:] if carrier else reference
    size, length, fragment = len(inserted), 100, 350

    def place(start: int) -> tuple[int, str] | None:
        if not carrier or start + length <= point:
            return start, f"{length}M"
        if start >= point + size:
            return start - size, f"{length}M"
        if start < point:
            kept = point - start
            return (start, f"{kept}M{length - kept}S") if kept >= 20 else None
        kept = start + length - point - size
        return (point, f"{length - kept}S{kept}M") if kept >= 20 else None

    lines = []
    for number, start in enumerate(range(point - 330, point + (size if carrier else 0) + 30, 3)):
        first, second = place(start), place(start + fragment - length)
        if first is None and second is None:
            continue
        reads = [(first, haplotype[start : start + length], 0x40 | 0x20),
                 (second, haplotype[start + fragment - length : start + fragment].translate(COMPLEMENT)[::-1], 0x80 | 0x10)]
        for (placed, sequence, flag), (mate, _, _) in (reads, reads[::-1]):
            here = placed or mate
            there = mate or placed
            assert here is not None and there is not None
            flag |= 0x1 | (0x4 if placed is None else 0) | (0x8 if mate is None else 0)
            cigar, quality = (placed[1], 60) if placed is not None else ("*", 0)
            fields = [f"f{number}", str(flag), "chr1", str(here[0] + 1), str(quality), cigar, "=", str(there[0] + 1), "0", sequence]
            lines.append("\t".join([*fields, "I" * length, "RG:Z:L1"]))
    return lines


def test_a_carriers_reads_of_a_long_insertion_leave_no_pair_with_an_unmapped_mate(tmp_path: Path) -> None:
    """A carrier of a 160-base insertion (``<INS>`` with SVLEN, or written with its bases) has
    fragments with one read wholly in the inserted bases: unmapped, placed at its mate, which is
    flagged mate-unmapped, a cluster a non-carrier lacks (what insertion and MEI callers genotype
    from). Once reverted, the carrier and the non-carrier have as many records with FLAG 0x4 or 0x8
    near the insertion (none), the mates' pointers hold (``check_valid``), and genoscrub-audit
    --germline fails the carrier's raw reads there and passes the reverted ones."""
    from genoscrub.audit_bam import UNMAPPED_PAIR_AT_INSERTION

    rng = random.Random(13)
    reference, inserted, point = random_bases(rng, 2400), random_bases(rng, 160), 1200  # a literal one of 400 takes a minute to window
    fasta = tmp_path / "ref.fa"
    fasta.write_text(">chr1\n" + reference + "\n")
    pysam.faidx(str(fasta))
    header = f"@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:{len(reference)}\n@RG\tID:L1\tSM:S1\n"
    for alt, info in (("<INS>", "SVTYPE=INS;SVLEN=160"), (reference[point - 1] + inserted, ".")):
        vcf = tmp_path / "germline.vcf"
        vcf.write_text(
            f"##fileformat=VCFv4.2\n##contig=<ID=chr1,length={len(reference)}>\n"
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + f"chr1\t{point}\t.\t{reference[point - 1]}\t{alt}\t50\tPASS\t{info}\n"
        )
        near = {}
        for who in ("carrier", "non-carrier"):
            raw = sorted_bam(tmp_path, "raw", header, insertion_fragments(reference, point, inserted, who == "carrier"))
            fixed = subprocess.run(
                f"samtools sort -n -O sam {raw} | samtools fixmate -m -O sam - - | samtools sort -O sam -",
                shell=True, check=True, capture_output=True,
            ).stdout.decode()
            output, _ = revert(fixed, fasta, vcf, RevertOptions(), one_by_one=False)
            check_valid(output, fasta, tmp_path)
            near[who] = sum(1 for fields in records(output) if int(fields[1]) & 0xC and 900 <= int(fields[3]) <= 1500)
            raw_findings = germline_findings(raw, vcf, fasta)
            reverted = [line for line in output.decode().splitlines() if not line.startswith("@")]
            assert germline_findings(sorted_bam(tmp_path, "reverted", header, reverted), vcf, fasta) == {}, (alt, who)
            if who == "carrier":
                assert raw_findings.get(UNMAPPED_PAIR_AT_INSERTION, 0) >= 40, alt
        assert near == {"carrier": 0, "non-carrier": 0}


def test_a_pair_with_an_unmapped_mate_moved_to_an_insertion_goes(tmp_path: Path) -> None:
    """A removed left clip moves a read with an unmapped mate (and that mate, placed at it, which
    learns it from ``MC``) from just past the reach of an insertion into it: judged where they are
    written, both go, and genoscrub-audit --germline finds nothing in the output."""
    from genoscrub.audit_bam import UNMAPPED_PAIR_AT_INSERTION
    from genoscrub.record_reverter import UNMAPPED_MATE_AT_INSERTION

    bases, fasta, vcf = unmapped_mate_inputs(tmp_path, "<INS>")
    at = INSERTION_AT + 1003  # 0-based POS of a 5S35M: 3 bases past the reach (1000 bases past the REF base)
    snv = at - 3  # in the clip's projection: the clip goes, POS moves 5 bases left, into the reach
    ref = bases["chr1"][snv]
    vcf.write_text(vcf.read_text() + f"chr1\t{snv + 1}\t.\t{ref}\t{other_base(random.Random(1), ref)}\t50\tPASS\t.\n")
    sequence = bases["chr1"][at - 5 : at + 35]
    header = "@HD\tVN:1.6\n" + "".join(f"@SQ\tSN:{contig}\tLN:{len(text)}\n" for contig, text in bases.items()) + "@RG\tID:L1\tSM:S1\n"
    lines = [
        f"m\t{0x1 | 0x8 | 0x40}\tchr1\t{at + 1}\t60\t5S35M\t=\t{at + 1}\t0\t{sequence}\t{'I' * 40}\tRG:Z:L1",
        f"m\t{0x1 | 0x4 | 0x80}\tchr1\t{at + 1}\t0\t*\t=\t{at + 1}\t0\t{sequence}\t{'I' * 40}\tMC:Z:5S35M\tRG:Z:L1",
    ]
    sam = header + "".join(line + "\n" for line in lines)
    output, counts = revert(sam, fasta, vcf, RevertOptions(), one_by_one=False)
    assert counts[UNMAPPED_MATE_AT_INSERTION] == 2 and not records(output)
    assert revert(sam, fasta, vcf, RevertOptions(), one_by_one=True) == (output, counts)
    assert germline_findings(sorted_bam(tmp_path, "raw", header, lines), vcf, fasta).get(UNMAPPED_PAIR_AT_INSERTION) is None
