"""Forensic region presets: build them from their sourced coordinates, and check them.

The BED files in ``filters/presets/`` (``<preset>.<build>.bed``) are not written
by hand. Every coordinate a named public source gives for a locus is kept in
``filters/presets/sources.tsv`` (converted to BED, one row per source and
locus); which loci a preset holds is kept in ``filters/presets/kits.tsv`` (the
kits' locus lists, each with its source). A preset row for a locus is the hull
of every source's interval for it in that build *and* of the other build's
intervals carried over through the UCSC hg19ToHg38 chain, so both builds mask
the same stretch of sequence and a locus sourced in one build only still exists
in the other. ``filters/presets/PROVENANCE.md`` names the sources.

The chain is read from the excerpt of its aligned blocks that covers the loci
(``tests/data/hg19ToHg38.blocks.tsv``), or from a whole UCSC chain file.

    python tools/presets.py build [--chain hg19ToHg38.over.chain.gz]   # rewrite the preset BEDs
    python tools/presets.py excerpt-chain hg19ToHg38.over.chain.gz     # rewrite the blocks excerpt
    python tools/presets.py check-fasta --build GRCh38 GRCh38.fa        # the sequence check (make check-presets)
"""

from __future__ import annotations

import argparse
import bisect
import gzip
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRESET_DIRECTORY = ROOT / "filters" / "presets"
SOURCES = PRESET_DIRECTORY / "sources.tsv"
KITS = PRESET_DIRECTORY / "kits.tsv"
MOTIFS = PRESET_DIRECTORY / "motifs.tsv"
BLOCKS = ROOT / "tests" / "data" / "hg19ToHg38.blocks.tsv"
BUILDS = ("GRCh37", "GRCh38")
NUCLEAR_PRESETS = ("codis-str", "forensic-str", "y-str", "identity-snp")
STR_PRESETS = ("codis-str", "forensic-str", "y-str")
# Sources may disagree on where a repeat or an amplicon ends; further apart than
# the default flank of the commands (filters/regions.py) they are not one locus.
AGREEMENT = 100
# The chain excerpt keeps the blocks this close to a sourced interval.
EXCERPT_MARGIN = 5000
DESCRIPTIONS = {
    "codis-str": "the 20 CODIS core STR loci",
    "forensic-str": "autosomal and X STRs of the CODIS core, GlobalFiler, PowerSeq 46GY and ForenSeq kits",
    "y-str": "the Y-STRs of Yfiler Plus, PowerPlex Y23 and ForenSeq, every copy of multi-copy loci",
    "identity-snp": "the identity SNPs of ForenSeq and of the SNPforID 52-plex",
}

Interval = tuple[str, int, int]  # contig, BED start, BED end
# Kit loci no public source placed (PROVENANCE.md, "Left out"): the presets lack them in both builds.
UNSOURCED = {"rs1029047": "SNPforID 52-plex SNP; no public source of its position could be had offline"}


@dataclass(frozen=True)
class Fact:
    """One source's interval for one locus in one build (BED, UCSC contig names)."""

    locus: str
    build: str
    contig: str
    start: int
    end: int
    source: str


@dataclass(frozen=True)
class KitLocus:
    preset: str
    kit: str
    locus: str
    source: str


def table_rows(path: Path) -> Iterator[list[str]]:
    """Tab-separated rows of a data file, without ``#`` comments and blank lines."""
    for line in path.read_text(encoding="ascii").splitlines():
        if line.strip() and not line.startswith("#"):
            yield line.split("\t")


def read_sources(path: Path = SOURCES) -> list[Fact]:
    facts = []
    for locus, build, contig, start, end, source in table_rows(path):
        facts.append(Fact(locus, build, contig, int(start), int(end), source))
    return facts


def read_kits(path: Path = KITS) -> list[KitLocus]:
    return [KitLocus(*row) for row in table_rows(path)]


def preset_loci(kits: Iterable[KitLocus], preset: str) -> set[str]:
    """The loci a preset must hold: the union of its kits' locus lists."""
    return {entry.locus for entry in kits if entry.preset == preset}


def read_motifs(path: Path = MOTIFS) -> dict[str, str]:
    return {row[0]: row[1] for row in table_rows(path)}


# --- the hg19ToHg38 chain -----------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """An ungapped aligned block: GRCh37 ``[start, end)`` on ``contig`` is GRCh38 ``[other_start, ...)``."""

    contig: str
    start: int
    end: int
    other_contig: str
    other_start: int
    chain: str


class SpanIndex:
    """Aligned spans of one contig, ``(start, end, other_start, chain_id)``, which may overlap.

    Where chains overlap, the span of the best-scoring chain (UCSC numbers
    chains by score, 1 best) decides, so the excerpt and the whole chain file
    give the same answer.
    """

    def __init__(self, spans: list[tuple[int, int, int, int]]) -> None:
        self.spans = sorted(spans)
        self.starts = [span[0] for span in self.spans]
        self.reach: list[int] = []  # reach[i]: the furthest end among spans[0..i]
        for _, end, _, _ in self.spans:
            self.reach.append(max(end, self.reach[-1] if self.reach else end))

    def at(self, position: int) -> int | None:
        best: tuple[int, int] | None = None
        slot = bisect.bisect_right(self.starts, position) - 1
        while slot >= 0 and self.reach[slot] > position:
            start, end, other, chain_id = self.spans[slot]
            if start <= position < end and (best is None or chain_id < best[0]):
                best = (chain_id, other + position - start)
            slot -= 1
        return None if best is None else best[1]


class Chain:
    """The aligned blocks of a UCSC liftOver chain (hg19 -> hg38), '+' strand on both sides.

    Only blocks between same-named primary contigs are kept: every forensic
    locus sits on the same chromosome in both builds, and a block onto an
    unplaced contig or the other strand is no counterpart of a preset row.
    """

    def __init__(self, blocks: Iterable[Block]) -> None:
        self.blocks = sorted(set(blocks), key=lambda block: (block.contig, block.start))
        self._forward = self._index([(b.contig, b.start, b.end, b.other_start, b.chain) for b in self.blocks])
        self._backward = self._index(
            [(b.other_contig, b.other_start, b.other_start + b.end - b.start, b.start, b.chain) for b in self.blocks]
        )

    @staticmethod
    def _index(entries: list[tuple[str, int, int, int, str]]) -> dict[str, SpanIndex]:
        by_contig: dict[str, list[tuple[int, int, int, int]]] = defaultdict(list)
        for contig, start, end, other, chain_id in entries:
            by_contig[contig].append((start, end, other, int(chain_id)))
        return {contig: SpanIndex(spans) for contig, spans in by_contig.items()}

    @classmethod
    def from_chain_file(cls, path: Path) -> Chain:
        opener = gzip.open if path.read_bytes()[:2] == b"\x1f\x8b" else open
        blocks: list[Block] = []
        with opener(path, "rt", encoding="ascii") as stream:
            keep = False
            contig = other = chain_id = ""
            position = other_position = 0
            for line in stream:
                fields = line.split()
                if not fields:
                    continue
                if fields[0] == "chain":
                    contig, other, chain_id = fields[2], fields[7], fields[12]
                    position, other_position = int(fields[5]), int(fields[10])
                    keep = fields[4] == "+" and fields[9] == "+" and contig == other
                    continue
                size = int(fields[0])
                if keep:
                    blocks.append(Block(contig, position, position + size, other, other_position, chain_id))
                if len(fields) == 3:
                    position += size + int(fields[1])
                    other_position += size + int(fields[2])
        return cls(blocks)

    @classmethod
    def from_blocks_file(cls, path: Path = BLOCKS) -> Chain:
        blocks = []
        for contig, start, end, other, other_start, chain_id in table_rows(path):
            blocks.append(Block(contig, int(start), int(end), other, int(other_start), chain_id))
        return cls(blocks)

    def write_blocks(self, path: Path, note: str) -> None:
        lines = [f"# {note}", "#grch37_contig\tgrch37_start\tgrch37_end\tgrch38_contig\tgrch38_start\tchain_id"]
        for b in self.blocks:
            lines.append(f"{b.contig}\t{b.start}\t{b.end}\t{b.other_contig}\t{b.other_start}\t{b.chain}")
        path.write_text("\n".join(lines) + "\n", encoding="ascii")

    def near(self, intervals: Iterable[Interval], margin: int) -> Chain:
        """The blocks within ``margin`` of a GRCh37 or GRCh38 interval: the excerpt a test needs."""
        wanted = list(intervals)
        kept = [
            b
            for b in self.blocks
            for contig, start, end in wanted
            if (b.contig == contig and b.start < end + margin and start - margin < b.end)
            or (b.other_contig == contig and b.other_start < end + margin and start - margin < b.other_start + b.end - b.start)
        ]
        return Chain(kept)

    @staticmethod
    def _base(index: dict[str, SpanIndex], contig: str, position: int, step: int) -> int | None:
        """Where ``position`` lands; a base in a gap moves by ``step`` to the next aligned base (outward: fail closed)."""
        spans = index.get(contig)
        if spans is None:
            return None
        for _ in range(EXCERPT_MARGIN):
            found = spans.at(position)
            if found is not None:
                return found
            position += step
        return None

    def _lift(self, index: dict[str, SpanIndex], interval: Interval) -> Interval | None:
        contig, start, end = interval
        first = self._base(index, contig, start, -1)
        last = self._base(index, contig, end - 1, +1)
        if first is None or last is None or last < first:
            return None
        return contig, first, last + 1

    def to_grch38(self, interval: Interval) -> Interval | None:
        return self._lift(self._forward, interval)

    def to_grch37(self, interval: Interval) -> Interval | None:
        return self._lift(self._backward, interval)

    def carry(self, interval: Interval, to_build: str) -> Interval | None:
        return self.to_grch38(interval) if to_build == "GRCh38" else self.to_grch37(interval)


# --- building the presets ------------------------------------------------------------


class PresetError(Exception):
    """A source table that cannot make a sound preset (disagreeing contigs, a failed lift)."""


def hull(intervals: Iterable[Interval], locus: str) -> Interval:
    listed = list(intervals)
    contigs = {contig for contig, _, _ in listed}
    if len(contigs) != 1:
        raise PresetError(f"{locus}: sources name different contigs {sorted(contigs)}")
    return listed[0][0], min(start for _, start, _ in listed), max(end for _, _, end in listed)


def locus_rows(facts: Iterable[Fact], chain: Chain) -> dict[str, dict[str, Interval]]:
    """Per build, per locus: the hull of its own sources and the other build's sources carried over."""
    by_locus: dict[str, list[Fact]] = defaultdict(list)
    for fact in facts:
        by_locus[fact.locus].append(fact)
    rows: dict[str, dict[str, Interval]] = {build: {} for build in BUILDS}
    for locus, found in by_locus.items():
        for build in BUILDS:
            intervals: list[Interval] = []
            for fact in found:
                interval = (fact.contig, fact.start, fact.end)
                if fact.build != build:
                    carried = chain.carry(interval, build)
                    if carried is None:
                        raise PresetError(f"{locus}: {fact.source} {fact.build} interval does not lift to {build}")
                    interval = carried
                intervals.append(interval)
            rows[build][locus] = hull(intervals, locus)
    return rows


def contig_order(contig: str) -> tuple[int, str]:
    name = contig.removeprefix("chr")
    return (int(name), "") if name.isdigit() else (100, name)


def preset_text(preset: str, build: str, loci: set[str], rows: dict[str, Interval]) -> str:
    loci = loci - set(UNSOURCED)
    missing = sorted(loci - set(rows))
    if missing:
        raise PresetError(f"{preset}: no {build} coordinates for {', '.join(missing)}")
    header = (
        f"# {preset}: {DESCRIPTIONS[preset]}. {build} (UCSC names); generated by tools/presets.py from sources.tsv "
        "and the UCSC hg19ToHg38 chain. See PROVENANCE.md."
    )
    lines = [header]
    for locus in sorted(loci, key=lambda name: (contig_order(rows[name][0]), rows[name][1], name)):
        contig, start, end = rows[locus]
        lines.append(f"{contig}\t{start}\t{end}\t{locus}")
    return "\n".join(lines) + "\n"


def built_presets(chain: Chain, facts: list[Fact] | None = None, kits: list[KitLocus] | None = None) -> dict[str, str]:
    """File name -> text of every nuclear preset BED, as the sources make them."""
    facts = read_sources() if facts is None else facts
    kits = read_kits() if kits is None else kits
    rows = locus_rows(facts, chain)
    return {
        f"{preset}.{build}.bed": preset_text(preset, build, preset_loci(kits, preset), rows[build])
        for preset in NUCLEAR_PRESETS
        for build in BUILDS
    }


# --- checking against a reference FASTA ----------------------------------------------


def reverse_complement(text: str) -> str:
    return text.translate(str.maketrans("ACGT", "TGCA"))[::-1]


def holds_unit(sequence: str, unit: str, copies: int = 3) -> bool:
    """At least ``copies`` tandem copies of ``unit`` on either strand."""
    return unit * copies in sequence or reverse_complement(unit) * copies in sequence


TANDEM = re.compile(r"([ACGT]{2,6}?)\1{3,}")


def holds_tandem_repeat(sequence: str) -> bool:
    """Some 2-6 base unit repeated at least four times in tandem (for loci with no unit on file)."""
    return TANDEM.search(sequence) is not None


def read_bed_rows(path: Path) -> list[tuple[str, int, int, str]]:
    rows = []
    for line in path.read_text(encoding="ascii").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        contig, start, end, name = line.split("\t")
        rows.append((contig, int(start), int(end), name))
    return rows


def fasta_build(fasta: str) -> str | None:
    """The build whose chromosome 1 length the FASTA's has (``.fai`` made by pyfaidx when missing)."""
    import pyfaidx

    reference = pyfaidx.Fasta(fasta)
    for build in BUILDS:
        for row in table_rows(PRESET_DIRECTORY / f"{build}.contigs.tsv"):
            name, length = row[0], int(row[1])
            if name.removeprefix("chr") != "1":
                continue
            for candidate in (name, "chr1", "1"):
                if candidate in reference and len(reference[candidate]) == length:
                    return build
    return None


def fasta_problems(build: str, fasta: str) -> list[str]:
    """Every STR row holds its repeat, and the mitochondrial contig is the 16569-base rCRS."""
    import pyfaidx

    reference = pyfaidx.Fasta(fasta, as_raw=True, sequence_always_upper=True)
    units = read_motifs()
    problems = []

    def sequence_of(contig: str, start: int, end: int) -> str | None:
        for name in (contig, contig.removeprefix("chr"), "MT" if contig == "chrM" else contig):
            if name in reference:
                return str(reference[name][start:end])
        return None

    for preset in STR_PRESETS:
        for contig, start, end, name in read_bed_rows(PRESET_DIRECTORY / f"{preset}.{build}.bed"):
            sequence = sequence_of(contig, start, end)
            if sequence is None:
                problems.append(f"{preset} {name}: {contig} is not in the FASTA")
            elif name in units and not holds_unit(sequence, units[name]):
                problems.append(f"{preset} {name} {contig}:{start}-{end}: no 3 tandem copies of {units[name]}")
            elif name not in units and not holds_tandem_repeat(sequence):
                problems.append(f"{preset} {name} {contig}:{start}-{end}: no tandem repeat")
    mitochondrion = next((name for name in ("chrM", "MT", "M") if name in reference), None)
    if mitochondrion is None or len(reference[mitochondrion]) != 16569:
        problems.append("the mitochondrial contig is missing or is not the 16569-base rCRS")
    return problems


# --- command line --------------------------------------------------------------------


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tools/presets.py", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="rewrite the preset BED files from sources.tsv and kits.tsv")
    build.add_argument("--chain", type=Path, help="a whole UCSC hg19ToHg38 chain file instead of the blocks excerpt")
    excerpt = commands.add_parser("excerpt-chain", help="rewrite tests/data/hg19ToHg38.blocks.tsv from a whole chain file")
    excerpt.add_argument("chain", type=Path)
    check = commands.add_parser("check-fasta", help="check the STR presets against a reference FASTA")
    check.add_argument("--build", choices=BUILDS, help="the FASTA's build (default: told by its contig lengths)")
    check.add_argument("fasta")
    arguments = parser.parse_args(argv)
    if arguments.command == "build":
        chain = Chain.from_chain_file(arguments.chain) if arguments.chain else Chain.from_blocks_file()
        for name, text in built_presets(chain).items():
            (PRESET_DIRECTORY / name).write_text(text, encoding="ascii")
        return 0
    if arguments.command == "excerpt-chain":
        whole = Chain.from_chain_file(arguments.chain)
        intervals = [(fact.contig, fact.start, fact.end) for fact in read_sources()]
        note = (
            "Aligned blocks of the UCSC hg19ToHg38.over.chain (same-named contigs, + strand) within "
            f"{EXCERPT_MARGIN} bases of a preset source interval; see filters/presets/PROVENANCE.md. BED-style 0-based."
        )
        whole.near(intervals, EXCERPT_MARGIN).write_blocks(BLOCKS, note)
        return 0
    if arguments.build is None:
        arguments.build = fasta_build(arguments.fasta)
        if arguments.build is None:
            print("check-presets: the FASTA's contig lengths match neither GRCh37 nor GRCh38: give --build", file=sys.stderr)
            return 2
    problems = fasta_problems(arguments.build, arguments.fasta)
    for problem in problems:
        print(f"check-presets: {arguments.build}: {problem}", file=sys.stderr)
    print(f"check-presets: {arguments.build}: {'FAILED' if problems else 'ok'}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
