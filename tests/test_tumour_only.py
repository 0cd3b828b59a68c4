"""sam-revert-germline --all --keep: tumour-only samples.

End to end on the simulator's tumour-only case: the keep list is the true
somatic calls plus germline SNVs wrongly flagged somatic (``decoy_somatic`` in
truth.tsv), screened with the population resource. Checked with independent
tools: pysam's pileup counts alleles, ``bcftools mpileup | call`` calls sites,
``samtools calmd`` recomputes MD/NM. Then the per-read keep rules, including a
property test: every base either equals the reference or is a listed allele.
"""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pysam
import pytest
from genoscrub.population import normalised
from genoscrub.revert import ClipRule, KeepAlleles, Reverted, revert_alignment
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import run_command
from tests.independent import alt_observations, called_sites, variant_records

COMMAND = "sam-revert-germline"
REFERENCE = b"GGATCACAGTCTACACTGCTCACTCCAACCCCGGCCCCTGAGTCCGAGGAGAGGGTGCTTCACACACAGTATACCACTGGGTAGGATACGGCGGAGGGCA"


SIMULATION = {"pairs": 3000, "seed": 3, "contig_length": 8000, "read_length": 150}


def truth(simulated: Path) -> list[dict[str, str]]:
    with open(simulated / "truth.tsv", newline="") as table:
        return list(csv.DictReader(table, delimiter="\t"))


def run_keep(simulated: Path, name: str, *extra: str) -> tuple[Path, dict[str, object]]:
    """The tumour through ``--all --keep germline_as_somatic.vcf.gz``; sorted, indexed BAM and the report."""
    report = simulated / f"{name}.json"
    result = run_command(COMMAND, "-r", str(simulated / "ref.fa"), "--all", "--keep", str(simulated / "germline_as_somatic.vcf.gz"),
                         *extra, "--report", str(report), "-q", str(simulated / "tumour.bam"))
    assert result.returncode == 0, result.stderr.decode()
    bam = simulated / f"{name}.bam"
    (simulated / f"{name}.sam").write_bytes(result.stdout)
    pysam.sort("-o", str(bam), str(simulated / f"{name}.sam"))
    pysam.index(str(bam))
    return bam, json.loads(report.read_text())


@pytest.fixture(scope="module")
def screened(simulated: Path) -> tuple[Path, dict[str, object]]:
    return run_keep(simulated, "screened", "--population", str(simulated / "population.vcf.gz"), "--af-key", "AF")


def decoys(simulated: Path) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Mislabelled germline SNVs: those the population knows at >= 0.001, and those it cannot screen."""
    rows = [row for row in truth(simulated) if "decoy_somatic" in row["notes"]]
    known = [row for row in rows if row["af"] not in (".", "") and float(row["af"]) >= 0.001]
    return known, [row for row in rows if row not in known]


def test_simulator_has_a_tumour_only_case(simulated: Path) -> None:
    known, unscreenable = decoys(simulated)
    assert len(known) >= 3, "the test needs mislabelled germline sites that the population can catch"
    keep = {(c, p) for c, p, _, _ in variant_records(simulated / "germline_as_somatic.vcf.gz")}
    assert {(row["chrom"], int(row["pos"])) for row in known + unscreenable} <= keep


def test_no_germline_allele_remains(simulated: Path, screened: tuple[Path, dict[str, object]]) -> None:
    """Every germline SNV/indel, mislabelled ones included, is gone from aligned bases —
    except a mislabelled one the population resource lacks (the documented limit)."""
    bam, _ = screened
    _, unscreenable = decoys(simulated)
    spared = {(row["chrom"], int(row["pos"])) for row in unscreenable}
    before_total = 0
    for row in truth(simulated):
        if row["kind"] != "germline" or row["type"] not in ("snv", "ins", "del"):
            continue
        site = (row["chrom"], int(row["pos"]), row["ref"], row["alt"])
        before = alt_observations(simulated / "tumour.bam", *site)
        before_total += before
        after = alt_observations(bam, *site)
        if site[:2] in spared:
            assert after == before, "a listed allele absent from the population is kept (man page: limits)"
        else:
            assert after == 0, site[:2]
    assert before_total > 50, "the check must be able to see germline alleles"


def test_somatic_alt_observations_remain(simulated: Path, screened: tuple[Path, dict[str, object]]) -> None:
    bam, _ = screened
    before = after = 0
    for site in variant_records(simulated / "somatic.vcf.gz"):
        before += alt_observations(simulated / "tumour.bam", *site)
        after += alt_observations(bam, *site)
    assert before > 20
    assert after >= 0.95 * before


def test_variant_calling_finds_only_somatic_sites(simulated: Path, screened: tuple[Path, dict[str, object]]) -> None:
    bam, _ = screened
    somatic = {(c, p) for c, p, _, _ in variant_records(simulated / "somatic.vcf.gz")}
    _, unscreenable = decoys(simulated)
    spared = {(row["chrom"], int(row["pos"])) for row in unscreenable}
    germline = {(row["chrom"], int(row["pos"])) for row in truth(simulated) if row["kind"] == "germline"}
    assert len(called_sites(simulated / "tumour.bam", simulated / "ref.fa") & germline) > len(germline) // 2
    called = called_sites(bam, simulated / "ref.fa")
    assert called, "somatic sites must still be callable"
    assert called <= somatic | spared


def test_md_nm_agree_with_samtools_calmd(simulated: Path, screened: tuple[Path, dict[str, object]]) -> None:
    bam, _ = screened
    calmd = subprocess.run(["samtools", "calmd", str(bam), str(simulated / "ref.fa")], capture_output=True, check=True)
    ours = subprocess.run(["samtools", "view", str(bam)], capture_output=True, check=True).stdout
    assert b"\n".join(line for line in calmd.stdout.splitlines() if not line.startswith(b"@")) + b"\n" == ours


def test_report_counts_kept_screened_and_reverted(simulated: Path, screened: tuple[Path, dict[str, object]]) -> None:
    _, report = screened
    known, unscreenable = decoys(simulated)
    somatic = variant_records(simulated / "somatic.vcf.gz")
    assert report["keep_alleles_listed"] == len(somatic) + len(known) + len(unscreenable)
    assert report["keep_alleles_screened_out_as_germline"] == len(known)
    assert report["keep_alleles_kept"] == len(somatic) + len(unscreenable)
    counts = report["counts"]
    assert isinstance(counts, dict)
    assert counts["keep_allele_observations_kept"] > 0 and counts["bases_reverted"] > 0


def test_without_screening_mislabelled_germline_alleles_stay(simulated: Path) -> None:
    """Why --population matters: the listed germline alleles are kept otherwise."""
    bam, report = run_keep(simulated, "unscreened")
    assert report["keep_alleles_screened_out_as_germline"] == 0
    known, _ = decoys(simulated)
    site = (known[0]["chrom"], int(known[0]["pos"]), known[0]["ref"], known[0]["alt"])
    assert alt_observations(bam, *site) == alt_observations(simulated / "tumour.bam", *site) > 0


def test_germline_af_threshold_is_inclusive(simulated: Path) -> None:
    """An allele at exactly --germline-af is germline; above every decoy's AF nothing is screened."""
    known, _ = decoys(simulated)
    lowest = min(float(row["af"]) for row in known)
    _, at = run_keep(simulated, "at_threshold", "--population", str(simulated / "population.vcf.gz"), "--germline-af", str(lowest))
    _, above = run_keep(simulated, "above", "--population", str(simulated / "population.vcf.gz"), "--germline-af", "0.99")
    assert int(str(at["keep_alleles_screened_out_as_germline"])) >= 1
    assert above["keep_alleles_screened_out_as_germline"] == 0


def test_keep_needs_all_and_population_needs_keep(simulated: Path) -> None:
    ref = str(simulated / "ref.fa")
    keep = str(simulated / "germline_as_somatic.vcf.gz")
    assert run_command(COMMAND, "-r", ref, "-v", keep, "--keep", keep, str(simulated / "tumour.bam")).returncode == 2
    assert run_command(COMMAND, "-r", ref, "--all", "--population", keep, str(simulated / "tumour.bam")).returncode == 2
    assert run_command(COMMAND, "-r", ref, "--all", "--keep", keep, "--germline-af", "2", str(simulated / "tumour.bam")).returncode == 2


def test_empty_keep_list_is_an_error(simulated: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.vcf"
    empty.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
    result = run_command(COMMAND, "-r", str(simulated / "ref.fa"), "--all", "--keep", str(empty), str(simulated / "tumour.bam"))
    assert result.returncode == 1 and result.stdout == b""
    assert b"no keep records" in result.stderr


def test_keep_record_with_wrong_ref_names_its_line_and_writes_nothing(simulated: Path, tmp_path: Path) -> None:
    ref = pysam.FastaFile(str(simulated / "ref.fa"))
    base = ref.fetch("chr1", 99, 100).upper()
    wrong = "A" if base != "A" else "C"
    keep = tmp_path / "keep.vcf"
    keep.write_text(f"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nchr1\t100\t.\t{wrong}\tG\t.\t.\t.\n")
    result = run_command(COMMAND, "-r", str(simulated / "ref.fa"), "--all", "--keep", str(keep), str(simulated / "tumour.bam"))
    assert result.returncode == 1 and result.stdout == b""
    assert f"{keep}:3:".encode() in result.stderr


# --- the per-read keep rules -------------------------------------------------------------


def keeper(*records: tuple[int, str, str]) -> KeepAlleles:
    """A keep list from VCF-style records (1-based POS, REF, ALT) on REFERENCE."""
    alleles = set()
    for pos, ref, alt in records:
        assert REFERENCE[pos - 1 : pos - 1 + len(ref)] == ref.encode()
        position, trimmed_ref, trimmed_alt = normalised(pos, ref, alt)
        alleles.add((position - 1, trimmed_ref.encode(), trimmed_alt.encode()))
    return KeepAlleles(alleles)


def all_windows(position: int, length: int) -> list[tuple[int, int]]:
    return [(position - 1, position + length + 1)]


def test_listed_snv_kept_other_allele_reverted() -> None:
    keep = keeper((33, "G", "T"))
    read = bytearray(REFERENCE[30:50])
    read[2] = ord("T")
    kept = revert_alignment(30, [(ord("M"), 20)], bytes(read), b"I" * 20, REFERENCE, 0, all_windows(30, 20), ClipRule.ALL, keep)
    assert isinstance(kept, Reverted) and kept.sequence == bytes(read) and kept.bases_reverted == 0
    read[2] = ord("A")
    other = revert_alignment(30, [(ord("M"), 20)], bytes(read), b"I" * 20, REFERENCE, 0, all_windows(30, 20), ClipRule.ALL, keep)
    assert isinstance(other, Reverted) and other.sequence == REFERENCE[30:50]


def test_mnp_kept_only_whole() -> None:
    keep = keeper((36, "CC", "AT"))
    whole = bytearray(REFERENCE[30:50])
    whole[5:7] = b"AT"
    result = revert_alignment(30, [(ord("M"), 20)], bytes(whole), b"I" * 20, REFERENCE, 0, all_windows(30, 20), ClipRule.ALL, keep)
    assert isinstance(result, Reverted) and result.sequence == bytes(whole)
    half = bytearray(REFERENCE[30:50])
    half[5] = ord("A")
    result = revert_alignment(30, [(ord("M"), 20)], bytes(half), b"I" * 20, REFERENCE, 0, all_windows(30, 20), ClipRule.ALL, keep)
    assert isinstance(result, Reverted) and result.sequence == REFERENCE[30:50]


def test_listed_indels_kept_other_indels_reverted() -> None:
    keep = keeper((43, "TC", "T"), (47, "A", "AT"))
    operations = [(ord("M"), 3), (ord("D"), 1), (ord("M"), 3), (ord("I"), 1), (ord("M"), 13)]
    sequence = REFERENCE[40:43] + REFERENCE[44:47] + b"T" + REFERENCE[47:60]
    kept = revert_alignment(40, operations, sequence, b"I" * 20, REFERENCE, 0, all_windows(40, 20), ClipRule.ALL, keep)
    assert isinstance(kept, Reverted) and kept.indels_reverted == 0 and kept.sequence == sequence
    other = REFERENCE[40:43] + REFERENCE[44:47] + b"G" + REFERENCE[47:60]
    reverted = revert_alignment(40, operations, other, b"I" * 20, REFERENCE, 0, all_windows(40, 20), ClipRule.ALL, keep)
    assert isinstance(reverted, Reverted) and reverted.indels_reverted == 1  # the listed deletion stays, the other insertion goes
    # the read keeps its 20 bases: the reference base after its end comes in for the one removed
    assert reverted.operations == [(ord("M"), 3), (ord("D"), 1), (ord("M"), 17)]
    assert reverted.sequence == REFERENCE[40:43] + REFERENCE[44:61]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 39), st.sampled_from("ACGT")), max_size=12),
    st.lists(st.tuples(st.integers(0, 39), st.sampled_from("ACGT")), max_size=6),
)
def test_every_base_is_reference_or_a_listed_allele(mutations: list[tuple[int, str]], listed: list[tuple[int, str]]) -> None:
    """Fail closed: after --all --keep an aligned base differs from the reference only
    where the keep list names exactly that base at that position."""
    start = 20
    read = bytearray(REFERENCE[start : start + 40])
    for offset, base in mutations:
        read[offset] = ord(base)
    records = {(start + offset + 1, chr(REFERENCE[start + offset]), alt) for offset, alt in listed if ord(alt) != REFERENCE[start + offset]}
    keep = keeper(*records)
    result = revert_alignment(start, [(ord("M"), 40)], bytes(read), b"I" * 40, REFERENCE, 0, all_windows(start, 40), ClipRule.ALL, keep)
    assert isinstance(result, Reverted)
    allowed = {(pos - 1, alt) for pos, _, alt in records}
    for offset, out_base in enumerate(result.sequence):
        if out_base != REFERENCE[start + offset]:
            assert (start + offset, chr(out_base)) in allowed
            assert read[offset] == out_base
        elif (start + offset, chr(read[offset])) in allowed:
            pytest.fail("a listed allele the read carried was reverted")


def test_unsorted_keep_list_is_an_error_when_screened(simulated: Path, tmp_path: Path) -> None:
    """The population join reads the keep list in one sorted pass; out of order is refused, not misjoined."""
    ref = pysam.FastaFile(str(simulated / "ref.fa"))
    bases = {pos: ref.fetch("chr1", pos - 1, pos).upper() for pos in (5000, 100)}
    lines = [f"chr1\t{pos}\t.\t{base}\t{'A' if base != 'A' else 'C'}\t.\t.\t." for pos, base in bases.items()]
    keep = tmp_path / "unsorted.vcf"
    keep.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + "\n".join(lines) + "\n")
    result = run_command(COMMAND, "-r", str(simulated / "ref.fa"), "--all", "--keep", str(keep),
                         "--population", str(simulated / "population.vcf.gz"), str(simulated / "tumour.bam"))
    assert result.returncode == 1 and result.stdout == b""
    assert f"{keep}:4:".encode() in result.stderr


def test_keep_alleles_of_every_spelling_reach_every_input_contig() -> None:
    """A keep list naming one contig twice (``chr1`` and ``1``) spares the alleles of both names,
    and a header declaring it twice gets them on both (only the first spelling's were joined)."""
    from genoscrub.keep_list import KeepList
    from genoscrub.report import Report

    keep = KeepList("keep.vcf")
    keep.contigs = {"chr1": None, "1": None}
    keep.alleles = {"chr1": {(10, b"A", b"G")}, "1": {(20, b"C", b"T")}}
    keep.use_for_input({"chr1": 100, "chr2": 50}, Report("sam-revert-germline"))
    assert keep.by_input["chr1"].alleles == {(10, b"A", b"G"), (20, b"C", b"T")}
    both = KeepList("keep.vcf")
    both.contigs = {"chr1": None}
    both.alleles = {"chr1": {(10, b"A", b"G")}}
    both.use_for_input({"chr1": 100, "1": 100}, Report("sam-revert-germline"))
    assert both.by_input["chr1"].alleles == both.by_input["1"].alleles == {(10, b"A", b"G")}
    assert both.alleles_under("1", 5, 15) is not None
