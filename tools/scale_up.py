"""Scale the simulated tumour/normal set up for ``make bench`` by tiling it along each contig.

    python tools/scale_up.py --set DIR --copies N --out DIR [--only ref,bam,vcf,fastq,bed]

The simulator (tools/simulate.py) writes a small, consistent set; simulating a
genome of a billion bases in Python would take longer than the benchmarks it
feeds. Tiling keeps the set's truth instead: each contig of the scaled
reference is ``N`` copies of the simulated one, and copy ``k`` of every read,
variant and region is shifted by ``k`` times the contig's length, so
alignments, MD tags, REF bases and mates stay true to the scaled reference.
Read names get the copy number appended to their x coordinate (or to the name
when it is not an Illumina name), so FASTQ and BAM names still match and every
template stays unique. The germline VCF becomes a tumour/normal call set as
HaplotypeCaller writes one: the tumour joins as a second sample carrying its
patient's germline genotypes, and the INFO and FORMAT fields such a file holds
(AC, AF, AN, the rank sums...; GT:AD:DP:GQ:PL) are derived from the simulated
genotype, GQ and depth, so tools and filters weigh records as on a real file. The same set and copies give the same bytes.
"""

from __future__ import annotations

import argparse
import gzip
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from itertools import groupby
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # runnable as ``python tools/scale_up.py``

from tools.simulate import TUMOUR_SAMPLE  # noqa: E402

PYTHON = ROOT / ".venv" / "bin" / "python"
KINDS = ("ref", "bam", "vcf", "fastq", "bed")
TBI_LIMIT = 1 << 29
POSITION_LIMIT = 1 << 31
VCFS = (
    ("germline.vcf.gz", TUMOUR_SAMPLE),
    ("population.vcf.gz", None),
    ("somatic.vcf.gz", None),
    ("germline_as_somatic.vcf.gz", None),
)
"""The set's VCFs, and the sample a tiled one gains (the tumour joins the germline call set)."""
BATCH = 20_000
"""Lines per write to an encoder child."""

SQ_LENGTH = re.compile(r"\tLN:(\d+)")
SQ_NAME = re.compile(r"\tSN:([^\t]+)")
SQ_CHECKSUM = re.compile(r"\tM5:[^\t]*")
CONTIG_LENGTH = re.compile(r"^(##contig=<ID=([^,>]+),(?:.*,)?length=)(\d+)")
SUPPLEMENTARY = re.compile(r"(\tSA:Z:)([^\t\n]*)")


def base_set(workdir: Path, pairs: int = 100_000, contig_length: int = 1_000_000) -> Path:
    """The simulated set the benchmarks scale up (150 bp pairs, about 30x); simulated once, then reused."""
    out = workdir / f"sim_{pairs}"
    if not (out / "tumour.bam").exists():
        subprocess.run(
            [str(PYTHON), str(ROOT / "tools" / "simulate.py"), "--out", str(out), "--seed", "11", "--pairs", str(pairs),
             "--contig-length", str(contig_length), "--read-length", "150"],
            check=True,
        )
    return out


def contig_lengths(set_dir: Path) -> dict[str, int]:
    """Contig name -> length, from the simulated reference's .fai."""
    lines = (set_dir / "ref.fa.fai").read_text().splitlines()
    return {fields[0]: int(fields[1]) for fields in (line.split("\t") for line in lines)}


def vcf_records(vcf: Path) -> int:
    """How many records a VCF holds, counted by bcftools."""
    result = subprocess.run(f"bcftools view -H {vcf} | wc -l", shell=True, capture_output=True, text=True, check=True)
    return int(result.stdout)


def read_pairs(bam: Path) -> int:
    """Records of a BAM halved, counted by samtools: the pairs of a paired-end set."""
    result = subprocess.run(["samtools", "view", "-c", str(bam)], capture_output=True, text=True, check=True)
    return int(result.stdout) // 2


class Renamer:
    """Template name -> the name of its copy ``k``: unique, and the same in FASTQ and BAM."""

    def __init__(self, copies: int) -> None:
        self.width = len(str(max(copies - 1, 0)))

    def __call__(self, name: str, copy: int) -> str:
        suffix = f"{copy:0{self.width}d}"
        fields = name.split(":")
        if len(fields) == 7 and fields[5].isdigit():
            fields[5] += suffix  # the fixed-width suffix keeps (x, copy) -> name one-to-one
            return ":".join(fields)
        return f"{name}.{suffix}"


def tile_sam(lines: Iterable[str], copies: int, lengths: dict[str, int]) -> Iterator[str]:
    """SAM text (header first, coordinate-sorted) -> the tiled SAM text, a line at a time."""
    rename = Renamer(copies)
    records = iter(lines)
    unplaced: list[str] = []
    for line in records:
        if not line.startswith("@"):
            records = _chain_one(line, records)
            break
        if line.startswith("@SQ\t"):
            name = SQ_NAME.search(line)
            if name is not None:  # the checksum is of the small contig, no longer of the tiled one
                line = SQ_LENGTH.sub(f"\tLN:{lengths[name.group(1)] * copies}", SQ_CHECKSUM.sub("", line))
        yield line
    for contig, group in groupby(records, key=lambda record: record.split("\t", 3)[2]):
        block = list(group)
        if contig == "*":
            unplaced.extend(block)
            continue
        for copy in range(copies):
            for record in block:
                yield _shift_record(record, copy, contig, lengths, rename)
    for copy in range(copies):
        for record in unplaced:
            yield _shift_record(record, copy, "*", lengths, rename)


def _chain_one(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def _shift_record(record: str, copy: int, contig: str, lengths: dict[str, int], rename: Renamer) -> str:
    fields = record.split("\t", 9)
    fields[0] = rename(fields[0], copy)
    if copy:
        if contig != "*" and fields[3] != "0":
            fields[3] = str(int(fields[3]) + copy * lengths[contig])
        mate_contig = contig if fields[6] == "=" else fields[6]
        if mate_contig != "*" and fields[7] != "0":
            fields[7] = str(int(fields[7]) + copy * lengths[mate_contig])
        if "\tSA:Z:" in fields[9]:
            fields[9] = SUPPLEMENTARY.sub(lambda match: match.group(1) + _shift_sa(match.group(2), copy, lengths), fields[9])
    return "\t".join(fields)


def _shift_sa(value: str, copy: int, lengths: dict[str, int]) -> str:
    """SA:Z:rname,pos,strand,CIGAR,mapQ,NM;... with every pos moved to the same copy."""
    parts = []
    for entry in value.split(";"):
        if entry:
            items = entry.split(",")
            items[1] = str(int(items[1]) + copy * lengths[items[0]])
            entry = ",".join(items)
        parts.append(entry)
    return ";".join(parts)


def tile_vcf(lines: Iterable[str], copies: int, lengths: dict[str, int], second_sample: str | None = None) -> Iterator[str]:
    """VCF text (sorted) -> the tiled VCF text; ``second_sample`` adds a column copying the first sample's."""
    records = iter(lines)
    seen: set[str] = set()
    for line in records:
        if not line.startswith("#"):
            records = _chain_one(line, records)
            break
        contig = CONTIG_LENGTH.match(line)
        if contig is not None:
            line = f"{contig.group(1)}{lengths[contig.group(2)] * copies}{line[contig.end():]}"
            line = re.sub(r",md5=[0-9a-f]+", "", line)
        elif line.startswith("#CHROM") and second_sample is not None:
            yield from (f"{definition}\n" for definition in GATK_DEFINITIONS if definition.split(",")[0] + "," not in seen)
            line = line.rstrip("\n") + f"\t{second_sample}\n"
        seen.update({line.split(",")[0] + ","} if line.startswith(("##INFO", "##FORMAT")) else set())
        yield line
    for chrom, group in groupby(records, key=lambda record: record.split("\t", 1)[0]):
        block = [record.rstrip("\n").split("\t", 2) for record in group]
        if second_sample is not None:
            block = [[chrom, position, gatk_shaped(rest)] for _, position, rest in block]
        for copy in range(copies):
            offset = copy * lengths[chrom]
            for _, position, rest in block:
                yield f"{chrom}\t{int(position) + offset}\t{rest}\n"


GATK_DEFINITIONS = (
    '##INFO=<ID=AC,Number=A,Type=Integer,Description="Allele count in genotypes">',
    '##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency in genotypes">',
    '##INFO=<ID=AN,Number=1,Type=Integer,Description="Total number of alleles in called genotypes">',
    '##INFO=<ID=BaseQRankSum,Number=1,Type=Float,Description="Z-score from Wilcoxon rank sum test of Alt Vs. Ref base qualities">',
    '##INFO=<ID=ExcessHet,Number=1,Type=Float,Description="Phred-scaled p-value for exact test of excess heterozygosity">',
    '##INFO=<ID=FS,Number=1,Type=Float,Description="Phred-scaled p-value using Fisher\'s exact test to detect strand bias">',
    '##INFO=<ID=MLEAC,Number=A,Type=Integer,Description="Maximum likelihood expectation (MLE) for the allele counts">',
    '##INFO=<ID=MLEAF,Number=A,Type=Float,Description="Maximum likelihood expectation (MLE) for the allele frequency">',
    '##INFO=<ID=MQ,Number=1,Type=Float,Description="RMS Mapping Quality">',
    '##INFO=<ID=MQRankSum,Number=1,Type=Float,Description="Z-score From Wilcoxon rank sum test of Alt vs. Ref read mapping qualities">',
    '##INFO=<ID=QD,Number=1,Type=Float,Description="Variant Confidence/Quality by Depth">',
    '##INFO=<ID=ReadPosRankSum,Number=1,Type=Float,Description="Z-score from Wilcoxon rank sum test of Alt vs. Ref read position bias">',
    '##INFO=<ID=SOR,Number=1,Type=Float,Description="Symmetric Odds Ratio of 2x2 contingency table to detect strand bias">',
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths for the ref and alt alleles in the order listed">',
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Approximate read depth (reads with MQ=255 or with bad mates are filtered)">',
    '##FORMAT=<ID=PL,Number=G,Type=Integer,Description="Normalized, Phred-scaled likelihoods for genotypes as defined in the VCF '
    'specification">',
)
"""What a HaplotypeCaller call set defines beyond the simulator's lean DP and GT:GQ."""


def gatk_shaped(rest: str) -> str:
    """ID..SAMPLE of a simulated germline record -> the record as a 2-sample HaplotypeCaller
    call set writes it: INFO and FORMAT fields derived from its genotype, GQ and depth, the
    tumour carrying its normal's genotype. Byte for byte what bcftools and the filters parse
    on a real file, so the benchmark weighs records as they are."""
    vid, ref, alt, qual, filters, info, _, sample = rest.split("\t")
    depth = next((int(item[3:]) for item in info.split(";") if item.startswith("DP=")), 30)  # the simulator's other INFO goes
    genotype, quality = sample.split(":")[:2]
    alleles = [int(allele) for allele in genotype.replace("|", "/").split("/") if allele.isdigit()]
    alts = alt.count(",") + 1
    counts = [alleles.count(index) for index in range(alts + 1)]
    carried = sum(1 for count in counts if count)
    depths = [depth * count // max(len(alleles), 1) for count in counts]
    depths[next(index for index, count in enumerate(counts) if count) if carried else 0] += depth - sum(depths)
    gq = int(quality) if quality.isdigit() else 0
    low, high = (sorted(alleles) + [0, 0])[:2] if len(alleles) == 2 else (0, 0)
    called = high * (high + 1) // 2 + low  # the genotype's index in PL order (VCF spec 1.6.2)
    likelihoods = ",".join(str(gq * abs(index - called)) for index in range((alts + 1) * (alts + 2) // 2))
    allele_counts = ",".join(str(2 * counts[index]) for index in range(1, alts + 1))
    frequencies = ",".join(f"{2 * counts[index] / 4:.3f}" for index in range(1, alts + 1))
    by_depth = float(qual) / depth if qual not in (".", "") and depth else 2.0
    shaped_info = (
        f"AC={allele_counts};AF={frequencies};AN=4;BaseQRankSum=0.253;DP={2 * depth};ExcessHet=3.0103;FS=1.870;"
        f"MLEAC={allele_counts};MLEAF={frequencies};MQ=60.00;MQRankSum=0.000;QD={by_depth:.2f};ReadPosRankSum=-0.219;SOR=0.527"
    )
    call = f"{genotype}:{','.join(map(str, depths))}:{depth}:{gq}:{likelihoods}"
    return f"{vid}\t{ref}\t{alt}\t{qual}\t{filters}\t{shaped_info}\tGT:AD:DP:GQ:PL\t{call}\t{call}"


def tile_fastq(lines: Iterable[str], copies: int) -> Iterator[str]:
    """FASTQ text (4-line records) -> the records ``copies`` times, names renamed per copy."""
    rename = Renamer(copies)
    text = list(lines)
    for copy in range(copies):
        for index in range(0, len(text) - 3, 4):
            name, _, comment = text[index][1:].partition(" ")
            yield f"@{rename(name, copy)}{' ' if comment else ''}{comment}"
            yield from text[index + 1 : index + 4]


def tile_bed(lines: Iterable[str], copies: int, lengths: dict[str, int]) -> Iterator[str]:
    """BED lines -> the regions of every copy, sorted as the input is."""
    for chrom, group in groupby(lines, key=lambda line: line.split("\t", 1)[0]):
        block = [line.split("\t", 3) for line in group]
        for copy in range(copies):
            offset = copy * lengths[chrom]
            for fields in block:
                yield "\t".join([fields[0], str(int(fields[1]) + offset), str(int(fields[2]) + offset), *fields[3:]])


def tile_fasta(path: Path, copies: int, out: Path, width: int = 60) -> None:
    """Each contig of ``path`` written ``copies`` times end to end, then indexed with samtools faidx."""
    contigs: dict[str, str] = {}
    name = ""
    for line in path.read_text().splitlines():
        if line.startswith(">"):
            name = line[1:].split()[0]
            contigs[name] = ""
        else:
            contigs[name] += line
    with out.open("w") as fasta:
        for name, sequence in contigs.items():
            fasta.write(f">{name}\n")
            tiled = sequence * copies
            for start in range(0, len(tiled), width):
                fasta.write(tiled[start : start + width] + "\n")
    subprocess.run(["samtools", "faidx", str(out)], check=True)


def _encode(lines: Iterable[str], command: list[str], out: Path) -> None:
    """Feed text lines to an encoder child (samtools view -b, bgzip) writing ``out``."""
    with out.open("wb") as sink, subprocess.Popen(command, stdin=subprocess.PIPE, stdout=sink) as child:
        assert child.stdin is not None
        batch: list[str] = []
        for line in lines:
            batch.append(line)
            if len(batch) == BATCH:
                child.stdin.write("".join(batch).encode())
                batch.clear()
        child.stdin.write("".join(batch).encode())
        child.stdin.close()
    if child.returncode:
        raise SystemExit(f"scale_up: {command[0]} could not write {out}")


def _text_lines(command: list[str]) -> Iterator[str]:
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None
        yield from child.stdout
    if child.returncode:
        raise SystemExit(f"scale_up: {' '.join(command)} failed")


def scale_up(set_dir: Path, copies: int, out: Path, only: Iterable[str] = KINDS) -> dict[str, Path]:
    """Write the tiled set into ``out`` (skipping files already there); return the paths written."""
    lengths = contig_lengths(set_dir)
    if max(lengths.values()) * copies >= POSITION_LIMIT:
        raise ValueError(f"{copies} copies would make a contig longer than SAM/VCF positions allow (2^31)")
    out.mkdir(parents=True, exist_ok=True)
    kinds = set(only)
    paths: dict[str, Path] = {}
    if "ref" in kinds:
        paths["ref"] = out / "ref.fa"
        if not paths["ref"].exists():
            tile_fasta(set_dir / "ref.fa", copies, paths["ref"])
    if "bam" in kinds:
        paths["bam"] = out / "tumour.bam"
        if not paths["bam"].exists():
            sam = tile_sam(_text_lines(["samtools", "view", "-h", "--no-PG", str(set_dir / "tumour.bam")]), copies, lengths)
            _encode(sam, ["samtools", "view", "-b", "--no-PG", "-"], paths["bam"])
            subprocess.run(["samtools", "index", str(paths["bam"])], check=True)
    if "vcf" in kinds:
        for name, second in VCFS:
            path = paths[name.split(".")[0]] = out / name  # germline, population, somatic, germline_as_somatic
            if not path.exists():
                text = _text_lines(["bcftools", "view", "--no-version", str(set_dir / name)])
                _encode(tile_vcf(text, copies, lengths, second), ["bgzip", "-c"], path)
                csi = ["-C"] if max(lengths.values()) * copies >= TBI_LIMIT else []  # a .tbi cannot index past 2^29
                subprocess.run(["tabix", "-f", *csi, "-p", "vcf", str(path)], check=True)
    if "fastq" in kinds:
        paths["fastq"] = out / "tumour_R1.fastq"
        if not paths["fastq"].exists():
            with gzip.open(set_dir / "tumour_R1.fastq.gz", "rt") as source, paths["fastq"].open("w") as sink:
                sink.writelines(tile_fastq(source, copies))
    if "bed" in kinds:
        paths["bed"] = out / "repeats.bed"
        if not paths["bed"].exists():
            with (set_dir / "repeats.bed").open() as source, paths["bed"].open("w") as sink:
                sink.writelines(tile_bed(source, copies, lengths))
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", type=Path, required=True, help="a directory written by tools/simulate.py")
    parser.add_argument("--copies", type=int, required=True, help="how many times to tile each contig")
    parser.add_argument("--out", type=Path, required=True, help="output directory (created if missing)")
    parser.add_argument("--only", default=",".join(KINDS), help=f"comma-separated subset of {','.join(KINDS)}")
    args = parser.parse_args(argv)
    if args.copies < 1:
        parser.error("--copies must be at least 1")
    for kind, path in scale_up(args.set, args.copies, args.out, args.only.split(",")).items():
        print(f"{kind}\t{path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
