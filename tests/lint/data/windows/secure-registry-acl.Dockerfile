# escape=`
FROM mcr.microsoft.com/windows/servercore:ltsc2022
SHELL ["powershell", "-Command"]
# Tightening SCHANNEL is still a security-relevant registry change worth a review.
RUN New-Item 'HKLM:\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.0\Server' -Force | Out-Null; `
    New-ItemProperty -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.0\Server' -Name Enabled -Value 0 -PropertyType DWord -Force
# Read-only for Users is fine; Modify for the service account is fine.
RUN icacls C:\app /grant 'Users:(OI)(CI)RX'; icacls C:\app\logs /grant 'svc-app:(OI)(CI)M'
RUN $acl = Get-Acl C:\data; `
    $rule = New-Object System.Security.AccessControl.FileSystemAccessRule('Everyone', 'FullControl', 'ContainerInherit,ObjectInherit', 'None', 'Allow'); `
    $acl.AddAccessRule($rule); Set-Acl C:\data $acl
RUN $pw = ConvertTo-SecureString 'Sup3rS3cret!' -AsPlainText -Force; `
    New-LocalUser -Name svc -Password $pw; `
    Add-LocalGroupMember -Group Administrators -Member svc
USER containeruser
