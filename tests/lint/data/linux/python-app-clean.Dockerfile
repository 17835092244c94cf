# syntax=docker/dockerfile:1.7
FROM python:3.12.4-slim-bookworm@sha256:d5f16749562233aa4bd26538771d76bf0dc8ac7e98ec1a8d5a5d1f6a9b7c3e21 AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /src
COPY requirements.txt .
RUN pip install --no-cache-dir --require-hashes -r requirements.txt
RUN curl -fsSL https://example.com/schema.json | python3 -m json.tool > /src/schema.json
COPY . .

FROM python:3.12.4-slim-bookworm@sha256:d5f16749562233aa4bd26538771d76bf0dc8ac7e98ec1a8d5a5d1f6a9b7c3e21
COPY --from=build /src /app
RUN useradd --system --uid 10001 app
USER 10001
ENTRYPOINT ["python3", "/app/main.py"]
