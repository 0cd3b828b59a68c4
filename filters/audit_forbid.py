"""The forbid list: strings that must not occur in any non-sequence field, case-insensitively.

A list holds a delivery's identifiers (sample IDs, names, paths, hosts), one a line. The
audit searches every text field for them: header lines, read names, aux values, VCF IDs
and INFO/FORMAT values; never SEQ, QUAL, REF or a base ALT, where a short string turns
up by chance. Findings name the list's line number, never the string itself.

Speed matters because a BAM's text fields are searched record by record. Text is
gathered in large buffers and each string is looked for with ``bytes.find``; before that,
a string is skipped outright when one of its bytes does not occur in the buffer at all
(one ``memchr`` per byte, most of which stop at once), so a clean file pays for a few
passes, not one per string.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from genoscrub.report import UsageError

MIN_LENGTH = 3
"""Shorter strings occur everywhere by chance; the list refuses them."""

# Bytes looked for first: those least likely in a scrubbed file's text fields, so a clean
# buffer rules a string out with one failed memchr.
_RARE_FIRST = b" /\\~+=,;@#$%&!?'\"()[]{}<>|^`_-.:" + b"zqjxvykwpsuhlbfoinrmedgtca9876543210"


@dataclass(frozen=True)
class ForbiddenString:
    """One entry: its text folded to lower case, and the list line it came from."""

    text: bytes
    line: int
    probes: tuple[bytes, ...]  # its distinct bytes, rarest first


class ForbidList:
    """The strings of a ``--forbid`` file, searched case-insensitively (ASCII letters)."""

    def __init__(self, entries: list[ForbiddenString], path: str) -> None:
        self.entries = entries
        self.path = path

    @classmethod
    def read(cls, path: Path) -> ForbidList:
        try:
            data = path.read_bytes()
        except OSError as error:
            raise UsageError(f"cannot read the forbid list: {error.strerror}") from None
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
        return cls(entries, str(path))

    def search(self, folded: bytes) -> Iterator[tuple[ForbiddenString, int]]:
        """``(entry, offset)`` of every occurrence in ``folded`` (text already lower-cased)."""
        present: dict[bytes, bool] = {}
        for found in self.entries:
            possible = True
            for probe in found.probes:
                known = present.get(probe)
                if known is None:
                    known = present[probe] = folded.find(probe) >= 0
                if not known:
                    possible = False
                    break
            if not possible:
                continue
            text = found.text
            at = folded.find(text)
            while at >= 0:
                yield found, at
                at = folded.find(text, at + 1)

    def search_text(self, text: bytes) -> Iterator[tuple[ForbiddenString, int]]:
        """``search`` on text not yet folded."""
        return self.search(text.lower())


def entry(text: bytes, line: int) -> ForbiddenString:
    folded = text.lower()
    distinct = set(folded)
    order = sorted(distinct, key=lambda byte: _rarity(byte))
    return ForbiddenString(folded, line, tuple(bytes([byte]) for byte in order))


def _rarity(byte: int) -> int:
    position = _RARE_FIRST.find(bytes([byte]))
    return position if position >= 0 else -1  # bytes outside the table (non-ASCII) are the rarest
