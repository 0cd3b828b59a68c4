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

import re
from collections.abc import Mapping

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

VERSION = r"[0-9]+(?:\.[0-9]+)*(?:[.+-][0-9A-Za-z]+)*"
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
        "VN": r"1\.[0-9]+",
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
line carries its command line (paths, sample names)."""


# --- record aux tags -------------------------------------------------------------------------

# fmt: off
SAM_STANDARD_TAGS = frozenset({
    "AM", "AS", "BQ", "BZ", "CB", "CC", "CG", "CM", "CP", "CQ", "CR", "CS", "CY", "E2", "FI", "H0", "H1", "H2", "HI", "IH",
    "MC", "MD", "MI", "ML", "MM", "MN", "MQ", "NH", "NM", "OA", "OC", "OP", "OQ", "OX", "Q2", "QX", "R2", "RG", "RX", "SA",
    "SM", "TC", "TS", "U2", "UQ",
})
"""The SAM tags specification's standard tags that carry no free text and name nothing of the
sample's origin. Not here: ``CO`` (comment), ``CT``/``PT`` (annotations), ``PG`` (program),
``LB``/``PU``/``BC``/``QT`` (library, platform unit, sample barcode: the header's identifiers
again), ``FS``/``FZ``/``GC``/``GQ``/``GS``/``SQ``/``RT``/``PQ`` (reserved or obsolete)."""

ALIGNER_TAGS = frozenset({
    "XA", "XS", "XN", "XM", "XO", "XG", "XT", "X0", "X1", "XB",  # bwa (mem and aln)
    "YS", "YF", "YT", "ZS",  # Bowtie2, HISAT2
    "tp", "cm", "s1", "s2", "ms", "nn", "ts", "cg", "cs", "de", "dv", "rl",  # minimap2
    "nM", "jM", "jI", "ch", "vA", "vG", "vW", "GX", "UB", "UR", "UY",  # STAR, STARsolo
    "BD", "BI", "DT", "DI", "DS",  # GATK, Picard
})
# fmt: on
"""Tags the common aligners and tools add (bwa, Bowtie2, minimap2, STAR, GATK/Picard):
scores, counts, positions and flags, no free text. ``GN`` (a gene name, which cannot be told
from a sample name by its letters) is not here; ``GX`` carries the same gene as an ID."""

AUX_TAGS = SAM_STANDARD_TAGS | ALIGNER_TAGS
"""Every aux tag a scrubbed record may carry; any other tag is a finding."""

SEQUENCE_COPYING_TAGS = frozenset(["R2", "E2", "U2", "CS", "cs", "ds", "OA", "OC"])
"""Tags that copy read sequence or an earlier alignment (its CIGAR can hold a germline
indel): with ``--germline`` the audit cannot check them base by base, so they are
findings of the germline class (fail closed)."""

READ_NAME = r"READ[0-9]+|[0-9a-f]{24}|\*"
"""Read names as the scrubbers write them (a counter or a keyed hash; ``*`` is SAM's
"no name"): an instrument, run, flowcell, tile or coordinate in a name is a finding."""

HASHED_NAME_LENGTH = 24
HASHED_NAME_DIGITS = b"0123456789abcdef"
"""A keyed-hash read name, READ_NAME's second form: this many of these digits. The bulk
checks of BAM and FASTQ names read it as arrays by these two values."""

FASTQ_COMMENT = r"[1-4]:[YN]:[0-9]+"
"""What may follow a FASTQ read name after a blank: the Casava read number kept by
fastq-scrub-names (``1:N:0``), never the index sequences."""

# --- VCF header --------------------------------------------------------------------------------

VCF_ID = r"[A-Za-z_][0-9A-Za-z_.]*|1000G"
VCF_NUMBER = r"[0-9]+|[ARG.]"
PERSONAL_IN_TEXT = (
    r"(?<![0-9])(?<!GCA_)(?<!GCF_)[0-9](?:-?[0-9]){6}"  # seven digits or more: an RRN, a phone or record number, a date
    r"|(?:%[0-9A-Fa-f]{2}){2}"  # percent-encoded text that is not ASCII
    r"|&#(?:[0-9]+|[xX][0-9A-Fa-f]+);"  # the same as an HTML character reference
    r"|(?<![0-9])[0-9]{4}[-./][0-9]{1,2}[-./][0-9]{1,2}(?![0-9])"  # a date: 1990-01-01, 1990.1.1
    r"|(?<![0-9])[0-9]{1,2}[-/][0-9]{1,2}[-/][0-9]{2,4}(?![0-9])"  # 01/01/1990, 1-1-90
)
"""What a scrubbed Description never holds (nor text outside printable ASCII): vcf-scrub-header
removes it as personal data. Nor does an INFO, FORMAT, FILTER or symbolic ALT ID of a record."""
_RUN = r"[^\s\"'<>()\[\]{}|;,]"
HOST_SUFFIXES = (
    "com|org|net|edu|gov|mil|int|info|biz|io|ai|cloud|local|lan|internal|intranet|corp|home|localdomain|"
    "kr|jp|cn|uk|de|fr|us|ca|au|ch|nl|se|no|dk|fi|it|es|be|at|sg|tw|hk|nz|ie|il|br|ru|eu|ac"
)
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
    "ALT": {"ID": r"[A-Za-z0-9_.:*-]+", "Description": VCF_DESCRIPTION},
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

VCF_ID_COLUMN = r"\.|(?:rs|COSV|COSM)[0-9]+(?:;(?:rs|COSV|COSM)[0-9]+)*"
"""The ID column keeps public database IDs only; a lab's own variant IDs are findings."""

