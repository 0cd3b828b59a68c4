"""Which VCF records call an allele that sam-revert-germline turns back into the reference in reads.

sam-revert-germline ``-v`` reverts every difference from the reference inside the windows it
draws around the germline sites (``germline_sites.GermlineSites.table``: an allele's span widened
over its repeat and the reach of indels), somatic ones too: an SNV whose base lies in a window, an
indel whose bases or the ``L`` bases each side of it touch one. A somatic call the delivered BAM
no longer shows, kept in the somatic VCF beside it, says a germline site lies within a few bases
of it, and where the delivered germline VCF lists none there, that the person carries a rare or
private variant (vcf-drop-rare ``--germline-windows``). The windows are the reverter's own, from
the same code, so the two agree by construction.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from genoscrub.contigs import ContigMap
from genoscrub.fasta import Fasta
from genoscrub.germline_sites import GermlineSites, SiteTable
from genoscrub.report import InputError, Report
from genoscrub.vcf import RecordBlock


def sequence_alleles(alt_field: bytes) -> list[bytes]:
    """The ALTs written as bases: not symbolic, breakend, ``*`` or ``.``."""
    return [alt for alt in alt_field.split(b",") if alt not in (b".", b"*") and alt[:1] != b"<" and b"[" not in alt and b"]" not in alt]


class RevertWindows:
    """The revert windows of a germline VCF, by the input VCF's contig names."""

    def __init__(self, germline: str, reference: Fasta, input_contigs: Mapping[str, int | None], report: Report) -> None:
        sites = GermlineSites(germline, Report(report.command))  # its counts are the reverter's, not this command's
        vcf_map = ContigMap(dict(input_contigs), sites.contigs, "variant file", sites.path)
        bases = reference.through(ContigMap(dict(input_contigs), reference.lengths, "reference", reference.path))
        vcf_to_input: dict[str, list[str]] = {}
        for input_name, vcf_names in vcf_map.to_others.items():  # every spelling, both ways (chrM and MT)
            if input_name not in bases:
                raise InputError(f"contig {input_name} has germline sites but is not in the reference", reference.path)
            for vcf_name in vcf_names:
                vcf_to_input.setdefault(vcf_name, []).append(input_name)
        self.windows: SiteTable = sites.table(vcf_to_input, bases).windows

    def touched(self, block: RecordBlock, chrom: str, start: int, stop: int) -> np.ndarray:
        """Which records ``start:stop`` of ``block`` (all on ``chrom``) touch a window: the span of
        REF, widened on each side by the largest change of length among its sequence ALTs (an
        indel of ``L`` bases is reverted when the ``L`` bases each side of it touch a window)."""
        count = stop - start
        if count <= 0 or chrom not in self.windows.starts:
            return np.zeros(max(count, 0), dtype=bool)
        text = block.text
        pos_start, pos_end = (column[start:stop] for column in block.column(1))
        ref_start, ref_end = (column[start:stop] for column in block.column(3))
        alt_start, alt_end = (column[start:stop] for column in block.column(4))
        starts = np.empty(count, dtype=np.int64)
        ends = np.empty(count, dtype=np.int64)
        for row in range(count):
            position = int(text[pos_start[row] : pos_end[row]]) - 1
            ref_length = int(ref_end[row] - ref_start[row])
            reach = max((abs(len(alt) - ref_length) for alt in sequence_alleles(text[alt_start[row] : alt_end[row]])), default=0)
            starts[row] = position - reach
            ends[row] = position + ref_length + reach
        return self.windows.touching(chrom, starts, ends)
