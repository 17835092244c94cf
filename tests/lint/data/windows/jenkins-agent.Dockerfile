# escape=`
ARG VERSION=3206.vb_15dcf73f6a_9-1
FROM jenkins/inbound-agent:${VERSION}-jdk17-windowsservercore-ltsc2019

ARG user=jenkins

RUN $output = net users ; `
    if(-not ($output -match $env:user)) { `
        Write-Host 'user does not exist?' ; `
        net user $env:user /add /expire:never /passwordreq:no ; `
        net localgroup Administrators /add $env:user `
    }

ADD https://repo.jenkins-ci.org/public/org/jenkins-ci/main/remoting/3206.vb_15dcf73f6a_9/remoting-3206.vb_15dcf73f6a_9.jar C:/ProgramData/Jenkins/agent.jar
COPY jenkins-agent.ps1 C:/ProgramData/Jenkins
USER ${user}
ENTRYPOINT ["powershell.exe", "-f", "C:/ProgramData/Jenkins/jenkins-agent.ps1"]
