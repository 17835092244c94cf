from __future__ import annotations

import hashlib

import pytest

from chainproof.errors import IntegrityError, MalformedError, UnsupportedError
from chainproof.oci.digest import Digest, DigestVerifier, verified_chunks


def test_parse_and_format_sha256_and_sha512() -> None:
    for algorithm in ("sha256", "sha512"):
        hexdigest = hashlib.new(algorithm, b"x").hexdigest()
        digest = Digest.parse(f"{algorithm}:{hexdigest}")
        assert str(digest) == f"{algorithm}:{hexdigest}"
        assert Digest.of(b"x", algorithm) == digest


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("sha256", MalformedError),
        ("sha256:" + "A" * 64, MalformedError),
        ("sha256:" + "a" * 63, MalformedError),
        ("sha512:" + "a" * 64, MalformedError),
        ("md5:" + "a" * 32, UnsupportedError),
    ],
)
def test_bad_digests(text: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        Digest.parse(text)


def test_verifier_detects_content_and_size_mismatch() -> None:
    good = Digest.of(b"hello")
    verifier = DigestVerifier(good, 5, "blob")
    verifier.update(b"hello")
    assert verifier.finish() == good

    with pytest.raises(IntegrityError, match="digest mismatch"):
        v = DigestVerifier(good, 5, "blob")
        v.update(b"hellO")
        v.finish()
    with pytest.raises(IntegrityError, match="size mismatch"):
        v = DigestVerifier(good, 6, "blob")
        v.update(b"hello")
        v.finish()


def test_oversized_stream_is_cut_off_while_streaming() -> None:
    digest = Digest.of(b"ab")
    produced: list[int] = []

    def endless() -> object:
        while True:
            produced.append(1)
            yield b"a" * 1024

    with pytest.raises(IntegrityError, match="more than the 2 bytes"):
        for _ in verified_chunks(endless(), digest, 2, "blob"):  # type: ignore[arg-type]
            pass
    assert len(produced) == 1


def test_sha512_verification() -> None:
    data = b"layer" * 1000
    digest = Digest.of(data, "sha512")
    assert b"".join(verified_chunks(iter([data[:7], data[7:]]), digest, len(data), "b")) == data
