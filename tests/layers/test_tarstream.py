"""The header-only tar reader against tarfile and GNU tar, chunk boundaries and its bounds."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainproof.errors import MalformedError
from chainproof.layers import tarstream
from chainproof.layers.walker import MAX_UNSAFE_LISTED, LayerWalker
from chainproof.oci.layout_writer import LayerFile, tar_bytes

_KINDS = {
    tarfile.REGTYPE: tarstream.REGULAR,
    tarfile.AREGTYPE: tarstream.REGULAR,
    tarfile.CONTTYPE: tarstream.REGULAR,
    tarfile.GNUTYPE_SPARSE: tarstream.REGULAR,
    tarfile.DIRTYPE: tarstream.DIRECTORY,
    tarfile.SYMTYPE: tarstream.SYMLINK,
    tarfile.LNKTYPE: tarstream.HARDLINK,
}


def _archive(tar_format: int) -> bytes:
    """A tar with what real layers hold, in one format: long names and targets, non-ASCII
    names, hard and symbolic links, directories, a fifo, a device, empty and big files."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tar_format) as tar:

        def add(
            name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", link: str = ""
        ) -> None:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = link
            info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o640
            info.mtime = 1_700_000_000
            if kind == tarfile.REGTYPE:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)

        add("usr", tarfile.DIRTYPE)
        add("usr/share/doc/copyright", data=b"GPL\n" * 300)
        add("usr/share/empty")
        add("usr/lib/" + "x" * 99, data=b"99")  # exactly fills the name field
        add("usr/" + "deep/" * 30 + "file.txt", data=b"long")  # ustar prefix, GNU L or PAX
        long_target = tar_format != tarfile.USTAR_FORMAT  # ustar caps targets at 100 bytes
        add("usr/bin/python3", tarfile.SYMTYPE, link="python3." + "1" * (120 if long_target else 8))
        add("usr/bin/py", tarfile.LNKTYPE, link="usr/share/doc/copyright")
        add("etc/fifo", tarfile.FIFOTYPE)
        add("dev/null", tarfile.CHRTYPE)
        if tar_format != tarfile.USTAR_FORMAT:
            add("usr/share/locale/é/ü.mo", data=bytes(range(256)) * 40)
        add("opt/big.bin", data=os.urandom(700_000))
    return buffer.getvalue()


def _ours(data: bytes, chunk: int = 1 << 20) -> list[tuple[str, bytes, int, str, bytes]]:
    chunks = [data[i : i + chunk] for i in range(0, len(data), chunk)]
    reader = tarstream.TarReader(chunks, "layer 0")
    found = []
    for member in reader:
        content = reader.open().read() if member.kind == tarstream.REGULAR else b""
        found.append((member.name, member.kind, member.size, member.linkname, content))
    return found


def _theirs(data: bytes) -> list[tuple[str, bytes, int, str, bytes]]:
    found = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        for member in tar:
            handle = tar.extractfile(member) if member.isreg() else None
            size = member.size if member.isreg() or member.type not in _KINDS else 0
            found.append(
                (
                    member.name,
                    _KINDS.get(member.type, member.type),
                    size,
                    member.linkname,
                    handle.read() if handle else b"",
                )
            )
    return found


@pytest.mark.parametrize(
    "tar_format", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT]
)
def test_members_and_contents_match_tarfile(tar_format: int) -> None:
    data = _archive(tar_format)
    assert _ours(data) == _theirs(data)


@settings(max_examples=40, deadline=None)
@given(chunk=st.integers(min_value=1, max_value=5000), skip_reads=st.booleans())
def test_any_chunking_gives_the_same_members(chunk: int, skip_reads: bool) -> None:
    data = _archive(tarfile.PAX_FORMAT)
    expected = _theirs(data)
    chunks = [data[i : i + chunk] for i in range(0, len(data), chunk)]
    reader = tarstream.TarReader(chunks, "layer 0")
    names = []
    for member in reader:
        names.append(member.name)
        if member.kind == tarstream.REGULAR and not skip_reads:
            # Read only part of the body: the reader must skip the rest correctly.
            assert reader.open().read(7) == next(e[4][:7] for e in expected if e[0] == member.name)
    assert names == [e[0] for e in expected]


def test_pax_records_override_header_fields() -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("short")
        info.pax_headers = {
            "path": "Files/Windows/System32/" + "ü" * 80 + ".dll",
            "MSWINDOWS.rawsd": "AQAEgBQAAAAkAAAAAAAAADAAAAAB" * 4,
            "MSWINDOWS.fileattr": "32",
        }
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
    [(name, _, size, _, content)] = _ours(buffer.getvalue())
    assert name.endswith("ü.dll") and name.startswith("Files/Windows/System32/")
    assert (size, content) == (3, b"abc")


def _gnu_tar(tmp_path: Path, *options: str) -> tuple[bytes, bytes]:
    tool = shutil.which("tar")
    if (
        tool is None
        or b"GNU tar"
        not in subprocess.run([tool, "--version"], capture_output=True, check=False).stdout
    ):
        pytest.skip("GNU tar not installed")
    source = tmp_path / "src"
    source.mkdir(exist_ok=True)
    sparse = source / "disk.img"
    with sparse.open("wb") as handle:
        for offset in (0, 3 * 1024 * 1024, 9 * 1024 * 1024 + 17):
            handle.seek(offset)
            handle.write(os.urandom(10_000))
        handle.truncate(12 * 1024 * 1024)
    archive = tmp_path / "out.tar"
    subprocess.run([tool, "-cf", str(archive), "-C", str(source), *options, "disk.img"], check=True)
    return archive.read_bytes(), sparse.read_bytes()


@pytest.mark.parametrize(
    "options",
    [
        ("--format=gnu", "--sparse"),
        ("--format=posix", "--sparse", "--sparse-version=0.0"),
        ("--format=posix", "--sparse", "--sparse-version=0.1"),
        ("--format=posix", "--sparse", "--sparse-version=1.0"),
    ],
    ids=["gnu", "pax-0.0", "pax-0.1", "pax-1.0"],
)
def test_sparse_files_written_by_gnu_tar_read_back_whole(
    tmp_path: Path, options: tuple[str, ...]
) -> None:
    data, original = _gnu_tar(tmp_path, *options)
    [(name, kind, size, _, content)] = _ours(data, chunk=4096)
    assert (name, kind, size) == ("disk.img", tarstream.REGULAR, len(original))
    assert content == original


def test_checksum_mismatch_is_malformed() -> None:
    data = bytearray(tar_bytes([LayerFile("a", b"x")]))
    data[0] = ord("b")  # the name changes, the stored checksum does not
    with pytest.raises(MalformedError, match="checksum"):
        list(tarstream.TarReader([bytes(data)], "layer 0"))


def _header(name: bytes, flag: bytes, size: int) -> bytes:
    info = tarfile.TarInfo(name.decode())
    info.size = size
    info.type = flag
    return info.tobuf(tarfile.USTAR_FORMAT)


def test_oversized_pax_header_is_refused_without_reading_it() -> None:
    consumed = []

    def chunks() -> object:
        yield _header(b"././@PaxHeader", b"x", tarstream.MAX_PAX_BYTES + 1)
        for _ in range(10_000):  # would be 10 GB of PAX records if it were read
            consumed.append(1)
            yield bytes(1 << 20)

    with pytest.raises(MalformedError, match=r"PAX header of .* exceeds"):
        list(tarstream.TarReader(chunks(), "layer 0"))  # type: ignore[arg-type]
    assert len(consumed) <= 1


def test_oversized_gnu_long_name_is_refused() -> None:
    data = _header(b"././@LongLink", b"L", tarstream.MAX_LONG_NAME_BYTES + 1) + bytes(70_000)
    with pytest.raises(MalformedError, match="GNU long name"):
        list(tarstream.TarReader([data], "layer 0"))


def test_endless_metadata_headers_are_refused() -> None:
    record = b"20 path=aaaaaaaaaaa\n"
    block = _header(b"././@PaxHeader", b"x", len(record)) + record.ljust(512, b"\0")
    with pytest.raises(MalformedError, match="metadata headers in a row"):
        list(tarstream.TarReader([block * (tarstream.MAX_META_HEADERS + 2)], "layer 0"))


def test_bad_pax_record_is_malformed() -> None:
    record = b"99 path=short\n"  # declared length does not match
    block = _header(b"././@PaxHeader", b"x", len(record)) + record.ljust(512, b"\0")
    with pytest.raises(MalformedError, match="PAX record"):
        list(tarstream.TarReader([block + tar_bytes([LayerFile("a", b"1")])], "layer 0"))


def test_old_gnu_sparse_map_is_bounded() -> None:
    header = bytearray(_header(b"disk.img", b"S", 0))
    header[482] = 1  # "an extension block follows" — and every one says so again
    extension = bytearray(512)
    extension[0:24] = b"00000000000\0" + b"00000000001\0"
    extension[504] = 1
    header[148:156] = b"        "
    header[148:155] = f"{sum(header):06o}\0".encode()
    data = bytes(header) + bytes(extension) * (tarstream.MAX_SPARSE_ENTRIES // 21 + 10)
    with pytest.raises(MalformedError, match="sparse map longer"):
        list(tarstream.TarReader([data], "layer 0"))


def test_file_cannot_be_read_after_the_walk_moved_on() -> None:
    reader = tarstream.TarReader([tar_bytes([LayerFile("a", b"1"), LayerFile("b", b"2")])], "l")
    members = iter(reader)
    next(members)
    handle = reader.open()
    next(members)
    with pytest.raises(MalformedError, match="after the walk moved on"):
        handle.read()


def test_base256_sizes_are_understood() -> None:
    header = bytearray(_header(b"big", b"0", 0))
    header[124:136] = b"\x80" + (5).to_bytes(11, "big")
    header[148:156] = b"        "
    header[148:155] = f"{sum(header):06o}\0".encode()
    data = bytes(header) + b"hello".ljust(512, b"\0") + bytes(1024)
    assert _ours(data) == [("big", tarstream.REGULAR, 5, "", b"hello")]


def test_a_million_unsafe_entries_are_counted_not_kept() -> None:
    count = MAX_UNSAFE_LISTED + 500
    data = tar_bytes([LayerFile(f"../evil{i}", b"") for i in range(count)])
    walker = LayerWalker([data], "layer 0")
    assert list(walker) == []
    assert len(walker.unsafe) == MAX_UNSAFE_LISTED + 1
    assert walker.unsafe[-1].reason == "500 more unsafe entries not listed"


def _cpython_test_archive() -> Path:
    """CPython's own tar test corpus (every format quirk tarfile knows), when installed."""
    import sys
    import sysconfig

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    candidates = [
        stdlib / "test" / "archivetestdata" / "testtar.tar",
        stdlib / "test" / "testtar.tar",
        *sorted(Path(sys.base_prefix).parent.glob("*/lib/python3*/test/**/testtar.tar")),
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    pytest.skip("CPython's test/testtar.tar is not installed here")


def test_cpython_tar_corpus_reads_as_tarfile_reads_it() -> None:
    data = _cpython_test_archive().read_bytes()
    reader = tarstream.TarReader([data[i : i + 777] for i in range(0, len(data), 777)], "l")
    ours = []
    # The corpus ends in a partial header ("misc/eof"); tarfile stops quietly there, Go's
    # archive/tar (what containerd extracts with) fails, and so do we.
    with pytest.raises(MalformedError, match="truncated"):
        for member in reader:
            content = reader.open().read() if member.kind == tarstream.REGULAR else b""
            ours.append((member.name, member.kind, member.size, member.linkname, content))
    theirs = _theirs(data)
    assert len(ours) == len(theirs) >= 39
    assert ours == theirs
