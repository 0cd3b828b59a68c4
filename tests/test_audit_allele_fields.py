"""genoscrub-audit on VCF String fields that name an allele the record does not carry: the
per-allele annotations (ANN, EFF, CSQ, BCSQ; LOF and NMD beside them) and GATK's FORMAT/PID
and PGT, which vcf-drop-rare removes from every kept record.

Planted in a file and on stdin, each is a metadata finding located by the record's place and
never quoted; the block search and the record-by-record path find the same; and what
vcf-drop-rare writes (its rule, ``allele_annotations``, read by this test only) passes.
"""

from __future__ import annotations

import io
import json
import subprocess
from collections import Counter
from pathlib import Path

import pysam
import pytest
from genoscrub import audit_vcf
from genoscrub.allele_annotations import AlleleAnnotations
from genoscrub.audit_allele_fields import AlleleFields
from genoscrub.audit_findings import Findings
from genoscrub.streams import line_blocks
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import run_command

CSQ_FORMAT = "Consequence annotations from Ensembl VEP. Format: Allele|Consequence|IMPACT|SYMBOL|Gene"
HEADER = (
    "##fileformat=VCFv4.2\n"
    "##contig=<ID=chr1,length=248956422>\n"
    "##INFO=<ID=ANN,Number=.,Type=String,Description=\"Functional annotations: 'Allele | Annotation | Gene_Name'\">\n"
    '##INFO=<ID=EFF,Number=.,Type=String,Description="Predicted effects">\n'
    f'##INFO=<ID=CSQ,Number=.,Type=String,Description="{CSQ_FORMAT}">\n'
    '##INFO=<ID=BCSQ,Number=.,Type=String,Description="Haplotype-aware consequence annotation from BCFtools csq">\n'
    '##INFO=<ID=LOF,Number=.,Type=String,Description="Predicted loss of function effects">\n'
    '##INFO=<ID=NMD,Number=.,Type=String,Description="Predicted nonsense mediated decays">\n'
    '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">\n'
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    '##FORMAT=<ID=PGT,Number=1,Type=String,Description="Physical phasing haplotype">\n'
    '##FORMAT=<ID=PID,Number=1,Type=String,Description="Physical phasing ID">\n'
    '##FORMAT=<ID=PS,Number=1,Type=Integer,Description="Phase set">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tSAMPLE1\n"
)
# the rare T of `C G,T` (dropped) named in the common half's fields, each kind once
PLANTED = [
    ("ANN=G|missense_variant|GENE1,T|stop_gained|GENE1", "GT", "0/1", "INFO/ANN (another allele)"),
    ("EFF=STOP_GAINED(HIGH|NONSENSE|Cag/Tag|Q34*|300|GENE1|protein_coding|CODING|ENST1|1|T)", "GT", "0/1", "INFO/EFF (another allele)"),
    ("CSQ=T|stop_gained|HIGH|GENE1|ENSG1", "GT", "0/1", "INFO/CSQ (another allele)"),
    ("BCSQ=stop_gained|GENE1|ENST1|protein_coding|+|34Q>34*|1519C>T", "GT", "0/1", "INFO/BCSQ (another allele)"),
    ("BCSQ=@1400", "GT", "0/1", "INFO/BCSQ (another allele)"),
    ("LOF=(GENE1|ENSG1|1|1.00)", "GT", "0/1", "INFO/LOF (another allele)"),
    ("NMD=(GENE1|ENSG1|1|1.00)", "GT", "0/1", "INFO/NMD (another allele)"),
    ("DP=30", "GT:PID:PS", "0|1:1270_A_T:1519", "FORMAT/PID"),
    ("DP=30", "GT:PGT:PS", "0|1:0|1:1519", "FORMAT/PGT"),
]
OWN = [  # the record's own allele named: no finding
    "ANN=G|missense_variant|GENE1",
    "ANN=g|missense_variant|GENE1;LOF=(GENE1|ENSG1|1|1.00)",
    "EFF=NON_SYNONYMOUS_CODING(MODERATE|MISSENSE|Cag/Gag|Q34E|300|GENE1|protein_coding|CODING|ENST1|1|G)",
    "CSQ=G|missense_variant|MODERATE|GENE1|ENSG1,G|intron_variant|MODIFIER|GENE2|ENSG2",
    "BCSQ=missense|GENE1|ENST1|protein_coding|+|34Q>34E|1519C>G",
    "DP=30",
]


def record(pos: int, info: str, format_keys: str = "GT", sample: str = "0/1", ref: str = "C", alt: str = "G") -> str:
    return f"chr1\t{pos}\t.\t{ref}\t{alt}\t50\tPASS\t{info}\t{format_keys}\t{sample}"


def planted_vcf() -> bytes:
    records = [record(1519, info, keys, sample) for info, keys, sample, _ in PLANTED]
    records += [record(2000 + index, info.replace("1519C>", f"{2000 + index}C>")) for index, info in enumerate(OWN)]
    return (HEADER + "".join(line + "\n" for line in records)).encode()


def audited(data: bytes, one_by_one: bool, monkeypatch: pytest.MonkeyPatch, block_size: int = 1 << 20) -> Findings:
    monkeypatch.setenv("GENOSCRUB_ONE_BY_ONE", "1" if one_by_one else "0")
    monkeypatch.setattr(audit_vcf, "line_blocks", lambda stream, path: line_blocks(stream, path, block_size))
    findings = Findings()
    audit_vcf.VcfAudit(audit_vcf.VcfChecks("x.vcf", None, frozenset(), None, None), findings).run(io.BytesIO(data))
    return findings


def metadata_of(result: subprocess.CompletedProcess[bytes], report: Path) -> dict[str, int]:
    (found,) = json.loads(report.read_text())["files"]
    return dict(found["findings"]["metadata"].get("by_key", {}))


@pytest.mark.parametrize("way", ["path", "stdin"])
def test_planted_fields_are_findings_located_by_place_never_quoted(way: str, tmp_path: Path) -> None:
    data = planted_vcf()
    path = tmp_path / "planted.vcf"
    path.write_bytes(data)
    report = tmp_path / "audit.json"
    argument, stdin = (str(path), None) if way == "path" else ("-", data)
    result = run_command("genoscrub-audit", "--report", str(report), argument, input=stdin)
    assert result.returncode == 1, result.stderr.decode()
    expected = Counter(key for *_, key in PLANTED)
    found = metadata_of(result, report)
    found.pop("identifier in record value", None)  # BCSQ's `@1400` has an address's shape, a rule of its own
    assert found == dict(expected)
    output = result.stdout.decode() + result.stderr.decode() + report.read_text()
    assert "chr1:1519" in output and "chr1:2000" not in output
    for word in ("stop_gained", "1270_A_T", "GENE1", "NONSENSE"):
        assert word not in output


@pytest.mark.parametrize("block_size", [64, 1 << 20])
def test_the_block_search_finds_what_reading_every_record_finds(block_size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    data = planted_vcf()
    bulk = audited(data, False, monkeypatch, block_size)
    every = audited(data, True, monkeypatch, block_size)
    assert bulk.metadata.counts == every.metadata.counts and bulk.metadata.examples == every.metadata.examples
    assert sum(count for key, count in bulk.metadata.counts.items() if key != "identifier in record value") == len(PLANTED)


def test_vep_trimmed_alleles_and_a_csq_without_its_allele_field() -> None:
    """VEP drops the base every allele shares (``-`` when nothing is left): a CSQ so written is the
    record's own; without ``Allele`` in the header's Format no entry can be tied (fail closed)."""
    fields = AlleleFields(0)
    assert fields.keys(record(10, "CSQ=T|insertion", ref="A", alt="AT").encode().split(b"\t")) == []
    assert fields.keys(record(10, "CSQ=-|deletion", ref="AT", alt="A").encode().split(b"\t")) == []
    assert fields.keys(record(10, "CSQ=T|x,TT|y", ref="A", alt="AT").encode().split(b"\t")) == ["INFO/CSQ (another allele)"]
    assert fields.keys(record(10, "CSQ=AA|x", ref="A", alt="AA").encode().split(b"\t")) == ["INFO/CSQ (another allele)"]
    assert AlleleFields(None).keys(record(10, "CSQ=G|x").encode().split(b"\t")) == ["INFO/CSQ (another allele)"]
    # LOF beside an ANN that names another allele goes with it
    keys = AlleleFields(0).keys(record(10, "ANN=G|a,T|b;LOF=(GENE1|ENSG1|1|1.00)").encode().split(b"\t"))
    assert keys == ["INFO/ANN (another allele)", "INFO/LOF (another allele)"]


ALLELES = st.sampled_from(["G", "T", "A", "CA", "CT", "C", "g", "<DEL>"])


@st.composite
def annotated_records(draw: st.DrawFn) -> str:
    ref = draw(st.sampled_from(["C", "CA", "CTA"]))
    alts = draw(st.lists(ALLELES, min_size=1, max_size=3, unique=True))
    named = st.lists(ALLELES, min_size=1, max_size=4)
    items = []
    for key in draw(st.lists(st.sampled_from(["ANN", "EFF", "CSQ", "BCSQ", "LOF", "NMD", "DP"]), unique=True, max_size=5)):
        alleles = draw(named)
        if key == "ANN":
            items.append("ANN=" + ",".join(f"{allele}|x|GENE1" for allele in alleles))
        elif key == "EFF":
            items.append("EFF=" + ",".join(f"E(H|N|c|a|3|G|p|C|T|1|{allele})" for allele in alleles))
        elif key == "CSQ":
            items.append("CSQ=" + ",".join(f"{allele}|x|H|G|E" for allele in alleles))
        elif key == "BCSQ":
            items.append("BCSQ=" + ",".join(f"x|G|T|p|+|1A>1B|1519{ref}>{allele}" for allele in alleles))
        elif key in ("LOF", "NMD"):
            items.append(f"{key}=(GENE1|ENSG1|1|1.00)")
        else:
            items.append("DP=3")
    keys, sample = draw(st.sampled_from([("GT", "0/1"), ("GT:PID:PGT:PS", "0|1:1270_A_T:0|1:1270"), ("PID", "x")]))
    return record(1519, ";".join(items) or ".", keys, sample, ref, ",".join(alts))


@settings(max_examples=300, deadline=None)
@given(line=annotated_records())
def test_what_vcf_drop_rare_keeps_passes(line: str) -> None:
    """The contract with the scrubber: every record vcf-drop-rare writes passes the audit's own
    reading, and a record it leaves as it is passes only if it held nothing to remove."""
    rule = AlleleAnnotations(csq_allele=0)
    audit = AlleleFields(0)
    rewritten = rule.record(line.encode(), Counter())
    kept = rewritten if rewritten is not None else line.encode()
    assert audit.keys(kept.split(b"\t")) == []


def test_vcf_drop_rare_output_of_a_split_multiallelic_and_a_gatk_phase_group_passes(tmp_path: Path) -> None:
    """The red team's case: `bcftools norm -m -` copies `C G,T`'s ANN to both halves; the rare T
    goes and, in the input, the common G names it. GATK's PID names the first variant of a phase
    group, here one dropped as rare. The input fails, vcf-drop-rare's output passes."""
    header = HEADER.replace("\tSAMPLE1", "\tSAMPLE1")
    source = header + "".join(
        line + "\n"
        for line in [
            record(1270, "DP=30", "GT:PGT:PID:PS", "0|1:0|1:1270_A_T:1270", "A", "T"),
            record(1284, "DP=30", "GT:PGT:PID:PS", "0|1:0|1:1270_A_T:1270", "A", "G"),
            record(1519, "ANN=G|missense_variant|GENE1,T|stop_gained|GENE1", alt="G,T", sample="1/2"),
        ]
    )
    (tmp_path / "in.vcf").write_text(source)
    population = tmp_path / "pop.vcf"
    population.write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=248956422>\n"
        '##INFO=<ID=AF_eas,Number=A,Type=Float,Description="AF">\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n'
        "chr1\t1270\t.\tA\tT\t.\tPASS\tAF_eas=0.0001\nchr1\t1284\t.\tA\tG\t.\tPASS\tAF_eas=0.4\n"
        "chr1\t1519\t.\tC\tG\t.\tPASS\tAF_eas=0.3\nchr1\t1519\t.\tC\tT\t.\tPASS\tAF_eas=0.0001\n"
    )
    pysam.tabix_index(str(population), preset="vcf", force=True)
    split = subprocess.run(
        ["bcftools", "norm", "--no-version", "-m", "-", str(tmp_path / "in.vcf")], capture_output=True, check=True
    ).stdout
    (tmp_path / "split.vcf").write_bytes(split)
    done = run_command("vcf-drop-rare", "-q", "--population", str(population) + ".gz", "--af-key", "AF_eas", input=split)
    assert done.returncode == 0, done.stderr.decode()
    dropped = done.stdout
    (tmp_path / "out.vcf").write_bytes(dropped)
    assert b"1270_A_T" not in dropped and b"|stop_gained|" not in dropped and b"\t1519\t" not in dropped  # the site goes whole
    options = ["--population", str(population) + ".gz", "--af-key", "AF_eas"]
    verdicts = {}
    for name in ("split.vcf", "out.vcf"):
        report = tmp_path / f"{name}.json"
        result = run_command("genoscrub-audit", "-q", "--report", str(report), *options, name, cwd=tmp_path)
        verdicts[name] = (result.returncode, {key for key in metadata_of(result, report) if "allele" in key or "FORMAT/P" in key})
    assert verdicts["split.vcf"] == (1, {"INFO/ANN (another allele)", "FORMAT/PID", "FORMAT/PGT"})
    assert verdicts["out.vcf"] == (0, set())


@settings(max_examples=100, deadline=None)
@given(records=st.lists(annotated_records(), min_size=1, max_size=40), block_size=st.sampled_from([200, 1 << 20]))
def test_bulk_settling_finds_what_reading_every_record_finds(records: list[str], block_size: int) -> None:
    """An annotated file, where most lines hold a key: the lines settled in bulk (an SNV whose
    ANN or CSQ entries all name its ALT) hide no finding reading each record gives."""
    data = (HEADER + "".join(line + "\n" for line in records)).encode()
    with pytest.MonkeyPatch.context() as monkeypatch:
        bulk = audited(data, False, monkeypatch, block_size)
        every = audited(data, True, monkeypatch, block_size)
    assert bulk.metadata.counts == every.metadata.counts and bulk.metadata.examples == every.metadata.examples
