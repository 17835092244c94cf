"""Real-content benchmark images: one layer built from this machine's own files.

Synthetic layers (``integrity.py``, ``sbom.py``) are few big files; real layers are tens of
thousands of small ones, where the per-entry cost of the tar walk shows. These builders put
this machine's ``/usr/share`` (and its dpkg database and os-release, so an SBOM finds real
packages) into one gzip layer, compressed as Docker does (Go's ``compress/gzip`` default,
level 6), and write it as an OCI layout:

* ``linux``: the files at their own paths (``usr/share/...``);
* ``windows``: the same files under ``Files/`` as hcsshim's layout, every entry carrying the PAX
  records hcsshim's backuptar writes (``MSWINDOWS.fileattr``, ``MSWINDOWS.rawsd``,
  ``LIBARCHIVE.creationtime``), plus a ``SOFTWARE`` hive in ``Hives/`` and ``Files/Windows``.

:func:`big_windows_layout` repeats real files (``/usr/lib``, ``/usr/share``) under ``Files/`` up
to a given uncompressed size (5 GB for the peak-RSS measurement); it is generated, never
committed. Layouts are cached under ``bench/.work`` (git-ignored).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import os
import sys
import tarfile
from pathlib import Path
from typing import IO, Any

from chainproof.oci import mediatypes as mt
from chainproof.oci.digest import Digest
from chainproof.oci.layout_writer import LayoutWriter
from chainproof.windows.regf_writer import Key, write_hive

WORK = Path(__file__).resolve().parent / ".work"
TAG = "bench"
#: A self-relative security descriptor (owner BUILTIN\Administrators, group SYSTEM), as
#: hcsshim stores one per entry; its exact bytes do not matter to a reader, its size does.
_RAW_SD = base64.b64encode(
    bytes.fromhex(
        "01000480140000002400000000000000300000000102000000000005200000002002000001010000"
        "00000005120000000200340002000000001418001f0012000102000000000005200000002002000000"
        "1414001f001200010100000000000512000000"
    )
).decode()


class _HashingWriter(io.RawIOBase):
    """Pass-through writer that hashes what the tar writer emits (the diff_id)."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.hasher = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self.hasher.update(view)
        self.target.write(view)
        self.size += len(view)
        return len(view)


def _windows_pax(info: tarfile.TarInfo) -> None:
    attributes = 0x10 if info.isdir() else 0x20  # FILE_ATTRIBUTE_DIRECTORY / _ARCHIVE
    info.pax_headers = {
        "MSWINDOWS.fileattr": str(attributes),
        "MSWINDOWS.rawsd": _RAW_SD,
        "LIBARCHIVE.creationtime": f"{int(info.mtime)}",
    }


def _add_tree(tar: tarfile.TarFile, source: Path, prefix: str, windows: bool) -> int:
    """Add ``source`` recursively under ``prefix`` (sorted, like ``tar``); returns entries."""
    count = 0
    for directory, subdirs, files in os.walk(source):
        subdirs.sort()
        here = Path(directory)
        relative = here.relative_to(source).as_posix()
        arc_dir = prefix if relative == "." else f"{prefix}/{relative}"
        for name in [".", *sorted(files), *subdirs]:
            path = here if name == "." else here / name
            if name != "." and name in subdirs and not path.is_symlink():
                continue  # directories are added when os.walk enters them
            arcname = arc_dir if name == "." else f"{arc_dir}/{name}"
            try:
                info = tar.gettarinfo(str(path), arcname)
            except OSError:
                continue
            if not (info.isreg() or info.isdir() or info.issym() or info.islnk()):
                continue  # sockets and fifos: not in image layers
            info.uname = info.gname = ""
            # Whole seconds, as Docker's tar writer stores them: no PAX record for the time.
            info.mtime = int(info.mtime)
            if windows:
                _windows_pax(info)
            if info.isreg():
                try:
                    with path.open("rb") as handle:
                        tar.addfile(info, handle)
                except OSError:
                    continue
            else:
                tar.addfile(info)
            count += 1
    return count


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, windows: bool) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    info.mtime = 1_700_000_000
    if windows:
        _windows_pax(info)
    tar.addfile(info, io.BytesIO(data))


def _software_hive() -> bytes:
    root = Key("ROOT")
    root.child(r"Microsoft\Windows NT\CurrentVersion").values.update(
        CurrentBuildNumber="20348",
        UBR=2227,
        EditionID="ServerDatacenter",
        InstallationType="Server Core",
        ProductName="Windows Server 2022 Datacenter",
    )
    return write_hive(root, "SOFTWARE")


def _write_layout(
    root: Path, write_tar: Any, *, windows: bool, compresslevel: int, fast: bool = False
) -> str:
    """Write one gzip layer (``write_tar(tar)`` fills it) and an image around it."""
    writer = LayoutWriter(root)
    blob = root / "layer.tmp"
    with blob.open("wb") as raw:
        if fast:
            from isal import igzip

            gz: Any = igzip.open(raw, "wb", compresslevel=compresslevel)  # type: ignore[no-untyped-call]
        else:
            gz = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=compresslevel, mtime=0)
        with gz:
            hashing = _HashingWriter(gz)
            with tarfile.open(fileobj=hashing, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                entries = write_tar(tar)
    diff_id = Digest("sha256", hashing.hasher.hexdigest())
    with blob.open("rb") as stream:
        descriptor = writer.add_blob_from(stream, mt.OCI_LAYER_GZIP)
    blob.unlink()
    image = writer.add_image(
        [(descriptor, diff_id)],
        os="windows" if windows else "linux",
        os_version="10.0.20348.2227" if windows else "",
        tag=TAG,
    )
    writer.tag(image)
    (root / "bench-info.txt").write_text(
        f"entries {entries}\nuncompressed {hashing.size}\ncompressed {descriptor['size']}\n"
    )
    return f"oci:{root}:{TAG}"


def real_layout(windows: bool, source: Path = Path("/usr/share")) -> tuple[Path, str]:
    """The real-content image (built once, then cached); returns (layout dir, IMAGE)."""
    label = "windows" if windows else "linux"
    root = WORK / f"real-{label}-{source.as_posix().strip('/').replace('/', '-')}"
    reference = f"oci:{root}:{TAG}"
    if (root / "index.json").is_file():
        return root, reference
    print(f"building the real-content {label} image from {source} (once) ...", file=sys.stderr)
    root.mkdir(parents=True, exist_ok=True)
    prefix = source.as_posix().strip("/")

    def fill(tar: tarfile.TarFile) -> int:
        count = 0
        top = "Files/" if windows else ""
        if windows:
            for name in ("Files", "Hives"):
                info = tarfile.TarInfo(name)
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                _windows_pax(info)
                tar.addfile(info)
            hive = _software_hive()
            _add_bytes(tar, "Hives/SOFTWARE_BASE", hive, windows)
            _add_bytes(tar, "Files/Windows/System32/config/SOFTWARE", hive, windows)
            count += 4
        for extra in ("etc/os-release", "var/lib/dpkg/status"):
            real = Path("/") / extra
            if real.is_file():
                _add_bytes(tar, top + extra, real.read_bytes(), windows)
                count += 1
        return count + _add_tree(tar, source, top + prefix, windows)

    _write_layout(root, fill, windows=windows, compresslevel=6)
    return root, reference


def big_windows_layout(
    size_gb: float, sources: tuple[str, ...] = ("/usr/lib", "/usr/share")
) -> str:
    """A Windows-format image with one layer of ≥ ``size_gb`` GB (uncompressed) of real files."""
    root = WORK / f"big-windows-{size_gb:g}gb"
    if (root / "index.json").is_file():
        return f"oci:{root}:{TAG}"
    print(f"building a {size_gb:g} GB Windows-format layer (once) ...", file=sys.stderr)
    root.mkdir(parents=True, exist_ok=True)
    target = int(size_gb * 1e9)

    def fill(tar: tarfile.TarFile) -> int:
        count = 0
        copy = 0
        while tar.offset < target:
            for source in sources:
                if tar.offset >= target:
                    break
                prefix = f"Files/Windows/WinSxS/copy{copy}/{source.strip('/').replace('/', '_')}"
                count += _add_tree(tar, Path(source), prefix, True)
            copy += 1
        return count

    # ISA-L level 1 keeps the build quick; the layer's size, not its ratio, is the point.
    return _write_layout(root, fill, windows=True, compresslevel=1, fast=True)


def describe(root: Path) -> str:
    info = dict(
        line.split(" ", 1) for line in (root / "bench-info.txt").read_text().splitlines() if line
    )
    return (
        f"{int(info['entries']):,} entries, {int(info['uncompressed']) / 1e6:.0f} MB tar, "
        f"{int(info['compressed']) / 1e6:.0f} MB gzip"
    )
