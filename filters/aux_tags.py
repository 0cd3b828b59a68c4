"""Record aux tags, fail closed: the allowlist with each tag's value grammar, and where
each tag of a block of records is.

A SAM record's optional fields (columns 12 on, ``TAG:TYPE:VALUE``) can hold
anything: ``CO:Z`` free comments, ``X?``/``Y?``/``Z?`` and lowercase tags that any
tool may fill with a sample name or a path. sam-scrub-rg keeps only the tags of
``KEPT_TAGS`` (the SAM tags specification's standard tags without free text, and
the common tags of bwa, minimap2, STAR, Bowtie2 and GATK/Picard) and drops every
other tag, counted by name. A kept tag keeps its value only when the value parses
by the grammar of its entry (``aux_values``): a tool that wrote an identifier into
``XA:Z`` or ``MD:Z`` loses that tag, counted apart (never the record). Each entry
says what the tag can reveal; man/sam-scrub-rg.md lists them.

Tags are found by column, never by searching the line: a QUAL (column 11) may read
``RG:Z:g`` and an RNAME ``NM:i:0``. ``locate_tags`` finds, for a whole block of
records at once, the start and end of every field from column 12 on (numpy, a few
passes over the block), so the per-record decision is a table lookup by tag
layout rather than a split of every line; ``TagPolicy.valid_values`` then checks
the values of the kept tags of the block, grammar by grammar.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from genoscrub import scan
from genoscrub.aux_values import (
    ALIGNED_DIFFERENCES,
    ALIGNMENT_TIES,
    ALTERNATIVE_HITS,
    AS_LONG_AS_SEQ,
    BARCODE,
    BARCODE_LONGEST,
    CELL_BARCODE,
    CIGAR_INTRONS,
    CIGAR_OPERATION_BYTES,
    CIGAR_TIES,
    COLOURS,
    DIFFERENCES,
    GENE_IDS,
    INT_MAX,
    INTRON_MOTIFS,
    MATCHING_CIGAR,
    MATE_ON_CONTIG,
    MODIFICATION_LIKELIHOODS,
    MOLECULE,
    NO_INTRONS,
    NO_MOTIFS,
    ORIGINAL,
    PLACE_ON_CONTIG,
    PRINTABLE,
    QUALITY,
    SAME_ALIGNMENT,
    SCORED_HITS,
    SEQUENCE,
    SPANNING_OPERATION_BYTES,
    SUPPLEMENTARY,
    VARIANT_COUNT,
    WITHIN_ALIGNMENT,
    WITHIN_READ,
    Alignment,
    BaseModifications,
    Character,
    Characters,
    Cigar,
    Float,
    Fraction,
    Grammar,
    Hex,
    Integer,
    MismatchString,
    NumericArray,
    OneOf,
    ReferenceName,
    Spans,
    Tie,
    agrees_with_alignment,
    byte_table,
    cigar_reference_length,
    entries_within_read,
    flat_positions,
    full_read_length,
    lengths_agree,
    lengths_agree_in_bulk,
    lists_within_reads,
    mate_within_contig,
    md_matches_cigar,
    md_reference_length,
    motifs_agree,
    place_within_contig,
    places_within_contigs,
)
from genoscrub.fields import distinct_spans, spans_within
from genoscrub.report import UsageError

MANDATORY_TABS = 10
"""Tabs between the 11 mandatory SAM columns; the 11th tab of a line starts its first tag."""
POS_COLUMN, CIGAR_COLUMN, SEQ_COLUMN = 3, 5, 9

TAG_NAME = re.compile(rb"[A-Za-z][A-Za-z0-9]")
TAG_FIELD = re.compile(rb"([^\t\n]{2}):([AifZHB]):")
"""An optional field as htslib reads it: any two characters, a type, a value. A name
off the spec's grammar (``A!``) is on no allowlist: it is dropped like any other."""
TYPES = b"AifZHB"
VALUE_OFFSET = 6
"""From the tab before a tag to its value: ``\tXX:T:``."""

# The grammars of the table (aux_values), named once.
INTEGER = Integer()
FLOAT = Float()
MAPPING_QUALITY = Integer(0, 255, "integer, 0 to 255")
COUNT = Integer(-999_999, 999_999, "integer of at most 6 digits")
"""A count, a score or a length of the tools' tags: 7 digits or more is what a date of birth, a
record number or a registration number has, and no short read's count or score. (A read of
several hundred kilobases may score more: the tag goes, counted.)"""
POSITION = Integer(0, INT_MAX, "integer, 0 to 2^32-1")
"""A position on a contig, or a number given through a whole file (Picard's duplicate sets)."""
DIVERGENCE = Fraction()
NUMBERS = NumericArray()
JUNCTION_MOTIFS = NumericArray(b"c", {-1, *range(7), *range(20, 27)}, "array of c numbers: -1, 0 to 6 or 20 to 26")
"""STAR's intron motifs: 0 non-canonical, 1 to 6 the canonical ones, 20 more when annotated, -1 no junction."""
INTRON_BOUNDS = NumericArray(b"iI", label="array of i or I numbers")
"""STAR's ``jI`` and ``vG``: positions on a contig (and ``-1``, no intron), tied to the alignment."""
VARIANT_ALLELES = NumericArray(b"cC", {1, 2, 3}, "array of c or C numbers: 1, 2 or 3")
"""STAR's WASP alleles: 1 the reference allele, 2 the alternative, 3 neither."""
STRAND = Character("+ or -", b"+-")
CIGAR_STRING = Cigar()
MISMATCHES = MismatchString()
BASES = Characters("bases (nucleotide codes, = or .)", SEQUENCE)
BARCODE_BASES = Characters(
    f"barcode bases (nucleotide codes, - between barcodes), at most {BARCODE_LONGEST}", BARCODE, longest=BARCODE_LONGEST
)
QUALITIES = Characters("qualities (! to ~)", QUALITY)
SPACED_QUALITIES = Characters("qualities (! to ~), a space between those of two barcodes", QUALITY + b" ")
VOUCHED: dict[bytes, Grammar] = {
    b"A": Character("a printable character"),
    b"i": INTEGER,
    b"f": FLOAT,
    b"Z": Characters("printable text", PRINTABLE),
    b"H": Hex(),
    b"B": NUMBERS,
}
"""The grammar of each type, for a tag kept by ``--keep-tag``: the SAM spec's, no more."""


@dataclass(frozen=True)
class KeptTag:
    """One tag of the allowlist: the grammar of its value for each type it may have, what
    ties the value to the rest of its record (if anything), and what it can reveal."""

    grammars: dict[bytes, Grammar]
    reveals: str
    tie: Tie | None = None

    @property
    def types(self) -> bytes:
        return b"".join(self.grammars)


def kept(types: bytes, grammar: Grammar, reveals: str, tie: Tie | None = None) -> KeptTag:
    return KeptTag({bytes([letter]): grammar for letter in types}, reveals, tie)


def counted(reveals: str, grammar: Integer = COUNT) -> KeptTag:
    """An integer tag: a count or a score (at most 6 digits), or the ``grammar`` given."""
    return kept(b"i", grammar, reveals)


# tag -> (grammar of each type it may have, what it can reveal, what ties it to its record).
# Sources: SAMtags.pdf (2024), the manuals of bwa, minimap2, STAR, Bowtie2, fgbio and GATK/Picard.
KEPT_TAGS: dict[bytes, KeptTag] = {
    # SAM standard tags: alignment
    b"AM": counted("smallest template-independent mapping quality of the template", MAPPING_QUALITY),
    b"AS": counted("alignment score"),
    b"CC": kept(b"Z", ReferenceName(), "reference name of the next hit"),
    b"CP": kept(b"i", POSITION, "leftmost position of the next hit", PLACE_ON_CONTIG),
    b"H0": counted("number of perfect hits"),
    b"H1": counted("number of 1-difference hits"),
    b"H2": counted("number of 2-difference hits"),
    b"HI": counted("which of several alignments of the query this is"),
    b"IH": counted("number of alignments of the query in this file"),
    b"MC": kept(b"Z", CIGAR_STRING, "CIGAR of the mate", MATE_ON_CONTIG),
    b"MD": kept(b"Z", MISMATCHES, "where the read differs from the reference: with the reference, the read's bases there", MATCHING_CIGAR),
    b"MQ": counted("mapping quality of the mate", MAPPING_QUALITY),
    b"NH": counted("number of reported alignments of the query"),
    b"NM": counted("number of differences from the reference"),
    b"SA": kept(b"Z", SUPPLEMENTARY, "other alignments of a chimeric read (positions, CIGARs)", WITHIN_READ),
    b"SM": counted("template-independent mapping quality (an integer, not a sample)", MAPPING_QUALITY),
    b"TS": kept(b"A", STRAND, "transcript strand"),
    b"UQ": counted("Phred likelihood of the segment"),
    # SAM standard tags: original values kept by tools
    b"OA": kept(b"Z", ORIGINAL, "the original alignment before realignment (position, CIGAR)", WITHIN_READ),
    b"OC": kept(b"Z", CIGAR_STRING, "the original CIGAR"),
    b"OP": kept(b"i", POSITION, "the original position", PLACE_ON_CONTIG),
    b"OQ": kept(b"Z", QUALITIES, "the original base qualities", AS_LONG_AS_SEQ),
    # SAM standard tags: sequence and quality of other calls or of the mate
    b"E2": kept(b"Z", BASES, "the second most likely base calls: sequence, like SEQ", AS_LONG_AS_SEQ),
    b"U2": kept(b"Z", QUALITIES, "Phred probability of the second call", AS_LONG_AS_SEQ),
    b"R2": kept(b"Z", BASES, "the sequence of the mate: sequence, like SEQ"),
    b"Q2": kept(b"Z", QUALITIES, "the base qualities of the mate", Tie("partner", b"R2")),
    b"BQ": kept(b"Z", QUALITIES, "base alignment quality offsets", AS_LONG_AS_SEQ),
    b"CM": counted("colour differences from the reference"),
    b"CS": kept(b"Z", COLOURS, "colour read sequence"),
    b"CQ": kept(b"Z", QUALITIES, "colour read qualities", Tie("partner", b"CS")),
    b"FI": counted("index of the segment in the template"),
    b"TC": counted("number of segments in the template"),
    b"MM": kept(b"Z", BaseModifications(), "base modifications (e.g. methylation) of the read"),
    b"ML": kept(b"B", NumericArray(b"C"), "likelihoods of the base modifications", MODIFICATION_LIKELIHOODS),
    b"MN": counted("length of SEQ the base modifications refer to"),
    # SAM standard tags: molecular and cell barcodes (random sequences, not sample indexes)
    b"MI": KeptTag({b"Z": MOLECULE, b"i": INTEGER}, "molecular identifier of the read's source molecule"),
    b"RX": kept(b"Z", BARCODE_BASES, "UMI sequence, as read"),
    b"QX": kept(b"Z", SPACED_QUALITIES, "UMI base qualities", Tie("partner", b"RX")),
    b"OX": kept(b"Z", BARCODE_BASES, "original UMI sequence before correction"),
    b"BZ": kept(b"Z", SPACED_QUALITIES, "original UMI base qualities", Tie("partner", b"OX")),
    b"CB": kept(b"Z", CELL_BARCODE, "cell barcode, corrected"),
    b"CR": kept(b"Z", BARCODE_BASES, "cell barcode, as read"),
    b"CY": kept(b"Z", SPACED_QUALITIES, "cell barcode base qualities", Tie("partner", b"CR")),
    # bwa (mem, aln/samse/sampe) and Bowtie2
    b"XA": kept(b"Z", ALTERNATIVE_HITS, "alternative hits (positions, CIGARs, differences)", WITHIN_READ),
    b"XS": KeptTag({b"i": COUNT, b"A": STRAND}, "suboptimal alignment score (STAR, HISAT2: strand, A)"),
    b"XN": counted("number of ambiguous reference bases"),
    b"XM": counted("number of mismatches"),
    b"XO": counted("number of gap opens"),
    b"XG": counted("number of gap extensions"),
    b"XT": kept(b"A", Character("U, R, N or M", b"URNM"), "type of the bwa aln match"),
    b"X0": counted("number of best hits"),
    b"X1": counted("number of suboptimal hits"),
    b"XB": kept(b"Z", SCORED_HITS, "bwa mem -u: alternative hits with their scores", WITHIN_READ),
    b"YS": counted("Bowtie2: alignment score of the mate"),
    b"YT": kept(b"Z", OneOf("UU, CP, DP or UP", (b"UU", b"CP", b"DP", b"UP")), "Bowtie2: pairing type (UU, CP, DP, UP)"),
    b"YF": kept(b"Z", OneOf("LN, NS, SC or QC", (b"LN", b"NS", b"SC", b"QC")), "Bowtie2: why the read was filtered"),
    b"ZS": counted("HISAT2/Bowtie2 --xeq: score of the next best hit"),
    # minimap2
    b"tp": kept(b"A", Character("P, S, I or i", b"PSIi"), "minimap2: primary or secondary"),
    b"cm": counted("minimap2: number of minimizers on the chain"),
    b"s1": counted("minimap2: chaining score"),
    b"s2": counted("minimap2: chaining score of the best secondary"),
    b"nn": counted("minimap2: number of ambiguous bases in the alignment"),
    # Not ms: minimap2 writes its DP score there, but samtools fixmate -m writes ms:i as the sum of
    # the MATE's base qualities of 15 or more, which a mate reverted at a germline site (a filled
    # deletion, a removed insertion) changes: a stale one marked the carriers' pairs.
    b"ts": kept(b"A", STRAND, "minimap2: transcript strand"),
    b"cs": kept(b"Z", DIFFERENCES, "minimap2: the differences from the reference: with it, the read's bases there", ALIGNED_DIFFERENCES),
    b"cg": kept(b"Z", CIGAR_STRING, "minimap2: CIGAR", SAME_ALIGNMENT),
    b"de": kept(b"f", DIVERGENCE, "minimap2: gap-compressed divergence"),
    b"dv": kept(b"f", DIVERGENCE, "minimap2: approximate divergence"),
    b"rl": counted("minimap2: length of query regions with repetitive seeds"),
    # STAR
    b"nM": counted("STAR: mismatches of the pair"),
    b"jM": kept(b"B", JUNCTION_MOTIFS, "STAR: intron motifs of the splice junctions", INTRON_MOTIFS),
    b"jI": kept(b"B", INTRON_BOUNDS, "STAR: start and end of the introns of the pair (its skips and its mate's)", CIGAR_INTRONS),
    b"ch": kept(b"A", Character("1", b"1"), "STAR: chimeric alignment marker"),
    b"vA": kept(
        b"B", VARIANT_ALLELES, "STAR --waspOutputMode: variant alleles in the read (germline genotype at those sites)", VARIANT_COUNT
    ),
    b"vG": kept(b"B", INTRON_BOUNDS, "STAR --waspOutputMode: genomic coordinates of the variants (germline sites)", WITHIN_ALIGNMENT),
    b"vW": counted("STAR --waspOutputMode: WASP filtering result (marks reads at germline sites)"),
    b"GX": kept(b"Z", GENE_IDS, "STARsolo: gene ID"),
    b"UB": kept(b"Z", BARCODE_BASES, "STARsolo: corrected UMI"),
    b"UR": kept(b"Z", BARCODE_BASES, "STARsolo: UMI as read"),
    b"UY": kept(b"Z", SPACED_QUALITIES, "STARsolo: UMI qualities", Tie("partner", b"UR")),
    # GATK and Picard
    b"BD": kept(b"Z", QUALITIES, "GATK: base deletion qualities", AS_LONG_AS_SEQ),
    b"BI": kept(b"Z", QUALITIES, "GATK: base insertion qualities", AS_LONG_AS_SEQ),
    b"DT": kept(b"Z", OneOf("LB or SQ", (b"LB", b"SQ")), "Picard MarkDuplicates: duplicate type (LB or SQ)"),
    b"DS": counted("Picard MarkDuplicates: size of the duplicate set"),
    b"DI": counted("Picard MarkDuplicates: index of the duplicate set (numbered through the file)", POSITION),
}

TAGS_BLIND_TO_BASES = frozenset(b"RG LB PU PG MQ NH HI IH FI TC MI RX QX OX BX BC QT BZ CB CR CY UB UR UY".split())
"""Tags that say nothing of a read's bases: its read group, its mate's mapping quality, hit
counts, molecule and cell barcodes (the barcode's bases, not the genome's). The only tags a
read whose bases were changed (reverted at a germline site, masked in a region) keeps as
they were: every other one (AS, XS, NM, MD, cs, nM, OQ, ...) is scored on, copies or
describes the bases it had."""

REWRITTEN_TAG = b"RG"
"""``RG:Z`` names a read group: rewritten to its new ID, never dropped by the allowlist."""
REMOVED_TAG = b"PG"
"""``PG:Z`` names an @PG line, and sam-scrub-rg removes those: always removed (counted apart)."""

# Status of a tag in a block, by code (see tag_code).
KEEP, DROP, REWRITE_RG, REMOVE_PG, DROP_VALUE, DROP_REPEAT = 0, 1, 2, 3, 4, 5
TYPE_INDEX = np.full(256, 7, dtype=np.int64)
for _index, _type in enumerate(TYPES):
    TYPE_INDEX[_type] = _index
TYPE_BYTES = TYPE_INDEX.astype(np.uint8).tobytes()
"""``TYPE_INDEX`` as the 256-byte table of ``scan.tag_codes``."""
CODE_COUNT = 1 << 19  # 16 bits of name (any two bytes), 3 of type


def tag_code(name: bytes, tag_type: int) -> int:
    """The number of a tag name and type: ``name`` bytes as 16 bits, then the type's index."""
    return (name[0] << 11) | (name[1] << 3) | int(TYPE_INDEX[tag_type])  # the largest: 2**19 - 1


MATE_CIGAR_CODE = tag_code(b"MC", ord("Z"))


def without_repeats(tags: list[bytes]) -> tuple[list[bytes], list[bytes]]:
    """A record's optional fields (without their tabs) but the second and later copies of a
    tag, and the names of the copies left out.

    SAM allows a tag once a record (SAM 1.6, 1.5), but htslib stores every copy it reads
    and tools read the first (``bam_aux_get``): a second ``MD`` or ``MC`` rides along
    unseen, held to no tie and left stale by a rewrite. The first copy is the one tools
    read, so it stays. A tag is its name, the field's first two bytes, whatever its type
    (``NM:i:0`` and ``NM:Z:x`` are one tag); a field shorter than that names nothing. The
    block paths find the same copies with ``scan.repeated_tags``.
    """
    names = [tag[:2] for tag in tags]
    if len(set(names)) == len(names):
        return tags, []
    seen: set[bytes] = set()
    kept: list[bytes] = []
    repeated: list[bytes] = []
    for tag, name in zip(tags, names, strict=True):
        if len(name) == 2 and name in seen:
            repeated.append(name)
            continue
        seen.add(name)
        kept.append(tag)
    return kept, repeated


def parse_tag_option(value: str, option: str) -> bytes:
    """``--keep-tag``/``--drop-tag`` values: a two-character SAM tag name."""
    name = value.encode("ascii", errors="replace")
    if not TAG_NAME.fullmatch(name):
        raise UsageError(f"{option} takes a two-character SAM tag name (a letter, then a letter or digit)")
    return name


def parse_tag_list(value: str, option: str) -> list[bytes]:
    """``--only-tags`` values: SAM tag names separated by commas (``RG,MD,NM``); an empty
    text names none."""
    names = [name.encode("ascii", errors="replace") for name in value.split(",")] if value else []
    if not all(TAG_NAME.fullmatch(name) for name in names):
        raise UsageError(f"{option} takes two-character SAM tag names (a letter, then a letter or digit) separated by commas")
    return names


@dataclass(frozen=True)
class ValueRule:
    """How the values of some kept tags are checked: a grammar, and what ties them to their record."""

    grammar: Grammar
    tie: Tie | None
    partner_code: int = -1
    """``tag_code`` of the partner tag (of its ``partner_type``), for a tie to a partner."""


class TagPolicy:
    """What happens to each tag: kept (if its value is valid), dropped, or (RG:Z, PG:Z)
    rewritten and removed.

    ``keep``/``drop`` adjust the allowlist (``--keep-tag``/``--drop-tag``): a tag kept
    by name keeps any type, its value checked only against its type's grammar in the
    SAM spec (``VOUCHED``), whatever the table says. ``only`` (``--only-tags``), when
    given, narrows what is kept after them to the tags it names: every record then
    carries tags of one list, so a later command that keeps only those where it rewrites
    a read (sam-revert-germline at a germline window) leaves no mark there. It only
    changes the table below, so it costs nothing a record. ``status`` is the lookup table
    of ``locate_tags`` codes; ``rule_of`` the index in ``rules`` of each kept code's
    ``ValueRule`` (0 for the codes not kept).
    """

    def __init__(self, keep: Iterable[bytes] = (), drop: Iterable[bytes] = (), only: Iterable[bytes] | None = None) -> None:
        kept: dict[bytes, KeptTag] = dict(KEPT_TAGS)
        for name in keep:
            if name == REMOVED_TAG:
                raise UsageError("--keep-tag PG: PG:Z tags name @PG lines, which are removed; they always go")
            kept[name] = KeptTag(VOUCHED, "kept by --keep-tag")
        for name in drop:
            kept.pop(name, None)
        listed = None if only is None else frozenset(only)
        if listed is not None:
            kept = {name: tag for name, tag in kept.items() if name in listed}
        self.drop_read_groups = REWRITTEN_TAG in set(drop) or (listed is not None and REWRITTEN_TAG not in listed)
        self.kept = kept
        self.status = np.full(CODE_COUNT, DROP, dtype=np.uint8)
        self.rule_of = np.zeros(CODE_COUNT, dtype=np.int16)
        self.rules: list[ValueRule] = [ValueRule(VOUCHED[b"Z"], None)]  # 0: no rule (a tag not kept)
        known: dict[tuple[int, Tie | None], int] = {}
        for name, tag in kept.items():
            for tag_type, grammar in tag.grammars.items():
                code = tag_code(name, tag_type[0])
                self.status[code] = KEEP
                key = (id(grammar), tag.tie)
                if key not in known:
                    assert tag.tie != MATCHING_CIGAR or isinstance(grammar, MismatchString)
                    known[key] = len(self.rules)
                    partner = tag_code(tag.tie.partner, tag.tie.partner_type[0]) if tag.tie is not None and tag.tie.has_partner else -1
                    self.rules.append(ValueRule(grammar, tag.tie, partner))
                self.rule_of[code] = known[key]
        if not self.drop_read_groups:
            self.status[tag_code(REWRITTEN_TAG, ord("Z"))] = REWRITE_RG
        self.status[tag_code(REMOVED_TAG, ord("Z"))] = REMOVE_PG

    def decide(self, name: bytes, tag_type: bytes) -> int:
        """The status of one tag (the one-record path; the same table as the block path)."""
        return int(self.status[tag_code(name, tag_type[0])])

    def rule(self, name: bytes, tag_type: bytes) -> ValueRule:
        return self.rules[int(self.rule_of[tag_code(name, tag_type[0])])]

    def valid_record_values(
        self,
        tags: Sequence[tuple[bytes, bytes, bytes]],
        seq: bytes,
        cigar: bytes,
        references: Mapping[bytes, int],
        columns: Sequence[bytes] | None = None,
    ) -> list[bool]:
        """Which kept tags ``(name, type, value)`` of one record hold a valid value (the
        one-record path, the reference ``valid_values`` must equal). ``seq`` and ``cigar`` are
        the record's SEQ and CIGAR columns, ``columns`` all its mandatory ones (without them, a
        tag tied to the alignment, ``jI`` or ``vG``, is held to no alignment)."""
        mate_cigars = [value for name, tag_type, value in tags if name == b"MC" and tag_type == b"Z"]
        alignment: Alignment = (
            (columns[2], columns[3], cigar, columns[6], columns[7], mate_cigars[0] if len(mate_cigars) == 1 else None)
            if columns is not None
            else (b"*", b"0", b"*", b"*", b"0", None)
        )
        if not mate_within_contig(alignment, references):  # MC goes: jI, jM and vG are held to no mate
            alignment = (*alignment[:5], None)
        seq_length = -1 if seq == b"*" else len(seq)
        rules = [self.rule(name, tag_type) for name, tag_type, _ in tags]
        valid = [False] * len(tags)
        for index, ((_, _, value), rule) in enumerate(zip(tags, rules, strict=True)):
            if rule.partner_code >= 0 or not rule.grammar.valid(value, seq_length, references):
                continue
            if rule.tie == AS_LONG_AS_SEQ:
                valid[index] = len(value) == seq_length
            elif rule.tie == MATCHING_CIGAR:
                valid[index] = md_reference_length(value) == cigar_reference_length(cigar)
            elif rule.tie in ALIGNMENT_TIES:
                valid[index] = agrees_with_alignment(rule.tie, value, alignment)
            elif rule.tie == MATE_ON_CONTIG:
                valid[index] = columns is None or alignment[5] is not None or len(mate_cigars) != 1
            elif rule.tie == PLACE_ON_CONTIG:
                valid[index] = place_within_contig(value, alignment[0], seq_length, references)
            elif rule.tie in CIGAR_TIES:
                valid[index] = lengths_agree(rule.tie, value, cigar)
            elif rule.tie == WITHIN_READ:
                valid[index] = entries_within_read(value, full_read_length(seq_length, cigar))
            else:
                valid[index] = True
        for index, ((_, _, value), rule) in enumerate(zip(tags, rules, strict=True)):
            if rule.partner_code < 0 or not rule.grammar.valid(value, seq_length, references):
                continue
            partners = [
                other_value
                for other, (other_name, other_type, other_value) in enumerate(tags)
                if valid[other] and tag_code(other_name, other_type[0]) == rule.partner_code
            ]
            assert rule.tie is not None
            if rule.tie == INTRON_MOTIFS:  # without a jI, held to the alignments
                valid[index] = len(partners) <= 1 and motifs_agree(value, partners[0] if partners else None, alignment)
            else:
                valid[index] = len(partners) == 1 and rule.tie.agrees(value, partners[0])
        return valid

    def valid_values(self, text: bytes, layout: TagLayout, rule_ids: np.ndarray, references: Mapping[bytes, int]) -> np.ndarray:
        """Which tags of a block hold a valid value (True for the tags without a rule:
        those not kept). ``rule_ids`` is ``rule_of`` of each tag's code. The tags of
        each rule are checked together, by its grammar's bulk check, then their ties
        (partner ties last: they need their partner's answer)."""
        valid = np.ones(len(rule_ids), dtype=bool)
        counts = np.bincount(rule_ids, minlength=len(self.rules))
        if counts[0] == len(rule_ids):
            return valid
        data = np.frombuffer(text, dtype=np.uint8)
        seq_starts, seq_ends = layout.column(SEQ_COLUMN)
        seq_lengths = seq_ends - seq_starts
        seq_lengths[(seq_lengths == 1) & (data[seq_starts] == ord("*"))] = -1
        # The tags sorted by rule: each rule's tags are one slice of these arrays.
        order = np.argsort(rule_ids, kind="stable")
        tag_lines = layout.tag_lines()
        lines = tag_lines[order]
        starts = layout.starts[order] + VALUE_OFFSET
        ends = layout.ends[order]
        bounds = np.cumsum(counts)
        ordered = sorted(np.flatnonzero(counts[1:]).tolist(), key=lambda rule: self.rules[rule + 1].partner_code >= 0)
        for rule_id in (rule + 1 for rule in ordered):
            rule = self.rules[rule_id]
            first, last = int(bounds[rule_id - 1]), int(bounds[rule_id])
            member_lines = lines[first:last]
            if last - first <= FEW_VALUES and rule.partner_code < 0 and rule.tie in ONE_BY_ONE_TIES:
                cigar_starts, cigar_ends = layout.column(CIGAR_COLUMN)
                valid[order[first:last]] = values_one_by_one(
                    rule, text, starts[first:last], ends[first:last], seq_lengths[member_lines], cigar_starts[member_lines],
                    cigar_ends[member_lines], references,
                )  # fmt: skip
                continue
            spans = Spans(text, data, starts[first:last], ends[first:last], seq_lengths[member_lines], references)
            if rule.tie == MATCHING_CIGAR:  # the MD lengths check the MD grammar too
                cigar_starts, cigar_ends = layout.column(CIGAR_COLUMN)
                ok = md_matches_cigar(data, text, spans.starts, spans.ends, cigar_starts[member_lines], cigar_ends[member_lines])
            else:
                ok = rule.grammar.valid_spans(spans)
            if rule.tie == AS_LONG_AS_SEQ:
                ok &= spans.ends - spans.starts == spans.seq_lengths
            elif rule.tie in ALIGNMENT_TIES:
                ok &= alignments_agree(rule.tie, data, text, layout, spans, member_lines, rule_ids)
            elif rule.tie == MATE_ON_CONTIG:
                ok &= mates_within_contig(text, layout, spans, member_lines)
            elif rule.tie == PLACE_ON_CONTIG:
                rname_starts, rname_ends = layout.column(2)
                ok &= places_within_contigs(text, rname_starts[member_lines], rname_ends[member_lines], spans)
            elif rule.tie in CIGAR_TIES:
                listed = np.flatnonzero(ok)
                cigar_starts, cigar_ends = layout.column(CIGAR_COLUMN)
                lines_of = member_lines[listed]
                ok[listed] = lengths_agree_in_bulk(rule.tie, data, text, spans.starts[listed], spans.ends[listed], cigar_starts[lines_of],
                                                   cigar_ends[lines_of])  # fmt: skip
            elif rule.tie == WITHIN_READ:
                listed = np.flatnonzero(ok)
                cigar_starts, cigar_ends = layout.column(CIGAR_COLUMN)
                lines_of = member_lines[listed]
                ok[listed] = lists_within_reads(data, text, spans.starts[listed], spans.ends[listed], spans.seq_lengths[listed],
                                                cigar_starts[lines_of], cigar_ends[lines_of])  # fmt: skip
            elif rule.partner_code >= 0:
                partners = np.flatnonzero(layout.codes == rule.partner_code)
                partners = partners[valid[partners] & (rule_ids[partners] > 0)]
                assert rule.tie is not None
                if rule.tie == INTRON_MOTIFS:
                    ok &= motifs_agree_by_line(text, layout, partners, tag_lines[partners], spans, member_lines, rule_ids)
                else:
                    ok &= partners_agree_by_line(rule.tie, data, text, layout, partners, tag_lines[partners], spans, member_lines)
            valid[order[first:last]] = ok
        return valid


FEW_VALUES = 64
"""Up to this many values of one rule in a block (the alignment lists ``XA`` and ``SA`` of a few
reads in a hundred), :meth:`TagPolicy.valid_values` checks them one at a time, as the one-record
path does (``values_one_by_one``): the bulk checks cost a fixed price a block that a few values
do not repay."""
ONE_BY_ONE_TIES: tuple[Tie | None, ...] = (None, WITHIN_READ)
"""The ties ``values_one_by_one`` checks (a grammar alone, or alignment lists held to the read)."""


def values_one_by_one(
    rule: ValueRule, text: bytes, starts: np.ndarray, ends: np.ndarray, seq_lengths: np.ndarray, cigar_starts: np.ndarray,
    cigar_ends: np.ndarray, references: Mapping[bytes, int],
) -> np.ndarray:
    """Which of a rule's values (``text[starts[i]:ends[i]]``, beside their records' SEQ lengths and
    CIGAR columns) are valid, one at a time by the one-record path's tests
    (:meth:`TagPolicy.valid_record_values`): the rule's grammar, and for an alignment list
    (``WITHIN_READ``) its entries within the read. Only for rules without a partner and of
    ``ONE_BY_ONE_TIES``."""
    assert rule.partner_code < 0 and rule.tie in ONE_BY_ONE_TIES
    grammar, within_read = rule.grammar, rule.tie == WITHIN_READ
    ok = np.zeros(len(starts), dtype=bool)
    for index, (start, end, seq_length, cigar_start, cigar_end) in enumerate(
        zip(starts.tolist(), ends.tolist(), seq_lengths.tolist(), cigar_starts.tolist(), cigar_ends.tolist(), strict=True)
    ):
        value = text[start:end]
        if not grammar.valid(value, seq_length, references):
            continue
        ok[index] = not within_read or entries_within_read(value, full_read_length(seq_length, text[cigar_start:cigar_end]))
    return ok


def alignments_agree(
    tie: Tie, data: np.ndarray, text: bytes, layout: TagLayout, spans: Spans, lines: np.ndarray, rule_ids: np.ndarray
) -> np.ndarray:
    """``agrees_with_alignment`` of a block's ``jI`` or ``vG`` values (``spans``, on ``lines``), with
    each line's ``MC`` where it keeps one (``rule_ids`` above 0: kept, not a later copy of a tag,
    not removed by ``--drop-tag``; the one-record path sees only those). STAR gives every read a
    ``jI``, most of them ``i,-1``: those are settled at once, the rest one by one."""
    ok = np.zeros(len(lines), dtype=bool)
    remaining = np.arange(len(lines))
    if tie == CIGAR_INTRONS and len(lines):
        plain = np.asarray(scan.span_choices(text, spans.starts, spans.ends, [NO_INTRONS]), dtype=np.int64) == 0
        ok[plain] = True
        remaining = np.flatnonzero(~plain)
    if not len(remaining):
        return ok
    alignment_of = LineAlignments(text, layout, rule_ids, spans.references)
    for index in remaining.tolist():
        value = text[int(spans.starts[index]) : int(spans.ends[index])]
        ok[index] = agrees_with_alignment(tie, value, alignment_of(int(lines[index])))
    return ok


UNSIGNED = byte_table(b"cC,0123456789")
"""A ``jM`` value of numbers without a sign (the subtype letter, commas, digits): its numbers are
as many as its commas, and none is -1."""


def commas(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The commas of each span: the numbers of a ``B`` value."""
    positions, owner = flat_positions(starts, ends)
    return np.bincount(owner[data[positions] == ord(",")], minlength=len(starts))


def mates_within_contig(text: bytes, layout: TagLayout, spans: Spans, lines: np.ndarray) -> np.ndarray:
    """``mate_within_contig`` of a block's ``MC`` values (``spans``, on ``lines``): one C pass for
    their reference lengths, the contigs' lengths looked up once per name."""
    references = spans.references
    rname_starts, rname_ends = (column[lines] for column in layout.column(2))
    rnext_starts, rnext_ends = (column[lines] for column in layout.column(6))
    names, index = distinct_spans(text, rnext_starts, rnext_ends)
    lengths = np.array([references.get(name, -1) for name in names], dtype=np.int64)[index] if names else np.zeros(0, dtype=np.int64)
    same = np.array([name == b"=" for name in names], dtype=bool)[index] if names else np.zeros(0, dtype=bool)
    if same.any():
        own, own_index = distinct_spans(text, rname_starts[same], rname_ends[same])
        lengths[same] = np.array([references.get(name, -1) for name in own], dtype=np.int64)[own_index]
    mate_positions = scan.span_numbers(text, *(column[lines] for column in layout.column(7)))
    spanned = scan.cigar_lengths(text, spans.starts, spans.ends, CIGAR_OPERATION_BYTES, SPANNING_OPERATION_BYTES)
    return (lengths < 0) | (mate_positions <= 0) | (spanned < 0) | (mate_positions + spanned - 1 <= lengths)


class LineAlignments:
    """The ``Alignment`` of a block's lines for the ties that read it: RNAME, POS, CIGAR, RNEXT and
    PNEXT, and ``MC`` where the line keeps one, once (``rule_ids`` above 0: kept, not a later copy
    of a tag, not removed by ``--drop-tag``; the one-record path sees only those)."""

    def __init__(self, text: bytes, layout: TagLayout, rule_ids: np.ndarray, references: Mapping[bytes, int]) -> None:
        self.text = text
        self.references = references
        self.columns = [layout.column(index) for index in (2, POS_COLUMN, CIGAR_COLUMN, 6, 7)]
        mate_tags = np.flatnonzero((layout.codes == MATE_CIGAR_CODE) & (rule_ids > 0))
        mate_lines = layout.tag_lines()[mate_tags]
        once = np.bincount(mate_lines, minlength=len(layout.line_starts)) == 1
        self.mate_cigar = {
            line: text[int(layout.starts[tag]) + VALUE_OFFSET : int(layout.ends[tag])]
            for tag, line in zip(mate_tags.tolist(), mate_lines.tolist(), strict=True)
            if once[line]
        }

    def __call__(self, line: int) -> Alignment:
        rname, pos, cigar, rnext, pnext = (self.text[int(starts[line]) : int(ends[line])] for starts, ends in self.columns)
        alignment = (rname, pos, cigar, rnext, pnext, self.mate_cigar.get(line))
        return alignment if mate_within_contig(alignment, self.references) else (*alignment[:5], None)


def motifs_agree_by_line(
    text: bytes, layout: TagLayout, partners: np.ndarray, partner_lines: np.ndarray, spans: Spans, lines: np.ndarray, rule_ids: np.ndarray
) -> np.ndarray:
    """``motifs_agree`` of a block's ``jM`` values (``spans``, on ``lines``) with their line's valid,
    kept ``jI`` (``partners``, indices into ``layout``, on ``partner_lines``; more than one: none
    agrees). STAR gives every read a ``jM`` beside its ``jI``: ``c,-1`` beside ``i,-1``, and
    ``c,-1`` on a line without a ``jI``, are settled at once, and so are motifs written without a
    sign beside a ``jI`` of pairs, by their counts of numbers (commas); the rest one by one."""
    line_count = len(layout.line_starts)
    given = np.bincount(partner_lines, minlength=line_count)[lines]
    partner_of = np.full(line_count, -1, dtype=np.int64)
    partner_of[partner_lines] = partners
    partner = partner_of[lines]
    plain = np.asarray(scan.span_choices(text, spans.starts, spans.ends, [NO_MOTIFS]), dtype=np.int64) == 0
    paired = np.flatnonzero(given == 1)
    plain_partner = np.zeros(len(lines), dtype=bool)
    if len(paired):
        partner_starts, partner_ends = layout.starts[partner[paired]] + VALUE_OFFSET, layout.ends[partner[paired]]
        plain_partner[paired] = np.asarray(scan.span_choices(text, partner_starts, partner_ends, [NO_INTRONS]), dtype=np.int64) == 0
    ok = plain & ((given == 0) | plain_partner)
    decided = ok.copy()
    counted = paired[~plain[paired] & ~plain_partner[paired]]
    counted = counted[spans_within(spans.data, text, spans.starts[counted], spans.ends[counted], UNSIGNED)]
    if len(counted):
        motifs = commas(spans.data, spans.starts[counted], spans.ends[counted])
        junctions = commas(spans.data, layout.starts[partner[counted]] + VALUE_OFFSET, layout.ends[partner[counted]])
        counted = counted[junctions != 1]  # a jI of one number is -1 (valid): one by one
        ok[counted] = 2 * motifs[junctions != 1] == junctions[junctions != 1]
        decided[counted] = True
    remaining = np.flatnonzero(~decided & (given <= 1))
    if not len(remaining):
        return ok
    alignment_of = LineAlignments(text, layout, rule_ids, spans.references)
    for index in remaining.tolist():
        value = text[int(spans.starts[index]) : int(spans.ends[index])]
        row = int(partner[index])
        introns = text[int(layout.starts[row]) + VALUE_OFFSET : int(layout.ends[row])] if given[index] else None
        ok[index] = motifs_agree(value, introns, alignment_of(int(lines[index])))
    return ok


def partners_agree_by_line(
    tie: Tie,
    data: np.ndarray,
    text: bytes,
    layout: TagLayout,
    partners: np.ndarray,
    partner_lines: np.ndarray,
    spans: Spans,
    span_lines: np.ndarray,
) -> np.ndarray:
    """Partner ties of a block (``tie``): each value of ``spans`` against the valid partner
    tag (``partners``, indices into ``layout``, on ``partner_lines``) of its line, which must
    be given once."""
    line_count = len(layout.line_starts)
    once = np.bincount(partner_lines, minlength=line_count)[span_lines] == 1
    partner_starts = np.full(line_count, -1, dtype=np.int64)
    partner_ends = np.full(line_count, -1, dtype=np.int64)
    partner_starts[partner_lines] = layout.starts[partners] + VALUE_OFFSET
    partner_ends[partner_lines] = layout.ends[partners]
    partner_starts = np.where(once, partner_starts[span_lines], -1)
    return once & tie.agree(data, text, spans.starts, spans.ends, partner_starts, partner_ends[span_lines])


@dataclass
class TagLayout:
    """Every tag field of a block of records: ``starts`` (the tab before it), ``ends``
    (the tab or newline after it) and ``codes`` (``tag_code``), in order; and where the
    mandatory columns of each line are (``line_starts``; ``tabs``: each line's ten tabs
    between them; ``tags_per_line``; ``line_ends``, each line's newline)."""

    starts: np.ndarray
    ends: np.ndarray
    codes: np.ndarray
    line_starts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    tabs: np.ndarray = field(default_factory=lambda: np.zeros((0, MANDATORY_TABS), dtype=np.int64))
    tags_per_line: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    line_ends: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def tag_lines(self) -> np.ndarray:
        """The line (0-based, in the block) of each tag."""
        return np.repeat(np.arange(len(self.line_starts)), self.tags_per_line)

    def column(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Start and end offsets of mandatory column ``index`` (0-based, 1 to 10) on every line."""
        return self.tabs[:, index - 1] + 1, self.tabs[:, index]

    def names(self) -> tuple[np.ndarray, np.ndarray]:
        """Start and end offsets of QNAME (column 0) on every line."""
        return self.line_starts, self.tabs[:, 0]

    def quality_ends(self) -> np.ndarray:
        """Where QUAL (column 10) ends on every line: its first tag's tab, or the line's end."""
        counts = self.tags_per_line
        if not len(self.starts):
            return self.line_ends.copy()
        first = np.minimum(np.cumsum(counts) - counts, len(self.starts) - 1)
        return np.where(counts > 0, self.starts[first], self.line_ends)


def locate_tags(text: bytes) -> TagLayout | None:
    """Where each optional field of ``text`` (whole SAM record lines, each ending in a
    newline) is, found by column; None when a line has fewer than the 11 mandatory
    columns or a field from column 12 on is not ``TAG:TYPE:`` (the one-record path
    then names the line).

    One pass of ``scan.line_fields`` finds the tabs; the tags' bytes are then read in
    bulk from their offsets.
    """
    located = scan.line_fields(text, MANDATORY_TABS)
    if located.bad_row >= 0:
        return None
    if not text.endswith(b"\n") and b"\t" in text[text.rfind(b"\n") + 1 :]:
        return None  # a tab after the last newline: not whole lines
    starts, ends = located.extra_starts, located.extra_ends
    codes = scan.tag_codes(text, starts, ends, TYPE_BYTES)
    if codes is None:
        return None  # a field shorter than \tXX:T:, without its colons or of no type
    return TagLayout(starts, ends, codes, located.starts, located.tabs, located.extra_counts, located.ends)


def tag_name(code: int) -> str:
    """The name of a ``tag_code``, as the report counts it."""
    return report_name(bytes(((code >> 11) & 0xFF, (code >> 3) & 0xFF)))


def report_name(name: bytes) -> str:
    """A tag name for the report: the name, or ``invalid`` when it is off the spec's grammar."""
    return name.decode("ascii") if TAG_NAME.fullmatch(name) else "invalid"
