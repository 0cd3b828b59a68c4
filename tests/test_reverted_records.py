"""vcf-drop-rare --germline-windows against sam-revert-germline -v: a somatic call the reverter
turns back into the reference in the reads is not kept in the VCF beside them.

Metamorphic: the same somatic alleles, once as VCF records and once as reads that carry them,
through the two commands with the same germline VCF and reference; every allele the reads lose
is a record the VCF loses (exactly for SNVs; an indel may be dropped a little more widely)."""

from __future__ import annotations

import random
from pathlib import Path

import pysam
import pytest

from tests.conftest import run_command

LENGTH = 3000
READ = 100
GERMLINE = {1000: "snv", 1500: "deletion", 2000: "insertion"}
AROUND = 45


@pytest.fixture(scope="module")
def genome(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("windows")
    rng = random.Random(47)
    bases = "".join(rng.choice("ACGT") for _ in range(LENGTH))
    (folder / "ref.fa").write_text(f">chr1\n{bases}\n")
    pysam.faidx(str(folder / "ref.fa"))
    records = []
    for position, kind in GERMLINE.items():
        ref = bases[position - 1]
        if kind == "snv":
            records.append(f"chr1\t{position}\t.\t{ref}\t{'C' if ref != 'C' else 'A'}\t50\tPASS\t.")
        elif kind == "deletion":
            records.append(f"chr1\t{position}\t.\t{bases[position - 1 : position + 4]}\t{ref}\t50\tPASS\t.")
        else:
            records.append(f"chr1\t{position}\t.\t{ref}\t{ref}GTTCA\t50\tPASS\t.")
    header = f"##fileformat=VCFv4.2\n##contig=<ID=chr1,length={LENGTH}>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    (folder / "germline.vcf").write_text(header + "\n".join(records) + "\n")
    return folder, bases


def somatic_alleles(bases: str) -> list[tuple[int, str, str]]:
    """(POS, REF, ALT): an SNV at every base around each germline site, and a 1-base deletion at every other one."""
    alleles = []
    for site in GERMLINE:
        for position in range(site - AROUND, site + AROUND + 1):
            ref = bases[position - 1]
            alt = next(base for base in "TGAC" if base != ref and base != "C")
            alleles.append((position, ref, alt))
            if position % 2:
                alleles.append((position, bases[position - 1 : position + 1], ref))
    return alleles


def reverted_by_reads(folder: Path, bases: str, alleles: list[tuple[int, str, str]]) -> set[tuple[int, str, str]]:
    """The alleles sam-revert-germline -v turns back into the reference in a read that carries it."""
    lines = []
    for number, (position, ref, alt) in enumerate(alleles):
        start = position - READ // 2
        if len(ref) == 1:
            sequence = bases[start - 1 : position - 1] + alt + bases[position : start - 1 + READ]
            cigar = f"{READ}M"
        else:
            before = position - start + 1
            sequence = bases[start - 1 : position] + bases[position + 1 : start + READ]
            cigar = f"{before}M1D{READ - before}M"
        lines.append((start, f"a{number}\t0\tchr1\t{start}\t60\t{cigar}\t*\t0\t0\t{sequence}\t{'F' * READ}"))
    header = f"@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:{LENGTH}\n"
    text = header + "".join(f"{line}\n" for _, line in sorted(lines))
    result = run_command("sam-revert-germline", "-q", "-r", "ref.fa", "-v", "germline.vcf", input=text.encode(), cwd=folder)
    assert result.returncode == 0, result.stderr.decode()
    reverted = set()
    for line in result.stdout.decode().splitlines():
        if line.startswith("@"):
            continue
        fields = line.split("\t")
        position, ref, alt = alleles[int(fields[0][1:])]
        start = int(fields[3])
        if len(ref) == 1:
            if fields[5] == f"{READ}M" and fields[9][position - start] == ref:
                reverted.add((position, ref, alt))
        elif "D" not in fields[5]:
            reverted.add((position, ref, alt))
    return reverted


def dropped_from_vcf(folder: Path, alleles: list[tuple[int, str, str]], contig: str = "chr1") -> set[tuple[int, str, str]]:
    """The alleles vcf-drop-rare --germline-windows drops from a somatic VCF of common records
    (written on ``contig``: ``1`` for the germline VCF's and the reference's ``chr1``)."""
    header = (
        f"##fileformat=VCFv4.2\n##contig=<ID={contig},length={LENGTH}>\n"
        '##INFO=<ID=AF,Number=A,Type=Float,Description="f">\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n'
    )
    records = "".join(f"{contig}\t{position}\t.\t{ref}\t{alt}\t50\tPASS\tAF=0.5\n" for position, ref, alt in sorted(alleles))
    result = run_command(
        "vcf-drop-rare", "-q", "--af-key", "AF", "--germline", "germline.vcf", "-r", "ref.fa", "--germline-windows",
        input=(header + records).encode(), cwd=folder,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    records_out = [line.split("\t") for line in result.stdout.decode().splitlines() if line[:1] != "#"]
    kept = {(int(fields[1]), fields[3], fields[4]) for fields in records_out}
    return set(alleles) - kept


def test_a_somatic_allele_the_reads_lose_is_not_kept_in_the_vcf(genome: tuple[Path, str]) -> None:
    folder, bases = genome
    alleles = somatic_alleles(bases)
    reverted = reverted_by_reads(folder, bases, alleles)
    snvs = {allele for allele in alleles if len(allele[1]) == 1}
    # apart: records at one POS are judged, and dropped, as one site
    dropped = dropped_from_vcf(folder, sorted(snvs)) | dropped_from_vcf(folder, sorted(set(alleles) - snvs))
    assert reverted & snvs == dropped & snvs  # SNVs: the same windows, the same answer
    assert reverted <= dropped  # indels: never kept where the reads lose them
    assert 0 < len(dropped & snvs) < len(snvs)  # the windows are narrow: most calls around a site stay
    # the same answer when the somatic VCF names the contig 1 and the germline VCF and reference chr1
    assert dropped_from_vcf(folder, sorted(snvs), "1") == dropped & snvs


def test_germline_windows_needs_the_list_and_the_reference(genome: tuple[Path, str]) -> None:
    folder, _ = genome
    for extra in ([], ["--germline", "germline.vcf"]):
        result = run_command("vcf-drop-rare", "--af-key", "AF", "--germline-windows", *extra, input=b"", cwd=folder)
        assert result.returncode == 2 and b"--germline-windows needs --germline and -r" in result.stderr
