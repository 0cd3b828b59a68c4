"""The places and IDs a record names for its breakend's mate (vcf-drop-rare, vcf-drop-regions).

A paired breakend (VCF 4.3, 5.4) is two records, each naming the other's place in its ALT
(``G[chr2:321682[``, ``]chr13:123456]T``, ``N[<ctg1>:5[``) and, from most SV callers, its ID in
INFO/MATEID. The one-record SV forms name the second breakpoint in INFO: ``CHR2`` with ``POS2``,
``END2`` or (Delly's older translocations) ``END``, and ``MATEPOS`` (a POS, or ``chr:pos``). A
kept record naming a dropped one's place shows it (a rare SV's breakpoint, a breakpoint in a
forensic region), so the drop commands read these places: vcf-drop-regions drops a record whose
mate's place lies in a region, vcf-drop-rare drops the paired breakends (``record_traces``).
Single breakends (``G.``, ``.G``) name no place but by these INFO keys.

The INFO keys are read only where the header defines them, as ``PS`` is (``record_traces``): a
key the header does not define is none a reader takes, vcf-scrub-header removes it and the audit
finds it. Only the lines holding ``[``, ``]`` or, where the header defines one of the keys, its
name are read (``MateReader.rows``, by ``bytes.find`` over a block: two searches of one byte, all
a file without SVs pays); the audit has its own reading (``audit_record_traces``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from genoscrub.one_by_one import one_by_one
from genoscrub.vcf import RecordBlock, VcfHeader

ALT_MATE = re.compile(rb"[\[\]](<[^<>\[\]]+>|[^<>\[\],:]+):([0-9]{1,12})[\[\]]")
"""A breakend's mate place in ALT (``vcf_columns.BREAKEND``'s contig rule)."""
PLACE_KEYS = (b"POS2", b"END2", b"MATEPOS")
MATE_KEYS = (*PLACE_KEYS, b"CHR2", b"MATEID")


@dataclass(frozen=True)
class Mates:
    """What one record names of its mate: places in ALT (its mate record's CHROM and POS), IDs in
    MATEID, places in INFO (the event's other breakpoint, perhaps in no record of its own)."""

    alt_places: tuple[tuple[bytes, int], ...]
    ids: tuple[bytes, ...]
    info_places: tuple[tuple[bytes, int], ...]

    def __bool__(self) -> bool:
        return bool(self.alt_places or self.ids or self.info_places)


class MateReader:
    """The mate places and IDs of a file's records, by the INFO keys its header defines."""

    def __init__(self, header: VcfHeader) -> None:
        self.keys = frozenset(key for key in MATE_KEYS if key in header.info_numbers)
        self.marks = (b"[", b"]", *(key + b"=" for key in sorted(self.keys)))
        """What a line naming a mate holds somewhere (a few lines more are read, never fewer)."""

    def rows(self, block: RecordBlock) -> np.ndarray:
        """The rows of a block that may name a mate (every row with ``GENOSCRUB_ONE_BY_ONE=1``)."""
        if one_by_one():
            return np.arange(block.count)
        text, starts = block.text, block.starts
        rows: set[int] = set()
        for mark in self.marks:
            at = text.find(mark)
            while at >= 0:
                row = int(np.searchsorted(starts, at, side="right")) - 1
                rows.add(row)
                at = text.find(mark, int(block.ends[row]))
        return np.array(sorted(rows), dtype=np.int64)

    def mates(self, line: bytes) -> Mates:
        """The mate places and IDs of one record line."""
        fields = line.split(b"\t", 8)
        if len(fields) < 8:
            return Mates((), (), ())
        chrom, alt, info = fields[0], fields[4], fields[7]
        alt_places = tuple((found.group(1), int(found.group(2))) for found in ALT_MATE.finditer(alt))
        ids: list[bytes] = []
        info_places: list[tuple[bytes, int]] = []
        if self.keys and b"=" in info:
            items: dict[bytes, list[bytes]] = {}
            for item in info.split(b";"):
                key, _, value = item.partition(b"=")
                if key in self.keys or key == b"END":
                    items.setdefault(key, []).append(value)
            # A key written twice (malformed; htslib reads the first copy, GATK the last): every
            # copy names a place, each on every CHR2 given (fail closed: any in a region drops it).
            seconds = [value or chrom for value in items.get(b"CHR2", [chrom])]
            for key in (*PLACE_KEYS, *((b"END",) if b"CHR2" in items else ())):
                for value in b",".join(items.get(key, [])).split(b","):
                    contig, _, number = value.rpartition(b":")
                    if number.isdigit() and len(number) <= 12:
                        info_places += [(contig, int(number))] if contig else [(second, int(number)) for second in seconds]
            ids = [value for value in b",".join(items.get(b"MATEID", [])).split(b",") if value not in (b"", b".")]
        return Mates(alt_places, tuple(ids), tuple(info_places))
