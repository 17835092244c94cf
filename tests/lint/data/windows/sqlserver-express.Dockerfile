# escape=`
FROM mcr.microsoft.com/windows/servercore:ltsc2019
LABEL maintainer="Perry Skountrianos"

ENV exe="https://go.microsoft.com/fwlink/?linkid=840945" `
    box="https://go.microsoft.com/fwlink/?linkid=840944" `
    sa_password="_" `
    attach_dbs="[]" `
    ACCEPT_EULA="_" `
    sa_password_path="C:\ProgramData\Docker\secrets\sa-password"

SHELL ["powershell", "-Command", "$ErrorActionPreference = 'Stop'; $ProgressPreference = 'SilentlyContinue';"]

WORKDIR /
RUN Invoke-WebRequest -Uri $env:box -OutFile SQL.box ; `
    Invoke-WebRequest -Uri $env:exe -OutFile SQL.exe ; `
    Start-Process -Wait -FilePath .\SQL.exe -ArgumentList /qs, /x:setup ; `
    .\setup\setup.exe /q /ACTION=Install /INSTANCENAME=SQLEXPRESS /FEATURES=SQLEngine /UPDATEENABLED=0 /SQLSVCACCOUNT='NT AUTHORITY\System' /SQLSYSADMINACCOUNTS='BUILTIN\ADMINISTRATORS' /TCPENABLED=1 /NPENABLED=0 /IACCEPTSQLSERVERLICENSETERMS ; `
    Remove-Item -Recurse -Force SQL.exe, SQL.box, setup

RUN stop-service MSSQL`$SQLEXPRESS ; `
    set-itemproperty -path 'HKLM:\software\microsoft\microsoft sql server\mssql14.SQLEXPRESS\mssqlserver\supersocketnetlib\tcp\ipall' -name tcpdynamicports -value '' ; `
    set-itemproperty -path 'HKLM:\software\microsoft\microsoft sql server\mssql14.SQLEXPRESS\mssqlserver\' -name LoginMode -value 2 ; `
    sqlcmd -S localhost\SQLEXPRESS -U sa -P 'Str0ngSaPw!' -Q 'SELECT 1'

HEALTHCHECK CMD [ "sqlcmd", "-Q", "select 1" ]
CMD .\start -sa_password $env:sa_password -ACCEPT_EULA $env:ACCEPT_EULA -attach_dbs \"$env:attach_dbs\" -Verbose
