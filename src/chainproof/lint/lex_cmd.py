"""A lexer for cmd.exe command lines: ``&``, ``&&``, ``||``, ``|``, ``^`` escapes, quotes, and
``if … ( … ) else ( … )`` / ``for … do …`` blocks. No maintained cmd parser exists on PyPI that
covers what Dockerfiles use, so this is the small part written here.
"""

from __future__ import annotations

import re

from chainproof.lint.model import Command, Pipeline, ShellKind

_IF_RE = re.compile(
    r"^if\s+(?:/i\s+)?(?:not\s+)?(?:exist\s+(?:\"[^\"]*\"|\S+)|errorlevel\s+\S+|defined\s+\S+|"
    r"(?:\"[^\"]*\"|\S+)\s*(?:==|\s(?:equ|neq|lss|leq|gtr|geq)\s)\s*(?:\"[^\"]*\"|\S+))\s*",
    re.IGNORECASE,
)
_FOR_RE = re.compile(r"^for\s+.*?\s+do\b\s*", re.IGNORECASE)


def _split_words(text: str) -> list[str]:
    words: list[str] = []
    current: list[str] = []
    quoted = False
    started = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
            started = True
        elif ch in " \t" and not quoted:
            if started:
                words.append("".join(current))
                current, started = [], False
        else:
            current.append(ch)
            started = True
    if started:
        words.append("".join(current))
    return words


def _opens_block(buf: list[str]) -> bool:
    """cmd treats ``(`` as a block only where a command starts or after if/for/else."""
    head = "".join(buf).strip()
    if not head:
        return True
    lowered = head.lower()
    if lowered.startswith(("if ", "if/", "for ", "else")) or lowered == "else":
        return _strip_control(head) == "" or lowered.rstrip().endswith((" do", " else"))
    return False


def _segments(text: str) -> list[tuple[str, str]]:
    """Split into (segment, operator-after) at &, &&, ||, | and block parentheses."""
    out: list[tuple[str, str]] = []
    buf: list[str] = []
    quoted = False
    depth = 0
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "^" and not quoted and i + 1 < n:
            buf.append(text[i + 1])
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
            buf.append(ch)
        elif not quoted and (
            ch in "&|\n" or (ch == "(" and _opens_block(buf)) or (ch == ")" and depth > 0)
        ):
            op = ch
            depth += 1 if ch == "(" else -1 if ch == ")" else 0
            if ch in "&|" and i + 1 < n and text[i + 1] == ch:
                op = ch * 2
                i += 1
            out.append(("".join(buf), op))
            buf = []
        else:
            buf.append(ch)
        i += 1
    out.append(("".join(buf), ""))
    return out


def _strip_control(segment: str) -> str:
    text = segment.strip().lstrip("@").strip()
    while True:
        m = _IF_RE.match(text) or _FOR_RE.match(text)
        if not m:
            break
        text = text[m.end() :]
    if text.lower() in ("else", "do"):
        return ""
    if text.lower().startswith("else "):
        text = text[5:].strip()
    return text


def command_from_words(words: list[str], text: str, shell: ShellKind) -> Command:
    raw = words[0]
    name = raw.replace("\\", "/").rsplit("/", 1)[-1].lower().removesuffix(".exe")
    return Command(name=name, args=tuple(words[1:]), text=text, shell=shell, raw_name=raw)


def lex(text: str) -> list[Pipeline]:
    pipelines: list[Pipeline] = []
    current: list[Command] = []
    for segment, op in _segments(text):
        body = _strip_control(segment)
        words = _split_words(body)
        if words:
            current.append(command_from_words(words, body, ShellKind.CMD))
        if op != "|" and current:
            pipelines.append(Pipeline(tuple(current)))
            current = []
    if current:
        pipelines.append(Pipeline(tuple(current)))
    return pipelines
