# escape=`
FROM mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022

SHELL ["powershell", "-ExecutionPolicy", "Bypass", "-Command"]

RUN Install-WindowsFeature NET-Framework-45-ASPNET; `
    Install-WindowsFeature Web-Asp-Net45

# Remote management for the ops team (the classic IIS remote-management recipe).
RUN Install-WindowsFeature Web-Mgmt-Service; `
    New-ItemProperty -Path HKLM:\software\microsoft\WebManagement\Server -Name EnableRemoteManagement -Value 1 -Force; `
    net user iisadmin Passw0rd! /add; `
    net localgroup administrators iisadmin /add; `
    Set-Service -Name wmsvc -StartupType automatic

RUN icacls C:\inetpub\wwwroot /grant 'Everyone:(OI)(CI)F' /T

COPY site/ C:/inetpub/wwwroot
EXPOSE 80 8172
