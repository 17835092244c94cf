"""Dockerfile and image-history linting that understands PowerShell and cmd as well as sh.

Public API::

    lint_text(text, path) / lint_file(path) / lint_history(image_config) -> list[Finding]
    LintConfig, load_config(path), RULES, Finding

Rules live in :mod:`chainproof.lint.rules` (ids, docs) and :mod:`chainproof.lint.engine`
(detection); the stage/shell model in :mod:`chainproof.lint.unit`.
"""

from __future__ import annotations

from pathlib import Path

from chainproof._files import read_bounded
from chainproof.lint.config import LintConfig
from chainproof.lint.config import load as load_config
from chainproof.lint.engine import run_rules
from chainproof.lint.history import lint_history
from chainproof.lint.model import Finding
from chainproof.lint.parse import MAX_DOCKERFILE_BYTES, parse_bytes, parse_text
from chainproof.lint.rules import RULES, Rule
from chainproof.lint.unit import from_dockerfile

__all__ = [
    "RULES",
    "Finding",
    "LintConfig",
    "Rule",
    "lint_file",
    "lint_history",
    "lint_text",
    "load_config",
]


def lint_text(
    text: str, path: str = "Dockerfile", config: LintConfig | None = None
) -> list[Finding]:
    return run_rules(from_dockerfile(parse_text(text, path)), config or LintConfig())


def lint_bytes(
    data: bytes, path: str = "Dockerfile", config: LintConfig | None = None
) -> list[Finding]:
    return run_rules(from_dockerfile(parse_bytes(data, path)), config or LintConfig())


def lint_file(path: str | Path, config: LintConfig | None = None) -> list[Finding]:
    data = read_bounded(path, "Dockerfile", MAX_DOCKERFILE_BYTES)
    return lint_bytes(data, str(path), config)
