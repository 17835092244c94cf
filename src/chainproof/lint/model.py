"""The values the linter works on: instructions, shell commands and findings."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from chainproof.checks.interface import Severity


class ShellKind(enum.StrEnum):
    POSIX = "sh"
    CMD = "cmd"
    POWERSHELL = "powershell"
    #: A shell we have no lexer for (e.g. ``SHELL ["python", "-c"]``): only text rules apply.
    OTHER = "other"
    #: JSON-form ``RUN [...]``: no shell at all, the argv is the command.
    EXEC = "exec"


@dataclass(frozen=True)
class Heredoc:
    name: str
    content: str


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction (or one image-history entry, seen as an instruction)."""

    keyword: str  # upper-case: FROM, RUN, ...
    args: tuple[str, ...]  # as BuildKit's parser splits them (shell form: one string)
    flags: tuple[str, ...]  # --from=..., --checksum=...
    original: str  # the instruction text after line-continuation joining
    line: int  # 1-based first line (history: 1-based entry index)
    end_line: int
    json: bool = False
    heredocs: tuple[Heredoc, ...] = ()
    sub_keyword: str = ""  # ONBUILD's inner instruction

    def flag(self, name: str) -> str | None:
        """The value of ``--name=value`` (``""`` for a bare ``--name``), or None."""
        prefix = f"--{name}"
        for item in self.flags:
            if item == prefix:
                return ""
            if item.startswith(prefix + "="):
                return item[len(prefix) + 1 :]
        return None


@dataclass(frozen=True)
class Command:
    """One simple command out of a shell script, whatever the shell's syntax."""

    name: str  # normalised: lower-case, no directory, no .exe
    args: tuple[str, ...]  # words with quotes removed
    text: str  # source text of the command
    shell: ShellKind
    raw_name: str = ""  # as written (``curl.exe`` vs ``curl`` matters in PowerShell)

    @property
    def lower_args(self) -> tuple[str, ...]:
        return tuple(a.lower() for a in self.args)


@dataclass(frozen=True)
class Pipeline:
    """Commands joined by ``|``; a lone command is a pipeline of one."""

    commands: tuple[Command, ...]


@dataclass(frozen=True)
class Script:
    """What one RUN executes: its pipelines, flattened across nested shells."""

    shell: ShellKind
    text: str
    pipelines: tuple[Pipeline, ...]

    def commands(self) -> list[Command]:
        return [c for p in self.pipelines for c in p.commands]


@dataclass(frozen=True)
class Finding:
    rule: str  # stable id, e.g. CP001
    name: str  # slug, e.g. download-execute
    severity: Severity
    message: str
    file: str
    line: int
    end_line: int
    suppressed: str | None = None  # the justification of an inline suppression
    evidence: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule,
            "name": self.name,
            "severity": str(self.severity),
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "end_line": self.end_line,
        }
        if self.suppressed is not None:
            out["suppressed"] = self.suppressed
        if self.evidence:
            out["evidence"] = self.evidence
        return out


SEVERITY_ORDER = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}
