# escape=`
FROM mcr.microsoft.com/windows/servercore:ltsc2016
SHELL ["powershell", "-Command"]

RUN [Net.ServicePointManager]::SecurityProtocol = 'Tls,Tls11,Tls12'; `
    [System.Net.ServicePointManager]::ServerCertificateValidationCallback = {$true}; `
    Invoke-WebRequest https://internal.example.com/agent.msi -OutFile C:\agent.msi; `
    Start-Process msiexec.exe -ArgumentList '/i', 'C:\agent.msi', '/qn' -Wait

RUN winrm quickconfig -q; `
    winrm set winrm/config/service '@{AllowUnencrypted="true"}'; `
    winrm set winrm/config/service/auth '@{Basic="true"}'; `
    Set-Item WSMan:\localhost\Service\Auth\Basic $true

RUN Add-WindowsCapability -Online -Name OpenSSH.Server~~~~0.0.1.0; `
    Set-Service -Name sshd -StartupType Automatic; `
    reg add "HKLM\SYSTEM\CurrentControlSet\Control\Terminal Server" /v fDenyTSConnections /t REG_DWORD /d 0 /f

EXPOSE 3389 5985 5986 22
USER ContainerAdministrator
