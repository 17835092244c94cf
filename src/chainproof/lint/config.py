"""The linter's configuration file (TOML).

::

    allowed_registries = ["mcr.microsoft.com", "registry.corp"]   # exact host match
    disabled_rules = ["CP103", "apt-unpinned"]                   # ids or names
    fail_on = "medium"                                            # exit 1 at or above
    [severity]
    CP005 = "high"

The keys may also sit under a ``[lint]`` table, so one chainproof config file can hold several.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chainproof._files import read_bounded
from chainproof.checks.interface import Severity
from chainproof.errors import InputError
from chainproof.lint.rules import lookup

_MAX_CONFIG_BYTES = 1024 * 1024


@dataclass(frozen=True)
class LintConfig:
    allowed_registries: tuple[str, ...] = ()
    disabled: frozenset[str] = frozenset()
    severity: dict[str, Severity] = field(default_factory=dict, hash=False)
    fail_on: Severity = Severity.LOW


def _severity(value: Any, where: str) -> Severity:
    try:
        return Severity(str(value).lower())
    except ValueError:
        choices = ", ".join(s.value for s in Severity)
        raise InputError(f"{where}: unknown severity {value!r} (use one of {choices})") from None


def _rule_id(key: Any, where: str) -> str:
    rule = lookup(str(key))
    if rule is None:
        raise InputError(f"{where}: unknown lint rule {key!r}")
    return rule.id


def from_mapping(data: dict[str, Any], where: str = "lint config") -> LintConfig:
    if isinstance(data.get("lint"), dict):
        data = data["lint"]
    known = {"allowed_registries", "disabled_rules", "fail_on", "severity"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InputError(f"{where}: unknown key(s) {', '.join(unknown)}")
    registries = data.get("allowed_registries", [])
    disabled = data.get("disabled_rules", [])
    severity = data.get("severity", {})
    if not isinstance(registries, list) or not all(isinstance(r, str) for r in registries):
        raise InputError(f"{where}: allowed_registries must be a list of host names")
    if not isinstance(disabled, list):
        raise InputError(f"{where}: disabled_rules must be a list of rule ids")
    if not isinstance(severity, dict):
        raise InputError(f"{where}: [severity] must be a table of rule = severity")
    return LintConfig(
        allowed_registries=tuple(r.strip().lower() for r in registries),
        disabled=frozenset(_rule_id(r, where) for r in disabled),
        severity={_rule_id(k, where): _severity(v, where) for k, v in severity.items()},
        fail_on=_severity(data.get("fail_on", "low"), where),
    )


def load(path: str | Path) -> LintConfig:
    return from_mapping(read_mapping(path), str(path))


def read_mapping(path: str | Path) -> dict[str, Any]:
    """The TOML mapping of a lint config file (not yet validated)."""
    p = Path(path)
    raw = read_bounded(p, "lint config", _MAX_CONFIG_BYTES)
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"lint config {p}: not valid TOML ({exc})") from None
