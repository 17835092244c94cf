"""PE files: version resources of ``.exe``/``.dll`` outside ``Windows\\`` (applications),
of the OS files whose version tracks the patch level (``ntdll.dll``, ``kernelbase.dll``), and
of the .NET Framework 4 files whose version tracks its cumulative update (``mscorlib.dll``,
``System.dll``, ``clr.dll`` under ``Microsoft.NET\\Framework[64]\\v4.0.30319``)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from chainproof.errors import Error
from chainproof.layers.walker import EntryKind, View
from chainproof.sbom.interface import FileCataloger, FoundFile
from chainproof.sbom.model import Component, ComponentType
from chainproof.windows.pe import version_info

if TYPE_CHECKING:
    from collections.abc import Iterator

    from chainproof.layers.walker import LayerEntry
    from chainproof.sbom.interface import CatalogContext

#: OS binaries whose file version is build.UBR-specific: evidence of the patch level.
PATCH_LEVEL_FILES = frozenset({"windows/system32/ntdll.dll", "windows/system32/kernelbase.dll"})
#: .NET Framework 4 files whose FileVersion (``4.8.4690.0 built by: …``) says which framework
#: cumulative update the image carries (chainproof.vuln.dotnet_framework reads them).
FRAMEWORK_FILES = frozenset(
    f"windows/microsoft.net/{bits}/v4.0.30319/{name}"
    for bits in ("framework64", "framework")
    for name in ("mscorlib.dll", "system.dll", "clr.dll")
)
FRAMEWORK_FILE_PROPERTY = "chainproof:pe:dotnet-framework-file"
_FRAMEWORK_NAMES = ("/mscorlib.dll", "/system.dll", "/clr.dll")
_WINSXS = "windows/winsxs/"
_EXTENSIONS = (".exe", ".dll")


class PeVersionCataloger(FileCataloger):
    name = "pe-version"
    path_suffixes = _EXTENSIONS
    max_bytes = 128 * 1024 * 1024

    def wants(self, entry: LayerEntry) -> bool:
        if entry.view != View.FILES or entry.kind not in (EntryKind.FILE, EntryKind.HARDLINK):
            return False
        path = entry.path.casefold()
        if not path.endswith(_EXTENSIONS):
            return False
        if path in FRAMEWORK_FILES:
            return True  # often a hard link into WinSxS in real layers
        if path.startswith(_WINSXS) and path.endswith(_FRAMEWORK_NAMES):
            # Parsed only so a hard link from Microsoft.NET to this copy is cataloged.
            return entry.kind == EntryKind.FILE
        if entry.kind != EntryKind.FILE:
            return False
        return not path.startswith("windows/") or path in PATCH_LEVEL_FILES

    def accepts(self, found: FoundFile) -> bool:
        return not found.path.casefold().startswith(_WINSXS)

    def parse(self, found: FoundFile, data: bytes) -> Iterator[Component]:
        fields = version_info(data, found.evidence)
        if not fields:
            return
        path = found.path.casefold()
        os_file = path in PATCH_LEVEL_FILES or path in FRAMEWORK_FILES or path.startswith(_WINSXS)
        name = fields.get("ProductName") or found.name
        version = fields.get("ProductVersion") or fields.get("FileVersion", "")
        props = [(f"chainproof:pe:{k}", v) for k, v in sorted(fields.items())]
        if os_file:
            props.append(
                (FRAMEWORK_FILE_PROPERTY, "true")
                if path not in PATCH_LEVEL_FILES
                else ("chainproof:pe:patch-level-file", "true")
            )
            name = found.name
            version = fields.get("FileVersion", version).split(" ", 1)[0]
        yield Component(
            ComponentType.FILE if os_file else ComponentType.APPLICATION,
            name,
            version,
            "pe",
            self.name,
            supplier=fields.get("CompanyName", ""),
            layer=found.layer,
            evidence=(found.evidence,),
            properties=tuple(props),
        )

    def finish(self, context: CatalogContext) -> Iterator[Component]:
        """Cross-check the patch-level OS files against the config's build number.

        Not every cumulative update rewrites ``ntdll.dll``, so its UBR may lag; a different
        *build* means the files are not from the OS the config claims.
        """
        from chainproof.windows.build import WindowsVersion

        try:
            claimed = WindowsVersion.parse(context.config.os_version).build
        except Error:
            claimed = None
        for component in super().finish(context):
            if claimed is None or component.property("chainproof:pe:patch-level-file") != "true":
                yield component
                continue
            try:
                build = WindowsVersion.parse(component.version).build
            except Error:
                yield component
                continue
            if build == claimed:
                yield component
                continue
            yield dataclasses.replace(
                component,
                warnings=(
                    *component.warnings,
                    f"file version build {build} differs from the config's os.version "
                    f"build {claimed}",
                ),
            )
