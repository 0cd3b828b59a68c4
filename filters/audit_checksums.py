"""The audit's own reading of a sequence dictionary (``--dict``, ``samtools dict``): each
reference sequence's length and MD5, against which a delivered ``@SQ M5`` is compared without
hashing the FASTA (~10 CPU s for a human reference in every audit run). Apart from the
scrubber's reader (``sequence_dict``), as every rule of the audit is."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from genoscrub.contigs import ContigMap
from genoscrub.report import InputError

HEX32 = re.compile(r"[0-9a-fA-F]{32}")
REFERENCE_NAME = re.compile(r"[0-9A-Za-z!#$%&+./:;?@^_|~-][0-9A-Za-z!#$%&*+./:;=?@^_|~-]*")  # SAM 1.6, 1.2.1


@dataclass
class SequenceDictionary:
    """``lengths`` and ``checksums`` (lower-case hex) by the dictionary's names."""

    path: str
    lengths: dict[str, int]
    checksums: dict[str, str]

    @classmethod
    def read(cls, path: str) -> SequenceDictionary:
        """Header lines only; every ``@SQ`` with a valid ``SN`` and ``LN``, an ``M5`` (when
        given) of 32 hexadecimal digits, each name once: anything else is an error, named by
        line, never by value."""
        try:
            with open(path, encoding="ascii", errors="strict", newline=None) as file:
                lines = file.read().splitlines()
        except UnicodeDecodeError:
            raise InputError("the sequence dictionary is not ASCII text", path) from None
        except OSError as error:
            raise InputError(f"cannot read the sequence dictionary ({error.strerror})", path) from None
        lengths: dict[str, int] = {}
        checksums: dict[str, str] = {}
        for number, line in enumerate(lines, 1):
            if not line.startswith("@"):
                raise InputError("a sequence dictionary holds header lines only (make it with samtools dict)", path, number)
            columns = line.split("\t")
            if columns[0] != "@SQ":
                continue
            tags = {column[:2]: column[3:] for column in columns[1:] if column[2:3] == ":"}
            name, length, checksum = tags.get("SN", ""), tags.get("LN", ""), tags.get("M5")
            if not REFERENCE_NAME.fullmatch(name):
                raise InputError("@SQ without a valid SN", path, number)
            if not length.isdigit() or not 0 < int(length) < 1 << 31:
                raise InputError("@SQ without a valid LN", path, number)
            if checksum is not None and not HEX32.fullmatch(checksum):
                raise InputError("@SQ M5 is not 32 hexadecimal digits", path, number)
            if name in lengths:
                raise InputError("@SQ SN given twice", path, number)
            lengths[name] = int(length)
            if checksum is not None:
                checksums[name] = checksum.lower()
        if not lengths:
            raise InputError("holds no @SQ line: not a sequence dictionary (make it with samtools dict)", path)
        return cls(path, lengths, checksums)

    def checksums_for(self, references: list[tuple[str, int]]) -> Callable[[str], str | None]:
        """The dictionary's MD5 of each of a header's references, found by any of its spellings
        (``chr1`` in the file, ``1`` in the dictionary: ``contigs.ContigMap``), as ``-r`` finds
        them in the FASTA; None where the dictionary has none, and for every one when the two
        cannot be joined (another build)."""
        try:
            to_dictionary = ContigMap(dict(references), self.lengths, "sequence dictionary", self.path, require_overlap=False).to_other
        except InputError:
            to_dictionary = {}
        return lambda name: self.checksums.get(to_dictionary[name]) if name in to_dictionary else None
