"""data_loader.job_runner: widgets through dbutils, else DATALOADER_* variables."""
from __future__ import annotations

import os
import subprocess
import sys

from conftest import Workspace, write_customers, write_orders
from data_loader import job_runner


def setup(ws: Workspace):
    write_customers(ws.raw, 0, 10, "c1.parquet")
    write_orders(ws.raw, 0, 20, "o1.parquet")
    return ws.write_config(ws.config_dict([ws.table("customers", "customers/*.parquet"),
                                           ws.table("orders", "orders/*.parquet")]))


def test_env_variables(tmp_path):
    ws = Workspace(tmp_path)
    path = setup(ws)
    env = dict(os.environ, DATALOADER_CONFIG_FILE=str(path), DATALOADER_COMMAND="run",
               DATALOADER_TABLES="orders")
    p = subprocess.run([sys.executable, "-m", "data_loader.job_runner"], env=env,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert ws.read("orders").num_rows == 20
    assert not (ws.root / "processed" / "sales" / "customers").exists()


class Widgets:
    """dbutils.widgets as Databricks has it: get(name) raises for an undefined widget."""

    def __init__(self, values: dict[str, str]):
        self.values = values
        self.asked: list[str] = []

    def get(self, name: str) -> str:
        self.asked.append(name)
        if name not in self.values:
            raise ValueError(f"InputWidgetNotDefined: No input widget named {name} is defined")
        return self.values[name]


class DBUtils:
    def __init__(self, values: dict[str, str]):
        self.widgets = Widgets(values)


def test_widgets_through_dbutils(tmp_path, monkeypatch):
    ws = Workspace(tmp_path)
    path = setup(ws)
    for var in [v for v in os.environ if v.startswith("DATALOADER_")]:
        monkeypatch.delenv(var)
    dbutils = DBUtils({"config": str(path), "tables": "customers", "log_level": "error",
                       "optimize": "true", "vacuum": "false"})
    assert job_runner.job_arguments(job_runner.read_widgets(dbutils)) == [
        "run-cluster", "--config", str(path), "--log-level", "ERROR", "--optimize=true",
        "--vacuum=false", "--tables", "customers"]
    # Found where a notebook has it (builtins here; the IPython namespace comes first).
    monkeypatch.setattr("builtins.dbutils", dbutils, raising=False)
    assert job_runner.run_job() == 0
    assert set(dbutils.widgets.asked) == set(job_runner.WIDGETS)
    assert ws.read("customers").num_rows == 10
    assert not (ws.root / "processed" / "sales" / "orders").exists()
    # A missing config widget leaves it to DATALOADER_CONFIG_FILE.
    monkeypatch.setenv("DATALOADER_CONFIG_FILE", str(path))
    assert job_runner.run_job(DBUtils({"tables": "orders"})) == 0
    assert ws.read("orders").num_rows == 20
