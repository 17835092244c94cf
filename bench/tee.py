"""SEV-SNP report verification: chainproof vs sev-attest-tool (Rust, virtee/sev based), same
real report (virtee/sev's Milan report) and VCEK, same process, median of repeated runs.

Both do: VCEK → ASK → ARK-Milan with bundled roots, ECDSA P-384 report signature. chainproof
also parses the VCEK extensions and checks TCB, chip id and policy. The peer takes the report
as virtee/sev's serde JSON; the conversion is done once, outside the timing.

    .venv/bin/pip install 'sev-attest-tool>=0.2.4'   # the peer (binary in the wheel)
    .venv/bin/python bench/tee.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import struct
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chainproof.tee.snp import verify_report

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "tee" / "fixtures" / "snp"
AT = datetime(2026, 6, 1, tzinfo=UTC)


def _tcb(fields: dict[str, Any]) -> bytes:
    return bytes(
        [
            fields["bootloader"],
            fields["tee"],
            *fields["_reserved"],
            fields["snp"],
            fields["microcode"],
        ]
    )


def raw_report(document: str) -> bytes:
    """virtee/sev 1.x's serde JSON of a report (the peer's input) back to the 1184 bytes."""
    d = json.loads(document)
    r = bytearray(1184)
    struct.pack_into("<IIQ", r, 0, d["version"], d["guest_svn"], d["policy"])
    struct.pack_into("<II", r, 0x30, d["vmpl"], d["sig_algo"])
    struct.pack_into("<QII", r, 0x40, d["plat_info"], d["_author_key_en"], d["_reserved_0"])
    spans = {
        "family_id": 0x10,
        "image_id": 0x20,
        "report_data": 0x50,
        "measurement": 0x90,
        "host_data": 0xC0,
        "id_key_digest": 0xE0,
        "author_key_digest": 0x110,
        "report_id": 0x140,
        "report_id_ma": 0x160,
        "_reserved_1": 0x188,
        "chip_id": 0x1A0,
        "_reserved_4": 0x1F8,
    }
    for name, offset in spans.items():
        r[offset : offset + len(d[name])] = bytes(d[name])
    for name, offset in (
        ("current_tcb", 0x38),
        ("reported_tcb", 0x180),
        ("committed_tcb", 0x1E0),
        ("launch_tcb", 0x1F0),
    ):
        r[offset : offset + 8] = _tcb(d[name])
    r[0x1E8:0x1F0] = bytes(
        d[k]
        for k in (
            "current_build",
            "current_minor",
            "current_major",
            "_reserved_2",
            "committed_build",
            "committed_minor",
            "committed_major",
            "_reserved_3",
        )
    )
    signature = d["signature"]
    r[0x2A0:0x4A0] = bytes(signature["r"] + signature["s"] + signature["_reserved"])
    return bytes(r)


def median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm caches (bundled roots, imports)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}, {args.runs} runs each, median")
    milan = bytes.fromhex((FIXTURES / "virtee-milan-v2.hex").read_text())
    milan_vcek = (FIXTURES / "virtee-milan-vcek.der").read_bytes()
    assert verify_report(milan, milan_vcek, at=AT).verified
    ours = median_ms(lambda: verify_report(milan, milan_vcek, at=AT), args.runs)
    print(f"chainproof, virtee/sev Milan report: {ours:.3f} ms")
    try:
        import sev_attest_tool
    except ImportError:
        print("peer not installed: pip install 'sev-attest-tool>=0.2.4'")
        return
    # The peer verifies against a built-in Genoa chain only (it refuses the Milan report:
    # "Signer certificate does not sign signee certificate"), so the side-by-side run uses the
    # real Genoa report and VCEK shipped inside its wheel.
    document, vcek = sev_attest_tool.SAMPLE_ATTESTATION, sev_attest_tool.SAMPLE_VCEK
    genoa = raw_report(document)
    assert verify_report(genoa, vcek, at=AT).verified
    sev_attest_tool.verify_attestation_report(document, vcek)  # panics on failure
    ours = median_ms(lambda: verify_report(genoa, vcek, at=AT), args.runs)
    theirs = median_ms(lambda: sev_attest_tool.verify_attestation_report(document, vcek), args.runs)
    print(f"chainproof, peer's Genoa report: {ours:.3f} ms")
    print(f"sev-attest-tool, same report: {theirs:.3f} ms")
    print(f"peer time / chainproof time: {theirs / ours:.2f}x")


if __name__ == "__main__":
    main()
