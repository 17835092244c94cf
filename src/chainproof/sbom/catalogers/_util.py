"""Helpers shared by catalogers: bounded JSON/XML, purls."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

from packageurl import PackageURL

from chainproof._jsonutil import loads_bounded
from chainproof.errors import MalformedError

MAX_MANIFEST_BYTES = 16 * 1024 * 1024


def json_document(data: bytes, what: str) -> Any:
    """JSON from a file that may start with a UTF-8 BOM (common on Windows)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedError(f"{what}: not UTF-8 ({exc.reason})") from None
    return loads_bounded(text, what, max_bytes=MAX_MANIFEST_BYTES)


def json_object(data: bytes, what: str) -> dict[str, Any]:
    document = json_document(data, what)
    if not isinstance(document, dict):
        raise MalformedError(f"{what}: expected a JSON object")
    return document


def xml_document(data: bytes, what: str) -> ET.Element:
    """Parse XML refusing DTDs (no entity expansion from untrusted files)."""
    head = data[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in data.lower():
        raise MalformedError(f"{what}: XML with a DTD/entities is refused")
    try:
        return ET.fromstring(data)  # noqa: S314 - DTDs refused above, so no entity expansion
    except ET.ParseError as exc:
        raise MalformedError(f"{what}: malformed XML ({exc})") from None


def local(tag: str) -> str:
    """An element's name without its namespace."""
    return tag.rsplit("}", 1)[-1]


def purl(
    kind: str, name: str, version: str, namespace: str | None = None, **qualifiers: str
) -> str:
    if not name:
        return ""
    return PackageURL(
        type=kind,
        namespace=namespace or None,
        name=name,
        version=version or None,
        qualifiers={k: v for k, v in qualifiers.items() if v} or None,
    ).to_string()


def strip_build_metadata(version: str) -> str:
    """SemVer build metadata (``+sha``) is not part of a NuGet package identity."""
    return version.split("+", 1)[0].strip()
