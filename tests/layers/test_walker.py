from __future__ import annotations

import io
import tarfile

import pytest

from chainproof.errors import MalformedError
from chainproof.layers.overlay import Overlay
from chainproof.layers.walker import EntryKind, LayerWalker, View
from chainproof.oci.layout_writer import LayerFile, tar_bytes


def _walk(entries: list[LayerFile], *, windows: bool = False) -> tuple[LayerWalker, list]:  # type: ignore[type-arg]
    walker = LayerWalker([tar_bytes(entries)], "layer 0", windows=windows)
    return walker, list(walker)


def test_paths_are_normalised_and_kinds_classified() -> None:
    _, entries = _walk(
        [
            LayerFile("./etc", kind="dir"),
            LayerFile("./etc/passwd", b"root:x:0:0\n"),
            LayerFile("usr/bin/python3", kind="symlink", target="python3.11"),
            LayerFile("usr/bin/py", kind="hardlink", target="usr/bin/python3"),
        ]
    )
    assert [(e.path, e.kind) for e in entries] == [
        ("etc", EntryKind.DIRECTORY),
        ("etc/passwd", EntryKind.FILE),
        ("usr/bin/python3", EntryKind.SYMLINK),
        ("usr/bin/py", EntryKind.HARDLINK),
    ]


def test_unsafe_entries_are_reported_not_returned() -> None:
    walker, entries = _walk(
        [
            LayerFile("../../etc/cron.d/evil", b"x"),
            LayerFile("/etc/shadow", b"x"),
            LayerFile("a/b/../../../c", b"x"),
            LayerFile("app/link", kind="symlink", target="../../../../etc/shadow"),
            LayerFile("app/hard", kind="hardlink", target="../outside"),
            LayerFile("app/ok", kind="symlink", target="/etc/alternatives/java"),
            LayerFile("app/fine", kind="symlink", target="../etc/hosts"),
        ]
    )
    assert [e.path for e in entries] == ["app/ok", "app/fine"]
    reasons = {u.tar_name: u.reason for u in walker.unsafe}
    assert set(reasons) == {
        "../../etc/cron.d/evil",
        "/etc/shadow",
        "a/b/../../../c",
        "app/link",
        "app/hard",
    }
    assert "escapes the root" in reasons["app/link"]


def test_file_content_is_readable_during_iteration() -> None:
    walker = LayerWalker(
        [tar_bytes([LayerFile("a.txt", b"alpha"), LayerFile("b.txt", b"beta")])], "l"
    )
    seen = {}
    for entry in walker:
        seen[entry.path] = walker.open_file().read()
    assert seen == {"a.txt": b"alpha", "b.txt": b"beta"}


def test_windows_layout_views() -> None:
    _, entries = _walk(
        [
            LayerFile("Files/Windows/System32/drivers/etc/hosts", b"x"),
            LayerFile("Hives/SOFTWARE_BASE", b"regf"),
            LayerFile("UtilityVM/Files/EFI/boot.efi", b"x"),
            LayerFile("Files/Windows/Temp/.wh.old.log"),
            LayerFile("Files/ProgramData/.wh..wh..opq"),
        ],
        windows=True,
    )
    got = [(e.view, e.path, e.kind) for e in entries]
    assert got == [
        (View.FILES, "Windows/System32/drivers/etc/hosts", EntryKind.FILE),
        (View.HIVES, "SOFTWARE_BASE", EntryKind.FILE),
        (View.UTILITY_VM, "Files/EFI/boot.efi", EntryKind.FILE),
        (View.FILES, "Windows/Temp/old.log", EntryKind.WHITEOUT),
        (View.FILES, "ProgramData", EntryKind.OPAQUE),
    ]


def test_overlay_applies_whiteouts_opaque_dirs_and_overwrites() -> None:
    overlay = Overlay()
    layers = [
        [
            LayerFile("etc/a", b"1"),
            LayerFile("etc/b", b"1"),
            LayerFile("opt/x/1", b"1"),
            LayerFile("opt/x/2", b"1"),
            LayerFile("usr/keep", b"1"),
        ],
        [
            LayerFile("etc/.wh.a"),
            LayerFile("opt/x/.wh..wh..opq"),
            LayerFile("opt/x/3", b"2"),
            LayerFile("usr/keep", b"2"),
        ],
    ]
    for index, layer in enumerate(layers):
        for entry in LayerWalker([tar_bytes(layer)], f"layer {index}"):
            overlay.apply(index, entry)
    present = {p.entry.path: p.layer for p in overlay.present()}
    assert present == {"etc/b": 0, "opt/x/3": 1, "usr/keep": 1}
    removed = {(p.entry.path, p.layer): p.removed_by for p in overlay.all() if not p.present}
    assert removed == {("etc/a", 0): 1, ("opt/x/1", 0): 1, ("opt/x/2", 0): 1, ("usr/keep", 0): 1}


def test_overlay_is_case_insensitive_for_windows() -> None:
    overlay = Overlay(case_insensitive=True)
    for index, layer in enumerate(
        [[LayerFile("Files/Windows/Win.ini", b"1")], [LayerFile("Files/WINDOWS/.wh.win.ini")]]
    ):
        for entry in LayerWalker([tar_bytes(layer)], "l", windows=True):
            overlay.apply(index, entry)
    assert list(overlay.present()) == []
    assert overlay.lookup(View.FILES, "windows/win.ini") is None


def test_corrupt_tar_is_a_clear_error() -> None:
    data = bytearray(tar_bytes([LayerFile("a", b"x" * 2000)]))
    data[100:160] = b"\xff" * 60  # smash the mode/uid/gid/size fields of the header
    with pytest.raises(MalformedError, match="layer 0"):
        list(LayerWalker([bytes(data)], "layer 0"))


def test_truncated_tar_is_a_clear_error() -> None:
    data = tar_bytes([LayerFile("a", b"x" * 5000)])
    with pytest.raises(MalformedError):
        for _ in LayerWalker([data[:1024]], "layer 0"):
            pass


def test_stream_is_drained_after_the_end_marker() -> None:
    consumed: list[int] = []
    payload = tar_bytes([LayerFile("a", b"x")]) + bytes(10240)

    def chunks() -> object:
        for i in range(0, len(payload), 512):
            consumed.append(i)
            yield payload[i : i + 512]

    list(LayerWalker(chunks(), "l"))  # type: ignore[arg-type]
    assert len(consumed) == len(range(0, len(payload), 512))


def test_pax_long_names_survive() -> None:
    name = "deep/" * 40 + "file.txt"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    entries = list(LayerWalker([buffer.getvalue()], "l"))
    assert entries[0].path == name
