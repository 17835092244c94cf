"""``chainproof lint`` end to end, including ``--image`` on a real OCI layout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chainproof.checks.context import CheckContext
from chainproof.checks.interface import Severity, Status
from chainproof.cli.main import main
from chainproof.lint.check import LintCheck
from chainproof.lint.config import LintConfig
from chainproof.oci.layout_writer import LayerFile, LayoutWriter
from chainproof.oci.open import OpenOptions, open_target

DATA = Path(__file__).parent / "data"
BAD_HISTORY = [
    {"created_by": "Apply image 10.0.20348.2227"},
    {
        "created_by": "powershell -Command $ErrorActionPreference = 'Stop'; "
        "iwr https://get.example.io/install.ps1 -UseBasicParsing | iex"
    },
    {"created_by": "cmd /S /C net user svc Passw0rd! /add"},
]


def write_image(root: Path, history: list[dict[str, str]], user: str) -> str:
    writer = LayoutWriter(root)
    layer = writer.add_layer([LayerFile("Files/app/app.txt", b"hello")])
    descriptor = writer.add_image(
        [layer],
        os="windows",
        os_version="10.0.20348.2227",
        history=history,
        config={"User": user},
        tag="t",
    )
    writer.tag({**descriptor, "annotations": {"org.opencontainers.image.ref.name": "t"}})
    return f"oci:{root}:t"


def test_exit_codes_and_threshold(capsys: pytest.CaptureFixture[str]) -> None:
    clean = str(DATA / "windows/nanoserver-default-user.Dockerfile")
    dirty = str(DATA / "windows/chocolatey-installer.Dockerfile")
    assert main(["lint", clean]) == 0
    assert main(["lint", dirty]) == 1
    assert main(["lint", dirty, "--fail-on", "critical"]) == 1
    assert main(["lint", str(DATA / "windows/iis-site.Dockerfile"), "--fail-on", "critical"]) == 0
    out = capsys.readouterr().out
    assert "chocolatey-installer.Dockerfile:5: CRITICAL CP001 download-execute" in out


def test_several_files_json(capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(DATA / "linux/curl-pipe-sh.Dockerfile"), str(DATA / "linux/rhel-yum.Dockerfile")]
    assert main(["lint", *files, "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["files"] == files
    assert {f["file"] for f in doc["findings"]} == set(files)


def test_sarif_output_is_valid_json(capsys: pytest.CaptureFixture[str]) -> None:
    main(["lint", str(DATA / "windows/defender-lolbins.Dockerfile"), "--format", "sarif"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["version"] == "2.1.0"
    assert {r["ruleId"] for r in doc["runs"][0]["results"]} >= {"CP006", "CP007", "CP013"}


def test_config_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "lint.toml"
    config.write_text('disabled_rules = ["CP017", "CP103"]\nfail_on = "high"\n')
    path = str(DATA / "windows/jenkins-swarm-cmd.Dockerfile")
    assert main(["lint", path, "--config", str(config), "--format", "json"]) == 1
    rules = {f["rule"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert rules == {"CP002"}


def test_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint"]) == 2
    assert main(["lint", "Dockerfile", "--image", "oci:/x"]) == 2
    assert "either DOCKERFILE" in capsys.readouterr().err


def test_lint_image_history(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reference = write_image(tmp_path / "bad", BAD_HISTORY, "")
    assert main(["lint", "--image", reference, "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    found = {(f["rule"], f["line"]) for f in doc["findings"]}
    assert found == {("CP001", 2), ("CP010", 3), ("CP017", 0)}
    good = write_image(tmp_path / "good", BAD_HISTORY[:1], "ContainerUser")
    assert main(["lint", "--image", good]) == 0


def test_lint_image_bad_reference(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--image", f"oci:{tmp_path / 'missing'}:t"]) == 2
    assert capsys.readouterr().err.startswith("chainproof: error: ")


def test_lint_check_results(tmp_path: Path) -> None:
    source, target = open_target(write_image(tmp_path / "img", BAD_HISTORY, ""), OpenOptions())
    try:
        [image] = target.images
        results = list(LintCheck().run(CheckContext(image=image, source=source)))
        strict = list(
            LintCheck(LintConfig(fail_on=Severity.CRITICAL)).run(
                CheckContext(image=image, source=source)
            )
        )
    finally:
        source.close()
    assert {r.id for r in results} == {"lint.CP001", "lint.CP010", "lint.CP017"}
    # Without a config, verify fails on high and above only (CP017 is medium).
    assert {r.id: r.status for r in results} == {
        "lint.CP001": Status.FAIL,
        "lint.CP010": Status.FAIL,
        "lint.CP017": Status.WARN,
    }
    assert {r.id: r.status for r in strict}["lint.CP010"] == Status.WARN
    assert {r.id: r.status for r in strict}["lint.CP001"] == Status.FAIL


def test_lint_check_pass_on_clean_image(tmp_path: Path) -> None:
    source, target = open_target(
        write_image(tmp_path / "ok", BAD_HISTORY[:1], "ContainerUser"), OpenOptions()
    )
    try:
        results = list(LintCheck().run(CheckContext(image=target.images[0], source=source)))
    finally:
        source.close()
    assert [(r.id, r.status) for r in results] == [("lint.history", Status.PASS)]
