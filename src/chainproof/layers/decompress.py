"""Streaming decompression of layer blobs: gzip (ISA-L when available), zstd, none.

Each decompressor takes compressed chunks and yields uncompressed chunks with bounded
buffers, so memory stays flat whatever the layer size. Multi-member gzip and multi-frame
zstd streams (pigz, some builders) are handled; a stream that ends mid-member is an error.
"""

from __future__ import annotations

import types
import zlib
from typing import TYPE_CHECKING, Protocol

from chainproof.errors import MalformedError, UnsupportedError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

_gzip_impl: types.ModuleType
try:  # ISA-L's inflate is several times faster than zlib's; the stdlib is the fallback.
    from isal import isal_zlib as _gzip_impl
except ImportError:  # pragma: no cover - exercised only where isal has no wheel
    _gzip_impl = zlib

#: Output produced per decompress call; bounds memory for highly compressible input.
MAX_OUTPUT_CHUNK = 4 * 1024 * 1024


class _Decompressor(Protocol):
    @property
    def eof(self) -> bool: ...
    @property
    def unused_data(self) -> bytes: ...
    def decompress(self, data: bytes, max_length: int = ...) -> bytes: ...


def _zstd_decoder() -> _Decompressor:
    # The stdlib API (3.14's compression.zstd, backported): zlib-style max_length bounds
    # the output of each call, which zstandard's decompressobj cannot do.
    try:
        from compression.zstd import (  # type: ignore[import-not-found,unused-ignore]
            ZstdDecompressor,
        )
    except ImportError:
        from backports.zstd import ZstdDecompressor
    decoder: _Decompressor = ZstdDecompressor()
    return decoder


def _zstd_errors() -> tuple[type[Exception], ...]:
    try:
        from compression.zstd import ZstdError  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        from backports.zstd import ZstdError
    return (ZstdError,)


def _pending(decoder: _Decompressor) -> bytes:
    # zlib keeps input it could not consume under max_length in unconsumed_tail; the zstd
    # decompressor keeps it internally and is drained by calling again with b"".
    tail: bytes = getattr(decoder, "unconsumed_tail", b"")
    return tail


def _inflate(
    chunks: Iterable[bytes],
    what: str,
    kind: str,
    new_decoder: Callable[[], _Decompressor],
    errors: tuple[type[Exception], ...],
) -> Iterator[bytes]:
    decoder = new_decoder()
    started = False
    try:
        for chunk in chunks:
            data = chunk
            while data:
                if decoder.eof:
                    # Another member/frame follows: multi-member gzip (pigz) and multi-frame
                    # zstd are valid streams.
                    decoder = new_decoder()
                started = True
                out = decoder.decompress(data, MAX_OUTPUT_CHUNK)
                if out:
                    yield out
                data = decoder.unused_data if decoder.eof else _pending(decoder)
                # Drain output held back by max_length before taking more input.
                while not decoder.eof and not data and len(out) == MAX_OUTPUT_CHUNK:
                    out = decoder.decompress(b"", MAX_OUTPUT_CHUNK)
                    if out:
                        yield out
    except errors as exc:
        raise MalformedError(f"{what}: corrupt {kind} data ({exc})") from None
    if not started:
        raise MalformedError(f"{what}: empty {kind} stream")
    if not decoder.eof:
        raise MalformedError(f"{what}: truncated {kind} stream")


def decompress(
    chunks: Iterable[bytes], compression: str, what: str, *, stdlib_gzip: bool = False
) -> Iterator[bytes]:
    """Decompress ``chunks`` ('gzip', 'zstd' or 'none'); ``what`` names the blob in errors."""
    if compression == "gzip":
        impl = zlib if stdlib_gzip else _gzip_impl
        return _inflate(
            chunks, what, "gzip", lambda: impl.decompressobj(31), (zlib.error, impl.error, OSError)
        )
    if compression == "zstd":
        return _inflate(chunks, what, "zstd", _zstd_decoder, _zstd_errors())
    if compression == "none":
        return iter(chunks)
    raise UnsupportedError(f"{what}: unsupported compression {compression!r}")
