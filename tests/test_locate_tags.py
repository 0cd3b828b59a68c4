"""``aux_tags.locate_tags`` against the rule written with ``bytes.split``: where each tag
of a block is, its code, and which blocks it leaves to the one-record path."""

from __future__ import annotations

from genoscrub.aux_tags import locate_tags, tag_code
from hypothesis import given, settings
from hypothesis import strategies as st

MANDATORY = [b"r1", b"0", b"chr1", b"1", b"60", b"4M", b"*", b"0", b"0", b"ACGT", b"II:i:"]
FIELD = st.sampled_from([b"NM:i:0", b"RG:Z:", b"XX:Z:", b"MD:Z:4", b"A!:A:!", b"NM:i", b"NM;i:0", b"NM:q:0", b"N", b"", b"\xff\xfe:B:c,1",
                         b"CO:Z:RG:Z:x\t", b"ZZ:H:0A"])  # fmt: skip


def by_split(text: bytes) -> tuple[list[int], list[int], list[int], list[int]] | None:
    """Each tag's start (its tab), end, code and line; None where a line or a tag is malformed."""
    starts, ends, codes, rows = [], [], [], []
    at = 0
    for row, line in enumerate(text.split(b"\n")[:-1]):
        fields = line.split(b"\t")
        if len(fields) < 11:
            return None
        offset = at + sum(len(field) + 1 for field in fields[:11]) - 1
        for field in fields[11:]:
            if len(field) < 5 or field[2] != 58 or field[4] != 58 or field[3] not in b"AifZHB":
                return None
            starts.append(offset)
            ends.append(offset + 1 + len(field))
            codes.append(tag_code(field[:2], field[3]))
            rows.append(row)
            offset += 1 + len(field)
        at += len(line) + 1
    return starts, ends, codes, rows


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(st.integers(9, 11), st.lists(FIELD, max_size=4)), max_size=6))
def test_tags_are_where_split_finds_them(lines: list[tuple[int, list[bytes]]]) -> None:
    text = b"".join(b"\t".join(MANDATORY[:columns] + (tags if columns == 11 else [])) + b"\n" for columns, tags in lines)
    layout = locate_tags(text)
    wanted = by_split(text)
    if wanted is None:
        assert layout is None
        return
    assert layout is not None
    assert (layout.starts.tolist(), layout.ends.tolist(), layout.codes.tolist(), layout.tag_lines().tolist()) == wanted
