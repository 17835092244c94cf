# escape=`
FROM mcr.microsoft.com/windows/servercore:ltsc2022

SHELL ["powershell", "-Command", "$ErrorActionPreference = 'Stop'; $ProgressPreference = 'SilentlyContinue';"]

ENV GOLANG_VERSION=1.22.4
ARG GOLANG_SHA256=26321c4d945a0035d8a5bc4a1965b0df401ff8ceac66ce2daadabf9030419a98

# The download and its check are in two RUNs of the same stage: still verified.
RUN $url = ('https://dl.google.com/go/go{0}.windows-amd64.zip' -f $env:GOLANG_VERSION); `
    Write-Host ('Downloading {0} ...' -f $url); `
    Invoke-WebRequest -Uri $url -OutFile 'go.zip'

RUN if ((Get-FileHash go.zip -Algorithm sha256).Hash -ne $env:GOLANG_SHA256) { `
        Write-Host 'FAILED!'; `
        exit 1; `
    }; `
    Expand-Archive go.zip -DestinationPath C:\; `
    Remove-Item go.zip -Force

USER ContainerUser
WORKDIR C:\gopath
