FROM mcr.microsoft.com/windows/servercore:1809
ENV chocolateyUseWindowsCompression false
RUN PowerShell -Command \
    Set-ExecutionPolicy Bypass -Scope Process -Force; \
    iex ((new-object net.webclient).DownloadString('https://chocolatey.org/install.ps1')); \
    choco feature disable --name showDownloadProgress
RUN choco install -y git nodejs --ignore-checksums
