FROM alpine:3.20
ARG GITHUB_TOKEN
ENV API_KEY=sk_live_51H8xYz2eZvKYlo2C0a1b2c3d
ENV DB_PASSWORD_FILE=/run/secrets/db_password
RUN apk add curl bash
RUN apk add --no-cache --allow-untrusted /tmp/custom.apk
RUN apk add --no-cache ca-certificates=20240226-r0 && \
    wget --no-check-certificate https://example.com/tool.tar.gz && \
    tar xzf tool.tar.gz
ADD config.json /etc/app/config.json
ADD rootfs.tar.gz /
ADD https://example.com/app.tar.gz /opt/
ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/app2.tar.gz /opt/
RUN adduser -D app
USER app
