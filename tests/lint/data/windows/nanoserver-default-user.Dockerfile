# escape=`
# Nano Server runs as ContainerUser by default: no USER needed, nothing to report about the user.
FROM mcr.microsoft.com/windows/nanoserver:ltsc2022@sha256:9e1c0a6a3f5b7d9e1f3a5c7e9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d
COPY app/ C:/app/
WORKDIR C:\app
CMD ["app.exe"]
