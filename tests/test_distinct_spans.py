"""``fields.distinct_spans``: the distinct values of many spans, found by keys and checked byte for byte."""

from __future__ import annotations

import numpy as np
import pytest
from genoscrub import fields
from hypothesis import given, settings
from hypothesis import strategies as st

VALUE = st.sampled_from([b"", b"a", b"rg1", b"rg10", b"\tRG:Z:S2301217T_20231029.L001", b"\tRG:Z:S2301217T_20231029.L002",
                         b"xxxxxxxxxL001", b"yyyyyyyyyL001", b"\x00\x00", b"\x00"])  # fmt: skip


def spans_of(values: list[bytes], gap: bytes) -> tuple[bytes, np.ndarray, np.ndarray]:
    text, starts, ends = b"", [], []
    for value in values:
        text += gap
        starts.append(len(text))
        text += value
        ends.append(len(text))
    return text + gap, np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64)


@pytest.mark.parametrize("mixer", [fields.SPAN_KEY_MIXER, np.uint64(0)], ids=["keys", "colliding-keys"])
@settings(max_examples=200, deadline=None)
@given(values=st.lists(VALUE, max_size=12), gap=st.sampled_from([b"", b"\t", b"0123456789"]))
def test_each_span_points_at_its_own_value(values: list[bytes], gap: bytes, mixer: np.uint64) -> None:
    """Whatever the keys (a zero mixer makes values with the same tail collide): exact answers."""
    text, starts, ends = spans_of(values, gap)
    saved = fields.SPAN_KEY_MIXER
    fields.SPAN_KEY_MIXER = mixer
    try:
        distinct, which = fields.distinct_spans(text, starts, ends)
    finally:
        fields.SPAN_KEY_MIXER = saved
    assert len(set(distinct)) == len(distinct) == len(set(values))
    assert [distinct[index] for index in which.tolist()] == values
