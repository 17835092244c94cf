"""PE files: version resources of ``.exe``/``.dll`` outside ``Windows\\`` (applications),
and of the OS files whose version tracks the patch level (``ntdll.dll``, ``kernelbase.dll``)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from chainproof.errors import Error
from chainproof.layers.walker import EntryKind, View
from chainproof.sbom.interface import FileCataloger
from chainproof.sbom.model import Component, ComponentType
from chainproof.windows.pe import version_info

if TYPE_CHECKING:
    from collections.abc import Iterator

    from chainproof.layers.walker import LayerEntry
    from chainproof.sbom.interface import CatalogContext, FoundFile

#: OS binaries whose file version is build.UBR-specific: evidence of the patch level.
PATCH_LEVEL_FILES = frozenset({"windows/system32/ntdll.dll", "windows/system32/kernelbase.dll"})
_EXTENSIONS = (".exe", ".dll")


class PeVersionCataloger(FileCataloger):
    name = "pe-version"
    path_suffixes = _EXTENSIONS
    max_bytes = 128 * 1024 * 1024

    def wants(self, entry: LayerEntry) -> bool:
        if entry.view != View.FILES or entry.kind != EntryKind.FILE:
            return False
        path = entry.path.casefold()
        if not path.endswith(_EXTENSIONS):
            return False
        return not path.startswith("windows/") or path in PATCH_LEVEL_FILES

    def parse(self, found: FoundFile, data: bytes) -> Iterator[Component]:
        fields = version_info(data, found.evidence)
        if not fields:
            return
        os_file = found.path.casefold() in PATCH_LEVEL_FILES
        name = fields.get("ProductName") or found.name
        version = fields.get("ProductVersion") or fields.get("FileVersion", "")
        props = [(f"chainproof:pe:{k}", v) for k, v in sorted(fields.items())]
        if os_file:
            props.append(("chainproof:pe:patch-level-file", "true"))
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
