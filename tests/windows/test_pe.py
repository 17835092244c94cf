"""PE version resources, read from a real third-party PE (pip's vendored distlib launcher)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chainproof.errors import MalformedError
from chainproof.windows.pe import version_info


def launcher() -> bytes:
    import pip

    path = Path(pip.__file__).parent / "_vendor" / "distlib" / "t64.exe"
    if not path.is_file():
        pytest.skip("pip's distlib launcher t64.exe is not available")
    return path.read_bytes()


def test_version_resource_of_real_pe() -> None:
    fields = version_info(launcher(), "t64.exe")
    assert fields["ProductName"] == "Simple Launcher"
    assert fields["CompanyName"] == "Simple Launcher User"
    assert fields["OriginalFilename"] == "t64.exe"
    assert fields["FileVersion"].count(".") == 3


def _resource_offset(data: bytes) -> int:
    import pefile

    pe = pefile.PE(data=data, fast_load=True)
    entry = pe.OPTIONAL_HEADER.DATA_DIRECTORY[
        pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_RESOURCE"]
    ]
    offset = int(pe.get_offset_from_rva(entry.VirtualAddress))
    pe.close()
    return offset


def test_malformed_resource_section_does_not_crash() -> None:
    data = bytearray(launcher())
    offset = _resource_offset(bytes(data))
    data[offset : offset + 64] = b"\xff" * 64  # garbage resource directory
    try:
        fields = version_info(bytes(data), "broken.exe")
    except MalformedError as exc:
        assert "broken.exe" in str(exc)
    else:
        assert "ProductName" not in fields


def test_not_a_pe() -> None:
    with pytest.raises(MalformedError, match="not a PE"):
        version_info(b"\x7fELF" + bytes(100), "x.dll")
    with pytest.raises(MalformedError, match="malformed PE"):
        version_info(b"MZ" + bytes(100), "x.dll")
