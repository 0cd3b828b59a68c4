#!/usr/bin/env python3
"""Simulate a small tumour/normal sequencing example with planted identifiers.

Every test, the demo and the benchmarks are built on the files this writes. The data is
synthetic, but shaped like what a hospital would hand over: a reference, the normal sample's
germline calls, the tumour's somatic calls, a population frequency resource, aligned reads for
both samples and the tumour's raw FASTQ pair, all with identifying metadata planted where real
tools put it (Park et al. 2024). The truth files say what was planted,
so a scrubber's output can be checked against it.

Usage::

    python tools/simulate.py --out DIR [--seed 1] [--pairs N] [--contig-length L]
                             [--read-length 100] [--germline-per-kb 1.0]

or ``simulate(Path(DIR), seed=1, ...)`` from Python, which returns the paths and truth counts.
The same seed and arguments give byte-identical files: numpy Generators spawned from the seed drive
everything, gzip and BGZF streams carry no timestamps, and no header records a date or a
command line of this run.

Genome: ``chr1`` (``--contig-length``, default 20 kb), ``chr2`` (half that) and ``chrM``
(16569 bp). Each sample gets ``--pairs`` read pairs (default: about 30x), 2 x ``--read-length``.
The benchmark set is ``--pairs 2000000 --contig-length 5000000 --read-length 150`` (about
2.5 minutes and 0.4 GB of memory: reads are streamed to disk in coordinate order, never held).

Files written into DIR (names are fixed):

``ref.fa``, ``ref.fa.fai``
    Random sequence with regional GC content, short tandem repeats (tetra-, tri- and
    dinucleotide), homopolymers and low-complexity stretches; uppercase ACGT, 60 per line.
``repeats.bed``
    The planted repeats (BED: chrom, start, end, name such as ``STR_AGATx12``).
``germline.vcf.gz`` (+ ``.tbi``)
    The normal sample's germline calls, VCF 4.2, one sample ``S2301217N_20231029``: SNVs,
    2-3 bp MNPs, 1-6 bp insertions and deletions (left-aligned, anchor base), some of them
    repeat-unit changes inside STRs; GT ``0/1`` and ``1/1`` (``1/1`` on chrM). Header carries
    ``##fileDate``, ``##source``, ``##GATKCommandLine``, ``##bcftools_callCommand``,
    ``##SAMPLE``, contig URLs and a hospital ``##reference`` path; IDs mix ``rs...``,
    private ``HOSP_VAR_0001``-style IDs and ``.``; the first records' INFO holds the specimen ID
    and the date of the call (``SPECIMEN``, ``CALLED``), as a LIMS writes them.
``somatic.vcf.gz`` (+ ``.tbi``)
    Somatic SNVs and small indels present only in the tumour, VAF 5-30 %, INFO flag
    ``SOMATIC``; samples ``S2301217T_20231029`` (tumour) then ``S2301217N_20231029`` (normal),
    FORMAT ``GT:AF``; Mutect2-style header (``##tumor_sample``, ``##PEDIGREE``, ...).
``germline_as_somatic.vcf.gz`` (+ ``.tbi``)
    A tumour-only call set (one sample column, the tumour): the somatic truth plus five germline
    SNVs wrongly flagged ``SOMATIC`` (``decoy_somatic`` in ``truth.tsv``).
``population.vcf.gz`` (+ ``.tbi``)
    Sites-only population resource, INFO ``AF`` and ``AF_eas`` (Number=A, Float). Germline sites
    are ``common`` (AF_eas 0.05-0.6), ``rare`` (AF_eas < 0.01; for half of them the global AF
    is common, so only ``--af-key AF_eas`` finds them rare), ``ref_rare`` (AF_eas > 0.99, so
    the REF allele is rare), ``multiallelic`` (2 ALTs, the second allele rare or common),
    ``other_allele`` (a record at the same POS with a different ALT: no match) or ``absent``;
    every category has at least two sites. Plus unrelated population-only SNVs (one per kb).
``normal.bam``, ``tumour.bam`` (+ ``.bai``)
    Coordinate-sorted paired-end alignments. Normal reads carry the germline alleles of their
    haplotype; tumour reads carry the same plus somatic alleles at their VAF. CIGARs with
    M/I/D/S (soft clips keep haplotype bases; several clips carry a germline ALT, counted per
    site in ``truth.tsv``), ~0.2 % sequencing errors, varied base qualities, correct MD/NM, MC,
    MQ, AS, mate fields; a few pairs with one mate unmapped, a few unmapped pairs at the end,
    a few chimeric reads (primary with soft clip + supplementary with hard clip, ``SA`` tags).
    Two read groups (lanes L001, L002) with identifying ``@RG`` fields, ``@PG`` lines with
    hospital paths, an ``@CO`` line; ``@SQ`` with ``UR`` and a correct ``M5``. Tags that copy
    sequence or quality: ``OQ`` (~20 %), ``R2``/``Q2`` (~5 %), ``XA`` (~2 %), ``SA``;
    ``PG:Z:bwa`` on ~30 %. Illumina read names ``M04123:123:000000000-ABCDE:lane:tile:x:y``,
    unique per template across both files (normal tiles 11xx, tumour tiles 21xx).
``tumour_R1.fastq.gz``, ``tumour_R2.fastq.gz``
    The tumour pairs as sequenced (original orientation, same template order in both files),
    Casava 1.8 names ``@<name> 1:N:0:ATCACGAT+GTACTGCA``; gzip with mtime 0.
``ids.tsv``
    Two columns, original -> pseudonym, for the planted samples, read groups and libraries.
``forbidden.txt``
    One planted identifying string per line; every one occurs somewhere in the outputs.
``truth.tsv``
    Every planted variant: chrom, pos (1-based), ref, alt, kind (germline/somatic), type
    (snv/mnp/ins/del), genotype_or_vaf, id, population category, af, af_eas, alt reads whose
    soft clip carries the ALT (normal, tumour), notes (``str``, ``decoy_somatic``).
"""

from __future__ import annotations

import argparse
import bisect
import gzip
import hashlib
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pysam

# --- planted identifiers ------------------------------------------------------------------

NORMAL_SAMPLE = "S2301217N_20231029"
TUMOUR_SAMPLE = "S2301217T_20231029"
INSTRUMENT = "M04123"
RUN_NUMBER = "123"
FLOWCELL = "000000000-ABCDE"
HOSPITAL = "SeoulHospital"
PATIENT = "Kim J.H."
REFERENCE_URL = "file:///data/hospital/ref/GRCh38.fa"
REFERENCE_PATH = "/data/hospital/ref/GRCh38.fa"
PATIENT_DIR = "/home/kimjh/patients"
RUN_DIR = "/data/hospital/runs/231029_M04123_0123_000000000-ABCDE"
HOST = "hpc-node07"
RECORDS_WITH_IDENTIFIERS = 3
"""Germline VCF records whose INFO holds the specimen ID and the date of the call."""

FORBIDDEN = [
    NORMAL_SAMPLE,
    TUMOUR_SAMPLE,
    "S2301217",
    "LIB-S2301217N",
    "LIB-S2301217T",
    HOSPITAL,
    PATIENT,
    "kimjh",
    PATIENT_DIR,
    "/data/hospital",
    RUN_DIR,
    HOST,
    "MISEQ-M04123",
    INSTRUMENT,
    f"{INSTRUMENT}:{RUN_NUMBER}:{FLOWCELL}",
    FLOWCELL,
    "ATCACGAT+GTACTGCA",
    "ATCACGAT-GTACTGCA",
    "20231029",
    "2023-10-29",
    "HOSP_VAR_",
]

CHRM_LENGTH = 16569
BASES = np.frombuffer(b"ACGT", dtype=np.uint8)
CODE = {"A": 0, "C": 1, "G": 2, "T": 3}
COMPLEMENT = str.maketrans("ACGT", "TGCA")


@dataclass(frozen=True)
class Sample:
    """One sequenced sample and the identifiers planted in its headers."""

    name: str
    pseudonym: str
    library: str
    library_pseudonym: str
    index: str  # i7+i5, Casava style
    tile_surface: int  # MiSeq tiles 1101-1119 (surface 1) or 2101-2119 (surface 2)
    is_tumour: bool

    def read_group(self, lane: int) -> str:
        return f"{self.name}.L00{lane}"


NORMAL = Sample(NORMAL_SAMPLE, "CMN001_00", "LIB-S2301217N", "CMN001_LIB", "CGATGTTT+AGATCTCG", 1, False)
TUMOUR = Sample(TUMOUR_SAMPLE, "CMT001_00", "LIB-S2301217T", "CMT001_LIB", "ATCACGAT+GTACTGCA", 2, True)


@dataclass
class Repeat:
    contig: str
    start: int  # 0-based
    end: int  # exclusive
    unit: str
    kind: str  # str, homopolymer, low_complexity

    @property
    def name(self) -> str:
        if self.kind == "low_complexity":
            return "LOWCOMPLEXITY"
        return f"STR_{self.unit}x{(self.end - self.start) // len(self.unit)}"


@dataclass
class Variant:
    """A planted variant. ``pos0`` is the 0-based position of REF's first base."""

    contig: str
    pos0: int
    ref: str
    alt: str
    type: str  # snv, mnp, ins, del
    kind: str  # germline, somatic
    haps: tuple[int, int]  # 1 where the ALT is on haplotype 0 / 1
    vaf: float = 0.0
    vid: str = "."
    population: str = ""
    af: list[float] = field(default_factory=list)
    af_eas: list[float] = field(default_factory=list)
    population_alts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    clipped: list[int] = field(default_factory=lambda: [0, 0])  # normal, tumour

    @property
    def genotype(self) -> str:
        return "1/1" if sum(self.haps) == 2 else "0/1"


# --- reference ----------------------------------------------------------------------------

STR_UNITS = ["AGAT", "TCTA", "GATA", "TAGA", "AAAG", "CTTT", "CAG", "TTA", "AAT", "CA", "TG", "AT"]


def make_reference(rng: np.random.Generator, lengths: dict[str, int]) -> tuple[dict[str, np.ndarray], list[Repeat]]:
    """Random sequence in GC-varying segments, with tandem repeats and low-complexity stretches."""
    contigs: dict[str, np.ndarray] = {}
    repeats: list[Repeat] = []
    for name, length in lengths.items():
        seq = np.empty(length, dtype=np.uint8)
        pos = 0
        while pos < length:
            size = min(int(rng.integers(300, 3000)), length - pos)
            gc = rng.uniform(0.32, 0.62)
            seq[pos : pos + size] = rng.choice(4, size=size, p=[(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2])
            pos += size
        count = max(6, length // 2500)
        slots = np.sort(rng.choice(np.arange(400, length - 500, 150), size=count, replace=False))
        last_end = 0
        for slot in slots.tolist():
            if slot < last_end + 100:
                continue
            roll = rng.random()
            if roll < 0.6:
                unit = STR_UNITS[int(rng.integers(len(STR_UNITS)))]
                copies = int(rng.integers(8, 16)) if len(unit) >= 3 else int(rng.integers(10, 25))
                piece = unit * copies
                kind = "str"
            elif roll < 0.8:
                unit = "AT"[int(rng.integers(2))]
                piece = unit * int(rng.integers(12, 26))
                kind = "homopolymer"
            else:
                unit = "AT"
                size = int(rng.integers(40, 90))
                piece = "".join(rng.choice(["A", "T", "A", "T", "A", "T", "G"], size=size).tolist())
                kind = "low_complexity"
            seq[slot : slot + len(piece)] = [CODE[b] for b in piece]
            repeats.append(Repeat(name, slot, slot + len(piece), unit, kind))
            last_end = slot + len(piece)
        contigs[name] = seq
    return contigs, repeats


def decode(codes: np.ndarray) -> str:
    return BASES[codes].tobytes().decode("ascii")


def write_fasta(path: Path, contigs: dict[str, np.ndarray]) -> dict[str, str]:
    """Write FASTA (60 per line) and its .fai; return each contig's MD5 for @SQ M5."""
    digests = {}
    with open(path, "w", encoding="ascii", newline="\n") as out:
        for name, codes in contigs.items():
            text = decode(codes)
            digests[name] = hashlib.md5(text.encode("ascii")).hexdigest()
            out.write(f">{name}\n")
            for start in range(0, len(text), 60):
                out.write(text[start : start + 60] + "\n")
    pysam.faidx(str(path))
    return digests


# --- variants -----------------------------------------------------------------------------

MARGIN = 700  # no variants this close to a contig end, where coverage thins out
SPACING = 15  # free bases kept around every variant so haplotypes never interact


def left_align_deletion(ref: np.ndarray, start: int, size: int) -> int:
    """Leftmost start of a deletion of ref[start:start+size] (VCF 4.2 section 1.6.1, point 4)."""
    while start > 1 and ref[start - 1] == ref[start + size - 1]:
        start -= 1
    return start


def left_align_insertion(ref: np.ndarray, start: int, inserted: list[int]) -> tuple[int, list[int]]:
    """Leftmost placement of ``inserted`` before ref[start], rotating the inserted bases."""
    while start > 1 and ref[start - 1] == inserted[-1]:
        inserted = [inserted[-1], *inserted[:-1]]
        start -= 1
    return start, inserted


class Occupancy:
    """Which reference bases already belong to (or sit next to) a planted variant."""

    def __init__(self, length: int) -> None:
        self.taken = np.zeros(length, dtype=bool)

    def claim(self, start: int, end: int) -> bool:
        lo, hi = max(0, start - SPACING), min(len(self.taken), end + SPACING)
        if lo < MARGIN or hi > len(self.taken) - MARGIN or self.taken[lo:hi].any():
            return False
        self.taken[lo:hi] = True
        return True


def make_indel(ref: np.ndarray, contig: str, start: int, inserted: list[int] | None, size: int) -> Variant:
    """A left-aligned VCF-style indel: deletion of ``size`` bases at ``start`` or insertion before it."""
    if inserted is None:
        start = left_align_deletion(ref, start, size)
        return Variant(contig, start - 1, decode(ref[start - 1 : start + size]), decode(ref[start - 1 : start]), "del", "germline", (0, 0))
    start, inserted = left_align_insertion(ref, start, inserted)
    anchor = decode(ref[start - 1 : start])
    return Variant(contig, start - 1, anchor, anchor + decode(np.array(inserted, dtype=np.uint8)), "ins", "germline", (0, 0))


def indel_size(rng: np.random.Generator) -> int:
    return int(rng.choice([1, 2, 3, 4, 5, 6], p=[0.45, 0.2, 0.12, 0.1, 0.07, 0.06]))


def plan_germline(
    rng: np.random.Generator, contig: str, ref: np.ndarray, repeats: list[Repeat], per_kb: float, occupancy: Occupancy
) -> list[Variant]:
    """Germline variants of the normal sample: STR unit changes, then random SNV/MNP/indels."""
    variants: list[Variant] = []
    for repeat in repeats:
        if repeat.contig != contig or repeat.kind != "str" or rng.random() >= 0.35:
            continue
        unit = [CODE[b] for b in repeat.unit]
        if rng.random() < 0.5:
            variant = make_indel(ref, contig, repeat.end - len(unit), None, len(unit))
        else:
            variant = make_indel(ref, contig, repeat.end, unit, 0)
        if occupancy.claim(variant.pos0, variant.pos0 + len(variant.ref)):
            variant.notes.append("str")
            variants.append(variant)
    target = max(len(variants), round(len(ref) / 1000 * per_kb))
    attempts = 0
    while len(variants) < target and attempts < 100 * target + 100:
        attempts += 1
        start = int(rng.integers(MARGIN, len(ref) - MARGIN))
        roll = rng.random()
        if roll < 0.80:
            alt = (int(ref[start]) + int(rng.integers(1, 4))) % 4
            variant = Variant(contig, start, decode(ref[start : start + 1]), "ACGT"[alt], "snv", "germline", (0, 0))
        elif roll < 0.84:
            size = int(rng.integers(2, 4))
            alts = (ref[start : start + size].astype(np.int64) + rng.integers(1, 4, size)) % 4
            variant = Variant(contig, start, decode(ref[start : start + size]), decode(alts.astype(np.uint8)), "mnp", "germline", (0, 0))
        elif roll < 0.92:
            variant = make_indel(ref, contig, start, rng.integers(0, 4, indel_size(rng)).tolist(), 0)
        else:
            variant = make_indel(ref, contig, start, None, indel_size(rng))
        if occupancy.claim(variant.pos0, variant.pos0 + len(variant.ref)):
            variants.append(variant)
    for variant in variants:
        if contig == "chrM" or rng.random() < 0.35:
            variant.haps = (1, 1)
        else:
            variant.haps = (1, 0) if rng.random() < 0.5 else (0, 1)
    variants.sort(key=lambda v: v.pos0)
    return variants


def plan_somatic(
    rng: np.random.Generator,
    contig: str,
    ref: np.ndarray,
    repeat_mask: np.ndarray,
    n_snv: int,
    indel_types: list[str],
    occupancy: Occupancy,
) -> list[Variant]:
    """Tumour-only variants away from germline sites and repeats, VAF 5-30 % (indels 15-30 %)."""
    variants: list[Variant] = []
    for variant_type in ["snv"] * n_snv + indel_types:
        for _attempt in range(1000):
            start = int(rng.integers(MARGIN, len(ref) - MARGIN))
            if variant_type == "snv":
                alt = (int(ref[start]) + int(rng.integers(1, 4))) % 4
                variant = Variant(contig, start, decode(ref[start : start + 1]), "ACGT"[alt], "snv", "somatic", (0, 0))
                vaf = rng.uniform(0.05, 0.30)
            elif variant_type == "del":
                variant = make_indel(ref, contig, start, None, int(rng.integers(1, 4)))
                vaf = rng.uniform(0.15, 0.30)
            else:
                variant = make_indel(ref, contig, start, rng.integers(0, 4, int(rng.integers(1, 4))).tolist(), 0)
                vaf = rng.uniform(0.15, 0.30)
            end = variant.pos0 + len(variant.ref)
            if repeat_mask[max(0, variant.pos0 - SPACING) : end + SPACING].any():
                continue
            if occupancy.claim(variant.pos0, end):
                variant.kind = "somatic"
                variant.vaf = round(float(vaf), 3)
                variant.haps = (1, 0) if rng.random() < 0.5 else (0, 1)
                variants.append(variant)
                break
    variants.sort(key=lambda v: v.pos0)
    return variants


# --- population resource ------------------------------------------------------------------


def assign_population(rng: np.random.Generator, germline: list[Variant], rsids: Iterator[str], private_ids: Iterator[str]) -> None:
    """Give every germline site a population category, frequencies and an ID.

    Every category gets at least two sites (when any site qualifies), so that even the demo-size
    set exercises each rule of vcf-drop-rare; the rest are drawn at random.
    """
    forced: dict[int, str] = {}
    eligible = {
        "other_allele": lambda v: v.type == "snv",
        "ref_rare": lambda v: v.type == "snv" and v.genotype == "1/1",
        "multiallelic": lambda v: v.type == "snv",
        "rare": lambda v: True,
        "absent": lambda v: True,
    }
    order = rng.permutation(len(germline)).tolist()
    for category, accepts in eligible.items():
        chosen = [i for i in order if i not in forced and accepts(germline[i])][:2]
        forced.update(dict.fromkeys(chosen, category))
    for number, variant in enumerate(germline):
        roll = rng.random()
        snv = variant.type == "snv"
        if number in forced:
            category = forced[number]
        elif roll < 0.10:
            category = "absent"
        elif roll < 0.14 and snv:
            category = "other_allele"
        elif roll < 0.26:
            category = "rare"
        elif roll < 0.30 and snv and variant.genotype == "1/1":
            category = "ref_rare"
        elif roll < 0.38 and snv:
            category = "multiallelic"
        else:
            category = "common"
        variant.population = category
        if category == "absent":
            variant.vid = next(private_ids) if rng.random() < 0.5 else "."
            continue
        if category == "other_allele":
            other = "ACGT".replace(variant.ref, "").replace(variant.alt, "")[int(rng.integers(2))]
            variant.population_alts = [other]
            variant.af_eas = [round(float(rng.uniform(0.05, 0.5)), 4)]
            variant.af = [round(float(rng.uniform(0.05, 0.5)), 4)]
            variant.vid = next(private_ids) if rng.random() < 0.5 else "."
            continue
        if category == "rare":
            af_eas = float(rng.uniform(0.0001, 0.009))
            af = float(rng.uniform(0.02, 0.2)) if rng.random() < 0.5 else float(rng.uniform(0.0001, 0.009))
        elif category == "ref_rare":
            af_eas = float(rng.uniform(0.991, 0.999))
            af = float(rng.uniform(0.9, 0.999))
        else:
            af_eas = float(rng.uniform(0.05, 0.6))
            af = min(0.95, af_eas * float(rng.uniform(0.4, 1.5)))
        variant.population_alts = [variant.alt]
        variant.af_eas = [round(af_eas, 4)]
        variant.af = [round(af, 4)]
        if category == "multiallelic":
            other = "ACGT".replace(variant.ref, "").replace(variant.alt, "")[int(rng.integers(2))]
            other_af = float(rng.uniform(0.0005, 0.008)) if rng.random() < 0.5 else float(rng.uniform(0.02, 0.2))
            other_af = min(other_af, 0.99 - af_eas, 0.99 - af)  # frequencies at a site sum to at most 1
            if rng.random() < 0.5:
                variant.population_alts.append(other)
                variant.af_eas.append(round(other_af, 4))
                variant.af.append(round(other_af, 4))
            else:
                variant.population_alts.insert(0, other)
                variant.af_eas.insert(0, round(other_af, 4))
                variant.af.insert(0, round(other_af, 4))
        variant.vid = next(rsids) if rng.random() < 0.8 else next(private_ids)


def id_streams(rng: np.random.Generator) -> tuple[Iterator[str], Iterator[str]]:
    """Unique rsIDs (random numbers, drawn in order) and sequential private hospital IDs."""

    def rsids() -> Iterator[str]:
        seen: set[int] = set()
        while True:
            number = int(rng.integers(1_000_000, 999_999_999))
            if number not in seen:
                seen.add(number)
                yield f"rs{number}"

    def private() -> Iterator[str]:
        number = 0
        while True:
            number += 1
            yield f"HOSP_VAR_{number:04d}"

    return rsids(), private()


# --- VCF writing --------------------------------------------------------------------------


def contig_lines(lengths: dict[str, int], with_url: bool) -> list[str]:
    if with_url:
        return [f"##contig=<ID={name},length={length},assembly=GRCh38,URL={REFERENCE_URL}>" for name, length in lengths.items()]
    return [f"##contig=<ID={name},length={length}>" for name, length in lengths.items()]


def write_vcf(path: Path, header: list[str], records: list[str]) -> None:
    """Write VCF text, BGZF-compress it through htslib and tabix-index it."""
    text_path = path.with_suffix("")
    text_path.write_text("\n".join(header + records) + "\n", encoding="ascii")
    pysam.tabix_compress(str(text_path), str(path), force=True)
    text_path.unlink()
    pysam.tabix_index(str(path), preset="vcf", force=True)


def germline_vcf(path: Path, lengths: dict[str, int], germline: list[Variant], rng: np.random.Generator) -> None:
    header = [
        "##fileformat=VCFv4.2",
        "##fileDate=20231029",
        "##source=HaplotypeCaller",
        f"##reference={REFERENCE_URL}",
        *contig_lines(lengths, with_url=True),
        '##FILTER=<ID=PASS,Description="All filters passed">',
        f'##FILTER=<ID=LowQual,Description="Low quality (caller run on {NORMAL_SAMPLE})">',
        '##INFO=<ID=DP,Number=1,Type=Integer,Description="Approximate read depth">',
        '##INFO=<ID=SPECIMEN,Number=1,Type=String,Description="Specimen the call was made on (LIMS)">',
        '##INFO=<ID=CALLED,Number=1,Type=String,Description="Date of the call">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype Quality">',
        f'##GATKCommandLine=<ID=HaplotypeCaller,CommandLine="HaplotypeCaller --input {PATIENT_DIR}/{NORMAL_SAMPLE}.bam '
        f'--output {PATIENT_DIR}/{NORMAL_SAMPLE}.g.vcf.gz --reference {REFERENCE_PATH}",Version="4.4.0.0",'
        'Date="October 29, 2023 3:12:45 PM KST">',
        "##bcftools_callVersion=1.16+htslib-1.16",
        f"##bcftools_callCommand=call -mv -Oz -o {PATIENT_DIR}/{NORMAL_SAMPLE}.vcf.gz {PATIENT_DIR}/{NORMAL_SAMPLE}.bcf; "
        "Date=Sun Oct 29 15:12:45 2023",
        f'##SAMPLE=<ID={NORMAL_SAMPLE},Description="Normal blood of patient {PATIENT}, {HOSPITAL}, collected 2023-10-29">',
        f"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{NORMAL_SAMPLE}",
    ]
    records = []
    for index, v in enumerate(germline):
        qual = f"{rng.uniform(60, 3000):.2f}"
        depth = int(rng.integers(20, 41))
        quality = int(rng.integers(40, 100))
        # A LIMS writes the specimen and the date into the first records' INFO: identifiers in record values.
        planted = f";SPECIMEN={NORMAL_SAMPLE};CALLED=2023-10-29" if index < RECORDS_WITH_IDENTIFIERS else ""
        info = f"DP={depth}{planted}"
        records.append(f"{v.contig}\t{v.pos0 + 1}\t{v.vid}\t{v.ref}\t{v.alt}\t{qual}\tPASS\t{info}\tGT:GQ\t{v.genotype}:{quality}")
    write_vcf(path, header, records)


def somatic_header(lengths: dict[str, int], samples: list[str]) -> list[str]:
    return [
        "##fileformat=VCFv4.2",
        "##fileDate=20231029",
        "##source=Mutect2",
        f"##reference={REFERENCE_URL}",
        *contig_lines(lengths, with_url=True),
        '##FILTER=<ID=PASS,Description="All filters passed">',
        '##INFO=<ID=SOMATIC,Number=0,Type=Flag,Description="Somatic mutation">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fractions of alternate alleles in the tumor">',
        f'##GATKCommandLine=<ID=Mutect2,CommandLine="Mutect2 --input {PATIENT_DIR}/{TUMOUR_SAMPLE}.bam '
        f"--input {PATIENT_DIR}/{NORMAL_SAMPLE}.bam --normal-sample {NORMAL_SAMPLE} "
        f'--output {PATIENT_DIR}/{TUMOUR_SAMPLE}.somatic.vcf.gz --reference {REFERENCE_PATH}",Version="4.4.0.0",'
        'Date="October 29, 2023 4:02:11 PM KST">',
        f"##tumor_sample={TUMOUR_SAMPLE}",
        f"##normal_sample={NORMAL_SAMPLE}",
        f"##PEDIGREE=<Derived={TUMOUR_SAMPLE},Original={NORMAL_SAMPLE}>",
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(samples),
    ]


def somatic_vcfs(somatic_path: Path, decoy_path: Path, lengths: dict[str, int], somatic: list[Variant], decoys: list[Variant]) -> None:
    order = {name: index for index, name in enumerate(lengths)}
    records = [f"{v.contig}\t{v.pos0 + 1}\t{v.vid}\t{v.ref}\t{v.alt}\t.\tPASS\tSOMATIC\tGT:AF\t0/1:{v.vaf:.3f}\t0/0:0.000" for v in somatic]
    write_vcf(somatic_path, somatic_header(lengths, [TUMOUR_SAMPLE, NORMAL_SAMPLE]), records)
    tumour_only = [(v, f"0/1:{v.vaf:.3f}") for v in somatic] + [(v, "1/1:1.000" if v.genotype == "1/1" else "0/1:0.500") for v in decoys]
    tumour_only.sort(key=lambda item: (order[item[0].contig], item[0].pos0))
    records = [f"{v.contig}\t{v.pos0 + 1}\t{v.vid}\t{v.ref}\t{v.alt}\t.\tPASS\tSOMATIC\tGT:AF\t{sample}" for v, sample in tumour_only]
    write_vcf(decoy_path, somatic_header(lengths, [TUMOUR_SAMPLE]), records)


def population_vcf(
    path: Path, lengths: dict[str, int], germline: list[Variant], extra: list[tuple[str, int, str, str, str, float, float]]
) -> None:
    header = [
        "##fileformat=VCFv4.2",
        "##source=genoscrub-simulated-population",
        *contig_lines(lengths, with_url=False),
        '##INFO=<ID=AF,Number=A,Type=Float,Description="Alternate allele frequency, all populations">',
        '##INFO=<ID=AF_eas,Number=A,Type=Float,Description="Alternate allele frequency, East Asian">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
    ]
    order = {name: index for index, name in enumerate(lengths)}
    rows: list[tuple[int, int, str]] = []
    for v in germline:
        if v.population == "absent":
            continue
        vid = v.vid if v.vid.startswith("rs") else "."
        af = ",".join(f"{x:g}" for x in v.af)
        af_eas = ",".join(f"{x:g}" for x in v.af_eas)
        rows.append(
            (
                order[v.contig],
                v.pos0,
                f"{v.contig}\t{v.pos0 + 1}\t{vid}\t{v.ref}\t{','.join(v.population_alts)}\t.\tPASS\tAF={af};AF_eas={af_eas}",
            )
        )
    for contig, pos0, vid, ref, alt, af_value, af_eas_value in extra:
        rows.append((order[contig], pos0, f"{contig}\t{pos0 + 1}\t{vid}\t{ref}\t{alt}\t.\tPASS\tAF={af_value:g};AF_eas={af_eas_value:g}"))
    rows.sort(key=lambda row: (row[0], row[1]))
    write_vcf(path, header, [row[2] for row in rows])


# --- haplotypes ---------------------------------------------------------------------------


@dataclass
class Haplotypes:
    """The haplotype sequences of one contig, concatenated, with their map back to the reference.

    ``refmap[i]`` is the reference position of haplotype base i, or -1 for an inserted base;
    ``carriers[h]`` lists the germline SNV/MNP ALTs on haplotype h:
    (haplotype position, length, germline index).
    """

    seq: np.ndarray
    refmap: np.ndarray
    offsets: np.ndarray
    ref_to_hap: np.ndarray
    carriers: list[tuple[np.ndarray, np.ndarray, np.ndarray]]


def build_haplotype(ref: np.ndarray, variants: list[Variant]) -> tuple[np.ndarray, np.ndarray]:
    seqs: list[np.ndarray] = []
    maps: list[np.ndarray] = []
    cursor = 0
    for v in sorted(variants, key=lambda x: x.pos0):
        seqs.append(ref[cursor : v.pos0])
        maps.append(np.arange(cursor, v.pos0, dtype=np.int32))
        alt = np.array([CODE[b] for b in v.alt], dtype=np.uint8)
        if v.type in ("snv", "mnp"):
            refmap = np.arange(v.pos0, v.pos0 + len(alt), dtype=np.int32)
        elif v.type == "ins":
            refmap = np.array([v.pos0] + [-1] * (len(alt) - 1), dtype=np.int32)
        else:
            refmap = np.array([v.pos0], dtype=np.int32)
        seqs.append(alt)
        maps.append(refmap)
        cursor = v.pos0 + len(v.ref)
    seqs.append(ref[cursor:])
    maps.append(np.arange(cursor, len(ref), dtype=np.int32))
    return np.concatenate(seqs), np.concatenate(maps)


def build_haplotypes(ref: np.ndarray, germline: list[Variant], somatic_indels: list[Variant], tumour: bool) -> Haplotypes:
    """Haplotypes 0 and 1 carry the germline ALTs; for the tumour, 2 and 3 add the somatic indels.

    Filled in place, one haplotype at a time, so that a 5 Mb contig costs ~60 bytes per base.
    """
    per_hap: list[list[Variant]] = [[v for v in germline if v.haps[h]] for h in (0, 1)]
    if tumour:
        per_hap += [per_hap[h] + [v for v in somatic_indels if v.haps[h]] for h in (0, 1)]
    sizes = [len(ref) + sum(len(v.alt) - len(v.ref) for v in variants) for variants in per_hap]
    total = sum(sizes)
    seq_all = np.empty(total, dtype=np.uint8)
    refmap_all = np.empty(total, dtype=np.int32)
    ref_to_hap = np.empty((len(per_hap), len(ref)), dtype=np.int32)
    offsets = np.cumsum([0, *sizes[:-1]]).astype(np.int64)
    germline_index = {id(v): i for i, v in enumerate(germline)}
    carriers = []
    for h, variants in enumerate(per_hap):
        seq, refmap = build_haplotype(ref, variants)
        end = offsets[h] + len(seq)
        seq_all[offsets[h] : end] = seq
        refmap_all[offsets[h] : end] = refmap
        to_hap = ref_to_hap[h]
        present = np.flatnonzero(refmap >= 0).astype(np.int32)
        to_hap[refmap[present]] = present
        del present
        for v in variants:
            if v.type == "del":  # deleted reference bases map to the next base present
                to_hap[v.pos0 + 1 : v.pos0 + len(v.ref)] = to_hap[v.pos0 + len(v.ref)]
        substitutions = [v for v in variants if v.kind == "germline" and v.type in ("snv", "mnp")]
        carriers.append(
            (
                np.array([to_hap[v.pos0] for v in substitutions], dtype=np.int64),
                np.array([len(v.alt) for v in substitutions], dtype=np.int64),
                np.array([germline_index[id(v)] for v in substitutions], dtype=np.int64),
            )
        )
    return Haplotypes(seq_all, refmap_all, offsets, ref_to_hap, carriers)


# --- alignment records ---------------------------------------------------------------------


def md_from_mismatches(columns: list[int], ref_bases: str, aligned: int) -> str:
    """MD:Z for an ungapped alignment with mismatches at ``columns`` (SAM tags spec, MD)."""
    parts = []
    last = 0
    for column, base in zip(columns, ref_bases, strict=True):
        parts.append(f"{column - last}{base}")
        last = column + 1
    parts.append(str(aligned - last))
    return "".join(parts)


def align_segment(
    seq: np.ndarray, refmap: np.ndarray, clip_left: int, clip_right: int, ref: np.ndarray, ref_text: str
) -> tuple[int, str, str, int, int, int, int]:
    """Alignment of a read whose bases came from a haplotype span (the truth, not a search).

    Returns (pos, CIGAR, MD, NM, reference end, clip_left, clip_right); clips grow over
    inserted bases at either end, because an alignment may not start or end with I.
    """
    n = len(seq)
    first, last = clip_left, n - clip_right
    while first < last and refmap[first] < 0:
        first += 1
    while last > first and refmap[last - 1] < 0:
        last -= 1
    span = refmap[first:last]
    head = f"{first}S" if first else ""
    tail = f"{n - last}S" if n - last else ""
    if (np.diff(span) == 1).all():  # no indel in the aligned part: vectorised
        pos = int(span[0])
        mismatch = np.flatnonzero(seq[first:last] != ref[pos : pos + last - first])
        columns = mismatch.tolist()
        ungapped_md = md_from_mismatches(columns, "".join(ref_text[pos + c] for c in columns), last - first)
        return pos, f"{head}{last - first}M{tail}", ungapped_md, len(columns), pos + last - first, first, n - last
    ops: list[list] = []
    md: list[str] = []
    nm = 0
    run = 0
    previous = -1
    seq_list = seq.tolist()
    for i, position in enumerate(span.tolist(), start=first):
        if position < 0:
            op = "I"
            nm += 1
        else:
            if previous >= 0 and position != previous + 1:
                gap = position - previous - 1
                ops.append([gap, "D"])
                md.append(f"{run}^{ref_text[previous + 1 : position]}")
                run = 0
                nm += gap
            op = "M"
            if seq_list[i] != ref[position]:
                md.append(f"{run}{ref_text[position]}")
                run = 0
                nm += 1
            else:
                run += 1
            previous = position
        if ops and ops[-1][1] == op:
            ops[-1][0] += 1
        else:
            ops.append([1, op])
    md.append(str(run))
    cigar = head + "".join(f"{size}{op}" for size, op in ops) + tail
    return int(span[0]), cigar, "".join(md), nm, previous + 1, first, n - last


def revcomp(text: str) -> str:
    return text.translate(COMPLEMENT)[::-1]


class ReadFactory:
    """Makes the read pairs of one sample, batch by batch, as SAM lines and FASTQ records."""

    def __init__(self, sample: Sample, rng: np.random.Generator, read_length: int, contig_names: list[str]) -> None:
        self.sample = sample
        self.rng = rng
        self.read_length = read_length
        self.contig_names = contig_names
        self.mean_fragment = 3 * read_length
        self.max_fragment = 6 * read_length
        self.templates = 0
        self.order = 0
        profile = np.arange(read_length) / read_length
        bank = 37.5 - 9 * profile**2 + rng.normal(0, 2.5, (2048, read_length))
        bank -= (rng.random((2048, 1)) < 0.08) * 7  # a few poorer reads
        dips = rng.random(bank.shape) < 0.03
        bank[dips] = rng.integers(8, 25, int(dips.sum()))
        self.quality_bank = np.clip(np.rint(bank), 2, 41).astype(np.uint8)
        self.counts = {
            "mapped_pairs": 0,
            "unmapped_mate_pairs": 0,
            "unmapped_pairs": 0,
            "chimeric_reads": 0,
            "soft_clipped_reads": 0,
            "clip_carrier_reads": 0,
        }

    def read_name(self, template: int, lane: int) -> str:
        tile = self.sample.tile_surface * 1000 + 101 + template % 19
        q = template // 19
        # x fixes q mod 28000 (7919 is coprime to 28000), y's residue mod 37 fixes q // 28000: unique names
        x = 1000 + (q % 28000) * 7919 % 28000
        y = 1000 + q // 28000 + 37 * (q * 7 % 600)
        return f"{INSTRUMENT}:{RUN_NUMBER}:{FLOWCELL}:{lane}:{tile}:{x}:{y}"

    def batch(
        self,
        contig: str,
        ref: np.ndarray,
        ref_text: str,
        haps: Haplotypes,
        starts: np.ndarray,
        germline: list[Variant],
        somatic_snvs: list[Variant],
        somatic_indels: list[Variant],
        seen: dict[int, bool],
    ) -> tuple[list[tuple[int, int, str]], list[str], list[str]]:
        """SAM lines (with sort keys) and FASTQ records for the templates starting at ``starts``."""
        rng = self.rng
        n = len(starts)
        length = self.read_length
        columns = np.arange(length)
        base_hap = rng.integers(0, 2, n)
        hap = base_hap.copy()
        fragment = np.clip(np.rint(rng.normal(self.mean_fragment, self.read_length * 0.5, n)), length, self.max_fragment).astype(np.int64)
        r1_left = rng.random(n) < 0.5
        lanes = rng.integers(1, 3, n)
        # special templates: one mate unmapped (junk), or a chimeric left read
        unmapped_side = np.where(rng.random(n) < 0.002, rng.integers(0, 2, n), -1)
        chimera_offset = rng.integers(3000, 8000, n)
        chimera = (rng.random(n) < 0.0015) & (unmapped_side < 0) & (starts + chimera_offset + length + 10 < len(ref))
        special = (unmapped_side >= 0) | chimera
        no_clip = np.zeros(2 * n, dtype=bool)

        # somatic indels live on haplotypes 2/3: switch a fragment there with probability 2*VAF
        if self.sample.is_tumour:
            indel_positions = [v.pos0 for v in somatic_indels]
            first = bisect.bisect_left(indel_positions, int(starts[0]))
            last = bisect.bisect_left(indel_positions, int(starts[-1]) + self.max_fragment)
            for variant in somatic_indels[first:last]:
                lo = np.searchsorted(starts, variant.pos0 - self.max_fragment)
                hi = np.searchsorted(starts, variant.pos0, side="right")
                index = np.arange(lo, hi)
                carrier = 0 if variant.haps[0] else 1
                index = index[(base_hap[index] == carrier) & ~special[index]]
                r0, size = starts[index], fragment[index]
                p = variant.pos0
                covered = ((p >= r0 + 5) & (p < r0 + length - 5)) | ((p >= r0 + size - length + 5) & (p < r0 + size - 5))
                index = index[covered]
                draw = rng.random(len(index)) < 2 * variant.vaf
                key = id(variant)
                if len(index) and not seen.get(key):
                    draw[0] = True
                if draw.any():
                    seen[key] = True
                hap[index[draw]] += 2
                no_clip[index[draw]] = True
                no_clip[n + index[draw]] = True

        h0 = haps.ref_to_hap[hap, starts].astype(np.int64)
        left_start = h0
        right_start = h0 + fragment - length
        hap_start = np.concatenate([left_start, right_start])
        hap2 = np.concatenate([hap, hap])
        global_start = haps.offsets[hap2] + hap_start
        seq = haps.seq[global_start[:, None] + columns]

        # chimeras: the left read's tail comes from a locus downstream (supplementary alignment)
        chimera_rows = np.flatnonzero(chimera)
        chimera_info: dict[int, tuple[int, int]] = {}
        for i in chimera_rows.tolist():
            tail = int(rng.integers(25, length // 2 + 1))
            target = int(haps.offsets[hap[i]] + haps.ref_to_hap[hap[i], starts[i] + chimera_offset[i]])
            if haps.refmap[target] < 0 or not (np.diff(haps.refmap[target : target + tail]) == 1).all():
                chimera[i] = False
                continue
            seq[i, length - tail :] = haps.seq[target : target + tail]
            chimera_info[i] = (target, tail)
        special = (unmapped_side >= 0) | chimera

        # sequencing errors and base qualities (cycle order; reverse-strand rows flipped)
        quality = self.quality_bank[rng.integers(0, len(self.quality_bank), 2 * n)]
        quality[n:] = quality[n:, ::-1]
        n_errors = int(rng.binomial(2 * n * length, 0.002))
        error_rows = rng.integers(0, 2 * n, n_errors)
        cycles = np.where(
            rng.random(n_errors) < 0.5, rng.integers(0, length, n_errors), (length * np.sqrt(rng.random(n_errors))).astype(np.int64)
        )
        error_columns = np.where(error_rows < n, cycles, length - 1 - cycles)
        seq[error_rows, error_columns] = (seq[error_rows, error_columns] + rng.integers(1, 4, n_errors)) % 4
        quality[error_rows, error_columns] = rng.integers(2, 20, n_errors)

        # somatic SNVs: per fragment with probability 2*VAF on the carrier haplotype
        if self.sample.is_tumour and somatic_snvs:
            snv_positions = [v.pos0 for v in somatic_snvs]
            first = bisect.bisect_left(snv_positions, int(starts[0]))
            last = bisect.bisect_left(snv_positions, int(starts[-1]) + self.max_fragment)
            for variant in somatic_snvs[first:last]:
                p = variant.pos0
                lo = np.searchsorted(starts, p - self.max_fragment)
                hi = np.searchsorted(starts, p, side="right")
                if lo == hi:
                    continue
                index = np.arange(lo, hi)
                carrier = 0 if variant.haps[0] else 1
                index = index[(base_hap[index] == carrier) & ~special[index]]
                hp = haps.ref_to_hap[hap[index], p].astype(np.int64)
                in_left = (hp >= left_start[index]) & (hp < left_start[index] + length)
                in_right = (hp >= right_start[index]) & (hp < right_start[index] + length)
                keep = in_left | in_right
                index, hp, in_left, in_right = index[keep], hp[keep], in_left[keep], in_right[keep]
                draw = rng.random(len(index)) < 2 * variant.vaf
                key = id(variant)
                if len(index) and not seen.get(key):
                    draw[0] = True
                if draw.any():
                    seen[key] = True
                alt = CODE[variant.alt]
                rows = index[draw & in_left]
                seq[rows, hp[draw & in_left] - left_start[rows]] = alt
                no_clip[rows] = True
                rows = index[draw & in_right]
                seq[n + rows, hp[draw & in_right] - right_start[rows]] = alt
                no_clip[n + rows] = True

        # junk for unmapped mates
        for i in np.flatnonzero(unmapped_side >= 0).tolist():
            row = i if unmapped_side[i] == 0 else n + i
            seq[row] = rng.integers(0, 4, length)
            no_clip[row] = True

        # soft clips: some chosen so that the clip carries a germline ALT, some at random
        clip_left = np.zeros(2 * n, dtype=np.int64)
        clip_right = np.zeros(2 * n, dtype=np.int64)
        extra = rng.integers(0, 5, 2 * n)
        choose_clip = rng.random(2 * n)
        prefer_left = rng.random(2 * n) < 0.5
        for h, (positions, sizes, _index) in enumerate(haps.carriers):
            rows = np.flatnonzero(hap2 == h)
            if not len(positions) or not len(rows):
                continue
            s = hap_start[rows]
            j = np.searchsorted(positions, s)
            has_left = j < len(positions)
            jl = np.minimum(j, len(positions) - 1)
            left_clip = positions[jl] - s + sizes[jl] + extra[rows]
            can_left = has_left & (positions[jl] - s < 30)
            j2 = np.searchsorted(positions, s + length) - 1
            jr = np.maximum(j2, 0)
            right_clip = s + length - positions[jr] + extra[rows]
            can_right = (j2 >= 0) & (positions[jr] >= s + length - 30) & (positions[jr] + sizes[jr] <= s + length)
            clip = (can_left | can_right) & (choose_clip[rows] < 0.2)
            use_left = can_left & (~can_right | prefer_left[rows])
            clip_left[rows[clip & use_left]] = left_clip[clip & use_left]
            clip_right[rows[clip & ~use_left]] = right_clip[clip & ~use_left]
        random_clip = (choose_clip > 0.99) & (clip_left == 0) & (clip_right == 0)
        random_size = rng.integers(3, 21, 2 * n)
        clip_left[random_clip & prefer_left] = random_size[random_clip & prefer_left]
        clip_right[random_clip & ~prefer_left] = random_size[random_clip & ~prefer_left]
        bad = no_clip | (clip_left + clip_right > length - 30) | np.concatenate([special, special])
        clip_left[bad] = 0
        clip_right[bad] = 0
        for i in chimera_info:
            clip_right[i] = chimera_info[i][1]

        # alignments: fast path (no indel, no clip) vectorised, the rest one by one
        refmap_rows = haps.refmap[global_start[:, None] + columns]
        contiguous = (refmap_rows[:, 0] >= 0) & (np.diff(refmap_rows, axis=1) == 1).all(axis=1)
        fast = contiguous & (clip_left == 0) & (clip_right == 0)
        positions_out = np.where(fast, haps.refmap[global_start], 0).astype(np.int64)
        ends_out = positions_out + length
        cigars: list[str] = [f"{length}M"] * (2 * n)
        mds: list[str] = [str(length)] * (2 * n)
        nms = [0] * (2 * n)
        fast_rows = np.flatnonzero(fast)
        ref_window = ref[positions_out[fast_rows][:, None] + columns]
        mismatch = ref_window != seq[fast_rows]
        mm_rows, mm_cols = np.nonzero(mismatch)
        if len(mm_rows):
            ref_letters = BASES[ref_window[mm_rows, mm_cols]].tobytes().decode("ascii")
            boundaries = np.flatnonzero(np.diff(mm_rows)) + 1
            starts_mm = [0, *boundaries.tolist()]
            ends_mm = [*boundaries.tolist(), len(mm_rows)]
            cols_list = mm_cols.tolist()
            rows_list = fast_rows[mm_rows].tolist()
            for a, b in zip(starts_mm, ends_mm, strict=True):
                row = rows_list[a]
                mds[row] = md_from_mismatches(cols_list[a:b], ref_letters[a:b], length)
                nms[row] = b - a
        positions_list = positions_out.tolist()
        ends_list = ends_out.tolist()
        carriers_hit = 0
        for row in np.flatnonzero(~fast).tolist():
            pos, cigar, md, nm, end, first, tail = align_segment(
                seq[row], refmap_rows[row], int(clip_left[row]), int(clip_right[row]), ref, ref_text
            )
            positions_list[row], cigars[row], mds[row], nms[row], ends_list[row] = pos, cigar, md, nm, end
            if (first or tail) and not (row < n and chimera[row]):
                self.counts["soft_clipped_reads"] += 1
                carriers_hit += self.count_clip_carriers(
                    haps, int(hap2[row]), int(hap_start[row]), seq[row].tolist(), first, tail, germline
                )

        self.counts["clip_carrier_reads"] += carriers_hit
        return self.assemble(
            contig,
            n,
            seq,
            quality,
            positions_list,
            ends_list,
            cigars,
            mds,
            nms,
            r1_left,
            lanes,
            unmapped_side,
            chimera_info,
            ref,
            ref_text,
            haps,
        )

    def count_clip_carriers(
        self, haps: Haplotypes, h: int, start: int, row_seq: list[int], first: int, tail: int, germline: list[Variant]
    ) -> int:
        """Count germline ALTs that a soft clip of this read carries intact (truth.tsv)."""
        positions, sizes, index = haps.carriers[h]
        hits = 0
        offset = int(haps.offsets[h])
        length = len(row_seq)
        for lo, hi in ((start, start + first), (start + length - tail, start + length)):
            if hi <= lo:
                continue
            for j in range(int(np.searchsorted(positions, lo)), len(positions)):
                p, size = int(positions[j]), int(sizes[j])
                if p + size > hi:
                    break
                read_bases = row_seq[p - start : p - start + size]
                if read_bases == haps.seq[offset + p : offset + p + size].tolist():
                    germline[int(index[j])].clipped[1 if self.sample.is_tumour else 0] += 1
                    hits += 1
        return hits

    def assemble(
        self,
        contig: str,
        n: int,
        seq: np.ndarray,
        quality: np.ndarray,
        positions: list[int],
        ends: list[int],
        cigars: list[str],
        mds: list[str],
        nms: list[int],
        r1_left: np.ndarray,
        lanes: np.ndarray,
        unmapped_side: np.ndarray,
        chimera_info: dict[int, tuple[int, int]],
        ref: np.ndarray,
        ref_text: str,
        haps: Haplotypes,
    ) -> tuple[list[tuple[int, int, str]], list[str], list[str]]:
        rng = self.rng
        length = self.read_length
        rows = 2 * n
        mapq = np.where(rng.random(rows) < 0.95, 60, rng.integers(0, 60, rows)).tolist()
        with_pg = (rng.random(rows) < 0.3).tolist()
        with_oq = rng.random(rows) < 0.2
        with_r2 = (rng.random(rows) < 0.05).tolist()
        with_xa = (rng.random(rows) < 0.02).tolist()
        xa_contig = rng.integers(0, len(self.contig_names), rows).tolist()
        xa_pos = rng.integers(1, 1_000_000, rows).tolist()
        xa_strand = (rng.random(rows) < 0.5).tolist()
        # recalibrated qualities where an OQ keeps the original (GATK BQSR)
        final_quality = quality.copy()
        shift = rng.integers(-3, 2, (rows, 1))
        final_quality[with_oq] = np.clip(quality[with_oq].astype(np.int16) + shift[with_oq], 2, 41).astype(np.uint8)
        seq_text = BASES[seq].tobytes().decode("ascii")
        qual_text = (final_quality + 33).tobytes().decode("ascii")
        original_text = (quality + 33).tobytes().decode("ascii")
        # as sequenced: left rows as stored, right rows reverse-complemented
        fq_seq = np.concatenate([seq[:n], 3 - seq[n:, ::-1]])
        fq_qual = np.concatenate([final_quality[:n], final_quality[n:, ::-1]])
        fq_seq_text = BASES[fq_seq].tobytes().decode("ascii")
        fq_qual_text = (fq_qual + 33).tobytes().decode("ascii")
        # per-row fields, vectorised: left rows are forward (mate reverse), right rows reverse
        mate_of = np.concatenate([np.arange(n, rows), np.arange(n)])
        read_bit = np.where(np.concatenate([r1_left, ~r1_left]), 0x40, 0x80)
        flags = (0x1 | 0x2 | np.where(np.arange(rows) < n, 0x20, 0x10) | read_bit).tolist()
        position = np.array(positions, dtype=np.int64)
        end = np.array(ends, dtype=np.int64)
        span = np.maximum(end[:n], end[n:]) - np.minimum(position[:n], position[n:])
        left_first = position[:n] <= position[n:]
        tlens = np.concatenate([np.where(left_first, span, -span), np.where(left_first, -span, span)]).tolist()
        as_scores = np.maximum(0, end - position - 5 * np.array(nms)).tolist()
        read_bits = read_bit.tolist()
        mate_list = mate_of.tolist()
        pos1 = (position + 1).tolist()
        rg_of = {1: self.sample.read_group(1), 2: self.sample.read_group(2)}
        names = [self.read_name(self.templates + i, lane) for i, lane in enumerate(lanes.tolist())]
        read_groups = [rg_of[lane] for lane in lanes.tolist()]
        with_oq_list = with_oq.tolist()
        unmapped_list = unmapped_side.tolist()
        index_seq = self.sample.index
        records: list[tuple[int, int, str]] = []
        fastq1: list[str] = []
        fastq2: list[str] = []
        for i, (name, r1_is_left) in enumerate(zip(names, r1_left.tolist(), strict=True)):
            r1_row, r2_row = (i, n + i) if r1_is_left else (n + i, i)
            fastq1.append(
                f"@{name} 1:N:0:{index_seq}\n{fq_seq_text[r1_row * length : (r1_row + 1) * length]}\n+\n"
                f"{fq_qual_text[r1_row * length : (r1_row + 1) * length]}\n"
            )
            fastq2.append(
                f"@{name} 2:N:0:{index_seq}\n{fq_seq_text[r2_row * length : (r2_row + 1) * length]}\n+\n"
                f"{fq_qual_text[r2_row * length : (r2_row + 1) * length]}\n"
            )

        sa_tags: dict[int, str] = {}
        for left, (target, tail) in chimera_info.items():
            # supplementary alignment of the chimeric tail (hard-clipped), SA tags both ways
            right = n + left
            name, rg = names[left], read_groups[left]
            head = length - tail
            supp_pos, supp_cigar, supp_md, supp_nm, _end, _a, _b = align_segment(
                seq[left, head:], haps.refmap[target : target + tail], 0, 0, ref, ref_text
            )
            sa_tags[left] = f"\tSA:Z:{contig},{supp_pos + 1},+,{head}S{supp_cigar},60,{supp_nm};"
            records.append(
                (
                    supp_pos,
                    self.order + 4 * left + 2,
                    f"{name}\t{flags[left] | 0x800}\t{contig}\t{supp_pos + 1}\t60\t{head}H{supp_cigar}\t=\t{pos1[right]}\t"
                    f"{tlens[left]}\t{seq_text[left * length + head : (left + 1) * length]}\t"
                    f"{qual_text[left * length + head : (left + 1) * length]}\tNM:i:{supp_nm}\tMD:Z:{supp_md}\t"
                    f"MC:Z:{cigars[right]}\tMQ:i:{mapq[right]}\tAS:i:{max(0, tail - 5 * supp_nm)}\tRG:Z:{rg}"
                    f"\tSA:Z:{contig},{pos1[left]},+,{cigars[left]},{mapq[left]},{nms[left]};",
                )
            )
            self.counts["chimeric_reads"] += 1

        for i in np.flatnonzero(unmapped_side >= 0).tolist():
            # one mate unmapped: placed at its mate's position (SAM spec 2.4.1), no MC/TLEN on the mate
            lost, kept = (i, n + i) if unmapped_list[i] == 0 else (n + i, i)
            name, rg = names[i], read_groups[i]
            reverse = 0x10 if kept >= n else 0
            order = self.order + 4 * i
            records.append(
                (
                    positions[kept],
                    order,
                    f"{name}\t{0x1 | 0x8 | reverse | read_bits[kept]}\t{contig}\t{pos1[kept]}\t{mapq[kept]}\t{cigars[kept]}\t=\t"
                    f"{pos1[kept]}\t0\t{seq_text[kept * length : (kept + 1) * length]}\t{qual_text[kept * length : (kept + 1) * length]}\t"
                    f"NM:i:{nms[kept]}\tMD:Z:{mds[kept]}\tAS:i:{as_scores[kept]}\tRG:Z:{rg}",
                )
            )
            records.append(
                (
                    positions[kept],
                    order + 1,
                    f"{name}\t{0x1 | 0x4 | (0x20 if reverse else 0) | read_bits[lost]}\t{contig}\t{pos1[kept]}\t0\t*\t=\t{pos1[kept]}\t0\t"
                    f"{fq_seq_text[lost * length : (lost + 1) * length]}\t{fq_qual_text[lost * length : (lost + 1) * length]}\t"
                    f"MC:Z:{cigars[kept]}\tMQ:i:{mapq[kept]}\tRG:Z:{rg}",
                )
            )
            self.counts["unmapped_mate_pairs"] += 1

        paired = unmapped_side < 0
        self.counts["mapped_pairs"] += int(paired.sum())
        for row in np.flatnonzero(np.concatenate([paired, paired])).tolist():
            i = row if row < n else row - n
            mate = mate_list[row]
            tags = ""
            if with_pg[row]:
                tags += "\tPG:Z:bwa"
            if with_oq_list[row]:
                tags += f"\tOQ:Z:{original_text[row * length : (row + 1) * length]}"
            if with_r2[row]:
                tags += (
                    f"\tR2:Z:{fq_seq_text[mate * length : (mate + 1) * length]}\tQ2:Z:{fq_qual_text[mate * length : (mate + 1) * length]}"
                )
            if with_xa[row]:
                tags += (
                    f"\tXA:Z:{self.contig_names[xa_contig[row]]},{'+' if xa_strand[row] else '-'}{xa_pos[row]},{length}M,{nms[row] + 2};"
                )
            if row in sa_tags:
                tags += sa_tags[row]
            records.append(
                (
                    positions[row],
                    self.order + 4 * i + (row >= n),
                    f"{names[i]}\t{flags[row]}\t{contig}\t{pos1[row]}\t{mapq[row]}\t{cigars[row]}\t=\t{pos1[mate]}\t{tlens[row]}\t"
                    f"{seq_text[row * length : (row + 1) * length]}\t{qual_text[row * length : (row + 1) * length]}\t"
                    f"NM:i:{nms[row]}\tMD:Z:{mds[row]}\tMC:Z:{cigars[mate]}\tMQ:i:{mapq[mate]}\tAS:i:{as_scores[row]}\tRG:Z:{read_groups[i]}{tags}",
                )
            )
        self.templates += n
        self.order += 4 * n
        return records, fastq1, fastq2

    def unmapped_pairs(self, count: int) -> tuple[list[str], list[str], list[str]]:
        """Fully unmapped pairs (adapter dimers, contamination) that sort after every contig."""
        rng = self.rng
        length = self.read_length
        lines, fastq1, fastq2 = [], [], []
        for _ in range(count):
            lane = int(rng.integers(1, 3))
            name = self.read_name(self.templates, lane)
            self.templates += 1
            rg = self.sample.read_group(lane)
            reads = []
            for flag, number in ((77, 1), (141, 2)):
                bases = decode(rng.integers(0, 4, length).astype(np.uint8))
                quals = (self.quality_bank[int(rng.integers(len(self.quality_bank)))] + 33).tobytes().decode("ascii")
                lines.append(f"{name}\t{flag}\t*\t0\t0\t*\t*\t0\t0\t{bases}\t{quals}\tRG:Z:{rg}")
                reads.append(f"@{name} {number}:N:0:{self.sample.index}\n{bases}\n+\n{quals}\n")
            fastq1.append(reads[0])
            fastq2.append(reads[1])
            self.counts["unmapped_pairs"] += 1
        return lines, fastq1, fastq2


def bam_header(sample: Sample, lengths: dict[str, int], digests: dict[str, str]) -> str:
    lines = ["@HD\tVN:1.6\tSO:coordinate"]
    for name, length in lengths.items():
        lines.append(f"@SQ\tSN:{name}\tLN:{length}\tM5:{digests[name]}\tUR:{REFERENCE_URL}\tAS:GRCh38")
    barcode = sample.index.replace("+", "-")
    for lane in (1, 2):
        lines.append(
            f"@RG\tID:{sample.read_group(lane)}\tSM:{sample.name}\tLB:{sample.library}\t"
            f"PU:MISEQ-{INSTRUMENT}:{RUN_NUMBER}:{FLOWCELL}:{lane}\tCN:{HOSPITAL}\tDT:2023-10-29\tPL:ILLUMINA\tPM:MiSeq\t"
            f"PI:350\tBC:{barcode}\tDS:patient {PATIENT}"
        )
    stem = f"{PATIENT_DIR}/{sample.name}"
    read_group = sample.read_group(1)
    lines.append(
        f"@PG\tID:bwa\tPN:bwa\tVN:0.7.17\tCL:bwa mem -t 8 -R @RG\\tID:{read_group}\\tSM:{sample.name}\\tLB:{sample.library} "
        f"{REFERENCE_PATH} {stem}_R1.fastq.gz {stem}_R2.fastq.gz"
    )
    lines.append(f"@PG\tID:samtools\tPN:samtools\tPP:bwa\tVN:1.16\tCL:samtools sort -@ 8 -o {stem}.bam {stem}.unsorted.bam")
    lines.append(f"@CO\tanalysis directory {RUN_DIR} on {HOST}, operator kimjh")
    return "\n".join(lines) + "\n"


class FastqPair:
    """The R1/R2 gzip streams, compressed by one background thread (zlib releases the GIL).

    gzip members carry no file name and mtime 0, so the bytes depend only on the content.
    """

    def __init__(self, paths: list[Path]) -> None:
        self.raw = [open(path, "wb") for path in paths]  # noqa: SIM115 - closed in close()
        self.streams = [gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=1, mtime=0) for raw in self.raw]
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.pending: list[Future[None]] = []

    def _write(self, first: bytes, second: bytes) -> None:
        self.streams[0].write(first)
        self.streams[1].write(second)

    def write(self, first: list[str], second: list[str]) -> None:
        self.pending.append(self.pool.submit(self._write, "".join(first).encode("ascii"), "".join(second).encode("ascii")))
        while len(self.pending) > 2:  # bounded memory: at most two batches in flight
            self.pending.pop(0).result()

    def close(self) -> None:
        for future in self.pending:
            future.result()
        self.pool.shutdown()
        for stream in self.streams:
            stream.close()
        for raw in self.raw:
            raw.close()


def write_sample(
    out_dir: Path,
    sample: Sample,
    rng: np.random.Generator,
    contigs: dict[str, np.ndarray],
    digests: dict[str, str],
    germline: dict[str, list[Variant]],
    somatic: dict[str, list[Variant]],
    pairs: int,
    read_length: int,
    batch_size: int = 10000,
) -> dict[str, int]:
    """Stream one sample's reads to a coordinate-sorted BAM (and FASTQ for the tumour)."""
    lengths = {name: len(seq) for name, seq in contigs.items()}
    header = pysam.AlignmentHeader.from_text(bam_header(sample, lengths, digests))
    factory = ReadFactory(sample, rng, read_length, list(contigs))
    unmapped = max(3, pairs // 1000)
    usable = {name: length - factory.max_fragment - 2 for name, length in lengths.items()}
    total = sum(usable.values())
    per_contig = rng.multinomial(pairs - unmapped, [usable[name] / total for name in contigs])
    bam_path = out_dir / ("tumour.bam" if sample.is_tumour else "normal.bam")
    fastq = FastqPair([out_dir / "tumour_R1.fastq.gz", out_dir / "tumour_R2.fastq.gz"]) if sample.is_tumour else None
    seen: dict[int, bool] = {}
    try:
        with pysam.AlignmentFile(str(bam_path), "wb", header=header, threads=2, format_options=["level=1"]) as bam:

            def emit(lines: list[tuple[int, int, str]]) -> None:
                for _pos, _order, line in lines:
                    bam.write(pysam.AlignedSegment.fromstring(line, header))

            for (name, ref), count in zip(contigs.items(), per_contig.tolist(), strict=True):
                ref_text = decode(ref)
                contig_somatic = somatic.get(name, [])
                snvs = [v for v in contig_somatic if v.type == "snv"]
                indels = [v for v in contig_somatic if v.type != "snv"]
                haps = build_haplotypes(ref, germline[name], indels, sample.is_tumour)
                starts = np.sort(rng.integers(0, usable[name], count))
                pending: list[tuple[int, int, str]] = []
                for first in range(0, count, batch_size):
                    batch = starts[first : first + batch_size]
                    records, fastq1, fastq2 = factory.batch(name, ref, ref_text, haps, batch, germline[name], snvs, indels, seen)
                    if fastq:
                        fastq.write(fastq1, fastq2)
                    pending.extend(records)
                    pending.sort()
                    limit = int(starts[first + batch_size]) if first + batch_size < count else None
                    if limit is None:
                        emit(pending)
                        pending = []
                    else:
                        cut = bisect.bisect_left(pending, (limit, -1, ""))
                        emit(pending[:cut])
                        pending = pending[cut:]
                emit(pending)
                del haps, starts
            lines, fastq1, fastq2 = factory.unmapped_pairs(unmapped)
            for line in lines:
                bam.write(pysam.AlignedSegment.fromstring(line, header))
            if fastq:
                fastq.write(fastq1, fastq2)
    finally:
        if fastq:
            fastq.close()
    pysam.index(str(bam_path))
    return factory.counts


# --- the whole example ----------------------------------------------------------------------


def default_pairs(lengths: dict[str, int], read_length: int, coverage: float = 30.0) -> int:
    return round(coverage * sum(lengths.values()) / (2 * read_length))


def simulate(
    out_dir: Path,
    seed: int = 1,
    pairs: int | None = None,
    contig_length: int = 20_000,
    read_length: int = 100,
    germline_per_kb: float = 1.0,
) -> dict:
    """Write the example set into ``out_dir``; return {"files": {...}, "counts": {...}, ...}."""
    if contig_length < 5000:
        raise ValueError("--contig-length must be at least 5000")
    if not 50 <= read_length <= 300:
        raise ValueError("--read-length must be between 50 and 300")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    streams = np.random.SeedSequence(seed).spawn(5)
    rng_ref, rng_variants, rng_population, rng_normal, rng_tumour = (np.random.default_rng(s) for s in streams)
    lengths = {"chr1": contig_length, "chr2": contig_length // 2, "chrM": CHRM_LENGTH}
    if pairs is None:
        pairs = default_pairs(lengths, read_length)
    if pairs < 100:
        raise ValueError("--pairs must be at least 100")

    contigs, repeats = make_reference(rng_ref, lengths)
    digests = write_fasta(out_dir / "ref.fa", contigs)
    with open(out_dir / "repeats.bed", "w", encoding="ascii") as bed:
        for repeat in repeats:
            bed.write(f"{repeat.contig}\t{repeat.start}\t{repeat.end}\t{repeat.name}\n")

    germline: dict[str, list[Variant]] = {}
    somatic: dict[str, list[Variant]] = {}
    occupancy = {name: Occupancy(len(seq)) for name, seq in contigs.items()}
    for name, ref in contigs.items():
        germline[name] = plan_germline(rng_variants, name, ref, repeats, germline_per_kb, occupancy[name])
    nuclear = [name for name in contigs if name != "chrM"]
    nuclear_length = sum(lengths[name] for name in nuclear)
    n_snv = max(8, round(nuclear_length / 1000 * 0.25))
    n_indel = max(2, n_snv // 20)
    indel_kinds = ["del" if i % 2 == 0 else "ins" for i in range(n_indel)]
    shares = [round(n_snv * lengths[name] / nuclear_length) for name in nuclear]
    shares[-1] = n_snv - sum(shares[:-1])
    for index, (name, share) in enumerate(zip(nuclear, shares, strict=True)):
        repeat_mask = np.zeros(lengths[name], dtype=bool)
        for repeat in repeats:
            if repeat.contig == name:
                repeat_mask[repeat.start : repeat.end] = True
        somatic[name] = plan_somatic(
            rng_variants, name, contigs[name], repeat_mask, share, indel_kinds[index :: len(nuclear)], occupancy[name]
        )

    all_germline = [v for name in contigs for v in germline[name]]
    all_somatic = [v for name in contigs for v in somatic.get(name, [])]
    rsids, private_ids = id_streams(rng_population)
    assign_population(rng_population, all_germline, rsids, private_ids)
    for v in all_somatic:
        v.vid = f"COSV{int(rng_population.integers(10_000_000, 99_999_999))}" if rng_population.random() < 0.3 else "."
    # decoys for the tumour-only call set: germline SNVs on the nuclear contigs, categories varied
    decoys: list[Variant] = []
    candidates = [v for v in all_germline if v.type == "snv" and v.contig != "chrM"]
    for category in ("common", "common", "common", "rare", "absent", "common", "ref_rare", "multiallelic"):
        pool = [v for v in candidates if v.population == category and v not in decoys]
        if pool and len(decoys) < 5:
            decoys.append(pool[int(rng_population.integers(len(pool)))])
    for v in decoys:
        v.notes.append("decoy_somatic")
    taken = {(v.contig, v.pos0) for v in all_germline + all_somatic}
    extra_sites: list[tuple[str, int, str, str, str, float, float]] = []
    for name, ref in contigs.items():
        for _ in range(round(lengths[name] / 1000)):
            pos0 = int(rng_population.integers(1, lengths[name] - 1))
            if (name, pos0) in taken:
                continue
            taken.add((name, pos0))
            alt = (int(ref[pos0]) + int(rng_population.integers(1, 4))) % 4
            af_eas = float(10 ** rng_population.uniform(-4, np.log10(0.5)))
            af = min(0.95, af_eas * float(rng_population.uniform(0.3, 2.0)))
            vid = next(rsids) if rng_population.random() < 0.7 else "."
            extra_sites.append((name, pos0, vid, decode(ref[pos0 : pos0 + 1]), "ACGT"[alt], round(af, 5), round(af_eas, 5)))

    germline_vcf(out_dir / "germline.vcf.gz", lengths, all_germline, rng_population)
    somatic_vcfs(out_dir / "somatic.vcf.gz", out_dir / "germline_as_somatic.vcf.gz", lengths, all_somatic, decoys)
    population_vcf(out_dir / "population.vcf.gz", lengths, all_germline, extra_sites)

    normal_counts = write_sample(out_dir, NORMAL, rng_normal, contigs, digests, germline, somatic, pairs, read_length)
    tumour_counts = write_sample(out_dir, TUMOUR, rng_tumour, contigs, digests, germline, somatic, pairs, read_length)

    write_truth(out_dir / "truth.tsv", all_germline, all_somatic)
    write_ids(out_dir / "ids.tsv")
    (out_dir / "forbidden.txt").write_text("".join(f"{text}\n" for text in FORBIDDEN), encoding="ascii")

    names = [
        "ref.fa", "ref.fa.fai", "repeats.bed", "germline.vcf.gz", "germline.vcf.gz.tbi", "somatic.vcf.gz", "somatic.vcf.gz.tbi",
        "germline_as_somatic.vcf.gz", "germline_as_somatic.vcf.gz.tbi", "population.vcf.gz", "population.vcf.gz.tbi",
        "normal.bam", "normal.bam.bai", "tumour.bam", "tumour.bam.bai", "tumour_R1.fastq.gz", "tumour_R2.fastq.gz",
        "ids.tsv", "forbidden.txt", "truth.tsv",
    ]  # fmt: skip
    by_type: dict[str, int] = {}
    for v in all_germline:
        by_type[f"germline_{v.type}"] = by_type.get(f"germline_{v.type}", 0) + 1
    for v in all_somatic:
        by_type[f"somatic_{v.type}"] = by_type.get(f"somatic_{v.type}", 0) + 1
    population: dict[str, int] = {}
    for v in all_germline:
        population[v.population] = population.get(v.population, 0) + 1
    return {
        "files": {name: out_dir / name for name in names},
        "samples": {"normal": NORMAL_SAMPLE, "tumour": TUMOUR_SAMPLE},
        "contigs": lengths,
        "counts": {
            "pairs": pairs,
            "read_length": read_length,
            "germline": len(all_germline),
            "germline_hom": sum(v.genotype == "1/1" for v in all_germline),
            "germline_str_indels": sum("str" in v.notes for v in all_germline),
            "germline_clip_carrier_sites": sum(any(v.clipped) for v in all_germline),
            "somatic": len(all_somatic),
            "decoys": len(decoys),
            "population_records": sum(v.population != "absent" for v in all_germline) + len(extra_sites),
            "population_extra_sites": len(extra_sites),
            "population_categories": dict(sorted(population.items())),
            "repeats": len(repeats),
            **dict(sorted(by_type.items())),
            "normal": normal_counts,
            "tumour": tumour_counts,
        },
    }


def write_truth(path: Path, germline: list[Variant], somatic: list[Variant]) -> None:
    columns = [
        "chrom", "pos", "ref", "alt", "kind", "type", "genotype_or_vaf", "id", "population", "af", "af_eas",
        "clipped_alt_reads_normal", "clipped_alt_reads_tumour", "notes",
    ]  # fmt: skip
    order = {"chr1": 0, "chr2": 1, "chrM": 2}
    rows = []
    for v in sorted(germline + somatic, key=lambda x: (order[x.contig], x.pos0, x.kind)):
        value = v.genotype if v.kind == "germline" else f"{v.vaf:.3f}"
        population = v.population if v.kind == "germline" else "absent"
        if population in ("absent", "other_allele"):
            af = af_eas = "."
        else:
            af = ",".join(f"{x:g}" for x in v.af)
            af_eas = ",".join(f"{x:g}" for x in v.af_eas)
        if v.population == "multiallelic":
            population = f"multiallelic:{','.join(v.population_alts)}"
        if v.population == "other_allele":
            population = f"other_allele:{v.population_alts[0]}"
        notes = ",".join(v.notes) or "."
        rows.append(
            "\t".join(
                [
                    v.contig,
                    str(v.pos0 + 1),
                    v.ref,
                    v.alt,
                    v.kind,
                    v.type,
                    value,
                    v.vid,
                    population,
                    af,
                    af_eas,
                    str(v.clipped[0]),
                    str(v.clipped[1]),
                    notes,
                ]
            )
        )
    path.write_text("\t".join(columns) + "\n" + "".join(row + "\n" for row in rows), encoding="ascii")


def write_ids(path: Path) -> None:
    """The guideline's pseudonym table for the planted identifiers (original -> pseudonym)."""
    rows = []
    for sample in (NORMAL, TUMOUR):
        rows.append((sample.name, sample.pseudonym))
        for lane in (1, 2):
            rows.append((sample.read_group(lane), f"{sample.pseudonym}.L{lane}"))
        rows.append((sample.library, sample.library_pseudonym))
    path.write_text("".join(f"{a}\t{b}\n" for a, b in rows), encoding="ascii")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="output directory (created if missing)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--pairs", type=int, default=None, help="read pairs per sample (default: about 30x coverage)")
    parser.add_argument("--contig-length", type=int, default=20_000, help="length of chr1; chr2 is half, chrM 16569 (default 20000)")
    parser.add_argument("--read-length", type=int, default=100, help="read length (default 100; the bench uses 150)")
    parser.add_argument("--germline-per-kb", type=float, default=1.0, help="germline variants per kb (default 1.0)")
    args = parser.parse_args(argv)
    try:
        result = simulate(args.out, args.seed, args.pairs, args.contig_length, args.read_length, args.germline_per_kb)
    except ValueError as error:
        parser.error(str(error))
    counts = result["counts"]
    print(
        f"simulate: {counts['pairs']} pairs/sample, {counts['germline']} germline, {counts['somatic']} somatic, "
        f"{counts['germline_clip_carrier_sites']} germline sites carried in soft clips -> {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
