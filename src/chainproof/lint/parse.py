"""Dockerfile parsing with BuildKit's own grammar (the ``dockerfile`` package wraps it).

BuildKit handles the ``# escape=`` directive, continuations, heredocs and JSON/shell forms. It
drops comments, so the inline suppressions (``# chainproof ignore=RULE reason``) are read from
the raw lines here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import dockerfile as _bk

from chainproof.errors import MalformedError
from chainproof.lint.model import Heredoc, Instruction

#: Real Dockerfiles are kilobytes; BuildKit's parser holds the whole text, so bound it.
MAX_DOCKERFILE_BYTES = 4 * 1024 * 1024

KNOWN_INSTRUCTIONS = frozenset(
    [
        "ADD",
        "ARG",
        "CMD",
        "COPY",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "FROM",
        "HEALTHCHECK",
        "LABEL",
        "MAINTAINER",
        "ONBUILD",
        "RUN",
        "SHELL",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
        "WORKDIR",
    ]
)

_SUPPRESS_RE = re.compile(
    r"^\s*#\s*chainproof\s+ignore\s*=\s*([A-Za-z0-9_,\-\s]*?[A-Za-z0-9_-])(?:\s+(.*))?$",
    re.IGNORECASE,
)
_SHELL_PRAGMA_RE = re.compile(
    r"^\s*#\s*(?:hadolint|chainproof)\s+shell\s*=\s*(\S+)\s*$", re.IGNORECASE
)
_DIRECTIVE_RE = re.compile(r"^\s*#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")


@dataclass(frozen=True)
class Suppression:
    rules: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class ParsedDockerfile:
    path: str
    instructions: tuple[Instruction, ...]
    escape: str
    lines: tuple[str, ...]
    #: suppressions that apply to the instruction starting at the given line
    suppressions: dict[int, Suppression]
    #: the last line ends with the escape character (file cut short)
    dangling_continuation: bool
    #: ``# chainproof shell=powershell`` (or hadolint's spelling): the shell the base image sets
    shell_pragma: str = ""


def _decode(data: bytes, path: str) -> str:
    if len(data) > MAX_DOCKERFILE_BYTES:
        raise MalformedError(
            f"{path}: Dockerfile is {len(data)} bytes, over the {MAX_DOCKERFILE_BYTES} byte limit"
        )
    if b"\x00" in data:
        raise MalformedError(f"{path}: not a Dockerfile (binary content)")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedError(f"{path}: not UTF-8 text (byte {exc.start})") from None


def _escape_directive(lines: list[str]) -> str:
    """BuildKit reads parser directives only at the very top, before any other line."""
    for line in lines:
        m = _DIRECTIVE_RE.match(line)
        if not m:
            break
        if m.group(1).lower() == "escape":
            return m.group(2)
    return "\\"


def _suppressions(lines: list[str], starts: list[int]) -> dict[int, Suppression]:
    out: dict[int, Suppression] = {}
    for start in starts:
        rules: list[str] = []
        reasons: list[str] = []
        i = start - 2  # the line just above, 0-based
        while i >= 0 and lines[i].lstrip().startswith("#"):
            m = _SUPPRESS_RE.match(lines[i])
            if m:
                rules += [r.strip() for r in m.group(1).split(",") if r.strip()]
                if m.group(2):
                    reasons.append(m.group(2).strip())
            i -= 1
        if rules:
            out[start] = Suppression(tuple(rules), "; ".join(reasons) or "suppressed inline")
    return out


def parse_text(text: str, path: str = "Dockerfile") -> ParsedDockerfile:
    lines = text.splitlines()
    try:
        commands = _bk.parse_string(text)
    except _bk.GoParseError as exc:
        raise MalformedError(f"{path}: {exc}") from None
    instructions = tuple(
        Instruction(
            keyword=c.cmd.upper(),
            args=tuple(c.value or ()),
            flags=tuple(c.flags or ()),
            original=c.original,
            line=c.start_line,
            end_line=c.end_line,
            json=c.json,
            heredocs=tuple(Heredoc(h.name, h.content) for h in c.heredocs),
            sub_keyword=(c.sub_cmd or "").upper(),
        )
        for c in commands
        # BuildKit yields a node without a command for a lone escape character.
        if c.cmd
    )
    if not instructions:
        raise MalformedError(f"{path}: file with no instructions")
    escape = _escape_directive(lines)
    content = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    dangling = bool(content) and content[-1].rstrip().endswith(escape)
    return ParsedDockerfile(
        path=path,
        instructions=instructions,
        escape=escape,
        lines=tuple(lines),
        suppressions=_suppressions(lines, [i.line for i in instructions]),
        dangling_continuation=dangling,
        shell_pragma=next((m.group(1) for ln in lines if (m := _SHELL_PRAGMA_RE.match(ln))), ""),
    )


def parse_bytes(data: bytes, path: str = "Dockerfile") -> ParsedDockerfile:
    return parse_text(_decode(data, path), path)
