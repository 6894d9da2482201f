"""Cluster mode end to end: `run-cluster` (same loads as `run`, resources from the detected
environment, --monitoring figures and backpressure, --unity-catalog, --dry-run's environment and
plan), `cluster-status --json` on fake system roots (container cgroup v2, Databricks), and job
runner mode (options from DATALOADER_* variables; the command line wins)."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from deltalake import DeltaTable

from e2e_lib import assert_loaded_exactly, csv_rows, to_yaml, write_csv

GIB = 1 << 30


def fake_container(root: Path, cpu_max="150000 100000", memory_max=str(GIB), cores=8):
    """A directory shaped like / inside a cgroup v2 container."""
    files = {
        "proc/meminfo": "MemTotal:       67108864 kB\nMemAvailable:   60000000 kB\n",
        "sys/devices/system/cpu/online": f"0-{cores - 1}\n",
        "proc/self/cgroup": "0::/\n",
        "sys/fs/cgroup/cgroup.controllers": "cpuset cpu memory\n",
        "sys/fs/cgroup/cpu.max": cpu_max + "\n",
        "sys/fs/cgroup/memory.max": memory_max + "\n",
        "sys/fs/cgroup/memory.current": str(GIB // 4) + "\n",
        ".dockerenv": "",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def cluster_config(env, tables, drop_parallel=True, **globals_):
    cfg = env.config_dict(tables, **globals_)
    if drop_parallel:
        del cfg["max_parallel_jobs"]  # let run-cluster derive it
    env.config_path.write_text(to_yaml(cfg) + "\n")
    return env.config_path


def csv_files(env, sub, n, rows=3):
    return {write_csv(env.raw / sub / f"f{i:03}.csv", csv_rows(i * 100, rows)): rows for i in range(n)}


def run_env(env, *args, extra_env=None, config=True):
    cmd = env.cmd(*args, config=config)
    e = {k: v for k, v in os.environ.items() if not k.startswith("DATALOADER_")}
    e.update(extra_env or {})
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=e)
    return p


def metrics_json(env):
    files = sorted((env.checkpoints / "metrics").glob("run-*.json"))
    assert files, "no run metrics written"
    return json.loads(files[-1].read_text())


def test_run_cluster_loads_like_run_and_records_resources(env):
    files = csv_files(env, "a", 4)
    cluster_config(env, [env.table_entry("a", "a/*.csv", "csv", max_files_per_batch=1)],
                   enable_metrics=True)
    r = env.run("run-cluster", "--monitoring")
    assert r.rc == 0, str(r)
    assert "resources: cpu" in r.stdout
    assert_loaded_exactly(env, "a", files)
    m = metrics_json(env)
    assert m["command"] == "run-cluster"
    res = m["resources"]
    assert res["samples"] >= 2
    assert res["rss_peak_bytes"] > 0
    assert res["parallelism"] >= 1 and res["engine_threads"] >= 1
    assert res["memory_budget_bytes"] > 0 and res["engine_memory_bytes"] > 0
    prom = (env.checkpoints / "metrics" / "latest.prom").read_text()
    assert "data_loader_process_rss_peak_bytes " in prom
    assert 'command="run-cluster"' in prom
    # A second run loads nothing new; plain `run` sees the same state.
    r = env.run("run-cluster")
    assert r.rc == 0, str(r)
    assert_loaded_exactly(env, "a", files)
    assert env.load().rc == 0
    assert_loaded_exactly(env, "a", files)


def test_backpressure_holds_batches_and_loses_nothing(env):
    files = csv_files(env, "b", 6)
    # A threshold far below any real RSS: the gate is always closed, so one batch runs at a time.
    cluster_config(env, [env.table_entry("b", "b/*.csv", "csv", max_files_per_batch=1)],
                   drop_parallel=False, enable_metrics=True,
                   cluster={"memory_limit": "1GiB", "memory_budget_percent": 10,
                            "backpressure_percent": 1, "monitoring_interval_ms": 10})
    r = env.run("run-cluster", "--monitoring")
    assert r.rc == 0, str(r)
    assert_loaded_exactly(env, "b", files)
    res = metrics_json(env)["resources"]
    assert res["backpressure_pauses"] >= 1
    assert res["rss_peak_bytes"] > res["backpressure_at_bytes"]


def test_dry_run_prints_environment_plan_and_dependencies(env, tmp_path):
    root = fake_container(tmp_path / "sysroot")
    csv_files(env, "c", 2)
    cluster_config(env, [env.table_entry("c", "c/*.csv", "csv")],
                   upstream_dependencies=[f"file:{tmp_path}/ready.flag"],
                   cluster={"system_root": str(root)})
    r = env.run("run-cluster", "--dry-run")
    assert r.rc == 0, str(r)
    out = r.stdout
    assert "environment: container" in out
    assert "cgroup v2" in out and "cpu quota 1.50" in out
    assert "usable: 1 CPU(s), 1.0 GiB memory" in out
    # 75% of 1 GiB = 768 MiB; 768 MiB / 512 MiB per job -> 1; the CPU quota also allows 1.
    assert "plan: parallelism 1" in out
    assert "memory budget 768 MiB: 75% of the 1024 MiB memory limit" in out
    assert f"NOT MET file:{tmp_path}/ready.flag" in out
    assert "load  " in out  # then the loader's own plan
    assert not env.table_path("c").exists()


def test_cluster_status_json_in_a_container(env, tmp_path):
    root = fake_container(tmp_path / "sysroot", cpu_max="400000 100000", memory_max=str(8 * GIB))
    csv_files(env, "s", 12, rows=1)
    cluster_config(env, [env.table_entry("s", "s/*.csv", "csv", max_files_per_batch=1)],
                   cluster={"system_root": str(root), "small_files_min": 10,
                            "memory_per_job": "4GiB"})
    assert env.run("run-cluster").rc == 0
    r = env.run("cluster-status", "--json")
    assert r.rc == 0, str(r)
    s = json.loads(r.stdout)
    e = s["environment"]
    assert e["kind"] == "container"
    assert e["cpu_cores"] == 4 and e["host"]["cores"] == 8
    assert e["memory_limit_bytes"] == 8 * GIB
    assert e["container"]["cgroup_version"] == 2 and e["container"]["cpu_quota"] == 4.0
    p = s["resources"]
    # 6 GiB budget / 4 GiB per job = 1, below the 4 CPUs: capped by memory, and said so.
    assert p["parallelism"] == 1 and p["memory_parallelism"] == 1 and p["cpu_parallelism"] == 4
    assert any("capped by memory" in x for x in p["reasons"])
    assert s["health"]["status"] in ("ok", "warning")
    recs = "\n".join(s["recommendations"])
    assert "parallelism is capped by memory at 1" in recs
    assert "e2e.s: 12 of its 12 data files are under" in recs and "table optimize" in recs
    assert s["tables"][0]["files_completed"] == 12
    assert {d["label"] for d in s["disks"]} == {"processed_data_path", "checkpoint_path"}
    # After an optimize the small-file recommendation is gone (computed, not canned).
    assert env.run("table", "optimize", env.table_path("s"), config=False).rc == 0
    s = json.loads(env.run("cluster-status", "--json").stdout)
    assert "data files are under" not in "\n".join(s["recommendations"])


def test_cluster_status_on_databricks(env, tmp_path):
    root = tmp_path / "dbroot"
    conf = root / "databricks/common/conf/deploy.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text('all-projects {\n'
                    '  spark.databricks.clusterUsageTags.clusterId = "1201-093000-abc123"\n'
                    '  spark.databricks.clusterUsageTags.clusterName = "loader jobs"\n'
                    '  spark.databricks.clusterUsageTags.clusterWorkers = "2"\n'
                    '  spark.databricks.clusterUsageTags.dataSecurityMode = "SINGLE_USER"\n}\n')
    (root / "proc").mkdir()
    (root / "proc/meminfo").write_text("MemTotal: 16777216 kB\nMemAvailable: 8000000 kB\n")
    csv_files(env, "d", 1)
    cluster_config(env, [env.table_entry("d", "d/*.csv", "csv")],
                   upstream_dependencies=[f"table:{env.DB}.d"], cluster={"system_root": str(root)})
    r = run_env(env, "cluster-status", "--json", extra_env={"DATABRICKS_RUNTIME_VERSION": "15.4"})
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    d = s["environment"]["databricks"]
    assert s["environment"]["kind"] == "databricks"
    assert d == {**d, "runtime_version": "15.4", "cluster_id": "1201-093000-abc123",
                 "cluster_name": "loader jobs", "cluster_type": "single_user", "workers": 2}
    assert s["dependencies"] == [{"dependency": "table:e2e.d", "state": "waiting",
                                  "detail": f"no Delta table at {env.table_path('d')}"}]
    assert s["health"]["status"] == "warning"
    # Text form names the same facts.
    r = run_env(env, "cluster-status", extra_env={"DATABRICKS_RUNTIME_VERSION": "15.4"})
    assert "databricks runtime 15.4, cluster 1201-093000-abc123 (loader jobs), type single_user" \
        in r.stdout


def test_unity_catalog_flag(env):
    files = csv_files(env, "u", 2)
    cluster_config(env, [env.table_entry("u", "u/*.csv", "csv")])
    r = env.run("run-cluster", "--unity-catalog")
    assert r.rc == 2 and "--unity-catalog" in r.stderr
    assert "database_name 'e2e' has no catalog" in r.stderr
    assert not env.processed.exists() or not any(env.processed.iterdir())
    cluster_config(env, [env.table_entry("u", "u/*.csv", "csv")], default_catalog="main")
    r = env.run("run-cluster", "--unity-catalog")
    assert r.rc == 0, str(r)
    rows = DeltaTable(str(env.processed / "main" / env.DB / "u")).to_pyarrow_table()
    assert rows.num_rows == sum(files.values())


def test_job_runner_mode_from_environment(env):
    a, b = csv_files(env, "ja", 2), csv_files(env, "jb", 2)
    cluster_config(env, [env.table_entry("ja", "ja/*.csv", "csv", max_files_per_batch=1),
                         env.table_entry("jb", "jb/*.csv", "csv")])
    base = {"DATALOADER_CONFIG_FILE": str(env.config_path)}
    # Dry run from the environment: nothing loaded.
    r = run_env(env, config=False, extra_env={**base, "DATALOADER_DRY_RUN": "true"})
    assert r.returncode == 0, r.stderr
    assert "environment:" in r.stdout and not env.table_path("ja").exists()
    # No arguments: run-cluster with every option from DATALOADER_* variables.
    r = run_env(env, config=False, extra_env={**base, "DATALOADER_TABLES": "ja",
                                              "DATALOADER_LOG_LEVEL": "ERROR",
                                              "DATALOADER_OPTIMIZE": "1"})
    assert r.returncode == 0, r.stderr
    assert " INFO " not in r.stderr and " WARN " not in r.stderr
    assert_loaded_exactly(env, "ja", a)
    assert not env.table_path("jb").exists()
    ops = [h["operation"] for h in DeltaTable(str(env.table_path("ja"))).history()]
    assert "OPTIMIZE" in ops
    # The command line wins over the environment.
    r = run_env(env, "run-cluster", "--tables", "jb", config=False,
                extra_env={**base, "DATALOADER_TABLES": "ja"})
    assert r.returncode == 0, r.stderr
    assert " INFO " in r.stderr  # DATALOADER_LOG_LEVEL is unset here
    assert_loaded_exactly(env, "jb", b)
    # cluster-status finds the config the same way.
    r = run_env(env, "cluster-status", "--json", config=False, extra_env=base)
    assert r.returncode == 0, r.stderr
    assert {t["table"] for t in json.loads(r.stdout)["tables"]} == {"e2e.ja", "e2e.jb"}
    # DATALOADER_COMMAND=run picks the plain run path.
    r = run_env(env, config=False, extra_env={**base, "DATALOADER_COMMAND": "run"})
    assert r.returncode == 0, r.stderr
    assert "run " in r.stdout
    r = run_env(env, config=False, extra_env={**base, "DATALOADER_COMMAND": "vacuum"})
    assert r.returncode == 2 and "DATALOADER_COMMAND must be run or run-cluster" in r.stderr


def test_a_bad_value_from_a_variable_names_the_variable(env):
    """`DATALOADER_OPTIMIZE=maybe` said only "Could not convert: --optimize = maybe": a job
    that sets no --optimize could not tell where the value came from."""
    csv_files(env, "v", 1)
    cluster_config(env, [env.table_entry("v", "v/*.csv", "csv")])
    base = {"DATALOADER_CONFIG_FILE": str(env.config_path)}
    for var, value in (("DATALOADER_OPTIMIZE", "maybe"), ("DATALOADER_INTERVAL", "soon"),
                       ("DATALOADER_LOG_LEVEL", "LOUD")):
        extra = {**base, var: value, "DATALOADER_WATCH": "true"}
        r = run_env(env, config=False, extra_env=extra)
        assert r.returncode == 2, r.stderr
        assert f"{var}={value}" in r.stderr, r.stderr
        assert not env.table_path("v").exists()


def test_cluster_status_critical_memory_pressure_exits_1(env, tmp_path):
    root = fake_container(tmp_path / "sysroot", memory_max=str(GIB))
    (root / "sys/fs/cgroup/memory.current").write_text(str(GIB - (20 << 20)) + "\n")  # 98%
    csv_files(env, "m", 1)
    cluster_config(env, [env.table_entry("m", "m/*.csv", "csv")], cluster={"system_root": str(root)})
    r = env.run("cluster-status", "--json")
    assert r.rc == 1, str(r)
    h = json.loads(r.stdout)["health"]
    assert h["status"] == "critical"
    assert h["reasons"] == [{"level": "critical", "check": "memory",
                             "message": "memory pressure: the container uses 1004.0 MiB of "
                                        "1.0 GiB (98%)"}]


def test_cluster_status_reports_an_unreadable_table_and_goes_on(env):
    good = csv_files(env, "g", 1)
    csv_files(env, "x", 1)
    cluster_config(env, [env.table_entry("g", "g/*.csv", "csv"),
                         env.table_entry("x", "x/*.csv", "csv")])
    assert env.run("run-cluster", "--tables", "g").rc == 0
    log = env.table_path("x") / "_delta_log"
    log.mkdir(parents=True)
    (log / "00000000000000000000.json").write_text("this is not a Delta log\n")
    r = env.run("cluster-status", "--json")
    assert r.rc == 0, str(r)
    s = json.loads(r.stdout)
    tables = {t["table"]: t for t in s["tables"]}
    assert tables["e2e.g"]["files_completed"] == len(good) and tables["e2e.g"]["error"] is None
    assert tables["e2e.x"]["error"]
    assert s["health"]["status"] == "warning"
    assert [x["check"] for x in s["health"]["reasons"]] == ["tables"]
    assert "e2e.x" in s["health"]["reasons"][0]["message"]
