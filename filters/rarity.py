"""The allele model of a site, and when a record is rare; which records callers mark germline.

A record is judged on every allele it names, REF included, whatever the source of the
frequencies (the record's own INFO key or a population file):

- each ALT allele by its frequency; ``*`` (an allele missing because of an upstream
  deletion, VCF 4.3 1.6.1) and symbolic or breakend alleles only where a frequency is
  given for them; the gVCF placeholders ``<*>`` and ``<NON_REF>`` stand for no
  observed allele and are not judged;
- REF by the frequency a Number=R value (or dbSNP ``CAF``) gives, or else by 1 minus
  the frequencies of all the ALT alleles at the site (every population record at the
  POS, not only the alleles the input names). Where an ALT frequency is unknown,
  1 minus the known ones is still an upper bound: below ``--min-af`` it proves REF rare.

The verdict (``verdict``) is decided before ``--keep-missing`` applies: a known rare
allele makes the record rare even when another frequency is unknown; a record is
"missing" only when nothing is known rare and something is unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from genoscrub.alleles import SEQUENCE_ALLELE

# Frequencies are decimal text; 0.01 written as "0.01" must count as 1 %, and 1 - 0.99 too.
TOLERANCE = 1e-9
KEPT, RARE, MISSING, GERMLINE = "kept", "rare", "missing", "germline"
OUTCOME = np.dtype("<U8")  # an array of the verdicts above

# Kinds of ALT allele (VCF 4.3, 1.6.1 and 5).
SEQUENCE, STAR, PLACEHOLDER, SYMBOLIC = "sequence", "star", "placeholder", "symbolic"
PLACEHOLDERS = frozenset({b"<*>", b"<NON_REF>"})


def allele_kind(allele: bytes) -> str:
    """``sequence`` (bases, any case), ``star``, ``placeholder`` (``<*>``, ``<NON_REF>``), or
    ``symbolic`` (``<DEL>``, breakends, single breakends and anything else)."""
    if SEQUENCE_ALLELE.fullmatch(allele):
        return SEQUENCE
    if allele == b"*":
        return STAR
    if allele in PLACEHOLDERS:
        return PLACEHOLDER
    return SYMBOLIC


def alt_alleles(alt_field: bytes) -> list[bytes]:
    """The ALT alleles of a record (none for ``.``)."""
    return [] if alt_field == b"." else alt_field.split(b",")


@dataclass(frozen=True)
class ReferenceFrequency:
    """What is known of REF's frequency: at most ``bound``; exactly ``bound`` when ``exact``."""

    bound: float
    exact: bool


def reference_frequency(alt_values: list[float | None], kinds: list[str], given: float | None) -> ReferenceFrequency:
    """REF from a Number=R value where given, and from 1 minus the ALT frequencies (the lower of
    the two: fail closed). Unknown ALT frequencies leave an upper bound only, except those of
    placeholders and of ``*`` (whose haplotypes the overlapping deletion's own record holds)."""
    known_sum = sum(value for value in alt_values if value is not None)
    unknown = any(value is None and kind not in (PLACEHOLDER, STAR) for value, kind in zip(alt_values, kinds, strict=True))
    bound = 1.0 - known_sum
    if given is not None:
        return ReferenceFrequency(min(bound, given), True)
    return ReferenceFrequency(bound, not unknown)


def judged(kind: str, value: float | None) -> bool:
    """Whether an ALT allele takes part in the verdict: placeholders never, ``*`` only with a frequency."""
    return kind != PLACEHOLDER and not (kind == STAR and value is None)


def verdict(alt_values: list[float | None], kinds: list[str], reference: ReferenceFrequency, min_af: float) -> str:
    """``kept``, ``rare`` or ``missing`` for one record (see the module)."""
    threshold = min_af - TOLERANCE
    values = [value for value, kind in zip(alt_values, kinds, strict=True) if judged(kind, value)]
    if any(value is not None and value < threshold for value in values) or reference.bound < threshold:
        return RARE
    if any(value is None for value in values) or not reference.exact:
        return MISSING
    return KEPT


# --- germline markers --------------------------------------------------------------------------
#
# How the callers users run mark a germline variant (man/vcf-drop-rare.md, *GERMLINE MARKERS*).
# A marker not listed here is not recognised: the record is judged by its frequency only.

# INFO values: (key, values that mean germline; empty: the key as a flag)
GERMLINE_INFO: tuple[tuple[bytes, frozenset[bytes]], ...] = (
    (b"SAO", frozenset({b"1", b"3"})),  # dbSNP: variant allele origin 1 germline, 3 both (2 somatic)
    (b"SS", frozenset({b"1", b"3"})),  # VarScan 2 somatic: somatic status 1 germline, 3 LOH (a germline allele)
    (b"NT", frozenset({b"het", b"hom"})),  # Strelka2 somatic: the normal's genotype carries the allele
    (b"STATUS", frozenset({b"Germline", b"StrongLOH", b"LikelyLOH"})),  # VarDict(Java) paired mode
    (b"GermlineStatus", frozenset({b"Germline_DB", b"Germline_Proxi"})),  # DRAGEN germline tagging
    (b"GERMLINE", frozenset()),  # a flag (DeepSomatic, custom pipelines)
)
# FILTER values: GATK Mutect2 (germline since 4.1, germline_risk in 4.0), DeepSomatic (GERMLINE).
GERMLINE_FILTERS = frozenset({b"germline", b"germline_risk", b"GERMLINE"})
# A marker is read in any valid spelling of it, as htslib and a study's script read it: a number by
# its value (SAO=01 and SS=+1 are 1), a word and a FILTER value in any case (NT=HET, STATUS=germline,
# FILTER Germline), as a file rewritten by hand or by a tool of a site's own may spell them.
GERMLINE_WORDS = (b"sao=", b"ss=", b"nt=", b"status=", b"germlinestatus=", b"germline")


def _value_pattern(value: bytes) -> bytes:
    """A marker's value as a pattern: digits by their number (a sign and leading zeros allowed)."""
    return rb"\+?0*" + value if value.isdigit() else re.escape(value)


_GERMLINE_INFO = re.compile(
    rb"(?:^|;)(?:"
    + b"|".join(
        re.escape(key) + (b"=(?:" + b"|".join(_value_pattern(value) for value in sorted(values)) + b")" if values else b"")
        for key, values in GERMLINE_INFO
    )
    + rb")(?=;|$)",
    re.IGNORECASE,
)
_GERMLINE_FILTERS = frozenset(value.lower() for value in GERMLINE_FILTERS)


def may_hold_germline_marker(text: bytes) -> bool:
    """False when no record of ``text`` can be marked germline (none of the markers' words appear,
    in any case)."""
    lowered = text.lower()
    return any(word in lowered for word in GERMLINE_WORDS)


def is_germline(filter_field: bytes, info: bytes) -> bool:
    """Whether a record's FILTER or INFO holds one of the germline markers above."""
    return _GERMLINE_INFO.search(info) is not None or not _GERMLINE_FILTERS.isdisjoint(filter_field.lower().split(b";"))
