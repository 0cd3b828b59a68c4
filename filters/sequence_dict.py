"""A sequence dictionary (``samtools dict``, Picard's CreateSequenceDictionary): each
reference sequence's MD5 by its name, read from a small file instead of hashed from the FASTA.

An ``@SQ M5`` is kept only where it is the MD5 of its sequence (``sam_header.SamHeader.keep_checksums_of``):
32 hexadecimal digits can hold any number. Hashing a human reference costs ~10 CPU s, which a
command run on each part of a BAM cut by chromosome would pay again in every part; the
workflow writes the dictionary once per cohort and gives it to every part (``--dict``).
ARCHITECTURE.md, *Metadata* (reference checksums), says why an M5 is checked at all.
"""

from __future__ import annotations

import re

from genoscrub.report import InputError

MD5 = re.compile(rb"[0-9a-f]{32}")
NAME = re.compile(rb"[!-)+-<>-~][!-~]*")  # SAM 1.6's grammar of a reference name


def read_sequence_dict(path: str) -> dict[str, str]:
    """``{SN: M5}`` of the dictionary's ``@SQ`` lines (lower-case hex). A line that is not a
    header line, an ``@SQ`` without a valid ``SN`` or with an ``M5`` that is not 32 hexadecimal
    digits, and a name given twice are errors: a dictionary the commands misread would keep
    checksums nobody checked. An ``@SQ`` without ``M5`` gives no checksum (its ``M5``s go)."""
    checksums: dict[str, str] = {}
    try:
        with open(path, "rb") as file:
            lines = file.read().splitlines()
    except OSError as error:
        raise InputError(f"cannot read the sequence dictionary ({error.strerror})", path) from None
    seen: set[str] = set()
    for number, line in enumerate(lines, 1):
        if not line.startswith(b"@"):
            raise InputError("a sequence dictionary holds header lines only (make it with samtools dict)", path, number)
        if not line.startswith(b"@SQ\t"):
            continue
        fields = dict(field.split(b":", 1) for field in line.split(b"\t")[1:] if b":" in field)
        name, checksum = fields.get(b"SN", b""), fields.get(b"M5")
        if not NAME.fullmatch(name):
            raise InputError("@SQ without a valid SN", path, number)
        if checksum is not None and not MD5.fullmatch(checksum.lower()):
            raise InputError("@SQ M5 is not 32 hexadecimal digits", path, number)
        text = name.decode("ascii")
        if text in seen:
            raise InputError("@SQ SN given twice", path, number)
        seen.add(text)
        if checksum is not None:
            checksums[text] = checksum.lower().decode("ascii")
    if not seen:
        raise InputError("holds no @SQ line: not a sequence dictionary (make it with samtools dict)", path)
    return checksums
