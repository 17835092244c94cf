"""Image history linting: real configs and the created_by forms the builders write."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from chainproof.lint import lint_history
from chainproof.lint.history import build_unit
from chainproof.oci.digest import Digest
from chainproof.oci.model import ImageConfig, parse_config

if TYPE_CHECKING:
    from pathlib import Path


def make_config(history: list[str], os: str = "linux", **config: Any) -> ImageConfig:
    doc = {
        "architecture": "amd64",
        "os": os,
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": []},
        "history": [{"created_by": h} for h in history],
    }
    raw = json.dumps(doc).encode()
    return parse_config(raw, Digest.of(raw))


def rules_at(findings: list[Any]) -> set[tuple[str, int]]:
    return {(f.rule, f.line) for f in findings}


def test_real_dotnet_framework_config(shared_fixtures: Path) -> None:
    raw = (
        shared_fixtures
        / "windows/image-manifests/dotnet-framework-runtime-4.8-ltsc2022.config.json"
    ).read_bytes()
    config = parse_config(raw, Digest.of(raw))
    findings = lint_history(config)
    # history[4] downloads the .NET patch with curl and runs DISM on it, no hash check;
    # the config sets no User, so the Server Core image runs as ContainerAdministrator.
    assert rules_at(findings) == {("CP002", 4), ("CP017", 0)}
    [download] = [f for f in findings if f.rule == "CP002"]
    assert "download.microsoft.com" in download.message
    assert "patch.msu" in download.message


def test_real_nanoserver_config_is_clean(shared_fixtures: Path) -> None:
    raw = (
        shared_fixtures / "windows/image-manifests/lippertmarkus_test-crane_1.0-1909.config.json"
    ).read_bytes()
    assert lint_history(parse_config(raw, Digest.of(raw))) == []


def test_classic_and_buildkit_forms() -> None:
    config = make_config(
        [
            "/bin/sh -c #(nop) ADD file:4b0f0a8f1a in / ",
            '/bin/sh -c #(nop)  CMD ["bash"]',
            "ENV API_TOKEN=abc123def",
            "RUN |1 NPM_TOKEN=npm_0123 /bin/sh -c curl -fsSL "
            "https://get.example.io | sh # buildkit",
            "ADD https://example.com/a.tgz /opt/ # buildkit",
            "EXPOSE map[22/tcp:{} 8080/tcp:{}]",
            "USER root",
        ],
        User="root",
    )
    found = rules_at(lint_history(config))
    assert ("CP105", 3) in found  # ENV secret from the history line
    assert ("CP105", 4) in found  # build arg recorded in the RUN entry
    assert ("CP001", 4) in found
    assert ("CP004", 5) in found
    assert ("CP016", 6) in found
    assert ("CP017", 0) in found


def test_windows_classic_history_with_powershell_shell() -> None:
    config = make_config(
        [
            "Apply image 10.0.20348.2227",
            "cmd /S /C #(nop)  SHELL [powershell -Command $ErrorActionPreference = 'Stop';]",
            "powershell -Command $ErrorActionPreference = 'Stop'; "
            "iex ((New-Object System.Net.WebClient).DownloadString('https://community.chocolatey.org/install.ps1'))",
            "cmd /S /C net user admin P@ss1 /add && net localgroup administrators admin /add",
        ],
        os="windows",
        User="ContainerUser",
    )
    unit = build_unit(config)
    assert [r.shell_argv[0] for r in unit.stages[0].runs] == ["powershell", "cmd"]
    assert rules_at(lint_history(config)) == {("CP001", 3), ("CP010", 4), ("CP011", 4)}


def test_image_config_env_exposed_ports_and_user() -> None:
    config = make_config(
        [],
        os="windows",
        User="ContainerAdministrator",
        Env=["SA_PASSWORD=Hunter2!", "PATH=C:\\Windows"],
        ExposedPorts={"3389/tcp": {}, "80/tcp": {}},
    )
    found = {f.rule: f.message for f in lint_history(config)}
    assert set(found) == {"CP105", "CP016", "CP017"}
    assert "3389" in found["CP016"]


def test_empty_history_and_odd_entries_do_not_crash() -> None:
    config = make_config(["", "#(nop)", "|x", "RUN", "cmd /S /C", "maintainer x"])
    assert [f.rule for f in lint_history(config)] == ["CP017"]
