# escape=`

# Installer image: the official shape, download then pinned SHA-512 check in the same RUN.
FROM mcr.microsoft.com/windows/servercore:ltsc2022@sha256:6f5d5e6e1b3f8c1e3f4b7a0d1f5b3e0d8b5a1c6e4f2a9b7d3c1e5f8a2b4d6c8e AS installer

SHELL ["powershell", "-Command", "$ErrorActionPreference = 'Stop'; $ProgressPreference = 'SilentlyContinue';"]

ENV DOTNET_VERSION=8.0.6

RUN Invoke-WebRequest -OutFile dotnet.zip https://dotnetcli.azureedge.net/dotnet/Runtime/$Env:DOTNET_VERSION/dotnet-runtime-$Env:DOTNET_VERSION-win-x64.zip; `
    $dotnet_sha512 = '3c2b7f9e0d1a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4'; `
    if ((Get-FileHash dotnet.zip -Algorithm sha512).Hash -ne $dotnet_sha512) { `
        Write-Host 'CHECKSUM VERIFICATION FAILED!'; `
        exit 1; `
    }; `
    mkdir $Env:ProgramFiles\dotnet; `
    tar -oxzf dotnet.zip -C $Env:ProgramFiles\dotnet; `
    Remove-Item -Force dotnet.zip

# Runtime image
FROM mcr.microsoft.com/windows/nanoserver:ltsc2022@sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90

ENV DOTNET_VERSION=8.0.6 `
    DOTNET_RUNNING_IN_CONTAINER=true

# In order to set system PATH, ContainerAdministrator must be used
USER ContainerAdministrator
RUN setx /M PATH "%PATH%;C:\Program Files\dotnet"
USER ContainerUser

COPY --from=installer ["/Program Files/dotnet", "/Program Files/dotnet"]
