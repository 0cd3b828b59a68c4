"""The forbid list: strings that must not occur in any non-sequence field, case-insensitively.

A list holds a delivery's identifiers (sample IDs, names, paths, hosts), one a line. The
audit searches every text field for them: header lines, read names, aux values, VCF IDs
and INFO/FORMAT values; never REF or a base ALT, where a short string turns up by chance.
QUAL is printable text: it is searched for the strings of ``QUALITY_LENGTH`` bytes or more, a
hit a finding only beyond what chance spells there (``in_qualities``, ``beyond_chance``); SEQ only
in the reads holding a base code other than ``ACGTN``, for the strings made of base codes
(``in_sequences``). The BAM audit searches the quality tags (``OQ``...) as QUAL, and leaves out an
MD of plain bases that fits its CIGAR (``audit_bam.quality_fields``, ``plain_edit_strings``), and
the header audit an ``@SQ M5`` that is the reference's (``audit_header.without_reference_checksums``).
Findings name the list's line number, never the string itself.

Speed matters because a BAM's text fields are searched record by record. Text is
gathered in large buffers and searched for every string at once (``scan.find_spread_strings``:
one pass in C, whatever the length of the list; its pure twin takes the separators out of the
buffer, skips a string outright when one of its bytes does not occur there, then looks for it
with ``bytes.find``).

A list read from a file is searched spread: each searched text without its separators
(``SPREAD``: blanks, underscores, dots, colons, slashes, hyphens and the other punctuation a
value holds between words, ``|``, ``~``, ``+``, ``,``...) is found in the text read without them,
so ``KIM:JIHOON``, ``KIM__JIHOON``, ``KIM|JIHOON`` and ``KIMJIHOON`` are each an occurrence of
``KIM JIHOON``. An occurrence that holds separators counts where a spelling has them, or, in a
needle of ``INSERTED_LENGTH`` bytes or more, between two bytes that are not both digits
(``KIM_JIHOON``, ``S_2301217`` for ``KIMJIHOON``, ``S2301217``); a hit holding separators
elsewhere (``1234:5678`` for ``12345678``, which VCF sample columns hold by chance) is dropped.

A listed string of digits only (or a spelling of digits only: ``9001011234567``) is found as a
number of its own, not inside a longer run of digits: ``12301217`` and ``23012170`` are other
numbers than ``2301217``. A genome's records hold every short run of digits somewhere (rsIDs,
INFO/END and FORMAT/PS positions, HGVS positions, fgbio's molecule numbers): a 7-digit sample
number would turn up in one or two of a germline VCF's 4.5 million rsIDs by chance. Nor is it found
as a dbSNP ID (``rs2301217``, the ``rs`` starting a word): dbSNP's first ten million IDs are mostly
common SNPs, so a sample number of 7 digits would name one the person carries in a good share of
germline VCFs. As a number of its own it is found wherever else it is one (``NOTE=2301217``,
``S2301217``); the VCF audit also leaves the values of position keys alone, as it leaves POS
(``audit_vcf.POSITION_KEYS``), and the BAM audit the numbers of counter tags
(``audit_bam.counter_value``). Keyed read names, random hex, are searched at every place and
judged by chance instead (``audit_findings.KeyedNameHits``).

Nor is a listed string of hex digits found inside a keyed sample pseudonym (``KEYED_ID``: ``S``
and 16 upper-case hex digits, a word of its own, in headers, read groups, sample columns and file
names): 16 random hex digits hold a 3-character one with a chance of 14 in 4096, so a folder named
``a01`` on the list would fail ~2 % of samples (about 7 pseudonyms each) by chance, and what a key
makes can hold a listed string no other way. The ID a pseudonym replaced is listed whole
(``S2301217``, not hex only) and still found anywhere.

An entry read from a ``--forbid`` file is also searched in the other spellings systems
write the same value in (``spellings``): separators dropped or changed (``900101-1234567``
as ``9001011234567`` or the VCF list ``900101,1234567``, ``KIM JIHYUN`` as ``KIM_JIHYUN``), and
percent-encoded as a VCF value writes them (``900101%2C1234567``, ``KIM%5FJIHYUN``), a
phone number without its leading 0 (as a number field keeps it), a registration number, date or
mobile number listed without separators given them, percent-encoded (a Hangul name in a
URL or a path), its non-ASCII characters escaped as a C, Python, JSON or HTML writer does
(hexadecimal, octal, ``\\u``, ``&#44608;``), decomposed (macOS file names), and encoded as
Korean Windows systems (CP949) or UTF-16 text write it; a name with its parts in another order
(``other_orders``: ``JIHOON KIM``); reversed, in hexadecimal and in base64 (``encodings``). A
finding of any spelling names the entry's line. VCF text is searched percent-decoded as well
(``audit_header.forbidden_when_decoded``), where it holds an escape of a byte some searched text
has (``ForbidList.escapes``). What is not found: a name romanised otherwise than listed (``Kim
Ji-hyun`` for ``KIM JIHYUN``), a string split over two values (``NOTE=KIMJI;NOTE2=HOON``): the
list holds each form.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

import numpy as np
from genoscrub import scan
from genoscrub.audit_allowlist import HASHED_NAME_DIGITS
from genoscrub.audit_findings import poisson_ceiling
from genoscrub.report import UsageError

MIN_LENGTH = 3
"""Shorter strings occur everywhere by chance; the list refuses them."""
DIGITS = np.zeros(256, dtype=bool)
DIGITS[list(b"0123456789")] = True
KEYED_ID = re.compile(rb"(?<![0-9A-Za-z])S[0-9A-F]{16}(?![0-9A-Za-z])")
"""A keyed sample, library or read-group pseudonym as the scrubbers write it (``SE99D696530A2F91C``)."""
WORD_BYTES = np.zeros(256, dtype=bool)
WORD_BYTES[list(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")] = True


@dataclass(frozen=True)
class ForbiddenString:
    """One entry: its text folded to lower case, and the list line it came from."""

    text: bytes
    line: int


UTF8_BOM = b"\xef\xbb\xbf"
"""The byte-order mark a list saved as UTF-8 by Notepad or Excel starts with."""


class ForbidList:
    """The strings of a ``--forbid`` file, searched case-insensitively (ASCII letters)."""

    def __init__(self, entries: list[ForbiddenString], path: str, other_spellings: bool = False, whole_numbers: bool = True) -> None:
        self.entries = entries
        self.path = path
        self.whole_numbers = whole_numbers
        """Whether a searched text of digits only is found only as a number of its own (``search``)."""
        self.texts = [found.text for found in entries]
        self.owners = list(range(len(entries)))
        """The entry (index) each searched text spells: the entries first, then (``other_spellings``,
        as a ``--forbid`` file is read) their other spellings."""
        seen = set(self.texts)
        for index, found in enumerate(entries if other_spellings else []):
            for text in spellings(found.text):
                if text not in seen:
                    seen.add(text)
                    self.texts.append(text)
                    self.owners.append(index)
        self.needles: list[bytes] = []
        """Each searched text without its separators (``SPREAD``), searched spread, once: the entry
        of the first text that spells it owns it (the entries' own texts come first)."""
        self.needle_owners: list[int] = []
        self.allowed: list[frozenset[int]] = []
        """For each needle, the places (``k``: before its byte ``k``) where the text may hold separators."""
        self.exact_texts: list[bytes] = []
        """Searched texts as written: all of a list without other spellings, and those shorter than
        ``MIN_LENGTH`` without their separators."""
        self.exact_owners: list[int] = []
        numbered: dict[bytes, int] = {}
        listed: list[set[int]] = []
        for text, owner in zip(self.texts, self.owners, strict=True):
            needle, places = without_separators(text)
            if len(needle) < MIN_LENGTH or not other_spellings:
                self.exact_texts.append(text)
                self.exact_owners.append(owner)
                continue
            number = numbered.setdefault(needle, len(self.needles))
            if number == len(self.needles):
                self.needles.append(needle)
                self.needle_owners.append(owner)
                listed.append(set())
            listed[number] |= places
        self.allowed = [frozenset(places | inserted_places(needle)) for needle, places in zip(self.needles, listed, strict=True)]
        self.allowed_masks = [place_mask(len(needle), places) for needle, places in zip(self.needles, self.allowed, strict=True)]
        """``allowed`` as a boolean at each place (0 to the needle's length)."""
        self.needle_lengths = np.array([len(needle) for needle in self.needles], dtype=np.int64)
        self.exact_lengths = np.array([len(text) for text in self.exact_texts], dtype=np.int64)
        self.owner_of = np.array(self.needle_owners + self.exact_owners, dtype=np.int64)
        """The entry of each needle, then of each exact text (the index a hit is counted under)."""
        self.numbers = np.array([text.isdigit() for text in self.needles + self.exact_texts], dtype=bool) & whole_numbers
        """Which needles, then exact texts, are digits only: found as numbers of their own (see the module)."""
        searched = self.needles + self.exact_texts
        self.hex_texts = np.array([not text.lower().strip(HASHED_NAME_DIGITS) for text in searched], dtype=bool) & whole_numbers
        """Which are hex digits only: not found inside a keyed sample pseudonym (see the module)."""

    @functools.cached_property
    def hex_only(self) -> ForbidList | None:
        """The searched texts (entries and their other spellings) that can occur in text of lower-case
        hex digits only (keyed read names), as a list of their own, made once; None when there is
        none. Any other text holds a byte that such text, folded or not, never has. Not the entries
        reversed: a string and its reversal in random hex are two strings of one length, which
        chance finds twice as often as ``KeyedNameHits`` counts on for the list line."""
        reversals = {found.text[::-1] for found in self.entries} - {found.text for found in self.entries}
        found = [
            ForbiddenString(text, self.entries[owner].line) for text, owner in zip(self.texts, self.owners, strict=True)
            if not text.strip(HASHED_NAME_DIGITS) and text not in reversals
        ]  # fmt: skip
        return ForbidList(found, self.path, whole_numbers=False) if found else None

    @functools.cached_property
    def in_qualities(self) -> ForbidList | None:
        """The searched texts of ``QUALITY_LENGTH`` bytes or more, as written (not spread: a
        quality string holds separators as values), as a list of their own for base qualities;
        None when there is none. Their hits are findings beyond chance only (``beyond_chance``)."""
        found = [
            ForbiddenString(text, self.entries[owner].line) for text, owner in zip(self.texts, self.owners, strict=True)
            if len(text) >= QUALITY_LENGTH
        ]  # fmt: skip
        return ForbidList(found, self.path) if found else None

    @functools.cached_property
    def in_sequences(self) -> ForbidList | None:
        """The searched texts made of base codes (``SEQUENCE_LETTERS``) one of which is no ``ACGTN``
        (``kangdahyang``): searched in the bases of reads that hold such a code, where chance puts
        none; None when there is none."""
        found = [
            ForbiddenString(text, self.entries[owner].line) for text, owner in zip(self.texts, self.owners, strict=True)
            if not text.strip(SEQUENCE_LETTERS) and text.strip(b"acgtn")
        ]  # fmt: skip
        return ForbidList(found, self.path) if found else None

    @functools.cached_property
    def escapes(self) -> re.Pattern[bytes]:
        """A percent escape (hex digits in either case) of a byte some searched text holds, in either
        case, or of ``%`` (an escape encoded again): what text must hold for its percent-decoded form
        to show a string its written form does not (VEP's ``%3D`` is none: no text holds ``=``)."""
        wanted = {byte for text in self.texts for byte in text} | {ord("%")} | SPREAD_BYTES
        wanted |= {ord(chr(byte).swapcase()) for byte in wanted if chr(byte).isascii() and chr(byte).isalpha()}
        spelled = sorted({re.sub(rb"[A-F]", lambda digit: b"[%s%s]" % (digit[0], digit[0].lower()), b"%02X" % byte) for byte in wanted})
        return re.compile(b"%(?:" + b"|".join(spelled) + b")")

    @classmethod
    def read(cls, path: Path) -> ForbidList:
        try:
            data = path.read_bytes()
        except OSError as error:
            raise UsageError(f"cannot read the forbid list: {error.strerror}") from None
        data = data.removeprefix(UTF8_BOM)  # Windows editors write it first: else part of the first string, which never matched
        entries = []
        for number, raw in enumerate(data.splitlines(), start=1):
            text = raw.strip()
            if not text:
                continue
            if b"\0" in text:
                raise UsageError(f"forbid list line {number}: holds a NUL byte")
            if len(text) < MIN_LENGTH:
                raise UsageError(f"forbid list line {number}: shorter than {MIN_LENGTH} characters (it would match by chance)")
            entries.append(entry(text, number))
        if not entries:
            raise UsageError("the forbid list holds no string")
        return cls(entries, str(path), other_spellings=True)

    def search(self, text: bytes) -> Iterator[tuple[ForbiddenString, int]]:
        """``(entry, offset)`` of every occurrence in ``text`` (either case), entry by entry in
        list order, each entry's offsets in increasing order. An occurrence may hold separators
        where ``allowed`` says (``KIM:JIHOON``, ``KIM__JIHOON`` for ``KIM JIHOON``; ``KIM_JIHOON``
        for ``KIMJIHOON``): one pass over the text read without them (``scan.find_spread_strings``),
        each hit that holds one checked against its places. Spellings of one entry that overlap
        (``01012345678`` holds ``1012345678``, the same phone number without its 0) are one
        occurrence, at the first one's offset."""
        hits: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # needle (exact texts after the needles), start, end
        if self.needles:
            indexes, starts, ends = scan.find_spread_strings(text, self.needles, SPREAD)
            spread = np.flatnonzero(ends - starts != self.needle_lengths[indexes])
            if len(spread):  # an occurrence holding separators: written as a listed spelling, or at its places
                kept = np.ones(len(indexes), dtype=bool)
                kept[spread] = self.spread_hits_fit(text, indexes[spread], starts[spread], ends[spread])
                indexes, starts, ends = indexes[kept], starts[kept], ends[kept]
            hits.append((indexes, starts, ends))
        if self.exact_texts:
            indexes, starts = scan.find_strings(text, self.exact_texts)
            hits.append((indexes + len(self.needles), starts, starts + self.exact_lengths[indexes]))
        if not hits:
            return
        indexes, starts, ends = (np.concatenate(parts) for parts in zip(*hits, strict=True)) if len(hits) > 1 else hits[0]
        if len(indexes) and self.numbers[indexes].any():
            indexes, starts, ends = self.whole_numbers_only(text, indexes, starts, ends)
        if len(indexes) and self.hex_texts[indexes].any():
            indexes, starts, ends = self.outside_pseudonyms(text, indexes, starts, ends)
        if not len(indexes):
            return
        owners = self.owner_of[indexes]
        order = np.lexsort((indexes, ends, starts, owners))  # by entry, then offset
        entries = self.entries
        last_owner, last_index, last_end = -1, -1, -1
        ordered = zip(owners[order].tolist(), starts[order].tolist(), ends[order].tolist(), indexes[order].tolist(), strict=True)
        for owner, at, end, index in ordered:
            if owner == last_owner and index != last_index and at < last_end:  # another spelling of the same place
                last_end = max(last_end, end)
                continue
            last_owner, last_index, last_end = owner, index, end
            yield entries[owner], at

    def may_occur(self, text: bytes, table: bytes) -> bool:
        """Whether ``search`` may find anything in ``text`` read through ``table`` (256 bytes:
        ``text.translate(table)``), asked without translating it: one C pass over the text for the
        texts searched as written, whose hits are a superset of its own (a list searched spread may
        always), that looks at every few positions only (``scan.any_strings``)."""
        if self.needles:
            return True
        return bool(self.exact_texts) and scan.any_strings(text, self.exact_texts, table)

    def whole_numbers_only(
        self, text: bytes, indexes: np.ndarray, starts: np.ndarray, ends: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The hits less those of a listed number inside a longer run of digits, or that is a dbSNP
        ID's (``rs2301217``, its ``rs`` starting a word) (see the module)."""
        data = np.frombuffer(text, dtype=np.uint8)
        last = len(data) - 1
        before = starts - 1
        glued = (before >= 0) & DIGITS[data[np.maximum(before, 0)]]
        glued |= (ends <= last) & DIGITS[data[np.minimum(ends, last)]]
        rs = starts >= 2
        rs &= ((data[np.maximum(starts - 2, 0)] | 0x20) == ord("r")) & ((data[np.maximum(starts - 1, 0)] | 0x20) == ord("s"))
        rs &= (starts == 2) | ~WORD_BYTES[data[np.maximum(starts - 3, 0)]]
        kept = ~(self.numbers[indexes] & (glued | rs))
        return indexes[kept], starts[kept], ends[kept]

    def outside_pseudonyms(
        self, text: bytes, indexes: np.ndarray, starts: np.ndarray, ends: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The hits less those of a hex string inside a keyed sample pseudonym (``KEYED_ID``: see the module)."""
        tokens = [(found.start(), found.end()) for found in KEYED_ID.finditer(text)]
        if not tokens:
            return indexes, starts, ends
        token_starts, token_ends = (np.array(side, dtype=np.int64) for side in zip(*tokens, strict=True))
        token = np.searchsorted(token_starts, starts, side="right") - 1
        at = np.maximum(token, 0)
        inside = (token >= 0) & (starts > token_starts[at]) & (ends <= token_ends[at])
        kept = ~(self.hex_texts[indexes] & inside)
        return indexes[kept], starts[kept], ends[kept]

    def spread_hits_fit(self, text: bytes, indexes: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Which occurrences holding separators count: those whose separators lie at their needle's
        ``allowed`` places only (``spread_fits``), compared as arrays a needle and a length at a
        time (a raw file has one in every record, written alike)."""
        fits = np.zeros(len(indexes), dtype=bool)
        data = np.frombuffer(text, dtype=np.uint8)
        keys = (indexes << 32) | (ends - starts)
        for key in np.unique(keys).tolist():
            index, length = key >> 32, key & 0xFFFFFFFF
            group = np.flatnonzero(keys == key)
            separator = SEPARATOR_TABLE[data[starts[group][:, None] + np.arange(length)]]
            place = np.cumsum(~separator, axis=1)  # at a separator: the needle's bytes before it
            fits[group] = ~(separator & ~self.allowed_masks[index][place]).any(axis=1)
        return fits

    @functools.cached_property
    def least_number(self) -> int | None:
        """The smallest number as long as the shortest needle of digits only (an integer that holds
        one has at least as many digits); None when no needle is digits only."""
        lengths = [len(needle) for needle in self.needles + self.exact_texts if needle.isdigit()]
        return 10 ** (min(lengths) - 1) if lengths else None

    def search_text(self, text: bytes) -> Iterator[tuple[ForbiddenString, int]]:
        """``search``, for callers that name the text as not yet folded (``search`` folds it)."""
        return self.search(text)


QUALITY_LENGTH = 8
"""The least length of a listed string (or spelling) searched in base qualities: shorter ones are
spelled there by chance, in every lab's binned values (``FFFF:F``)."""
SEQUENCE_LETTERS = b"acgtnumrwsykvhdb"
"""The letters of base codes and FASTQ's ``U`` (lower case, as the list folds text): a name of them (``KANGDAHYANG``)
can be written as a read's bases."""
FOLDED = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")


def beyond_chance(text: bytes, found: list[tuple[ForbiddenString, int]]) -> list[tuple[ForbiddenString, int]]:
    """The hits in ``text`` (base qualities) of the searched texts whose count there chance reaches
    with probability at most ``audit_findings.CHANCE_TAIL``, chance taken from the text's own bytes
    (folded): a string's expected count is the text's length times the product of its bytes'
    shares. Qualities are no random text (old unbinned Illumina runs write long runs of digits, Q15
    to Q24): a listed date found once among them may be chance; a path or name, never."""
    if not found:
        return found
    shares = np.bincount(np.frombuffer(text.translate(FOLDED), dtype=np.uint8), minlength=256) / max(len(text), 1)
    hits = Counter(entry.text for entry, _ in found)
    kept = {text_hit for text_hit, count in hits.items() if count >= poisson_ceiling(len(text) * float(np.prod(shares[list(text_hit)])))}
    return [(entry, at) for entry, at in found if entry.text in kept]


def entry(text: bytes, line: int) -> ForbiddenString:
    return ForbiddenString(text.lower(), line)


SEPARATORS = re.compile(rb"[\s_.:/-]+")
SPREAD = b" \t\x0b\x0c_.:/-|~+,'()*\"[]{}<>!?&"
"""The separators an occurrence may hold between a listed string's bytes: ``SEPARATORS`` but the
line ends, which end a searched field (blanks, underscores, dots, colons, slashes, hyphens), and
the other ASCII punctuation a value can hold between two words: ``|`` (the sub-fields of ANN and
CSQ), ``~``, ``+`` (a blank in a form or URL), ``,``, quotes, brackets, ``*``, ``!``, ``?``, ``&``
(VEP's list). Not ``%``, ``\\``, ``#``, ``;``, ``=``, ``@``: escapes, VCF's own syntax, e-mail."""
SPREAD_BYTES = frozenset(SPREAD)
SEPARATOR_TABLE = np.zeros(256, dtype=bool)
SEPARATOR_TABLE[list(SPREAD)] = True
INSERTED_LENGTH = 6
"""A listed string this long without its separators is also found with separators where it has
none, between two bytes that are not both digits (``KIM_JIHOON``, ``S_2301217`` for ``KIMJIHOON``,
``S2301217``); a shorter one would meet its bytes by chance across separators. Between two digits
only where the string (or a spelling of it, such as a date's 2023-10-29) has a separator: numbers
stand side by side across colons and slashes in every VCF sample column (``0/1:12:99``)."""


def without_separators(text: bytes) -> tuple[bytes, set[int]]:
    """``text`` without its separators (``SPREAD``), and the places between its remaining bytes
    where it had some (``k``: before byte ``k``)."""
    kept = bytearray()
    places = set()
    for byte in text:
        if byte in SPREAD_BYTES:
            places.add(len(kept))
        else:
            kept.append(byte)
    return bytes(kept), {place for place in places if 0 < place < len(kept)}


def inserted_places(needle: bytes) -> set[int]:
    """The places where separators a listed string does not have are found too (``INSERTED_LENGTH``)."""
    if len(needle) < INSERTED_LENGTH:
        return set()
    digits = [chr(byte).isdigit() and byte < 0x80 for byte in needle]
    return {place for place in range(1, len(needle)) if not (digits[place - 1] and digits[place])}


def place_mask(length: int, places: frozenset[int]) -> np.ndarray:
    mask = np.zeros(length + 1, dtype=bool)
    mask[sorted(places)] = True
    return mask


def spread_fits(text: bytes, start: int, end: int, allowed: frozenset[int]) -> bool:
    """Whether the separators of an occurrence ``text[start:end]`` lie at ``allowed`` places only."""
    place = 0
    for byte in text[start:end]:
        if byte in SPREAD_BYTES:
            if place not in allowed:
                return False
        else:
            place += 1
    return True


DIGIT_GROUPS = [
    (re.compile(rb"[0-9]{13}"), (6, 7)),  # a resident registration number, 900101-1234567
    (re.compile(rb"(?:19|20)[0-9]{6}"), (4, 2, 2)),  # a date, 1990-01-01
    (re.compile(rb"01[0-9]{9}"), (3, 4, 4)),  # a mobile number, 010-1234-5678
]
"""A number listed without its separators, and where a Korean system puts them."""
NUMBER_DIGITS = 7
"""A number listed with a leading 0 (a phone number) is also searched without it, when as long as this."""
LISTED_DATE = re.compile(rb"(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])")
MONTH_NAMES = (
    (b"jan", b"january"), (b"feb", b"february"), (b"mar", b"march"), (b"apr", b"april"), (b"may",), (b"jun", b"june"),
    (b"jul", b"july"), (b"aug", b"august"), (b"sep", b"sept", b"september"), (b"oct", b"october"), (b"nov", b"november"),
    (b"dec", b"december"),
)  # fmt: skip


def ordinal(day: bytes) -> bytes:
    """A day of the month as an English ordinal: ``1st``, ``2nd``, ``3rd``, ``11th``, ``22nd``."""
    number = int(day)
    suffix = b"th" if 10 < number % 100 < 14 else {1: b"st", 2: b"nd", 3: b"rd"}.get(number % 10, b"th")
    return b"%d" % number + suffix


def dates_with_month_names(number: bytes) -> set[bytes]:
    """A listed date (``19900101``, ``1990-01-01``: its digits) as LIMS and Oracle exports write it
    with the month's name (lower case, as the search folds text): ``01-jan-1990``, ``1jan1990``,
    ``jan 1, 1990``, ``01-jan-90`` (Oracle's DD-MON-RR), the year first (``1990-jan-01``,
    ``1990jan01``), the day as an ordinal (``1st january 1990``, ``january 1st, 1990``), the
    abbreviation with a period (``dec. 1, 1990``), ``1st of january 1990``, the month first with
    the year's last two digits (``jan-01-90``, ``jan 1st, 90``), each separator a writer puts
    there."""
    if not LISTED_DATE.fullmatch(number):
        return set()
    year, names, day = number[:4], MONTH_NAMES[int(number[4:6]) - 1], number[6:]
    forms: set[bytes] = set()
    for name in names:
        for written_day in {day, day.lstrip(b"0"), ordinal(day)}:
            for separator in (b"-", b" ", b"/", b".", b"_", b"+", b"~", b""):
                forms.add(written_day + separator + name + separator + year)
                forms.add(name + separator + written_day + separator + year)
            forms.add(name + b" " + written_day + b", " + year)
            forms.add(written_day + b" " + name + b", " + year)
            forms.update((name + b". " + written_day + b", " + year, name + b". " + written_day + b" " + year))  # dec. 1, 1990
            forms.update((written_day + b" " + name + b". " + year, written_day + b" of " + name + b" " + year))
            forms.update((written_day + b" of " + name + b", " + year, name + b" " + written_day + b", " + year[2:]))
            forms.update((name + b" " + written_day + b" '" + year[2:], name + b". " + written_day + b", " + year[2:]))
        for written_day in {day, day.lstrip(b"0")}:
            forms.update(written_day + separator + name + separator + year[2:] for separator in (b"-", b" ", b"/", b".", b"+", b"~"))
            forms.update(name + separator + written_day + separator + year[2:] for separator in (b"-", b" ", b"/", b".", b"_", b"+", b"~"))
            forms.update(year + separator + name + separator + written_day for separator in (b"-", b" ", b"/", b".", b"_", b"+", b"~", b""))
    return forms


NAME_PARTS = 4
"""A name of up to this many parts is searched in each order of its parts."""


def other_orders(text: bytes) -> set[bytes]:
    """A name (letters only, in parts) with its parts in each other order, joined by a blank: the
    family name last as it is romanised (``jihoon kim`` for ``kim jihoon``). A name listed in one
    word of ``INSERTED_LENGTH`` ASCII letters or more, whose parts the list does not show, is cut
    at each place that leaves two letters or more on either side (``jihoon kim``, ``oon kimjih``
    for ``kimjihoon``): each such order is a string of the same length, as rare as the name."""
    parts = [part for part in SEPARATORS.split(text) if part]
    if not parts or not all(part.decode("utf-8", "surrogateescape").isalpha() for part in parts):
        return set()
    if 2 <= len(parts) <= NAME_PARTS:
        return {b" ".join(order) for order in itertools.permutations(parts)} - {b" ".join(parts)}
    word = parts[0]
    if len(parts) == 1 and word.isascii() and len(word) >= INSERTED_LENGTH:
        return {word[cut:] + b" " + word[:cut] for cut in range(2, len(word) - 1)}
    return set()


ENCODED_LENGTH = 10
"""The least length of a hexadecimal or base64 spelling searched: a shorter one (``616263`` for
``abc``) is a number or a word any text may hold by chance."""


def encodings(text: bytes) -> set[bytes]:
    """``text`` reversed (unless it is a number with or without separators: no system writes one
    reversed, and a reversed number is one more number that positions and counts hold by chance),
    and as a system that stores it encoded writes it: in hexadecimal and in base64, each of its bytes
    in upper case, lower case and each word's first letter in upper case (the list folds case,
    which the encodings do not), base64 at each of the three places a byte can start at (the
    characters that only ``text``'s bits make: ``S0lNSklIT09O`` for ``KIMJIHOON``, ``tJTUpJSE9PT``
    of ``eEtJTUpJSE9PTg==`` after one byte more). Hex and base64 spellings only of
    ``ENCODED_LENGTH`` characters or more."""
    reversed_text = text[::-1]
    forms = set()
    for cased in {text, text.upper(), text.title()}:
        forms.add(cased.hex().encode())
        for before in range(3):  # the text after 0, 1 or 2 other bytes in the encoded value
            encoded = base64.b64encode(bytes(before) + cased)
            first, last = -(-before * 8 // 6), (before + len(cased)) * 8 // 6
            forms.add(encoded[first:last])
    forms = {form for form in forms if len(form) >= ENCODED_LENGTH}
    if not SEPARATORS.sub(b"", text).isdigit():
        forms.add(reversed_text)
    return forms


ESCAPED_SEPARATOR = re.compile(rb"[\s_.:/,;=-]")
"""Separators a VCF value writes percent-encoded (VCF 4.3, 1.2: ``:;=,`` must be in some places;
a writer may escape any byte), as ``%3A``, ``%2C``, ``%5F``, ``%2D``, ``%20``..."""
MIXED_ESCAPES = 3
"""Up to this many separators in a form, every mix of them plain and escaped is searched; beyond,
all plain or all escaped."""


def escaped_separators(form: bytes) -> set[bytes]:
    """``form`` with its separators percent-encoded (lower case, as the search folds text), each
    mix of plain and escaped when it has few: ``900101%2d1234567``, ``kim%2cjihyun``."""
    places = [found.start() for found in ESCAPED_SEPARATOR.finditer(form)]
    if not places:
        return set()
    mixes = range(1, 1 << len(places)) if len(places) <= MIXED_ESCAPES else [(1 << len(places)) - 1]
    found = set()
    for mix in mixes:
        pieces = []
        last = 0
        for bit, at in enumerate(places):
            if mix >> bit & 1:
                pieces += [form[last:at], b"%%%02x" % form[at]]
                last = at + 1
        pieces.append(form[last:])
        found.add(b"".join(pieces))
    return found


def spellings(text: bytes) -> list[bytes]:
    """Other spellings of one entry's (lower-cased) text that a system may have written: separators
    dropped or replaced (``-``, ``_``, ``.``, ``,`` as a VCF list writes ``900101,1234567``, a blank,
    none), a number listed without separators given those of ``DIGIT_GROUPS``, a number listed with
    a leading 0 without it (``010-1234-5678`` kept as the Integer ``1012345678``), each of these with its
    separators percent-encoded (``escaped_separators``: ``900101%2C1234567``), percent-encoded whole,
    and non-ASCII characters
    escaped (``\\xea``, ``\\352``, ``\\uae40``, ``&#44608;``, ``&#xae40;``). Each at least as long as
    the list's shortest string."""
    forms = {SEPARATORS.sub(separator, text) for separator in (b"", b"_", b"-", b".", b",", b" ")}
    for digits, lengths in DIGIT_GROUPS:
        if digits.fullmatch(text):
            ends = [sum(lengths[: index + 1]) for index in range(len(lengths))]
            groups = [text[end - length : end] for end, length in zip(ends, lengths, strict=True)]
            forms.update(separator.join(groups) for separator in (b"-", b".", b" ", b"_", b"/", b","))
    number = SEPARATORS.sub(b"", text)
    forms.update(dates_with_month_names(number))
    if number.isdigit() and number.startswith(b"0") and len(number.lstrip(b"0")) >= NUMBER_DIGITS:
        forms.add(number.lstrip(b"0"))  # stored as a number, a phone number loses its leading 0
    for separated in [text, *forms]:
        forms.update(escaped_separators(separated))
    forms.add(quote(text, safe="").encode())
    forms.add(quote_plus(text, safe="").encode())
    forms.update(other_orders(text))
    forms.update(encodings(text))
    if any(byte >= 0x80 for byte in text):
        forms.add(b"".join(b"\\x%02x" % byte if byte >= 0x80 else bytes([byte]) for byte in text))
        forms.add(b"".join(b"\\%03o" % byte if byte >= 0x80 else bytes([byte]) for byte in text))
        characters = text.decode("utf-8", "surrogateescape")
        for normal_form in ("NFC", "NFD"):  # macOS writes file names decomposed: Hangul as its letters (jamo)
            forms.add(unicodedata.normalize(normal_form, characters).encode("utf-8", "surrogateescape"))
        for encoding in ("cp949", "utf-16-le", "utf-16-be"):  # Korean Windows systems; UTF-16 text
            with contextlib.suppress(UnicodeError):  # a character the encoding lacks: no such spelling
                forms.add(characters.encode(encoding))
        for form in ("\\u{:04x}", "&#{:d};", "&#x{:x};"):
            escaped = "".join(form.format(ord(c)) if 0x80 <= ord(c) <= 0xFFFF else c for c in characters)
            forms.add(escaped.encode("utf-8", "surrogateescape"))
    forms.discard(text)
    return sorted(form.lower() for form in forms if len(form) >= MIN_LENGTH)
