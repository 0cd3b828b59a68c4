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
  the other file has rules for that chromosome under another name.

Where neither file gives lengths, the genome cannot be checked by them: the map
says so (``lengths_compared`` is 0, ``genome_check`` is ``"contig names"``) and the
commands then decide by the contig set (see vcf-drop-rare).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from genoscrub.report import InputError

MITOCHONDRIAL = ("chrM", "MT", "M", "chrMT")
CHROMOSOME = re.compile(r"(?:chr)?(?:[1-9]|1[0-9]|2[0-2]|X|Y)")
CHROMOSOME_SCALE = 1_000_000
"""A primary chromosome's name, as builds spell it, and the least length that makes a contig
of the same length the same chromosome (the shortest human one, chr21, has 46.7 Mb; small
test genomes give many contigs one length)."""
REFSEQ_CHROMOSOME = re.compile(r"NC_0000(?:0[1-9]|1[0-9]|2[0-4])\.[0-9]+|NC_012920\.[0-9]+|NC_001807\.[0-9]+")
"""RefSeq's names of the human chromosomes and mitochondrion (``NC_000001.11``): no
convention maps them, so one that matches nothing is another spelling, not another contig."""


def conventional_names(name: str) -> list[str]:
    """Other spellings of a contig name, best first (``chr1`` <-> ``1``, ``chrM`` <-> ``MT``)."""
    if name in MITOCHONDRIAL:
        return [other for other in MITOCHONDRIAL if other != name]
    if name.startswith("chr"):
        return [name[3:]] if len(name) > 3 else []
    return ["chr" + name]


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
        for name, length in input_contigs.items():
            candidates = [name, *conventional_names(name)]
            for candidate in candidates:
                if candidate not in other_contigs:
                    continue
                other_length = other_contigs[candidate]
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
        if require_overlap and other_contigs and input_contigs and not self.to_other:
            raise InputError(f"no contig of the {other_label} matches a contig of the input: another genome build?", other_path)
        self._refuse_other_spellings(input_contigs, other_contigs, other_label, other_path)

    def _refuse_other_spellings(
        self, input_contigs: Mapping[str, int | None], other_contigs: Mapping[str, int | None], other_label: str, other_path: str
    ) -> None:
        """Stop where an input contig that matched nothing is one of the other file's
        chromosomes spelled another way (its length, or a RefSeq name): fail closed.

        The input's name is not quoted (a contig may be named after anything); the other
        file's chromosome name is."""
        chromosome_lengths = {
            length: name
            for name, length in other_contigs.items()
            if length is not None and length >= CHROMOSOME_SCALE and CHROMOSOME.fullmatch(name)
        }
        for name, length in input_contigs.items():
            if name in self.to_other:
                continue
            if length is not None and length in chromosome_lengths:
                raise OtherSpelling(
                    f"a contig of the input has the length of {chromosome_lengths[length]} in the {other_label} but a name "
                    "that does not match it: rename the input's contigs (bcftools annotate --rename-chrs, samtools reheader)",
                    other_path,
                )
            if other_contigs and REFSEQ_CHROMOSOME.fullmatch(name):
                raise OtherSpelling(
                    f"a contig of the input has a RefSeq chromosome name that matches no contig of the {other_label}: "
                    "rename the input's contigs (bcftools annotate --rename-chrs, samtools reheader)",
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
