# escape=`
FROM mcr.microsoft.com/windows/servercore:ltsc2022@sha256:1c1e3c2b0f4e6d8a9b7c5d3e1f0a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a

SHELL ["powershell", "-Command", "$ErrorActionPreference = 'Stop'; $ProgressPreference = 'SilentlyContinue';"]

ENV PYTHON_VERSION=3.12.4
ENV PYTHON_SHA256=da5809df5cb05200b3a528a186f39b7d6186376ce051b0a393f1ddf67c995258

RUN $url = ('https://www.python.org/ftp/python/{0}/python-{1}-amd64.exe' -f ($env:PYTHON_VERSION -replace '[a-z]+[0-9]*$', ''), $env:PYTHON_VERSION); `
    Write-Host ('Downloading {0} ...' -f $url); `
    [Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12; `
    Invoke-WebRequest -Uri $url -OutFile 'python.exe'; `
    Write-Host ('Verifying sha256 ({0}) ...' -f $env:PYTHON_SHA256); `
    if ((Get-FileHash python.exe -Algorithm sha256).Hash -ne $env:PYTHON_SHA256) { `
        Write-Host 'FAILED!'; `
        exit 1; `
    }; `
    Start-Process python.exe -Wait -NoNewWindow -PassThru -ArgumentList @('/quiet', 'InstallAllUsers=1', 'TargetDir=C:\Python', 'PrependPath=1'); `
    Remove-Item python.exe -Force

RUN pip install --no-cache-dir virtualenv==20.26.2
USER ContainerUser
CMD ["python"]
