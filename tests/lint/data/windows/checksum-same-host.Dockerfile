# escape=`
FROM mcr.microsoft.com/windows/servercore:ltsc2022
SHELL ["powershell", "-Command", "$ErrorActionPreference = 'Stop';"]
RUN Invoke-WebRequest -Uri https://downloads.example.org/app/1.4.0/app.zip -OutFile app.zip; `
    $expected = (Invoke-WebRequest -Uri https://downloads.example.org/app/1.4.0/app.zip.sha256 -UseBasicParsing).Content.Trim(); `
    if ((Get-FileHash app.zip -Algorithm SHA256).Hash -ne $expected) { exit 1 }; `
    Expand-Archive app.zip C:\app
RUN $url = 'https://github.com/git-for-windows/git/releases/download/v2.45.2.windows.1/MinGit-2.45.2-64-bit.zip'; `
    Invoke-WebRequest -Uri $url -OutFile mingit.zip; `
    $sig = Get-AuthenticodeSignature C:\Windows\System32\cmd.exe; `
    Expand-Archive mingit.zip C:\mingit
USER ContainerUser
