"""The audit's allowlists and the scrubbers' tables give the same answer.

genoscrub-audit keeps its own tables (genoscrub.audit_allowlist) so that it checks a
delivery from outside; the scrubbers keep theirs in the modules that write the metadata
(sam_header, aux_tags, vcf_scrub_header). If the two drift apart, the audit either fails
every delivery or lets through what a scrubber would have dropped. So: the tables are
compared here, and the behaviour too — what sam-scrub-rg and vcf-scrub-header write from
a file with every kind of metadata is metadata the audit accepts, and every line and tag
they drop from it is a finding of the audit on the input.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from genoscrub import audit_allowlist, aux_tags, sam_header, vcf_scrub_header

from tests.conftest import BIN


def lowered(values: object) -> set[str]:
    return {(value.decode() if isinstance(value, bytes) else str(value)).lower() for value in values}  # type: ignore[attr-defined]


def test_aux_tags_the_audit_accepts_are_those_sam_scrub_rg_keeps() -> None:
    kept = {name.decode() for name in aux_tags.KEPT_TAGS} | {aux_tags.REWRITTEN_TAG.decode()}
    assert set(audit_allowlist.AUX_TAGS) == kept


def test_sam_header_tags_the_audit_accepts_are_those_the_header_model_keeps() -> None:
    for record_type, rules in sam_header.RULES.items():
        assert set(audit_allowlist.SAM_HEADER_TAGS[record_type.decode()]) == {tag.decode() for tag in rules}, record_type
    # @PG: only genoscrub's own line, ID PN VN (sam_header.program_line)
    program = sam_header.program_line("sam-scrub-rg").decode().split("\t")[1:]
    assert set(audit_allowlist.SAM_HEADER_TAGS["PG"]) == {field[:2] for field in program}


def test_value_lists_agree() -> None:
    assert lowered(audit_allowlist.ASSEMBLY_NAMES) == lowered(sam_header.ASSEMBLIES)
    assert lowered(audit_allowlist.SPECIES_NAMES) == lowered(sam_header.SPECIES)
    assert lowered(audit_allowlist.PLATFORMS) == lowered(sam_header.PLATFORMS)


def test_vcf_keys_the_audit_accepts_are_those_vcf_scrub_header_writes() -> None:
    audited = set(audit_allowlist.VCF_STRUCTURED_KEYS) | set(audit_allowlist.VCF_PLAIN_KEYS)
    assert audited == {key.decode() for key in vcf_scrub_header.ALLOWED_KEYS}


PLANTED_SAM = (
    b"@HD\tVN:1.6\tSO:coordinate\tSS:coordinate:S2301217T\tXX:lab\n"
    b"@SQ\tSN:chr1\tLN:100\tM5:0123456789abcdef0123456789abcdef\tAS:GRCh38\tSP:Homo sapiens\tUR:file:///home/kimjh/ref.fa\tDS:lab\n"
    b"@SQ\tSN:chr2\tLN:50\tAS:S2301217T\tTP:linear\n"
    b"@RG\tID:S2301217T.L1\tSM:S2301217T\tLB:LIB-1\tPU:MISEQ-M04123:1\tPL:ILLUMINA\tPM:MiSeq\tCN:Seoul\tDT:2023-10-29\tDS:patient\n"
    b"@PG\tID:bwa\tPN:bwa\tCL:bwa mem /home/kimjh/x.fq\n@CO\tpatient S2301217T\n"
    b"r1\t99\tchr1\t1\t60\t4M\t=\t5\t8\tACGT\tIIII\tRG:Z:S2301217T.L1\tNM:i:0\tMD:Z:4\tMC:Z:4M\tAS:i:4\tXS:i:0"
    b"\tCO:Z:patient\tBC:Z:ACGT\tXZ:Z:lab\tzz:i:1\tPG:Z:bwa\tOQ:Z:IIII\n"
    b"r1\t147\tchr1\t5\t60\t4M\t=\t1\t-8\tACGT\tIIII\tRG:Z:S2301217T.L1\tNM:i:0\tMD:Z:4\tMC:Z:4M\tSA:Z:chr2,10,+,4M,60,0;\n"
)


def audit(path: Path, report: Path) -> dict:  # type: ignore[type-arg]
    subprocess.run([str(BIN / "genoscrub-audit"), "-q", "--report", str(report), str(path)], capture_output=True, timeout=300)
    return json.loads(report.read_text())


def metadata_keys(report: dict) -> dict[str, int]:  # type: ignore[type-arg]
    (found,) = report["files"]
    return dict(found["findings"]["metadata"].get("by_key", {}))


def test_what_sam_scrub_rg_writes_the_audit_accepts_and_what_it_drops_the_audit_finds(tmp_path: Path) -> None:
    planted = tmp_path / "planted.sam"
    planted.write_bytes(PLANTED_SAM)
    scrubbed = tmp_path / "scrubbed.sam"
    done = subprocess.run([str(BIN / "sam-scrub-rg"), "-q", "--names", "-o", str(scrubbed), str(planted)], capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    assert metadata_keys(audit(scrubbed, tmp_path / "out.json")) == {}
    found = metadata_keys(audit(planted, tmp_path / "in.json"))
    text = scrubbed.read_bytes()
    for tag in ("CO", "BC", "XZ", "zz"):  # dropped by the scrubber: each a finding on the input
        assert f"\t{tag}:".encode() not in text
        assert any(re.search(rf"\b{tag}\b", key) for key in found), (tag, found)
    for tag in ("CN", "DT", "DS", "PM", "UR"):
        assert any(tag in key for key in found), (tag, found)


PLANTED_VCF = (
    b"##fileformat=VCFv4.2\n##fileDate=20231029\n##source=caller /home/kimjh\n"
    b"##contig=<ID=chr1,length=100,assembly=GRCh38,URL=file:///x>\n"
    b"##INFO=<ID=AF,Number=A,Type=Float,Description=\"AF in /home/kimjh\",Source=\"lab\">\n"
    b"##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"
    b"##reference=file:///data/S2301217T/GRCh38.fa\n##SAMPLE=<ID=S2301217T>\n##bcftools_viewCommand=view x.vcf\n"
    b"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS2301217T\n"
    b"chr1\t3\tHOSP_1\tG\tA\t50\tPASS\tAF=0.2\tGT\t0/1\n"
)


def test_what_vcf_scrub_header_writes_the_audit_accepts_and_what_it_drops_the_audit_finds(tmp_path: Path) -> None:
    planted = tmp_path / "planted.vcf"
    planted.write_bytes(PLANTED_VCF)
    scrubbed = tmp_path / "scrubbed.vcf"
    done = subprocess.run([str(BIN / "vcf-scrub-header"), "-q", "-o", str(scrubbed), str(planted)], capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    assert metadata_keys(audit(scrubbed, tmp_path / "out.json")) == {}
    found = " ".join(metadata_keys(audit(planted, tmp_path / "in.json")))
    for key in ("fileDate", "source", "SAMPLE", "bcftools_viewCommand", "URL", "Source", "ID column"):
        assert key in found, (key, found)
