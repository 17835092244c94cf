""".NET: ``*.deps.json`` (packages, runtime packs), ``*.runtimeconfig.json`` (bundled
frameworks of self-contained apps) and installed shared runtimes (``dotnet/shared/<fw>/<v>/``)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from chainproof.errors import MalformedError
from chainproof.layers.walker import EntryKind
from chainproof.sbom.catalogers._util import json_object, purl
from chainproof.sbom.interface import Cataloger, FileCataloger
from chainproof.sbom.model import Component, ComponentType

if TYPE_CHECKING:
    from collections.abc import Iterator

    from chainproof.layers.walker import LayerEntry
    from chainproof.sbom.interface import CatalogContext, Content, FoundFile

_FILE_KINDS = (EntryKind.FILE, EntryKind.HARDLINK)


def _split_library(key: str, what: str) -> tuple[str, str]:
    name, sep, version = key.rpartition("/")
    if not sep or not name or not version:
        raise MalformedError(f"{what}: library key {key!r} is not NAME/VERSION")
    return name, version


class DepsJsonCataloger(FileCataloger):
    """NuGet packages and runtime packs an app was built with (``<app>.deps.json``)."""

    name = "dotnet-deps"
    path_suffixes = (".deps.json",)

    def wants(self, entry: LayerEntry) -> bool:
        return entry.kind in _FILE_KINDS and entry.path.casefold().endswith(".deps.json")

    def parse(self, found: FoundFile, data: bytes) -> Iterator[Component]:
        document = json_object(data, found.evidence)
        libraries = document.get("libraries", {})
        if not isinstance(libraries, dict):
            raise MalformedError(f"{found.evidence}: 'libraries' is not an object")
        target = document.get("runtimeTarget", {})
        target_name = target.get("name", "") if isinstance(target, dict) else ""
        app = found.name[: -len(".deps.json")]
        for key, library in sorted(libraries.items()):
            if not isinstance(library, dict):
                continue
            kind = library.get("type", "")
            name, version = _split_library(key, found.evidence)
            props: list[tuple[str, str]] = [("chainproof:dotnet:library-type", str(kind))]
            if target_name:
                props.append(("chainproof:dotnet:runtime-target", str(target_name)))
            sha = library.get("sha512")
            if isinstance(sha, str) and sha:
                props.append(("chainproof:dotnet:sha512", sha))
            if kind in ("package", "runtimepack"):
                # A runtime pack is itself a NuGet package (Microsoft.NETCore.App.Runtime.<rid>).
                pack = name[len("runtimepack.") :] if name.startswith("runtimepack.") else name
                yield Component(
                    ComponentType.FRAMEWORK if kind == "runtimepack" else ComponentType.LIBRARY,
                    pack,
                    version,
                    "nuget",
                    self.name,
                    purl=purl("nuget", pack, version),
                    layer=found.layer,
                    evidence=(found.evidence,),
                    properties=tuple(props),
                )
            elif kind == "project" and name.casefold() == app.casefold():
                # The app itself; other projects are parts of it, and reference assemblies
                # are not packages at all.
                yield Component(
                    ComponentType.APPLICATION,
                    name,
                    version,
                    "dotnet",
                    self.name,
                    layer=found.layer,
                    evidence=(found.evidence,),
                    properties=tuple(props),
                )


def _frameworks(options: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = options.get(key)
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


class RuntimeConfigCataloger(FileCataloger):
    """Frameworks bundled with a self-contained app (``includedFrameworks``).

    A framework-dependent app's ``framework``/``frameworks`` is a requirement, not something
    in the image: the shared-runtime cataloger reports what is installed.
    """

    name = "dotnet-runtimeconfig"
    path_suffixes = (".runtimeconfig.json",)

    def wants(self, entry: LayerEntry) -> bool:
        return entry.kind in _FILE_KINDS and entry.path.casefold().endswith(".runtimeconfig.json")

    def parse(self, found: FoundFile, data: bytes) -> Iterator[Component]:
        document = json_object(data, found.evidence)
        options = document.get("runtimeOptions", {})
        if not isinstance(options, dict):
            raise MalformedError(f"{found.evidence}: 'runtimeOptions' is not an object")
        tfm = str(options.get("tfm", ""))
        required = [
            f"{f.get('name')} {f.get('version')}"
            for f in _frameworks(options, "framework") + _frameworks(options, "frameworks")
        ]
        for framework in _frameworks(options, "includedFrameworks"):
            name, version = str(framework.get("name", "")), str(framework.get("version", ""))
            if not name:
                continue
            props = [("chainproof:dotnet:included-framework", "true")]
            if tfm:
                props.append(("chainproof:dotnet:tfm", tfm))
            if required:
                props.append(("chainproof:dotnet:requires", ", ".join(required)))
            yield Component(
                ComponentType.FRAMEWORK,
                name,
                version,
                "dotnet-runtime",
                self.name,
                layer=found.layer,
                evidence=(found.evidence,),
                properties=tuple(props),
            )


_SHARED = re.compile(r"(?:^|/)dotnet/shared/(?P<fw>[^/]+)/(?P<version>\d[^/]*)/[^/]+$", re.I)


class SharedRuntimeCataloger(Cataloger):
    """Installed .NET shared runtimes: one component per ``dotnet/shared/<fw>/<version>``."""

    name = "dotnet-shared-runtime"
    reads_content = False

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str, int], FoundFile] = {}

    def wants(self, entry: LayerEntry) -> bool:
        return entry.kind in _FILE_KINDS and _SHARED.search(entry.path) is not None

    def add(self, found: FoundFile, content: Content) -> None:
        match = _SHARED.search(found.path)
        if match is None:
            return
        key = (match.group("fw"), match.group("version"), found.layer)
        if key in self._seen:
            return
        # Evidence is the framework's directory; a whiteout of it removes the runtime.
        self._seen[key] = found

    def finish(self, context: CatalogContext) -> Iterator[Component]:
        for (framework, version, layer), found in sorted(self._seen.items()):
            yield Component(
                ComponentType.FRAMEWORK,
                framework,
                version,
                "dotnet-runtime",
                self.name,
                supplier="Microsoft Corporation",
                layer=layer,
                evidence=(found.evidence,),
            )
