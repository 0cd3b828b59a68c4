"""genoscrub-audit: the values of allowlisted aux tags, checked by the audit's own grammars.

An identifier kept under an allowlisted name (``MQ:i:19900101``, ``XA:Z:900101-1234567``)
is a finding of the metadata class, ``aux value off its grammar TAG``, counted by tag and
place, never quoted. The audit must agree with sam-scrub-rg: what the scrubber drops from
a tag is a finding, and what it keeps is not (the gate would hold back clean deliveries).
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from genoscrub import audit_aux, audit_bam, aux_tags
from genoscrub.audit_allowlist import AUX_TAGS, AUX_VALUES
from genoscrub.audit_aux import AuxValueChecks, read_group_ids
from genoscrub.audit_bam import AUX_VALUE_OFF_GRAMMAR, BamAudit, CountedBlocks, RecordBlock, RecordChecks, bgzf_blocks, read_header
from genoscrub.audit_findings import Findings
from genoscrub.sam_scrub_rg import app as scrub_rg_app
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.conftest import bam_block, run_command

SEQ = "ACGTACGTAC" * 3
"""30 bases: no planted value is as long, so a quality tag cannot take one by its length alone."""
CIGAR = f"{len(SEQ)}M"
READ_GROUP = "CMT001_00.L1"
HEADER = f"@HD\tVN:1.6\tSO:unsorted\n@SQ\tSN:chr1\tLN:100000\n@RG\tID:{READ_GROUP}\tSM:CMT001_00\tPL:ILLUMINA\n"
REFERENCES = {b"chr1": 100000}

PLANTED_TEXT = (
    "900101-1234567",
    "9001011234567",
    "19900101",
    "1990-01-01",
    "kimjh@snuh.org",
    "/home/kimjh/S2301217T.bam",
    "김정호",
    "1234567",
)
"""A registration number with and without its hyphen, a date of birth in two spellings, an
e-mail address, a path, a name in Hangul, a 7-digit number."""
PLANTED_NUMBERS = ("19900101", "1234567", "-1234567")
PARTNERS = {"Q2": "R2:Z:ACGTACGTACGT", "CQ": "CS:Z:T01230123012", "QX": "RX:Z:ACGTACGTACGT", "BZ": "OX:Z:ACGTACGTACGT",
            "CY": "CR:Z:ACGTACGTACGT", "UY": "UR:Z:ACGTACGTACGT"}  # fmt: skip
"""A valid partner for the tags tied to one (barcode and mate qualities), 12 bases long."""
KEPT_BY_BOTH = {
    ("MI", "Z", "19900101"), ("MI", "Z", "1234567"),  # fgbio's molecule IDs are numbers of up to 10 digits
    *((tag, "i", number) for tag in ("CP", "OP", "DI", "MI") for number in PLANTED_NUMBERS if not (tag != "MI" and number.startswith("-"))),
}  # fmt: skip
"""Planted forms that are values of the tag's grammar (a position, a molecule number): kept by
sam-scrub-rg, accepted by the audit. ``--forbid`` is the check for those."""


def line(number: int, tags: list[str], sequence: str = SEQ, cigar: str = CIGAR) -> str:
    return "\t".join([f"READ{number}", "0", "chr1", "100", "60", cigar, "*", "0", "0", sequence, "I" * len(sequence), *tags])


def planted_records() -> list[tuple[str, str, str]]:
    """Every (tag, SAM type, value) planted: the text forms in every ``Z`` tag and, as ``Z``, in
    every numeric tag (a type its grammar does not have); the numbers in every ``i`` and ``f`` tag."""
    planted = []
    for tag in sorted(AUX_TAGS):
        types = {value.type for value in AUX_VALUES[tag]}
        planted += [(tag, "Z", text) for text in PLANTED_TEXT if "Z" in types or types & {"i", "f"}]
        planted += [(tag, kind, number) for kind in ("i", "f") if kind in types for number in PLANTED_NUMBERS]
    return planted


def scrubber_keeps(tag: str, kind: str, value: str, partner: str | None) -> bool:
    """What sam-scrub-rg decides for one tag of a record (its one-record path, the reference)."""
    if tag == "RG":
        return False  # an RG:Z naming no @RG line: sam-scrub-rg stops with an error
    policy = aux_tags.TagPolicy()
    if policy.decide(tag.encode(), kind.encode()) != aux_tags.KEEP:
        return False
    tags = [(tag.encode(), kind.encode(), value.encode())]
    if partner is not None:
        name, partner_type, partner_value = partner.split(":", 2)
        tags.append((name.encode(), partner_type.encode(), partner_value.encode()))
    return policy.valid_record_values(tags, SEQ.encode(), CIGAR.encode(), REFERENCES)[0]


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Counter[str]]:
    """A SAM and a BAM with one record per planted form, and the findings expected of each tag."""
    folder = tmp_path_factory.mktemp("planted")
    lines: list[str] = []
    expected: Counter[str] = Counter()
    for number, (tag, kind, value) in enumerate(planted_records(), start=1):
        partner = PARTNERS.get(tag)
        tags = [f"{tag}:{kind}:{value}"] + ([partner] if partner else [])
        lines.append(line(number, tags if tag == "RG" else [f"RG:Z:{READ_GROUP}", *tags]))
        if not scrubber_keeps(tag, kind, value, partner):
            expected[f"{AUX_VALUE_OFF_GRAMMAR} {tag}"] += 1
        else:
            assert (tag, kind, value) in KEPT_BY_BOTH, (tag, kind)
    sam = folder / "planted.sam"
    sam.write_text(HEADER + "".join(text + "\n" for text in lines), encoding="utf-8")
    bam = folder / "planted.bam"
    subprocess.run(["samtools", "view", "-b", "--no-PG", "-o", str(bam), str(sam)], check=True, capture_output=True)
    return sam, bam, expected


def audit_report(folder: Path, *paths: Path, jobs: int = 1) -> tuple[subprocess.CompletedProcess[bytes], dict[str, Any]]:
    report = folder / "report.json"
    result = run_command("genoscrub-audit", "--jobs", str(jobs), "--report", str(report), *map(str, paths), cwd=folder)
    return result, json.loads(report.read_text())


def value_findings(found: dict[str, Any]) -> dict[str, int]:
    by_key = found["findings"]["metadata"].get("by_key", {})
    return {key: count for key, count in by_key.items() if key.startswith(AUX_VALUE_OFF_GRAMMAR)}


def test_planted_values_are_found_where_sam_scrub_rg_drops_them(planted: tuple[Path, Path, Counter[str]], tmp_path: Path) -> None:
    sam, bam, expected = planted
    result, report = audit_report(tmp_path, sam, bam)
    assert result.returncode == 1
    for found in report["files"]:
        assert value_findings(found) == dict(expected), found["file"]
    numeric = {tag for tag, values in AUX_VALUES.items() if any(value.type in "if" for value in values)}
    text = {tag for tag, values in AUX_VALUES.items() if any(value.type == "Z" for value in values)}
    found_tags = {key.rsplit(" ", 1)[1] for key in expected}
    assert numeric - {"CP", "OP", "DI"} <= found_tags and text <= found_tags  # a number in a position can be a position
    for data in (result.stdout, result.stderr, json.dumps(report, ensure_ascii=False).encode()):
        for value in PLANTED_TEXT + PLANTED_NUMBERS:
            assert value.encode() not in data


def test_sam_scrub_rg_output_of_the_planted_file_has_no_value_finding(planted: tuple[Path, Path, Counter[str]], tmp_path: Path) -> None:
    sam, _, _ = planted
    text = sam.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = "".join(row for row in text if "\tRG:Z:" + READ_GROUP in row or row.startswith("@"))  # RG planted: the scrubber stops
    scrubbed = tmp_path / "scrubbed.sam"
    done = run_command("sam-scrub-rg", "-q", "-o", str(scrubbed), "-", input=kept.encode())
    assert done.returncode == 0, done.stderr
    result, report = audit_report(tmp_path, scrubbed)
    assert value_findings(report["files"][0]) == {}


MODIFICATIONS = [
    (["MM:Z:C+m,0,1;", "ML:B:C,200,10"], ""),
    (["ML:B:C,9,8,7", "MM:Z:C+mh,0;A-a?,3;"], ""),  # C+mh calls two at each base; in either order
    (["MM:Z:C+76792,0,1;", "ML:B:C,1,2"], ""),  # a ChEBI number is one code
    (["MM:Z:C+m;", "ML:B:C"], ""),
    (["MM:Z:C+m,29;"], ""),  # the 30th base of SEQ, its last
    (["ML:B:C,75,73,77,74"], "ML"),  # no MM: free bytes (KIMJ)
    (["MM:Z:C+m,0;", "ML:B:C,75,73,77,74"], "ML"),  # more numbers than calls
    (["MM:Z:C+mh,0,1;", "ML:B:C,75,73"], "ML"),  # fewer
    (["MM:Z:C+m,0;", "ML:B:S,75"], "ML"),
    (["MM:Z:C+m,30;"], "MM"),  # past the end of SEQ
    (["MM:Z:C+m,19900101;"], "MM"),  # a date of birth as a skip count
    (["MM:Z:C+m,19900101;", "ML:B:C,1"], "MM ML"),
]
"""Base modifications (MM) and their likelihoods (ML), and the tags found: sam-scrub-rg keeps
and the audit accepts MM only when the bases it calls lie within SEQ, and ML only with one number
for each call of a valid MM of the same record."""


def assert_found_where_removed(tmp_path: Path, cases: list[tuple[list[str], str]], cigars: dict[int, str] | None = None) -> None:
    """Records of ``cases`` (tags, and the tags found off their grammar; ``cigars`` by case number,
    else 30M), as SAM and as BAM: the audit finds those tags, sam-scrub-rg removes exactly them,
    and its output has no value finding."""
    cigars = cigars or {}
    rows = [line(number, [f"RG:Z:{READ_GROUP}", *tags], cigar=cigars.get(number, CIGAR)) + "\n" for number, (tags, _) in enumerate(cases)]
    sam = tmp_path / "planted.sam"
    sam.write_text(HEADER + "".join(rows))
    bam = tmp_path / "planted.bam"
    subprocess.run(["samtools", "view", "-b", "--no-PG", "-o", str(bam), str(sam)], check=True, capture_output=True)
    result, report = audit_report(tmp_path, sam, bam)
    assert result.returncode == 1
    expected = Counter(f"{AUX_VALUE_OFF_GRAMMAR} {tag}" for _, found in cases for tag in found.split())
    assert [value_findings(file) for file in report["files"]] == [dict(expected)] * 2
    scrubbed = tmp_path / "scrubbed.sam"
    done = run_command("sam-scrub-rg", "-q", "-o", str(scrubbed), str(bam))
    assert done.returncode == 0, done.stderr
    records = [row.split("\t")[11:] for row in scrubbed.read_text().splitlines() if not row.startswith("@")]
    for tags, (planted, found) in zip(records, cases, strict=True):
        assert [tag for tag in tags if tag[:2] != "RG"] == [tag for tag in planted if tag[:2] not in found.split()], planted
    result, report = audit_report(tmp_path, scrubbed)
    assert result.returncode == 0 and value_findings(report["files"][0]) == {}


def test_base_modifications_off_seq_and_likelihoods_without_them_are_found_and_removed(tmp_path: Path) -> None:
    assert_found_where_removed(tmp_path, MODIFICATIONS)


LISTS_AND_IDS = [
    (["SA:Z:chr1,500,+,30M,60,999999;", "XB:Z:chr1,-700,30M,1,-999999,60;"], ""),  # counts and scores of 6 digits
    (["SA:Z:chr1,500,+,30M,60,19900101;"], "SA"),  # an NM holding a date
    (["OA:Z:chr1,800,-,30M,60,19900101;"], "OA"),
    (["XA:Z:chr1,+600,30M,900101123;"], "XA"),
    (["XB:Z:chr1,-700,30M,1,9001011234,60;"], "XB"),  # a score holding a registration number
    (["XB:Z:chr1,-700,30M,1000000,1,60;"], "XB"),
    (["GX:Z:ENSMUSG00000064370;ENSG00000139618.5"], ""),
    (["GX:Z:ENSKIMJHG19900101123"], "GX"),  # initials and a date of birth in an Ensembl ID's letters and digits
    (["GX:Z:ENSG19900101123"], "GX"),
    (["GX:Z:ENSG00001990010"], "GX"),  # 7 free digits after 0000: a date of birth (1990-01-01)
]
"""Alignment lists whose counts or scores hold 7 digits or more, and gene IDs off Ensembl's shape:
found by the audit without a forbid list, removed by sam-scrub-rg."""


def test_long_counts_in_alignment_lists_and_gene_ids_off_ensembls_shape_are_found_and_removed(tmp_path: Path) -> None:
    assert_found_where_removed(tmp_path, LISTS_AND_IDS)


LIST_CIGARS = [
    (["SA:Z:chr1,500,+,20M10S,60,0;", "XA:Z:chr1,+600,10S20M,0;chr1,-700,30M,1;"], ""),  # the read's 30 bases
    (["SA:Z:chr1,500,+,19900101M,60,0;"], "SA"),  # a date as an alignment's length
    (["XA:Z:chr1,+600,30M,0;chr1,+700,31M,0;"], "XA"),
    (["OA:Z:chr1,500,+,5S19900101M,60,0;"], "OA"),
    (["XB:Z:chr1,-700,30M1I,1,20,60;"], "XB"),
    (["SA:Z:chr1,1,+,10M99970N20M,60,0;"], ""),  # spanning chr1's 100000 bases
    (["SA:Z:chr1,1,+,10M99971N20M,60,0;"], "SA"),
    (["SA:Z:chr1,500,+,35M,60,0;"], ""),  # from case 7 on, 5H30M: the read's hard clips count
    (["SA:Z:chr1,500,+,5S31M,60,0;"], "SA"),
]
"""Alignment lists whose entries' CIGARs lay out more than the read or span more than the contig."""


def test_alignment_list_cigars_longer_than_the_read_or_the_contig_are_found_and_removed(tmp_path: Path) -> None:
    assert_found_where_removed(tmp_path, LIST_CIGARS, {number: "5H30M" for number in range(7, len(LIST_CIGARS))})


DIFFERENCES = [
    (["cs:Z::10*ag:5-ac:4+ac:8", "cg:Z:10=1X19="], ""),  # minimap2's: 30 read and 30 reference bases
    (["cs:Z::19900101"], "cs"),  # a date as a run of matches
    (["cs:Z::4~gt19900101ag:26"], "cs"),  # as an intron the CIGAR has not
    (["cg:Z:19900101M"], "cg"),
    (["cs:Z::10+acgt:16", "cg:Z:10M4D16M"], "cs cg"),
    (["cs:Z::4~gt200ag:26", "cg:Z:4M200N26M"], ""),  # from case 5 on, the spliced read 10M200N20M
    (["cs:Z::30"], "cs"),
]
"""minimap2's ``cs`` and ``cg`` against the record's CIGAR."""


def test_differences_and_cigars_off_the_records_cigar_are_found_and_removed(tmp_path: Path) -> None:
    assert_found_where_removed(tmp_path, DIFFERENCES, {number: "10M200N20M" for number in range(5, len(DIFFERENCES))})


SPLICED = "10M200N20M"
MOTIFS = [
    (["jM:B:c,-1", "jI:B:i,-1"], ""),  # STAR's unspliced read
    (["jM:B:c,2,0,0,1,0,6,1,5", "jI:B:i,-1"], "jM"),  # 20010615 in motifs of no junction
    (["jM:B:c,2,0,0,1,0,6,1,5"], "jM"),
    (["jM:B:c,21", "jI:B:i,110,309"], ""),  # one motif for jI's junction
    (["jI:B:i,110,309", "jM:B:c,21,1"], "jM"),
    (["jM:B:c,-1", "jI:B:i,110,309"], "jM"),
    (["jM:B:c,1"], ""),  # no jI: at most one motif for each skip
    (["jM:B:c,1,1"], "jM"),
    (["jM:B:c,1", "jI:B:i,110,308"], "jI"),  # jI off the skip: jM is held to the skips
]
"""STAR's ``jM`` beside its ``jI``, or alone, on a spliced read (from case 3 on) or not."""


def test_junction_motifs_beyond_the_junctions_are_found_and_removed(tmp_path: Path) -> None:
    assert_found_where_removed(tmp_path, MOTIFS, {number: SPLICED for number in range(3, len(MOTIFS))})


VARIANT_ALLELES = [
    (["vA:B:c,1,2", "vG:B:i,105,107"], ""),  # STAR WASP: one allele for each variant of vG
    (["vA:B:c,2,1,3,3,1,2,2,1,1,3,2,1,3,1,1,2,3,3,1,2,1,1,2,3,2,2,1,3,1,1,2,3"], "vA"),  # no vG: free base-3 digits
    (["vA:B:c,1,2,3,1,2,3,1,2", "vG:B:i,105"], "vA"),  # more alleles than variants
    (["vG:B:i,105,107", "vA:B:C,3"], "vA"),  # fewer
]
"""STAR's ``vA`` beside its ``vG``, or alone, on a 30-base read at 100."""


def test_variant_alleles_not_one_for_each_variant_are_found_and_removed(tmp_path: Path) -> None:
    assert_found_where_removed(tmp_path, VARIANT_ALLELES)


def records_audited(path: Path, jobs: int) -> tuple[int, dict[str, Any]]:
    with open(path, "rb") as stream:
        blocks = CountedBlocks(bgzf_blocks(stream, str(path)))
        header, rest = read_header(blocks, str(path))
        checks = RecordChecks(str(path), [name for name, _ in header.references],
                              aux_values=AuxValueChecks(header.references, read_group_ids(header.text)))  # fmt: skip
        findings = Findings()
        BamAudit(checks, findings, jobs).run_file(str(path), blocks.consumed, rest)
    return findings.records, findings.as_dict()


def test_few_or_many_read_groups_give_the_same_value_findings(planted: tuple[Path, Path, Counter[str]],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """RG:Z values against a few @RG IDs in one C pass, or against many one distinct value at a time."""
    _, bam, _ = planted
    few = records_audited(bam, 1)
    monkeypatch.setattr(audit_aux, "FEW_READ_GROUPS", 0)
    assert records_audited(bam, 1) == few
    assert any(key.endswith(" RG") for key in few[1]["metadata"]["by_key"])


def test_jobs_and_chunks_give_the_same_value_findings(planted: tuple[Path, Path, Counter[str]], tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    sam, _, _ = planted
    rows = sam.read_text(encoding="utf-8").splitlines(keepends=True)
    header = [row for row in rows if row.startswith("@")]
    body = [row for row in rows if not row.startswith("@")]
    repeated = tmp_path / "repeated.sam"
    repeated.write_text(
        "".join(header) + "".join(row.replace("READ", f"READ{copy}0", 1) for copy in range(1, 41) for row in body), encoding="utf-8"
    )
    bam = tmp_path / "repeated.bam"
    subprocess.run(["samtools", "view", "-b", "--no-PG", "-o", str(bam), str(repeated)], check=True, capture_output=True)
    results = []
    for jobs, chunk in ((1, 1 << 20), (2, 20_000), (2, 33_333), (1, 25_000)):
        monkeypatch.setattr(audit_bam, "CHUNK_BYTES", chunk)
        results.append(records_audited(bam, jobs))
    assert results[0][0] > 10_000
    assert results[0][1]["metadata"]["count"] > 0
    assert all(result == results[0] for result in results)


def test_value_findings_in_cli_same_for_one_and_many_jobs(planted: tuple[Path, Path, Counter[str]], tmp_path: Path) -> None:
    _, bam, _ = planted
    reports = [audit_report(tmp_path, bam, jobs=jobs)[1]["files"][0]["findings"] for jobs in (1, 3)]
    assert reports[0] == reports[1]


# --- the bulk check equals each record checked alone ---------------------------------------------


TEXT_VALUES = st.one_of(
    st.sampled_from(PLANTED_TEXT + ("150M", "*", "75", "10A19", "ACGT", "ACGT-TTGA", "IIII", "chr1,100,+,30M,60,0;", "chr1,+100,30M,0;",
                                    "C+m,0,1;", ":10*ag:19", "LB", "UU", "ENSG00000139618", "12/A", "=", READ_GROUP)),
    st.text(alphabet="ACGTN-0123456789MIDS:;,+*I# ", max_size=32),
)  # fmt: skip


@st.composite
def tagged_records(draw: st.DrawFn) -> list[list[str]]:
    """Records of several tags each: allowlisted tags with text, numbers or characters of many kinds."""
    records = []
    for _ in range(draw(st.integers(1, 8))):
        tags = []
        for tag in draw(st.lists(st.sampled_from(sorted(AUX_TAGS)), min_size=1, max_size=5, unique=True)):
            kind = draw(st.sampled_from(["Z", "i", "f", "A"]))
            if kind == "Z":
                value = draw(TEXT_VALUES)
            elif kind == "i":
                value = str(draw(st.one_of(st.integers(-(1 << 31), (1 << 31) - 1), st.integers(-300, 300))))
            elif kind == "f":
                value = repr(draw(st.floats(-2, 3e7, width=32)))
            else:
                value = draw(st.sampled_from("+-URNMPSIi1x"))
            tags.append(f"{tag}:{kind}:{value}")
        records.append(tags)
    return records


@settings(max_examples=150, deadline=None)
@given(records=tagged_records())
def test_values_of_a_block_checked_in_bulk_as_record_by_record(records: list[list[str]], tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("block")
    text = HEADER + "".join(line(number, tags) + "\n" for number, tags in enumerate(records, start=1))
    try:
        data, walked, references, header_text = bam_block(text, folder)
    except (ValueError, OSError):
        return  # htslib refused a value (a float it cannot hold, an empty A): nothing to audit
    checks = AuxValueChecks(references, read_group_ids(header_text))
    block = RecordBlock.read(data, walked)
    rows, codes, types, starts, ends = walked.tags
    together = checks.off_grammar(block, rows, codes, types, starts, ends)
    alone = np.zeros(len(codes), dtype=bool)
    for row in range(walked.record_count):
        mine = np.flatnonzero(rows == row)
        alone[mine] = checks.off_grammar(block, rows[mine], codes[mine], types[mine], starts[mine], ends[mine])
    assert together.tolist() == alone.tolist()


# --- real files: what sam-scrub-rg writes, the audit accepts ---------------------------------------


@pytest.mark.slow  # every corpus SAM/BAM, scrubbed then audited: make test-slow
def test_corpus_files_after_sam_scrub_rg_have_no_value_finding(corpus: Path, tmp_path: Path) -> None:
    scrubbed: list[tuple[str, Path]] = []
    for path in sorted((corpus / "sam").iterdir()):
        if path.suffix not in (".sam", ".bam"):
            continue
        out = tmp_path / f"{len(scrubbed)}.sam"
        if CliRunner().invoke(scrub_rg_app, ["-q", "-o", str(out), str(path)]).exit_code != 0:  # in process: 2.7 s, not 30
            continue  # a file the scrubber refuses: nothing delivered
        as_bam = subprocess.run(["samtools", "view", "-b", "-o", "/dev/null", str(out)], capture_output=True, timeout=60).returncode == 0
        if as_bam and b"\n@SQ\t" in out.read_bytes():  # the audit reads SAM as BAM, converted by htslib, which wants @SQ lines
            scrubbed.append((path.name, out))
    assert len(scrubbed) > 30
    _, report = audit_report(tmp_path, *(out for _, out in scrubbed))
    found = {name: value_findings(result) for (name, _), result in zip(scrubbed, report["files"], strict=True)}
    assert {name: keys for name, keys in found.items() if keys} == {}
