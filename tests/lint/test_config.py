"""The config file: allowed registries, severity overrides, disabled rules, threshold."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from chainproof.checks.interface import Severity
from chainproof.errors import InputError, NotFoundError
from chainproof.lint import lint_text, load_config
from chainproof.lint.config import LintConfig, from_mapping

if TYPE_CHECKING:
    from pathlib import Path


def test_load_toml_with_lint_table(tmp_path: Path) -> None:
    path = tmp_path / "chainproof.toml"
    path.write_text(
        "[lint]\n"
        'allowed_registries = ["MCR.microsoft.com", "registry.corp"]\n'
        'disabled_rules = ["CP103", "apt-unpinned"]\n'
        'fail_on = "high"\n'
        "[lint.severity]\n"
        'execution-policy-bypass = "critical"\n'
    )
    config = load_config(path)
    assert config.allowed_registries == ("mcr.microsoft.com", "registry.corp")
    assert config.disabled == {"CP103", "CP110"}
    assert config.fail_on == Severity.HIGH
    assert config.severity == {"CP005": Severity.CRITICAL}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nope = 1\n", "unknown key"),
        ('disabled_rules = ["CP999"]\n', "unknown lint rule"),
        ('fail_on = "severe"\n', "unknown severity"),
        ("allowed_registries = 3\n", "list of host names"),
        ("this is = not toml =\n", "not valid TOML"),
    ],
)
def test_bad_config_is_an_input_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        load_config(path)


def test_missing_config(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        load_config(tmp_path / "absent.toml")


@pytest.mark.parametrize(
    ("image", "allowed"),
    [
        ("registry.corp/team/app:1.0", True),
        ("registry.corp.evil.io/team/app:1.0", False),
        ("evil.io/registry.corp/app:1.0", False),
        ("mcr.microsoft.com/windows/servercore:ltsc2022", True),
        ("ubuntu:24.04", False),  # Docker Hub, normalised to docker.io
        ("registry.corp:5000/app:1", False),  # a different host:port
    ],
)
def test_registry_allowlist_is_an_exact_host_match(image: str, allowed: bool) -> None:
    config = from_mapping({"allowed_registries": ["registry.corp", "mcr.microsoft.com"]})
    findings = lint_text(f"FROM {image}\nUSER app\n", config=config)
    assert ("CP104" not in {f.rule for f in findings}) is allowed


def test_docker_hub_can_be_allowed_by_name() -> None:
    config = from_mapping({"allowed_registries": ["docker.io"]})
    assert "CP104" not in {f.rule for f in lint_text("FROM ubuntu:24.04\nUSER a\n", config=config)}


def test_allowlist_applies_to_copy_from_images() -> None:
    config = from_mapping({"allowed_registries": ["registry.corp"]})
    text = "FROM registry.corp/base:1\nCOPY --from=ghcr.io/x/tools:1 /t /t\nUSER a\n"
    assert [f.line for f in lint_text(text, config=config) if f.rule == "CP104"] == [2]


def test_severity_override_and_disabled_rule() -> None:
    text = "FROM ubuntu:24.04\nUSER root\n"
    base = {f.rule: f.severity for f in lint_text(text)}
    assert base == {"CP103": Severity.LOW, "CP017": Severity.MEDIUM}
    config = LintConfig(disabled=frozenset({"CP103"}), severity={"CP017": Severity.HIGH})
    assert {f.rule: f.severity for f in lint_text(text, config=config)} == {"CP017": Severity.HIGH}
