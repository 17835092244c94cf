"""The CLI contract: exit codes, one-line errors, JSON shapes, nothing written on failure."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from chainproof.cli.main import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:  # argparse usage errors
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_inspect_text_and_json(capsys: pytest.CaptureFixture[str], windows_layout: Path) -> None:
    code, out, _ = _run(capsys, "inspect", f"oci:{windows_layout}:ltsc2022")
    assert code == 0
    assert "windows/amd64 (os.version 10.0.20348.2227)" in out
    code, out, _ = _run(capsys, "inspect", "--format", "json", f"oci:{windows_layout}:ltsc2022")
    data = json.loads(out)
    image = data["images"][0]
    assert image["os_version"] == "10.0.20348.2227"
    assert image["user"] == "ContainerUser"
    assert [layer["media_type"] for layer in image["layers"]] == [
        "application/vnd.oci.image.layer.v1.tar+gzip"
    ] * 2
    assert image["history"][0]["created_by"] == "Apply image 10.0.20348.2227"


def test_verify_pass_and_fail_exit_codes(
    capsys: pytest.CaptureFixture[str], linux_layout: Path, tmp_path: Path
) -> None:
    code, out, _ = _run(capsys, "verify", "--format", "json", f"oci:{linux_layout}:v1")
    assert code == 0
    verdict = json.loads(out)
    assert verdict["schema"] == "chainproof.verdict/v1"
    assert verdict["verdict"] == "pass"
    assert set(verdict["image"]) == {"reference", "digest", "platform", "os_version"}
    assert {c["status"] for c in verdict["checks"]} <= {"pass", "skip"}

    layers = [c for c in verdict["checks"] if c["id"] == "integrity.layer"]
    layer = layers[-1]["evidence"]["digest"].split(":")[1]
    blob = linux_layout / "blobs" / "sha256" / layer
    blob.write_bytes(blob.read_bytes()[:-1] + b"X")
    output = tmp_path / "verdict.json"
    code, out, _ = _run(
        capsys, "verify", "--format", "json", "-o", str(output), f"oci:{linux_layout}:v1"
    )
    assert code == 1
    assert json.loads(output.read_text())["verdict"] == "fail"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["inspect", "oci:/nonexistent/path"], "no such directory"),
        (["verify", "oci:/nonexistent/path"], "no such directory"),
        (["inspect", "Not A Reference"], "invalid"),
        (["inspect", "--platform", "bogus", "oci:/tmp"], "invalid --platform"),
        (["verify", "oci-archive:/nonexistent.tar"], "no such file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = _run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.startswith("chainproof: error: ")
    assert message in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_not_a_layout(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = _run(capsys, "verify", f"oci:{tmp_path}")
    assert code == 2
    assert "not an OCI image layout" in err


def test_malformed_manifest_json(capsys: pytest.CaptureFixture[str], linux_layout: Path) -> None:
    index = json.loads((linux_layout / "index.json").read_text())
    digest = index["manifests"][0]["digest"].split(":")[1]
    (linux_layout / "blobs" / "sha256" / digest).write_bytes(b'{"schemaVersion": 2, "lay')
    # The pinned digest no longer matches, so it is an integrity failure (exit 1) ...
    code, out, _ = _run(capsys, "verify", f"oci:{linux_layout}:v1")
    assert code == 1
    assert "digest mismatch" in out
    # ... and with the index updated to the truncated bytes, malformed JSON (exit 2).
    import hashlib

    data = b'{"schemaVersion": 2, "lay'
    new = hashlib.sha256(data).hexdigest()
    (linux_layout / "blobs" / "sha256" / new).write_bytes(data)
    index["manifests"][0].update(digest=f"sha256:{new}", size=len(data))
    (linux_layout / "index.json").write_text(json.dumps(index))
    code, _, err = _run(capsys, "verify", f"oci:{linux_layout}:v1")
    assert code == 2
    assert "malformed JSON" in err


def test_output_file_is_not_written_on_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    output = tmp_path / "out.json"
    code, _, _ = _run(capsys, "verify", "-o", str(output), f"oci:{tmp_path / 'nothing'}")
    assert code == 2
    assert not output.exists()
    assert list(tmp_path.iterdir()) == []


def test_demo_passes_then_fails_naming_the_blob(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "demo", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["as_expected"] is True
    assert data["intact"]["verdict"] == "pass"
    assert data["intact"]["image"]["os_version"] == "10.0.20348.2227"
    assert data["corrupted"]["verdict"] == "fail"
    [failure] = [c for c in data["corrupted"]["checks"] if c["status"] == "fail"]
    assert data["corrupted_blob"] in failure["message"]


@pytest.mark.integration
def test_console_script_has_no_traceback_on_bad_input(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("chainproof")
    result = subprocess.run(
        [str(script), "verify", f"oci:{tmp_path / 'missing'}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("chainproof: error:")
    assert "Traceback" not in result.stderr


def test_verify_without_trust_inputs_skips_signatures(
    capsys: pytest.CaptureFixture[str], windows_layout: Path
) -> None:
    code, out, _ = _run(capsys, "verify", "--format", "json", f"oci:{windows_layout}:ltsc2022")
    assert code == 0
    statuses = {c["id"]: c["status"] for c in json.loads(out)["checks"]}
    assert statuses["signature.verified"] == "skip"
    assert statuses["lint.history"] == "pass"


def test_verify_with_an_unreadable_key_is_bad_input(
    capsys: pytest.CaptureFixture[str], windows_layout: Path, tmp_path: Path
) -> None:
    code, out, err = _run(
        capsys, "verify", "--key", str(tmp_path / "missing.pub"), f"oci:{windows_layout}"
    )
    assert code == 2
    assert out == ""
    assert err.startswith("chainproof: error:")


def test_verify_appends_its_verdict_to_the_audit_log(
    capsys: pytest.CaptureFixture[str], windows_layout: Path, tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = tmp_path / "audit.pem"
    key.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    log = tmp_path / "audit.db"
    code, _, _ = _run(capsys, "audit", "init", "--log", str(log), "--key", str(key))
    assert code == 0
    for _ in range(2):
        code, _, err = _run(capsys, "verify", "--audit-log", str(log), f"oci:{windows_layout}")
        assert code == 0
        assert "audit log entry" in err
    code, out, _ = _run(capsys, "audit", "show", "--log", str(log), "--format", "json")
    assert code == 0
    assert json.loads(out)["shards"][0]["size"] == 3  # shard-start + two verdicts
    for entry in (1, 2):
        code, out, _ = _run(
            capsys, "audit", "show", "--log", str(log), "--entry", str(entry), "--format", "json"
        )
        assert code == 0
        assert "10.0.20348.2227" in out
        assert '"pass"' in out
    code, _, _ = _run(capsys, "audit", "verify", "--log", str(log))
    assert code == 0


def test_verify_checks_selects_families(
    capsys: pytest.CaptureFixture[str], windows_layout: Path
) -> None:
    code, out, _ = _run(
        capsys, "verify", "--format", "json", "--checks", "lint", f"oci:{windows_layout}"
    )
    assert code == 0
    families = {c["id"].split(".")[0] for c in json.loads(out)["checks"]}
    assert families == {"integrity", "lint"}
    code, _, err = _run(capsys, "verify", "--checks", "nonsense", f"oci:{windows_layout}")
    assert code == 2
    assert "unknown check family nonsense" in err


def test_demo_writes_the_sample_layout_and_never_over_a_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "layout"
    code, out, _ = _run(capsys, "demo", "--write-sample", str(target))
    assert code == 0 and f"oci:{target}:ltsc2022" in out
    assert [p.name for p in tmp_path.iterdir()] == ["layout"]  # no scratch left beside it
    code, out, _ = _run(capsys, "verify", f"oci:{target}:ltsc2022", "--format", "json")
    assert code == 0 and json.loads(out)["verdict"] == "pass"
    code, _, err = _run(capsys, "demo", "--write-sample", str(target))
    assert code == 2 and "exists" in err
