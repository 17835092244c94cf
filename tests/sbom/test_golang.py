"""Go build info: a real Debian-built Go binary, and module info with deps and replacements."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from chainproof.errors import MalformedError
from chainproof.layers.walker import EntryKind, LayerEntry, View
from chainproof.sbom.catalogers.golang import MAGIC, GoBinaryCataloger, build_info
from tests.sbom.helpers import run_files

REAL = Path("/usr/bin/docker-registry")  # Debian package docker-registry (a Go program)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _binary(version: str, modinfo: str) -> bytes:
    framed = "x" * 16 + modinfo + "y" * 16
    if not modinfo.endswith("\n"):
        raise AssertionError("modinfo must end with a newline")
    header = MAGIC + bytes([8, 2]) + bytes(16)
    body = _varint(len(version)) + version.encode() + _varint(len(framed)) + framed.encode()
    return b"\x7fELF" + bytes(1000) + header + body + bytes(1000)


@pytest.mark.integration
def test_real_go_binary() -> None:
    if not REAL.is_file():
        pytest.skip("docker-registry (a Go binary from Debian) is not installed")
    components, warnings = run_files(
        GoBinaryCataloger(),
        [("usr/bin/docker-registry", REAL.read_bytes())],
        view=View.ROOT,
        windows=False,
    )
    assert warnings == []
    by = {c.name: c for c in components}
    assert by["stdlib"].version.startswith("go1.")
    main = by["github.com/docker/distribution/cmd/registry"]
    assert (
        main.version == "(devel)"
        and main.purl == "pkg:golang/github.com/docker/distribution/cmd/registry"
    )


def test_modules_and_replacements() -> None:
    modinfo = (
        "path\texample.com/app/cmd/app\n"
        "mod\texample.com/app\tv1.2.3\th1:abc=\n"
        "dep\tgolang.org/x/net\tv0.17.0\th1:def=\n"
        "dep\tgithub.com/old/lib\tv1.0.0\n"
        "=>\tgithub.com/fork/lib\tv1.0.1\th1:ghi=\n"
    )
    components, _ = run_files(
        GoBinaryCataloger(), [("app", _binary("go1.21.5", modinfo))], view=View.ROOT, windows=False
    )
    found = {(c.name, c.version, c.purl) for c in components}
    assert ("example.com/app", "v1.2.3", "pkg:golang/example.com/app@v1.2.3") in found
    assert ("golang.org/x/net", "v0.17.0", "pkg:golang/golang.org/x/net@v0.17.0") in found
    assert ("github.com/fork/lib", "v1.0.1", "pkg:golang/github.com/fork/lib@v1.0.1") in found
    assert ("stdlib", "go1.21.5", "pkg:golang/stdlib@go1.21.5") in found


def test_only_big_executables_are_read() -> None:
    cataloger = GoBinaryCataloger()
    small = LayerEntry("usr/bin/sh", View.ROOT, EntryKind.FILE, 1000, 0o755, "", "usr/bin/sh")
    data = LayerEntry("usr/share/x.bin", View.ROOT, EntryKind.FILE, 10**7, 0o644, "", "x")
    big = LayerEntry("usr/bin/app", View.ROOT, EntryKind.FILE, 10**7, 0o755, "", "usr/bin/app")
    assert not cataloger.wants(small) and not cataloger.wants(data) and cataloger.wants(big)


def _pre118_elf(version: str, modinfo: str, *, wide: bool = True) -> bytes:
    """An ELF executable with Go 1.13-1.17 build info: pointers to Go string headers."""
    base = 0x400000
    pointer = 8 if wide else 4
    word = "<Q" if wide else "<I"
    image = bytearray(0x1000)
    if wide:
        image[:16] = b"\x7fELF\x02\x01\x01" + bytes(9)
        struct.pack_into("<Q", image, 32, 64)  # e_phoff
        struct.pack_into("<HH", image, 54, 56, 1)  # e_phentsize, e_phnum
        struct.pack_into("<IIQQQQ", image, 64, 1, 5, 0, base, base, len(image))
    else:
        image[:16] = b"\x7fELF\x01\x01\x01" + bytes(9)
        struct.pack_into("<I", image, 28, 52)
        struct.pack_into("<HH", image, 42, 32, 1)
        struct.pack_into("<IIIII", image, 52, 1, 0, base, base, len(image))
    framed = ("x" * 16 + modinfo + "y" * 16).encode()
    image[0x400 : 0x400 + len(version)] = version.encode()
    image[0x500 : 0x500 + len(framed)] = framed
    struct.pack_into(word, image, 0x300, base + 0x400)
    struct.pack_into(word, image, 0x300 + pointer, len(version))
    struct.pack_into(word, image, 0x320, base + 0x500)
    struct.pack_into(word, image, 0x320 + pointer, len(framed))
    image[0x200:0x210] = MAGIC + bytes([pointer, 0])
    struct.pack_into(word, image, 0x210, base + 0x300)
    struct.pack_into(word, image, 0x210 + pointer, base + 0x320)
    return bytes(image)


@pytest.mark.parametrize("wide", [True, False])
def test_go_before_1_18_pointer_form(wide: bool) -> None:
    modinfo = (
        "path\texample.com/tool\nmod\texample.com/tool\tv1.2.0\th1:x=\n"
        "dep\tgolang.org/x/text\tv0.3.7\th1:y=\n"
    )
    assert build_info(_pre118_elf("go1.16.15", modinfo, wide=wide), "tool") == (
        "go1.16.15",
        modinfo,
    )
    components, warnings = run_files(
        GoBinaryCataloger(),
        [("usr/bin/tool", _pre118_elf("go1.16.15", modinfo, wide=wide))],
        view=View.ROOT,
        windows=False,
    )
    assert warnings == []
    assert {(c.name, c.version) for c in components} == {
        ("stdlib", "go1.16.15"),
        ("example.com/tool", "v1.2.0"),
        ("golang.org/x/text", "v0.3.7"),
    }


def test_go_before_1_18_bad_pointers_are_warnings() -> None:
    broken = bytearray(_pre118_elf("go1.15", "path\tx\n"))
    struct.pack_into("<Q", broken, 0x210, 0xDEAD0000)  # points outside every segment
    with pytest.raises(MalformedError, match="outside the file"):
        build_info(bytes(broken), "tool")
    neither = b"\0" * 0x200 + MAGIC + bytes([8, 0]) + bytes(64)
    with pytest.raises(MalformedError, match="neither ELF nor PE"):
        build_info(neither, "tool")
    bad_pe = b"MZ" + bytes(0x1FE) + MAGIC + bytes([8, 0]) + bytes(64)
    with pytest.raises(MalformedError, match="not a readable PE"):
        build_info(bad_pe, "tool.exe")


def test_go_before_1_18_in_a_real_pe() -> None:
    import pip

    launcher = Path(pip.__file__ or "").parent / "_vendor" / "distlib" / "t64.exe"
    if not launcher.is_file():
        pytest.skip("pip's t64.exe launcher (a real PE) is not vendored here")
    import pefile

    image = bytearray(launcher.read_bytes())
    pe = pefile.PE(data=bytes(image), fast_load=True)
    base = pe.OPTIONAL_HEADER.ImageBase
    (data,) = [s for s in pe.sections if s.Name.rstrip(b"\0") == b".data"]
    raw, va = data.PointerToRawData, base + data.VirtualAddress
    modinfo = "path\texample.com/winsvc\nmod\texample.com/winsvc\tv0.9.0\th1:x=\n"
    framed = ("x" * 16 + modinfo + "y" * 16).encode()
    image[raw + 0x200 : raw + 0x200 + 9] = b"go1.17.13"
    image[raw + 0x300 : raw + 0x300 + len(framed)] = framed
    struct.pack_into("<QQ", image, raw + 0x100, va + 0x200, 9)
    struct.pack_into("<QQ", image, raw + 0x120, va + 0x300, len(framed))
    image[raw : raw + 16] = MAGIC + bytes([8, 0])
    struct.pack_into("<QQ", image, raw + 16, va + 0x100, va + 0x120)
    assert build_info(bytes(image), "winsvc.exe") == ("go1.17.13", modinfo)
