"""Region lists for the forensic-loci commands: BED files, shipped presets, flanks.

The guideline names short tandem repeats (forensic STR loci such as the
NIST/CODIS set) as high-risk sequence information; forensic
identity-SNP panels, Y-STRs and the mitochondrial control region identify a
person or their paternal and maternal line as well. ``vcf-drop-regions`` and
``sam-mask-regions`` share this module: it reads the regions, widens them by
``--flank``, checks that they describe the input's genome (``contigs``: same
genome, or stop) and builds one sorted, merged interval array per input
contig, queried with ``numpy.searchsorted`` a block of records at a time.

Regions of every ``--bed`` and ``--preset`` go through one contig map: a list that
writes ``chr1`` in one file (or line) and ``1`` in another applies both to the
input's ``chr1``. A region list holding no region is an error, as one that matches
none of the input's contigs is.

Presets ship as BED files in ``filters/presets/`` (``<preset>.<build>.bed``)
with the contig lengths of their build (``<build>.contigs.tsv``), so a preset
applied to the wrong build stops with an error instead of masking nothing;
``presets/PROVENANCE.md`` says where every coordinate comes from.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np
from genoscrub.contigs import ContigMap, OtherSpelling, conventional_names
from genoscrub.fields import (  # noqa: F401 - re-exported: sam-mask-regions reads its columns with them
    UNSIGNED_TEXT,
    BlockColumns,
    block_columns,
    distinct,
    field_bounds,
    field_values,
)
from genoscrub.report import InputError, UsageError
from genoscrub.streams import open_input

PRESET_DIRECTORY = Path(__file__).resolve().parent / "presets"
PRESETS = ("codis-str", "forensic-str", "y-str", "identity-snp", "mt-control")
BUILDS = ("GRCh37", "GRCh38")
AUTO_BUILD = "auto"
# The default flank: wider than the allele-length differences a read can carry
# as misaligned repeat units (mismatches instead of an insertion), so such
# bases fall inside the mask; see man/sam-mask-regions.md, *WHAT IS MASKED*.
DEFAULT_FLANK = 100

Interval = tuple[int, int]
LONGEST = 1 << 40  # beyond any contig (SAM and VCF positions stop at 2^31): coordinates and flank are clamped here


def preset_path(preset: str, build: str) -> Path:
    return PRESET_DIRECTORY / f"{preset}.{build}.bed"


def available_builds(preset: str) -> list[str]:
    """Builds for which the preset's coordinates could be sourced (PROVENANCE.md)."""
    return [build for build in BUILDS if preset_path(preset, build).exists()]


def build_contig_lengths(build: str) -> dict[str, int]:
    """Primary-assembly contig lengths of a build, as shipped next to the presets."""
    lengths: dict[str, int] = {}
    with open(PRESET_DIRECTORY / f"{build}.contigs.tsv", encoding="ascii") as table:
        for line in table:
            if line.startswith("#") or not line.strip():
                continue
            name, length = line.split()
            lengths[name] = int(length)
    return lengths


def read_bed(path: str) -> dict[str, list[Interval]]:
    """Intervals per contig from a BED file (gzip or not; ``-`` is stdin).

    BED is 0-based and half-open; only the first three columns are used.
    ``track``/``browser``/``#`` lines and blank lines are skipped. A zero-length
    interval (an insertion point) is widened to the one base after it, so it
    still masks something: fail closed. Coordinates are digits only (no sign,
    blank or underscore); one past any contig is clamped to ``LONGEST``. A file
    holding no interval is an error: it would mask nothing.
    """
    intervals: dict[str, list[Interval]] = {}
    stream = open_input(path)
    inner = getattr(stream, "fileobj", None)  # a decompressor does not close the file it reads
    try:
        _read_bed_lines(stream, path, intervals)
    finally:
        stream.close()
        if inner is not None and path != "-":
            inner.close()
    if not intervals:
        raise InputError("the BED file holds no region (only blank, comment, track or browser lines)", path)
    return intervals


def bed_coordinate(text: bytes) -> int:
    """A BED start or end: digits only, clamped to ``LONGEST`` ("to the end of the contig"); ValueError otherwise."""
    if UNSIGNED_TEXT.fullmatch(text) is None:
        raise ValueError("not a BED coordinate")
    return LONGEST if len(text.lstrip(b"0")) > len(str(LONGEST)) else min(int(text), LONGEST)


def _read_bed_lines(stream: IO[bytes], path: str, intervals: dict[str, list[Interval]]) -> None:
    """Parse BED lines into ``intervals``; a bad line is an InputError naming it."""
    for number, raw in enumerate(stream, start=1):
        line = raw.rstrip(b"\r\n")
        if not line.strip() or line.startswith((b"#", b"track", b"browser")):
            continue
        fields = line.split(b"\t") if b"\t" in line else line.split()
        if len(fields) < 3:
            raise InputError("BED line has fewer than 3 columns", path, number)
        if fields[1][:1] == b"-" or fields[2][:1] == b"-":
            raise InputError("BED interval must have 0 <= start <= end", path, number)
        try:
            start, end = bed_coordinate(fields[1]), bed_coordinate(fields[2])
        except ValueError:
            raise InputError("BED start and end must be integers", path, number) from None
        if end < start:
            raise InputError("BED interval must have 0 <= start <= end", path, number)
        contig = fields[0].decode(errors="surrogateescape")
        intervals.setdefault(contig, []).append((start, max(end, start + 1)))


def merged(intervals: Iterable[Interval], flank: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted, non-overlapping ``(starts, ends)`` after widening by ``flank``.

    Merging makes ``ends`` sorted too, so one ``searchsorted`` on ``ends``
    finds the only interval that can overlap a query.
    """
    flank = min(flank, LONGEST)
    ordered = sorted((max(0, start - flank), end + flank) for start, end in intervals)
    starts: list[int] = []
    ends: list[int] = []
    for start, end in ordered:
        if ends and start <= ends[-1]:
            ends[-1] = max(ends[-1], end)
        else:
            starts.append(start)
            ends.append(end)
    return np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)


def overlap_mask(starts: np.ndarray, ends: np.ndarray, query_starts: np.ndarray, query_ends: np.ndarray) -> np.ndarray:
    """Which half-open queries ``[query_start, query_end)`` overlap a merged interval."""
    if not len(starts):
        return np.zeros(len(query_starts), dtype=bool)
    index = np.searchsorted(ends, query_starts, side="right")
    inside = index < len(starts)
    hit = np.zeros(len(query_starts), dtype=bool)
    hit[inside] = starts[index[inside]] < query_ends[inside]
    return hit


@dataclass
class RegionIndex:
    """Merged regions per *input* contig name (``bytes``, as read from the stream)."""

    by_contig: dict[bytes, tuple[np.ndarray, np.ndarray]]
    build: str | None = None
    presets: list[str] = field(default_factory=list)
    flank: int = DEFAULT_FLANK
    renamed: dict[str, str] = field(default_factory=dict)
    genome_check: str = "contig lengths"

    as_lists: dict[bytes, tuple[list[int], list[int]]] = field(default_factory=dict, init=False, repr=False, compare=False)
    """``by_contig`` as Python lists, for the one-read questions: ``bisect`` on a list is
    several times cheaper than ``numpy.searchsorted`` on one number."""

    def intervals(self, contig: bytes) -> tuple[np.ndarray, np.ndarray] | None:
        return self.by_contig.get(contig)

    def interval_lists(self, contig: bytes) -> tuple[list[int], list[int]] | None:
        found = self.as_lists.get(contig)
        if found is None:
            arrays = self.by_contig.get(contig)
            if arrays is None:
                return None
            found = self.as_lists[contig] = (arrays[0].tolist(), arrays[1].tolist())
        return found

    def overlaps(self, contig: bytes, start: int, end: int) -> bool:
        found = self.interval_lists(contig)
        if found is None:
            return False
        starts, ends = found
        index = bisect_right(ends, start)
        return index < len(starts) and starts[index] < end

    def overlapping(self, contig: bytes, start: int, end: int) -> list[Interval]:
        """The merged intervals that overlap or touch ``[start, end]``."""
        found = self.interval_lists(contig)
        if found is None:
            return []
        starts, ends = found
        index = bisect_left(ends, start)
        result: list[Interval] = []
        while index < len(starts) and starts[index] <= end:
            result.append((starts[index], ends[index]))
            index += 1
        return result

    def report_notes(self) -> dict[str, object]:
        notes: dict[str, object] = {
            "regions": int(sum(len(starts) for starts, _ in self.by_contig.values())),
            "flank": self.flank,
        }
        if self.presets:
            notes["presets"] = list(self.presets)
            notes["build"] = self.build
        if self.renamed:
            notes["contigs_renamed"] = dict(self.renamed)
        notes["genome_check"] = self.genome_check
        return notes


@dataclass
class RegionRequest:
    """What the user asked for: BED files, presets, build and flank."""

    beds: Sequence[str] = ()
    presets: Sequence[str] = ()
    build: str = AUTO_BUILD
    flank: int = DEFAULT_FLANK

    def check(self) -> None:
        if not self.beds and not self.presets:
            raise UsageError("give at least one --bed FILE or --preset NAME")
        if self.flank < 0:
            raise UsageError("--flank must be 0 or more")
        for preset in self.presets:
            if preset not in PRESETS:
                raise UsageError(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
        if self.build != AUTO_BUILD and self.build not in BUILDS:
            raise UsageError(f"unknown build {self.build!r}; choose from {AUTO_BUILD}, {', '.join(BUILDS)}")
        for preset in self.presets:
            builds = available_builds(preset)
            if self.build != AUTO_BUILD and self.build not in builds:
                raise UsageError(
                    f"preset {preset} has no {self.build} coordinates (see presets/PROVENANCE.md); "
                    f"available: {', '.join(builds)}; give your own --bed for {self.build}"
                )


def preset_intervals(presets: Sequence[str], build: str) -> dict[str, list[Interval]]:
    intervals: dict[str, list[Interval]] = {}
    for preset in presets:
        for contig, found in read_bed(str(preset_path(preset, build))).items():
            intervals.setdefault(contig, []).extend(found)
    return intervals


def candidate_builds(request: RegionRequest) -> list[str]:
    if request.build != AUTO_BUILD:
        return [request.build]
    return [build for build in BUILDS if all(build in available_builds(preset) for preset in request.presets)]


def load_regions(request: RegionRequest, input_contigs: Mapping[str, int | None], input_path: str) -> RegionIndex:
    """Read the regions and join them with the input's contigs, or stop.

    With presets and ``--build auto`` the build is the one whose contig
    lengths the input's header agrees with; when the header cannot tell
    (no lengths) and the builds' coordinates differ, the user must say.
    """
    request.check()
    bed_intervals: dict[str, list[Interval]] = {}
    for bed in request.beds:
        for contig, found in read_bed(bed).items():
            bed_intervals.setdefault(contig, []).extend(found)
    label = "region list"
    where = ", ".join([*request.beds, *(f"preset {name}" for name in request.presets)])
    builds = candidate_builds(request) if request.presets else [None]
    if not builds:
        raise UsageError("no build has coordinates for all the presets asked for; see presets/PROVENANCE.md")
    outcomes: list[tuple[str | None, ContigMap, dict[str, list[Interval]]]] = []
    first_error: InputError | None = None
    for build in builds:
        intervals = {contig: list(found) for contig, found in bed_intervals.items()}
        lengths: dict[str, int | None] = dict.fromkeys(bed_intervals)
        if build is not None:
            known = build_contig_lengths(build)
            for contig, found in preset_intervals(request.presets, build).items():
                intervals.setdefault(contig, []).extend(found)
                lengths[contig] = next((known[name] for name in (contig, *conventional_names(contig)) if name in known), None)
        try:
            contig_map = ContigMap(input_contigs, lengths, label, where)
        except InputError as error:
            first_error = error if isinstance(error, OtherSpelling) and not isinstance(first_error, OtherSpelling) else first_error or error
            continue
        outcomes.append((build, contig_map, intervals))
    if not outcomes:
        assert first_error is not None
        raise first_error
    if len(outcomes) > 1 and outcomes[0][2] != outcomes[1][2]:
        raise UsageError("cannot tell the genome build from the input header (no contig lengths): give --build")
    build, contig_map, intervals = outcomes[-1]
    by_contig = {
        name.encode(errors="surrogateescape"): merged([item for other in others for item in intervals[other]], request.flank)
        for name, others in contig_map.to_others.items()
    }
    return RegionIndex(by_contig, build, list(request.presets), request.flank, contig_map.report_note(), contig_map.genome_check)
