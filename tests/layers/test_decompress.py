from __future__ import annotations

import gzip
import os
import zlib

import pytest
from backports.zstd import compress as zstd_compress

from chainproof.errors import MalformedError, UnsupportedError
from chainproof.layers.decompress import MAX_OUTPUT_CHUNK, decompress

DATA = os.urandom(300_000) + b"text " * 100_000


def _chunks(data: bytes, size: int = 65536) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("stdlib", [False, True])
def test_gzip_round_trip_and_multi_member(stdlib: bool) -> None:
    one = gzip.compress(DATA)
    assert b"".join(decompress(_chunks(one), "gzip", "l", stdlib_gzip=stdlib)) == DATA
    two = gzip.compress(DATA[:1000]) + gzip.compress(DATA[1000:])
    assert b"".join(decompress(_chunks(two, 777), "gzip", "l", stdlib_gzip=stdlib)) == DATA


def test_zstd_round_trip_and_multi_frame() -> None:
    frames = zstd_compress(DATA[:5000]) + zstd_compress(DATA[5000:])
    assert b"".join(decompress(_chunks(frames, 1000), "zstd", "l")) == DATA


def test_uncompressed_passes_through() -> None:
    assert b"".join(decompress(_chunks(DATA), "none", "l")) == DATA


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_truncated_streams_are_errors(compression: str) -> None:
    packed = gzip.compress(DATA) if compression == "gzip" else zstd_compress(DATA)
    with pytest.raises(MalformedError, match=f"truncated {compression}"):
        b"".join(decompress(_chunks(packed[: len(packed) // 2]), compression, "layer 0"))


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_corrupt_streams_are_errors(compression: str) -> None:
    packed = bytearray(gzip.compress(DATA) if compression == "gzip" else zstd_compress(DATA))
    if compression == "gzip":
        packed[len(packed) // 2 : len(packed) // 2 + 64] = bytes(64)  # CRC-32 catches it
    else:
        # zstd frames carry no content checksum by default: damage inside a raw block is
        # found by the layer digest check, damage to the frame structure here.
        packed[4:8] = b"\xff\xff\xff\xff"
    with pytest.raises(MalformedError, match=f"layer 0: corrupt {compression}"):
        b"".join(decompress(_chunks(bytes(packed)), compression, "layer 0"))


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_empty_stream_is_an_error(compression: str) -> None:
    with pytest.raises(MalformedError, match="empty"):
        b"".join(decompress([], compression, "l"))


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_bombs_come_out_in_bounded_pieces(compression: str) -> None:
    """256 MiB of zeros compress to a few hundred KiB; no output piece may exceed the bound."""
    zeros = bytes(256 * 1024 * 1024)
    packed = gzip.compress(zeros, 1) if compression == "gzip" else zstd_compress(zeros)
    del zeros
    total = 0
    for piece in decompress(_chunks(packed), compression, "bomb"):
        assert len(piece) <= MAX_OUTPUT_CHUNK
        total += len(piece)
    assert total == 256 * 1024 * 1024


def test_unknown_compression() -> None:
    with pytest.raises(UnsupportedError):
        list(decompress([b"x"], "lz4", "l"))


def test_raw_deflate_is_not_gzip() -> None:
    with pytest.raises(MalformedError):
        b"".join(decompress([zlib.compress(DATA)], "gzip", "l"))
