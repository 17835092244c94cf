"""Go build info: a real Debian-built Go binary, and module info with deps and replacements."""

from __future__ import annotations

from pathlib import Path

import pytest

from chainproof.layers.walker import EntryKind, LayerEntry, View
from chainproof.sbom.catalogers.golang import MAGIC, GoBinaryCataloger
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
