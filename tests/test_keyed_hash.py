"""The keyed hash of read names: the compiled HMAC (filters/_keyed_hash.c) against ``hmac``.

Every keyed read name in a BAM and a FASTQ is the first 24 hex digits of
HMAC-SHA-256(key, "read:" + name); the BAM and the FASTQ of a sample must agree on it, and
a site re-running the workflow years later must get the same names. So both compressions
of the C module (the CPU's SHA extensions and portable C) and the hashlib twin are held to
Python's ``hmac`` on keys, prefixes and names of every length around SHA-256's block edges
(55, 56, 63, 64 bytes of message; keys of 64 and 65 bytes, which the key schedule treats
differently).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import subprocess
import sys

import pytest
from genoscrub import keyed_hash
from genoscrub.keyed_hash import KeyedHash
from genoscrub.pseudonyms import READ_HASH_DIGITS, Pseudonyms
from hypothesis import given, settings
from hypothesis import strategies as st

compiled = keyed_hash.compiled
needs_compiled = pytest.mark.skipif(compiled is None, reason="genoscrub._keyed_hash is not built")
EDGES = [0, 1, 54, 55, 56, 57, 63, 64, 65, 119, 120, 128, 300]


def reference(key: bytes, prefix: bytes, message: bytes, digits: int) -> bytes:
    return hmac.new(key, prefix + message, hashlib.sha256).hexdigest()[:digits].encode()


def test_make_test_runs_with_the_keyed_hash_built() -> None:
    """make test sets GENOSCRUB_REQUIRE_SCAN: a build that lost the module must not pass on hashlib."""
    if os.environ.get("GENOSCRUB_REQUIRE_SCAN") and not os.environ.get("GENOSCRUB_PURE_PYTHON"):
        assert compiled is not None
    elif compiled is None:
        pytest.skip("genoscrub._keyed_hash is not built and GENOSCRUB_REQUIRE_SCAN is not set")


@needs_compiled
@pytest.mark.parametrize("accelerated", [True, False], ids=["sha-extensions", "portable"])
@pytest.mark.parametrize("key_length", [0, 16, 32, 63, 64, 65, 200])
def test_every_length_at_the_block_edges(accelerated: bool, key_length: int) -> None:
    assert compiled is not None
    key = bytes(range(7, 7 + key_length)) if key_length <= 249 else os.urandom(key_length)
    for prefix in (b"", b"read:", b"id:" * 21 + b"x"):
        messages = [bytes((i * 31 + length) % 256 for i in range(length)) for length in EDGES]
        for digits in (1, 16, 24, 63, 64):
            expected = [reference(key, prefix, message, digits) for message in messages]
            assert compiled.hmac_sha256_hex(key, prefix, messages, digits, accelerated) == expected


@needs_compiled
@settings(max_examples=300, deadline=None)
@given(
    key=st.binary(min_size=0, max_size=130),
    prefix=st.binary(max_size=70),
    messages=st.lists(st.binary(max_size=400), max_size=8),
    digits=st.integers(1, 64),
)
def test_any_key_prefix_and_names(key: bytes, prefix: bytes, messages: list[bytes], digits: int) -> None:
    assert compiled is not None
    expected = [reference(key, prefix, message, digits) for message in messages]
    for accelerated in (True, False):
        assert compiled.hmac_sha256_hex(key, prefix, messages, digits, accelerated) == expected


@needs_compiled
def test_refused_arguments() -> None:
    assert compiled is not None
    for digits in (0, 65):
        with pytest.raises(ValueError, match="digits must be 1 to 64"):
            compiled.hmac_sha256_hex(b"k", b"", [b"a"], digits, True)
    with pytest.raises(TypeError):
        compiled.hmac_sha256_hex(b"k", b"", [b"a", "b"], 24, True)
    with pytest.raises(TypeError):
        compiled.hmac_sha256_hex(b"k", b"", (b"a",), 24, True)


@settings(max_examples=100, deadline=None)
@given(key=st.binary(min_size=16, max_size=100), messages=st.lists(st.binary(max_size=200), max_size=6))
def test_the_twin_gives_the_compiled_digits(key: bytes, messages: list[bytes]) -> None:
    """``hex_prefixes`` (whichever it uses) and the hashlib ``hexdigest`` agree with ``hmac``."""
    hashed = KeyedHash(key, b"read:")
    assert hashed.hex_prefixes(messages, READ_HASH_DIGITS) == [reference(key, b"read:", m, READ_HASH_DIGITS) for m in messages]
    assert [hashed.hexdigest(m) for m in messages] == [hmac.new(key, b"read:" + m, hashlib.sha256).hexdigest() for m in messages]


def keyed_names_in_a_fresh_interpreter(environment: dict[str, str], key_file: str) -> str:
    code = (
        "import sys; from pathlib import Path; from genoscrub import keyed_hash; from genoscrub.pseudonyms import Pseudonyms;"
        f"p = Pseudonyms(key_path=Path({key_file!r}));"
        "print(keyed_hash.compiled is None, b','.join(p.read_names([b'r1', b'SIM:1:FC:2:3:4', b'x' * 80])).decode())"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("GENOSCRUB_")}
    result = subprocess.run([sys.executable, "-c", code], env={**env, **environment}, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@needs_compiled
def test_both_implementations_give_a_command_the_same_names(tmp_path) -> None:
    """The same key file names reads alike with and without the compiled hash."""
    key_file = tmp_path / "site.key"
    key_file.write_bytes(b"0123456789abcdef0123456789abcdef\n")
    key_file.chmod(0o600)
    fast = keyed_names_in_a_fresh_interpreter({}, str(key_file))
    slow = keyed_names_in_a_fresh_interpreter({"GENOSCRUB_PURE_PYTHON": "1"}, str(key_file))
    assert fast.startswith("False ") and slow.startswith("True ")
    assert fast.split()[1] == slow.split()[1]
    names = Pseudonyms(key_path=key_file).read_names([b"r1"])
    assert fast.split()[1].split(",")[0] == names[0].decode()
