"""``chainproof attestation verify``: exit codes, output, one-line errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from chainproof.cli.main import main
from tests.tee.conftest import FIXTURES, MAA_ISSUER

F = FIXTURES


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["attestation", "verify", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_sev_snp_verified(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        str(F / "snp/ccf-genoa-v3.bin"),
        "--format",
        "sev-snp",
        "--cert",
        str(F / "snp/ccf-genoa-vcek.pem"),
        "--at",
        "2026-06-01T00:00:00Z",
    )
    assert code == 0
    assert "attestation (sev-snp): verified" in out
    assert "ok   chain: VCEK → ASK → ARK-Genoa" in out


def test_sev_snp_json_and_wrong_product(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        str(F / "snp/ccf-genoa-v3.bin"),
        "--format",
        "sev-snp",
        "--format",
        "json",
        "--cert",
        str(F / "snp/ccf-genoa-vcek.pem"),
        "--product",
        "milan",
        "--at",
        "2026-06-01T00:00:00Z",
    )
    assert code == 1
    document = json.loads(out)
    assert document["schema"] == "chainproof.attestation/v1"
    assert document["verified"] is False
    assert {f["name"] for f in document["findings"] if not f["passed"]} >= {"product", "chain"}


def test_debug_enabled_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        str(F / "snp/go-sev-guest-milan-v2-debug.bin"),
        "--format",
        "sev-snp",
        "--cert",
        str(F / "snp/go-sev-guest-milan-vcek.der"),
        "--at",
        "2026-06-01T00:00:00Z",
    ]
    code, out, _ = run(capsys, *argv)
    assert code == 1
    assert "FAIL policy.debug" in out
    assert run(capsys, *argv, "--allow-debug")[0] == 0


def test_maa_at_pinned_time_and_expired_now(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        str(F / "maa/midnight-sharedeus2.jwt"),
        "--format",
        "maa",
        "--jwks",
        str(F / "maa/sharedeus2-jwks.json"),
        "--issuer",
        MAA_ISSUER,
    ]
    assert run(capsys, *argv, "--at", "2025-12-16T00:00:00Z")[0] == 0
    code, out, _ = run(capsys, *argv)
    assert code == 1
    assert "FAIL lifetime: expired" in out


def test_maa_binding_flags(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        str(F / "maa/midnight-sharedeus2.jwt"),
        "--format",
        "maa",
        "--cert",
        str(F / "maa/sharedeus2-signing-cert.pem"),
        "--issuer",
        MAA_ISSUER,
        "--at",
        "2025-12-16T00:00:00Z",
        "--bind-policy-digest",
        "sha256:" + "11" * 32,
        "--bind-image",
        "sha256:" + "aa" * 32,
        "--bind-in",
        "report-data",
    )
    assert code == 1
    assert "FAIL binding: report-data starts with a62ad2715a9b95b2" in out


def test_tdx(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("dcap_qvl", reason="dcap-qvl (the tdx extra) is not installed")
    code, out, _ = run(
        capsys,
        str(F / "tdx/tdx-quote.bin"),
        "--format",
        "tdx",
        "--collateral",
        str(F / "tdx/tdx-quote-collateral.json"),
        "--at",
        "2025-06-27T00:00:00Z",
    )
    assert code == 0, out
    assert "TCB status UpToDate" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--format", "sev-snp"], "needs --cert"),
        ([], "evidence format exactly once"),
        (["--format", "sev-snp", "--format", "maa"], "evidence format exactly once"),
        (["--format", "maa", "--jwks", "x"], "needs --issuer"),
        (["--format", "tdx"], "needs --collateral"),
        (["--format", "sev-snp", "--cert", "x", "--at", "2025-01-01"], "give a time zone"),
        (["--format", "sev-snp", "--cert", "x", "--at", "yesterday"], "not an ISO 8601"),
        (
            ["--format", "sev-snp", "--cert", "x", "--bind-image", "sha256:" + "a" * 64],
            "a binding needs",
        ),
        (["--format", "sev-snp", "--cert", "x", "--jwks", "y"], "do(es) not apply"),
        (["--format", "sev-snp", "--cert", "x", "--expect-measurement", "zz"], "not hex"),
    ],
)
def test_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, _, err = run(capsys, str(F / "snp/ccf-milan-v3.bin"), *argv)
    assert code == 2
    assert err.startswith("chainproof: error: ") and message in err
    assert err.count("\n") == 1


def test_bad_input_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes((F / "snp/ccf-milan-v3.bin").read_bytes()[:600])
    code, _, err = run(
        capsys, str(truncated), "--format", "sev-snp", "--cert", str(F / "snp/ccf-milan-vcek.pem")
    )
    assert code == 2 and "600 bytes, expected 1184" in err
    code, _, err = run(
        capsys,
        str(tmp_path / "missing"),
        "--format",
        "sev-snp",
        "--cert",
        str(F / "snp/ccf-milan-vcek.pem"),
    )
    assert code == 2 and "no such file" in err
    garbage = tmp_path / "cert.pem"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")
    code, _, err = run(
        capsys, str(F / "snp/ccf-milan-v3.bin"), "--format", "sev-snp", "--cert", str(garbage)
    )
    assert code == 2 and "not a valid X.509 certificate" in err
    token = tmp_path / "none.jwt"
    token.write_text("eyJhbGciOiJub25lIn0.e30.")
    code, _, err = run(
        capsys,
        str(token),
        "--format",
        "maa",
        "--jwks",
        str(F / "maa/sharedeus2-jwks.json"),
        "--issuer",
        MAA_ISSUER,
    )
    assert code == 2 and "alg 'none' is refused" in err


def test_a_fifo_is_not_evidence(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    code, _, err = run(
        capsys, str(fifo), "--format", "sev-snp", "--cert", str(F / "snp/ccf-milan-vcek.pem")
    )
    assert code == 2 and "not a regular file" in err
