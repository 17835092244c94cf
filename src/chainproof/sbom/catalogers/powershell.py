"""PowerShell modules: the ``.psd1`` manifest of each module in a module path.

A manifest is ``Modules/<Name>/<Name>.psd1`` or ``Modules/<Name>/<Version>/<Name>.psd1`` under
any module path (Windows PowerShell's ``System32/WindowsPowerShell/v1.0/Modules``,
``Program Files/(Windows)PowerShell/Modules``, PowerShell 7's ``$PSHOME/Modules``, users'
``Documents/.../Modules``, Linux's ``/opt/microsoft/powershell/7/Modules``). Localised string
tables (``en-US/<Name>.psd1``) do not match that shape and are not read. The PowerShell
Gallery is a NuGet feed, hence ``pkg:nuget`` purls.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from chainproof.layers.walker import EntryKind
from chainproof.sbom.catalogers._util import purl
from chainproof.sbom.interface import FileCataloger
from chainproof.sbom.model import Component, ComponentType
from chainproof.windows.psd1 import is_signed, parse_psd1

if TYPE_CHECKING:
    from collections.abc import Iterator

    from chainproof.layers.walker import LayerEntry
    from chainproof.sbom.interface import FoundFile

_MANIFEST = re.compile(
    r"(?:^|/)modules/(?P<module>[^/]+)/(?:(?P<version>\d+(?:\.\d+){1,3})/)?(?P<file>[^/]+)\.psd1$",
    re.I,
)
_WINSXS = "windows/winsxs/"


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value).strip()


class PowerShellModuleCataloger(FileCataloger):
    name = "powershell-module"
    path_suffixes = (".psd1",)
    max_bytes = 4 * 1024 * 1024

    def wants(self, entry: LayerEntry) -> bool:
        if entry.kind not in (EntryKind.FILE, EntryKind.HARDLINK):
            return False
        path = entry.path.casefold()
        if not path.endswith(".psd1"):
            return False
        # WinSxS copies are parsed only so System32 hard links to them can be cataloged.
        return path.startswith(_WINSXS) or self.accepts_path(entry.path)

    @staticmethod
    def accepts_path(path: str) -> bool:
        match = _MANIFEST.search(path)
        return (
            match is not None and match.group("module").casefold() == match.group("file").casefold()
        )

    def accepts(self, found: FoundFile) -> bool:
        return self.accepts_path(found.path)

    def parse(self, found: FoundFile, data: bytes) -> Iterator[Component]:
        manifest = parse_psd1(data, found.evidence)
        match = _MANIFEST.search(found.path)
        module = match.group("module") if match else found.name.rsplit(".", 1)[0]
        version = _text(manifest.get("ModuleVersion"))
        private = manifest.get("PrivateData")
        psdata = private.get("PSData") if isinstance(private, dict) else None
        psdata = psdata if isinstance(psdata, dict) else {}
        prerelease = _text(psdata.get("Prerelease"))
        if prerelease and version:
            version = f"{version}-{prerelease}"
        props = [("chainproof:powershell:signed", "true" if is_signed(data) else "false")]
        for label, value in (
            ("guid", manifest.get("GUID")),
            ("author", manifest.get("Author")),
            ("root-module", manifest.get("RootModule") or manifest.get("ModuleToProcess")),
            ("project-uri", psdata.get("ProjectUri")),
            ("license-uri", psdata.get("LicenseUri")),
            ("powershell-version", manifest.get("PowerShellVersion")),
        ):
            if _text(value):
                props.append((f"chainproof:powershell:{label}", _text(value)))
        yield Component(
            ComponentType.LIBRARY,
            module,
            version,
            "powershell",
            self.name,
            purl=purl("nuget", module, version),
            supplier=_text(manifest.get("CompanyName")) or _text(manifest.get("Author")),
            layer=found.layer,
            evidence=(found.evidence,),
            properties=tuple(props),
        )
