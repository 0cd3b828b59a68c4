"""Where the audit looks in the genome: germline sites, forensic regions, the reference.

The side files are read with htslib (pysam) and their contig names joined with the
audited file's by ``ContigMap`` (``chr1``/``1``, ``chrM``/``MT``; another build is an
error), so a germline list or a preset written in the other naming still finds what it
must. Both are held as sorted arrays in *global* coordinates (a contig's offset plus the
position) over the audited file's contigs, so a block of reads is tested against all of
them with one ``searchsorted``.

What counts as carrying a germline allele (man page, *GERMLINE ALLELES*):

- SNV and MNP: a read base, aligned or in a soft clip laid out beside the alignment,
  equal to the ALT base at a position where ALT differs from REF;
- insertion, deletion or complex allele: the read's CIGAR writes the indel at one of its
  placements along its repeat, or the read's bases beside the variant fit the ALT
  haplotype better than the REF one (fewer mismatches), read from the anchor base
  rightwards and from the first base after the event leftwards, each side no further
  than the read's next gap outside the allele's stretch (``audit_reads``). An aligner
  shows such an allele as an insertion or deletion in the CIGAR or as a soft clip, so
  only reads whose CIGAR has one near the site are compared this way.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pysam
from genoscrub.audit_containers import CheckedStream, ContainerWatch, compression
from genoscrub.contigs import ContigMap, OtherSpelling
from genoscrub.regions import BUILDS, available_builds, build_contig_lengths, preset_path
from genoscrub.report import InputError, UsageError
from genoscrub.streams import DECOMPRESSION_ERRORS, open_input, reading

BASE_CODES = np.full(256, 15, dtype=np.uint8)
"""BAM's 4-bit base code of an upper-case IUPAC letter (SAM 1.6, section 4.2.3); other letters are N."""
for _code, _letter in enumerate("=ACMGRSVTWYHKDBN"):
    BASE_CODES[ord(_letter)] = _code
    BASE_CODES[ord(_letter.lower())] = _code
BASE_LETTERS = np.frombuffer(b"=ACMGRSVTWYHKDBN", dtype=np.uint8)
N_CODE = 15


CONTIG_SPACING = 1 << 32
"""Contig ``i`` starts at ``i << 32`` on the one line through all contigs: beyond any SAM or
VCF position (2^31), whether or not the file gives contig lengths."""


def global_offsets(count: int) -> np.ndarray:
    return np.arange(count + 1, dtype=np.int64) * CONTIG_SPACING


# --- the reference --------------------------------------------------------------------------


REFERENCE_CUT = "the reference is shorter than its .fai says (cut short, or the .fai is another file's); run samtools faidx on it again"


def index_fits(path: str) -> bool:
    """Whether each contig's last base, where the ``.fai`` places it, lies within a plain FASTA:
    htslib would read a FASTA cut short beside its old index past its end. (BGZF FASTAs are
    placed in decompressed bytes; their blocks are checked as they are read.)"""
    try:
        with open(path, "rb") as handle:
            if handle.read(2) == b"\x1f\x8b":
                return True
            size = os.fstat(handle.fileno()).st_size
        lines = Path(path + ".fai").read_text(errors="replace").splitlines()
    except OSError:
        return True  # htslib made or read the index above; nothing more to hold it to
    for line in lines:
        fields = line.split("\t")
        try:
            length, offset, per_line, line_bytes = (int(field) for field in fields[1:5])
        except ValueError:
            return False
        if length > 0 and (per_line <= 0 or offset + (length - 1) // per_line * line_bytes + (length - 1) % per_line >= size):
            return False
    return True


MD5_PIECE = 1 << 24
"""Bases read at once while a contig's MD5 is computed (``Reference.sequence_md5``)."""


class Reference:
    """The FASTA given with ``-r`` (faidx-indexed by htslib), opened again in each process: a
    worker forked after the parent read from it must not share the parent's file offset
    (htslib seeks, then reads), or two processes reading at once could get each other's bases."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            with pysam.FastaFile(path) as fasta:
                self.lengths = dict(zip(fasta.references, fasta.lengths, strict=True))
        except (OSError, ValueError):
            raise InputError("cannot read the reference (a FASTA file, indexed or indexable by samtools faidx)", path) from None
        if not index_fits(path):
            raise InputError(REFERENCE_CUT, path)
        self._fasta: pysam.FastaFile | None = None
        self.opened_in = 0  # the process that opened ``_fasta``
        self._checksums: dict[str, str] = {}

    def fetch(self, contig: str, start: int, end: int) -> bytes:
        """Upper-case bases of ``[start, end)``, clipped to the contig."""
        if self._fasta is None or self.opened_in != os.getpid():
            self._fasta = pysam.FastaFile(self.path)
            self.opened_in = os.getpid()
        start = max(0, start)
        end = min(end, self.lengths.get(contig, 0))
        if end <= start:
            return b""
        try:
            return self._fasta.fetch(contig, start, end).upper().encode()
        except (OSError, ValueError):  # a BGZF FASTA whose blocks end early
            raise InputError(REFERENCE_CUT, self.path) from None

    def sequence_md5(self, contig: str) -> str:
        """The MD5 of a contig's sequence (the FASTA's name), upper case and without line ends, in
        lower-case hex: what ``samtools dict`` writes as ``@SQ M5`` (SAM 1.6, section 1.3). The
        audit's own reading, apart from the scrubber's; each contig read once, in pieces."""
        if contig not in self._checksums:
            digest = hashlib.md5(usedforsecurity=False)
            for start in range(0, self.lengths[contig], MD5_PIECE):
                digest.update(self.fetch(contig, start, start + MD5_PIECE))
            self._checksums[contig] = digest.hexdigest()
        return self._checksums[contig]

    def __getstate__(self) -> dict[str, object]:
        return {"path": self.path, "lengths": self.lengths, "_fasta": None, "opened_in": 0, "_checksums": {}}


def sequence_checksums(reference: Reference, references: list[tuple[str, int]]) -> Callable[[str], str | None]:
    """The MD5 in ``reference`` of each of a header's references, found by any of its spellings
    (``chr1`` in the file, ``1`` in the FASTA: ``contigs.ContigMap``); None for a reference the
    FASTA lacks, and for every one when the two cannot be joined (another build): an ``@SQ M5``
    that cannot be compared is no MD5 the audit knows."""
    try:
        to_reference = ContigMap(dict(references), dict(reference.lengths), "reference", reference.path, require_overlap=False).to_other
    except InputError:
        to_reference = {}
    return lambda name: reference.sequence_md5(to_reference[name]) if name in to_reference else None


# --- germline sites ----------------------------------------------------------------------------


PROC_FD = "/proc/self/fd"  # where a process reopens its own descriptors by path (Linux)

@dataclass
class Site:
    """One germline record, in the audited file's contig naming."""

    contig: str
    start: int  # 0-based POS
    ref: bytes
    alts: list[bytes]

    @property
    def label(self) -> str:
        return f"{self.contig}:{self.start + 1}"


STRUCTURAL_LIMIT = 1000
"""The longest symbolic ``<DEL>`` or ``<INS>`` held to reads as a deletion or insertion of its
length (``VariantList.sequence_record``): a short read shows such an allele by its gap or its
clip at the breakpoint; the whole REF span of a longer one would make every read inside it a
candidate for the one-by-one path (its repeat's bases fetched for each), so a longer one is held
to reads by the clips over its breakpoints alone (``VariantList.breakpoints``)."""


def structural_kind(allele: bytes) -> bytes:
    """``DEL`` of ``<DEL>`` and ``<DEL:ME:ALU>``, ``INS`` of ``<INS>``; empty for any other allele."""
    if allele.startswith(b"<") and allele.endswith(b">"):
        kind = allele[1:-1].split(b":", 1)[0].upper()
        return kind if kind in (b"DEL", b"INS") else b""
    return b""


def info_value(record: pysam.VariantRecord, key: str) -> object:
    """``record``'s INFO value of ``key`` as htslib reads it, or, where htslib keeps none (an
    ``END`` the header does not declare, which it leaves out of INFO but prints), as the text of
    the record's INFO column gives it; None without one."""
    try:
        if key in record.info:
            return record.info.get(key)
    except (KeyError, ValueError):
        pass
    columns = str(record).rstrip("\n").split("\t")
    for item in columns[7].split(";") if len(columns) > 7 else ():
        name, _, value = item.partition("=")
        if name == key:
            return value
    return None


def structural_lengths(record: pysam.VariantRecord, alts: Sequence[str]) -> dict[bytes, int]:
    """The length of each symbolic ``<DEL>`` (the longer of END, htslib's ``stop``, and |SVLEN|: where
    they disagree its span covers both, as sam-revert-germline windows it) and ``<INS>`` (|SVLEN|)
    ALT of a record that gives one."""
    kinds = {alt.upper().encode(): structural_kind(alt.upper().encode()) for alt in alts}
    if not any(kinds.values()):
        return {}
    given = info_value(record, "SVLEN")
    items = [given] if isinstance(given, int | str) else list(given) if isinstance(given, tuple) else []
    texts = [str(item) for item in items if isinstance(item, int | str)]  # Number=1, Number=A or ., or text
    values = [int(part) for text in texts for part in text.split(",") if part.lstrip("-").isdigit()]
    lengths = {}
    for at, (alt, kind) in enumerate(kinds.items()):
        svlen = abs(values[at] if at < len(values) else values[0]) if values else None
        if kind == b"DEL":
            length = record.stop - record.start - 1 if record.stop > record.start + 1 else None
            if length is None and isinstance(end := info_value(record, "END"), str) and end.isdigit():
                length = int(end) - record.start - 1  # END the header does not declare: htslib keeps it as text
            if svlen is not None and (length is None or svlen > length):
                length = svlen  # END and SVLEN disagreeing: the longer span, over both (VCF 4.4 makes SVLEN the authority)
        elif kind == b"INS":
            length = svlen
        else:
            continue
        if length is not None and length > 0:
            lengths[alt] = length
    return lengths


BREAKPOINT_REACH = 50
"""Bases each side of a structural allele's breakpoint where a clip's edge marks a carrier: a read
across the junction is clipped there, or aligned on past it only as far as the other side's bases
happen to match (a base in 4 by chance); sam-revert-germline windows the same stretch."""
IMPRECISE_REACH = 500
"""The same for an ``IMPRECISE`` record without ``CIPOS``/``CIEND``: its POS and END are estimates."""
BREAKEND_MATE = re.compile(r"[\[\]]([^\[\]]+):([0-9]{1,12})[\[\]]")
"""A breakend's mate place in ALT (``G[chr2:321682[``; VCF 4.3, 5.4)."""
INFO_NUMBER = re.compile(r"-?[0-9]{1,12}")
"""A number of INFO as the breakpoints are read (``--5`` or ``５`` is none: left out)."""
MATE_KEYS = ("POS2", "END2", "MATEPOS")
"""INFO keys naming an SV's other end: a POS on CHR2's contig (the record's own without one), or ``chr:pos``."""


REFERENCE_BLOCKS = frozenset(("<*>", "<NON_REF>", "<X>"))
"""The symbolic ALTs of gVCF reference blocks: no variant, no breakpoint."""

INSERTING_KINDS = frozenset(("INS", "DUP", "MEI", "CNV"))
"""Symbolic ALTs that may add bases the reference lacks (``<INS:ME:ALU>``, ``<DUP:TANDEM>``, a ``<CNV>`` gain)."""
UNMAPPED_MATE_REACH = 1000
"""Bases each side of a germline insertion's REF span (as written) where a record of a pair with an
unmapped mate marks a carrier: a read of the inserted bases has no place on the reference, is
placed at its mate, and the mate lies within about an insert size of the insertion
(``audit_bam.UNMAPPED_PAIR_AT_INSERTION``)."""


def adds_bases(ref: str, alt: str) -> bool:
    """Whether an ALT adds bases the reference lacks: a base allele longer than REF, a symbolic one
    of ``INSERTING_KINDS``, a single breakend (``G.``), a breakend with bases before or after its
    join beyond REF's (``GAAC[chr2:5[``)."""
    if alt.startswith("<"):
        return alt[1:-1].split(":", 1)[0].upper() in INSERTING_KINDS and alt.endswith(">")
    if len(alt) > 1 and (alt[0] == "." or alt[-1] == "."):
        return True
    if "[" in alt or "]" in alt:
        return len(BREAKEND_MATE.sub("", alt)) > len(ref)
    return len(alt) > len(ref) and alt != "*"


def is_structural(allele: str) -> bool:
    """A symbolic ALT (``<DUP>``), a breakend (``G[chr2:5[``) or a single breakend (``G.``, ``.G``)."""
    return allele.startswith("<") or "[" in allele or "]" in allele or (len(allele) > 1 and (allele[0] == "." or allele[-1] == "."))


def structural_breakpoints(line: str) -> list[tuple[str, int, int]]:
    """Where a clip's edge marks a carrier of a record's structural alleles, ``(contig as the list
    names it, start, end)`` 0-based half-open, from the record's text (INFO keys read whether or
    not the header declares them): each breakpoint, a base each side of it, ``BREAKPOINT_REACH``
    more and its confidence interval (CIPOS at POS, CIEND at END and at POS plus ``|SVLEN|``, the
    wider one at a mate's place; ``IMPRECISE_REACH`` for an IMPRECISE record without them). The
    breakpoints: POS; END; POS plus each ``|SVLEN|`` of an allele other than ``<INS>`` (END and
    SVLEN disagreeing: both); a breakend's mate place in ALT; the places INFO names (CHR2 with
    POS2, END2, MATEPOS, or Delly's END). A record without structural ALTs has none."""
    columns = line.rstrip("\n").split("\t")
    if len(columns) < 8:
        return []
    chrom, position = columns[0], int(columns[1]) - 1
    alleles = [allele for allele in columns[4].split(",") if is_structural(allele) and allele.upper() not in REFERENCE_BLOCKS]
    if not alleles:
        return []
    info: dict[str, list[str]] = {}
    for item in columns[7].split(";"):
        key, _, value = item.partition("=")
        info.setdefault(key, []).append(value)

    def numbers_of(key: str) -> list[int]:
        return [abs(int(part)) for value in info.get(key, []) for part in value.split(",") if INFO_NUMBER.fullmatch(part)]

    def interval(key: str) -> int:
        numbers = numbers_of(key)
        return BREAKPOINT_REACH + (max(numbers) if numbers else IMPRECISE_REACH if "IMPRECISE" in info else 0)

    at_start, at_end = interval("CIPOS"), interval("CIEND")

    def around(contig: str, base: int, reach: int) -> tuple[str, int, int]:
        return contig, max(0, base - 1 - reach), base + 2 + reach

    found = [around(chrom, position, at_start)]
    ends = [int(value) - 1 for value in info.get("END", []) if INFO_NUMBER.fullmatch(value)]
    found += [around(chrom, end, at_end) for end in ends if end > position]
    if any(structural_kind(allele.upper().encode()) != b"INS" for allele in alleles):
        found += [around(chrom, position + length, at_end) for length in numbers_of("SVLEN") if length]
    places = [(contig, int(number)) for allele in alleles for contig, number in BREAKEND_MATE.findall(allele) if contig[:1] != "<"]
    others = [value or chrom for value in info.get("CHR2", [])]
    for key in (*MATE_KEYS, *(("END",) if others else ())):
        for value in ",".join(info.get(key, [])).split(","):
            contig, _, number = value.rpartition(":")
            if INFO_NUMBER.fullmatch(number) and contig[:1] != "<":
                places += [(contig, int(number))] if contig else [(other, int(number)) for other in others or [chrom]]
    found += [around(contig, number - 1, max(at_start, at_end)) for contig, number in places if number > 0]
    return found


@dataclass
class VariantList:
    """The records of a VCF as htslib reads them, kept compact: a whole-genome germline list
    holds millions (a contig index and a start per record, the alleles in one buffer)."""

    contigs: dict[str, int | None]  # name -> length, as the header declares (None: not declared)
    names: list[str]
    contig_of: np.ndarray
    starts: np.ndarray
    alleles: bytes  # "REF,ALT,ALT" of every record, upper case, one after the other
    bounds: np.ndarray  # where each record's alleles start in ``alleles`` (and one past the last)
    structural: dict[int, dict[bytes, int]] = field(default_factory=dict)
    """The length of each symbolic ``<DEL>`` and ``<INS>`` of a record (by record, then ALT) that
    gives one (END, SVLEN): ``sequence_record``, ``breakpoints``."""
    infos: dict[int, bytes] = field(default_factory=dict)
    """The INFO column, as htslib prints it, of each record with a symbolic ALT: what it spans
    (END, SVLEN) draws its revert window (``audit_windows``)."""
    structural_breakpoints: list[tuple[str, int, int]] = field(default_factory=list)
    """Where a clip's edge marks a carrier of a structural allele (``structural_breakpoints``),
    by the list's contig names: a breakend's mate's contig may hold no record."""
    insertions: list[int] = field(default_factory=list)
    """The records with an ALT that adds bases (``adds_bases``)."""

    def __len__(self) -> int:
        return len(self.starts)

    def record(self, index: int) -> tuple[str, int, bytes, list[bytes]]:
        """``(contig, 0-based start, REF, ALTs)`` of record ``index``."""
        ref, *alts = self.alleles[int(self.bounds[index]) : int(self.bounds[index + 1])].split(b",")
        return self.names[int(self.contig_of[index])], int(self.starts[index]), ref, [alt for alt in alts if alt]

    def sequence_record(self, index: int) -> tuple[bytes, list[bytes]]:
        """REF and the base ALTs of record ``index`` as alignments are held to them: a symbolic
        ``<DEL>`` of L bases written as the deletion of L bases after POS (REF ``A`` and L ``N``s,
        ALT ``A``), an ``<INS>`` of L bases as L ``N``s inserted after POS (an ``N`` matches any
        read base: ``audit_reads.same_bases``); every other base ALT extended by the bases REF
        gains, so all describe one span. Other symbolic alleles, ``*`` and breakends are left out."""
        _, _, ref, alts = self.record(index)
        lengths = {alt: length for alt, length in self.structural.get(index, {}).items() if length <= STRUCTURAL_LIMIT}
        if not lengths:
            return ref, [alt for alt in alts if is_sequence_allele(alt)]
        deleted = max([length for alt, length in lengths.items() if structural_kind(alt) == b"DEL"], default=0)
        tail = b"N" * max(0, deleted - (len(ref) - 1))
        written = []
        for alt in alts:
            kind = structural_kind(alt)
            length = lengths.get(alt)
            if is_sequence_allele(alt):
                written.append(alt + tail)
            elif length is not None and kind == b"DEL":
                written.append(ref[:1] + (ref + tail)[1 + length :])
            elif length is not None and kind == b"INS":
                written.append(ref[:1] + b"N" * length + ref[1:] + tail)
        return ref + tail, written

    def breakpoints(self, index: int) -> list[tuple[int, int]]:
        """The breakpoints of record ``index``'s symbolic ``<DEL>`` and ``<INS>`` of more than
        ``STRUCTURAL_LIMIT`` bases, each as the two bases it lies between (0-based, half-open):
        POS and the first deleted base, the last deleted base and the one after; POS and the base
        after it for an insertion. A read clipped over one marks a carrier, as at any site."""
        start = int(self.starts[index])
        found = []
        for alt, length in self.structural.get(index, {}).items():
            if length > STRUCTURAL_LIMIT:
                found.append((start, start + 2))
                if structural_kind(alt) == b"DEL":
                    found.append((start + length, start + length + 2))
        return found


def read_variants(path: str, label: str) -> VariantList:
    """Every record of a VCF or BCF, by htslib. A list compressed otherwise than by BGZF
    (plain gzip, zstd, bzip2, xz), which the scrubbers read by content, is decompressed by the
    audit's own reader (``audit_containers.CheckedStream``) into a private temporary file
    first: htslib reads only BGZF (it stops on a plain gzip stream's ``tell``)."""
    if path != "-" and not (os.path.isfile(path) and _htslib_reads(path)):
        with private_copy(path) as plain:
            return _read_variants(plain, path, label)
    return _read_variants(path, path, label)


@contextlib.contextmanager
def private_copy(path: str) -> Iterator[str]:
    """A path to ``path`` decompressed, readable by this process only, removed on leaving.

    The copy is the patient's raw germline VCF. Where Linux's ``/proc/self/fd`` is, it is
    a file without a name (``O_TMPFILE``, or created and unlinked at once: ``TemporaryFile``)
    that htslib opens through that path: nothing is left in ``$TMPDIR`` even when the
    process is SIGKILLed. Elsewhere it is ``list.vcf`` (0600) in a 0700 folder, removed by
    ``cli.run``'s cleanup on an error or SIGTERM (``signals``)."""
    if os.path.isdir(PROC_FD):
        with tempfile.TemporaryFile(prefix="genoscrub-audit-") as unnamed:
            _decompress(path, unnamed)
            unnamed.flush()
            yield os.path.join(PROC_FD, str(unnamed.fileno()))
        return
    with tempfile.TemporaryDirectory(prefix="genoscrub-audit-") as folder:  # mkdtemp: 0700
        plain = os.path.join(folder, "list.vcf")
        with open(os.open(plain, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            _decompress(path, out)
        yield plain


def _htslib_reads(path: str) -> bool:
    """Whether htslib reads the file as it is: uncompressed, or BGZF (a gzip member whose
    extra field holds the ``BC`` subfield, SAM 1.6 section 4.1)."""
    try:
        with open(path, "rb") as stream:
            head = stream.read(18)
    except OSError:
        return True  # htslib says what is wrong
    kind = compression(head)
    if not kind:
        return True
    return kind == "gzip" and len(head) >= 16 and head[3] & 4 != 0 and head[12:14] == b"BC"


def _decompress(path: str, out: BinaryIO) -> None:
    source = CheckedStream(path, ContainerWatch(None))  # the list is not delivered: what its container carries is not a finding
    try:
        while piece := source.read(PIECE):
            out.write(piece)
    finally:
        source.close()


def _read_variants(path: str, label_path: str, label: str) -> VariantList:
    contig_of = array("i")
    starts = array("q")
    bounds = array("q", [0])
    alleles = bytearray()
    names: dict[str, int] = {}
    structural: dict[int, dict[bytes, int]] = {}
    infos: dict[int, bytes] = {}
    breakpoints: list[tuple[str, int, int]] = []
    insertions: list[int] = []
    try:
        with pysam.VariantFile(path) as variants:
            contigs: dict[str, int | None] = {str(name): contig.length for name, contig in variants.header.contigs.items()}
            for record in variants:
                contig = record.contig
                index = names.get(contig)
                if index is None:
                    index = names[contig] = len(names)
                    contigs.setdefault(contig, None)
                contig_of.append(index)
                starts.append(record.start)
                alleles += ",".join([record.ref or "", *(record.alts or ())]).upper().encode()
                bounds.append(len(alleles))
                if record.alts and any(adds_bases(record.ref or "", alt) for alt in record.alts):
                    insertions.append(len(starts) - 1)
                if record.alts and any(alt.startswith("<") for alt in record.alts):
                    if lengths := structural_lengths(record, record.alts):
                        structural[len(starts) - 1] = lengths
                    columns = str(record).rstrip("\n").split("\t", 8)
                    infos[len(starts) - 1] = columns[7].encode() if len(columns) > 7 else b""
                if record.alts and any(is_structural(alt) and alt.upper() not in REFERENCE_BLOCKS for alt in record.alts):
                    for place in structural_breakpoints(str(record)):
                        breakpoints.append(place)
                        contigs.setdefault(place[0], None)  # a mate's contig may hold no record
    except (OSError, ValueError, NotImplementedError):
        raise InputError(f"cannot read the {label} (a VCF or BCF file htslib can parse)", label_path) from None
    return VariantList(
        contigs,
        list(names),
        np.frombuffer(contig_of, dtype=np.int32) if contig_of else np.zeros(0, dtype=np.int32),
        np.frombuffer(starts, dtype=np.int64) if starts else np.zeros(0, dtype=np.int64),
        bytes(alleles),
        np.frombuffer(bounds, dtype=np.int64),
        structural,
        infos,
        breakpoints,
        insertions,
    )


REFERENCE_DISAGREES = (
    "the REF of germline record {record} (from 1) is not the reference's bases at its POS: another build, or not normalised"
)
"""A germline list of another build (no ``##contig`` lengths to tell it) would put every site in
the wrong place: reads carrying the patient's alleles would pass. The check is the audit's own:
a REF base and a reference base agree when their nucleotide codes share a base (BAM's 4-bit
codes are the sets: ``N`` or ``R`` over an ``A`` agrees); a REF past the contig's end does not."""
REFERENCE_PIECE = 1 << 22
"""Reference bases fetched at once while the list's REFs are compared, a stretch of sorted records."""


def check_reference_bases(variants: VariantList, path: str, reference: Reference) -> None:
    """Stop, naming the record, where a REF of the germline list disagrees with the reference
    (``REFERENCE_DISAGREES``). Records on a contig the reference lacks (by every spelling) are
    not compared here: the join with the audited file's contigs judges those, and so are all of
    them where the list's contigs cannot be joined with the reference's (another build, PLINK's
    ``XY``): the join of the file being audited stops on that, with the message every command gives."""
    try:
        to_reference = ContigMap(variants.contigs, dict(reference.lengths), "reference", reference.path, require_overlap=False).to_other
    except InputError:
        return
    data = np.frombuffer(variants.alleles, dtype=np.uint8)
    commas = np.flatnonzero(data == ord(","))
    firsts, nexts = variants.bounds[:-1], variants.bounds[1:]
    ref_ends = np.minimum(commas[np.minimum(np.searchsorted(commas, firsts), len(commas) - 1)] if len(commas) else nexts, nexts)
    ref_ends = np.where(ref_ends < firsts, nexts, ref_ends)  # no comma after a record: its REF is all it holds
    codes = BASE_CODES[data]
    for contig_index, name in enumerate(variants.names):
        on_reference = to_reference.get(name)
        if on_reference is None:
            continue
        rows = np.flatnonzero(variants.contig_of == contig_index)
        rows = rows[np.argsort(variants.starts[rows], kind="stable")]
        starts = variants.starts[rows]
        lengths = ref_ends[rows] - firsts[rows]
        at = 0
        while at < len(rows):
            piece_start = int(starts[at])
            stop = int(np.searchsorted(starts, piece_start + REFERENCE_PIECE, side="left"))
            stop = max(stop, at + 1)
            piece_end = int((starts[at:stop] + lengths[at:stop]).max())
            bases = BASE_CODES[np.frombuffer(reference.fetch(on_reference, piece_start, piece_end), dtype=np.uint8)]
            offsets, piece_rows, piece_lengths = starts[at:stop] - piece_start, rows[at:stop], lengths[at:stop]
            one = piece_lengths == 1  # most records: compared at once
            inside = offsets < len(bases)
            agree = inside & ((bases[np.minimum(offsets, max(len(bases) - 1, 0))] if len(bases) else 0) & codes[firsts[piece_rows]] != 0)
            for index in np.flatnonzero(~one).tolist():
                offset, length, first = int(offsets[index]), int(piece_lengths[index]), int(firsts[piece_rows[index]])
                there = bases[offset : offset + length]
                agree[index] = len(there) == length and bool((there & codes[first : first + length]).all())
            if not agree.all():
                raise InputError(REFERENCE_DISAGREES.format(record=int(piece_rows[int(np.argmin(agree))]) + 1), path)
            at = stop


PIECE = 1 << 22
"""Bytes decompressed at once into the temporary copy of a list htslib cannot read as it is."""


MAX_LENGTH = 1 << 40
"""The length of a contig whose header gives none: no read runs past it."""
RECENT_SITES = 1 << 12
"""How many sites ``GermlineSites.site`` keeps once read (a whole-genome list holds millions)."""


class GermlineSites:
    """Every record of the germline VCF, whatever its FILTER or genotype (fail closed), on the
    audited file's contigs.

    ``snv_*`` arrays hold one entry per ALT base of an SNV or MNP that differs from REF,
    sorted by global position; ``span_*`` the merged intervals any site covers (an
    indel's REF span), ``indel_span_*`` those of the sites with an indel allele, for
    picking the reads that need a closer look. A site's alleles
    are read from the list only when a read needs them (``site``).
    """

    def __init__(self, variants: VariantList, path: str, input_contigs: Mapping[str, int | None], reference: Reference) -> None:
        self.path = path
        self.reference = reference
        self.variants = variants
        names = list(input_contigs)
        self.names = names
        self.contig_index = {name: index for index, name in enumerate(names)}
        self.offsets = global_offsets(len(names))
        self.lengths = np.array([length if length is not None else MAX_LENGTH for length in input_contigs.values()], dtype=np.int64)
        """Each contig's length in the audited file (reads aligned past it: ``audit_bam``)."""
        contig_map = ContigMap(input_contigs, variants.contigs, "germline list", path)
        self.renamed = contig_map.report_note()
        reference_map = ContigMap(input_contigs, dict(reference.lengths), "reference", reference.path)
        self.reference_names = dict(reference_map.to_other)
        to_inputs: dict[str, list[int]] = {}  # every input contig that spells a list contig (chrM and MT both)
        for name, others in contig_map.to_others.items():
            for other in others:
                to_inputs.setdefault(other, []).append(self.contig_index[name])
        list_to_inputs = [to_inputs.get(name, []) for name in variants.names]
        snv_positions: list[int] = []
        snv_codes: list[int] = []
        snv_sites: list[int] = []
        records: list[int] = []
        site_starts: list[int] = []
        site_ends: list[int] = []
        indels: list[bool] = []
        placed = (  # a generator: a whole-genome list holds millions of records
            (record, input_contig, start)
            for record, (list_contig, start) in enumerate(zip(variants.contig_of.tolist(), variants.starts.tolist(), strict=True))
            for input_contig in list_to_inputs[list_contig]
        )
        self.indels_on_reference = True
        """Whether every indel allele's REF ends on its contig of the reference: then a read of
        one match whose bases are the reference's cannot fit an indel's ALT better than its REF
        (``audit_reads.supports_alternate`` compares it with the reference where it lies)."""
        breakpoint_starts: list[int] = []
        breakpoint_ends: list[int] = []
        for record, input_contig, start in placed:
            if record in variants.structural:
                for low, high in variants.breakpoints(record):
                    breakpoint_starts.append(input_contig * CONTIG_SPACING + low)
                    breakpoint_ends.append(input_contig * CONTIG_SPACING + high)
            ref, sequence_alts = variants.sequence_record(record)
            if not sequence_alts:
                continue
            index = len(records)
            records.append(record)
            base = input_contig * CONTIG_SPACING + start
            for alt in sequence_alts:
                if len(alt) == len(ref):
                    for at, (ref_base, alt_base) in enumerate(zip(ref, alt, strict=True)):
                        if ref_base != alt_base:
                            snv_positions.append(base + at)
                            snv_codes.append(int(BASE_CODES[alt_base]))
                            snv_sites.append(index)
            indels.append(any(len(alt) != len(ref) for alt in sequence_alts))
            if indels[-1]:
                on_reference = self.reference_names.get(names[input_contig])
                if on_reference is None or start + len(ref) > reference.lengths.get(on_reference, 0):
                    self.indels_on_reference = False
            site_starts.append(base)
            site_ends.append(base + max(len(ref), 1) + (1 if any(len(alt) > len(ref) for alt in sequence_alts) else 0))
        order = np.argsort(np.asarray(snv_positions, dtype=np.int64), kind="stable")
        self.snv_positions = np.asarray(snv_positions, dtype=np.int64)[order]
        self.snv_codes = np.asarray(snv_codes, dtype=np.uint8)[order]
        self.snv_sites = np.asarray(snv_sites, dtype=np.int64)[order]
        starts, ends = np.asarray(site_starts, dtype=np.int64), np.asarray(site_ends, dtype=np.int64)
        self.span_starts, self.span_ends = merged_intervals(starts, ends)
        for contig, low, high in variants.structural_breakpoints:
            for input_contig in to_inputs.get(contig, []):
                breakpoint_starts.append(input_contig * CONTIG_SPACING + low)
                breakpoint_ends.append(input_contig * CONTIG_SPACING + high)
        self.clip_starts, self.clip_ends = merged_intervals(
            np.concatenate([starts, np.asarray(breakpoint_starts, dtype=np.int64)]),
            np.concatenate([ends, np.asarray(breakpoint_ends, dtype=np.int64)]),
        )
        """Where a clip marks a carrier (``audit_bam.clips_at_sites``): the sites' spans, the
        breakpoints of the symbolic alleles too long to be held to reads as sites, and every
        structural allele's breakpoints with their reach (``structural_breakpoints``)."""
        self.records = np.asarray(records, dtype=np.int64)
        self.global_starts = starts
        self.global_ends = ends
        self.site_order = np.argsort(starts, kind="stable")
        self.site_starts = starts[self.site_order]
        self.site_ends = ends[self.site_order]
        self.is_indel = np.asarray(indels, dtype=bool)
        self.indel_span_starts, self.indel_span_ends = merged_intervals(starts[self.is_indel], ends[self.is_indel])
        self.split_starts, self.split_ends = merged_intervals(
            np.concatenate([starts[self.is_indel], np.asarray(breakpoint_starts, dtype=np.int64)]),
            np.concatenate([ends[self.is_indel], np.asarray(breakpoint_ends, dtype=np.int64)]),
        )
        """Where an aligner may split a carrier's read (``audit_split_reads``): the spans of the
        sites with an allele that changes the length, and every structural allele's breakpoints."""
        self.longest_site = int((ends - starts).max()) if len(starts) else 1
        self.recent_sites: dict[int, Site] = {}
        """The sites ``site`` read last, by index (read-only once made: callers share them)."""
        insertion_starts: list[int] = []
        insertion_ends: list[int] = []
        for record in variants.insertions:
            _, start, ref, _ = variants.record(record)
            for input_contig in list_to_inputs[int(variants.contig_of[record])]:
                insertion_starts.append(input_contig * CONTIG_SPACING + max(0, start - UNMAPPED_MATE_REACH))
                insertion_ends.append(input_contig * CONTIG_SPACING + start + len(ref) + UNMAPPED_MATE_REACH)
        self.insertion_starts, self.insertion_ends = merged_intervals(
            np.asarray(insertion_starts, dtype=np.int64), np.asarray(insertion_ends, dtype=np.int64)
        )
        """Where a record of a pair with an unmapped mate marks a carrier of an insertion
        (``UNMAPPED_MATE_REACH`` each side of its REF span), global as the sites' spans."""

    def __len__(self) -> int:
        return len(self.records)

    def site(self, index: int) -> Site:
        """Site ``index`` with its base alleles, in the audited file's contig naming. Read from the
        list once while it is among the last ``RECENT_SITES`` asked for: the reads of a sorted file
        ask for the same few sites one after another (every read over an indel, each of its checks)."""
        found = self.recent_sites.get(index)
        if found is None:
            if len(self.recent_sites) >= RECENT_SITES:
                self.recent_sites.clear()
            record = int(self.records[index])
            ref, alts = self.variants.sequence_record(record)
            contig = self.names[int(self.global_starts[index]) // CONTIG_SPACING]
            found = self.recent_sites[index] = Site(contig, int(self.variants.starts[record]), ref, alts)
        return found

    def label(self, index: int) -> str:
        """``chr1:1234``: where site ``index`` is, for a finding."""
        start = int(self.global_starts[index])
        return f"{self.names[start // CONTIG_SPACING]}:{start % CONTIG_SPACING + 1}"

    def sites_between(self, global_start: int, global_end: int) -> list[int]:
        """Indices of the sites whose span overlaps ``[global_start, global_end)``."""
        # ``bisect`` over the arrays as memoryviews (no copy, a whole-genome list holds millions)
        # is several times cheaper than ``numpy.searchsorted`` on one number.
        site_starts, site_ends, site_order = self.site_starts.data, self.site_ends.data, self.site_order.data
        low = bisect_left(site_starts, global_start - self.longest_site)
        high = bisect_left(site_starts, global_end)
        return [site_order[at] for at in range(low, high) if site_ends[at] > global_start]


def is_sequence_allele(allele: bytes) -> bool:
    """A base allele (not ``<DEL>``, ``*``, ``.`` or a breakend)."""
    return bool(allele) and allele.isalpha() and allele != b"N" * len(allele)


def merged_intervals(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted, non-overlapping intervals covering the given ones (half-open)."""
    if not len(starts):
        return starts, ends
    order = np.argsort(starts, kind="stable")
    starts, ends = starts[order], ends[order]
    running_end = np.maximum.accumulate(ends)
    new_group = np.ones(len(starts), dtype=bool)
    new_group[1:] = starts[1:] > running_end[:-1]
    group = np.cumsum(new_group) - 1
    merged_starts = starts[new_group]
    merged_ends = np.zeros(len(merged_starts), dtype=np.int64)
    np.maximum.at(merged_ends, group, ends)
    return merged_starts, merged_ends


# --- forensic regions -----------------------------------------------------------------------


@dataclass
class Region:
    contig: str  # the audited file's naming
    start: int
    end: int
    name: str

    @property
    def label(self) -> str:
        return f"{self.contig}:{self.start + 1}-{self.end}"


class RegionList:
    """``--bed`` files and ``--preset`` lists, joined with the audited file's contigs.

    A preset's build is the one whose contig lengths the file's header agrees with
    (``--build auto``); a file without lengths needs ``--build``.
    """

    def __init__(
        self, beds: Sequence[str], presets: Sequence[str], build: str, flank: int, input_contigs: Mapping[str, int | None] | None
    ) -> None:
        raw: list[tuple[str, int, int, str]] = []
        lengths: dict[str, int | None] = {}
        for bed in beds:
            for row in read_bed(bed):
                raw.append(row)
                lengths.setdefault(row[0], None)
        self.build = None
        if presets:
            self.build = choose_build(presets, build, input_contigs or {})
            known = build_contig_lengths(self.build)
            for preset in presets:
                for row in read_bed(str(preset_path(preset, self.build))):
                    raw.append(row)
                    lengths[row[0]] = known.get(row[0])
        if input_contigs is None:  # a file that names no contigs up front: the list's own names
            input_contigs = dict.fromkeys(lengths)
        names = list(input_contigs)
        self.contig_index = {name: index for index, name in enumerate(names)}
        self.offsets = global_offsets(len(names))
        where = ", ".join([*beds, *(f"preset {name}" for name in presets)])
        contig_map = ContigMap(input_contigs, lengths, "region list", where)
        to_inputs: dict[str, list[str]] = {}  # every input contig that spells a list contig (chrM and MT both)
        for input_name, others in contig_map.to_others.items():
            for other in others:
                to_inputs.setdefault(other, []).append(input_name)
        self.renamed = contig_map.report_note()
        self.regions: list[Region] = []
        for contig, start, end, name in raw:
            for input_name in to_inputs.get(contig, []):
                self.regions.append(Region(input_name, max(0, start - flank), end + flank, name))
        bases = [int(self.offsets[self.contig_index[region.contig]]) for region in self.regions]
        self.starts = np.asarray([base + region.start for base, region in zip(bases, self.regions, strict=True)], dtype=np.int64)
        self.ends = np.asarray([base + region.end for base, region in zip(bases, self.regions, strict=True)], dtype=np.int64)
        self.order = np.argsort(self.starts, kind="stable")
        self.sorted_starts = self.starts[self.order]
        self.merged_starts, self.merged_ends = merged_intervals(self.starts, self.ends)
        self.longest = int((self.ends - self.starts).max()) if len(self.regions) else 0

    def regions_between(self, global_start: int, global_end: int) -> list[Region]:
        sorted_starts, order = self.sorted_starts.data, self.order.data  # as in ``GermlineSites.sites_between``
        starts, ends = self.starts.data, self.ends.data
        low = bisect_left(sorted_starts, global_start - self.longest)
        high = bisect_left(sorted_starts, global_end)
        return [self.regions[index] for index in order[low:high] if ends[index] > global_start and starts[index] < global_end]


def choose_build(presets: Sequence[str], build: str, input_contigs: Mapping[str, int | None]) -> str:
    """The build of the presets: the one asked for, or the one the file's contig lengths agree with."""
    candidates = list(BUILDS) if build == "auto" else [build]
    if build != "auto" and build not in BUILDS:
        raise UsageError(f"unknown build {build!r}; choose from auto, {', '.join(BUILDS)}")
    fitting = []
    first_error: InputError | None = None
    for candidate in candidates:
        if not all(candidate in available_builds(preset) for preset in presets):
            continue
        try:
            ContigMap(input_contigs, dict(build_contig_lengths(candidate)), f"{candidate} preset", "presets")
        except InputError as error:
            first_error = error if isinstance(error, OtherSpelling) and not isinstance(first_error, OtherSpelling) else first_error or error
            continue
        fitting.append(candidate)
    if not fitting:
        if first_error is not None:
            raise first_error
        raise UsageError("no build has coordinates for every preset asked for; see presets/PROVENANCE.md")
    has_lengths = any(length is not None for length in input_contigs.values())
    if len(fitting) > 1 and not has_lengths:
        raise UsageError("cannot tell the genome build from the file (no contig lengths): give --build")
    return fitting[0]


def read_bed(path: str) -> list[tuple[str, int, int, str]]:
    """``(contig, start, end, name)`` of a BED file (0-based, half-open; name may be empty)."""
    rows = []
    with reading(open_input(path)) as handle:
        try:
            text = handle.read()
        except DECOMPRESSION_ERRORS:
            raise InputError("truncated or corrupt compressed input", path) from None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip(b"\r")
        if not line.strip() or line.startswith((b"#", b"track", b"browser")):
            continue
        fields = line.split(b"\t") if b"\t" in line else line.split()
        try:
            start, end = int(fields[1]), int(fields[2])
        except (IndexError, ValueError):
            raise InputError("not a BED line (chrom, start, end)", path, number) from None
        if start < 0 or end < start:
            raise InputError("BED interval must have 0 <= start <= end", path, number)
        name = fields[3].decode("ascii", errors="replace") if len(fields) > 3 else ""
        rows.append((fields[0].decode("ascii", errors="replace"), start, max(end, start + 1), name))
    return rows
