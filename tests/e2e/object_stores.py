"""Real object-store servers on 127.0.0.1 for the end-to-end suite, started once per session:

- `S3Server`: versitygw (checks signatures; atomic conditional PUTs) serving a temp folder.
  Built by scripts/install_test_servers.sh into third_party/bin (or $DL_VERSITYGW).
- `AzuriteServer`: Azurite's Blob service (third_party/azurite, installed by the same script);
  containers play the part of buckets.
- `FaultProxy`: a loopback HTTP proxy in front of either server that injects faults (5xx
  answers, dropped `If-None-Match` headers) - real requests, a real server behind it. Requests
  keep their signatures: SigV4 signs the Host the client sent, SharedKey signs no Host.

A missing server binary FAILS the tests that need it (nothing is skipped in CI).
"""
from __future__ import annotations

import base64
import glob
import http.client
import importlib
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

import pyarrow.fs as pafs
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


class ServerProcess:
    """A server binary listening on a free loopback port, serving a temp folder."""

    def __init__(self, what: str, env_var: str, candidates: list[Path], args):
        """`args(port, folder)`: the binary's arguments."""
        binary = find_binary(env_var, *candidates)
        if binary is None:
            pytest.fail(f"{what} not found (run scripts/install_test_servers.sh, or set "
                        f"{env_var})", pytrace=False)
        self.dir = Path(tempfile.mkdtemp(prefix=f"dl_{what}_"))
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([binary, *args(self.port, self.dir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, self.proc, what)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class S3Server(ServerProcess):
    def __init__(self):
        super().__init__(
            "versitygw", "DL_VERSITYGW",
            [REPO / "third_party" / "bin" / "versitygw", Path.home() / "go" / "bin" / "versitygw"],
            lambda port, folder: ["--access", S3_ACCESS_KEY, "--secret", S3_SECRET_KEY, "--port",
                                  f"127.0.0.1:{port}", "posix", str(folder)])
        import boto3

        self.client = boto3.client("s3", endpoint_url=self.endpoint,
                                   aws_access_key_id=S3_ACCESS_KEY,
                                   aws_secret_access_key=S3_SECRET_KEY, region_name="us-east-1")

    scheme = "s3"
    secret = S3_SECRET_KEY
    wrong_secret = "wrong-secret-abcdef-987654"

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

    def get(self, bucket: str, key: str) -> bytes:
        return self.client.get_object(Bucket=bucket, Key=key)["Body"].read()

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

    def delta_scan(self, uri: str):
        """The table as DuckDB's delta_scan reads it through httpfs."""
        con = duckdb_with("httpfs")
        con.execute(f"CREATE OR REPLACE SECRET dl_s3 (TYPE s3, KEY_ID '{S3_ACCESS_KEY}', SECRET "
                    f"'{S3_SECRET_KEY}', ENDPOINT '127.0.0.1:{self.port}', URL_STYLE 'path', "
                    f"USE_SSL false, REGION 'us-east-1')")
        return con.execute("SELECT * FROM delta_scan(?)", [uri]).fetch_arrow_table()


class AzuriteServer(ServerProcess):
    """Azurite's Blob service; containers play the part of buckets. Blobs are put and read
    through pyarrow's AzureFileSystem (a real Blob REST client, SharedKey signed)."""

    scheme = "az"
    secret = AZURITE_KEY
    # A valid base64 key that is not the account's: Azurite answers 403.
    wrong_secret = base64.b64encode(b"wrong-key-" + bytes(54)).decode()

    def __init__(self):
        super().__init__(
            "azurite", "DL_AZURITE", [REPO / "third_party/azurite/node_modules/.bin/azurite-blob"],
            lambda port, folder: ["--blobHost", "127.0.0.1", "--blobPort", str(port), "--location",
                                  str(folder), "--skipApiVersionCheck", "--loose", "--silent",
                                  "--disableTelemetry"])
        authority = f"127.0.0.1:{self.port}"
        self.fs = pafs.AzureFileSystem(account_name=AZURITE_ACCOUNT, account_key=AZURITE_KEY,
                                       blob_storage_authority=authority,
                                       blob_storage_scheme="http",
                                       dfs_storage_authority=authority, dfs_storage_scheme="http")

    def new_bucket(self) -> str:
        name = "c-" + uuid.uuid4().hex[:16]
        self.fs.create_dir(name)
        return name

    def put(self, bucket: str, key: str, data: bytes) -> None:
        with self.fs.open_output_stream(f"{bucket}/{key}") as out:
            out.write(data)

    def get(self, bucket: str, key: str) -> bytes:
        with self.fs.open_input_stream(f"{bucket}/{key}") as f:
            return f.read()

    def delete(self, bucket: str, key: str) -> None:
        self.fs.delete_file(f"{bucket}/{key}")

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Blob names under a "directory" prefix (the suite lists only such prefixes)."""
        base = f"{bucket}/{prefix}".rstrip("/")
        infos = self.fs.get_file_info(pafs.FileSelector(base, recursive=True,
                                                        allow_not_found=True))
        return sorted(i.path[len(bucket) + 1:] for i in infos if i.type == pafs.FileType.File)

    def uri(self, bucket: str, key: str = "") -> str:
        return f"az://{bucket}/{key}".rstrip("/")

    def storage_options(self, endpoint: str | None = None, secret: str | None = None) -> dict:
        """Our config's storage_options (delta-rs key names); Azurite serves the account as
        the first path segment."""
        return {"azure_storage_account_name": AZURITE_ACCOUNT,
                "azure_storage_account_key": secret or AZURITE_KEY,
                "azure_storage_endpoint": f"{endpoint or self.endpoint}/{AZURITE_ACCOUNT}"}

    def deltalake_options(self) -> dict:
        # delta-rs reaches Azurite on any port through an explicit endpoint (+ allow_http);
        # azure_storage_use_emulator would only read AZURITE_BLOB_STORAGE_URL.
        return self.storage_options() | {"allow_http": "true"}

    def delta_scan(self, uri: str):
        """The table as DuckDB's delta_scan reads it through the azure extension."""
        con = duckdb_with("azure")
        conn = (f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey="
                f"{AZURITE_KEY};BlobEndpoint={self.endpoint}/{AZURITE_ACCOUNT};")
        con.execute(f"CREATE OR REPLACE SECRET dl_az (TYPE azure, CONNECTION_STRING '{conn}')")
        # delta_scan's kernel takes the devstoreaccount1 account for the emulator, which it
        # looks for at AZURITE_BLOB_STORAGE_URL (else port 10000); set only for this scan.
        before = os.environ.get("AZURITE_BLOB_STORAGE_URL")
        os.environ["AZURITE_BLOB_STORAGE_URL"] = self.endpoint
        try:
            return con.execute("SELECT * FROM delta_scan(?)", [uri]).fetch_arrow_table()
        finally:
            if before is None:
                del os.environ["AZURITE_BLOB_STORAGE_URL"]
            else:
                os.environ["AZURITE_BLOB_STORAGE_URL"] = before


def duckdb_with(store_extension: str):
    """An in-memory DuckDB with the store's extension and delta loaded from their wheels."""
    import duckdb

    con = duckdb.connect()
    for name in (store_extension, "delta"):
        mod = importlib.import_module(f"duckdb_extension_{name}")
        path = glob.glob(os.path.join(os.path.dirname(mod.__file__), "extensions", "*",
                                      name + ".duckdb_extension"))[0]
        con.execute(f"LOAD '{path}'")
    return con


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
        # (method, status, path part): forwarded, then answered with status (a lost answer).
        self.lost_answers: list[tuple[str, int, str]] = []
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
                    if self.command != "HEAD":  # a HEAD answer has no body: one would be
                        self.wfile.write(msg)   # read as the start of the next answer
                    return
                headers = {k: v for k, v in self.headers.items()
                           if not (proxy.strip_if_none_match and k.lower() == "if-none-match")}
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=60)
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                with proxy.lock:
                    lost = next((i for i, (m, _, part) in enumerate(proxy.lost_answers)
                                 if m == self.command and part in self.path), None)
                    status = proxy.lost_answers.pop(lost)[1] if lost is not None else None
                if status is not None:
                    conn.close()
                    msg = b"<Error><Code>InternalError</Code><Message>lost</Message></Error>"
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(msg)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(msg)
                    return
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


@pytest.fixture(scope="session")
def azure_server():
    server = AzuriteServer()
    yield server
    server.stop()
