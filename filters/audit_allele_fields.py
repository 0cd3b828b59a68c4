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

import numpy as np
from genoscrub import scan
from genoscrub.one_by_one import one_by_one

NEEDLES = [b"ANN", b"EFF", b"CSQ", b"LOF", b"NMD", b"PID", b"PGT"]
"""Every key below holds one of these (``BCSQ`` holds ``CSQ``): the lines of a block without
any of them hold none of the keys."""
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


def lines_to_read(lines: list[bytes], block: bytes, columns: int, csq_allele: int | None) -> set[int] | None:
    """The lines of a block that may hold one of the keys: a superset, found by one search over
    the block (most blocks hold no needle and end there); None: every line, with
    ``GENOSCRUB_ONE_BY_ONE=1``. In an annotated file, where most lines hold a key, the lines
    whose every hit is an ANN (or CSQ, ``Allele`` first) of an SNV naming its ALT in each entry
    are settled in bulk (``settled_hits``)."""
    if one_by_one():
        return None
    if scan.first_of_strings(block, NEEDLES) < 0:
        return set()
    _, hits = scan.find_strings(block, NEEDLES)  # in C, either case: a superset still
    ends = np.cumsum([len(line) + 1 for line in lines])
    rows = np.searchsorted(ends, hits, side="right")
    if len(hits) > len(lines) // 8:
        keys = [b"ANN", b"CSQ"] if csq_allele == 0 else [b"ANN"]
        settled = settled_hits(block, len(lines), columns, hits, keys)
        if settled is not None:
            rows = rows[~settled]
    return set(np.unique(rows).tolist())


def settled_hits(block: bytes, count: int, columns: int, hits: np.ndarray, keys: list[bytes]) -> np.ndarray | None:
    """Which needle ``hits`` are the key of an INFO item (``ANN=``, at an item's start, the
    first of its key) of a record with one-base REF and ALT that differ, each of whose entries
    starts with that ALT as written and a bar: the value's first bytes and the bytes after each
    of its commas, compared with numpy. None: a block the column locator refuses."""
    located = scan.vcf_columns(block, columns, columns - 1)
    if located.problem or located.line_count != count - 1:
        return None
    tabs, starts = located.tabs, located.starts
    if not len(tabs):
        return np.zeros(len(hits), dtype=bool)
    data = np.frombuffer(block, dtype=np.uint8)
    size = len(data)
    ref_start, alt_start = tabs[:, 2] + 1, tabs[:, 3] + 1
    info_start = tabs[:, 6] + 1
    info_end = tabs[:, 7] if columns > 8 else located.ends
    snv = (tabs[:, 3] - ref_start == 1) & (tabs[:, 4] - alt_start == 1)
    snv &= (data[ref_start] | 32) != (data[alt_start] | 32)
    alt = data[alt_start]
    commas = np.flatnonzero(data == ord(","))
    comma_rows = np.searchsorted(starts, commas, side="right") - 1
    after = np.minimum(commas + 1, size - 1), np.minimum(commas + 2, size - 1)
    settled = np.zeros(len(hits), dtype=bool)
    for key in keys:
        found, value_start, value_end = scan.info_values(block, info_start, info_end, key)
        fits = found & snv & (value_end - value_start >= 2)
        at = np.flatnonzero(fits)
        fits[at] = (data[value_start[at]] == alt[at]) & (data[value_start[at] + 1] == ord("|"))
        inside = (comma_rows >= 0) & (comma_rows < len(found))
        row = np.where(inside, comma_rows, 0)
        inside &= found[row] & (commas >= value_start[row]) & (commas < value_end[row])
        off = inside & ((data[after[0]] != alt[row]) | (data[after[1]] != ord("|")) | (commas + 2 >= size))
        fits[row[off]] = False
        settled |= np.isin(hits, (value_start - len(key) - 1)[fits])
    return settled


INFO_NEEDLES = (b"ANN", b"EFF", b"CSQ", b"LOF", b"NMD")


def leading_alleles_own(value: bytes, own: set[bytes]) -> bool:
    """Whether every entry of ``value`` (entries split at commas, fields at bars) starts with an
    allele of ``own`` written as given and a bar, counted with byte searches: an entry starts at
    the value's start and after each comma, and ``,A|`` and ``,AT|`` never match at one comma.
    False leaves the entry-by-entry reading to decide (another case, a missing bar)."""
    if not any(value.startswith(allele + b"|") for allele in own):
        return False
    return value.count(b",") == sum(value.count(b"," + allele + b"|") for allele in own)


class AlleleFields:
    """The check for one file; ``csq_allele`` from its header (``csq_allele_field``)."""

    def __init__(self, csq_allele: int | None) -> None:
        self.csq_allele = csq_allele

    def keys(self, fields: list[bytes]) -> list[str]:
        """The finding keys of one record (its columns split at tabs), each once, in column order."""
        found: list[str] = []
        info = fields[7]
        if any(needle in info for needle in INFO_NEEDLES):
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
        if len(fields) > 8 and (b"PID" in fields[8] or b"PGT" in fields[8]):
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
        if (key == b"ANN" or (key == b"CSQ" and self.csq_allele == 0)) and leading_alleles_own(value, own):
            return False  # most annotated records: settled without a split
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
