"""vcf-scrub-header: an identifier planted in every place the VCF format has, and in unknown ones.

The matrix (``PLACES``) names each header line type, field and record column of VCF 4.x
(plus vendor and unknown ones) with a line that carries a planted identifier: the sample
name ``S2301217T_20231029`` of a column, its stem in another case, a path, a URL, a host.
For each place the scrubbed output must hold none of them (names compared case-insensitively)
and bcftools must read it. man/vcf-scrub-header.md, *WHAT IS REMOVED, REBUILT OR KEPT*,
is this table in words. Hypothesis then varies the structure (quotes, commas, ``<>``,
field order, case) and the same must hold.
"""

from __future__ import annotations

import subprocess

import pytest
from genoscrub.vcf_scrub_header import app
from hypothesis import example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

SAMPLE, STEM, NORMAL = "S2301217T_20231029", "S2301217T", "S2301217N_20231029"
PATHS = ("/home/kimjh/patients", "~/kimjh", "C:\\Users\\kimjh", "file:///data/kimjh", "https://lims.kimjh.local/x", "kimjh/run1")
# What must not survive: the names in any case, and the distinctive part of every path form.
FORBIDDEN = (b"s2301217t", b"s2301217n", b"kimjh")
COLUMNS = f"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{SAMPLE}\t{NORMAL}"
MAP = f"{SAMPLE}\tCMT001_00\n{NORMAL}\tCMN001_00\n"
BASE_HEADER = [
    "##fileformat=VCFv4.3",
    "##contig=<ID=chr1,length=1000>",
    '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">',
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
]
RECORD = "chr1\t10\t.\tA\tG\t50\tPASS\tDP=3\tGT\t0/1\t0/0"

# place -> (extra header lines, record line, options); {X} is each planted identifier in turn.
PLACES: dict[str, tuple[list[str], str, tuple[str, ...]]] = {
    "fileformat: text after the version": ([], RECORD, ()),  # handled by the first line below
    "fileDate": (["##fileDate={X}"], RECORD, ()),
    "source": (["##source=caller --out {X}"], RECORD, ()),
    "reference: path": (["##reference={X}/ref.fa"], RECORD, ()),
    "reference: free text after the path": (["##reference=/data/ref.fa {X}"], RECORD, ()),
    "reference: structured": (["##reference=<ID=GRCh38,Source={X}>"], RECORD, ()),
    "contig: assembly": (["##contig=<ID=chr2,length=10,assembly={X}>"], RECORD, ()),
    "contig: URL": (["##contig=<ID=chr2,length=10,URL={X}>"], RECORD, ()),
    "contig: species": (['##contig=<ID=chr2,length=10,species="{X}">'], RECORD, ()),
    "contig: text after length": (["##contig=<ID=chr2,length=10 {X}>"], RECORD, ()),
    "contig: text after >": (["##contig=<ID=chr2,length=10>{X}"], RECORD, ()),
    "contig: ID and CHROM": (["##contig=<ID=S2301217T_contig_1,length=10>"], RECORD.replace("chr1", "S2301217T_contig_1"), ()),
    "INFO: Description": (['##INFO=<ID=X1,Number=1,Type=String,Description="from {X}">'], RECORD, ()),
    "INFO: Source": (['##INFO=<ID=X1,Number=1,Type=String,Description="x",Source="{X}">'], RECORD, ()),
    "INFO: Version": (['##INFO=<ID=X1,Number=1,Type=String,Description="x",Version="{X}">'], RECORD, ()),
    "INFO: unknown field": (['##INFO=<ID=X1,Number=1,Type=String,Description="x",Origin={X}>'], RECORD, ()),
    "INFO: field after Description": (['##INFO=<ID=X1,Number=1,Type=String,Description="x",{X}>'], RECORD, ()),
    "INFO: Number": (['##INFO=<ID=X1,Number=1 {X},Type=String,Description="x">'], RECORD, ()),
    "INFO: Type": (['##INFO=<ID=X1,Number=1,Type=String {X},Description="x">'], RECORD, ()),
    "INFO: unescaped quote": (['##INFO=<ID=X1,Number=1,Type=String,Description="a "b" {X}">'], RECORD, ()),
    "INFO: ID": (['##INFO=<ID=S2301217T_AF,Number=A,Type=Float,Description="x">'], RECORD.replace("DP=3", "DP=3;S2301217T_AF=0.5"), ()),
    "FORMAT: Description": (['##FORMAT=<ID=X2,Number=1,Type=String,Description="{X}">'], RECORD, ()),
    "FORMAT: extra field": (['##FORMAT=<ID=X2,Number=1,Type=String,Description="x",Source={X}>'], RECORD, ()),
    "FILTER: Description": (['##FILTER=<ID=q10,Description="{X}">'], RECORD, ()),
    "FILTER: ID": (['##FILTER=<ID=S2301217T_only,Description="x">'], RECORD.replace("PASS", "S2301217T_only"), ()),
    "ALT: Description": (['##ALT=<ID=DEL,Description="{X}">'], RECORD, ()),
    "ALT: ID": (['##ALT=<ID=INS:S2301217T,Description="x">'], RECORD.replace("\tG\t", "\t<INS:S2301217T>\t"), ()),
    "SAMPLE (kept): every field": (['##SAMPLE=<ID=S2301217T_20231029,Assay=WGS,Description="{X}">'], RECORD, ("--keep", "SAMPLE")),
    "SAMPLE (removed)": (['##SAMPLE=<ID=S2301217T_20231029,Description="{X}">'], RECORD, ()),
    "PEDIGREE (kept)": (["##PEDIGREE=<ID=S2301217T_20231029,Original=S2301217N_20231029>"], RECORD, ("--keep", "PEDIGREE")),
    "PEDIGREE (kept, unknown sample)": (["##PEDIGREE=<ID=S2301217T_20231029,Mother=KIMJH_MOTHER>"], RECORD, ("--keep", "PEDIGREE")),
    "META": (["##META=<ID=Assay,Type=String,Number=.,Values=[{X}]>"], RECORD, ()),
    "pedigreeDB": (["##pedigreeDB={X}"], RECORD, ()),
    "GATKCommandLine": (['##GATKCommandLine=<ID=HaplotypeCaller,CommandLine="HaplotypeCaller -I {X}.bam">'], RECORD, ()),
    "bcftools command": (["##bcftools_viewCommand=view {X}.vcf.gz; Date=Sun Oct 29 2023"], RECORD, ()),
    "vendor key": (["##DRAGENCommandLine=<ID=dragen,CommandLine=\"--RGSM {X}\">"], RECORD, ()),
    "unknown key (kept)": (["##tumor_sample={X}"], RECORD, ("--keep", "tumor_sample")),
    "unknown structured key (kept)": (['##lab=<ID=run,Path="{X}",Host=x>'], RECORD, ("--keep", "lab")),
    "unknown key without =": (["##{X}"], RECORD, ()),
    "record: ID column": ([], RECORD.replace("\t.\tA", "\tS2301217T_var1\tA"), ()),
    "record: INFO string value": (
        ['##INFO=<ID=SAMPLE,Number=1,Type=String,Description="x">'],
        RECORD.replace("DP=3", "DP=3;SAMPLE=s2301217t_20231029"),
        (),
    ),
    "record: FORMAT value": (
        ['##FORMAT=<ID=RG,Number=1,Type=String,Description="x">'],
        RECORD.replace("GT\t0/1\t0/0", "GT:RG\t0/1:S2301217T.L1\t0/0:."),
        (),
    ),
    "record: MATEID and EVENT": (
        ['##INFO=<ID=MATEID,Number=A,Type=String,Description="x">', '##INFO=<ID=EVENT,Number=1,Type=String,Description="x">'],
        "chr1\t10\tbnd_S2301217T_1\tA\tA]chr1:50]\t50\tPASS\tMATEID=bnd_S2301217T_2;EVENT=S2301217T_event\tGT\t0/1\t0/0",
        (),
    ),
}


def run_scrub(text: str, options: tuple[str, ...], tmp_map: str) -> bytes:
    result = CliRunner().invoke(app, ["-q", "--map", tmp_map, *options], input=text.encode())
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def assert_gone_and_readable(output: bytes) -> None:
    lowered = output.lower()
    leaked = [word for word in FORBIDDEN if word in lowered]
    assert not leaked, output.decode(errors="replace")
    subprocess.run(["bcftools", "view", "-"], input=output, capture_output=True, check=True)


@pytest.fixture(scope="module")
def map_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("map") / "ids.tsv"
    path.write_text(MAP)
    return str(path)


@pytest.mark.parametrize("planted", [SAMPLE, STEM.lower(), *PATHS], ids=["sample", "stem-lowercase", *PATHS])
@pytest.mark.parametrize("place", list(PLACES))
def test_planted_identifier_is_gone_and_bcftools_reads_the_output(place: str, planted: str, map_file: str) -> None:
    lines, record, options = PLACES[place]
    header = list(BASE_HEADER)
    if place.startswith("fileformat"):
        header[0] = f"##fileformat=VCFv4.3 {planted}"
    text = "\n".join([*header, *(line.replace("{X}", planted) for line in lines), COLUMNS, record]) + "\n"
    assert_gone_and_readable(run_scrub(text, options, map_file))


@st.composite
def structured_line(draw: st.DrawFn) -> str:
    """An INFO/FORMAT/FILTER/ALT/contig/unknown line with the identifier somewhere, its fields in
    any order, values quoted or not, with stray commas, brackets and quotes."""
    planted = draw(st.sampled_from([SAMPLE, STEM, NORMAL, *PATHS]))
    planted = draw(st.sampled_from([planted, planted.lower(), planted.upper(), planted.swapcase()]))
    key = draw(st.sampled_from(["INFO", "FORMAT", "FILTER", "ALT", "contig", "reference", "SAMPLE", "PEDIGREE", "vendor"]))
    # An ID holds a planted sample name, never a path (a path in an ID does not parse; a word
    # from one, "_home_kimjh_", is nothing the command can know to be identifying).
    sample_ids = [planted] if "/" not in planted and "\\" not in planted and ":" not in planted else []
    fields = {"ID": draw(st.sampled_from(["X1", "DEL", "chr2", *sample_ids])),
              "Number": draw(st.sampled_from(["1", "A", ".", f"1 {planted}"])),
              "Type": draw(st.sampled_from(["String", "Integer", f"String{planted}"])),
              "Description": draw(st.sampled_from([planted, f"from {planted} run", f'a "{planted}" b', f"{planted},x"])),
              draw(st.sampled_from(["Source", "URL", "assembly", "length", "x"])): planted}
    items = draw(st.permutations(list(fields.items())))
    parts = []
    for name, value in items:
        quote = draw(st.sampled_from(['"', "", "'"]))
        parts.append(f"{name}={quote}{value}{quote}")
    separator = draw(st.sampled_from([",", ", ", ",,"]))
    opening, closing = draw(st.sampled_from([("<", ">"), ("", ""), ("<", ""), ("<", f">{planted}")]))
    return f"##{key}={opening}{separator.join(parts)}{closing}"


OPTIONS = [(), ("--keep", "SAMPLE", "--keep", "vendor"), ("--descriptions", "drop")]


@pytest.mark.slow  # a long property sweep of planted values: make test-slow (CI runs it after make test)
@settings(max_examples=300, deadline=None)
@given(st.lists(structured_line(), min_size=1, max_size=4), st.sampled_from(OPTIONS))
@example(['##vendor=<ID="X1",Number="1",Type="String~/kimjh",Description="x",Source="y">'], OPTIONS[1])  # a path after other text
def test_any_structure_leaks_nothing_and_parses(lines: list[str], options: tuple[str, ...]) -> None:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        map_path = Path(folder) / "ids.tsv"
        map_path.write_text(MAP)
        text = "\n".join([*BASE_HEADER, *lines, COLUMNS, RECORD]) + "\n"
        assert_gone_and_readable(run_scrub(text, options, str(map_path)))
