"""The forbid list: strings that must not occur in any non-sequence field, case-insensitively.

A list holds a delivery's identifiers (sample IDs, names, paths, hosts), one a line. The
audit searches every text field for them: header lines, read names, aux values, VCF IDs
and INFO/FORMAT values; never SEQ, QUAL, REF or a base ALT, where a short string turns
up by chance. Findings name the list's line number, never the string itself.

Speed matters because a BAM's text fields are searched record by record. Text is
gathered in large buffers and searched for every string at once (``scan.find_strings``:
one pass in C, whatever the length of the list; its pure twin skips a string outright
when one of its bytes does not occur in the buffer, then looks for it with ``bytes.find``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from genoscrub import scan
from genoscrub.audit_allowlist import HASHED_NAME_DIGITS
from genoscrub.report import UsageError

MIN_LENGTH = 3
"""Shorter strings occur everywhere by chance; the list refuses them."""


@dataclass(frozen=True)
class ForbiddenString:
    """One entry: its text folded to lower case, and the list line it came from."""

    text: bytes
    line: int


class ForbidList:
    """The strings of a ``--forbid`` file, searched case-insensitively (ASCII letters)."""

    def __init__(self, entries: list[ForbiddenString], path: str) -> None:
        self.entries = entries
        self.path = path
        self.texts = [found.text for found in entries]
        self.hex_only = [found for found in entries if not found.text.strip(HASHED_NAME_DIGITS)]
        """The entries that can occur in text of lower-case hex digits only (keyed read names):
        any other holds a byte that such text, folded or not, never has."""

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

    def search(self, text: bytes) -> Iterator[tuple[ForbiddenString, int]]:
        """``(entry, offset)`` of every occurrence in ``text`` (either case), entry by entry in
        list order, each entry's offsets in increasing order."""
        indexes, starts = scan.find_strings(text, self.texts)
        entries = self.entries
        for index, at in zip(indexes.tolist(), starts.tolist(), strict=True):
            yield entries[index], at

    def search_text(self, text: bytes) -> Iterator[tuple[ForbiddenString, int]]:
        """``search``, for callers that name the text as not yet folded (``search`` folds it)."""
        return self.search(text)


def entry(text: bytes, line: int) -> ForbiddenString:
    return ForbiddenString(text.lower(), line)
