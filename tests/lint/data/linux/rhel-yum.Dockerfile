FROM registry.access.redhat.com/ubi9/ubi:9.4
RUN yum install httpd && yum clean all
RUN yum install -y --nogpgcheck php
RUN dnf install -y nginx-1.20.1 && dnf clean all
RUN curl -k -o /tmp/agent.rpm https://repo.example.com/agent.rpm && rpm -i --nosignature /tmp/agent.rpm
RUN pip install --trusted-host pypi.example.com requests flask==3.0.3
EXPOSE 22 8080
