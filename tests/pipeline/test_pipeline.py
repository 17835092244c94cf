"""The whole verify pipeline on one image: layer pass → SBOM → vulnerabilities, plus lint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chainproof.cli.main import main
from chainproof.oci.layout_writer import LayerFile, LayoutWriter


def _windows_image(root: Path, os_version: str) -> str:
    writer = LayoutWriter(root)
    layer = writer.add_layer(
        [
            LayerFile("Files/Windows/System32/drivers/etc/hosts", b"127.0.0.1 localhost\r\n"),
            LayerFile(
                "Files/app/app.deps.json",
                json.dumps(
                    {
                        "targets": {
                            ".NETCoreApp,Version=v8.0": {
                                "Newtonsoft.Json/12.0.3": {
                                    "runtime": {"lib/netstandard2.0/Newtonsoft.Json.dll": {}}
                                }
                            }
                        },
                        "libraries": {"Newtonsoft.Json/12.0.3": {"type": "package", "sha512": "x"}},
                    }
                ).encode(),
            ),
        ]
    )
    writer.tag(
        writer.add_image(
            [layer], os="windows", os_version=os_version, config={"User": "ContainerUser"}, tag="t"
        )
    )
    return f"oci:{root}:t"


@pytest.fixture
def advisory_db(shared_fixtures: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    db = tmp_path / "advisories.db"
    cvrf = next((shared_fixtures / "windows" / "msrc-cvrf").glob("*.xml"))
    osv = shared_fixtures / "windows" / "ghsa-nuget"
    assert main(["db", "import", "--db", str(db), str(cvrf), str(osv)]) == 0
    capsys.readouterr()
    return db


def test_unpatched_windows_build_fails_with_the_fixing_kb(
    advisory_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = _windows_image(tmp_path / "old", "10.0.20348.2159")
    code = main(["verify", "--format", "json", "--vuln-db", str(advisory_db), image])
    verdict = json.loads(capsys.readouterr().out)
    assert code == 1
    failing = [c for c in verdict["checks"] if c["status"] == "fail"]
    assert failing, verdict["checks"]
    assert all(c["id"].startswith("vuln.") for c in failing)
    messages = " ".join(c["message"] for c in failing)
    assert "KB5034129" in messages
    assert "Newtonsoft.Json" in " ".join(c["message"] for c in verdict["checks"])
    ids = [c["id"] for c in verdict["checks"]]
    assert ids.index("sbom.catalog") < ids.index(failing[0]["id"])


def test_patched_build_has_no_os_findings(
    advisory_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = _windows_image(tmp_path / "new", "10.0.20348.2227")
    main(["verify", "--format", "json", "--vuln-db", str(advisory_db), image])
    verdict = json.loads(capsys.readouterr().out)
    assert not [
        c for c in verdict["checks"] if c["id"].startswith("vuln.") and "KB5034129" in c["message"]
    ]


def test_missing_explicit_database_is_an_error_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = _windows_image(tmp_path / "img", "10.0.20348.2227")
    code = main(["verify", "--format", "json", "--vuln-db", str(tmp_path / "nope.db"), image])
    verdict = json.loads(capsys.readouterr().out)
    assert code == 1
    assert [c["id"] for c in verdict["checks"] if c["status"] == "error"] == ["vuln.error"]
