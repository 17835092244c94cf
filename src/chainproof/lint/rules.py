"""The rule catalogue: stable ids, default severities and the why-and-fix of every rule.

Ids never change meaning once released; a retired rule keeps its id reserved. ``docs/lint-rules.md``
is generated from this table (``render_markdown``) and a test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass

from chainproof.checks.interface import Severity

C, H, M, L, INF = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: Severity
    title: str
    doc: str  # one paragraph: why it matters, and the fix
    scope: str  # "windows", "linux" or "all"
    peers: tuple[str, ...] = ()  # equivalent hadolint / Trivy ids, for comparisons


_RULES = (
    Rule(
        "CP001",
        "download-execute",
        C,
        "Downloaded content is executed without being stored and checked",
        "Piping a download straight into an interpreter (`iwr … | iex`, `iex (New-Object "
        "Net.WebClient)"
        ".DownloadString(…)`, `curl … | sh`, `msiexec /i https://…`) runs whatever the server — or "
        "anyone between it and the build — returns at that moment; nothing is recorded that could "
        "be "
        "checked later, and the image differs from build to build. Download to a file, verify it "
        "against a pinned SHA-256 (`Get-FileHash`, `sha256sum -c`) or a signature, then run it.",
        "all",
    ),
    Rule(
        "CP002",
        "download-unverified",
        H,
        "Downloaded file is never checked against a hash or signature",
        "A file fetched with `Invoke-WebRequest -OutFile`, `curl -o`, `wget`, "
        "`Start-BitsTransfer` or "
        "`WebClient.DownloadFile` and never passed to `Get-FileHash`, `sha256sum`, `certutil "
        "-hashfile`, "
        "`gpg --verify` or `Get-AuthenticodeSignature` in the same stage is trusted blindly: a "
        "compromised mirror or a changed release ships straight into the image. The check may "
        "come in a "
        "later RUN of the same stage. Fix: pin the expected SHA-256 in the Dockerfile (an ARG or "
        "ENV) and "
        "compare it, failing the build on mismatch, as the official Windows images do.",
        "all",
    ),
    Rule(
        "CP003",
        "checksum-same-host",
        M,
        "Checksum is fetched from the same host as the file",
        "A checksum downloaded from the host that serves the file only detects corruption, not "
        "tampering: whoever can replace the file can replace the checksum next to it. Pin the "
        "expected "
        "hash in the Dockerfile, or verify a signature against a key you pinned (`gpg --verify` "
        "with a "
        "fingerprint, `Get-AuthenticodeSignature` with an expected signer).",
        "all",
    ),
    Rule(
        "CP004",
        "add-url-no-checksum",
        H,
        "ADD fetches a URL without --checksum",
        "`ADD https://…` downloads at build time and trusts whatever arrives. BuildKit verifies "
        "the "
        "content when the instruction carries `--checksum=sha256:…`; add it (or download in a RUN "
        "and "
        "verify there). Git URLs should pin a commit.",
        "all",
        ("DS005",),
    ),
    Rule(
        "CP005",
        "execution-policy-bypass",
        M,
        "PowerShell execution policy is bypassed",
        "`-ExecutionPolicy Bypass|Unrestricted` or `Set-ExecutionPolicy Bypass|Unrestricted` "
        "turns off "
        "the check that scripts are signed, for the build and — with a scope other than Process — "
        "for "
        "every later user of the image. It is usually there to run a downloaded installer script, "
        "which "
        "is exactly what should be verified. Verify the script's hash or Authenticode signature "
        "and use "
        "`RemoteSigned` or `AllSigned`; never persist the weaker policy in the image.",
        "windows",
    ),
    Rule(
        "CP006",
        "defender-tampering",
        H,
        "Microsoft Defender is disabled or given exclusions",
        "`Set-MpPreference -Disable…`, `Add-MpPreference -Exclusion…`, removing the "
        "Windows-Defender "
        "feature or its service, or writing its policy registry keys (`DisableAntiSpyware`) "
        "blinds the anti-malware engine for every container started from "
        "the "
        "image, and is a common step of malicious build scripts. If a build step is slowed down by "
        "scanning, scope an exclusion to the build host, not the image.",
        "windows",
    ),
    Rule(
        "CP007",
        "lolbin-transfer",
        H,
        "Living-off-the-land binary used to download",
        "`certutil -urlcache`, `bitsadmin /transfer`, `mshta http…` and `regsvr32 /i:http…` are "
        "well-known defence-evasion download channels; they are flagged by endpoint protection "
        "and give "
        "no integrity guarantee. Use `Invoke-WebRequest` or `curl.exe` followed by a pinned hash "
        "check.",
        "windows",
    ),
    Rule(
        "CP008",
        "tls-verification-disabled",
        H,
        "TLS certificate validation is disabled",
        "`ServerCertificateValidationCallback = {$true}`, `-SkipCertificateCheck`, `curl "
        "-k/--insecure`, "
        "`wget --no-check-certificate`, `git -c http.sslVerify=false`, "
        "`NODE_TLS_REJECT_UNAUTHORIZED=0`, "
        "`npm config set strict-ssl false` or `pip --trusted-host` let anyone on the network path "
        "serve "
        "the download. Fix the trust store instead (install the corporate CA with "
        "`Import-Certificate` or "
        "`update-ca-certificates`).",
        "all",
    ),
    Rule(
        "CP009",
        "tls-legacy-protocol",
        H,
        "TLS forced to a broken protocol version",
        "Setting `[Net.ServicePointManager]::SecurityProtocol` (or `-SslProtocol`, `curl "
        "--tlsv1.0`) to "
        "SSL3, TLS 1.0 or TLS 1.1 allows downgrade to protocols with known attacks. Forcing "
        "`Tls12` (or "
        "`Tls13`) is fine and is what old Windows PowerShell needs; drop the legacy values.",
        "all",
    ),
    Rule(
        "CP010",
        "password-on-command-line",
        H,
        "A password is written on a command line",
        "`net user NAME PASSWORD /add`, `ConvertTo-SecureString 'literal' -AsPlainText`, `sqlcmd "
        "-P …` "
        "or `chpasswd` with a literal store the password in the image history (`docker history "
        "--no-trunc`) for anyone who can pull the image. Create accounts at run time from a "
        "secret, use "
        "`RUN --mount=type=secret`, or a group-managed service account.",
        "all",
    ),
    Rule(
        "CP011",
        "user-added-to-administrators",
        M,
        "An account is added to the Administrators group",
        "`net localgroup administrators … /add` or `Add-LocalGroupMember -Group Administrators` "
        "gives "
        "the account full control of the container, and with HostProcess or process isolation "
        "more than "
        "that. Grant the specific rights the service needs instead.",
        "windows",
    ),
    Rule(
        "CP012",
        "world-writable-acl",
        M,
        "Everyone (or Users) is granted full or modify rights",
        "`icacls … /grant Everyone:(F)` (also `*S-1-1-0`, `Users`, `Authenticated Users` with F "
        "or M) lets "
        "any process in the container replace binaries and scripts that a more privileged process "
        "later "
        "runs. Grant the service account the narrowest right on the narrowest path.",
        "windows",
    ),
    Rule(
        "CP013",
        "security-registry-change",
        M,
        "A security-relevant registry key is changed",
        "Writes (`reg add/delete`, `Set-ItemProperty`, `New-ItemProperty`, `Remove-ItemProperty`) "
        "under "
        "`Control\\Lsa`, `Policies\\System`, `SecurityProviders\\SCHANNEL`, "
        "`SecurityProviders\\WDigest` "
        "or the WinRM policy key change credential storage, UAC, TLS or remoting "
        "behaviour of "
        "the image (e.g. `WDigest UseLogonCredential=1` keeps clear-text passwords in memory). "
        "Review each "
        "such change and document why it is needed; prefer the defaults.",
        "windows",
    ),
    Rule(
        "CP014",
        "winrm-insecure",
        H,
        "WinRM accepts unencrypted traffic or Basic authentication",
        "`AllowUnencrypted=true` or `Auth/Basic=true` on the WinRM service sends credentials and "
        "commands in clear text or as reversible Basic auth. Use HTTPS listeners with certificate "
        "or "
        "Kerberos authentication, or no remoting in the image at all.",
        "windows",
    ),
    Rule(
        "CP015",
        "remote-admin-service",
        M,
        "A remote administration service is installed or enabled",
        "Installing or enabling sshd (`Add-WindowsCapability OpenSSH.Server`, `apt-get install "
        "openssh-server`), the IIS Web Management Service, Remote Desktop "
        "(`fDenyTSConnections=0`), "
        "`Enable-PSRemoting` or `winrm quickconfig` adds a network login path "
        "to every "
        "container. Containers are administered with `docker exec`/`kubectl exec`; remove the "
        "service.",
        "all",
    ),
    Rule(
        "CP016",
        "remote-admin-port",
        M,
        "A remote administration port is exposed",
        "`EXPOSE 22`, `3389`, `5985`, `5986` or `8172` documents SSH, RDP, WinRM or IIS remote "
        "management (WMSvc) as part of the image's "
        "interface "
        "and invites publishing it. Remove the EXPOSE and the service behind it.",
        "all",
    ),
    Rule(
        "CP017",
        "privileged-final-user",
        M,
        "The image runs as an administrator",
        "The final stage's effective user is `ContainerAdministrator` (explicitly, or because a "
        "Windows "
        "Server Core base is used without a `USER`), or `root` on Linux. A compromised process "
        "then owns "
        "the whole container. Only the last USER of the final stage counts, compared "
        "case-insensitively. "
        "Add `USER ContainerUser` (Windows) or a non-root user (Linux) at the end of the final "
        "stage.",
        "all",
        ("DL3002", "DS002"),
    ),
    Rule(
        "CP018",
        "hostprocess-base",
        H,
        "HostProcess container base image",
        "The HostProcess base image makes a container that runs directly on the node as a host "
        "process "
        "with access to the host's file system, network and credentials; an image built on it is "
        "effectively node-level code. Use it only for node agents, reviewed as such, and never for "
        "ordinary workloads.",
        "windows",
    ),
    Rule(
        "CP101",
        "base-image-untagged",
        M,
        "Base image has no tag",
        "`FROM name` without a tag means `latest`, whatever that is on the day of the build. Pin "
        "a tag, "
        "and better a digest.",
        "all",
        ("DL3006",),
    ),
    Rule(
        "CP102",
        "base-image-latest",
        M,
        "Base image uses the latest tag",
        "`latest` moves; builds are not reproducible and a changed base arrives unreviewed. Pin a "
        "version tag and a digest (`name:tag@sha256:…`).",
        "all",
        ("DL3007",),
    ),
    Rule(
        "CP103",
        "base-image-not-pinned",
        L,
        "Base image is not pinned by digest",
        "A tag is a mutable pointer: the registry (or whoever controls it) can move it. Only "
        "`@sha256:…` guarantees that the base you reviewed is the base you build on; keep it "
        "current with "
        "an automated updater. Also applies to `COPY --from=<image>`.",
        "all",
    ),
    Rule(
        "CP104",
        "registry-not-allowed",
        H,
        "Base image registry is not on the allowlist",
        "The configuration lists the registries images may come from (`allowed_registries`); this "
        "base "
        "image comes from another one. Host names match exactly: `registry.corp` does not allow "
        "`registry.corp.evil.io`. Mirror the image into an allowed registry.",
        "all",
        ("DL3026",),
    ),
    Rule(
        "CP105",
        "secret-in-arg-env",
        H,
        "Secret-looking value in ARG or ENV",
        "ENV values are stored in the image config and ARG values in its history, readable by "
        "anyone who "
        "can pull the image. Names like `PASSWORD`, `SA_PASSWORD`, `TOKEN`, `SECRET`, `API_KEY` "
        "with a "
        "value set in the Dockerfile are a leak. Use `RUN --mount=type=secret` at build time and "
        "runtime "
        "secrets (Kubernetes secrets, Docker secrets) for the container.",
        "all",
        ("DL3064", "DS031"),
    ),
    Rule(
        "CP106",
        "add-instead-of-copy",
        L,
        "ADD used where COPY does",
        "ADD also fetches URLs and unpacks archives, so it does more than the reader expects. Use "
        "COPY "
        "for local files and folders.",
        "all",
        ("DL3020", "DS005"),
    ),
    Rule(
        "CP107",
        "package-verification-bypass",
        H,
        "Package signature verification is disabled",
        "`apk --allow-untrusted`, `apt-get --allow-unauthenticated`/`--force-yes`, `yum/dnf "
        "--nogpgcheck`, `rpm --nosignature` and `choco --ignore-checksums` install packages whose "
        "signatures or checksums were not verified. Import the repository key instead.",
        "all",
    ),
    Rule(
        "CP108",
        "sudo",
        M,
        "sudo used in RUN",
        "sudo has unpredictable TTY and signal behaviour in builds and leaves a "
        "privilege-escalation tool "
        "in the image. RUN already runs as the current USER; switch USER where needed.",
        "linux",
        ("DL3004",),
    ),
    Rule(
        "CP110",
        "apt-unpinned",
        L,
        "apt-get install without pinned versions",
        "Unpinned packages make builds irreproducible; pin `package=version`.",
        "linux",
        ("DL3008",),
    ),
    Rule(
        "CP111",
        "apt-no-install-recommends",
        INF,
        "apt-get install without --no-install-recommends",
        "Recommended packages enlarge the attack surface; add `--no-install-recommends`.",
        "linux",
        ("DL3015", "DS029"),
    ),
    Rule(
        "CP112",
        "apt-lists-not-cleaned",
        INF,
        "apt lists are left in the layer",
        "Remove `/var/lib/apt/lists/*` in the same RUN as `apt-get update` to keep stale indexes "
        "out of "
        "the image.",
        "linux",
        ("DL3009",),
    ),
    Rule(
        "CP113",
        "apt-missing-yes",
        L,
        "apt-get install without -y",
        "Without `-y` the build waits for an answer and fails; add `-y`.",
        "linux",
        ("DL3014",),
    ),
    Rule(
        "CP114",
        "apt-not-apt-get",
        L,
        "apt used instead of apt-get",
        "`apt` has no stable command-line interface for scripts; use `apt-get` or `apt-cache`.",
        "linux",
        ("DL3027",),
    ),
    Rule(
        "CP115",
        "apt-update-alone",
        L,
        "apt-get update without install in the same RUN",
        "A lone `apt-get update` is cached as a layer and later installs use stale indexes, "
        "possibly "
        "missing security fixes. Run `apt-get update && apt-get install …` in one RUN.",
        "linux",
        ("DS017",),
    ),
    Rule(
        "CP116",
        "apk-unpinned",
        L,
        "apk add without pinned versions",
        "Unpinned packages make builds irreproducible; pin `package=version`.",
        "linux",
        ("DL3018",),
    ),
    Rule(
        "CP117",
        "apk-no-cache",
        INF,
        "apk add without --no-cache",
        "Use `apk add --no-cache` so the package index does not stay in the layer.",
        "linux",
        ("DL3019",),
    ),
    Rule(
        "CP118",
        "yum-unpinned",
        L,
        "yum/dnf install without pinned versions",
        "Unpinned packages make builds irreproducible; pin `package-version`.",
        "linux",
        ("DL3033", "DL3041"),
    ),
    Rule(
        "CP119",
        "yum-no-clean",
        INF,
        "yum/dnf install without clean all",
        "Run `yum clean all` (or `dnf clean all`) in the same RUN to keep caches out of the layer.",
        "linux",
        ("DL3032", "DL3040"),
    ),
    Rule(
        "CP120",
        "yum-missing-yes",
        L,
        "yum/dnf install without -y",
        "Without `-y` the build waits for an answer and fails; add `-y`.",
        "linux",
        ("DL3030", "DL3038"),
    ),
    Rule(
        "CP121",
        "pipefail",
        L,
        "Pipe in RUN without pipefail",
        "In `/bin/sh -c`, a pipeline's status is the last command's: `curl … | tar x` succeeds "
        "even when "
        'the download failed. Use `SHELL ["/bin/bash", "-o", "pipefail", "-c"]` or '
        "`set -o pipefail`.",
        "linux",
        ("DL4006",),
    ),
    Rule(
        "CP122",
        "pip-unpinned",
        L,
        "pip install without pinned versions",
        "Pin `package==version` or install from a hash-checked requirements file "
        "(`--require-hashes`).",
        "all",
        ("DL3013",),
    ),
    Rule(
        "CP900",
        "unknown-instruction",
        H,
        "Unknown instruction",
        "BuildKit rejects instructions it does not know; the Dockerfile does not build as written.",
        "all",
    ),
    Rule(
        "CP901",
        "unterminated-continuation",
        M,
        "Line continuation at end of file",
        "The last instruction ends with the escape character, so the text that was meant to "
        "follow is "
        "missing; the file was probably truncated.",
        "all",
    ),
)

RULES: dict[str, Rule] = {r.id: r for r in _RULES}
BY_NAME: dict[str, Rule] = {r.name: r for r in _RULES}


def lookup(key: str) -> Rule | None:
    """A rule by id (``CP001``, case-insensitive) or name (``download-execute``)."""
    return RULES.get(key.upper()) or BY_NAME.get(key.lower())


def render_markdown() -> str:
    lines = [
        "# Lint rules",
        "",
        "Generated from `src/chainproof/lint/rules.py` (a test keeps them in step). Ids are "
        "stable. "
        "Severities can be changed and rules disabled in the config file "
        "(see [lint.md](lint.md)); a single "
        "finding "
        "is suppressed with a `# chainproof ignore=RULE reason` comment on the line(s) just above "
        "the "
        "instruction.",
        "",
    ]
    for scope, heading in (
        ("windows", "Windows rules"),
        ("all", "Rules for every platform"),
        ("linux", "Linux rules"),
    ):
        lines += [f"## {heading}", ""]
        for rule in _RULES:
            if rule.scope != scope:
                continue
            peers = f" Peers: {', '.join(rule.peers)}." if rule.peers else ""
            lines += [
                f"### {rule.id} `{rule.name}` — {rule.title} ({rule.severity})",
                "",
                rule.doc + peers,
                "",
            ]
    return "\n".join(lines)
