"""A local Spark Connect server with Delta, for the Spark engine's tests.

`spark_connect` (session-scoped pytest fixture, registered for the whole suite by
tests/conftest.py) starts one server on a free loopback port, waits until it accepts
connections and stops it at the end of the session. The server is pyspark 4.1.0's
SparkConnectServer from the venv scripts/install_spark_connect.sh makes, with
io.delta:delta-spark_2.13:4.1.0 from Maven Central (--packages: ivy caches it in ~/.ivy2*),
local[2] and a 1 GB driver. It requires a bearer token (Spark's pre-shared key
authentication, `SPARK_CONNECT_AUTHENTICATE_TOKEN`), random per session, so the tests also
prove the client sends it. A server that cannot start FAILS the tests that need it.
With DL_SPARK_SERVER_FLAVOR=3.5 it is a Spark Connect 3.5 server with Delta 3.3 instead
(tests/e2e/test_e2e_spark35.py runs a part of the Spark suites that way).
"""
from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# scripts/install_spark_connect.sh makes it (DL_SPARK_CONNECT_VENV: elsewhere)
VENV = Path(os.environ.get("DL_SPARK_CONNECT_VENV") or REPO / "third_party" / "spark-connect" / "venv")
DELTA_PACKAGE = "io.delta:delta-spark_2.13:4.1.0"
# A Spark 3.5 server (Databricks' 15.x/16.x LTS runtimes are Spark 3.5): pyspark 3.5 of the
# test venv (tests/requirements.txt) with the newest Spark Connect 3.5 jar Maven Central
# serves and Delta 3.3; no pre-shared token there (Spark 3.5 has none).
VENV_35 = REPO / ".venv"
PACKAGES_35 = "org.apache.spark:spark-connect_2.12:3.5.7,io.delta:delta-spark_2.12:3.3.3"
# Hadoop's S3A connector for the servers that read and write s3a://, of the Hadoop the
# server ships (Spark 4.1: 3.4.2; Spark 3.5: 3.3.4): only the object-store tests' own server
# has it, since it pulls the AWS SDK bundle (~600 MB into the ivy cache on a first start).
HADOOP_AWS_PACKAGE = "org.apache.hadoop:hadoop-aws:3.4.2"
HADOOP_AWS_PACKAGE_35 = "org.apache.hadoop:hadoop-aws:3.3.4"
START_TIMEOUT_S = 900  # the first start downloads the Delta jars (and the AWS SDK, with S3A)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class SparkConnectServer:
    port: int
    workdir: Path
    token: str = ""
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    startup_seconds: float = 0.0
    # The JVM's and the default session time zone (our loads set UTC in their own sessions).
    time_zone: str = "UTC"
    # "4.1" (the default) or "3.5" (DL_SPARK_SERVER_FLAVOR: the Spark suites on a 3.5 server)
    flavor: str = field(default_factory=lambda: os.environ.get("DL_SPARK_SERVER_FLAVOR", "4.1"))
    # More --packages (Maven coordinates) and --conf settings (spark.hadoop.* for Hadoop's)
    extra_packages: list[str] = field(default_factory=list)
    extra_confs: dict[str, str] = field(default_factory=dict)

    @property
    def venv(self) -> Path:
        return VENV_35 if self.flavor == "3.5" else VENV

    @property
    def spark_version(self) -> str:
        """The version the server reports: its venv's pyspark."""
        dist = next(self.venv.glob("lib/python3*/site-packages/pyspark-*.dist-info"))
        return dist.name.removeprefix("pyspark-").removesuffix(".dist-info")

    @property
    def delta_version(self) -> str:
        packages = PACKAGES_35 if self.flavor == "3.5" else DELTA_PACKAGE
        return next(p for p in packages.split(",") if p.startswith("io.delta:")).split(":")[-1]

    @property
    def hadoop_aws_package(self) -> str:
        """The S3A connector matching the server's Hadoop."""
        return HADOOP_AWS_PACKAGE_35 if self.flavor == "3.5" else HADOOP_AWS_PACKAGE

    @property
    def has_token(self) -> bool:
        """Spark 3.5 has no pre-shared token: its server accepts any."""
        return self.flavor != "3.5"

    @property
    def endpoint(self) -> str:
        """The connection string without the token."""
        return f"sc://127.0.0.1:{self.port}"

    @property
    def local_dir(self) -> Path:
        return self.workdir / "local"

    @property
    def remote(self) -> str:
        """The full connection string (no TLS on loopback; a token unless the server has none)."""
        if not self.has_token:
            return f"{self.endpoint}/;use_ssl=false"
        return f"{self.endpoint}/;token={self.token};use_ssl=false"

    def command(self) -> list[str]:
        confs = {
            "spark.connect.grpc.binding.address": "127.0.0.1",
            "spark.connect.grpc.binding.port": str(self.port),
            "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
            "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
            "spark.sql.warehouse.dir": str(self.workdir / "warehouse"),
            # block files where the tests can find them (a lost checkpoint block)
            "spark.local.dir": str(self.local_dir),
            "spark.sql.session.timeZone": self.time_zone,
            "spark.ui.enabled": "false",
            "spark.sql.shuffle.partitions": "2",
            "spark.driver.extraJavaOptions": (f"-Dderby.system.home={self.workdir / 'derby'} "
                                              f"-Duser.timezone={self.time_zone}"),
        }
        confs.update(self.extra_confs)
        packages = ",".join([PACKAGES_35 if self.flavor == "3.5" else DELTA_PACKAGE,
                             *self.extra_packages])
        cmd = [str(self.venv / "bin" / "spark-submit"), "--master", "local[2]",
               "--driver-memory", "1g", "--packages", packages,
               "--class", "org.apache.spark.sql.connect.service.SparkConnectServer"]
        for key, value in confs.items():
            cmd += ["--conf", f"{key}={value}"]
        return cmd + ["spark-internal"]

    def log_tail(self, n: int = 60) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    def start(self) -> None:
        if not (self.venv / "bin" / "spark-submit").exists():
            raise RuntimeError(f"{self.venv} is missing: run scripts/install_spark_connect.sh")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.workdir / "server.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SPARK_", "PYSPARK_"))}
        spark_home = next(self.venv.glob("lib/python3*/site-packages/pyspark"))
        self.token = self.token or secrets.token_hex(16)
        env.update(SPARK_HOME=str(spark_home), SPARK_LOCAL_IP="127.0.0.1", TZ=self.time_zone,
                   SPARK_CONNECT_AUTHENTICATE_TOKEN=self.token,
                   PATH=f"{self.venv / 'bin'}:{env.get('PATH', '')}")
        started = time.monotonic()
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, env=env, cwd=self.workdir,
                                            start_new_session=True)
        while time.monotonic() - started < START_TIMEOUT_S:
            if self.process.poll() is not None:
                raise RuntimeError(f"Spark Connect server exited with {self.process.returncode}:\n"
                                   f"{self.log_tail()}")
            try:  # the gRPC port opens once the session and Delta are set up
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    self.startup_seconds = time.monotonic() - started
                    return
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"Spark Connect server not up after {START_TIMEOUT_S}s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)  # its own session: spark-submit and the JVM
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


@pytest.fixture(scope="session")
def spark_connect(tmp_path_factory):
    """One Spark Connect server (with Delta) for the whole test session."""
    server = SparkConnectServer(port=free_port(), workdir=tmp_path_factory.mktemp("spark-connect"))
    server.start()
    print(f"\nspark_connect: server {server.endpoint} up in {server.startup_seconds:.1f}s")
    try:
        yield server
    finally:
        server.stop()
