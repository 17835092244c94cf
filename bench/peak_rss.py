"""Peak RSS of ``verify`` and ``sbom`` on a 5 GB Windows-format layer of real files.

Generates (once, under bench/.work, never committed) one gzip layer of ≥ ``--size-gb`` GB
uncompressed: this machine's ``/usr/lib`` and ``/usr/share`` repeated under
``Files/Windows/WinSxS/copyN/``, every entry with hcsshim's PAX records. Then runs, as child
processes, ``chainproof verify --checks integrity`` and ``chainproof sbom --format
cyclonedx-json`` (both with ``--no-layer-cache``) and prints wall time and peak RSS (the
child's ``ru_maxrss``). Targets (issue 19): verify ≤ 150 MB, sbom ≤ 300 MB.

    .venv/bin/python bench/peak_rss.py [--size-gb 5] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import realcontent


def _run(command: list[str]) -> tuple[float, float]:
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        assert process.stderr is not None
        raise SystemExit(f"{command[1]} failed: {process.stderr.read().decode()[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-gb", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    reference = realcontent.big_windows_layout(args.size_gb)
    root = Path(reference.split(":", 1)[1].rsplit(":", 1)[0])
    chainproof = str(Path(sys.executable).with_name("chainproof"))
    commands = {
        "verify --checks integrity": [
            chainproof,
            "verify",
            "--no-progress",
            "--no-layer-cache",
            "--checks",
            "integrity",
            reference,
        ],
        "sbom --format cyclonedx-json": [
            chainproof,
            "sbom",
            "--no-layer-cache",
            "--format",
            "cyclonedx-json",
            reference,
        ],
    }
    load_before = os.getloadavg()[0]
    results = {
        name: [_run(command) for _ in range(args.runs)] for name, command in commands.items()
    }
    print(
        f"Windows-format layer: {realcontent.describe(root)}; load average {load_before:.2f} "
        f"before, {os.getloadavg()[0]:.2f} after (2 shared cores); median of {args.runs}"
    )
    for name, runs in results.items():
        wall = statistics.median(r[0] for r in runs)
        rss = max(r[1] for r in runs)
        print(f"{name:30} {wall:7.1f} s   peak RSS {rss:5.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
