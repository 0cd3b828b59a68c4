"""INFO and FORMAT keys known to hold large numbers: the only numeric keys whose numbers pass unread.

A number of the VCF grammar says nothing of what it means: ``END=123456789`` is a position,
``BIRTH=19900101`` of Type Integer a date of birth, ``RRNI=900101,1234567`` (Number=2) a
resident registration number cut in two, ``PHONE=1012345678`` a mobile number that lost its
leading 0. So vcf-scrub-header holds the values of an Integer or Float key to the value rule
(``record_values``: a number of 7 digits or more written alone goes, the date shapes go,
small numbers, fractions, ``1e-05`` and ``NaN`` stay) unless the key is one that writes
large numbers on purpose, listed here (ARCHITECTURE.md, *Metadata*). A key is listed only
when the tools that write it can legitimately give it 7 digits: the specification's numeric
keys that stay small (``GQ``, ``AF``, ``CIPOS``, ``HOMLEN``, ``BQ``) are not here, and their
rare large values go. Nor are likelihoods and scores (``PL``, ``GL``, Mutect2's ``TLOD``,
freebayes' ``SAP``): they pass 999999 only in files deeper than a hundred thousand reads of
one allele, and there such a value goes, counted.

genoscrub-audit keeps its own copy of the list (``audit_allowlist.LARGE_NUMBER_KEYS``);
``tests/test_allowlists_agree.py`` holds the two equal.
"""

from __future__ import annotations

LARGE_NUMBER_KEYS = frozenset(
    {
        # Positions on a contig (up to 2^31 - 1; chr1 is 248956422 long): the specification's END and
        # FORMAT PS (a phase set is named by the position of its first variant: GATK, WhatsHap); the
        # second breakend of Delly and the SV mergers (POS2), GATK-SV and 1000 Genomes' SV release
        # (END2), other SV and CNV callers (SVEND, MATEPOS); dbSNP's RSPOS; SURVIVOR's averages of
        # the positions of the calls it merges (AVG_START, AVG_END).
        b"END", b"PS", b"POS2", b"END2", b"SVEND", b"MATEPOS", b"RSPOS", b"AVG_START", b"AVG_END",
        # Lengths of structural variants, up to a chromosome's: the specification's SVLEN, the LEN of
        # SV callers that write one, SURVIVOR's AVG_LEN.
        b"SVLEN", b"LEN", b"AVG_LEN",
        # Reads at a site: the depth and its parts by allele, strand or tier, which pass a million in
        # an amplicon or UMI file (and in gnomAD's DP, summed over every sample). The specification's
        # DP, AD, ADF, ADR, MQ0 and GATK's FORMAT SB (four read counts); bcftools' DP4; GATK's F1R2,
        # F2R1, FAD (Mutect2), AS_UNIQ_ALT_READ_COUNT, MIN_DP (GVCF blocks), VarDP and AS_VarDP;
        # DeepVariant's MIN_DP and MED_DP; freebayes' RO, AO, SRF, SRR, SAF, SAR, RPL, RPR, DPR, DPB;
        # Strelka2's FDP, SDP, SUBDP, AU, CU, GU, TU, DP2, TAR, TIR, TOR, DP50, FDP50, SUBDP50 (somatic)
        # and DPF, DPI (germline); VarScan2's RD, RDF, RDR, SDP, ADP; VarDict's VD, HICNT, HICOV;
        # Delly's RC, RCL, RCR (read or base counts of the variant and its flanks: a large deletion's
        # base count reaches millions at 30x).
        b"DP", b"AD", b"ADF", b"ADR", b"MQ0", b"SB", b"DP4", b"F1R2", b"F2R1", b"FAD", b"AS_UNIQ_ALT_READ_COUNT",
        b"MIN_DP", b"MED_DP", b"VarDP", b"AS_VarDP", b"RO", b"AO", b"SRF", b"SRR", b"SAF", b"SAR", b"RPL", b"RPR",
        b"DPR", b"DPB", b"FDP", b"SDP", b"SUBDP", b"AU", b"CU", b"GU", b"TU", b"DP2", b"TAR", b"TIR", b"TOR",
        b"DP50", b"FDP50", b"SUBDP50", b"DPF", b"DPI", b"RD", b"RDF", b"RDR", b"ADP", b"VD", b"HICNT", b"HICOV",
        b"RC", b"RCL", b"RCR",
        # Sums over reads or samples, which pass a million at a few hundred reads: freebayes' QR and QA
        # (base qualities), GATK's RAW_MQ and RAW_MQandDP (squared mapping qualities), QUALapprox and
        # AS_QUALapprox (summed over a cohort's samples), bcftools' I16 (sums and sums of squares).
        b"QR", b"QA", b"RAW_MQ", b"RAW_MQandDP", b"QUALapprox", b"AS_QUALapprox", b"I16",
        # Counts of a cohort's alleles and samples: AN passes a million in gnomAD v4 (807,162 people),
        # AC and GATK's MLEAC with it; NS, the samples with data, in a cohort of a million.
        b"AC", b"AN", b"MLEAC", b"NS",
        # Public numeric IDs: dbSNP's rs number (RS, 10 digits), ClinVar's ALLELEID (7 digits). dbSNP's
        # dbSNPBuildID is a build (156), small.
        b"RS", b"ALLELEID",
    }
)  # fmt: skip
"""Keys whose numbers may be large on purpose, by name; the population databases' families are
``LARGE_NUMBER_WORDS`` and ``LARGE_NUMBER_ENDINGS``."""

LARGE_NUMBER_WORDS = frozenset({b"AC", b"AN", b"nhomalt", b"DP"})
"""A word (between ``_``) that makes a key a count of the population databases' families: gnomAD's
``AC_afr``, ``AN_XX``, ``controls_AC_afr``, ``non_topmed_AN``, ``nhomalt_grpmax`` (which gnomAD v4
writes as 2147483647 where it overflowed), the ``AFR_AC`` of gnomAD-SV, ExAC's ``AC_Adj``; and
depths such as ``MIN_DP``."""

LARGE_NUMBER_ENDINGS = (b"_n_smaller", b"_n_larger")
"""gnomAD's counts of samples beyond a histogram's edges (``dp_hist_all_n_larger``): a cohort's size."""


def holds_large_numbers(key: bytes) -> bool:
    """Whether an INFO or FORMAT key is one whose numbers may be large on purpose: listed, or of a
    population database's families."""
    return key in LARGE_NUMBER_KEYS or not LARGE_NUMBER_WORDS.isdisjoint(key.split(b"_")) or key.endswith(LARGE_NUMBER_ENDINGS)
