"""genoscrub-audit: every finding class caught where planted, none on the pipeline's output.

The pipeline is the real one (as tools/demo.sh runs it) on the simulated tumour/normal
set: sam-scrub-rg, sam-revert-germline and sam-mask-regions on the BAMs, vcf-scrub-header,
vcf-drop-rare and vcf-drop-regions on the germline VCF, fastq-scrub-names on the FASTQ
pair. Its outputs must pass every check; its inputs must fail each class that applies.
Germline counts are compared with pysam's pileup, an independent reading of the BAM.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import multiprocessing
import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Literal

import numpy as np
import pysam
import pytest
from genoscrub import audit_bam, audit_fastq, audit_vcf
from genoscrub.audit_allowlist import HASHED_NAME_DIGITS, HASHED_NAME_LENGTH, READ_NAME
from genoscrub.audit_bam import BamAudit, CountedBlocks, RecordChecks, bgzf_blocks, first_record, read_header, walk
from genoscrub.audit_findings import Findings, KeyedNameHits
from genoscrub.audit_forbid import ForbidList, entry
from genoscrub.audit_mates import EQUALS_BASE
from genoscrub.audit_reads import mismatches
from genoscrub.audit_record_traces import CALL_GAP_FINDING
from genoscrub.audit_sites import BASE_CODES, GermlineSites, Reference, RegionList, read_variants
from genoscrub.report import InputError
from genoscrub.streams import line_blocks
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import BIN, run_command
from tests.independent import alt_observations

SIMULATION = {"pairs": 1500}
CLASSES = ("forbidden", "metadata", "germline", "population", "regions")


def shell(command: str, cwd: Path) -> None:
    environment = dict(os.environ, PATH=f"{BIN}:{os.environ['PATH']}")
    subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=cwd, env=environment, check=True, capture_output=True)


@pytest.fixture(scope="module")
def delivery(simulated: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The simulated set pseudonymized by the real commands, as tools/demo.sh does."""
    out = tmp_path_factory.mktemp("delivery")
    key = out / "site.key"
    key.write_bytes(b"audit test key, not a secret, 32")
    key.chmod(0o600)
    s = simulated
    for sample in ("tumour", "normal"):
        shell(
            f"samtools view -h --no-PG {s}/{sample}.bam | sam-scrub-rg -q --map {s}/ids.tsv --key-file {key} --names "
            f"--report {out}/{sample}.scrub.json | sam-revert-germline -q -r {s}/ref.fa -v {s}/germline.vcf.gz "
            f"--report {out}/{sample}.revert.json | sam-mask-regions -q -r {s}/ref.fa --bed {s}/repeats.bed "
            f"--report {out}/{sample}.mask.json | samtools view -b --no-PG -o {out}/{sample}.bam",
            out,
        )
    shell(
        f"bcftools view --no-version {s}/germline.vcf.gz | vcf-scrub-header -q --map {s}/ids.tsv --key-file {key} "
        f"--report {out}/germline.scrub.json | vcf-drop-rare -q --population {s}/population.vcf.gz --af-key AF_eas "
        f"--report {out}/germline.rare.json | vcf-drop-regions -q --bed {s}/repeats.bed --report {out}/germline.regions.json "
        f"| bgzip > {out}/germline.vcf.gz",
        out,
    )
    for mate in ("R1", "R2"):
        shell(
            f"fastq-scrub-names -q --key-file {key} --report {out}/{mate}.names.json {s}/tumour_{mate}.fastq.gz "
            f"| gzip > {out}/tumour_{mate}.fastq.gz",
            out,
        )
    return out


def every_check(simulated: Path) -> list[str]:
    s = simulated
    return [
        "--forbid", f"{s}/forbidden.txt", "--germline", f"{s}/germline.vcf.gz", "-r", f"{s}/ref.fa",
        "--population", f"{s}/population.vcf.gz", "--af-key", "AF_eas", "--bed", f"{s}/repeats.bed",
    ]  # fmt: skip


def audit(*args: str, cwd: Path | None = None) -> tuple[subprocess.CompletedProcess[bytes], dict[str, object]]:
    """Run the command with a report; returns the process and the report (or {})."""
    report = Path(cwd or ".") / f"audit-{abs(hash(args))}.json"
    result = run_command("genoscrub-audit", "--report", str(report), *args, cwd=cwd)
    data = json.loads(report.read_text()) if report.exists() else {}
    return result, data


def counts_by_file(report: dict[str, object]) -> dict[str, dict[str, int]]:
    files = report["files"]
    assert isinstance(files, list)
    return {Path(entry["file"]).name: {name: entry["findings"][name]["count"] for name in CLASSES} for entry in files}


# --- the pipeline's output passes, its input fails ------------------------------------------------


def test_pipeline_output_passes_every_check(simulated: Path, delivery: Path, tmp_path: Path) -> None:
    outputs = [str(delivery / name) for name in ("tumour.bam", "normal.bam", "germline.vcf.gz", "tumour_R1.fastq.gz", "tumour_R2.fastq.gz")]
    result, report = audit(*every_check(simulated), *outputs, cwd=tmp_path)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    assert report["verdict"] == "pass"
    assert all(count == 0 for counts in counts_by_file(report).values() for count in counts.values())
    files: list[dict[str, Any]] = report["files"]  # type: ignore[assignment]
    checked = {Path(entry["file"]).name: {n for n in CLASSES if entry["findings"][n]["checked"]} for entry in files}
    assert checked["tumour.bam"] == {"forbidden", "metadata", "germline", "regions"}
    assert checked["germline.vcf.gz"] == {"forbidden", "metadata", "population", "regions"}
    assert checked["tumour_R1.fastq.gz"] == {"forbidden", "metadata"}
    assert result.stdout.decode().splitlines()[-1].startswith("genoscrub-audit: PASS: 5 files")


def test_pipeline_output_keeps_tag_values_on_their_grammars(delivery: Path, tmp_path: Path) -> None:
    """The scrubbed BAMs keep MD, MC, MQ, OQ, ... (checked with pysam): every value is on its tag's
    grammar, so the audit's value check holds back nothing the scrubbers deliver."""
    carried: Counter[str] = Counter()
    with pysam.AlignmentFile(str(delivery / "tumour.bam")) as reads:
        for read in reads:
            carried.update(tag for tag, _ in read.get_tags())
    assert {"MD", "MC", "NM", "MQ", "AS", "RG", "OQ"} <= set(carried), carried
    _, report = audit(str(delivery / "tumour.bam"), str(delivery / "normal.bam"), cwd=tmp_path)
    files: list[dict[str, Any]] = report["files"]  # type: ignore[assignment]
    for found in files:
        assert not [key for key in found["findings"]["metadata"].get("by_key", {}) if key.startswith("aux value off its grammar")]


def test_pipeline_input_fails_every_class_that_applies(simulated: Path, tmp_path: Path) -> None:
    inputs = [str(simulated / name) for name in ("tumour.bam", "germline.vcf.gz", "tumour_R1.fastq.gz")]
    result, report = audit(*every_check(simulated), *inputs, cwd=tmp_path)
    assert result.returncode == 1
    counts = counts_by_file(report)
    assert all(counts["tumour.bam"][name] > 0 for name in ("forbidden", "metadata", "germline", "regions"))
    assert all(counts["germline.vcf.gz"][name] > 0 for name in ("forbidden", "metadata", "population"))
    assert all(counts["tumour_R1.fastq.gz"][name] > 0 for name in ("forbidden", "metadata"))
    lines = result.stdout.decode().splitlines()
    assert len(lines) == 3 * 5 + 1 and lines[-1].startswith("genoscrub-audit: FAIL: 3 files")


def test_no_identifier_in_output_or_report(simulated: Path, tmp_path: Path) -> None:
    """Findings name positions and fields, never what was found, nor a read name."""
    inputs = [str(simulated / name) for name in ("tumour.bam", "normal.bam", "germline.vcf.gz", "tumour_R1.fastq.gz")]
    result, report = audit(*every_check(simulated), *inputs, cwd=tmp_path)
    text = (result.stdout + result.stderr).decode().lower() + json.dumps(report).lower()
    for paths in (str(simulated).lower(),):
        text = text.replace(paths, "")  # the input paths the user gave are named, as in every message
    for word in (simulated / "forbidden.txt").read_text().splitlines():
        assert word.lower() not in text, word
    with pysam.AlignmentFile(str(simulated / "tumour.bam")) as bam:
        names = {read.query_name for _, read in zip(range(50), bam, strict=False)}
    assert not any(name and name.lower() in text for name in names)


def test_germline_counts_cover_pysam_pileup(simulated: Path, tmp_path: Path) -> None:
    """Each germline SNV: at least the reads pysam's pileup sees carrying the ALT (the audit also reads soft clips)."""
    result, report = audit(
        "--germline", f"{simulated}/germline.vcf.gz", "-r", f"{simulated}/ref.fa", str(simulated / "normal.bam"), cwd=tmp_path
    )
    assert result.returncode == 1
    sites = report["files"][0]["findings"]["germline"]["by_key"]  # type: ignore[index]
    truth = [line.split("\t") for line in (simulated / "truth.tsv").read_text().splitlines()[1:]]
    snvs = [(row[0], int(row[1]), row[2], row[3]) for row in truth if row[4] == "germline" and row[5] == "snv"]
    assert snvs
    compared = 0
    for chrom, pos, ref, alt in snvs[:12]:
        seen = alt_observations(simulated / "normal.bam", chrom, pos, ref, alt)
        assert sites.get(f"{chrom}:{pos}", 0) >= seen, (chrom, pos)
        compared += seen > 0
    assert compared


def test_contig_naming_of_the_germline_list_changes_nothing(simulated: Path, tmp_path: Path) -> None:
    """chr1/1 and chrM/MT: the list in the other naming finds the same reads at the same sites."""
    renamed = tmp_path / "germline.vcf"
    with gzip.open(simulated / "germline.vcf.gz", "rt") as source:
        text = source.read()
    text = re.sub(r"(?m)^chrM\t", "MT\t", re.sub(r"(?m)^chr([0-9]+)\t", r"\1\t", text))
    text = text.replace("ID=chrM,", "ID=MT,").replace("ID=chr1,", "ID=1,").replace("ID=chr2,", "ID=2,")
    renamed.write_text(text)
    reports = []
    for listing in (str(simulated / "germline.vcf.gz"), str(renamed)):
        _, report = audit("--germline", listing, "-r", f"{simulated}/ref.fa", str(simulated / "tumour.bam"), cwd=tmp_path)
        reports.append(report["files"][0]["findings"]["germline"])  # type: ignore[index]
    assert reports[0]["count"] > 0 and reports[0]["by_key"] == reports[1]["by_key"]


def test_bam_sam_and_cram_give_the_same_findings(simulated: Path, tmp_path: Path) -> None:
    sam = tmp_path / "tumour.sam"
    cram = tmp_path / "tumour.cram"
    shell(f"samtools view -h --no-PG -o {sam} {simulated}/tumour.bam", tmp_path)
    shell(f"samtools view -C --no-PG -T {simulated}/ref.fa -o {cram} {simulated}/tumour.bam", tmp_path)
    found = []
    for path in (simulated / "tumour.bam", sam, cram):
        _, report = audit(*every_check(simulated)[:6], "-j", "1", str(path), cwd=tmp_path)
        entry = report["files"][0]  # type: ignore[index]
        found.append({name: entry["findings"][name].get("by_key") for name in ("forbidden", "germline")})
    assert found[0] == found[1]
    # CRAM drops no information the audit reads, but htslib writes the reference's M5/UR it checks: same reads, same sites
    assert found[0]["germline"] == found[2]["germline"]


def test_jobs_and_chunk_boundaries_give_the_same_findings(simulated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Many small chunks audited by two worker processes, handed the bytes or reading their part of the
    file themselves, equal one process reading start to end."""
    forbid = ForbidList.read(simulated / "forbidden.txt")
    reference = Reference(str(simulated / "ref.fa"))
    variants = read_variants(str(simulated / "germline.vcf.gz"), "germline list")
    results = []
    for jobs, chunk, from_file in ((1, 1 << 20, False), (2, 40_000, False), (2, 70_001, True), (1, 50_000, True)):
        monkeypatch.setattr(audit_bam, "CHUNK_BYTES", chunk)
        path = str(simulated / "tumour.bam")
        with open(path, "rb") as stream:
            blocks = CountedBlocks(bgzf_blocks(stream, path))
            header, rest = read_header(blocks, path)
            names = {name: length for name, length in header.references}
            germline = GermlineSites(variants, "germline", names, reference)
            checks = RecordChecks(path, list(names), forbid=forbid, germline=germline)
            findings = Findings()
            if from_file:
                BamAudit(checks, findings, jobs).run_file(path, blocks.consumed, rest)
            else:
                BamAudit(checks, findings, jobs).run(blocks, rest)
        results.append((findings.records, findings.as_dict()))
    assert results[0][0] > 3000
    assert all(result == results[0] for result in results)


def test_fastq_text_where_the_bases_or_the_read_number_belong_is_found(tmp_path: Path) -> None:
    """A long Casava control number (``1:N:19900101``) and text in a sequence line are findings;
    what fastq-scrub-names writes from such a file (it drops the comment, copies the bases) passes
    but for the sequence, and IUPAC codes in either case and a ``.`` no-call are bases."""
    names = [b"0123456789abcdef01234567", b"89abcdef0123456789abcdef", b"fedcba9876543210fedcba98"]
    data = (
        b"@" + names[0] + b" 1:N:19900101\nACGT\n+\nIIII\n"
        + b"@" + names[1] + b" 1:N:0\nS2301217N_19900101\n+\n" + b"I" * 18 + b"\n"
        + b"@" + names[2] + b" 2:N:2\nacgtRYSWKMBDHVNU.\n+\n" + b"I" * 17 + b"\n"
    )
    (tmp_path / "R1.fastq").write_bytes(data)
    result, report = audit(str(tmp_path / "R1.fastq"), cwd=tmp_path)
    assert result.returncode == 1
    metadata = report["files"][0]["findings"]["metadata"]  # type: ignore[index]
    assert metadata["count"] == 2 and set(metadata["by_key"]) == {"read comment", "sequence (not bases)"}, metadata
    scrubbed = run_command("fastq-scrub-names", "-q", input=b"@M1:1:FC:1:1:1:1 1:N:19900101:ACGTAC\nACGT\n+\nIIII\n")
    assert scrubbed.stdout == b"@READ1\nACGT\n+\nIIII\n"


def test_a_format_column_of_a_dot_has_no_key(tmp_path: Path) -> None:
    """vcf-scrub-header writes FORMAT ``.`` (and ``.`` samples) where no FORMAT key is defined;
    the audit took the dot for an undeclared key, so such a scrubbed file failed the gate."""
    data = (
        "##fileformat=VCFv4.2\n##contig=<ID=1,length=1000>\n"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tSAMPLE1\tSAMPLE2\n1\t100\t.\tA\tT\t.\t.\t.\t.\t.\t.\n"
    )
    (tmp_path / "dot.vcf").write_text(data)
    result, report = audit(str(tmp_path / "dot.vcf"), cwd=tmp_path)
    assert result.returncode == 0, result.stdout.decode()
    (tmp_path / "key.vcf").write_text(data.replace("\t.\t.\t.\n", "\tXX\t.\t.\n"))
    result, report = audit(str(tmp_path / "key.vcf"), cwd=tmp_path)
    assert result.returncode == 1 and b"FORMAT/XX (not in the header)" in result.stdout


@pytest.mark.parametrize(
    ("version", "found"),
    [("0.1.0", False), ("1.2.0.dev3+g1a2b3c4", False), ("19900101.900101-1234567", True), ("0.1.900101", True),
     ("1.2.3+1990Jan01", True), ("0.1.0+kimjihyun", True)],
)  # fmt: skip
def test_a_provenance_line_holds_a_version_not_a_number(version: str, found: bool, tmp_path: Path) -> None:
    """``##genoscrub_<command>=`` and ``@PG VN`` hold genoscrub's version: numbers of a few digits,
    short tags; a registration number or a date written as one was passed (red team 7)."""
    header = "##fileformat=VCFv4.2\n##contig=<ID=1,length=1000>\n"
    columns = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n1\t100\t.\tA\tT\t.\t.\t.\n"
    (tmp_path / "v.vcf").write_text(header + f"##genoscrub_vcf-scrub-header={version}\n" + columns)
    result, _ = audit(str(tmp_path / "v.vcf"), cwd=tmp_path)
    assert (result.returncode, b"header value ##genoscrub_vcf-scrub-header" in result.stdout) == ((1, True) if found else (0, False))
    sam = f"@HD\tVN:1.6\n@SQ\tSN:1\tLN:1000\n@PG\tID:sam-scrub-rg\tPN:genoscrub\tVN:{version}\n"
    (tmp_path / "v.sam").write_text(sam)
    result, _ = audit(str(tmp_path / "v.sam"), cwd=tmp_path)
    assert (result.returncode == 1) == found, result.stdout.decode()


@pytest.mark.parametrize(
    ("identifier", "found"),
    [("DP", False), ("1000G", False), ("1000g2012apr_eur", False), ("LJB2_GERP++", False), ("gnomAD.AF", False),
     ("MRN12345678", True), ("DOB_1990-01-01", True), ("KIM/x", True)],
)  # fmt: skip
def test_info_ids_are_the_keys_records_may_use(identifier: str, found: bool, tmp_path: Path) -> None:
    """An ``##INFO`` ID is held to the grammar of the keys records use (annotators' IDs pass) and to
    the personal numbers; vcf-scrub-header keeps the first and removes the second."""
    (tmp_path / "ids.vcf").write_text(
        f'##fileformat=VCFv4.2\n##INFO=<ID={identifier},Number=1,Type=Float,Description="x">\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    )
    result, report = audit(str(tmp_path / "ids.vcf"), cwd=tmp_path)
    assert result.returncode == (1 if found else 0), result.stdout.decode()
    if found:
        assert report["files"][0]["findings"]["metadata"]["by_key"] == {"header value ##INFO ID": 1}  # type: ignore[index]


def test_fastq_batch_search_equals_record_by_record(simulated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The forbidden strings of a FASTQ pair searched a batch of records at a time give the counts
    and the first positions, key by key, that one record at a time gives: hits in names, comments
    and + lines, several in one record, at the first and last record of a batch."""
    forbid = ForbidList.read(simulated / "forbidden.txt")
    planted = forbid.entries[0].text.decode().upper()
    other = forbid.entries[-1].text.decode()
    lines = gzip.decompress((simulated / "tumour_R1.fastq.gz").read_bytes()).split(b"\n")
    records = [lines[i : i + 4] for i in range(0, len(lines) - 3, 4)]
    records = [list(record) for record in (records * 3)[:3000]]  # the simulated pair has 1500 records
    for number, (head, plus) in {0: ("name", ""), 6: ("comment", other), 7: ("", "plus"), 1499: ("name", "plus"),
                                 1500: ("comment", ""), 2999: ("name", "plus")}.items():  # fmt: skip
        name = records[number][0].split(b" ")[0]
        if head == "name":
            name += f"_{planted}_{other}".encode()
        elif head == "comment":
            name += f" 1:N:0 {planted}".encode()
        records[number][0] = name
        if plus:
            records[number][2] = f"+{other}".encode()
    data = b"\n".join(line for record in records for line in record) + b"\n"
    results = []
    for batch in (1, 1500, 4096):
        monkeypatch.setattr(audit_fastq, "BATCH", batch)
        findings = Findings()
        audit_fastq.FastqAudit("R1.fastq", forbid, findings).run(io.BytesIO(data))
        results.append((findings.records, findings.forbidden.counts, findings.forbidden.examples, findings.metadata.counts))
    assert results[0][0] == 3000 and sum(results[0][1].values()) >= 8
    assert all(result == results[0] for result in results)


# --- planted cases, one class at a time -------------------------------------------------------------


SAM_HEADER = "@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chr1\tLN:100\n@RG\tID:CMT001_00.L1\tSM:CMT001_00\tPL:ILLUMINA\n"


def sam(*records: str, header: str = SAM_HEADER) -> bytes:
    return (header + "".join(record + "\n" for record in records)).encode()


def record(name: str = "READ1", pos: int = 1, sequence: str = "ACGTACGTAC", tags: str = "RG:Z:CMT001_00.L1") -> str:
    return "\t".join([name, "0", "chr1", str(pos), "60", f"{len(sequence)}M", "*", "0", "0", sequence, "I" * len(sequence), tags])


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (sam(record(tags="RG:Z:CMT001_00.L1\tCO:Z:S2301217T")), "aux tag CO"),
        (sam(record(name="M04123:123:000000000-ABCDE:1:1101:1:1")), "read name"),
        (sam(record(), header=SAM_HEADER + "@PG\tID:samtools\tPN:samtools\tCL:samtools view /data/x.bam\n"), "header tag @PG CL"),
        (sam(record(), header=SAM_HEADER.replace("PL:ILLUMINA", "PL:ILLUMINA\tCN:SeoulHospital")), "header tag @RG CN"),
        (sam(record(), header=SAM_HEADER.replace("LN:100", "LN:100\tUR:/data/ref.fa")), "header tag @SQ UR"),
        (sam(record(), header=SAM_HEADER + "@HD\tVN:1.6\n"), "header line @HD (not the first line)"),
        (sam(record(), header=SAM_HEADER.replace("SM:CMT001_00", "SM:CMT001_00\tSM:CMT001_00")), "header tag @RG SM (repeated)"),
        (b"##fileformat=VCFv4.2\n##fileDate=20231029\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n", "header line ##fileDate"),
        (
            b'##fileformat=VCFv4.2\n##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth",Description="Kim">\n'
            b"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n",
            "header field ##INFO Description (repeated)",
        ),
        (
            b"##fileformat=VCFv4.2\n##contig=<ID=chr1,length=100,length=200>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n",
            "header field ##contig length (repeated)",
        ),
        (b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nchr1\t1\tHOSP_VAR_1\tA\tC\t.\t.\t.\n", "ID column"),
        (b"@M04123:1:FC:1:1:1:1\nACGT\n+\nIIII\n", "read name"),
        # a counter has no leading zero and at most ten digits: a mobile or registration number is none
        (sam(record(name="READ01012345678")), "read name"),
        (sam(record(name="READ9001011234567")), "read name"),
        (sam(record(name="READ00")), "read name"),
        (b"@READ01012345678\nACGT\n+\nIIII\n", "read name"),
        (b"@READ9001011234567 1:N:0\nACGT\n+\nIIII\n", "read name"),
        # nor above the file's count of records: a date
        (sam(record(), record(name="READ19850314", pos=2)), "read name (a counter above the file's count of records)"),
        (b"@READ1\nACGT\n+\nIIII\n@READ19850314\nACGT\n+\nIIII\n", "read name (a counter above the file's count of records)"),
    ],
)
def test_metadata_not_on_the_allowlist_is_found_without_a_forbid_list(data: bytes, key: str, tmp_path: Path) -> None:
    result = run_command("genoscrub-audit", "-", input=data, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    line = next(line for line in result.stdout.decode().splitlines() if ": metadata: " in line)
    assert key in line


@pytest.mark.parametrize("one_by_one", ["0", "1"], ids=["bulk", "one-by-one"])
def test_read_counters_up_to_the_count_of_records_pass(one_by_one: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Red team 10 F13: a pair's records share their counter, so counters up to the count of records
    pass, in BAM and FASTQ; one above it is a finding, named by where it lies, never printed."""
    monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", one_by_one)
    (tmp_path / "in.sam").write_bytes(sam(record(name="READ2"), record(name="READ1", pos=2), record(name="READ2", pos=3)))
    (tmp_path / "R1.fastq").write_bytes(b"@READ1 1:N:0\nACGT\n+\nIIII\n@READ2 1:N:0\nACGT\n+\nIIII\n")
    result = run_command("genoscrub-audit", "in.sam", "R1.fastq", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    (tmp_path / "R1.fastq").write_bytes(b"@READ1 1:N:0\nACGT\n+\nIIII\n@READ3 1:N:0\nACGT\n+\nIIII\n")
    result = run_command("genoscrub-audit", "R1.fastq", cwd=tmp_path)
    assert result.returncode == 1 and b"read name (a counter above the file's count of records) 1 (record 2)" in result.stdout
    assert b"READ3" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("header", "key"),
    [
        (SAM_HEADER + "@HD\tVN:1.6\tSO:coordinate\n", "header line @HD (not the first line)"),
        (SAM_HEADER.replace("SM:CMT001_00", "SM:CMT001_00\tSM:CMT001_00"), "header tag @RG SM (repeated)"),
        (SAM_HEADER.replace("LN:100", "LN:100\tLN:100"), "header tag @SQ LN (repeated)"),
    ],
)
def test_a_header_line_the_specification_allows_once_is_found_again_in_a_bam(header: str, key: str, tmp_path: Path) -> None:
    """SAM 1.6, section 1.3: @HD is the first line, a tag appears once a line. samtools keeps
    a second one in the BAM it makes (a reader keeps one of the two): the audit finds it there,
    in a line that is otherwise a copy of a valid one."""
    source = tmp_path / "in.sam"
    source.write_bytes(sam(record(), header=header))
    bam = tmp_path / "in.bam"
    subprocess.run(["samtools", "view", "-b", "--no-PG", "-o", str(bam), str(source)], check=True, capture_output=True)
    report = tmp_path / "report.json"
    result = run_command("genoscrub-audit", "--report", str(report), str(bam), cwd=tmp_path)
    assert result.returncode == 1, result.stdout.decode()
    assert json.loads(report.read_text())["files"][0]["findings"]["metadata"]["by_key"] == {key: 1}


@pytest.mark.parametrize("place", ["QNAME", "@RG SM", "aux XX", "sample name", "INFO/NOTE"])
def test_forbidden_strings_found_in_any_case(place: str, tmp_path: Path) -> None:
    forbid = tmp_path / "forbid.txt"
    forbid.write_text("S2301217T\n")
    planted = "s2301217T_x"
    if place == "QNAME":
        data = sam(record(name=planted))
    elif place == "@RG SM":
        data = sam(record(), header=SAM_HEADER.replace("SM:CMT001_00", f"SM:{planted}"))
    elif place == "aux XX":
        data = sam(record(tags=f"RG:Z:CMT001_00.L1\tXX:Z:{planted}"))
    else:
        sample = planted if place == "sample name" else "CMN001"
        info = f"NOTE={planted}" if place == "INFO/NOTE" else "."
        data = (
            '##fileformat=VCFv4.2\n##INFO=<ID=NOTE,Number=1,Type=String,Description="x">\n##FORMAT=<ID=GT,Number=1,Type=String,Description="x">\n'
            f"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{sample}\nchr1\t1\t.\tA\tC\t.\t.\t{info}\tGT\t0/1\n"
        ).encode()
    result = run_command("genoscrub-audit", "--forbid", str(forbid), "-", input=data, cwd=tmp_path)
    assert result.returncode == 1
    assert re.search(rf": forbidden: 1: (header )?{re.escape(place)} ", result.stdout.decode()), result.stdout.decode()
    assert "2301217" not in result.stdout.decode() + result.stderr.decode()


def test_hashed_name_digits_are_read_names_second_form() -> None:
    """The bulk name checks read a keyed hash as HASHED_NAME_LENGTH of HASHED_NAME_DIGITS: exactly
    what READ_NAME accepts in that form."""
    digits = HASHED_NAME_DIGITS.decode()
    assert all(re.fullmatch(READ_NAME, digit * HASHED_NAME_LENGTH) for digit in digits)
    lengths = (HASHED_NAME_LENGTH - 1, HASHED_NAME_LENGTH + 1)
    assert not any(re.fullmatch(READ_NAME, digit * length) for digit in digits for length in lengths)
    others = [chr(byte) for byte in range(33, 127) if chr(byte) not in digits]
    assert not any(re.fullmatch(READ_NAME, other + digits[0] * (HASHED_NAME_LENGTH - 1)) for other in others if other != "*")


def test_forbidden_strings_in_hashed_read_names(tmp_path: Path) -> None:
    """Keyed-hash names (24 lower-case hex digits) are searched only for the list's strings that
    can occur in them: a number or hex string is found, in either case, at each name that
    holds it, never across two names; a string with another letter is never searched there.
    Each is planted in 5 of the 20 names: beyond chance, which in a BAM may give one name's 4
    records a hit (``test_keyed_name_ceiling_is_the_poisson_tail``)."""
    forbid = tmp_path / "forbid.txt"
    forbid.write_text("S2301217T\n2301217\nDEADBEEF\nfeed0\n")
    names = ["0123456789abcdef02301217", "deadbeef0123456789abcdef", "00000000000000000000feed", "0ccccccccccccccccccccccc"] * 5
    data = sam(*[record(name=name, pos=index + 1) for index, name in enumerate(names)])
    result = run_command("genoscrub-audit", "--forbid", str(forbid), "-", input=data, cwd=tmp_path)
    assert result.returncode == 1
    line = next(line for line in result.stdout.decode().splitlines() if ": forbidden: " in line)
    found = "forbidden: 10: QNAME (list line 2) 5 (chr1:1, chr1:5, chr1:9); QNAME (list line 3) 5 (chr1:2, chr1:6, chr1:10)"
    assert line.endswith(found), line


BAM_FORBIDDEN = ["S2301217", "kimjh", "deadbeef", "feed0"]
BAM_WORDS = st.sampled_from([*BAM_FORBIDDEN, "KIMJH", "DeadBeef", "x", "0", "s23", "01217", "dead", ""])


@st.composite
def forbid_planted_records(draw: st.DrawFn) -> list[str]:
    """SAM records with the list's strings (in either case) in plain or hashed read names and in
    text and hex tags, several to a field, a record or a key, placed and unplaced."""
    records = []
    for index in range(draw(st.integers(1, 30))):
        if draw(st.booleans()):
            name = "".join(draw(st.lists(st.sampled_from(["0", "a", "deadbeef", "feed0", "12"]), max_size=8)))
            name = (name + "0" * HASHED_NAME_LENGTH)[:HASHED_NAME_LENGTH]  # a keyed hash's form
        else:
            name = "".join(draw(st.lists(BAM_WORDS, min_size=1, max_size=4))) or "r"
        tags = ["RG:Z:CMT001_00.L1"]
        for tag in draw(st.lists(st.sampled_from(["XA", "CO", "BC", "ZZ", "XH"]), unique=True, max_size=3)):
            if tag == "XH":
                tags.append("XH:H:" + draw(st.sampled_from(["DEADBEEF", "00FEED0A", "1AE3"])))
            else:
                tags.append(f"{tag}:Z:" + ("".join(draw(st.lists(BAM_WORDS, min_size=1, max_size=3))) or "x"))
        fields = record(name=name, pos=index + 1, tags="\t".join(tags)).split("\t")
        if draw(st.integers(0, 5)) == 0:
            fields[1:4] = ["4", "*", "0"]  # unplaced, after the placed ones
            fields[5] = "*"
        records.append("\t".join(fields))
    placed = [line for line in records if line.split("\t")[2] != "*"]
    return placed + [line for line in records if line.split("\t")[2] == "*"]


@settings(max_examples=60, deadline=None)
@given(records=forbid_planted_records())
def test_forbidden_strings_in_bam_counted_in_bulk_as_field_by_field(records: list[str], tmp_path_factory: pytest.TempPathFactory) -> None:
    """The BAM path counts forbid-list hits of a block in bulk: the counts and the first positions
    of each key are what a search of each record's fields one at a time (pysam's reading) gives.
    Hits in keyed names (24 lower-case hex digits) are findings only beyond what chance gives
    (``chance_ceiling``), after the key's other hits; the others are reported as within chance."""
    folder = tmp_path_factory.mktemp("planted")
    bam = folder / "planted.bam"
    source = folder / "planted.sam"
    source.write_bytes(sam(*records))
    subprocess.run(["samtools", "view", "-b", "--no-PG", "-o", str(bam), str(source)], check=True, capture_output=True)
    forbid = ForbidList([entry(text.encode(), line) for line, text in enumerate(BAM_FORBIDDEN, start=1)], "forbid.txt")
    expected: dict[str, list[str]] = {}
    keyed: dict[str, list[str]] = {}
    with pysam.AlignmentFile(str(bam), "rb", check_sq=False) as alignments:
        reads = list(alignments)
    names = sum(bool(KEYED_NAME.fullmatch(str(read.query_name))) for read in reads)
    for read in reads:
        where = f"chr1:{read.reference_start + 1}" if read.reference_id >= 0 else "unplaced"
        tags = read.get_tags(with_value_type=True)
        fields = [("QNAME", read.query_name)] + [(f"aux {tag}", value) for tag, value, kind in tags if kind in "ZH"]
        for field_name, value in fields:
            found_in = keyed if field_name == "QNAME" and KEYED_NAME.fullmatch(str(value)) else expected
            for found, _ in forbid.search(str(value).encode()):
                found_in.setdefault(f"{field_name} (list line {found.line})", []).append(where)
    within = {}
    for key, wheres in keyed.items():
        length = len(BAM_FORBIDDEN[int(key.split()[-1][:-1]) - 1])
        if len(wheres) >= chance_ceiling(names, length, clump=4):
            expected[key] = expected.get(key, []) + wheres
        else:
            within[key] = len(wheres)
    with open(bam, "rb") as stream:
        blocks = CountedBlocks(bgzf_blocks(stream, str(bam)))
        header, rest = read_header(blocks, str(bam))
        findings = Findings()
        BamAudit(RecordChecks(str(bam), [name for name, _ in header.references], forbid=forbid), findings, 1).run(blocks, rest)
        findings.settle()  # hits in keyed names: findings once the file is read, as audit_file settles them
    assert dict(findings.forbidden.counts) == {key: len(wheres) for key, wheres in expected.items()}
    assert findings.forbidden.examples == {key: wheres[:3] for key, wheres in expected.items()}
    assert {key: seen["hits"] for key, seen in findings.within_chance.items()} == within


KEYED_NAME = re.compile("[0-9a-f]{24}")


def chance_ceiling(names: int, length: int, clump: int = 1) -> int:
    """The least count of hits in keyed names that is a finding, summed up from nothing (the audit
    sums the Poisson tail down from far above): chance puts a string of ``length`` hex digits in
    ``names`` x (25 - length) / 16^length of them; the least name count it reaches with probability
    at most 1e-9, less one, times ``clump`` hits a name, plus one; or, if less, ``clump`` times
    the count chance reaches so in names of ``clump`` records each."""

    def reached(mean: float) -> int:
        count, below = 0, 0.0
        while 1 - below > 1e-9:
            below += math.exp(-mean + count * math.log(mean) - math.lgamma(count + 1))
            count += 1
        return count

    expected = names * (25 - length) / 16**length
    return min(clump * (reached(expected) - 1) + 1, clump * reached(expected / clump))


@pytest.mark.parametrize(
    ("names", "length"), [(1, 3), (4, 7), (20, 5), (303_449, 3), (151_657, 3), (1_200_000_000, 7), (1_200_000_000, 8), (10**6, 12)]
)
def test_keyed_name_ceiling_is_the_poisson_tail(names: int, length: int) -> None:
    """``KeyedNameHits.ceiling`` is the 1e-9 tail of the Poisson count chance gives, in a pair's
    clumps for a BAM: a single hit where chance gives almost none (4 names, a 12-digit number), a
    few hundred more than the mean for a 3-character string among the bench's names."""
    for clump in (1, 4):
        hits = KeyedNameHits(names=names, clump=clump)
        assert hits.ceiling(length) == chance_ceiling(names, length, clump)
    assert KeyedNameHits(names=4).ceiling(12) == 1  # a 12-digit number: one hit is a finding
    assert KeyedNameHits(names=4).ceiling(7) == 2  # a 7-digit one: 1 in 4 million files holds one by chance
    assert KeyedNameHits(names=1_200_000_000).ceiling(7) > 80  # a 7-digit number in a 30x genome's names


def test_forbidden_string_beyond_chance_in_keyed_names_is_found(tmp_path: Path) -> None:
    """A string chance would put in a few keyed names is found when it sits in many (a scrubber
    copying a sample number into every name); the same string in as many names as chance gives
    is reported within chance, with its count, and the file passes."""
    forbid = tmp_path / "forbid.txt"
    forbid.write_text("b44\n")
    random = np.random.default_rng(7)
    digits = np.frombuffer(HASHED_NAME_DIGITS, dtype=np.uint8)
    names = [bytes(random.choice(digits, HASHED_NAME_LENGTH)).decode() for _ in range(20_000)]
    chance = sum(name.count("b44") for name in names)
    planted = [name[:10] + "b44" + name[13:] if index % 50 == 0 else name for index, name in enumerate(names)]
    for written, passes in ((names, True), (planted, False)):
        data = b"".join(f"@{name}/1\nACGT\n+\nIIII\n".encode() for name in written)
        report = tmp_path / "audit.json"
        result = run_command("genoscrub-audit", "--forbid", str(forbid), "--report", str(report), "-", input=data, cwd=tmp_path)
        found = json.loads(report.read_text())["files"][0]
        assert (result.returncode == 0) is passes, result.stdout.decode()
        if passes:
            expected = {"hits": chance, "expected": round(20_000 * 22 / 4096, 3), "ceiling": chance_ceiling(20_000, 3)}
            assert found["keyed_names"] == {"searched": 20_000, "within_chance": {"read name (list line 1)": expected}}
        else:
            assert found["findings"]["forbidden"]["by_key"] == {"read name (list line 1)": sum(name.count("b44") for name in planted)}


def test_forbidden_string_in_seq_qual_ref_or_base_alt_is_not_a_finding(tmp_path: Path) -> None:
    forbid = tmp_path / "forbid.txt"
    forbid.write_text("ACGTAC\nIIIIII\n")
    for data in (
        sam(record(sequence="ACGTACGTAC")),
        b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nchr1\t1\t.\tACGTACG\tA,TACGTACA\t.\t.\t.\n",
        b"@READ1\nACGTACGTAC\n+\nIIIIIIIIII\n",
    ):
        result = run_command("genoscrub-audit", "--forbid", str(forbid), "-", input=data, cwd=tmp_path)
        assert result.returncode == 0, result.stdout.decode()


def test_population_rare_and_absent_alleles_found(simulated: Path, tmp_path: Path) -> None:
    """The simulated categories: rare (in AF_eas only for half of them), ref_rare and absent are findings."""
    result, report = audit(
        "--population", f"{simulated}/population.vcf.gz", "--af-key", "AF_eas", str(simulated / "germline.vcf.gz"), cwd=tmp_path
    )
    assert result.returncode == 1
    found = report["files"][0]["findings"]["population"]  # type: ignore[index]
    truth = [line.split("\t") for line in (simulated / "truth.tsv").read_text().splitlines()[1:]]
    categories = Counter(row[8] for row in truth if row[4] == "germline")
    keys = found["by_key"]
    assert keys.get("allele absent from the population", 0) >= categories["absent"] + categories["other_allele"]
    assert keys.get("allele rarer than 0.01", 0) >= categories["rare"]
    assert keys.get("REF rarer than 0.01", 0) >= categories["ref_rare"]
    # with the global AF, half the rare sites are common: fewer findings
    _, report_all = audit(
        "--population", f"{simulated}/population.vcf.gz", "--af-key", "AF", str(simulated / "germline.vcf.gz"), cwd=tmp_path
    )
    assert report_all["files"][0]["findings"]["population"]["count"] < found["count"]  # type: ignore[index]


def test_regions_found_in_reads_and_records(simulated: Path, tmp_path: Path) -> None:
    result, report = audit("--bed", f"{simulated}/repeats.bed", str(simulated / "tumour.bam"), cwd=tmp_path)
    assert result.returncode == 1
    keys = report["files"][0]["findings"]["regions"]["by_key"]  # type: ignore[index]
    bed = [line.split("\t") for line in (simulated / "repeats.bed").read_text().splitlines()]
    labels = {f"{c}:{int(s) + 1}-{e} {n}" for c, s, e, n in bed}
    # a region's bases kept; a length its reads' CIGARs show in it; a TLEN that shows a mate's end in it,
    # a PNEXT its start; an alignment or the mate's bases a tag places there (MC, SA, R2, ...); an
    # unmapped read placed near it with its bases
    suffix = r" \((length|TLEN|PNEXT|unmapped near|placed unmapped|aux [A-Za-z0-9]{2}(, [a-z ]+)?)\)$"
    assert {re.sub(suffix, "", key) for key in keys if not key.startswith("aux ")} <= labels
    assert any(key.endswith(" (length)") for key in keys) and any(key.endswith(" (TLEN)") for key in keys)


# A read's place shows a repeat's length however its bases are masked: its CIGAR's indels and clip
# junctions in a region, and a TLEN that ends the template on a mate reaching into one.
LENGTH_REGION = "chr1\t100\t120\tSTR1\n"  # 101-120, 1-based
LENGTH_READS = [
    # name, flag, pos (1-based), cigar, pnext, tlen, sequence (None: '*'), what the audit should find
    ("deletion", 0, 91, "15M4D15M", 0, 0, "A" * 10 + "N" * 20, "(length)"),
    ("deletion-no-seq", 0, 91, "15M4D15M", 0, 0, None, "(length)"),
    ("insertion-at-edge", 0, 91, "30M2I10M", 0, 0, "A" * 9 + "N" * 23 + "A" * 10, "(length)"),
    ("soft-clip-junction", 0, 111, "5S25M", 0, 0, "N" * 15 + "A" * 15, "(length)"),
    ("hard-clip-junction", 0, 111, "5H25M", 0, 0, "N" * 10 + "A" * 15, "(length)"),
    ("template-into-region", 65, 21, "30M", 81, 90, "A" * 30, "(TLEN)"),
    ("template-rightmost", 129, 201, "30M", 81, -150, "A" * 30, ""),
    # the mate's span 131-170 lies past the region, but a deletion of up to its 40 bases placed
    # there, widened by its length, meets it: the mate may have been dropped for it
    ("template-deletion-past", 65, 11, "30M", 131, 160, "A" * 30, "(TLEN)"),
    ("template-short", 65, 1, "30M", 31, 60, "A" * 30, ""),  # the mate's 31-60 widened by 31 ends before 101
    # the mate starts in the region and no MC says it starts with an aligned base: a clip junction may lie there
    ("mate-start-in-region", 65, 41, "30M", 111, 0, "A" * 30, "(PNEXT)"),
    ("mate-start-at-edge", 65, 51, "30M", 121, 0, "A" * 30, "(PNEXT)"),
    ("bases-masked", 0, 96, "30M", 0, 0, "A" * 5 + "N" * 20 + "A" * 5, ""),
    # an indel of L bases is judged over its span widened by L: an aligner may place it anywhere along the repeat
    ("insertion-ending-before", 0, 71, "29M6I", 0, 0, "A" * 35, "(length)"),  # its point one base before the region
    ("insertion-no-seq", 0, 71, "29M6I", 0, 0, None, "(length)"),
    ("deletion-after-end", 0, 122, "3M4D20M", 0, 0, "A" * 23, "(length)"),  # 121-124 deleted, widened to meet 120
    ("long-deletion-before", 0, 11, "10M60D5M", 0, 0, "A" * 15, "(length)"),  # longer than its read: widened by 60
    ("insertion-far-before", 0, 61, "29M6I", 0, 0, "A" * 35, ""),  # 11 bases before: kept
]


def length_reads_bam(path: Path) -> Path:
    header = pysam.AlignmentHeader.from_dict({"HD": {"VN": "1.6"}, "SQ": [{"SN": "chr1", "LN": 400}]})
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        for name, flag, position, cigar, mate_position, tlen, sequence, _ in LENGTH_READS:
            read = pysam.AlignedSegment(header)
            read.query_name, read.flag, read.reference_id, read.reference_start = name, flag, 0, position - 1
            read.cigarstring, read.mapping_quality = cigar, 60
            if flag & 1:
                read.next_reference_id, read.next_reference_start, read.template_length = 0, mate_position - 1, tlen
            if sequence is not None:
                read.query_sequence, read.query_qualities = sequence, pysam.qualitystring_to_array("I" * len(sequence))
            out.write(read)
    return path


def region_keys(report: dict[str, Any]) -> dict[str, int]:
    return report["files"][0]["findings"]["regions"].get("by_key", {})  # type: ignore[no-any-return]


def test_lengths_shown_in_a_region_are_found_and_gone_after_masking(tmp_path: Path) -> None:
    """Each read that shows a length in the region is a region finding at its place (the BAM
    written by pysam, the expected answers worked out by hand), on the bulk path and with every
    read looked at one by one; after sam-mask-regions none is left."""
    bam = length_reads_bam(tmp_path / "lengths.bam")
    (tmp_path / "r.bed").write_text(LENGTH_REGION)
    expected = Counter(f"chr1:101-120 STR1 {what}" for *_, what in LENGTH_READS if what)
    for switch in ({}, {"GENOSCRUB_ONE_BY_ONE": "1"}):
        with pytest.MonkeyPatch.context() as monkeypatch:
            for name, value in switch.items():
                monkeypatch.setenv(name, value)
            result, report = audit("--bed", str(tmp_path / "r.bed"), str(bam), cwd=tmp_path)
        assert result.returncode == 1
        assert Counter(region_keys(report)) == expected
        positions = report["files"][0]["findings"]["regions"]["examples"]  # type: ignore[index]
        assert positions["chr1:101-120 STR1 (TLEN)"] == ["chr1:21", "chr1:11"]
    masked = tmp_path / "masked.bam"
    sam = subprocess.run(["samtools", "view", "-h", str(bam)], check=True, capture_output=True).stdout
    bed = str(tmp_path / "r.bed")
    result = run_command("sam-mask-regions", "-q", "--flank", "0", "--bed", bed, "-O", "bam", "-o", str(masked), input=sam)
    assert result.returncode == 0, result.stderr
    result, report = audit("--bed", str(tmp_path / "r.bed"), str(masked), cwd=tmp_path)
    assert region_keys(report) == {}, report


# --- usage and bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--germline", "x.vcf", "x.bam"],
        ["--population", "x.vcf", "x.vcf"],
        ["--min-af", "2", "x.vcf"],
        ["--preset", "nonsense", "x.bam"],
        ["--allow-tag", "XYZ", "x.bam"],
        ["-", "-"],
    ],
)
def test_bad_usage_exits_2(args: list[str], tmp_path: Path) -> None:
    result = run_command("genoscrub-audit", *args, input=b"", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.decode().strip().splitlines()) == 1


def test_truncated_bam_is_bad_input(simulated: Path, tmp_path: Path) -> None:
    data = (simulated / "tumour.bam").read_bytes()
    for cut in (data[: len(data) // 2], data[:-28]):
        cut_path = tmp_path / "cut.bam"
        cut_path.write_bytes(cut)
        for args, stdin in (([str(cut_path)], None), (["-"], cut)):
            result = run_command("genoscrub-audit", *args, input=stdin, cwd=tmp_path)
            assert result.returncode == 1
            assert result.stdout == b"" and len(result.stderr.splitlines()) == 1 and b"Traceback" not in result.stderr


def test_other_build_of_germline_list_stops(simulated: Path, tmp_path: Path) -> None:
    other = tmp_path / "germline.vcf"
    with gzip.open(simulated / "germline.vcf.gz", "rt") as source:
        other.write_text(re.sub(r"(##contig=<ID=chr1,length=)\d+", r"\g<1>999999", source.read()))
    result = run_command("genoscrub-audit", "--germline", str(other), "-r", f"{simulated}/ref.fa", str(simulated / "tumour.bam"))
    assert result.returncode == 1 and b"another genome build" in result.stderr


def test_germline_list_whose_ref_is_not_the_reference_stops(simulated: Path, tmp_path: Path) -> None:
    """Another build without ``##contig`` lengths to tell it (a hand-made site list, VarScan's):
    the REF of a record that is not the reference's bases stops the audit, naming the record,
    for alignments and for --germline-in-vcf alike; nucleotide codes agree with the bases they
    stand for, and the other contig naming changes nothing."""
    with gzip.open(simulated / "germline.vcf.gz", "rt") as source:
        lines = [line for line in source.read().splitlines(keepends=True) if not line.startswith("##contig")]
    records = [index for index, line in enumerate(lines) if not line.startswith("#")]
    fields = [lines[index].split("\t") for index in records]
    snv = next(number for number, row in enumerate(fields) if len(row[3]) == len(row[4]) == 1)
    deletion = next(number for number, row in enumerate(fields) if len(row[3]) > len(row[4]) == 1)
    reference, bam = f"{simulated}/ref.fa", str(simulated / "tumour.bam")

    def with_ref(number: int, ref: str, rename: bool = False) -> Path:
        changed = list(lines)
        row = list(fields[number])
        row[3] = ref
        changed[records[number]] = "\t".join(row)
        text = "".join(changed)
        path = tmp_path / "germline.vcf"
        path.write_text(re.sub(r"(?m)^chr", "", text) if rename else text)
        return path

    for number, ref in ((snv, "T" if fields[snv][3] != "T" else "G"), (deletion, "A" * len(fields[deletion][3]))):
        if ref == fields[number][3]:
            ref = "C" * len(ref)
        listed = str(with_ref(number, ref))
        for target in ((bam,), ("--germline-in-vcf", str(simulated / "somatic.vcf.gz"))):
            result = run_command("genoscrub-audit", "--germline", listed, "-r", reference, *target)
            assert result.returncode == 1 and b"Traceback" not in result.stderr, result.stderr  # htslib warns of undeclared contigs
            assert f"germline record {number + 1} (from 1) is not the reference's bases".encode() in result.stderr.splitlines()[-1]
    coded = "N" + fields[deletion][3][1:]
    for rename in (False, True):  # N over any base agrees; 1 and MT against the reference's chr1 and chrM
        result = run_command("genoscrub-audit", "--germline", str(with_ref(deletion, coded, rename)), "-r", reference, bam)
        assert b"not the reference's bases" not in result.stderr and result.returncode in (0, 1), result.stderr
    (tmp_path / "past.vcf").write_text(
        "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nchrM\t16569\t.\tGATC\tG\t.\t.\t.\n"
    )
    result = run_command("genoscrub-audit", "--germline", str(tmp_path / "past.vcf"), "-r", reference, bam)
    assert result.returncode == 1 and b"germline record 1 (from 1) is not the reference's bases" in result.stderr


# --- the parts, as functions -----------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    text=st.binary(max_size=300),
    word=st.text(alphabet="abcXYZ019/-_", min_size=3, max_size=8),
    upper=st.booleans(),
)
def test_forbid_search_equals_a_plain_case_folded_search(text: bytes, word: str, upper: bool) -> None:
    """The search finds what a plain case-folded search finds, a listed number only as a number of
    its own (no digit before or after it: ``12301217`` is another number than ``2301217``) and not
    as a dbSNP ID (``rs2301217``, its ``rs`` starting a word)."""
    planted = text + (word.upper() if upper else word).encode() + text[:5]
    listing = ForbidList([entry(word.encode(), 1)], "list")
    found = sorted(at for _, at in listing.search_text(planted))
    folded, needle = planted.lower(), word.lower().encode()

    def own_number(at: int) -> bool:
        before = folded[at - 1 : at] if at else b""
        dbsnp = at >= 2 and folded[at - 2 : at] == b"rs" and not (at > 2 and folded[at - 3 : at - 2].isalnum())
        return not needle.isdigit() or not (before.isdigit() or folded[at + len(needle) : at + len(needle) + 1].isdigit() or dbsnp)

    expected = [at for at in range(len(folded)) if folded.startswith(needle, at) and own_number(at)]
    assert found == expected


@settings(max_examples=50, deadline=None)
@given(cut=st.integers(min_value=0, max_value=4000))
def test_first_record_from_any_cut_is_a_record_start(simulated: Path, cut: int) -> None:
    """Resynchronising inside a chunk lands on a true record start (checked against a walk from the start)."""
    path = str(simulated / "normal.bam")
    with open(path, "rb") as stream:
        blocks = bgzf_blocks(stream, path)
        header, rest = read_header(blocks, path)
        data = rest
        for block in blocks:
            data += audit_bam.inflate(block, path)
            if len(data) > 12_000:
                break
    offsets = walk(data, 0).records[0].tolist()
    found = first_record(data[cut:], len(header.references))
    assert found is not None and cut + found in offsets


def test_multiqc_report_shows_the_section_and_numbers(delivery: Path, simulated: Path, tmp_path: Path) -> None:
    if shutil.which("multiqc", path=str(Path(BIN).parent / ".venv" / "bin")) is None and shutil.which("multiqc") is None:
        pytest.skip("multiqc not installed (pip install -e '.[test]')")
    multiqc = shutil.which("multiqc", path=str(Path(BIN).parent / ".venv" / "bin")) or "multiqc"
    reports = tmp_path / "reports"
    reports.mkdir()
    for path in delivery.glob("tumour.*.json"):
        shutil.copy(path, reports / f"CMT001.{path.name}")
    delivered = tmp_path / "CMT001.tumour.bam"  # named as the workflow names its results
    shutil.copy(delivery / "tumour.bam", delivered)
    result, _ = audit("--forbid", f"{simulated}/forbidden.txt", str(delivered), cwd=tmp_path)
    assert result.returncode == 0
    audit_report = next(tmp_path.glob("audit-*.json"))
    shutil.copy(audit_report, reports / "CMT001.audit.json")
    from genoscrub.multiqc import write_custom_content

    content = tmp_path / "content"
    written = write_custom_content(sorted(reports.glob("*.json")), content)
    assert {path.name for path in written} >= {"genoscrub_summary_mqc.yaml", "genoscrub_sam_revert_germline_mqc.yaml"}
    subprocess.run([multiqc, "-q", "-f", "-o", str(tmp_path / "multiqc"), str(content)], check=True, capture_output=True, timeout=300)
    data = json.loads((tmp_path / "multiqc" / "multiqc_data" / "multiqc_data.json").read_text())
    raw = data["report_saved_raw_data"]
    summary = raw["multiqc_genoscrub_summary_table"]["CMT001"]
    revert = json.loads((delivery / "tumour.revert.json").read_text())["counts"]
    scrub = json.loads((delivery / "tumour.scrub.json").read_text())["counts"]
    assert summary["audit"] == "PASS" and summary["findings"] == 0
    assert raw["multiqc_genoscrub_sam_revert_germline_plot"]["CMT001"]["bases_reverted"] == revert["bases_reverted"]
    assert summary["renamed"] >= scrub["names_replaced"]
    html = (tmp_path / "multiqc" / "multiqc_report.html").read_text(errors="replace").lower()
    everything = json.dumps(data).lower() + html + "".join(path.read_text() for path in written).lower()
    for word in (simulated / "forbidden.txt").read_text().splitlines():
        assert word.lower() not in everything, word


def test_sam_on_stdin_in_parallel_ends_and_equals_one_process(simulated: Path, tmp_path: Path) -> None:
    """Workers forked while htslib converts stdin must not hold the converter's input open."""
    text = subprocess.run(["samtools", "view", "-h", "--no-PG", str(simulated / "tumour.bam")], capture_output=True, check=True).stdout
    header = b"".join(line + b"\n" for line in text.splitlines() if line.startswith(b"@"))
    body = text[len(header) :]
    data = header + body * 4  # more than one chunk of the converted BAM
    outputs = []
    for jobs in ("1", "2"):
        result = run_command("genoscrub-audit", "-j", jobs, "-", input=data, cwd=tmp_path)
        assert result.returncode == 1, result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]


def test_read_without_sequence_carries_nothing(tmp_path: Path) -> None:
    """A secondary alignment with SEQ '*' over a germline site: no bases, no finding, no error."""
    (tmp_path / "ref.fa").write_text(">chr1\n" + "ACGTTGCAAC" * 10 + "\n")
    (tmp_path / "germline.vcf").write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=100>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nchr1\t5\t.\tT\tA\t.\t.\t.\n"
    )
    data = sam(
        "\t".join(["READ1", "256", "chr1", "1", "0", "10M", "*", "0", "0", "*", "*", "RG:Z:CMT001_00.L1"]),
        "\t".join(["READ2", "256", "chr1", "1", "0", "3S7M", "*", "0", "0", "*", "*", "RG:Z:CMT001_00.L1"]),
    )
    result = run_command("genoscrub-audit", "--germline", "germline.vcf", "-r", "ref.fa", "-", input=data, cwd=tmp_path)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()


def test_population_contig_not_covered_means_absent_but_no_allele_is_no_finding(simulated: Path, tmp_path: Path) -> None:
    vcf = tmp_path / "x.vcf"
    vcf.write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=20000>\n##contig=<ID=chrUn_decoy,length=5000>\n"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        "chrUn_decoy\t10\t.\tA\tC\t.\t.\t.\nchrUn_decoy\t20\t.\tA\t.\t.\t.\t.\n"
    )
    result, report = audit("--population", f"{simulated}/population.vcf.gz", "--af-key", "AF_eas", str(vcf), cwd=tmp_path)
    assert result.returncode == 1
    assert report["files"][0]["findings"]["population"]["by_key"] == {"allele absent from the population": 1}  # type: ignore[index]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"CRAM\x03\x00" + b"\x00" * 40, b"htslib cannot read this CRAM input"),
        (
            b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nchr1\tx\t.\tA\tC\t.\t.\t.\n",
            b"<stdin>:3: VCF POS is not a number",
        ),
        (
            b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nchr1\t1\t.\tA\n",
            b"<stdin>:3: VCF record with a wrong number",
        ),
        (b"##fileformat=VCFv4.2\nchr1\t1\t.\tA\tC\t.\t.\t.\n", b"<stdin>:2: VCF record before the #CHROM line"),
        (b"@READ1\nACGT\n+\nII\n", b"<stdin>:1: FASTQ record cut short"),
        (b"@READ1\nACGT\nIIII\n", b"<stdin>:1: FASTQ record cut short (no + line)"),
        (b"", b"not a FASTQ, SAM, BAM, CRAM, VCF or BCF file"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(data: bytes, message: bytes, tmp_path: Path) -> None:
    result = run_command("genoscrub-audit", "-", input=data, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == b"" and len(result.stderr.splitlines()) == 1 and message in result.stderr, result.stderr


def test_presets_found_in_a_grch38_file_and_build_told_by_lengths(tmp_path: Path) -> None:
    """--preset codis-str on a file whose header has GRCh38's lengths: D1S1656 bases and records are found."""
    from genoscrub.regions import build_contig_lengths, preset_path

    lengths = build_contig_lengths("GRCh38")
    rows = [line.split("\t") for line in preset_path("codis-str", "GRCh38").read_text().splitlines() if not line.startswith("#")]
    contig, start, end = next((fields[0], int(fields[1]), int(fields[2])) for fields in rows if fields[0] == "chr1")
    header = "@HD\tVN:1.6\tSO:coordinate\n" + "".join(f"@SQ\tSN:{name}\tLN:{length}\n" for name, length in lengths.items())
    inside = start + 11  # 1-based POS of a read starting within the locus
    reads = [
        "\t".join(["READ1", "0", contig, str(inside), "60", "10M", "*", "0", "0", "ACGTACGTAC", "IIIIIIIIII"]),
        "\t".join(["READ2", "0", contig, str(inside), "60", "10M", "*", "0", "0", "NNNNNNNNNN", "##########"]),
        "\t".join(["READ3", "0", contig, str(end + 500), "60", "10M", "*", "0", "0", "ACGTACGTAC", "IIIIIIIIII"]),
    ]
    result = run_command("genoscrub-audit", "--preset", "codis-str", "-", input=(header + "\n".join(reads) + "\n").encode(), cwd=tmp_path)
    assert result.returncode == 1
    line = next(line for line in result.stdout.decode().splitlines() if ": regions: " in line)
    assert line.startswith("<stdin>: regions: 1: ") and f"({contig}:{inside})" in line
    vcf = "##fileformat=VCFv4.2\n" + "".join(f"##contig=<ID={name},length={length}>\n" for name, length in lengths.items())
    vcf += f"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n{contig}\t{inside}\t.\tA\tC\t.\t.\t.\n{contig}\t{end + 500}\t.\tA\tC\t.\t.\t.\n"
    result = run_command("genoscrub-audit", "--preset", "codis-str", "-", input=vcf.encode(), cwd=tmp_path)
    assert result.returncode == 1
    assert re.search(r": regions: 1: ", result.stdout.decode())


# --- the bulk germline check against the one-read path ----------------------------------------------

LAID_REFERENCE = "ACGTTGCAACGGATCCATTAGGCATCGATCGGATACCAGTCACGTAGCTAGCTAGGATCCGATCGTAGCTAGCATCGATCGATTTAGCGATCGAGTCA" * 2
LAID_REGIONS = [(25, 45), (140, 160)]  # 0-based, half-open, as in the BED
LAID_SITES = [  # 1-based POS and kind: SNVs, an MNP, indels, a site with an SNV and an indel allele, one with two SNVs
    (6, "snv"), (12, "snv"), (20, "two snvs"), (30, "insertion"), (41, "deletion"), (47, "mnp"), (60, "snv and insertion"),
    (75, "snv"), (90, "deletion"), (104, "snv"), (130, "insertion"), (150, "mnp"), (170, "snv"),
]  # fmt: skip


def other_base(base: str, step: int = 1) -> str:
    return "ACGT"[("ACGT".index(base) + step) % 4]


def laid_site(position: int, kind: str) -> tuple[str, str]:
    """REF and ALT of a site of ``kind`` at ``position`` of ``LAID_REFERENCE``."""
    base, pair = LAID_REFERENCE[position - 1], LAID_REFERENCE[position - 1 : position + 1]
    alts = {
        "snv": (base, other_base(base)),
        "two snvs": (base, f"{other_base(base)},{other_base(base, 2)}"),
        "insertion": (base, base + "CA"),
        "deletion": (pair, base),
        "mnp": (pair, other_base(pair[0]) + other_base(pair[1])),
        "snv and insertion": (base, f"{other_base(base)},{base}T"),
    }
    return alts[kind]


def laid_haplotype() -> str:
    """The reference with the first ALT of every SNV and MNP site in it."""
    bases = list(LAID_REFERENCE)
    for position, kind in LAID_SITES:
        ref, alts = laid_site(position, kind)
        alt = alts.split(",")[0]
        if len(alt) == len(ref):
            bases[position - 1 : position - 1 + len(ref)] = alt
    return "".join(bases)


LAID_HAPLOTYPE = laid_haplotype()
LAID_INDEL_HAPLOTYPE = LAID_HAPLOTYPE[:41] + LAID_HAPLOTYPE[42:130] + "CA" + LAID_HAPLOTYPE[130:]
"""The same with the deletion at POS 41 and the insertion at POS 130 too: reads of one match that
carry an indel allele beside a region."""


@pytest.fixture(scope="module")
def laid_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("laid")
    (folder / "ref.fa").write_text(f">chr1\n{LAID_REFERENCE}\n")
    pysam.faidx(str(folder / "ref.fa"))
    header = f"##fileformat=VCFv4.2\n##contig=<ID=chr1,length={len(LAID_REFERENCE)}>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    lines = [f"chr1\t{position}\t.\t{chr(9).join(laid_site(position, kind))}\t.\t.\t.\n" for position, kind in LAID_SITES]
    (folder / "germline.vcf").write_text(header + "".join(lines))
    (folder / "regions.bed").write_text("".join(f"chr1\t{start}\t{end}\tSTR_{index}\n" for index, (start, end) in enumerate(LAID_REGIONS)))
    return folder


@st.composite
def laid_reads(draw: st.DrawFn) -> list[pysam.AlignedSegment]:
    """Reads of every CIGAR shape near the sites: plain, soft- and hard-clipped, =/X runs,
    padding, indels and skips, SEQ shorter than the CIGAR or '*', unmapped beside a mate."""
    header = pysam.AlignmentHeader.from_dict({"HD": {"VN": "1.6"}, "SQ": [{"SN": "chr1", "LN": len(LAID_REFERENCE)}]})
    reads = []
    for index in range(draw(st.integers(1, 12))):
        operations = st.sampled_from([0, 0, 0, 4, 4, 7, 8, 5, 1, 2, 3, 6])  # mostly M and S; =, X, H, I, D, N, P
        cigar = [(draw(operations), draw(st.integers(0, 12))) for _ in range(draw(st.integers(1, 5)))]
        position = draw(st.integers(0, len(LAID_REFERENCE) - 60))
        if not draw(st.integers(0, 3)):  # an insertion or deletion a few bases outside a region, about its own length away
            size, before, after = draw(st.integers(1, 40)), draw(st.integers(0, 10)), draw(st.integers(0, 10))
            cigar = [(0, before), (draw(st.sampled_from([1, 2])), size), (0, after)]
            edge = draw(st.sampled_from([edge for region in LAID_REGIONS for edge in region]))
            position = min(max(0, edge + draw(st.integers(-size - 3, size + 3)) - before), len(LAID_REFERENCE) - 60)
        query_length = sum(length for op, length in cigar if op in (0, 1, 4, 7, 8))
        if draw(st.integers(0, 3)):  # the germline haplotype from near the read's start, a few bases changed
            unclipped = [(op, length) for op, length in cigar if op != 5]  # H
            leading = unclipped[0][1] if unclipped and unclipped[0][0] == 4 else 0  # S
            source = max(0, position - (leading if draw(st.booleans()) else draw(st.integers(0, 12))))
            haplotype = draw(st.sampled_from([LAID_REFERENCE, LAID_HAPLOTYPE, LAID_HAPLOTYPE, LAID_INDEL_HAPLOTYPE]))
            bases = list(haplotype[source : source + query_length].ljust(query_length, "A"))
            for at in draw(st.lists(st.integers(0, max(0, query_length - 1)), max_size=3)):
                if bases:
                    bases[at] = draw(st.sampled_from("ACGTN"))
            sequence = "".join(bases)
        else:
            sequence = "".join(draw(st.sampled_from("ACGT")) for _ in range(query_length))
        if sequence and not draw(st.integers(0, 2)):  # masked as sam-mask-regions masks: N over a region, give or take a base
            unclipped = [(op, length) for op, length in cigar if op not in (5, 6)]  # H, P
            laid_start = position - (unclipped[0][1] if len(unclipped) > 1 and unclipped[0][0] == 4 else 0)
            bases = list(sequence)
            for region_start, region_end in LAID_REGIONS:
                first = max(0, region_start - laid_start + draw(st.integers(-1, 1)))
                last = min(len(bases), region_end - laid_start + draw(st.integers(-1, 1)))
                bases[first:last] = "N" * max(0, last - first)
            sequence = "".join(bases)
        read = pysam.AlignedSegment(header)
        read.query_name = f"READ{index}"
        read.reference_id = 0
        read.reference_start = position
        read.flag = draw(st.sampled_from([0, 16, 256, 4 | 1 | 8]))
        read.mapping_quality = 60
        read.cigartuples = cigar
        shape = draw(st.sampled_from(["whole", "whole", "whole", "short", "star"]))
        if shape == "short":
            sequence = sequence[: max(1, len(sequence) // 2)]
        if shape != "star" and sequence:
            read.query_sequence = sequence
            read.query_qualities = pysam.qualitystring_to_array("I" * len(sequence))
        reads.append(read)
    return sorted(reads, key=lambda read: read.reference_start)


def audited(path: str, folder: Path, with_regions: bool) -> dict[str, Any]:
    reference = Reference(str(folder / "ref.fa"))
    variants = read_variants(str(folder / "germline.vcf"), "germline list")
    with open(path, "rb") as stream:
        blocks = CountedBlocks(bgzf_blocks(stream, path))
        header, rest = read_header(blocks, path)
        names = {name: length for name, length in header.references}
        germline = GermlineSites(variants, "germline", names, reference)
        regions = RegionList([str(folder / "regions.bed")], [], "auto", 0, names) if with_regions else None
        checks = RecordChecks(path, list(names), germline=germline, regions=regions)
        findings = Findings()
        BamAudit(checks, findings, 1).run(blocks, rest)
    return findings.as_dict()


def audited_without_bulk_paths(path: str, folder: Path, with_regions: bool) -> dict[str, Any]:
    """``audited`` with every read sent down the one-read path: none laid without gaps, none
    settled by its region bases in bulk, and every mapped read but one of a single aligned
    operation looked at for regions, however far from one (not only those the bulk selection
    finds near one)."""
    laid_out, near = audit_bam.laid_out, audit_bam.reads_near_regions

    def every_gapped_read(block: Any, regions: Any, placed: Any, mapped: Any, plain: Any, *rest: Any) -> np.ndarray:
        return near(block, regions, placed, mapped, plain, *rest) | (mapped & ~plain)  # type: ignore[no-any-return]

    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(audit_bam, "reads_near_regions", every_gapped_read)
        monkeypatch.setattr(audit_bam, "laid_out", lambda block, rows: (np.zeros(len(rows), dtype=bool), *laid_out(block, rows)[1:]))
        monkeypatch.setattr(audit_bam, "masked_in_regions", lambda block, rows, *_: np.zeros(len(rows), dtype=bool))
        return audited(path, folder, with_regions)


@pytest.mark.slow  # a long sweep of the bulk path against the one-record path: make test-slow (CI runs it after make test)
@settings(max_examples=180, deadline=None)
@given(reads=laid_reads(), with_regions=st.booleans())
def test_reads_laid_without_gaps_counted_in_bulk_as_one_by_one(
    laid_files: Path, reads: list[pysam.AlignedSegment], with_regions: bool, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Clipped and =/X reads have their SNV and MNP alleles counted in bulk, and reads laid without
    gaps whose region bases are all N settled in bulk: the same counts and positions as when
    every read that is not a single aligned operation, and every read near a region, is looked
    at one by one."""
    path = str(tmp_path_factory.mktemp("reads") / "reads.bam")
    header = pysam.AlignmentHeader.from_dict({"HD": {"VN": "1.6"}, "SQ": [{"SN": "chr1", "LN": len(LAID_REFERENCE)}]})
    with pysam.AlignmentFile(path, "wb", header=header) as out:
        for read in reads:
            out.write(read)
    bulk = audited(path, laid_files, with_regions)
    assert audited_without_bulk_paths(path, laid_files, with_regions) == bulk


@settings(max_examples=100, deadline=None)
@given(reads=laid_reads())
def test_reads_without_their_bases_show_what_their_cigar_writes(
    laid_files: Path, reads: list[pysam.AlignedSegment], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """SEQ ``*`` (a secondary as bwa writes it): the germline findings of the reads written without
    their bases are among those of the same reads with them, key by key (a CIGAR writes the same
    indel, ``X`` and clip either way). Reads whose SEQ is shorter than their CIGAR are left out: their CIGAR writes bases SEQ lacks."""
    folder = tmp_path_factory.mktemp("seqless")
    header = pysam.AlignmentHeader.from_dict({"HD": {"VN": "1.6"}, "SQ": [{"SN": "chr1", "LN": len(LAID_REFERENCE)}]})
    kept = [read for read in reads if read.query_sequence is None or read.query_length == read.infer_query_length()]
    paths = {name: str(folder / f"{name}.bam") for name in ("bases", "seqless")}
    for name, path in paths.items():
        with pysam.AlignmentFile(path, "wb", header=header) as out:
            for read in kept:
                if name == "seqless" and not read.is_unmapped:
                    read = pysam.AlignedSegment.fromstring(read.to_string(), header)
                    read.query_sequence = None
                out.write(read)
    with_bases = audited(paths["bases"], laid_files, False)["germline"].get("by_key", {})
    without = audited(paths["seqless"], laid_files, False)["germline"].get("by_key", {})
    assert all(count <= with_bases.get(key, 0) for key, count in without.items()), (without, with_bases)


@pytest.mark.parametrize("bases", ["CA", "GT", None], ids=["the-allele", "other-bases", "no-seq"])
def test_an_insertion_at_a_reads_start_is_judged_by_its_length(laid_files: Path, tmp_path: Path, bases: str | None) -> None:
    """A read whose CIGAR begins with the germline insertion (``2I10M`` at the insertion point after
    POS 130): no aligned base anchors the inserted ones, so its length says it whatever they are,
    as it does for the same read without SEQ (an insertion inside a read is judged by its bases and
    theirs beside it). Found by the property test above, where SEQ ``*`` found what SEQ did not."""
    header = pysam.AlignmentHeader.from_dict({"HD": {"VN": "1.6"}, "SQ": [{"SN": "chr1", "LN": len(LAID_REFERENCE)}]})
    path = str(tmp_path / "leading.bam")
    with pysam.AlignmentFile(path, "wb", header=header) as out:
        read = pysam.AlignedSegment(header)
        read.query_name, read.reference_id, read.reference_start, read.mapping_quality = "READ1", 0, 130, 60
        read.cigarstring = "2I10M"
        if bases:
            read.query_sequence = bases + LAID_REFERENCE[130:140]
            read.query_qualities = pysam.qualitystring_to_array("I" * 12)
        out.write(read)
    assert audited(path, laid_files, False)["germline"].get("by_key", {}) == {"chr1:130": 1}


def aligned_pairs(read: pysam.AlignedSegment) -> list[tuple[int, int]]:
    """``(query, reference)`` of each aligned base by the SAM specification's CIGAR rules: pysam's
    ``get_aligned_pairs`` moves the query past a padding operation (``1P2M`` pairs query 1 with
    the first reference base), which P never does."""
    pairs, query, position = [], 0, read.reference_start
    for op, length in read.cigartuples or []:
        if op in (0, 7, 8):  # M, =, X
            pairs += [(query + step, position + step) for step in range(length)]
        if op in (0, 1, 4, 7, 8):  # M, I, S, =, X consume the query
            query += length
        if op in (0, 2, 3, 7, 8):  # M, D, N, =, X consume the reference
            position += length
    return pairs


def write_with_equals(read: pysam.AlignedSegment, reference: str, every: bool) -> None:
    """Write the read's aligned bases equal to the reference as ``=``, as ``samtools calmd -e``
    does (``every``), or only some of them."""
    sequence = read.query_sequence
    if not sequence or read.is_unmapped:
        return
    bases = list(sequence)
    for query, position in aligned_pairs(read):
        if query < len(bases) and position < len(reference) and bases[query] == reference[position] and (every or position % 3):
            bases[query] = "="
    qualities = read.query_qualities
    read.query_sequence = "".join(bases)
    read.query_qualities = qualities


@settings(max_examples=100, deadline=None)
@given(reads=laid_reads(), with_regions=st.booleans(), every=st.booleans())
def test_reads_written_with_equals_give_the_findings_of_their_bases(
    laid_files: Path, reads: list[pysam.AlignedSegment], with_regions: bool, every: bool, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """SEQ's ``=`` is the reference base (SAM 1.6, section 1.4; BAM code 0): reads written so
    carry the germline alleles and keep the region bases the same reads written with their bases
    do, in bulk and one by one."""
    folder = tmp_path_factory.mktemp("equals")
    header = pysam.AlignmentHeader.from_dict({"HD": {"VN": "1.6"}, "SQ": [{"SN": "chr1", "LN": len(LAID_REFERENCE)}]})
    paths = {name: str(folder / f"{name}.bam") for name in ("bases", "equals")}
    for name in paths:
        with pysam.AlignmentFile(paths[name], "wb", header=header) as out:
            for read in reads:
                if name == "equals":
                    write_with_equals(read, LAID_REFERENCE, every)
                out.write(read)
    bases = audited(paths["bases"], laid_files, with_regions)
    written = sum(b"=" in (read.query_sequence or "").encode() for read in reads)
    assert without_equals(audited(paths["equals"], laid_files, with_regions), written) == bases
    assert without_equals(audited_without_bulk_paths(paths["equals"], laid_files, with_regions), written) == bases


def without_equals(found: dict[str, Any], written: int) -> dict[str, Any]:
    """The findings less those of bases written ``=`` (``audit_mates.EQUALS_BASE``, one a read that
    has one): every other finding is that of the reads written with their bases."""
    germline = found["germline"]
    by_key = germline.get("by_key", {})
    assert by_key.get(EQUALS_BASE, 0) == written, (by_key, written)
    if EQUALS_BASE in by_key:
        germline["count"] -= by_key.pop(EQUALS_BASE)
        germline["examples"].pop(EQUALS_BASE)
        if not by_key:
            del germline["by_key"], germline["examples"]
    return found


def test_calmd_equals_spelling_of_the_simulated_normal_gives_the_same_findings(simulated: Path, tmp_path: Path) -> None:
    """The simulated normal BAM and ``samtools calmd -e`` of it (every base equal to the reference
    written ``=``): the same germline sites (deletion carriers among them) and region findings,
    and besides them one finding a read written with an ``=`` (the scrubbers write none)."""
    equals = tmp_path / "normal_equals.bam"
    shell(f"samtools calmd -e {simulated}/normal.bam {simulated}/ref.fa | samtools view -b --no-PG -o {equals}", tmp_path)
    with pysam.AlignmentFile(str(equals)) as bam:
        written = sum("=" in (read.query_sequence or "") for read in bam)
    assert written
    found = []
    for path in (simulated / "normal.bam", equals):
        args = ("--germline", f"{simulated}/germline.vcf.gz", "-r", f"{simulated}/ref.fa", "--bed", f"{simulated}/repeats.bed")
        _, report = audit(*args, str(path), cwd=tmp_path)
        findings = without_equals(report["files"][0]["findings"], written if path == equals else 0)  # type: ignore[index]
        found.append({name: (findings[name]["count"], findings[name].get("by_key")) for name in ("germline", "regions")})
    assert found[0]["germline"][0] > 0 and found[0] == found[1]


def test_germline_list_in_plain_gzip_zstd_or_bgzf_gives_the_same_findings(simulated: Path, tmp_path: Path) -> None:
    """htslib reads a germline list only as text or BGZF; plain gzip and zstd, which the scrubbers
    read, are decompressed by the audit's own reader first. A list that is none of these is one
    line of error, never an internal one."""
    with gzip.open(simulated / "germline.vcf.gz", "rb") as source:
        text = source.read()
    (tmp_path / "plain.vcf.gz").write_bytes(gzip.compress(text))
    shell("zstd -q -c plain.vcf.gz > /dev/null && gzip -dc plain.vcf.gz | zstd -q -c > list.vcf.zst", tmp_path)
    found = []
    for listing in (simulated / "germline.vcf.gz", tmp_path / "plain.vcf.gz", tmp_path / "list.vcf.zst"):
        result, report = audit("--germline", str(listing), "-r", f"{simulated}/ref.fa", str(simulated / "normal.bam"), cwd=tmp_path)
        assert result.returncode == 1 and b"internal error" not in result.stderr
        found.append(report["files"][0]["findings"]["germline"])  # type: ignore[index]
    assert found[0]["count"] > 0 and found[0] == found[1] == found[2]
    (tmp_path / "bad.vcf.gz").write_bytes(gzip.compress(b"not a VCF\n"))
    result, _ = audit("--germline", str(tmp_path / "bad.vcf.gz"), "-r", f"{simulated}/ref.fa", str(simulated / "normal.bam"), cwd=tmp_path)
    assert result.returncode == 1 and result.stderr.count(b"\n") == 1 and b"cannot read the germline list" in result.stderr


@settings(max_examples=500, deadline=None)
@given(
    reads=st.lists(st.tuples(st.integers(0, 60), st.text(alphabet="NNNNACGT", max_size=40)), min_size=1, max_size=8),
    bounds=st.lists(st.integers(0, 110), max_size=8, unique=True),
)
def test_region_bases_masked_in_bulk_as_base_by_base(reads: list[tuple[int, str]], bounds: list[int]) -> None:
    """``masked_in_regions`` reads SEQ as packed (two bases a byte): the same answer as asking
    base by base whether every base laid in a region is N, whichever half of a byte a
    region's first or last base falls on."""
    edges = sorted(bounds)
    regions = list(zip(edges[0::2], edges[1::2], strict=False))
    packed = bytearray(b"\x00" * 3)  # SEQ does not start the buffer
    sequence_starts = []
    for _, sequence in reads:
        sequence_starts.append(len(packed))
        codes = [int(BASE_CODES[ord(letter)]) for letter in sequence] + [0]
        packed += bytes((codes[at] << 4) | codes[at + 1] for at in range(0, len(sequence), 2))
    packed += b"\x00" * 3
    block = SimpleNamespace(data=np.frombuffer(bytes(packed), dtype=np.uint8), sequence_starts=np.asarray(sequence_starts, dtype=np.int64))
    merged = SimpleNamespace(
        merged_starts=np.asarray([start for start, _ in regions], dtype=np.int64),
        merged_ends=np.asarray([end for _, end in regions], dtype=np.int64),
    )
    starts = np.asarray([start for start, _ in reads], dtype=np.int64)
    ends = starts + np.asarray([len(sequence) for _, sequence in reads], dtype=np.int64)
    found = audit_bam.masked_in_regions(block, np.arange(len(reads)), starts, ends, merged)  # type: ignore[arg-type]
    expected = [
        all(letter == "N" for offset, letter in enumerate(sequence) if any(low <= start + offset < high for low, high in regions))
        for start, sequence in reads
    ]
    assert found.tolist() == expected


@st.composite
def fastq_texts(draw: st.DrawFn) -> bytes:
    """FASTQ as scrubbed and as not: hashed, counted and instrument names, comments, + lines
    that repeat a name, forbidden strings, empty reads, sequence split over lines, blank
    lines, white space, quality of the wrong length, CRLF, a record cut short."""
    hexes = "0123456789abcdef"
    records: list[str] = []
    for _ in range(draw(st.integers(0, 14))):
        kind = draw(st.sampled_from(["hash", "hash", "hash", "counter", "star", "instrument", "upper", "long"]))
        name = {
            "hash": "".join(draw(st.sampled_from(hexes)) for _ in range(24)),
            "counter": f"READ{draw(st.integers(0, 99))}",
            "star": "*",
            "instrument": f"M04123:1:FC:{draw(st.integers(0, 9))}",
            "upper": "ABCDEF0123456789abcdef01",
            "long": "0" * 25,
        }[kind]
        name += draw(st.sampled_from(["", "", "/1", "/2", "/5", "_CMT001"]))
        comment = draw(
            st.sampled_from(["", "", " 1:N:0", " 2:Y:12", "\t1:N:0", " 1:N:0:ATCACG", " 1:N:0 CMT001", " 1:N:19900101", " x" * 20])
        )
        sequence = "".join(draw(st.sampled_from("ACGTN" * 6 + "acgtRY.-_19K")) for _ in range(draw(st.integers(0, 6))))
        quality = "I" * len(sequence)
        shape = draw(st.sampled_from(["plain"] * 8 + ["split", "blank", "plus-start", "short-quality", "space", "plus-name"]))
        plus = f"+{name}" if shape == "plus-name" else "+"
        lines = [f"@{name}{comment}", sequence, plus, quality]
        if shape == "split" and len(sequence) > 1:
            lines = [lines[0], sequence[:1], sequence[1:], plus, quality]
        elif shape == "blank":
            lines.append("")
        elif shape == "plus-start":  # read as the + line, and the quality as the next record
            lines[1] = "+" + sequence
            lines[3] = "I" + quality
        elif shape == "short-quality":
            lines[3] = quality[:-1]
        elif shape == "space":  # stripped by kseq: the lines are as long, the read and quality not
            spaced = draw(st.sampled_from([1, 3]))
            lines[spaced] += draw(st.sampled_from([" ", "\t", "\r"]))
            lines[4 - spaced] += "I" if spaced == 1 else "A"
        records.extend(lines)
    newline = draw(st.sampled_from(["\n", "\n", "\r\n"]))
    last_line_ended = draw(st.booleans())
    text = newline.join(records) + (newline if records and last_line_ended else "")
    if draw(st.integers(0, 9)) == 0:
        text = text[: draw(st.integers(0, len(text)))]
    return text.encode()


def fastq_audited(data: bytes, forbid: ForbidList, one_by_one: bool, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", "1" if one_by_one else "0")
    findings = Findings()
    try:
        audit_fastq.FastqAudit("R1.fastq", forbid, findings).run(io.BytesIO(data))
    except InputError as error:
        return ("error", error.message, error.line)
    return (findings.records, findings.as_dict())


@pytest.mark.slow  # a long sweep of the bulk path against the one-record path: make test-slow (CI runs it after make test)
@settings(max_examples=240, deadline=None)
@given(data=fastq_texts(), size=st.sampled_from([16, 64, 1 << 20]))
def test_fastq_four_line_blocks_in_bulk_as_one_by_one(data: bytes, size: int) -> None:
    """Blocks of four-line records settled in bulk give the findings, positions, record count
    and errors (message and line) of the one-record path, whatever the blocks' bounds."""
    forbid = ForbidList([entry(b"CMT001", 1), entry(b"m04123", 2), entry(b"readx", 3)], "forbid.txt")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(audit_fastq, "line_blocks", lambda stream, path: line_blocks(stream, path, size))
        assert fastq_audited(data, forbid, False, monkeypatch) == fastq_audited(data, forbid, True, monkeypatch)


VCF_FORBIDDEN = ["S2301217", "kimjh", "acgt", "12345"]
VCF_HEADER = (
    "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=100000>\n"
    '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">\n##INFO=<ID=NOTE,Number=1,Type=String,Description="Note">\n'
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n##FORMAT=<ID=XN,Number=1,Type=String,Description="Note">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2\n"
)


@st.composite
def vcf_records(draw: st.DrawFn) -> bytes:
    """Records with the forbid list's strings (in any case) planted in any column, POS, REF and
    base ALTs included (where they are no finding), some split across a tab or a line's end."""
    word = st.sampled_from(VCF_FORBIDDEN).map(lambda text: text.upper() if draw(st.booleans()) else text)
    text = st.one_of(st.sampled_from(["x", "AC", "kim", "jh", "S23", "01217", "", "rs1"]), word)
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        pos = draw(st.sampled_from(["100", "12345", "2301217"]))
        ref = draw(st.sampled_from(["A", "ACGT", "G"]))
        alt = draw(st.sampled_from(["C", "ACGTACGT", "<DEL>", "T,ACGT", f"<{draw(word)}>"]))
        info = draw(st.sampled_from(["DP=5", "NOTE=" + draw(text), "DP=5;NOTE=" + draw(text) + draw(text)]))
        samples = [draw(st.sampled_from(["0/1", "0/1:" + draw(text), "1/1:" + draw(text) + draw(text)])) for _ in range(2)]
        filters = draw(st.sampled_from(["PASS", draw(text) or "."]))
        fields = ["chr1", pos, draw(text) or ".", ref, alt, "50", filters, info, "GT:XN", *samples]
        lines.append("\t".join(fields))
    return (VCF_HEADER + "".join(line + "\n" for line in lines)).encode()


def vcf_audited(data: bytes, one_by_one: bool, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", "1" if one_by_one else "0")
    forbid = ForbidList([entry(text.encode(), line) for line, text in enumerate(VCF_FORBIDDEN, start=1)], "forbid.txt")
    findings = Findings()
    audit_vcf.VcfAudit(audit_vcf.VcfChecks("x.vcf", forbid, frozenset(), None, None), findings).run(io.BytesIO(data))
    return (findings.records, findings.as_dict())


@pytest.mark.slow  # a long sweep of the bulk path against the one-record path: make test-slow (CI runs it after make test)
@settings(max_examples=180, deadline=None)
@given(data=vcf_records(), size=st.sampled_from([64, 1 << 20]))
def test_vcf_forbid_search_by_block_as_record_by_record(data: bytes, size: int) -> None:
    """The forbid list searched over a block first, its columns then only in the lines with a
    hit, gives the findings and positions of searching every record's columns."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(audit_vcf, "line_blocks", lambda stream, path: line_blocks(stream, path, size))
        assert vcf_audited(data, False, monkeypatch) == vcf_audited(data, True, monkeypatch)


FORKED: dict[str, Reference] = {}


def fetched_in_forked_worker() -> tuple[bool, str]:
    """In a worker: whether the reference opened its own handle, and the bases it read."""
    reference = FORKED["reference"]
    inherited = reference._fasta
    bases = reference.fetch("chr1", 10, 30).decode()
    return reference._fasta is not inherited and reference.opened_in == os.getpid(), bases


def test_reference_opened_again_in_a_forked_worker(laid_files: Path) -> None:
    """A worker forked after the parent read the reference opens it again: a handle shared
    across processes shares its file offset, and htslib seeks before it reads."""
    reference = Reference(str(laid_files / "ref.fa"))
    assert reference.fetch("chr1", 10, 30).decode() == LAID_REFERENCE[10:30]
    FORKED["reference"] = reference
    try:
        with multiprocessing.get_context("fork").Pool(1) as pool:
            assert pool.apply(fetched_in_forked_worker) == (True, LAID_REFERENCE[10:30])
    finally:
        FORKED.clear()


def test_single_match_read_near_an_indel_and_a_masked_region_as_one_by_one(laid_files: Path, tmp_path: Path) -> None:
    """A read aligned as one match, carrying a deletion's ALT haplotype beside a region it has
    masked: the region check in bulk does not take from it the look one by one that its
    indel site gives it (the same germline finding either way)."""
    deleted = 41  # 0-based: the second base of the deletion at POS 41
    haplotype = LAID_REFERENCE[:deleted] + LAID_REFERENCE[deleted + 1 :]
    sequence = "N" * (45 - 30) + haplotype[45:80]  # laid from 30; the region [25, 45) masked
    header = pysam.AlignmentHeader.from_dict({"HD": {"VN": "1.6"}, "SQ": [{"SN": "chr1", "LN": len(LAID_REFERENCE)}]})
    path = str(tmp_path / "reads.bam")
    with pysam.AlignmentFile(path, "wb", header=header) as out:
        read = pysam.AlignedSegment(header)
        read.query_name, read.reference_id, read.reference_start, read.mapping_quality = "READ1", 0, 30, 60
        read.cigartuples = [(0, len(sequence))]
        read.query_sequence = sequence
        read.query_qualities = pysam.qualitystring_to_array("I" * len(sequence))
        out.write(read)
    bulk = audited(path, laid_files, True)
    assert audited_without_bulk_paths(path, laid_files, True) == bulk
    assert bulk["germline"]["by_key"]["chr1:41"] == 1, bulk["germline"]


@settings(max_examples=300, deadline=None)
@given(read=st.text(alphabet="ACGTNNN", max_size=30), haplotype=st.text(alphabet="ACGTN", max_size=30))
def test_mismatches_count_as_base_by_base(read: str, haplotype: str) -> None:
    """The read's differences from a haplotype, an N in the read matching anything, counted in
    one pass less the N runs: the same as position by position."""
    expected = sum(1 for a, b in zip(read, haplotype, strict=False) if a != b and a != "N")
    assert mismatches(read.encode(), haplotype.encode()) == expected


CHANGED_BASES = st.lists(st.tuples(st.integers(0, 39), st.sampled_from("ACGTN")), max_size=3)


@settings(max_examples=150, deadline=None)
@given(reads=st.lists(st.tuples(st.integers(0, len(LAID_REFERENCE) - 45), st.integers(1, 40), CHANGED_BASES), min_size=1, max_size=10))
def test_reads_on_the_reference_in_bulk_as_base_by_base(
    laid_files: Path, reads: list[tuple[int, int, list[tuple[int, str]]]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """``on_reference``: whether a read of one match has the reference's bases where it lies, an N
    matching anything, read from SEQ as packed and the reference fetched once: the same as base by base."""
    header = pysam.AlignmentHeader.from_dict({"HD": {"VN": "1.6"}, "SQ": [{"SN": "chr1", "LN": len(LAID_REFERENCE)}]})
    path = str(tmp_path_factory.mktemp("on_reference") / "reads.bam")
    expected = []
    with pysam.AlignmentFile(path, "wb", header=header) as out:
        for index, (position, length, changes) in enumerate(sorted(reads)):
            bases = list(LAID_REFERENCE[position : position + length])
            for at, base in changes:
                bases[at % length] = base
            expected.append(all(base in ("N", LAID_REFERENCE[position + at]) for at, base in enumerate(bases)))
            read = pysam.AlignedSegment(header)
            read.query_name, read.reference_id, read.reference_start, read.mapping_quality = f"READ{index}", 0, position, 60
            read.cigartuples = [(0, length)]
            read.query_sequence = "".join(bases)
            read.query_qualities = pysam.qualitystring_to_array("I" * length)
            out.write(read)
    with open(path, "rb") as stream:
        blocks = CountedBlocks(bgzf_blocks(stream, path))
        bam_header, rest = read_header(blocks, path)
        data = rest + b"".join(audit_bam.inflate(block, path) for block in blocks)
    names = {name: length for name, length in bam_header.references}
    variants = read_variants(str(laid_files / "germline.vcf"), "germline list")
    sites = GermlineSites(variants, "germline", names, Reference(str(laid_files / "ref.fa")))
    checks = RecordChecks(path, list(names), germline=sites)
    block = audit_bam.RecordBlock.read(data, walk(data, 0))
    assert audit_bam.on_reference(block, np.arange(len(expected)), checks).tolist() == expected


@settings(max_examples=100, deadline=None)
@given(sequences=st.lists(st.text(alphabet="=ACGTNRY", min_size=0, max_size=21), min_size=1, max_size=8), data=st.data())
def test_segment_letters_read_as_base_by_base(sequences: list[str], data: st.DataObject, tmp_path_factory: pytest.TempPathFactory) -> None:
    """``segment_letters``: the letters of a stretch of SEQ of several reads, read from the packed
    bytes as windows of the block at an even or odd offset, are the reads' letters there."""
    header = pysam.AlignmentHeader.from_dict({"HD": {"VN": "1.6"}, "SQ": [{"SN": "chr1", "LN": 1000}]})
    path = str(tmp_path_factory.mktemp("segment_letters") / "reads.bam")
    with pysam.AlignmentFile(path, "wb", header=header) as out:
        for index, sequence in enumerate(sequences):
            read = pysam.AlignedSegment(header)
            read.query_name, read.reference_id, read.reference_start = f"READ{index + 1}", 0, 10
            read.flag = 0 if sequence else 4
            read.cigartuples = [(0, len(sequence))] if sequence else None
            read.query_sequence = sequence or None
            out.write(read)
    with open(path, "rb") as stream:
        blocks = CountedBlocks(bgzf_blocks(stream, path))
        _, rest = read_header(blocks, path)
        data_bytes = rest + b"".join(audit_bam.inflate(block, path) for block in blocks)
    block = audit_bam.RecordBlock.read(data_bytes, walk(data_bytes, 0))
    shortest = min(len(sequence) for sequence in sequences)
    length = data.draw(st.integers(1, shortest)) if shortest else 0
    if not length:
        return
    parity = data.draw(st.integers(0, 1)) if length < shortest else 0
    queries = [data.draw(st.integers(0, (len(sequence) - length - parity) // 2)) * 2 + parity for sequence in sequences]
    letters = audit_bam.segment_letters(block, np.arange(len(sequences)), np.array(queries, dtype=np.int64), length)
    assert [row.tobytes().decode() for row in letters] == [
        sequence[query : query + length] for sequence, query in zip(sequences, queries, strict=True)
    ]


def test_indel_ending_past_the_reference_turns_off_the_reference_shortcut(tmp_path: Path) -> None:
    """An indel whose REF runs past its contig's end is compared with a reference cut short, so a
    read with the reference's bases is not taken to fit no ALT: every such read goes one by one."""
    (tmp_path / "ref.fa").write_text(f">chr1\n{LAID_REFERENCE[:60]}\n")
    pysam.faidx(str(tmp_path / "ref.fa"))
    names: dict[str, int | None] = {"chr1": 60}
    for position, ref, on_reference in ((20, LAID_REFERENCE[19:22], True), (58, LAID_REFERENCE[57:60] + "AC", False)):
        (tmp_path / "germline.vcf").write_text(
            "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=60>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
            f"chr1\t{position}\t.\t{ref}\t{ref[0]}\t.\t.\t.\n"
        )
        variants = read_variants(str(tmp_path / "germline.vcf"), "germline list")
        sites = GermlineSites(variants, "germline", names, Reference(str(tmp_path / "ref.fa")))
        assert sites.indels_on_reference is on_reference


def test_vcf_region_spans_follow_svlen_and_widen_length_changes(tmp_path: Path) -> None:
    """The audit judges a VCF record's span as vcf-drop-regions does, by its own code: SVLEN of a
    symbolic allele (not an insertion) reaches POS + |SVLEN|, and an allele that changes the length
    by L widens the span by L each side (a region it then only meets counts). Each record here
    touches the repeat at 14201-14232 (BED 14200-14232) that way alone; the last two do not."""
    (tmp_path / "str.bed").write_text("chr1\t14200\t14232\tSTR\n")
    header = (
        "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=20000>\n##ALT=<ID=DEL,Description=\"Deletion\">\n"
        "##ALT=<ID=DUP,Description=\"Duplication\">\n##ALT=<ID=INS,Description=\"Insertion\">\n"
        "##INFO=<ID=SVLEN,Number=A,Type=Integer,Description=\"Length\">\n"
        "##INFO=<ID=END,Number=1,Type=Integer,Description=\"End\">\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    )
    rows = [
        (14150, "G", "<DEL>", "SVLEN=-120"),  # spans the repeat
        (14160, "A", "<DUP>", "SVLEN=80"),  # as vcf-drop-regions: a symbolic span by SVLEN
        (14199, "A", "ATCTTTCTTTCTT", "."),  # the left-normalised insertion of three units
        (14190, "A", "<INS>", "SVLEN=12"),  # an insertion is no span, but widened by its 12 bases
        (14233, "TCTTT", "T", "."),  # one unit deleted after the repeat's end
        (14180, "A", "<INS>", "SVLEN=12"),  # 19 bases before the repeat
        (14190, "G", "A", "."),  # an SNV beside it
    ]
    vcf = tmp_path / "in.vcf"
    vcf.write_text(header + "".join(f"chr1\t{pos}\t.\t{ref}\t{alt}\t.\tPASS\t{info}\n" for pos, ref, alt, info in rows))
    for switch in ("0", "1"):
        with pytest.MonkeyPatch.context() as monkeypatch:
            monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", switch)
            result, report = audit("--bed", str(tmp_path / "str.bed"), str(vcf), cwd=tmp_path)
        assert result.returncode == 1
        regions = report["files"][0]["findings"]["regions"]  # type: ignore[index]
        assert regions["count"] == 5 and regions["by_key"] == {"chr1:14201-14232 STR": 5}, regions
    scrubbed = run_command("vcf-drop-regions", "-q", "--flank", "0", "--bed", str(tmp_path / "str.bed"), str(vcf))
    assert scrubbed.returncode == 0 and scrubbed.stdout.count(b"\nchr1\t") == 2
    (tmp_path / "out.vcf").write_bytes(scrubbed.stdout)
    _, report = audit("--bed", str(tmp_path / "str.bed"), str(tmp_path / "out.vcf"), cwd=tmp_path)
    assert report["files"][0]["findings"]["regions"]["count"] == 0  # type: ignore[index]


NAMED_PLACES_HEADER = (
    "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=248956422>\n##contig=<ID=chr2,length=242193529>\n"
    "##contig=<ID=chr13,length=114364328>\n##ALT=<ID=DUP,Description=\"Duplication\">\n"
    "##ALT=<ID=TRA,Description=\"Translocation\">\n##ALT=<ID=BND,Description=\"Breakend\">\n"
    "##INFO=<ID=END,Number=1,Type=Integer,Description=\"End\">\n##INFO=<ID=SVLEN,Number=A,Type=Integer,Description=\"Length\">\n"
    + "".join(f'##INFO=<ID={key},Number=1,Type=Integer,Description="Mate">\n' for key in ("POS2", "END2"))
    + "".join(f'##INFO=<ID={key},Number=1,Type=String,Description="Mate">\n' for key in ("CHR2", "MATEPOS", "MATEID"))
    + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
)
NAMED_PLACES_ROWS = [  # a CODIS locus at chr13:82148001-82148100 (the BED spells it 13)
    ("chr1", 5000000, "G", "G[chr13:82148050[", "."),  # a breakend's mate inside it
    ("chr1", 5000100, "G", "]13:82148001]G", "."),  # at its first base, the other spelling
    ("chr1", 5000200, "G", "<TRA>", "CHR2=13;POS2=82148060"),
    ("chr1", 5000300, "G", "<TRA>", "CHR2=chr13;END=82148100"),  # Delly's older translocation, its last base
    ("chr1", 5000400, "G", "<BND>", "MATEPOS=chr13:82148070"),
    ("chr13", 1000, "G", "<DUP>", "SVLEN=100;END2=82148080"),  # END2 without CHR2: on its own contig
    ("chr13", 2000, "G", "<BND>", "MATEPOS=82148090"),  # MATEPOS as a POS
    ("chr1", 5000500, "G", "G[chr13:82148000[", "."),  # the base before it
    ("chr1", 5000600, "G", "G[chr13:82148101[", "."),  # the base after it
    ("chr1", 5000700, "G", "G[<ctg1>:82148050[", "."),  # an assembly contig: in no region
    ("chr1", 5000800, "G", "G[chr2:82148050[", "."),  # a contig the region list does not have
    ("chr1", 5000900, "G", "<TRA>", "CHR2=chr2;POS2=82148050"),
    ("chr1", 5001000, "G", "G.", "."),  # a single breakend names no place
]
NAMED_PLACES_FOUND = [
    "chr1:5000000", "chr1:5000100", "chr1:5000200", "chr1:5000300", "chr1:5000400", "chr13:1000", "chr13:2000"
]


def named_places_vcf(rows: list[tuple[str, int, str, str, str]]) -> str:
    return NAMED_PLACES_HEADER + "".join(f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t.\tPASS\t{info}\n" for chrom, pos, ref, alt, info in rows)


def test_vcf_records_naming_a_place_in_a_region_are_found(tmp_path: Path) -> None:
    """A breakend naming its mate's place in ALT (``G[chr13:82148050[``), an SV naming its other end
    in INFO (CHR2 with POS2, END2 or END; MATEPOS, a POS or ``chr:pos``) shows a breakpoint there:
    a kept record naming a place in a region is a region finding, keyed by the region and located
    at the record, as vcf-drop-regions drops it (the place's base overlapping the region, either
    contig spelling). A mate on an assembly contig or on a contig the list lacks is in no region;
    the block and one-record paths agree."""
    (tmp_path / "codis.bed").write_text("13\t82148000\t82148100\tD13S317\n")
    vcf = tmp_path / "calls.vcf"
    vcf.write_text(named_places_vcf(NAMED_PLACES_ROWS))
    for switch in ("0", "1"):
        with pytest.MonkeyPatch.context() as monkeypatch:
            monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", switch)
            result, report = audit("--bed", str(tmp_path / "codis.bed"), str(vcf), cwd=tmp_path)
        assert result.returncode == 1, result.stderr
        regions = report["files"][0]["findings"]["regions"]  # type: ignore[index]
        assert regions["by_key"] == {"chr13:82148001-82148100 D13S317": 7}, regions
        assert regions["examples"]["chr13:82148001-82148100 D13S317"] == NAMED_PLACES_FOUND[:3], regions
        assert b"82148" not in result.stdout.replace(b"chr13:82148001-82148100", b"")  # no place named but the region's
    undeclared = tmp_path / "undeclared.vcf"  # INFO keys the header does not declare are read by no one: ALT places only
    undeclared.write_text("".join(line for line in vcf.read_text().splitlines(keepends=True) if "Mate" not in line))
    result, report = audit("--bed", str(tmp_path / "codis.bed"), str(undeclared), cwd=tmp_path)
    regions = report["files"][0]["findings"]["regions"]  # type: ignore[index]
    assert regions["by_key"] == {"chr13:82148001-82148100 D13S317": 2}, regions


def test_vcf_records_pointing_at_records_not_delivered(tmp_path: Path) -> None:
    """The audit's own reading of what a dropped record leaves (``audit_record_traces``), in every
    run: a `*` no delivered deletion spans, a PS (or WhatsHap's HP) naming no delivered record of its
    set, a gap in a gVCF, a breakend whose mate (before or after it) is not delivered. Each is found
    in what vcf-drop-rare wrote before (the red team's F3, F4, F6), located by site; vcf-drop-rare's
    output now has none, and an ordinary VCF's gaps are no finding."""
    header = (
        "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=20000>\n##ALT=<ID=NON_REF,Description=\"Any\">\n"
        "##INFO=<ID=AF,Number=A,Type=Float,Description=\"Frequency\">\n##INFO=<ID=END,Number=1,Type=Integer,Description=\"End\">\n"
        "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n##FORMAT=<ID=PS,Number=1,Type=Integer,Description=\"Phase set\">\n"
        "##FORMAT=<ID=HP,Number=.,Type=String,Description=\"Phasing haplotype identifier\">\n"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
    )
    cases = {
        "star": (["995\tTAAAAAA\tT\t.\tGT\t0/1", "1000\tA\tC,*\t.\tGT\t1/2"], 0, "ALT * (no delivered deletion spans it)", "chr1:1000"),
        "phase": (
            ["1000\tA\tG\t.\tGT:PS\t0|1:1000", "1010\tA\tG\t.\tGT:PS\t0|1:1000"],
            0,
            "FORMAT/PS (names no delivered record of its set)",
            "chr1:1010",
        ),
        "gvcf": (
            ["900\tA\t<NON_REF>\tEND=999\tGT\t0/0", "1000\tA\tG,<NON_REF>\t.\tGT\t0/1", "1001\tA\t<NON_REF>\tEND=1100\tGT\t0/0"],
            1,
            "gVCF gap (no record covers the bases before it)",
            "chr1:1001",
        ),
        "mate before": (
            ["1000\tG\tG[chr1:5000[\t.\tGT\t0/1", "5000\tT\t]chr1:1000]T\t.\tGT\t0/1"],
            0,
            "breakend (its mate names no delivered record)",
            "chr1:5000",
        ),
        "mate after": (
            ["1000\tG\tG[chr1:5000[\t.\tGT\t0/1", "5000\tT\t]chr1:1000]T\t.\tGT\t0/1"],
            1,
            "breakend (its mate names no delivered record)",
            "chr1:1000",
        ),
        "haplotype": (
            ["1000\tA\tG\t.\tGT:HP\t0|1:1000-1,1000-2", "1010\tA\tG\t.\tGT:HP\t0|1:1000-1,1000-2"],
            0,
            "FORMAT/HP (names no delivered record of its block)",
            "chr1:1010",
        ),
    }
    for name, (rows, dropped, key, where) in cases.items():
        split_rows = [row.split("\t") for row in rows]
        records = ["\t".join(["chr1", parts[0], ".", *parts[1:3], "50", ".", *parts[3:]]) for parts in split_rows]
        whole = tmp_path / f"{name}.vcf"
        whole.write_text(header + "".join(record + "\n" for record in records))
        cut = tmp_path / f"{name}.cut.vcf"  # what vcf-drop-rare wrote before: the dropped record's line gone
        cut.write_text(header + "".join(record + "\n" for index, record in enumerate(records) if index != dropped))
        for switch in ("0", "1"):
            with pytest.MonkeyPatch.context() as monkeypatch:
                monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", switch)
                result, report = audit(str(whole), str(cut), cwd=tmp_path)
            assert result.returncode == 1
            whole_findings, cut_findings = (file["findings"]["metadata"] for file in report["files"])  # type: ignore[index, attr-defined]
            assert key not in whole_findings.get("by_key", {}), name
            assert cut_findings["by_key"] == {key: 1} and cut_findings["examples"][key] == [where], name
        rare = whole.read_text().replace("\t.\tGT", "\tAF=0.3\tGT").replace("END=999\tGT", "END=999;AF=0.3\tGT")
        lines = rare.splitlines(keepends=True)
        line = len(header.splitlines()) + dropped
        lines[line] = lines[line].replace("AF=0.3", "AF=0.0001")
        whole.write_text("".join(lines).replace("ID=AF,Number=A", "ID=AF,Number=."))
        scrubbed = run_command("vcf-drop-rare", "-q", "--af-key", "AF", "-o", str(tmp_path / f"{name}.out.vcf"), str(whole))
        assert scrubbed.returncode == 0, scrubbed.stderr
        result, report = audit(str(tmp_path / f"{name}.out.vcf"), cwd=tmp_path)
        assert key not in report["files"][0]["findings"]["metadata"].get("by_key", {}), name  # type: ignore[index]
    assembly = tmp_path / "assembly.vcf"  # a mate on an assembly file's contig is no record of this file
    assembly.write_text(header + "chr1\t1000\t.\tG\tG[<ctg1>:5[\t50\t.\t.\tGT\t0/1\n")
    result, report = audit(str(assembly), cwd=tmp_path)
    assert result.returncode == 0, report
    ordinary = tmp_path / "ordinary.vcf"  # no <NON_REF>: gaps between records are what a VCF is
    ordinary.write_text(header + "chr1\t900\t.\tA\tG\t50\t.\t.\tGT\t0/1\nchr1\t1001\t.\tA\t<NON_REF>\t.\t.\tEND=1100\tGT\t0/0\n")
    result, report = audit(str(ordinary), cwd=tmp_path)
    assert result.returncode == 0, report
    for gap, found in ((101, 0), (100, 1)):  # an exome gVCF's padded intervals, 101 bases apart: no hole a call leaves
        exome = tmp_path / f"exome{gap}.g.vcf"
        exome.write_text(
            header + "chr1\t100\t.\tA\t<NON_REF>\t.\t.\tEND=199\tGT\t0/0\n"
            f"chr1\t{200 + gap}\t.\tA\t<NON_REF>\t.\t.\tEND={300 + gap}\tGT\t0/0\n"
        )
        result, report = audit(str(exome), cwd=tmp_path)
        gaps = report["files"][0]["findings"]["metadata"].get("by_key", {})  # type: ignore[index]
        assert gaps.get("gVCF gap (no record covers the bases before it)", 0) == found, gap


GAP = "gVCF gap (no record covers the bases before it)"


def gvcf_blocks(spans: list[tuple[int, int]]) -> str:
    """A gVCF of reference blocks over ``spans`` (1-based, inclusive) of chr1, all of A."""
    header = (
        "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=20000>\n##ALT=<ID=NON_REF,Description=\"Any\">\n"
        "##INFO=<ID=END,Number=1,Type=Integer,Description=\"End\">\n"
        "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
    )
    return header + "".join(f"chr1\t{first}\t.\tA\t<NON_REF>\t.\t.\tEND={last}\tGT\t0/0\n" for first, last in spans)


def test_gvcf_gaps_every_person_has_are_no_finding(tmp_path: Path) -> None:
    """A gap the scrubbers leave in every person's gVCF there says nothing of this one (red team
    12's F2): with --population, a 1-base hole at a site whose REF is rare (vcf-drop-rare drops a
    homozygous ALT call there and stretches no block over it); with --bed, a gap over a region
    (vcf-drop-regions drops the blocks reaching into it whole). A hole of another length there, one
    at a site whose REF is common, one beside no region, and a region's gap holding a site whose
    REF is rare (a dropped block over it: the person carries that REF) stay findings."""
    (tmp_path / "pop.vcf").write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=20000>\n##INFO=<ID=AF,Number=A,Type=Float,Description=\"AF\">\n"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        "chr1\t1000\t.\tG\tC\t.\tPASS\tAF=0.995\n"  # the reference's G is the rare allele
        "chr1\t1500\t.\tA\tG\t.\tPASS\tAF=0.3\n"
        "chr1\t3050\t.\tT\tC\t.\tPASS\tAF=0.995\n"
    )
    pysam.tabix_index(str(tmp_path / "pop.vcf"), preset="vcf", force=True)
    (tmp_path / "str.bed").write_text("chr1\t3000\t3020\tSTR1\nchr1\t4000\t4020\tSTR2\n")
    population = ("--population", "pop.vcf.gz", "--af-key", "AF")
    regions = ("--bed", "str.bed")
    cases = {  # gaps (first, last), the options, whether a finding stays
        "rare REF, 1 base": ((1000, 1000), population, False),
        "rare REF, no population": ((1000, 1000), (), True),
        "rare REF, 2 bases": ((1000, 1001), population, True),
        "rare REF, the base before": ((999, 1000), population, True),
        "common REF": ((1500, 1500), population, True),
        "over a region": ((3991, 4030), regions, False),
        "over a region, no regions": ((3991, 4030), (), True),
        "beside no region": ((3991, 3995), regions, True),
        "region and a rare REF": ((2991, 3060), (*regions, *population), True),
        "region, no population": ((2991, 3060), regions, False),
    }
    for name, ((first, last), options, found) in cases.items():
        delivered = tmp_path / f"{name.replace(' ', '_').replace(',', '')}.g.vcf"
        delivered.write_text(gvcf_blocks([(first - 50, first - 1), (last + 1, last + 50)]))
        for switch in ("0", "1"):
            with pytest.MonkeyPatch.context() as monkeypatch:
                monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", switch)
                result, report = audit(*options, str(delivered), cwd=tmp_path)
            gaps = report["files"][0]["findings"]["metadata"].get("by_key", {})  # type: ignore[index]
            assert gaps.get(GAP, 0) == int(found), name
            assert result.returncode == int(found), (name, result.stderr)
    # the scrubbers' own output: a homozygous ALT call at the rare REF, a block over a region's edge
    called = gvcf_blocks([(1, 999)]) + "chr1\t1000\t.\tG\tC,<NON_REF>\t.\t.\t.\tGT\t1/1\n" + gvcf_blocks([(1001, 2000)]).split("S1\n")[1]
    (tmp_path / "called.g.vcf").write_text(called)
    scrubbed = run_command("vcf-drop-rare", "-q", *population, "--report", "rare.json", "-o", "rare.g.vcf", "called.g.vcf", cwd=tmp_path)
    assert scrubbed.returncode == 0, scrubbed.stderr
    assert json.loads((tmp_path / "rare.json").read_text())["counts"]["holes_left"] == 1
    (tmp_path / "edge.g.vcf").write_text(gvcf_blocks([(3041, 3990), (3991, 4010), (4011, 4030), (4031, 6000)]))
    dropped = run_command("vcf-drop-regions", "-q", *regions, "--flank", "0", "-o", "regions.g.vcf", "edge.g.vcf", cwd=tmp_path)
    assert dropped.returncode == 0, dropped.stderr
    for path, options in (("rare.g.vcf", population), ("regions.g.vcf", regions)):
        result, report = audit(*options, path, cwd=tmp_path)
        assert result.returncode == 0, report
        result, report = audit(path, cwd=tmp_path)  # without what made the gap common: a finding
        assert report["files"][0]["findings"]["metadata"]["by_key"] == {GAP: 1}, path  # type: ignore[index]


def test_vcf_gap_beside_a_reference_call(tmp_path: Path) -> None:
    """The red team's F5: an all-sites VCF (`bcftools call -m` without `-v`: a record at every base,
    ALT `.` where nothing was called) delivered with a dropped call's base missing names its POS,
    though its calls carry no `<NON_REF>`. A gap of 1 to 100 bases beside a record with ALT `.`
    (before it, or before the record after it) is a finding, one a gap; vcf-drop-rare's output
    (without END: no record with ALT `.` left) has none, and neither has a variant-only VCF."""
    header = (
        "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=20000>\n##contig=<ID=chr2,length=20000>\n"
        "##INFO=<ID=AF,Number=A,Type=Float,Description=\"Frequency\">\n"
        "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
    )

    def record(chrom: str, pos: int, alt: str, af: str = ".") -> str:
        return f"{chrom}\t{pos}\t.\tA\t{alt}\t{'.' if alt == '.' else '50'}\t.\t{af}\tGT\t{'0/0' if alt == '.' else '0/1'}\n"

    cases = {  # POS REF ALT of each record (the one at 1000 is what vcf-drop-rare dropped), the finding's place
        "between reference calls": ("998 A . 999 A . 1000 A G 1001 A . 1002 A .", "chr1:1001"),
        "before a call": ("998 A . 999 A . 1000 A G 1001 A C", "chr1:1001"),
        "after a call": ("998 A T 999 A G 1000 A G 1001 A . 1002 A .", "chr1:1001"),
        "after a deletion": ("996 A T 997 AAA A 1000 A G 1001 A . 1002 A .", "chr1:1001"),
        "between blocks": ("900 A .;END=999 1000 A G 1001 A .;END=1100", "chr1:1001"),  # Strelka2's genome.vcf
        "after a gVCF's block": ("900 A <NON_REF>;END=999 1000 A G 1001 A . 1002 A .", "chr1:1001"),
    }
    for name, (text, where) in cases.items():
        words = text.split()
        places = zip(words[0::3], words[1::3], words[2::3], strict=True)
        lines = [
            record("chr1", int(pos), alt.split(";")[0], (alt + ";").split(";")[1] or ".").replace("\tA\t", f"\t{ref}\t", 1)
            for pos, ref, alt in places
        ]
        declared = '##INFO=<ID=END,Number=1,Type=Integer,Description="End">\n##ALT=<ID=NON_REF,Description="Any">\n'
        with_end = header.replace("#CHROM", declared + "#CHROM")
        whole = tmp_path / f"{name}.vcf"
        whole.write_text(with_end + "".join(lines))
        cut = tmp_path / f"{name}.cut.vcf"
        cut.write_text(with_end + "".join(line for line in lines if "\t1000\t" not in line))
        for switch in ("0", "1"):
            with pytest.MonkeyPatch.context() as monkeypatch:
                monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", switch)
                result, report = audit(str(whole), str(cut), cwd=tmp_path)
            whole_findings, cut_findings = (file["findings"]["metadata"] for file in report["files"])  # type: ignore[index, attr-defined]
            assert CALL_GAP_FINDING not in whole_findings.get("by_key", {}), name
            assert cut_findings["by_key"] == {CALL_GAP_FINDING: 1} and cut_findings["examples"][CALL_GAP_FINDING] == [where], name
    calls = {1000: ("G", "AF=0.0001"), 1002: ("G", "AF=0.3")}
    lines = [record("chr1", pos, *calls.get(pos, (".", "."))) for pos in range(990, 1010)]
    lines += [record("chr2", pos, ".") for pos in range(1, 5)]
    allsites = tmp_path / "allsites.vcf"
    allsites.write_text(header + "".join(lines))
    cut = tmp_path / "allsites.cut.vcf"  # the red team's: only the rare call gone
    cut.write_text(header + "".join(line for line in lines if "\t1000\t" not in line))
    scrubbed = run_command("vcf-drop-rare", "-q", "--af-key", "AF", "-o", str(tmp_path / "allsites.out.vcf"), str(allsites))
    assert scrubbed.returncode == 0, scrubbed.stderr
    assert [line.split("\t")[1] for line in (tmp_path / "allsites.out.vcf").read_text().splitlines() if line[0] != "#"] == ["1002"]
    result, report = audit(str(cut), str(tmp_path / "allsites.out.vcf"), cwd=tmp_path)
    cut_findings, out_findings = (file["findings"]["metadata"].get("by_key", {}) for file in report["files"])  # type: ignore[index, attr-defined]
    assert cut_findings == {CALL_GAP_FINDING: 1} and CALL_GAP_FINDING not in out_findings
    ordinary = tmp_path / "ordinary.vcf"  # calls only, two bases apart: gaps are what a VCF is
    ordinary.write_text(header + record("chr1", 999, "G") + record("chr1", 1001, "C") + record("chr1", 1003, "T"))
    result, report = audit(str(ordinary), cwd=tmp_path)
    assert result.returncode == 0, report
    far = tmp_path / "far.vcf"  # 101 bases from the last one: no hole a call leaves
    far.write_text(header + "".join(record("chr1", pos, ".") for pos in (998, 999, 1101, 1102)) + record("chr2", 5, "."))
    result, report = audit(str(far), cwd=tmp_path)
    assert result.returncode == 0, report
    subset = tmp_path / "subset.vcf"  # a cohort's calls cut to one sample (bcftools view -a): ALT . between calls, in no run
    subset.write_text(header + "".join(record("chr1", pos, alt) for pos, alt in ((1000, "G"), (1051, "."), (1060, "."), (1100, "C"))))
    result, report = audit(str(subset), cwd=tmp_path)
    assert result.returncode == 0, report


# --- --germline-in-vcf: a somatic call set holding an allele of the normal's germline calls ---------


def test_germline_in_vcf_keys_each_carrying_record_by_its_site(tmp_path: Path) -> None:
    """The audit's own matching gives vcf-drop-rare --germline's answers on its table of cases
    (case, padding, multi-allelic records either side, symbolic types, reference blocks)."""
    from tests.test_vcf_drop_rare import GERMLINE_CALLS, GERMLINE_LIST, calls_text

    (tmp_path / "germline.vcf").write_text(GERMLINE_LIST)
    (tmp_path / "calls.vcf").write_bytes(calls_text(GERMLINE_CALLS))
    result, report = audit("--germline", "germline.vcf", "--germline-in-vcf", "calls.vcf", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    found = report["files"][0]["findings"]["germline"]  # type: ignore[index]
    carried = Counter(":".join(record.split("\t")[:2]) for record, listed in GERMLINE_CALLS if listed)
    assert found["by_key"] == dict(carried)
    assert not any(allele in result.stdout for allele in (b"<DEL>", b"CATG", b"]chr2"))  # sites, never alleles
    renamed = GERMLINE_LIST.replace("chr1", "1").replace("chr2", "2")
    (tmp_path / "germline.1.vcf").write_text(renamed)
    again, report_again = audit("--germline", "germline.1.vcf", "--germline-in-vcf", "calls.vcf", cwd=tmp_path)
    assert report_again["files"][0]["findings"]["germline"] == found  # type: ignore[index]
    (tmp_path / "ref.fa").write_text(">chr1\n" + "A" * 20000 + "\n>chr2\n" + "A" * 10000 + "\n")
    (tmp_path / "ref.fa").write_text(">chr1\n" + "N" * 20000 + "\n>chr2\n" + "N" * 10000 + "\n")  # N: any REF of the list agrees
    plain, plain_report = audit("--germline", "germline.vcf", "-r", "ref.fa", "calls.vcf", cwd=tmp_path)
    assert plain_report["files"][0]["findings"]["germline"] == {"checked": False, "count": 0, "reason": "not alignments"}  # type: ignore[index]
    usage, _ = audit("--germline-in-vcf", "calls.vcf", cwd=tmp_path)
    assert usage.returncode == 2


def test_germline_in_vcf_with_a_reference_finds_a_call_in_a_germline_window(tmp_path: Path) -> None:
    """With -r, a somatic call two bases before the normal's germline SNV (inside the window where
    sam-revert-germline -v reverts the reads, which vcf-drop-rare --germline-windows drops) is a
    germline finding keyed ``call in a germline window`` and located by the call's site, never its
    allele; a call far from every site passes, and without -r no window is drawn."""
    rng = np.random.default_rng(5)
    bases = "".join(rng.choice(list("ACGT"), 3000))
    (tmp_path / "ref.fa").write_text(f">chr1\n{bases}\n")
    other = {"A": "C", "C": "G", "G": "T", "T": "A"}
    header = "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=3000>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    (tmp_path / "germline.vcf").write_text(header + f"chr1\t1000\t.\t{bases[999]}\t{other[bases[999]]}\t50\tPASS\t.\n")
    calls = [(998, bases[997], other[bases[997]]), (2000, bases[1999], other[bases[1999]])]
    (tmp_path / "calls.vcf").write_text(header + "".join(f"chr1\t{pos}\t.\t{ref}\t{alt}\t.\tPASS\t.\n" for pos, ref, alt in calls))
    result, report = audit("--germline", "germline.vcf", "--germline-in-vcf", "-r", "ref.fa", "calls.vcf", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    found = report["files"][0]["findings"]["germline"]  # type: ignore[index]
    assert found["by_key"] == {"call in a germline window": 1} and found["examples"] == {"call in a germline window": ["chr1:998"]}
    assert b"call in a germline window 1 (chr1:998)" in result.stdout
    without, report_without = audit("--germline", "germline.vcf", "--germline-in-vcf", "calls.vcf", cwd=tmp_path)
    assert without.returncode == 0 and report_without["files"][0]["findings"]["germline"]["count"] == 0  # type: ignore[index]


@pytest.mark.parametrize("declared", [True, False], ids=["declared", "undeclared"])
def test_vcf_lists_naming_one_contig_two_ways(tmp_path: Path, declared: bool) -> None:
    """A germline list or a BED holding ``chrM`` and ``MT`` (or ``chr1`` and ``1``): a record is
    judged against the sites under every name the list gives its contig, as vcf-drop-rare and
    vcf-drop-regions judge it, so a kept germline allele or a record in a region is found (once)
    whichever spelling the list wrote it under."""
    from tests.test_vcf_drop_rare import TWO_SPELLINGS_CALLS, TWO_SPELLINGS_CONTIGS, TWO_SPELLINGS_LISTED, two_spellings_vcf

    (tmp_path / "germline.vcf").write_text(two_spellings_vcf(TWO_SPELLINGS_LISTED, TWO_SPELLINGS_CONTIGS if declared else ""))
    calls_contigs = "##contig=<ID=chr1,length=20000>\n##contig=<ID=chrM,length=16569>\n" if declared else ""
    (tmp_path / "calls.vcf").write_text(two_spellings_vcf(TWO_SPELLINGS_CALLS, calls_contigs))
    result, report = audit("--germline", "germline.vcf", "--germline-in-vcf", "calls.vcf", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    lines = ["line 4", "line 5", "line 7", "line 8"]  # a CHROM no ##contig line declares: by line
    carrying = ["chr1:100", "chr1:200", "chrM:73", "chrM:150"] if declared else lines
    assert report["files"][0]["findings"]["germline"]["by_key"] == dict.fromkeys(carrying, 1)  # type: ignore[index]
    (tmp_path / "regions.bed").write_text("1\t95\t105\tA\nchr1\t195\t205\tB\nMT\t70\t75\tC\nchrM\t145\t155\tD\n")
    result, report = audit("--bed", "regions.bed", "calls.vcf", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    regions = report["files"][0]["findings"]["regions"]  # type: ignore[index]
    assert regions["count"] == 4 and sorted(key.split()[-1] for key in regions["by_key"]) == ["A", "B", "C", "D"], regions


def test_population_file_naming_a_contig_two_ways(tmp_path: Path) -> None:
    """A population file declaring ``chrM`` and ``MT`` with records under ``MT``: a ``chrM`` record
    is judged by them (common: no finding; rare: a finding), where reading the empty ``chrM``
    found every allele absent; records under both names are a finding of every record there,
    as vcf-drop-rare stops on such a file."""
    from tests.test_vcf_drop_rare import mitochondrial_populations

    mitochondrial_populations(tmp_path)
    columns = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    calls = "##fileformat=VCFv4.2\n##contig=<ID=chrM,length=16569>\n" + columns
    (tmp_path / "calls.vcf").write_text(calls + "chrM\t60\t.\tA\tG\t.\tPASS\t.\nchrM\t73\t.\tA\tG\t.\tPASS\t.\n")
    _, report = audit("--population", "one.vcf.gz", "--af-key", "AF", "calls.vcf", cwd=tmp_path)
    found = report["files"][0]["findings"]["population"]  # type: ignore[index]
    assert found["by_key"] == {"allele rarer than 0.01": 1}, found
    _, report = audit("--population", "both.vcf.gz", "--af-key", "AF", "calls.vcf", cwd=tmp_path)
    found = report["files"][0]["findings"]["population"]  # type: ignore[index]
    assert found["by_key"] == {"population file holds the contig under two names": 2}, found


def test_an_allele_the_population_lists_twice_is_judged_by_its_rarer_value(tmp_path: Path) -> None:
    """chr1:100 A>G listed at 0.0001 and again padded (AC>GC) at 0.5: vcf-drop-rare drops the call
    as rare (it keeps the rarer value), so the audit finds it, whichever listing comes last."""
    header = '##fileformat=VCFv4.2\n##contig=<ID=chr1,length=248956422>\n##INFO=<ID=AF,Number=A,Type=Float,Description="AF">\n'
    columns = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    listings = ["chr1\t100\t.\tA\tG\t.\tPASS\tAF=0.0001\n", "chr1\t100\t.\tAC\tGC\t.\tPASS\tAF=0.5\n"]
    calls = "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=248956422>\n" + columns + "chr1\t100\t.\tA\tG\t.\tPASS\t.\n"
    (tmp_path / "calls.vcf").write_text(calls)
    for order, records in (("rare-first", listings), ("rare-last", listings[::-1])):
        (tmp_path / f"{order}.vcf").write_text(header + columns + "".join(records))
        pysam.tabix_index(str(tmp_path / f"{order}.vcf"), preset="vcf", force=True)
        dropped = run_command("vcf-drop-rare", "-q", "--population", f"{order}.vcf.gz", "--af-key", "AF", "calls.vcf", cwd=tmp_path)
        assert dropped.returncode == 0 and [line for line in dropped.stdout.splitlines() if not line.startswith(b"#")] == [], order
        _, report = audit("--population", f"{order}.vcf.gz", "--af-key", "AF", "calls.vcf", cwd=tmp_path)
        found = report["files"][0]["findings"]["population"]  # type: ignore[index]
        assert found["by_key"] == {"allele rarer than 0.01": 1}, (order, found)


MALFORMED_POPULATIONS = {
    # a Number=A or Number=R array shorter than the record's alleles: read in order, the record's site not known exactly
    "short-A": ("A", ["100\tA\tC,G\tAF=0.3"], [("A", "C"), ("A", "G")]),
    "short-A-rare": ("A", ["100\tA\tC,G\tAF=0.0001"], [("A", "C"), ("A", "G")]),
    "short-R": ("R", ["100\tA\tC,G\tAF=0.5,0.3"], [("A", "C"), ("A", "G")]),
    "short-R-one": ("R", ["100\tA\tC\tAF=0.5"], [("A", "C")]),
    "R": ("R", ["100\tA\tC,G\tAF=0.995,0.004,0.001"], [("A", "C"), ("A", "G")]),
    "R-common": ("R", ["100\tA\tC,G\tAF=0.5,0.3,0.2"], [("A", "C"), ("A", "G")]),
    # an allele listed '.' once and with a value in another record, or twice in one
    "dot-then-value": ("A", ["100\tA\tG\tAF=.", "100\tAC\tGC\tAF=0.3"], [("A", "G")]),
    "value-then-dot": ("A", ["100\tA\tG\tAF=0.3", "100\tAC\tGC\tAF=."], [("A", "G")]),
    "padded-dot-before": ("A", ["99\tCA\tCG\tAF=.", "100\tA\tG\tAF=0.3"], [("A", "G")]),
    "twice-in-a-record": ("A", ["100\tA\tG,G\tAF=0.3,0.0001"], [("A", "G")]),
    "twice-in-a-record-dot": ("A", ["100\tA\tG,G\tAF=0.3,."], [("A", "G")]),
    "mnp-dot": ("A", ["100\tA\tG\tAF=0.3", "100\tAT\tGC\tAF=."], [("A", "G")]),
    # a key written twice: htslib's readers see the first value; both tools take the rarer, and a '.' or a short array as above
    "key-twice-rare-second": ("A", ["100\tA\tG\tAF=0.5;AN=3;AF=0.0001"], [("A", "G")]),
    "key-twice-rare-first": ("A", ["100\tA\tG\tAF=0.0001;AF=0.5"], [("A", "G")]),
    "key-twice-dot-first": ("A", ["100\tA\tG\tAF=.;AF=0.5"], [("A", "G")]),
    "key-twice-short": ("A", ["100\tA\tC,G\tAF=0.5,0.3;AF=0.3"], [("A", "C"), ("A", "G")]),
    "key-twice-common": ("A", ["100\tA\tG\tAF_eas=0.0001;AF=0.5;AF=0.4"], [("A", "G")]),
    "key-twice-R": ("R", ["100\tA\tC\tAF=0.5,0.5;AF=0.0001,0.9999"], [("A", "C")]),
    "site-by-pos": ("A", ["100\tA\tG\tAF=0.6", "100\tAT\tA\tAF=0.395"], [("A", "G")]),  # REF: every record at the POS
    "block-over-dot": ("A", ["100\tA\tG\tAF=.", "100\tAC\tGC\tAF=0.3"], [("A", "<*>")]),  # a reference block over such a site
    "block-over-common": ("A", ["100\tA\tG\tAF=0.3"], [("A", "<*>")]),
    "well-formed": ("A", ["100\tA\tC,G\tAF=0.3,0.2"], [("A", "C"), ("A", "G")]),
}


@pytest.mark.parametrize("case", sorted(MALFORMED_POPULATIONS))
def test_vcf_drop_rare_and_the_audit_agree_on_a_malformed_population(case: str, tmp_path: Path) -> None:
    """A short frequency array or an allele listed with and without a value never makes an allele
    look common: vcf-drop-rare drops the call (as rare, or as missing: its site's REF frequency is
    not known) exactly where the audit finds it, and keeps it exactly where the audit passes it."""
    number, records, calls = MALFORMED_POPULATIONS[case]
    header = (f'##fileformat=VCFv4.2\n##contig=<ID=chr1,length=248956422>\n##INFO=<ID=AF,Number={number},Type=Float,Description="AF">\n'
              '##INFO=<ID=AN,Number=1,Type=Integer,Description="AN">\n##INFO=<ID=AF_eas,Number=A,Type=Float,Description="AF">\n')
    columns = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    lines = [f"chr1\t{pos}\t.\t{ref}\t{alts}\t.\tPASS\t{info}\n" for pos, ref, alts, info in (record.split("\t") for record in records)]
    (tmp_path / "pop.vcf").write_text(header + columns + "".join(lines))
    pysam.tabix_index(str(tmp_path / "pop.vcf"), preset="vcf", force=True)
    subprocess.run(["bcftools", "view", "--no-version", "-Ob", "-o", str(tmp_path / "pop.bcf"), str(tmp_path / "pop.vcf.gz")], check=True)
    pysam.tabix_index(str(tmp_path / "pop.bcf"), preset="bcf", force=True)  # type: ignore[arg-type]
    verdicts = {}
    for ref, alt in calls:
        call = f"chr1\t100\t.\t{ref}\t{alt}\t.\tPASS\t.\n"
        (tmp_path / "calls.vcf").write_text("##fileformat=VCFv4.2\n##contig=<ID=chr1,length=248956422>\n" + columns + call)
        dropped = run_command("vcf-drop-rare", "-q", "--population", "pop.vcf.gz", "--af-key", "AF", "calls.vcf", cwd=tmp_path)
        assert dropped.returncode == 0, dropped.stderr
        kept = any(not line.startswith(b"#") for line in dropped.stdout.splitlines())
        _, report = audit("--population", "pop.vcf.gz", "--af-key", "AF", "calls.vcf", cwd=tmp_path)
        found = report["files"][0]["findings"]["population"]  # type: ignore[index]
        verdicts[alt] = (kept, found.get("count", 0) == 0)
        assert kept == (found.get("count", 0) == 0), (case, alt, found)
        _, report = audit("--population", "pop.bcf", "--af-key", "AF", "calls.vcf", cwd=tmp_path)  # read through htslib
        assert report["files"][0]["findings"]["population"] == found, (case, alt)  # type: ignore[index]
    dropped_whole = ("short-A", "short-R", "dot-", "value-", "padded-", "twice-", "mnp-", "site-", "block-over-d")
    if case.startswith(dropped_whole + ("key-twice-r", "key-twice-d", "key-twice-s", "key-twice-R")):
        assert not any(kept for kept, _ in verdicts.values()), (case, verdicts)  # a common value beside a missing one: not common
    if case in ("well-formed", "R-common", "key-twice-common", "block-over-common"):
        assert all(kept for kept, _ in verdicts.values()), (case, verdicts)


def test_germline_in_vcf_finds_the_private_germline_call_vcf_drop_rare_kept(simulated: Path, tmp_path: Path) -> None:
    """The red-team case as the workflow ran it: the somatic VCF of the old settings holds
    germline alleles (bcftools isec counts them); the audit finds each, and none in the output
    of vcf-drop-rare --germline."""
    germline = simulated / "germline.vcf.gz"
    somatic = ["--population", str(simulated / "population.vcf.gz"), "--af-key", "AF_eas", "--drop-germline", "--keep-missing"]
    calls = str(simulated / "germline_as_somatic.vcf.gz")
    outputs = {}
    for name, extra in (("old", []), ("new", ["--germline", str(germline)])):
        result = run_command("vcf-drop-rare", "-q", *somatic, *extra, "-O", "z", "-o", str(tmp_path / f"{name}.vcf.gz"), calls)
        assert result.returncode == 0, result.stderr
        outputs[name] = tmp_path / f"{name}.vcf.gz"
        pysam.tabix_index(str(outputs[name]), preset="vcf", force=True)
    isec = subprocess.run(["bcftools", "isec", "-n=2", "-w1", "-c", "none", str(outputs["old"]), str(germline)],
                          capture_output=True, check=True).stdout.decode()
    shared = {":".join(line.split("\t")[:2]) for line in isec.splitlines() if line and not line.startswith("#")}
    assert shared
    _, old_report = audit("--germline", str(germline), "--germline-in-vcf", str(outputs["old"]), cwd=tmp_path)
    assert set(old_report["files"][0]["findings"]["germline"]["by_key"]) == shared  # type: ignore[index]
    _, new_report = audit("--germline", str(germline), "--germline-in-vcf", str(outputs["new"]), cwd=tmp_path)
    assert new_report["files"][0]["findings"]["germline"] == {"checked": True, "count": 0}  # type: ignore[index]


def test_bases_past_a_contig_end_are_a_germline_finding(tmp_path: Path) -> None:
    """A read aligned past chrM's end keeps the contig's first bases there (a circular genome):
    with --germline, a base other than N past the end is a finding, located at the read, on the
    bulk path and one by one; the same read with N there, and a read inside the contig, are not."""
    import random

    random.seed(3)
    bases = "".join(random.choice("ACGT") for _ in range(400))
    (tmp_path / "ref.fa").write_text(">chrM\n" + bases + "\n")
    pysam.faidx(str(tmp_path / "ref.fa"))
    (tmp_path / "germline.vcf").write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=chrM,length=400>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        f"chrM\t200\t.\t{bases[199]}\t{'A' if bases[199] != 'A' else 'C'}\t50\tPASS\t.\n"
    )
    header = pysam.AlignmentHeader.from_dict({"HD": {"VN": "1.6"}, "SQ": [{"SN": "chrM", "LN": 400}]})
    reads = [("past", 370, bases[370:] + bases[:20]), ("masked", 370, bases[370:] + "N" * 20), ("inside", 100, bases[100:150])]
    with pysam.AlignmentFile(str(tmp_path / "reads.bam"), "wb", header=header) as out:
        for name, start, sequence in reads:
            read = pysam.AlignedSegment(header)
            read.query_name, read.reference_id, read.reference_start, read.mapping_quality = name, 0, start, 60
            read.cigarstring, read.query_sequence = f"{len(sequence)}M", sequence
            read.query_qualities = pysam.qualitystring_to_array("I" * len(sequence))
            out.write(read)
    for switch in ("0", "1"):
        with pytest.MonkeyPatch.context() as monkeypatch:
            monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", switch)
            result, report = audit("--germline", "germline.vcf", "-r", "ref.fa", "reads.bam", cwd=tmp_path)
        found = report["files"][0]["findings"]["germline"]  # type: ignore[index]
        assert result.returncode == 1 and found["by_key"] == {"bases past the contig end": 1}, found
        assert found["examples"]["bases past the contig end"] == ["chrM:371"]


def test_a_mate_start_in_a_region_is_a_finding_unless_mc_shows_an_aligned_start(tmp_path: Path) -> None:
    """PNEXT in the region (or at its edge, on the mate's contig): a finding keyed ``(PNEXT)``
    unless the read's MC starts with an aligned base; an MC that starts with a clip, one of
    another type, or none at all leave the junction possible. The BAM written by pysam."""
    header = pysam.AlignmentHeader.from_dict({"HD": {"VN": "1.6"}, "SQ": [{"SN": "chr1", "LN": 400}, {"SN": "chr2", "LN": 400}]})
    cases: list[tuple[str, int, int, tuple[str, str | int, Literal["Z", "i"]] | None, bool]] = [  # name, mate contig, PNEXT, MC, found
        ("aligned-start", 0, 111, ("MC", "10M", "Z"), False),
        ("clipped-start", 0, 111, ("MC", "5S5M", "Z"), True),
        ("hard-clipped-start", 0, 111, ("MC", "5H5M", "Z"), True),
        ("other-type", 0, 111, ("MC", 5, "i"), True),
        ("no-mc", 0, 111, None, True),
        ("other-contig", 1, 111, None, False),  # chr2 has no region
        ("before", 0, 90, None, False),
    ]
    bam = tmp_path / "mates.bam"
    with pysam.AlignmentFile(str(bam), "wb", header=header) as out:
        for name, mate_contig, mate_position, tag, _ in cases:
            read = pysam.AlignedSegment(header)
            read.query_name, read.flag, read.reference_id, read.reference_start = name, 65, 0, 10
            read.cigarstring, read.mapping_quality, read.query_sequence = "10M", 60, "A" * 10
            read.query_qualities = pysam.qualitystring_to_array("I" * 10)
            read.next_reference_id, read.next_reference_start = mate_contig, mate_position - 1
            if tag is not None:
                read.set_tag(tag[0], tag[1], value_type=tag[2])
            out.write(read)
    (tmp_path / "r.bed").write_text(LENGTH_REGION)
    result, report = audit("--bed", str(tmp_path / "r.bed"), str(bam), cwd=tmp_path)
    # an MC that starts with a clip there shows the junction itself too (``audit_alignment_tags``)
    expected = {"chr1:101-120 STR1 (PNEXT)": sum(found for *_, found in cases), "chr1:101-120 STR1 (aux MC)": 2}
    assert region_keys(report) == expected
    assert result.returncode == 1


@pytest.mark.parametrize("value", ["900101_1234567", "900101.1234567", "900101:1234567", "HK2VMDSXY.900101.1234567"])
def test_a_read_group_value_holding_a_registration_number_with_separators_is_found(value: str, tmp_path: Path) -> None:
    """Red team 8a F6: the audit held @RG values to a VCF sample name's rule, which passes a
    registration number with ``_``, ``.`` or ``:`` between its halves; sam-scrub-rg refuses such a
    pseudonym or --platform-unit, and the audit now finds it (a flowcell and lane pass)."""
    sam = f"@HD\tVN:1.6\n@SQ\tSN:chr1\tLN:1000\n@RG\tID:SAMPLE1\tSM:SAMPLE1\tPU:{value}\n"
    (tmp_path / "rg.sam").write_text(sam)
    result, _ = audit(str(tmp_path / "rg.sam"), cwd=tmp_path)
    assert result.returncode == 1 and b"header value @RG PU (holds personal data)" in result.stdout
    (tmp_path / "rg.sam").write_text(sam.replace(value, "HK2VMDSXY.2"))
    assert audit(str(tmp_path / "rg.sam"), cwd=tmp_path)[0].returncode == 0


def test_a_finding_in_a_read_on_a_personal_contig_names_the_reference_by_rank(tmp_path: Path) -> None:
    """A BAM finding is located by contig and position, but a contig name holding personal data
    (a host, a date: a finding of its own) or a forbidden string is no place to print: the report
    and the summary name it `reference N`, its @SQ line's rank, and print the others as written."""
    (tmp_path / "forbid.txt").write_text("S2301217T\n")
    (tmp_path / "forbid.txt").chmod(0o600)
    sam = tmp_path / "in.sam"
    sam.write_text(
        "@HD\tVN:1.6\n@SQ\tSN:chr1\tLN:1000\n@SQ\tSN:ctg_kim.snuh.ac.kr\tLN:1000\n@SQ\tSN:ctg_S2301217T\tLN:1000\n"
        "name1\t0\tchr1\t5\t60\t4M\t*\t0\t0\tACGT\tIIII\n"
        "name2\t0\tctg_kim.snuh.ac.kr\t5\t60\t4M\t*\t0\t0\tACGT\tIIII\n"
        "name3\t0\tctg_S2301217T\t5\t60\t4M\t*\t0\t0\tACGT\tIIII\n"
    )
    result, report = audit("--forbid", str(tmp_path / "forbid.txt"), str(sam), cwd=tmp_path)
    assert result.returncode == 1
    shown = json.dumps(report) + result.stdout.decode() + result.stderr.decode()
    assert "snuh" not in shown and "S2301217T" not in shown
    examples = report["files"][0]["findings"]["metadata"]["examples"]["read name"]  # type: ignore[index]
    assert examples == ["chr1:5", "reference 2:5", "reference 3:5"], examples


# --- contigs the reference lacks, and reads reverted with --all --------------------------------------


HEX_NAME = "0123456789abcdef01234567"


def small_genome(folder: Path) -> str:
    """A 2000-base chr1 with its index and dictionary; its bases."""
    import random

    random.seed(11)
    bases = "".join(random.choice("ACGT") for _ in range(2000))
    (folder / "ref.fa").write_text(">chr1\n" + bases + "\n")
    pysam.faidx(str(folder / "ref.fa"))
    subprocess.run(["samtools", "dict", "-o", str(folder / "ref.dict"), str(folder / "ref.fa")], check=True, capture_output=True)
    return bases


def small_bam(folder: Path, contigs: list[str], reads: list[str], name: str = "reads.bam") -> str:
    header = "@HD\tVN:1.6\tSO:unsorted\n" + "".join(f"@SQ\tSN:{contig}\tLN:2000\n" for contig in contigs)
    (folder / "reads.sam").write_text(header + "".join(read + "\n" for read in reads))
    pysam.view("-b", "--no-PG", "-o", str(folder / name), str(folder / "reads.sam"), catch_stdout=False)
    return name


@pytest.mark.parametrize("contig", ["chr1_random", "chrUn_JTFH01000001v1_decoy", "HLA-A*01:01:01:01"])
def test_reads_on_a_contig_the_reference_or_dictionary_lacks_are_a_finding(tmp_path: Path, contig: str) -> None:
    """An @SQ that -r or --dict holds under no spelling (a decoy, an HLA allele, chr1's bases
    under another name): nothing on it is joined with a germline site or a region, so it is a
    metadata finding with either; chr1 spelled ``1`` is the same contig; a VCF's ##contig and its
    records on such a contig are findings too, and so are records on one with no ##contig line."""
    bases = small_genome(tmp_path)
    read = f"{HEX_NAME}\t0\t{contig}\t101\t60\t50M\t*\t0\t0\t{bases[100:150]}\t*"
    path = small_bam(tmp_path, ["chr1", contig], [read])
    for side in (["-r", "ref.fa"], ["--dict", "ref.dict"]):
        result, report = audit(*side, path, cwd=tmp_path)
        found = report["files"][0]["findings"]["metadata"]  # type: ignore[index]
        assert result.returncode == 1 and found["by_key"] == {"reference name (a contig the reference or dictionary lacks)": 1}, found
    one = small_bam(tmp_path, ["1"], [read.replace(contig, "1")], "one.bam")
    result, _ = audit("-r", "ref.fa", "--dict", "ref.dict", one, cwd=tmp_path)
    assert result.returncode == 0
    result, _ = audit(small_bam(tmp_path, ["chr1", contig], [read], "unchecked.bam"), cwd=tmp_path)  # no genome given: nothing to hold to
    assert result.returncode == 0
    declared = "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=2000>\n"
    columns = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    record = f"\t{101}\t.\t{bases[100]}\t{'A' if bases[100] != 'A' else 'C'}\t50\tPASS\t.\n"
    for header, chrom, expected in (
        (declared + f"##contig=<ID={contig.replace(':', '_')},length=2000>\n", contig.replace(":", "_"), {"header line 3": 1, "line": 1}),
        ("##fileformat=VCFv4.2\n", "chrZ", {"line": 1}),
        (declared, "chr1", {}),
    ):
        (tmp_path / "calls.vcf").write_text(header + columns + chrom + record)
        result, report = audit("-r", "ref.fa", "calls.vcf", cwd=tmp_path)
        found = report["files"][0]["findings"]["metadata"]  # type: ignore[index]
        keys = {key for key in found.get("by_key", {}) if "lacks" in key}
        assert len(keys) == len(expected) and result.returncode == (1 if expected else 0), found


def test_all_reference_finds_every_difference_and_passes_what_sam_revert_germline_all_writes(tmp_path: Path) -> None:
    """``--all-reference`` (the gate's run for a sample without a germline VCF, reverted with
    ``--all``): a mismatch, an insertion, a deletion, a clip, a skip under 50 bases and an
    unmapped read keeping bases are germline findings, on the bulk path and one by one; the
    reads sam-revert-germline --all writes of the same input pass, and so does a skip of 50 or
    more (an intron, which --all keeps). Without -r it is a usage error."""
    bases = small_genome(tmp_path)
    changed = bases[100:110] + ("A" if bases[110] != "A" else "C") + bases[111:150]
    reads = [
        f"{HEX_NAME[:-1]}0\t0\tchr1\t101\t60\t50M\t*\t0\t0\t{changed}\t*",
        f"{HEX_NAME[:-1]}1\t0\tchr1\t201\t60\t21M4D29M\t*\t0\t0\t{bases[200:221] + bases[225:254]}\t*",
        f"{HEX_NAME[:-1]}2\t0\tchr1\t301\t60\t21M2I27M\t*\t0\t0\t{bases[300:321] + 'AC' + bases[321:348]}\t*",
        f"{HEX_NAME[:-1]}3\t0\tchr1\t401\t60\t5S45M\t*\t0\t0\t{'ACGTA' + bases[400:445]}\t*",
        f"{HEX_NAME[:-1]}4\t0\tchr1\t501\t60\t21M10N29M\t*\t0\t0\t{bases[500:521] + bases[531:560]}\t*",
        f"{HEX_NAME[:-1]}5\t0\tchr1\t601\t60\t21M100N29M\t*\t0\t0\t{bases[600:621] + bases[721:750]}\t*",
        f"{HEX_NAME[:-1]}6\t4\t*\t0\t0\t*\t*\t0\t0\t{bases[800:850]}\t*",
        f"{HEX_NAME[:-1]}7\t0\tchr1\t901\t60\t50M\t*\t0\t0\t{bases[900:940] + 'N' * 10}\t*",
    ]
    path = small_bam(tmp_path, ["chr1"], reads)
    for switch in ("0", "1"):
        with pytest.MonkeyPatch.context() as monkeypatch:
            monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", switch)
            result, report = audit("-r", "ref.fa", "--all-reference", path, cwd=tmp_path)
        found = report["files"][0]["findings"]["germline"]  # type: ignore[index]
        assert result.returncode == 1 and found["checked"], found
        assert found["by_key"] == {
            "base other than the reference's (--all-reference)": 1,
            "insertion, deletion, clip or short skip (--all-reference)": 4,
            "unmapped read (keeps bases)": 1,
        }, found
        assert found["examples"]["base other than the reference's (--all-reference)"] == ["chr1:101"]
    shell(
        "samtools view -h --no-PG reads.bam | sam-revert-germline -q -r ref.fa --all | samtools view -b --no-PG -o reverted.bam",
        tmp_path,
    )
    result, report = audit("-r", "ref.fa", "--all-reference", "reverted.bam", cwd=tmp_path)
    assert result.returncode == 0, result.stdout.decode()
    usage = run_command("genoscrub-audit", "--all-reference", path, cwd=tmp_path)
    assert usage.returncode == 2 and b"--all-reference needs -r" in usage.stderr


# --- rt10b F17: --af-key without --population, each record judged by its own frequencies ---------

RECORD_FREQUENCY_CASES = [
    ("G", "AF=0.5"), ("G", "AF=0.00001"), ("G", "DP=3"), ("G", "AF=."), ("G,T", "AF=0.5,0.001"), ("G,T", "AF=0.6,0.5"),
    ("G,T", "AF=0.3"), ("G,<NON_REF>", "AF=0.5,."), ("<NON_REF>", "DP=3"),
    ("G", "AF=0.5;AF=0.001"), ("G", "AF=0.995"), ("<DEL>", "AF=0.2"), ("G", "AF=0.01"),
]  # fmt: skip


@pytest.mark.parametrize(("alt", "info"), RECORD_FREQUENCY_CASES)
def test_af_key_without_population_finds_what_vcf_drop_rare_drops(alt: str, info: str, tmp_path: Path) -> None:
    """rt10b F17: without a population file the workflow's vcf-drop-rare judges each record by its
    own --af-key, and the gate's audit does too (--af-key without --population): a record it drops
    (rare, or missing without --keep-missing) is a population finding, one it keeps none (``*``, which
    goes without a deletion over it whatever its frequency, is the audit's trace rule's)."""
    header = (
        "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=5000>\n"
        '##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">\n'
        '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">\n##ALT=<ID=DEL,Description="Deletion">\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    )
    (tmp_path / "calls.vcf").write_text(header + f"chr1\t100\t.\tA\t{alt}\t50\tPASS\t{info}\n")
    dropped = run_command("vcf-drop-rare", "-q", "--af-key", "AF", "--min-af", "0.01", str(tmp_path / "calls.vcf"))
    assert dropped.returncode == 0, dropped.stderr
    kept = [line for line in dropped.stdout.splitlines() if not line.startswith(b"#")]
    result, report = audit("--af-key", "AF", "--min-af", "0.01", str(tmp_path / "calls.vcf"), cwd=tmp_path)
    population = report["files"][0]["findings"]["population"]  # type: ignore[index]
    assert population["checked"] and population["count"] == (0 if kept else 1), (alt, info, population)
    assert result.returncode == (0 if kept else 1)


# --- the somatic call set's own settings: --max-samples, --germline-markers, --population-missing ok ---


def test_max_samples_finds_a_joint_called_relative_counted_and_never_named(tmp_path: Path) -> None:
    """rt15 F7: a germline VCF holding a second person's column (a relative joint-called with the
    normal), pseudonymized by vcf-scrub-header run with the somatic VCF's --max-samples: with
    ``--max-samples 1`` it is a metadata finding counted by the columns past 1, as vcf-scrub-header
    --max-samples 1 refuses it; two columns pass ``--max-samples 2``, and a BCF is read alike."""
    header = '##fileformat=VCFv4.2\n##contig=<ID=chr1,length=5000>\n##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    columns = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tCMN001_00\tCMN001_01\tCMN001_02\n"
    (tmp_path / "joint.vcf").write_text(header + columns + "chr1\t100\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\t0/1\t1/1\n")
    refused = run_command("vcf-scrub-header", "-q", "--max-samples", "1", str(tmp_path / "joint.vcf"))
    assert refused.returncode == 1
    pysam.VariantFile(str(tmp_path / "joint.vcf")).close()
    subprocess.run(["bcftools", "view", "--no-version", "-Ob", "-o", str(tmp_path / "joint.bcf"), str(tmp_path / "joint.vcf")], check=True)
    for name in ("joint.vcf", "joint.bcf"):
        result, report = audit("--max-samples", "1", name, cwd=tmp_path)
        assert result.returncode == 1, (name, result.stderr)
        metadata = report["files"][0]["findings"]["metadata"]  # type: ignore[index]
        assert metadata["by_key"] == {"sample columns (more than --max-samples 1)": 2}, (name, metadata)
        assert b"CMN001" not in result.stdout and report["settings"]["max_samples"] == 1  # type: ignore[index]
        assert audit("--max-samples", "3", name, cwd=tmp_path)[0].returncode == 0
    assert audit("joint.vcf", cwd=tmp_path)[0].returncode == 0  # without the option, no count is asked
    assert audit("--max-samples", "-1", "joint.vcf", cwd=tmp_path)[0].returncode == 2


MARKED_CALLS = [
    # (FILTER, INFO, dropped by vcf-drop-rare --drop-germline)
    ("germline", ".", True), ("germline_risk;weak_evidence", ".", True), ("GERMLINE", ".", True), ("PASS", ".", False),
    ("Germline", ".", True), ("germline_like", ".", False), ("PASS", "GERMLINE", True), ("PASS", "AF=0.3;GERMLINE", True),
    ("PASS", "NOTGERMLINE", False), ("PASS", "SAO=1", True), ("PASS", "SAO=3", True), ("PASS", "SAO=2", False),
    ("PASS", "SS=1;DP=5", True), ("PASS", "SS=3", True), ("PASS", "SS=2", False), ("PASS", "SS=10", False),
    ("PASS", "NT=het", True), ("PASS", "NT=hom", True), ("PASS", "NT=ref", False), ("PASS", "XNT=het", False),
    ("PASS", "STATUS=Germline", True), ("PASS", "STATUS=StrongLOH", True), ("PASS", "STATUS=LikelyLOH", True),
    ("PASS", "STATUS=StrongSomatic", False), ("PASS", "GermlineStatus=Germline_DB", True),
    ("PASS", "GermlineStatus=Germline_Proxi", True), ("PASS", "GermlineStatus=Somatic", False),
    # red team 17: another valid spelling of a marker is the marker (a number by its value, a word in any case)
    ("PASS", "SAO=01", True), ("PASS", "SS=+3", True), ("PASS", "SAO=0", False), ("PASS", "NT=HET", True),
    ("PASS", "STATUS=germline", True), ("PASS", "GermlineStatus=GERMLINE_DB", True), ("GERMLINE_RISK", ".", True),
]  # fmt: skip


@pytest.mark.parametrize("one_by_one", ["0", "1"], ids=["blocks", "one-by-one"])
def test_germline_markers_find_the_calls_vcf_drop_rare_drop_germline_drops(one_by_one: str, tmp_path: Path) -> None:
    """rt15 F3: a somatic call its caller marked germline (Mutect2 FILTER=germline), absent from
    the population, shipped by a vcf-drop-rare run without --drop-germline. With
    ``--germline-markers`` each record vcf-drop-rare --drop-germline drops is a germline finding
    located by its site (the marker never printed), each it keeps none; without the option the
    germline class of a VCF is not checked."""
    declared = "".join(
        f'##INFO=<ID={key},Number={number},Type={kind},Description="x">\n'
        for key, number, kind in (("AF", "A", "Float"), ("GERMLINE", "0", "Flag"), ("NOTGERMLINE", "0", "Flag"), ("SAO", "1", "Integer"),
                                  ("SS", "1", "String"), ("NT", "1", "String"), ("XNT", "1", "String"), ("STATUS", "1", "String"),
                                  ("GermlineStatus", "1", "String"))
    ) + "".join(f'##FILTER=<ID={name},Description="x">\n' for name in ("germline", "germline_risk", "weak_evidence", "GERMLINE", "Germline",
                                                                      "germline_like"))  # fmt: skip
    header = "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=5000>\n" + declared + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    records = [f"chr1\t{100 * (index + 1)}\t.\tA\tG\t50\t{filters}\t{info}\n" for index, (filters, info, _) in enumerate(MARKED_CALLS)]
    (tmp_path / "calls.vcf").write_text(header + "".join(records))
    dropped = run_command("vcf-drop-rare", "-q", "--drop-germline", "--keep-missing", "--af-key", "AF", str(tmp_path / "calls.vcf"))
    assert dropped.returncode == 0, dropped.stderr
    kept = {line.split(b"\t")[1].decode() for line in dropped.stdout.splitlines() if not line.startswith(b"#")}
    expected = {f"chr1:{100 * (index + 1)}" for index, (_, _, marked) in enumerate(MARKED_CALLS) if marked}
    assert {f"chr1:{100 * (index + 1)}" for index in range(len(MARKED_CALLS)) if str(100 * (index + 1)) not in kept} == expected
    os.environ["GENOSCRUB_ONE_BY_ONE"], before = one_by_one, os.environ.get("GENOSCRUB_ONE_BY_ONE")
    try:
        findings = Findings()
        checks = audit_vcf.VcfChecks("calls.vcf", None, frozenset(), None, None, germline_markers=True)
        audit_vcf.VcfAudit(checks, findings).run(io.BytesIO((tmp_path / "calls.vcf").read_bytes()))
    finally:
        os.environ.pop("GENOSCRUB_ONE_BY_ONE") if before is None else os.environ.update(GENOSCRUB_ONE_BY_ONE=before)
    assert findings.germline.counts == {audit_vcf.MARKED: len(expected)}
    result, report = audit("--germline-markers", "calls.vcf", cwd=tmp_path)
    assert result.returncode == 1
    germline = report["files"][0]["findings"]["germline"]  # type: ignore[index]
    assert germline["count"] == len(expected) and report["settings"]["germline_markers"] is True  # type: ignore[index]
    assert not any(marker in result.stdout for marker in (b"NT=", b"SS=", b"STATUS", b"Germline_DB"))
    _, plain = audit("calls.vcf", cwd=tmp_path)
    assert plain["files"][0]["findings"]["germline"] == {"checked": False, "count": 0, "reason": "not alignments"}  # type: ignore[index]


def test_population_missing_ok_accepts_absent_alleles_and_finds_rare_ones(tmp_path: Path) -> None:
    """rt15 F2: the somatic VCF's calls absent from the population are kept on purpose
    (vcf-drop-rare --keep-missing), and the gate audited it without --population, so a call of an
    allele the population lists as rare (AF 0.0002), a germline variant in disguise, passed. With
    ``--population-missing ok`` an absent allele (or a contig the population lacks) passes and the
    records vcf-drop-rare --keep-missing drops (a rare allele, a rare REF) are the findings; without
    it every absent allele stays one. Likewise without a population file, by each record's AF."""
    header = '##fileformat=VCFv4.2\n##contig=<ID=chr1,length=5000>\n##contig=<ID=chr2,length=5000>\n'
    header += '##INFO=<ID=AF,Number=A,Type=Float,Description="AF">\n'
    columns = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    population = ["chr1\t100\t.\tA\tG\t.\tPASS\tAF=0.3", "chr1\t300\t.\tC\tT\t.\tPASS\tAF=0.0002", "chr1\t500\t.\tG\tA\t.\tPASS\tAF=0.995"]
    (tmp_path / "pop.vcf").write_text(header + columns + "".join(line + "\n" for line in population))
    pysam.tabix_index(str(tmp_path / "pop.vcf"), preset="vcf", force=True)
    calls = {  # POS: (REF, ALT, dropped by vcf-drop-rare --keep-missing)
        "chr1:100": ("A", "G", False), "chr1:200": ("T", "C", False), "chr1:300": ("C", "T", True),
        "chr1:500": ("G", "C", True), "chr2:100": ("A", "T", False),
    }  # fmt: skip
    records = [f"{place.split(':')[0]}\t{place.split(':')[1]}\t.\t{ref}\t{alt}\t50\tPASS\t.\n" for place, (ref, alt, _) in calls.items()]
    (tmp_path / "calls.vcf").write_text(header + columns + "".join(records))
    population_options = ("--population", "pop.vcf.gz", "--af-key", "AF")
    dropped = run_command("vcf-drop-rare", "-q", "--keep-missing", *population_options, "calls.vcf", cwd=tmp_path)
    assert dropped.returncode == 0, dropped.stderr
    kept = {b":".join(line.split(b"\t")[:2]).decode() for line in dropped.stdout.splitlines() if not line.startswith(b"#")}
    assert kept == {place for place, (_, _, rare) in calls.items() if not rare}
    result, report = audit(*population_options, "--population-missing", "ok", "calls.vcf", cwd=tmp_path)
    found = report["files"][0]["findings"]["population"]  # type: ignore[index]
    assert result.returncode == 1 and found["by_key"] == {"allele rarer than 0.01": 1, "REF rarer than 0.01": 1}, found
    assert report["settings"]["population_missing"] == "ok"  # type: ignore[index]
    _, strict = audit(*population_options, "calls.vcf", cwd=tmp_path)
    assert strict["files"][0]["findings"]["population"]["by_key"]["allele absent from the population"] == 3  # type: ignore[index]
    assert strict["settings"]["population_missing"] == "finding"  # type: ignore[index]
    # without a population file: a record without AF passes, one with a rare AF does not
    (tmp_path / "own.vcf").write_text(header + columns + "chr1\t100\t.\tA\tG\t50\tPASS\t.\nchr1\t300\t.\tC\tT\t50\tPASS\tAF=0.0002\n")
    result, report = audit("--af-key", "AF", "--population-missing", "ok", "own.vcf", cwd=tmp_path)
    assert report["files"][0]["findings"]["population"]["by_key"] == {audit_vcf.RECORD_RARE: 1}, report  # type: ignore[index]
    assert audit("--population-missing", "ok", "own.vcf", cwd=tmp_path)[0].returncode == 2  # nothing to judge rarity by
    assert audit("--af-key", "AF", "--population-missing", "maybe", "own.vcf", cwd=tmp_path)[0].returncode == 2


def test_forbid_contigs_finds_vcf_records_on_allele_contigs(tmp_path: Path) -> None:
    """Red team 17 F4: a somatic caller run on every contig calls on an HLA allele contig (its name is
    the genotype) and on chrEBV; no population lists them, so vcf-drop-rare --keep-missing keeps the
    calls. ``--forbid-contigs`` now holds VCF records too: each record on a matching contig is a
    germline finding located by line, never by the contig's name; the ##contig lines are none."""
    contig = "HLA-A*02:01:01:01"
    header = (f"##fileformat=VCFv4.2\n##contig=<ID=chr1,length=5000>\n##contig=<ID={contig},length=3000>\n"
              "##contig=<ID=chrEBV,length=171823>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")  # fmt: skip
    records = f"chr1\t100\t.\tA\tG\t50\tPASS\t.\n{contig}\t500\t.\tC\tT\t50\tPASS\t.\nchrEBV\t1000\t.\tG\tA\t50\tPASS\t.\n"
    (tmp_path / "calls.vcf").write_text(header + records)
    result, report = audit("--forbid-contigs", "HLA-*", "--forbid-contigs", "chrEBV", "calls.vcf", cwd=tmp_path)
    found = report["files"][0]["findings"]["germline"]  # type: ignore[index]
    assert result.returncode == 1 and found["checked"] and found["by_key"] == {"record on a listed contig": 2}, found
    assert contig.encode() not in result.stdout + result.stderr and "HLA" not in json.dumps(report["files"])
    (tmp_path / "header_only.vcf").write_text(header + "chr1\t100\t.\tA\tG\t50\tPASS\t.\n")
    result, report = audit("--forbid-contigs", "HLA-*", "header_only.vcf", cwd=tmp_path)
    assert result.returncode == 0, report
