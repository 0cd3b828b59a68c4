"""Read names through ``--map`` (and ``--key-file``): looked up as text, as the map is text.

``Pseudonyms.read_names`` looks names up as bytes and decodes only those that are not
ASCII; these tests hold it to the plain rule: the name decoded (bad bytes replaced),
looked up in the map, else its keyed hash, else an error.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest
from genoscrub.pseudonyms import READ_HASH_DIGITS, Pseudonyms
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

KEY = b"mapped read names key, 32 bytes!"
MAP = {"r1": "MAPPED1", "S2301217T": "MAPPEDS", "r\ufffd": "MAPPEDBAD", "ré": "MAPPEDACCENT", "*x": "MAPPEDSTAR"}
NAMES = st.sampled_from([b"r1", b"r2", b"S2301217T", b"r\xff", b"r\xfe", "ré".encode(), b"r\xc3", b"*x", b"", b"\xef\xbf\xbd"])


def expected(name: bytes, keyed: bool) -> bytes | None:
    """The rule, written out: the map by text, else HMAC-SHA-256 of ``read:`` + name."""
    value = MAP.get(name.decode(errors="replace"))
    if value is not None:
        return value.encode()
    if not keyed:
        return None
    return hmac.new(KEY, b"read:" + name, hashlib.sha256).hexdigest()[:READ_HASH_DIGITS].encode()


@pytest.fixture(scope="module")
def side_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("mapped")
    table = folder / "ids.tsv"
    table.write_text("".join(f"{original}\t{pseudonym}\n" for original, pseudonym in MAP.items()), encoding="utf-8")
    key = folder / "site.key"
    key.write_bytes(KEY)
    key.chmod(0o600)
    return table, key


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(NAMES, max_size=12), keyed=st.booleans())
def test_mapped_names_follow_the_text_rule(names: list[bytes], keyed: bool, side_files: tuple[Path, Path]) -> None:
    table, key = side_files
    pseudonyms = Pseudonyms(table, key if keyed else None)
    wanted = [expected(name, keyed) for name in names]
    if None in wanted:
        with pytest.raises(KeyError):
            pseudonyms.read_names(names)
    else:
        assert pseudonyms.read_names(names) == wanted
