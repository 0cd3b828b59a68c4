"""sam_columns.ReadPlaces: FLAG, POS, PNEXT, RNAME and RNEXT as every SAM command reads them.

The bulk check of a block must refuse exactly the blocks the one-record check refuses, and
name the same line with the same message; the numbers it returns are those ``int()`` reads.
"""

from __future__ import annotations

import numpy as np
import pytest
from genoscrub.report import InputError
from genoscrub.sam_columns import (
    BAD_NUMBER,
    PAST_CONTIG_END,
    SAM_NUMBER_LIMIT,
    TEMPLATE_PAST_CONTIG,
    UNDECLARED_RNAME,
    UNDECLARED_RNEXT,
    UNREAD,
    ReadPlaces,
    block_fields,
    is_position,
    off_grammar,
    place_fields,
    signed_numbers,
    signed_value,
    tag_codes,
    tag_lines,
)
from hypothesis import given, settings
from hypothesis import strategies as st

DECLARED = [b"chr1", b"chr2", b"chrM", b"1", b"HLA-A*01:01:01:01"]
NUMBERS = st.one_of(
    st.integers(0, SAM_NUMBER_LIMIT - 1).map(lambda number: b"%d" % number),
    st.sampled_from([b"2147483647", b"2147483648", b"4294967296", b"0000000001", b"00000000001", b"", b"-1", b"1x", b"+1"]),
)
CONTIGS = st.sampled_from([*DECLARED, b"*", b"=", b"chr3", b"S2301217T_contig_1", b"chr1 ", b""])


COPIED = st.sampled_from([b"60", b"4M", b"0", b"-12", b"*", b"", b"KIMJ", b"4M1Z", b"255", b"1=2X3I"])
"""Values of MAPQ, CIGAR and TLEN: each on or off some column's characters."""


def record(
    flag: bytes, rname: bytes, position: bytes, rnext: bytes, mate_position: bytes,
    quality: bytes = b"60", cigar: bytes = b"4M", length: bytes = b"0",
) -> bytes:
    return b"\t".join([b"r", flag, rname, position, quality, cigar, rnext, mate_position, length, b"ACGT", b"IIII"])


@st.composite
def blocks(draw: st.DrawFn) -> list[bytes]:
    contig, mate = st.sampled_from([b"chr1", b"chr2"]), st.sampled_from([b"=", b"*"])
    good = st.builds(record, st.just(b"99"), contig, st.just(b"100"), mate, st.just(b"0"))
    anything = st.builds(record, NUMBERS, CONTIGS, NUMBERS, CONTIGS, NUMBERS, COPIED, COPIED, COPIED)
    return draw(st.lists(st.one_of(good, good, anything), min_size=1, max_size=12))


def one_record_error(lines: list[bytes], places: ReadPlaces) -> tuple[int, str] | None:
    for index, line in enumerate(lines):
        if message := places.fault(line.split(b"\t")):
            return index, message
    return None


def bulk_matches_one_record(
    lines: list[bytes], places: ReadPlaces, numbers: bool, first_line: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Check a block of ``lines`` in bulk (``read_block`` when ``numbers``, else ``check_block``)
    and assert it refuses exactly the line and words the one-record check names first; what
    ``read_block`` returned when nothing was refused (None otherwise, or without ``numbers``)."""
    text = b"\n".join(lines) + b"\n"
    table = block_fields(text)
    assert table is not None
    expected = one_record_error(lines, places)
    try:
        read = places.read_block(text, table.spans, "x.sam", first_line) if numbers else None
        if not numbers:
            places.check_block(text, table.spans, "x.sam", first_line)
    except InputError as error:
        assert expected is not None
        assert (error.line, error.message) == (first_line + expected[0], expected[1])
        return None
    assert expected is None
    return read


@settings(max_examples=300, deadline=None)
@given(lines=blocks(), numbers=st.booleans())
def test_the_bulk_check_refuses_what_the_one_record_check_refuses(lines: list[bytes], numbers: bool) -> None:
    read = bulk_matches_one_record(lines, ReadPlaces(DECLARED, numbers=numbers), numbers, 10)
    if read is not None:
        flags, positions, mate_positions, far_mates = read
        columns = [line.split(b"\t") for line in lines]
        assert not far_mates.any()  # no header lengths: PNEXT held to nothing
        assert flags.tolist() == [int(fields[1]) for fields in columns]
        assert positions.tolist() == [int(fields[3]) for fields in columns]
        assert mate_positions.tolist() == [int(fields[7]) for fields in columns]


def test_the_names_seen_lately_are_tried_first_and_stay_few() -> None:
    """A name found by the slow lookup joins the short list; more than RECENT names push the oldest out."""
    many = [b"c%d" % number for number in range(30)]
    places = ReadPlaces(many)
    for name in many:
        text = record(b"0", name, b"1", b"=", b"1") + b"\n"
        table = block_fields(text)
        assert table is not None
        places.check_block(text, table.spans, "x.sam", 1)
    assert places.recent[:2] == [b"*", b"="] and len(places.recent) == 2 + ReadPlaces.RECENT
    assert places.recent[2] == many[-1]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ((b"0", b"chr1", b"1", b"=", b"0"), None),
        ((b"0", b"*", b"0", b"*", b"0"), None),
        ((b"0", b"=", b"1", b"*", b"0"), UNDECLARED_RNAME),  # '=' is for RNEXT only
        ((b"0", b"chr3", b"1", b"*", b"0"), UNDECLARED_RNAME),
        ((b"0", b"chr1", b"1", b"chr3", b"0"), UNDECLARED_RNEXT),
        ((b"0", b"chr1", b"00000000001", b"*", b"0"), BAD_NUMBER),  # 11 digits: refused although htslib reads 1
        ((b"0", b"chr1", b"0000000001", b"*", b"0"), None),
        ((b"0", b"chr1", b"2147483648", b"*", b"0"), BAD_NUMBER),
        ((b"0", b"chr1", b"1", b"*", b"-1"), BAD_NUMBER),
        ((b"0", b"chr1", b"1", b"*", b"0", b"KIMJ"), off_grammar(4)),
        ((b"0", b"chr1", b"1", b"*", b"0", b""), off_grammar(4)),
        ((b"0", b"chr1", b"1", b"*", b"0", b"60", b"KIMJ"), off_grammar(5)),
        ((b"0", b"chr1", b"1", b"*", b"0", b"60", b"4M", b"-KIMJ"), off_grammar(8)),
        ((b"0", b"chr1", b"1", b"*", b"0", b"60", b"4M", b"-4"), None),
    ],
)
def test_one_record(fields: tuple[bytes, ...], message: str | None) -> None:
    assert ReadPlaces(DECLARED).fault(record(*fields).split(b"\t")) == message


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ((b"0x10", b"chr1", b"1", b"*", b"0"), off_grammar(1)),
        ((b"0", b"chr1", b"KIMJ", b"*", b"0"), off_grammar(3)),
        ((b"0", b"chr1", b"1", b"*", b"-129696966"), None),  # htslib writes such a PNEXT
        ((b"0", b"chr1", b"4294967296", b"*", b"0"), None),  # htslib reads long positions in SAM text
        ((b"0", b"chr3", b"1", b"*", b"0"), UNDECLARED_RNAME),
    ],
)
def test_one_record_where_no_read_is_placed(fields: tuple[bytes, ...], message: str | None) -> None:
    """sam-scrub-rg reads no number: FLAG, POS and PNEXT are checked by their characters."""
    assert ReadPlaces(DECLARED, numbers=False).fault(record(*fields).split(b"\t")) == message


def test_is_position_is_the_rule_of_the_numbers() -> None:
    assert [is_position(value) for value in (b"0", b"2147483647", b"2147483648", b"00000000001", b"", b"1.0")] == [
        True, True, False, False, False, False,
    ]  # fmt: skip


LENGTHS = {b"chr1": 2000, b"chr2": 100, b"chrM": 16569, b"long": 10001009800}
PLACED_NUMBERS = st.sampled_from(
    [b"0", b"1", b"100", b"1995", b"2000", b"2001", b"4010", b"4011", b"19900101", b"10000000002", b"-1", b"-150", b"-", b"1-2", b"--"]
)
PLACED_CIGARS = st.sampled_from([b"10M", b"5M100N5M", b"5M19900101N5M", b"*", b"4M1Z", b"999999999999M", b"10M2000N", b"3S7M"])


def placed_record(rname: bytes, position: bytes, cigar: bytes, rnext: bytes, mate_position: bytes, length: bytes, seq: bytes) -> bytes:
    return b"\t".join([b"r", b"1", rname, position, b"60", cigar, rnext, mate_position, length, seq, b"*"])


@settings(max_examples=400, deadline=None)
@given(
    lines=st.lists(
        st.builds(
            placed_record, st.sampled_from([*LENGTHS, b"*"]), PLACED_NUMBERS, PLACED_CIGARS,
            st.sampled_from([b"=", b"*", b"chr1", b"chrM"]), PLACED_NUMBERS, PLACED_NUMBERS,
            st.sampled_from([b"ACGTACGTAC", b"*", b"A" * 150]),
        ),
        min_size=1, max_size=10,
    ),
    numbers=st.booleans(),
)
def test_places_held_to_the_contig_lengths_alike_in_bulk_and_one_by_one(lines: list[bytes], numbers: bool) -> None:
    """Red team 8 F8: with the header's lengths, POS and CIGAR, and TLEN, are held to the contig,
    the bulk check refusing the line and words the one-record check names."""
    bulk_matches_one_record(lines, ReadPlaces(LENGTHS, numbers=numbers), numbers, 3)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ((b"chr1", b"100", b"10M", b"=", b"150", b"19900101"), TEMPLATE_PAST_CONTIG),  # red team 8 F8: TLEN a date
        ((b"chr1", b"100", b"10M", b"=", b"150", b"-19900101"), TEMPLATE_PAST_CONTIG),
        ((b"chr1", b"100", b"5M19900101N5M", b"*", b"0", b"0"), PAST_CONTIG_END),  # a skip a date
        ((b"chr1", b"19900101", b"10M", b"*", b"0", b"0"), PAST_CONTIG_END),
        ((b"chr1", b"100", b"10M", b"=", b"19900101", b"0"), None),  # PNEXT: headers cut to a region name mates past LN
        ((b"chr1", b"100", b"10M", b"=", b"2894519", b"2894429"), None),  # such a mate, TLEN its distance
        ((b"chrM", b"16560", b"150M", b"=", b"16500", b"210"), None),  # a circular chrM's read past the end
        ((b"chr2", b"111", b"10M", b"*", b"0", b"0"), None),  # htsspecs' FLAG/PNEXT test: a little past LN 100
        ((b"chr2", b"1", b"75M", b"*", b"1", b"-275"), None),  # an excerpt: TLEN of a mate cut away
        ((b"long", b"10000000002", b"27M1D73M", b"*", b"0", b"0"), None),  # LN past 2^31 (htslib's longref)
        ((b"*", b"0", b"*", b"*", b"200", b"167"), None),  # unplaced: held to nothing
        ((b"chr1", b"1", b"10M", b"*", b"0", b"-"), None),  # a TLEN of no digit holds no number
        ((b"chr1", b"1", b"10M", b"*", b"0", b"1990-01-01"), TEMPLATE_PAST_CONTIG),
    ],
)
def test_one_record_held_to_its_contig(fields: tuple[bytes, ...], message: str | None) -> None:
    rname, position, cigar, rnext, mate_position, length = fields
    line = placed_record(rname, position, cigar, rnext, mate_position, length, b"A" * 10)
    for numbers in (True, False):
        fault = ReadPlaces(LENGTHS, numbers=numbers).fault(line.split(b"\t"))
        assert fault == message or (numbers and fault == BAD_NUMBER and fields[0] == b"long")


@settings(max_examples=400, deadline=None)
@given(
    lines=st.lists(
        st.builds(
            placed_record, st.sampled_from([*LENGTHS, b"*"]), st.sampled_from([b"0", b"1", b"100", b"1995"]),
            st.sampled_from([b"10M", b"3S7M", b"*", b"5M100N5M", b"10M2000N"]),
            st.sampled_from([b"=", b"*", b"chr1", b"chr2", b"chrM"]), PLACED_NUMBERS, st.just(b"0"),
            st.sampled_from([b"ACGTACGTAC", b"*", b"A" * 150]),
        ),
        min_size=1, max_size=10,
    ),
)  # fmt: skip
def test_mates_held_to_their_contig_alike_in_bulk_and_one_by_one(lines: list[bytes]) -> None:
    """Red team 9 A2: PNEXT is held to twice its contig's LN and a read (RNEXT's contig, the
    record's own for ``=``, the longest for ``*``); the bulk answer is the one-record one, line by line."""
    text = b"\n".join(lines) + b"\n"
    table = block_fields(text)
    assert table is not None
    places = ReadPlaces(LENGTHS, numbers=False)
    try:
        bulk = places.check_block(text, table.spans, "x.sam", 3).tolist()
    except InputError:
        assert any(places.fault(line.split(b"\t")) for line in lines)
        return
    assert bulk == [places.mate_past_contig(line.split(b"\t")) for line in lines]


@pytest.mark.parametrize(
    ("fields", "past"),
    [
        ((b"chr1", b"100", b"10M", b"=", b"19900101"), True),  # red team 9 A2: PNEXT a date on a contig of 2000
        ((b"chr1", b"100", b"10M", b"chr2", b"19900101"), True),
        ((b"chr1", b"100", b"10M", b"chr2", b"210"), False),  # LN 100: twice it and a read of 10
        ((b"chr1", b"100", b"10M", b"chr2", b"211"), True),
        ((b"chr1", b"100", b"10M", b"=", b"-19900101"), True),  # htslib writes a negative PNEXT for some mates
        ((b"chr1", b"100", b"10M", b"*", b"-129696966"), True),  # RNEXT '*': the longest contig
        ((b"chr1", b"100", b"10M", b"*", b"0"), False),
        ((b"*", b"0", b"*", b"=", b"19900101"), True),  # '=' beside an RNAME of '*': the longest contig
        ((b"*", b"0", b"*", b"*", b"200"), False),
        ((b"chr1", b"100", b"10M", b"=", b"1990-01-01"), True),  # no number: no place
        ((b"chrM", b"16560", b"150M", b"=", b"33138"), False),  # a circular chrM's mate past the end
        ((b"chr1", b"100", b"10M", b"long", b"2894519"), False),
    ],
)
def test_one_mate_held_to_its_contig(fields: tuple[bytes, ...], past: bool) -> None:
    rname, position, cigar, rnext, mate_position = fields
    line = placed_record(rname, position, cigar, rnext, mate_position, b"0", b"A" * 10)
    lengths = {name: length for name, length in LENGTHS.items() if name != b"long" or rnext == name}
    assert ReadPlaces(lengths, numbers=False).mate_past_contig(line.split(b"\t")) is past


PLACE_FIELDS = st.sampled_from([
    b"CP:i:10", b"CP:i:4010", b"CP:i:4011", b"CP:i:19900101", b"CP:i:0", b"CP:i:", b"CP:i:-5", b"CP:i:00000000001", b"CP:Z:10",
    b"CP:i:10\r", b"CP", b"CPx:i:5", b"OP:i:19900101", b"NM:i:0", b"C", b"",
])  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    lines=st.lists(
        st.tuples(
            st.sampled_from([*LENGTHS, b"*"]), st.sampled_from([b"ACGTACGTAC", b"*"]), st.lists(PLACE_FIELDS, max_size=3)
        ),
        min_size=1, max_size=10,
    ),
)  # fmt: skip
def test_positions_in_tags_held_to_their_contig_alike_in_bulk_and_one_by_one(lines: list[tuple[bytes, bytes, list[bytes]]]) -> None:
    """``CP`` (the next hit's position), which sam-mask-regions and sam-revert-germline copy, goes
    where sam-scrub-rg removes it: past twice RNAME's LN and a read, or not ``CP:i:`` and digits.
    The bulk check (``tag_lines``' C pass, ``place_fields``, ``places_past``) selects every line
    the one-record rule (``places_kept``) changes: a superset, exact but for a value of more than
    10 digits or a CR after it, which the one-record rule reads."""
    records = [
        b"\t".join([b"r", b"0", rname, b"1" if rname != b"*" else b"0", b"60", b"10M", b"*", b"0", b"0", seq, b"*", *tags])
        for rname, seq, tags in lines
    ]
    text = b"\n".join(records) + b"\n"
    table = block_fields(text)
    assert table is not None
    places = ReadPlaces(LENGTHS)
    _, _, place_rows = tag_lines(table, tag_codes([]), b"", 1)
    tabs, ends, owners = place_fields(table.located, place_rows, text)
    past = places.places_past(text, tabs, ends, owners, table.spans)
    selected = set(owners[past].tolist())
    for row, (rname, seq, tags) in enumerate(lines):
        kept, removed = places.places_kept([tag for tag in tags if tag], rname, seq)
        assert removed == len([tag for tag in tags if tag]) - len(kept)
        unread = any(b"\r" in tag or len(tag) > 15 for tag in tags)
        assert (row in selected) == bool(removed) or (row in selected and unread)
        if rname not in (b"long", b"*"):  # a contig of 10 billion bases has a place 19900101
            assert not any(b"19900101" in tag and tag.startswith(b"CP") for tag in kept)
    assert not ReadPlaces(list(LENGTHS)).places_kept([b"CP:i:19900101"], b"chr1", b"*")[1]  # no lengths: held to nothing


@pytest.mark.parametrize(
    ("rname", "tag", "kept"),
    [
        (b"chr1", b"CP:i:4010", True),  # twice LN 2000 and a read of 10
        (b"chr1", b"CP:i:4011", False),
        (b"chr1", b"CP:i:19900101", False),  # a date where a position was
        (b"chr2", b"CP:i:300", False),  # LN 100
        (b"*", b"CP:i:19900101", True),  # RNAME '*': the longest contig (LN 10,001,009,800)
        (b"chr1", b"CP:Z:10", False),  # not an integer: no position
        (b"chr1", b"OP:i:19900101", True),  # OP goes from every record in both commands (their copying tags)
    ],
)
def test_one_position_tag_held_to_its_contig(rname: bytes, tag: bytes, kept: bool) -> None:
    assert ReadPlaces(LENGTHS).places_kept([tag, b"NM:i:0"], rname, b"A" * 10) == (([tag] if kept else []) + [b"NM:i:0"], int(not kept))

SIGNED_ODDITIES = st.sampled_from([b"-", b"--1", b"-0", b"1-", b"-" + b"9" * 18, b"9" * 19])


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.one_of(NUMBERS, PLACED_NUMBERS, SIGNED_ODDITIES), min_size=1, max_size=12))
def test_signed_numbers_read_alike_whether_signs_are_rare_or_not(values: list[bytes]) -> None:
    """``signed_numbers(..., signs_rare=True)`` (POS and PNEXT, read as digits first) gives what
    the signed reading gives, and that is :func:`signed_value` of each span, ``UNREAD`` where None."""
    text = b"\t".join(values) + b"\t"
    ends = np.cumsum([len(value) + 1 for value in values]) - 1
    starts = ends - np.array([len(value) for value in values])
    expected = [UNREAD if (value := signed_value(field)) is None else value for field in values]
    assert signed_numbers(text, starts, ends).tolist() == expected
    assert signed_numbers(text, starts, ends, signs_rare=True).tolist() == expected


@settings(max_examples=100, deadline=None)
@given(lines=blocks())
def test_a_line_s_mandatory_fields_are_its_split_fields(lines: list[bytes]) -> None:
    """``BlockFields.mandatory``: QNAME to TLEN of a line, as ``line.split(b"\\t")`` has them."""
    table = block_fields(b"\n".join(lines) + b"\n")
    assert table is not None
    for row, line in enumerate(lines):
        assert table.mandatory(row) == line.split(b"\t")[:9]


@pytest.mark.slow  # a long sweep of the bulk path against the one-record path: make test-slow (CI runs it after make test)
@settings(max_examples=300, deadline=None)
@given(
    blocks=st.lists(
        st.lists(
            st.builds(
                placed_record, st.sampled_from([*LENGTHS, b"*"]), st.sampled_from([b"0", b"1", b"100", b"1995"]),
                st.sampled_from([b"10M", b"3S7M", b"*", b"5M100N5M"]), st.sampled_from([b"=", b"*", b"chr1", b"chr2", b"chrM", b"long"]),
                PLACED_NUMBERS, PLACED_NUMBERS, st.sampled_from([b"ACGTACGTAC", b"*"]),
            ),
            min_size=1, max_size=6,
        ),
        min_size=1, max_size=6,
    ),
    numbers=st.booleans(),
)  # fmt: skip
def test_a_block_is_judged_alike_whatever_names_were_seen_before(blocks: list[list[bytes]], numbers: bool) -> None:
    """A ``ReadPlaces`` that has checked earlier blocks (its recent names, whose matches the
    length checks reuse when a block names none other) answers each block as a new one does."""
    warm = ReadPlaces(LENGTHS, numbers=numbers)
    for lines in blocks:
        text = b"\n".join(lines) + b"\n"
        table = block_fields(text)
        assert table is not None
        answers = []
        for places in (warm, ReadPlaces(LENGTHS, numbers=numbers)):
            try:
                answers.append(places.check_block(text, table.spans, "x.sam", 3).tolist())
            except InputError as error:
                answers.append([error.line, error.message])
        assert answers[0] == answers[1]
