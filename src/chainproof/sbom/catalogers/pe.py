"""PE files: version resources of ``.exe``/``.dll`` outside ``Windows\\`` (applications),
and of the OS files whose version tracks the patch level (``ntdll.dll``, ``kernelbase.dll``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chainproof.layers.walker import EntryKind, View
from chainproof.sbom.interface import FileCataloger
from chainproof.sbom.model import Component, ComponentType
from chainproof.windows.pe import version_info

if TYPE_CHECKING:
    from collections.abc import Iterator

    from chainproof.layers.walker import LayerEntry
    from chainproof.sbom.interface import FoundFile

#: OS binaries whose file version is build.UBR-specific: evidence of the patch level.
PATCH_LEVEL_FILES = frozenset({"windows/system32/ntdll.dll", "windows/system32/kernelbase.dll"})
_EXTENSIONS = (".exe", ".dll")


class PeVersionCataloger(FileCataloger):
    name = "pe-version"
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
