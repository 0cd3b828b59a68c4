"""The shipped forensic presets: complete, the same loci in both builds, and where their sources say.

No human reference FASTA is needed: the builds are cross-checked through the
UCSC hg19ToHg38 chain (an excerpt of its blocks in ``tests/data``), the
sources are checked against each other, the STR rows against GRCh38 sequence
excerpts, and the locus names against the kits' lists (``kits.tsv``).
``make check-presets FASTA=...`` runs the sequence check on a whole reference.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
from genoscrub.regions import BUILDS, DEFAULT_FLANK, PRESETS, available_builds, build_contig_lengths, merged, preset_path, read_bed

from tools import presets
from tools.presets import (
    AGREEMENT,
    UNSOURCED,
    Chain,
    built_presets,
    holds_tandem_repeat,
    holds_unit,
    read_bed_rows,
    read_kits,
    read_sources,
)

ROOT = Path(__file__).resolve().parents[1]
PROVENANCE = (ROOT / "filters" / "presets" / "PROVENANCE.md").read_text()
EXCERPTS = Path(__file__).parent / "data" / "grch38_str_excerpts.tsv"
CHAIN = Chain.from_blocks_file()
SOURCES = read_sources()
KITS = read_kits()


def names(preset: str, build: str) -> list[str]:
    return [name for _, _, _, name in read_bed_rows(preset_path(preset, build))]


def rows_by_name(preset: str, build: str) -> dict[str, tuple[str, int, int]]:
    return {name: (contig, start, end) for contig, start, end, name in read_bed_rows(preset_path(preset, build))}


# --- the files ----------------------------------------------------------------------


def test_presets_are_what_their_sources_make() -> None:
    """No preset row is edited by hand: tools/presets.py rebuilds every nuclear preset byte for byte."""
    for name, text in built_presets(CHAIN).items():
        assert (ROOT / "filters" / "presets" / name).read_text() == text, f"{name} is stale: run python tools/presets.py build"


@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_has_the_same_loci_in_both_builds(preset: str) -> None:
    """A locus in one build and not the other would leave it unmasked on the other build's data."""
    assert available_builds(preset) == list(BUILDS)
    grch37, grch38 = names(preset, "GRCh37"), names(preset, "GRCh38")
    assert sorted(grch37) == sorted(grch38)
    assert len(set(grch38)) == len(grch38), "one row per locus (or per copy of a multi-copy locus)"
    for build in BUILDS:
        lengths = build_contig_lengths(build)
        text = preset_path(preset, build).read_text()
        assert text.startswith(f"# {preset}") and "PROVENANCE.md" in text.splitlines()[0]
        for contig, start, end, name in read_bed_rows(preset_path(preset, build)):
            length = lengths.get(contig, lengths.get(contig.removeprefix("chr"), lengths.get("MT")))
            assert length is not None and 0 <= start < end <= length, f"{build} {name}"


# --- panel completeness ---------------------------------------------------------------


def kit_loci(kit: str) -> list[str]:
    """A kit's list as the first preset that covers it holds it (CODIS feeds codis-str and forensic-str)."""
    first = next(entry.preset for entry in KITS if entry.kit == kit)
    found = [entry.locus for entry in KITS if entry.kit == kit and entry.preset == first]
    assert found, kit
    return found


@pytest.mark.parametrize("preset", ["codis-str", "forensic-str", "y-str", "identity-snp"])
def test_shipped_loci_are_the_union_of_the_kits(preset: str) -> None:
    expected = presets.preset_loci(KITS, preset) - set(UNSOURCED)
    for build in BUILDS:
        assert set(names(preset, build)) == expected, build


@pytest.mark.parametrize(
    ("kit", "count"),
    [
        ("CODIS-core-20", 20),
        ("GlobalFiler-autosomal", 21),
        ("PowerSeq46GY-autosomal", 22),
        ("ForenSeqA-autosomal", 27),
        ("ForenSeqA-X", 7),
        ("Yfiler-Plus", 27),
        ("PowerPlex-Y23", 23),
        ("ForenSeqA-Y", 26),  # 24 loci, DYS385 and DYF387S1 with both copies
        ("NIST-1032-Y-union", 32),  # the 30 loci of the four Y kits, both copies of the two multi-copy loci
        ("ForenSeqA-iSNP", 94),
        ("SNPforID-52plex", 52),
    ],
)
def test_kit_lists_are_complete(kit: str, count: int) -> None:
    """Each kit list has the size its source gives, and its source is named in PROVENANCE.md."""
    loci = kit_loci(kit)
    assert len(loci) == len(set(loci)) == count
    for entry in KITS:
        assert f"`{entry.source}`" in PROVENANCE, entry.source


def test_multi_copy_y_loci_ship_every_copy() -> None:
    y = set(names("y-str", "GRCh37"))
    assert {"DYS385a", "DYS385b", "DYF387S1a", "DYF387S1b", "DYS389I", "DYS389II"} <= y
    rows = rows_by_name("y-str", "GRCh38")
    assert rows["DYS385a"][1] - rows["DYS385b"][2] > 30_000, "the two DYS385 copies are ~40 kb apart"
    assert rows["DYF387S1b"][1] - rows["DYF387S1a"][2] > 1_000_000


def test_the_only_unsourced_kit_locus_is_named_in_provenance() -> None:
    assert set(UNSOURCED) == {"rs1029047"}
    assert "rs1029047" in kit_loci("SNPforID-52plex")
    assert "rs1029047" in PROVENANCE


# --- the two builds through the hg19ToHg38 chain ---------------------------------------


@pytest.mark.parametrize("preset", ["codis-str", "forensic-str", "y-str", "identity-snp"])
def test_every_grch37_row_lifts_onto_its_grch38_counterpart(preset: str) -> None:
    """Through the UCSC chain each GRCh37 row lands on the GRCh38 row of the same locus, within the flank, and back."""
    grch37, grch38 = rows_by_name(preset, "GRCh37"), rows_by_name(preset, "GRCh38")
    for name, row in grch37.items():
        lifted = CHAIN.to_grch38(row)
        assert lifted is not None, name
        counterpart = grch38[name]
        assert lifted[0] == counterpart[0], name
        assert abs(lifted[1] - counterpart[1]) <= DEFAULT_FLANK and abs(lifted[2] - counterpart[2]) <= DEFAULT_FLANK, name
        back = CHAIN.to_grch37(counterpart)
        assert back is not None and abs(back[1] - row[1]) <= DEFAULT_FLANK and abs(back[2] - row[2]) <= DEFAULT_FLANK, name


def test_independent_sources_agree_on_every_locus() -> None:
    """Every two sources of a locus, carried into GRCh38, lie within AGREEMENT bases of each other: one locus, not two."""
    carried: dict[str, list[tuple[str, tuple[str, int, int]]]] = defaultdict(list)
    for fact in SOURCES:
        interval = (fact.contig, fact.start, fact.end)
        lifted = CHAIN.to_grch38(interval) if fact.build == "GRCh37" else interval
        assert lifted is not None, fact
        carried[fact.locus].append((fact.source, lifted))
    for locus, found in carried.items():
        for index, (source_a, a) in enumerate(found):
            for source_b, b in found[index + 1 :]:
                assert a[0] == b[0] and max(a[1], b[1]) - min(a[2], b[2]) <= AGREEMENT, f"{locus}: {source_a} and {source_b}"


# Loci no GRCh37 source places (their GRCh37 rows are their GRCh38 sources carried
# through the chain), and loci no GRCh38 source places (the other way round).
GRCH38_SOURCES_ONLY = {
    "D4S2408", "D6S1043", "D9S1122", "D17S1301", "D20S482",
    "DXS10135", "DXS8378", "DXS7132", "DXS10074", "DXS10103", "DXS7423",
}  # fmt: skip
GRCH37_SOURCES_ONLY = {"DYS449", "DYS518", "rs2016276"}


def test_loci_sourced_in_one_build_only_are_the_listed_ones() -> None:
    """PROVENANCE.md lists these; a new source for one of them must update both."""
    builds: dict[str, set[str]] = defaultdict(set)
    for fact in SOURCES:
        builds[fact.locus].add(fact.build)
    assert {locus for locus, found in builds.items() if found == {"GRCh38"}} == GRCH38_SOURCES_ONLY
    assert {locus for locus, found in builds.items() if found == {"GRCh37"}} == GRCH37_SOURCES_ONLY
    for locus in GRCH38_SOURCES_ONLY | GRCH37_SOURCES_ONLY:
        assert locus in PROVENANCE


def test_two_independent_grch37_sources_place_the_codis_loci() -> None:
    """HipSTR's hg19 repeat, the lobSTR viewer's span and RM_WGS's position lie inside the GRCh37 row."""
    rows = rows_by_name("codis-str", "GRCh37")
    seen: dict[str, set[str]] = defaultdict(set)
    for fact in SOURCES:
        if fact.build == "GRCh37" and fact.locus in rows:
            contig, start, end = rows[fact.locus]
            assert fact.contig == contig and start <= fact.start and fact.end <= end, fact
            seen[fact.locus].add(fact.source)
    assert set(seen) == set(rows)
    assert all(len(sources) >= 2 for sources in seen.values()), seen


# --- sequence: repeats where excerpts exist ---------------------------------------------


def excerpts() -> dict[str, list[tuple[int, str]]]:
    found: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for line in EXCERPTS.read_text().splitlines():
        if not line.startswith("#"):
            contig, start, sequence = line.split("\t")
            found[contig].append((int(start), sequence))
    return found


NOT_IN_EXCERPTS = {"SE33", "DYS385a", "DYS458", "DYF387S1b", "DYS393", "DYS456", "DYS449", "DYS518", "DYS627"}
"""STR loci STRNaming's GRCh38 sequence cache (the excerpts' source) does not hold."""


@pytest.mark.parametrize("build", BUILDS)
def test_str_rows_hold_their_repeat_unit_in_grch38_excerpts(build: str) -> None:
    """>= 3 tandem copies of the locus' unit where the row overlaps GRCh38 sequence; GRCh37 rows via the chain."""
    units = presets.read_motifs()
    sequences = excerpts()
    checked: set[str] = set()
    unchecked: set[str] = set()
    for preset in presets.STR_PRESETS:
        for contig, start, end, name in read_bed_rows(preset_path(preset, build)):
            interval = (contig, start, end) if build == "GRCh38" else CHAIN.to_grch38((contig, start, end))
            assert interval is not None
            _, first, last = interval
            overlap = [
                text[max(first, offset) - offset : min(last, offset + len(text)) - offset]
                for offset, text in sequences[contig]
                if offset < last and first < offset + len(text)
            ]
            if not overlap:
                unchecked.add(name)
                continue
            assert any(holds_unit(part, units[name]) for part in overlap), f"{build} {preset} {name}"
            checked.add(name)
    assert unchecked == NOT_IN_EXCERPTS
    assert len(checked) == 58


@pytest.mark.parametrize("build", BUILDS)
def test_repeat_units_are_where_the_presets_say(build: str) -> None:
    """The full sequence check, where GENOSCRUB_<BUILD>_FASTA names an indexed FASTA (make check-presets does the same)."""
    fasta = os.environ.get(f"GENOSCRUB_{build.upper()}_FASTA")
    if not fasta:
        pytest.skip(f"set GENOSCRUB_{build.upper()}_FASTA to an indexed {build} FASTA (or run make check-presets FASTA=...)")
    assert presets.fasta_problems(build, fasta) == []


def test_fasta_check_finds_a_row_off_its_repeat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The FASTA check itself: a row on its repeat passes, one shifted off it fails, a short chrM fails."""
    repeat = "GATTACA" * 3 + "TCTA" * 8 + "GATTACA" * 3
    (tmp_path / "ref.fa").write_text(f">chr1\n{repeat}{'ACGT' * 10}\n>chrM\n{'A' * 16569}\n")
    (tmp_path / "motifs.tsv").write_text("LOCUS\tTCTA\n")
    for preset in presets.STR_PRESETS:
        (tmp_path / f"{preset}.GRCh38.bed").write_text("# test\nchr1\t21\t53\tLOCUS\n")
    monkeypatch.setattr(presets, "PRESET_DIRECTORY", tmp_path)
    monkeypatch.setattr(presets, "MOTIFS", tmp_path / "motifs.tsv")
    monkeypatch.setattr(presets, "read_motifs", lambda: {"LOCUS": "TCTA"})
    assert presets.fasta_problems("GRCh38", str(tmp_path / "ref.fa")) == []
    (tmp_path / "y-str.GRCh38.bed").write_text("# test\nchr1\t60\t90\tLOCUS\n")
    assert any("no 3 tandem copies" in problem for problem in presets.fasta_problems("GRCh38", str(tmp_path / "ref.fa")))
    (tmp_path / "y-str.GRCh38.bed").write_text("# test\nchr1\t0\t21\tOTHER\n")
    assert any("no tandem repeat" in problem for problem in presets.fasta_problems("GRCh38", str(tmp_path / "ref.fa")))


def test_tandem_repeat_and_unit_detection() -> None:
    assert holds_unit("CC" + "TAGA" * 3, "TCTA")  # the other strand
    assert not holds_unit("TAGATAGA", "TAGA")
    assert holds_tandem_repeat("GG" + "AAAG" * 4 + "C")
    assert not holds_tandem_repeat("ACGTTGCAACGGTACC")


# --- the chain reader ----------------------------------------------------------------


CHAIN_TEXT = """chain 1000 chr1 1000 + 100 400 chr1 1100 + 200 510 1
100 10 20
50 0 30
150

chain 500 chr1 1000 + 120 140 chr1 1100 + 900 920 2
20

chain 400 chr2 1000 + 0 100 chr2 1000 - 0 100 3
100
"""


def test_chain_reader_lifts_through_blocks_and_gaps(tmp_path: Path) -> None:
    path = tmp_path / "tiny.chain"
    path.write_text(CHAIN_TEXT)
    chain = Chain.from_chain_file(path)
    # blocks of chain 1: [100,200)->200, [210,260)->320, [260,410)->400; chain 2 overlaps [120,140); chain 3 is '-' and dropped
    assert chain.to_grch38(("chr1", 100, 200)) == ("chr1", 200, 300)
    assert chain.to_grch38(("chr1", 130, 131)) == ("chr1", 230, 231), "the best-scoring chain (1) decides where chains overlap"
    assert chain.to_grch38(("chr1", 203, 215)) == ("chr1", 299, 325), "a gap base moves outward to the next aligned base"
    assert chain.to_grch38(("chr1", 255, 265)) == ("chr1", 365, 405), "a query-side insertion is kept inside the lift"
    assert chain.to_grch37(("chr1", 320, 330)) == ("chr1", 210, 220)
    assert chain.to_grch38(("chr2", 10, 20)) is None
    blocks = tmp_path / "blocks.tsv"
    chain.write_blocks(blocks, "test")
    assert Chain.from_blocks_file(blocks).to_grch38(("chr1", 203, 215)) == ("chr1", 299, 325)


def test_chain_excerpt_gives_what_the_whole_chain_gives() -> None:
    """Where GENOSCRUB_HG19TOHG38_CHAIN names the UCSC file, the presets built from it equal the shipped ones."""
    whole = os.environ.get("GENOSCRUB_HG19TOHG38_CHAIN")
    if not whole:
        pytest.skip("set GENOSCRUB_HG19TOHG38_CHAIN to hg19ToHg38.over.chain(.gz) to compare the excerpt with it")
    assert built_presets(Chain.from_chain_file(Path(whole))) == built_presets(CHAIN)


# --- mitochondrial control region and provenance ---------------------------------------


def test_mt_control_is_the_rcrs_control_region_in_both_builds() -> None:
    for build in BUILDS:
        parsed = read_bed(str(preset_path("mt-control", build)))
        starts, ends = merged(parsed["chrM"], 0)
        assert list(zip(starts.tolist(), ends.tolist(), strict=True)) == [(0, 576), (16023, 16569)]
        rows = rows_by_name("mt-control", build)
        assert rows["HVS-I"] == ("chrM", 16023, 16365)
        assert rows["HVS-II"] == ("chrM", 72, 340)
        assert rows["HVS-III"] == ("chrM", 437, 574)
    assert build_contig_lengths("GRCh37")["MT"] == build_contig_lengths("GRCh38")["chrM"] == 16569


def test_provenance_names_every_preset_file_and_source() -> None:
    for path in (ROOT / "filters" / "presets").glob("*.bed"):
        assert path.name in PROVENANCE
    for source in {fact.source for fact in SOURCES}:
        assert f"`{source}`" in PROVENANCE, source


def test_presets_man_page_is_lint_clean() -> None:
    page = ROOT / "man" / "genoscrub-presets.7"
    if shutil.which("mandoc") is None:
        pytest.skip("mandoc is not installed (make tools installs it)")
    result = subprocess.run(["mandoc", "-Tlint", "-W", "style", str(page)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    text = page.read_text()
    for preset in PRESETS:
        for name in names(preset, "GRCh38"):
            assert name.replace("-", "\\-") in text, name
