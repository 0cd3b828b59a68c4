"""vcf-drop-rare and vcf-drop-regions against bcftools over hypothesis-generated sites.

The frequency rule: a population of 200 haploid genotypes per site, written split (one
record per allele) or joined, gets its AF from the genotypes by ``bcftools +fill-tags``;
bcftools joins what it can of each site (``norm -m+`` joins records of one REF only),
recomputes AF there, and the site's REF frequency is 1 minus the sum of AF over every
record at the POS; ``bcftools annotate`` carries AF (allele by allele) and REFAF onto the
input's records, written split or joined, padded, left-shifted, with alleles the population
lacks, with contig names spelled ``chr1`` against the population's ``1``; ``bcftools view
-i`` keeps what the rule keeps. Where bcftools has an opinion (every allele of the record
annotated, and REFAF) the kept sets must agree, and a record bcftools shows a rare allele
for must be dropped. Where bcftools has no annotation (a padded allele it does not pair, a
left-shifted indel, an allele the population lacks) it has no opinion; those differences
are listed in man/vcf-drop-rare.md, *DIFFERENCES FROM BCFTOOLS*.

The region rule: ``bcftools view -T BED --targets-overlap 1`` selects the records whose REF
span overlaps a region; vcf-drop-regions (``--flank 0``) must keep exactly the others, with
the BED written in a mix of ``chr1`` and ``1`` (bcftools gets it in the VCF's spelling).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pysam
import pytest
from genoscrub.vcf_drop_rare import app as drop_rare
from genoscrub.vcf_drop_regions import app as drop_regions
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

HAPLOTYPES = 200  # frequencies are multiples of 0.005
MIN_AF = 0.0075  # between two such multiples: no rounding decides a case
COLUMNS = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"
CONTIG_LENGTH = 100_000
BASES = "ACGT"


def bcftools(*args: str, input: bytes | None = None) -> bytes:
    return subprocess.run(["bcftools", *args], input=input, capture_output=True, check=True).stdout


# --- the sites ---------------------------------------------------------------------------------


@st.composite
def site(draw: st.DrawFn) -> dict:
    """A population site: a REF base, one to three ALT alleles (SNV, insertion, deletion) with
    haplotype counts (REF gets the rest, sometimes only one or two: REF-rare sites)."""
    ref = draw(st.sampled_from(BASES))
    tail = "".join(draw(st.lists(st.sampled_from(BASES), min_size=2, max_size=2)))
    kinds = draw(st.lists(st.sampled_from(["snv", "ins", "del1", "del2"]), min_size=1, max_size=3, unique=True))
    alleles = []
    for kind in kinds:
        if kind == "snv":
            alleles.append((ref, draw(st.sampled_from([base for base in BASES if base != ref]))))
        elif kind == "ins":
            alleles.append((ref, ref + draw(st.sampled_from(["T", "GA"]))))
        else:
            size = int(kind[-1])
            alleles.append((ref + tail[:size], ref))
    counts = [draw(st.sampled_from([1, 2, 3, 10, 60, 120, 197])) for _ in alleles]
    while sum(counts) > HAPLOTYPES:
        counts[counts.index(max(counts))] //= 2
    return {"ref": ref, "tail": tail, "alleles": alleles, "counts": counts,
            "split": draw(st.booleans()), "input": draw(input_form(len(alleles)))}


@st.composite
def input_form(draw: st.DrawFn, count: int) -> dict:
    """How the input writes the site: which alleles, split or joined, padded or left-shifted, a novel allele."""
    chosen = draw(st.lists(st.integers(0, count - 1), min_size=1, max_size=count, unique=True))
    return {"chosen": sorted(chosen), "split": draw(st.booleans()), "padded": draw(st.integers(0, 2)) == 0,
            "shifted": draw(st.integers(0, 4)) == 0, "novel": draw(st.integers(0, 2)) == 0, "present": draw(st.integers(0, 9)) > 0}


def joined_alleles(alleles: list[tuple[str, str]]) -> tuple[str, list[str]]:
    """One REF for several minimal alleles at one POS, as bcftools norm -m+ writes them."""
    ref = max((ref for ref, _ in alleles), key=len)
    return ref, [alt + ref[len(allele_ref):] for allele_ref, alt in alleles]


def population_lines(position: int, found: dict) -> list[str]:
    """The site's records with haploid genotypes: sample k carries one allele (0 for REF)."""
    carriers = [index + 1 for index, count in enumerate(found["counts"]) for _ in range(count)]
    genotypes = carriers + [0] * (HAPLOTYPES - len(carriers))
    if not found["split"]:
        ref, alts = joined_alleles(found["alleles"])
        return [f"1\t{position}\t.\t{ref}\t{','.join(alts)}\t.\t.\t.\tGT\t" + "\t".join(map(str, genotypes))]
    return [
        f"1\t{position}\t.\t{ref}\t{alt}\t.\t.\t.\tGT\t" + "\t".join("1" if genotype == index + 1 else "0" for genotype in genotypes)
        for index, (ref, alt) in enumerate(found["alleles"])
    ]


def input_lines(position: int, found: dict) -> list[str]:
    form = found["input"]
    alleles = [found["alleles"][index] for index in form["chosen"]]
    if form["novel"]:
        novel = next(base for base in BASES if base != found["ref"] and (found["ref"], base) not in found["alleles"])
        alleles.append((found["ref"], novel))
    if form["shifted"]:  # an indel written one base to the right: no reference says it is the same
        alleles = [(ref[1:], alt[1:]) if len(ref) != len(alt) and len(ref) > 1 and len(alt) > 1 else (ref, alt) for ref, alt in alleles]
    if form["padded"]:
        alleles = [(ref + "C", alt + "C") for ref, alt in alleles]
    groups = [[allele] for allele in alleles] if form["split"] else [alleles]
    lines = []
    for group in groups:
        ref, alts = joined_alleles(group) if len(group) > 1 else (group[0][0], [group[0][1]])
        lines.append(f"chr1\t{position}\t.\t{ref}\t{','.join(alts)}\t.\tPASS\t.")
    return lines


def write_indexed(path: Path, text: str) -> Path:
    path.write_text(text)
    pysam.tabix_index(str(path), preset="vcf", force=True)
    return Path(str(path) + ".gz")


REF_RARE_BY_A_DELETION = [  # found by hypothesis: records of two REFs at one POS, which norm -m+ leaves apart
    {"ref": "A", "tail": "AA", "alleles": [("A", "C"), ("AA", "A")], "counts": [2, 197], "split": True,
     "input": {"chosen": [0], "split": True, "padded": False, "shifted": True, "novel": True, "present": True}},
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(site(), min_size=1, max_size=8))
@example(sites=REF_RARE_BY_A_DELETION)
def test_the_frequency_rule_agrees_with_bcftools(tmp_path_factory: pytest.TempPathFactory, sites: list[dict]) -> None:
    folder = tmp_path_factory.mktemp("differential")
    positions = [1000 + 50 * index for index in range(len(sites))]
    samples = "\t".join(f"H{index}" for index in range(HAPLOTYPES))
    population = [line for position, found in zip(positions, sites, strict=True) if found["input"]["present"]
                  for line in population_lines(position, found)]
    # a common site far from the others, so that the population file is never empty
    population += population_lines(90_000, {"ref": "A", "tail": "", "alleles": [("A", "G")], "counts": [100], "split": False})
    header = f"##fileformat=VCFv4.2\n##contig=<ID=1,length={CONTIG_LENGTH}>\n##FORMAT=<ID=GT,Number=1,Type=String,Description=\"x\">\n"
    raw = folder / "raw.vcf"
    raw.write_text(header + f"{COLUMNS}\tFORMAT\t{samples}\n" + "".join(line + "\n" for line in population))
    filled = bcftools("+fill-tags", str(raw), "--", "-t", "AF").decode()
    population_path = write_indexed(folder / "population.vcf", filled)
    inputs = sorted(
        (line for position, found in zip(positions, sites, strict=True) for line in input_lines(position, found)),
        key=lambda line: int(line.split("\t")[1]),
    )
    input_text = f"##fileformat=VCFv4.2\n##contig=<ID=chr1,length={CONTIG_LENGTH}>\n{COLUMNS}\n" + "".join(line + "\n" for line in inputs)
    result = CliRunner().invoke(drop_rare, ["-q", "--population", str(population_path), "--af-key", "AF", "--min-af", str(MIN_AF)],
                                input=input_text.encode())
    assert result.exit_code == 0, result.output
    kept = {line for line in result.stdout.splitlines() if line and not line.startswith("#")}

    # bcftools: join the sites, AF from the genotypes again, REFAF = 1 - sum(AF), carried onto the input
    renamed = folder / "chrs.txt"
    renamed.write_text("1\tchr1\n")
    joined = bcftools("norm", "-m+", str(population_path))
    joined = bcftools("+fill-tags", "-", "--", "-t", "AF", input=joined)
    joined = bcftools("annotate", "--rename-chrs", str(renamed), "-", input=joined)
    sums: dict[tuple[str, int], float] = {}  # norm -m+ joins records of one REF only: sum every record at the POS
    for row in bcftools("query", "-f", "%CHROM\t%POS\t%AF\n", "-", input=joined).decode().splitlines():
        chrom, pos, afs = row.split("\t")
        sums[(chrom, int(pos))] = sums.get((chrom, int(pos)), 0.0) + sum(float(af) for af in afs.split(","))
    refaf = folder / "refaf.tsv"
    refaf.write_text("".join(f"{chrom}\t{pos}\t{1.0 - total:.6f}\n" for (chrom, pos), total in sorted(sums.items())))
    pysam.tabix_index(str(refaf), seq_col=0, start_col=1, end_col=1, force=True)
    refaf_header = folder / "refaf.hdr"
    refaf_header.write_text('##INFO=<ID=REFAF,Number=1,Type=Float,Description="REF frequency">\n')
    joined_path = folder / "joined.vcf.gz"
    joined_path.write_bytes(bcftools("annotate", "-a", str(refaf) + ".gz", "-c", "CHROM,POS,INFO/REFAF", "-h", str(refaf_header),
                                     "-Oz", "-", input=joined))
    pysam.tabix_index(str(joined_path), preset="vcf", force=True)
    input_path = write_indexed(folder / "input.vcf", input_text)  # annotate -a pairs indexed files
    annotated = bcftools("annotate", "-a", str(joined_path), "-c", "INFO/AF,INFO/REFAF", str(input_path))
    rule = f"MIN(INFO/AF)>={MIN_AF} && INFO/REFAF>={MIN_AF}"
    bcftools_kept = {tuple(line.split("\t")[:5]) for line in bcftools("view", "-H", "-i", rule, "-", input=annotated).decode().splitlines()}
    dropped_sites = {tuple(line.split("\t")[:2]) for line in inputs if line not in kept}
    for row in bcftools("query", "-f", "%CHROM\t%POS\t%ID\t%REF\t%ALT\t%AF\t%REFAF\n", "-", input=annotated).decode().splitlines():
        chrom, pos, identifier, ref, alt, afs, refaf_value = row.split("\t")
        line = "\t".join([chrom, pos, identifier, ref, alt, ".", "PASS", "."])
        values = [None if af == "." else float(af) for af in afs.split(",")]
        reference = None if refaf_value == "." else float(refaf_value)
        known = [value for value in values if value is not None] + ([reference] if reference is not None else [])
        if any(value < MIN_AF for value in known):
            assert line not in kept, f"bcftools shows a rare allele: {row}"
        elif None not in values and reference is not None:  # kept as bcftools keeps it, unless its site lost another record
            alone = (chrom, pos, identifier, ref, alt) in bcftools_kept
            assert (line in kept) == alone or (alone and (chrom, pos) in dropped_sites), row


# --- regions -------------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    regions=st.lists(
        st.tuples(st.sampled_from(["chr1", "1", "chrM", "MT"]), st.integers(0, 600), st.integers(1, 40)), min_size=1, max_size=8
    ),
    records=st.lists(st.tuples(st.sampled_from(["chr1", "chrM"]), st.integers(1, 650), st.integers(1, 12)), min_size=1, max_size=40),
)
@example(regions=[("chrM", 223, 40)], records=[("chrM", 266, 1), ("chrM", 266, 3)])  # a site of two records, one in reach
def test_the_region_rule_agrees_with_bcftools_targets(
    tmp_path_factory: pytest.TempPathFactory, regions: list[tuple[str, int, int]], records: list[tuple[str, int, int]]
) -> None:
    folder = tmp_path_factory.mktemp("regions")
    mixed = folder / "mixed.bed"
    mixed.write_text("".join(f"{chrom}\t{start}\t{start + size}\n" for chrom, start, size in regions))
    spelled = folder / "spelled.bed"  # the VCF's spelling, for bcftools
    spelled.write_text(
        "".join(f"{'chr1' if chrom in ('chr1', '1') else 'chrM'}\t{start}\t{start + size}\n" for chrom, start, size in regions)
    )
    lines = sorted({f"{chrom}\t{pos}\t.\t{'A' * size}\tA{'' if size > 1 else 'G'}\t.\tPASS\t." for chrom, pos, size in records},
                   key=lambda line: (line.split("\t")[0], int(line.split("\t")[1])))
    text = f"##fileformat=VCFv4.2\n##contig=<ID=chr1,length=1000>\n##contig=<ID=chrM,length=1000>\n{COLUMNS}\n" + "".join(
        line + "\n" for line in lines
    )
    result = CliRunner().invoke(drop_regions, ["-q", "--bed", str(mixed), "--flank", "0"], input=text.encode())
    assert result.exit_code == 0, result.output
    kept = [line for line in result.stdout.splitlines() if line and not line.startswith("#")]
    # Every record changes the length by L (a deletion of size-1 bases, or one base inserted): it
    # is judged over its span widened by L each side, and a region it only meets counts. bcftools
    # judges the same when given each record's widened span, one base more each side for "meets",
    # as the REF of a stand-in record at the same line.
    stand_ins = []
    for index, line in enumerate(lines):
        chrom, pos, _, ref, alt = line.split("\t")[:5]
        change = max(1, abs(len(alt) - len(ref)))
        first = max(1, int(pos) - change - 1)
        last = int(pos) + len(ref) - 1 + change + 1
        stand_ins.append(f"{chrom}\t{first}\tr{index}\t{'N' * (last - first + 1)}\tA\t.\tPASS\t.")
    order = sorted(range(len(lines)), key=lambda index: (lines[index].split("\t")[0], int(stand_ins[index].split("\t")[1])))
    source = folder / "in.vcf"
    source.write_text(text.split(COLUMNS)[0] + COLUMNS + "\n" + "".join(stand_ins[index] + "\n" for index in order))
    selected = bcftools("view", "-H", "-T", str(spelled), "--targets-overlap", "1", str(source)).decode().splitlines()
    chosen = {int(line.split("\t")[2][1:]) for line in selected}  # the record's line, kept in ID
    # a site goes whole: the records next to a dropped one at its CHROM and POS (a split
    # multi-allelic site) go with it, which bcftools, judging records one by one, does not do
    site = [tuple(line.split("\t")[:2]) for line in lines]
    for index in sorted(chosen):
        for step in (-1, 1):
            other = index + step
            while 0 <= other < len(lines) and site[other] == site[index]:
                chosen.add(other)
                other += step
    assert kept == [line for index, line in enumerate(lines) if index not in chosen]
