"""tools/simulate.py: the example set every other test builds on must be valid to independent tools.

samtools and bcftools (through pysam) check the files; our own code is not trusted to check
itself. A failure here means every scrub test downstream is testing the wrong thing.
"""

from __future__ import annotations

import gzip
import hashlib
import subprocess
import sys
from pathlib import Path

import pysam
import pysam.bcftools
import pytest

from tools.simulate import FORBIDDEN, NORMAL_SAMPLE, TUMOUR_SAMPLE, simulate

SIMULATE = Path(__file__).resolve().parents[1] / "tools" / "simulate.py"
COMPLEMENT = str.maketrans("ACGT", "TGCA")


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return simulate(tmp_path_factory.mktemp("simulated"), seed=1)


@pytest.fixture(scope="module")
def out(example: dict) -> Path:
    return Path(example["files"]["ref.fa"]).parent


@pytest.fixture(scope="module")
def truth(out: Path) -> list[dict[str, str]]:
    lines = (out / "truth.tsv").read_text().splitlines()
    columns = lines[0].split("\t")
    return [dict(zip(columns, line.split("\t"), strict=True)) for line in lines[1:]]


def samtools(command: str, *args: str) -> str:
    """stdout of a samtools subcommand run in-process by pysam (raises on a non-zero exit)."""
    output = getattr(pysam.samtools, command)(*args)
    assert isinstance(output, str)
    return output


def bcftools(command: str, *args: str) -> str:
    output = getattr(pysam.bcftools, command)(*args)
    assert isinstance(output, str)
    return output


def md5_of_files(directory: Path) -> dict[str, str]:
    return {path.name: hashlib.md5(path.read_bytes()).hexdigest() for path in sorted(directory.iterdir())}


def body(sam_text: str) -> list[str]:
    return [line for line in sam_text.splitlines() if not line.startswith("@")]


def records(text: str) -> list[list[str]]:
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


def test_every_named_file_is_written(example: dict) -> None:
    for name, path in example["files"].items():
        assert Path(path).stat().st_size > 0, name


def test_same_seed_gives_identical_bytes(out: Path, tmp_path: Path) -> None:
    simulate(tmp_path, seed=1)
    assert md5_of_files(tmp_path) == md5_of_files(out)


def test_another_seed_gives_other_data(out: Path, tmp_path: Path) -> None:
    simulate(tmp_path, seed=2)
    assert (tmp_path / "ref.fa").read_bytes() != (out / "ref.fa").read_bytes()


@pytest.mark.parametrize("bam", ["normal.bam", "tumour.bam"])
def test_bam_passes_quickcheck_and_index(out: Path, bam: str) -> None:
    samtools("quickcheck", str(out / bam))
    assert (out / f"{bam}.bai").exists()
    samtools("idxstats", str(out / bam))


@pytest.mark.parametrize("bam", ["normal.bam", "tumour.bam"])
def test_calmd_changes_no_md_or_nm(out: Path, bam: str) -> None:
    original = body(samtools("view", "--no-PG", str(out / bam)))
    recomputed = body(samtools("calmd", "--no-PG", str(out / bam), str(out / "ref.fa")))
    assert len(original) == len(recomputed) > 10_000
    assert recomputed == original


@pytest.mark.parametrize(("bam", "sample"), [("normal.bam", NORMAL_SAMPLE), ("tumour.bam", TUMOUR_SAMPLE)])
def test_bam_records_are_consistent(out: Path, example: dict, bam: str, sample: str) -> None:
    fasta = pysam.FastaFile(str(out / "ref.fa"))
    with pysam.AlignmentFile(str(out / bam)) as reads:
        header = reads.header.to_dict()
        assert header["HD"]["SO"] == "coordinate"
        for sq in header["SQ"]:
            assert sq["M5"] == hashlib.md5(fasta.fetch(sq["SN"]).encode()).hexdigest()
            assert sq["UR"].startswith("file:///data/hospital/")
        read_groups = {rg["ID"] for rg in header["RG"]}
        assert read_groups == {f"{sample}.L001", f"{sample}.L002"}
        assert {rg["SM"] for rg in header["RG"]} == {sample}
        assert [pg["ID"] for pg in header["PG"]][0] == "bwa"
        assert header["CO"]
        primary: dict[tuple[str, bool], pysam.AlignedSegment] = {}
        tags_seen: set[str] = set()
        cigar_ops: set[str] = set()
        last = (-1, -1)
        unmapped_pairs = unmapped_mates = supplementary = 0
        for read in reads:
            key = (read.reference_id if not read.is_unmapped or read.reference_id >= 0 else 1 << 30, read.reference_start)
            assert key >= last, "not coordinate-sorted"
            last = key
            assert read.get_tag("RG") in read_groups
            tags_seen.update(tag for tag, _ in read.get_tags())
            assert read.is_paired
            if read.is_supplementary:
                supplementary += 1
                assert read.has_tag("SA") and "H" in (read.cigarstring or "")
                continue
            name_key = (str(read.query_name), read.is_read1)
            assert name_key not in primary, "two primary records for one read"
            primary[name_key] = read
            if read.is_unmapped and read.mate_is_unmapped:
                unmapped_pairs += 1
            elif read.is_unmapped:
                unmapped_mates += 1
            else:
                cigar_ops.update(c for c in read.cigarstring or "" if c.isalpha())
        assert len(primary) == 2 * example["counts"]["pairs"]
        assert unmapped_pairs >= 6 and unmapped_mates >= 2 and supplementary >= 1
        assert {"M", "I", "D", "S"} <= cigar_ops
        assert {"NM", "MD", "MC", "MQ", "AS", "RG", "PG", "OQ", "R2", "Q2", "XA", "SA"} <= tags_seen
        for (name, is_read1), read in primary.items():
            mate = primary[(name, not is_read1)]
            if read.is_unmapped or mate.is_unmapped:
                continue
            assert read.is_proper_pair and read.next_reference_start == mate.reference_start
            assert read.template_length == -mate.template_length != 0
            assert read.get_tag("MC") == mate.cigarstring
            assert read.get_tag("MQ") == mate.mapping_quality
            assert read.is_reverse != mate.is_reverse


def test_read_names_are_illumina_and_unique_across_samples(out: Path) -> None:
    names = {}
    for bam in ("normal.bam", "tumour.bam"):
        with pysam.AlignmentFile(str(out / bam)) as reads:
            names[bam] = {read.query_name for read in reads}
        for name in names[bam]:
            instrument, run, flowcell, lane, tile, x, y = str(name).split(":")
            assert (instrument, run, flowcell) == ("M04123", "123", "000000000-ABCDE")
            assert lane in ("1", "2") and tile.isdigit() and x.isdigit() and y.isdigit()
    assert not names["normal.bam"] & names["tumour.bam"]


def test_vcfs_parse_and_hold_the_truth(out: Path, truth: list[dict[str, str]], example: dict) -> None:
    germline = [row for row in truth if row["kind"] == "germline"]
    somatic = [row for row in truth if row["kind"] == "somatic"]
    decoys = [row for row in truth if "decoy_somatic" in row["notes"]]
    counts = {}
    for name in ("germline", "somatic", "germline_as_somatic", "population"):
        text = bcftools("view", "--no-version", str(out / f"{name}.vcf.gz"))
        counts[name] = records(text)
        bcftools("index", "--stats", str(out / f"{name}.vcf.gz"))  # the .tbi is usable
    assert [(r[0], r[1], r[3], r[4]) for r in counts["germline"]] == [(t["chrom"], t["pos"], t["ref"], t["alt"]) for t in germline]
    assert [(r[0], r[1], r[3], r[4]) for r in counts["somatic"]] == [(t["chrom"], t["pos"], t["ref"], t["alt"]) for t in somatic]
    assert len(counts["germline_as_somatic"]) == len(somatic) + len(decoys) and len(decoys) == 5
    assert all("SOMATIC" in r[7] for r in counts["somatic"] + counts["germline_as_somatic"])
    assert {t["type"] for t in germline} == {"snv", "mnp", "ins", "del"}
    assert {t["genotype_or_vaf"] for t in germline} == {"0/1", "1/1"}
    assert any(t["id"].startswith("rs") for t in germline) and any(t["id"].startswith("HOSP_VAR_") for t in germline)
    assert all(0.05 <= float(t["genotype_or_vaf"]) <= 0.30 for t in somatic)
    assert {t["type"] for t in somatic} == {"snv", "del", "ins"}
    # population: multi-allelic records, AF_eas everywhere, some germline sites missing
    population = {(r[0], r[1], r[3]): r for r in counts["population"]}
    assert all("AF_eas=" in r[7] for r in counts["population"])
    assert any("," in r[4] for r in counts["population"])
    categories = {t["population"].split(":")[0] for t in germline}
    assert {"common", "rare", "absent", "multiallelic"} <= categories
    for t in germline:
        record = population.get((t["chrom"], t["pos"], t["ref"]))
        if t["population"] == "absent":
            assert record is None
        elif t["population"].startswith("other_allele"):
            assert record is not None and t["alt"] not in record[4].split(",")
        else:
            assert record is not None and t["alt"] in record[4].split(",")


def test_vcf_headers_carry_the_planted_metadata(out: Path) -> None:
    header = bcftools("view", "-h", "--no-version", str(out / "germline.vcf.gz"))
    for key in ("##fileDate=20231029", "##source=", "##GATKCommandLine=", "##bcftools_callCommand=", "##SAMPLE=<ID=S2301217N_20231029"):
        assert key in header
    assert "##reference=file:///data/hospital/ref/GRCh38.fa" in header
    assert "URL=file:///data/hospital/" in header
    assert header.rstrip().splitlines()[-1].split("\t")[9:] == [NORMAL_SAMPLE]
    somatic = bcftools("view", "-h", "--no-version", str(out / "somatic.vcf.gz"))
    assert somatic.rstrip().splitlines()[-1].split("\t")[9:] == [TUMOUR_SAMPLE, NORMAL_SAMPLE]
    tumour_only = bcftools("view", "-h", "--no-version", str(out / "germline_as_somatic.vcf.gz"))
    assert tumour_only.rstrip().splitlines()[-1].split("\t")[9:] == [TUMOUR_SAMPLE]


def test_caller_finds_the_germline_snvs_in_the_normal(out: Path, truth: list[dict[str, str]], tmp_path: Path) -> None:
    pileup = tmp_path / "normal.pileup.vcf"
    pileup.write_text(bcftools("mpileup", "-f", str(out / "ref.fa"), "-Ov", str(out / "normal.bam")))
    called = {(r[0], int(r[1])) for r in records(bcftools("call", "-mv", str(pileup)))}
    expected = {(t["chrom"], int(t["pos"])) for t in truth if t["kind"] == "germline" and t["type"] == "snv"}
    assert len(expected) >= 20
    assert len(expected & called) >= 0.9 * len(expected)
    somatic = {(t["chrom"], int(t["pos"])) for t in truth if t["kind"] == "somatic"}
    assert not somatic & called


def reads_with_indel(bam: pysam.AlignmentFile, chrom: str, pos0: int, ref: str, alt: str) -> int:
    """Reads with the truth indel (anchor at pos0) in their CIGAR."""
    op, size = (1, len(alt) - 1) if len(alt) > len(ref) else (2, len(ref) - 1)
    found = 0
    for read in bam.fetch(chrom, pos0, pos0 + 1):
        reference = read.reference_start
        for cigar_op, length in read.cigartuples or []:
            if cigar_op == op and reference == pos0 + 1 and length == size:
                found += 1
            if cigar_op in (0, 2, 3, 7, 8):
                reference += length
    return found


def test_tumour_has_alt_reads_at_every_somatic_site(out: Path, truth: list[dict[str, str]]) -> None:
    somatic = [t for t in truth if t["kind"] == "somatic"]
    with pysam.AlignmentFile(str(out / "tumour.bam")) as tumour, pysam.AlignmentFile(str(out / "normal.bam")) as normal:
        for t in somatic:
            pos0 = int(t["pos"]) - 1
            if t["type"] == "snv":
                index = "ACGT".index(t["alt"])
                tumour_alt = tumour.count_coverage(t["chrom"], pos0, pos0 + 1, quality_threshold=0)[index][0]
                normal_alt = normal.count_coverage(t["chrom"], pos0, pos0 + 1, quality_threshold=0)[index][0]
                depth = sum(c[0] for c in tumour.count_coverage(t["chrom"], pos0, pos0 + 1, quality_threshold=0))
                assert tumour_alt >= 1, t
                assert tumour_alt < 0.6 * depth, t
                assert normal_alt <= 1, t
            else:
                assert reads_with_indel(tumour, t["chrom"], pos0, t["ref"], t["alt"]) >= 1, t
                assert reads_with_indel(normal, t["chrom"], pos0, t["ref"], t["alt"]) == 0, t


def clipped_alt_reads(bam: pysam.AlignmentFile, chrom: str, pos0: int, alt: str) -> int:
    """Reads whose soft clip covers pos0 (placed by the clip's length) and carries alt there."""
    found = 0
    for read in bam.fetch(chrom, max(0, pos0 - 60), pos0 + 60):
        cigar = read.cigartuples or []
        if not cigar or read.is_supplementary:
            continue
        seq = read.query_sequence or ""
        if cigar[0][0] == 4:
            k = pos0 - (read.reference_start - cigar[0][1])
            if 0 <= k < cigar[0][1] and seq[k] == alt:
                found += 1
        if cigar[-1][0] == 4:
            k = pos0 - (read.reference_end or 0)
            if 0 <= k < cigar[-1][1] and seq[len(seq) - cigar[-1][1] + k] == alt:
                found += 1
    return found


def test_soft_clips_carry_germline_alleles(out: Path, truth: list[dict[str, str]]) -> None:
    for bam, column in (("normal.bam", "clipped_alt_reads_normal"), ("tumour.bam", "clipped_alt_reads_tumour")):
        carriers = [t for t in truth if t["kind"] == "germline" and t["type"] == "snv" and int(t[column]) > 0]
        assert len(carriers) >= 5
        with pysam.AlignmentFile(str(out / bam)) as reads:
            confirmed = [t for t in carriers if clipped_alt_reads(reads, t["chrom"], int(t["pos"]) - 1, t["alt"]) >= 1]
        assert len(confirmed) >= 0.8 * len(carriers)


def read_fastq(path: Path) -> list[tuple[str, str, str]]:
    with gzip.open(path, "rt") as handle:
        lines = handle.read().splitlines()
    assert len(lines) % 4 == 0
    return [(lines[i], lines[i + 1], lines[i + 3]) for i in range(0, len(lines), 4)]


def test_fastq_pair_in_sync_and_matches_the_bam(out: Path, example: dict) -> None:
    first = read_fastq(out / "tumour_R1.fastq.gz")
    second = read_fastq(out / "tumour_R2.fastq.gz")
    assert len(first) == len(second) == example["counts"]["pairs"]
    sequences = {}
    for (head1, seq1, _), (head2, seq2, _) in zip(first, second, strict=True):
        name1, comment1 = head1[1:].split(" ")
        name2, comment2 = head2[1:].split(" ")
        assert name1 == name2
        assert (comment1, comment2) == ("1:N:0:ATCACGAT+GTACTGCA", "2:N:0:ATCACGAT+GTACTGCA")
        sequences[name1] = (seq1, seq2)
    assert len(sequences) == len(first)
    with pysam.AlignmentFile(str(out / "tumour.bam")) as reads:
        for read in reads:
            if read.is_supplementary:
                continue
            seq = read.query_sequence or ""
            as_sequenced = seq.translate(COMPLEMENT)[::-1] if read.is_reverse else seq
            assert sequences[str(read.query_name)][0 if read.is_read1 else 1] == as_sequenced


def all_output_text(out: Path) -> str:
    parts = []
    for path in sorted(out.iterdir()):
        if path.name in ("forbidden.txt", "ids.tsv") or path.suffix in (".tbi", ".bai", ".fai"):
            continue
        if path.suffix == ".bam":
            parts.append(samtools("view", "-h", "--no-PG", str(path)))
        elif path.suffix == ".gz":
            with gzip.open(path, "rt") as handle:
                parts.append(handle.read())
        else:
            parts.append(path.read_text())
    return "\n".join(parts)


def test_every_forbidden_string_is_planted(out: Path) -> None:
    forbidden = (out / "forbidden.txt").read_text().splitlines()
    assert forbidden == FORBIDDEN
    text = all_output_text(out)
    missing = [item for item in forbidden if item not in text]
    assert not missing


def test_id_map_covers_the_planted_identifiers(out: Path) -> None:
    pairs = dict(line.split("\t") for line in (out / "ids.tsv").read_text().splitlines())
    assert pairs[NORMAL_SAMPLE] == "CMN001_00" and pairs[TUMOUR_SAMPLE] == "CMT001_00"
    assert pairs[f"{TUMOUR_SAMPLE}.L001"] == "CMT001_00.L1" and pairs["LIB-S2301217T"] == "CMT001_LIB"
    assert len(set(pairs.values())) == len(pairs)
    header = samtools("view", "-H", "--no-PG", str(out / "tumour.bam")) + samtools("view", "-H", "--no-PG", str(out / "normal.bam"))
    for original in pairs:
        assert original in header


def test_reference_is_wrapped_and_has_repeats(out: Path) -> None:
    lines = (out / "ref.fa").read_text().splitlines()
    sequence_lines = [line for line in lines if not line.startswith(">")]
    assert max(len(line) for line in sequence_lines) == 60
    assert set("".join(sequence_lines)) == set("ACGT")
    assert [line for line in lines if line.startswith(">")] == [">chr1", ">chr2", ">chrM"]
    repeats = (out / "repeats.bed").read_text().splitlines()
    assert any("STR_" in line for line in repeats) and any("LOWCOMPLEXITY" in line for line in repeats)


def test_command_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SIMULATE), "--out", str(tmp_path / "x"), "--pairs", "500", "--contig-length", "6000", "--read-length", "150"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    with pysam.AlignmentFile(str(tmp_path / "x" / "normal.bam")) as reads:
        assert {read.query_length for read in reads if not read.is_supplementary} == {150}
    bad = subprocess.run([sys.executable, str(SIMULATE), "--out", str(tmp_path / "y"), "--pairs", "3"], capture_output=True, timeout=60)
    assert bad.returncode == 2
