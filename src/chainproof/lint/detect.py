"""Recognisers for what commands do: download, verify, execute. Shared by several rules."""

from __future__ import annotations

import re
from dataclasses import dataclass

from chainproof.lint.model import Command, ShellKind

URL_RE = re.compile(r"(?i)\b(?:https?|ftp)://[^\s'\"`)<>|;,]+")
_HOST_RE = re.compile(r"(?i)^(?:https?|ftp)://(?:[^@/]*@)?([^/:?#]+)")
#: files that are themselves checksums or signatures of another download
CHECKSUM_URL_RE = re.compile(
    r"(?i)(sha(1|256|384|512)(sums?)?|checksums?|\.asc|\.sig|\.sign|\.md5|\.minisig|sums?)(\.txt)?$"
)

PS_DOWNLOADERS = frozenset(
    {"invoke-webrequest", "iwr", "invoke-restmethod", "irm", "start-bitstransfer"}
)
EXECUTORS = frozenset(
    {
        "iex",
        "invoke-expression",
        "sh",
        "bash",
        "dash",
        "ash",
        "zsh",
        "ksh",
        "python",
        "python2",
        "python3",
        "perl",
        "ruby",
        "node",
        "powershell",
        "pwsh",
        "cmd",
        "php",
    }
)
ARCHIVE_CONSUMERS = frozenset({"tar", "unzip", "gunzip", "bsdtar", "xz", "bunzip2", "zcat", "cpio"})
HASH_COMMANDS = frozenset(
    {
        "get-filehash",
        "sha256sum",
        "sha512sum",
        "sha384sum",
        "sha1sum",
        "shasum",
        "b2sum",
        "md5sum",
        "get-authenticodesignature",
        "gpgv",
        "minisign",
        "signify",
    }
)
SIGNATURE_COMMANDS = frozenset({"gpg", "gpgv", "get-authenticodesignature", "cosign", "minisign"})


@dataclass(frozen=True)
class Download:
    command: Command
    url: str
    #: where the content goes: a file path, "-" for stdout, "" when unknown
    output: str


def host(url: str) -> str:
    m = _HOST_RE.match(url)
    return m.group(1).lower() if m else ""


def option_value(args: tuple[str, ...], *names: str) -> str | None:
    """The value of the first of ``names`` (``-Uri x``, ``-Uri:x``, ``--output=x``)."""
    lowered = [a.lower() for a in args]
    for i, arg in enumerate(lowered):
        for name in names:
            if arg == name and i + 1 < len(args):
                return args[i + 1]
            if arg.startswith(name + "=") or arg.startswith(name + ":"):
                return args[i][len(name) + 1 :]
    return None


def _first_url(args: tuple[str, ...]) -> str:
    for arg in args:
        m = URL_RE.search(arg)
        if m:
            return m.group(0)
    for arg in args:
        if arg.startswith(("$", "%")) and not arg.startswith("-"):
            return arg
    return ""


def is_ps_web_cmdlet(command: Command) -> bool:
    """Invoke-WebRequest and its aliases; Windows PowerShell also maps bare curl/wget to it."""
    if command.name in PS_DOWNLOADERS:
        return True
    return (
        command.shell == ShellKind.POWERSHELL
        and command.name in ("curl", "wget")
        and not command.raw_name.lower().endswith(".exe")
    )


def download(command: Command) -> Download | None:
    args = command.args
    if is_ps_web_cmdlet(command):
        url = option_value(args, "-uri", "-source", "-u") or _first_url(args)
        out = option_value(args, "-outfile", "-destination", "-o") or "-"
        return Download(command, url, out)
    name = command.name
    if name == "curl":
        out = "-"
        for i, arg in enumerate(args):
            if arg in ("-o", "--output") or (
                arg.startswith("-") and not arg.startswith("--") and arg.endswith("o")
            ):
                out = args[i + 1] if i + 1 < len(args) else ""
            elif arg.startswith("--output="):
                out = arg.split("=", 1)[1]
            elif arg == "--remote-name" or (
                arg.startswith("-") and not arg.startswith("--") and "O" in arg
            ):
                out = ""
        url = _first_url(args)
        if out == "" and url:
            out = url.rsplit("/", 1)[-1]
        return Download(command, url, out)
    if name == "wget":
        url = _first_url(args)
        out = url.rsplit("/", 1)[-1] if url else ""
        for i, arg in enumerate(args):
            if arg == "--output-document":
                out = args[i + 1] if i + 1 < len(args) else ""
            elif arg.startswith("--output-document="):
                out = arg.split("=", 1)[1]
            elif arg.startswith("-") and not arg.startswith("--") and "O" in arg:
                rest = arg[arg.index("O") + 1 :]
                out = rest or (args[i + 1] if i + 1 < len(args) else "")
        return Download(command, url, out)
    if name in ("aria2c", "fetch"):
        return Download(command, _first_url(args), "")
    if name == "certutil" and any(a.lower() in ("-urlcache", "/urlcache") for a in args):
        positional = [a for a in args if not a.startswith(("-", "/"))]
        return Download(command, _first_url(args), positional[-1] if len(positional) > 1 else "")
    if name == "bitsadmin" and any(a.lower() in ("/transfer", "/addfile") for a in args):
        positional = [a for a in args if not a.startswith("/")]
        return Download(command, _first_url(args), positional[-1] if positional else "")
    return None


_CODE_FLAGS = frozenset(
    {"-c", "-m", "-e", "-command", "-file", "-f", "/c", "/k", "-encodedcommand", "-enc", "-r"}
)


def reads_script_from_stdin(command: Command) -> bool:
    """Whether an interpreter in a pipeline runs what it reads (``| sh``, ``| python3 -``,
    ``| bash -s -- x``) rather than a script or code given on its command line."""
    if command.name in ("iex", "invoke-expression"):
        return True
    for arg in command.args:
        low = arg.lower()
        if low in ("-", "-s", "--"):
            return True
        if low in _CODE_FLAGS or not arg.startswith("-"):
            return False
    return True


def is_hash_check(command: Command) -> bool:
    name = command.name
    if name in HASH_COMMANDS:
        return True
    lowered = command.lower_args
    if name == "certutil" and "-hashfile" in lowered:
        return True
    if name == "gpg" and any(a in ("--verify", "--verify-files") for a in lowered):
        return True
    return name == "cosign" and bool(lowered) and lowered[0].startswith("verify")


def is_signature_check(command: Command) -> bool:
    return command.name in SIGNATURE_COMMANDS and is_hash_check(command)


_TEXT_HASH_RE = re.compile(
    r"(?i)get-filehash|sha(1|256|384|512)sum|-hashfile|gpgv?\s+(--batch\s+)?--verify|"
    r"get-authenticodesignature|--checksum|\.ComputeHash\("
)
_TEXT_SIG_RE = re.compile(
    r"(?i)gpgv?\s+(--batch\s+)?--verify|get-authenticodesignature|cosign\s+verify"
)


def text_has_hash_check(text: str) -> bool:
    return bool(_TEXT_HASH_RE.search(text))


def text_has_signature_check(text: str) -> bool:
    return bool(_TEXT_SIG_RE.search(text))


_DL_FILE_RE = re.compile(
    r"(?i)\.DownloadFile(?:Async)?\(\s*(['\"]?)([^'\",)]+)\1\s*,\s*(['\"]?)([^'\")]+)\3"
)
_DL_EXEC_RE = re.compile(
    r"(?i)(?:\biex\b|invoke-expression|\[scriptblock\]::create)[^;\n]*?"
    r"(?:\.downloadstring|\.downloaddata|\biwr\b|invoke-webrequest|\birm\b|invoke-restmethod|"
    r"net\.webclient)[^;\n]*"
)
_SH_SUBST_EXEC_RE = re.compile(
    r"(?:\b(?:ba|z|k|da)?sh\b|\bsource\b|(?<![\w.])\.)\s+(?:-\w+\s+)*"
    r"(?:<\(\s*|-c\s+[\"']?\$\(\s*|[\"']?\$\(\s*)(?:curl|wget)\b[^;\n)]*\)?"
)


def text_downloads(text: str) -> list[tuple[str, str]]:
    """``.DownloadFile(url, file)`` calls, which are methods, not commands: (url, file)."""
    return [(m.group(2), m.group(4)) for m in _DL_FILE_RE.finditer(text)]


def text_download_exec(text: str) -> re.Match[str] | None:
    return _DL_EXEC_RE.search(text) or _SH_SUBST_EXEC_RE.search(text)
