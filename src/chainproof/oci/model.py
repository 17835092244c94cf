"""Parsed OCI / Docker schema-2 documents: descriptors, manifests, indexes, image configs.

Parsing is strict about what matters for verification (digests, sizes, media types) and lenient
about fields we do not use, like the reference implementations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chainproof import _jsonutil
from chainproof.errors import MalformedError, UnsupportedError
from chainproof.oci import mediatypes as mt
from chainproof.oci.digest import Digest


def _str(obj: dict[str, Any], key: str, what: str, *, required: bool = True) -> str:
    value = obj.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise MalformedError(f"{what}: field {key!r} must be a string")
    return value


def _int(obj: dict[str, Any], key: str, what: str) -> int:
    value = obj.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MalformedError(f"{what}: field {key!r} must be a non-negative integer")
    return value


def _str_map(value: Any, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise MalformedError(f"{what}: annotations must map strings to strings")
    return dict(value)


@dataclass(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: str = ""
    os_version: str = ""
    os_features: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, obj: Any, what: str) -> Platform:
        if not isinstance(obj, dict):
            raise MalformedError(f"{what}: platform must be an object")
        features = obj.get("os.features") or ()
        return cls(
            os=_str(obj, "os", what),
            architecture=_str(obj, "architecture", what),
            variant=_str(obj, "variant", what, required=False),
            os_version=_str(obj, "os.version", what, required=False),
            os_features=tuple(str(f) for f in features),
        )

    @property
    def name(self) -> str:
        """``os/arch[/variant]`` without the OS version."""
        text = f"{self.os}/{self.architecture}"
        return f"{text}/{self.variant}" if self.variant else text

    def __str__(self) -> str:
        return f"{self.name}:{self.os_version}" if self.os_version else self.name

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"os": self.os, "architecture": self.architecture}
        if self.variant:
            out["variant"] = self.variant
        if self.os_version:
            out["os.version"] = self.os_version
        return out


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: Digest
    size: int
    urls: tuple[str, ...] = ()
    annotations: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    platform: Platform | None = None
    artifact_type: str = ""

    @classmethod
    def from_json(cls, obj: Any, what: str) -> Descriptor:
        if not isinstance(obj, dict):
            raise MalformedError(f"{what}: descriptor must be an object")
        urls = obj.get("urls") or []
        if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
            raise MalformedError(f"{what}: descriptor urls must be a list of strings")
        platform = obj.get("platform")
        return cls(
            media_type=_str(obj, "mediaType", what),
            digest=Digest.parse(_str(obj, "digest", what)),
            size=_int(obj, "size", what),
            urls=tuple(urls),
            annotations=_str_map(obj.get("annotations"), what),
            platform=Platform.from_json(platform, what) if platform is not None else None,
            artifact_type=_str(obj, "artifactType", what, required=False),
        )

    @property
    def is_foreign(self) -> bool:
        return self.media_type in mt.FOREIGN_LAYER_TYPES


@dataclass(frozen=True)
class Manifest:
    """An image manifest (OCI or Docker schema 2), with the exact bytes it was parsed from."""

    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]
    raw: bytes = field(repr=False)
    digest: Digest
    annotations: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    subject: Descriptor | None = None
    artifact_type: str = ""


@dataclass(frozen=True)
class Index:
    """An OCI image index or Docker manifest list."""

    media_type: str
    manifests: tuple[Descriptor, ...]
    raw: bytes = field(repr=False)
    digest: Digest
    annotations: dict[str, str] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class HistoryEntry:
    created: str
    created_by: str
    comment: str
    empty_layer: bool


@dataclass(frozen=True)
class ImageConfig:
    raw: bytes = field(repr=False)
    os: str
    architecture: str
    variant: str
    os_version: str
    diff_ids: tuple[Digest, ...]
    history: tuple[HistoryEntry, ...]
    config: dict[str, Any] = field(hash=False, compare=False)
    created: str = ""

    @property
    def platform(self) -> Platform:
        return Platform(self.os, self.architecture, self.variant, self.os_version)

    @property
    def user(self) -> str:
        value = self.config.get("User")
        return value if isinstance(value, str) else ""


def _detect_media_type(obj: dict[str, Any], hint: str | None) -> str:
    declared = obj.get("mediaType")
    if declared is not None and not isinstance(declared, str):
        raise MalformedError("mediaType must be a string")
    if obj.get("schemaVersion") == 1 or (declared or hint) in mt.SCHEMA1_TYPES:
        raise UnsupportedError(
            "Docker schema 1 manifests are not supported (deprecated and unverifiable); "
            "push the image again with a current client to get a schema 2 or OCI manifest"
        )
    media_type = declared or hint or ""
    if not media_type:
        # OCI allows omitting mediaType; the shape tells which document it is.
        if "manifests" in obj:
            media_type = mt.OCI_INDEX
        elif "config" in obj and "layers" in obj:
            media_type = mt.OCI_MANIFEST
    if media_type not in mt.INDEX_TYPES and media_type not in mt.MANIFEST_TYPES:
        raise UnsupportedError(f"unsupported manifest media type {media_type or '(none)'!r}")
    return media_type


def parse_manifest(raw: bytes, digest: Digest, hint: str | None = None) -> Manifest | Index:
    """Parse manifest or index bytes whose digest has already been verified."""
    what = f"manifest {digest.short()}"
    obj = _jsonutil.loads_object(raw, what)
    media_type = _detect_media_type(obj, hint)
    if obj.get("schemaVersion") != 2:
        raise MalformedError(f"{what}: schemaVersion must be 2")
    annotations = _str_map(obj.get("annotations"), what)
    if media_type in mt.INDEX_TYPES:
        entries = obj.get("manifests")
        if not isinstance(entries, list):
            raise MalformedError(f"{what}: 'manifests' must be a list")
        return Index(
            media_type=media_type,
            manifests=tuple(
                Descriptor.from_json(e, f"{what} entry {i}") for i, e in enumerate(entries)
            ),
            raw=raw,
            digest=digest,
            annotations=annotations,
        )
    layers = obj.get("layers")
    if not isinstance(layers, list):
        raise MalformedError(f"{what}: 'layers' must be a list")
    subject = obj.get("subject")
    return Manifest(
        media_type=media_type,
        config=Descriptor.from_json(obj.get("config"), f"{what} config"),
        layers=tuple(Descriptor.from_json(e, f"{what} layer {i}") for i, e in enumerate(layers)),
        raw=raw,
        digest=digest,
        annotations=annotations,
        subject=Descriptor.from_json(subject, f"{what} subject") if subject is not None else None,
        artifact_type=_str(obj, "artifactType", what, required=False),
    )


def parse_config(raw: bytes, digest: Digest) -> ImageConfig:
    what = f"config {digest.short()}"
    obj = _jsonutil.loads_object(raw, what)
    rootfs = obj.get("rootfs")
    if not isinstance(rootfs, dict) or not isinstance(rootfs.get("diff_ids"), list):
        raise MalformedError(f"{what}: missing rootfs.diff_ids")
    diff_ids = tuple(Digest.parse(str(d)) for d in rootfs["diff_ids"])
    history_raw = obj.get("history") or []
    if not isinstance(history_raw, list):
        raise MalformedError(f"{what}: history must be a list")
    history = tuple(
        HistoryEntry(
            created=str(h.get("created", "")),
            created_by=str(h.get("created_by", "")),
            comment=str(h.get("comment", "")),
            empty_layer=bool(h.get("empty_layer", False)),
        )
        for h in history_raw
        if isinstance(h, dict)
    )
    inner = obj.get("config") or {}
    if not isinstance(inner, dict):
        raise MalformedError(f"{what}: 'config' must be an object")
    return ImageConfig(
        raw=raw,
        os=_str(obj, "os", what, required=False),
        architecture=_str(obj, "architecture", what, required=False),
        variant=_str(obj, "variant", what, required=False),
        os_version=_str(obj, "os.version", what, required=False),
        diff_ids=diff_ids,
        history=history,
        config=inner,
        created=_str(obj, "created", what, required=False),
    )
