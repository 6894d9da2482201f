"""`engine: spark` with sources and tables on S3 (the session's versitygw, object_stores.py):
Spark reads the sources and writes data files and commits through Hadoop's S3A connector,
while the loader plans, reads the tables' logs and keeps its tracker through its own S3 client.

The server is one of this module's own (`spark_s3`): the shared `spark_connect` server has no
S3A, since hadoop-aws pulls the AWS SDK bundle (~600 MB into the ivy cache), which every other
Spark test would wait for. It is started with the store's endpoint, path-style access and keys
as Hadoop confs (`spark.hadoop.fs.s3a.*`, as a cluster's are), and with
`fs.s3.impl` = S3A so that `s3://` (Databricks' and EMR's spelling) works too. The shared
server shows what a user without S3A sees."""
from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import uuid

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

from e2e_lib import run_together, to_yaml, wait_for
from object_stores import S3_ACCESS_KEY, S3_SECRET_KEY, s3_server  # noqa: F401  (fixture)
from spark_connect.server import SparkConnectServer, free_port

DB = "e2e"
DENIED_BUCKET = "dl-denied-" + uuid.uuid4().hex[:12]


@pytest.fixture(scope="module")
def spark_s3(s3_server, tmp_path_factory):
    """A Spark Connect server (4.1, or 3.5 with DL_SPARK_SERVER_FLAVOR=3.5) with Delta and S3A,
    pointed at the session's versitygw."""
    s3a = {"endpoint": s3_server.endpoint, "endpoint.region": "us-east-1",
           "path.style.access": "true", "connection.ssl.enabled": "false",
           "access.key": S3_ACCESS_KEY, "secret.key": S3_SECRET_KEY,
           # versitygw's posix backend refuses to delete a non-empty "directory" marker,
           # which S3A would retry for minutes per write
           "directory.marker.retention": "keep",
           "retry.limit": "2", "attempts.maximum": "2"}
    confs = {f"spark.hadoop.fs.s3a.{k}": v for k, v in s3a.items()}
    confs["spark.hadoop.fs.s3.impl"] = "org.apache.hadoop.fs.s3a.S3AFileSystem"
    # a bucket the cluster's credentials do not open (the loader's do)
    confs[f"spark.hadoop.fs.s3a.bucket.{DENIED_BUCKET}.secret.key"] = "not-the-secret-0123"
    server = SparkConnectServer(port=free_port(), workdir=tmp_path_factory.mktemp("spark-s3"),
                                extra_confs=confs)
    server.extra_packages = [server.hadoop_aws_package]  # of the flavor's Hadoop
    server.start()
    print(f"\nspark_s3: server {server.endpoint} up in {server.startup_seconds:.1f}s")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def no_databricks_env(monkeypatch):
    for name in ("DATABRICKS_HOST", "DATABRICKS_TOKEN", "DATABRICKS_CLUSTER_ID", "SPARK_REMOTE"):
        monkeypatch.delenv(name, raising=False)


class SparkS3Env:
    """One test's bucket: raw/, processed/ and checkpoints/ in it, spelled `scheme`://."""

    def __init__(self, binary: str, server, tmp, remote: str, scheme: str = "s3a",
                 bucket: str | None = None):
        self.bin, self.server, self.tmp, self.remote = binary, server, tmp, remote
        self.bucket = bucket or server.new_bucket()
        self.base = f"{scheme}://{self.bucket}"
        self.config_path = tmp / "config.yaml"

    def put(self, key: str, data: bytes) -> str:
        self.server.put(self.bucket, key, data)
        return f"{self.base}/{key}"

    def put_parquet(self, key: str, table: pa.Table) -> str:
        out = io.BytesIO()
        pq.write_table(table, out)
        return self.put(key, out.getvalue())

    def put_csv(self, key: str, table: pa.Table) -> str:
        out = io.BytesIO()
        pacsv.write_csv(table, out)
        return self.put(key, out.getvalue())

    def entry(self, name: str, pattern: str, fmt: str, **extra) -> dict:
        return {"table_name": name, "database_name": DB, "engine": "spark",
                "source_path_pattern": f"{self.base}/raw/{pattern}", "file_format": fmt,
                "loading_strategy": "append", **extra}

    def write_config(self, tables: list[dict], **globals_) -> None:
        cfg = {"raw_data_path": f"{self.base}/raw", "processed_data_path": f"{self.base}/processed",
               "checkpoint_path": f"{self.base}/checkpoints", "max_parallel_jobs": 1,
               "retry_attempts": 2, "retry_backoff_ms": 5, "timeout_minutes": 10,
               "enable_metrics": False, "spark": {"remote": self.remote},
               "storage_options": self.server.storage_options(), **globals_, "tables": tables}
        self.config_path.write_text(to_yaml(cfg) + "\n")

    def cmd(self, *args) -> list[str]:
        return [self.bin, *map(str, args), "--config", str(self.config_path)]

    def run(self, *args, env: dict | None = None, timeout: float = 600):
        return subprocess.run(self.cmd("run", *args), capture_output=True, text=True,
                              timeout=timeout, env=env)

    def load(self):
        r = self.run()
        assert r.returncode == 0, f"exit {r.returncode}\n{r.stdout}\n{r.stderr}"
        return r

    def table(self, name: str) -> DeltaTable:
        return DeltaTable(f"s3://{self.bucket}/processed/{DB}/{name}",
                          storage_options=self.server.deltalake_options())

    def rows(self, name: str, *cols: str) -> list[tuple]:
        t = self.table(name).to_pyarrow_table()
        return sorted(tuple(r[c] for c in cols) for r in t.to_pylist())

    def tracker_rows(self) -> list[dict]:
        """Every tracker row; none before the tracker exists."""
        if not self.server.keys(self.bucket, "processed/metadata/file_processing_tracker/"):
            return []
        return DeltaTable(f"s3://{self.bucket}/processed/metadata/file_processing_tracker",
                          storage_options=self.server.deltalake_options()).to_pyarrow_table() \
            .to_pylist()

    def tracker(self) -> dict[tuple[str, str], dict]:
        """Completed tracker rows per (table, file)."""
        return {(r["table_name"], r["file_path"]): r for r in self.tracker_rows()
                if r["status"] == "completed"}

    def commit_keys(self, name: str) -> list[str]:
        return sorted(k for k in self.server.keys(self.bucket, f"processed/{DB}/{name}/_delta_log/")
                      if k.endswith(".json"))


def people(ids: list[int], tag: str) -> pa.Table:
    return pa.table({"id": pa.array(ids, pa.int64()), "name": [f"{tag}{i}" for i in ids],
                     "score": [i * 1.5 for i in ids]})


@pytest.fixture
def s3env(dl_bin, s3_server, spark_s3, tmp_path) -> SparkS3Env:
    return SparkS3Env(dl_bin, s3_server, tmp_path, spark_s3.remote)


def test_append_and_merge_on_s3a_load_each_file_once(s3env: SparkS3Env):
    """Parquet and csv appends and a csv merge, sources and tables all s3a://: a second run
    loads only the new files, a third nothing; the tables (read by delta-rs) hold each row
    once, `_source_file` and the tracker name the files as the config spells them."""
    files = {"ev": [s3env.put_parquet(f"raw/ev/p{i}.parquet", people([i * 10 + j for j in range(5)],
                                                                      f"e{i}_"))
                    for i in range(2)],
             "pp": [s3env.put_csv("raw/pp/a b.csv", people([1, 2, 3], "a"))],
             "mm": [s3env.put_csv("raw/mm/m1.csv", people([1, 2, 3], "a"))]}
    tables = [s3env.entry("events", "ev/*.parquet", "parquet", max_files_per_batch=1),
              s3env.entry("ppl", "pp/*.csv", "csv"),
              s3env.entry("merged", "mm/*.csv", "csv", loading_strategy="merge",
                          primary_keys=["id"])]
    s3env.write_config(tables)
    s3env.load()
    # Spark spells such keys %-escaped in _metadata.file_path: mapped back to the plan's path
    files["ev"].append(s3env.put_parquet("raw/ev/p2 a+b %41 é=1.parquet", people([20, 21], "e2_")))
    files["pp"].append(s3env.put_csv("raw/pp/c[1].csv", people([4], "c")))
    files["mm"].append(s3env.put_csv("raw/mm/m2.csv", people([2, 4], "B")))
    s3env.load()

    assert s3env.rows("events", "id", "name") == sorted(
        [(i * 10 + j, f"e{i}_{i * 10 + j}") for i in range(2) for j in range(5)] +
        [(20, "e2_20"), (21, "e2_21")])
    assert s3env.rows("ppl", "id", "name", "score") == [
        (1, "a1", 1.5), (2, "a2", 3.0), (3, "a3", 4.5), (4, "c4", 6.0)]
    assert s3env.rows("merged", "id", "name") == [(1, "a1"), (2, "B2"), (3, "a3"), (4, "B4")]
    for name, key in (("events", "ev"), ("ppl", "pp")):
        by_file = {}
        for f in s3env.table(name).to_pyarrow_table().column("_source_file").to_pylist():
            by_file[f] = by_file.get(f, 0) + 1
        assert sorted(by_file) == sorted(files[key]), name
    tracked = s3env.tracker()
    for name, key in (("events", "ev"), ("ppl", "pp"), ("merged", "mm")):
        mine = {p: r for (t, p), r in tracked.items() if t == f"{DB}.{name}"}
        assert sorted(mine) == sorted(files[key]), name
    assert tracked[(f"{DB}.ppl", files["pp"][0])]["rows_loaded"] == 3
    assert tracked[(f"{DB}.events", files["ev"][2])]["rows_loaded"] == 2
    assert tracked[(f"{DB}.merged", files["mm"][1])]["rows_loaded"] == 2

    commits = {name: s3env.commit_keys(name) for name in ("events", "ppl", "merged")}
    assert len(commits["events"]) == 3 and len(commits["merged"]) == 2, commits
    s3env.load()
    assert {name: s3env.commit_keys(name) for name in commits} == commits


def test_s3_paths_with_fs_s3_impl_and_a_kill_after_sparks_commit(s3env: SparkS3Env):
    """Every path spelled s3:// (Databricks' and EMR's spelling; this server maps s3:// to S3A
    by fs.s3.impl). A run killed after Spark's commit, before the tracker knows: the rerun
    finds the batch in the log by its commit metadata and loads nothing twice."""
    s3env.base = f"s3://{s3env.bucket}"
    first = s3env.put_csv("raw/mm/m1.csv", people([1, 2, 3], "a"))
    s3env.write_config([s3env.entry("merged", "mm/*.csv", "csv", loading_strategy="merge",
                                    primary_keys=["id"])])
    s3env.load()
    second = s3env.put_csv("raw/mm/m2 +%41 é.csv", people([2, 4], "B"))
    release = f"{s3env.base}/hold"
    p = subprocess.Popen(s3env.cmd("run"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env={**os.environ, "DL_TEST_PAUSE_AFTER_REMOTE_COMMIT": release})
    try:
        wait_for(lambda: "hold.waiting" in s3env.server.keys(s3env.bucket) or
                 p.poll() is not None, 300, 0.1, "the run to pause after Spark's commit")
        assert p.poll() is None, p.communicate()
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
    assert len(s3env.commit_keys("merged")) == 2
    assert (f"{DB}.merged", second) not in s3env.tracker()
    s3env.load()
    assert len(s3env.commit_keys("merged")) == 2  # nothing merged again
    tracked = s3env.tracker()
    assert tracked[(f"{DB}.merged", first)]["rows_loaded"] == 3
    # reconciled from the log (rows not counted there)
    assert tracked[(f"{DB}.merged", second)]["status"] == "completed"
    assert sorted(set(s3env.table("merged").to_pyarrow_table().column("_source_file").to_pylist())) \
        == sorted([first, second])
    assert s3env.rows("merged", "id", "name") == [(1, "a1"), (2, "B2"), (3, "a3"), (4, "B4")]
    infos = [json.loads(line)["commitInfo"] for key in s3env.commit_keys("merged")
             for line in s3env.server.get(s3env.bucket, key).decode().splitlines()
             if "commitInfo" in line]
    assert all(i.get("engineInfo", "").startswith("Apache-Spark/") for i in infos), infos
    loaded = [[f["path"] for f in json.loads(i["userMetadata"])["dataLoader"]["sourceFiles"]]
              for i in infos]
    assert loaded == [[first], [second]], loaded


def test_dedup_overwrite_scd2_and_partitions_on_s3a(s3env: SparkS3Env):
    """The other strategies into s3a:// tables, from keys Spark spells %-escaped: each file's
    rows counted under the config's spelling, a rerun commits nothing."""
    files = [s3env.put_csv(k, people([i * 10 + 1, i * 10 + 2], f"o{i}_"))
             for i, k in enumerate(["raw/od/a+b %41 é=1.csv", "raw/od/x[1] y.csv"])]
    part = s3env.put_parquet("raw/op/a+b %41 é.parquet",
                             pa.table({"id": [1, 2, 3], "p": ["x y", "z", None]}))
    s3env.write_config([
        s3env.entry("dd", "od/*.csv", "csv", dedup_keys=["id"]),
        s3env.entry("sc", "od/*.csv", "csv", loading_strategy="scd2", primary_keys=["id"]),
        s3env.entry("ow", "od/*.csv", "csv", loading_strategy="overwrite"),
        s3env.entry("pt", "op/*.parquet", "parquet", partition_columns=["p"]),
    ])
    s3env.load()
    tracked = s3env.tracker()
    for name in ("dd", "sc", "ow"):
        assert {p: r["rows_loaded"] for (t, p), r in tracked.items() if t == f"{DB}.{name}"} \
            == {f: 2 for f in files}, name
        assert s3env.rows(name, "id", "_source_file") == [
            (1, files[0]), (2, files[0]), (11, files[1]), (12, files[1])], name
    assert tracked[(f"{DB}.pt", part)]["rows_loaded"] == 3
    assert s3env.rows("pt", "id", "p") == [(1, "x y"), (2, "z"), (3, None)]
    commits = {name: s3env.commit_keys(name) for name in ("dd", "sc", "ow", "pt")}
    s3env.load()
    assert {name: s3env.commit_keys(name) for name in commits} == commits


def test_two_loaders_at_once_on_s3a_load_each_file_once(s3env: SparkS3Env):
    """Two runs started together through one server: both plan every file and take the same
    txn versions; Delta (committing through one driver) refuses or skips the loser's commits,
    so every row lands once; the tracker, which both keep on S3, ends complete."""
    files = [s3env.put_csv(f"raw/tw/f{i}.csv", people([i * 10 + j for j in range(3)], f"f{i}_"))
             for i in range(6)]
    s3env.write_config([s3env.entry("two", "tw/*.csv", "csv", max_files_per_batch=2)],
                       retry_attempts=8)
    outs, report = run_together([s3env.cmd("run"), s3env.cmd("run")], timeout=600)
    assert all(rc == 0 for rc, _, _ in outs), report
    assert s3env.rows("two", "id", "_source_file") == sorted(
        (i * 10 + j, f) for i, f in enumerate(files) for j in range(3)), report
    s3env.load()  # files the other loader committed are recorded by reconciliation
    assert sorted(p for (t, p) in s3env.tracker() if t == f"{DB}.two") == sorted(files), report


@pytest.mark.parametrize("scheme", ["s3a", "s3"])
def test_a_server_without_s3a_fails_naming_the_scheme_and_the_remedy(dl_bin, s3_server,
                                                                    spark_connect, tmp_path,
                                                                    scheme):
    """The shared server has no hadoop-aws: the run fails (exit 1), its message naming the
    scheme and what to add to the server. The server's setup is no fault of the files: the
    batch is not split to isolate a bad file (a Spark call per file) and the failure counts
    no attempt against the files (which `retry_attempts` failures would skip for good)."""
    env = SparkS3Env(dl_bin, s3_server, tmp_path, spark_connect.remote, scheme=scheme)
    files = [env.put_parquet(f"raw/ev/p{i}.parquet", people([i], "a")) for i in range(3)]
    env.write_config([env.entry("events", "ev/*.parquet", "parquet")], log_level="INFO")
    r = env.run(timeout=300)
    out = r.stdout + r.stderr
    assert r.returncode == 1, f"exit {r.returncode}\n{out}"
    remedy = ("no S3A connector" if scheme == "s3a" else
              "spark.hadoop.fs.s3.impl=org.apache.hadoop.fs.s3a.S3AFileSystem")
    assert remedy in out and "org.apache.hadoop:hadoop-aws" in out, out
    assert "docs/spark_engine.md" in out, out
    assert "splitting the batch" not in out, out
    assert S3_SECRET_KEY not in out
    failed = {row["file_path"]: row for row in env.tracker_rows()}
    assert sorted(failed) == sorted(files), failed
    assert all(row["status"] == "failed" and row["retry_count"] == 0
               for row in failed.values()), failed
    assert not env.server.keys(env.bucket, f"processed/{DB}/events/")


def test_a_bucket_refusing_the_clusters_credentials_fails_the_batch_naming_it(
        dl_bin, s3_server, spark_s3, tmp_path):
    """The loader's credentials open the bucket, the cluster's do not (S3A's 403): the run
    fails (exit 1) saying the cluster's access was refused, the batch whole (before, the file
    Spark named failed as bad data and the rest were tried again, a Spark call per file), and
    no secret is printed."""
    s3_server.client.create_bucket(Bucket=DENIED_BUCKET)
    env = SparkS3Env(dl_bin, s3_server, tmp_path, spark_s3.remote, bucket=DENIED_BUCKET)
    files = [env.put_parquet(f"raw/ev/p{i}.parquet", people([i], "a")) for i in range(3)]
    env.write_config([env.entry("events", "ev/*.parquet", "parquet")], log_level="INFO")
    r = env.run(timeout=600)
    out = r.stdout + r.stderr
    assert r.returncode == 1, f"exit {r.returncode}\n{out}"
    assert "S3 refused the Spark cluster's access (HTTP 403)" in out, out
    assert "splitting the batch" not in out, out
    assert S3_SECRET_KEY not in out and "not-the-secret-0123" not in out
    rows = {row["file_path"]: row for row in env.tracker_rows()}
    assert sorted(rows) == sorted(files), rows
    assert all(row["status"] == "failed" for row in rows.values()), rows
    # one failure of the whole batch: the same error for every file
    assert len({row["error_message"] for row in rows.values()}) == 1, rows
    assert not env.server.keys(env.bucket, f"processed/{DB}/events/")
