"""Fixtures for the Delta Lake interop suite.

- `spark`: one session-scoped local[2] Spark + delta-spark session (UTC, UI off, quiet).
- `dl`: the data_loader binary ($DATA_LOADER_BIN, default <repo>/build/data_loader).  A missing
  binary, or one without the `table` verbs, FAILS the tests that need it (nothing is skipped).
- `run_dl(*args)`: run data_loader, check the exit code, show stderr on failure.
- readers (see interop_lib): read_spark / read_delta_rs / read_duckdb / read_dl return a canonical
  `Snapshot` (logical schema + sorted canonical rows) for a table path, optionally at a version.
"""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

import interop_lib as il

REPO = Path(__file__).resolve().parents[2]

# PySpark converts timestamps through the Python process's local zone in places; pin it to UTC.
os.environ["TZ"] = "UTC"
time.tzset()
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)


def pytest_report_header(config):
    binary = os.environ.get("DATA_LOADER_BIN", str(REPO / "build" / "data_loader"))
    mode = il.duckdb_mode()
    duck = (f"delta extension ({il.duckdb_delta_extension_path() or 'installed'})" if mode == "extension"
            else "FALLBACK: read_parquet over the snapshot's files (delta extension unavailable)")
    return [f"data_loader: {binary}", f"duckdb reader: {duck}"]


class DataLoaderError(AssertionError):
    pass


class DataLoader:
    def __init__(self, binary: str, scratch: Path):
        self.bin = binary
        self.scratch = scratch

    def run(self, *args, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        cmd = [self.bin, *[str(a) for a in args]]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise DataLoaderError(f"data_loader timed out after {timeout}s: {shlex.join(cmd)}") from e
        if check and p.returncode != 0:
            raise DataLoaderError(
                f"data_loader exited {p.returncode}: {shlex.join(cmd)}\n--- stderr ---\n{p.stderr[-4000:]}"
                f"\n--- stdout ---\n{p.stdout[-1500:]}")
        return p

    def run_json(self, *args):
        p = self.run(*args)
        try:
            return json.loads(p.stdout)
        except json.JSONDecodeError as e:
            raise DataLoaderError(f"data_loader {' '.join(map(str, args))} did not print JSON: {e}\n"
                                  f"stdout: {p.stdout[:2000]!r}") from e

    # Convenience wrappers for the CLI contract --------------------------------------------
    def describe(self, path):
        return self.run_json("table", "describe", path, "--json")

    def history(self, path):
        return self.run_json("table", "history", path, "--json")

    def files(self, path, version=None):
        extra = ["--version", str(version)] if version is not None else []
        return self.run_json("table", "files", path, "--json", *extra)

    def write(self, path, *sources, mode=None, partition_by=None, schema_evolution=None, fmt=None,
              check=True) -> subprocess.CompletedProcess:
        args = ["table", "write", str(path)]
        for s in sources:
            args += ["--source", str(s)]
        if fmt:
            args += ["--format", fmt]
        if mode:
            args += ["--mode", mode]
        if partition_by:
            args += ["--partition-by", ",".join(partition_by)]
        if schema_evolution:
            args += ["--schema-evolution", schema_evolution]
        return self.run(*args, check=check)

    def scan(self, path, version=None, timestamp=None) -> il.Snapshot:
        return il.read_dl(self, path, version=version, timestamp=timestamp, out_dir=self.scratch)


@pytest.fixture(scope="session")
def dl_bin() -> str:
    binary = os.environ.get("DATA_LOADER_BIN", str(REPO / "build" / "data_loader"))
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        pytest.fail(f"data_loader binary not found or not executable: {binary} "
                    f"(build it, or point DATA_LOADER_BIN at it)", pytrace=False)
    p = subprocess.run([binary, "table", "--help"], capture_output=True, text=True, timeout=60)
    helptext = p.stdout + p.stderr
    if p.returncode != 0 or not all(v in helptext for v in ("scan", "write", "describe")):
        pytest.fail(f"{binary} does not implement the `table` verbs yet "
                    f"(`data_loader table --help` exited {p.returncode} and lists no scan/write/describe):\n"
                    f"{helptext[:1500]}", pytrace=False)
    return binary


@pytest.fixture(scope="session")
def dl(dl_bin, tmp_path_factory) -> DataLoader:
    return DataLoader(dl_bin, tmp_path_factory.mktemp("dl_scratch"))


@pytest.fixture(scope="session")
def run_dl(dl):
    """run_dl(*args) -> CompletedProcess; raises with the command and stderr on a non-zero exit."""
    return dl.run


@pytest.fixture(scope="session")
def spark():
    session = il.make_spark()
    yield session
    session.stop()


@pytest.fixture(scope="session")
def duckdb_mode() -> str:
    mode = il.duckdb_mode()
    if mode == "files":
        # Not a skip: the DuckDB check still runs, on the snapshot's files (see interop_lib).
        print("\nNOTE: DuckDB delta extension unavailable -> DuckDB checks use read_parquet over the "
              "snapshot's files (FALLBACK)", file=sys.stderr)
    return mode


@pytest.fixture
def readers(spark, duckdb_mode):
    """The three independent engines as name -> fn(path, version) -> Snapshot."""
    return {
        "spark": lambda p, v=None: il.read_spark(spark, p, v),
        "delta-rs": lambda p, v=None: il.read_delta_rs(p, v),
        f"duckdb[{duckdb_mode}]": lambda p, v=None: il.read_duckdb(p, v),
    }
