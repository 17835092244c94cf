from __future__ import annotations

import csv
from typing import TYPE_CHECKING

import pytest

from chainproof._jsonutil import loads_bounded
from chainproof.errors import MalformedError
from chainproof.windows.build import WindowsVersion, _table, product_for, update_level

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.parametrize(
    ("version", "product", "kb"),
    [
        ("10.0.20348.473", "Windows Server 2022", "KB5010796"),
        ("10.0.20348.2227", "Windows Server 2022", "KB5034129"),
        ("10.0.17763.5329", "Windows Server 2019", "KB5034127"),
        ("10.0.26100.32522", "Windows Server 2025", "KB5078740"),
        ("10.0.25398.643", "Windows Server, version 23H2", "KB5034130"),
    ],
)
def test_build_to_product_and_kb(version: str, product: str, kb: str) -> None:
    parsed = WindowsVersion.parse(version)
    found = product_for(parsed.build)
    assert found is not None and found.name == product and found.server
    level = update_level(parsed, found)
    assert level is not None and level.kb == kb and level.exact


def test_private_ubr_takes_nearest_earlier_update() -> None:
    parsed = WindowsVersion.parse("10.0.20348.2228")
    level = update_level(parsed, product_for(parsed.build))
    assert level is not None and level.kb == "KB5034129" and not level.exact
    assert all(row.ubr > 2228 for row in level.missing) and level.missing


def test_client_builds_and_unknowns() -> None:
    client = product_for(26100, "Client")
    assert client is not None and (client.name, client.release) == ("Windows 11", "24H2")
    assert product_for(26100, "Server Core") is not None
    assert product_for(12345) is None
    assert update_level(WindowsVersion.parse("10.0.20348"), None) is None  # no UBR
    with pytest.raises(MalformedError):
        WindowsVersion.parse("10.0.abc.1")


def test_packaged_table_matches_fixture(shared_fixtures: Path) -> None:
    source = shared_fixtures / "windows/build-kb-map/vuls_windows_build_ubr_kb.csv"
    with source.open(encoding="utf-8") as handle:
        expected = {
            (r["product"], int(r["build"]), int(r["ubr_revision"]), r["kb"])
            for r in csv.DictReader(handle)
            if r["build"].isdigit() and r["kind"] == "rollup"
        }
    packaged = {(r.product, r.build, r.ubr, r.kb.removeprefix("KB")) for r in _table()}
    assert packaged == expected


def test_manifest_list_versions_all_resolve(shared_fixtures: Path) -> None:
    raw = (
        shared_fixtures / "windows/image-manifests/dotnet-framework-runtime-4.8.manifest-list.json"
    ).read_bytes()
    index = loads_bounded(raw, "manifest list")
    versions = [m["platform"]["os.version"] for m in index["manifests"]]
    assert versions == ["10.0.14393.4889", "10.0.17763.2458", "10.0.19042.1469", "10.0.20348.473"]
    for text in versions:
        parsed = WindowsVersion.parse(text)
        level = update_level(parsed, product_for(parsed.build))
        assert level is not None and level.kb.startswith("KB")
