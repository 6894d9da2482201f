"""The original's "Command Line Interface" snippets, one test each, through
`python -m data_loader.main` from the installed wheel, compared with the data_loader executable
on a twin copy of the same data: same exit code, same output (paths, ids, times and rates
normalised), same tables and status."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from deltalake import DeltaTable

from conftest import exe_cli, make_demo, python_cli

TABLES = ("customers", "transactions", "events")
VOLATILE = [
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<ID>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?Z?"), "<TIME>"),
    # durations, rates, sizes and CPU figures that differ run to run; the counts that must
    # agree are checked on the raw output
    (re.compile(r"\d[\d,.]*( ?[KM]\b)?"), "<N>"),
    (re.compile(r"[ \t]+"), " "),  # table columns widen with their numbers
]


def normalise(text: str, base: Path, numbers: bool = True) -> str:
    text = text.replace(str(base), "<BASE>")
    for pattern, repl in VOLATILE if numbers else VOLATILE[:2]:
        text = pattern.sub(repl, text)
    return text


@pytest.fixture
def twins(tmp_path, dl_bin, demo_gen):
    """Two identical demo directories: one for the package, one for the executable. Both
    configs live at the same relative place so normalised outputs compare."""
    py = make_demo(dl_bin, demo_gen, tmp_path / "py" / "demo")
    exe = make_demo(dl_bin, demo_gen, tmp_path / "exe" / "demo")
    return py, exe


def both(dl_bin, twins, *args: str):
    """Run ARGS (with {config} replaced by each twin's config) through both; returns the two
    completed processes after checking exit code and normalised stdout/stderr agree."""
    py_cfg, exe_cfg = twins
    p = python_cli(*[a.format(config=py_cfg) for a in args], cwd=py_cfg.parent)
    e = exe_cli(dl_bin, *[a.format(config=exe_cfg) for a in args], cwd=exe_cfg.parent)
    assert p.returncode == e.returncode, (p.stderr, e.stderr)
    assert normalise(p.stdout, py_cfg.parent) == normalise(e.stdout, exe_cfg.parent)
    if "--log-level" not in args:  # DEBUG logs carry timings that differ run to run
        # Tables load in parallel: their log lines interleave in any order.
        assert sorted(normalise(p.stderr, py_cfg.parent).splitlines()) == sorted(
            normalise(e.stderr, exe_cfg.parent).splitlines())
    return p, e


def rows(config: Path, table: str) -> list[dict]:
    path = config.parent / "processed" / "analytics" / table
    data = DeltaTable(str(path)).to_pyarrow_table().to_pylist()
    for r in data:
        for volatile in ("_load_timestamp", "_batch_id"):
            r.pop(volatile, None)
        r["_source_file"] = Path(r["_source_file"]).name
        for k, v in list(r.items()):  # SCD2 dates are load times
            if k in ("effective_date", "end_date"):
                r.pop(k)
    return sorted(data, key=lambda r: json.dumps(r, sort_keys=True, default=str))


def assert_same_tables(twins, tables=TABLES):
    py_cfg, exe_cfg = twins
    for t in tables:
        assert rows(py_cfg, t) == rows(exe_cfg, t), t


def status(dl_bin, config: Path) -> list[dict]:
    p = exe_cli(dl_bin, "status", "--config", str(config), "--json")
    assert p.returncode == 0, p.stderr
    return json.loads(normalise(p.stdout, config.parent, numbers=False))


def test_run_with_config_file(dl_bin, twins):
    p, _ = both(dl_bin, twins, "run", "--config", "{config}")
    assert p.returncode == 0 and "6 files loaded" in p.stdout
    assert_same_tables(twins)
    assert status(dl_bin, twins[0]) == status(dl_bin, twins[1])
    # the second run loads nothing new, through the package too
    p, _ = both(dl_bin, twins, "run", "--config", "{config}")
    assert "0 files loaded" in p.stdout


def test_run_with_inline_config(dl_bin, twins):
    # The original's one-line YAML with literal \n separators.
    def inline(cfg: Path) -> str:
        base = cfg.parent
        return (f"raw_data_path: {base}/raw/\\nprocessed_data_path: {base}/processed/\\n"
                f"checkpoint_path: {base}/checkpoints/\\ntables:\\n"
                f"  - table_name: transactions\\n    database_name: analytics\\n"
                f"    source_path_pattern: {base}/raw/transactions/*.parquet\\n"
                f"    file_format: parquet\\n    loading_strategy: append")

    py_cfg, exe_cfg = twins
    p = python_cli("run", "--config-json", inline(py_cfg), cwd=py_cfg.parent)
    e = exe_cli(dl_bin, "run", "--config-json", inline(exe_cfg), cwd=exe_cfg.parent)
    assert p.returncode == e.returncode == 0, (p.stderr, e.stderr)
    assert normalise(p.stdout, py_cfg.parent) == normalise(e.stdout, exe_cfg.parent)
    assert "2 files loaded" in p.stdout
    assert_same_tables(twins, ["transactions"])


def test_run_specific_tables(dl_bin, twins):
    p, _ = both(dl_bin, twins, "run", "--config", "{config}", "--tables", "customers,transactions")
    assert p.returncode == 0 and "4 files loaded" in p.stdout
    assert not (twins[0].parent / "processed" / "analytics" / "events").exists()
    assert_same_tables(twins, ["customers", "transactions"])


def test_dry_run(dl_bin, twins):
    p, _ = both(dl_bin, twins, "run", "--config", "{config}", "--dry-run")
    assert p.returncode == 0 and "customers" in p.stdout
    assert not (twins[0].parent / "processed").exists()


def test_run_with_optimize_and_vacuum(dl_bin, twins):
    p, _ = both(dl_bin, twins, "run", "--config", "{config}", "--optimize", "--vacuum")
    assert p.returncode == 0
    assert_same_tables(twins)


def test_run_cluster(dl_bin, twins):
    p, _ = both(dl_bin, twins, "run-cluster", "--config", "{config}")
    assert p.returncode == 0 and "6 files loaded" in p.stdout
    assert_same_tables(twins)


def test_run_cluster_unity_catalog(dl_bin, twins):
    # The example config's databases have no catalog: both refuse it the same way (exit 2).
    p, _ = both(dl_bin, twins, "run-cluster", "--config", "{config}", "--unity-catalog")
    assert p.returncode == 2 and "has no catalog" in p.stderr


def test_run_cluster_monitoring(dl_bin, twins):
    p, _ = both(dl_bin, twins, "run-cluster", "--config", "{config}", "--monitoring")
    assert p.returncode == 0
    assert_same_tables(twins)


def test_run_cluster_dry_run(dl_bin, twins):
    p, _ = both(dl_bin, twins, "run-cluster", "--config", "{config}", "--dry-run")
    assert p.returncode == 0 and "customers" in p.stdout


def test_cluster_status(dl_bin, twins):
    p, _ = both(dl_bin, twins, "cluster-status", "--config", "{config}", "--json")
    doc = json.loads(p.stdout)
    assert doc["environment"] and "recommendations" in json.dumps(doc)


def test_status(dl_bin, twins):
    both(dl_bin, twins, "run", "--config", "{config}")
    p, _ = both(dl_bin, twins, "status", "--config", "{config}")
    assert p.returncode == 0 and "analytics.customers" in p.stdout


def test_create_example_config(dl_bin, tmp_path):
    p = python_cli("create-example-config", "--output", "my_config.yaml", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    (tmp_path / "exe").mkdir()
    e = exe_cli(dl_bin, "create-example-config", "--output", "my_config.yaml",
                cwd=tmp_path / "exe")
    assert e.returncode == 0
    made = (tmp_path / "my_config.yaml").read_text().replace(str(tmp_path), "<BASE>")
    assert made == (tmp_path / "exe" / "my_config.yaml").read_text().replace(
        str(tmp_path / "exe"), "<BASE>")
    # refuses to overwrite, as the executable does
    p = python_cli("create-example-config", "--output", "my_config.yaml", cwd=tmp_path)
    assert p.returncode == 2 and "--force" in p.stderr


def test_debug_logging(dl_bin, twins):
    p, _ = both(dl_bin, twins, "run", "--config", "{config}", "--log-level", "DEBUG")
    assert p.returncode == 0 and "DEBUG" in p.stderr
    assert_same_tables(twins)


def test_usage_errors_match(dl_bin, twins):
    p, _ = both(dl_bin, twins, "run", "--no-such-option")
    assert p.returncode != 0
    p, _ = both(dl_bin, twins, "validate", "--config", "{config}.missing")
    assert p.returncode == 2


def test_console_scripts_and_wheel_task_entry_point(twins):
    import importlib.metadata as md
    import subprocess
    import sys

    eps = {ep.name: ep.value for ep in md.distribution("databricks-data-loader").entry_points}
    assert eps["data-loader"] == eps["main"] == "data_loader.main:main"
    # The fallback a python_wheel_task uses: databricks_data_loader.main()
    py_cfg = twins[0]
    code = ("import sys, databricks_data_loader as d; sys.argv=['x','validate','--config',"
            f"{str(py_cfg)!r}]; d.main()")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0 and "valid, 3 table(s)" in p.stdout
    script = Path(sys.executable).parent / "data-loader"
    p = subprocess.run([str(script), "validate", "--config", str(py_cfg)], capture_output=True,
                       text=True)
    assert p.returncode == 0 and "valid, 3 table(s)" in p.stdout


def test_same_python_process_runs_twice(twins):
    """main.run_cli returns to Python with Python's own Ctrl-C handling back, and can run
    again in the same process."""
    import os
    import signal
    import time

    from data_loader.main import run_cli

    assert run_cli(["validate", "--config", str(twins[0])]) == 0
    assert run_cli(["run", "--config", str(twins[0])]) == 0
    assert run_cli(["run", "--config", str(twins[0])]) == 0
    # A SIGINT now is Python's KeyboardInterrupt again, not a stop request to a finished run.
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)
