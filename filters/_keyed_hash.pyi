"""HMAC-SHA-256 of many read names in one call, in C (filters/_keyed_hash.c).

Every function takes its arguments by position only.
"""

from _typeshed import ReadableBuffer

def hmac_sha256_hex(key: ReadableBuffer, prefix: ReadableBuffer, messages: list[bytes], digits: int, accelerated: bool, /) -> list[bytes]:
    """The first ``digits`` (1 to 64) lowercase hex digits of HMAC-SHA-256(key, prefix + m) for each m, as bytes."""

def sha_extensions() -> bool:
    """Whether hmac_sha256_hex uses the CPU's SHA extensions on this machine."""
