"""Content digests (``algorithm:hex``) and streaming verification against them."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from chainproof.errors import IntegrityError, MalformedError, UnsupportedError

if TYPE_CHECKING:
    from collections.abc import Iterator

_ALGORITHMS = {"sha256": 64, "sha512": 128}
_DIGEST_RE = re.compile(r"^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$")


class _Hash(Protocol):
    def update(self, data: bytes, /) -> None: ...
    def hexdigest(self) -> str: ...


@dataclass(frozen=True, order=True)
class Digest:
    """A validated content digest; only sha256 and sha512 are accepted (OCI image spec)."""

    algorithm: str
    hex: str

    @classmethod
    def parse(cls, text: str) -> Digest:
        match = _DIGEST_RE.match(text)
        if not match:
            raise MalformedError(f"invalid digest {text!r}: expected ALGORITHM:HEX")
        algorithm, hexpart = match.groups()
        length = _ALGORITHMS.get(algorithm)
        if length is None:
            raise UnsupportedError(
                f"unsupported digest algorithm {algorithm!r} in {text!r} (sha256 and sha512 only)"
            )
        if len(hexpart) != length or not re.fullmatch(r"[0-9a-f]+", hexpart):
            raise MalformedError(
                f"invalid {algorithm} digest {text!r}: expected {length} lowercase hex digits"
            )
        return cls(algorithm, hexpart)

    @classmethod
    def of(cls, data: bytes, algorithm: str = "sha256") -> Digest:
        return cls(algorithm, hashlib.new(algorithm, data).hexdigest())

    def hasher(self) -> _Hash:
        return hashlib.new(self.algorithm)

    @property
    def encoded(self) -> str:
        return self.hex

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"

    def short(self) -> str:
        return f"{self.algorithm}:{self.hex[:12]}"


class DigestVerifier:
    """Hashes bytes as they pass and checks digest and size at the end.

    Checking the size as bytes arrive (not only at the end) stops a hostile source from
    streaming an unbounded blob at us.
    """

    def __init__(self, expected: Digest, expected_size: int | None, what: str) -> None:
        self.expected = expected
        self.expected_size = expected_size
        self.what = what
        self._hash = expected.hasher()
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.expected_size is not None and self.size > self.expected_size:
            raise IntegrityError(
                f"{self.what}: size mismatch: more than the {self.expected_size} bytes declared"
            )
        self._hash.update(chunk)

    def actual(self) -> Digest:
        return Digest(self.expected.algorithm, self._hash.hexdigest())

    def finish(self) -> Digest:
        """Raise :class:`IntegrityError` unless size and digest match; return the digest."""
        if self.expected_size is not None and self.size != self.expected_size:
            raise IntegrityError(
                f"{self.what}: size mismatch: declared {self.expected_size} bytes, got {self.size}"
            )
        actual = self.actual()
        if actual != self.expected:
            raise IntegrityError(
                f"{self.what}: digest mismatch: expected {self.expected}, got {actual}"
            )
        return actual


def verify_bytes(data: bytes, expected: Digest, expected_size: int | None, what: str) -> None:
    verifier = DigestVerifier(expected, expected_size, what)
    verifier.update(data)
    verifier.finish()


def verified_chunks(
    chunks: Iterator[bytes], expected: Digest, expected_size: int | None, what: str
) -> Iterator[bytes]:
    """Yield chunks unchanged; raise :class:`IntegrityError` at the end if they do not match."""
    verifier = DigestVerifier(expected, expected_size, what)
    for chunk in chunks:
        verifier.update(chunk)
        yield chunk
    verifier.finish()
