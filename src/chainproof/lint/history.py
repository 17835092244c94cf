"""Linting an image without its Dockerfile: the config and the history ``created_by`` lines.

History keeps the full RUN text with the shell that ran it, in the forms the builders write:

* classic builder: ``/bin/sh -c apt-get …``, ``cmd /S /C #(nop)  ENV A=b``,
  ``powershell -Command $ErrorActionPreference = 'Stop'; …``
* BuildKit: ``RUN /bin/sh -c apt-get … # buildkit``, ``ENV A=b``, ``USER x``, ``ADD https://… /x``
* build arguments in scope: ``|2 A=1 B=2 /bin/sh -c …``

Each entry becomes one instruction whose "line" is its 1-based index in the history.
"""

from __future__ import annotations

import re
import shlex
from typing import TYPE_CHECKING

from chainproof.lint import shells
from chainproof.lint.config import LintConfig
from chainproof.lint.engine import run_rules
from chainproof.lint.model import Finding, Instruction
from chainproof.lint.parse import KNOWN_INSTRUCTIONS
from chainproof.lint.unit import Run, Stage, Unit, run_script

if TYPE_CHECKING:
    from chainproof.oci.model import ImageConfig

_ARGS_PREFIX_RE = re.compile(r"^\|(\d+)\s+")
_SHELL_PREFIX_RE = re.compile(
    r"^(?P<shell>/bin/(?:ba)?sh\s+-c|(?:/usr)?/bin/\w*sh\s+(?:-o\s+pipefail\s+)?-c|cmd\s+/S\s+/C|"
    r"cmd\s+/C|(?:powershell|pwsh)(?:\.exe)?\s+(?:-\w+\s+(?:\w+\s+)?)*?-(?:Command|c))\s+",
    re.IGNORECASE,
)
_NOP_RE = re.compile(r"^#\(nop\)\s*")
_BUILDKIT_SUFFIX = " # buildkit"
# Instructions a history line may carry (FROM never appears in history).
_KEYWORDS = KNOWN_INSTRUCTIONS - {"FROM"}


def _split_build_args(text: str) -> tuple[list[str], str]:
    """``|2 A=1 B=2 rest`` → (["A=1", "B=2"], "rest")."""
    m = _ARGS_PREFIX_RE.match(text)
    if not m:
        return [], text
    count = int(m.group(1))
    rest = text[m.end() :]
    pairs: list[str] = []
    for _ in range(count):
        word, _, rest = rest.partition(" ")
        pairs.append(word)
    return pairs, rest


def _instruction(index: int, created_by: str) -> tuple[Instruction, tuple[str, ...] | None] | None:
    """One history entry as an instruction, plus the shell argv for a RUN."""
    text = created_by.strip()
    if text.endswith(_BUILDKIT_SUFFIX):
        text = text[: -len(_BUILDKIT_SUFFIX)].rstrip()
    build_args, text = _split_build_args(text)
    keyword = text.split(" ", 1)[0].upper() if text else ""
    if _SHELL_PREFIX_RE.match(text):
        keyword = ""  # "cmd /S /C …" is the classic builder's RUN, not a CMD instruction
    if keyword == "RUN":
        text = text[4:].lstrip()
        build_args2, text = _split_build_args(text)
        build_args += build_args2
    elif keyword in _KEYWORDS:
        rest = text[len(keyword) :].strip()
        return _simple(index, keyword, rest, build_args), None
    m = _SHELL_PREFIX_RE.match(text)
    if not m:
        return None
    body = text[m.end() :]
    nop = _NOP_RE.match(body)
    if nop:
        rest = body[nop.end() :].strip()
        keyword = rest.split(" ", 1)[0].upper()
        if keyword not in _KEYWORDS:
            return None
        return _simple(index, keyword, rest[len(keyword) :].strip(), build_args), None
    shell_argv = tuple(m.group("shell").split())
    instr = Instruction("RUN", (body,), (), f"RUN {body}", index, index)
    if build_args:
        # Build arguments in scope are recorded in the history: a secret passed with
        # --build-arg leaks here, so check them like ARG instructions.
        return instr, (*shell_argv, "\x00args", *build_args)
    return instr, shell_argv


def _simple(index: int, keyword: str, rest: str, build_args: list[str]) -> Instruction:
    if keyword == "ENV":
        args: tuple[str, ...] = ()
        for word in _safe_split(rest):
            key, _, value = word.partition("=")
            args += (key, value)
    elif keyword == "EXPOSE":
        # classic builder writes "EXPOSE 80/tcp 443/tcp", BuildKit "EXPOSE map[80/tcp:{}]"
        args = tuple(re.findall(r"\d+(?:/\w+)?", rest))
    elif keyword in ("ADD", "COPY"):
        words = _safe_split(rest)
        words = [w for w in words if w not in ("in", "multi")]
        args = tuple(w for w in words if not w.startswith("--"))
        return Instruction(
            keyword,
            args,
            tuple(w for w in words if w.startswith("--")),
            f"{keyword} {rest}",
            index,
            index,
        )
    else:
        args = tuple(_safe_split(rest)) or (rest,)
    return Instruction(keyword, args, (), f"{keyword} {rest}", index, index)


def _safe_split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def build_unit(config: ImageConfig, name: str = "image") -> Unit:
    windows = config.os.lower() == "windows"
    stage = Stage(
        index=0,
        name="",
        base=None,
        base_stage=None,
        from_instr=None,
        windows=windows,
        servercore=windows,  # an empty User on a Windows image runs as ContainerAdministrator
        shell=shells.WINDOWS_DEFAULT_SHELL if windows else shells.LINUX_DEFAULT_SHELL,
    )
    instructions: list[Instruction] = []
    for index, entry in enumerate(config.history, start=1):
        parsed = _instruction(index, entry.created_by)
        if parsed is None:
            continue
        instr, shell_argv = parsed
        instructions.append(instr)
        stage.instructions.append(instr)
        if instr.keyword == "RUN" and shell_argv is not None:
            if "\x00args" in shell_argv:
                cut = shell_argv.index("\x00args")
                arg_instr = Instruction("ARG", shell_argv[cut + 1 :], (), "ARG", index, index)
                stage.instructions.append(arg_instr)
                shell_argv = shell_argv[:cut]
            script, line = run_script(instr, shell_argv)
            stage.runs.append(Run(instr, script, shell_argv, line))
    user = config.config.get("User")
    stage.user = user if isinstance(user, str) else ""
    ports = config.config.get("ExposedPorts")
    if isinstance(ports, dict) and ports:
        stage.instructions.append(
            Instruction("EXPOSE", tuple(str(p) for p in ports), (), "ExposedPorts", 0, 0)
        )
    env = config.config.get("Env")
    if isinstance(env, list):
        # ENV entries of the history already cover the keys they set, with their layer.
        seen = {
            i.args[k]
            for i in stage.instructions
            if i.keyword == "ENV"
            for k in range(0, len(i.args), 2)
        }
        pairs: tuple[str, ...] = ()
        for item in env:
            key, _, value = str(item).partition("=")
            if key not in seen:
                pairs += (key, value)
        stage.instructions.append(Instruction("ENV", pairs, (), "Env", 0, 0))
    shell = config.config.get("Shell")
    if isinstance(shell, list) and shell:
        stage.instructions.append(
            Instruction("SHELL", tuple(str(s) for s in shell), (), "Shell", 0, 0)
        )
    return Unit(file=name, stages=[stage], instructions=tuple(instructions), history=True)


def lint_history(
    config: ImageConfig, lint_config: LintConfig | None = None, name: str = "image"
) -> list[Finding]:
    """Lint an image config: findings point at history entries (``line`` = 1-based index;
    0 for the config itself, e.g. ``Env`` or ``ExposedPorts``)."""
    return run_rules(build_unit(config, name), lint_config or LintConfig())
