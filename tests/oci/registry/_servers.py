"""Real servers for the registry tests: Debian's docker-registry, a token server, TLS servers."""

from __future__ import annotations

import base64
import contextlib
import datetime
import http.server
import json
import os
import secrets
import shutil
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

REGISTRY_BINARY = "/usr/bin/docker-registry"
SKOPEO = shutil.which("skopeo")
TOKEN_ISSUER = "chainproof-test-issuer"
TOKEN_SERVICE = "chainproof-test-registry"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RegistryProcess:
    """One ``docker-registry serve`` on a loopback port, with what a client needs to reach it."""

    host: str
    scheme: str
    workdir: Path
    process: subprocess.Popen[bytes]
    ca_file: Path | None = None
    cert_dir: Path | None = None  # skopeo's --dest-cert-dir (holds ca.crt)
    username: str = ""
    password: str = ""
    token_server: TokenServer | None = None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def push(self, layout: Path, tag: str, target: str) -> None:
        """``skopeo copy`` a tag of an OCI layout to ``target`` ("repo:tag") in this registry."""
        assert SKOPEO is not None
        command = [SKOPEO, "copy", "--all", "--preserve-digests", "--retry-times", "0"]
        if self.cert_dir is not None:
            command += ["--dest-cert-dir", str(self.cert_dir)]
        else:
            command += ["--dest-tls-verify=false"]
        if self.username:
            command += ["--dest-creds", f"{self.username}:{self.password}"]
        command += [f"oci:{layout}:{tag}", f"docker://{self.host}/{target}"]
        # A private HOME keeps the user's auth files and registries.conf overrides out of it.
        env = {**os.environ, "HOME": str(self.workdir)}
        done = subprocess.run(command, capture_output=True, env=env, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"skopeo copy failed: {done.stderr.decode(errors='replace')}")

    def put_manifest(self, repository: str, tag: str, data: bytes) -> None:
        """A minimal push of one OCI index or manifest (children must already be there)."""
        assert self.scheme == "http" and not self.username
        document = json.loads(data)
        response = httpx.put(
            f"http://{self.host}/v2/{repository}/manifests/{tag}",
            content=data,
            headers={"Content-Type": document["mediaType"]},
        )
        if response.status_code != 201:
            raise RuntimeError(f"manifest PUT failed: {response.status_code} {response.text}")


def start_registry(
    workdir: Path,
    *,
    tls: tuple[Path, Path] | None = None,
    auth: dict[str, Any] | None = None,
    ca_file: Path | None = None,
) -> RegistryProcess:
    """Start the registry; wait until ``/v2/`` answers (any HTTP status)."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    http_config: dict[str, Any] = {"addr": f"127.0.0.1:{port}", "secret": secrets.token_hex(16)}
    if tls is not None:
        http_config["tls"] = {"certificate": str(tls[0]), "key": str(tls[1])}
    config: dict[str, Any] = {
        "version": 0.1,
        "log": {"level": "error", "accesslog": {"disabled": True}},
        "storage": {
            "filesystem": {"rootdirectory": str(workdir / "storage")},
            "delete": {"enabled": True},
        },
        "http": http_config,
        # Foreign-layer URLs are refused unless an allow list is configured.
        "validation": {"manifests": {"urls": {"allow": ["^https://"]}}},
    }
    if auth is not None:
        config["auth"] = auth
    config_path = workdir / "config.yml"
    # JSON is YAML: no YAML writer needed.
    config_path.write_text(json.dumps(config))
    log = (workdir / "registry.log").open("wb")
    process = subprocess.Popen(
        [REGISTRY_BINARY, "serve", str(config_path)], stdout=log, stderr=subprocess.STDOUT
    )
    scheme = "https" if tls else "http"
    verify: Any = ssl.create_default_context(cafile=str(ca_file)) if ca_file else False
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"docker-registry exited: {(workdir / 'registry.log').read_text()[-2000:]}"
            )
        try:
            httpx.get(f"{scheme}://127.0.0.1:{port}/v2/", verify=verify, timeout=2)
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("docker-registry did not answer on /v2/ within 30 s") from None
            time.sleep(0.05)
    return RegistryProcess(f"127.0.0.1:{port}", scheme, workdir, process, ca_file=ca_file)


# -- token server ----------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class TokenServer:
    """A Docker token server (the registry's ``auth: token:`` realm) issuing RS256 JWTs.

    Valid Basic credentials (or the refresh token) get the actions they ask for; anonymous
    requests get a token with no access, so the registry answers 401, as Docker Hub does for
    private repositories.
    """

    username: str
    password: str
    refresh_token: str
    cert_path: Path
    key: rsa.RSAPrivateKey
    cert_der: bytes
    requests: list[dict[str, Any]] = field(default_factory=list)
    server: http.server.ThreadingHTTPServer | None = None

    @property
    def realm(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/token"

    @property
    def host(self) -> str:
        assert self.server is not None
        return f"127.0.0.1:{self.server.server_address[1]}"

    @classmethod
    def create(cls, directory: Path, username: str, password: str) -> TokenServer:
        directory.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "chainproof test token signer")])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        cert_path = directory / "token-signer.pem"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return cls(
            username,
            password,
            "refresh-" + secrets.token_hex(8),
            cert_path,
            key,
            cert.public_bytes(serialization.Encoding.DER),
        )

    def registry_auth(self) -> dict[str, Any]:
        return {
            "token": {
                "realm": self.realm,
                "service": TOKEN_SERVICE,
                "issuer": TOKEN_ISSUER,
                "rootcertbundle": str(self.cert_path),
            }
        }

    def issue(self, account: str, scopes: list[str], granted: bool) -> str:
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            access.append(
                {"type": kind, "name": name, "actions": actions.split(",") if granted else []}
            )
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(self.cert_der).decode()]}
        claims = {
            "iss": TOKEN_ISSUER,
            "sub": account,
            "aud": TOKEN_SERVICE,
            "exp": now + 600,
            "nbf": now - 60,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        signing_input = (
            _b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(claims).encode())
        )
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + _b64url(signature)

    def start(self) -> None:
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                del format, args

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                scopes = query.get("scope", [])
                header = self.headers.get("Authorization", "")
                owner.requests.append({"method": "GET", "scopes": scopes, "auth": bool(header)})
                if not header:
                    self._answer(200, {"token": owner.issue("", scopes, granted=False)})
                    return
                expected = base64.b64encode(f"{owner.username}:{owner.password}".encode())
                if header != f"Basic {expected.decode()}":
                    self._answer(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad"}]})
                    return
                # Some clients read access_token (OAuth2), others token: send both.
                token = owner.issue(owner.username, scopes, granted=True)
                self._answer(200, {"token": token, "access_token": token, "expires_in": 300})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                scopes = form.get("scope", [])
                owner.requests.append({"method": "POST", "scopes": scopes, "auth": True})
                if form.get("refresh_token") != [owner.refresh_token]:
                    self._answer(401, {"error": "invalid_grant"})
                    return
                self._answer(200, {"access_token": owner.issue("idtoken", scopes, granted=True)})

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


# -- small HTTPS servers ---------------------------------------------------------------------

Route = Callable[[http.server.BaseHTTPRequestHandler], tuple[int, dict[str, str], bytes]]


@contextlib.contextmanager
def https_server(
    context: ssl.SSLContext, routes: dict[str, tuple[int, dict[str, str], bytes]]
) -> Iterator[str]:
    """Serve fixed answers per path over TLS on a loopback port; yields ``127.0.0.1:PORT``."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            del format, args

        def do_GET(self) -> None:
            status, headers, body = routes.get(self.path, (404, {}, b"not found"))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
