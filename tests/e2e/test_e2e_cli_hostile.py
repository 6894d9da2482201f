"""Careless or hostile command lines and configs: interrupted runs, huge configs, secrets from
the environment, nonsense intervals (issue 11's "should fix" list, docs/reliability.md)."""
from __future__ import annotations

import os
import signal
import subprocess
import threading
import time

import pyarrow as pa
import pyarrow.compute as pc

from e2e_lib import LoaderEnv, csv_rows, stop_process, wait_for, write_csv, write_parquet


def _start_and_wait_for_plan(env: LoaderEnv) -> tuple[subprocess.Popen, list[str]]:
    """Start `run`; return once it logged its plan (its signal handlers are installed)."""
    p = subprocess.Popen(env.cmd("run"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(p.stderr.readline, "")),
                              daemon=True)
    reader.start()
    wait_for(lambda: any("planned" in ln for ln in lines) or p.poll() is not None, 60, 0.002,
             "the run's plan")
    return p, lines


def test_double_sigterm_with_nothing_committed_exits_non_zero(env: LoaderEnv):
    """Two SIGTERMs abandon the running batch before anything commits: the run must not look
    successful (exit 0) to a scheduler; it exits 128 + SIGTERM and the next run loads
    everything once. The first file is big enough (3M rows) that its write is still running
    when the abandonment interrupts it."""
    n = 3_000_000
    ids = pa.array(range(n), pa.int64())
    write_parquet(env.raw / "t" / "big.parquet",
                  {"id": ids, "name": pc.binary_join_element_wise(
                      "name-", pc.cast(ids, pa.string()), "")})
    for i in range(1, 6):
        write_parquet(env.raw / "t" / f"f{i}.parquet",
                      {"id": pa.array(range(n + i * 10, n + i * 10 + 5), pa.int64()),
                       "name": pa.array([f"x{j}" for j in range(5)])})
    env.write_config([env.table_entry("t", "t/*.parquet", "parquet", max_files_per_batch=1)],
                     max_parallel_jobs=1)
    p, lines = _start_and_wait_for_plan(env)
    try:
        p.send_signal(signal.SIGTERM)
        time.sleep(0.01)
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=60)
    finally:
        stop_process(p)
    assert not env.is_delta("t"), "the big file committed before the signals: make it bigger"
    assert p.returncode == 128 + signal.SIGTERM, f"exit {p.returncode}\n" + "".join(lines)
    env.load()
    assert sorted(env.rows_by_file("t").values()) == [5] * 5 + [n]


def test_sigint_exit_code_is_130(env: LoaderEnv):
    for i in range(30):
        write_csv(env.raw / "t" / f"f{i:02d}.csv", csv_rows(i * 100, 5))
    env.write_config([env.table_entry("t", "t/*.csv", "csv", max_files_per_batch=1)],
                     max_parallel_jobs=1)
    p = subprocess.Popen(env.cmd("run"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        log = env.table_path("t") / "_delta_log"
        wait_for(lambda: (log.is_dir() and any(log.glob("*.json"))) or p.poll() is not None,
                 60, 0.002, "the first commit")
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
    finally:
        stop_process(p)
    if len(env.rows_by_file("t")) < 30:
        assert p.returncode == 130, f"exit {p.returncode}\n{out}\n{err}"
    env.load()
    assert len(env.rows_by_file("t")) == 30


def test_config_from_dev_zero_fails_fast(env: LoaderEnv):
    r = env.run("validate", "--config", "/dev/zero", config=False, timeout=30)
    assert r.rc == 2, str(r)
    assert "/dev/zero" in r.stderr and "larger than 8 MiB" in r.stderr, str(r)


def test_config_that_is_a_directory_is_a_config_error(env: LoaderEnv):
    r = env.run("validate", "--config", str(env.raw), config=False, timeout=30)
    assert r.rc == 2, str(r)
    assert str(env.raw) in r.stderr, str(r)


def test_values_from_environment_are_masked_by_validate_and_cluster_status(env: LoaderEnv):
    secret_root = env.root / "s3cr3t-customer-area"
    secret_root.mkdir()
    text = env.root / "cfg.yaml"
    text.write_text(
        "raw_data_path: ${DL_TEST_SECRET_ROOT}/raw\n"
        "processed_data_path: ${DL_TEST_SECRET_ROOT}/processed\n"
        "checkpoint_path: ${DL_TEST_SECRET_ROOT}/checkpoints\n"
        "upstream_dependencies: ['file:${DL_TEST_SECRET_ROOT}/raw/ready.flag']\n"
        "tables:\n"
        "  - table_name: t\n"
        "    database_name: d\n"
        "    source_path_pattern: 't/*.csv'\n"
        "    loading_strategy: append\n"
        "    file_format: csv\n")
    e = dict(os.environ, DL_TEST_SECRET_ROOT=str(secret_root))
    for args in (["validate"], ["cluster-status"], ["cluster-status", "--json"]):
        p = subprocess.run([env.bin, *args, "--config", str(text)], capture_output=True,
                           text=True, env=e, timeout=60)
        assert p.returncode in (0, 1), f"{args}: exit {p.returncode}\n{p.stdout}\n{p.stderr}"
        assert "s3cr3t-customer-area" not in p.stdout + p.stderr, (args, p.stdout, p.stderr)
        assert "***" in p.stdout, (args, p.stdout)


def test_interval_zero_is_a_readable_usage_error(env: LoaderEnv):
    env.write_config([env.table_entry("t", "t/*.csv", "csv")])
    for value in ("0", "-1", "1e300", "soon"):
        r = env.run("run", "--watch", "--interval", value, timeout=30)
        assert r.rc == 2, str(r)
        assert "--interval" in r.out, str(r)
        assert "e-308" not in r.out and "e+308" not in r.out, str(r)
        assert len(r.stderr) < 600, str(r)


def write_config_with(env: LoaderEnv, key: str, value: str) -> None:
    """A one-table config with `key` (the table's source_path_pattern, or a global) = value."""
    entry = env.table_entry("t", "t/*.parquet", "parquet")
    globals_ = {}
    if key == "source_path_pattern":
        entry[key] = value
    else:
        globals_[key] = value
    env.write_config([entry], **globals_)


def test_unsupported_schemes_are_config_errors_not_zero_files(env: LoaderEnv):
    """`s3://...` used to pass validate and load "0 files" with exit 0: every scheme this build
    has no storage backend for is a config error naming the key and the scheme, in validate
    and run (these schemes stay unsupported when the object-store backends are in)."""
    cases = {
        "source_path_pattern": "hdfs://namenode/raw/t/*.parquet",
        "raw_data_path": "oss://bucket/raw",
        "processed_data_path": "adl://acct.azuredatalakestore.net/processed",
        "checkpoint_path": "dbfs:/mnt/checkpoints",  # no Databricks driver's /dbfs view here
    }
    for key, value in cases.items():
        write_config_with(env, key, value)
        for cmd in ("validate", "run"):
            r = env.run(cmd)
            assert r.rc == 2, f"{key}={value}: {r}"
            assert key in r.stderr and value.split(":")[0] + ":" in r.stderr, str(r)
        assert not env.processed.exists(), "a refused config wrote something"
    r = env.run("table", "describe", "hdfs://namenode/tables/t", config=False)
    assert r.rc == 2 and "hdfs:" in r.stderr and "PATH" in r.stderr, str(r)


def test_gcs_is_refused_as_not_supported_yet_naming_key_and_docs(env: LoaderEnv):
    """gs:// has no backend (no GCS emulator here serves what one needs): validate, run and a
    table command exit 2 saying GCS is not supported yet and where to read more."""
    for key, value in {"source_path_pattern": "gs://bucket/raw/t/*.parquet",
                       "processed_data_path": "gs://bucket/tables"}.items():
        write_config_with(env, key, value)
        for cmd in ("validate", "run"):
            r = env.run(cmd)
            assert r.rc == 2, f"{key}={value}: {r}"
            for text in (key, "gs://", "Google Cloud Storage", "not supported yet",
                         "docs/object_storage.md"):
                assert text in r.stderr, f"{text!r} missing: {r}"
        assert not env.processed.exists(), "a refused config wrote something"
    r = env.run("table", "describe", "gs://bucket/tables/t", config=False)
    assert r.rc == 2 and "Google Cloud Storage" in r.stderr, str(r)


def test_object_store_without_credentials_is_a_config_error_naming_key_and_scheme(
        env: LoaderEnv, monkeypatch):
    """An s3:// location is a config error (exit 2) naming the key and the scheme when the
    build has no S3 backend, and when it has one but no credentials resolve: never 0 files."""
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(env.root / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(env.root / "no-config"))
    entry = env.table_entry("t", "t/*.parquet", "parquet")
    entry["source_path_pattern"] = "s3://bucket/raw/t/*.parquet"
    env.write_config([entry])
    for cmd in ("validate", "run"):
        r = env.run(cmd)
        assert r.rc == 2, str(r)
        assert "tables[0].source_path_pattern" in r.stderr and "s3:" in r.stderr, str(r)
    assert not env.processed.exists(), "a refused config wrote something"


def test_dependency_locations_with_unsupported_schemes_are_config_errors(env: LoaderEnv):
    """A `file:` dependency on a scheme without a backend passed validate and made every run
    wait for it in vain (exit 3, "not met", or a wait until the timeout): it is a config error
    (exit 2) naming upstream_dependencies and the scheme, in validate and run, as the path keys
    are. `file:file:///...` is the local file, as `file:` URIs are everywhere else."""
    write_csv(env.raw / "t" / "a.csv", csv_rows(1, 3))
    entry = env.table_entry("t", "t/*.csv", "csv")
    for dep, scheme in {"file:hdfs://nn/flags/ready": "hdfs:", "file:ftp://h/ready": "ftp:",
                        "file:gs://b/ready": "gs://", "file:dbfs:/flags/ready": "dbfs:",
                        "table:oss://b/lake/up": "oss:"}.items():
        env.write_config([entry], upstream_dependencies=[dep],
                         on_unmet_dependencies="wait", dependency_wait_timeout_seconds=600)
        for cmd in ("validate", "run"):
            r = env.run(cmd, timeout=60)
            assert r.rc == 2, f"{dep}: {r}"
            assert "upstream_dependencies" in r.stderr and scheme in r.stderr, f"{dep}: {r}"
    flag = env.root / "ready.flag"
    env.write_config([entry], upstream_dependencies=[f"file:file://{flag}"])
    r = env.run("run")
    assert r.rc == 3 and f"no file at {flag}" in r.stderr, str(r)
    flag.write_text("")
    env.load()
    assert env.rows_by_file("t"), "the met dependency loaded nothing"


def test_a_job_that_is_not_a_job_id_is_a_config_error(env: LoaderEnv):
    """The original's `job:bronze-pipeline-job-id` passed validate, then every run was
    "not met" (exit 3; a notification to `job:silver` failed after every run): a job is given
    by its numeric Databricks job id, and anything else is a config error naming the key."""
    write_csv(env.raw / "t" / "a.csv", csv_rows(1, 3))
    entry = env.table_entry("t", "t/*.csv", "csv")
    for key, spec in (("upstream_dependencies", "job:bronze-pipeline-job-id"),
                      ("downstream_notifications", "job:silver-transformation-job-id"),
                      ("upstream_dependencies", "job:0")):
        env.write_config([entry], **{key: [spec]})
        for cmd in ("validate", "run"):
            r = env.run(cmd, timeout=60)
            assert r.rc == 2, f"{spec}: {r}"
            assert f"{key}: '{spec}'" in r.stderr and "job id" in r.stderr, f"{spec}: {r}"


def test_a_uri_with_one_slash_is_never_a_pattern_below_raw_data_path(env: LoaderEnv):
    """`s3:/bucket/raw/*.parquet` (one slash) as raw_data_path is refused, but as a table's
    source_path_pattern it was taken for a relative pattern and joined below raw_data_path
    (`<raw>/s3:/bucket/...`): validate passed and runs found nothing. It is the s3 location it
    spells, refused as raw_data_path is (exit 2 naming the key and the scheme)."""
    for pattern in ("s3:/bucket/raw/*.parquet", "az:/container/raw/*.parquet"):
        entry = env.table_entry("t", "t/*.parquet", "parquet")
        entry["source_path_pattern"] = pattern
        env.write_config([entry])
        for cmd in ("validate", "run"):
            r = env.run(cmd)
            assert r.rc == 2, f"{pattern}: {r}"
            scheme = pattern.split(":")[0]
            assert f"tables[0].source_path_pattern: {scheme}://" in r.stderr, str(r)
            assert str(env.raw) not in r.stderr, f"joined below raw_data_path: {r}"


def test_file_uris_are_local_paths(env: LoaderEnv):
    a = write_csv(env.raw / "t" / "a.csv", csv_rows(1, 3))
    entry = env.table_entry("t", "t/*.csv", "csv")
    entry["source_path_pattern"] = "file://" + str(env.raw / "t" / "*.csv")
    env.write_config([entry], processed_data_path="file://" + str(env.processed))
    env.load()
    assert env.rows_by_file("t") == {str(a): 3}
    r = env.run("table", "describe", "file://" + str(env.table_path("t")), config=False)
    assert r.rc == 0, str(r)
