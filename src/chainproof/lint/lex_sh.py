"""POSIX sh lexing with bashlex, and a tolerant tokenizer for what bashlex cannot parse.

bashlex gives real structure (lists, pipelines, compound commands, command substitutions). It
rejects some valid scripts (``case``, arithmetic, some here-docs); those are split with
:mod:`shlex` at the control operators instead, which is enough for the rules here.
"""

from __future__ import annotations

import shlex
from typing import Any

from chainproof.lint.model import Command, Pipeline, ShellKind

_OPERATORS = frozenset({";", "&&", "||", "&", "\n", "(", ")", ";;"})


def _name(raw: str) -> str:
    return raw.rsplit("/", 1)[-1].lower()


def _command(node: Any, text: str) -> Command | None:
    words = [p.word for p in node.parts if p.kind == "word"]
    # Leading assignments (FOO=bar cmd) are not the command name.
    while words and "=" in words[0] and not words[0].startswith(("-", "=")):
        words.pop(0)
    if not words:
        return None
    start, end = node.pos
    return Command(
        name=_name(words[0]),
        args=tuple(words[1:]),
        text=text[start:end],
        shell=ShellKind.POSIX,
        raw_name=words[0],
    )


def _bashlex(text: str) -> list[Pipeline]:
    # bashlex builds its yacc grammar on import (~0.3 s): only pay for it when sh is lexed.
    import bashlex

    pipelines: list[Pipeline] = []

    def visit(node: Any) -> None:
        kind = node.kind
        if kind == "pipeline":
            commands = [c for p in node.parts if p.kind == "command" and (c := _command(p, text))]
            if commands:
                pipelines.append(Pipeline(tuple(commands)))
            for p in node.parts:
                _children(p)
            return
        if kind == "command":
            command = _command(node, text)
            if command:
                pipelines.append(Pipeline((command,)))
            _children(node)
            return
        _children(node)

    def _children(node: Any) -> None:
        if node.kind in ("commandsubstitution", "processsubstitution"):
            visit(node.command)
            return
        for attr in ("parts", "list"):
            for child in getattr(node, attr, None) or ():
                visit(child) if child.kind in ("pipeline", "command") else _children(child)

    for tree in bashlex.parse(text):
        visit(tree)
    return pipelines


def _fallback(text: str) -> list[Pipeline]:
    lexer = shlex.shlex(text.replace("\n", " ; "), posix=True, punctuation_chars=";&|()")
    lexer.whitespace_split = True
    lexer.commenters = ""
    pipelines: list[Pipeline] = []
    current: list[Command] = []
    words: list[str] = []

    def flush_command() -> None:
        nonlocal words
        while words and "=" in words[0] and not words[0].startswith("-"):
            words.pop(0)
        if words:
            current.append(
                Command(
                    _name(words[0]), tuple(words[1:]), " ".join(words), ShellKind.POSIX, words[0]
                )
            )
        words = []

    try:
        tokens = list(lexer)
    except ValueError:  # unbalanced quotes: fall back to whitespace
        tokens = text.split()
    for token in tokens:
        if token == "|":  # noqa: S105 - a shell token, not a password
            flush_command()
        elif token in _OPERATORS or set(token) <= set(";&|()"):
            flush_command()
            if current:
                pipelines.append(Pipeline(tuple(current)))
                current = []
        else:
            words.append(token)
    flush_command()
    if current:
        pipelines.append(Pipeline(tuple(current)))
    return pipelines


def lex(text: str) -> list[Pipeline]:
    try:
        return _bashlex(text)
    except Exception:
        return _fallback(text)
