"""PowerShell lexing with the tree-sitter PowerShell grammar.

Every ``command`` node anywhere in the tree is taken, so commands inside script blocks,
sub-expressions, ``if`` conditions and ``& { … }`` are all seen. Grammar errors do not stop the
walk: whatever parsed is used, which keeps PowerShell out of ShellCheck-style noise.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import tree_sitter
import tree_sitter_powershell

from chainproof.lint.model import Command, Pipeline, ShellKind

if TYPE_CHECKING:
    from collections.abc import Iterator

_SKIP_ARG_NODES = frozenset({"command_argument_sep", "comment"})


@lru_cache(maxsize=1)
def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _text(node: tree_sitter.Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def normalise_name(raw: str) -> str:
    name = _unquote(raw.strip().lstrip("&").strip())
    name = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return name.removesuffix(".exe")


def _command(node: tree_sitter.Node) -> Command | None:
    raw_name = ""
    args: list[str] = []
    for child in node.children:
        if child.type in ("command_name", "command_name_expr"):
            raw_name = _text(child)
        elif child.type == "command_elements":
            for element in child.children:
                if element.type in _SKIP_ARG_NODES:
                    continue
                args.append(_unquote(_text(element).strip()))
    if not raw_name or raw_name.lstrip().startswith(("{", "(", "$")):
        return None
    return Command(
        name=normalise_name(raw_name),
        args=tuple(a for a in args if a),
        text=_text(node),
        shell=ShellKind.POWERSHELL,
        raw_name=_unquote(raw_name.strip()),
    )


def _walk(node: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def lex(text: str) -> list[Pipeline]:
    tree = _parser().parse(text.encode("utf-8"))
    pipelines: list[Pipeline] = []
    for node in _walk(tree.root_node):
        if node.type != "pipeline_chain":
            continue
        commands = [
            c for child in node.children if child.type == "command" and (c := _command(child))
        ]
        if commands:
            pipelines.append(Pipeline(tuple(commands)))
    return pipelines
