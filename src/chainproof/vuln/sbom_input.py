"""What the matcher reads from an SBOM, and readers for CycloneDX and SPDX JSON.

:class:`SbomComponent` is deliberately small so that the in-memory SBOM of ``chainproof sbom``
(issue 3) can be mapped onto it without a file round-trip. Properties the matcher understands
(CycloneDX ``properties`` / SPDX ``annotations`` carry them in files):

==============================  ===============================================================
``chainproof:windows:build``    Windows build, ``20348``
``chainproof:windows:ubr``      update build revision, ``2227``
``chainproof:windows:installation-type``  ``Server Core`` / ``Nano Server`` / ``Server``
``chainproof:installed``        ``false`` for something declared but not on disk (a runtime
                                pack named in deps.json that is not shipped): never matched
``chainproof:removed-by-layer`` a later layer deleted it (``chainproof sbom`` writes this):
                                not in a running container, never matched
==============================  ===============================================================

chainproof's SPDX writer carries these as ``key=value`` lines of the package ``comment``;
SPDX ``annotations`` in the same form are read too.

An ``operating-system`` component named like Windows with version ``10.0.B.U`` (how Trivy and
Syft describe a Windows base) is read as the Windows build when the properties are absent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chainproof import _jsonutil
from chainproof._files import read_bounded
from chainproof.errors import MalformedError, UnsupportedError

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

PROP_BUILD = "chainproof:windows:build"
PROP_UBR = "chainproof:windows:ubr"
PROP_INSTALLATION = "chainproof:windows:installation-type"
PROP_INSTALLED = "chainproof:installed"
PROP_REMOVED = "chainproof:removed-by-layer"

MAX_SBOM_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class SbomComponent:
    name: str
    version: str
    purl: str = ""
    #: CycloneDX component type (library, operating-system, application, framework…).
    type: str = "library"
    properties: tuple[tuple[str, str], ...] = field(default=(), hash=False)

    def prop(self, key: str) -> str:
        for k, v in self.properties:
            if k == key:
                return v
        return ""

    @property
    def installed(self) -> bool:
        return self.prop(PROP_INSTALLED).lower() != "false" and not self.prop(PROP_REMOVED)


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _cyclonedx(doc: dict[str, Any], origin: str) -> list[SbomComponent]:
    out: list[SbomComponent] = []
    metadata = doc.get("metadata")
    roots: list[Any] = []
    if isinstance(metadata, dict) and isinstance(metadata.get("component"), dict):
        roots.append(metadata["component"])
    roots.extend(doc.get("components") or [])
    stack = list(roots)
    while stack:
        comp = stack.pop(0)
        if not isinstance(comp, dict):
            raise MalformedError(f"{origin}: a CycloneDX component is not an object")
        props = tuple(
            (_str(p.get("name")), _str(p.get("value")))
            for p in comp.get("properties") or []
            if isinstance(p, dict)
        )
        out.append(
            SbomComponent(
                name=_str(comp.get("name")),
                version=_str(comp.get("version")),
                purl=_str(comp.get("purl")),
                type=_str(comp.get("type")) or "library",
                properties=props,
            )
        )
        stack.extend(comp.get("components") or [])
    return out


def _spdx(doc: dict[str, Any], origin: str) -> list[SbomComponent]:
    out: list[SbomComponent] = []
    for pkg in doc.get("packages") or []:
        if not isinstance(pkg, dict):
            raise MalformedError(f"{origin}: an SPDX package is not an object")
        purl = ""
        for ref in pkg.get("externalRefs") or []:
            if isinstance(ref, dict) and ref.get("referenceType") == "purl":
                purl = _str(ref.get("referenceLocator"))
        props: list[tuple[str, str]] = []
        # chainproof writes its properties as "key=value" lines of the package comment.
        lines = _str(pkg.get("comment")).splitlines()
        for note in pkg.get("annotations") or []:
            lines.append(_str(note.get("comment")) if isinstance(note, dict) else "")
        for line in lines:
            key, sep, value = line.partition("=")
            if sep and key.startswith("chainproof:"):
                props.append((key, value))
        purpose = _str(pkg.get("primaryPackagePurpose")).lower().replace("_", "-")
        out.append(
            SbomComponent(
                name=_str(pkg.get("name")),
                version=_str(pkg.get("versionInfo")),
                purl=purl,
                type=purpose or "library",
                properties=tuple(props),
            )
        )
    return out


def parse_sbom(data: bytes, origin: str) -> list[SbomComponent]:
    doc = _jsonutil.loads_object(data, origin, max_bytes=MAX_SBOM_BYTES)
    if doc.get("bomFormat") == "CycloneDX":
        return _cyclonedx(doc, origin)
    if _str(doc.get("spdxVersion")).startswith("SPDX-2"):
        return _spdx(doc, origin)
    if "@context" in doc and "spdx" in str(doc.get("@context")).lower():
        raise UnsupportedError(f"{origin}: SPDX 3 JSON-LD is not supported; use SPDX 2.x JSON")
    raise UnsupportedError(f"{origin}: not a CycloneDX or SPDX 2.x JSON document")


def read_sbom(path: Path) -> list[SbomComponent]:
    return parse_sbom(read_bounded(path, "SBOM", MAX_SBOM_BYTES), str(path))


def as_sbom_components(items: Iterable[Any]) -> list[SbomComponent]:
    """What the matcher reads, from the SBOM check's components (or already converted ones).

    A component a later layer removed is passed as not installed, so it is never reported.
    """
    out: list[SbomComponent] = []
    for item in items:
        if isinstance(item, SbomComponent):
            out.append(item)
            continue
        properties = tuple(item.properties)
        if not item.present:
            properties = (*properties, (PROP_INSTALLED, "false"))
        out.append(SbomComponent(item.name, item.version, item.purl, str(item.type), properties))
    return out
