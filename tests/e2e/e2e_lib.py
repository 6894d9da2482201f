"""Helpers and fixtures for the loader's end-to-end suite (see README.md here; conftest.py
imports the fixtures).

- `dl_bin`: the real data_loader binary ($DATA_LOADER_BIN, default <repo>/build/data_loader).  A
  missing binary, or one without the `run` command, FAILS the tests (nothing is skipped).
- `demo_gen`: the demo data generator (<build dir>/dl_demo_gen, next to the binary).
- `env`: a `LoaderEnv` in tmp_path: raw/, processed/, checkpoints/, a config writer, `run(...)`
  and readers for the target tables (delta-rs), the file tracker and `status --json`.
- `spark`: one session-scoped local[2] Spark + delta-spark session (shared with tests/interop
  when both run: `getOrCreate` returns the same session).
"""
from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "interop"))
import interop_lib as il  # noqa: E402  (make_spark: the same Spark setup as the interop suite)

os.environ["TZ"] = "UTC"
time.tzset()
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)

AUDIT_COLUMNS = ("_load_timestamp", "_source_file", "_batch_id")


def binary_path() -> str:
    return os.environ.get("DATA_LOADER_BIN", str(REPO / "build" / "data_loader"))


@pytest.fixture(scope="session")
def dl_bin() -> str:
    binary = binary_path()
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        pytest.fail(f"data_loader binary not found or not executable: {binary} "
                    f"(build it, or point DATA_LOADER_BIN at it)", pytrace=False)
    p = subprocess.run([binary, "run", "--help"], capture_output=True, text=True, timeout=60)
    if p.returncode != 0 or "--config" not in p.stdout + p.stderr:
        pytest.fail(f"{binary} has no `run` command (`run --help` exited {p.returncode}):\n"
                    f"{(p.stdout + p.stderr)[:1500]}", pytrace=False)
    return binary


@pytest.fixture(scope="session")
def demo_gen(dl_bin) -> str:
    gen = Path(dl_bin).parent / "dl_demo_gen"
    if not (gen.is_file() and os.access(gen, os.X_OK)):
        pytest.fail(f"demo generator not found next to the binary: {gen}", pytrace=False)
    return str(gen)


@pytest.fixture(scope="session")
def spark():
    session = il.make_spark()
    yield session
    session.stop()


# ------------------------------------------------------------------------------------------
# A tiny YAML emitter (no PyYAML in the venv): dicts, lists, str/int/float/bool/None.
# ------------------------------------------------------------------------------------------

def _scalar(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    return json.dumps(str(v))  # a JSON string is a valid YAML double-quoted scalar


def to_yaml(obj, indent: int = 0) -> str:
    pad = " " * indent
    lines: list[str] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, dict) and v:
                lines.append(f"{pad}{k}:")
                lines.append(to_yaml(v, indent + 2))
            elif isinstance(v, list) and v:
                lines.append(f"{pad}{k}:")
                lines.append(to_yaml(v, indent + 2))
            elif isinstance(v, (dict, list)):
                lines.append(f"{pad}{k}: {'{}' if isinstance(v, dict) else '[]'}")
            else:
                lines.append(f"{pad}{k}: {_scalar(v)}")
    elif isinstance(obj, list):
        for item in obj:
            if isinstance(item, dict) and item:
                body = to_yaml(item, indent + 2).split("\n")
                lines.append(f"{pad}- {body[0].lstrip()}")
                lines.extend(body[1:])
            else:
                lines.append(f"{pad}- {_scalar(item)}")
    else:
        lines.append(pad + _scalar(obj))
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------
# Source data writers
# ------------------------------------------------------------------------------------------

def write_parquet(path: Path, columns: dict, schema: pa.Schema | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns, schema=schema), path)
    return path


def write_csv(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        text = text.encode()
    path.write_bytes(text)
    return path


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def csv_rows(start: int, n: int, tag: str = "x") -> str:
    """`id,name,amount` csv text with ids start..start+n-1."""
    return "id,name,amount\n" + "".join(f"{i},{tag}{i},{i * 10}\n" for i in range(start, start + n))


def bump_mtime(path: Path, seconds: float = 5.0) -> None:
    st = path.stat()
    os.utime(path, (st.st_atime + seconds, st.st_mtime + seconds))


# ------------------------------------------------------------------------------------------
# The environment of one test
# ------------------------------------------------------------------------------------------


def read_delta(path: Path) -> pa.Table:
    """The table's rows as delta-rs reads them; a table with deletion vectors or type widening
    (which delta-rs 1.6 refuses to read) through DuckDB's delta extension instead."""
    try:
        return DeltaTable(str(path)).to_pyarrow_table()
    except Exception as e:  # noqa: BLE001
        if "deletionVectors" not in str(e) and "typeWidening" not in str(e):
            raise
    con = il._duckdb_connect_with_delta().cursor()
    try:
        return con.execute("SELECT * FROM delta_scan(?)", [str(path)]).fetch_arrow_table()
    finally:
        con.close()


@dataclass
class Result:
    cmd: list[str]
    rc: int
    stdout: str
    stderr: str

    @property
    def out(self) -> str:
        return self.stdout + "\n" + self.stderr

    def __str__(self) -> str:
        return (f"$ {shlex.join(self.cmd)}\n(exit {self.rc})\n--- stdout ---\n{self.stdout[-3000:]}"
                f"\n--- stderr ---\n{self.stderr[-5000:]}")


class LoaderEnv:
    DB = "e2e"

    def __init__(self, binary: str, root: Path):
        self.bin = binary
        self.root = root
        self.raw = root / "raw"
        self.processed = root / "processed"
        self.checkpoints = root / "checkpoints"
        self.config_path = root / "config.yaml"
        self.raw.mkdir(parents=True, exist_ok=True)

    # -- config --------------------------------------------------------------------------
    def table_entry(self, name: str, pattern: str, fmt: str, **extra) -> dict:
        """A table entry; `pattern` is relative to raw/ (made absolute here)."""
        entry = {
            "table_name": name,
            "database_name": self.DB,
            "source_path_pattern": str(self.raw / pattern),
            "loading_strategy": "append",
            "file_format": fmt,
        }
        entry.update(extra)
        return entry

    def config_dict(self, tables: list[dict], **globals_) -> dict:
        cfg = {
            "raw_data_path": str(self.raw),
            "processed_data_path": str(self.processed),
            "checkpoint_path": str(self.checkpoints),
            "max_parallel_jobs": 2,
            "retry_attempts": 3,
            "retry_backoff_ms": 5,
            "timeout_minutes": 5,
            "log_level": "INFO",
            "enable_metrics": False,
        }
        cfg.update(globals_)
        cfg["tables"] = tables
        return cfg

    def write_config(self, tables: list[dict], **globals_) -> Path:
        self.config_path.write_text(to_yaml(self.config_dict(tables, **globals_)) + "\n")
        return self.config_path

    # -- running ---------------------------------------------------------------------------
    def cmd(self, *args, config: Path | None | bool = True) -> list[str]:
        cmd = [self.bin, *map(str, args)]
        if config is True:
            cmd += ["--config", str(self.config_path)]
        elif config:
            cmd += ["--config", str(config)]
        return cmd

    def run(self, *args, config: Path | None | bool = True, timeout: float = 120) -> Result:
        cmd = self.cmd(*args, config=config)
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise AssertionError(f"timed out after {timeout}s: {shlex.join(cmd)}") from e
        return Result(cmd, p.returncode, p.stdout, p.stderr)

    def load(self, *args, expect: int = 0, **kw) -> Result:
        """`run` (plus args); asserts the exit code."""
        r = self.run("run", *args, **kw)
        assert r.rc == expect, f"expected exit {expect}\n{r}"
        return r

    def status(self) -> dict[str, dict]:
        r = self.run("status", "--json")
        assert r.rc == 0, str(r)
        try:
            data = json.loads(r.stdout)
        except json.JSONDecodeError as e:
            raise AssertionError(f"status --json printed no JSON: {e}\n{r}") from e
        return {t["table"]: t for t in data["tables"]}

    # -- reading ---------------------------------------------------------------------------
    def table_path(self, name: str, db: str | None = None) -> Path:
        return self.processed / (db or self.DB) / name

    @property
    def tracker_path(self) -> Path:
        return self.processed / "metadata" / "file_processing_tracker"

    def is_delta(self, name: str, db: str | None = None) -> bool:
        return (self.table_path(name, db) / "_delta_log").is_dir() and any(
            (self.table_path(name, db) / "_delta_log").glob("*.json"))

    def read(self, name: str, db: str | None = None) -> pa.Table:
        return read_delta(self.table_path(name, db))

    def version(self, name: str, db: str | None = None) -> int:
        return DeltaTable(str(self.table_path(name, db))).version()

    def rows_by_file(self, name: str, db: str | None = None) -> dict[str, int]:
        t = self.read(name, db)
        out: dict[str, int] = {}
        for f in t.column("_source_file").to_pylist():
            out[f] = out.get(f, 0) + 1
        return out

    def tracker(self) -> dict[tuple[str, str], dict]:
        """The tracker's current state, by the loader's rule: per (table_name, file_path), of the
        newest file version (size, mtime, ETag) its completed row if any, else its newest row."""
        t = DeltaTable(str(self.tracker_path)).to_pyarrow_table()
        con = duckdb.connect()
        con.register("tracker", t)
        rows = con.execute(
            "SELECT * EXCLUDE (v_updated) FROM (SELECT *, max(updated_at) OVER (PARTITION BY "
            "table_name, file_path, file_size, file_modified_time, file_etag) AS v_updated "
            "FROM tracker) "
            "QUALIFY row_number() OVER (PARTITION BY table_name, file_path ORDER BY v_updated "
            "DESC, status = 'completed' DESC, updated_at DESC) = 1").fetch_arrow_table().to_pylist()
        return {(r["table_name"], r["file_path"]): r for r in rows}

    def tracker_for(self, name: str, db: str | None = None) -> dict[str, dict]:
        qualified = f"{db or self.DB}.{name}"
        return {p: r for (t, p), r in self.tracker().items() if t == qualified}


@pytest.fixture
def env(dl_bin, tmp_path) -> LoaderEnv:
    return LoaderEnv(dl_bin, tmp_path)


# ------------------------------------------------------------------------------------------
# Shared assertions
# ------------------------------------------------------------------------------------------

def assert_loaded_exactly(env: LoaderEnv, table: str, expected: dict[Path | str, int], db=None):
    """Each source file's rows are in the table exactly `expected[file]` times, no other file."""
    got = env.rows_by_file(table, db)
    want = {str(k): v for k, v in expected.items()}
    assert got == want, f"{db or env.DB}.{table}: rows per _source_file {got} != expected {want}"


def assert_file_failed(env: LoaderEnv, result: Result, table: str, bad: Path, cause: str):
    """The file's failure is visible everywhere: the run output, `status --json` and the
    tracker, each naming the file and matching `cause` (a case-insensitive regex)."""
    qualified = f"{env.DB}.{table}"
    assert str(bad) in result.out, f"the output does not name {bad}\n{result}"
    lines = [line for line in result.out.splitlines() if str(bad) in line]
    assert any(re.search(cause, line, re.I) for line in lines), (
        f"no output line naming {bad.name} gives the cause /{cause}/:\n" + "\n".join(lines[:10])
        + f"\n{result}")
    status = env.status()[qualified]
    fails = {f["file"]: f for f in status["failures"]}
    assert str(bad) in fails, f"status --json lists no failure for {bad}: {status}"
    assert re.search(cause, fails[str(bad)]["error"], re.I), (
        f"status error for {bad.name} does not give the cause /{cause}/: {fails[str(bad)]}")
    rec = env.tracker_for(table).get(str(bad))
    assert rec is not None, f"{bad} is not in the tracker"
    assert rec["status"] == "failed", f"tracker status of {bad.name}: {rec}"
    assert rec["error_message"] and re.search(cause, rec["error_message"], re.I), (
        f"tracker error_message for {bad.name} does not give the cause /{cause}/: {rec}")


def assert_completed(env: LoaderEnv, table: str, files, db=None):
    recs = env.tracker_for(table, db)
    for f in files:
        rec = recs.get(str(f))
        assert rec is not None and rec["status"] == "completed", (
            f"tracker: {f} of {table} is not completed: {rec}")


def wait_for(pred, timeout: float, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def stop_process(p: subprocess.Popen, sig=signal.SIGKILL):
    if p.poll() is None:
        p.send_signal(sig)
        p.wait(timeout=30)


def run_together(cmds: list[list[str]], timeout: float) -> tuple[list[tuple[int, str, str]], str]:
    """Start every command at once and wait for all: each one's (exit, stdout, stderr) and a
    report of them for assertion messages. A command still running at the end is killed."""
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for c in cmds]
    outs = []
    try:
        for p in procs:
            out, err = p.communicate(timeout=timeout)
            outs.append((p.returncode, out, err))
    finally:
        for p in procs:
            stop_process(p)
    return outs, "\n\n".join(f"exit {rc}\n{out}\n{err[-3000:]}" for rc, out, err in outs)


def run_and_kill_when(env: LoaderEnv, pred, timeout: float, what: str) -> subprocess.Popen:
    """Start `run`, SIGKILL it as soon as pred() holds, and check it was killed (not done)."""
    p = subprocess.Popen(env.cmd("run"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: pred() or p.poll() is not None, timeout, 0.002, what)
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
    finally:
        stop_process(p)
    assert p.returncode == -signal.SIGKILL, (
        f"the loader finished before it could be killed (exit {p.returncode}); make the test "
        f"data bigger")
    return p
