"""Resolve a reference to verified platform images: index → manifest → config.

Every document is checked against the digest (and size, where a descriptor gives one) before
it is parsed; a mismatch raises :class:`chainproof.errors.IntegrityError` naming the document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chainproof.errors import MalformedError, NotFoundError, UnsupportedError
from chainproof.oci import mediatypes as mt
from chainproof.oci import platform as platforms
from chainproof.oci.digest import Digest, DigestVerifier, verify_bytes
from chainproof.oci.model import (
    Descriptor,
    ImageConfig,
    Index,
    Manifest,
    Platform,
    parse_config,
    parse_manifest,
)

if TYPE_CHECKING:
    from chainproof.oci.platform import PlatformSpec
    from chainproof.oci.sources.interface import ImageSource, RawManifest

MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # distribution's own limit for manifests
MAX_CONFIG_BYTES = 16 * 1024 * 1024
MAX_INDEX_NESTING = 4


@dataclass(frozen=True)
class Verified:
    """A document whose digest chainproof checked, for the integrity report."""

    what: str  # "index", "manifest", "config"
    digest: Digest
    size: int
    media_type: str


@dataclass(frozen=True)
class PlatformImage:
    """One runnable image: its manifest and config, verified."""

    reference: str
    manifest: Manifest
    config: ImageConfig
    index: Index | None = None
    index_entry: Descriptor | None = None
    verified: tuple[Verified, ...] = field(default=())

    @property
    def digest(self) -> Digest:
        return self.manifest.digest

    @property
    def platform(self) -> Platform:
        # The config is what the runtime uses; the index entry only advertises it.
        cfg = self.config.platform
        if self.index_entry is not None and self.index_entry.platform is not None:
            entry = self.index_entry.platform
            return Platform(
                cfg.os or entry.os,
                cfg.architecture or entry.architecture,
                cfg.variant or entry.variant,
                cfg.os_version or entry.os_version,
                entry.os_features,
            )
        return cfg


@dataclass(frozen=True)
class ResolvedTarget:
    """What a reference resolved to: the top document and the platform images selected."""

    reference: str
    top: Manifest | Index
    images: tuple[PlatformImage, ...]

    @property
    def digest(self) -> Digest:
        return self.top.digest


def _check_manifest(
    raw: RawManifest, expected: Digest | None, expected_size: int | None, what: str
) -> tuple[Manifest | Index, Verified]:
    if len(raw.data) > MAX_MANIFEST_BYTES:
        raise MalformedError(f"{what}: larger than the {MAX_MANIFEST_BYTES}-byte manifest limit")
    if expected is not None:
        verify_bytes(raw.data, expected, expected_size, what)
        digest = expected
    else:
        digest = Digest.of(raw.data)
    document = parse_manifest(raw.data, digest, raw.media_type or None)
    return document, Verified(
        "index" if isinstance(document, Index) else "manifest",
        digest,
        len(raw.data),
        document.media_type,
    )


def read_blob(source: ImageSource, descriptor: Descriptor, what: str, limit: int) -> bytes:
    """Read a small blob (config, signature payload) fully, verified against its descriptor."""
    if descriptor.size > limit:
        raise MalformedError(f"{what}: declared size {descriptor.size} exceeds the {limit} limit")
    verifier = DigestVerifier(descriptor.digest, descriptor.size, what)
    parts: list[bytes] = []
    for chunk in source.open_blob(descriptor):
        verifier.update(chunk)
        parts.append(chunk)
    verifier.finish()
    return b"".join(parts)


def fetch_manifest(
    source: ImageSource, descriptor: Descriptor, what: str
) -> tuple[Manifest | Index, Verified]:
    raw = source.get_manifest(descriptor.digest)
    return _check_manifest(raw, descriptor.digest, descriptor.size, what)


def load_platform_image(
    source: ImageSource,
    reference: str,
    manifest: Manifest,
    verified: list[Verified],
    *,
    index: Index | None = None,
    entry: Descriptor | None = None,
) -> PlatformImage:
    if manifest.config.media_type not in mt.CONFIG_TYPES:
        raise UnsupportedError(
            f"manifest {manifest.digest.short()} is not a container image "
            f"(config media type {manifest.config.media_type!r})"
        )
    what = f"config {manifest.config.digest.short()}"
    config_bytes = read_blob(source, manifest.config, what, MAX_CONFIG_BYTES)
    config = parse_config(config_bytes, manifest.config.digest)
    verified_all = [
        *verified,
        Verified(
            "config", manifest.config.digest, manifest.config.size, manifest.config.media_type
        ),
    ]
    return PlatformImage(reference, manifest, config, index, entry, tuple(verified_all))


def resolve(
    source: ImageSource,
    reference: str,
    spec: PlatformSpec | None = None,
    *,
    all_platforms: bool = False,
) -> ResolvedTarget:
    """Resolve ``reference`` in ``source`` to verified platform images.

    Raises IntegrityError for any digest or size mismatch on the way, NotFoundError when no
    platform matches, UnsupportedError for schema 1 and unknown media types.
    """
    raw, expected = source.resolve()
    top, top_verified = _check_manifest(raw, expected, None, "manifest")
    if isinstance(top, Manifest):
        image = load_platform_image(source, reference, top, [top_verified])
        if spec is not None and not spec.matches(image.platform):
            raise NotFoundError(
                f"{reference} is a single-platform image for {image.platform}, not {spec}"
            )
        return ResolvedTarget(reference, top, (image,))

    images: list[PlatformImage] = []
    index: Index = top
    chain = [top_verified]
    for _depth in range(MAX_INDEX_NESTING):
        entries = (
            platforms.image_entries(index) if all_platforms else [platforms.select(index, spec)]
        )
        nested: Index | None = None
        for entry in entries:
            child, child_verified = fetch_manifest(
                source, entry, f"manifest {entry.digest.short()} ({entry.platform})"
            )
            if isinstance(child, Index):
                if all_platforms or nested is not None:
                    raise UnsupportedError(
                        f"nested index {child.digest.short()} with --all-platforms"
                    )
                nested = child
                chain.append(child_verified)
                continue
            images.append(
                load_platform_image(
                    source, reference, child, [*chain, child_verified], index=index, entry=entry
                )
            )
        if nested is None:
            break
        index = nested
    else:
        raise MalformedError(f"{reference}: indexes nested deeper than {MAX_INDEX_NESTING}")
    if not images:
        raise NotFoundError(f"{reference}: index {top.digest.short()} lists no image manifests")
    return ResolvedTarget(reference, top, tuple(images))
