"""Hives for tests, written by a third-party tool: Debian's ``hivexsh`` (libhivex-bin).

Starting points are real hives from ../shared/fixtures (hivexsh edits, it cannot create a
hive from nothing): ``ntuser_software_partial`` (a user's ``Software`` key: the same
``Microsoft\\...`` layout as HKLM\\SOFTWARE, with 5 real Uninstall entries) for a base
SOFTWARE hive, and the real container delta ``yarp_System_Delta`` (layered keys enabled) for a
``Software_Delta``.
"""

from __future__ import annotations

import lzma
import shutil
import subprocess
from pathlib import Path

import pytest

HIVES = "windows/registry-hives"
CBS_ROLLUP = "Package_for_RollupFix~31bf3856ad364e35~amd64~~20348.{ubr}.1.10"


def fixture_hive(shared: Path, name: str, target_dir: Path) -> Path:
    source = shared / HIVES / name
    target = target_dir / name.removesuffix(".xz")
    if name.endswith(".xz"):
        target.write_bytes(lzma.decompress(source.read_bytes()))
    else:
        shutil.copyfile(source, target)
    return target


def hivexsh(hive: Path, script: str) -> None:
    if shutil.which("hivexsh") is None:
        pytest.skip("hivexsh not installed (Debian package libhivex-bin)")
    done = subprocess.run(
        ["hivexsh", "-w", str(hive)],
        input=script + "\ncommit\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def _setval(values: dict[str, str]) -> str:
    lines = [f"setval {len(values)}"]
    for name, value in values.items():
        lines += [name, value]
    return "\n".join(lines)


def software_base(
    shared: Path,
    target_dir: Path,
    *,
    build: int = 20348,
    ubr: int = 2227,
    ndp: tuple[int, str] | None = (0x80EA8, "4.8.04161"),
    packages: tuple[str, ...] = (),
) -> Path:
    """A SOFTWARE hive: CurrentVersion of a Server Core 2022, .NET 4.8 (``ndp``: Release and
    Version, None for none), a rollup, programs; ``packages`` are more installed CBS
    packages (.NET Framework cumulative updates: ``Package_for_DotNetRollup_481~…``)."""
    hive = fixture_hive(shared, "ntuser_software_partial.xz", target_dir)
    rollup = CBS_ROLLUP.format(ubr=ubr)
    extra = [
        line
        for name in packages
        for line in (
            r"cd \Microsoft\Windows\CurrentVersion\Component Based Servicing\Packages",
            f"add {name}",
            f"cd {name}",
            _setval({"CurrentState": "dword:0x00000070"}),
        )
    ]
    framework = (
        [
            r"cd \Microsoft",
            "add NET Framework Setup",
            "cd NET Framework Setup",
            "add NDP",
            "cd NDP",
            "add v4",
            "cd v4",
            "add Full",
            "cd Full",
            _setval({"Release": f"dword:0x{ndp[0]:08x}", "Version": f"string:{ndp[1]}"}),
        ]
        if ndp is not None
        else []
    )
    script = "\n".join(
        [
            r"cd \Microsoft\Windows NT\CurrentVersion",
            _setval(
                {
                    "CurrentBuildNumber": f"string:{build}",
                    "CurrentBuild": f"string:{build}",
                    "UBR": f"dword:0x{ubr:08x}",
                    "EditionID": "string:ServerDatacenter",
                    "InstallationType": "string:Server Core",
                    "ProductName": "string:Windows Server 2016 Datacenter",
                }
            ),
            r"cd \Microsoft\Windows\CurrentVersion",
            "add Component Based Servicing",
            "cd Component Based Servicing",
            "add Packages",
            "cd Packages",
            f"add {rollup}",
            "add Package_for_KB5034439~31bf3856ad364e35~amd64~~20348.2220.1.0",
            "add Microsoft-Windows-Foundation-Package~31bf3856ad364e35~amd64~~10.0.20348.1",
            f"cd {rollup}",
            _setval({"CurrentState": "dword:0x00000070"}),
            r"cd \Microsoft\Windows\CurrentVersion\Component Based Servicing\Packages",
            "cd Package_for_KB5034439~31bf3856ad364e35~amd64~~20348.2220.1.0",
            # Staged, not installed: must not be reported as an installed update.
            _setval({"CurrentState": "dword:0x00000050"}),
            *extra,
            *framework,
            r"cd \Wow6432Node\Microsoft",
            "add Windows",
            "cd Windows",
            "add CurrentVersion",
            "cd CurrentVersion",
            "add Uninstall",
            "cd Uninstall",
            "add {90160000-0011-0000-0000-0000000FF1CE}",
            "cd {90160000-0011-0000-0000-0000000FF1CE}",
            _setval(
                {
                    "DisplayName": "string:Microsoft Visual C++ 2015 x86 Runtime",
                    "DisplayVersion": "string:14.0.24215",
                    "Publisher": "string:Microsoft Corporation",
                }
            ),
        ]
    )
    hivexsh(hive, script)
    return hive


def set_key_semantics(hive: Path, key_name: str, semantics: int) -> None:
    """Set a key's layered-key bits (byte 13 of its nk record), as Windows writes them.

    hivexsh does not know layered keys; this flips the one byte, located by the key's
    ASCII name right after the fixed 76-byte nk header.
    """
    data = bytearray(hive.read_bytes())
    needle = key_name.encode("ascii")
    start = 0
    while True:
        index = data.find(needle, start)
        assert index >= 0, f"nk record for {key_name} not found"
        signature = index - 76
        if data[signature : signature + 2] == b"nk" and int.from_bytes(
            data[signature + 72 : signature + 74], "little"
        ) == len(needle):
            data[signature + 13] = (data[signature + 13] & ~0x3) | semantics
            hive.write_bytes(bytes(data))
            return
        start = index + 1


def software_delta(
    shared: Path, target_dir: Path, *, ubr: int = 2340, tombstone: str = "gitkraken"
) -> Path:
    """A Software_Delta: UBR raised, a program added, one updated, one tombstoned."""
    hive = fixture_hive(shared, "yarp_System_Delta", target_dir)
    target = target_dir / "Software_Delta"
    hive.rename(target)
    rollup = CBS_ROLLUP.format(ubr=ubr)
    script = "\n".join(
        [
            "cd \\",
            "add Microsoft",
            "cd Microsoft",
            "add Windows NT",
            "add Windows",
            "cd Windows NT",
            "add CurrentVersion",
            "cd CurrentVersion",
            _setval({"UBR": f"dword:0x{ubr:08x}"}),
            r"cd \Microsoft\Windows",
            "add CurrentVersion",
            "cd CurrentVersion",
            "add Uninstall",
            "add Component Based Servicing",
            "cd Component Based Servicing",
            "add Packages",
            "cd Packages",
            f"add {rollup}",
            f"cd {rollup}",
            _setval({"CurrentState": "dword:0x00000070"}),
            r"cd \Microsoft\Windows\CurrentVersion\Uninstall",
            "add 7-Zip",
            f"add {tombstone}",
            # An update of a base-layer program: only the changed value is in the delta.
            "add OneDriveSetup.exe",
            "cd OneDriveSetup.exe",
            _setval({"DisplayVersion": "string:24.010.0114.0003"}),
            r"cd \Microsoft\Windows\CurrentVersion\Uninstall",
            "cd 7-Zip",
            _setval(
                {
                    "DisplayName": "string:7-Zip 23.01 (x64)",
                    "DisplayVersion": "string:23.01",
                    "Publisher": "string:Igor Pavlov",
                }
            ),
        ]
    )
    hivexsh(target, script)
    set_key_semantics(target, tombstone, 1)
    return target
