"""Record aux tags, fail closed: the allowlist, and where each tag of a block of records is.

A SAM record's optional fields (columns 12 on, ``TAG:TYPE:VALUE``) can hold
anything: ``CO:Z`` free comments, ``X?``/``Y?``/``Z?`` and lowercase tags that any
tool may fill with a sample name or a path. sam-scrub-rg keeps only the tags of
``KEPT_TAGS`` (the SAM tags specification's standard tags without free text, and
the common tags of bwa, minimap2, STAR, Bowtie2 and GATK/Picard), each with the
types it may have, and drops every other tag, counted by name. Each entry says
what the tag can reveal; man/sam-scrub-rg.md lists them.

Tags are found by column, never by searching the line: a QUAL (column 11) may read
``RG:Z:g`` and an RNAME ``NM:i:0``. ``locate_tags`` finds, for a whole block of
records at once, the start and end of every field from column 12 on (numpy, a few
passes over the block), so the per-record decision is a table lookup by tag
layout rather than a split of every line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from genoscrub.report import UsageError

MANDATORY_TABS = 10
"""Tabs between the 11 mandatory SAM columns; the 11th tab of a line starts its first tag."""

TAG_NAME = re.compile(rb"[A-Za-z][A-Za-z0-9]")
TAG_FIELD = re.compile(rb"([^\t\n]{2}):([AifZHB]):")
"""An optional field as htslib reads it: any two characters, a type, a value. A name
off the spec's grammar (``A!``) is on no allowlist: it is dropped like any other."""
TYPES = b"AifZHB"

# tag -> (types it may have, what it can reveal). Sources: SAMtags.pdf (2024), the manuals
# of bwa, minimap2, STAR, Bowtie2 and GATK/Picard.
KEPT_TAGS: dict[bytes, tuple[bytes, str]] = {
    # SAM standard tags: alignment
    b"AM": (b"i", "smallest template-independent mapping quality of the template"),
    b"AS": (b"i", "alignment score"),
    b"CC": (b"Z", "reference name of the next hit"),
    b"CG": (b"B", "the CIGAR of a long alignment (BAM only)"),
    b"CP": (b"i", "leftmost position of the next hit"),
    b"H0": (b"i", "number of perfect hits"),
    b"H1": (b"i", "number of 1-difference hits"),
    b"H2": (b"i", "number of 2-difference hits"),
    b"HI": (b"i", "which of several alignments of the query this is"),
    b"IH": (b"i", "number of alignments of the query in this file"),
    b"MC": (b"Z", "CIGAR of the mate"),
    b"MD": (b"Z", "where the read differs from the reference: with the reference, the read's bases there"),
    b"MQ": (b"i", "mapping quality of the mate"),
    b"NH": (b"i", "number of reported alignments of the query"),
    b"NM": (b"i", "number of differences from the reference"),
    b"SA": (b"Z", "other alignments of a chimeric read (positions, CIGARs)"),
    b"SM": (b"i", "template-independent mapping quality (an integer, not a sample)"),
    b"TS": (b"A", "transcript strand"),
    b"UQ": (b"i", "Phred likelihood of the segment"),
    # SAM standard tags: original values kept by tools
    b"OA": (b"Z", "the original alignment before realignment (position, CIGAR)"),
    b"OC": (b"Z", "the original CIGAR"),
    b"OP": (b"i", "the original position"),
    b"OQ": (b"Z", "the original base qualities"),
    # SAM standard tags: sequence and quality of other calls or of the mate
    b"E2": (b"Z", "the second most likely base calls: sequence, like SEQ"),
    b"U2": (b"Z", "Phred probability of the second call"),
    b"R2": (b"Z", "the sequence of the mate: sequence, like SEQ"),
    b"Q2": (b"Z", "the base qualities of the mate"),
    b"BQ": (b"Z", "base alignment quality offsets"),
    b"CM": (b"i", "colour differences from the reference"),
    b"CS": (b"Z", "colour read sequence"),
    b"CQ": (b"Z", "colour read qualities"),
    b"FI": (b"i", "index of the segment in the template"),
    b"TC": (b"i", "number of segments in the template"),
    b"MM": (b"Z", "base modifications (e.g. methylation) of the read"),
    b"ML": (b"B", "likelihoods of the base modifications"),
    b"MN": (b"i", "length of SEQ the base modifications refer to"),
    # SAM standard tags: molecular and cell barcodes (random sequences, not sample indexes)
    b"MI": (b"Zi", "molecular identifier of the read's source molecule"),
    b"RX": (b"Z", "UMI sequence, as read"),
    b"QX": (b"Z", "UMI base qualities"),
    b"OX": (b"Z", "original UMI sequence before correction"),
    b"BZ": (b"Z", "original UMI base qualities"),
    b"CB": (b"Z", "cell barcode, corrected"),
    b"CR": (b"Z", "cell barcode, as read"),
    b"CY": (b"Z", "cell barcode base qualities"),
    # bwa (mem, aln/samse/sampe) and Bowtie2
    b"XA": (b"Z", "alternative hits (positions, CIGARs, differences)"),
    b"XS": (b"iA", "suboptimal alignment score (STAR, HISAT2: strand, A)"),
    b"XN": (b"i", "number of ambiguous reference bases"),
    b"XM": (b"i", "number of mismatches"),
    b"XO": (b"i", "number of gap opens"),
    b"XG": (b"i", "number of gap extensions"),
    b"XT": (b"A", "type of the bwa aln match"),
    b"X0": (b"i", "number of best hits"),
    b"X1": (b"i", "number of suboptimal hits"),
    b"XB": (b"Z", "bwa mem -Y: alignment scores of the other hits"),
    b"YS": (b"i", "Bowtie2: alignment score of the mate"),
    b"YT": (b"Z", "Bowtie2: pairing type (UU, CP, DP, UP)"),
    b"YF": (b"Z", "Bowtie2: why the read was filtered"),
    b"ZS": (b"i", "HISAT2/Bowtie2 --xeq: score of the next best hit"),
    # minimap2
    b"tp": (b"A", "minimap2: primary or secondary"),
    b"cm": (b"i", "minimap2: number of minimizers on the chain"),
    b"s1": (b"i", "minimap2: chaining score"),
    b"s2": (b"i", "minimap2: chaining score of the best secondary"),
    b"ms": (b"i", "minimap2: DP score of the maximum scoring segment"),
    b"nn": (b"i", "minimap2: number of ambiguous bases in the alignment"),
    b"ts": (b"A", "minimap2: transcript strand"),
    b"cs": (b"Z", "minimap2: the differences from the reference: with it, the read's bases there"),
    b"cg": (b"Z", "minimap2: CIGAR"),
    b"de": (b"f", "minimap2: gap-compressed divergence"),
    b"dv": (b"f", "minimap2: approximate divergence"),
    b"rl": (b"i", "minimap2: length of query regions with repetitive seeds"),
    # STAR
    b"nM": (b"i", "STAR: mismatches of the pair"),
    b"jM": (b"B", "STAR: intron motifs of the splice junctions"),
    b"jI": (b"B", "STAR: start and end of the introns"),
    b"ch": (b"A", "STAR: chimeric alignment marker"),
    b"vA": (b"B", "STAR --waspOutputMode: variant alleles in the read (germline genotype at those sites)"),
    b"vG": (b"B", "STAR --waspOutputMode: genomic coordinates of the variants"),
    b"vW": (b"i", "STAR --waspOutputMode: WASP filtering result"),
    b"GX": (b"Z", "STARsolo: gene ID"),
    b"GN": (b"Z", "STARsolo: gene name"),
    b"UB": (b"Z", "STARsolo: corrected UMI"),
    b"UR": (b"Z", "STARsolo: UMI as read"),
    b"UY": (b"Z", "STARsolo: UMI qualities"),
    # GATK and Picard
    b"BD": (b"Z", "GATK: base deletion qualities"),
    b"BI": (b"Z", "GATK: base insertion qualities"),
    b"DT": (b"Z", "Picard MarkDuplicates: duplicate type (LB or SQ)"),
    b"DS": (b"i", "Picard MarkDuplicates: size of the duplicate set"),
    b"DI": (b"i", "Picard MarkDuplicates: index of the duplicate set"),
}

REWRITTEN_TAG = b"RG"
"""``RG:Z`` names a read group: rewritten to its new ID, never dropped by the allowlist."""
REMOVED_TAG = b"PG"
"""``PG:Z`` names an @PG line, and sam-scrub-rg removes those: always removed (counted apart)."""

# Status of a tag in a block, by code (see tag_code).
KEEP, DROP, REWRITE_RG, REMOVE_PG = 0, 1, 2, 3
TYPE_INDEX = np.full(256, 7, dtype=np.int64)
for _index, _type in enumerate(TYPES):
    TYPE_INDEX[_type] = _index
CODE_COUNT = 1 << 19  # 16 bits of name (any two bytes), 3 of type


def tag_code(name: bytes, tag_type: int) -> int:
    """The number of a tag name and type: ``name`` bytes as 16 bits, then the type's index."""
    return (name[0] << 11) | (name[1] << 3) | int(TYPE_INDEX[tag_type])  # the largest: 2**19 - 1


def parse_tag_option(value: str, option: str) -> bytes:
    """``--keep-tag``/``--drop-tag`` values: a two-character SAM tag name."""
    name = value.encode("ascii", errors="replace")
    if not TAG_NAME.fullmatch(name):
        raise UsageError(f"{option} takes a two-character SAM tag name (a letter, then a letter or digit)")
    return name


class TagPolicy:
    """What happens to each tag: kept, dropped, or (RG:Z, PG:Z) rewritten and removed.

    ``keep``/``drop`` adjust the allowlist (``--keep-tag``/``--drop-tag``); a kept
    tag added by name keeps any type. ``status`` is the lookup table of
    ``locate_tags`` codes.
    """

    def __init__(self, keep: Iterable[bytes] = (), drop: Iterable[bytes] = ()) -> None:
        kept = {name: types for name, (types, _) in KEPT_TAGS.items()}
        for name in keep:
            if name == REMOVED_TAG:
                raise UsageError("--keep-tag PG: PG:Z tags name @PG lines, which are removed; they always go")
            kept[name] = TYPES
        for name in drop:
            kept.pop(name, None)
        self.drop_read_groups = REWRITTEN_TAG in set(drop)
        self.kept = kept
        self.status = np.full(CODE_COUNT, DROP, dtype=np.uint8)
        for name, types in kept.items():
            for tag_type in types:
                self.status[tag_code(name, tag_type)] = KEEP
        if not self.drop_read_groups:
            self.status[tag_code(REWRITTEN_TAG, ord("Z"))] = REWRITE_RG
        self.status[tag_code(REMOVED_TAG, ord("Z"))] = REMOVE_PG

    def decide(self, name: bytes, tag_type: bytes) -> int:
        """The status of one tag (the one-record path; the same table as the block path)."""
        return int(self.status[tag_code(name, tag_type[0])])


@dataclass
class TagLayout:
    """Every tag field of a block of records: ``starts`` (the tab before it), ``ends``
    (the tab or newline after it) and ``codes`` (``tag_code``), in order."""

    starts: np.ndarray
    ends: np.ndarray
    codes: np.ndarray


def locate_tags(text: bytes) -> TagLayout | None:
    """Where each optional field of ``text`` (whole SAM record lines, each ending in a
    newline) is, found by column; None when a line has fewer than the 11 mandatory
    columns or a field from column 12 on is not ``TAG:TYPE:`` (the one-record path
    then names the line).
    """
    buffer = np.frombuffer(text, dtype=np.uint8)
    separators = np.flatnonzero((buffer - np.uint8(9)) <= 1)  # tab (9) or newline (10)
    is_newline = buffer[separators] == 10
    newline_rank = np.flatnonzero(is_newline)
    if not len(newline_rank):
        return TagLayout(*(np.zeros(0, dtype=np.int64),) * 3) if not len(separators) else None
    if newline_rank[-1] + 1 != len(separators):
        return None  # a tab after the last newline: not whole lines
    line_first = np.empty(len(newline_rank), dtype=np.int64)
    line_first[0] = 0
    line_first[1:] = newline_rank[:-1] + 1
    tabs_per_line = newline_rank - line_first
    if tabs_per_line.min() < MANDATORY_TABS:
        return None
    tag_count = int(tabs_per_line.sum()) - MANDATORY_TABS * len(newline_rank)
    if not tag_count:
        return TagLayout(*(np.zeros(0, dtype=np.int64),) * 3)
    # Separator ranks of each line's tag tabs: from its 11th tab up to its newline.
    ordinal = np.arange(len(separators), dtype=np.int64) - np.repeat(line_first, tabs_per_line + 1)
    tag_ranks = np.flatnonzero((ordinal >= MANDATORY_TABS) & ~is_newline)
    starts = separators[tag_ranks]
    ends = separators[tag_ranks + 1]
    if (ends - starts).min() < 6:  # shorter than \tXX:T:
        return None
    first, second, colon, tag_type, colon2 = (buffer[starts + offset] for offset in range(1, 6))
    well_formed = (colon == 58) & (colon2 == 58)
    types = TYPE_INDEX[tag_type]
    if not well_formed.all() or (types == 7).any():
        return None
    codes = (first.astype(np.int64) << 11) | (second.astype(np.int64) << 3) | types
    return TagLayout(starts.astype(np.int64), ends.astype(np.int64), codes)


def tag_name(code: int) -> str:
    """The name of a ``tag_code``, as the report counts it."""
    return report_name(bytes(((code >> 11) & 0xFF, (code >> 3) & 0xFF)))


def report_name(name: bytes) -> str:
    """A tag name for the report: the name, or ``invalid`` when it is off the spec's grammar."""
    return name.decode("ascii") if TAG_NAME.fullmatch(name) else "invalid"
