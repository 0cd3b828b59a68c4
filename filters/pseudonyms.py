"""One pseudonym scheme for every command (ARCHITECTURE.md).

A sample, library or read-group ID gets the same pseudonym in its FASTQ, BAM and
VCF when the same ``--map`` or ``--key-file`` is given:

- ``--map FILE``: the guideline's table, original -> pseudonym (two-column TSV);
- ``--key-file FILE``: ``S`` + 16 hex digits of HMAC-SHA-256(key, "id:" + original)
  for IDs, 24 hex digits of HMAC-SHA-256(key, "read:" + name) for read names; any
  machine with the key derives the same pseudonym, nobody without it can reverse it;
- neither: names in order of appearance (``SAMPLE1``..., ``READ1``...), which
  cannot be linked back to anyone (anonymization, not pseudonymization).

A read group's ID and library are not the person's: a lane's ID (GATK's
``FLOWCELL.LANE``) or a pool's library is the same for every patient sequenced on it.
Their keyed pseudonym is therefore scoped to the sample (``for_sample_member``): the
hash of ``ID@SAMPLE``, ``SAMPLE`` the sample's own pseudonym, so two patients on one
lane get two pseudonyms, while every part of one BAM (the same header) gets the same.

``--map-out`` appends every pseudonym assigned to a 0600 TSV: the linkage table
the data holder keeps apart from the data.

An ID is text to the map (a UTF-8 TSV) but bytes to the hash and to ``--map-out``:
a name that is not UTF-8 (``for_id_bytes``, or a ``str`` holding the
``surrogateescape`` form of those bytes) is hashed and written as its own bytes,
never an encoding error.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO

from genoscrub.keyed_hash import KeyedHash
from genoscrub.report import InputError, UsageError

ID_COUNTER_PREFIX = "SAMPLE"
READ_COUNTER_PREFIX = b"READ"
ID_KEYED_PREFIX = "S"
SCOPE_SEPARATOR = "@"
"""Between a read group's ID (or library) and its sample's pseudonym, in the original that is
hashed and written to ``--map-out`` (``HK2VMDSXY.2@S3F...``)."""
ID_HASH_DIGITS = 16  # 64 bits: no collision in a million-genome cohort
READ_HASH_DIGITS = 24  # 96 bits: no collision among 10^12 reads
MIN_KEY_BYTES = 16
MIN_TEXT_KEY_CHARACTERS = 32
"""A key of printable ASCII only was typed or chosen, not drawn: it must be this long. ID formats
are public (``S-2026-000123``), so one delivered pseudonym lets a recipient try passphrases and
IDs together: ``SNUH-biobank2026`` and the ID fall in under a second. A hex or base64 key of 16
random bytes or more (32 or 24 characters and up) passes."""
KEY_RECIPE = "(umask 077; head -c 32 /dev/urandom > {path})"
"""Made private from its first byte: ``head ... > key && chmod 600 key`` leaves it readable in between."""
PRIVATE_BITS = stat.S_IRWXG | stat.S_IRWXO


def _check_private(path: Path, what: str) -> None:
    mode = path.stat().st_mode
    if mode & PRIVATE_BITS:
        raise UsageError(f"{what} {path} is readable by group or others; run: chmod 600 {path}")


def read_key(path: Path) -> bytes:
    """The secret key: the file's bytes less white space at either end (a key written with a newline
    is the same key; kept so, as every pseudonym a site has delivered was made so), refused unless
    private, long enough, and, when it is text, long enough to have been drawn rather than typed."""
    try:
        _check_private(path, "key file")
        key = path.read_bytes().strip()
    except OSError as error:
        raise UsageError(f"cannot read key file {path}: {error.strerror}") from None
    recipe = KEY_RECIPE.format(path=path)
    if len(key) < MIN_KEY_BYTES:
        raise UsageError(f"key file {path} holds fewer than {MIN_KEY_BYTES} bytes; make one with: {recipe}")
    if len(key) < MIN_TEXT_KEY_CHARACTERS and all(0x20 <= byte < 0x7F for byte in key):
        raise UsageError(
            f"key file {path} holds text of fewer than {MIN_TEXT_KEY_CHARACTERS} characters, a passphrase a recipient can guess"
            f" with the IDs; make a random key with: {recipe}"
        )
    return key


def read_map(path: Path) -> dict[str, str]:
    """The two-column original -> pseudonym table; errors name the line, not the ID."""
    table: dict[str, str] = {}
    used: set[str] = set()
    lines: dict[str, int] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read map {path}: {getattr(error, 'strerror', None) or 'not UTF-8 text'}") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.rstrip("\r").split("\t")
        if len(fields) != 2 or not fields[0] or not fields[1]:
            raise InputError("map line must be: original<TAB>pseudonym", str(path), number)
        original, pseudonym = fields
        if original in table:
            raise InputError("original listed twice in the map", str(path), number)
        if pseudonym in used:
            raise InputError("pseudonym given to two originals in the map", str(path), number)
        if pseudonym == original:
            raise InputError("pseudonym equals the original", str(path), number)
        if any(c.isspace() for c in pseudonym):
            raise InputError("pseudonym contains white space", str(path), number)
        table[original] = pseudonym
        used.add(pseudonym)
        lines[original] = number
    numbers = {run for original in table for run in digit_runs(original)}
    for original, pseudonym in table.items():
        if any(run in numbers for run in digit_runs(pseudonym)):
            raise InputError(f"pseudonym keeps {KEPT_DIGITS} or more digits of an original in a row", str(path), lines[original])
    return table


KEPT_DIGITS = 5
"""Digits in a row a pseudonym may not share with any original of the map: ``P2301217T`` for
``S2301217T_20231029`` (a prefix swapped, the classic reversible "pseudonym") names the
hospital's number. Five: a date's year and month (``202310``) or a registration number's part."""


def digit_runs(text: str) -> set[str]:
    """Every ``KEPT_DIGITS`` digits in a row in ``text`` (``S2301217`` gives ``23012``, ``30121``, ``01217``)."""
    found: set[str] = set()
    run = ""
    for character in text + " ":
        if character.isascii() and character.isdigit():
            run += character
            continue
        found.update(run[start : start + KEPT_DIGITS] for start in range(len(run) - KEPT_DIGITS + 1))
        run = ""
    return found


class SampleMissing(KeyError):
    """A read group's ID or library to hash has no sample (no ``SM``) to scope it."""


class MapOut:
    """Append-only linkage table, created 0600; refuses an existing public one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as error:
            raise UsageError(f"cannot open map-out {path}: {error.strerror}") from None
        if os.fstat(descriptor).st_mode & PRIVATE_BITS:
            os.close(descriptor)
            raise UsageError(f"map-out {path} is readable by group or others; run: chmod 600 {path}")
        self._file: IO[bytes] = os.fdopen(descriptor, "ab")

    def record(self, original: bytes, pseudonym: bytes) -> None:
        self._file.write(original + b"\t" + pseudonym + b"\n")

    def record_many(self, originals: list[bytes], pseudonyms: list[bytes]) -> None:
        self._file.write(b"".join(map(b"%s\t%s\n".__mod__, zip(originals, pseudonyms, strict=True))))

    def close(self) -> None:
        self._file.close()


class Pseudonyms:
    """Pseudonyms for IDs (sample, library, read group) and for read names."""

    def __init__(
        self, map_path: Path | None = None, key_path: Path | None = None, map_out: Path | None = None, map_out_read_names: bool = True
    ) -> None:
        """``map_out_read_names=False`` keeps read names out of ``map_out`` (the IDs still go in)."""
        self.table = read_map(map_path) if map_path else None
        self._byte_table = {original.encode(): pseudonym.encode() for original, pseudonym in (self.table or {}).items()}
        key = read_key(key_path) if key_path else None
        self._id_hash = KeyedHash(key, b"id:") if key else None
        self._read_hash = KeyedHash(key, b"read:") if key else None
        self.map_out = MapOut(map_out) if map_out else None
        self.map_out_read_names = map_out_read_names
        self._ids: dict[str, str] = {}
        self.reads_counted = 0
        self.assigned = 0

    @property
    def scheme(self) -> str:
        if self.table is not None:
            return "map+key" if self._id_hash else "map"
        return "key" if self._id_hash else "counter"

    def for_id(self, original: str) -> str:
        """The pseudonym of a sample/library/read-group ID; stable within and across runs.

        Raises KeyError when a map is given, no key, and the ID is not in it: the
        caller reports it with its own file and line.
        """
        known = self._ids.get(original)
        if known is not None:
            return known
        raw = original.encode("utf-8", "surrogateescape")
        if self.table is not None and original in self.table:
            pseudonym = self.table[original]
        elif self.table is not None and self._id_hash is None:
            raise KeyError("not in the map")
        elif self._id_hash is not None:
            pseudonym = ID_KEYED_PREFIX + self._id_hash.hexdigest(raw)[:ID_HASH_DIGITS].upper()
        else:
            pseudonym = f"{ID_COUNTER_PREFIX}{len(self._ids) + 1}"
        self._ids[original] = pseudonym
        self.assigned += 1
        if self.map_out:
            self.map_out.record(raw, pseudonym.encode())
        return pseudonym

    def for_sample_member(self, original: str, sample: str | None) -> str:
        """The pseudonym of a read group's ID or library (``original``) of the sample ``sample``
        (its original SM, None when the read group names none).

        With a key it is the keyed pseudonym of ``original@S...`` (the sample's pseudonym), so
        an ID shared by several samples (a lane, a pool) does not link them; a row of the map
        for ``original`` itself is the table author's choice and is used as it is. Without a
        key, numbers (or the map) as ``for_id``: a number carries no link between files.
        Raises KeyError as ``for_id`` does, and ``SampleMissing`` when a key would hash an
        ``original`` that has no sample to scope it (its hash alone would link the samples).
        """
        if self._id_hash is None or (self.table is not None and original in self.table):
            return self.for_id(original)
        if sample is None:
            raise SampleMissing(original)
        return self.for_id(original + SCOPE_SEPARATOR + self.for_id(sample))

    def for_id_bytes(self, original: bytes) -> bytes:
        """``for_id`` for an ID read as bytes (a VCF sample column), whatever its encoding."""
        return self.for_id(original.decode("utf-8", "surrogateescape")).encode()

    @property
    def keyed(self) -> bool:
        """Whether any ID gets a pseudonym (a key is given), not only the originals of a map."""
        return self._id_hash is not None

    def read_names(self, names: list[bytes]) -> list[bytes]:
        """New names for a list of template names, one per entry, in order.

        Counter names advance by one per entry: the caller decides which records
        share a template (mates in a row, a pair in a table). Works on lists so
        that the hot loop stays in C for the counter and map schemes. Raises
        KeyError when a map lacks a name and no key is given.
        """
        if self.table is not None:
            new = self._mapped_read_names(names)
        elif self._read_hash is not None:
            new = self._keyed_read_names(names)
        else:
            start = self.reads_counted + 1
            self.reads_counted += len(names)
            new = list(map(b"READ%d".__mod__, range(start, start + len(names))))
        if self.map_out is not None and self.map_out_read_names:
            self.map_out.record_many(names, new)
        return new

    def _keyed_read_names(self, names: list[bytes]) -> list[bytes]:
        assert self._read_hash is not None
        return self._read_hash.hex_prefixes(names, READ_HASH_DIGITS)

    def _mapped_read_names(self, names: list[bytes]) -> list[bytes]:
        """The map's pseudonym of each name (looked up as text, a name that is not UTF-8
        with its bad bytes replaced), else its keyed hash.

        The map's originals are UTF-8, so a name found as bytes is the name found as text,
        and an ASCII name not found as bytes is not in the map either: only the other
        names are decoded, and the names left are hashed in one call.
        """
        assert self.table is not None
        found: list[bytes | None] = list(map(self._byte_table.get, names))
        if None not in found:
            return found  # type: ignore[return-value]
        ascii_only = b"".join(names).isascii()
        if ascii_only and self._read_hash is not None and found.count(None) == len(found):
            return self._keyed_read_names(names)  # a map of IDs alone (the workflow's): every name hashed, in one call
        missing = [index for index, value in enumerate(found) if value is None]
        for index in [] if ascii_only else missing:
            name = names[index]
            if not name.isascii():
                value = self.table.get(name.decode(errors="replace"))
                found[index] = value.encode() if value is not None else None
        missing = [index for index in missing if found[index] is None]
        if not missing:
            return found  # type: ignore[return-value]
        if self._read_hash is None:
            raise KeyError("read name not in the map")
        for index, hashed in zip(missing, self._keyed_read_names([names[index] for index in missing]), strict=True):
            found[index] = hashed
        return found  # type: ignore[return-value]

    def read_name(self, name: bytes) -> bytes:
        """One template's new name (see ``read_names``)."""
        return self.read_names([name])[0]

    def close(self) -> None:
        if self.map_out:
            self.map_out.close()
