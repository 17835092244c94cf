from __future__ import annotations

import json
from pathlib import Path

import pytest

from chainproof.errors import NotFoundError, UsageError
from chainproof.oci import mediatypes as mt
from chainproof.oci.digest import Digest
from chainproof.oci.model import Index, Platform, parse_manifest
from chainproof.oci.platform import PlatformSpec, select


def _index(*platforms: dict[str, str]) -> Index:
    doc = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_INDEX,
        "manifests": [
            {
                "mediaType": mt.OCI_MANIFEST,
                "digest": str(Digest.of(json.dumps(p).encode())),
                "size": 100,
                "platform": p,
            }
            for p in platforms
        ],
    }
    raw = json.dumps(doc).encode()
    result = parse_manifest(raw, Digest.of(raw))
    assert isinstance(result, Index)
    return result


LINUX = {"os": "linux", "architecture": "amd64"}
ARM = {"os": "linux", "architecture": "arm64", "variant": "v8"}
WIN2019 = {"os": "windows", "architecture": "amd64", "os.version": "10.0.17763.5329"}
WIN2022 = {"os": "windows", "architecture": "amd64", "os.version": "10.0.20348.2227"}
WIN2022_OLD = {"os": "windows", "architecture": "amd64", "os.version": "10.0.20348.473"}


def test_spec_parsing() -> None:
    spec = PlatformSpec.parse("windows/amd64:10.0.20348")
    assert (spec.os, spec.architecture, spec.os_version) == ("windows", "amd64", "10.0.20348")
    assert PlatformSpec.parse("linux/arm64/v8").variant == "v8"
    with pytest.raises(UsageError):
        PlatformSpec.parse("windows")


def test_os_version_prefix_matches_whole_components() -> None:
    spec = PlatformSpec.parse("windows/amd64:10.0.2034")
    assert not spec.matches(Platform("windows", "amd64", os_version="10.0.20348.1"))
    assert PlatformSpec.parse("windows/amd64:10.0.20348").matches(
        Platform("windows", "amd64", os_version="10.0.20348.1")
    )


def test_default_prefers_linux_amd64() -> None:
    index = _index(ARM, LINUX, WIN2022)
    chosen = select(index, None)
    assert chosen.platform is not None
    assert chosen.platform.os == "linux"
    assert chosen.platform.architecture == "amd64"


def test_default_takes_the_only_entry() -> None:
    chosen = select(_index(WIN2022), None)
    assert chosen.platform is not None
    assert chosen.platform.os_version == "10.0.20348.2227"


def test_default_without_linux_amd64_lists_the_choices() -> None:
    with pytest.raises(NotFoundError) as info:
        select(_index(WIN2019, WIN2022), None)
    assert "windows/amd64:10.0.17763.5329" in str(info.value)
    assert "--platform" in str(info.value)


def test_windows_build_selection_takes_the_newest_matching_update() -> None:
    index = _index(WIN2019, WIN2022_OLD, WIN2022)
    chosen = select(index, PlatformSpec.parse("windows/amd64:10.0.20348"))
    assert chosen.platform is not None
    assert chosen.platform.os_version == "10.0.20348.2227"
    chosen = select(index, PlatformSpec.parse("windows/amd64:10.0.17763"))
    assert chosen.platform is not None
    assert chosen.platform.os_version == "10.0.17763.5329"


def test_no_match_is_not_found() -> None:
    with pytest.raises(NotFoundError, match="linux/s390x"):
        select(_index(LINUX), PlatformSpec.parse("linux/s390x"))


def test_real_manifest_list_by_build(shared_fixtures: Path) -> None:
    raw = (
        shared_fixtures / "windows/image-manifests/dotnet-framework-runtime-4.8.manifest-list.json"
    ).read_bytes()
    index = parse_manifest(raw, Digest.of(raw))
    assert isinstance(index, Index)
    chosen = select(index, PlatformSpec.parse("windows/amd64:10.0.20348"))
    assert chosen.platform is not None
    assert chosen.platform.os_version == "10.0.20348.473"
