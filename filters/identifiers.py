"""Identifiers in free text: known names become their pseudonyms, paths and hosts are removed.

A header Description, a kept free-text header value, a reference name: text written by
a person or a pipeline, which names samples (``S2301217N_20231029``, its stem
``S2301217N``, written in any case) and places (``/home/kimjh/patients/x.bam``,
``~/lab``, ``C:\\Users\\kim``, ``file:``, ``https://``, ``ftp://``, ``seq01.hospital.local``).
``IdentifierScrub.scrub`` removes every path, URL, e-mail address, IP address and host
name (each becomes ``[removed]``) and replaces every known name by its pseudonym,
case-insensitively: a distinctive name (letters and digits, ``S2301217T``) wherever it
appears, any other name (``tumour``) as a whole token only.

What is removed is a pattern, not a list of known places: a relative path needs a
``/`` and a letter (``lab/x.bam``, also ``Ref/Alt``: fail closed), a host name a
suffix such as ``.org`` or ``.local``. Free text that names a person or a hospital in
words is not recognised: the man pages say so.

Personal data a hospital's systems write as numbers or in another script is removed the
same way (``PERSONAL``): any text that is not ASCII (a Hangul name, ``김지현``; a
pipeline's header is ASCII), the same text percent-encoded (``%EA%B9%80...``) or as
HTML character references (``&#44608;``), a run of seven digits or more, hyphens
allowed between them (a resident registration number ``900101-1234567``, a phone number
``010-1234-5678``, a record number ``MRN:12345678``, a date ``19900101``), and a
date with separators (``1990-01-01``, ``1990.1.1``, ``01/01/1990``, ``01.01.1990``, the
Korean written form ``1990. 01. 01.``, ``1990 01 01``, ``2023_10_29``, ``1990:01:01``,
``01 01 1990``, and with a two-digit year ``29.10.23``, ``23.10.29``, ``29_10_23``:
``TWO_DIGIT_YEAR_DATE``) and a phone number written with blanks or dots (``02 1234 5678``,
``010.1234.5678``). A coordinate or a long count in a Description goes too: fail closed.
Header text (``HEADER_PERSONAL``) loses six digits that read as a date ``YYMMDD`` too
(``900101``, the first half of a registration number), which records keep (ClinVar's
``OMIM:600101`` is a public ID).

The same data percent-encoded is judged as its decoded text too (``percent_decodings``): VCF
4.3 (section 1.2) writes ``:;=%,`` and CR, LF and TAB in values as ``%3A``..., and any writer may
escape any byte so, so ``%2Fhome%2Fkimjh`` is a path and ``2023%2D10%2D29`` a date. In free text
the spelling of what the decoded text shows is removed (``IdentifierScrub.without_escaped``);
an ID or a record value holding one is judged to hold it (``record_values``).

A contig ID is an assembly's name or a person's data (``personal_contig``): public accession
tokens (``NC_000001.11``, ``KI270706v1``, ``JTFH01000001v1``, ``HLA-A*01:01:01:01``) are set
aside, then what remains is held to ``PATHS`` and ``HEADER_PERSONAL``, a run of digits there by
its significant digits (``CONTIG_PERSONAL``: Canu's ``tig00000001`` passes, ``tig19900101`` does not).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import unquote_to_bytes

REMOVED = b"[removed]"
# A path or URL runs to the next blank, quote, comma, semicolon, bracket or pipe.
_RUN = rb"[^\s\"'<>()\[\]{}|;,]"
HOST_SUFFIXES = (
    b"com|org|net|edu|gov|mil|int|info|biz|io|ai|cloud|local|lan|internal|intranet|corp|home|localdomain|"
    b"kr|jp|cn|uk|de|fr|us|ca|au|ch|nl|se|no|dk|fi|it|es|be|at|sg|tw|hk|nz|ie|il|br|ru|eu|ac"
)
PATHS = re.compile(
    rb"(?:"
    + rb"\b[A-Za-z][A-Za-z0-9+.-]*://" + _RUN + rb"*"  # scheme://..., file:///..., s3://...
    + rb"|\b(?:file|https?|ftp|sftp|smb|s3|gs):" + _RUN + rb"+"  # file:x, http:x without //
    + rb"|(?<![A-Za-z0-9])[A-Za-z]:[\\/]" + _RUN + rb"*"  # C:\Users\..., D:/data
    + rb"|[^\s\"'<>()\[\]{}|;,\\]*\\" + _RUN + rb"+"  # \\server\share, \Users\kim: any token with a backslash
    + rb"|(?<![\w.~-])~[A-Za-z0-9._-]*(?:/" + _RUN + rb"*)?"  # ~/lab, ~user/x
    + rb"|~[A-Za-z0-9._-]*/" + _RUN + rb"*"  # the same after other text: String~/kimjh
    + rb"|(?<![\w.~-])/" + _RUN + rb"+"  # /home/kimjh/x.bam
    + rb"|" + _RUN + rb"*@" + _RUN + rb"+"  # user@host, e-mail addresses
    + rb"|\b[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?::[0-9]+)?\b"  # 192.168.1.10:8080
    + rb"|\b(?:[A-Za-z0-9-]+\.)+(?:" + HOST_SUFFIXES + rb")\b(?::[0-9]+)?" + rb"(?:/" + _RUN + rb"*)?"  # seq01.hospital.local
    + rb"|[\w.+-]*[A-Za-z][\w.+-]*/" + _RUN + rb"*"  # lab/x.bam, ./run/x (a token with a / and a letter)
    + rb"|[\w.+-]+/[\w.+-]*[A-Za-z]" + _RUN + rb"*"
    + rb")",
    re.IGNORECASE,
)
TOKEN_EDGE = rb"(?<![A-Za-z0-9])", rb"(?![A-Za-z0-9])"
INVISIBLE_LEGACY_REFERENCE = rb"(?i:shy|nbsp)"
"""The named HTML references a browser decodes without their ``;`` (HTML5's legacy names) that
show as nothing or as a blank: the soft hyphen and the no-break space (``KIM&shyJ``, ``&nbspKIM``).
The other legacy names (``&reg``, ``&amp``) are left out: VEP joins its consequences with ``&``
(``&regulatory_region_variant``)."""
HTML_REFERENCE = rb"&(?:#(?:[0-9]+|[xX][0-9A-Fa-f]+);?|[A-Za-z][A-Za-z0-9]*;|" + INVISIBLE_LEGACY_REFERENCE + rb")"
"""An HTML character reference: numeric (``&#44608;``, ``&#x200B;``, also without its ``;``, as
browsers read ``&#173``) or named as HTML5 names them (``&shy;``, ``&ndash;``, ``&ZeroWidthSpace;``;
without the ``;``, the invisible legacy ones: ``&shy``, ``&nbsp``), each the way a web form or export
writes a character a person typed: personal-data-shaped text, as that character would be."""
OTHER_SCRIPT = rb"[\x80-\xff]|%[89A-Fa-f][0-9A-Fa-f]|" + HTML_REFERENCE
"""Text outside ASCII, as written, percent-encoded (``%E2%80%8B``) or as an HTML reference."""
SCRIPT_WORD = re.compile(
    rb"(?<![A-Za-z0-9_\x80-\xff])[A-Za-z0-9_]*(?:" + OTHER_SCRIPT + rb")(?:[A-Za-z0-9_]|" + OTHER_SCRIPT + rb")*"
)
"""A word (letters, digits, ``_``) holding ``OTHER_SCRIPT`` text, or that text alone. A zero-width
space, a soft hyphen or a look-alike letter (a Greek capital Nu for ``N``, a Cyrillic Dze for ``S``)
inside or beside a sample ID (``S230`` U+200B ``1217N``, ``S2301217&shy;N``) keeps it readable but
unmatched, so the whole word goes, not only that character. It starts only at a word's start, so
the search is linear in the text."""
RECORD_SCRIPT_WORD = re.compile(rb"(?<![A-Za-z0-9_\x80-\xff])[A-Za-z0-9_]*[\x80-\xff][A-Za-z0-9_\x80-\xff]*")
"""``SCRIPT_WORD`` of records, text outside ASCII as written only: in a value the value rule
(``record_values``) removes the encoded forms whole."""
YEAR_FIRST_SEPARATOR = rb"(?:[-./] ?| |_|:)"
"""Between a year's parts: ``-``, ``.`` or ``/``, each perhaps followed by a blank, or a blank, ``_`` or ``:``."""
DAY_FIRST = rb"[0-9]{1,2}[. _:][0-9]{1,2}[. _:][0-9]{4}"
"""A day-first date with a four-digit year, by dots, blanks, ``_`` or ``:`` (``01.01.1990``)."""
DAY, MONTH = rb"(?:0[1-9]|[12][0-9]|3[01])", rb"(?:0[1-9]|1[0-2])"
TWO_DIGIT_YEAR_SEPARATOR = rb"(?:[-./] ?| |_)"
"""Between the parts of a date with a two-digit year: ``YEAR_FIRST_SEPARATOR`` but ``:``, as a time
(``12:13:49``, GATK's ``Date=``) has a date's shape written with it."""
TWO_DIGIT_YEAR_DATE = (
    rb"(?<![A-Za-z0-9.])(?<![0-9][-/])(?:"
    + DAY + TWO_DIGIT_YEAR_SEPARATOR + MONTH + TWO_DIGIT_YEAR_SEPARATOR + rb"[0-9]{2}"  # 29.10.23, 29 10 23
    + rb"|" + MONTH + TWO_DIGIT_YEAR_SEPARATOR + DAY + TWO_DIGIT_YEAR_SEPARATOR + rb"[0-9]{2}"  # 10.29.23
    + rb"|[0-9]{2}" + TWO_DIGIT_YEAR_SEPARATOR + MONTH + TWO_DIGIT_YEAR_SEPARATOR + DAY  # 23.10.29, 23. 10. 29.
    + rb")(?![0-9])"
)
"""A date with a two-digit year, two digits each part, the day first, the month first or the year
first (``29.10.23``, ``10.29.23``, ``23.10.29``, ``29_10_23``, ``29 10 23``; with ``-`` and ``/`` the
wider ``01/01/90`` form finds it too), written alone: not after a letter, a digit or a dot
(``v2.10.23``, ``1.10.23``: versions), nor after a number and ``-`` or ``/`` (HGVS's intronic
``c.10-12_10-10``). Not joined by a list's separator (``10,12,15`` is as often three counts) nor
by ``:`` (a time)."""
PHONE_SEPARATOR = rb"(?:[ ._~+|,-]| - )"
"""Between a phone number's parts: a blank, ``.``, ``_``, ``-``, ``~``, ``+``, ``|``, ``,`` or `` - ``."""
PHONE_AREA = (
    rb"(?:0[0-9]{1,2}(?:\)" + PHONE_SEPARATOR + rb"?|" + PHONE_SEPARATOR + rb")"  # 02 , 010. , 02)
    + rb"|\(0[0-9]{1,2}\)" + PHONE_SEPARATOR + rb"?"  # (02) , (02)
    + rb"|\+82" + PHONE_SEPARATOR + rb"?(?:\(0\)" + PHONE_SEPARATOR + rb"?)?0?[1-9][0-9]?" + PHONE_SEPARATOR + rb")"  # +82 2 , +82(0)10.
)
"""A phone number's first part and the separator after it: the area code, in parentheses or not, or
the country's code and the area code with or without its 0."""
PHONE = PHONE_AREA + rb"[0-9]{3,4}" + PHONE_SEPARATOR + rb"[0-9]{4}"
"""A phone number written with blanks, dots or another separator, in any mix (``02 1234 5678``,
``010.1234-5678``, ``010~1234~5678``, ``010|1234|5678``, ``010 - 1234 - 5678``), its area code in
parentheses (``(02) 1234 5678``, ``(02)123 4567``) or after the country's code (``+82 2 123 4567``,
``+82(0)10.1234.5678``)."""
PHONE_MARK = re.compile(rb"0[0-9]{1,2}\)|\+82")
"""What only some phone numbers hold: an area code closed by a parenthesis, the country's code.
Records holding one are read one by one (``record_values``): the C pass looks for the others."""
DELIMITED_DATE = rb"(?:" + rb"|".join(
    rb"(?<![0-9]" + re.escape(separator) + rb")(?:(?:19|20)[0-9]{2}" + re.escape(separator) + rb"(?:0[1-9]|1[0-2])"
    + re.escape(separator) + rb"(?:0[1-9]|[12][0-9]|3[01])|(?:0[1-9]|[12][0-9]|3[01])" + re.escape(separator)
    + rb"(?:0[1-9]|[12][0-9]|3[01])" + re.escape(separator) + rb"(?:19|20)[0-9]{2})(?!" + re.escape(separator) + rb"[0-9])"
    for separator in (b"|", b";", b",", b"~", b"+")
) + rb")"
"""A date whose parts a list separator joins (``1990|01|01``, ``01;01;1990``, ``1990,01,01``, ``1990~01~01``):
the same one twice, a year of the 1900s or 2000s, a month and a day of two digits each, and no
more numbers joined on either side (``SB=2000,10,12,15`` is four counts, ``PL=1990,0,12`` no date:
a VCF writes no number with a leading zero)."""
MONTHS = (
    rb"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?"
    rb"|nov(?:ember)?|dec(?:ember)?)"
)
MONTH_DATE = (
    rb"(?i:(?:(?<![A-Za-z0-9])(?:"
    + rb"[0-9]{1,2}(?:st|nd|rd|th)?(?: of |[-/._ +~])?" + MONTHS + rb"\.?,?[-/._ +~]?[0-9]{4}"  # 29-OCT-2023, 1st of January, 1990
    + rb"|[0-9]{1,2}[-/._ +~]" + MONTHS + rb"\.?[-/._ +~]'?[0-9]{2}"  # 29-OCT-23: Oracle's DD-MON-RR
    + rb"|" + MONTHS + rb"\.?[-/._ +~]?[0-9]{1,2}(?:st|nd|rd|th)?,?[-/._ +~]?[0-9]{4}"  # Oct 29 2023, Dec. 1st, 1990
    + rb"|" + MONTHS + rb"\.?[-/._ +~][0-9]{1,2}(?:st|nd|rd|th)?,?[-/._ +~]'?[0-9]{2}"  # Jan-01-90, Dec 1 '90
    + rb"|[0-9]{4}[-/._ +~]?" + MONTHS + rb"\.?[-/._ +~]?[0-9]{1,2}"  # 1990-Jan-01, 1990 Jan 01, 1990JAN01: year first
    + rb")|(?<![0-9])(?:"  # written onto letters (DOB01JAN1990, DOB1990Jan01): a day of two digits, a year of four
    + rb"[0-9]{2}(?:st|nd|rd|th)?(?: of |[-/._ +~])?" + MONTHS + rb"\.?,?[-/._ +~]?[0-9]{4}"
    + rb"|[0-9]{4}[-/._ +~]?" + MONTHS + rb"\.?[-/._ +~]?[0-9]{2}"
    + rb"|" + MONTHS + rb"\.?[-/._ +~]?[0-9]{2}(?:st|nd|rd|th)?,?[-/._ +~]?[0-9]{4}"  # ctgJAN011990, DOBJan-01-1990
    + rb"))(?![0-9]))"
)
"""A date written with an English month name, as LIMS and Oracle exports write them, day first
(an ordinal day too, ``1st of January 1990``), month first (``Dec. 1, 1990``, ``Jan-01-90``) or
year first, the abbreviated month perhaps with a period; written onto letters with a day of two
digits and a year of four (``DOB01JAN1990``, ``DOB1990Jan01``, ``ctgJAN011990``); day and year both
there (``Oct2020``, a release, is none). English names only: ``01-ENE-1990`` or ``01.IV.1990`` are not
read as dates."""
PERSONAL = re.compile(
    rb"(?:"
    + rb"[\x80-\xff]+"  # not ASCII: a name in Hangul (UTF-8) or any other script
    + rb"|(?:%[0-9A-Fa-f]{2}){2,}"  # the same, percent-encoded
    + rb"|(?:" + HTML_REFERENCE + rb")+"  # the same, as HTML character references (&#44608;, &shy;)
    + rb"|(?<![0-9])(?<!GCA_)(?<!GCF_)[0-9](?:-?[0-9]){6,}(?![0-9])"  # 900101-1234567, 010-1234-5678, 19900101
    # (not an assembly accession, GCA_000001405.15: a public name of the reference)
    # 1990-01-01, 1990.1.1, 1990. 01. 01. (the Korean written form), 1990 01 01, 2023_10_29, 1990:01:01
    + rb"|(?<![0-9])[0-9]{4}" + YEAR_FIRST_SEPARATOR + rb"[0-9]{1,2}" + YEAR_FIRST_SEPARATOR + rb"[0-9]{1,2}(?![0-9])"
    + rb"|(?<![0-9])[0-9]{1,2}[-/][0-9]{1,2}[-/][0-9]{2,4}(?![0-9])"  # 01/01/1990, 1-1-90
    + rb"|(?<![0-9])" + DAY_FIRST + rb"(?![0-9])"  # 01.01.1990, 01 01 1990, 01_01_1990 (not 4.2.10: a version)
    + rb"|" + TWO_DIGIT_YEAR_DATE  # 29.10.23, 23.10.29, 29_10_23 (not v2.10.23)
    + rb"|(?<![0-9])" + PHONE + rb"(?![0-9])"  # 02 1234 5678, 010.1234.5678, 010~1234~5678, 010 - 1234 - 5678
    + rb"|(?<![0-9])" + DELIMITED_DATE + rb"(?![0-9])"  # 1990|01|01, 01;01;1990, 1990,01,01
    + rb"|" + MONTH_DATE  # 29-OCT-2023, Jan 1 1990
    + rb")"
)
"""Numbers and scripts that carry personal data in a hospital's text (see the module)."""
YYMMDD = rb"[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
HEADER_PERSONAL = re.compile(PERSONAL.pattern + rb"|(?<![A-Za-z0-9.])" + YYMMDD + rb"(?![0-9])")
"""``PERSONAL`` and, in header text only, six digits that read as a date ``YYMMDD`` (``900101``)."""
SEVEN_DIGITS = rb"(?<![0-9])(?<!GCA_)(?<!GCF_)[0-9](?:-?[0-9]){6,}(?![0-9])"
"""``PERSONAL``'s run of seven digits or more (``-`` between them too)."""
SEVEN_SIGNIFICANT_DIGITS = rb"(?<![0-9])(?<!GCA_)(?<!GCF_)(?:0-?)*[1-9](?:-?[0-9]){6,}(?![0-9])"
"""A run of digits (``-`` between them too) of seven significant digits or more, its leading zeros
not counted: what a contig or reference name never holds. Assemblers pad a contig's number with
zeros (Canu's ``tig00000001``, ``contig_000000008``): one of six digits or fewer is a count of
contigs, seven or more could be a date or an ID (``tig19900101``, ``tig0019900101``)."""
CONTIG_PERSONAL = re.compile(HEADER_PERSONAL.pattern.replace(SEVEN_DIGITS, SEVEN_SIGNIFICANT_DIGITS))
"""``HEADER_PERSONAL`` with a run of digits judged by its significant digits (``SEVEN_SIGNIFICANT_DIGITS``)."""
DATE_DIGITS = rb"(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
"""A date's eight digits, ``YYYYMMDD`` (``19900101``)."""
ACCESSION_VERSION = rb"(?:\.[0-9]{1,3})?"
"""An accession's version (``.11``): a few digits, never a date's eight."""
PUBLIC_ACCESSION = re.compile(
    rb"(?<![A-Za-z0-9])(?:"
    + rb"(?:AC|NC|NG|NT|NW|NZ)_(?:[0-9]{6}|[0-9]{9})" + ACCESSION_VERSION  # RefSeq: NC_000001.11, NW_003315905.1 (8 digits: none)
    # WGS: 4 or 6 letters, a version of 2 digits, a contig number of 6 to 8 (JTFH01000001.1, JTFH01000001v1),
    # not digits that start with a date (KIMJ19900101)
    + rb"|(?:[A-Z]{4}|[A-Z]{6})(?![0-9]{0,2}" + DATE_DIGITS + rb")[0-9]{8,10}"
    + ACCESSION_VERSION + rb"(?:v[0-9]{1,3})?"
    + rb"|(?:[A-Z][0-9]{5}|[A-Z]{2}[0-9]{6})" + ACCESSION_VERSION + rb"(?:v[0-9]{1,3})?"  # GenBank: J01415.2, GL000192.1, KI270706v1
    # HLA alleles of hs38DH: a gene, fields of 2 or 3 digits, perhaps an expression letter (HLA-A*02:101:01, HLA-A*01:01:01:02N)
    + rb"|HLA-[A-Z]{1,4}[0-9]?\*[0-9]{2,3}(?::[0-9]{2,3}){0,3}[A-Z]?"
    + rb")(?![0-9])"
)
"""Public accession tokens of assembly contigs, set aside before a contig ID is judged: the real
shapes only, so that a number or date written in a shape alike (``HLA-A*19900101``,
``NC_19900101``) is judged. A date or registration number that fits a real shape cannot be told
from an accession and stays (``NW_019900101``, ``KI900101``)."""


PERCENT_ESCAPE = re.compile(rb"%[0-9A-Fa-f]{2}")
"""A percent-encoded byte (RFC 3986, 2.1; VCF 4.3, 1.2)."""
PERCENT_LEVELS = 4
"""How many times text is decoded again (``%253A`` is ``%3A`` once decoded, ``:`` twice)."""


def percent_decodings(text: bytes) -> list[bytes]:
    """``text`` percent-decoded, then decoded again while escapes remain (at most ``PERCENT_LEVELS``
    times): each form, [] when ``text`` holds no escape. What any of them shows, the text holds."""
    forms: list[bytes] = []
    while len(forms) < PERCENT_LEVELS and PERCENT_ESCAPE.search(text) is not None:
        text = unquote_to_bytes(text)
        forms.append(text)
    return forms


def percent_decoded_with_origin(text: bytes) -> tuple[bytes, list[int]]:
    """``text`` decoded once, and where each decoded byte's spelling starts in ``text`` (one more
    entry: ``len(text)``), so that what is found in the decoded text is removed as it is written."""
    decoded = bytearray()
    origin: list[int] = []
    at = 0
    for escape in PERCENT_ESCAPE.finditer(text):
        decoded += text[at : escape.start()]
        origin.extend(range(at, escape.start()))
        decoded.append(int(escape.group()[1:], 16))
        origin.append(escape.start())
        at = escape.end()
    decoded += text[at:]
    origin.extend(range(at, len(text) + 1))
    return bytes(decoded), origin


DISTINCTIVE_LENGTH = 5


def distinctive(name: bytes) -> bool:
    """A name no word or number of the format can contain by chance: 5 or more characters with a
    digit and a letter (``S2301217T``, ``NA12878``). It is replaced wherever it appears, also
    inside a longer token; other names (``tumour``, ``A``, ``1``) only as whole tokens."""
    return len(name) >= DISTINCTIVE_LENGTH and re.search(rb"[0-9]", name) is not None and re.search(rb"[A-Za-z]", name) is not None


NUMBER_AFTER_NAME = rb"(?:[-_.: ]?[0-9]{6,}(?![0-9]))"
"""Six digits or more written onto a known name, perhaps after one separator: the rest of the sample ID
without its separator (``S2301217N20231029``), a collection date or a birth date (``S2301217N.19900101``)."""


def escapes_of(needles: list[bytes]) -> re.Pattern[bytes] | None:
    """A percent escape (either case of hex digit) of a byte some of ``needles`` (lower-cased names)
    holds in either case, or of ``%`` (a second encoding): what text must hold for its decoded text
    to show a name its written text does not (VEP's ``%3D`` is none). None when there are no needles."""
    if not needles:
        return None
    wanted = {byte for needle in needles for byte in needle} | {ord("%")}
    wanted |= {ord(chr(byte).upper()) for byte in wanted if chr(byte).isascii() and chr(byte).isalpha()}
    spelled = sorted({re.sub(rb"[A-F]", lambda digit: b"[%s%s]" % (digit[0], digit[0].lower()), b"%02X" % byte) for byte in wanted})
    return re.compile(b"%(?:" + b"|".join(spelled) + b")")


def names_pattern(names: list[bytes], with_number: bool = False) -> re.Pattern[bytes] | None:
    """One case-insensitive pattern for ``names``, longest first: distinctive names anywhere, the
    others as whole tokens (not inside a longer word or number). ``with_number``: a number written
    onto the name (``NUMBER_AFTER_NAME``) is part of the match; the name is its group ``name``."""
    if not names:
        return None
    ordered = sorted(set(names), key=len, reverse=True)
    anywhere = b"|".join(re.escape(name) for name in ordered if distinctive(name))
    tokens = b"|".join(re.escape(name) for name in ordered if not distinctive(name))
    alternatives = [anywhere] if anywhere else []
    if tokens:
        token_end = rb"(?:" + TOKEN_EDGE[1] + rb"|(?=" + NUMBER_AFTER_NAME + rb"))" if with_number else TOKEN_EDGE[1]
        alternatives.append(TOKEN_EDGE[0] + rb"(?:" + tokens + rb")" + token_end)
    if with_number:
        return re.compile(rb"(?P<name>" + b"|".join(alternatives) + rb")" + NUMBER_AFTER_NAME + b"?", re.IGNORECASE)
    return re.compile(b"|".join(alternatives), re.IGNORECASE)


class NameReplacement:
    """Known names (any case; see ``names_pattern``) -> their pseudonyms. ``with_number`` (records):
    a number written onto a name goes with it, so ``S2301217N20231029`` does not become the
    pseudonym followed by the date."""

    def __init__(self, replacements: Mapping[bytes, bytes], with_number: bool = False) -> None:
        self.replacements = {original.lower(): pseudonym for original, pseudonym in replacements.items()}
        self.pattern = names_pattern(list(replacements), with_number)
        self.group = "name" if with_number else 0
        self.escapes = escapes_of(list(self.replacements))
        """What text must hold for its decoded form to show a name its written form does not."""

    def __call__(self, text: bytes) -> bytes:
        """Every known name in ``text`` replaced, as written and where its percent-decoded text shows
        one (``escaped``)."""
        if self.pattern is None:
            return text
        if b"%" in text and self.escapes is not None and self.escapes.search(text) is not None:
            text = self.escaped(text)
        return self.pattern.sub(lambda match: self.replacements[match.group(self.group).lower()], text)

    def escaped(self, text: bytes, placeholder: bytes | None = None) -> bytes:
        """``text`` with each known name its percent-decoded text shows (``KIM%5FJIHYUN``, ``KIM%255FJIHYUN``,
        ``%4B%49%4D...``: VCF 4.3, 1.2 lets any byte of a value be written so) replaced by its pseudonym
        (or by ``placeholder``) where it is written, the escapes of its first and last bytes whole
        (``decoded_matches``); the decoded text is read first, so that ``S2301217N%5F20231029`` is the
        sample, not its stem followed by a date. Text without ``%`` (most) is returned as it is."""
        if self.pattern is None:
            return text
        for _ in range(PERCENT_LEVELS * 4):  # each round replaces what one decoding shows
            if b"%" not in text:
                return text
            found = decoded_matches(text, (self.pattern,))
            if not found:
                return text
            pieces: list[bytes] = []
            last = 0
            for start, end, match in found:
                pieces += [text[last:start], placeholder if placeholder is not None else self.replacements[match.group(self.group).lower()]]
                last = end
            pieces.append(text[last:])
            text = b"".join(pieces)
        return text

    def found(self, text: bytes) -> bool:
        return self.pattern is not None and self.pattern.search(text) is not None


class IdentifierScrub:
    """Paths, URLs, addresses and host names removed; known names replaced (see the module)."""

    def __init__(self, replacements: Mapping[bytes, bytes]) -> None:
        self.names = NameReplacement(replacements)

    @staticmethod
    def without_paths(text: bytes) -> bytes:
        """Every path, URL, address and host removed, also where its text is percent-encoded
        (``kimjh%40snuh.org``; the decoded text first, so that the whole address goes)."""
        return PATHS.sub(REMOVED, without_escaped(text, (PATHS,)))

    @staticmethod
    def without_script_words(text: bytes) -> bytes:
        """Every word holding text outside ASCII, percent-encoded or not, or an HTML reference removed
        whole (``SCRIPT_WORD``: ``S230`` U+200B ``1217N`` and ``KIM&shy;JIHYUN`` become ``[removed]``),
        also where only the percent-decoded text shows one (``S230%25E2%2580%258B1217N``)."""
        if text.isascii() and b"%" not in text and b"&" not in text:
            return text
        return SCRIPT_WORD.sub(REMOVED, without_escaped(text, (SCRIPT_WORD,)))

    def scrub(self, text: bytes) -> bytes:
        """Words holding another script removed whole (``without_script_words``: first, as such a
        character hides a name from the names and cuts a path short at a reference's ``;``), paths
        removed, known names replaced, then personal data (``PERSONAL``) removed from the text around
        the pseudonyms, so that a pseudonym's digits stay as they are; and what the text shows once
        percent-decoded (``without_escaped``)."""
        text = self.without_paths(self.without_script_words(text))
        pattern = self.names.pattern
        if pattern is not None and b"%" in text:
            text = self.names.escaped(text)
        if pattern is None:
            return self.without_escaped(HEADER_PERSONAL.sub(REMOVED, text))
        pieces = []
        last = 0
        for match in pattern.finditer(text):
            pieces.append(self.without_escaped(HEADER_PERSONAL.sub(REMOVED, text[last : match.start()])))
            pieces.append(self.names.replacements[match.group(0).lower()])
            last = match.end()
        pieces.append(self.without_escaped(HEADER_PERSONAL.sub(REMOVED, text[last:])))
        return b"".join(pieces)

    def without_escaped(self, text: bytes) -> bytes:
        """``without_escaped`` of personal numbers, paths and the known names."""
        patterns = (PATHS, HEADER_PERSONAL) if self.names.pattern is None else (PATHS, HEADER_PERSONAL, self.names.pattern)
        return without_escaped(text, patterns)


def without_escaped(text: bytes, patterns: tuple[re.Pattern[bytes], ...]) -> bytes:
    """``text`` without the spelling of what ``patterns`` find in its percent-decoded text
    (``percent_decodings``): ``from %2Fhome%2Fkimjh`` becomes ``from [removed]``, ``date
    2023%2D10%2D29`` ``date [removed]``. Each match in the decoded text (once, then again while
    escapes remain) is removed where it is written, the escapes of its first and last bytes
    whole. Text without ``%`` (most) is returned as it is."""
    for _ in range(PERCENT_LEVELS * 4):  # each round removes what one decoding shows; the text shrinks
        if b"%" not in text:
            return text
        spans = escaped_matches(text, patterns)
        if not spans:
            return text
        pieces: list[bytes] = []
        last = 0
        for start, end in spans:
            if start > last or not pieces:
                pieces.append(text[last:start] + REMOVED)
            last = max(last, end)
        pieces.append(text[last:])
        text = b"".join(pieces)
    return text


def escaped_matches(text: bytes, patterns: tuple[re.Pattern[bytes], ...]) -> list[tuple[int, int]]:
    """Where in ``text`` the first of its decodings in which ``patterns`` find anything finds it
    (sorted spans of ``text``), or []."""
    return [(start, end) for start, end, _ in decoded_matches(text, patterns)]


def decoded_matches(text: bytes, patterns: tuple[re.Pattern[bytes], ...]) -> list[tuple[int, int, re.Match[bytes]]]:
    """What ``patterns`` find in the first of ``text``'s decodings in which they find anything: each
    match (of the decoded text) with the span of ``text`` that spells it, sorted by span; [] when
    none does. A span runs from the escape of the match's first byte to the end of its last's."""
    decoded, origin = text, list(range(len(text) + 1))
    for _ in range(PERCENT_LEVELS):
        if PERCENT_ESCAPE.search(decoded) is None:
            return []
        decoded, level = percent_decoded_with_origin(decoded)
        origin = [origin[at] for at in level]
        found = [
            (origin[match.start()], origin[match.end()], match)
            for pattern in patterns
            for match in pattern.finditer(decoded)
            if match.end() > match.start()
        ]
        if found:
            return sorted(found, key=lambda each: each[:2])
    return []


PLACE_IN_NAME = re.compile(
    rb"(?<![0-9])[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?![0-9])"  # ctg_10.0.0.1, chr10.0.0.1: an IP address
    + rb"|(?:[A-Za-z0-9-]+\.)+(?:" + HOST_SUFFIXES + rb")(?![A-Za-z0-9])",  # ctg_kim.snuh.ac.kr: a host
    re.IGNORECASE,
)
"""A host name or an IP address inside a contig or reference name, written onto letters or ``_``
(``ctg_10.0.0.1``, ``chr10.0.0.1``, ``asm_seq01.hospital.local``), which ``PATHS`` finds only at
a word's edge; no assembly's name holds four dotted numbers or a dot before a host suffix."""
REFERENCE_SEPARATOR = rb"[-_.:]"
"""What a reference name may hold between the parts of a number (``-``, ``_``, ``.``, ``:``)."""
REFERENCE_PERSONAL = re.compile(
    rb"[^\x21-\x7e]|[/\\@]"  # text outside printable ASCII; a path, a URL, an e-mail address
    + rb"|" + HTML_REFERENCE  # the same written as an HTML reference (&#44608;, &shy;)
    + rb"|(?<![0-9])[0-9]{4}" + YEAR_FIRST_SEPARATOR + rb"[0-9]{1,2}" + YEAR_FIRST_SEPARATOR + rb"[0-9]{1,2}(?![0-9])"
    + rb"|(?<![0-9])[0-9]{1,2}[-/][0-9]{1,2}[-/][0-9]{2,4}(?![0-9])|(?<![0-9])" + DAY_FIRST + rb"(?![0-9])|" + TWO_DIGIT_YEAR_DATE
    + rb"|(?<![0-9])" + PHONE + rb"(?![0-9])|(?<![0-9])" + DELIMITED_DATE + rb"(?![0-9])|" + MONTH_DATE
    + rb"|(?<![0-9])" + DATE_DIGITS + rb"(?![0-9])"  # 19900101: a date
    + rb"|(?<![0-9])[0-9]{6}" + REFERENCE_SEPARATOR + rb"?[0-9]{7}(?![0-9])"  # 900101-1234567, 900101_1234567: a registration number
    # 010-1234-5678, 010_1234_5678: a mobile number; 02-123-4567, 031.123.4567: a landline number, separators and all
    + rb"|(?<![0-9])01[016789]" + REFERENCE_SEPARATOR + rb"?[0-9]{3,4}" + REFERENCE_SEPARATOR + rb"?[0-9]{4}(?![0-9])"
    + rb"|(?<![0-9])0(?:2|[3-6][1-5]|70)" + REFERENCE_SEPARATOR + rb"[0-9]{3,4}" + REFERENCE_SEPARATOR + rb"[0-9]{4}(?![0-9])"
    + rb"|(?i:" + PLACE_IN_NAME.pattern + rb")"  # ctg.snuh.ac.kr, ctg_10.0.0.1
)
"""What a reference name or a pseudonym never holds: ``personal_contig`` less a bare run of seven
digits or more, which a pseudonym of a large biobank may hold (``CMT1234567_00``); a host or an IP
address, alone or written onto letters (``PLACE_IN_NAME``), too; an ``@SQ`` name is also held to
its significant digits (``personal_sequence_name``)."""
SEQUENCE_NAME_PERSONAL = re.compile(REFERENCE_PERSONAL.pattern + rb"|" + SEVEN_SIGNIFICANT_DIGITS)
"""What an ``@SQ`` name (SN, AN) never holds: ``REFERENCE_PERSONAL``, and seven significant digits
or more, as a ``##contig`` ID (``personal_contig``)."""


def personal_reference_name(name: bytes) -> bool:
    """Whether a reference name or a pseudonym holds a path, an address, a host or an IP address
    (``ctg_10.0.0.1``), text outside ASCII, a date or a registration or phone number
    (``REFERENCE_PERSONAL``), its public accessions set aside, as written or percent-decoded:
    ``asm_KIM_19900101_ctg1``, ``/home/kimjh/ctg2``."""
    return any(REFERENCE_PERSONAL.search(PUBLIC_ACCESSION.sub(b"A", form)) is not None for form in (name, *percent_decodings(name)))


def personal_sequence_name(name: bytes) -> bool:
    """Whether an ``@SQ`` name (SN, or one of AN) holds personal data: ``personal_reference_name``,
    or a run of seven significant digits or more (``SEVEN_SIGNIFICANT_DIGITS``), its public
    accessions set aside, as ``personal_contig`` judges a ``##contig`` ID: ``tig00000001`` passes,
    ``tig19900101`` and ``ctg1234567`` do not."""
    return any(
        SEQUENCE_NAME_PERSONAL.search(PUBLIC_ACCESSION.sub(b"A", form)) is not None for form in (name, *percent_decodings(name))
    )


def personal_contig(identifier: bytes) -> bool:
    """Whether a contig ID holds a path, an address, a URL, a host or an IP address also written onto
    letters (``PLACE_IN_NAME``: ``ctg_10.0.0.1``), text outside ASCII or a number or date shape of
    ``CONTIG_PERSONAL``, once its public accession tokens (``PUBLIC_ACCESSION``) are set aside:
    ``KIM_19900101`` and ``/home/kimjh/asm.fa`` do; ``chrUn_JTFH01000001v1_decoy`` and
    ``HLA-DRB1*15:01:01:01`` do not."""
    for form in (identifier, *percent_decodings(identifier)):  # ``KIM%5F19900101`` is ``KIM_19900101``
        if PATHS.search(form) is not None or PLACE_IN_NAME.search(form) is not None:
            return True
        if CONTIG_PERSONAL.search(PUBLIC_ACCESSION.sub(b" ", form)) is not None:
            return True
    return False
