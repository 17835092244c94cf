# Default cmd shell on a Windows base: clean downloads with certutil -hashfile are fine, and
# `-k` passed to a non-curl program is not a TLS problem.
FROM mcr.microsoft.com/windows/servercore:ltsc2022@sha256:5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d
RUN curl.exe -fSLo node.zip https://nodejs.org/dist/v20.14.0/node-v20.14.0-win-x64.zip && certutil -hashfile node.zip SHA256 | findstr /x "1d1f3b6b1d2b3a4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4" && tar -xf node.zip -C C:\ && del node.zip
RUN if exist C:\node (setx /M PATH "%PATH%;C:\node") else (echo missing & exit 1)
RUN findstr -k pattern C:\node\README.md || ver
USER ContainerUser
