from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from chainproof.errors import MalformedError
from chainproof.windows.psd1 import is_signed, parse_psd1

if TYPE_CHECKING:
    from pathlib import Path

EXPECTED = {
    "PSReadLine": ("2.4.5", "5714753b-2afd-4492-a5fd-01d9e2cff8b5", True),
    "PowerShellGet": ("2.2.5", "1d73a601-4a6c-43c5-ba3f-619b18bbb404", True),
    "PackageManagement": ("1.4.8.1", None, True),
    "Microsoft.PowerShell.ThreadJob": ("2.2.0", "a84b375d-c1d6-4a1c-bcb7-8059bc28cd98", True),
    "Microsoft.PowerShell.PSResourceGet": ("1.2.0", None, True),
    "Microsoft.PowerShell.Archive": ("1.2.5", None, True),
    "Microsoft.PowerShell.Utility": ("7.0.0.0", None, False),
    "CimCmdlets": ("7.0.0.0", None, False),
}


@pytest.mark.parametrize("module", sorted(EXPECTED))
def test_fixture_manifests(shared_fixtures: Path, module: str) -> None:
    data = (shared_fixtures / "windows/powershell-modules" / f"{module}.psd1").read_bytes()
    manifest = parse_psd1(data, module)
    version, guid, signed = EXPECTED[module]
    assert manifest["ModuleVersion"] == version
    if guid:
        assert manifest["GUID"] == guid
    assert is_signed(data) is signed


def test_powershellget_nested_data(shared_fixtures: Path) -> None:
    data = (shared_fixtures / "windows/powershell-modules/PowerShellGet.psd1").read_bytes()
    manifest = parse_psd1(data, "PowerShellGet")
    required = manifest["RequiredModules"]
    assert isinstance(required, list) and required[0]["ModuleName"] == "PackageManagement"
    assert required[0]["ModuleVersion"] == "1.4.4"
    notes = manifest["PrivateData"]["PSData"]["ReleaseNotes"]
    assert "2.2.5" in notes and "Security patch for code injection bug" in notes  # here-string


def test_quoting_and_literals() -> None:
    text = b'''# comment
<# block
comment #>
@{
  'Single' = 'it''s'
  "Double" = "a `"b`" ""c"""
  Number = 42; Flag = $true; Nothing = $null
  List = 'a', 'b'
  Empty = @()
}
'''
    manifest = parse_psd1(text, "t.psd1")
    assert manifest == {
        "Single": "it's",
        "Double": 'a "b" "c"',
        "Number": 42,
        "Flag": True,
        "Nothing": None,
        "List": ["a", "b"],
        "Empty": [],
    }


@pytest.mark.parametrize(
    "text",
    [
        b"@{ ModuleVersion = (Get-Date) }",
        b"@{ ModuleVersion = $env:X }",
        b"Remove-Item C:\\ -Recurse",
        b'@{ A = "$(whoami)" }',
        b"@{ A = 'unterminated }",
        b"ConvertFrom-StringData @'\nA=b\n'@",
        b"@{" * 100 + b"}" * 100,
    ],
)
def test_code_is_not_data(text: bytes) -> None:
    with pytest.raises(MalformedError, match="not a PowerShell data file"):
        parse_psd1(text, "evil.psd1")


def test_utf16_manifest() -> None:
    data = "@{ ModuleVersion = '1.2.3' }\r\n# SIG # Begin signature block\r\n".encode("utf-16")
    assert parse_psd1(data, "u16")["ModuleVersion"] == "1.2.3"
    assert is_signed(data)
