"""The value grammars of the kept aux tags (genoscrub.aux_values, genoscrub.aux_tags).

Three kinds of test:

- examples: forms the tools write (bwa, minimap2, STAR, fgbio, GATK, the SAM tags
  specification's own) are kept, and identifiers, paths and near misses are not;
- one answer: every grammar's bulk check (``valid_spans``) and the block check of a
  whole block of records (``TagPolicy.valid_values``) equal the one-value check they
  stand for, on values hypothesis draws near the grammar's edges;
- the table: every kept tag has a grammar for each type, and the man page lists it.
"""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from genoscrub import aux_tags
from genoscrub.audit_aux import modification_calls as audited_calls
from genoscrub.aux_tags import DROP, KEPT_TAGS, TagPolicy, locate_tags, tag_code
from genoscrub.aux_values import (
    IUPAC,
    Spans,
    cigar_reference_length,
    cigar_reference_lengths,
    md_reference_length,
    md_reference_lengths,
    modification_calls,
    partner_agrees,
    partners_agree,
)
from hypothesis import given, settings
from hypothesis import strategies as st

REFERENCES = {b"chr1": 1000, b"chr2": 500, b"HLA-A*01:01:01:01": 3503}
PLANTED = b"S2301217T"
READ_101 = b"A" * 101
POLICY = TagPolicy()


def verdicts(tags: list[bytes], seq: bytes = b"ACGT", cigar: bytes = b"4M", policy: TagPolicy = POLICY) -> list[bool]:
    """The one-record verdict of each ``TAG:TYPE:VALUE`` of one record, placed at chr1:100 with
    its mate at 300 (``MC``, where one of ``tags``, gives the mate's CIGAR)."""
    parsed = [(tag[:2], tag[3:4], tag[5:]) for tag in tags]
    columns = [b"r", b"99", b"chr1", b"100", b"60", cigar, b"=", b"300", b"0", seq, b"*"]
    return policy.valid_record_values(parsed, seq, cigar, REFERENCES, columns)


def kept(tag: bytes, seq: bytes = b"ACGT", cigar: bytes = b"4M") -> bool:
    return verdicts([tag], seq, cigar)[0]


# --- examples ----------------------------------------------------------------------------

VALID = [
    # alignment strings
    (b"MC:Z:100M", b"", b""),
    (b"MC:Z:*", b"", b""),
    (b"MC:Z:2S40M1I3D33S", b"", b""),
    (b"OC:Z:75M", b"", b""),
    (b"MD:Z:100", b"A" * 100, b"100M"),
    (b"MD:Z:22G75T1", b"A" * 100, b"100M"),
    (b"MD:Z:6^C10C106^ACAAT28", b"A" * 151, b"6M1D117M5D28M"),  # bcftools' indel-AD test file
    (b"MD:Z:4", b"A" * 6, b"2M2I2M"),  # insertions are not in MD
    (b"MD:Z:4", b"ACGT", b"2M500N2M"),  # nor are skips
    (b"MD:Z:0A0C2", b"ACGT", b"1X1X2="),
    (b"MD:Z:1N1R0", b"ACGT", b"4M"),  # reference IUPAC codes
    (b"SA:Z:chr1,100,+,50M50S,60,0;", READ_101, b"101M"),
    (b"SA:Z:chr1,100,+,50M50S,60,0;chr2,5,-,50S50M,0,12;", READ_101, b"101M"),
    (b"SA:Z:HLA-A*01:01:01:01,3503,+,1M,255,0;", b"", b""),
    (b"XA:Z:chr1,+100,100M,2;", READ_101, b"101M"),
    (b"XA:Z:chr1,-1000,78M1D22M,4;chr2,+1,100M,0;", READ_101, b"101M"),
    (b"XA:Z:map2-1", b"", b""),  # TMAP: the algorithm of the mapping
    (b"XB:Z:chr1,+100,100M,2,90,60;", READ_101, b"101M"),
    (b"SA:Z:chr1,100,+,50M50S,60,999999;", READ_101, b"101M"),  # NM of at most 6 digits, as the count tags
    (b"XA:Z:chr1,+100,100M,999999;", READ_101, b"101M"),
    (b"XB:Z:chr1,+100,100M,999999,-999999,60;", READ_101, b"101M"),  # and XB's score too
    (b"OA:Z:chr1,1,-,101M,255,;", READ_101, b"101M"),  # Picard: NM may be empty
    (b"OA:Z:chr1,302,+,10M1D10M5I76M,255,0;*,0,+,*,255,;", READ_101, b"101M"),
    (b"SA:Z:chr1,500,+,6S4M,60,0;", b"ACGT", b"6H4M"),  # the read's hard clips count: 10 bases
    (b"SA:Z:chr1,500,+,6H4M,60,0;", b"*", b"6H4M"),  # no SEQ: the 10 bases its CIGAR lays out
    (b"SA:Z:chr1,500,+,500M,60,0;", b"*", b"*"),  # neither: any length within the reference
    (b"XA:Z:chr2,+1,2M496N2M,0;", b"ACGT", b"4M"),  # a span of 500, chr2's length
    (b"CC:Z:=", b"", b""),
    (b"CC:Z:chr2", b"", b""),
    # sequences and qualities
    (b"E2:Z:NNGT", b"", b""),
    (b"U2:Z:#II5", b"", b""),
    (b"OQ:Z:IIII", b"", b""),
    (b"BQ:Z:@@@A", b"", b""),
    (b"BD:Z:MNOL", b"", b""),
    (b"BI:Z:PQRP", b"", b""),
    (b"R2:Z:ACGTNacgtn", b"", b""),
    (b"CS:Z:T0123.", b"", b""),
    # barcodes and UMIs
    (b"RX:Z:TACG-TTTTTA", b"", b""),  # htslib's UMI test file
    (b"OX:Z:ACGT", b"", b""),
    (b"CR:Z:AAACCTGAGAAGGCCT", b"", b""),
    (b"CB:Z:AAACCTGAGAAGGCCT-1", b"", b""),  # Cell Ranger
    (b"CB:Z:BBBB", b"", b""),
    (b"UB:Z:TTTGCAGCTT", b"", b""),
    (b"UR:Z:TTTGCAGCTN", b"", b""),
    (b"RX:Z:" + b"ACGTACGTACGTACG-TGCATGCATGCATGCA", b"", b""),  # 32 bytes: two UMIs of 15 and 16
    (b"CB:Z:" + b"ACGT" * 8 + b"-1", b"", b""),
    (b"MI:Z:12/A", b"", b""),  # fgbio
    (b"MI:Z:12", b"", b""),
    (b"MI:Z:B/2", b"", b""),  # samtools' template-coordinate test file
    (b"MI:Z:J", b"", b""),
    (b"MI:i:12", b"", b""),
    # base modifications
    (b"MM:Z:C+m,5,12,0;", b"C" * 50, b""),
    (b"MM:Z:C+m?;G-a.;", b"", b""),
    (b"MM:Z:C+mh,2,2,0,0,4,1;N+n,15,2;", b"A" * 36, b""),
    (b"MM:Z:C+76792,6,7;", b"A" * 36, b""),
    (b"MM:Z:C+C,1;", b"", b""),
    (b"MM:Z:", b"", b""),
    # minimap2
    (b"cs:Z::10*ag:5+ac-gt:20", b"A" * 38, b"2S16M2I2D20M1H"),  # clips aside, 38 bases of both
    (b"cs:Z:=ACGT*ag=TT", b"A" * 7, b"7M"),
    (b"cs:Z::5~gt100ag:5", b"A" * 10, b"5M100N5M"),  # an intron of 100
    (b"cg:Z:100M", b"A" * 100, b"100M"),
    (b"cg:Z:50M50M", b"A" * 100, b"50=1X49="),  # the same lengths
    (b"de:f:0.0123", b"", b""),  # minimap2: 4 decimals
    (b"dv:f:1e-05", b"", b""),  # htslib: %g
    (b"de:f:0.123457", b"", b""),
    (b"dv:f:1.23457e-05", b"", b""),
    (b"de:f:0.000000", b"", b""),  # printf's %f
    (b"de:f:1.00000", b"", b""),
    (b"tp:A:P", b"", b""),
    (b"ts:A:-", b"", b""),
    # lists, integers, characters and arrays
    (b"YT:Z:UU", b"", b""),
    (b"YF:Z:NS", b"", b""),
    (b"DT:Z:SQ", b"", b""),
    (b"GX:Z:ENSG00000243485", b"", b""),
    (b"GX:Z:ENSG00000243485.5;ENSG00000182378.14_PAR_Y", b"", b""),
    (b"GX:Z:ENSG00000310000", b"", b""),
    (b"GX:Z:ENSMUSG00000064370", b"", b""),  # mouse: a species prefix of 3 letters
    (b"GX:Z:ENSCSAVG00000000002.1", b"", b""),  # Ciona savignyi: 4
    (b"GX:Z:-", b"", b""),
    (b"AS:i:-18", b"", b""),
    (b"NM:i:0", b"", b""),
    (b"AS:i:+5", b"", b""),
    (b"CP:i:2004", b"ACGT", b""),  # red team 9 A2: at most twice chr1's LN (1000) and the read
    (b"OP:i:2004", b"ACGT", b""),
    (b"XS:i:-999999", b"", b""),  # a count or score: at most 6 digits
    (b"AS:i:999999", b"", b""),
    (b"MQ:i:255", b"", b""),
    (b"MQ:i:0", b"", b""),
    (b"DI:i:19900101", b"", b""),  # numbered through the file: any number
    (b"de:f:1", b"", b""),
    (b"de:f:0", b"", b""),
    (b"dv:f:.5", b"", b""),
    (b"de:f:1.000", b"", b""),
    (b"XS:A:+", b"", b""),
    (b"XT:A:U", b"", b""),
    (b"TS:A:-", b"", b""),
    (b"ch:A:1", b"", b""),
    (b"jM:B:c,-1", b"", b""),  # STAR's: no junction
    (b"jM:B:c,21", b"ACGT", b"2M200N2M"),  # one motif for the skip
    (b"jM:B:c,1,0", b"ACGT", b"2M200N2M100N"),
    (b"jI:B:i,-1", b"ACGT", b"4M"),  # STAR's: no junction
    (b"jI:B:i,102,301", b"ACGT", b"2M200N2M"),  # the skip of the CIGAR, from POS 100
    (b"jI:B:i,102,301,304,403", b"ACGT", b"2M200N2M100N"),
    (b"jI:B:I,102,301", b"ACGT", b"2M200N2M"),
    (b"vG:B:i,100,103", b"ACGT", b"4M"),  # within the alignment, POS to its end
    (b"vG:B:i,101,101,350", b"ACGT", b"2M300N2M"),
]

INVALID = [
    (b"CP:i:4294967295", b"ACGT", b"4M"),  # red team 9 A2: past twice the contig's LN and a read
    (b"OP:i:19900101", b"ACGT", b"4M"),  # a date on a contig of 1000
    (b"OP:i:2005", b"ACGT", b"4M"),
    (b"jI:B:i,75,73,77,74,73,72,79,79,78", b"ACGT", b"4M"),  # KIMJIHOON as numbers: no skip of the CIGAR
    (b"jI:B:C,75,73", b"ACGT", b"4M"),
    (b"jI:B:i,102,300", b"ACGT", b"2M200N2M"),  # one base short of the skip
    (b"jI:B:i,102", b"ACGT", b"2M200N2M"),
    (b"jI:B:i,102,301,102,301", b"ACGT", b"2M200N2M"),  # given twice
    (b"jI:B:i,304,403,102,301", b"ACGT", b"2M200N2M100N"),  # out of order
    (b"jI:B:i,102,301", b"ACGT", b"*"),
    (b"vG:B:i,1,2", b"ACGT", b"4M"),  # before POS
    (b"vG:B:i,100,104", b"ACGT", b"4M"),  # past the alignment's end
    (b"vG:B:i,103,100", b"ACGT", b"4M"),
    (b"vG:B:C,100,101", b"ACGT", b"4M"),
    (b"XS:i:-2147483648", b"", b""),  # a count or score of 7 digits or more: a date, a record number
    (b"AS:i:1000000", b"", b""),
    (b"NM:i:19900101", b"", b""),
    (b"MQ:i:256", b"", b""),
    (b"SM:i:-1", b"", b""),
    (b"de:f:1.5", b"", b""),
    (b"dv:f:19900101", b"", b""),
    (b"de:f:-0.1", b"", b""),
    (b"MC:Z:" + PLANTED, b"", b""),
    (b"MC:Z:/home/kimjh", b"", b""),
    (b"MC:Z:10M*", b"", b""),
    (b"MC:Z:1234567890M", b"", b""),  # BAM holds lengths under 2^28
    (b"MD:Z:/home/kimjh", b"", b""),
    (b"MD:Z:" + PLANTED, b"", b""),
    (b"MD:Z:0S2301217T0", b"", b""),  # on the grammar, but 2301219 reference bases for a 4M
    (b"MD:Z:5", b"ACGT", b"4M"),
    (b"MD:Z:4", b"ACGT", b"*"),  # no alignment to describe
    (b"MD:Z:4", b"ACGT", b"4Q"),
    (b"MD:Z:2a1", b"ACGT", b"4M"),
    (b"MD:Z:1AC1", b"ACGT", b"4M"),  # two mismatches need a 0 between them
    (b"MD:Z:1^1", b"ACGT", b"2M1D2M"),
    (b"MD:Z:1Q2", b"ACGT", b"4M"),  # Q is no nucleotide code
    (b"MD:Z:", b"ACGT", b"4M"),
    (b"SA:Z:patient Kim", b"", b""),
    (b"SA:Z:chr3,100,+,50M,60,0;", b"", b""),  # no such reference
    (b"SA:Z:chr1,1001,+,50M,60,0;", b"", b""),  # past its end
    (b"SA:Z:chr1,0,+,50M,60,0;", b"", b""),
    (b"SA:Z:chr1,100,+,50M,60,0", b"", b""),  # entries end with ;
    (b"SA:Z:chr1,100,+,50M,256,0;", b"", b""),
    (b"SA:Z:chr1,100,+,50M,60,0;" + PLANTED + b";", b"", b""),
    (b"XA:Z:" + PLANTED, b"", b""),
    (b"XA:Z:abc", b"", b""),
    (b"XA:Z:chr1,100,100M,2;", b"", b""),  # bwa signs the position
    (b"XA:Z:chr1,+100,100M,2;S2301217T,+5,4M,0;", b"", b""),
    (b"XB:Z:chr1,+100,100M,2,90,256;", b"", b""),
    (b"SA:Z:chr1,500,+,10M,60,19900101;", b"", b""),  # NM holding a date
    (b"SA:Z:chr1,100,+,50M,60,1000000;", b"", b""),
    (b"OA:Z:chr1,800,-,10M,60,19900101;", b"", b""),
    (b"XA:Z:chr1,+600,10M,900101123;", b"", b""),
    (b"XB:Z:chr1,-700,10M,1,9001011234,60;", b"", b""),  # a score holding a registration number
    (b"XB:Z:chr1,-700,10M,1,-1000000,60;", b"", b""),
    (b"XB:Z:chr1,-700,10M,1000000,1,60;", b"", b""),
    (b"OA:Z:*,5,+,*,255,;", b"", b""),
    (b"SA:Z:chr1,500,+,19900101M,60,0;", b"A" * 10, b"10M"),  # a number, not an alignment of the read
    (b"XA:Z:chr1,+500,19900101M,0;", b"A" * 10, b"10M"),
    (b"OA:Z:chr1,500,+,5S19900101M,60,0;", b"A" * 10, b"10M"),
    (b"XB:Z:chr1,+100,5M,2,90,60;", b"ACGT", b"4M"),
    (b"SA:Z:chr1,500,+,7S4M,60,0;", b"ACGT", b"6H4M"),  # 11 bases of a read of 10
    (b"SA:Z:chr1,500,+,6H5M,60,0;", b"*", b"6H4M"),
    (b"SA:Z:chr1,500,+,1001M,60,0;", b"*", b"*"),  # longer than chr1
    (b"XA:Z:chr2,+1,2M497N2M,0;", b"ACGT", b"4M"),
    (b"CC:Z:chrX", b"", b""),
    (b"CC:Z:" + PLANTED, b"", b""),
    (b"E2:Z:ACG", b"", b""),  # not as long as SEQ
    (b"E2:Z:ACGT", b"*", b""),  # no SEQ to be as long as
    (b"E2:Z:KIMS", b"", b""),  # I is no nucleotide code
    (b"OQ:Z:" + PLANTED, b"", b""),
    (b"OQ:Z:III", b"", b""),
    (b"OQ:Z:II I", b"", b""),
    (b"BQ:Z:IIIII", b"", b""),
    (b"R2:Z:" + PLANTED, b"", b""),
    (b"Q2:Z:IIII", b"", b""),  # no R2 to be the qualities of
    (b"CQ:Z:IIII", b"", b""),
    (b"CS:Z:" + PLANTED, b"", b""),
    (b"RX:Z:" + PLANTED, b"", b""),
    (b"RX:Z:ACGT+TTGA", b"", b""),
    (b"RX:Z:" + b"ACGTACGTACGTACGT-TGCATGCATGCATGCA", b"", b""),  # 33 bytes: a read's own bases, not a barcode
    (b"OX:Z:" + b"ACGT" * 12 + b"AC", b"", b""),
    (b"CR:Z:" + b"ACGT" * 9, b"", b""),
    (b"UB:Z:" + b"ACG-" * 9, b"", b""),
    (b"UR:Z:" + b"N" * 50, b"", b""),
    (b"CB:Z:" + b"ACGT" * 9 + b"-1", b"", b""),
    (b"CB:Z:" + b"ACGT" * 9, b"", b""),
    (b"QX:Z:IIII", b"", b""),
    (b"CB:Z:ACGT-" + PLANTED, b"", b""),
    (b"CB:Z:ACGT-1234", b"", b""),
    (b"CR:Z:ACGT1", b"", b""),
    (b"UY:Z:IIII", b"", b""),
    (b"MI:Z:" + PLANTED, b"", b""),
    (b"MI:Z:12/AB", b"", b""),
    (b"MI:Z:/home/kimjh", b"", b""),
    (b"MM:Z:C+m,60;", b"C" * 50, b""),  # beyond SEQ
    (b"MM:Z:C+m,1;", b"*", b""),
    (b"MM:Z:C+kim,1;", b"", b""),
    (b"MM:Z:C+m,1", b"", b""),
    (b"ML:B:c,1", b"", b""),
    (b"ML:B:C,256", b"", b""),
    (b"ML:B:C," + PLANTED, b"", b""),
    (b"cs:Z:" + PLANTED, b"", b""),
    (b"cs:Z::19900101", b"A" * 10, b"10M"),  # a date as a run of matches on a 10-base read
    (b"cs:Z::4~gt19900101ag:6", b"A" * 10, b"10M"),  # as an intron the CIGAR has not
    (b"cs:Z::4*ag:6", b"A" * 10, b"10M"),
    (b"cs:Z::3+ac:5", b"A" * 10, b"10M"),  # the insertion is not the CIGAR's
    (b"cs:Z::10", b"A" * 10, b"*"),  # no CIGAR: nothing to describe
    (b"cg:Z:19900101M", b"A" * 10, b"10M"),
    (b"cg:Z:10M1D", b"A" * 10, b"10M"),
    (b"cg:Z:10M", b"A" * 10, b"*"),
    (b"cs:Z:-kim", b"", b""),
    (b"cs:Z:", b"", b""),
    (b"cg:Z:" + PLANTED, b"", b""),
    (b"de:f:nan", b"", b""),
    (b"de:f:inf", b"", b""),
    (b"de:f:3.5e38", b"", b""),
    (b"de:f:10.", b"", b""),
    (b"de:f:0.", b"", b""),  # a point needs a digit after it (a block of them once kept it: the bulk check's pattern)
    (b"dv:f:1.", b"", b""),
    (b"dv:f:" + PLANTED, b"", b""),
    (b"de:f:19900101e-8", b"", b""),  # a date in the digits: more than the 6 htslib writes
    (b"de:f:0.19900101", b"", b""),
    (b"dv:f:0.9001011234567", b"", b""),
    (b"de:f:0.1234567", b"", b""),
    (b"de:f:1e-19900101", b"", b""),  # 0 to a reader: a date in the exponent
    (b"de:f:1e-005", b"", b""),
    (b"de:f:0.00000000001", b"", b""),  # zeros beyond %f's: padding
    (b"de:f:0000000019900101e-16", b"", b""),
    (b"tp:A:X", b"", b""),
    (b"tp:A:PP", b"", b""),
    (b"XS:A:x", b"", b""),
    (b"XT:A:S", b"", b""),
    (b"ch:A:2", b"", b""),
    (b"YT:Z:" + PLANTED, b"", b""),
    (b"YT:Z:UUU", b"", b""),
    (b"YT:Z:", b"", b""),
    (b"DT:Z:lb", b"", b""),
    (b"GX:Z:TP53", b"", b""),
    (b"GX:Z:" + PLANTED, b"", b""),
    (b"GX:Z:ENSG00000243485;" + PLANTED, b"", b""),
    (b"GX:Z:ENSKIMJHG19900101123", b"", b""),  # initials and a date of birth in an ID's shape
    (b"GX:Z:ENSG19900101123", b"", b""),  # 11 digits that do not begin 00000
    (b"GX:Z:ENSG00001990010", b"", b""),  # 7 significant digits: a date of birth (1990-01-01) after 0000
    (b"GX:Z:ENSMUSG00001990010.1", b"", b""),
    (b"GX:Z:ENSKIMJHG00000139618", b"", b""),  # a species prefix of 5 letters
    (b"GX:Z:ENSKIG00000139618", b"", b""),  # or of 2
    (b"GX:Z:ENSG00000243485;ENSG19900101123", b"", b""),
    (b"AS:i:" + PLANTED, b"", b""),
    (b"AS:i:4294967296", b"", b""),
    (b"AS:i:-2147483649", b"", b""),
    (b"AS:i:12345678901", b"", b""),
    (b"AS:i:", b"", b""),
    (b"AS:i:-", b"", b""),
    (b"AS:i:1.5", b"", b""),
    (b"MI:i:" + PLANTED, b"", b""),
    (b"jM:B:c,200", b"", b""),
    (b"jM:B:c,2,0,0,1,0,6,1,5", b"ACGT", b"4M"),  # 20010615: eight motifs for no junction
    (b"jM:B:c,1,1", b"ACGT", b"2M200N2M"),  # two motifs for one skip
    (b"jM:B:c,-1,20", b"ACGT", b"2M200N2M"),  # -1 stands alone
    (b"jM:B:c,1", b"ACGT", b"4M"),
    (b"jM:B:x,1", b"", b""),
    (b"jM:B:", b"", b""),
    (b"vA:B:c," + PLANTED, b"", b""),
]


def test_a_long_cigar_tag_in_sam_text_is_dropped() -> None:
    """htslib takes a long CIGAR's ``CG:B:I`` as the record's CIGAR when it reads a BAM, so SAM
    text it wrote never holds one: a ``CG`` there is another tool's array of free numbers."""
    assert POLICY.decide(b"CG", b"B") == DROP and b"CG" not in KEPT_TAGS


@pytest.mark.parametrize(("tag", "seq", "cigar"), VALID, ids=[tag.decode() for tag, _, _ in VALID])
def test_forms_the_tools_write_are_kept(tag: bytes, seq: bytes, cigar: bytes) -> None:
    assert kept(tag, seq or b"ACGT", cigar or b"4M")


@pytest.mark.parametrize(("tag", "seq", "cigar"), INVALID, ids=[tag.decode(errors="replace") for tag, _, _ in INVALID])
def test_values_off_their_grammar_are_dropped(tag: bytes, seq: bytes, cigar: bytes) -> None:
    assert not kept(tag, seq or b"ACGT", cigar or b"4M")


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ([b"R2:Z:ACGTA", b"Q2:Z:IIIII"], [True, True]),
        ([b"Q2:Z:IIIII", b"R2:Z:ACGTA"], [True, True]),  # in either order
        ([b"R2:Z:ACGTA", b"Q2:Z:IIII"], [True, False]),
        ([b"R2:Z:" + PLANTED, b"Q2:Z:IIIIIIIII"], [False, False]),  # the partner's value is off its grammar
        ([b"R2:Z:ACGTA", b"R2:Z:ACGTA", b"Q2:Z:IIIII"], [True, True, False]),  # which R2?
        ([b"RX:Z:ACGT-TTGA", b"QX:Z:IIII IIII"], [True, True]),
        ([b"RX:Z:ACGT-TTGA", b"QX:Z:IIIIIIIII"], [True, False]),  # a quality where RX has its -
        ([b"RX:Z:ACGTATTGA", b"QX:Z:IIII IIII"], [True, False]),
        ([b"OX:Z:ACG", b"BZ:Z:III"], [True, True]),
        ([b"CR:Z:ACGT", b"CY:Z:IIII"], [True, True]),
        ([b"UR:Z:ACGT", b"UY:Z:III"], [True, False]),
        ([b"CS:Z:T0123", b"CQ:Z:IIIII"], [True, True]),
        ([b"MM:Z:C+m,0,1,0;", b"ML:B:C,128,153,179"], [True, True]),  # one likelihood for each call
        ([b"ML:B:C,128,153,179", b"MM:Z:C+m?,0,1,0;"], [True, True]),
        ([b"MM:Z:C+mh,0,1;G-a,0;", b"ML:B:C,1,2,3,4,5"], [True, True]),  # C+mh: two at each base
        ([b"MM:Z:C+76792,0,1;", b"ML:B:C,1,2"], [True, True]),  # a ChEBI number is one code
        ([b"MM:Z:", b"ML:B:C"], [True, True]),
        ([b"MM:Z:C+m;", b"ML:B:C"], [True, True]),
        ([b"ML:B:C,75,73,77,74"], [False]),  # no MM: free bytes, which can spell a name
        ([b"jI:B:i,302,321", b"MC:Z:2M20N2M"], [True, True]),  # STAR: the pair's junctions, the mate's at PNEXT 300
        ([b"MC:Z:2M20N2M", b"vG:B:i,101,305"], [True, True]),
        ([b"jI:B:i,302,321"], [False]),  # no MC: the mate's skip cannot be told
        ([b"jI:B:i,302,321", b"MC:Z:2M20N2M", b"MC:Z:2M20N2M"], [False, True, True]),  # which MC?
        ([b"jI:B:i,302,320", b"MC:Z:2M20N2M"], [False, True]),
        ([b"jM:B:c,2,0,0,1,0,6,1,5", b"jI:B:i,-1"], [False, True]),  # STAR: -1 alone beside jI's -1
        ([b"jM:B:c,-1", b"jI:B:i,-1"], [True, True]),
        ([b"jM:B:c,1", b"jI:B:i,302,321", b"MC:Z:2M20N2M"], [True, True, True]),  # one motif a junction of jI
        ([b"jI:B:i,302,321", b"MC:Z:2M20N2M", b"jM:B:c,21"], [True, True, True]),
        ([b"jM:B:c,1,1", b"jI:B:i,302,321", b"MC:Z:2M20N2M"], [False, True, True]),
        ([b"jM:B:c,-1", b"jI:B:i,302,321", b"MC:Z:2M20N2M"], [False, True, True]),
        ([b"jM:B:c,1", b"jI:B:i,-1", b"MC:Z:2M20N2M"], [False, True, True]),
        ([b"jM:B:c,1", b"MC:Z:2M20N2M"], [True, True]),  # no jI: at most one motif a skip of the pair
        ([b"jM:B:c,1,1", b"MC:Z:2M20N2M"], [False, True]),
        ([b"jM:B:c,1", b"jI:B:i,302,320", b"MC:Z:2M20N2M"], [True, False, True]),  # jI goes: held to the skips
        ([b"jM:B:c,1", b"jI:B:i,302,321", b"jI:B:i,302,321", b"MC:Z:2M20N2M"], [False, True, True, True]),  # which jI?
        ([b"vA:B:c,1,3", b"MC:Z:2M20N2M", b"vG:B:i,101,305"], [True, True, True]),  # STAR: one allele a variant of vG
        ([b"vG:B:i,101", b"vA:B:C,2"], [True, True]),
        ([b"vA:B:c,1,2,3,1,2,3,1,2", b"vG:B:i,101"], [False, True]),  # more alleles than vG's positions
        ([b"vA:B:c,2", b"vG:B:i,101,102"], [False, True]),  # fewer
        ([b"vA:B:c,2,1,3,3,1,2,2,1"], [False]),  # no vG: base-3 digits of anything
        ([b"vA:B:c,2", b"vG:B:i,90"], [False, False]),  # vG goes (off the alignment): so does vA
        ([b"vA:B:c,2", b"vG:B:i,101", b"vG:B:i,101"], [False, True, True]),  # which vG?
        ([b"ML:B:C"], [False]),
        ([b"MM:Z:C+m,0,1;", b"ML:B:C,75,73,77,74"], [True, False]),  # more numbers than calls
        ([b"MM:Z:C+mh,0,1;", b"ML:B:C,75,73"], [True, False]),  # fewer
        ([b"MM:Z:C+m,60;", b"ML:B:C,1"], [False, False]),  # MM off its grammar (beyond SEQ)
        ([b"MM:Z:C+m,0;", b"MM:Z:C+m,0;", b"ML:B:C,1"], [True, True, False]),  # which MM?
        ([b"MM:Z:C+m,0;", b"ML:B:c,1"], [True, False]),
    ],
)
def test_values_tied_to_another_tag(tags: list[bytes], expected: list[bool]) -> None:
    assert verdicts(tags) == expected


def test_keep_tag_vouches_for_the_values_of_its_type() -> None:
    """--keep-tag keeps a tag with any type, its value checked only against the SAM grammar of its type."""
    policy = TagPolicy(keep=[b"XA", b"zz"])
    assert verdicts([b"XA:Z:abc", b"zz:Z:two words", b"zz:i:7", b"zz:H:DEADBEEF", b"zz:B:f,1.5"], policy=policy) == [True] * 5
    assert verdicts([b"XA:Z:tab\x01", b"zz:i:x", b"zz:H:ABC", b"zz:A:ab", b"zz:B:q,1"], policy=policy) == [False] * 5


KEEP_FLOATS = TagPolicy(keep=[b"zz"])


def test_a_float_holds_no_more_digits_than_a_float32() -> None:
    """A float in SAM text is kept with at most the 9 significant digits a float32 carries (Java's
    shortest form), no zeros before them beyond printf's ``%f`` and an exponent of at most 2
    digits, also where --keep-tag vouches for its type (alone or in a ``B`` array)."""
    kept_forms = [b"zz:f:0.123456789", b"zz:f:1.0E-5", b"zz:f:3.4028235E38", b"zz:f:-123456789", b"zz:f:0.000000",
                  b"zz:B:f,1e-05,0.33333334"]  # fmt: skip
    assert verdicts(kept_forms, policy=KEEP_FLOATS) == [True] * len(kept_forms)
    off = [b"zz:f:0.9001011234567", b"zz:f:1e-19900101", b"zz:f:1e+007", b"zz:f:0.00000000019900101", b"zz:f:1.0000000000",
           b"zz:B:f,0.5,9001011234567"]  # fmt: skip
    assert verdicts(off, policy=KEEP_FLOATS) == [False] * len(off)


FLOAT32S = st.floats(width=32, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(number=FLOAT32S)
def test_the_forms_the_tools_write_of_any_float_are_kept(number: float) -> None:
    """htslib writes ``%g`` (6 significant digits), numpy and Java the shortest text that reads back
    as the float32 (at most 9): both are kept; for a divergence (0 to 1) htslib's and minimap2's
    ``%.4f`` are kept by de's grammar."""
    for written in (b"%g" % number, str(np.float32(number)).encode()):
        assert verdicts([b"zz:f:" + written], policy=KEEP_FLOATS) == [True], written
    if 0 <= number <= 1:
        assert kept(b"de:f:%g" % number) and kept(b"dv:f:%.4f" % number)


FLOAT_TEXTS = st.tuples(
    st.sampled_from(["", "-", "+"]), st.text("0123456789", max_size=12), st.sampled_from(["", "."]), st.text("0123456789", max_size=12),
    st.sampled_from(["", "e", "E-", "e+"]), st.text("0123456789", max_size=4),
).map(lambda parts: "".join(parts[:5]) + (parts[5] if parts[4] else "")).map(str.encode)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(texts=st.lists(FLOAT_TEXTS.filter(bool), min_size=1, max_size=6))
def test_a_kept_float_shows_at_most_its_grammars_digits(texts: list[bytes]) -> None:
    """Counted apart (``Decimal``): a float de or dv keeps has at most 6 significant digits and a
    float --keep-tag keeps at most 9, their exponent at most 2 digits; a block gives each its
    one-value verdict."""
    from decimal import Decimal

    for text in texts:
        exponent = text.lower().partition(b"e")[2].lstrip(b"+-")
        divergence, vouched = kept(b"de:f:" + text), verdicts([b"zz:f:" + text], policy=KEEP_FLOATS)[0]
        shown = len(Decimal(text.decode()).normalize().as_tuple().digits) if divergence or vouched else 0
        assert not divergence or (shown <= 6 and len(exponent) <= 2), text
        assert not vouched or (shown <= 9 and len(exponent) <= 2), text
    text, starts, ends = block_of(texts)
    spans = Spans(text, np.frombuffer(text, dtype=np.uint8), starts, ends, np.full(len(texts), -1), REFERENCES)
    for grammar in {KEPT_TAGS[b"de"].grammars[b"f"], KEEP_FLOATS.kept[b"zz"].grammars[b"f"]}:
        assert grammar.valid_spans(spans).tolist() == [grammar.valid(value, -1, REFERENCES) for value in texts]


# --- one answer ------------------------------------------------------------------------

ALPHABET = b"0123456789ACGTNMDISHX=*^+-,;:./ ISkim\x01" + IUPAC.lower()
NEAR_MISSES = st.one_of(
    st.binary(max_size=12),
    st.lists(st.sampled_from([bytes([byte]) for byte in ALPHABET]), max_size=14).map(b"".join),
    st.sampled_from([tag[5:] for tag, _, _ in VALID + INVALID]),
)


def block_of(values: list[bytes]) -> tuple[bytes, np.ndarray, np.ndarray]:
    """``values`` as the tab-separated fields of one line: the block and where each value is."""
    text = b"\t".join(values) + b"\n"
    lengths = np.array([len(value) for value in values], dtype=np.int64)
    starts = np.cumsum(lengths + 1) - (lengths + 1)
    return text, starts, starts + lengths


@settings(max_examples=300, deadline=None)
@given(values=st.lists(NEAR_MISSES.filter(lambda value: b"\t" not in value and b"\n" not in value), min_size=1, max_size=8))
def test_every_grammar_checks_a_block_as_it_checks_one_value(values: list[bytes]) -> None:
    text, starts, ends = block_of(values)
    data = np.frombuffer(text, dtype=np.uint8)
    seq_lengths = np.array([len(value) % 7 - 1 for value in values], dtype=np.int64)
    spans = Spans(text, data, starts, ends, seq_lengths, REFERENCES)
    grammars = {id(grammar): grammar for tag in KEPT_TAGS.values() for grammar in tag.grammars.values()}
    for grammar in grammars.values():
        one = [grammar.valid(value, int(length), REFERENCES) for value, length in zip(values, seq_lengths, strict=True)]
        assert grammar.valid_spans(spans).tolist() == one, grammar.label
    assert md_reference_lengths(data, text, starts, ends).tolist() == [md_reference_length(value) for value in values]
    assert cigar_reference_lengths(data, text, starts, ends).tolist() == [cigar_reference_length(value) for value in values]


MD_PARTS = st.one_of(st.integers(0, 120).map(lambda n: b"%d" % n), st.sampled_from(list(IUPAC)).map(lambda b: bytes([b])))


MD_STRINGS = st.lists(st.one_of(MD_PARTS, st.just(b"^"), st.just(b"00")), min_size=1, max_size=9).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(MD_STRINGS, min_size=1, max_size=6), end_of_block=st.booleans())
def test_md_lengths_in_bulk_equal_one_by_one(parts: list[bytes], end_of_block: bool) -> None:
    """MD strings near the grammar, in a block and at its very end (no separator after them)."""
    text, starts, ends = block_of(parts)
    if end_of_block:
        text = text[:-1]
    data = np.frombuffer(text, dtype=np.uint8)
    assert md_reference_lengths(data, text, starts, ends).tolist() == [md_reference_length(part) for part in parts]


CIGARS = st.lists(st.tuples(st.integers(0, 300), st.sampled_from(list(b"MIDNSHPX=Q*"))), min_size=0, max_size=5).map(
    lambda ops: b"".join(b"%d%c" % (length, operation) for length, operation in ops)
)


@settings(max_examples=300, deadline=None)
@given(cigars=st.lists(CIGARS, min_size=1, max_size=6))
def test_cigar_lengths_in_bulk_equal_one_by_one(cigars: list[bytes]) -> None:
    text, starts, ends = block_of(cigars)
    data = np.frombuffer(text, dtype=np.uint8)
    assert cigar_reference_lengths(data, text, starts, ends).tolist() == [cigar_reference_length(cigar) for cigar in cigars]


@settings(max_examples=200, deadline=None)
@given(pairs=st.lists(st.tuples(st.binary(max_size=6).filter(lambda b: b"\t" not in b and b"\n" not in b),
                                st.sampled_from([b"ACGT", b"AC-GT", b"ACGT-", b"-", b"", b"A-C-G"])), min_size=1, max_size=6))  # fmt: skip
def test_partner_ties_in_bulk_equal_one_by_one(pairs: list[tuple[bytes, bytes]]) -> None:
    values = [value for pair in pairs for value in pair]
    text, starts, ends = block_of(values)
    data = np.frombuffer(text, dtype=np.uint8)
    bulk = partners_agree(data, text, starts[0::2], ends[0::2], starts[1::2], ends[1::2])
    assert bulk.tolist() == [partner_agrees(value, partner) for value, partner in pairs]


TAG_POOL = [tag for tag, _, _ in VALID + INVALID] + [
    b"R2:Z:ACGTA", b"Q2:Z:IIIII", b"RX:Z:AC-GT", b"QX:Z:II II", b"QX:Z:IIIII", b"MD:Z:4", b"MD:Z:2A1", b"MD:Z:1^A3",
    b"OQ:Z:IIIIII", b"E2:Z:ACGTAC", b"CO:Z:note", b"MM:Z:C+m,0,1;", b"MM:Z:C+mh,1;", b"MM:Z:A-a,0;", b"ML:B:C,1,2",
    b"ML:B:C,9", b"ML:B:C", b"RG:Z:x", b"PG:Z:bwa", b"zz:Z:" + PLANTED, b"jI:B:i,3,22", b"jI:B:i,3,22,25,30", b"jI:B:i,301,320",
    b"MC:Z:2M20N2M", b"MC:Z:4M", b"MC:Z:10M6N2M", b"MC:i:4", b"vG:B:i,1,4", b"vG:B:i,300,302", b"vG:B:i,5,300",
    b"jM:B:c,-1", b"jM:B:c,1", b"jM:B:c,1,22", b"jM:B:c,-1,1", b"jM:B:c,2,0,0,1,0,6,1,5", b"jI:B:i,-1", b"jI:B:i,-01", b"jI:B:i",
    b"jM:B:c", b"jI:Z:x", b"jM:B:C,1", b"vA:B:c,1,2", b"vA:B:c,1", b"vA:B:C,3,3,3", b"vG:B:i,3", b"vG:Z:x",
    b"cs:Z::4", b"cs:Z::2*ac:1", b"cs:Z::2+aa:2", b"cs:Z::1-a:3", b"cs:Z::2~gt20ag:2", b"cs:Z::19900101", b"cs:Z:=AC*ag:2", b"cg:Z:4M",
    b"cg:Z:2M2I2M", b"cg:Z:19900101M", b"cg:Z:6M", b"cg:Z:2M20N2M", b"OP:i:2004", b"OP:i:2100", b"OP:i:19900101", b"CP:i:1",
    b"CP:i:2006", b"OP:Z:1",
]  # fmt: skip


# Alignment lists that all have the form of their tag, some off the header's references
# or with a mapping quality over 255: the bulk check then judges entry by entry.
ALIGNMENT_POOL = [
    b"SA:Z:chr1,100,+,50M50S,60,0;", b"SA:Z:chr3,100,+,50M,60,0;", b"SA:Z:chr1,1001,+,50M,60,0;", b"SA:Z:chr1,100,+,50M,256,0;",
    b"SA:Z:chr1,100,+,50M,60,0;chr2,501,-,50M,0,1;", b"XA:Z:chr1,+100,100M,2;", b"XA:Z:chr1,+100,100M,2;chrM,+20000,150M,2;",
    b"XA:Z:chrM,-705972,150M,2;", b"XA:Z:chr2,-500,100M,0;", b"OA:Z:*,0,+,*,255,;", b"OA:Z:*,5,+,*,255,;", b"OA:Z:chr1,0,-,101M,255,;",
    b"XB:Z:chr1,+100,100M,2,90,60;", b"XB:Z:chr1,+100,100M,2,90,300;", b"SA:Z:chr1,100,+,4M2S,60,0;", b"SA:Z:chr1,100,+,2H4M,60,0;",
    b"SA:Z:chr1,100,+,2H5M,60,0;", b"XA:Z:chr2,+1,2M600N2M,0;", b"SA:Z:chr1,1,+,19900101M,60,0;", b"XA:Z:chr1,+1,6M,0;chr1,-5,3S2M,1;",
]  # fmt: skip


@st.composite
def records(draw: st.DrawFn, pool: list[bytes] = TAG_POOL) -> list[bytes]:
    lines = []
    for _ in range(draw(st.integers(1, 12))):
        seq = draw(st.sampled_from([b"ACGT", b"ACGTAC", b"*", b"A" * 100, b"ACGTA"]))
        cigars = [b"4M", b"2M1D4M", b"1S3M", b"*", b"100M", b"6M", b"5M", b"2M2I2M", b"4Q", b"2M20N2M", b"2M2N2M4N1M", b"2H4M"]
        cigar = draw(st.sampled_from(cigars))
        mate = draw(st.sampled_from([(b"*", b"0"), (b"=", b"300"), (b"chr1", b"1"), (b"chr2", b"300"), (b"=", b"x")]))
        tags = draw(st.lists(st.sampled_from(pool), max_size=6))
        lines.append(b"\t".join([b"r", b"0", b"chr1", b"1", b"60", cigar, *mate, b"0", seq, b"*", *tags]))
    return lines


@pytest.mark.slow  # a long sweep of the bulk path against the one-record path: make test-slow (CI runs it after make test)
@settings(max_examples=300, deadline=None)
@given(lines=st.one_of(records(), records(ALIGNMENT_POOL)))
def test_a_block_of_records_gets_the_verdicts_of_one_record_at_a_time(lines: list[bytes]) -> None:
    """``TagPolicy.valid_values`` (the block path) against ``valid_record_values`` (the
    one-record path, the reference) on records with every kind of value and tie; each rule's
    values checked in bulk, and (up to ``aux_tags.FEW_VALUES`` of them) one at a time."""
    text = b"".join(line + b"\n" for line in lines)
    layout = locate_tags(text)
    assert layout is not None
    bulk = POLICY.valid_values(text, layout, POLICY.rule_of[layout.codes], REFERENCES).tolist()
    with mock.patch.object(aux_tags, "FEW_VALUES", 0):  # every rule's values in bulk, however few
        assert POLICY.valid_values(text, layout, POLICY.rule_of[layout.codes], REFERENCES).tolist() == bulk
    expected = []
    for line in lines:
        fields = line.split(b"\t")
        tags = [(tag[:2], tag[3:4], tag[5:]) for tag in fields[11:]]
        kept_tags = [tag for tag in tags if POLICY.rule_of[tag_code(tag[0], tag[1][0])]]
        answers = iter(POLICY.valid_record_values(kept_tags, fields[9], fields[5], REFERENCES, fields))
        expected += [next(answers) if POLICY.rule_of[tag_code(tag[0], tag[1][0])] else True for tag in tags]
    assert bulk == expected


# --- the table -------------------------------------------------------------------------


def test_every_kept_tag_has_a_grammar_for_each_of_its_types() -> None:
    for name, tag in KEPT_TAGS.items():
        assert tag.grammars and all(len(tag_type) == 1 and tag_type in b"AifZHB" for tag_type in tag.grammars), name
        assert all(grammar.label for grammar in tag.grammars.values()), name
        if tag.tie is not None and tag.tie.has_partner:
            assert tag.tie.partner in KEPT_TAGS and tag.tie.partner_type in KEPT_TAGS[tag.tie.partner].grammars


def man_page_line(name: bytes) -> str:
    """How man/sam-scrub-rg.md lists a kept tag: its types and grammars, its tie, what it can reveal."""
    tag = KEPT_TAGS[name]
    grammars = "; ".join(f"{tag_type.decode()}: {grammar.label}" for tag_type, grammar in tag.grammars.items())
    tie = f", {tag.tie.label}" if tag.tie is not None else ""
    return f"- `{name.decode()}` ({grammars}{tie}): {tag.reveals}."


def test_the_man_page_lists_every_kept_tag_with_its_grammar() -> None:
    page = (Path(__file__).resolve().parents[1] / "man" / "sam-scrub-rg.md").read_text()
    missing = [man_page_line(name) for name in KEPT_TAGS if man_page_line(name) not in page.splitlines()]
    assert not missing, "\n".join(missing)


def test_htslib_base_modification_files_give_one_likelihood_for_each_call(corpus: Path) -> None:
    """htslib's MM test files (corpus ``htslib__MM-*.sam``) write the older ``Mm``/``Ml`` spelling,
    which the allowlist does not keep; read as ``MM``/``ML``, each record with both keeps its
    likelihoods: our count of the calls (``C+mh`` two at each base, a ChEBI number one) is htslib's."""
    checked = 0
    for path in sorted(corpus.glob("sam/htslib__MM-*.sam")):
        for line in path.read_bytes().splitlines():
            fields = line.split(b"\t")
            if line.startswith(b"@") or len(fields) < 12:
                continue
            tags = [(tag[:2].upper(), tag[3:4], tag[5:]) for tag in fields[11:] if tag[:2] in (b"Mm", b"Ml", b"MM", b"ML")]
            if {name for name, _, _ in tags} == {b"MM", b"ML"}:
                assert POLICY.valid_record_values(tags, fields[9], fields[5], REFERENCES) == [True, True], (path.name, tags)
                modifications = next(value for name, _, value in tags if name == b"MM")
                assert audited_calls(modifications) == modification_calls(modifications)
                checked += 1
    assert checked >= 5


MODIFICATION_ENTRIES = st.tuples(
    st.sampled_from([b"C+", b"G-", b"A+", b"N+", b"T-"]),
    st.sampled_from([b"m", b"h", b"mh", b"hmf", b"76792", b"C", b"n"]),
    st.sampled_from([b"", b".", b"?"]),
    st.lists(st.integers(0, 12), max_size=5),
).map(lambda entry: entry[0] + entry[1] + entry[2] + b"".join(b",%d" % skip for skip in entry[3]) + b";")


@settings(max_examples=300, deadline=None)
@given(entries=st.lists(MODIFICATION_ENTRIES, max_size=4))
def test_the_audit_counts_the_calls_of_mm_as_sam_scrub_rg_does(entries: list[bytes]) -> None:
    """Two counts of an MM value's calls, written apart (the audit shares no logic with the scrubbers)."""
    value = b"".join(entries)
    assert audited_calls(value) == modification_calls(value)
