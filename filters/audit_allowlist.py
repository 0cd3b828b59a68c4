"""What a scrubbed delivery may hold as metadata: the audit's allowlists, as data, in one place.

genoscrub-audit flags every header line, header tag, aux tag and read name that the
scrubbers would not write, so an unscrubbed or hand-edited file is caught without a
forbid list. The tables follow the fail-closed rules of the scrubbers (ARCHITECTURE.md,
*Metadata*): a kept value is a value of the format's grammar or one of a documented
list, never free text. They are kept here, apart from the scrubbers' own tables, so the
audit checks the outputs from outside; a test compares the two sets of tables.

Each grammar is a regular expression that the whole value must match (``fullmatch``).
Where a scrubber may write a value the audit cannot tell from an identifier (a
pseudonym in ``@RG ID``, a sample column), only the grammar is checked here and
``--forbid`` is the check for the identifier itself.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import AnyStr, Generic


class LazyPattern(Generic[AnyStr]):
    """A regular expression compiled when first searched with. The audit's largest (the personal
    numbers, dates and places of header text, of VCF values) take 10 to 25 ms each to compile, and
    an audit of other files never searches with them. Compiled in the process that searches: those
    a forked BAM worker uses are compiled ones."""

    def __init__(self, pattern: AnyStr, flags: int = 0) -> None:
        self.pattern: AnyStr = pattern
        self.flags = flags

    @functools.cached_property
    def compiled(self) -> re.Pattern[AnyStr]:
        return re.compile(self.pattern, self.flags)

    def search(self, string: AnyStr, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[AnyStr] | None:
        return self.compiled.search(string, pos, endpos)


# --- shared vocabularies -------------------------------------------------------------------

ASSEMBLY_NAMES = (
    "GRCh37",
    "GRCh38",
    "hg18",
    "hg19",
    "hg38",
    "hs37d5",
    "hs38DH",
    "b37",
    "NCBI36",
    "T2T-CHM13",
    "CHM13",
    "chm13v2.0",
    "GRCm38",
    "GRCm39",
    "mm10",
    "mm39",
)
"""Genome build names an ``@SQ AS`` may hold, spelled as the scrubbers write them: public names
of public references, never a path."""

SPECIES_NAMES = ("Homo sapiens", "Mus musculus", "human", "mouse")
"""``@SQ SP`` values kept, spelled as the scrubbers write them."""

PLATFORMS = (
    "CAPILLARY",
    "DNBSEQ",
    "ELEMENT",
    "HELICOS",
    "ILLUMINA",
    "IONTORRENT",
    "LS454",
    "ONT",
    "PACBIO",
    "SINGULAR",
    "SOLID",
    "ULTIMA",
)
"""``@RG PL``: the SAM specification's platform list (1.6, section 1.3), matched case-insensitively."""

GENOSCRUB_COMMANDS = ("sam-scrub-rg", "sam-revert-germline", "sam-mask-regions", "vcf-scrub-header", "vcf-drop-rare", "vcf-drop-regions")
"""The commands whose provenance lines (``@PG``, ``##genoscrub_<command>``) a delivery holds."""

VERSION = r"[0-9]{1,4}(?:\.[0-9]{1,4}){0,3}(?:(?:a|b|rc)[0-9]{1,3})?(?:\.post[0-9]{1,3})?(?:\.dev[0-9]{1,3})?(?:\+g[0-9a-f]{7,12})?"
"""genoscrub's version (``@PG VN``, ``##genoscrub_<command>=``), as its packaging writes one:
numbers of up to four digits, then a pre-release, ``.post``, ``.dev`` and a git commit
(``0.1.0``, ``1.2.0rc1.dev3+g1a2b3c4``). Nothing else: ``19900101.900101-1234567``,
``1.2.3+1990Jan01`` or ``0.1.0+kimjihyun`` is no version."""
TOKEN = r"[A-Za-z0-9][A-Za-z0-9_.:-]*"
"""A pseudonym or an ID: letters, digits and ``_.:-``, no blank, no path separator."""
SAM_REFERENCE_NAME = r"[0-9A-Za-z!#$%&+./:;?@^_|~-][0-9A-Za-z!#$%&*+./:;=?@^_|~-]*"
"""SAM 1.6, section 1.2.1: what an @SQ SN may be."""


def _choice(values: tuple[str, ...]) -> str:
    return "(?:" + "|".join(re.escape(value) for value in values) + ")"


_PROGRAM_ID = _choice(GENOSCRUB_COMMANDS) + r"(?:[.-][0-9]+)?"  # samtools merge makes IDs unique with a suffix
_SUB_SORT_WORDS = ("coordinate", "queryname", "unsorted", "natural", "lexicographical", "template-coordinate", "MI", "RX", "BX", "CB", "UB")

# --- SAM header ------------------------------------------------------------------------------

SAM_HEADER_TAGS: Mapping[str, Mapping[str, str]] = {
    "HD": {
        "VN": r"[0-9]{1,2}\.[0-9]{1,2}",  # 1.0 to 1.6 so far: no room for a date or a number
        "SO": _choice(("unknown", "unsorted", "queryname", "coordinate")),
        "GO": _choice(("none", "query", "reference")),
        "SS": _choice(("coordinate", "queryname", "unsorted")) + "(?::" + _choice(_SUB_SORT_WORDS) + ")+",
    },
    "SQ": {
        "SN": SAM_REFERENCE_NAME,
        "LN": r"[1-9][0-9]{0,9}",
        "M5": r"[0-9A-Fa-f]{32}",
        "AS": _choice(ASSEMBLY_NAMES),
        "SP": _choice(SPECIES_NAMES),
        "TP": _choice(("linear", "circular")),
        "AH": r"\*|" + SAM_REFERENCE_NAME + r"(?::[0-9]+-[0-9]+)?",
        "AN": SAM_REFERENCE_NAME + r"(?:," + SAM_REFERENCE_NAME + r")*",
    },
    "RG": {
        "ID": TOKEN,
        "SM": TOKEN,
        "LB": TOKEN,
        "PU": TOKEN,
        "PL": "(?i:" + _choice(PLATFORMS) + ")",
    },
    "PG": {
        "ID": _PROGRAM_ID,
        "PN": "genoscrub",
        "VN": VERSION,
    },
}
"""Header record type -> tag -> grammar of its value. A record type not here (``@CO``,
a vendor's ``@XY``) and a tag not listed for its type are findings; so is a value that
does not match. ``@PG`` lines are genoscrub's own provenance only: another program's
line carries its command line (paths, sample names). Where a grammar lets text through,
the value is held to more (``audit_header.check_sam_header``): each name of ``AN`` to a
reference name's rule, ``AH`` to a locus of the header's references, the values of
``HELD_TO_THE_SAMPLE_RULE`` to a sample name's."""
HELD_TO_THE_SAMPLE_RULE = frozenset({("RG", "ID"), ("RG", "SM"), ("RG", "LB"), ("RG", "PU"), ("PG", "ID"), ("PG", "VN")})
"""Header values a pseudonym or an ID is written in: held to ``PERSONAL_IN_SAMPLE`` (no path,
address, date, registration or phone number, text outside ASCII), as a VCF sample name is,
the keyed pseudonym (``SAMPLE_PSEUDONYM``) set aside."""


# --- record aux tags -------------------------------------------------------------------------

# fmt: off
SAM_STANDARD_TAGS = frozenset({
    "AM", "AS", "BQ", "BZ", "CB", "CC", "CM", "CP", "CQ", "CR", "CS", "CY", "E2", "FI", "H0", "H1", "H2", "HI", "IH",
    "MC", "MD", "MI", "ML", "MM", "MN", "MQ", "NH", "NM", "OA", "OC", "OP", "OQ", "OX", "Q2", "QX", "R2", "RG", "RX", "SA",
    "SM", "TC", "TS", "U2", "UQ",
})
"""The SAM tags specification's standard tags that carry no free text and name nothing of the
sample's origin. Not here: ``CO`` (comment), ``CT``/``PT`` (annotations), ``PG`` (program),
``LB``/``PU``/``BC``/``QT`` (library, platform unit, sample barcode: the header's identifiers
again), ``FS``/``FZ``/``GC``/``GQ``/``GS``/``SQ``/``RT``/``PQ`` (reserved or obsolete), and ``CG``:
a long CIGAR that htslib takes as the record's CIGAR is no tag to a reader (``audit_bam`` reads it
as the CIGAR, ``check_tags`` passes it), and any other is an array of free numbers."""

ALIGNER_TAGS = frozenset({
    "XA", "XS", "XN", "XM", "XO", "XG", "XT", "X0", "X1", "XB",  # bwa (mem and aln)
    "YS", "YF", "YT", "ZS",  # Bowtie2, HISAT2
    "tp", "cm", "s1", "s2", "nn", "ts", "cg", "cs", "de", "dv", "rl",  # minimap2
    "nM", "jM", "jI", "ch", "vA", "vG", "vW", "GX", "UB", "UR", "UY",  # STAR, STARsolo
    "BD", "BI", "DT", "DI", "DS",  # GATK, Picard
})
# fmt: on
"""Tags the common aligners and tools add (bwa, Bowtie2, minimap2, STAR, GATK/Picard):
scores, counts, positions and flags, no free text. Not minimap2's ``ms``: samtools fixmate -m
writes ``ms:i`` as the sum of the mate's base qualities of 15 or more, which a mate reverted at
a germline site changes, so a delivery that keeps one is a finding. ``GN`` (a gene name, which cannot be told
from a sample name by its letters) is not here; ``GX`` carries the same gene as an ID."""

AUX_TAGS = SAM_STANDARD_TAGS | ALIGNER_TAGS
"""Every aux tag a scrubbed record may carry; any other tag is a finding."""

SEQUENCE_COPYING_TAGS = frozenset(["R2", "E2", "U2", "CS", "cs", "ds", "OA", "OC", "OP", "SA", "XA", "XB", "YS", "nM", "jI", "jM"])
"""Tags that copy read sequence, an earlier, alternative or supplementary alignment (its CIGAR
can hold a germline indel; ``OP``, the position before a realignment, moves with one), or the
mate's score (Bowtie2's ``YS``, STAR's ``nM``: a mismatch at a germline site the mate no
longer shows once reverted), or the pair's junctions (STAR's ``jI``, ``jM``, which name the
mate's skips: a germline deletion written as one): with ``--germline`` the audit cannot check them base by base, so
they are findings of the germline class (fail closed). sam-revert-germline removes each of
them from every record (its ``COPYING_TAGS``), so a reverted delivery has none."""

GERMLINE_SITE_TAGS = frozenset(["vA", "vG", "vW"])
"""STAR's WASP tags, made from the germline variants STAR was given: ``vG`` their positions,
``vA`` the read's allele at each, ``vW`` set only on reads that lie on one. A read with the
reference allele there shows nothing to revert, but its tags still show the site: with
``--germline`` they are findings of the germline class wherever they are."""

READ_NAME = r"READ(?:0|[1-9][0-9]{0,9})|[0-9a-f]{24}|\*"
"""Read names as the scrubbers write them (a counter or a keyed hash; ``*`` is SAM's
"no name"): an instrument, run, flowcell, tile or coordinate in a name is a finding. A counter
counts a file's reads (from 1; 0 tells nothing), so it has no leading zero and at most ten digits (a 30x
genome has about a billion reads): ``READ01012345678`` (a mobile number) and ``READ9001011234567``
(a registration number) are no counters; nor is one above the file's count of records
(``READ_COUNTER_PAST_RECORDS``: ``READ19850314`` in a file of a million reads)."""
READ_COUNTER_DIGITS = 10
READ_COUNTER_PAST_RECORDS = "read name (a counter above the file's count of records)"

HASHED_NAME_LENGTH = 24
HASHED_NAME_DIGITS = b"0123456789abcdef"
"""A keyed-hash read name, READ_NAME's second form: this many of these digits. The bulk
checks of BAM and FASTQ names read it as arrays by these two values."""

FASTQ_COMMENT = r"[1-4]:[YN]:[0-9]{1,2}"
"""What may follow a FASTQ read name after a blank: the Casava read number kept by
fastq-scrub-names (``1:N:0``), never the index sequences; its control number is 0 or a
small even number (``1:N:19900101`` holds a date)."""
FASTQ_BASES = b"ACGTUNRYSWKMBDHVacgtunryswkmbdhv."
"""What a FASTQ sequence line holds: IUPAC base codes in either case, and ``.`` (a no-call
of early Illumina files). Any other byte is text put where the bases belong."""
FASTQ_QUALITIES = bytes(range(ord("!"), ord("~") + 1))
"""A FASTQ quality's bytes: Phred+33, ``!`` to ``~`` (SAM's QUAL too). Another byte is no quality,
and bytes outside ASCII spell text (a name in UTF-8) that no search of the record's text reads."""

PLACES_ON_CONTIG = frozenset(["OP", "CP"])
"""Positions (``OP`` the original one, ``CP`` the next hit's) held, beyond their ``POSITION`` range,
to at most twice the LN of their record's contig (the longest for an unplaced record) and its read,
the bound POS is held to: ``OP:i:19900101`` on a contig of 5,000 holds a date, as a PNEXT there
would (``MATE_PAST_END``). sam-scrub-rg removes such a value (``aux_values.PLACE_ON_CONTIG``)."""

SQ_AN_ACCESSION_LIKE = r"[A-Z]{1,2}_?[0-9]{5,}\.[0-9]+"
"""A name of ``@SQ AN`` written as an accession: letters, digits and a version."""
SQ_AN_REFSEQ = r"[A-Z]{2}_(?:[0-9]{6}|[0-9]{9})\.[0-9]{1,3}"
SQ_AN_INSDC = r"(?:[A-Z][0-9]{5}|[A-Z]{2}[0-9]{6})\.[0-9]{1,3}"
"""The shapes the databases give their accessions: RefSeq's (``NC_000001.11``, ``NW_003315905.1``)
and INSDC's (GenBank, ENA, DDBJ: ``J01415.2``, ``CM000663.2``). An ``@SQ AN`` holds no name
twice and at most one accession of each database, each of its database's shape: a sequence has
one in each, and two of a kind, each judged alone, could spell a number between them
(``AN:AB900101.1,CM123456.7``, 900101-1234567); sam-scrub-rg drops any other AN."""

# --- VCF header --------------------------------------------------------------------------------

VCF_NUMBER = r"[0-9]+|[ARG.]"
SEVEN_DIGITS = r"(?<![0-9])(?<!GCA_)(?<!GCF_)[0-9](?:-?[0-9]){6}"  # seven digits or more: an RRN, a phone or record number, a date
MONTH_NAMES = [
    "jan", "january", "feb", "february", "mar", "march", "apr", "april", "may", "jun", "june", "jul", "july", "aug", "august",
    "sep", "sept", "september", "oct", "october", "nov", "november", "dec", "december",
]  # fmt: skip
MONTH = "(?:" + "|".join(sorted(MONTH_NAMES, key=len, reverse=True)) + ")"
DATE_WITH_MONTH_NAME = (
    r"(?i:(?:(?<![A-Za-z0-9])(?:[0-9]{1,2}(?:st|nd|rd|th)?(?: of |[-/._ +~])?" + MONTH + r"\.?,?[-/._ +~]?[0-9]{4}"  # 1st of January 1990
    r"|[0-9]{1,2}[-/._ +~]" + MONTH + r"\.?[-/._ +~]'?[0-9]{2}"  # 29-OCT-23 (Oracle's DD-MON-RR)
    r"|" + MONTH + r"\.?[-/._ +~]?[0-9]{1,2}(?:st|nd|rd|th)?,?[-/._ +~]?[0-9]{4}"  # Oct 29 2023, Dec. 1st, 1990
    r"|" + MONTH + r"\.?[-/._ +~][0-9]{1,2}(?:st|nd|rd|th)?,?[-/._ +~]'?[0-9]{2}"  # Jan-01-90, Dec 1 '90: the month first, RR
    r"|[0-9]{4}[-/._ +~]?" + MONTH + r"\.?[-/._ +~]?[0-9]{1,2}"  # 1990-Jan-01, 1990JAN01: the year first
    r")|(?<![0-9])(?:[0-9]{2}(?:st|nd|rd|th)?(?: of |[-/._ +~])?" + MONTH + r"\.?,?[-/._ +~]?[0-9]{4}"  # DOB01JAN1990: onto letters
    r"|[0-9]{4}[-/._ +~]?" + MONTH + r"\.?[-/._ +~]?[0-9]{2}"  # DOB1990Jan01
    r"|" + MONTH + r"\.?[-/._ +~]?[0-9]{2}(?:st|nd|rd|th)?,?[-/._ +~]?[0-9]{4}))(?![0-9]))"  # ctgJAN011990: the month first
)
"""A date written with an English month name and both a day and a year (LIMS and Oracle exports),
the day first (``1st of January 1990`` too), the month first (``Dec. 1, 1990``, ``Jan-01-90``) or
the year first; written onto letters with a day of two digits and a year of four
(``DOB01JAN1990``, ``ctgJAN011990``): ``Oct2020``, a release, is none. English names only."""
_YEAR, _MONTH_NUMBER, _DAY = r"(?:19|20)[0-9]{2}", r"(?:0[1-9]|1[0-2])", r"(?:0[1-9]|[12][0-9]|3[01])"
LISTED_DATE = "(?:" + "|".join(
    rf"(?<![0-9]{re.escape(mark)})(?:{_YEAR}{re.escape(mark)}{_MONTH_NUMBER}{re.escape(mark)}{_DAY}"
    rf"|{_DAY}{re.escape(mark)}{_DAY}{re.escape(mark)}{_YEAR})(?!{re.escape(mark)}[0-9])"
    for mark in "|;,~+"
) + ")"
"""A date whose parts a list's separator joins, the same one twice (``1990|01|01``, ``01;01;1990``,
``1990,01,01``): a year of the 1900s or 2000s, a month and a day of two digits, three numbers alone
(``SB=2000,10,12,15`` is a list of counts; a VCF number has no leading zero)."""
_TWO_DIGITS_APART = r"(?:[-./] ?| |_)"
TWO_DIGIT_YEAR_DATE = (
    r"(?<![A-Za-z0-9.])(?<![0-9][-/])(?:"
    + _DAY + _TWO_DIGITS_APART + _MONTH_NUMBER + _TWO_DIGITS_APART + r"[0-9]{2}"  # 29.10.23: the day first,
    + r"|" + _MONTH_NUMBER + _TWO_DIGITS_APART + _DAY + _TWO_DIGITS_APART + r"[0-9]{2}"  # 10.29.23: the month first,
    + r"|[0-9]{2}" + _TWO_DIGITS_APART + _MONTH_NUMBER + _TWO_DIGITS_APART + _DAY  # 23.10.29: the year first
    + r")(?![0-9])"
)
"""A date with a two-digit year, two digits each part (``29.10.23``, ``10.29.23``, ``23.10.29``,
``29_10_23``, "23. 10. 29."), by ``.``, ``/``, ``-`` (each perhaps followed by a blank), a blank or
``_``, not after a letter, digit or dot (``v2.10.23``), nor after a number and ``-`` or ``/`` (HGVS's
``c.10-12_10-10``); not by ``:`` (a time, ``12:13:49``) nor a list's separator (``10,12,15``: counts)."""
PHONE_SEPARATOR = r"(?:[ ._~+|,-]| - )"
PHONE_NUMBER = (
    r"(?:0[0-9]{1,2}(?:\)" + PHONE_SEPARATOR + "?|" + PHONE_SEPARATOR + ")"  # 02 , 010. , 02)
    + r"|\(0[0-9]{1,2}\)" + PHONE_SEPARATOR + "?"  # (02) , (02)
    + r"|\+82" + PHONE_SEPARATOR + r"?(?:\(0\)" + PHONE_SEPARATOR + r"?)?0?[1-9][0-9]?" + PHONE_SEPARATOR  # +82 2 , +82(0)10.
    + r")[0-9]{3,4}" + PHONE_SEPARATOR + r"[0-9]{4}"
)
"""A phone number with blanks, dots, underscores, hyphens, ``~``, ``+``, ``|``, ``,`` or `` - ``
between its parts, in any mix (``02 1234 5678``, ``010.1234-5678``, ``010~1234~5678``, ``010 - 1234 -
5678``), its area code in parentheses (``(02) 1234 5678``, ``(02)123 4567``, ``02)1234-5678``) or
after the country's code, with or without its 0 (``+82 2 123 4567``, ``+82(0)10.1234.5678``,
``+82-10-1234-5678``)."""
HTML_REFERENCE = r"&(?:#(?:[0-9]+|[xX][0-9A-Fa-f]+);?|[A-Za-z][A-Za-z0-9]*;|(?i:shy|nbsp))"
"""An HTML character reference (``&#44608;``, ``&shy;``), numeric without its ``;`` too (``&#173``),
and the invisible legacy ones a browser reads without it (``&shyJ``, ``&nbspKIM``); not ``&reg``,
which starts VEP's ``&regulatory_region_variant``."""
WRITTEN_PERSONAL = (
    DATE_WITH_MONTH_NAME + "|"
    r"(?:%[0-9A-Fa-f]{2}){2}"  # percent-encoded text that is not ASCII
    r"|" + HTML_REFERENCE  # the same as an HTML character reference (&shy;, &#173, &shyJ)
    + r"|(?<![0-9])[0-9]{4}(?:[-./] ?|[ _:])[0-9]{1,2}(?:[-./] ?|[ _:])[0-9]{1,2}(?![0-9])"  # 1990-01-01, 1990. 01. 01., 2023_10_29
    r"|(?<![0-9])[0-9]{1,2}[-/][0-9]{1,2}[-/][0-9]{2,4}(?![0-9])"  # 01/01/1990, 1-1-90
    r"|(?<![0-9])[0-9]{1,2}(?:\.[0-9]{1,2}\.|[ _:][0-9]{1,2}[ _:])[0-9]{4}(?![0-9])"  # 01.01.1990, 01 01 1990, 01_01_1990
    r"|" + TWO_DIGIT_YEAR_DATE  # 29.10.23, 23.10.29
    + r"|(?<![0-9])" + LISTED_DATE + r"(?![0-9])"  # 1990|01|01, 01;01;1990, 1990,01,01
    + r"|(?<![0-9])" + PHONE_NUMBER + r"(?![0-9])"  # 02 1234 5678, 010_1234_5678, 010~1234~5678, 010 - 1234 - 5678
)
"""Personal data written as numbers with separators, or encoded: every kind of text holds none."""
PERSONAL_NUMBERS = SEVEN_DIGITS + "|" + WRITTEN_PERSONAL
"""The personal numbers and dates of every kind of text: what a record's INFO, FORMAT, FILTER or
symbolic ALT ID never holds (``audit_record_values``), and part of ``PERSONAL_IN_TEXT``. A day-first
date needs a four-digit year: ``4.2.10`` is a version."""
VCF_ID = r"(?!.*(?:" + PERSONAL_NUMBERS + r"))[A-Za-z0-9_][A-Za-z0-9_.+-]*"
"""The ID of an ``##INFO`` or ``##FORMAT`` line: the letters, digits and ``_.+-`` that bcftools reads
and records use as keys (the specification's ``[A-Za-z_][0-9A-Za-z_.]*`` and ``1000G``, and
annotators' ``1000g2012apr_eur``, ``LJB2_GERP++``), holding none of the personal numbers and
dates. The records' keys are held to the same (``audit_record_values``): a definition whose ID
failed here while its records' key passed failed the gate on every ANNOVAR file."""
YYMMDD_IN_HEADER = r"(?<![A-Za-z0-9.])[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])(?![0-9])"  # 900101: a YYMMDD date
PERSONAL_IN_TEXT = PERSONAL_NUMBERS + "|" + YYMMDD_IN_HEADER
"""What a scrubbed Description never holds (nor text outside printable ASCII): vcf-scrub-header
removes it as personal data. In header text six digits that read as a date (``900101``, the first
half of a registration number) count too; in records they do not (ClinVar's ``OMIM:600101``)."""
EIGHT_DIGIT_DATE = r"(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
PUBLIC_ACCESSION = (
    r"(?<![A-Za-z0-9])(?:(?:AC|NC|NG|NT|NW|NZ)_(?:[0-9]{6}|[0-9]{9})(?:\.[0-9]{1,3})?"  # RefSeq: NC_000001.11, NW_003315905.1
    r"|(?:[A-Z][0-9]{5}|[A-Z]{2}[0-9]{6})(?:\.[0-9]{1,3})?(?:v[0-9]{1,3})?"  # GenBank: J01415.2, GL000192.1, KI270706v1
    # WGS: 4 or 6 letters, 2 digits of version, 6 to 8 of contig number (JTFH01000001v1), not starting with a date
    r"|(?:[A-Z]{4}|[A-Z]{6})(?![0-9]{0,2}" + EIGHT_DIGIT_DATE + r")[0-9]{8,10}(?:\.[0-9]{1,3})?(?:v[0-9]{1,3})?"
    r"|HLA-[A-Z]{1,4}[0-9]?\*[0-9]{2,3}(?::[0-9]{2,3}){0,3}[A-Z]?)(?![0-9])"  # HLA alleles of hs38DH: HLA-DRB1*15:01:01:01
)
"""Public accessions in contig names, set aside before ``PERSONAL_IN_CONTIG`` is searched: their
real shapes only (a RefSeq number of 6 or 9 digits, HLA fields of 2 or 3), so ``NC_19900101``,
``HLA-A*19900101`` and ``KIMJ19900101`` are judged. A date that fits a real shape
(``NW_019900101``) cannot be told from an accession and passes."""
SEVEN_SIGNIFICANT_DIGITS = r"(?<![0-9])(?<!GCA_)(?<!GCF_)(?:0-?)*[1-9](?:-?[0-9]){6}"
"""Seven significant digits or more in a run (``-`` between them too), its leading zeros not
counted: assemblers pad a contig's number (Canu's ``tig00000001``, ``contig_000000008``), while
seven digits or more could be a date or an ID (``tig19900101``, ``tig0019900101``)."""
PERSONAL_IN_CONTIG = r"[^\x21-\x7e]|[/\\@]|" + SEVEN_SIGNIFICANT_DIGITS + "|" + WRITTEN_PERSONAL + "|" + YYMMDD_IN_HEADER
"""What a contig name (``##contig`` ID, CHROM, a breakend's mate) never holds, its public
accessions set aside: text outside printable ASCII, a path, URL or e-mail address, a personal
number or date (``PERSONAL_IN_TEXT``, a run of digits counted by its significant digits). The
assemblies' names pass (``1``, ``chrUn_JTFH01000001v1_decoy``, ``hs37d5``, ``tig00000001``)."""
SAMPLE_PSEUDONYM = r"S[0-9A-F]{16}"
"""vcf-scrub-header's keyed pseudonym of a sample (``--key-file``), upper-case hex as it is written:
its digits may read as a registration number (``S4903134303289D62``), 3 in 1,000, and are not held to the rule."""
PERSONAL_IN_SAMPLE = (
    r"[^\x20-\x7e]|[/\\@]|" + WRITTEN_PERSONAL
    + r"|(?<![0-9])" + EIGHT_DIGIT_DATE + r"(?![0-9])"  # 20231029: a date
    + r"|(?<![0-9])[0-9]{6}-?[0-9]{7}(?![0-9])"  # 900101-1234567: a registration number
    + r"|(?<![0-9])01[016789]-?[0-9]{3,4}-?[0-9]{4}(?![0-9])"  # 010-1234-5678: a mobile number
)
"""What a sample name of the ``#CHROM`` line never holds: text outside printable ASCII, a path or
address, a date, a registration or mobile number. Not seven digits as such: a pseudonym of a
site's map may have them (``CMT1234567_00`` in a biobank of a million), so a hospital's sample
ID of seven digits (``S2301217N``) is left to the forbid list, as any identifier put where a
pseudonym belongs."""
NUMBER_SEPARATOR = r"[-_.:]"
PERSONAL_IN_REFERENCE = (
    r"[^\x21-\x7e]|[/\\@]|" + WRITTEN_PERSONAL
    + r"|(?<![0-9])" + EIGHT_DIGIT_DATE + r"(?![0-9])"  # 19900101: a date
    + r"|(?<![0-9])[0-9]{6}" + NUMBER_SEPARATOR + r"?[0-9]{7}(?![0-9])"  # 900101-1234567, 900101_1234567, 900101.1234567
    + r"|(?<![0-9])01[016789]" + NUMBER_SEPARATOR + r"?[0-9]{3,4}" + NUMBER_SEPARATOR + r"?[0-9]{4}(?![0-9])"  # 010_1234_5678
    + r"|(?<![0-9])0(?:2|[3-6][1-5]|70)" + NUMBER_SEPARATOR + r"[0-9]{3,4}" + NUMBER_SEPARATOR + r"[0-9]{4}(?![0-9])"  # 02-123-4567
)
"""What a pseudonym or platform unit never holds, its public accessions set aside: text outside
printable ASCII, a path or address, a date, a registration, mobile or landline number written
with a hyphen, an underscore, a dot or a colon between its parts. Not a bare run of digits, which
a pseudonym of a large biobank may hold (``CMT1234567_00``)."""
PERSONAL_IN_SEQUENCE_NAME = PERSONAL_IN_REFERENCE + "|" + SEVEN_SIGNIFICANT_DIGITS
"""What an ``@SQ`` name (SN, one of AN) never holds: ``PERSONAL_IN_REFERENCE``, and seven
significant digits or more, as a contig name (``PERSONAL_IN_CONTIG``)."""
_RUN = r"[^\s\"'<>()\[\]{}|;,]"
HOST_SUFFIXES = (
    "com|org|net|edu|gov|mil|int|info|biz|io|ai|cloud|local|lan|internal|intranet|corp|home|localdomain|"
    "kr|jp|cn|uk|de|fr|us|ca|au|ch|nl|se|no|dk|fi|it|es|be|at|sg|tw|hk|nz|ie|il|br|ru|eu|ac"
)
PLACE_IN_NAME = (
    r"(?i:(?<![0-9])[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?![0-9])"  # ctg_10.0.0.1, chr10.0.0.1: an IP address
    r"|(?:[A-Za-z0-9-]+\.)+(?:" + HOST_SUFFIXES + r")(?![A-Za-z0-9]))"  # ctg_kim.snuh.ac.kr: a host
)
"""A host name or an IP address in a contig or reference name, also written onto letters or ``_``
(``ctg_10.0.0.1``, ``asm_seq01.hospital.local``), where ``PLACE_IN_TEXT`` wants a word's edge."""
PLACE_IN_TEXT = "|".join(
    (
        r"\b[A-Za-z][A-Za-z0-9+.-]*://",  # scheme://..., file:///..., s3://...
        r"\b(?:file|https?|ftp|sftp|smb|s3|gs):" + _RUN,  # file:x, http:x without //
        r"(?<![A-Za-z0-9])[A-Za-z]:[\\/]",  # C:\Users\..., D:/data
        r"\\" + _RUN,  # \\server\share, \Users\kim: a backslash before more text
        r"(?<![\w.~-])~|~[A-Za-z0-9._-]*/",  # ~/lab, ~user; String~/kimjh
        r"(?<![\w.~-])/" + _RUN,  # /home/kimjh/x.bam
        r"@" + _RUN,  # user@host, e-mail addresses
        r"\b[0-9]{1,3}(?:\.[0-9]{1,3}){3}\b",  # 192.168.1.10
        r"\b(?:[A-Za-z0-9-]+\.)+(?:" + HOST_SUFFIXES + r")\b",  # seq01.hospital.local
        r"[A-Za-z][\w.+-]*/|[\w.+-]+/[\w.+-]*[A-Za-z]",  # lab/x.bam, ./run/x: a token with a / and a letter
    )
)
"""Where a Description names a place: a path, URL, e-mail address, IP address or host name, as
vcf-scrub-header finds them to remove them from every Description it keeps (a relative path
needs a ``/`` and a letter, so ``Ref/Alt`` goes too: fail closed). Each alternative finds the
start of one (searched case-insensitively, ASCII), so a match anywhere in the unescaped
Description is a finding."""
VCF_DESCRIPTION = r'"(?:(?!' + PERSONAL_IN_TEXT + r')[ !#-\[\]-~]|\\[ -~])*"'

VCF_STRUCTURED_KEYS: Mapping[str, Mapping[str, str]] = {
    "INFO": {
        "ID": VCF_ID,
        "Number": VCF_NUMBER,
        "Type": _choice(("Integer", "Float", "Flag", "Character", "String")),
        "Description": VCF_DESCRIPTION,
    },
    "FORMAT": {
        "ID": VCF_ID,
        "Number": VCF_NUMBER,
        "Type": _choice(("Integer", "Float", "Character", "String")),
        "Description": VCF_DESCRIPTION,
    },
    "FILTER": {"ID": r"[^\s,;=<>\"]+", "Description": VCF_DESCRIPTION},
    "ALT": {"ID": r"(?!.*(?i:" + PLACE_IN_TEXT + r"))[A-Za-z0-9_.:*-]+", "Description": VCF_DESCRIPTION},  # no host, no scheme
    "contig": {"ID": SAM_REFERENCE_NAME, "length": r"[1-9][0-9]{0,11}"},
}
"""``##KEY=<...>`` lines the scrubbers rebuild: key -> field -> grammar. Fields other than
these (``Source``, ``Version``, ``URL``, ``md5``, ``species``, ``assembly``, text after the
last field) are findings."""

VCF_PLAIN_KEYS: Mapping[str, str] = {
    "fileformat": r"VCFv4\.[0-5]",
    "reference": r"(?!.*(?:" + PERSONAL_IN_TEXT + r"))[A-Za-z0-9][A-Za-z0-9_.+-]*",
}
"""``##KEY=value`` lines kept: the format version, and a reference named by its file's base
name or a build name (no directory, host or URL, no date or long number)."""

VCF_PROVENANCE_KEY = "genoscrub_" + _choice(GENOSCRUB_COMMANDS)
"""``##genoscrub_<command>=<version>``: the commands' own provenance line."""

VCF_ID_COLUMN = r"\.|(?:rs|COSV|COSM|id)[0-9]+(?:;(?:rs|COSV|COSM|id)[0-9]+)*"
"""The ID column keeps public database IDs only, and the IDs vcf-scrub-header numbers linked
records by (``id1``, ``id2``: breakend mates, events); a lab's own variant IDs are findings."""

# --- VCF record values ---------------------------------------------------------------------------

LARGE_NUMBER_KEYS = frozenset(
    {
        # where a variant ends or its mate lies, a phase set's first position, dbSNP's position of the rs,
        # SURVIVOR's mean start and end of merged calls
        "END", "END2", "POS2", "SVEND", "MATEPOS", "PS", "RSPOS", "AVG_START", "AVG_END",
        # how long a structural variant is
        "SVLEN", "LEN", "AVG_LEN",
        # reads at a site, whole or split by allele, strand, tier or evidence (deep amplicon and UMI files
        # pass a million): VCF's and GATK's, bcftools', Mutect2's, DeepVariant's, freebayes', Strelka2's,
        # VarScan2's, VarDict's, Delly's
        "DP", "AD", "ADF", "ADR", "SB", "MQ0", "DP4", "MIN_DP", "MED_DP", "VarDP", "AS_VarDP",
        "F1R2", "F2R1", "FAD", "AS_UNIQ_ALT_READ_COUNT",
        "RO", "AO", "SRF", "SRR", "SAF", "SAR", "RPL", "RPR", "DPR", "DPB",
        "FDP", "SDP", "SUBDP", "AU", "CU", "GU", "TU", "DP2", "TAR", "TIR", "TOR", "DP50", "FDP50", "SUBDP50", "DPF", "DPI",
        "RD", "RDF", "RDR", "ADP", "VD", "HICNT", "HICOV", "RC", "RCL", "RCR",
        # sums of qualities over reads or samples
        "QR", "QA", "RAW_MQ", "RAW_MQandDP", "QUALapprox", "AS_QUALapprox", "I16",
        # a cohort's counts of alleles and samples
        "AC", "AN", "MLEAC", "NS",
        # public database numbers: dbSNP's rs, ClinVar's allele ID
        "RS", "ALLELEID",
    }
)  # fmt: skip
"""INFO and FORMAT keys whose Integer or Float values may hold numbers of seven digits or more
on purpose: only these are read by the number grammar alone (``audit_record_values``); every
other numeric key's values are read by the value rule, so ``BIRTH=19900101`` of Type Integer
is an identifier. The same list as vcf-scrub-header's, written apart."""
LARGE_NUMBER_FAMILY = r"(?:^|_)(?:AC|AN|nhomalt|DP)(?:_|$)|_n_(?:smaller|larger)$"
"""Keys of the population databases' families, found in a key (``re.search``): gnomAD's
``AC_afr``, ``controls_AN_nfe``, ``nhomalt_XX``, gnomAD-SV's ``AFR_AC``, ``MIN_DP``, and the
counts of samples past a histogram's edges (``dp_hist_all_n_larger``)."""


# --- record aux tag values ---------------------------------------------------------------------

FLOAT_DIGITS = 9
"""Significant digits (from the first that is not 0) of a float in SAM text: a float32 has no
more (the shortest text that reads back as it, Java's, has at most 9; htslib writes 6), so more
are text no reader keeps (``dv:f:0.9001011234567``)."""
FLOAT_ZEROS = 7
"""Zeros a float in SAM text may be written with before its first significant digit (printf's
``%f``: ``0.000000``); a longer run is padding, whose length can be a number."""
FLOAT_EXPONENT_DIGITS = 2
"""Digits of a float's exponent in SAM text (``1e-05``): a float32 needs no more, and
``1e-19900101`` is 0 to a reader."""


@dataclass(frozen=True)
class AuxValue:
    """What one type of an allowlisted aux tag may hold, as BAM stores it (SAM 1.6, 4.2.4).

    ``type`` is the SAM type letter (``i`` stands for BAM's c, C, s, S, i and I). Integers
    and floats have a range ``low``..``high``: a count of 6 digits or a mapping quality has
    no room for a date, a phone or a registration number. An ``A`` value is one of
    ``characters``; a ``Z`` value is made of ``characters`` only and, where ``pattern`` is
    given, matches it whole. ``tie`` names what the value must agree with beyond its own
    bytes: ``seq`` (as long as SEQ), ``cigar`` (an MD string describing as many reference
    bases as the CIGAR aligns), ``reference`` (an @SQ name, or ``=``), ``alignments``
    (each entry's ``name`` an @SQ name, ``pos`` within it, ``mapq`` at most 255),
    ``read group`` (an @RG ID of the header), ``modified bases`` (``MM``: the bases each
    entry skips and calls lie within SEQ, and a record without SEQ calls none), or a tag
    name: as long as that tag of the same record, given once, with a space exactly where it
    has a ``-`` (barcode qualities). A ``B`` array has one of ``subtypes`` and, where
    ``elements`` is given, only those numbers; tied to a tag name (``ML`` to ``MM``), it holds
    one number for each base modification that tag of the same record, given once, calls;
    tied to ``introns`` (STAR's ``jI``), it is ``-1`` or ascending distinct pairs, each the first
    and last base of a skip (``N``) of the record's CIGAR or of its mate's (``MC``, given once,
    from PNEXT on the record's contig: STAR writes the pair's junctions in both mates); tied to
    ``span`` (``vG``), ascending positions within the record's alignment or its mate's; tied to
    ``junctions`` (STAR's ``jM``), one motif for each junction of the record's valid ``jI`` (its
    first copy), ``-1`` alone for a ``jI`` of ``-1``, and without one ``-1`` alone or at most one
    motif for each skip of the record's CIGAR and its mate's; tied to ``differences`` (minimap2's
    ``cs``) or ``aligned cigar`` (its ``cg``), as many read bases as the record's CIGAR aligns (M, I,
    =, X) and as many reference bases as it spans (M, D, N, =, X); tied to ``vG`` (STAR's ``vA``), one
    allele for each position of the record's ``vG``, given once and passing its own rule."""

    type: str
    low: float = 0
    high: float = 0
    characters: str = ""
    pattern: str | None = None
    tie: str = ""
    subtypes: str = ""
    elements: frozenset[int] = frozenset()
    """The numbers a ``B`` array of one-byte elements may hold (empty: any of its subtype)."""
    digits: int = FLOAT_DIGITS
    """The significant digits an ``f`` value may be written with in SAM text (``FLOAT_DIGITS``, or
    fewer); a BAM holds the float32 alone."""
    longest: int = 0
    """The most bytes a ``Z`` value may have (0: as many as its tie or pattern allow)."""


NUCLEOTIDES = "ACGTUNRYKMSWBDHV"
"""IUPAC nucleotide codes, upper case: what a base of a sequence or a reference may be."""
PRINTABLE_TEXT = "".join(map(chr, range(32, 127)))
QUALITY_TEXT = PRINTABLE_TEXT[1:]
"""Phred + 33 qualities: ``!`` to ``~``."""
DIGIT_TEXT = "0123456789"
CIGAR_OPERATION_TEXT = "MIDNSHPX="
CIGAR_VALUE = r"\*|(?:[0-9]{1,9}[MIDNSHPX=])+"
_ALIGNMENT_NAME = r"(?P<name>[^,;\t\n]+)"
_ALIGNMENT_POS = r"(?P<pos>[0-9]{1,10})"
_ALIGNMENT_MAPQ = r"(?P<mapq>[0-9]{1,3})"
_ALIGNMENT_CIGAR = r"(?P<cigar>(?:[0-9]{1,9}[MIDNSHPX=])+)"
_ALIGNMENT_COUNT = r"[0-9]{1,6}"
_ALIGNMENT_SCORE = r"-?[0-9]{1,6}"
ALIGNMENT_ENTRIES = {
    "SA": _ALIGNMENT_NAME + "," + _ALIGNMENT_POS + ",[+-]," + _ALIGNMENT_CIGAR + "," + _ALIGNMENT_MAPQ + "," + _ALIGNMENT_COUNT,
    "OA": _ALIGNMENT_NAME + "," + _ALIGNMENT_POS + ",[+-],(?:" + _ALIGNMENT_CIGAR + r"|\*)," + _ALIGNMENT_MAPQ + ","
    + "(?:" + _ALIGNMENT_COUNT + ")?",
    "XA": _ALIGNMENT_NAME + ",[+-]" + _ALIGNMENT_POS + "," + _ALIGNMENT_CIGAR + "," + _ALIGNMENT_COUNT,
    "XB": _ALIGNMENT_NAME + ",[+-]" + _ALIGNMENT_POS + "," + _ALIGNMENT_CIGAR + "," + _ALIGNMENT_COUNT + "," + _ALIGNMENT_SCORE + ","
    + _ALIGNMENT_MAPQ,
}
"""One entry of each alignment list (``entry;entry;...;``): SAMtags for SA and OA, bwa's
manual for XA and XB. OA may name ``*`` at position 0: an unmapped original. An entry's NM and
XB's score are counts and scores like ``COUNT``'s, at most 6 digits (``SA:Z:...,60,19900101;``
holds a date); its mapping quality is at most 255."""
_BOTH_CASES = "[" + NUCLEOTIDES + NUCLEOTIDES.lower() + "]"
_DIFFERENCES = (
    r"(?::[0-9]{1,9}|\*" + _BOTH_CASES + "{2}|[-+=]" + _BOTH_CASES + "+|~" + _BOTH_CASES + "{2}[0-9]{1,9}" + _BOTH_CASES + "{2})+"
)
"""minimap2's ``cs`` string: identical runs, substitutions, indels, introns."""
_ENSEMBL_GENE = r"ENS(?:[A-Z]{3,4})?G00000[0-9]{6}(?:\.[0-9]{1,3})?(?:_PAR_Y)?"
"""An Ensembl gene ID: ``ENS``, a species prefix of 3 or 4 letters or none (human's ``ENSG``),
``G``, 11 digits beginning ``00000`` (as every release's: 6 significant digits, as other
numbers; ``ENSG00001990010`` holds a date), a version, ``_PAR_Y``."""


def _integer(low: int, high: int) -> AuxValue:
    return AuxValue("i", low, high)


def _text(characters: str, pattern: str | None = None, tie: str = "", longest: int = 0) -> AuxValue:
    return AuxValue("Z", characters=characters, pattern=pattern, tie=tie, longest=longest)


def _letter(characters: str) -> AuxValue:
    return AuxValue("A", characters=characters)


def _array(subtypes: str = "cCsSiIf", tie: str = "", elements: frozenset[int] = frozenset()) -> AuxValue:
    assert not elements or set(subtypes) <= set("cC")
    return AuxValue("B", subtypes=subtypes, tie=tie, elements=elements)


def _alignments(tag: str) -> AuxValue:
    return _text(PRINTABLE_TEXT, "(?:" + ALIGNMENT_ENTRIES[tag] + ";)+", "alignments")


COUNT = _integer(-999_999, 999_999)
"""A count, a score or a length: at most 6 digits (7 or more is a date, a record number)."""
MAPPING_QUALITY = _integer(0, 255)
POSITION = _integer(0, (1 << 32) - 1)
ANY_INTEGER = _integer(-(1 << 31), (1 << 32) - 1)
FRACTION = AuxValue("f", 0, 1, digits=6)
"""minimap2's divergences: htslib writes 6 significant digits, minimap2 4 decimals; a date of 8
(``de:f:19900101e-8``) has more."""
STRAND = _letter("+-")
CIGAR = _text(DIGIT_TEXT + CIGAR_OPERATION_TEXT + "*", CIGAR_VALUE)
QUALITIES_OF_SEQ = _text(QUALITY_TEXT, tie="seq")
BASES = NUCLEOTIDES + NUCLEOTIDES.lower() + "=."
BARCODE_LONGEST = 32
"""The most bytes a barcode tag (RX, OX, CR, UB, UR; CB before its ``-1``) holds: UMIs have 6 to 12
bases, cell barcodes 16, duplex UMIs and dual sample indexes two of 8 to 10 with a ``-``
(``ACGTACGTAC-TGCATGCATG``, 21). Without a bound such a tag holds a read's own bases (an STR
allele masked in SEQ, a reverted germline allele), which no germline or region rule reads."""
BARCODE_BASES = _text(NUCLEOTIDES + "-", longest=BARCODE_LONGEST)


STAR_MOTIFS = frozenset([-1, 0, 1, 2, 3, 4, 5, 6, 20, 21, 22, 23, 24, 25, 26])
"""``jM``: STAR's intron motif codes (0 to 6, 20 more when the junction is annotated; -1: none)."""


def _barcode_qualities(partner: str) -> AuxValue:
    return _text(QUALITY_TEXT + " ", tie=partner)


# fmt: off
AUX_VALUES: Mapping[str, tuple[AuxValue, ...]] = {
    "AM": (MAPPING_QUALITY,), "AS": (COUNT,), "CP": (POSITION,), "H0": (COUNT,), "H1": (COUNT,), "H2": (COUNT,),
    "HI": (COUNT,), "IH": (COUNT,), "MQ": (MAPPING_QUALITY,), "NH": (COUNT,), "NM": (COUNT,), "SM": (MAPPING_QUALITY,),
    "UQ": (COUNT,), "OP": (POSITION,), "CM": (COUNT,), "FI": (COUNT,), "TC": (COUNT,), "MN": (COUNT,),
    "CC": (_text(PRINTABLE_TEXT, tie="reference"),),
    "MC": (CIGAR,), "OC": (CIGAR,), "cg": (_text(DIGIT_TEXT + CIGAR_OPERATION_TEXT, CIGAR_VALUE, "aligned cigar"),),
    "MD": (_text(DIGIT_TEXT + NUCLEOTIDES + "^", tie="cigar"),),
    "SA": (_alignments("SA"),), "OA": (_alignments("OA"),), "XA": (
        _text(PRINTABLE_TEXT, "(?:" + ALIGNMENT_ENTRIES["XA"] + ";)+|map(?:[1-4]|all|vsw)-[0-9]{1,2}", "alignments"),
    ), "XB": (_alignments("XB"),),
    "TS": (STRAND,),
    "OQ": (QUALITIES_OF_SEQ,), "U2": (QUALITIES_OF_SEQ,), "BQ": (QUALITIES_OF_SEQ,), "BD": (QUALITIES_OF_SEQ,),
    "BI": (QUALITIES_OF_SEQ,),
    "E2": (_text(BASES, tie="seq"),), "R2": (_text(BASES),), "Q2": (_text(QUALITY_TEXT, tie="R2"),),
    "CS": (_text("ACGTN0123.", "[ACGTN][0-3.]*"),), "CQ": (_text(QUALITY_TEXT, tie="CS"),),
    "MM": (_text(PRINTABLE_TEXT, r"(?:[ACGTUN][-+](?:[mhfcgeboan]+|[ACGTUN]|[0-9]{1,7})[.?]?(?:,[0-9]{1,10})*;)*", "modified bases"),),
    "ML": (_array("C", tie="MM"),),
    "MI": (_text(PRINTABLE_TEXT, "(?:[0-9]{1,10}|[A-Za-z])(?:/[A-Za-z0-9])?"), ANY_INTEGER),
    "RX": (BARCODE_BASES,), "QX": (_barcode_qualities("RX"),), "OX": (BARCODE_BASES,), "BZ": (_barcode_qualities("OX"),),
    "CB": (_text(NUCLEOTIDES + "-" + DIGIT_TEXT, "[" + NUCLEOTIDES + f"-]{{0,{BARCODE_LONGEST}}}(?:-[0-9]{{1,3}})?"),),
    "CR": (BARCODE_BASES,), "CY": (_barcode_qualities("CR"),),
    "UB": (BARCODE_BASES,), "UR": (BARCODE_BASES,), "UY": (_barcode_qualities("UR"),),
    "XS": (COUNT, STRAND), "XN": (COUNT,), "XM": (COUNT,), "XO": (COUNT,), "XG": (COUNT,), "X0": (COUNT,), "X1": (COUNT,),
    "XT": (_letter("URNM"),),
    "YS": (COUNT,), "ZS": (COUNT,),
    "YT": (_text("UCDP", "UU|CP|DP|UP"),), "YF": (_text("LNSCQ", "LN|NS|SC|QC"),),
    "tp": (_letter("PSIi"),), "cm": (COUNT,), "s1": (COUNT,), "s2": (COUNT,), "nn": (COUNT,),
    "ts": (STRAND,), "rl": (COUNT,),
    "cs": (_text(PRINTABLE_TEXT, _DIFFERENCES, "differences"),),
    "de": (FRACTION,), "dv": (FRACTION,),
    "nM": (COUNT,), "jM": (_array("c", tie="junctions", elements=STAR_MOTIFS),), "jI": (_array("iI", tie="introns"),),
    "ch": (_letter("1"),),
    "vA": (_array("cC", tie="vG", elements=frozenset({1, 2, 3})),), "vG": (_array("iI", tie="span"),),
    "vW": (COUNT,),
    "GX": (_text(PRINTABLE_TEXT, "-|" + _ENSEMBL_GENE + "(?:;" + _ENSEMBL_GENE + ")*"),),
    "DT": (_text("LBSQ", "LB|SQ"),), "DS": (COUNT,), "DI": (POSITION,),
    "RG": (_text(PRINTABLE_TEXT, tie="read group"),),
}
# fmt: on
"""The value grammars of the allowlisted aux tags (every tag of ``AUX_TAGS`` has an entry): a
type not listed for its tag, or a value off its grammar, is a finding, so a tag that
kept its name but not the scrubbers' checks (``BC`` renamed, ``MQ:i:19900101``,
``XA:Z:`` holding a registration number) is caught without a forbid list. Written from
the SAM tags specification and the tools' manuals, apart from the scrubbers' own
grammars; ``tests/test_allowlists_agree.py`` holds the two to the same answer."""
