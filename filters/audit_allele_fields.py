"""String fields of a VCF record that name an allele the record does not carry: the audit's
own reading, apart from vcf-drop-rare's (ARCHITECTURE.md, *The audit*).

A record dropped as rare leaves a trace in a kept one through two kinds of field:

- per-allele annotations, one entry per allele and transcript, each naming its allele:
  SnpEff's ``ANN`` (the entry's first ``|`` field, the ALT as written), its older ``EFF``
  (the eleventh field inside the parentheses, the genotype), VEP's ``CSQ`` (the field the
  header's ``Format:`` list names ``Allele``; VEP drops the first base when every allele of
  the record shares it, and writes ``-`` when nothing is left), bcftools csq's ``BCSQ`` (the
  seventh field, the DNA change ``POS REF>ALT``). ``bcftools norm -m -`` copies the whole field
  to every record it splits a multi-allelic call into, so the common half names the rare half.
  An entry whose allele is not one of the record's own ALTs is a finding
  (``INFO/ANN (another allele)``); so is a CSQ when the header places no ``Allele``. SnpEff's
  ``LOF`` and ``NMD`` name a gene of any allele the annotation saw: a finding unless the record
  holds an ANN or EFF whose every entry is its own;
- GATK's physical phasing: ``FORMAT/PID`` is ``POS_REF_ALT`` of another record, and ``PGT``
  phases the record against it: each is a finding wherever FORMAT names it.

Located by the record's place, never by the value. Most records hold none of these keys: a
block is searched for them once (``lines_to_read``) and only the lines it finds are split.
"""

from __future__ import annotations

import re

import numpy as np
from genoscrub import scan
from genoscrub.one_by_one import one_by_one

NEEDLES = [b"ANN", b"EFF", b"CSQ", b"LOF", b"NMD", b"PID", b"PGT"]
"""Every key below holds one of these (``BCSQ`` holds ``CSQ``): the lines of a block without
any of them hold none of the keys."""
NEEDLE_PATTERN = re.compile(b"|".join(re.escape(needle) for needle in NEEDLES))
ANNOTATION_KEYS = frozenset([b"ANN", b"EFF", b"CSQ", b"BCSQ"])
GENE_KEYS = frozenset([b"LOF", b"NMD"])
PHASING_KEYS = frozenset([b"PID", b"PGT"])
EFF_GENOTYPE = 10  # Effect(Impact|Class|Codon|AA|Length|Gene|Biotype|Coding|Transcript|Rank|Genotype...)
BCSQ_DNA_CHANGE = 6  # Consequence|gene|transcript|biotype|strand|amino_acid_change|dna_change


def csq_allele_field(description: str | None) -> int | None:
    """Where VEP's ``Format: Allele|Consequence|...`` places ``Allele`` (None: not given)."""
    if description is None or "Format:" not in description:
        return None
    names = [name.strip() for name in description.split("Format:", 1)[1].split("|")]
    return names.index("Allele") if "Allele" in names else None


def lines_to_read(lines: list[bytes], block: bytes) -> set[int] | None:
    """The lines of a block that may hold one of the keys: a superset, found by one search over
    the block (most blocks hold no needle and end there); None: every line, with
    ``GENOSCRUB_ONE_BY_ONE=1``."""
    if one_by_one():
        return None
    if scan.first_of_strings(block, NEEDLES) < 0:
        return set()
    ends = np.cumsum([len(line) + 1 for line in lines])
    hits = np.fromiter((found.start() for found in NEEDLE_PATTERN.finditer(block)), dtype=np.int64)
    return set(np.searchsorted(ends, hits, side="right").tolist())


class AlleleFields:
    """The check for one file; ``csq_allele`` from its header (``csq_allele_field``)."""

    def __init__(self, csq_allele: int | None) -> None:
        self.csq_allele = csq_allele

    def keys(self, fields: list[bytes]) -> list[str]:
        """The finding keys of one record (its columns split at tabs), each once, in column order."""
        found: list[str] = []
        info = fields[7]
        if info != b".":
            items = [item.partition(b"=") for item in info.split(b";")]
            alts = [alt.upper() for alt in fields[4].split(b",")]
            own_annotation = False  # an ANN or EFF of the record's own alleles: it vouches for LOF and NMD
            for key, equals, value in items:
                if key in ANNOTATION_KEYS and equals:
                    if self.names_another(key, value, fields[1], fields[3].upper(), alts):
                        found.append(f"INFO/{key.decode()} (another allele)")
                    elif key in (b"ANN", b"EFF"):
                        own_annotation = True
            for key, _, _ in items:
                if key in GENE_KEYS and not own_annotation:
                    found.append(f"INFO/{key.decode()} (another allele)")
        if len(fields) > 8:
            found.extend(f"FORMAT/{key.decode()}" for key in fields[8].split(b":") if key in PHASING_KEYS)
        return list(dict.fromkeys(found))

    def names_another(self, key: bytes, value: bytes, pos: bytes, ref: bytes, alts: list[bytes]) -> bool:
        """Whether an entry of an annotation names an allele other than the record's ALTs."""
        if key == b"BCSQ":
            own = {pos + ref + b">" + alt for alt in alts}
        elif key == b"CSQ":
            if self.csq_allele is None:
                return True  # no Allele field: no entry can be tied to an allele (fail closed)
            own = set(alts)
            if len({allele[:1] for allele in (ref, *alts)}) == 1:  # VEP writes these alleles trimmed
                own = {alt[1:] or b"-" for alt in alts}
        else:
            own = set(alts)
        return any(self.allele(key, entry) not in own for entry in value.split(b","))

    def allele(self, key: bytes, entry: bytes) -> bytes | None:
        """The allele an entry names, in upper case (BCSQ: its DNA change), or None."""
        if key == b"ANN":
            return entry.split(b"|", 1)[0].upper()
        if key == b"EFF":
            opening = entry.find(b"(")
            parts = entry[opening + 1 :].rstrip(b")").split(b"|") if opening >= 0 else []
            return parts[EFF_GENOTYPE].upper() if len(parts) > EFF_GENOTYPE else None
        parts = entry.split(b"|")
        field = BCSQ_DNA_CHANGE if key == b"BCSQ" else self.csq_allele
        return parts[field].upper() if field is not None and field < len(parts) else None
