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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from genoscrub import (
    audit_allowlist,
    audit_germline_markers,
    audit_header,
    aux_tags,
    identifiers,
    large_numbers,
    rarity,
    sam_header,
    vcf_scrub_header,
)
from genoscrub.audit_aux import AuxValueChecks, read_group_ids
from genoscrub.audit_bam import RecordBlock
from genoscrub.audit_header import contig_holds_personal, identifier_holds_personal, reference_holds_personal
from genoscrub.audit_record_values import holds_large_numbers
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import bam_block, run_command


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


def test_germline_markers_the_audit_finds_are_those_vcf_drop_rare_drops() -> None:
    """rt15 F3: the markers of a call its caller judged germline, vcf-drop-rare --drop-germline's
    (``rarity``) and genoscrub-audit --germline-markers' (``audit_germline_markers``), written apart."""
    assert {key: set(values) for key, values in audit_germline_markers.MARKER_INFO.items()} == {
        key.decode(): {value.decode() for value in values} for key, values in rarity.GERMLINE_INFO
    }
    assert {name.decode() for name in rarity.GERMLINE_FILTERS} == audit_germline_markers.MARKER_FILTERS


MARKER_PARTS = ["germline", "germline_risk", "GERMLINE", "Germline", "PASS", "weak_evidence", "SAO", "SS", "NT", "STATUS",
                "GermlineStatus", "XNT", "NTX", "1", "2", "3", "het", "hom", "ref", "Germline_DB", "Germline_Proxi", "LikelyLOH",
                "StrongLOH", "Somatic", "DP", "01", "+1", "003", "10", "HET", "Hom", "GERMLINE_RISK", "strongloh", "germline_db",
                "sao", "Nt"]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    filters=st.lists(st.sampled_from(MARKER_PARTS), min_size=1, max_size=3).map(";".join),
    info=st.lists(
        st.tuples(st.sampled_from(MARKER_PARTS), st.sampled_from(["", "=", "=="]), st.sampled_from(MARKER_PARTS)).map(
            lambda item: item[0] + (item[1] + item[2] if item[1] else "")
        ),
        max_size=3,
    ).map(lambda items: ";".join(items) or "."),
)
def test_germline_markers_give_vcf_drop_rare_answers(filters: str, info: str) -> None:
    """The audit's reading of a record's FILTER and INFO marks it germline where vcf-drop-rare's does,
    and its block search never passes over a block holding such a record."""
    expected = rarity.is_germline(filters.encode(), info.encode())
    assert audit_germline_markers.marked_germline(filters.encode(), info.encode()) == expected, (filters, info)
    record = f"chr1\t100\t.\tA\tG\t50\t{filters}\t{info}".encode()
    assert audit_germline_markers.may_hold_marker(b"chr1\t50\t.\tA\tC\t50\tPASS\t.\n" + record) or not expected


def test_vcf_keys_the_audit_accepts_are_those_vcf_scrub_header_writes() -> None:
    audited = set(audit_allowlist.VCF_STRUCTURED_KEYS) | set(audit_allowlist.VCF_PLAIN_KEYS)
    assert audited == {key.decode() for key in vcf_scrub_header.ALLOWED_KEYS}



def test_the_keys_known_to_hold_large_numbers_agree() -> None:
    """The Integer and Float keys whose numbers pass unread (a position, a depth, an rs number):
    vcf-scrub-header's list and the audit's, written apart, are the same list."""
    assert {key.decode() for key in large_numbers.LARGE_NUMBER_KEYS} == set(audit_allowlist.LARGE_NUMBER_KEYS)


FAMILY_KEYS = [
    "AC_afr", "AN_XX", "controls_AC_afr_female", "non_topmed_AN", "nhomalt", "nhomalt_grpmax", "nhomalt_grpmax_non_ukb",
    "AFR_AC", "AC_Adj", "gnomad_AN_nfe", "MIN_DP", "AS_MQ_DP", "dp_hist_all_n_larger", "age_hist_het_n_smaller", "STAR_AC",
    "ACC", "xAC", "AC1", "ANN", "DP4x", "DPADJ", "NAN", "n_larger", "hist_n_largest", "nhomaltx", "BIRTH", "AF_afr", "RSPOS",
    "faf95_afr", "AGE", "PHONE", "dbSNPBuildID", "PL", "GQ", "TLOD", "CIPOS", "HOMLEN",
]  # fmt: skip
"""Keys of the population databases' families and near misses."""


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["AC", "AN", "DP", "nhomalt", "n", "smaller", "larger", "afr", "X", "AS", "", "hist", "RS", "END"]),
                min_size=1, max_size=4).map("_".join))  # fmt: skip
def test_the_families_of_keys_known_to_hold_large_numbers_agree(key: str) -> None:
    assert large_numbers.holds_large_numbers(key.encode()) == holds_large_numbers(key.encode()), key


def test_the_keys_of_the_corpus_and_the_families_get_one_answer(corpus: Path) -> None:
    """Every INFO and FORMAT ID of the corpus's VCF headers, and the families' keys: the scrubber
    and the audit agree on which hold large numbers on purpose."""
    keys = {key.encode() for key in FAMILY_KEYS} | large_numbers.LARGE_NUMBER_KEYS
    for path in sorted((corpus / "vcf").iterdir()) + sorted((corpus / "vcf-bad").iterdir()):
        if path.suffix in (".vcf", ".gz"):
            opened = subprocess.run(["bcftools", "view", "-h", str(path)], capture_output=True).stdout
            keys |= set(re.findall(rb"^##(?:INFO|FORMAT)=<ID=([^,>]+)", opened, re.MULTILINE))
    assert len(keys) > 300
    assert {key for key in keys if large_numbers.holds_large_numbers(key)} == {key for key in keys if holds_large_numbers(key)}
    assert {key for key in FAMILY_KEYS if large_numbers.holds_large_numbers(key.encode())} == {
        "AC_afr", "AN_XX", "controls_AC_afr_female", "non_topmed_AN", "nhomalt", "nhomalt_grpmax", "nhomalt_grpmax_non_ukb",
        "AFR_AC", "AC_Adj", "gnomad_AN_nfe", "MIN_DP", "AS_MQ_DP", "dp_hist_all_n_larger", "age_hist_het_n_smaller", "STAR_AC",
        "RSPOS",
    }  # fmt: skip


NAME_PIECES = [
    "1990", "2023", "01", "1", "29", "123", "Jan", "january", "SEPT", "Oct", "may", "st", "nd", "th", "-", " ", "_", ".", "/", ",", ":",
    "x", "A", "*", "HLA-", "DRB1", "NC_", "NW_", "000001", "003315905", "JTFH", "KIMJ", "19900101", "v1", "GL", "KI270706", "J01415",
]  # fmt: skip
"""Pieces of dates with a month's name and of accessions, and their near misses."""


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(NAME_PIECES), min_size=1, max_size=7).map("".join))
def test_the_month_date_and_accession_shapes_agree(text: str) -> None:
    """The scrubbers' dates with a month's name and public accessions (``identifiers``) and the
    audit's (``audit_allowlist``), written apart, match the same spans."""
    for scrubber, audit_copy in ((identifiers.MONTH_DATE, audit_allowlist.DATE_WITH_MONTH_NAME),
                                 (identifiers.PUBLIC_ACCESSION.pattern, audit_allowlist.PUBLIC_ACCESSION)):  # fmt: skip
        written = [found.span() for found in re.finditer(scrubber, text.encode())]
        assert written == [found.span() for found in re.finditer(audit_copy, text)], (text, scrubber)

ASSEMBLER_CONTIGS = [
    "tig00000001", "tig00012345", "contig_000000008", "contig_1", "contig_123456", "NODE_1_length_12345_cov_6.7",
    "ptg000001l", "utg000123c", "h1tg000001l", "JAAAAA010000001.1", "chrUn_KI270302v1",
    "scaffold_0000001", "tig0000123456", "k141_123456", "000000001",
]  # fmt: skip
"""Contig names of the common assemblers (Canu's tig%08d, Flye, SPAdes, hifiasm, MEGAHIT) and
GenBank: no run of digits holds more than six significant digits."""
NUMBERED_CONTIGS = [
    "tig19900101", "tig0019900101", "ctg1234567", "contig_0001234567", "scaffold_0000-1234567", "1234567", "k141_1234567",
    "NODE_1_length_19900101_cov_1", "tig00000001_19900101", "NODE_105_length_1234567_cov_31.4",
]  # fmt: skip
"""Runs of seven significant digits or more: a date, a registration or record number (and so a
SPAdes contig of a million bases or more, or MEGAHIT's millionth: renamed before delivery)."""


@pytest.mark.parametrize("name", ASSEMBLER_CONTIGS + NUMBERED_CONTIGS)
def test_a_contig_name_gets_one_answer_from_the_scrubbers_and_the_audit(name: str) -> None:
    """A run of digits counts its significant digits in a contig or reference name, leading zeros
    removed: at most six pass (``tig00000001``), seven or more do not (``tig19900101``,
    ``tig0019900101``, ``ctg1234567``), alike in vcf-scrub-header's ``##contig`` IDs
    (``identifiers.personal_contig``), sam-scrub-rg's ``@SQ`` names (``personal_sequence_name``)
    and the audit's two readers (``contig_holds_personal``, ``reference_holds_personal``)."""
    expected = name in NUMBERED_CONTIGS
    answers = {
        "vcf-scrub-header": identifiers.personal_contig(name.encode()),
        "sam-scrub-rg": identifiers.personal_sequence_name(name.encode()),
        "audit ##contig": contig_holds_personal(name),
        "audit @SQ": reference_holds_personal(name),
    }
    assert answers == dict.fromkeys(answers, expected), name


def test_a_pseudonym_may_still_hold_seven_digits() -> None:
    """The significant-digit rule is a contig's: a pseudonym of a large biobank (``CMT1234567_00``)
    passes sam-scrub-rg's and vcf-scrub-header's map check and the audit's read-group rule."""
    assert not identifiers.personal_reference_name(b"CMT1234567_00")
    assert not identifier_holds_personal("CMT1234567_00")
    assert identifiers.SEVEN_DIGITS in identifiers.PERSONAL.pattern  # CONTIG_PERSONAL is PERSONAL with it replaced
    assert identifiers.CONTIG_PERSONAL.pattern != identifiers.HEADER_PERSONAL.pattern


def test_sam_scrub_rg_and_vcf_scrub_header_keep_and_refuse_the_same_contig_names(tmp_path: Path) -> None:
    """Through the commands: Canu's ``tig00000001`` is kept by both, ``tig0019900101`` refused by both."""
    for name, kept in (("tig00000001", True), ("contig_000000008", True), ("tig0019900101", False), ("ctg1234567", False)):
        columns = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        vcf = f"##fileformat=VCFv4.2\n##contig=<ID={name},length=1000>\n{columns}{name}\t5\t.\tA\tC\t5\tPASS\t.\n"
        sam = f"@HD\tVN:1.6\tSO:unsorted\n@SQ\tSN:{name}\tLN:1000\nr1\t0\t{name}\t5\t60\t4M\t*\t0\t0\tACGT\tIIII\n"
        for command, text in (("vcf-scrub-header", vcf), ("sam-scrub-rg", sam)):
            result = run_command(command, "-q", input=text.encode())
            assert (result.returncode == 0) == kept, (command, name, result.stderr)
            assert name.encode() not in result.stderr


SEPARATED_PIECES = [
    "010", "02", "1234", "123", "5678", "1990", "2000", "01", "10", "12", "15", "0", "~", "+", "|", ",", ";", " - ", " ", ".", "_", "-",
    "&", "shy", "nbsp", "NBSP", "#173", "#xad", ";", "reg", "J", "ctg", "JAN", "Dec", "chr", "10.0.0.1", "kim", "snuh", "ac.kr", ".local",
    "(", ")", "(02)", "+82", "(0)", "2", "10",
]  # fmt: skip
"""Pieces of phone numbers, dates joined by list separators, HTML references, months written onto letters
and places in names, and their near misses."""


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(SEPARATED_PIECES), min_size=1, max_size=8).map("".join))
def test_the_phone_listed_date_reference_and_place_shapes_agree(text: str) -> None:
    """Red team 9 B1 to B4: the scrubbers' phone numbers, dates joined by a list's separator, HTML
    references, dates with a month's name and places in contig names (``identifiers``) and the
    audit's copies (``audit_allowlist``), written apart, match the same spans."""
    pairs = (
        (identifiers.PHONE, audit_allowlist.PHONE_NUMBER),
        (identifiers.DELIMITED_DATE, audit_allowlist.LISTED_DATE),
        (identifiers.HTML_REFERENCE, audit_allowlist.HTML_REFERENCE),
        (identifiers.MONTH_DATE, audit_allowlist.DATE_WITH_MONTH_NAME),
        (identifiers.PLACE_IN_NAME.pattern, audit_allowlist.PLACE_IN_NAME),
    )
    for scrubber, audit_copy in pairs:
        flags = re.IGNORECASE if scrubber is identifiers.PLACE_IN_NAME.pattern else 0
        written = [found.span() for found in re.finditer(scrubber, text.encode(), flags)]
        assert written == [found.span() for found in re.finditer(audit_copy, text)], (text, audit_copy)


TWO_DIGIT_PIECES = ["29", "10", "23", "31", "13", "01", "00", "2", "1990", "v", "c", "x", ".", ". ", "/", "-", "_", " ", ":", "|", ","]
"""Pieces of dates with a two-digit year, and of their near misses (versions, times, lists, HGVS offsets)."""


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(TWO_DIGIT_PIECES), min_size=1, max_size=8).map("".join))
def test_the_two_digit_year_date_shapes_agree(text: str) -> None:
    """A date with a two-digit year (``29.10.23``, ``10.29.23``, ``23.10.29``): the scrubbers' rule
    (``identifiers.TWO_DIGIT_YEAR_DATE``) and the audit's copy match the same spans."""
    written = [found.span() for found in re.finditer(identifiers.TWO_DIGIT_YEAR_DATE, text.encode())]
    assert written == [found.span() for found in re.finditer(audit_allowlist.TWO_DIGIT_YEAR_DATE, text)], text


TWO_DIGIT_YEAR_DATES = ["29.10.23", "10.29.23", "23.10.29", "29_10_23", "29 10 23", "23. 10. 29.", "DOB:29.10.23", "ctg_29.10.23"]
NOT_TWO_DIGIT_YEAR_DATES = ["v2.10.23", "1.10.23", "4.2.10", "12:13:49", "c.10-12_10-10", "29.13.23", "32.13.23", "29.10.234", "x29.10.23"]


@pytest.mark.parametrize("text", TWO_DIGIT_YEAR_DATES + NOT_TWO_DIGIT_YEAR_DATES)
def test_a_two_digit_year_date_gets_one_answer_from_the_scrubbers_and_the_audit(text: str) -> None:
    """Each text rule that reads dates finds a date with a two-digit year alike: vcf-scrub-header's
    Descriptions, record values and contig IDs, sam-scrub-rg's reference names, and the audit's text,
    record value and contig rules; versions, times and HGVS offsets pass them all."""
    expected = text in TWO_DIGIT_YEAR_DATES
    name = text.replace(". ", ".").replace(" ", "_")  # a reference name holds no blank
    answers = {
        "Description": identifiers.HEADER_PERSONAL.search(text.encode()) is not None,
        "record value": identifiers.PERSONAL.search(text.encode()) is not None,
        "contig": identifiers.personal_contig(text.encode()),
        "reference name": identifiers.personal_reference_name(name.encode()),
        "audit text": re.search(audit_allowlist.PERSONAL_IN_TEXT, text) is not None,
        "audit contig": contig_holds_personal(text),
        "audit reference name": reference_holds_personal(name),
    }
    assert answers == dict.fromkeys(answers, expected), text


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
    run_command("genoscrub-audit", "-q", "--report", str(report), str(path))
    return json.loads(report.read_text())


def metadata_keys(report: dict) -> dict[str, int]:  # type: ignore[type-arg]
    (found,) = report["files"]
    return dict(found["findings"]["metadata"].get("by_key", {}))


def test_what_sam_scrub_rg_writes_the_audit_accepts_and_what_it_drops_the_audit_finds(tmp_path: Path) -> None:
    planted = tmp_path / "planted.sam"
    planted.write_bytes(PLANTED_SAM)
    scrubbed = tmp_path / "scrubbed.sam"
    done = run_command("sam-scrub-rg", "-q", "--names", "-o", str(scrubbed), str(planted))
    assert done.returncode == 0, done.stderr.decode()
    assert metadata_keys(audit(scrubbed, tmp_path / "out.json")) == {}
    found = metadata_keys(audit(planted, tmp_path / "in.json"))
    text = scrubbed.read_bytes()
    for tag in ("CO", "BC", "XZ", "zz"):  # dropped by the scrubber: each a finding on the input
        assert f"\t{tag}:".encode() not in text
        assert any(re.search(rf"\b{tag}\b", key) for key in found), (tag, found)
    for tag in ("CN", "DT", "DS", "PM", "UR"):
        assert any(tag in key for key in found), (tag, found)


PERSONAL_HEADER = (
    b"@HD\tVN:1.6\n"
    b"@SQ\tSN:chr1\tLN:100000\tAN:asm_KIM_19900101,900101-1234567,kim@hosp.org,1990-01-01,home/kimjh/ref.fa\tAH:KIM_19900101\n"
    b"@SQ\tSN:chrM\tLN:16569\tAN:MT,NC_012920.1\tAH:chr1:5-100\n"
    b"@RG\tID:S2301217N_19900101\tSM:KIM_JIHYUN_900101-1234567\tLB:010-1234-5678\tPU:1990-01-01\tPL:ILLUMINA\n"
    b"@RG\tID:HK2VMDSXY.2\tSM:S2301217T\tLB:LIB_1990.01.01\tPU:HK2VMDSXY.2.ACGT\n"
    b"@PG\tID:sam-scrub-rg\tPN:genoscrub\tVN:19900101.900101-1234567\n"
    b"READ1\t0\tchr1\t100\t60\t4M\t*\t0\t0\tACGT\tIIII\tRG:Z:S2301217N_19900101\n"
)


@pytest.mark.parametrize("scheme", [[], ["--key-file", "KEY"]])
def test_header_values_holding_personal_data_are_found_and_what_sam_scrub_rg_writes_in_their_place_passes(
    scheme: list[str], tmp_path: Path
) -> None:
    """Red team 7a F3: the audit holds every header value a grammar lets text through to the rules
    of a name: each @SQ AN name to a reference name's, AH to a locus of the header, @RG ID, SM, LB,
    PU and @PG ID, VN to a VCF sample name's (as written and percent-decoded). What sam-scrub-rg
    writes in their place (pseudonyms, counted or keyed, its platform unit, its own @PG) passes."""
    planted = tmp_path / "planted.sam"
    planted.write_bytes(PERSONAL_HEADER)
    assert metadata_keys(audit(planted, tmp_path / "in.json")) == {
        "header value @SQ AN (holds personal data)": 1,
        "header value @SQ AH": 1,
        "header value @RG ID (holds personal data)": 1,
        "header value @RG SM (holds personal data)": 1,
        "header value @RG LB (holds personal data)": 2,
        "header value @RG PU (holds personal data)": 1,
        "header value @PG VN": 1,  # off the version's grammar before any rule of a name
    }
    key = tmp_path / "site.key"
    key.write_bytes(b"test key for the header rules, 32")
    key.chmod(0o600)
    options = [str(key) if option == "KEY" else option for option in scheme]
    scrubbed = tmp_path / "scrubbed.sam"
    done = run_command("sam-scrub-rg", "-q", *options, "-o", str(scrubbed), str(planted))
    assert done.returncode == 0, done.stderr.decode()
    assert b"\tAN:MT,NC_012920.1\tAH:chr1:5-100\n" in scrubbed.read_bytes()
    assert metadata_keys(audit(scrubbed, tmp_path / "out.json")) == {}


AN_NAMES = [
    "1", "chr1", "NC_000001.11", "CM000663.2", "NC_000001.10", "CM000663.1", "J01415.2", "NW_003315905.1",
    "AB900101.1", "CM123456.7", "NC_900101.1", "A1234567.1", "NC_1234567.1", "KJ_19900101.1", "AB_123456.1", "MT", "KIM",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(AN_NAMES), min_size=1, max_size=4))
def test_an_alternative_name_list_sam_scrub_rg_keeps_the_audit_accepts(names: list[str]) -> None:
    """Red team 9 A3: each name of @SQ AN was judged alone, so two accessions could spell a number
    between them (``AN:AB900101.1,CM123456.7``: 900101-1234567). Both sides now hold a list to no
    name twice and one accession of each database (RefSeq's, INSDC's) in its shape; what
    sam-scrub-rg keeps the audit accepts, and a list the audit finds sam-scrub-rg drops."""
    value = ",".join(names)
    line = b"@SQ\tSN:chr1\tLN:100\tAN:" + value.encode()
    kept = b"AN" in sam_header.parse_header([line], "-").of_type(b"SQ")[0].fields
    found = audit_header.held_value("SQ", "AN", value, {"chr1": 100}) is not None
    assert not (kept and found), value
    refseq = sum(name in ("NC_000001.11", "NC_000001.10", "NW_003315905.1", "NC_900101.1") for name in names)
    insdc = sum(name in ("CM000663.2", "CM000663.1", "J01415.2", "AB900101.1", "CM123456.7") for name in names)
    if len(set(names)) != len(names) or refseq > 1 or insdc > 1:
        assert not kept and found, value
    if value in ("1,CM000663.2,NC_000001.11", "NC_000001.11,CM000663.2", "chr1,1,NW_003315905.1,J01415.2"):
        assert kept and not found, value


@pytest.mark.parametrize(
    "value",
    ["AB900101.1,CM123456.7", "NC_900101.1,NC_123456.7", "NC_000001.11,NC_900101.1", "AB900101.1,A1234567.1", "1,1,1", "1,NC_1234567.1"],
)
def test_alternative_names_that_spell_a_number_together_go_and_are_found(value: str) -> None:
    line = b"@SQ\tSN:chr1\tLN:100\tAN:" + value.encode()
    assert b"AN" not in sam_header.parse_header([line], "-").of_type(b"SQ")[0].fields
    assert audit_header.held_value("SQ", "AN", value, {"chr1": 100}) == " (holds personal data)"


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"[0-9]{1,4}\.[0-9]{1,4}|1\.[0-9]{1,3}[a-z0-9.]{0,2}", fullmatch=True))
def test_the_header_version_the_scrubber_keeps_is_the_one_the_audit_accepts(version: str) -> None:
    kept = sam_header.parse_header([b"@HD\tVN:" + version.encode()], "-").of_type(b"HD")[0].fields[b"VN"] == version.encode()
    assert kept == (re.fullmatch(audit_allowlist.SAM_HEADER_TAGS["HD"]["VN"], version) is not None), version


PLANTED_VCF = (
    b"##fileformat=VCFv4.2\n##fileDate=20231029\n##source=caller /home/kimjh\n"
    b"##contig=<ID=chr1,length=100,assembly=GRCh38,URL=file:///x>\n"
    b'##INFO=<ID=AF,Number=A,Type=Float,Description="AF in /home/kimjh",Source="lab">\n'
    b'##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    b"##reference=file:///data/S2301217T/GRCh38.fa\n##SAMPLE=<ID=S2301217T>\n##bcftools_viewCommand=view x.vcf\n"
    b"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS2301217T\n"
    b"chr1\t3\tHOSP_1\tG\tA\t50\tPASS\tAF=0.2\tGT\t0/1\n"
)


def test_what_vcf_scrub_header_writes_the_audit_accepts_and_what_it_drops_the_audit_finds(tmp_path: Path) -> None:
    planted = tmp_path / "planted.vcf"
    planted.write_bytes(PLANTED_VCF)
    scrubbed = tmp_path / "scrubbed.vcf"
    done = run_command("vcf-scrub-header", "-q", "-o", str(scrubbed), str(planted))
    assert done.returncode == 0, done.stderr.decode()
    assert metadata_keys(audit(scrubbed, tmp_path / "out.json")) == {}
    found = " ".join(metadata_keys(audit(planted, tmp_path / "in.json")))
    for key in ("fileDate", "source", "SAMPLE", "bcftools_viewCommand", "URL", "Source", "ID column"):
        assert key in found, (key, found)


# --- aux tag values: what sam-scrub-rg keeps, the audit accepts ------------------------------------

SEQ = "ACGTACGTAC" * 3
CIGAR = f"{len(SEQ)}M"
READ_GROUP = "CMT001_00.L1"
VALUES_HEADER = (
    f"@HD\tVN:1.6\tSO:unsorted\n@SQ\tSN:chr1\tLN:100000\n@SQ\tSN:chr2\tLN:5000\n@RG\tID:{READ_GROUP}\tSM:CMT001_00\tPL:ILLUMINA\n"
)
REFERENCES = {b"chr1": 100000, b"chr2": 5000}
BARCODE = "ACGT-TTGA"
EXAMPLES = {
    "CC": "chr2", "MC": "75M1D75M", "OC": "30M", "cg": "10=1X19=", "MD": "10A5^AC12", "SA": "chr2,100,+,20M10S,60,1;",
    "OA": "chr1,100,-,30M,0,;*,0,+,*,0,;", "XA": "chr1,-900,30M,2;chr2,+1,15M1I14M,3;", "XB": "chr1,+5,30M,1,25,60;",
    "TS": "+", "OQ": "#" * 30, "U2": "5" * 30, "BQ": "@" * 30, "BD": "N" * 30, "BI": "N" * 30, "E2": "ACGTN" * 6, "R2": "acgtn=.",
    "Q2": "IIIIIII", "CS": "T0123.", "CQ": "IIIIII", "MM": "C+m,0,2;A-a?,1;", "ML": "C,255,0,128", "MI": "12/A", "RX": BARCODE,
    "QX": "IIII IIII", "OX": BARCODE, "BZ": "IIII IIII", "CB": "ACGTACGT-1", "CR": BARCODE, "CY": "IIII IIII", "UB": "ACGTAC",
    "UR": BARCODE, "UY": "IIII IIII", "XS": "+", "XT": "U", "YT": "CP", "YF": "NS", "tp": "P", "ts": "-", "cs": ":10*ag:5-ac:4+ac:8",
    "de": "0.0123", "dv": "1", "jM": "c,-1", "jI": "i,-1", "ch": "1", "vA": "C,1,2", "vG": "i,105,120", "GX": "ENSG00000139618.5",
    "DT": "SQ", "RG": READ_GROUP,
}  # fmt: skip
"""A value of each tag that is not a number: what its tools write."""
PARTNERS = {"Q2": "R2", "CQ": "CS", "QX": "RX", "BZ": "OX", "CY": "CR", "UY": "UR", "ML": "MM"}
"""Tags tied to a partner tag of their record (barcode and mate qualities, base modification likelihoods)."""


def types_of(tag: str) -> list[str]:
    return sorted(set(aux_tags.KEPT_TAGS[tag.encode()].types.decode())) if tag != "RG" else ["Z"]


def record_line(number: int, tags: list[tuple[str, str, str]]) -> str:
    fields = [f"READ{number}", "0", "chr1", "100", "60", CIGAR, "*", "0", "0", SEQ, "I" * len(SEQ)]
    return "\t".join(fields + [f"{tag}:{kind}:{value}" for tag, kind, value in tags])


def scrubber_keeps(tags: list[tuple[str, str, str]]) -> list[bool]:
    """sam-scrub-rg's decision on each tag of one record (its one-record path)."""
    policy = aux_tags.TagPolicy()
    encoded = [(tag.encode(), kind.encode(), value.encode()) for tag, kind, value in tags]
    columns = record_line(1, []).encode().split(b"\t")
    valid = policy.valid_record_values(encoded, SEQ.encode(), CIGAR.encode(), REFERENCES, columns)
    decided = [policy.decide(tag, kind) for tag, kind, _ in encoded]
    return [status == aux_tags.REWRITE_RG or (status == aux_tags.KEEP and ok) for status, ok in zip(decided, valid, strict=True)]


def audit_off_grammar(records: list[list[tuple[str, str, str]]], folder: Path) -> list[list[bool]]:
    """genoscrub-audit's value check (its bulk path, on BAM) of each tag of each record."""
    text = VALUES_HEADER + "".join(record_line(number, tags) + "\n" for number, tags in enumerate(records, start=1))
    data, walked, references, header_text = bam_block(text, folder)
    checks = AuxValueChecks(references, read_group_ids(header_text))
    rows, codes, types, starts, ends = walked.tags
    off = checks.off_grammar(RecordBlock.read(data, walked), rows, codes, types, starts, ends).tolist()
    found: list[list[bool]] = [[] for _ in records]
    for row, flag in zip(rows.tolist(), off, strict=True):
        found[row].append(flag)
    return found


def test_every_allowlisted_tag_has_a_value_grammar_of_the_types_sam_scrub_rg_keeps() -> None:
    assert set(audit_allowlist.AUX_VALUES) == set(audit_allowlist.AUX_TAGS)
    for name, tag in aux_tags.KEPT_TAGS.items():
        assert {value.type for value in audit_allowlist.AUX_VALUES[name.decode()]} == set(tag.types.decode()), name


def test_a_tool_written_value_of_each_tag_is_kept_and_accepted(tmp_path: Path) -> None:
    records = []
    for tag in sorted(audit_allowlist.AUX_TAGS):
        for kind in types_of(tag):
            value = "7" if kind == "i" else EXAMPLES[tag]
            tags = [(tag, kind, value)]
            if tag in PARTNERS:
                partner = "T" + "0" * (len(value) - 1) if PARTNERS[tag] == "CS" else BARCODE if " " in value else "A" * len(value)
                partner = EXAMPLES["MM"] if tag == "ML" else partner
                tags.append((PARTNERS[tag], "Z", partner))
            if tag == "vA":  # one allele for each variant of vG
                tags.append(("vG", "B", EXAMPLES["vG"]))
            if tag != "RG":
                tags.insert(0, ("RG", "Z", READ_GROUP))
            assert all(scrubber_keeps(tags)), tags
            records.append(tags)
    assert not any(flag for flags in audit_off_grammar(records, tmp_path) for flag in flags)


@st.composite
def values_of(draw: st.DrawFn, tag: str) -> tuple[str, str]:
    """A type and value for ``tag``: near its grammar (edges of its range, its alphabet, a tool's
    value changed a little), so that sam-scrub-rg keeps many and drops many."""
    kind = draw(st.sampled_from(types_of(tag)))
    if kind == "i":
        edge = st.sampled_from([-1, 0, 255, 256, 999_999, 1_000_000, -999_999, -1_000_000, 19900101, (1 << 31) - 1, -(1 << 31)])
        return kind, str(draw(st.one_of(edge, st.integers(-(1 << 31), (1 << 31) - 1), st.integers(-300, 300))))
    if kind == "f":
        return kind, draw(st.sampled_from(["0", "1", "0.5", "1.0001", "-0.1", "19900101", "1e-05", ".5", "19900101e-8", "0.9001011234567",
                                           "1e-19900101", "0.19900101", "0.123457", "0.000000", "1.00000"]))  # fmt: skip
    if kind == "A":
        return kind, draw(st.sampled_from("+-URNMPSIi1x0"))
    if kind == "B":
        subtype = draw(st.sampled_from("cCsSiI"))
        return kind, subtype + "".join(f",{number}" for number in draw(st.lists(st.integers(0, 100), max_size=4)))
    example = EXAMPLES[tag]
    alphabet = sorted(set(example + "0123456789-;,*"))
    planted = ["19900101", "900101-1234567", "1990-01-01", "kimjh@snuh.org", "/home/kimjh/x.bam", "*", "=", "chr1", "30M", "I" * 30,
               "chr1,500,+,10M,60,19900101;", "chr1,+600,10M,999999;", "chr1,-700,10M,1,9001011234,60;", "chr1,-700,10M,1,-999999,60;",
               "ENSKIMJHG19900101123", "ENSMUSG00000064370", "ENSG19900101123", "ENSG00001990010", "ENSG00000310000"]  # fmt: skip
    at, piece = draw(st.integers(0, len(example))), draw(st.text(alphabet=alphabet, max_size=3))
    changed = draw(st.one_of(
        st.just(example), st.text(alphabet=alphabet, max_size=len(example) + 3), st.just(example[:at] + piece + example[at + 1 :]),
        st.sampled_from(planted),
    ))  # fmt: skip
    return kind, changed


@st.composite
def tagged_records(draw: st.DrawFn) -> list[list[tuple[str, str, str]]]:
    records = []
    for _ in range(draw(st.integers(1, 6))):
        tags = [("RG", "Z", READ_GROUP)]
        for tag in draw(st.lists(st.sampled_from(sorted(audit_allowlist.AUX_TAGS - {"RG"})), min_size=1, max_size=4, unique=True)):
            kind, value = draw(values_of(tag))
            tags.append((tag, kind, value))
        records.append(tags)
    return records


@pytest.mark.slow  # a long property sweep of planted values: make test-slow (CI runs it after make test)
@settings(max_examples=250, deadline=None)
@given(records=tagged_records())
def test_values_sam_scrub_rg_keeps_the_audit_accepts(
    records: list[list[tuple[str, str, str]]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Generated values of every allowlisted tag: each kept by sam-scrub-rg is no finding of the
    audit (which would otherwise hold back clean deliveries). Planted identifiers the scrubber
    drops are findings: tests/test_audit_aux_values.py."""
    try:
        off = audit_off_grammar(records, tmp_path_factory.mktemp("values"))
    except (ValueError, OSError):
        return  # htslib refused a value: no BAM to audit
    for tags, flags in zip(records, off, strict=True):
        kept = scrubber_keeps(tags)
        assert len(flags) == len(tags)
        assert not [tag for tag, keep, flag in zip(tags, kept, flags, strict=True) if keep and flag]


BARCODE_TAGS = ["RX", "OX", "CR", "UB", "UR", "CB"]


@settings(max_examples=100, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from(BARCODE_TAGS), st.text(alphabet="ACGTN-", min_size=1, max_size=60),
                               st.sampled_from(["", "-1", "-12"])), min_size=1, max_size=6))  # fmt: skip
def test_barcode_lengths_get_one_answer(rows: list[tuple[str, str, str]], tmp_path_factory: pytest.TempPathFactory) -> None:
    """A barcode or UMI of more than 32 bytes (``CB`` before its ``-1``) may hold a read's own
    bases (an STR allele masked in SEQ, a reverted carrier's allele): sam-scrub-rg drops it and the
    audit finds it; one of 32 or fewer (a 10x cell barcode, two UMIs or indexes of 10 joined by
    ``-``) is kept and accepted."""
    records = [[("RG", "Z", READ_GROUP), (tag, "Z", bases + (suffix if tag == "CB" else ""))] for tag, bases, suffix in rows]
    off = audit_off_grammar(records, tmp_path_factory.mktemp("barcodes"))
    for (_, bases, _), tags, flags in zip(rows, records, off, strict=True):
        kept = scrubber_keeps(tags)[1]
        assert kept == (len(bases) <= 32) and flags[1] == (not kept), tags


ALIGNED_CIGARS = ["30M", "10M200N20M", "5M20N5M100N20M", "2S28M", "*"]
MATES = [("=", "500", "10M50N20M"), ("=", "500", None), ("chr2", "500", "10M50N20M"), ("*", "0", None), ("=", "500", "30M")]
ALIGNMENT_VALUES = st.one_of(
    st.sampled_from(["i,-1", "i,110,309", "i,105,124,225,324", "i,510,559", "i,110,309,510,559", "i,510,559,110,309", "I,110,309",
                     "i,75,73,77,74,73,72,79,79,78", "C,75,73", "i,110,308", "i,100,129", "i,500,529", "i", "i,99", "i,130,510"]),
    st.lists(st.integers(-1, 700), max_size=4).map(lambda numbers: "i" + "".join(f",{number}" for number in numbers)),
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from(ALIGNED_CIGARS), st.sampled_from(MATES), st.sampled_from(["jI", "vG", "CG"]),
                               ALIGNMENT_VALUES), min_size=1, max_size=6))  # fmt: skip
def test_alignment_tied_tags_get_one_answer(rows: list[tuple[str, tuple[str, str, str | None], str, str]],
                                            tmp_path_factory: pytest.TempPathFactory) -> None:  # fmt: skip
    """STAR's ``jI`` and ``vG``, held to the record's alignment and its mate's (``MC`` from
    PNEXT), and ``CG``: sam-scrub-rg keeps a value exactly when the audit, reading the BAM by its
    own code, accepts it (a ``CG`` beside a CIGAR that is not htslib's placeholder, never)."""
    lines = []
    for number, (cigar, (rnext, pnext, mate_cigar), tag, value) in enumerate(rows, start=1):
        seq = "A" * 30 if cigar != "*" else "*"
        fields = [f"READ{number}", "65", "chr1", "100" if cigar != "*" else "0", "60", cigar, rnext, pnext, "0", seq, "*"]
        tags = [f"RG:Z:{READ_GROUP}", f"{tag}:B:{value}"] + ([f"MC:Z:{mate_cigar}"] if mate_cigar else [])
        lines.append("\t".join(fields + tags))
    try:
        text = VALUES_HEADER + "".join(line + "\n" for line in lines)
        data, walked, references, header_text = bam_block(text, tmp_path_factory.mktemp("tied"))
    except (ValueError, OSError):
        return
    block = RecordBlock.read(data, walked)
    checks = AuxValueChecks(references, read_group_ids(header_text))
    records, codes, types, starts, ends = walked.tags
    off = checks.off_grammar(block, records, codes, types, starts, ends)
    allowed = np.array([(chr(code >> 8) + chr(code & 0xFF)) in audit_allowlist.AUX_TAGS for code in codes.tolist()])
    accepted = allowed & ~off
    policy = aux_tags.TagPolicy()
    for row, line in enumerate(lines):
        columns = line.encode().split(b"\t")
        fields_of_tags = [(field[:2], field[3:4], field[5:]) for field in columns[11:]]
        kept_tags = [tag for tag in fields_of_tags if policy.decide(tag[0], tag[1]) == aux_tags.KEEP]
        valid = policy.valid_record_values(kept_tags, columns[9], columns[5], REFERENCES, columns)
        verdicts = dict(zip([name for name, _, _ in kept_tags], valid, strict=True))
        for index in np.flatnonzero(records == row).tolist():
            name = bytes([int(codes[index]) >> 8, int(codes[index]) & 0xFF])
            if name in (b"jI", b"vG", b"CG"):
                assert bool(accepted[index]) == verdicts.get(name, False), (line, name)


def verdicts_of_both(
    lines: list[str], data: bytes, walked: Any, references: Any, header_text: bytes, tag_of: Callable[[list[bytes]], bytes]
) -> Iterator[tuple[str, bool, bool]]:
    """For each record line, its tag ``tag_of(columns)`` (the one field of that name): whether
    sam-scrub-rg keeps its value (``TagPolicy.valid_record_values`` over the tags it keeps) and
    whether the audit, reading the BAM of the lines by its own code, accepts it."""
    block = RecordBlock.read(data, walked)
    checks = AuxValueChecks(references, read_group_ids(header_text))
    records, codes, types, starts, ends = walked.tags
    accepted = ~checks.off_grammar(block, records, codes, types, starts, ends)
    policy = aux_tags.TagPolicy()
    for row, line in enumerate(lines):
        columns = line.encode().split(b"\t")
        fields_of_tags = [(field[:2], field[3:4], field[5:]) for field in columns[11:]]
        kept_tags = [tag for tag in fields_of_tags if policy.decide(tag[0], tag[1]) == aux_tags.KEEP]
        verdicts = policy.valid_record_values(kept_tags, columns[9], columns[5], REFERENCES, columns)
        tag = tag_of(columns)
        kept = next(verdict for (name, _, _), verdict in zip(kept_tags, verdicts, strict=True) if name == tag)
        (field,) = [index for index in np.flatnonzero(records == row).tolist() if codes[index] == (tag[0] << 8) | tag[1]]
        yield line, kept, bool(accepted[field])


MOTIF_CIGARS = ["30M", "10M200N20M", "5M20N5M100N20M", "*"]
MOTIF_MATES = [("=", "500", "10M50N20M"), ("=", "500", None), ("chr2", "500", "10M50N20M"), ("=", "500", "30M")]
INTRONS = [None, "i,-1", "i,110,309", "i,105,124,225,324", "i,510,559", "i,110,309,510,559", "i,110,308", "Z", "i", "i,-01"]
MOTIFS = st.one_of(
    st.sampled_from(["c,-1", "c,1", "c,21", "c,1,2", "c,-1,1", "c,2,0,0,1,0,6,1,5", "c", "C,1", "c,7"]),
    st.lists(st.sampled_from([-1, 0, 1, 6, 20, 26]), max_size=4).map(lambda numbers: "c" + "".join(f",{number}" for number in numbers)),
)


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from(MOTIF_CIGARS), st.sampled_from(MOTIF_MATES), st.sampled_from(INTRONS), MOTIFS,
                               st.booleans()), min_size=1, max_size=6))  # fmt: skip
def test_junction_motifs_get_one_answer(rows: list[tuple[str, tuple[str, str, str | None], str | None, str, bool]],
                                        tmp_path_factory: pytest.TempPathFactory) -> None:  # fmt: skip
    """STAR's ``jM``, held to the junctions of its record's ``jI`` (kept and valid) or, without one, to
    the skips of the record's alignment and its mate's: sam-scrub-rg keeps a value exactly when the
    audit, reading the BAM by its own code, accepts it; ``jI`` before or after it."""
    lines = []
    for number, (cigar, (rnext, pnext, mate_cigar), introns, motifs, introns_first) in enumerate(rows, start=1):
        seq = "A" * 30 if cigar != "*" else "*"
        fields = [f"READ{number}", "65", "chr1", "100" if cigar != "*" else "0", "60", cigar, rnext, pnext, "0", seq, "*"]
        paired = [] if introns is None else ["jI:Z:x" if introns == "Z" else f"jI:B:{introns}"]
        tags = [f"RG:Z:{READ_GROUP}", *(paired if introns_first else []), f"jM:B:{motifs}", *([] if introns_first else paired)]
        lines.append("\t".join(fields + tags + ([f"MC:Z:{mate_cigar}"] if mate_cigar else [])))
    try:
        text = VALUES_HEADER + "".join(line + "\n" for line in lines)
        data, walked, references, header_text = bam_block(text, tmp_path_factory.mktemp("motifs"))
    except (ValueError, OSError):
        return
    for line, kept, accepted in verdicts_of_both(lines, data, walked, references, header_text, lambda columns: b"jM"):
        assert accepted == kept, line


VARIANTS = st.one_of(st.none(), st.just("Z"), st.sampled_from(["i,105", "i,105,120", "i,105,120,125", "i,90", "I,105,120"]))
ALLELES = st.sampled_from(["c,1", "C,1,2", "c,1,2,3", "c,2,1,3,3,1,2,2,1", "c,4", "c", "c,1,2,3,1,2,3,1,2"])


@settings(max_examples=100, deadline=None)
@given(rows=st.lists(st.tuples(VARIANTS, ALLELES, st.booleans(), st.booleans()), min_size=1, max_size=6))
def test_variant_alleles_get_one_answer(rows: list[tuple[str | None, str, bool, bool]], tmp_path_factory: pytest.TempPathFactory) -> None:
    """STAR's ``vA``, held to the count of its record's ``vG`` (kept, valid, given once): sam-scrub-rg
    keeps a value exactly when the audit, reading the BAM by its own code, accepts it; ``vG`` before
    or after it, or twice."""
    lines = []
    for number, (variants, alleles, variants_first, twice) in enumerate(rows, start=1):
        fields = [f"READ{number}", "0", "chr1", "100", "60", CIGAR, "*", "0", "0", SEQ, "*"]
        paired = [] if variants is None else ["vG:Z:x" if variants == "Z" else f"vG:B:{variants}"] * (2 if twice else 1)
        tags = [f"RG:Z:{READ_GROUP}", *(paired if variants_first else []), f"vA:B:{alleles}", *([] if variants_first else paired)]
        lines.append("\t".join(fields + tags))
    text = VALUES_HEADER + "".join(line + "\n" for line in lines)
    data, walked, references, header_text = bam_block(text, tmp_path_factory.mktemp("alleles"))
    for line, kept, accepted in verdicts_of_both(lines, data, walked, references, header_text, lambda columns: b"vA"):
        assert accepted == kept, line


LISTS = st.sampled_from([
    "SA:Z:chr1,500,+,10M,60,0;", "SA:Z:chr1,500,+,4S10M,60,0;", "SA:Z:chr1,500,+,5H10M,60,0;", "SA:Z:chr1,500,+,19900101M,60,0;",
    "OA:Z:chr1,500,+,5S19900101M,60,0;", "OA:Z:*,0,+,*,255,;", "XA:Z:chr1,+500,19900101M,0;", "XA:Z:chr1,+500,3S7M,0;chr1,-9,12M,1;",
    "XB:Z:chr1,+100,11M,2,90,60;", "SA:Z:chr1,1,+,2M1000N2M,60,0;", "XA:Z:map2-1",
])  # fmt: skip


@settings(max_examples=100, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from(["A" * 10, "*"]), st.sampled_from(["10M", "4H10M", "3S7M", "*", "2M2I6M"]), LISTS),
                     min_size=1, max_size=6))  # fmt: skip
def test_alignment_list_cigars_get_one_answer(rows: list[tuple[str, str, str]], tmp_path_factory: pytest.TempPathFactory) -> None:
    """Alignment list entries held to the read's whole length (SEQ and its hard clips; without SEQ
    what the CIGAR lays out) and to the contig's: sam-scrub-rg keeps a list exactly when the audit,
    reading the BAM by its own code, accepts it."""
    lines = [
        "\t".join([f"READ{number}", "0", "chr1", "100", "60", cigar, "*", "0", "0", seq, "*", f"RG:Z:{READ_GROUP}", listed])
        for number, (seq, cigar, listed) in enumerate(rows, start=1)
    ]
    text = VALUES_HEADER + "".join(line + "\n" for line in lines)
    data, walked, references, header_text = bam_block(text, tmp_path_factory.mktemp("lists"))
    for line, kept, accepted in verdicts_of_both(lines, data, walked, references, header_text, lambda columns: columns[12][:2]):
        assert accepted == kept, line


PLANTED_VCF_SHAPES = (
    b"##fileformat=VCFv4.2\n##contig=<ID=chr1,length=1000>\n##contig=<ID=chrUn_JTFH01000001v1_decoy,length=1000>\n"
    b"##contig=<ID=HLA-A*01:01:01:01,length=1000>\n"
    b'##INFO=<ID=BIRTH,Number=.,Type=Integer,Description="born 01.01.1990, DOB 900101, tel 02 1234 5678">\n'
    b'##INFO=<ID=FL,Number=1,Type=Float,Description="from C:\\Users\\kimjh, 1990\\-01\\-01, version 4.2.10">\n'
    b'##INFO=<ID=NOTE,Number=1,Type=String,Description="A note">\n'
    b'##INFO=<ID=SVTYPE,Number=1,Type=String,Description="SV type">\n'
    b'##INFO=<ID=MATEID,Number=.,Type=String,Description="Mate">\n'
    b'##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    b'##FORMAT=<ID=DB,Number=1,Type=Integer,Description="A count">\n'
    b"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS2301217N_20231029\n"
    b"chr1\t100\t.\tA\tC\t50\tPASS\tBIRTH=1990-01-01,12;FL=1990.01.01;NOTE=&#44608;\tGT:DB\t0/1:01/01/1990\n"
    b"chr1\t101\t.\tA\tC\t50\tPASS\tBIRTH=12;FL=1e-05;NOTE=OMIM:600101\tGT:DB\t0/1:12\n"
    b"chr1\t102\tbnd_a\tA\tA[chr1:300[\t50\tPASS\tSVTYPE=BND;MATEID=bnd_b;NOTE=2023_10_29\tGT:DB\t0/1:.\n"
    b"chr1\t300\tbnd_b\tA\t]chr1:102]A\t50\tPASS\tSVTYPE=BND;MATEID=bnd_a;NOTE=.;\tGT:DB\t0/1:.\n"
    b"chr1\t400\t.\tA\tA[<KIM_19900101>:5[,A[<ctg1>:5[\t50\tPASS\tSVTYPE=BND\tGT:DB\t0/1:NaN\n"
    b"chrUn_JTFH01000001v1_decoy\t5\t.\tA\tC\t50\tPASS\t.\tGT:DB\t0/1:-3\n"
)


def test_the_vcf_shapes_vcf_scrub_header_keeps_the_audit_accepts(tmp_path: Path) -> None:
    """The red team's shapes (Integer and Float values off the number grammar, the new dates and
    phone numbers, backslashes in a Description, an HTML reference without ``;``, a breakend mate
    ``<ID>``, a sample name, linked IDs, an empty INFO item, assembly contigs): what the scrubber
    writes the audit accepts, and the input holds a finding of each kind."""
    planted = tmp_path / "planted.vcf"
    planted.write_bytes(PLANTED_VCF_SHAPES)
    scrubbed = tmp_path / "scrubbed.vcf"
    done = run_command("vcf-scrub-header", "-q", "-o", str(scrubbed), str(planted))
    assert done.returncode == 0, done.stderr.decode()
    assert metadata_keys(audit(scrubbed, tmp_path / "out.json")) == {}
    found = metadata_keys(audit(planted, tmp_path / "in.json"))
    assert found["identifier in record value"] == 3  # records at 100, 102 and 400
    assert found["header value ##INFO Description"] == 2
    assert found["sample name (holds personal data)"] == 1
    assert found["INFO (an empty item)"] == 2  # NOTE=&#44608; and NOTE=.;
    assert found["ID column"] == 2
    assert "header value ##contig ID" not in found


def test_the_audit_finds_every_tag_the_reverter_removes_for_what_it_may_show_of_an_allele() -> None:
    """sam-revert-germline removes its ``COPYING_TAGS`` from every record; with ``--germline`` the
    audit must find each of them that can show an allele (all but the qualities Q2 and CQ), so
    a delivery that skipped the reverter, or a tool that added one back, fails the gate: with
    ``--germline``, or anywhere for a tag off the audit's allowlist (``ms``, samtools fixmate's
    sum of the mate's qualities)."""
    from genoscrub.record_reverter import COPYING_TAGS

    removed = {tag.decode() for tag in COPYING_TAGS} - {"Q2", "CQ"}
    found_anywhere = {"ms"}
    assert not found_anywhere & audit_allowlist.AUX_TAGS
    assert removed - found_anywhere <= audit_allowlist.SEQUENCE_COPYING_TAGS | audit_allowlist.GERMLINE_SITE_TAGS


def test_the_mapq_below_which_reads_are_reverted_whole_is_the_audits() -> None:
    """sam-revert-germline --all-below-mapq and genoscrub-audit --all-below-mapq default to one
    MAPQ, each its own constant (the audit shares no rule code), and both take 255 as low: a
    delivery the reverter made with its default passes the audit's default, and no read of MAPQ
    between the two is left unchecked."""
    from genoscrub.audit_bam import ALL_BELOW_MAPQ as AUDITED
    from genoscrub.record_reverter import ALL_BELOW_MAPQ as REVERTED
    from genoscrub.record_reverter import low_mapping_quality

    assert AUDITED == REVERTED == 30
    assert [low_mapping_quality(b"%d" % mapq, REVERTED) for mapq in (0, 29, 30, 60, 254, 255)] == [True, True, False, False, False, True]
