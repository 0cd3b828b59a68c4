"""Same genome, or stop: the contig names of two files joined, and their lengths checked.

A command that joins its input with a reference, a site list or a region list
checks, before writing its first record, that they describe the same genome. A
filter that silently matches nothing passes identifying data through with
exit 0 — the worst failure this project can have. So:

- contigs of equal name but different length (another build) are an error;
- names that differ only by convention (``chr1``/``1``, ``chrM``/``MT``/``M``)
  with equal (or unknown) lengths are mapped, and the mapping is reported;
- a site or region list that matches none of the input's contigs is an error;
- an input contig that matches no name of the other file but has the length of one of its
  chromosomes (``NC_000001.11``, GRCh38's chr1 under its RefSeq name), or a RefSeq
  chromosome name matching nothing, is an error: its records would pass unchecked while
  the other file has rules for that chromosome under another name; so is such a name in the
  other file (a germline list's mitochondrion as ``NC_012920.1``, ``J01415.2`` or ``rCRS``,
  or PLINK's ``26`` beside an input's ``chrM``): its sites or regions would be read nowhere;
- so is an input contig that matches nothing and has the length of a contig of the other
  file that matches nothing either, whatever their names: the same genome spelled in a way
  no convention here knows (GRCh38's alternate loci as UCSC and Ensembl name them);
- GenBank's name of a scaffold and UCSC's are one contig (``KI270706.1`` and
  ``chr1_KI270706v1_random``, ``GL000220.1`` and ``chrUn_GL000220v1``, GRCh37's
  ``GL000191.1`` and hg19's ``chr1_gl000191_random``);
- PLINK's numbers for the sex chromosomes and the mitochondrion (``23`` X, ``24`` Y, ``26``
  MT) are mapped to a contig of those names the other file's names left unmatched; PLINK's
  ``25`` (``XY``, the pseudoautosomal part of X in X's coordinates) is an error when the
  other file has an X: it would need two contigs of one file joined to one of the other.

Where neither file gives lengths, the genome cannot be checked by them: the map
says so (``lengths_compared`` is 0, ``genome_check`` is ``"contig names"``) and the
commands then decide by the contig set (see vcf-drop-rare).
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Mapping

from genoscrub.report import InputError

MITOCHONDRIAL = ("chrM", "MT", "M", "chrMT")
CHROMOSOME = re.compile(r"(?:chr)?(?:[1-9]|1[0-9]|2[0-2]|X|Y)")
CHROMOSOME_SCALE = 1_000_000
"""A primary chromosome's name, as builds spell it, and the least length that makes a contig
of the same length the same chromosome (the shortest human one, chr21, has 46.7 Mb; small
test genomes give many contigs one length)."""
REFSEQ_CHROMOSOME = re.compile(
    r"NC_0000(?:0[1-9]|1[0-9]|2[0-4])\.[0-9]+|NC_012920\.[0-9]+|NC_001807\.[0-9]+"
    r"|CM0006(?:6[3-9]|7[0-9]|8[0-6])\.[0-9]+"  # GenBank's: CM000663.2 is GRCh38's chr1, CM000686.2 its chrY
)
"""RefSeq's names of the human chromosomes and mitochondrion (``NC_000001.11``): no
convention maps them, so one that matches nothing is another spelling, not another contig."""

UCSC_PLACES = (*(str(number) for number in range(1, 23)), "X", "Y")
UCSC_SCAFFOLD = re.compile(r"chr(?:[1-9]|1[0-9]|2[0-2]|X|Y|Un)_([A-Z]{1,6}[0-9]{5,})v([0-9]+)(?:_random|_alt|_fix|_decoy)?")
"""hg38's name of a GenBank sequence: ``chr<chromosome or Un>_<accession>v<version>``, then
``_random`` (unlocalized), ``_alt`` (alternate locus), ``_fix`` (fix patch), ``_decoy`` (the
decoys of the 1000 Genomes and GATK bundles) or nothing (unplaced): ``chr1_KI270706v1_random``
is GenBank's ``KI270706.1``, ``chr6_GL000251v2_alt`` is ``GL000251.2`` (UCSC's chromAlias,
GRC's assembly report)."""
HG19_SCAFFOLD = re.compile(r"chr(?:[1-9]|1[0-9]|2[0-2]|X|Y|Un)_gl([0-9]{6})(?:_random)?")
"""hg19's name of a GRCh37 scaffold, lower case and without its version (always 1):
``chr1_gl000191_random`` and ``chrUn_gl000211`` are ``GL000191.1`` and ``GL000211.1``. hg19's
haplotypes (``chr6_apd_hap1``) carry no accession: only the length rule finds them."""
MITOCHONDRIAL_ACCESSIONS = frozenset({"J01415.2", "J01415", "rCRS", "NC_012920", "NC_001807"})
"""Other names of the human mitochondrion (the revised Cambridge Reference Sequence as GenBank and
mtDNA callers name it; RefSeq's without its version): like a RefSeq chromosome name, one that
matches nothing is the chromosome under another name, not another contig."""
GENBANK_SCAFFOLD = re.compile(r"([A-Z]{1,6}[0-9]{5,})\.([0-9]+)")
NUMBERED = {"23": "X", "24": "Y", "26": "MT"}
"""PLINK's numeric chromosome codes of the sex chromosomes and the mitochondrion."""
PSEUDOAUTOSOMAL = ("XY", "25")
"""PLINK's code of X's pseudoautosomal part, with letters and as a number: its positions are
X's, so it is part of X, not a contig of its own."""


def conventional_names(name: str) -> list[str]:
    """Other spellings of a contig name, best first (``chr1`` <-> ``1``, ``chrM`` <-> ``MT``,
    ``chrUn_KI270302v1`` <-> ``KI270302.1``), PLINK's numbers last (``chrX`` <-> ``23``):
    a name the other file holds in the first way is never sought in the second."""
    return [*spelled_names(name), *numbered_names(name)]


def spelled_names(name: str) -> list[str]:
    """The spellings of a contig name by the naming conventions of builds (not PLINK's numbers)."""
    if name in MITOCHONDRIAL:
        return [other for other in MITOCHONDRIAL if other != name]
    others = ([name[3:]] if len(name) > 3 else []) if name.startswith("chr") else ["chr" + name]
    return others + scaffold_names(name)


def scaffold_names(name: str) -> list[str]:
    """A scaffold's other names: GenBank's for UCSC's, and every name UCSC could give it for
    GenBank's (the chromosome it belongs to is in UCSC's name only)."""
    ucsc = UCSC_SCAFFOLD.fullmatch(name)
    if ucsc:
        return [f"{ucsc.group(1)}.{ucsc.group(2)}"]
    hg19 = HG19_SCAFFOLD.fullmatch(name)
    if hg19:
        return [f"GL{hg19.group(1)}.1"]
    genbank = GENBANK_SCAFFOLD.fullmatch(name)
    if not genbank:
        return []
    accession, version = genbank.groups()
    stem = f"{accession}v{version}"
    names = [f"chrUn_{stem}", f"chrUn_{stem}_decoy"]
    names += [f"chr{place}_{stem}_{kind}" for place in UCSC_PLACES for kind in ("random", "alt", "fix")]
    if accession.startswith("GL") and len(accession) == 8 and version == "1":
        digits = accession[2:]
        names += [f"chrUn_gl{digits}", *(f"chr{place}_gl{digits}_random" for place in UCSC_PLACES)]
    return names


def numbered_names(name: str) -> list[str]:
    """PLINK's number for X, Y or MT, or the names a PLINK number stands for."""
    bare = _bare(name)
    if bare in NUMBERED:
        letter = NUMBERED[bare]
        return list(MITOCHONDRIAL) if letter == "MT" else [letter, "chr" + letter]
    for number, letter in NUMBERED.items():
        if bare == letter or (letter == "MT" and name in MITOCHONDRIAL):
            return [number, "chr" + number]
    return []


def names_in(name: str, other: Container[str]) -> list[str]:
    """Every name ``other`` gives contig ``name`` (a file may hold ``chrM`` and ``MT`` at once), as
    ``ContigMap`` joins a declared contig: its spellings, else the first PLINK number. For a name
    met only in records (no ``##contig`` or ``@SQ`` line): reading one of two spellings would pass
    the other's sites, an answer that depends on how a file names a contig."""
    spelled = [candidate for candidate in (name, *spelled_names(name)) if candidate in other]
    return spelled or [candidate for candidate in numbered_names(name) if candidate in other][:1]


def _bare(name: str) -> str:
    """A name without its ``chr``."""
    return name[3:] if name.startswith("chr") and len(name) > 3 else name


ROMAN_NUMBER = re.compile(r"(?=[ivxl])(l?x{0,3}|xl|xc)(v?i{0,3}|iv|ix)")
"""A number of 1 to 99 in roman numerals, lower case (``ii``, ``xvi``): how yeast and some other
genomes number their chromosomes (``chrII``)."""
ROMAN_VALUES = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}
CHROMOSOME_VERSION = re.compile(r"([0-9]+|x|y|m|mt)\.[0-9]+")
"""A chromosome's number or letter with a version after it, as an accession has one (``2.1``)."""


def _roman_value(numeral: str) -> int:
    values = [ROMAN_VALUES[letter] for letter in numeral]
    return sum(-value if value < after else value for value, after in zip(values, [*values[1:], 0], strict=True))


def _folded(name: str) -> str:
    """A contig name with case, blanks at its ends, ``chr`` (and a separator after it), a number's
    leading zeros, a chromosome's version and roman numerals set aside, the mitochondrion as ``m``:
    ``Chr01``, ``CHR1``, ``chr_1``, ``chr1``, ``chr1.1``, ``chrI`` and ``1`` are ``1``; ``Mt``,
    ``chrM`` and ``MT`` are ``m``. ``X`` stays X, never 10 (``chrXI`` is 11)."""
    bare = name.strip().lower()
    bare = bare[3:].lstrip("_- ") if bare.startswith("chr") and len(bare) > 3 else bare
    versioned = CHROMOSOME_VERSION.fullmatch(bare)
    if versioned is not None:
        bare = versioned.group(1)
    if bare.isascii() and bare.isdigit():
        return str(int(bare))
    if bare != "x" and ROMAN_NUMBER.fullmatch(bare) is not None:
        return str(_roman_value(bare))
    return "m" if bare in ("m", "mt") else bare


def _spells_with_letters(names: Iterable[str], number: str) -> bool:
    """Whether a file names the chromosome PLINK numbers ``number`` with letters: then its
    ``number`` is a chromosome of that number (a genome of more chromosomes, the dog's), not
    PLINK's code."""
    letters = MITOCHONDRIAL if number == "26" else ("X",) if number == "25" else (NUMBERED[number],)
    return any(_bare(name) in letters or name in letters for name in names)


def _has_x(names: Iterable[str]) -> bool:
    return any(_bare(name) in ("X", "23") for name in names)


class OtherSpelling(InputError):
    """A chromosome of the other file under another name in the input: of the errors met
    while trying builds, the one to report (the builds it does not fit say less)."""


class ContigMap:
    """How the input's contig names translate into another file's names.

    ``lengths`` are ``None`` where a file does not say (a VCF without
    ``##contig`` lines); an unknown length never proves a mismatch. Every spelling the
    other file holds of an input contig is mapped (``to_others``: a region list may hold
    ``chr1`` and ``1`` at once); ``to_other`` is the first of them.
    """

    def __init__(
        self,
        input_contigs: Mapping[str, int | None],
        other_contigs: Mapping[str, int | None],
        other_label: str,
        other_path: str,
        require_overlap: bool = True,
    ) -> None:
        self.to_other: dict[str, str] = {}
        self.to_others: dict[str, list[str]] = {}
        self.renamed: dict[str, str] = {}
        self.lengths_compared = 0
        for name in input_contigs:
            for candidate in (name, *spelled_names(name)):
                if candidate in other_contigs:
                    self._join(name, candidate, input_contigs, other_contigs, other_label, other_path)
        self._join_numbered(input_contigs, other_contigs, other_label, other_path)
        if require_overlap and other_contigs and input_contigs and not self.to_other:
            raise InputError(f"no contig of the {other_label} matches a contig of the input: another genome build?", other_path)
        self._refuse_pseudoautosomal(input_contigs, other_contigs, other_label, other_path)
        self._refuse_other_spellings(input_contigs, other_contigs, other_label, other_path)

    def _join(
        self, name: str, candidate: str, input_contigs: Mapping[str, int | None], other_contigs: Mapping[str, int | None],
        other_label: str, other_path: str,
    ) -> None:
        """Map input contig ``name`` to the other file's ``candidate``, their lengths checked."""
        length, other_length = input_contigs[name], other_contigs[candidate]
        if length is not None and other_length is not None:
            if length != other_length:
                raise InputError(
                    f"contig {name} has length {length} in the input but {candidate} has {other_length} in the "
                    f"{other_label}: another genome build?",
                    other_path,
                )
            self.lengths_compared += 1
        self.to_others.setdefault(name, []).append(candidate)
        if name not in self.to_other:
            self.to_other[name] = candidate
            if candidate != name:
                self.renamed[name] = candidate

    def _matched_others(self) -> set[str]:
        return {other for others in self.to_others.values() for other in others}

    def _join_numbered(
        self, input_contigs: Mapping[str, int | None], other_contigs: Mapping[str, int | None], other_label: str, other_path: str
    ) -> None:
        """PLINK's ``23``/``24``/``26`` and X/Y/MT, between contigs no spelling matched, where the
        file with the number does not also name that chromosome with letters."""
        matched = self._matched_others()
        for name in input_contigs:
            if name in self.to_other:
                continue
            number = _bare(name)
            if number in NUMBERED and _spells_with_letters(input_contigs, number):
                continue
            for candidate in numbered_names(name):
                number = _bare(candidate)
                if number in NUMBERED and _spells_with_letters(other_contigs, number):
                    continue
                if candidate in other_contigs and candidate not in matched:
                    self._join(name, candidate, input_contigs, other_contigs, other_label, other_path)
                    matched.add(candidate)
                    break

    def _refuse_other_spellings(
        self, input_contigs: Mapping[str, int | None], other_contigs: Mapping[str, int | None], other_label: str, other_path: str
    ) -> None:
        """Stop where an input contig that matched nothing is one of the other file's
        chromosomes spelled another way (its length, or a RefSeq name): fail closed.

        The input's name is not quoted (a contig may be named after anything); the other
        file's chromosome name is."""
        self._refuse_case_and_padding(input_contigs, other_contigs, other_label, other_path)
        chromosome_lengths = {
            length: name
            for name, length in other_contigs.items()
            if length is not None and length >= CHROMOSOME_SCALE and CHROMOSOME.fullmatch(name)
        }
        matched = self._matched_others()
        unmatched_lengths = {length for name, length in other_contigs.items() if length is not None and name not in matched}
        for name, length in input_contigs.items():
            if name in self.to_other:
                continue
            if length is not None and length in chromosome_lengths:
                raise OtherSpelling(
                    f"a contig of the input has the length of {chromosome_lengths[length]} in the {other_label} but a name "
                    "that does not match it: rename the input's contigs (bcftools annotate --rename-chrs, samtools reheader)",
                    other_path,
                )
            if length is not None and length in unmatched_lengths:
                raise OtherSpelling(
                    f"a contig of the input matches no contig name of the {other_label} but has the length ({length}) of one "
                    "there that matches no contig of the input: the same genome under other names? rename the contigs "
                    "of one file (bcftools annotate --rename-chrs, samtools reheader)",
                    other_path,
                )
            if other_contigs and REFSEQ_CHROMOSOME.fullmatch(name):
                raise OtherSpelling(
                    f"a contig of the input has a RefSeq chromosome name that matches no contig of the {other_label}: "
                    "rename the input's contigs (bcftools annotate --rename-chrs, samtools reheader)",
                    other_path,
                )
        if not input_contigs:
            return
        for name in other_contigs:
            if name in matched:
                continue
            if REFSEQ_CHROMOSOME.fullmatch(name) or name in MITOCHONDRIAL_ACCESSIONS:
                raise OtherSpelling(
                    f"a contig of the {other_label} is a chromosome's accession (RefSeq, GenBank, rCRS) that matches no contig of "
                    f"the input: its sites would be read nowhere; rename the {other_label}'s contigs (bcftools annotate --rename-chrs)",
                    other_path,
                )
            bare = _bare(name)
            if bare in NUMBERED and _spells_with_letters(input_contigs, bare):
                raise OtherSpelling(
                    f"a contig of the {other_label} is PLINK's number for {NUMBERED[bare]} ({bare}) and matches no contig of the "
                    f"input, which names {NUMBERED[bare]} with letters: its sites would be read nowhere; rename the "
                    f"{other_label}'s contigs (bcftools annotate --rename-chrs)",
                    other_path,
                )

    def _refuse_case_and_padding(
        self, input_contigs: Mapping[str, int | None], other_contigs: Mapping[str, int | None], other_label: str, other_path: str
    ) -> None:
        """Stop where a contig either file left unmatched is a contig of the other spelled with
        another case or zero padding (``Chr1``, ``CHR1`` or ``chr01`` beside ``chr1``, ``Mt``
        beside ``chrM``): no convention writes them so, and its sites or records would be
        joined with nothing. Neither name is quoted."""
        matched = self._matched_others()
        input_folded = {_folded(name) for name in input_contigs}
        other_folded = {_folded(name) for name in other_contigs}
        unmatched_other = any(name not in matched and _folded(name) in input_folded for name in other_contigs)
        unmatched_input = any(name not in self.to_other and _folded(name) in other_folded for name in input_contigs)
        if unmatched_other or unmatched_input:
            where = f"the {other_label}" if unmatched_other else "the input"
            raise OtherSpelling(
                f"a contig of {where} is a contig of the other file spelled with another case or zero padding, or with a "
                f"version or roman numerals (Chr1, chr01, chr1.1 or chrI for chr1, Mt for chrM) and matches none: its sites "
                f"or records would be joined with nothing; rename the contigs of one file (bcftools annotate --rename-chrs, "
                f"samtools reheader)",
                other_path,
            )

    def _refuse_pseudoautosomal(
        self, input_contigs: Mapping[str, int | None], other_contigs: Mapping[str, int | None], other_label: str, other_path: str
    ) -> None:
        """Stop where either file holds PLINK's ``XY``/``25`` unmatched and the other has an X: its
        sites are X's, and one contig of the other file cannot be joined to two of this one. A
        ``25`` beside a lettered X is a chromosome 25 (of a genome with more), not PLINK's code."""
        matched = self._matched_others()
        sides = (
            ("input", [name for name in input_contigs if name not in self.to_other], input_contigs, other_contigs),
            (other_label, [name for name in other_contigs if name not in matched], other_contigs, input_contigs),
        )
        for label, unmatched, own, opposite in sides:
            for name in unmatched:
                bare = _bare(name)
                if bare not in PSEUDOAUTOSOMAL or (bare == "25" and _spells_with_letters(own, "25")) or not _has_x(opposite):
                    continue
                raise OtherSpelling(
                    f"a contig of the {label} is PLINK's XY (25), the pseudoautosomal part of X in X's coordinates, and "
                    "matches no contig of the other file: merge it into X (plink2 --merge-x) before joining the files",
                    other_path,
                )

    def get(self, input_name: str) -> str | None:
        return self.to_other.get(input_name)

    @property
    def genome_check(self) -> str:
        """How the genomes were compared, for ``--report``: by contig lengths, or by contig names only."""
        return "contig lengths" if self.lengths_compared else "contig names"

    def report_note(self) -> dict[str, str]:
        """Contig names mapped by convention, for ``--report`` (names, not identifiers)."""
        return dict(self.renamed)


HIT_NAMES_CACHED = 4096
"""Distinct hit contig names remembered by :class:`HitContigs` (a file names few; a hostile one
could name millions, so the memo is emptied when full)."""


class HitContigs:
    """Contig names written inside records (the hits of ``SA``, ``XA``, ``XB``) read as the
    header's contigs. ``samtools reheader`` renames ``@SQ`` but no tag, so a hit may name ``1``
    in a ``chr1`` header: it is read through the spellings a ``ContigMap`` joins files by
    (``conventional_names``). A name the header declares is that contig; another is every
    declared contig it spells (fail closed where two could be meant); a name the header
    cannot place gives None, which the callers judge as touching what they protect."""

    def __init__(self, declared: Iterable[bytes]) -> None:
        self.declared = frozenset(declared)
        self.seen: dict[bytes, tuple[bytes, ...] | None] = {}

    def places(self, name: bytes) -> tuple[bytes, ...] | None:
        """The declared contigs a hit naming ``name`` may lie on; None: none that the header declares."""
        if name in self.declared:
            return (name,)
        found = self.seen.get(name, ())
        if found == ():
            text = name.decode("ascii", errors="replace")
            spelled = tuple(other.encode() for other in conventional_names(text) if other.encode() in self.declared)
            found = spelled or None
            if len(self.seen) >= HIT_NAMES_CACHED:
                self.seen.clear()
            self.seen[name] = found
        return found
