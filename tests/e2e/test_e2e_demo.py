"""The demo data end to end: create-example-config + dl_demo_gen, run, status, reruns, new
files, --dry-run, --tables, metrics, and a Spark read of a loaded table."""
from __future__ import annotations

import glob
import json
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from e2e_lib import AUDIT_COLUMNS, LoaderEnv, assert_completed, assert_loaded_exactly

DEMO_TABLES = {"customers": "csv", "transactions": "parquet", "events": "json"}


def source_rows(path: Path) -> int:
    if path.suffix == ".parquet":
        return pq.read_metadata(path).num_rows
    reader = "read_csv" if path.suffix == ".csv" else "read_json_auto"
    return duckdb.sql(f"SELECT count(*) FROM {reader}('{path}')").fetchone()[0]


def demo_files(raw: Path, table: str) -> list[Path]:
    return sorted((raw / table).glob(f"*.{DEMO_TABLES[table]}"))


@pytest.fixture
def demo(env: LoaderEnv, demo_gen) -> LoaderEnv:
    """Demo data (3 batches) and the unmodified example config, in tmp_path."""
    subprocess.run([demo_gen, str(env.root), "3"], check=True, capture_output=True)
    r = env.run("create-example-config", "--output", env.config_path, "--base-dir", env.root,
                config=None)
    assert r.rc == 0, str(r)
    env.DB = "analytics"
    return env


def test_demo_run_loads_every_file_once(demo: LoaderEnv):
    r = demo.load()
    for table in DEMO_TABLES:
        files = demo_files(demo.raw, table)
        assert len(files) == 3
        t = demo.read(table)
        for col in AUDIT_COLUMNS:
            assert col in t.column_names, f"{table}: audit column {col} missing: {t.column_names}"
        assert t.column("_load_timestamp").null_count == 0
        assert t.column("_batch_id").null_count == 0
        assert_loaded_exactly(demo, table, {f: source_rows(f) for f in files})
        assert t.num_rows == sum(source_rows(f) for f in files)
        assert_completed(demo, table, files)
    assert re.search(r"\b9 files loaded, 0 failed", r.stdout), r.stdout


def test_demo_status_json(demo: LoaderEnv):
    demo.load()
    status = demo.status()
    assert set(status) == {f"analytics.{t}" for t in DEMO_TABLES}
    for table in DEMO_TABLES:
        s = status[f"analytics.{table}"]
        files = demo_files(demo.raw, table)
        assert s["files"]["completed"] == 3, s
        assert s["files"]["failed"] == 0 and s["files"]["pending"] == 0, s
        assert s["files"]["processing"] == 0 and s["files"]["skipped"] == 0, s
        assert s["rows_loaded"] == sum(source_rows(f) for f in files), s
        assert s["version"] == demo.version(table), s
        assert s["failures"] == []
        assert s["last_load"], s
        assert Path(s["path"]) == demo.table_path(table)


def test_second_run_loads_nothing(demo: LoaderEnv):
    demo.load()
    versions = {t: demo.version(t) for t in DEMO_TABLES}
    counts = {t: demo.read(t).num_rows for t in DEMO_TABLES}
    r = demo.load()
    for t in DEMO_TABLES:
        assert demo.version(t) == versions[t], f"{t}: a second run committed\n{r}"
        assert demo.read(t).num_rows == counts[t]
    assert re.search(r"\b0 files loaded", r.stdout), r.stdout


def test_new_files_load_on_next_run_only_once(demo: LoaderEnv, demo_gen, tmp_path_factory):
    demo.load()
    more = tmp_path_factory.mktemp("more")
    subprocess.run([demo_gen, str(more), "4"], check=True, capture_output=True)
    added = {}
    for table, ext in DEMO_TABLES.items():
        src = more / "raw" / table / f"{table}_003.{ext}"
        assert src.exists(), sorted((more / "raw" / table).iterdir())
        dst = demo.raw / table / src.name
        shutil.copy(src, dst)
        added[table] = dst
    versions = {t: demo.version(t) for t in DEMO_TABLES}
    demo.load()
    for table in DEMO_TABLES:
        assert demo.version(table) > versions[table], f"{table}: new file not committed"
        assert_loaded_exactly(demo, table, {f: source_rows(f) for f in demo_files(demo.raw, table)})
    versions = {t: demo.version(t) for t in DEMO_TABLES}
    demo.load()
    for table in DEMO_TABLES:
        assert demo.version(table) == versions[table]
        assert_loaded_exactly(demo, table, {f: source_rows(f) for f in demo_files(demo.raw, table)})


def test_dry_run_prints_plan_and_changes_nothing(demo: LoaderEnv):
    r = demo.load("--dry-run")
    for table in DEMO_TABLES:
        assert f"analytics.{table}" in r.stdout, r.stdout
        for f in demo_files(demo.raw, table):
            assert str(f) in r.stdout, f"plan does not list {f}:\n{r.stdout}"
    assert not (demo.processed / "analytics").exists() or not any(
        (demo.processed / "analytics").iterdir()), list((demo.processed).rglob("*"))
    assert not demo.tracker_path.exists(), "dry run created the tracker"
    assert not (demo.checkpoints / "metrics").exists() or not any(
        (demo.checkpoints / "metrics").glob("run-*")), "dry run wrote run metrics"


def test_tables_option_limits_the_run(demo: LoaderEnv):
    demo.load("--tables", "customers,events")
    assert demo.is_delta("customers") and demo.is_delta("events")
    assert not demo.table_path("transactions").exists(), "--tables did not limit the run"
    demo.load("--tables", "analytics.transactions")
    assert demo.is_delta("transactions")
    assert_loaded_exactly(demo, "transactions",
                          {f: source_rows(f) for f in demo_files(demo.raw, "transactions")})


def test_example_config_validates_and_runs_as_is(demo: LoaderEnv):
    text = demo.config_path.read_text()
    assert "tables:" in text and "#" in text, "example config should be commented"
    r = demo.run("validate")
    assert r.rc == 0, str(r)
    assert "3 table" in r.stdout, r.stdout
    demo.load()
    for table in DEMO_TABLES:
        assert demo.read(table).num_rows > 0


def test_create_example_config_refuses_to_overwrite(env: LoaderEnv):
    out = env.root / "c.yaml"
    out.write_text("keep me\n")
    r = env.run("create-example-config", "--output", out, config=None)
    assert r.rc != 0 and "--force" in r.out, str(r)
    assert out.read_text() == "keep me\n"
    r = env.run("create-example-config", "--output", out, "--force", config=None)
    assert r.rc == 0 and "tables:" in out.read_text(), str(r)


def test_metrics_files(demo: LoaderEnv):
    demo.load()
    mdir = demo.checkpoints / "metrics"
    runs_json = sorted(mdir.glob("run-*.json"))
    runs_prom = sorted(mdir.glob("run-*.prom"))
    assert len(runs_json) == 1 and len(runs_prom) == 1, list(mdir.iterdir())
    assert (mdir / "latest.prom").is_file()
    assert not list(mdir.glob(".*.tmp")), "temporary metrics files left behind"
    m = json.loads(runs_json[0].read_text())
    total_rows = sum(source_rows(f) for t in DEMO_TABLES for f in demo_files(demo.raw, t))
    assert m["totals"]["files_loaded"] == 9 and m["totals"]["files_failed"] == 0, m["totals"]
    assert m["totals"]["rows_loaded"] == total_rows, m["totals"]
    assert m["totals"]["bytes_loaded"] == sum(
        f.stat().st_size for t in DEMO_TABLES for f in demo_files(demo.raw, t)), m["totals"]
    assert m["duration_seconds"] > 0 and m["totals"]["rows_per_second"] > 0
    per_table = {t["table"]: t for t in m["tables"]}
    for table in DEMO_TABLES:
        t = per_table[f"analytics.{table}"]
        assert t["files_loaded"] == 3 and t["target_version"] == demo.version(table), t
        assert t["rows_loaded"] == sum(source_rows(f) for f in demo_files(demo.raw, table)), t
    prom = (mdir / "latest.prom").read_text()
    assert prom == runs_prom[0].read_text()
    for table in DEMO_TABLES:
        rows = sum(source_rows(f) for f in demo_files(demo.raw, table))
        assert re.search(rf'^data_loader_table_rows\w*{{table="analytics.{table}"}} {rows}$', prom,
                         re.M), f"no rows gauge of {rows} for {table}:\n{prom[:3000]}"
    assert re.search(r"^data_loader_last_run_timestamp_seconds \d", prom, re.M), prom[-2000:]
    assert "data_loader_run_" in prom
    # A second run adds its own files and replaces latest.prom.
    demo.load()
    assert len(list(mdir.glob("run-*.json"))) == 2
    assert re.search(r'^data_loader_table_files_loaded{table="analytics.customers"} 0$',
                     (mdir / "latest.prom").read_text(), re.M)


def test_spark_reads_loaded_table(demo: LoaderEnv, spark):
    demo.load()
    path = str(demo.table_path("transactions"))
    ours = demo.read("transactions")
    df = spark.read.format("delta").load(path)
    for col in AUDIT_COLUMNS:
        assert col in df.columns
    rows = df.select("transaction_id", "_source_file").collect()  # one Spark job
    assert len(rows) == ours.num_rows
    assert sorted(r[0] for r in rows) == sorted(ours.column("transaction_id").to_pylist())
    by_file: dict[str, int] = {}
    for r in rows:
        by_file[r[1]] = by_file.get(r[1], 0) + 1
    assert by_file == demo.rows_by_file("transactions")
    detail = spark.sql(f"DESCRIBE DETAIL delta.`{path}`").collect()[0]
    assert detail["format"] == "delta"
    assert list(detail["partitionColumns"]) == ["transaction_date"]
    # Each commit names its source files in commitInfo.dataLoader.
    commit0 = (demo.table_path("transactions") / "_delta_log" / f"{0:020d}.json").read_text()
    infos = [json.loads(l)["commitInfo"] for l in commit0.splitlines() if '"commitInfo"' in l]
    assert infos and {f["path"] for f in infos[0]["dataLoader"]["sourceFiles"]} == {
        str(f) for f in demo_files(demo.raw, "transactions")}
