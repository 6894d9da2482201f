"""Spark 4.1 + Delta 4.1 for the interop tests, on the one Spark Connect server of the session.

The pytest venv's pyspark is 3.5 (the in-process `spark` fixture), so pyspark 4.1's Connect
client runs in the Spark Connect venv: one long-lived `connect_worker.py` process per session,
driven over a pipe (a JSON line per statement), hands back each result as Arrow. `spark41`
(session-scoped fixture, registered by tests/conftest.py) gives a `Spark41`:

    spark41.sql(stmt) -> pyarrow.Table        spark41.rows(stmt) -> list[dict]
    spark41.read(path, version=, timestamp=) -> (pyarrow.Table, Spark schema JSON)

A failed statement raises Spark41Error with Spark's error class and message.
"""
from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pyarrow as pa
import pytest

from spark_connect.server import VENV, SparkConnectServer

WORKER = Path(__file__).with_name("connect_worker.py")


class Spark41Error(AssertionError):
    pass


class Spark41:
    def __init__(self, server: SparkConnectServer, scratch: Path):
        python = VENV / "bin" / "python"
        if not python.exists():
            raise RuntimeError(f"{VENV} is missing: run scripts/install_spark_connect.sh")
        self.scratch = scratch
        self.log = open(scratch / "worker.log", "wb")
        # The header the token stands for: with `token=` pyspark's client insists on TLS.
        remote = f"{server.endpoint}/;authorization=Bearer {server.token}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SPARK_", "PYSPARK_"))}
        env["TZ"] = "UTC"
        self.proc = subprocess.Popen([str(python), str(WORKER), remote], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.log, text=True, env=env)
        self.lock = threading.Lock()
        self.count = 0
        self.seconds = 0.0  # spent in statements, for the summary at the end of the session
        self.version = self._answer("connecting")["ready"]

    def _answer(self, what: str) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            self.log.flush()
            tail = (self.scratch / "worker.log").read_text(errors="replace")[-3000:]
            raise Spark41Error(f"Spark 4.1 client process exited while {what}:\n{tail}")
        return json.loads(line)

    def _call(self, req: dict) -> tuple[pa.Table, dict]:
        with self.lock:
            self.count += 1
            out = self.scratch / f"result_{self.count}.arrow"
            started = time.monotonic()
            self.proc.stdin.write(json.dumps(dict(req, out=str(out))) + "\n")
            self.proc.stdin.flush()
            ans = self._answer(f"running {req}")
            self.seconds += time.monotonic() - started
        if "error" in ans:
            raise Spark41Error(f"Spark 4.1 failed: {ans['error']}\n--- request ---\n{req}")
        with pa.OSFile(str(out), "rb") as f:
            tbl = pa.ipc.open_stream(f).read_all()
        out.unlink()
        return tbl, ans["schema"]

    def sql(self, statement: str) -> pa.Table:
        return self._call({"op": "sql", "sql": statement})[0]

    def rows(self, statement: str) -> list[dict]:
        return self.sql(statement).to_pylist()

    def read(self, path, version: int | None = None, timestamp: str | None = None):
        return self._call({"op": "read", "path": str(path), "version": version,
                           "timestamp": timestamp})

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture(scope="session")
def spark41(spark_connect, tmp_path_factory):
    """pyspark 4.1's Connect client on the session's Spark Connect server (Delta 4.1)."""
    started = time.monotonic()
    client = Spark41(spark_connect, tmp_path_factory.mktemp("spark41"))
    print(f"\nspark41: Spark {client.version} client up in {time.monotonic() - started:.1f}s")
    try:
        yield client
    finally:
        print(f"\nspark41: {client.count} statements in {client.seconds:.1f}s")
        client.close()
