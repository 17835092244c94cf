"""Which shell runs a RUN, and turning its text into commands, through nested shells.

``powershell -Command "…"`` inside cmd, ``cmd /S /C …`` inside PowerShell, ``sh -c '…'`` and
``-EncodedCommand <base64>`` are lexed again with the inner shell's lexer, so every rule sees
the commands that really run.
"""

from __future__ import annotations

import base64
import binascii

from chainproof.lint import lex_cmd, lex_powershell, lex_sh
from chainproof.lint.model import Command, Pipeline, Script, ShellKind

WINDOWS_DEFAULT_SHELL = ("cmd", "/S", "/C")
LINUX_DEFAULT_SHELL = ("/bin/sh", "-c")
_MAX_NESTING = 4
_POSIX_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "busybox"})
_PS_NAMES = frozenset({"powershell", "pwsh"})


def program_name(word: str) -> str:
    return word.replace("\\", "/").rsplit("/", 1)[-1].lower().removesuffix(".exe")


def kind_of(argv: tuple[str, ...]) -> ShellKind:
    if not argv:
        return ShellKind.OTHER
    name = program_name(argv[0])
    if name in _PS_NAMES:
        return ShellKind.POWERSHELL
    if name == "cmd":
        return ShellKind.CMD
    if name in _POSIX_SHELLS:
        return ShellKind.POSIX
    return ShellKind.OTHER


def _lex(text: str, kind: ShellKind) -> list[Pipeline]:
    if kind == ShellKind.POWERSHELL:
        return lex_powershell.lex(text)
    if kind == ShellKind.CMD:
        return lex_cmd.lex(text)
    if kind == ShellKind.POSIX:
        return lex_sh.lex(text)
    return []


def _decode_encoded(value: str) -> str | None:
    try:
        return base64.b64decode(value, validate=True).decode("utf-16-le")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def _ps_matches(arg: str, full: str, shortest: int) -> bool:
    """PowerShell accepts any unambiguous prefix of a parameter (``-enc``, ``-Comm``)."""
    a = arg.lower().lstrip("-/")
    return (arg.startswith(("-", "/"))) and shortest <= len(a) <= len(full) and full.startswith(a)


def inner_script(command: Command) -> tuple[ShellKind, str] | None:
    """The script a shell command runs, if ``command`` is itself a shell invocation."""
    name = command.name
    args = list(command.args)
    if name in _PS_NAMES:
        for i, arg in enumerate(args):
            if arg.lower() in ("-e", "-ec") or _ps_matches(arg, "encodedcommand", 3):
                if i + 1 < len(args) and (decoded := _decode_encoded(args[i + 1])) is not None:
                    return ShellKind.POWERSHELL, decoded
                return None
            if arg.lower() == "-c" or _ps_matches(arg, "command", 2):
                rest = " ".join(args[i + 1 :]).strip()
                if rest.startswith("{") and rest.endswith("}"):
                    rest = rest[1:-1]
                return ShellKind.POWERSHELL, rest
        return None
    if name == "cmd":
        for i, arg in enumerate(args):
            if arg.lower() in ("/c", "/k"):
                return ShellKind.CMD, " ".join(args[i + 1 :])
        return None
    if name in _POSIX_SHELLS:
        for i, arg in enumerate(args):
            is_c = arg == "-c" or (
                arg.startswith("-") and not arg.startswith("--") and arg.endswith("c")
            )
            if is_c and i + 1 < len(args):
                return ShellKind.POSIX, args[i + 1]
        return None
    return None


_WRAPPERS = frozenset({"sudo", "env", "nohup", "time", "exec", "nice", "doas"})
_WRAPPER_VALUE_FLAGS = frozenset({"-u", "-g", "-n", "-C", "-h", "-p", "-U"})


def _unwrap(command: Command) -> Command:
    """``sudo -E apt-get …`` → ``apt-get …``: wrappers run the command that follows them."""
    if command.name not in _WRAPPERS:
        return command
    args = list(command.args)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in _WRAPPER_VALUE_FLAGS:
            i += 2
        elif arg.startswith("-") or (command.name == "env" and "=" in arg):
            i += 1
        else:
            break
    if i >= len(args):
        return command
    rest = args[i:]
    return Command(program_name(rest[0]), tuple(rest[1:]), command.text, command.shell, rest[0])


def _expand(pipelines: list[Pipeline], depth: int) -> list[Pipeline]:
    out: list[Pipeline] = []
    for original in pipelines:
        pipeline = Pipeline(tuple(_unwrap(c) for c in original.commands))
        out.append(pipeline)
        if depth >= _MAX_NESTING:
            continue
        for command in pipeline.commands:
            inner = inner_script(command)
            if inner is not None and inner[1].strip():
                out += _expand(_lex(inner[1], inner[0]), depth + 1)
    return out


def lex_script(text: str, kind: ShellKind) -> Script:
    return Script(kind, text, tuple(_expand(_lex(text, kind), 0)))


def lex_exec(argv: tuple[str, ...]) -> Script:
    """JSON-form RUN: the argv is one command; a shell in it is lexed further."""
    if not argv:
        return Script(ShellKind.EXEC, "", ())
    command = Command(
        name=program_name(argv[0]),
        args=argv[1:],
        text=" ".join(argv),
        shell=ShellKind.EXEC,
        raw_name=argv[0],
    )
    return Script(ShellKind.EXEC, command.text, tuple(_expand([Pipeline((command,))], 0)))
