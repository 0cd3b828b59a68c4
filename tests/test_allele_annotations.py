"""vcf-drop-rare and the strings of a kept record that name another record's allele
(``genoscrub.allele_annotations``): per-allele annotations (ANN, EFF, CSQ, BCSQ, LOF/NMD)
and GATK's FORMAT/PID and PGT.

What the output keeps is read by bcftools and pysam, not by our own parser.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

import numpy as np
import pysam
import pytest
from genoscrub.allele_annotations import AlleleAnnotations, csq_allele_index
from genoscrub.vcf_drop_rare import app
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

ANN_HEADER = (
    '##INFO=<ID=ANN,Number=.,Type=String,Description="Functional annotations: '
    "'Allele | Annotation | Annotation_Impact | Gene_Name | Gene_ID | Feature_Type | Feature_ID | Transcript_BioType | Rank | "
    "HGVS.c | HGVS.p'\">\n"
)
CSQ_HEADER = '##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. Format: Allele|Consequence|IMPACT|SYMBOL|HGVSc">\n'  # noqa: E501
HEADER = (
    "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=20000>\n"
    '##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">\n'
    + ANN_HEADER
    + CSQ_HEADER
    + '##INFO=<ID=BCSQ,Number=.,Type=String,Description="bcftools csq. Format: Consequence|gene|transcript|biotype|strand|amino_acid_change|dna_change">\n'  # noqa: E501
    '##INFO=<ID=EFF,Number=.,Type=String,Description="Predicted effects">\n'
    '##INFO=<ID=LOF,Number=.,Type=String,Description="Predicted loss of function effects">\n'
    '##INFO=<ID=NMD,Number=.,Type=String,Description="Predicted nonsense mediated decay effects">\n'
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    '##FORMAT=<ID=PGT,Number=1,Type=String,Description="Physical phasing haplotype information">\n'
    '##FORMAT=<ID=PID,Number=1,Type=String,Description="Physical phasing ID information">\n'
    '##FORMAT=<ID=PS,Number=1,Type=Integer,Description="Phasing set">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tP1\n"
)
RARE_ENTRY = "T|stop_gained|HIGH|GENE1|ENSG00000000001|transcript|ENST00000000001|protein_coding|1/1|c.100C>T|p.Gln34*"
COMMON_ENTRY = "G|missense_variant|MODERATE|GENE1|ENSG00000000001|transcript|ENST00000000001|protein_coding|1/1|c.100C>G|p.Pro34Ala"


def invoke(*args: str, input: bytes | None = None) -> tuple[int, bytes, bytes]:
    result = CliRunner().invoke(app, list(args), input=input)
    return result.exit_code, result.stdout_bytes, result.stderr_bytes


def query(vcf: bytes, expression: str) -> list[str]:
    """``bcftools query -f`` of a VCF text."""
    out = subprocess.run(["bcftools", "query", "-f", expression, "-"], input=vcf, capture_output=True, check=True)
    return out.stdout.decode().splitlines()


def split(vcf: bytes, tmp_path: Path, *options: str) -> bytes:
    """``bcftools norm -m -`` (the split the man page recommends), with ``options``."""
    source = tmp_path / "in.vcf"
    source.write_bytes(vcf)
    return subprocess.run(["bcftools", "norm", "--no-version", "-m", "-", *options, str(source)], capture_output=True, check=True).stdout


def drop_rare(vcf: bytes, tmp_path: Path, one_by_one: bool = False) -> tuple[bytes, dict]:
    """vcf-drop-rare --af-key AF in this process; its output and its report's counts."""
    report = tmp_path / "report.json"
    with pytest.MonkeyPatch.context() as patch:
        if one_by_one:
            patch.setenv("GENOSCRUB_ONE_BY_ONE", "1")
        else:
            patch.delenv("GENOSCRUB_ONE_BY_ONE", raising=False)
        status, out, err = invoke("--af-key", "AF", "--report", str(report), "-q", input=vcf)
    assert status == 0, err
    return out, json.loads(report.read_text())["counts"]


def test_split_ann_loses_the_other_alleles_entries(tmp_path: Path) -> None:
    """The red team's F3 (a): snpEff's ANN of `C G,T`, split by bcftools norm -m -: each half keeps
    its own entry; with T rare, the whole site goes (``record_traces``), ANN and all."""
    record = f"chr1\t1519\t.\tC\tG,T\t50\tPASS\tAF=0.3,0.05;ANN={COMMON_ENTRY},{RARE_ENTRY}\tGT\t1/2\n"
    out, counts = drop_rare(split((HEADER + record).encode(), tmp_path), tmp_path)
    assert query(out, "%POS %REF %ALT %INFO/ANN\n") == [f"1519 C G {COMMON_ENTRY}", f"1519 C T {RARE_ENTRY}"]
    assert counts["removed_annotation_entries"] == 2
    out, counts = drop_rare(split((HEADER + record.replace("0.05", "0.0001")).encode(), tmp_path), tmp_path)
    assert query(out, "%POS\n") == [] and b"stop_gained" not in out
    assert counts["dropped_rare"] == 1 and counts["records_dropped_with_their_site"] == 1


def test_split_then_trimmed_by_norm_f_loses_the_whole_field(tmp_path: Path) -> None:
    """`bcftools norm -m - -f` trims `CTAA CA` to `CTA C`: its ALT is the other half's ALT as
    written, so no ANN entry of an indel of a split record can be trusted."""
    reference = tmp_path / "ref.fa"
    reference.write_text(">chr1\n" + "A" * 99 + "CTAAG" + "A" * 19896 + "\n")
    pysam.faidx(str(reference))
    record = "chr1\t100\t.\tCTAA\tC,CA\t50\tPASS\tAF=0.05,0.3;ANN=C|frameshift_variant|HIGH|G1|E1|transcript|T1|protein_coding|1/1|c.2_4del|p.X,CA|inframe|MODERATE|G1|E1|transcript|T1|protein_coding|1/1|c.3_4del|p.Y\tGT\t1/2\n"  # noqa: E501
    normalised = split((HEADER + record).encode(), tmp_path, "-f", str(reference))
    assert query(normalised, "%POS %REF %ALT\n") == ["100 CTAA C", "100 CTA C"]
    out, counts = drop_rare(normalised, tmp_path)
    assert query(out, "%POS %REF %ALT %INFO/ANN\n") == ["100 CTAA C .", "100 CTA C ."]
    assert b"c.2_4del" not in out and counts["removed_annotation_fields"] == 2


def test_gatk_pid_and_pgt_go_ps_names_a_kept_record(tmp_path: Path) -> None:
    """The red team's F3 (b): PID names the dropped `1270 A>T`; PS named it too, and now names the
    set's first kept record."""
    records = "chr1\t1270\t.\tA\tT\t50\tPASS\tAF=0.0001\tGT:PGT:PID:PS\t0|1:0|1:1270_A_T:1270\nchr1\t1284\t.\tA\tG\t50\tPASS\tAF=0.3\tGT:PGT:PID:PS\t0|1:0|1:1270_A_T:1270\n"  # noqa: E501
    out, counts = drop_rare((HEADER + records).encode(), tmp_path)
    assert b"1270_A_T" not in out
    source = tmp_path / "out.vcf"
    source.write_bytes(out)
    with pysam.VariantFile(str(source)) as vcf:
        kept = list(vcf)
    assert [(record.pos, record.alts) for record in kept] == [(1284, ("G",))]
    assert list(kept[0].format) == ["GT", "PS"] and kept[0].samples["P1"]["PS"] == 1284
    assert counts["removed_phasing_ids"] == 1 and counts["rewritten_phase_sets"] == 1


def test_csq_of_an_indel_goes_whole_of_an_snv_keeps_its_own_entries(tmp_path: Path) -> None:
    """VEP trims alleles that share their first base (`-` for a deletion): such a CSQ cannot be tied."""
    records = (
        "chr1\t200\t.\tC\tG,T\t50\tPASS\tAF=0.3,0.05;CSQ=G|missense|MODERATE|G1|c.1C>G,T|stop_gained|HIGH|G1|c.1C>T\tGT\t1/2\n"
        "chr1\t300\t.\tCTA\tC\t50\tPASS\tAF=0.3;CSQ=-|frameshift|HIGH|G1|c.2_3del\tGT\t0/1\n"
    )
    out, counts = drop_rare(split((HEADER + records).encode(), tmp_path), tmp_path)
    assert query(out, "%POS %ALT %INFO/CSQ\n") == ["200 G G|missense|MODERATE|G1|c.1C>G", "200 T T|stop_gained|HIGH|G1|c.1C>T", "300 C ."]
    assert counts["removed_annotation_entries"] == 2 and counts["removed_annotation_fields"] == 1


def test_csq_without_a_format_with_allele_goes(tmp_path: Path) -> None:
    header = HEADER.replace(CSQ_HEADER, '##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequences">\n')
    record = "chr1\t200\t.\tC\tG\t50\tPASS\tAF=0.3;CSQ=G|missense|MODERATE|G1|c.1C>G\tGT\t0/1\n"
    out, _ = drop_rare((header + record).encode(), tmp_path)
    assert query(out, "%INFO/CSQ\n") == ["."]


def test_bcsq_keeps_its_own_dna_change_only(tmp_path: Path) -> None:
    records = "chr1\t200\t.\tC\tG,T\t50\tPASS\tAF=0.3,0.05;BCSQ=missense|G1|T1|protein_coding|+|34P>34A|200C>G,stop_gained|G1|T1|protein_coding|+|34Q>34*|200C>T,@150\tGT\t1/2\n"  # noqa: E501
    out, counts = drop_rare(split((HEADER + records).encode(), tmp_path), tmp_path)
    assert query(out, "%POS %ALT %INFO/BCSQ\n") == [
        "200 G missense|G1|T1|protein_coding|+|34P>34A|200C>G",
        "200 T stop_gained|G1|T1|protein_coding|+|34Q>34*|200C>T",
    ]
    assert counts["removed_annotation_entries"] == 4


def test_lof_and_nmd_stay_only_beside_an_intact_ann(tmp_path: Path) -> None:
    lof = "LOF=(GENE1|ENSG00000000001|1|1.00);NMD=(GENE1|ENSG00000000001|1|1.00)"
    records = (
        f"chr1\t200\t.\tC\tG,T\t50\tPASS\tAF=0.3,0.05;ANN={COMMON_ENTRY},{RARE_ENTRY};{lof}\tGT\t1/2\n"
        f"chr1\t400\t.\tC\tT\t50\tPASS\tAF=0.3;ANN={RARE_ENTRY};{lof}\tGT\t0/1\n"
        f"chr1\t500\t.\tC\tT\t50\tPASS\tAF=0.3;{lof}\tGT\t0/1\n"
    )
    out, counts = drop_rare(split((HEADER + records).encode(), tmp_path), tmp_path)
    assert query(out, "%POS %ALT %INFO/LOF %INFO/NMD\n") == [
        "200 G . .",
        "200 T . .",
        "400 T (GENE1|ENSG00000000001|1|1.00) (GENE1|ENSG00000000001|1|1.00)",
        "500 T . .",
    ]
    assert counts["removed_annotation_fields"] == 6


def test_eff_ties_by_its_genotype_field(tmp_path: Path) -> None:
    effects = "EFF=NON_SYNONYMOUS_CODING(MODERATE|MISSENSE|Ccc/Gcc|P34A|100|GENE1|protein_coding|CODING|ENST1|1|G),STOP_GAINED(HIGH|NONSENSE|Cag/Tag|Q34*|100|GENE1|protein_coding|CODING|ENST1|1|T)"  # noqa: E501
    record = f"chr1\t200\t.\tC\tG,T\t50\tPASS\tAF=0.3,0.05;{effects}\tGT\t1/2\n"
    out, _ = drop_rare(split((HEADER + record).encode(), tmp_path), tmp_path)
    assert query(out, "%POS %INFO/EFF\n") == [
        "200 NON_SYNONYMOUS_CODING(MODERATE|MISSENSE|Ccc/Gcc|P34A|100|GENE1|protein_coding|CODING|ENST1|1|G)",
        "200 STOP_GAINED(HIGH|NONSENSE|Cag/Tag|Q34*|100|GENE1|protein_coding|CODING|ENST1|1|T)",
    ]


def test_records_without_the_fields_pass_as_the_same_bytes(tmp_path: Path) -> None:
    records = f"chr1\t200\t.\tC\tG\t50\tPASS\tAF=0.3;ANN={COMMON_ENTRY}\tGT:PS\t0|1:200\nchr1\t300\t.\tA\tC\t50\tPASS\tAF=0.2\tGT\t0/1\n"
    out, counts = drop_rare((HEADER + records).encode(), tmp_path)
    assert out.endswith(records.encode())
    assert not any(name.startswith("removed_") for name in counts)


def test_csq_allele_index_from_the_header() -> None:
    assert csq_allele_index(b"Consequence annotations from Ensembl VEP. Format: Consequence|Allele|IMPACT") == 1
    assert csq_allele_index(b"Consequence annotations") is None
    assert csq_allele_index(b"Format: Consequence|IMPACT") is None


# --- the block path against the one-record path --------------------------------------------

LINES = [
    f"chr1\t{{pos}}\t.\tC\tG\t50\tPASS\tAF=0.3;ANN={COMMON_ENTRY}\tGT\t0/1",
    f"chr1\t{{pos}}\t.\tC\tG\t50\tPASS\tAF=0.3;ANN={COMMON_ENTRY},{RARE_ENTRY};LOF=(GENE1|E1|1|1.00)\tGT\t1/0",
    f"chr1\t{{pos}}\t.\tC\tT\t50\tPASS\tAF=0.0001;ANN={RARE_ENTRY}\tGT\t0/1",
    "chr1\t{pos}\t.\tA\tG\t50\tPASS\tAF=0.3\tGT:PGT:PID:PS\t0|1:0|1:1270_A_T:1270",
    "chr1\t{pos}\t.\tA\tG\t50\tPASS\tAF=0.3\tGT\t0/1",
    "chr1\t{pos}\t.\tA\tG\t50\tPASS\tAF=0.3;NOTE=PIDX\tGT\t0/1",
    "chr1\t{pos}\t.\tCTA\tC\t50\tPASS\tAF=0.3;CSQ=-|frameshift|HIGH|G1|c.2_3del\tGT\t0/1",
    "chr1\t{pos}\t.\tC\tG\t50\tPASS\tAF=0.3;BCSQ=@150,missense|G1|T1|protein_coding|+|34P>34A|{pos}C>G\tGT\t0/1",
]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(range(len(LINES))), min_size=1, max_size=30))
def test_block_and_one_record_paths_agree(tmp_path_factory: pytest.TempPathFactory, choices: list[int]) -> None:
    tmp_path = tmp_path_factory.mktemp("paths")
    body = "".join(LINES[choice].format(pos=100 + index) + "\n" for index, choice in enumerate(choices))
    vcf = (HEADER + body).encode()
    bulk, bulk_counts = drop_rare(vcf, tmp_path)
    single, single_counts = drop_rare(vcf, tmp_path, one_by_one=True)
    assert bulk == single and bulk_counts == single_counts
    assert b"1270_A_T" not in bulk and b"stop_gained" not in bulk and b"@150" not in bulk


def test_rule_on_one_record() -> None:
    counts: Counter[str] = Counter()
    rule = AlleleAnnotations(csq_allele=0)
    line = f"chr1\t10\t.\tC\tG\t.\t.\tANN={COMMON_ENTRY},{RARE_ENTRY}\tGT:PID\t0|1:5_A_T\t1|0:5_A_T".encode()
    assert rule.record(line, counts) == f"chr1\t10\t.\tC\tG\t.\t.\tANN={COMMON_ENTRY}\tGT\t0|1\t1|0".encode()
    assert counts == Counter({"removed_annotation_entries": 1, "removed_phasing_ids": 1})
    assert rule.record(b"chr1\t10\t.\tC\tG\t.\t.\tDP=3\tGT\t0/1", counts) is None


GLANCE_PARTS = st.sampled_from(
    ["G|missense|X", "g|missense|X", "T|stop|Y", "G|a,b", "GG|ins|Z", "G", "", "G|", "T|G|x", "-|del|W"]
)


@settings(max_examples=400, deadline=None)
@given(
    alt=st.sampled_from(["G", "g", "T", "G,T", "GG", "<DEL>", ""]),
    entries=st.lists(GLANCE_PARTS, min_size=1, max_size=4),
    before=st.sampled_from(["AF=0.3;", "", "XANN=G|q;", "NOTE=ANN=T|x;", "ANN;"]),
    after=st.sampled_from(["", ";DP=3", ";LOF=(G1|E1|1|1.00)", ";ANN=T|y", ";CSQ=G|m|M|G1|c", ";BCSQ=@150"]),
    sample=st.sampled_from(["GT\t0/1", "GT:PID\t0|1:1270_A_T", "GT:PS\t0|1:150", "GT\tANN=G|z"]),
)
def test_a_record_settled_at_a_glance_is_one_the_rule_leaves(alt: str, entries: list[str], before: str, after: str, sample: str) -> None:
    """``unchanged_at_a_glance`` settles only what the whole rule would leave as it is."""
    from genoscrub.allele_annotations import unchanged_at_a_glance

    line = f"chr1\t200\t.\tC\t{alt}\t50\tPASS\t{before}ANN={','.join(entries)}{after}\t{sample}".encode()
    rule = AlleleAnnotations(csq_allele_index(b"Format: Allele|Consequence|IMPACT|SYMBOL|HGVSc"))
    if unchanged_at_a_glance(line):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("genoscrub.allele_annotations.unchanged_at_a_glance", lambda _: False)
            assert rule.record(line, Counter()) is None


def test_the_common_annotated_snv_is_settled_at_a_glance() -> None:
    from genoscrub.allele_annotations import unchanged_at_a_glance

    assert unchanged_at_a_glance(f"chr1\t200\t.\tC\tG\t50\tPASS\tAF=0.3;ANN={COMMON_ENTRY},{COMMON_ENTRY}\tGT\t0/1".encode())
    assert not unchanged_at_a_glance(f"chr1\t200\t.\tC\tG\t50\tPASS\tAF=0.3;ANN={COMMON_ENTRY},{RARE_ENTRY}\tGT\t0/1".encode())


# --- the block's glance against the one-record path ------------------------------------------

ODD = ["", "|", "=", ";x", "ANN=", "pid", "Lof", "NMD3", "%2C", "(", "&", "\xe9", "\r"]
"""Text planted in entries and around them: separators, other keys' names in either case,
escapes, bytes outside ASCII."""


@st.composite
def annotated_records(draw: st.DrawFn, pos: int, format_columns: bool) -> str:
    """One record as the rule may meet it: one or several ALTs (long ones too), an ANN, CSQ
    (with its Allele field first) or none, entries naming mostly the record's first ALT, but
    also another allele or none, odd text inside and around them, ``ANN=`` elsewhere in the
    line, and the other keys of the rule now and then."""
    alts = draw(st.lists(st.sampled_from(["G", "G", "g", "T", "GA", "N", "*", "<DEL>", "A" * 32, "A" * 33]), min_size=1, max_size=3))
    alts = alts[:1] if draw(st.booleans()) else alts
    named = st.sampled_from([alts[0]] * 6 + alts + ["G", "T", "C", "", "-", "A" * 31])
    entry = st.builds(
        lambda allele, bar, odd, tail: allele + bar + odd + tail,
        named,
        st.sampled_from(["|"] * 6 + ["", "=", ","]),
        st.sampled_from([""] * 6 + ODD),
        st.sampled_from(["missense|MODERATE|G1", "", "|x"]),
    )
    entries = ",".join(draw(st.lists(entry, min_size=1, max_size=4)))
    key = draw(st.sampled_from(["ANN"] * 5 + ["CSQ", "ann", "XANN"]))
    before = draw(st.sampled_from([""] * 2 + ["AF=0.3;"] * 4 + ["ANN;", "LOF;", "NOTE=ANN=T|x;", "DP=3;"]))
    others = [";DP=3", ";LOF=(G1|E1|1|1.00)", ";NMD", ";ANN=T|y", ";EFF=X(M|M|c|p|1|G1|pc|C|T1|1|G)", ";BCSQ=@150"]
    after = draw(st.sampled_from([""] * 6 + others))
    info = before + (f"{key}={entries}" if draw(st.integers(0, 5)) or before == "" else "AF=0.2") + after
    line = f"chr1\t{pos}\t.\t{draw(st.sampled_from(['C', 'CA', 'c']))}\t{','.join(alts)}\t50\tPASS\t{info}"
    if format_columns:
        samples = ["GT\t0/1"] * 4 + ["GT:PID:PGT\t0|1:1270_A_T:0|1", "GT:PS\t0|1:150", "GT\tANN=G|z", "GT\t0/1:PGT"]
        line += "\t" + draw(st.sampled_from(samples))
    return line


@st.composite
def annotated_blocks(draw: st.DrawFn) -> tuple[bytes, int, list[bool]]:
    """A block of drawn records (with or without FORMAT and a sample), mixing records the glance
    settles with those it does not; and which of them are kept."""
    format_columns = draw(st.booleans())
    count = draw(st.integers(min_value=1, max_value=25))
    common = f"chr1\t{{pos}}\t.\tC\tG\t50\tPASS\tAF=0.3;ANN={COMMON_ENTRY},{COMMON_ENTRY}" + ("\tGT\t0/1" if format_columns else "")
    lines = [
        common.format(pos=100 + index) if draw(st.booleans()) else draw(annotated_records(100 + index, format_columns))
        for index in range(count)
    ]
    keep = draw(st.lists(st.booleans(), min_size=count, max_size=count))
    return ("\n".join(lines) + "\n").encode(), 10 if format_columns else 8, keep


def block_kept_text(text: bytes, column_count: int, keep: list[bool], one_by_one: bool) -> tuple[bytes, Counter[str]]:
    """What vcf-drop-rare writes of a block's kept records, and the rule's counts, on one path."""
    from genoscrub.allele_annotations import kept_text
    from genoscrub.vcf import RecordBlock

    block = RecordBlock(1, text, "-", column_count)
    rule = AlleleAnnotations(csq_allele_index(b"Format: Allele|Consequence|IMPACT|SYMBOL"))
    counts: Counter[str] = Counter()
    kept = np.array(keep)
    with pytest.MonkeyPatch.context() as patch:
        if one_by_one:
            patch.setenv("GENOSCRUB_ONE_BY_ONE", "1")
        else:
            patch.delenv("GENOSCRUB_ONE_BY_ONE", raising=False)
        rewritten = kept_text(rule, block, kept, counts)
    return (block.kept_text(kept) if rewritten is None else rewritten), counts


@pytest.mark.slow  # a long sweep of the bulk path against the one-record path: make test-slow (CI runs it after make test)
@settings(max_examples=120, deadline=None)
@given(annotated_blocks())
def test_the_block_glance_gives_the_bytes_of_the_one_record_path(drawn: tuple[bytes, int, list[bool]]) -> None:
    """``settled_at_a_glance`` (numpy over the block) leaves a record only where the rule on
    that one record (``AlleleAnnotations.record``) leaves it too: same bytes, same counts."""
    text, column_count, keep = drawn
    assert block_kept_text(text, column_count, keep, one_by_one=False) == block_kept_text(text, column_count, keep, one_by_one=True)


@pytest.mark.slow  # a long sweep of the bulk path against the one-record path: make test-slow (CI runs it after make test)
@settings(max_examples=100, deadline=None)
@given(annotated_blocks())
def test_the_block_glance_settles_only_what_the_record_glance_settles(drawn: tuple[bytes, int, list[bool]]) -> None:
    from genoscrub.allele_annotations import candidate_rows, settled_at_a_glance, unchanged_at_a_glance
    from genoscrub.vcf import RecordBlock

    text, column_count, _ = drawn
    block = RecordBlock(1, text, "-", column_count)
    candidates = candidate_rows(block)
    lines = block.lines()
    assert set(range(block.count)) - set(candidates.rows.tolist()) <= {
        row for row, line in enumerate(lines) if AlleleAnnotations(0).record(line, Counter()) is None
    }
    for row in candidates.rows[settled_at_a_glance(block, candidates)].tolist():
        assert unchanged_at_a_glance(lines[row])


def test_common_annotated_records_are_settled_for_the_block() -> None:
    from genoscrub.allele_annotations import candidate_rows, settled_at_a_glance
    from genoscrub.vcf import RecordBlock

    records = [
        f"chr1\t{100 + index}\t.\tC\t{alt}\t50\tPASS\tAF=0.3;ANN={entry}\tGT\t0/1"
        for index, (alt, entry) in enumerate(
            [
                ("G", f"{COMMON_ENTRY},{COMMON_ENTRY}"),
                ("GA", "GA|ins|M|G1"),
                ("G", f"{COMMON_ENTRY},{RARE_ENTRY}"),
                ("G,T", COMMON_ENTRY),
                ("G", f"{COMMON_ENTRY},G"),  # an entry with no bar; the next value starts with one
                ("T", "|x"),
                ("T", "T|x,T|y"),
                ("T", ""),
                ("T", "T"),
            ]
        )
    ]
    block = RecordBlock(1, ("\n".join(records) + "\n").encode(), "-", 10)
    candidates = candidate_rows(block)
    assert candidates.rows[settled_at_a_glance(block, candidates)].tolist() == [0, 1, 6]
    alone = RecordBlock(1, b"chr1\t100\t.\tC\tG\t50\tPASS\tAF=0.3;ANN=\tGT\t0/1\n", "-", 10)
    assert not settled_at_a_glance(alone, candidate_rows(alone)).any()


def test_a_lof_flag_is_found_by_the_block_search(tmp_path: Path) -> None:
    """``LOF`` written as a flag goes on both paths (the block search once looked for ``LOF=``)."""
    vcf = (HEADER + "chr1\t500\t.\tC\tT\t50\tPASS\tAF=0.3;LOF\tGT\t0/1\n").encode()
    bulk, counts = drop_rare(vcf, tmp_path)
    assert (bulk, counts) == drop_rare(vcf, tmp_path, one_by_one=True)
    assert bulk.endswith(b"AF=0.3\tGT\t0/1\n") and counts["removed_annotation_fields"] == 1
