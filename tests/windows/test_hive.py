"""Hive reading against real hives (fixtures) and hives written by hivexsh."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import pytest

from chainproof.errors import MalformedError
from chainproof.windows import software as sw
from chainproof.windows.hive import Hive, LayerSemantics
from tests.hivex import fixture_hive, software_base, software_delta

if TYPE_CHECKING:
    from pathlib import Path


def test_real_container_delta_hive_layered_keys(shared_fixtures: Path, tmp_path: Path) -> None:
    hive = Hive(fixture_hive(shared_fixtures, "yarp_System_Delta", tmp_path), "System_Delta")
    assert hive.file_name == "SandboxState\\Hives\\system_Delta"
    assert hive.flags & 0x2 and hive.layered
    assert sorted(k.name for k in hive.root.subkeys()) == ["ControlSet001", "MountedDevices"]
    services = "ControlSet001\\Services\\"
    gip = hive.key(services + "xboxgipsvc")
    assert gip is not None
    assert gip.semantics == LayerSemantics.SUPERSEDE_TREE and gip.inherit_class
    sub = hive.key(services + "xboxgipsvc\\a_subkey")
    assert sub is not None and sub.semantics == LayerSemantics.SUPERSEDE_TREE
    assert not sub.inherit_class
    dead = hive.key(services + "XBOXGIP")
    assert dead is not None and dead.semantics == LayerSemantics.TOMBSTONE
    net = hive.key(services + "XboxNetApiSvc")
    assert net is not None and net.semantics == LayerSemantics.NONE
    values = net.values()
    assert values["displayname"].tombstone
    assert not values["start"].tombstone
    assert net.value("DisplayName") is None  # a tombstoned value reads as absent


def test_system_hive_previous_windows_versions(shared_fixtures: Path, tmp_path: Path) -> None:
    hive = Hive(fixture_hive(shared_fixtures, "SYSTEM_WIN_10_1709.xz", tmp_path), "SYSTEM")
    key = hive.key("Setup\\Source OS (Updated on 1/6/2019 02:18:37)")
    assert key is not None
    assert key.value("ProductName") == "Windows 10 Pro"
    assert key.value("CurrentBuild") == "15063"
    assert key.value("UBR") == 1387  # REG_DWORD
    assert key.value("ReleaseId") == "1703"
    assert key.value("BuildLabEx") == "15063.0.amd64fre.rs2_release.170317-1834"
    later = hive.key("Setup\\Source OS (Updated on 5/16/2019 00:55:20)")
    assert later is not None
    assert (later.value("CurrentBuild"), later.value("UBR"), later.value("ReleaseId")) == (
        "17134",
        765,
        "1803",
    )


def test_amcache_inventory(shared_fixtures: Path, tmp_path: Path) -> None:
    hive = Hive(fixture_hive(shared_fixtures, "amcache.hve.xz", tmp_path), "Amcache.hve")
    inventory = hive.key("Root\\InventoryApplication")
    assert inventory is not None
    apps = list(inventory.subkeys())
    assert len(apps) == 74
    sources = Counter(str(a.value("Source")) for a in apps)
    assert sources == {"AppxPackage": 47, "AddRemoveProgram": 16, "Msi": 10, "File": 1}
    by_name = {a.value("Name"): a for a in apps}
    java = by_name["Java 8 Update 141 (64-bit)"]
    assert java.value("Version") == "8.0.1410.15"
    assert java.value("Publisher") == "Oracle Corporation"
    assert by_name["7-Zip 16.04 (x64)"].value("Publisher") == "Igor Pavlov"
    assert by_name["Vim 8.0.604"].value("Version") in ("", None)  # empty version, no crash


def test_ntuser_uninstall_entries(shared_fixtures: Path, tmp_path: Path) -> None:
    hive = Hive(fixture_hive(shared_fixtures, "NTUSER_with_winscp.DAT.xz", tmp_path), "NTUSER")
    snapshot = sw.read_software(hive, prefix="Software")
    entries = snapshot.collections[sw.UNINSTALL].entries
    assert len(entries) == 4
    programs = {
        state.values["displayname"]: (
            state.values.get("displayversion"),
            state.values.get("publisher"),
        )
        for _, state in entries.values()
    }
    assert programs["GitHub Desktop"] == ("3.0.0", "GitHub, Inc.")
    assert programs["Zoom"] == ("5.9.3 (3169)", "Zoom Video Communications, Inc.")
    assert programs["JetBrains dotPeek 2021.3.3"] == ("2021.3.3", "JetBrains s.r.o.")
    assert programs["Python 3.10.2 (64-bit)"] == ("3.10.2150.0", "Python Software Foundation")


def test_partial_software_hive(shared_fixtures: Path, tmp_path: Path) -> None:
    hive = Hive(fixture_hive(shared_fixtures, "ntuser_software_partial.xz", tmp_path), "partial")
    snapshot = sw.read_software(hive)
    names = {
        k: s.values.get("displayname")
        for k, (_, s) in snapshot.collections[sw.UNINSTALL].entries.items()
    }
    assert len(names) == 5
    assert names["gitkraken"] == "GitKraken"
    assert names["distorm3-py3.7"] == "Python 3.7 distorm3-3.3.4"
    entries = snapshot.collections[sw.UNINSTALL].entries
    assert entries["onedrivesetup.exe"][1].values["displayversion"] == "20.028.0206.0009"
    current = snapshot.keys[sw.CURRENT_VERSION]
    assert current is not None and current.values == {}  # exists, no values


@pytest.mark.integration
def test_hivexsh_software_hive_and_delta_merge(shared_fixtures: Path, tmp_path: Path) -> None:
    base = sw.read_software(Hive(software_base(shared_fixtures, tmp_path), "SOFTWARE"))
    delta_hive = Hive(software_delta(shared_fixtures, tmp_path), "Software_Delta")
    assert delta_hive.layered
    delta = sw.read_software(delta_hive)
    assert sw.UNINSTALL in delta.touched() and sw.CURRENT_VERSION in delta.touched()
    merged = sw.merge(0, base, [(1, delta)])
    assert merged.value(sw.CURRENT_VERSION, "UBR") == 2340
    assert merged.value(sw.CURRENT_VERSION, "EditionID") == "ServerDatacenter"  # kept from base
    assert merged.key_changed_by[sw.CURRENT_VERSION] == [1]
    programs = {e.name: (e.layer, e.removed_by) for e in merged.collections[sw.UNINSTALL]}
    assert programs["gitkraken"] == (0, 1)  # tombstoned by the delta
    assert programs["7-Zip"] == (1, None)  # added by the delta
    assert programs["OneDriveSetup.exe"] == (0, None)
    onedrive = next(e for e in merged.collections[sw.UNINSTALL] if e.name == "OneDriveSetup.exe")
    assert onedrive.values["displayversion"] == "24.010.0114.0003"  # merged from the delta
    assert onedrive.values["publisher"] == "Microsoft Corporation"  # kept from the base
    assert onedrive.changed_by == [1]
    assert sw.ndp_version(int(merged.value(sw.NDP_V4_FULL, "Release"))) == "4.8"


def test_corrupt_hive_is_an_error_not_a_crash(shared_fixtures: Path, tmp_path: Path) -> None:
    good = fixture_hive(shared_fixtures, "ntuser_software_partial.xz", tmp_path)
    data = bytearray(good.read_bytes())
    data[4096 + 32 : 4096 + 20000] = b"\xff" * (20000 - 32)  # clobber the first hbin's cells
    bad = tmp_path / "bad"
    bad.write_bytes(bytes(data))
    with pytest.raises(MalformedError, match="bad"):
        sw.read_software(Hive(bad, "bad"))
    (tmp_path / "tiny").write_bytes(b"regf")
    with pytest.raises(MalformedError, match="not a registry hive"):
        Hive(tmp_path / "tiny", "tiny")


def test_oversized_hive_refused(shared_fixtures: Path, tmp_path: Path) -> None:
    path = fixture_hive(shared_fixtures, "ntuser_software_partial.xz", tmp_path)
    with pytest.raises(MalformedError, match="exceeds the 1000-byte limit"):
        Hive(path, "SOFTWARE", max_bytes=1000)
