"""One streaming pass over every layer of an image.

For each layer the compressed bytes are hashed against the descriptor (digest and size), then
decompressed and hashed against the config's ``rootfs.diff_ids`` entry; when consumers are
registered (SBOM catalogers, lint of files) the same stream is walked as tar and entries are
offered to them. A layer is read once, whatever asks for it, and memory stays flat.

The compressed side (read + hash) runs in a reader thread while this thread inflates and
hashes the result: hashlib and ISA-L release the GIL, so the two overlap on two cores.
"""

from __future__ import annotations

import dataclasses
import queue
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Protocol

from chainproof.errors import Error, IntegrityError, MalformedError
from chainproof.layers.cache import LayerCache, consumer_cache_key
from chainproof.layers.decompress import decompress
from chainproof.layers.walker import LayerEntry, LayerWalker, UnsafeEntry
from chainproof.oci import mediatypes as mt
from chainproof.oci.digest import Digest, DigestVerifier

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    from chainproof.oci.image import PlatformImage
    from chainproof.oci.model import Descriptor
    from chainproof.oci.sources.interface import ImageSource


class EntryConsumer(Protocol):
    """Something that wants to see layer entries (an SBOM cataloger, a file linter)."""

    def wants(self, entry: LayerEntry) -> bool:
        """Cheap filter; only wanted entries are passed to :meth:`consume`."""

    def consume(self, layer: int, entry: LayerEntry, open_file: Callable[[], IO[bytes]]) -> None:
        """Handle an entry; ``open_file()`` reads a regular file's content, once, now."""


@dataclass(frozen=True)
class LayerReport:
    index: int
    descriptor: Descriptor
    diff_id: Digest | None
    digest_ok: bool = False
    diff_id_ok: bool = False
    skipped: str = ""  # reason the layer was not read (foreign layer not allowed)
    error: str = ""
    uncompressed_size: int = 0
    unsafe: tuple[UnsafeEntry, ...] = field(default=())
    #: True when the facts above come from the layer cache (an earlier verified pass over
    #: the same blob, authenticated and re-checked against this manifest and config).
    from_cache: bool = False

    @property
    def ok(self) -> bool:
        return not self.error and not self.skipped and self.digest_ok and self.diff_id_ok


#: Progress callback: (layer index, compressed bytes read so far, layer size).
Progress = Callable[[int, int, int], None]

_END = object()
#: GIL switch interval while a layer streams. The walk holds the GIL in Python; the reader,
#: inflater and hasher threads need it for a moment between long GIL-free calls, and at
#: the default 5 ms each of those moments can cost a full interval (≈ 0.3 s over a 600 MB
#: layer of small files); 0.5 ms measured 10-30 % faster, 0.1 ms no better.
_SWITCH_INTERVAL = 0.0005


def _read_ahead(
    chunks: Iterator[bytes], depth: int = 8, name: str = "chainproof-reader"
) -> Iterator[bytes]:
    """Pull ``chunks`` in a thread, at most ``depth`` chunks ahead (bounded memory)."""
    pipe: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def pump() -> None:
        try:
            for chunk in chunks:
                while not stop.is_set():
                    try:
                        pipe.put(chunk, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            pipe.put(_END)
        except BaseException as exc:
            pipe.put(exc)

    worker = threading.Thread(target=pump, name=name, daemon=True)
    worker.start()
    try:
        while True:
            item = pipe.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, bytes)  # noqa: S101 - queue carries bytes or markers
            yield item
    finally:
        stop.set()
        worker.join()


def _hashed_aside(chunks: Iterable[bytes], verifier: DigestVerifier) -> Iterator[bytes]:
    """Yield ``chunks`` while a thread feeds them to ``verifier`` (hashlib drops the GIL)."""
    # Inflated chunks are up to 4 MiB: 8 in flight (~32 MiB) keeps the threads fed; 16 was
    # 2 % faster for 10 MB more, 4 was 6 % slower (bench/integrity.py).
    pipe: queue.Queue[bytes | None] = queue.Queue(maxsize=8)

    def hash_all() -> None:
        while (chunk := pipe.get()) is not None:
            verifier.update(chunk)

    worker = threading.Thread(target=hash_all, name="chainproof-hasher", daemon=True)
    worker.start()
    try:
        for chunk in chunks:
            pipe.put(chunk)
            yield chunk
    finally:
        pipe.put(None)
        worker.join()


def _verified(
    chunks: Iterable[bytes], verifier: DigestVerifier, progress: Callable[[int], None] | None
) -> Iterator[bytes]:
    for chunk in chunks:
        verifier.update(chunk)
        if progress is not None:
            progress(verifier.size)
        yield chunk


def scan_layer(
    source: ImageSource,
    index: int,
    descriptor: Descriptor,
    diff_id: Digest | None,
    *,
    windows: bool,
    consumers: Sequence[EntryConsumer] = (),
    progress: Progress | None = None,
    threaded: bool = True,
    walk: bool = True,
) -> LayerReport:
    what = f"layer {index} {descriptor.digest.short()}"
    compression = mt.layer_compression(descriptor.media_type)
    report = LayerReport(index, descriptor, diff_id)
    if compression is None:
        return _replace(report, error=f"{what}: unknown layer media type {descriptor.media_type!r}")
    compressed = DigestVerifier(descriptor.digest, descriptor.size, what)
    uncompressed = DigestVerifier(diff_id or descriptor.digest, None, f"{what} diff_id")
    unsafe: tuple[UnsafeEntry, ...] = ()
    on_bytes = (lambda n: progress(index, n, descriptor.size)) if progress else None
    try:
        raw = source.open_blob(descriptor)
    except Error as exc:
        return _unreadable(report, descriptor, exc)
    stages: list[Iterator[bytes]] = []  # closed in reverse order, so every thread is joined
    interval = sys.getswitchinterval()
    if threaded:
        sys.setswitchinterval(min(interval, _SWITCH_INTERVAL))
    try:
        stream, plain = _pipeline(
            raw,
            compression,
            what,
            compressed=compressed,
            uncompressed=uncompressed,
            on_bytes=on_bytes,
            stages=stages,
            threaded=threaded,
        )
        if consumers or walk:
            # Walking costs little next to inflate and hashing, and finds hostile entries
            # (path traversal, escaping links) that the digests alone cannot.
            walker = LayerWalker(plain, what, windows=windows)
            for entry in walker:
                for consumer in consumers:
                    if consumer.wants(entry):
                        consumer.consume(index, entry, walker.open_file)
            unsafe = tuple(walker.unsafe)
        else:
            for _ in plain:
                pass
    except MalformedError as exc:
        # Corrupt compression is usually a corrupt blob: say so by its digest when we can.
        _close(stages[1:])
        try:
            for _ in stream:
                pass
            compressed.finish()
        except IntegrityError as integrity:
            return _replace(report, error=str(integrity))
        except Error:
            pass
        return _replace(report, digest_ok=True, error=str(exc))
    except IntegrityError as exc:
        return _replace(report, error=str(exc))
    except Error as exc:
        if compressed.size == 0:
            # Sources that stream lazily (registries) fail on the first read, not on open.
            return _unreadable(report, descriptor, exc)
        return _replace(report, error=str(exc))
    finally:
        _close(stages)
        sys.setswitchinterval(interval)
    try:
        compressed.finish()
    except IntegrityError as exc:
        return _replace(report, error=str(exc), uncompressed_size=uncompressed.size)
    report = _replace(report, digest_ok=True, uncompressed_size=uncompressed.size, unsafe=unsafe)
    if diff_id is None:
        return _replace(report, error=f"{what}: no diff_id in the config for this layer")
    actual = uncompressed.actual()
    if actual != diff_id:
        return _replace(
            report,
            error=f"{what}: diff_id mismatch: config says {diff_id}, uncompressed content is "
            f"{actual}",
        )
    return _replace(report, diff_id_ok=True)


def _pipeline(
    raw: Iterable[bytes],
    compression: str,
    what: str,
    *,
    compressed: DigestVerifier,
    uncompressed: DigestVerifier,
    on_bytes: Callable[[int], None] | None,
    stages: list[Iterator[bytes]],
    threaded: bool,
) -> tuple[Iterator[bytes], Iterator[bytes]]:
    """(compressed stream, verified plain stream); threaded stages are added to ``stages``."""
    stream = _verified(raw, compressed, on_bytes)
    if threaded:
        # The reader thread also hashes the compressed bytes, overlapping with inflate.
        stream = _read_ahead(stream)
        stages.append(stream)
    inflated = decompress(stream, compression, what)
    if threaded:
        # Inflate on its own thread too: the tar walk holds the GIL, ISA-L does not, so the
        # walk runs on the other core instead of after each inflated chunk. Output chunks are
        # ≤ 4 MiB; 4 in flight bound the memory.
        inflated = _read_ahead(inflated, depth=4, name="chainproof-inflater")
        stages.append(inflated)
    plain = (
        _hashed_aside(inflated, uncompressed)
        if threaded
        else _verified(inflated, uncompressed, None)
    )
    stages.append(plain)
    return stream, plain


def _close(stages: list[Iterator[bytes]]) -> None:
    for stage in reversed(stages):
        close = getattr(stage, "close", None)
        if close is not None:
            close()


def _unreadable(report: LayerReport, descriptor: Descriptor, exc: Error) -> LayerReport:
    if descriptor.is_foreign:
        # Not in the image's registry at all (Windows base layers on MCR): its digest still
        # pins it, but we could not read it; the check reports a skip, not a pass.
        return _replace(report, skipped=str(exc))
    return _replace(report, error=str(exc))


def _replace(report: LayerReport, **changes: object) -> LayerReport:
    return dataclasses.replace(report, **changes)  # type: ignore[arg-type]


def scan_image(
    source: ImageSource,
    image: PlatformImage,
    *,
    consumers: Sequence[EntryConsumer] = (),
    progress: Progress | None = None,
    threaded: bool = True,
    walk: bool = True,
    cache: LayerCache | None = None,
) -> list[LayerReport]:
    """Verify (and walk, for consumers) every layer of ``image``.

    ``cache`` (default: ``source.layer_cache``) lets a layer verified earlier be taken from
    :mod:`chainproof.layers.cache` instead of streamed, when every consumer opts in.
    """
    windows = image.platform.os.lower() == "windows"
    diff_ids = image.config.diff_ids
    if cache is None and isinstance(source.layer_cache, LayerCache):
        cache = source.layer_cache
    keys = [consumer_cache_key(consumer) for consumer in consumers]
    # A consumer that cannot replay its per-layer result needs every layer streamed again;
    # verified layers are still recorded for the runs that can use them.
    warm = cache is not None and walk and None not in keys
    cacheable = [(c, k) for c, k in zip(consumers, keys, strict=True) if k is not None]
    reports: list[LayerReport] = []
    for index, descriptor in enumerate(image.manifest.layers):
        diff_id = diff_ids[index] if index < len(diff_ids) else None
        compression = mt.layer_compression(descriptor.media_type)
        fingerprint = (
            source.blob_fingerprint(descriptor)
            if cache is not None and walk and compression is not None and diff_id is not None
            else None
        )
        if warm and fingerprint is not None:
            assert cache is not None and compression is not None  # noqa: S101 - narrowed above
            hit = cache.lookup(descriptor, compression, fingerprint, windows=windows)
            if (
                hit is not None
                and hit.diff_id == diff_id
                and all(key in hit.states for _, key in cacheable)
            ):
                for consumer, key in cacheable:
                    consumer.restore_layer(index, hit.states[key])  # type: ignore[attr-defined]
                reports.append(
                    LayerReport(
                        index,
                        descriptor,
                        diff_id,
                        digest_ok=True,
                        diff_id_ok=True,
                        uncompressed_size=hit.uncompressed_size,
                        unsafe=hit.unsafe,
                        from_cache=True,
                    )
                )
                continue
        report = scan_layer(
            source,
            index,
            descriptor,
            diff_id,
            windows=windows,
            consumers=consumers,
            progress=progress,
            threaded=threaded,
            walk=walk,
        )
        reports.append(report)
        if cache is not None and fingerprint is not None and report.ok and diff_id is not None:
            assert compression is not None  # noqa: S101 - fingerprint implies it
            cache.store(
                descriptor,
                compression,
                fingerprint,
                windows=windows,
                diff_id=diff_id,
                uncompressed_size=report.uncompressed_size,
                unsafe=report.unsafe,
                states={
                    key: consumer.layer_state(index)  # type: ignore[attr-defined]
                    for consumer, key in cacheable
                },
            )
    return reports
