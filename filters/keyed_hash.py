"""HMAC-SHA-256 with a fixed key and prefix (RFC 2104): the keyed pseudonyms' hash.

``hexdigest`` hashes one message (an ID) with hashlib. ``hex_prefixes`` hashes a list of
read names, every template of a BAM part or a FASTQ file: in one call of the compiled
``_keyed_hash`` (``filters/_keyed_hash.c``, about 0.17 us a name with the CPU's SHA
instructions) where it is built, else with hashlib (about 0.7 us a name). Both give the
same digits; tests/test_keyed_hash.py holds them to ``hmac``. ``scan.load_compiled`` loads
it under the byte loops' switches: ``GENOSCRUB_PURE_PYTHON=1`` uses hashlib,
``GENOSCRUB_REQUIRE_SCAN=1`` makes a missing build an error.
"""

from __future__ import annotations

import hashlib

from genoscrub.scan import load_compiled

compiled = load_compiled("_keyed_hash")


class KeyedHash:
    """HMAC-SHA-256(key, prefix + message), with the key schedule done once."""

    def __init__(self, key: bytes, prefix: bytes) -> None:
        self._key = key
        self._prefix = prefix
        block = hashlib.sha256(key).digest() if len(key) > 64 else key
        block = block.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._inner.update(prefix)
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def digest(self, message: bytes) -> bytes:
        """One message's HMAC, 32 bytes (hashlib; the padded keys' hashes copied, not set up again:
        ``hmac.digest`` sets OpenSSL's HMAC up anew for each message, which costs more than
        hashing a read's qualities)."""
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def hexdigest(self, message: bytes) -> str:
        """All 64 hex digits of one message's HMAC (hashlib)."""
        return self.digest(message).hex()

    def hex_prefixes(self, messages: list[bytes], digits: int) -> list[bytes]:
        """The first ``digits`` hex digits of each message's HMAC, as bytes."""
        if compiled is not None:
            return compiled.hmac_sha256_hex(self._key, self._prefix, messages, digits, True)
        digest = self.hexdigest
        return [digest(message)[:digits].encode() for message in messages]
