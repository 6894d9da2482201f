"""Real object-store servers on 127.0.0.1 for the end-to-end suite, started once per session:

- `S3Server`: versitygw (checks signatures; atomic conditional PUTs) serving a temp folder.
  Built by scripts/install_test_servers.sh into third_party/bin (or $DL_VERSITYGW).
- `AzuriteServer`: Azurite's Blob service (third_party/azurite, installed by the same script).
- `FaultProxy`: a loopback HTTP proxy in front of a server that injects faults (5xx answers,
  dropped `If-None-Match` headers) - real requests, a real server behind it.

A missing server binary FAILS the tests that need it (nothing is skipped in CI).
"""
from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

S3_ACCESS_KEY = "dltestaccess"
S3_SECRET_KEY = "dl-test-secret-0123456789"  # recognisable: tests assert it is never printed
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
               "KBHBeksoGMGw==")  # Azurite's well-known development key


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on port {port} within {timeout}s")


def find_binary(env_var: str, *candidates: Path) -> str | None:
    if os.environ.get(env_var):
        return os.environ[env_var]
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return str(c)
    return None


class S3Server:
    def __init__(self):
        binary = find_binary("DL_VERSITYGW", REPO / "third_party" / "bin" / "versitygw",
                             Path.home() / "go" / "bin" / "versitygw")
        if binary is None:
            pytest.fail("versitygw not found (run scripts/install_test_servers.sh, or set "
                        "DL_VERSITYGW)", pytrace=False)
        self.dir = Path(tempfile.mkdtemp(prefix="dl_s3_"))
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [binary, "--access", S3_ACCESS_KEY, "--secret", S3_SECRET_KEY, "--port",
             f"127.0.0.1:{self.port}", "posix", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.proc, "versitygw")
        import boto3

        self.client = boto3.client("s3", endpoint_url=self.endpoint,
                                   aws_access_key_id=S3_ACCESS_KEY,
                                   aws_secret_access_key=S3_SECRET_KEY, region_name="us-east-1")

    scheme = "s3"

    def new_bucket(self) -> str:
        name = "b-" + uuid.uuid4().hex[:16]
        self.client.create_bucket(Bucket=name)
        return name

    def put(self, bucket: str, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=bucket, Key=key, Body=data)

    def delete(self, bucket: str, key: str) -> None:
        self.client.delete_object(Bucket=bucket, Key=key)

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        out, token = [], None
        while True:
            kw = {"Bucket": bucket, "Prefix": prefix}
            if token:
                kw["ContinuationToken"] = token
            page = self.client.list_objects_v2(**kw)
            out += [o["Key"] for o in page.get("Contents", [])]
            if not page.get("IsTruncated"):
                return out
            token = page["NextContinuationToken"]

    def uri(self, bucket: str, key: str = "") -> str:
        return f"s3://{bucket}/{key}".rstrip("/")

    def storage_options(self, endpoint: str | None = None, secret: str | None = None) -> dict:
        """Our config's storage_options (delta-rs key names)."""
        return {"aws_access_key_id": S3_ACCESS_KEY,
                "aws_secret_access_key": secret or S3_SECRET_KEY,
                "aws_region": "us-east-1", "aws_endpoint_url": endpoint or self.endpoint,
                "aws_allow_http": "true"}

    def deltalake_options(self) -> dict:
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY, "AWS_REGION": "us-east-1",
                "AWS_ALLOW_HTTP": "true", "aws_conditional_put": "etag"}

    def duckdb_secret_sql(self) -> str:
        return (f"CREATE OR REPLACE SECRET dl_s3 (TYPE s3, KEY_ID '{S3_ACCESS_KEY}', SECRET "
                f"'{S3_SECRET_KEY}', ENDPOINT '127.0.0.1:{self.port}', URL_STYLE 'path', "
                f"USE_SSL false, REGION 'us-east-1')")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class FaultProxy:
    """Forwards every request to `upstream_port`; `fail_next(n, status)` answers the next n
    requests matching `method` with `status` instead; `strip_if_none_match` drops that header
    (a store that ignores conditional writes). Counts requests by method, and keeps each
    request's method and path (`requests`) for the benchmarks to say where they go."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.lock = threading.Lock()
        self.failures: list[tuple[str, int]] = []
        self.strip_if_none_match = False
        self.counts: dict[str, int] = {}
        self.requests: list[tuple[str, str]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes: without this, Nagle's algorithm and
            # delayed ACKs stall every answer for ~40 ms.
            disable_nagle_algorithm = True

            def log_message(self, *a):  # quiet
                pass

            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with proxy.lock:
                    proxy.counts[self.command] = proxy.counts.get(self.command, 0) + 1
                    proxy.requests.append((self.command, self.path))
                    fail = None
                    for i, (method, status) in enumerate(proxy.failures):
                        if method in ("*", self.command):
                            fail = status
                            del proxy.failures[i]
                            break
                if fail is not None:
                    msg = b"<Error><Code>InternalError</Code><Message>injected</Message></Error>"
                    self.send_response(fail)
                    self.send_header("Content-Length", str(len(msg)))
                    self.end_headers()
                    self.wfile.write(msg)
                    return
                headers = {k: v for k, v in self.headers.items()
                           if not (proxy.strip_if_none_match and k.lower() == "if-none-match")}
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=60)
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "content-length", "connection"):
                        self.send_header(k, v)
                # A HEAD answer has no body but the object's length.
                length = resp.getheader("Content-Length") if self.command == "HEAD" else None
                self.send_header("Content-Length", length or str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def fail_next(self, n: int, status: int = 503, method: str = "*") -> None:
        with self.lock:
            self.failures += [(method, status)] * n

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="session")
def s3_server():
    server = S3Server()
    yield server
    server.stop()
