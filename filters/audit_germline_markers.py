"""Records a somatic caller marked germline, read by the audit's own copy of the markers.

``vcf-drop-rare --drop-germline`` drops a record whose FILTER or INFO carries the marker a
caller writes on a call it judged germline (man/vcf-drop-rare.md, GERMLINE MARKERS). In a
somatic call set such a call is a germline variant of the person, and one absent from the
population (a private variant, the most identifying kind) passes every other check: only the
caller's own marker tells it from a somatic mutation. ``genoscrub-audit --germline-markers``
finds a delivered record carrying one.

This is the audit's own list and reading, written apart from the scrubber's
(``genoscrub.rarity``); tests/test_allowlists_agree.py holds the two to the same list and the
same answer.
"""

from __future__ import annotations

import re

MARKER_INFO: dict[str, tuple[str, ...]] = {
    "SAO": ("1", "3"),  # dbSNP variant allele origin: 1 germline, 3 germline and somatic
    "SS": ("1", "3"),  # VarScan 2 somatic status: 1 germline, 3 loss of heterozygosity
    "NT": ("het", "hom"),  # Strelka2: the normal's genotype holds the allele
    "STATUS": ("Germline", "StrongLOH", "LikelyLOH"),  # VarDict paired mode
    "GermlineStatus": ("Germline_DB", "Germline_Proxi"),  # DRAGEN germline tagging
    "GERMLINE": (),  # a flag (DeepSomatic, pipelines of a site's own)
}
"""INFO keys and the values that mark a call germline (none: the key is a flag)."""

MARKER_FILTERS = frozenset({"germline", "germline_risk", "GERMLINE"})
"""FILTER values: GATK Mutect2 (``germline``; ``germline_risk`` before 4.1) and DeepSomatic."""

MARKED = "record marked germline by its caller (FILTER or INFO)"
"""The finding's key: names the kind, never the record's values."""

# Read in any valid spelling, as htslib reads a number and a script compares a word: a value of
# digits by its number (``SAO=01``, ``SS=+1``), words and FILTER values in any case (``NT=HET``,
# ``STATUS=germline``, FILTER ``Germline``).
_FILTERS = frozenset(name.lower().encode() for name in MARKER_FILTERS)


def _value(value: str) -> bytes:
    """A marker's value as a pattern: digits by their number (a sign and leading zeros allowed)."""
    return rb"\+?0*" + value.encode() if value.isdigit() else re.escape(value.encode())


_INFO_ITEMS = re.compile(
    rb"(?:^|;)(?:"
    + rb"|".join(
        re.escape(key.encode()) + (rb"=(?:" + rb"|".join(_value(value) for value in values) + rb")" if values else rb"")
        for key, values in MARKER_INFO.items()
    )
    + rb")(?:;|$)",
    re.IGNORECASE,
)
_WORDS = re.compile(rb"germline|loh|(?:sao|ss)=\+?0*[13]|nt=h", re.IGNORECASE)
"""What every marker holds as a record may write it (``germline_risk``, ``NT=het``,
``GermlineStatus=Germline_DB``, ``SAO=01``; tests/test_allowlists_agree.py): a block of records
holding none of them (most blocks of a delivered somatic call set: Strelka2 writes ``NT=ref`` on
every call) is passed over whole, by one search; the records of a block that holds one are read
one by one."""


def may_hold_marker(block: bytes) -> bool:
    """False when no record of ``block`` (records joined by newlines) can carry a marker."""
    return _WORDS.search(block) is not None


def marked_germline(filter_field: bytes, info: bytes) -> bool:
    """Whether a record's FILTER (values separated by ``;``) or INFO carries a germline marker."""
    if not _FILTERS.isdisjoint(filter_field.lower().split(b";")):
        return True
    return info != b"." and _INFO_ITEMS.search(info) is not None
