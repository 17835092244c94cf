"""The build as the rules see it: stages, their base, platform, effective shell and user.

Built from a parsed Dockerfile (:func:`from_dockerfile`) or from an image's history
(:mod:`chainproof.lint.history`), so every rule runs over both the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from chainproof.lint import shells
from chainproof.lint.model import Instruction, Script, ShellKind
from chainproof.lint.parse import ParsedDockerfile, Suppression

_WINDOWS_BASE_RE = re.compile(
    r"windowsservercore|nanoserver|servercore|mcr\.microsoft\.com/windows|microsoft/windows|"
    r"dotnet/framework|windows-host-process|hostprocess|ltsc20\d\d|[-:/_]windows\b|\bwindows[-:]",
    re.IGNORECASE,
)
#: Bases whose default user is ContainerAdministrator (Nano Server defaults to ContainerUser).
_SERVERCORE_RE = re.compile(
    r"servercore|mcr\.microsoft\.com/windows/server(?:[:@]|$)|mcr\.microsoft\.com/windows(?:[:@]|$)|"
    r"dotnet/framework/",
    re.IGNORECASE,
)
_VAR_RE = re.compile(
    r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))"
)


@dataclass
class Run:
    instr: Instruction
    script: Script
    shell_argv: tuple[str, ...]
    #: heredoc bodies start on the line after the instruction; shell form on its first line
    text_line: int


@dataclass
class Stage:
    index: int
    name: str
    base: str | None  # expanded image reference; None for an earlier stage or unknown
    base_stage: int | None
    from_instr: Instruction | None
    windows: bool
    servercore: bool
    shell: tuple[str, ...]
    #: whether a SHELL instruction (or pragma) chose the shell, rather than the platform default
    shell_explicit: bool = False
    user: str | None = None
    user_instr: Instruction | None = None
    runs: list[Run] = field(default_factory=list)
    instructions: list[Instruction] = field(default_factory=list)
    #: ARG and ENV values known at this point of the stage (for ``USER ${user}``)
    variables: dict[str, str] = field(default_factory=dict)


@dataclass
class Unit:
    file: str
    stages: list[Stage]
    instructions: tuple[Instruction, ...]
    lines: tuple[str, ...] = ()
    suppressions: dict[int, Suppression] = field(default_factory=dict)
    dangling: bool = False
    #: built from image history: an instruction's "line" is its index in the history
    history: bool = False
    #: ARG defaults declared before the first FROM (used to expand FROM and COPY --from)
    global_args: dict[str, str] = field(default_factory=dict)


def expand(text: str, variables: dict[str, str]) -> str:
    """Expand ``$V``, ``${V}``, ``${V:-d}``, ``${V:+a}`` where the value is known."""

    def repl(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(4)
        value = variables.get(name)
        op, word = m.group(2), m.group(3) or ""
        if op == "-":
            return value if value else word
        if op == "+":
            return word if value else ""
        return value if value is not None else m.group(0)

    return _VAR_RE.sub(repl, text)


def is_windows_image(image: str) -> bool:
    return bool(_WINDOWS_BASE_RE.search(image))


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def arg_pairs(instr: Instruction) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for item in instr.args:
        name, eq, value = item.partition("=")
        out.append((name, _unquote(value) if eq else None))
    return out


def env_pairs(instr: Instruction) -> list[tuple[str, str]]:
    values = list(instr.args)
    return [(values[i], _unquote(values[i + 1])) for i in range(0, len(values) - 1, 2)]


def run_script(instr: Instruction, shell_argv: tuple[str, ...]) -> tuple[Script, int]:
    """The script a RUN executes under ``shell_argv`` and the line its text starts on."""
    if instr.heredocs:
        body = "\n".join(h.content for h in instr.heredocs)
        first = body.lstrip().splitlines()[0] if body.strip() else ""
        kind = None
        if first.startswith("#!"):
            words = first[2:].split()
            if words and shells.program_name(words[0]) == "env":
                words = words[1:]
            kind = shells.kind_of(tuple(words))
        return shells.lex_script(body, kind or shells.kind_of(shell_argv)), instr.line + 1
    if instr.json:
        return shells.lex_exec(instr.args), instr.line
    text = instr.args[0] if instr.args else ""
    return shells.lex_script(text, shells.kind_of(shell_argv)), instr.line


_PS_SYNTAX_RE = re.compile(
    r"^\s*\$[A-Za-z_][\w:]*\s*=|\$env:\w|\b(?:Get|Set|New|Remove|Invoke|Write|Install|Add|Start|"
    r"Expand|Import|Test)-[A-Z][A-Za-z]+\b|\[[A-Za-z.]+\]::"
)


def _looks_like_powershell(instr: Instruction) -> bool:
    if instr.json or instr.heredocs or not instr.args:
        return False
    text = instr.args[0]
    first = text.split(None, 1)[0].lower() if text.strip() else ""
    if first in ("powershell", "powershell.exe", "pwsh", "pwsh.exe", "cmd", "cmd.exe"):
        return False
    return bool(_PS_SYNTAX_RE.search(text))


def _initial_shell(windows: bool, pragma: str) -> tuple[tuple[str, ...], bool]:
    if pragma:
        kind = shells.kind_of((pragma,))
        if kind == ShellKind.POWERSHELL:
            return (pragma, "-Command"), True
        if kind == ShellKind.CMD:
            return (pragma, "/S", "/C"), True
        return (pragma, "-c"), True
    return (shells.WINDOWS_DEFAULT_SHELL if windows else shells.LINUX_DEFAULT_SHELL), False


def from_dockerfile(parsed: ParsedDockerfile) -> Unit:
    stages: list[Stage] = []
    by_name: dict[str, int] = {}
    global_args: dict[str, str] = {}
    escape_hint = parsed.escape == "`"
    for instr in parsed.instructions:
        keyword = instr.keyword
        if keyword == "FROM":
            image = expand(instr.args[0], global_args) if instr.args else ""
            name = instr.args[2] if len(instr.args) >= 3 and instr.args[1].lower() == "as" else ""
            parent = by_name.get(image.lower())
            if parent is None and image.isdigit() and int(image) < len(stages):
                parent = int(image)
            if parent is not None:
                p = stages[parent]
                stage = Stage(
                    index=len(stages),
                    name=name,
                    base=None,
                    base_stage=parent,
                    from_instr=instr,
                    windows=p.windows,
                    servercore=p.servercore,
                    shell=p.shell,
                    shell_explicit=p.shell_explicit,
                    user=p.user,
                    user_instr=p.user_instr,
                    variables=dict(p.variables),
                )
            else:
                windows = is_windows_image(image) or escape_hint
                shell, explicit = _initial_shell(windows, parsed.shell_pragma)
                stage = Stage(
                    index=len(stages),
                    name=name,
                    base=image if image else None,
                    base_stage=None,
                    from_instr=instr,
                    windows=windows,
                    servercore=windows and bool(_SERVERCORE_RE.search(image)),
                    shell=shell,
                    shell_explicit=explicit,
                )
            stages.append(stage)
            if name:
                by_name[name.lower()] = stage.index
            continue
        if not stages:
            if keyword == "ARG":
                for key, value in arg_pairs(instr):
                    if value is not None:
                        global_args[key] = value
            continue
        stage = stages[-1]
        stage.instructions.append(instr)
        if keyword == "SHELL" and instr.args:
            stage.shell = instr.args
            stage.shell_explicit = True
            if shells.kind_of(instr.args) in (ShellKind.POWERSHELL, ShellKind.CMD):
                # A Windows shell on an unrecognised base tells us the platform.
                stage.windows = True
        elif keyword == "USER" and instr.args:
            stage.user, stage.user_instr = expand(instr.args[0], stage.variables), instr
        elif keyword == "ARG":
            for key, value in arg_pairs(instr):
                known = value if value is not None else global_args.get(key)
                if known is not None:
                    stage.variables[key] = known
        elif keyword == "ENV":
            stage.variables.update(env_pairs(instr))
        elif keyword == "RUN" or (keyword == "ONBUILD" and instr.sub_keyword == "RUN"):
            shell = stage.shell
            if stage.windows and not stage.shell_explicit and _looks_like_powershell(instr):
                # Base images can set SHELL in their config (jenkins/inbound-agent, the
                # PowerShell images); the Dockerfile does not show it, the RUN text does.
                shell = ("powershell", "-Command")
            script, line = run_script(instr, shell)
            stage.runs.append(Run(instr, script, shell, line))
    return Unit(
        file=parsed.path,
        stages=stages,
        instructions=parsed.instructions,
        lines=parsed.lines,
        suppressions=parsed.suppressions,
        dangling=parsed.dangling_continuation,
        global_args=global_args,
    )
