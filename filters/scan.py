"""The byte loops of the record commands: one function a loop, compiled or pure, chosen here.

Most records pass through a filter unchanged, so a filter's time is the time it takes
to find, in a block of text, the few bytes it must look at. Those loops are written
twice: in C (``_scan.c``, typed by ``_scan.pyi``, adapted to numpy by
``scan_compiled``) and in Python (``scan_python``), with one signature and one answer.
This module picks one of the two at import and binds its functions here; a command
calls ``scan.count_lines(...)`` and never asks which it got. The pure twins run where
``_scan.c`` was not built (an install without a C compiler: slower, same output).

``GENOSCRUB_PURE_PYTHON=1`` makes every command use the twins; the goldens run once
more that way. ``GENOSCRUB_REQUIRE_SCAN=1`` (set by ``make test``) makes a missing build
an error, so CI cannot pass on the slow path by accident.

``python`` and ``compiled`` are the two implementations as modules (``compiled`` is
None without the build or with ``GENOSCRUB_PURE_PYTHON``), for the tests that hold them
to the same answers; ``LOOPS`` names the functions both define. ``native`` is the raw C
module (or None), for code not yet calling the functions here.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

# Relative, so that mypy checks both implementations against one another under either package name.
from . import scan_python as python
from .scan_python import (
    BAD_COLUMN_COUNT,
    BAD_POS,
    BAM_RECORD_FIELDS,
    BAM_TAG_FIELDS,
    BCF_DECLARED_FLAG,
    BCF_DECLARED_FLOAT,
    BCF_DECLARED_FORMAT_SHIFT,
    BCF_DECLARED_INFO_SHIFT,
    BCF_DECLARED_INTEGER,
    BCF_DECLARED_STRING,
    BCF_FIELD_ALLELE,
    BCF_FIELD_FILTER,
    BCF_FIELD_FORMAT,
    BCF_FIELD_ID,
    BCF_FIELD_INFO,
    BCF_FIELD_QUAL,
    BCF_FIELD_RLEN,
    BCF_KEY_FILTER,
    BCF_KEY_FORMAT,
    BCF_KEY_INFO,
    BCF_NO_KEYS,
    BCF_PROBLEM_AFTER_END,
    BCF_PROBLEM_AFTER_NUL,
    BCF_PROBLEM_DECLARED_TYPE,
    BCF_PROBLEM_END,
    BCF_PROBLEM_FIELDS,
    BCF_PROBLEM_FORMAT_WITHOUT_SAMPLES,
    BCF_PROBLEM_INDIV_TAIL,
    BCF_PROBLEM_MISSING_CHAR,
    BCF_PROBLEM_NAN_BITS,
    BCF_PROBLEM_PHASE,
    BCF_PROBLEM_REPEATED,
    BCF_PROBLEM_RLEN,
    BCF_PROBLEM_SAMPLE_COUNT,
    BCF_PROBLEM_SHARED_TAIL,
    BCF_PROBLEM_TYPE,
    BCF_PROBLEM_UNDECLARED,
    BCF_PROBLEM_UNPARSED,
    BCF_TYPE_SIZES,
    BCF_VECTOR_END,
    EMPTY_CHROM,
    TAG_LINE_MATE_CIGAR,
    TAG_LINE_NAMED,
    TAG_LINE_PLACE,
    BamRecords,
    BcfRecords,
    FastqRecords,
    LineFields,
    RevertedMatches,
    VcfColumns,
)

__all__ = [
    "BCF_FIELD_ALLELE",
    "BCF_FIELD_RLEN",
    "BCF_DECLARED_FLAG",
    "BCF_DECLARED_FLOAT",
    "BCF_DECLARED_FORMAT_SHIFT",
    "BCF_DECLARED_INFO_SHIFT",
    "BCF_DECLARED_INTEGER",
    "BCF_DECLARED_STRING",
    "BCF_NO_KEYS",
    "BCF_PROBLEM_DECLARED_TYPE",
    "BCF_PROBLEM_END",
    "BCF_PROBLEM_MISSING_CHAR",
    "BCF_PROBLEM_PHASE",
    "BCF_PROBLEM_REPEATED",
    "BCF_PROBLEM_RLEN",
    "BCF_FIELD_FILTER",
    "BCF_FIELD_FORMAT",
    "BCF_FIELD_ID",
    "BCF_FIELD_INFO",
    "BCF_FIELD_QUAL",
    "BCF_KEY_FILTER",
    "BCF_KEY_FORMAT",
    "BCF_KEY_INFO",
    "BCF_PROBLEM_AFTER_END",
    "BCF_PROBLEM_AFTER_NUL",
    "BCF_PROBLEM_FORMAT_WITHOUT_SAMPLES",
    "BCF_PROBLEM_INDIV_TAIL",
    "BCF_PROBLEM_NAN_BITS",
    "BCF_PROBLEM_SAMPLE_COUNT",
    "BCF_PROBLEM_SHARED_TAIL",
    "BCF_PROBLEM_TYPE",
    "BCF_PROBLEM_UNDECLARED",
    "BCF_PROBLEM_UNPARSED",
    "BCF_TYPE_SIZES",
    "BCF_VECTOR_END",
    "BAD_COLUMN_COUNT",
    "BAD_POS",
    "BAM_RECORD_FIELDS",
    "BAM_TAG_FIELDS",
    "BCF_PROBLEM_FIELDS",
    "EMPTY_CHROM",
    "LOOPS",
    "BamRecords",
    "BcfRecords",
    "FastqRecords",
    "LineFields",
    "RevertedMatches",
    "TAG_LINE_MATE_CIGAR",
    "TAG_LINE_NAMED",
    "TAG_LINE_PLACE",
    "VcfColumns",
    "any_strings",
    "bam_records",
    "bcf_records",
    "cigar_lengths",
    "compiled",
    "count_lines",
    "date_junctions",
    "fastq_kseq_block",
    "fastq_rebuild",
    "fastq_scan",
    "find_spread_strings",
    "find_strings",
    "first_of_strings",
    "info_values",
    "join_spans",
    "keyed_name_hashes",
    "line_fields",
    "md_and_nm",
    "md_lengths",
    "md_bases_at",
    "native",
    "python",
    "read_into",
    "repeated_tags",
    "replace_spans",
    "sam_revert_matches",
    "span_choices",
    "sam_revert_windows",
    "sam_tag_lines",
    "span_numbers",
    "spans_within",
    "splice_lines",
    "span_list",
    "splice_spans",
    "tag_codes",
    "vcf_columns",
    "vcf_identifier_candidates",
]

LOOPS = (
    "count_lines",
    "date_junctions",
    "vcf_columns",
    "spans_within",
    "info_values",
    "replace_spans",
    "join_spans",
    "line_fields",
    "read_into",
    "fastq_scan",
    "fastq_rebuild",
    "fastq_kseq_block",
    "sam_revert_matches",
    "splice_lines",
    "bam_records",
    "find_spread_strings",
    "find_strings",
    "any_strings",
    "first_of_strings",
    "line_fields",
    "splice_spans",
    "md_lengths",
    "md_bases_at",
    "md_and_nm",
    "span_list",
    "cigar_lengths",
    "keyed_name_hashes",
    "vcf_identifier_candidates",
    "tag_codes",
    "span_choices",
    "span_numbers",
    "sam_tag_lines",
    "repeated_tags",
    "sam_revert_windows",
    "bcf_records",
)
"""The loops each implementation defines, with one signature."""


def load_compiled(name: str) -> ModuleType | None:
    """The package's compiled module ``name`` (``_scan``, ``_keyed_hash``), or None where it was
    not built or is not wanted; the two switches above apply to every compiled module."""
    if os.environ.get("GENOSCRUB_PURE_PYTHON"):
        return None
    try:
        return importlib.import_module(f".{name}", __package__)
    except ImportError:
        if os.environ.get("GENOSCRUB_REQUIRE_SCAN"):
            raise
        return None


native = load_compiled("_scan")
compiled: ModuleType | None = None

if native is not None:
    from . import scan_compiled
    from .scan_compiled import (
        any_strings,
        bam_records,
        bcf_records,
        cigar_lengths,
        count_lines,
        date_junctions,
        fastq_kseq_block,
        fastq_rebuild,
        fastq_scan,
        find_spread_strings,
        find_strings,
        first_of_strings,
        info_values,
        join_spans,
        keyed_name_hashes,
        line_fields,
        md_and_nm,
        md_bases_at,
        md_lengths,
        read_into,
        repeated_tags,
        replace_spans,
        sam_revert_matches,
        sam_revert_windows,
        sam_tag_lines,
        span_choices,
        span_list,
        span_numbers,
        spans_within,
        splice_lines,
        splice_spans,
        tag_codes,
        vcf_columns,
        vcf_identifier_candidates,
    )

    compiled = scan_compiled
else:
    from .scan_python import (
        any_strings,
        bam_records,
        bcf_records,
        cigar_lengths,
        count_lines,
        date_junctions,
        fastq_kseq_block,
        fastq_rebuild,
        fastq_scan,
        find_spread_strings,
        find_strings,
        first_of_strings,
        info_values,
        join_spans,
        keyed_name_hashes,
        line_fields,
        md_and_nm,
        md_bases_at,
        md_lengths,
        read_into,
        repeated_tags,
        replace_spans,
        sam_revert_matches,
        sam_revert_windows,
        sam_tag_lines,
        span_choices,
        span_list,
        span_numbers,
        spans_within,
        splice_lines,
        splice_spans,
        tag_codes,
        vcf_columns,
        vcf_identifier_candidates,
    )
