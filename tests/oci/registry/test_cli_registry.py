"""`chainproof inspect` / `verify` against the real registry, end to end through the CLI."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from chainproof.cli.main import main
from tests.oci.registry import _servers
from tests.oci.registry.conftest import TestImages, write_authfile

pytestmark = pytest.mark.integration


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_verify_over_plain_http_when_listed(
    capsys: pytest.CaptureFixture[str],
    plain_registry: _servers.RegistryProcess,
    test_images: TestImages,
    tmp_path: Path,
) -> None:
    host = plain_registry.host
    code, out, _ = _run(
        capsys,
        "verify",
        "--format",
        "json",
        "--authfile",
        str(tmp_path / "none.json"),
        "--insecure-registry",
        host,
        f"docker://{host}/team/multi:v1",
        "--platform",
        "windows/amd64:10.0.20348",
    )
    assert code == 0, out
    verdict = json.loads(out)
    assert verdict["verdict"] == "pass"
    assert verdict["image"]["digest"] == test_images.index["digest"]
    assert verdict["image"]["os_version"] == "10.0.20348.2227"
    assert [c["id"] for c in verdict["checks"]][:3] == [
        "integrity.index",
        "integrity.manifest",
        "integrity.config",
    ]


def test_plain_http_refused_unless_listed(
    capsys: pytest.CaptureFixture[str], plain_registry: _servers.RegistryProcess, tmp_path: Path
) -> None:
    code, out, err = _run(
        capsys,
        "inspect",
        "--authfile",
        str(tmp_path / "none.json"),
        f"{plain_registry.host}/team/app:v1",
    )
    assert code == 2
    assert out == ""
    assert err.startswith("chainproof: error:")
    assert "--insecure-registry" in err
    assert err.count("\n") == 1


def test_inspect_over_tls_with_ca_file_and_config_json(
    capsys: pytest.CaptureFixture[str],
    tls_registry: _servers.RegistryProcess,
    ca_file: Path,
    authfile: Path,
    test_images: TestImages,
) -> None:
    token = base64.b64encode(f"{tls_registry.username}:{tls_registry.password}".encode()).decode()
    write_authfile(authfile, {"auths": {tls_registry.host: {"auth": token}}})
    reference = f"{tls_registry.host}/team/app:v1"
    code, out, err = _run(
        capsys,
        "inspect",
        "--format",
        "json",
        "--ca-file",
        str(ca_file),
        "--authfile",
        str(authfile),
        reference,
    )
    assert code == 0, err
    assert json.loads(out)["digest"] == test_images.image["digest"]
    # Without credentials the same registry refuses: exit 2, one line.
    code, _, err = _run(
        capsys,
        "inspect",
        "--ca-file",
        str(ca_file),
        "--authfile",
        str(authfile.with_name("x.json")),
        reference,
    )
    assert code == 2
    assert "chainproof: error:" in err
