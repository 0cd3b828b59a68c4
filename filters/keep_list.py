"""The keep list of ``sam-revert-germline --all --keep``: somatic alleles to spare.

A tumour-only sample has no matched normal to say which alleles are germline, so
``--all`` reverts every difference from the reference except the alleles listed
here (the somatic calls). A tumour-only caller's list holds germline variants
too, so each listed allele is first screened against a population resource with
the same join vcf-drop-rare uses (filters/population.py): one seen at
``--germline-af`` or more is germline and reverted after all. An MNP is screened whole and
as the SNVs it is made of (``alleles.snv_parts``): one of them common makes it germline, as
it would make that SNV's record germline were the MNP written as SNVs.

Alleles are keyed the way :func:`genoscrub.population.normalised` leaves them
(see :class:`genoscrub.revert.KeepAlleles`), per contig of the input.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial

import numpy as np
from genoscrub.alleles import encoded, encoded_arrays, left_aligned, snv_parts
from genoscrub.contigs import ContigMap
from genoscrub.fasta import ContigReference, Fasta
from genoscrub.germline_sites import VCF_RECORD, SiteTable
from genoscrub.population import SEQUENCE_ALLELE, TOLERANCE, PopulationJoin, UnsortedInput, normalised
from genoscrub.report import InputError, Report
from genoscrub.revert import KeepAlleles
from genoscrub.streams import open_input
from genoscrub.vcf import contig_lengths, split_header_text, text_blocks

GERMLINE_AF = 0.001
"""Default ``--germline-af``: a keep allele seen in the population at 0.1% or more
is treated as germline. See the man page, TUMOUR-ONLY SAMPLES, for why."""


@dataclass(frozen=True)
class ListedAllele:
    """One ALT of a keep record, as listed (1-based POS), with the line it came from."""

    chrom: str
    position: int
    reference: bytes
    alternate: bytes
    line: int


class KeepList:
    """The somatic alleles ``--all --keep`` spares, per keep-list contig, screened
    against a population resource; built before any record is written."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.contigs: dict[str, int | None] = {}
        self.alleles: dict[str, set[tuple[int, bytes, bytes]]] = {}
        self.by_input: dict[str, KeepAlleles] = {}
        self.spans = SiteTable()
        self.reference: ContigReference | None = None  # by the keep list's names: its indels left-aligned for the screen

    def use_for_input(self, input_contigs: Mapping[str, int | None], report: Report) -> None:
        """Map the keep list's contigs to the input's (same genome, or stop) and index the spans."""
        contig_map = ContigMap(input_contigs, self.contigs, "keep list", self.path)
        report.notes["contigs_renamed_for_keep_list"] = contig_map.report_note()
        for input_name, keep_names in contig_map.to_others.items():  # every spelling the list holds (chr1 and 1)
            alleles = set().union(*(self.alleles.get(keep_name, set()) for keep_name in keep_names))
            if not alleles:
                continue
            self.by_input[input_name] = KeepAlleles(alleles)
            starts = np.array([position - 1 for position, _, _ in alleles], dtype=np.int64)
            ends = np.array([position + len(ref) + 1 for position, ref, _ in alleles], dtype=np.int64)
            self.spans.add_contig(input_name, starts, ends)

    def alleles_under(self, name: str, start: int, end: int) -> KeepAlleles | None:
        """The keep alleles of input contig ``name`` when one lies under ``[start, end)``."""
        if name not in self.by_input or not self.spans.windows(name, start, end):
            return None
        return self.by_input[name]

    def kept_observations(self) -> int:
        return sum(keeper.kept for keeper in self.by_input.values())


def read_keep_list(path: str, fasta: Fasta, report: Report) -> tuple[KeepList, list[ListedAllele]]:
    """Every sequence ALT of the keep VCF, checked against the reference.

    A record whose REF is not the reference's bases there is an error naming
    its line: it cannot be matched, and skipping it silently would revert the
    somatic allele the user meant to keep, or worse hide a wrong build.
    Returns the list and the alleles in file order, for screening.
    """
    keep = KeepList(path)
    listed: list[ListedAllele] = []
    records: list[tuple[str, int, bytes, bytes, int]] = []
    with open_input(path) as stream:
        header, blocks = split_header_text(text_blocks(stream, path), path)
        keep.contigs.update(contig_lengths(header.meta))
        for first_line, text in blocks:
            for index, line in enumerate(text.split(b"\n")[:-1]):
                if not line:
                    continue
                match = VCF_RECORD.match(line)
                if match is None:
                    raise InputError("not a VCF record (need CHROM, POS, ID, REF, ALT)", path, first_line + index)
                chrom, pos, ref, alt = match.groups()
                records.append((chrom.decode(errors="replace"), int(pos), ref.upper(), alt.upper(), first_line + index))
    if not records:
        raise InputError("no keep records: --all --keep needs the somatic alleles to keep", path)
    for chrom, *_ in records:
        keep.contigs.setdefault(chrom, None)
    to_reference = ContigMap(keep.contigs, fasta.lengths, "reference", fasta.path, require_overlap=False)
    if not to_reference.to_other:
        raise InputError("no contig of the keep list matches a contig of the reference: another genome build?", path)
    report.notes["contigs_renamed_keep_list_to_reference"] = to_reference.report_note()
    reference = keep.reference = fasta.through(to_reference)
    for chrom, pos, ref, alt, line_number in records:
        if chrom not in reference:
            raise InputError(f"keep record on contig {chrom}, which the reference lacks", path, line_number)
        if reference.fetch(chrom, pos - 1, pos - 1 + len(ref)) != ref:
            raise InputError("keep record's REF differs from the reference: another build, or not normalised", path, line_number)
        for allele in alt.split(b","):
            if SEQUENCE_ALLELE.fullmatch(allele) is None:
                report.add("keep_alleles_symbolic_ignored")
                continue
            listed.append(ListedAllele(chrom, pos, ref, allele, line_number))
    report.notes["keep_records"] = len(records)
    return keep, listed


def screened_frequencies(
    join: PopulationJoin, chrom: str, batch: list[ListedAllele], fetch: Callable[[int, int], bytes] | None = None
) -> np.ndarray:
    """The frequency each allele of ``batch`` (on ``chrom``, sorted) is screened by: its own, or
    for an MNP the highest of its own and its SNVs' (NaN: none of them in the population). With
    ``fetch`` (the reference's bases of the contig), an insertion or deletion is also asked for at
    the left end of its repeat, as ``bcftools norm -f`` writes the population (gnomAD): a common
    germline indel the caller placed elsewhere is screened out too. ``UnsortedInput.index`` is
    made an index into ``batch``."""
    backwards = np.flatnonzero(np.diff([item.position for item in batch]) < 0)
    if len(backwards):  # the join would see it once the left-aligned queries are in order: say it here
        raise UnsortedInput("POS goes backwards: sort the input (bcftools sort)", int(backwards[0]) + 1)
    codes: list[int | bytes | tuple[int, bytes, bytes]] = []
    owners: list[int] = []
    starts: list[int] = []
    stops: list[int] = []
    for index, item in enumerate(batch):
        allele = normalised(item.position, item.reference, item.alternate)
        found = [encoded(allele), *snv_parts(allele)]
        places = [(item.position, item.position + len(item.reference))] * len(found)
        if fetch is not None and bool(allele[1]) != bool(allele[2]):
            moved = left_aligned(allele, fetch)
            if moved != allele:  # asked for where its padded record would be, POS one before
                found.append(encoded(moved))
                places.append((moved[0] - 1, moved[0] + len(moved[1])))
        codes += found
        owners += [index] * len(found)
        starts += [start for start, _ in places]
        stops += [stop for _, stop in places]
    order = np.argsort(np.array(starts, dtype=np.int64), kind="stable")  # the join reads in order of POS
    owner = np.array(owners, dtype=np.int64)[order]
    positions, ends = np.array(starts, dtype=np.int64)[order], np.array(stops, dtype=np.int64)[order]
    try:
        values = join.encoded_frequencies(chrom, positions, ends, *encoded_arrays([codes[at] for at in order.tolist()]))
    except UnsortedInput as error:
        error.index = int(owner[error.index])
        raise
    highest = np.full(len(batch), np.nan)
    np.fmax.at(highest, owner, values)
    return highest


def screen_keep_list(
    keep: KeepList,
    listed: list[ListedAllele],
    population: str | None,
    af_key: str,
    germline_af: float,
    report: Report,
) -> None:
    """Keep the listed alleles, except those the population resource shows at
    ``germline_af`` or more: a tumour-only caller's somatic list holds germline
    variants, and those are reverted."""
    frequencies = np.full(len(listed), np.nan)
    if population is not None:
        join = PopulationJoin(population, af_key, keep.contigs)
        try:
            start = 0
            while start < len(listed):
                chrom = listed[start].chrom
                stop = start
                while stop < len(listed) and listed[stop].chrom == chrom:
                    stop += 1
                batch = listed[start:stop]
                fetch = None if keep.reference is None else partial(keep.reference.fetch, chrom)
                try:
                    frequencies[start:stop] = screened_frequencies(join, chrom, batch, fetch)
                except UnsortedInput as error:
                    raise InputError(f"{error}", keep.path, batch[error.index].line) from None
                start = stop
            report.notes["contigs_renamed_keep_list_to_population"] = join.contig_map.report_note()
        finally:
            join.close()
    screened = frequencies >= germline_af - TOLERANCE
    for allele, germline in zip(listed, screened.tolist(), strict=True):
        if germline:
            continue
        position, trimmed_ref, trimmed_alt = normalised(allele.position, allele.reference.decode(), allele.alternate.decode())
        keep.alleles.setdefault(allele.chrom, set()).add((position - 1, trimmed_ref.encode(), trimmed_alt.encode()))
    report.notes["keep_alleles_listed"] = len(listed)
    report.notes["keep_alleles_screened_out_as_germline"] = int(screened.sum())
    report.notes["keep_alleles_kept"] = len(listed) - int(screened.sum())
    if population is not None:
        report.notes["keep_alleles_not_in_population"] = int(np.isnan(frequencies).sum())
    report.notes["germline_af"] = germline_af
