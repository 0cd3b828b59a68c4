"""Contigs whose reads sam-revert-germline removes (``--drop-contigs``).

Where a reference holds allele-specific contigs (GRCh38's full analysis set: ~525 ``HLA-*``
allele contigs such as ``HLA-A*02:01:01:01``, and the ``*_alt`` haplotypes, MHC and KIR among
them), the contig a read is placed on is the person's genotype, with no base differing from it:
no germline list names these contigs, and ``--all`` has nothing to revert there. So every record
placed on a listed contig goes, and a record whose mate was on one is left unpaired (RNEXT ``*``),
as the mate of any removed read is. The @SQ lines stay: they are the same in everyone's header.
The audit holds the output to the same list with its own copy of the rule
(``audit_bam.ListedContigs``).
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase

import numpy as np
from genoscrub import scan
from genoscrub.fields import distinct_spans

UNNAMED = [b"*", b"="]
"""RNEXT values that name no contig of their own (``=`` is RNAME's, judged there)."""


def listed_contigs(names: Iterable[str], patterns: Iterable[str]) -> frozenset[bytes]:
    """The header's contig names that match one of ``patterns`` (shell-style, as ``fnmatch``,
    case kept: ``HLA-*``, ``*_alt``; ``[`` opens a set, so ``HLA-A[*]02:01:01:01`` names one
    allele contig whose name holds a ``*``)."""
    patterns = tuple(patterns)
    return frozenset(name.encode() for name in names if any(fnmatchcase(name, pattern) for pattern in patterns))


def naming_listed(text: bytes, starts: np.ndarray, ends: np.ndarray, listed: frozenset[bytes]) -> np.ndarray:
    """For each span (a block's RNEXT column), whether it names a contig of ``listed``: ``*`` and
    ``=``, most mates' RNEXT, are matched in C (``scan.span_choices``); only the other spans (a
    mate on another contig) are collected, once per distinct name (``fields.distinct_spans``)."""
    found = np.zeros(len(starts), dtype=bool)
    if not listed or not len(starts):
        return found
    others = np.flatnonzero(np.asarray(scan.span_choices(text, starts, ends, UNNAMED)) < 0)
    if len(others):
        values, index = distinct_spans(text, starts[others], ends[others])
        found[others[np.array([value in listed for value in values], dtype=bool)[index]]] = True
    return found
