"""vcf-drop-rare: unit, property, corpus and independent-tool tests.

Golden cases in tests/golden/vcf-drop-rare/ pin exact outputs and the bad-input
messages. Here what the command keeps is compared with what bcftools keeps under the
same rule (``bcftools view -i`` on the record's INFO; ``bcftools annotate -a`` then
``view -i`` for the population join), on the corpus, the simulator's calls and a
synthetic cohort with indels, multi-allelic and ``*`` records.
"""

from __future__ import annotations

import gzip
import json
import math
import re
import subprocess
from pathlib import Path

import numpy as np
import pysam
import pytest
from genoscrub.population import ALLELE_WIDTH, PopulationJoin, UnsortedInput, encoded, normalised, rarer, text_float, trimmed_alleles
from genoscrub.rarity import KEPT, MISSING, RARE, SEQUENCE, reference_frequency, verdict
from genoscrub.report import InputError
from genoscrub.vcf_drop_rare import app
from hypothesis import example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.conftest import corpus_dir, run_command

COMMAND = "vcf-drop-rare"
RULE = "MIN(INFO/{key})>=0.01 && 1-SUM(INFO/{key})>=0.01"


def invoke(*args: str, input: bytes | None = None) -> tuple[int, bytes, bytes]:
    """Run the command in this process: status, stdout, stderr."""
    result = CliRunner().invoke(app, list(args), input=input)
    return result.exit_code, result.stdout_bytes, result.stderr_bytes


def sites(vcf_text: bytes) -> list[tuple[str, ...]]:
    """CHROM, POS, REF, ALT of every record, as bcftools reads them."""
    out = subprocess.run(["bcftools", "query", "-f", "%CHROM\t%POS\t%REF\t%ALT\n", "-"], input=vcf_text, capture_output=True, check=True)
    return [tuple(line.split("\t")) for line in out.stdout.decode().splitlines()]


def bcftools_kept(path: Path | str, key: str) -> list[tuple[str, ...]]:
    out = subprocess.run(["bcftools", "view", "-i", RULE.format(key=key), str(path)], capture_output=True, check=True).stdout
    return sites(out)


SIMULATION = {"pairs": 300}


# --- a synthetic cohort: SNVs, MNPs, indels, multi-allelic records and '*' (the former bench generator) ---

BASES = np.array([b"A", b"C", b"G", b"T"])
HEADER = """##fileformat=VCFv4.2
##fileDate=20231029
##source=HaplotypeCaller
##reference=file:///data/hospital/ref/GRCh38.fa
##contig=<ID=chr1,length=248956422,assembly=GRCh38,URL=file:///data/hospital/ref/GRCh38.fa>
##contig=<ID=chr2,length=242193529,assembly=GRCh38,URL=file:///data/hospital/ref/GRCh38.fa>
##FILTER=<ID=PASS,Description="All filters passed">
##INFO=<ID=AC,Number=A,Type=Integer,Description="Allele count">
##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">
##INFO=<ID=AN,Number=1,Type=Integer,Description="Allele number">
##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">
##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">
##FORMAT=<ID=PL,Number=G,Type=Integer,Description="Phred-scaled likelihoods">
##GATKCommandLine=<ID=HaplotypeCaller,CommandLine="HaplotypeCaller --input /home/kimjh/S2301217N_20231029.bam",Date="Oct 29">
##SAMPLE=<ID=S2301217N_20231029,Description="Normal blood of patient Kim J.H.">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS2301217N_20231029\tS2301217T_20231029
"""
POPULATION_HEADER = """##fileformat=VCFv4.2
##contig=<ID=chr1,length=248956422>
##contig=<ID=chr2,length=242193529>
##INFO=<ID=AF,Number=A,Type=Float,Description="Alternate allele frequency">
##INFO=<ID=AF_eas,Number=A,Type=Float,Description="Alternate allele frequency, East Asian">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO
"""


def frequencies(rng: np.random.Generator, count: int) -> np.ndarray:
    """Allele frequencies shaped like a population's: most rare, many common."""
    return np.round(np.where(rng.random(count) < 0.45, rng.uniform(0.0001, 0.01, count), rng.uniform(0.01, 0.6, count)), 5)


def write_cohort(directory: Path, records: int, seed: int = 1) -> tuple[Path, Path, int]:
    """The cohort VCF and the population VCF, bgzipped and indexed, and the cohort's text size;
    the same bytes for the same seed."""
    rng = np.random.default_rng(seed)
    per_contig = [records * 2 // 3, records - records * 2 // 3]
    cohort: list[str] = []
    population: list[str] = []
    for contig, count in zip(("chr1", "chr2"), per_contig, strict=True):
        positions = 10_000 + np.cumsum(rng.integers(1, 300, count))
        refs = BASES[rng.integers(0, 4, count)]
        alts = BASES[(rng.integers(1, 4, count) + np.searchsorted(BASES, refs)) % 4]
        kinds = rng.random(count)
        afs = frequencies(rng, count)
        eas = frequencies(rng, count)
        in_population = rng.random(count) < 0.85
        depth = rng.integers(10, 60, count)
        for i in range(count):
            ref, alt = refs[i].decode(), alts[i].decode()
            if kinds[i] < 0.06:
                alt = ref + "TG"  # insertion
            elif kinds[i] < 0.12:
                ref, alt = ref + "CA", ref  # deletion
            elif kinds[i] < 0.14:
                alt = alt + ",*" if kinds[i] < 0.13 else alt + "," + ("C" if alt != "C" and ref != "C" else "G")
            n_alts = alt.count(",") + 1
            af = ",".join([f"{afs[i]:g}"] * n_alts) if n_alts == 1 else f"{afs[i]:g},{afs[i] / 3:.5f}"
            ident = f"rs{positions[i]}" if kinds[i] > 0.5 else ("." if kinds[i] > 0.2 else f"HOSP_VAR_{i:06d}")
            pl = "0,30,300" if n_alts == 1 else "0,30,300,30,300,300"
            ad = ",".join(["10"] * (n_alts + 1))
            cohort.append(
                f"{contig}\t{positions[i]}\t{ident}\t{ref}\t{alt}\t{depth[i] * 31.7:.2f}\tPASS\t"
                f"AC=1;AF={af};AN=4;DP={depth[i]}\tGT:AD:DP:GQ:PL\t0/1:{ad}:{depth[i]}:99:{pl}\t0/0:{ad}:{depth[i]}:60:{pl}"
            )
            if in_population[i] and "*" not in alt:
                pop_af = ",".join(f"{eas[i]:g}" for _ in range(n_alts))
                population.append(f"{contig}\t{positions[i]}\t.\t{ref}\t{alt}\t.\tPASS\tAF={af};AF_eas={pop_af}")
            if kinds[i] > 0.7:  # a population-only SNV nearby, as gnomAD has many more sites than a cohort
                extra = positions[i] + 1 + int(kinds[i] * 10)
                if i + 1 == count or extra < positions[i + 1]:
                    population.append(f"{contig}\t{extra}\t.\tA\tG\t.\tPASS\tAF=0.02;AF_eas=0.03")
    cohort_path, population_path = directory / "cohort.vcf.gz", directory / "population.vcf.gz"
    size = len(HEADER) + sum(map(len, cohort)) + len(cohort)
    for path, header, lines in ((cohort_path, HEADER, cohort), (population_path, POPULATION_HEADER, population)):
        text = path.with_suffix("")
        text.write_text(header + "\n".join(lines) + "\n")
        subprocess.run(["bgzip", "-f", str(text)], check=True)
        subprocess.run(["tabix", "-f", "-p", "vcf", str(path)], check=True)
    return cohort_path, population_path, size


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A synthetic cohort and population (the bench's generator, small): indels, multi-allelic, '*'."""
    cohort_path, population_path, _ = write_cohort(tmp_path_factory.mktemp("cohort"), 6000, seed=7)
    return cohort_path, population_path


# --- the rule ------------------------------------------------------------------------------------


def judge_alleles(afs: list[float | None], min_af: float, ref_af: float | None = None) -> str:
    kinds = [SEQUENCE] * len(afs)
    return verdict(afs, kinds, reference_frequency(afs, kinds, ref_af), min_af)


@pytest.mark.parametrize(
    ("afs", "ref_af", "expected"),
    [
        ([0.3], None, KEPT),
        ([0.01], None, KEPT),  # at the threshold: kept (a frequency >= --min-af)
        ([0.0099], None, RARE),
        ([0.995], None, RARE),  # REF = 0.005
        ([0.99], None, KEPT),  # REF = 0.01
        ([0.3, 0.005], None, RARE),
        ([0.3, None], None, MISSING),
        ([0.001, None], None, RARE),  # a known rare allele decides
        ([None], None, MISSING),
        ([], None, KEPT),
        ([0.1], 0.005, RARE),  # CAF gives REF itself
        ([0.995, None], None, RARE),  # REF at most 0.005: rare before --keep-missing applies
        ([0.5, 0.495], None, RARE),  # REF 0.005 through the other allele
    ],
)
def test_judge_alleles(afs: list[float | None], ref_af: float | None, expected: str) -> None:
    assert judge_alleles(afs, 0.01, ref_af) == expected


@pytest.mark.parametrize(
    ("variant", "expected"),
    [
        ((100, "A", "G"), (100, "A", "G")),
        ((100, "ATT", "AT"), (101, "T", "")),
        ((100, "AT", "A"), (101, "T", "")),
        ((100, "A", "AT"), (101, "", "T")),
        ((100, "GCA", "GC"), (102, "A", "")),
        ((100, "AC", "GC"), (100, "A", "G")),
        ((100, "ac", "gc"), (100, "A", "G")),
    ],
)
def test_normalised_trims_shared_bases(variant: tuple[int, str, str], expected: tuple[int, str, str]) -> None:
    assert normalised(*variant) == expected


alleles = st.text("ACGT", min_size=1, max_size=6)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 10**6), alleles, alleles, st.text("ACGT", max_size=3), st.text("ACGT", max_size=3))
def test_padding_never_changes_the_normalised_allele(pos: int, ref: str, alt: str, left: str, right: str) -> None:
    """The same variant written with extra shared bases meets itself: trailing padding always,
    leading padding for substitutions (an indel in a repeat can shift: no reference, no left-alignment)."""
    if ref == alt:
        return
    assert normalised(pos, ref + right, alt + right) == normalised(pos, ref, alt)
    if len(ref) == len(alt):
        assert normalised(pos - len(left), left + ref + right, left + alt + right) == normalised(pos, ref, alt)
    assert normalised(*normalised(pos, ref, alt)) == normalised(pos, ref, alt)


raw_alleles = st.text("ACGTNacgtn", min_size=1, max_size=ALLELE_WIDTH)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**11), raw_alleles, raw_alleles), min_size=1, max_size=20))
def test_numpy_trimming_is_normalised(variants: list[tuple[int, str, str]]) -> None:
    """``trimmed_alleles`` (numpy, many alleles at once) gives the keys ``normalised`` gives one by one."""
    text = "".join(ref + alt for _, ref, alt in variants).encode()
    ref_length = np.array([len(ref) for _, ref, _ in variants])
    alt_length = np.array([len(alt) for _, _, alt in variants])
    ref_start = np.cumsum(ref_length + alt_length) - ref_length - alt_length
    positions = np.array([pos for pos, _, _ in variants], dtype=np.int64)
    keys, texts = trimmed_alleles(np.frombuffer(text, dtype=np.uint8), positions, ref_start, ref_start + ref_length,
                                  ref_start + ref_length, ref_start + ref_length + alt_length)
    for (pos, ref, alt), key, key_text in zip(variants, keys.tolist(), texts.tolist(), strict=True):
        assert (key if key >= 0 else key_text) == encoded(normalised(pos, ref.encode(), alt.encode()))


population_alleles = ["A", "C", "G", "T", "a", "AC", "CA", "ACG", "GAC", "*", "<DEL>", "A" * 20, "C" * 17]
population_alts = st.lists(st.sampled_from(population_alleles), min_size=1, max_size=3)
population_values = st.sampled_from(["0.5", "0.004", ".", "x", "1.5", "", "1e-3", "0.2,0.3", "-"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 40), st.sampled_from(["A", "AC", "CAC", "a", "ACGTACGTACGTACGTAC"]), population_alts,
                          st.lists(population_values, min_size=1, max_size=3)), min_size=1, max_size=30))
@example(records=[(23, "CAC", ["A", "ACG"], ["0.5", "0.004"]), (24, "A", ["C"], ["0.5"])])  # an MNP holds a listed SNV
@example(records=[(23, "CAC", ["A", "ACG"], ["0.5", "x"]), (24, "A", ["C"], ["0.5"])])
def test_population_tables_hold_what_the_rule_says(tmp_path_factory: pytest.TempPathFactory, records: list) -> None:
    """Whatever path a population record takes (numpy keys, split multi-allelic, one by one), each
    trimmed allele gets its value, the rarer of two, or an error for a value that is not a frequency;
    each base an MNP changes is also that SNV, with the MNP's value."""
    records = sorted(records, key=lambda record: record[0])
    lines = [f"chr1\t{pos}\t.\t{ref}\t{','.join(alts)}\t.\t.\tAF_eas={','.join(values)}\n" for pos, ref, alts, values in records]
    path = tmp_path_factory.mktemp("population") / "pop.vcf"
    path.write_text('##fileformat=VCFv4.2\n##INFO=<ID=AF_eas,Number=A,Type=Float,Description="x">\n'
                    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + "".join(lines))
    pysam.tabix_index(str(path), preset="vcf")
    expected: dict = {}
    for pos, ref, alts, values in records:
        numbers = ",".join(values).split(",")
        for index, alt in enumerate(alts):
            if re.fullmatch("[ACGTNacgtn]+", alt):
                key = normalised(pos, ref, alt)
                value = text_float(numbers[index].encode() if index < len(numbers) else b".")
                start, trimmed_ref, trimmed_alt = key
                mnp_snvs = [(start + at, trimmed_ref[at], trimmed_alt[at]) for at in range(len(trimmed_ref))
                            if trimmed_ref[at] != trimmed_alt[at]] if len(trimmed_ref) == len(trimmed_alt) >= 2 else []
                for each in [key, *mnp_snvs]:  # an MNP's SNVs get its value too (alleles.snv_parts)
                    expected[each] = rarer(value, expected[each]) if each in expected else value
    for (pos, ref, alt), value in sorted(expected.items()):
        join = PopulationJoin(str(path) + ".gz", "AF_eas", {})
        if ref == alt or not ref and not alt:
            join.close()
            continue
        if 0.0 <= value <= 1.0 or math.isnan(value):
            assert join.allele_frequencies("chr1", [pos], [ref], [alt])[0] == pytest.approx(value, nan_ok=True)
        else:
            with pytest.raises(InputError):
                join.allele_frequencies("chr1", [pos], [ref], [alt])
        join.close()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(0, 1)), max_size=4), st.floats(0.0001, 0.5))
def test_a_kept_site_has_every_allele_at_least_min_af(afs: list[float | None], min_af: float) -> None:
    verdict = judge_alleles(afs, min_af)
    if verdict == KEPT:
        known = [af for af in afs if af is not None]
        assert len(known) == len(afs)
        assert all(af >= min_af - 1e-9 for af in known) and 1 - sum(known) >= min_af - 1e-9


# --- the population join as an API (reused by sam-revert-germline) -------------------------------


def test_population_join_api(simulated: Path) -> None:
    join = PopulationJoin(str(simulated / "population.vcf.gz"), "AF_eas", {"chr1": 20000, "chr2": 10000, "chrM": 16569})
    truth = [line.split("\t") for line in (simulated / "truth.tsv").read_text().splitlines()[1:]]
    germline = [row for row in truth if row[4] == "germline" and row[0] == "chr1"]
    for chrom, pos, ref, alt, *_, population, _af, af_eas in (row[:11] for row in germline):
        found = join.frequencies(chrom, int(pos), ref, [alt])
        if population.startswith(("absent", "other_allele")):
            assert found == [None]
        elif not population.startswith("multiallelic"):
            assert found[0] is not None and math.isclose(found[0], float(af_eas), rel_tol=1e-6)
    with pytest.raises(UnsortedInput):
        join.frequencies("chr1", 5, "A", ["G"])
    join.close()


def test_population_join_seeks_over_gaps_and_keeps_memory_small(cohort: tuple[Path, Path]) -> None:
    _, population = cohort
    join = PopulationJoin(str(population), "AF_eas", {})
    rows = [line.split("\t") for line in gzip.decompress(population.read_bytes()).decode().splitlines() if not line.startswith("#")]
    chr1 = [row for row in rows if row[0] == "chr1" and "," not in row[4]]
    picked = chr1[:: max(1, len(chr1) // 40)]
    found = join.allele_frequencies("chr1", [int(r[1]) for r in picked], [r[3] for r in picked], [r[4] for r in picked])
    expected = [float(r[7].split("AF_eas=")[1].split(";")[0]) for r in picked]
    assert np.allclose(found, expected)
    assert join.held_alleles() < 3 * join.BATCH
    join.close()


def test_population_join_reads_every_record_at_a_position_across_batches(tmp_path: Path) -> None:
    text = "##fileformat=VCFv4.2\n##INFO=<ID=AF_eas,Number=A,Type=Float,Description=\"x\">\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    text += "".join(f"chr1\t{pos}\t.\tA\t{alt}\t.\t.\tAF_eas=0.{i + 1}\n" for i, (pos, alt) in enumerate(
        [(10, "C"), (20, "C"), (20, "G"), (20, "T"), (30, "C"), (200_000, "G")]))
    path = tmp_path / "pop.vcf"
    path.write_text(text)
    pysam.tabix_index(str(path), preset="vcf")
    join = PopulationJoin(str(path) + ".gz", "AF_eas", {})
    join.BATCH = 2  # type: ignore[misc]
    assert join.frequencies("chr1", 20, "A", ["T", "G", "C"]) == [0.4, 0.3, 0.2]
    assert join.frequencies("chr1", 200_000, "A", ["G"]) == [0.6]  # after a seek over the gap
    join.close()


def test_population_file_with_a_csi_index(tmp_path: Path) -> None:
    """Contigs past 2^29 need a CSI index (``tabix -C``); the join finds FILE.csi when there is no FILE.tbi."""
    text = "##fileformat=VCFv4.2\n##INFO=<ID=AF_eas,Number=A,Type=Float,Description=\"x\">\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    text += "chr1\t10\t.\tA\tC\t.\t.\tAF_eas=0.2\nchr1\t600000000\t.\tAT\tA\t.\t.\tAF_eas=0.3\n"
    path = tmp_path / "pop.vcf"
    path.write_text(text)
    pysam.tabix_index(str(path), preset="vcf", csi=True)
    assert not Path(str(path) + ".gz.tbi").exists()
    join = PopulationJoin(str(path) + ".gz", "AF_eas", {})
    assert join.frequencies("chr1", 10, "A", ["C"]) == [0.2]
    assert join.frequencies("chr1", 600_000_000, "AT", ["A"]) == [0.3]
    join.close()


def mitochondrial_populations(folder: Path) -> None:
    """``one.vcf.gz`` and ``both.vcf.gz``: a population declaring ``chrM`` and ``MT``, its records
    under ``MT`` only (common at 60, rare at 73), or under both names."""
    info = '##INFO=<ID=AF,Number=A,Type=Float,Description="x">\n'
    contigs = "##contig=<ID=chrM,length=16569>\n##contig=<ID=MT,length=16569>\n"
    columns = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    for name, records in (("one", "MT\t60\t.\tA\tG\t.\t.\tAF=0.5\nMT\t73\t.\tA\tG\t.\t.\tAF=0.0001\n"),
                          ("both", "chrM\t60\t.\tA\tG\t.\t.\tAF=0.5\nMT\t73\t.\tA\tG\t.\t.\tAF=0.0001\n")):  # fmt: skip
        (folder / f"{name}.vcf").write_text("##fileformat=VCFv4.2\n" + info + contigs + columns + records)
        pysam.tabix_index(str(folder / f"{name}.vcf"), preset="vcf", force=True)


@pytest.mark.parametrize("declared", [True, False], ids=["declared", "undeclared"])
def test_a_population_file_naming_a_contig_two_ways(tmp_path: Path, declared: bool) -> None:
    """The population's records of the mitochondrion under ``MT``, its header declaring ``chrM``
    too: a ``chrM`` call is looked up under ``MT``, where its rare allele is (read under
    ``chrM``, it was missing, and the somatic settings keep a missing allele). Records under
    both names stop the command: whichever it read, the other's alleles would be missing."""
    mitochondrial_populations(tmp_path)
    info = '##INFO=<ID=AF,Number=A,Type=Float,Description="x">\n'
    columns = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    calls = "##fileformat=VCFv4.2\n" + info + ("##contig=<ID=chrM,length=16569>\n" if declared else "") + columns
    calls += "chrM\t73\t.\tA\tG\t.\tPASS\t.\n"
    somatic = ["--af-key", "AF", "--keep-missing"]
    status, out, err = invoke("--population", str(tmp_path / "one.vcf.gz"), *somatic, input=calls.encode())
    assert status == 0 and sites(out) == [], err  # rare under MT: dropped
    status, out, err = invoke("--population", str(tmp_path / "both.vcf.gz"), *somatic, input=calls.encode())
    assert status == 1 and b"under 2 names" in err and len(err.splitlines()) == 1, err


def test_population_join_checks_the_genome_before_any_record(simulated: Path) -> None:
    with pytest.raises(InputError, match="another genome build"):
        PopulationJoin(str(simulated / "population.vcf.gz"), "AF_eas", {"chr1": 248956422})


# --- independent checks with bcftools -----------------------------------------------------------


def test_info_af_keeps_what_bcftools_view_keeps_on_the_population_file(simulated: Path) -> None:
    population = simulated / "population.vcf.gz"
    for key in ("AF", "AF_eas"):
        status, stdout, stderr = invoke("-q", "--af-key", key, str(population))
        assert status == 0, stderr
        assert sites(stdout) == bcftools_kept(population, key)


def test_population_join_keeps_what_bcftools_annotate_keeps(simulated: Path, cohort: tuple[Path, Path]) -> None:
    cases = [(simulated / "germline.vcf.gz", simulated / "population.vcf.gz"), cohort]
    for source, population in cases:
        status, stdout, stderr = invoke("-q", "--population", str(population), "--af-key", "AF_eas", str(source))
        assert status == 0, stderr
        annotated = subprocess.run(
            ["bcftools", "annotate", "-a", str(population), "-c", "INFO/AF_eas", str(source)], capture_output=True, check=True
        ).stdout
        expected = sites(subprocess.run(["bcftools", "view", "-i", RULE.format(key="AF_eas"), "-"], input=annotated,
                                        capture_output=True, check=True).stdout)
        assert sites(stdout) == expected
        assert len(expected) > 10


def test_rare_in_east_asians_only_is_dropped_with_af_eas(simulated: Path) -> None:
    """The guideline asks for the relevant population: global AF would keep these."""
    truth = [line.split("\t") for line in (simulated / "truth.tsv").read_text().splitlines()[1:]]
    east_asian_rare = {(r[0], r[1]) for r in truth if r[8] == "rare" and float(r[9]) >= 0.01 and float(r[10]) < 0.01}
    assert east_asian_rare
    args = ["-q", "--population", str(simulated / "population.vcf.gz"), str(simulated / "germline.vcf.gz")]
    kept_eas = {s[:2] for s in sites(invoke(*args, "--af-key", "AF_eas")[1])}
    kept_global = {s[:2] for s in sites(invoke(*args, "--af-key", "AF")[1])}
    assert not east_asian_rare & kept_eas
    assert east_asian_rare <= kept_global


def test_dbsnp_sao_matches_bcftools(corpus: Path) -> None:
    path = corpus / "vcf" / "bcftools__query.nucleotide.vcf"
    status, stdout, _ = invoke("-q", "--af-key", "COMMON", "--drop-germline", "--keep-missing", str(path))
    assert status == 0
    expected = subprocess.run(
        ["bcftools", "view", "-e", "INFO/SAO=1 || INFO/SAO=3 || INFO/COMMON=0", str(path)], capture_output=True, check=True
    ).stdout
    assert sites(stdout) == sites(expected)


def test_report_counts_every_record(simulated: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = run_command(
        COMMAND, "--population", str(simulated / "population.vcf.gz"), "--af-key", "AF_eas", "--drop-germline",
        "--report", str(report), str(simulated / "germline.vcf.gz"),
    )
    assert result.returncode == 0, result.stderr
    counts = json.loads(report.read_text())["counts"]
    assert counts["records"] == counts["kept"] + counts["dropped_rare"] + counts["dropped_missing"] + counts["dropped_germline"]
    assert counts["kept"] == len(sites(result.stdout))
    assert result.stderr.startswith(b"vcf-drop-rare: records ")


def test_bgzf_output_indexable(simulated: Path, tmp_path: Path) -> None:
    out = tmp_path / "kept.vcf.gz"
    args = ["-q", "--population", str(simulated / "population.vcf.gz"), "--af-key", "AF_eas", str(simulated / "germline.vcf.gz")]
    assert run_command(COMMAND, "-O", "z", "-o", str(out), *args).returncode == 0
    pysam.tabix_index(str(out), preset="vcf", force=True)
    assert gzip.decompress(out.read_bytes()) == run_command(COMMAND, *args).stdout


# --- the real corpus, read in place ------------------------------------------------------------


def corpus_files(category: str) -> list[Path]:
    root = corpus_dir()
    return sorted((root / category).glob("*.vcf*")) if root else []


def text_of(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def defines_af(path: Path) -> bool:
    return b"##INFO=<ID=AF," in text_of(path)


@pytest.mark.parametrize("path", corpus_files("vcf"), ids=lambda p: p.name)
def test_corpus_vcf(path: Path) -> None:
    status, stdout, stderr = invoke("-q", "--af-key", "AF", str(path))
    if not defines_af(path):
        assert status == 1 and b"INFO/AF (--af-key) is not defined in the header" in stderr
        status, stdout, stderr = invoke("-q", "--af-key", "AF", "--keep-missing", "--min-af", "0.01", str(path))
        return
    assert status == 0, stderr
    kept = sites(stdout)
    every = sites(text_of(path))
    assert set(kept) <= set(every)
    # Where the rule is the same, bcftools keeps the same records. By design we differ on
    # reference-only sites (ALT "."; kept: only REF, everyone's allele), symbolic alleles
    # (no population AF: missing) and Number=. keys whose count does not fit (missing).
    symbolic = any(c in site[3] for site in every for c in "<[]*")
    if not symbolic and b"##INFO=<ID=AF,Number=.," not in text_of(path):
        assert [site for site in kept if site[3] != "."] == bcftools_kept(path, "AF")


@pytest.mark.parametrize("path", corpus_files("vcf-bad"), ids=lambda p: p.name)
def test_corpus_bad_vcf_never_crashes(path: Path) -> None:
    status, _, stderr = invoke("-q", "--af-key", "AF", "--keep-missing", str(path))
    assert status in (0, 1), stderr
    if status == 1:
        assert stderr.startswith(b"vcf-drop-rare: ") and stderr.count(b"\n") == 1


def test_corpus_undefined_af_key_is_an_error_at_the_header(corpus: Path) -> None:
    """AF=-0.01 is used but never defined: the key is checked before any record (negative values: golden bad-af-negative)."""
    path = corpus / "vcf-bad" / "htsspecs__43_failed_body_info_004.vcf"
    status, stdout, stderr = invoke("-q", "--af-key", "AF", str(path))
    assert status == 1 and not stdout
    assert stderr == f"{COMMAND}: {path}:3: INFO/AF (--af-key) is not defined in the header\n".encode()


def test_unsorted_corpus_file_is_refused_with_population(corpus: Path, simulated: Path) -> None:
    path = corpus / "vcf" / "bcftools__sort.vcf"
    population = simulated / "population.vcf.gz"
    status, _, stderr = invoke("-q", "--population", str(population), "--af-key", "AF_eas", str(path))
    assert status == 1
    assert b"sort the input" in stderr or b"another genome build" in stderr


# --- gVCF reference blocks: REF carried over the block's span -------------------------------------

BLOCK_CASE = Path(__file__).parent / "golden" / "vcf-drop-rare" / "reference-block-over-a-rare-ref-dropped"


def test_a_reference_block_is_judged_by_every_population_site_it_spans(tmp_path: Path) -> None:
    """A 0/0 block over a site where REF is rare (0.005) says the person is homozygous for a rare
    allele there: dropped, as the same site written as its own record is, on the bulk and the
    one-record path and with the input's contigs named ``1``; the audit finds such a block in the
    input and none in the output. Expected answers by hand: the blocks over 3000 (REF 0.005) and
    7000 (REF 1 - 0.6 - 0.395) go, those over 5000 (REF 0.8) and short of 7000 stay."""
    plain = (BLOCK_CASE / "input").read_bytes()
    renamed = plain.replace(b"ID=chr1,", b"ID=1,").replace(b"\nchr1\t", b"\n1\t")
    population = ["--population", str(BLOCK_CASE / "pop.vcf.gz"), "--af-key", "AF_eas"]
    kept = []
    for text in (plain, renamed):
        for switch in ({}, {"GENOSCRUB_ONE_BY_ONE": "1"}):
            with pytest.MonkeyPatch.context() as monkeypatch:
                for name, value in switch.items():
                    monkeypatch.setenv(name, value)
                result = run_command(COMMAND, *population, input=text)
            assert result.returncode == 0, result.stderr
            kept.append([line.split(b"\t")[1] for line in result.stdout.splitlines() if not line.startswith(b"#")])
    assert kept == [[b"4900", b"6900", b"7500"]] * 4
    (tmp_path / "in.vcf").write_bytes(plain)
    audit = run_command("genoscrub-audit", *population, "--report", str(tmp_path / "in.json"), str(tmp_path / "in.vcf"))
    found = json.loads((tmp_path / "in.json").read_text())["files"][0]["findings"]["population"]
    assert audit.returncode == 1 and found["by_key"] == {"REF rarer than 0.01 in a reference block": 2}
    (tmp_path / "out.vcf").write_bytes(run_command(COMMAND, *population, input=plain).stdout)
    audit = run_command("genoscrub-audit", *population, str(tmp_path / "out.vcf"))
    assert audit.returncode == 0, audit.stdout


# --- --germline: the matched normal's calls drop what they name, whatever its frequency ------------

GERMLINE_LIST = """##fileformat=VCFv4.2
##contig=<ID=chr1,length=20000>
##contig=<ID=chr2,length=10000>
##FILTER=<ID=lowq,Description="Low quality">
##INFO=<ID=END,Number=1,Type=Integer,Description="End">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tN
chr1\t100\t.\tA\tG\t50\tPASS\t.\tGT\t0/1
chr1\t200\t.\tCAT\tC\t50\tPASS\t.\tGT\t0/1
chr1\t300\t.\tG\tT,C\t50\tPASS\t.\tGT\t1/2
chr1\t400\t.\tA\t<DEL>\t50\tPASS\tEND=600\tGT\t0/1
chr1\t500\t.\tT\t<NON_REF>\t.\t.\tEND=550\tGT\t0/0
chr1\t600\t.\tG\tG]chr2:100]\t50\tPASS\t.\tGT\t0/1
chr2\t50\t.\tACGTACGTACGTACGTACGT\tA\t50\tlowq\t.\tGT\t0/0
chr2\t100\t.\tA\tAACGTTGCAACGTTGCAACGTTGCAACGTTGCAACGTTGCA\t50\tPASS\t.\tGT\t0/1
"""
CALLS_HEADER = """##fileformat=VCFv4.2
##contig=<ID=chr1,length=20000>
##contig=<ID=chr2,length=10000>
##INFO=<ID=AF,Number=A,Type=Float,Description="Frequency">
##INFO=<ID=END,Number=1,Type=Integer,Description="End">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO
"""
# (record, carries an allele of GERMLINE_LIST)
GERMLINE_CALLS = [
    ("chr1\t100\t.\ta\tg\t.\tPASS\t.", True),  # lower case
    ("chr1\t100\t.\tA\tT\t.\tPASS\t.", False),  # another allele at the site
    ("chr1\t200\t.\tCATG\tCG\t.\tPASS\t.", True),  # the deletion padded otherwise
    ("chr1\t300\t.\tG\tC\t.\tPASS\tAF=0.4", True),  # one allele of a multi-allelic germline record, common or not
    ("chr1\t310\t.\tA\tC,T\t.\tPASS\t.", False),
    ("chr1\t320\t.\tAG\tAC,T\t.\tPASS\t.", False),
    ("chr1\t330\t.\tG\tA,T\t.\tPASS\t.", False),
    ("chr1\t300\t.\tGA\tTA,GC\t.\tPASS\t.", True),  # a multi-allelic call whose first allele trims to G>T
    ("chr1\t400\t.\tA\t<DEL>\t.\tPASS\tEND=900", True),  # a symbolic allele: its type at its POS, any span
    ("chr1\t400\t.\tA\t<DUP>\t.\tPASS\tEND=600", False),
    ("chr1\t500\t.\tT\tC\t.\tPASS\t.", False),  # the germline record there is a reference block
    ("chr1\t600\t.\tG\tG]chr2:200]\t.\tPASS\t.", True),  # a breakend at the POS of a germline breakend
    ("chr2\t50\t.\tACGTACGTACGTACGTACGT\tA\t.\tPASS\t.", True),  # any FILTER, any genotype of the list
    ("chr2\t60\t.\tA\tG\t.\tPASS\t.", False),
    # a long insertion, padded otherwise, in a multi-allelic call
    ("chr2\t100\t.\tAC\tAACGTTGCAACGTTGCAACGTTGCAACGTTGCAACGTTGCAC,T\t.\tPASS\t.", True),
    ("chr2\t100\t.\tA\tAACGTTGCAACGTTGCAACGTTGCAACGTTGCAACGTTGC\t.\tPASS\t.", False),
]


def calls_text(records: list[tuple[str, bool]]) -> bytes:
    ordered = sorted(records, key=lambda item: (item[0].split("\t")[0], int(item[0].split("\t")[1])))
    return (CALLS_HEADER + "".join(record + "\n" for record, _ in ordered)).encode()


def written_germline_list(folder: Path, text: str, how: str) -> Path:
    """The list as plain text, gzip or BGZF (indexed)."""
    if how == "plain":
        path = folder / "germline.vcf"
        path.write_text(text)
    elif how == "gzip":
        path = folder / "germline.vcf.gz"
        path.write_bytes(gzip.compress(text.encode()))
    else:
        plain = folder / "germline.plain.vcf"
        plain.write_text(text)
        path = folder / "germline.bgzf.vcf.gz"
        pysam.tabix_compress(str(plain), str(path), force=True)
        pysam.tabix_index(str(path), preset="vcf", force=True)
    return path


@pytest.mark.parametrize("how", ["plain", "gzip", "bgzf"])
@pytest.mark.parametrize("one", [False, True], ids=["bulk", "one-by-one"])
def test_germline_list_drops_each_call_carrying_a_listed_allele(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str, one: bool
) -> None:
    if one:
        monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", "1")
    listed = written_germline_list(tmp_path, GERMLINE_LIST, how)
    options = ["--af-key", "AF", "--keep-missing", "--germline", str(listed), "--report", str(tmp_path / "r.json")]
    status, out, err = invoke(*options, input=calls_text(GERMLINE_CALLS))
    assert status == 0, err
    kept = [line for line in out.decode().splitlines() if not line.startswith("#")]
    dropped_sites = {tuple(record.split("\t")[:2]) for record, carried in GERMLINE_CALLS if carried}
    expected = [record for record, carried in GERMLINE_CALLS if not carried and tuple(record.split("\t")[:2]) not in dropped_sites]
    assert sorted(kept) == sorted(expected)  # a record beside a carrying one at its CHROM and POS goes with it
    counts = json.loads((tmp_path / "r.json").read_text())["counts"]
    assert counts["dropped_germline_listed"] == sum(carried for _, carried in GERMLINE_CALLS)
    assert counts["records_dropped_with_their_site"] == len(GERMLINE_CALLS) - len(expected) - counts["dropped_germline_listed"]


def test_germline_list_contig_names_and_lengths(tmp_path: Path) -> None:
    """chr1/1 and chrM/MT give the same answer whichever file uses which; another build stops."""
    other_naming = GERMLINE_LIST.replace("chr1", "1").replace("chr2", "2")
    calls = calls_text(GERMLINE_CALLS)
    outputs = []
    for text, input_text in ((GERMLINE_LIST, calls), (other_naming, calls), (GERMLINE_LIST, calls.replace(b"chr", b""))):
        listed = written_germline_list(tmp_path, text, "plain")
        status, out, err = invoke("--af-key", "AF", "--keep-missing", "--germline", str(listed), input=input_text)
        assert status == 0, err
        outputs.append(out.replace(b"chr", b""))
    assert outputs[0] == outputs[1] == outputs[2]
    mito = "##fileformat=VCFv4.2\n##contig=<ID=MT,length=16569>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nMT\t73\t.\tA\tG\t.\t.\t.\n"
    listed = written_germline_list(tmp_path, mito, "plain")
    mito_header = CALLS_HEADER.replace("##contig=<ID=chr2,length=10000>", "##contig=<ID=chrM,length=16569>")
    calls_m = (mito_header + "chrM\t73\t.\tA\tG\t.\tPASS\t.\n").encode()
    status, out, err = invoke("--af-key", "AF", "--keep-missing", "--germline", str(listed), input=calls_m)
    assert status == 0 and b"chrM\t73" not in out, err
    listed = written_germline_list(tmp_path, GERMLINE_LIST.replace("length=20000", "length=20001"), "plain")
    status, out, err = invoke("--af-key", "AF", "--keep-missing", "--germline", str(listed), input=calls)
    assert status == 1 and b"another genome build" in err
    undeclared = "\n".join(line for line in GERMLINE_LIST.splitlines() if not line.startswith("##contig"))
    listed = written_germline_list(tmp_path, undeclared.replace("chr", "NC_00000") + "\n", "plain")
    bare_calls = b"\n".join(line for line in calls.split(b"\n") if not line.startswith(b"##contig"))
    status, out, err = invoke("--af-key", "AF", "--keep-missing", "--germline", str(listed), input=bare_calls)
    assert status == 1 and b"germline list" in err


TWO_SPELLINGS_CONTIGS = "".join(
    f"##contig=<ID={name},length={length}>\n" for name, length in (("chr1", 20000), ("1", 20000), ("chrM", 16569), ("MT", 16569))
)
TWO_SPELLINGS_LISTED = "1\t100\tA\tG\nchr1\t200\tC\tT\nMT\t73\tA\tG\nchrM\t150\tC\tT\n"
"""A germline list naming one contig two ways (``chrM`` and ``MT``; ``chr1`` and ``1``, as a
half-renamed file does): CHROM, POS, REF, ALT."""
TWO_SPELLINGS_CALLS = "chr1\t100\tA\tG\nchr1\t200\tC\tT\nchr1\t300\tG\tA\nchrM\t73\tA\tG\nchrM\t150\tC\tT\nchrM\t300\tG\tA\n"
"""Calls on ``chr1`` and ``chrM``: all but the two at 300 carry an allele of the list."""


def two_spellings_vcf(records: str, contigs: str) -> str:
    """A VCF of ``records`` (CHROM, POS, REF, ALT) under ``contigs`` lines."""
    body = "".join(
        f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t.\tPASS\t.\n" for chrom, pos, ref, alt in (line.split("\t") for line in records.splitlines())
    )
    info = '##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">\n'
    return "##fileformat=VCFv4.2\n" + info + contigs + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + body


@pytest.mark.parametrize("declared", [True, False], ids=["declared", "undeclared"])
@pytest.mark.parametrize("one", [False, True], ids=["bulk", "one-by-one"])
def test_germline_list_naming_one_contig_two_ways(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, declared: bool, one: bool) -> None:
    """A list holding ``chrM`` and ``MT`` (or ``chr1`` and ``1``): each input contig is checked
    against the alleles under every name the list gives it, so a germline allele is dropped
    whichever spelling the list wrote it under."""
    if one:
        monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", "1")
    listed = written_germline_list(tmp_path, two_spellings_vcf(TWO_SPELLINGS_LISTED, TWO_SPELLINGS_CONTIGS if declared else ""), "plain")
    calls_contigs = "##contig=<ID=chr1,length=20000>\n##contig=<ID=chrM,length=16569>\n" if declared else ""
    calls = two_spellings_vcf(TWO_SPELLINGS_CALLS, calls_contigs).encode()
    status, out, err = invoke("--af-key", "AF", "--keep-missing", "--germline", str(listed), input=calls)
    assert status == 0, err
    assert sites(out) == [("chr1", "300", "G", "A"), ("chrM", "300", "G", "A")]


def test_germline_list_private_germline_call_of_the_somatic_vcf(simulated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The red-team case: a private germline variant (in the normal's calls, absent from the
    population) that a tumour-only style caller wrote as somatic is kept as missing by the
    workflow's somatic settings, and dropped with --germline: same bytes on both paths and
    whichever contig naming the germline list uses; bcftools finds no allele of the list left."""
    germline = simulated / "germline.vcf.gz"
    plain_names = rename_contigs_of(germline, tmp_path / "germline.1.vcf.gz", {"chr1": "1", "chr2": "2", "chrM": "MT"})
    somatic = ["--population", str(simulated / "population.vcf.gz"), "--af-key", "AF_eas", "--drop-germline", "--keep-missing"]
    calls = str(simulated / "germline_as_somatic.vcf.gz")

    def shared_with_germline(vcf_text: bytes, name: str) -> int:
        path = tmp_path / f"{name}.vcf.gz"
        plain = tmp_path / f"{name}.vcf"
        plain.write_bytes(vcf_text)
        pysam.tabix_compress(str(plain), str(path), force=True)
        pysam.tabix_index(str(path), preset="vcf", force=True)
        isec = subprocess.run(["bcftools", "isec", "-n=2", "-w1", "-c", "none", str(path), str(germline)], capture_output=True, check=True)
        return sum(1 for line in isec.stdout.splitlines() if line and not line.startswith(b"#"))

    before = run_command(COMMAND, "-q", *somatic, calls)
    assert before.returncode == 0, before.stderr
    assert shared_with_germline(before.stdout, "before") > 0  # the gap: germline alleles kept as missing
    outputs = []
    for env in ("", "1"):
        monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", env)
        for listed in (germline, plain_names):
            result = run_command(COMMAND, "-q", *somatic, "--germline", str(listed), calls)
            assert result.returncode == 0, result.stderr
            outputs.append(result.stdout)
    assert all(output == outputs[0] for output in outputs)
    assert shared_with_germline(outputs[0], "after") == 0
    assert len(sites(outputs[0])) > 0  # the somatic calls stay


def rename_contigs_of(source: Path, target: Path, names: dict[str, str]) -> Path:
    table = target.with_suffix(".chrs")
    table.write_text("".join(f"{old}\t{new}\n" for old, new in names.items()))
    subprocess.run(["bcftools", "annotate", "--rename-chrs", str(table), "-Oz", "-o", str(target), str(source)], check=True)
    return target


@pytest.mark.parametrize("one", [False, True], ids=["bulk", "one-by-one"])
def test_germline_list_with_a_long_contig_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, one: bool) -> None:
    """A contig name longer than the list's byte rows compare (germline_list.CHROM_WIDTH) is read by name."""
    if one:
        monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", "1")
    long_name = "chrUn_" + "KN707606v1_decoy" * 5
    header = f"##fileformat=VCFv4.2\n##contig=<ID=chr1,length=20000>\n##contig=<ID={long_name},length=5000>\n"
    header += '##INFO=<ID=AF,Number=A,Type=Float,Description="Frequency">\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n'
    listed = tmp_path / "germline.vcf"
    listed.write_text(header + f"chr1\t10\t.\tA\tG\t.\t.\t.\n{long_name}\t20\t.\tC\tT\t.\t.\t.\n{long_name}\t30\t.\tC\tT\t.\t.\t.\n")
    calls = header + "chr1\t10\t.\tA\tG\t.\t.\t.\nchr1\t20\t.\tC\tT\t.\t.\t.\n"
    calls += f"{long_name}\t20\t.\tC\tT\t.\t.\t.\n{long_name}\t40\t.\tC\tT\t.\t.\t.\n"
    status, out, err = invoke("--af-key", "AF", "--keep-missing", "--germline", str(listed), input=calls.encode())
    assert status == 0, err
    assert [line.split("\t")[:2] for line in out.decode().splitlines() if not line.startswith("#")] == [["chr1", "20"], [long_name, "40"]]


# --- what a dropped record leaves in the kept ones (record_traces) ----------------------------

TRACES_HEADER = """##fileformat=VCFv4.2
##contig=<ID=chr1,length=20000>
##contig=<ID=chr2,length=20000>
##ALT=<ID=NON_REF,Description="Any other allele">
##INFO=<ID=AF,Number=A,Type=Float,Description="Frequency">
##INFO=<ID=END,Number=1,Type=Integer,Description="End">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">
##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">
##FORMAT=<ID=PS,Number=1,Type=Integer,Description="Phase set">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2
"""


def traced(records: list[str], *options: str, header: str = TRACES_HEADER) -> tuple[list[str], dict[str, int]]:
    """vcf-drop-rare (``--af-key AF`` unless ``options``) on records (tab-separated lines): the kept
    records, the same bytes and counts on the bulk and one-record paths and in blocks of a few lines
    (so sites, deletions, phase sets and held reference blocks cross blocks), and the counts."""
    import tempfile

    from genoscrub import vcf, vcf_drop_rare

    text = (header + "".join(record + "\n" for record in records)).encode()
    outputs = []
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        for one, size in ((False, 1 << 22), (True, 1 << 22), (False, 90), (False, 211), (True, 150)):
            with pytest.MonkeyPatch.context() as patch:
                if one:
                    patch.setenv("GENOSCRUB_ONE_BY_ONE", "1")
                else:
                    patch.delenv("GENOSCRUB_ONE_BY_ONE", raising=False)
                patch.setattr(vcf_drop_rare, "text_blocks", lambda stream, path, size=size: vcf.text_blocks(stream, path, size))
                status, out, err = invoke(*(options or ("--af-key", "AF")), "--report", str(report), "-q", input=text)
            assert status == 0, err
            outputs.append((out, json.loads(report.read_text())["counts"]))
    assert outputs[1:] == outputs[:1] * (len(outputs) - 1)
    out, counts = outputs[0]
    return [line for line in out.decode().splitlines() if not line.startswith("#")], counts


def fields(line: str, *columns: int) -> str:
    parts = line.split("\t")
    return " ".join(parts[column] for column in columns)


def test_a_split_site_goes_whole_when_one_of_its_records_goes(tmp_path: Path) -> None:
    """The red team's F5: `1000 T A,C`, GT 1/2, C rare, split by bcftools norm -m -: the kept A
    record would say GT 1/0 with AD 0,15 (a second, hidden allele). Every record of a CHROM and POS
    goes when one goes, with --af-key and with --population alike."""
    records = [
        "chr1\t1000\t.\tT\tA\t50\tPASS\tAF=0.3\tGT:AD\t1/0:0,15\t0/1:14,15",
        "chr1\t1000\t.\tT\tC\t50\tPASS\tAF=0.0001\tGT:AD\t0/1:0,14\t0/0:29,0",
        "chr1\t1001\t.\tA\tG\t50\tPASS\tAF=0.3\tGT:AD\t0/1:14,15\t0/1:14,15",
        "chr1\t2000\t.\tG\tA\t50\tPASS\tAF=0.3\tGT:AD\t0/1:14,15\t0/1:14,15",
        "chr1\t2000\t.\tG\tC\t50\tPASS\tAF=0.2\tGT:AD\t0/1:14,15\t0/1:14,15",
    ]
    kept, counts = traced(records)
    assert [fields(line, 1, 4) for line in kept] == ["1001 G", "2000 A", "2000 C"]
    assert counts["dropped_rare"] == 1 and counts["records_dropped_with_their_site"] == 1 and counts["kept"] == 3
    population = tmp_path / "population.vcf"
    population.write_text(
        POPULATION_HEADER.replace("##contig=<ID=chr2,length=242193529>\n", "").replace("248956422", "20000")
        + "".join(
            f"chr1\t{pos}\t.\t{ref}\t{alt}\t.\tPASS\tAF={af}\n"
            for pos, ref, alt, af in [(1000, "T", "A", 0.3), (1001, "A", "G", 0.3), (2000, "G", "A,C", "0.3,0.2")]
        )
    )
    indexed = pysam.tabix_index(str(population), preset="vcf", force=True)
    kept, counts = traced([line.replace("AF=0.0001", "AF=0.3") for line in records], "--population", indexed, "--af-key", "AF")
    assert [fields(line, 1, 4) for line in kept] == ["1001 G", "2000 A", "2000 C"]  # C absent from the population: missing
    assert counts["dropped_missing"] == 1 and counts["records_dropped_with_their_site"] == 1


def test_a_star_record_stays_only_under_a_kept_deletion() -> None:
    """The red team's F6: `*` says a deletion upstream spans POS. It stays only while a kept record
    at a smaller POS of its contig has a deletion allele over POS; otherwise it goes, with its site."""
    records = [
        "chr1\t995\t.\tTAAAAAA\tT\t50\tPASS\tAF=0.3\tGT\t0/1\t0/0",
        "chr1\t1000\t.\tA\tC,*\t50\tPASS\tAF=0.3,.\tGT\t1/2\t0/1",  # spanned by 995 (996-1001)
        "chr1\t1002\t.\tA\tC,*\t50\tPASS\tAF=0.3,.\tGT\t1/2\t0/1",  # past its end
        "chr1\t1002\t.\tA\tG\t50\tPASS\tAF=0.3\tGT\t0/1\t0/1",  # its site's other record
        "chr1\t1100\t.\tTAA\tT\t50\tPASS\tAF=0.0001\tGT\t0/1\t0/0",  # a rare deletion: dropped
        "chr1\t1101\t.\tA\t*\t50\tPASS\t.\tGT\t1/1\t0/0",
        "chr1\t1200\t.\tAT\tA,C\t50\tPASS\tAF=0.3,0.3\tGT\t1/2\t0/1",
        "chr1\t1201\t.\tT\t*\t50\tPASS\t.\tGT\t1/1\t0/0",  # the kept deletion at 1200 spans it
        "chr1\t1300\t.\tAT\tA,*\t50\tPASS\tAF=0.3,.\tGT\t1/2\t0/1",  # its own deletion does not span it
        "chr2\t1000\t.\tA\tC,*\t50\tPASS\tAF=0.3,.\tGT\t1/2\t0/1",  # chr1's deletion spans nothing here
    ]
    kept, counts = traced(records)
    assert [fields(line, 0, 1) for line in kept] == ["chr1 995", "chr1 1000", "chr1 1200", "chr1 1201"]
    assert counts["dropped_spanning_deletion_gone"] == 4 and counts["records_dropped_with_their_site"] == 1
    assert counts["kept"] == 4
    # --germline drops the deletion the normal carries: the somatic call's '*' goes with it (--keep-missing)
    kept, counts = traced(records[:2], "--af-key", "AF", "--keep-missing", "--drop-germline")
    assert len(kept) == 2
    marked = [records[0].replace("AF=0.3", "AF=0.3;GERMLINE"), records[1]]
    kept, counts = traced(marked, "--af-key", "AF", "--keep-missing", "--drop-germline")
    assert kept == [] and counts["dropped_germline"] == 1 and counts["dropped_spanning_deletion_gone"] == 1


def test_a_phase_set_named_after_a_dropped_record_is_renamed() -> None:
    """The red team's F3: PS names the POS of the set's first variant, here the rare 1000 dropped.
    A kept record's PS that names no kept record of its set becomes the POS of the set's first kept
    record, per sample, so the set groups the same kept records; a set that names a kept record,
    `.`, and records without PS stay as they are; the names are forgotten at a contig's end."""
    records = [
        "chr1\t1000\t.\tA\tG\t50\tPASS\tAF=0.0001\tGT:PS\t0|1:1000\t0/0:.",
        "chr1\t1010\t.\tA\tG\t50\tPASS\tAF=0.3\tGT:PS\t0|1:1000\t1|0:1010",
        "chr1\t1020\t.\tA\tG\t50\tPASS\tAF=0.3\tGT:AD:PS\t1|0:3,4:1000\t0|1:3,4:1010",
        "chr1\t1030\t.\tA\tG\t50\tPASS\tAF=0.3\tGT\t0/1\t0/1",
        "chr1\t1040\t.\tA\tG\t50\tPASS\tAF=0.3\tGT:PS\t0|1:1040\t0|1:1\t",
        "chr2\t2000\t.\tA\tG\t50\tPASS\tAF=0.3\tGT:PS\t0|1:1000\t.:.",
    ]
    records[4] = records[4].rstrip("\t")
    kept, counts = traced(records)
    assert [fields(line, 1, 9, 10) for line in kept] == [
        "1010 0|1:1010 1|0:1010",
        "1020 1|0:3,4:1010 0|1:3,4:1010",
        "1030 0/1 0/1",
        "1040 0|1:1040 0|1:1040",  # S2's set 1 names no record of chr1: its first record names it
        "2000 0|1:2000 .:.",
    ]
    assert counts["rewritten_phase_sets"] == 4


def test_a_haplotype_block_named_after_a_dropped_record_is_renamed() -> None:
    """WhatsHap's FORMAT/HP (--tag=HP) names a block by its first record's POS, as PS does: a kept
    record's HP=1000-1,1000-2 after the rare 1000 dropped showed its place. It is renamed as PS is,
    the haplotype numbers kept; an HP of another shape (two blocks, not numbers) is written `.`."""
    header = TRACES_HEADER.replace(
        "#CHROM", '##FORMAT=<ID=HP,Number=.,Type=String,Description="Phasing haplotype identifier">\n#CHROM'
    )
    records = [
        "chr1\t1000\t.\tA\tG\t50\tPASS\tAF=0.0001\tGT:HP\t0|1:1000-1,1000-2\t0/0:.",
        "chr1\t1010\t.\tA\tG\t50\tPASS\tAF=0.3\tGT:HP\t0|1:1000-1,1000-2\t1|0:1010-2,1010-1",
        "chr1\t1020\t.\tA\tG\t50\tPASS\tAF=0.3\tGT:PS:HP\t1|0:1000:1000-2,1000-1\t0|1:.:1010-1,1000-2",
        "chr1\t1030\t.\tA\tG\t50\tPASS\tAF=0.3\tGT:HP\t0|1:KIM-1\t0|1:.",
    ]
    kept, counts = traced(records, header=header)
    assert [fields(line, 1, 9, 10) for line in kept] == [
        "1010 0|1:1010-1,1010-2 1|0:1010-2,1010-1",
        "1020 1|0:1020:1010-2,1010-1 0|1:.:.",  # PS is its own set: first kept at 1020
        "1030 0|1:. 0|1:.",
    ]
    assert counts["rewritten_phase_sets"] == 3  # records rewritten


BREAKEND_HEADER = TRACES_HEADER.replace(
    "##FORMAT=<ID=GT",
    '##INFO=<ID=MATEID,Number=.,Type=String,Description="Mate">\n##INFO=<ID=CHR2,Number=1,Type=String,Description="Other contig">\n'
    '##INFO=<ID=POS2,Number=1,Type=Integer,Description="Other end">\n##FORMAT=<ID=GT',
)


def test_a_paired_breakend_goes_with_its_event() -> None:
    """A paired breakend is two records naming each other's place (ALT) and ID (MATEID); one kept
    beside its dropped mate showed the rare SV's breakpoint. The two get one verdict, and the second
    record's mate is not known when the first is written: every paired breakend goes, its mate
    before or after it, on its contig or another (here all common, AF=0.3). An SV written as one
    record (its other end in INFO) stays on its own verdict, but goes where it names the place of a
    breakend dropped before it; a single breakend names no place and stays."""
    records = [
        "chr1\t1000\tb1\tG\tG[chr1:5000[\t50\tPASS\tAF=0.3;MATEID=b2\tGT\t0/1\t0/0",  # mate after, same contig
        "chr1\t2000\tb3\tG\tG]chr2:300]\t50\tPASS\tAF=0.3\tGT\t0/1\t0/0",  # mate after, another contig
        "chr1\t3000\t.\tG\tG.\t50\tPASS\tAF=0.3\tGT\t0/1\t0/0",
        "chr1\t4000\tb5\tG\t<BND>\t50\tPASS\tAF=0.3;MATEID=b6\tGT\t0/1\t0/0",  # a mate named by ID only
        "chr1\t5000\tb2\tT\t]chr1:1000]T\t50\tPASS\tAF=0.3;MATEID=b1\tGT\t0/1\t0/0",  # mate before
        "chr1\t6000\t.\tA\t<TRA>\t50\tPASS\tAF=0.3;CHR2=chr1;POS2=5000\tGT\t0/1\t0/0",  # names b2's place
        "chr1\t7000\t.\tA\t<TRA>\t50\tPASS\tAF=0.3;CHR2=chr2;POS2=900\tGT\t0/1\t0/0",  # no breakend there
        "chr1\t7000\t.\tA\tC\t50\tPASS\tAF=0.3\tGT\t0/1\t0/0",
        "chr2\t300\tb4\tT\tN[chr1:2000[\t50\tPASS\tAF=0.3\tGT\t0/1\t0/0",  # mate before, another contig
        "chr2\t800\t.\tA\tC\t50\tPASS\tAF=0.3\tGT\t0/1\t0/0",
    ]
    kept, counts = traced(records, header=BREAKEND_HEADER)
    assert [fields(line, 0, 1, 4) for line in kept] == ["chr1 3000 G.", "chr1 7000 <TRA>", "chr1 7000 C", "chr2 800 C"]
    assert counts["breakends_dropped_with_their_mate"] == 6 and counts["kept"] == 4
    # a rare mate: the common one goes with it, before or after it
    rare_first = [records[0].replace("AF=0.3", "AF=0.0001"), records[4]]
    rare_second = [records[0], records[4].replace("AF=0.3", "AF=0.0001")]
    for pair in (rare_first, rare_second):
        kept, counts = traced(pair, header=BREAKEND_HEADER)
        assert kept == [] and counts["dropped_rare"] == 1 and counts["breakends_dropped_with_their_mate"] == 1


GVCF_BLOCK = "chr1\t{pos}\t.\tA\t<NON_REF>\t.\t.\tEND={end}\tGT:GQ\t0/0:60\t0/0:60"
GVCF_CALL = "chr1\t{pos}\t.\tA\tG,<NON_REF>\t500\t.\tAF={af},.\tGT:GQ\t0/1:99\t0/0:60"


def covered(lines: list[str]) -> set[int]:
    """The positions a gVCF's records cover (POS to INFO/END, or REF's last base)."""
    bases: set[int] = set()
    for line in lines:
        parts = line.split("\t")
        pos = int(parts[1])
        ends = [int(item[4:]) for item in parts[7].split(";") if item.startswith("END=")]
        bases.update(range(pos, max([pos + len(parts[3]) - 1, *ends]) + 1))
    return bases


def test_a_dropped_call_leaves_no_hole_between_reference_blocks() -> None:
    """The red team's F4: a gVCF's blocks around a rare call dropped would leave a hole exactly at
    it. The block before the gap reaches to the next kept record; with a call before the gap, the
    block after it moves back over it; at the contig's end, the block reaches the dropped call's end.
    The carrier's file then covers the same bases as the non-carrier's single block."""
    carrier = [
        GVCF_BLOCK.format(pos=900, end=999),
        GVCF_CALL.format(pos=1000, af=0.0001),
        GVCF_BLOCK.format(pos=1001, end=1099),
        GVCF_CALL.format(pos=1100, af=0.3),
        GVCF_CALL.format(pos=1101, af=0.0001),
        GVCF_CALL.format(pos=1102, af=0.0001),
        GVCF_BLOCK.format(pos=1103, end=1200),
        GVCF_BLOCK.format(pos=1201, end=1300),
        GVCF_CALL.format(pos=1301, af=0.0001).replace("\tA\t", "\tATT\t"),
    ]
    non_carrier = [GVCF_BLOCK.format(pos=900, end=1099), GVCF_CALL.format(pos=1100, af=0.3), GVCF_BLOCK.format(pos=1101, end=1303)]
    kept, counts = traced(carrier)
    assert [fields(line, 1, 3, 7) for line in kept] == [
        "900 A END=1000",
        "1001 A END=1099",
        "1100 A AF=0.3,.",
        "1101 A END=1200",  # moved back over 1101-1102, REF the first dropped call's first base
        "1201 A END=1303",  # to the end of the deletion dropped at the contig's end
    ]
    assert counts["reference_blocks_extended"] == 3 and counts.get("holes_left", 0) == 0
    expected, _ = traced(non_carrier)
    assert covered(kept) == covered(expected)


def test_an_all_sites_vcf_without_end_loses_its_reference_calls() -> None:
    """The red team's F5: an all-sites VCF (`bcftools call -m` without `-v`: a record at every base,
    ALT `.` where nothing was called) whose header defines no END cannot have a dropped call's base
    covered, and its one-base records beside the hole named the dropped call's POS. Every record with
    ALT `.` goes, counted, whether a call was dropped or not, so the output is the variant-only VCF a
    non-carrier's would be too; a call sharing its POS with one stays. With END defined, the record
    before the hole covers it as a gVCF block does."""
    header = TRACES_HEADER.replace('##INFO=<ID=END,Number=1,Type=Integer,Description="End">\n', "")
    records = [
        "chr1\t999\t.\tA\t.\t.\t.\t.\tGT\t0/0\t0/0",
        "chr1\t1000\t.\tA\tG\t50\t.\tAF=0.0001\tGT\t0/1\t0/0",
        "chr1\t1001\t.\tA\t.\t.\t.\t.\tGT\t0/0\t0/0",
        "chr1\t1002\t.\tA\tG\t50\t.\tAF=0.3\tGT\t0/1\t0/0",
        "chr1\t1003\t.\tA\t.\t.\t.\t.\tGT\t0/0\t0/0",
        "chr1\t1003\t.\tAT\tA\t50\t.\tAF=0.3\tGT\t0/1\t0/0",
        "chr1\t1005\t.\tA\t.\t.\t.\t.\tGT\t0/0\t0/0",
    ]
    kept, counts = traced(records, header=header)
    assert [fields(line, 1, 4) for line in kept] == ["1002 G", "1003 A"]
    assert counts["reference_calls_dropped"] == 4 and counts["kept"] == 2 and counts["dropped_rare"] == 1
    assert counts.get("holes_left", 0) == 0 and counts.get("reference_blocks_extended", 0) == 0
    non_carrier = [records[0], records[1].replace("AF=0.0001\tGT\t0/1", "AF=0.0001\tGT\t0/0").replace("\tG\t", "\t.\t"), *records[2:]]
    assert traced(non_carrier, header=header)[0] == kept  # the carrier's output is the non-carrier's
    kept, counts = traced(records)  # with END defined: the record before the hole covers it
    assert [fields(line, 1, 7) for line in kept][:2] == ["999 END=1000", "1001 ."]
    assert counts.get("reference_calls_dropped", 0) == 0


@st.composite
def traced_records(draw: st.DrawFn) -> list[str]:
    """Sorted records on two contigs: reference blocks, SNVs (common or rare), deletions, `*`
    records, split sites (several records at one POS), PS values naming earlier positions or none."""
    records: list[str] = []
    for chrom in ("chr1", "chr2")[: draw(st.integers(1, 2))]:
        pos, starts = 100, [100]
        for _ in range(draw(st.integers(1, 14))):
            pos += draw(st.sampled_from([0, 1, 1, 2, 5]))
            kind = draw(st.sampled_from(["block", "snv", "snv", "deletion", "star"]))
            af = draw(st.sampled_from(["0.3", "0.0001"]))
            phase = [draw(st.sampled_from([".", str(pos), *map(str, starts[-3:])])) for _ in range(2)]
            sample = "\t".join(f"0|1:{value}" for value in phase)
            if kind == "block":
                end = pos + draw(st.integers(0, 4))
                records.append(f"{chrom}\t{pos}\t.\tA\t<NON_REF>\t.\t.\tEND={end}\tGT:PS\t0/0:.\t0/0:.")
                pos = end
                continue
            ref, alt, info = {"snv": ("A", "G", f"AF={af}"), "deletion": ("ATT", "A", f"AF={af}"), "star": ("A", "G,*", f"AF={af},.")}[kind]
            records.append(f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t50\t.\t{info}\tGT:PS\t{sample}")
            starts.append(pos)
    return records


@pytest.mark.slow  # a long sweep of the bulk path against the one-record path: make test-slow (CI runs it after make test)
@settings(max_examples=60, deadline=None)
@given(traced_records())
def test_kept_records_leave_no_trace_of_the_dropped_ones(records: list[str]) -> None:
    """Property (``traced`` holds the bulk and one-record paths and any block size to one answer):
    no kept record shares its CHROM and POS with a dropped one; every kept `*` lies under a kept
    deletion; every kept PS names a kept record of its set in that sample; and the output run
    again is unchanged."""
    kept, _ = traced(records)
    kept_sites = {tuple(line.split("\t")[:2]) for line in kept}
    kept_lines = set(kept)
    for record in records:
        if tuple(record.split("\t")[:2]) in kept_sites and record not in kept_lines:
            assert record.split("\t")[4] == "<NON_REF>" or "PS" in record  # only rewritten, never dropped alone
    starts: dict[tuple[str, int, str], bool] = {}
    for line in kept:
        chrom, pos, _, ref, alt, *_, samples_a, samples_b = line.split("\t")
        if "*" in alt.split(","):
            deletions = [other.split("\t") for other in kept if other.split("\t")[3] == "ATT"]
            assert any(other[0] == chrom and int(other[1]) < int(pos) <= int(other[1]) + 2 for other in deletions)
        for sample, value in enumerate((samples_a.split(":")[1], samples_b.split(":")[1])):
            if value == pos:
                starts[chrom, int(pos), str(sample)] = True
            elif value != ".":
                assert starts.get((chrom, int(value), str(sample)))
    again, _ = traced(kept)
    assert again == kept


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["1", "2", "chr1", "chr10", "X"]), st.integers(1, 12), st.sampled_from(["A", "ACGT", "ACGTACGTAC"])),
        min_size=1,
        max_size=30,
    )
)
def test_same_site_pairs_are_found_in_bulk_as_one_by_one(records: list[tuple[str, int, str]]) -> None:
    """``record_traces.same_site_as_next``: the bulk filter (the 8 bytes ending each CHROM and POS,
    lines shorter than that beside each other) finds every pair the whole comparison finds."""
    from genoscrub.record_traces import same_site_as_next
    from genoscrub.vcf import RecordBlock

    text = "".join(f"{chrom}\t{pos}\t.\t{ref}\tG\t.\t.\t.\n" for chrom, pos, ref in records).encode()
    block = RecordBlock(1, text, "-", 8)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("GENOSCRUB_ONE_BY_ONE", raising=False)
        bulk = same_site_as_next(block)
        patch.setenv("GENOSCRUB_ONE_BY_ONE", "1")
        single = same_site_as_next(block)
    expected = [records[index][:2] == records[index + 1][:2] for index in range(len(records) - 1)]
    assert bulk.tolist() == single.tolist() == expected
