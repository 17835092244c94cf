"""NuGet: ``*.nuspec`` (with declared licence), ``packages.config``, ``packages.lock.json``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chainproof.errors import MalformedError
from chainproof.layers.walker import EntryKind
from chainproof.sbom.catalogers._util import (
    json_object,
    local,
    purl,
    strip_build_metadata,
    xml_document,
)
from chainproof.sbom.interface import FileCataloger
from chainproof.sbom.model import Component, ComponentType

if TYPE_CHECKING:
    from collections.abc import Iterator

    from chainproof.layers.walker import LayerEntry
    from chainproof.sbom.interface import FoundFile

_FILE_KINDS = (EntryKind.FILE, EntryKind.HARDLINK)


def _package(
    cataloger: str, found: FoundFile, name: str, version: str, **extra: object
) -> Component:
    licenses = extra.get("licenses", ())
    props = extra.get("properties", ())
    return Component(
        ComponentType.LIBRARY,
        name,
        version,
        "nuget",
        cataloger,
        purl=purl("nuget", name, version),
        licenses=tuple(licenses),  # type: ignore[arg-type]
        supplier=str(extra.get("supplier", "")),
        layer=found.layer,
        evidence=(found.evidence,),
        properties=tuple(props),  # type: ignore[arg-type]
    )


class NuspecCataloger(FileCataloger):
    """A restored/installed NuGet package: ``<id>.nuspec`` in the package folder."""

    name = "nuget-nuspec"
    path_suffixes = (".nuspec",)

    def wants(self, entry: LayerEntry) -> bool:
        return entry.kind in _FILE_KINDS and entry.path.casefold().endswith(".nuspec")

    def parse(self, found: FoundFile, data: bytes) -> Iterator[Component]:
        root = xml_document(data, found.evidence)
        metadata = next((c for c in root if local(c.tag) == "metadata"), None)
        if metadata is None:
            raise MalformedError(f"{found.evidence}: no <metadata> in nuspec")
        fields = {local(c.tag): c for c in metadata}
        name = (fields["id"].text or "").strip() if "id" in fields else ""
        version = strip_build_metadata(fields["version"].text or "") if "version" in fields else ""
        if not name or not version:
            raise MalformedError(f"{found.evidence}: nuspec without id or version")
        licenses: list[str] = []
        props: list[tuple[str, str]] = []
        license_node = fields.get("license")
        if license_node is not None and (license_node.text or "").strip():
            text = (license_node.text or "").strip()
            if license_node.get("type", "expression") == "expression":
                licenses.append(text)
            else:
                # The licence is a file inside the package; name it, SPDX-style.
                props.append(("chainproof:nuget:license-file", text))
        url = fields.get("licenseUrl")
        if url is not None and (url.text or "").strip():
            props.append(("chainproof:nuget:license-url", (url.text or "").strip()))
        authors = (fields["authors"].text or "").strip() if "authors" in fields else ""
        yield _package(
            self.name, found, name, version, licenses=licenses, supplier=authors, properties=props
        )


class PackagesConfigCataloger(FileCataloger):
    name = "nuget-packages-config"
    path_suffixes = ("packages.config",)

    def wants(self, entry: LayerEntry) -> bool:
        return entry.kind in _FILE_KINDS and entry.name.casefold() == "packages.config"

    def parse(self, found: FoundFile, data: bytes) -> Iterator[Component]:
        root = xml_document(data, found.evidence)
        if local(root.tag) != "packages":
            raise MalformedError(f"{found.evidence}: root element is not <packages>")
        for node in root:
            if local(node.tag) != "package":
                continue
            name, version = node.get("id", "").strip(), node.get("version", "").strip()
            if not name:
                continue
            props = []
            if node.get("targetFramework"):
                props.append(("chainproof:nuget:target-framework", node.get("targetFramework", "")))
            yield _package(self.name, found, name, version, properties=props)


class PackagesLockCataloger(FileCataloger):
    name = "nuget-packages-lock"
    path_suffixes = ("packages.lock.json",)

    def wants(self, entry: LayerEntry) -> bool:
        return entry.kind in _FILE_KINDS and entry.name.casefold() == "packages.lock.json"

    def parse(self, found: FoundFile, data: bytes) -> Iterator[Component]:
        document = json_object(data, found.evidence)
        frameworks = document.get("dependencies", {})
        if not isinstance(frameworks, dict):
            raise MalformedError(f"{found.evidence}: 'dependencies' is not an object")
        seen: dict[tuple[str, str], list[str]] = {}
        for framework, packages in sorted(frameworks.items()):
            if not isinstance(packages, dict):
                continue
            for name, info in sorted(packages.items()):
                if not isinstance(info, dict) or info.get("type") == "Project":
                    continue
                version = str(info.get("resolved", ""))
                seen.setdefault((name, version), []).append(str(framework))
        for (name, version), frameworks_of in sorted(seen.items()):
            yield _package(
                self.name,
                found,
                name,
                version,
                properties=[("chainproof:nuget:target-framework", ",".join(frameworks_of))],
            )
