"""Fixtures of the Python package's tests (scripts/test_python.sh runs them in a fresh venv
that installed the built wheel; see README.md here).

- The package under test must be the installed wheel, never the source tree: a wrong
  `data_loader` FAILS the session.
- `dl_bin`: the data_loader executable ($DATA_LOADER_BIN), the reference the package's
  results are compared with; `demo_gen`: the demo data generator beside it.
- `demo`: a directory with the example config and two batches of demo files.
- `Workspace` / `ws_pair`: raw/, processed/, checkpoints/ and a config, twice: one for the
  API, one for the command line (the same wheel's `python -m data_loader.main`).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

os.environ["TZ"] = "UTC"

def pytest_sessionstart(session):
    import data_loader

    site = Path(sysconfig.get_paths()["platlib"]).resolve()
    where = Path(data_loader.__file__).resolve()
    if site not in where.parents:
        pytest.exit(f"data_loader comes from {where}, not from the installed wheel in {site}",
                    returncode=3)


@pytest.fixture(scope="session")
def dl_bin() -> str:
    binary = os.environ.get("DATA_LOADER_BIN", "")
    if not (binary and os.access(binary, os.X_OK)):
        pytest.fail(f"set DATA_LOADER_BIN to the data_loader executable (got {binary!r})",
                    pytrace=False)
    return binary


@pytest.fixture(scope="session")
def demo_gen(dl_bin) -> str:
    gen = str(Path(dl_bin).parent / "dl_demo_gen")
    if not os.access(gen, os.X_OK):
        pytest.fail(f"demo generator not found: {gen}", pytrace=False)
    return gen


def python_cli(*args: str, cwd=None, env=None) -> subprocess.CompletedProcess:
    """`python -m data_loader.main ARGS` with this venv's Python."""
    return subprocess.run([sys.executable, "-m", "data_loader.main", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def exe_cli(dl_bin: str, *args: str, cwd=None, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([dl_bin, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


def make_demo(dl_bin: str, demo_gen: str, base: Path, batches: int = 2) -> Path:
    """The example config with its data under `base`; returns the config's path."""
    base.mkdir(parents=True, exist_ok=True)
    config = base / "config.yaml"
    p = exe_cli(dl_bin, "create-example-config", "--output", str(config), "--base-dir", str(base))
    assert p.returncode == 0, p.stderr
    subprocess.run([demo_gen, str(base), str(batches), "0"], check=True, capture_output=True)
    return config


@pytest.fixture
def demo(tmp_path, dl_bin, demo_gen) -> Path:
    return make_demo(dl_bin, demo_gen, tmp_path / "demo")


# Columns that differ between two runs of the same data (time, batch, source location).
VOLATILE = ("_load_timestamp", "_batch_id", "_source_file", "effective_date", "end_date")


class Workspace:
    """raw/, processed/, checkpoints/ under one root, a config and the CLI on it."""

    def __init__(self, root: Path):
        self.root = root
        self.raw = root / "raw"
        self.raw.mkdir(parents=True, exist_ok=True)
        self.config_path = root / "config.yaml"

    def config_dict(self, tables: list[dict], **extra) -> dict:
        cfg = {
            "raw_data_path": str(self.raw),
            "processed_data_path": str(self.root / "processed"),
            "checkpoint_path": str(self.root / "checkpoints"),
            "max_parallel_jobs": 2,
            "retry_attempts": 2,
            "retry_backoff_ms": 5,
            "log_level": "WARNING",
            "tables": tables,
        }
        cfg.update(extra)
        return cfg

    def table(self, name: str, pattern: str, strategy: str = "append", fmt: str = "parquet",
              **extra) -> dict:
        entry = {"table_name": name, "database_name": "sales",
                 "source_path_pattern": str(self.raw / pattern),
                 "loading_strategy": strategy, "file_format": fmt}
        entry.update(extra)
        return entry

    def write_config(self, cfg: dict) -> Path:
        self.config_path.write_text(json.dumps(cfg, indent=2))  # JSON is YAML
        return self.config_path

    def cli(self, *args: str, config: bool = True, timeout: float = 300):
        cmd = [sys.executable, "-m", "data_loader.main", *args]
        if config:
            cmd += ["--config", str(self.config_path)]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)

    def read(self, name: str, db: str = "sales") -> pa.Table:
        from deltalake import DeltaTable

        return DeltaTable(str(self.root / "processed" / db / name)).to_pyarrow_table()


def write_customers(raw: Path, start: int, n: int, name: str) -> Path:
    path = raw / "customers" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    ids = list(range(start, start + n))
    pq.write_table(pa.table({"customer_id": ids, "name": [f"c{i}" for i in ids],
                             "email": [f"c{i}@example.com" for i in ids]}), path)
    return path


def write_orders(raw: Path, start: int, n: int, name: str) -> Path:
    path = raw / "orders" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    ids = list(range(start, start + n))
    pq.write_table(pa.table({"order_id": ids, "customer_id": [i % 7 for i in ids],
                             "amount": [i * 1.5 for i in ids]}), path)
    return path


def stable_rows(table: pa.Table) -> list[dict]:
    """The table's rows without the columns that differ between runs, sorted."""
    keep = [c for c in table.column_names if c not in VOLATILE]
    rows = table.select(keep).to_pylist()
    return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))


def comparable_run(metrics: dict) -> dict:
    """A run's metrics without what differs between two runs of the same data."""
    drop_tables = {"seconds", "rows_per_second"}
    tables = [{k: v for k, v in t.items() if k not in drop_tables} for t in metrics["tables"]]
    totals = {k: v for k, v in metrics["totals"].items()
              if k not in {"seconds", "rows_per_second", "bytes_per_second"}}
    return {"command": metrics["command"], "dry_run": metrics["dry_run"], "totals": totals,
            "tables": tables}


def comparable_status(status: dict, root: Path) -> dict:
    """status --json with the workspace's root and load times taken out."""
    text = json.dumps(status).replace(str(root), "<root>")
    data = json.loads(text)
    for t in data["tables"]:
        t["last_load"] = t["last_load"] is not None
    return data


@pytest.fixture
def ws_pair(tmp_path) -> tuple[Workspace, Workspace]:
    """Two workspaces for the same data: one for the API, one for the command line."""
    return Workspace(tmp_path / "api"), Workspace(tmp_path / "cli")
