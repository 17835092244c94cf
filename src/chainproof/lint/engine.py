"""Run every rule over a :class:`~chainproof.lint.unit.Unit` and collect findings."""

from __future__ import annotations

import itertools
import re
from typing import TYPE_CHECKING, Any

from chainproof.checks.interface import Severity
from chainproof.errors import InvalidReferenceError
from chainproof.lint import detect
from chainproof.lint.config import LintConfig
from chainproof.lint.model import Command, Finding, Instruction, ShellKind
from chainproof.lint.parse import KNOWN_INSTRUCTIONS
from chainproof.lint.rules import RULES, lookup
from chainproof.lint.unit import Run, Stage, Unit, arg_pairs, env_pairs, expand
from chainproof.oci.reference import parse_registry

if TYPE_CHECKING:
    from collections.abc import Iterator


class _Sink:
    def __init__(self, unit: Unit, config: LintConfig) -> None:
        self.unit = unit
        self.config = config
        self.findings: list[Finding] = []
        self._seen: set[tuple[str, int, str]] = set()

    def add(
        self,
        rule_id: str,
        message: str,
        instr: Instruction | None,
        *,
        line: int | None = None,
        severity: Severity | None = None,
        evidence: dict[str, Any] | None = None,
    ) -> None:
        if rule_id in self.config.disabled:
            return
        rule = RULES[rule_id]
        # History findings without an entry point at the image config itself: line 0.
        start = line if line is not None else (instr.line if instr else int(not self.unit.history))
        end = instr.end_line if instr and line is None else start
        key = (rule_id, start, message)
        if key in self._seen:
            return
        self._seen.add(key)
        suppressed = None
        if instr is not None:
            sup = self.unit.suppressions.get(instr.line)
            if sup and any(
                ((r := lookup(name)) is not None and r.id == rule_id) or name.lower() == "all"
                for name in sup.rules
            ):
                suppressed = sup.reason
        self.findings.append(
            Finding(
                rule=rule_id,
                name=rule.name,
                severity=self.config.severity.get(rule_id, severity or rule.severity),
                message=message,
                file=self.unit.file,
                line=start,
                end_line=max(end, start),
                suppressed=suppressed,
                evidence=evidence or {},
            )
        )

    def locate(self, run: Run, needle: str) -> int | None:
        """The line of a multi-line RUN where ``needle`` appears (first match)."""
        if not self.unit.lines or run.instr.end_line <= run.instr.line:
            return None
        needle = " ".join(needle.split())
        lines = self.unit.lines[run.instr.line - 1 : run.instr.end_line]
        for size in (40, 20, 8):
            probe = needle[:size].lower()
            if len(probe) < 3:
                continue
            for offset, text in enumerate(lines):
                if probe in " ".join(text.split()).lower():
                    return run.instr.line + offset
        return None

    def at_command(
        self, rule_id: str, message: str, run: Run, command: Command | str, **kw: Any
    ) -> None:
        needle = command if isinstance(command, str) else command.text
        self.add(rule_id, message, run.instr, line=self.locate(run, needle), **kw)


def _all_commands(run: Run) -> list[Command]:
    return run.script.commands()


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- downloads


def _downloads(run: Run) -> Iterator[detect.Download]:
    for command in _all_commands(run):
        d = detect.download(command)
        if d is not None:
            yield d


def _rule_download_execute(sink: _Sink, run: Run) -> None:
    for pipeline in run.script.pipelines:
        commands = pipeline.commands
        for i, command in enumerate(commands):
            d = detect.download(command)
            if d is None or d.output not in ("-", ""):
                continue
            for later in commands[i + 1 :]:
                name = later.name
                if name in detect.EXECUTORS and detect.reads_script_from_stdin(later):
                    sink.at_command(
                        "CP001",
                        f"download piped into {later.raw_name or name}: "
                        f"{_short(pipeline_text(commands))}",
                        run,
                        command,
                    )
                    break
        for command in commands:
            if command.name == "msiexec" and any(detect.URL_RE.match(a) for a in command.args):
                sink.at_command(
                    "CP001",
                    f"msiexec installs straight from a URL: {_short(command.text)}",
                    run,
                    command,
                )
    m = detect.text_download_exec(run.script.text)
    if m:
        sink.at_command(
            "CP001", f"downloaded code is executed: {_short(m.group(0))}", run, m.group(0)
        )


def pipeline_text(commands: tuple[Command, ...]) -> str:
    return " | ".join(c.text.strip() for c in commands)


_PS_ENV_RE = re.compile(r"^\$(?:env:)?([A-Za-z_]\w*)$|^%([A-Za-z_]\w*)%$|^\$\{([A-Za-z_]\w*)\}$")


def _stage_variables(stage: Stage) -> dict[str, str]:
    out: dict[str, str] = {}
    for instr in stage.instructions:
        if instr.keyword == "ENV":
            out.update({k.lower(): v for k, v in env_pairs(instr)})
        elif instr.keyword == "ARG":
            out.update({k.lower(): v for k, v in arg_pairs(instr) if v is not None})
    return out


def _resolve(word: str, variables: dict[str, str]) -> str:
    """``$env:URL`` / ``%URL%`` / ``${URL}`` to the URL an ENV or ARG of the stage gives."""
    m = _PS_ENV_RE.match(word.strip("'\""))
    if not m:
        return ""
    value = variables.get((m.group(1) or m.group(2) or m.group(3)).lower(), "")
    return value if detect.host(value) else ""


_FILE_NAME_RE = re.compile(r"[\w.+-]*[\w+-]\.[A-Za-z0-9]{1,8}\b")


def _file_name(output: str) -> tuple[str, bool]:
    """The file name a download writes, lower-cased, and whether it is literal text.

    ``C:\\t\\a.zip`` → a.zip; ``$env:TEMP\\a.zip`` and ``(Join-Path $d 'a.zip')`` → a.zip;
    ``$file`` → not literal (it can only be matched by a check in the same RUN).
    """
    if output in ("-", ""):
        return "", False
    last = re.split(r"[\\/]", output.strip("'\""))[-1]
    if not last.startswith(("$", "%")) and "(" not in last:
        return last.lower(), True
    names = _FILE_NAME_RE.findall(output)
    return (names[-1].lower(), True) if names else (last.lower(), False)


def _rule_downloads_verified(sink: _Sink, stage: Stage) -> None:
    """CP002 / CP003: every download written to a file is checked later in the stage."""
    checks: list[tuple[int, Run, bool, str, bool]] = []  # idx, run, signature?, text, has var
    variables = _stage_variables(stage)
    fetched: list[tuple[int, str]] = []  # (run index, url) of everything fetched
    items: list[tuple[int, Run, str, str, str]] = []  # run idx, run, url, output, needle
    for idx, run in enumerate(stage.runs):
        commands = _all_commands(run)
        has_check = any(detect.is_hash_check(c) for c in commands) or detect.text_has_hash_check(
            run.script.text
        )
        if has_check:
            sig = any(detect.is_signature_check(c) for c in commands) or (
                detect.text_has_signature_check(run.script.text)
            )
            # What the check looks at: the pipelines holding a hash command (``echo "$SHA
            # file" | sha256sum -c -`` names the file in echo), else the whole RUN.
            pipes = [
                p for p in run.script.pipelines if any(detect.is_hash_check(c) for c in p.commands)
            ]
            check_text = " ".join(c.text for p in pipes for c in p.commands) or run.script.text
            has_var = any(
                a.startswith(("$", "%", "("))
                for p in pipes
                for c in p.commands
                if detect.is_hash_check(c)
                for a in c.args
            )
            checks.append((idx, run, sig, check_text.lower(), has_var or not pipes))
        urls_in_run = detect.URL_RE.findall(run.script.text)
        for d in _downloads(run):
            url = d.url
            if not detect.host(url):
                url = _resolve(url, variables) or (urls_in_run[0] if urls_in_run else url)
            fetched.append((idx, url))
            if d.output == "-":
                # Content piped straight into an unpacker is installed unchecked.
                for pipeline in run.script.pipelines:
                    names = [c.name for c in pipeline.commands]
                    if d.command in pipeline.commands and any(
                        n in detect.ARCHIVE_CONSUMERS
                        for n in names[names.index(d.command.name) + 1 :]
                    ):
                        items.append((idx, run, url, "-", d.command.text))
                continue
            items.append((idx, run, url, d.output, d.command.text))
        for url, out in detect.text_downloads(run.script.text):
            fetched.append((idx, url))
            items.append((idx, run, url, out, ".DownloadFile("))
    for idx, run, url, output, needle in items:
        path = url.split("?", 1)[0]
        if detect.CHECKSUM_URL_RE.search(path) or detect.CHECKSUM_URL_RE.search(output):
            continue
        base, literal = _file_name(output)
        verifier: tuple[int, Run, bool] | None = None
        for cidx, crun, sig, check_text, has_var in checks:
            if cidx < idx:
                continue
            covered = base in check_text if literal else cidx == idx
            if covered or (cidx == idx and has_var):
                verifier = (cidx, crun, sig)
                break
        what = output if output not in ("-", "") else "piped content"
        if verifier is None:
            sink.at_command(
                "CP002",
                f"{_short(url or needle, 70)} is downloaded to {what} and never checked "
                "against a pinned hash or signature",
                run,
                needle,
                evidence={"url": url, "output": output},
            )
            continue
        if verifier[2]:
            continue
        art_host = detect.host(url)
        for fidx, furl in fetched:
            if (
                fidx <= verifier[0]
                and furl != url
                and art_host
                and detect.host(furl) == art_host
                and detect.CHECKSUM_URL_RE.search(furl.split("?", 1)[0])
            ):
                sink.at_command(
                    "CP003",
                    f"checksum for {_short(url, 60)} is fetched from the same host "
                    f"({art_host}): {_short(furl, 60)}",
                    verifier[1],
                    furl,
                    evidence={"url": url, "checksum_url": furl},
                )
                break


# --------------------------------------------------------------------------- Windows rules

_EP_RE = re.compile(
    r"(?i)(?:-(?:executionpolicy|exec|ep)[\s:]+['\"]?|set-executionpolicy\s+(?:-executionpolicy\s+)?['\"]?)"
    r"(bypass|unrestricted)\b"
)
_TLS_TEXT_RES = (
    re.compile(r"(?i)servercertificatevalidationcallback\s*=\s*(?!\s*\$null)"),
    re.compile(r"(?i)-skipcertificatecheck\b"),
    re.compile(r"(?i)\bsslverify\s*[= ]\s*['\"]?false"),
    re.compile(r"(?i)\bGIT_SSL_NO_VERIFY\s*=\s*['\"]?(1|true)"),
    re.compile(r"(?i)\bNODE_TLS_REJECT_UNAUTHORIZED\s*=\s*['\"]?0"),
    re.compile(r"(?i)\bstrict-ssl[= ]+['\"]?false"),
    re.compile(r"(?i)\bPYTHONHTTPSVERIFY\s*=\s*['\"]?0"),
    re.compile(r"(?i)--trusted-host\b"),
    re.compile(r"(?i)--no-check-certificate\b"),
    re.compile(r"(?i)\bsslVerify\s+false"),
)
_SECPROTO_RE = re.compile(r"(?i)securityprotocol\s*=([^;\n]*)")
_LEGACY_RE = re.compile(r"(?i)\b(ssl3|tls11|tls1_1|tls1_0|tls10|tls)\b")
_LEGACY_FLAG_RE = re.compile(
    r"(?i)(?:-sslprotocol\s+['\"]?(?:tls|tls11|ssl3)\b|--tlsv1\.[01]\b|--sslv3\b|--tls-max\s+1\.[01]\b|"
    r"--secure-protocol=(?:sslv3|tlsv1|tlsv1_1)\b)"
)
_WINRM_RES = (
    re.compile(r"(?i)allowunencrypted\W{0,5}(?:-value\s+)?\W{0,3}(\$true|true|1)\b"),
    re.compile(
        r"(?i)(?:auth[\\/]basic|auth\W{0,3}@\{[^}]*\bbasic)\W{0,5}(?:-value\s+)?\W{0,3}"
        r"(\$true|true|1)\b"
    ),
)
_RDP_RE = re.compile(r"(?i)fDenyTSConnections\W+(?:/t\s+\S+\s+)?(?:/d\s+|-value\s+)?0\b")
_REG_KEYS = {
    r"system\currentcontrolset\control\lsa": ("CP013", "LSA"),
    r"software\microsoft\windows\currentversion\policies\system": ("CP013", "Policies\\System"),
    r"system\currentcontrolset\control\securityproviders\schannel": ("CP013", "SCHANNEL"),
    r"system\currentcontrolset\control\securityproviders\wdigest": ("CP013", "WDigest"),
    r"software\policies\microsoft\windows\winrm": ("CP013", "WinRM policy"),
    r"software\policies\microsoft\windows defender": ("CP006", "Windows Defender policy"),
    r"software\microsoft\windows defender": ("CP006", "Windows Defender"),
}
_REG_CMDLETS = frozenset(
    {
        "set-itemproperty",
        "new-itemproperty",
        "remove-itemproperty",
        "new-item",
        "set-item",
        "remove-item",
        "sp",
    }
)
_ACL_PRINCIPALS = re.compile(
    r"(?i)^(\*s-1-1-0|everyone|users|builtin\\users|authenticated users|\*s-1-5-32-545|\*s-1-5-11)$"
)
_ACL_RULE_RE = re.compile(
    r"(?i)FileSystemAccessRule\s*\(?\s*['\"](everyone|users|builtin\\users|authenticated users)"
    r"['\"]\s*,\s*['\"]?(fullcontrol|modify)"
)
_ICACLS_TEXT_RE = re.compile(
    r"(?i)icacls\b[^;\n|&]*?/grant(?::r)?\s+['\"]?(\*s-1-1-0|everyone|users|builtin\\users|"
    r"authenticated users):((?:\([^)]*\))*)\(?([FM])\)?(?=['\"\s]|$)"
)
_ADMIN_USERS = frozenset(
    {"containeradministrator", "administrator", "nt authority\\system", "system"}
)
_REMOTE_PORTS = {
    "22": "SSH",
    "3389": "RDP",
    "5985": "WinRM (HTTP)",
    "5986": "WinRM (HTTPS)",
    "8172": "IIS remote management (WMSvc)",
}


def _norm_key(key: str) -> str:
    k = key.strip("'\"").replace("/", "\\").lower()
    k = re.sub(r"^registry::", "", k)
    k = re.sub(r"^(hkey_local_machine|hklm:?)\\?", "", k)
    return re.sub(r"controlset00\d", "currentcontrolset", k)


# One pass over the commands serves every Windows rule, hence the length.
def _rule_windows_commands(sink: _Sink, run: Run) -> None:  # noqa: PLR0915
    text = run.script.text
    icacls_hit = False
    registry_labels: set[str] = set()
    for command in _all_commands(run):
        name, args, low = command.name, command.args, command.lower_args
        # CP006 Defender
        if name in ("set-mppreference", "add-mppreference"):
            for i, arg in enumerate(low):
                if arg.startswith("-exclusion") or (
                    name == "set-mppreference"
                    and arg.startswith("-disable")
                    and not arg.endswith(":$false")
                    and not (i + 1 < len(low) and low[i + 1] in ("$false", "0", "false"))
                ):
                    sink.at_command(
                        "CP006", f"Defender weakened: {_short(command.text)}", run, command
                    )
                    break
        if name in (
            "uninstall-windowsfeature",
            "remove-windowsfeature",
            "disable-windowsoptionalfeature",
        ) and "defender" in " ".join(low):
            sink.at_command("CP006", f"Defender removed: {_short(command.text)}", run, command)
        if (
            name == "sc"
            and len(low) >= 2
            and low[0] in ("config", "stop", "delete")
            and low[1] == "windefend"
        ) or (name in ("stop-service", "set-service") and "windefend" in low):
            sink.at_command(
                "CP006",
                f"Defender service stopped or disabled: {_short(command.text)}",
                run,
                command,
            )
        # CP007 LOLBins
        if (
            (name == "certutil" and any(a in ("-urlcache", "/urlcache") for a in low))
            or (name == "bitsadmin" and any(a in ("/transfer", "/addfile") for a in low))
            or (name == "mshta" and any(a.startswith("http") for a in low))
            or (name == "regsvr32" and any(a.startswith("/i:http") for a in low))
        ):
            sink.at_command(
                "CP007",
                f"{command.raw_name} used to download: {_short(command.text)}",
                run,
                command,
            )
        # CP010 passwords
        if name == "net" and low[:1] == ("user",):
            positional = [a for a in args[1:] if not a.startswith("/")]
            if (
                len(positional) >= 2
                and positional[1] != "*"
                and not positional[1].startswith(("$", "%"))
            ):
                sink.at_command(
                    "CP010",
                    f"password for account {positional[0]} on the command line",
                    run,
                    command,
                )
        if name == "convertto-securestring" and "-asplaintext" in low:
            value = detect.option_value(args, "-string") or next(
                (a for a in args if not a.startswith("-")), ""
            )
            if value and not value.startswith(("$", "(")):
                sink.at_command(
                    "CP010",
                    "ConvertTo-SecureString -AsPlainText with a literal password",
                    run,
                    command,
                )
        # CP011 administrators
        if (
            name == "net"
            and len(low) >= 3
            and low[0] == "localgroup"
            and low[1] == "administrators"
            and "/add" in low
        ):
            member = next((a for a in args[2:] if not a.startswith("/")), "an account")
            sink.at_command("CP011", f"{member} added to Administrators", run, command)
        if name == "add-localgroupmember" and "administrators" in low:
            sink.at_command(
                "CP011", f"account added to Administrators: {_short(command.text)}", run, command
            )
        # CP012 ACLs
        if name == "icacls":
            for i, arg in enumerate(low):
                if arg.startswith("/grant") and i + 1 < len(args):
                    principal, _, perms = args[i + 1].rpartition(":")
                    tokens = [*re.findall(r"\(([^)]*)\)", perms), re.sub(r"\([^)]*\)", "", perms)]
                    rights = {t.strip().upper() for tok in tokens for t in tok.split(",")}
                    if _ACL_PRINCIPALS.match(principal.strip()) and rights & {"F", "M"}:
                        icacls_hit = True
                        sink.at_command("CP012", f"icacls grants {args[i + 1]}", run, command)
        # CP013 / CP006 registry
        key = ""
        if name == "reg" and len(low) >= 2 and low[0] in ("add", "delete", "import"):
            key = args[1]
        elif name in _REG_CMDLETS:
            key = detect.option_value(args, "-path", "-literalpath") or next(
                (a for a in args if not a.startswith("-")), ""
            )
        if key:
            norm = _norm_key(key)
            for prefix, (rule_id, label) in _REG_KEYS.items():
                if norm.startswith(prefix) and label not in registry_labels:
                    registry_labels.add(label)
                    sink.at_command(
                        rule_id,
                        f"registry change under {label}: {_short(command.text)}",
                        run,
                        command,
                    )
                    break
        # CP015 remote administration
        if (
            (name == "add-windowscapability" and "openssh.server" in " ".join(low))
            or (name in ("start-service", "set-service") and ("sshd" in low or "wmsvc" in low))
            or name in ("enable-psremoting", "set-wsmanquickconfig")
            or (name == "winrm" and low[:1] and low[0] in ("quickconfig", "qc"))
        ):
            sink.at_command(
                "CP015", f"remote administration enabled: {_short(command.text)}", run, command
            )
    for m in _ICACLS_TEXT_RE.finditer(text if not icacls_hit else ""):
        sink.at_command("CP012", f"icacls grants {m.group(1)} ({m.group(3)})", run, m.group(0))
    for m in _ACL_RULE_RE.finditer(text):
        sink.at_command("CP012", f"ACL grants {m.group(1)} {m.group(2)}", run, m.group(0))
    for pattern in _WINRM_RES:
        for found in pattern.finditer(text):
            sink.at_command(
                "CP014", f"WinRM weakened: {_short(found.group(0))}", run, found.group(0)
            )
    rdp = _RDP_RE.search(text)
    if rdp:
        sink.at_command("CP015", "Remote Desktop enabled (fDenyTSConnections=0)", run, rdp.group(0))


def _rule_text_everywhere(sink: _Sink, run: Run) -> None:
    text = run.script.text
    m = _EP_RE.search(text)
    if m:
        sink.at_command("CP005", f"execution policy set to {m.group(1)}", run, m.group(0))
    for pattern in _TLS_TEXT_RES:
        m = pattern.search(text)
        if m:
            sink.at_command(
                "CP008", f"TLS verification disabled: {_short(m.group(0))}", run, m.group(0)
            )
    for command in _all_commands(run):
        if (
            command.name == "curl"
            and not detect.is_ps_web_cmdlet(command)
            and any(
                a == "--insecure"
                or (
                    a.startswith("-")
                    and not a.startswith("--")
                    and "k" in a[1:]
                    and a[1:].isalpha()
                )
                for a in command.args
            )
        ):
            sink.at_command(
                "CP008", f"curl without certificate checks: {_short(command.text)}", run, command
            )
    for m in _SECPROTO_RE.finditer(text):
        legacy = _LEGACY_RE.findall(m.group(1))
        if legacy:
            sink.at_command(
                "CP009",
                f"SecurityProtocol includes {', '.join(sorted(set(legacy)))}",
                run,
                m.group(0),
            )
    m = _LEGACY_FLAG_RE.search(text)
    if m:
        sink.at_command("CP009", f"legacy TLS forced: {m.group(0)}", run, m.group(0))


def _rule_general_commands(sink: _Sink, run: Run, stage: Stage) -> None:
    commands = _all_commands(run)
    text = run.script.text
    for command in commands:
        name, low = command.name, command.lower_args
        # CP107 package verification bypass
        bypass = (
            (name == "apk" and "--allow-untrusted" in low)
            or (
                name in ("apt-get", "apt", "aptitude")
                and any(
                    a in ("--allow-unauthenticated", "--force-yes", "--allow-insecure-repositories")
                    for a in low
                )
            )
            or (
                name in ("yum", "dnf", "microdnf", "tdnf", "zypper", "rpm")
                and any(
                    a in ("--nogpgcheck", "--nosignature", "--nodigest", "--no-gpg-checks")
                    for a in low
                )
            )
            or (
                name in ("choco", "cinst")
                and any(a.startswith("--ignore-checksum") or a == "--ignorechecksums" for a in low)
            )
            or (name == "install-module" and "-skippublishercheck" in low)
        )
        if bypass:
            sink.at_command(
                "CP107", f"package verification disabled: {_short(command.text)}", run, command
            )
        # CP010 generic password flags
        for i, arg in enumerate(command.args):
            la = arg.lower()
            value = None
            if la.startswith("--password="):
                value = arg.split("=", 1)[1]
            elif (la == "--password" and i + 1 < len(command.args)) or (
                name == "sqlcmd" and arg == "-P" and i + 1 < len(command.args)
            ):
                value = command.args[i + 1]
            if value and not value.startswith(("$", "%", "-")):
                sink.at_command(
                    "CP010", f"{command.raw_name} gets a literal password", run, command
                )
                break
        if (name == "sudo" or command.text.lstrip().startswith("sudo ")) and not stage.windows:
            sink.at_command("CP108", "sudo in RUN", run, command)
        if (
            name in ("apt-get", "apt", "apk", "yum", "dnf")
            and any(a.split("=", 1)[0] in ("openssh-server", "openssh") for a in low)
            and any(a in ("install", "add") for a in low)
        ):
            sink.at_command("CP015", "SSH server installed", run, command)
    if re.search(r"(?i)\bchpasswd\b", text) and re.search(r"echo\s+['\"]?[\w.-]+:[^\s'\"$]+", text):
        sink.at_command("CP010", "password piped into chpasswd", run, "chpasswd")
    if not stage.windows:
        _rule_package_hygiene(sink, run, commands)


def _packages(args: tuple[str, ...], verb: str, with_value: set[str]) -> list[str]:
    out: list[str] = []
    seen_verb = False
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if not seen_verb:
            seen_verb = arg == verb
            if arg in with_value:
                skip = True
            continue
        if arg in with_value:
            skip = True
            continue
        if arg.startswith("-"):
            continue
        out.append(arg)
    return out


def _rule_package_hygiene(sink: _Sink, run: Run, commands: list[Command]) -> None:
    text = run.script.text
    has_update = any(c.name in ("apt-get", "apt") and "update" in c.args for c in commands)
    has_install = any(
        c.name in ("apt-get", "apt") and ("install" in c.args or "upgrade" in c.args)
        for c in commands
    )
    cache_mount = any(f.startswith("--mount=type=cache") for f in run.instr.flags)
    if has_update and not has_install:
        sink.add("CP115", "apt-get update without install in the same RUN", run.instr)
    if has_update and "/var/lib/apt/lists" not in text and not cache_mount:
        sink.add("CP112", "apt lists not removed after apt-get update", run.instr)
    for command in commands:
        low = command.args
        if command.name == "apt":
            sink.at_command("CP114", "use apt-get instead of apt in scripts", run, command)
        if command.name in ("apt-get", "apt") and "install" in low:
            pkgs = _packages(low, "install", {"-o", "-t", "--target-release"})
            unpinned = [
                p
                for p in pkgs
                if "=" not in p
                and not p.endswith(".deb")
                and "/" not in p
                and not p.startswith("$")
            ]
            if unpinned:
                sink.at_command(
                    "CP110", f"unpinned apt packages: {', '.join(unpinned[:6])}", run, command
                )
            if "--no-install-recommends" not in low and "APT::Install-Recommends=false" not in text:
                sink.at_command(
                    "CP111", "apt-get install without --no-install-recommends", run, command
                )
            if not any(
                a in ("-y", "--yes", "--assume-yes", "-qq", "-q=2")
                or re.fullmatch(r"-[a-z]*y[a-z]*", a)
                for a in low
            ):
                sink.at_command("CP113", "apt-get install without -y", run, command)
        if command.name == "apk" and "add" in low:
            pkgs = _packages(low, "add", {"-t", "--virtual", "-X", "--repository"})
            unpinned = [
                p
                for p in pkgs
                if "=" not in p
                and "~" not in p
                and not p.endswith(".apk")
                and not p.startswith("$")
            ]
            if unpinned:
                sink.at_command(
                    "CP116", f"unpinned apk packages: {', '.join(unpinned[:6])}", run, command
                )
            if "--no-cache" not in low:
                sink.at_command("CP117", "apk add without --no-cache", run, command)
        if command.name in ("yum", "dnf", "microdnf") and "install" in low:
            pkgs = _packages(low, "install", {"--setopt", "--enablerepo", "--disablerepo"})
            unpinned = [
                p
                for p in pkgs
                if not re.search(r"-\d", p)
                and not p.endswith(".rpm")
                and "/" not in p
                and not p.startswith("$")
            ]
            if unpinned:
                sink.at_command(
                    "CP118",
                    f"unpinned {command.name} packages: {', '.join(unpinned[:6])}",
                    run,
                    command,
                )
            if (
                not re.search(rf"\b{command.name}\s+clean\s+all\b", text)
                and f"/var/cache/{command.name}" not in text
                and not cache_mount
            ):
                sink.at_command(
                    "CP119",
                    f"{command.name} install without {command.name} clean all",
                    run,
                    command,
                )
            if command.name != "microdnf" and not any(a in ("-y", "--assumeyes") for a in low):
                sink.at_command("CP120", f"{command.name} install without -y", run, command)
        is_pip = command.name in ("pip", "pip3") or (
            command.name.startswith("python") and low[:2] == ("-m", "pip")
        )
        if is_pip and "install" in low:
            pkgs = _packages(
                low,
                "install",
                {
                    "-r",
                    "-c",
                    "-i",
                    "--index-url",
                    "--extra-index-url",
                    "--trusted-host",
                    "-e",
                    "--requirement",
                    "--constraint",
                    "-f",
                    "--find-links",
                    "--target",
                    "-t",
                    "--prefix",
                },
            )
            unpinned = [
                p
                for p in pkgs
                if not re.search(r"[=<>~@]", p)
                and "/" not in p
                and not p.endswith((".whl", ".tar.gz", ".zip"))
                and p != "."
                and not p.startswith("$")
            ]
            if unpinned:
                sink.at_command(
                    "CP122", f"unpinned pip packages: {', '.join(unpinned[:6])}", run, command
                )
    if (
        run.script.shell in (ShellKind.POSIX, ShellKind.EXEC)
        and any(
            len(p.commands) > 1
            for p in run.script.pipelines
            if p.commands[0].shell == ShellKind.POSIX
        )
        and "pipefail" not in " ".join(run.shell_argv)
        and "pipefail" not in text
        and not run.instr.heredocs
    ):
        sink.add("CP121", "pipe without pipefail: a failing download goes unnoticed", run.instr)


# --------------------------------------------------------------------------- instructions

_SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "pass",
        "secret",
        "secrets",
        "token",
        "apikey",
        "credential",
        "credentials",
        "pat",
        "passphrase",
    }
)
_SECRET_PAIRS = frozenset(
    {
        ("api", "key"),
        ("access", "key"),
        ("private", "key"),
        ("secret", "key"),
        ("auth", "key"),
        ("client", "secret"),
        ("connection", "string"),
        ("signing", "key"),
        ("encryption", "key"),
    }
)
_SECRET_SUFFIXES = ("password", "passwd", "token", "secret", "apikey")
#: names that describe a secret without holding one (PASSWORD_FILE is the right pattern)
_NOT_SECRET_LAST = frozenset(
    {
        "file",
        "path",
        "dir",
        "location",
        "length",
        "policy",
        "url",
        "endpoint",
        "type",
        "name",
        "id",
        "expiry",
        "ttl",
        "header",
        "enabled",
        "required",
    }
)


def _is_secret_name(name: str) -> bool:
    parts = [p for p in re.split(r"[_\-.]+", name.lower()) if p]
    if not parts or parts[-1] in _NOT_SECRET_LAST:
        return False
    if any(p in _SECRET_WORDS or p.endswith(_SECRET_SUFFIXES) for p in parts):
        return True
    return any(pair in _SECRET_PAIRS for pair in itertools.pairwise(parts))


_ARCHIVE_RE = re.compile(r"(?i)\.(tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz|tar\.zst|gz|bz2|xz)$")


def _image_parts(image: str) -> tuple[str, str, str]:
    """(name, tag, digest) of an image reference as written."""
    name, _, digest = image.partition("@")
    slash, colon = name.rfind("/"), name.rfind(":")
    tag = ""
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    return name, tag, digest


def _check_image(sink: _Sink, image: str, instr: Instruction, what: str) -> None:
    if not image or image.lower() == "scratch" or "$" in image:
        return
    _, tag, digest = _image_parts(image)
    if not digest:
        if not tag:
            sink.add("CP101", f"{what} {image} has no tag (means latest)", instr)
        elif tag.lower() == "latest":
            sink.add("CP102", f"{what} {image} uses the latest tag", instr)
        else:
            sink.add("CP103", f"{what} {image} is not pinned by digest", instr)
    allowed = sink.config.allowed_registries
    if allowed:
        try:
            host = parse_registry(image.lower() if image != image.lower() else image).host.lower()
        except InvalidReferenceError:
            host = image.split("/", 1)[0].lower() if "/" in image else "docker.io"
        if host not in allowed:
            sink.add(
                "CP104",
                f"{what} {image} comes from {host}, not an allowed registry",
                instr,
                evidence={"registry": host},
            )
    if re.search(r"(?i)host-?process", image):
        sink.add("CP018", f"{what} {image} is a HostProcess base image", instr)


def _rule_instructions(sink: _Sink, unit: Unit) -> None:
    stage_names = {s.name.lower() for s in unit.stages if s.name}
    for stage in unit.stages:
        if stage.from_instr is not None and stage.base is not None and not unit.history:
            _check_image(sink, stage.base, stage.from_instr, "base image")
        for instr in stage.instructions:
            kw = instr.keyword
            if kw in ("COPY", "ADD"):
                source = instr.flag("from")
                if source is not None and kw == "COPY":
                    ref = expand(source, unit.global_args)
                    if ref.lower() not in stage_names and not ref.isdigit():
                        _check_image(sink, ref, instr, "COPY --from image")
            if kw == "ADD":
                sources = instr.args[:-1] if len(instr.args) > 1 else instr.args
                for src in sources:
                    if re.match(r"(?i)^(https?|ftp)://", src):
                        if instr.flag("checksum") is None and not unit.history:
                            sink.add(
                                "CP004",
                                f"ADD {_short(src, 70)} without --checksum",
                                instr,
                                evidence={"url": src},
                            )
                        elif unit.history:
                            sink.add(
                                "CP004",
                                f"ADD {_short(src, 70)} (history does not show whether "
                                "--checksum was used)",
                                instr,
                                severity=Severity.LOW,
                                evidence={"url": src},
                            )
                    elif src.startswith(("git@", "file:")) or src.endswith(".git"):
                        continue
                    elif not _ARCHIVE_RE.search(src) and not unit.history:
                        sink.add("CP106", f"ADD {_short(src, 60)}: use COPY for local files", instr)
            if kw in ("ENV", "ARG"):
                pairs: list[tuple[str, str | None]] = (
                    list(env_pairs(instr)) if kw == "ENV" else list(arg_pairs(instr))
                )
                for key, value in pairs:
                    if not _is_secret_name(key):
                        continue
                    if kw == "ENV" and (not value or len(value) < 2):
                        # "_" / "" are the placeholders official images use for run-time values
                        continue
                    severity = Severity.HIGH if value else Severity.MEDIUM
                    shown = "a value" if value else "no default (passed with --build-arg)"
                    sink.add(
                        "CP105",
                        f"{kw} {key} holds a secret-looking value ({shown})",
                        instr,
                        severity=severity,
                        evidence={"name": key},
                    )
                if kw == "ENV":
                    for pattern in _TLS_TEXT_RES[3:7]:
                        m = pattern.search(instr.original)
                        if m:
                            sink.add("CP008", f"TLS verification disabled: {m.group(0)}", instr)
            if kw == "EXPOSE":
                for port in instr.args:
                    number = port.split("/", 1)[0]
                    if number in _REMOTE_PORTS:
                        sink.add("CP016", f"EXPOSE {port}: {_REMOTE_PORTS[number]}", instr)
            if kw == "SHELL":
                m = _EP_RE.search(" ".join(instr.args))
                if m:
                    sink.add("CP005", f"SHELL sets execution policy {m.group(1)}", instr)
    if not unit.history:
        for instr in unit.instructions:
            if instr.keyword not in KNOWN_INSTRUCTIONS:
                sink.add("CP900", f"unknown instruction {instr.keyword}", instr)
        if unit.dangling and unit.instructions:
            sink.add("CP901", "the last line ends with a line continuation", unit.instructions[-1])


def _rule_final_user(sink: _Sink, unit: Unit) -> None:
    if not unit.stages:
        return
    final = unit.stages[-1]
    user = (final.user or "").strip()
    name = user.split(":", 1)[0].lower()
    where = final.user_instr or final.from_instr
    if final.windows:
        if name in _ADMIN_USERS:
            sink.add("CP017", f"final user is {user}", where)
        elif not user and final.servercore:
            what = (
                "the image config sets no User"
                if unit.history
                else ("no USER on a Windows Server Core base")
            )
            sink.add("CP017", f"{what}: runs as ContainerAdministrator", where)
        return
    if name in ("root", "0"):
        sink.add("CP017", f"final user is {user}", where)
    elif not user:
        what = "the image config sets no User" if unit.history else "no USER in the final stage"
        sink.add("CP017", f"{what}: runs as root", where, severity=Severity.LOW)


def run_rules(unit: Unit, config: LintConfig) -> list[Finding]:
    sink = _Sink(unit, config)
    _rule_instructions(sink, unit)
    for stage in unit.stages:
        for run in stage.runs:
            _rule_download_execute(sink, run)
            _rule_text_everywhere(sink, run)
            _rule_windows_commands(sink, run)
            _rule_general_commands(sink, run, stage)
        _rule_downloads_verified(sink, stage)
    _rule_final_user(sink, unit)
    return sorted(sink.findings, key=lambda f: (f.line, f.rule))
