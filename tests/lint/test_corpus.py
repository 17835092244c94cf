"""The corpus: every file's findings must be exactly the expected [rule, line] set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chainproof.lint import RULES, lint_file

DATA = Path(__file__).parent / "data"
EXPECTED: dict[str, list[list[object]]] = json.loads((DATA / "expected.json").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_file_findings_exact(name: str) -> None:
    findings = lint_file(DATA / name)
    got = sorted(
        [f.rule, f.line, "suppressed"] if f.suppressed else [f.rule, f.line] for f in findings
    )
    assert got == sorted(EXPECTED[name])


def test_corpus_lists_every_file() -> None:
    on_disk = {str(p.relative_to(DATA)) for p in DATA.glob("*/*.Dockerfile")}
    assert on_disk == set(EXPECTED)


def test_corpus_covers_every_rule_but_config_and_bad_input_ones() -> None:
    hit = {str(item[0]) for items in EXPECTED.values() for item in items}
    # CP104 needs an allowlist (tests/lint/test_config.py); CP900/CP901 need broken input
    # (tests/lint/test_bad_input.py).
    assert set(RULES) - hit == {"CP104", "CP900", "CP901"}


@pytest.mark.parametrize(
    "name",
    [
        "windows/dotnet-runtime-hashchecked.Dockerfile",
        "windows/python-windows.Dockerfile",
        "windows/nanoserver-default-user.Dockerfile",
        "windows/cmd-shell-ok.Dockerfile",
        "linux/python-app-clean.Dockerfile",
    ],
)
def test_official_shapes_stay_clean(name: str) -> None:
    assert lint_file(DATA / name) == []


def test_windows_corpus_has_no_shellcheck_style_noise() -> None:
    # No sh-only rule may fire on a Windows Dockerfile (the hadolint failure mode).
    linux_only = {r.id for r in RULES.values() if r.scope == "linux"}
    for path in (DATA / "windows").glob("*.Dockerfile"):
        assert not [f for f in lint_file(path) if f.rule in linux_only], path.name
