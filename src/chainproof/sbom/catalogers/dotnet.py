""".NET: ``*.deps.json`` (packages, runtime packs), ``*.runtimeconfig.json`` (bundled
frameworks of self-contained apps) and installed shared runtimes (``dotnet/shared/<fw>/<v>/``)."""

from __future__ import annotations

import dataclasses
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


#: Set on a component that a file declares but a running container does not have; the
#: vulnerability matcher never reports such a component (see docs/vulnerabilities.md).
PROP_INSTALLED = "chainproof:installed"
_NOT_INSTALLED_REASON = "chainproof:dotnet:not-installed-reason"
#: Asset kinds in a deps.json target entry that put files into the app at run time.
_RUNTIME_ASSETS = ("runtime", "native", "runtimeTargets", "resources")
#: One file of each runtime pack whose absence beside the deps.json means the pack is not
#: shipped (trimming never removes these).
_PACK_MARKERS = frozenset(
    {"system.private.corelib.dll", "microsoft.aspnetcore.dll", "presentationframework.dll"}
)


def _target_entries(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The ``targets`` entries of the runtime target (all targets when it is not named)."""
    targets = document.get("targets")
    if not isinstance(targets, dict):
        return {}
    runtime_target = document.get("runtimeTarget")
    name = runtime_target.get("name") if isinstance(runtime_target, dict) else None
    chosen = [targets[name]] if isinstance(name, str) and name in targets else targets.values()
    entries: dict[str, dict[str, Any]] = {}
    for section in chosen:
        if isinstance(section, dict):
            for key, entry in section.items():
                if isinstance(entry, dict):
                    entries.setdefault(key, {}).update(entry)
    return entries


class DepsJsonCataloger(FileCataloger):
    """NuGet packages and runtime packs an app was built with (``<app>.deps.json``).

    A library whose target entry lists no runtime, native or resource assets is a compile-time
    or meta package: no file of it is loaded, so it is marked ``chainproof:installed=false``
    (Trivy's rule since aquasecurity/trivy#7039). A runtime pack whose marker assembly
    (``System.Private.CoreLib.dll`` …) is listed but absent beside the deps.json is marked the
    same way: declared, not shipped.
    """

    name = "dotnet-deps"
    path_suffixes = (".deps.json",)

    def __init__(self) -> None:
        super().__init__()
        self._markers: set[str] = set()

    def wants(self, entry: LayerEntry) -> bool:
        if entry.kind not in _FILE_KINDS:
            return False
        path = entry.path.casefold()
        if path.rsplit("/", 1)[-1] in _PACK_MARKERS:
            # Only its presence matters: remembered here, never read.
            self._markers.add(path)
            return False
        return path.endswith(".deps.json")

    def parse(self, found: FoundFile, data: bytes) -> Iterator[Component]:
        document = json_object(data, found.evidence)
        libraries = document.get("libraries", {})
        if not isinstance(libraries, dict):
            raise MalformedError(f"{found.evidence}: 'libraries' is not an object")
        target = document.get("runtimeTarget", {})
        target_name = target.get("name", "") if isinstance(target, dict) else ""
        entries = _target_entries(document)
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
                entry = entries.get(key)
                if entry is not None and not any(entry.get(a) for a in _RUNTIME_ASSETS):
                    props.append((PROP_INSTALLED, "false"))
                    props.append((_NOT_INSTALLED_REASON, "no runtime assets (compile-time only)"))
                elif kind == "runtimepack" and entry is not None:
                    props.extend(self._pack_marker(found, entry))
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

    def _pack_marker(self, found: FoundFile, entry: dict[str, Any]) -> list[tuple[str, str]]:
        """The marker file of a runtime pack, checked once every layer has been seen."""
        runtime = entry.get("runtime")
        listed = [a for a in runtime if isinstance(a, str)] if isinstance(runtime, dict) else []
        for asset in listed:
            base = asset.rsplit("/", 1)[-1]
            if base.casefold() in _PACK_MARKERS:
                directory = found.path.rpartition("/")[0]
                return [
                    ("chainproof:dotnet:pack-marker", f"{directory}/{base}" if directory else base)
                ]
        return []

    def finish(self, context: CatalogContext) -> Iterator[Component]:
        for component in super().finish(context):
            marker = component.property("chainproof:dotnet:pack-marker")
            if marker is None:
                yield component
                continue
            props = tuple(
                p for p in component.properties if p[0] != "chainproof:dotnet:pack-marker"
            )
            if self._present(marker):
                yield dataclasses.replace(component, properties=props)
                continue
            base = marker.rsplit("/", 1)[-1]
            yield dataclasses.replace(
                component,
                properties=(
                    *props,
                    (PROP_INSTALLED, "false"),
                    (
                        _NOT_INSTALLED_REASON,
                        f"runtime pack not shipped: no {base} beside the deps.json",
                    ),
                ),
            )

    def _present(self, marker: str) -> bool:
        return marker.casefold() in self._markers


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
