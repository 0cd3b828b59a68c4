"""Reference bases, only ever looked up through a contig map.

A command names contigs the way its input does (``chr1``) while the reference may
say ``1``; a lookup by the wrong spelling finds nothing, or another contig, and a
filter that silently looks at nothing lets alleles through. So a FASTA is opened
here (:class:`Fasta`) and read only through :class:`ContigReference`, made from
the :class:`~genoscrub.contigs.ContigMap` that the same-genome check built
between the other file and the reference: there is no way to fetch bases by a
name that did not go through that check.

A plain FASTA is memory-mapped and sliced directly (a pyfaidx call per read would
cost more than the revert); a BGZF FASTA goes through pyfaidx itself. Bases come
out uppercase.
"""

from __future__ import annotations

import hashlib
import mmap
import warnings
from collections.abc import Mapping

import numpy as np
from genoscrub.contigs import ContigMap, conventional_names
from genoscrub.report import InputError
from genoscrub.streams import check_bgzf_end

REFERENCE_CUT = "the reference is shorter than its .fai says (cut short, or the .fai is another file's); run samtools faidx on it again"
UPPERCASE = np.frombuffer(bytes(range(256)).upper(), dtype=np.uint8)
MD5_PIECE = 1 << 24
"""Bases read at once while a contig's MD5 is computed (``Fasta.sequence_md5``)."""


class Fasta:
    """An indexed FASTA file (``.fai`` used, or built when missing): its contig lengths."""

    def __init__(self, path: str) -> None:
        import pyfaidx

        self.path = path
        check_bgzf_end(path)  # a BGZF FASTA cut between blocks
        try:
            with warnings.catch_warnings():  # pyfaidx warns of an index older than its FASTA; the sizes below decide
                warnings.simplefilter("ignore")
                self._faidx = pyfaidx.Faidx(path, sequence_always_upper=True, rebuild=False)
        except (OSError, ValueError, pyfaidx.FastaIndexingError) as error:
            raise InputError(f"cannot read the reference: {type(error).__name__}", path) from None
        self._index = self._faidx.index
        self.lengths: dict[str, int | None] = {name: record.rlen for name, record in self._index.items()}
        self._map: mmap.mmap | None = None
        with open(path, "rb") as handle:
            compressed = handle.read(2) == b"\x1f\x8b"
            if not compressed and self.lengths:
                self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
                self._check_index_fits(len(self._map))

    def _check_index_fits(self, size: int) -> None:
        """Every contig's last base within the file: a FASTA cut short (or replaced) beside its
        old ``.fai`` would be read past its end, or off its lines, by the index's offsets."""
        for record in self._index.values():
            if record.lenc <= 0 or record.lenb < record.lenc:
                raise InputError("the reference's .fai does not describe its lines; run samtools faidx on it again", self.path)
            last = record.rlen - 1
            if last >= 0 and record.offset + (last // record.lenc) * record.lenb + last % record.lenc >= size:
                raise InputError(REFERENCE_CUT, self.path)

    def through(self, contig_map: ContigMap) -> ContigReference:
        """The bases, looked up by the names of the file ``contig_map`` was built for."""
        return ContigReference(self, contig_map.to_other)

    def _around(self, name: str, positions: np.ndarray, reach: int) -> np.ndarray:
        """The bases ``reach`` each side of every position (uppercase, 0 past the contig's
        ends): one row of ``2 * reach + 1`` per position, gathered from the memory map
        at once (a plain FASTA), or fetched one by one (BGZF)."""
        record = self._index[name]
        places = positions[:, None] + np.arange(-reach, reach + 1)
        inside = (places >= 0) & (places < record.rlen)
        if self._map is None:
            rows = np.zeros(places.shape, dtype=np.uint8)
            for row, position in enumerate(positions.tolist()):
                bases = self._bases(name, position - reach, position + reach + 1)
                first = max(0, reach - position)
                rows[row, first : first + len(bases)] = np.frombuffer(bases, dtype=np.uint8)
            return rows
        clipped = np.clip(places, 0, max(record.rlen - 1, 0))
        offsets = record.offset + (clipped // record.lenc) * record.lenb + clipped % record.lenc
        data = np.frombuffer(self._map, dtype=np.uint8)
        return np.where(inside, UPPERCASE[data[offsets]], 0).astype(np.uint8)

    def _bases(self, name: str, start: int, end: int) -> bytes:
        """Bases ``[start, end)`` of the FASTA's contig ``name``, clamped to the contig."""
        record = self._index[name]
        start = max(0, start)
        end = min(record.rlen, end)
        if start >= end:
            return b""
        if self._map is None:
            return self._faidx.fetch(name, start + 1, end).seq.encode().upper()
        per_line, line_bytes = record.lenc, record.lenb
        first = record.offset + (start // per_line) * line_bytes + start % per_line
        last = record.offset + ((end - 1) // per_line) * line_bytes + (end - 1) % per_line
        raw = self._map[first : last + 1]
        if line_bytes != per_line:
            raw = raw.replace(b"\n", b"").replace(b"\r", b"")
        return raw.upper()

    def sequence_md5(self, name: str) -> str | None:
        """The MD5 of contig ``name``'s sequence, upper case and without line ends, as ``samtools
        dict`` writes it in ``@SQ M5`` (SAM 1.6, section 1.3), in lower-case hex; None when the
        FASTA has no contig of that name. By the FASTA's own name, not through a contig map: an
        ``M5`` names the sequence of its own ``SN``, which htslib looks up by that name."""
        record = self._index.get(name)
        if record is None:
            return None
        digest = hashlib.md5(usedforsecurity=False)
        for start in range(0, record.rlen, MD5_PIECE):
            digest.update(self._bases(name, start, start + MD5_PIECE))
        return digest.hexdigest()


class ContigReference:
    """Reference bases by another file's contig names (``to_reference``: that file's
    name -> the FASTA's), as :meth:`Fasta.through` makes it from a contig map."""

    def __init__(self, fasta: Fasta, to_reference: Mapping[str, str]) -> None:
        self.fasta = fasta
        self.path = fasta.path
        self.to_reference = dict(to_reference)

    def __contains__(self, name: str) -> bool:
        return name in self.to_reference

    def knows(self, name: str) -> bool:
        """Whether contig ``name`` is mapped; a name the map was not built with (a CHROM no
        ``##contig`` line declares) is looked up by its spellings (``chr1``/``1``) when first asked."""
        if name not in self.to_reference:
            found = next((other for other in (name, *conventional_names(name)) if other in self.fasta.lengths), None)
            if found is None:
                return False
            self.to_reference[name] = found
        return True

    def length(self, name: str) -> int | None:
        """The contig's length in the reference (None for a name the map does not know)."""
        reference_name = self.to_reference.get(name)
        return None if reference_name is None else self.fasta.lengths[reference_name]

    def fetch(self, name: str, start: int, end: int) -> bytes:
        """Bases ``[start, end)`` of contig ``name``, clamped to the contig (KeyError for an unmapped name)."""
        return self.fasta._bases(self.to_reference[name], start, end)

    def around(self, name: str, positions: np.ndarray, reach: int) -> np.ndarray:
        """The bases ``reach`` each side of every position of contig ``name``, one row per
        position (uppercase byte values, 0 past the contig's ends)."""
        return self.fasta._around(self.to_reference[name], positions, reach)

    def fetch_exact(self, name: str, start: int, end: int) -> bytes | None:
        """Bases ``[start, end)``, or None when the name is not mapped or the span passes the contig's end."""
        reference_name = self.to_reference.get(name)
        if reference_name is None:
            return None
        bases = self.fasta._bases(reference_name, start, end)
        return bases if len(bases) == end - start else None
