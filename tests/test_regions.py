"""Region handling shared by vcf-drop-regions and sam-mask-regions: BED, presets, flanks, builds."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest
from genoscrub import regions
from genoscrub.regions import (
    BUILDS,
    PRESETS,
    RegionRequest,
    build_contig_lengths,
    load_regions,
    merged,
    overlap_mask,
    read_bed,
)
from genoscrub.report import InputError, UsageError
from genoscrub.sam_columns import sam_numbers
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
GRCH38 = build_contig_lengths("GRCh38")
GRCH37 = build_contig_lengths("GRCh37")


def write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


# --- BED ---------------------------------------------------------------------


def test_bed_skips_comments_and_reads_gzip(tmp_path: Path) -> None:
    text = "track name=x\nbrowser position chr1\n# comment\n\nchr1\t10\t20\tA\nchr1 30 40\n"
    plain = read_bed(write(tmp_path / "a.bed", text))
    packed = tmp_path / "a.bed.gz"
    packed.write_bytes(gzip.compress(text.encode()))
    assert plain == read_bed(str(packed)) == {"chr1": [(10, 20), (30, 40)]}


def test_bed_zero_length_interval_masks_one_base(tmp_path: Path) -> None:
    assert read_bed(write(tmp_path / "a.bed", "chr1\t5\t5\n")) == {"chr1": [(5, 6)]}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("chr1\t10\n", "fewer than 3 columns"),
        ("chr1\tten\t20\n", "must be integers"),
        ("chr1\t20\t10\n", "0 <= start <= end"),
        ("chr1\t-1\t10\n", "0 <= start <= end"),
    ],
)
def test_bad_bed_line_names_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "bad.bed", "# header\n" + text)
    with pytest.raises(InputError, match=message) as caught:
        read_bed(path)
    assert caught.value.line == 2
    assert caught.value.file == path


# --- interval index ----------------------------------------------------------


def test_merged_widens_and_joins() -> None:
    starts, ends = merged([(100, 110), (115, 120), (5, 6)], flank=3)
    assert starts.tolist() == [2, 97]
    assert ends.tolist() == [9, 123]


@settings(max_examples=200, deadline=None)
@given(
    intervals=st.lists(st.tuples(st.integers(0, 300), st.integers(1, 40)), max_size=12),
    queries=st.lists(st.tuples(st.integers(0, 400), st.integers(1, 60)), min_size=1, max_size=30),
    flank=st.integers(0, 20),
)
def test_overlap_mask_agrees_with_brute_force(intervals: list[tuple[int, int]], queries: list[tuple[int, int]], flank: int) -> None:
    """Merged arrays + searchsorted answer exactly what a scan of the raw intervals answers."""
    raw = [(start, start + length) for start, length in intervals]
    starts, ends = merged(raw, flank)
    query_starts = np.array([start for start, _ in queries])
    query_ends = np.array([start + length for start, length in queries])
    found = overlap_mask(starts, ends, query_starts, query_ends).tolist()
    expected = [
        any(max(0, s - flank) < qe and e + flank > qs for s, e in raw)
        for qs, qe in zip(query_starts.tolist(), query_ends.tolist(), strict=True)
    ]
    assert found == expected


# --- presets -----------------------------------------------------------------


def test_simulator_repeats_hold_their_unit(simulated: Path) -> None:
    """The same check on the simulator's reference, whose planted STRs are known."""
    import pyfaidx

    reference = pyfaidx.Fasta(str(simulated / "ref.fa"), as_raw=True, sequence_always_upper=True)
    checked = 0
    for line in (simulated / "repeats.bed").read_text().splitlines():
        contig, start, end, name = line.split("\t")
        match = re.fullmatch(r"STR_([ACGT]+)x(\d+)", name)
        if match:
            assert reference[contig][int(start) : int(end)].startswith(match.group(1) * int(match.group(2)))
            checked += 1
    assert checked


# --- joining regions with the input's genome ------------------------------------


def grch38_header(*names: str) -> dict[str, int | None]:
    return {name: GRCH38[name] for name in names}


def test_preset_build_is_detected_from_contig_lengths() -> None:
    index = load_regions(RegionRequest(presets=["codis-str"]), grch38_header("chr13", "chr11"), "-")
    assert index.build == "GRCh38"
    assert index.overlaps(b"chr13", 82147985, 82147986)
    assert not index.overlaps(b"chr13", 10_000_000, 10_000_100)


def test_grch37_header_selects_grch37_coordinates() -> None:
    header = {"13": GRCH37["13"], "11": GRCH37["11"]}
    index = load_regions(RegionRequest(presets=["codis-str"]), header, "-")
    assert index.build == "GRCh37"
    assert index.overlaps(b"13", 82722159, 82722160)  # D13S317's GRCh37 start (PROVENANCE.md, source 6)
    assert not index.overlaps(b"13", 82147985, 82147986)  # its GRCh38 position


def test_preset_on_another_build_is_an_error() -> None:
    header = {"13": GRCH37["13"], "11": GRCH37["11"]}
    with pytest.raises(InputError, match="another genome build"):
        load_regions(RegionRequest(presets=["codis-str"], build="GRCh38"), header, "-")
    with pytest.raises(InputError, match="another genome build"):
        load_regions(RegionRequest(presets=["codis-str"]), {"13": 114142980}, "-")  # a length neither build has


def test_preset_without_coordinates_for_the_build_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "only38.GRCh38.bed").write_text("# test\nchr1\t10\t20\tA\n")
    monkeypatch.setattr(regions, "PRESET_DIRECTORY", tmp_path)
    monkeypatch.setattr(regions, "PRESETS", (*PRESETS, "only38"))
    with pytest.raises(UsageError, match="no GRCh37 coordinates"):
        RegionRequest(presets=["only38"], build="GRCh37").check()
    with pytest.raises(UsageError, match="unknown build"):
        RegionRequest(presets=["only38"], build="GRCh36").check()


def test_chr_and_mt_names_are_mapped_and_reported() -> None:
    header = {"13": GRCH38["chr13"], "MT": 16569}
    index = load_regions(RegionRequest(presets=["codis-str", "mt-control"], build="GRCh38"), header, "-")
    assert index.overlaps(b"13", 82147985, 82147986)
    assert index.overlaps(b"MT", 16100, 16101)
    assert index.renamed == {"13": "chr13", "MT": "chrM"}


def test_bed_matching_no_input_contig_is_an_error(tmp_path: Path) -> None:
    bed = write(tmp_path / "r.bed", "chrZ\t1\t10\n")
    with pytest.raises(InputError, match="no contig"):
        load_regions(RegionRequest(beds=[bed]), {"chr1": 1000}, "-")


def test_header_without_lengths_cannot_choose_between_builds_when_they_differ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # mt-control is the same in both builds: no need to choose.
    index = load_regions(RegionRequest(presets=["mt-control"]), {"chrM": None}, "-")
    assert index.overlaps(b"chrM", 0, 1)
    # A preset whose builds differ needs --build when lengths are unknown.
    (tmp_path / "x.GRCh37.bed").write_text("# test\nchr1\t10\t20\tA\n")
    (tmp_path / "x.GRCh38.bed").write_text("# test\nchr1\t30\t40\tA\n")
    for build in BUILDS:
        (tmp_path / f"{build}.contigs.tsv").write_text((regions.PRESET_DIRECTORY / f"{build}.contigs.tsv").read_text())
    monkeypatch.setattr(regions, "PRESET_DIRECTORY", tmp_path)
    monkeypatch.setattr(regions, "PRESETS", (*PRESETS, "x"))
    with pytest.raises(UsageError, match="give --build"):
        load_regions(RegionRequest(presets=["x"]), {"chr1": None}, "-")


def test_flank_widens_and_request_checks_usage() -> None:
    index = load_regions(RegionRequest(presets=["mt-control"], flank=0), {"chrM": 16569}, "-")
    assert not index.overlaps(b"chrM", 576, 16023)
    assert index.report_notes()["regions"] == 2
    with pytest.raises(UsageError):
        RegionRequest().check()
    with pytest.raises(UsageError):
        RegionRequest(presets=["nope"]).check()
    with pytest.raises(UsageError):
        RegionRequest(presets=["mt-control"], flank=-1).check()


def test_package_data_lists_presets() -> None:
    """The presets ship with the package (pyproject package-data)."""
    text = (ROOT / "pyproject.toml").read_text()
    assert 'genoscrub = ["presets/*"]' in text


SIMULATION = {"pairs": 300}


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from([b"chr1", b"chr2", b"1"]),
            st.integers(0, 2**31 - 1),
            st.binary(max_size=5).filter(lambda b: b"\t" not in b and b"\n" not in b),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_block_columns_read_what_split_reads(rows: list[tuple[bytes, int, bytes]]) -> None:
    """The array reader of the leading columns agrees with bytes.split on every line."""
    lines = [b"%s\t%d\t%s\trest\tmore" % row for row in rows]
    block = b"\n".join(lines)
    columns = regions.block_columns(block, lines, 3)
    assert columns is not None
    numbers = sam_numbers(block, *regions.field_bounds(columns, 1))
    assert numbers is not None and numbers.tolist() == [int(line.split(b"\t")[1]) for line in lines]
    assert regions.field_values(block, columns, 0).tolist() == [line.split(b"\t")[0] for line in lines]
    begin, end = regions.field_bounds(columns, 2)
    assert (end - begin).tolist() == [len(line.split(b"\t")[2]) for line in lines]
    assert regions.distinct(regions.field_values(block, columns, 0)) == {line.split(b"\t")[0] for line in lines}


def test_block_columns_refuse_short_lines_and_bad_numbers() -> None:
    lines = [b"chr1\t5\tA\tx", b"chr1\t6"]
    assert regions.block_columns(b"\n".join(lines), lines, 3) is None
    lines = [b"chr1\t5x\tA\tx"]
    columns = regions.block_columns(b"\n".join(lines), lines, 3)
    assert columns is not None and sam_numbers(lines[0], *regions.field_bounds(columns, 1)) is None
