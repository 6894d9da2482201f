"""Everything on object storage (issue 13): sources, tables, tracker and checkpoints in a
bucket of a real store, written and read back by data_loader, delta-rs and DuckDB. Every test
runs on S3 (versitygw, which checks signatures and has atomic conditional PUTs) and on Azure
Blob (Azurite), unless it says why it is for one store only.

Each test uses its own bucket (Azure: container) of one session-wide server per store; faults
go through a loopback proxy in front of the same server (object_stores.FaultProxy)."""
from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable, write_deltalake

from e2e_lib import Result, stop_process, to_yaml, wait_for, write_parquet
from object_stores import FaultProxy, S3Server  # noqa: F401

DB = "e2e"


def parquet_bytes(columns: dict) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table(columns), buf)
    return buf.getvalue()


class StoreEnv:
    """One test's bucket: raw/, processed/ and checkpoints/ are prefixes (s3://, az://) in it."""

    def __init__(self, binary: str, server, tmp: Path):
        self.bin, self.server, self.tmp = binary, server, tmp
        self.bucket = server.new_bucket()
        self.raw = server.uri(self.bucket, "raw")
        self.processed = server.uri(self.bucket, "processed")
        self.checkpoints = server.uri(self.bucket, "checkpoints")
        self.config_path = tmp / "config.yaml"
        self.endpoint = server.endpoint

    def put(self, key: str, data: bytes) -> str:
        self.server.put(self.bucket, key, data)
        return self.server.uri(self.bucket, key)

    def put_parquet(self, key: str, columns: dict) -> str:
        return self.put(key, parquet_bytes(columns))

    def table_entry(self, name: str, pattern: str, fmt: str = "parquet", **extra) -> dict:
        entry = {"table_name": name, "database_name": DB,
                 "source_path_pattern": f"{self.raw}/{pattern}", "loading_strategy": "append",
                 "file_format": fmt}
        entry.update(extra)
        return entry

    def write_config(self, tables: list[dict], endpoint: str | None = None,
                     secret: str | None = None, **globals_) -> Path:
        cfg = {"raw_data_path": self.raw, "processed_data_path": self.processed,
               "checkpoint_path": self.checkpoints, "max_parallel_jobs": 2,
               "retry_attempts": 2, "retry_backoff_ms": 5, "timeout_minutes": 5,
               "enable_metrics": True,
               "storage_options": self.server.storage_options(endpoint or self.endpoint, secret)}
        cfg.update(globals_)
        cfg["tables"] = tables
        self.config_path.write_text(to_yaml(cfg) + "\n")
        return self.config_path

    def cmd(self, *args) -> list[str]:
        return [self.bin, *map(str, args), "--config", str(self.config_path)]

    def run(self, *args, timeout: float = 180) -> Result:
        cmd = self.cmd(*args)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        return Result(cmd, p.returncode, p.stdout, p.stderr)

    def load(self, *args, expect: int = 0) -> Result:
        r = self.run("run", *args)
        assert r.rc == expect, f"expected exit {expect}\n{r}"
        return r

    def table_uri(self, name: str, db: str = DB) -> str:
        return f"{self.processed}/{db}/{name}"

    def delta(self, name: str, db: str = DB) -> DeltaTable:
        return DeltaTable(self.table_uri(name, db), storage_options=self.server.deltalake_options())

    def read(self, name: str, db: str = DB) -> pa.Table:
        return self.delta(name, db).to_pyarrow_table()

    def rows_by_file(self, name: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.read(name).column("_source_file").to_pylist():
            out[f] = out.get(f, 0) + 1
        return out

    def log_versions(self, name: str) -> list[int]:
        return self.log_versions_of(f"processed/{DB}/{name}")

    def log_versions_of(self, prefix: str) -> list[int]:
        keys = self.server.keys(self.bucket, f"{prefix}/_delta_log/")
        return sorted(int(Path(k).stem) for k in keys if k.endswith(".json") and
                      Path(k).stem.isdigit())


@pytest.fixture
def s3env(dl_bin, s3_server, tmp_path) -> StoreEnv:
    """S3 only: for tests whose peer speaks only S3 (Spark's S3A)."""
    return StoreEnv(dl_bin, s3_server, tmp_path)


@pytest.fixture(params=["s3", "azure"])
def store(request, dl_bin, tmp_path) -> StoreEnv:
    server = request.getfixturevalue(f"{request.param}_server")  # started once per session
    return StoreEnv(dl_bin, server, tmp_path)


def sorted_rows(table: pa.Table, drop=("_load_timestamp", "_batch_id")) -> list[tuple]:
    cols = [c for c in table.column_names if c not in drop]
    rows = table.select(cols).to_pylist()
    return sorted((tuple((k, str(r[k])) for k in cols) for r in rows))


# ------------------------------------------------------------------------------------------


def test_demo_config_on_a_store_loads_exactly_once_and_matches_a_local_load(store, demo_gen,
                                                                        tmp_path):
    """The demo (csv SCD2, parquet append with dedup, json with rescue) with every path in a
    bucket loads what the same demo loads on local disk, and a second run only the new files."""
    local = tmp_path / "local"
    local.mkdir()
    r = subprocess.run([store.bin, "create-example-config", "--output", str(local / "c.yaml"),
                        "--base-dir", str(local)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    text = (local / "c.yaml").read_text()
    base = store.server.uri(store.bucket, "demo")
    store_text = text.replace(str(local), base) + "\nstorage_options:\n" + "".join(
        f"  {k}: {json.dumps(v)}\n" for k, v in store.server.storage_options().items())
    store.config_path.write_text(store_text)

    def land(batches: int, first: int):
        subprocess.run([demo_gen, str(local), str(batches), str(first)], check=True,
                       capture_output=True)
        for f in sorted((local / "raw").rglob("*")):
            if f.is_file():
                key = "demo/raw/" + str(f.relative_to(local / "raw"))
                if key not in set(store.server.keys(store.bucket, "demo/raw/")):
                    store.put(key, f.read_bytes())

    def run_both():
        store.load()
        subprocess.run([store.bin, "run", "--config", str(local / "c.yaml")], check=True,
                       capture_output=True)

    land(2, 0)
    run_both()
    land(1, 2)
    run_both()
    versions = {n: store.log_versions_of(f"demo/processed/analytics/{n}") for n in
                ("customers", "transactions", "events")}
    assert all(versions.values()), versions
    store.load()  # nothing new: no commit anywhere
    assert versions == {n: store.log_versions_of(f"demo/processed/analytics/{n}")
                        for n in versions}
    so = store.server.deltalake_options()
    for name in ("customers", "transactions", "events"):
        on_store = DeltaTable(f"{base}/processed/analytics/{name}", storage_options=so)
        on_disk = DeltaTable(str(local / "processed" / "analytics" / name))
        drop = ("_load_timestamp", "_batch_id", "_source_file", "effective_date", "end_date",
                "_rescued_data")
        assert sorted_rows(on_store.to_pyarrow_table(), drop) == sorted_rows(
            on_disk.to_pyarrow_table(), drop), name


def test_every_file_loaded_once_across_runs_and_readers_agree(store):
    files = [store.put_parquet(f"raw/ev/p{i:02d}.parquet",
                               {"id": list(range(i * 10, i * 10 + 10)),
                                "v": [f"v{j}" for j in range(10)]}) for i in range(12)]
    store.write_config([store.table_entry("events", "ev/*.parquet", max_files_per_batch=4)])
    store.load()
    assert store.rows_by_file("events") == {f: 10 for f in files}
    more = [store.put_parquet(f"raw/ev/q{i}.parquet", {"id": [1000 + i], "v": ["x"]})
            for i in range(3)]
    store.load()
    store.load()
    want = {f: 10 for f in files} | {f: 1 for f in more}
    assert store.rows_by_file("events") == want
    # delta-rs and DuckDB (delta_scan over httpfs or azure) read the same rows.
    ours = store.read("events")
    theirs = store.server.delta_scan(store.table_uri("events"))
    assert sorted_rows(ours) == sorted_rows(theirs.select(ours.column_names))
    # The tracker and checkpoints live in the bucket too; nothing was written locally.
    assert store.server.keys(store.bucket, "processed/metadata/file_processing_tracker/_delta_log/")
    assert store.server.keys(store.bucket, "checkpoints/")
    status = json.loads(store.run("status", "--json").stdout)
    t = {x["table"]: x for x in status["tables"]}[f"{DB}.events"]
    assert t["files"]["completed"] == 15, t


def test_killed_run_then_rerun_loses_and_duplicates_nothing(store):
    files = [store.put_parquet(f"raw/k/f{i:03d}.parquet",
                               {"id": list(range(i * 100, i * 100 + 100))}) for i in range(40)]
    store.write_config([store.table_entry("k", "k/*.parquet", max_files_per_batch=2)],
                       max_parallel_jobs=1)
    p = subprocess.Popen(store.cmd("run"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: len(store.log_versions("k")) >= 3 or p.poll() is not None, 120, 0.02,
                 "a few commits")
    finally:
        stop_process(p)
    assert p.returncode == -9, f"the run finished before it was killed ({p.returncode})"
    store.load()
    assert store.rows_by_file("k") == {f: 100 for f in files}


def test_two_loaders_racing_on_one_table_load_every_file_once(store):
    files = [store.put_parquet(f"raw/r/f{i:03d}.parquet", {"id": [i], "v": [str(i)]})
             for i in range(40)]
    store.write_config([store.table_entry("r", "r/*.parquet", max_files_per_batch=2)],
                       retry_attempts=1)
    procs = [subprocess.Popen(store.cmd("run"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, f"exit {p.returncode}\n{out}\n{err}"
    store.load()  # whatever a lost race deferred
    assert store.rows_by_file("r") == {f: 1 for f in files}
    versions = store.log_versions("r")
    assert versions == list(range(len(versions))), f"gaps in the log: {versions}"


def test_append_and_merge_into_a_table_delta_rs_wrote(store):
    so = store.server.deltalake_options()
    write_deltalake(store.table_uri("theirs"), pa.table({"id": [1, 2], "v": ["a", "b"]}),
                    storage_options=so)
    write_deltalake(store.table_uri("theirs_m"), pa.table({"id": [1, 2], "v": ["a", "b"]}),
                    storage_options=so)
    store.put_parquet("raw/a/x.parquet", {"id": [3], "v": ["c"]})
    store.put_parquet("raw/m/x.parquet", {"id": [2, 4], "v": ["B", "d"]})
    no_audit = {"audit_columns": {"enabled": False}}
    store.write_config([
        store.table_entry("theirs", "a/*.parquet", **no_audit),
        store.table_entry("theirs_m", "m/*.parquet", loading_strategy="merge",
                          primary_keys=["id"], **no_audit),
    ])
    store.load()
    got = sorted(store.read("theirs").to_pylist(), key=lambda r: r["id"])
    assert got == [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}, {"id": 3, "v": "c"}]
    got = sorted(store.read("theirs_m").to_pylist(), key=lambda r: r["id"])
    assert got == [{"id": 1, "v": "a"}, {"id": 2, "v": "B"}, {"id": 4, "v": "d"}]


def test_table_commands(store):
    store.put_parquet("raw/t/a.parquet", {"id": [1, 2, 3]})
    store.put_parquet("raw/t/b.parquet", {"id": [4, 5]})
    store.write_config([store.table_entry("t", "t/*.parquet", max_files_per_batch=1)])
    store.load()
    uri = store.table_uri("t")
    opts = []
    for k, v in store.server.storage_options().items():
        opts += ["--storage-option", f"{k}={v}"]

    def table(*args):
        cmd = [store.bin, "table", *args, *opts]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, f"{cmd}\n{p.stdout}\n{p.stderr}"
        assert store.server.secret not in p.stdout + p.stderr
        return p.stdout

    assert "2" in table("history", uri)
    assert "id" in table("describe", uri)
    assert "5" in table("scan", uri, "--where", "id = 5")
    table("optimize", uri)
    table("checkpoint", uri)
    prefix = f"processed/{DB}/t/"
    before = [k for k in store.server.keys(store.bucket, prefix) if k.endswith(".parquet")
              and "_delta_log" not in k]
    table("vacuum", uri, "--retention-hours", "0", "--force")
    assert sorted(store.read("t").column("id").to_pylist()) == [1, 2, 3, 4, 5]
    after = {k[len(prefix):] for k in store.server.keys(store.bucket, prefix)
             if k.endswith(".parquet") and "_delta_log" not in k}
    live = {u[len(uri) + 1:] for u in store.delta("t").file_uris()}
    assert after == live, f"VACUUM left or took the wrong files: {after} != {live}"
    assert len(before) > len(after), "OPTIMIZE + VACUUM removed no file"


# -- faults ------------------------------------------------------------------------------------


def test_wrong_secret_is_a_clear_error_without_the_secret(store):
    store.put_parquet("raw/w/a.parquet", {"id": [1]})
    wrong = store.server.wrong_secret
    store.write_config([store.table_entry("w", "w/*.parquet")], secret=wrong)
    r = store.run("run")
    assert r.rc != 0, str(r)
    assert store.bucket in r.out, str(r)
    assert wrong not in r.out and store.server.secret not in r.out, str(r)
    assert any(w in r.out.lower() for w in ("denied", "signature", "403",
                                              "authentication failed")), str(r)


def test_missing_bucket_is_a_clear_error(store):
    store.write_config([store.table_entry("w", "w/*.parquet")])
    cfg = store.config_path.read_text().replace(store.bucket, "no-such-bucket-dl")
    store.config_path.write_text(cfg)
    r = store.run("run")
    assert r.rc != 0, str(r)
    assert "no-such-bucket-dl" in r.out and ("not exist" in r.out or "NoSuchBucket" in r.out), \
        str(r)


def test_server_errors_are_retried(store):
    proxy = FaultProxy(store.server.port)
    try:
        files = [store.put_parquet(f"raw/f/p{i}.parquet", {"id": [i]}) for i in range(4)]
        store.write_config([store.table_entry("f", "f/*.parquet")], endpoint=proxy.endpoint)
        proxy.fail_next(2, 503, "GET")
        proxy.fail_next(2, 500, "PUT")
        store.load()
        assert store.rows_by_file("f") == {f: 1 for f in files}
        assert not proxy.failures, "the injected faults were not all hit"
    finally:
        proxy.stop()


def test_throttling_and_server_errors_on_every_method_are_retried(store):
    """429 (S3 SlowDown, Azure's throttling) and 5xx answers to listings, reads, HEADs and
    commits are retried with backoff: every file loads exactly once and every fault was hit.
    A HEAD answer has no body (the proxy sent one, and the connection's next answer was read
    from it as "Unsupported protocol")."""
    proxy = FaultProxy(store.server.port)
    try:
        files = [store.put_parquet(f"raw/th/p{i}.parquet", {"id": [i]}) for i in range(6)]
        store.write_config([store.table_entry("th", "th/*.parquet", max_files_per_batch=2)],
                           endpoint=proxy.endpoint, max_parallel_jobs=1)
        for status, method in [(503, "GET"), (429, "GET"), (503, "PUT"), (429, "PUT"),
                               (500, "HEAD"), (429, "HEAD")]:
            proxy.fail_next(1, status, method)
        store.load()
        assert not proxy.failures, f"faults not hit: {proxy.failures}"
        assert store.rows_by_file("th") == {f: 1 for f in files}
        assert store.log_versions("th") == [0, 1, 2]
    finally:
        proxy.stop()

def test_a_commit_whose_answer_was_lost_is_not_committed_twice(store):
    """The store wrote a commit but its answer was lost (a 5xx after the write): the retried
    conditional PUT finds the version taken, and the loader sees its own commit there instead
    of committing the batch again under the next version. Also for the tracker's commit."""
    proxy = FaultProxy(store.server.port)
    try:
        files = [store.put_parquet(f"raw/la/p{i}.parquet", {"id": [i]}) for i in range(4)]
        store.write_config([store.table_entry("la", "la/*.parquet", max_files_per_batch=2)],
                           endpoint=proxy.endpoint, max_parallel_jobs=1)
        proxy.lost_answers += [("PUT", 500, f"/{DB}/la/_delta_log/{0:020}.json"),
                               ("PUT", 503, f"/{DB}/la/_delta_log/{1:020}.json"),
                               ("PUT", 503, f"file_processing_tracker/_delta_log/{0:020}.json")]
        store.load()
        assert not proxy.lost_answers, f"not hit: {proxy.lost_answers}"
        store.load()
    finally:
        proxy.stop()
    assert store.rows_by_file("la") == {f: 1 for f in files}
    assert store.log_versions("la") == [0, 1]


def run_metrics_json(text: str) -> dict:
    return json.loads(text)["storage_requests"]


def test_a_run_reports_its_storage_requests_s3_nonzero_local_zero(s3env, env):
    """The run's metrics and summary carry the requests our own storage client sent; the
    counting proxy sees those and DuckDB's data-file requests, so at least as many."""
    proxy = FaultProxy(s3env.server.port)
    try:
        for i in range(3):
            s3env.put_parquet(f"raw/rq/p{i}.parquet", {"id": [i]})
        s3env.write_config([s3env.table_entry("rq", "rq/*.parquet")], endpoint=proxy.endpoint)
        r = s3env.load()
        seen = sum(proxy.counts.values())
    finally:
        proxy.stop()
    [key] = [k for k in s3env.server.keys(s3env.bucket, "checkpoints/metrics/")
             if k.endswith(".json")]
    body = s3env.server.client.get_object(Bucket=s3env.bucket, Key=key)["Body"].read()
    req = run_metrics_json(body)
    assert req["list"] > 0 and req["get"] > 0 and req["put"] > 0, req
    assert req["total"] == sum(req[k] for k in ("list", "get", "head", "put", "delete")), req
    assert req["per_file_loaded"] == pytest.approx(req["total"] / 3), req
    assert req["total"] <= seen, (req, proxy.counts)
    assert f"storage requests: {req['total']} (LIST {req['list']}," in r.stdout, r.stdout

    write_parquet(env.raw / "rq" / "p0.parquet", {"id": [1]})
    env.write_config([env.table_entry("rq", "rq/*.parquet", "parquet")], enable_metrics=True)
    local = env.load()
    [metrics] = (env.checkpoints / "metrics").glob("run-*.json")
    req = run_metrics_json(metrics.read_text())
    assert req == {"list": 0, "get": 0, "head": 0, "put": 0, "delete": 0, "total": 0,
                   "per_file_loaded": 0.0}, req
    assert "storage requests" not in local.stdout, local.stdout


def table_data_reads(proxy: FaultProxy, bucket: str, name: str) -> list[str]:
    """GETs of the table's data files (not its log) the proxy saw."""
    prefix = f"/{bucket}/processed/{DB}/{name}/"
    paths = [urlsplit(path).path for method, path in proxy.requests if method == "GET"]
    return [p for p in paths if prefix in p and "/_delta_log/" not in p]


def source_heads(proxy: FaultProxy, bucket: str, prefix: str) -> int:
    return sum(1 for method, path in proxy.requests
               if method == "HEAD" and f"/{bucket}/raw/{prefix}/" in urlsplit(path).path)


def test_an_append_counts_rows_per_file_without_reading_the_table_back(store):
    """The tracker's rows per source file are counted as the rows are written: the append
    sends no GET for the table's data files (it read each new file back to count, 8 GETs per
    source file on S3). The counts stay exact, on a new table and on one with files. A parquet
    batch is one view, not a view over the files' view: on S3 4 HEADs per source file (3
    statements that bind it, the pre-commit check), not 5."""
    proxy = FaultProxy(store.server.port)
    try:
        sizes = {"a": 3, "b": 5, "c": 1}
        files = {store.put_parquet(f"raw/rc/{k}.parquet",
                                   {"id": list(range(n)), "v": [k] * n}): n
                 for k, n in sizes.items()}
        store.write_config([store.table_entry("rc", "rc/*.parquet")], endpoint=proxy.endpoint)
        store.load()
        assert table_data_reads(proxy, store.bucket, "rc") == []
        if isinstance(store.server, S3Server):  # DuckDB's azure extension HEADs more per open
            assert source_heads(proxy, store.bucket, "rc") <= 4 * len(files)
        more = {store.put_parquet("raw/rc/d.parquet", {"id": [7, 8], "v": ["d", "d"]}): 2}
        store.load()
        assert table_data_reads(proxy, store.bucket, "rc") == []
    finally:
        proxy.stop()
    tracker = DeltaTable(f"{store.processed}/metadata/file_processing_tracker",
                         storage_options=store.server.deltalake_options()).to_pyarrow_table()
    rows = {r["file_path"]: r["rows_loaded"] for r in tracker.to_pylist()
            if r["status"] == "completed"}
    assert rows == files | more
    assert store.rows_by_file("rc") == files | more


def test_a_store_without_conditional_writes_is_refused(store):
    proxy = FaultProxy(store.server.port)
    proxy.strip_if_none_match = True
    try:
        store.put_parquet("raw/c/a.parquet", {"id": [1]})
        store.write_config([store.table_entry("c", "c/*.parquet")], endpoint=proxy.endpoint)
        r = store.run("run")
        assert r.rc != 0, str(r)
        assert "does not honour conditional writes" in r.out, str(r)
        if store.server.scheme == "s3":  # S3 offers a single-writer opt-in; Azure has none
            assert "aws_conditional_put" in r.out, str(r)
        assert not store.log_versions("c"), "a commit was written without a conditional PUT"
    finally:
        proxy.stop()


def test_secrets_never_reach_validate_dry_run_or_status(store):
    store.put_parquet("raw/s/a.parquet", {"id": [1]})
    store.write_config([store.table_entry("s", "s/*.parquet")])
    for args in (("validate",), ("run", "--dry-run"), ("run",), ("status", "--json"),
                 ("cluster-status",)):
        r = store.run(*args)
        assert store.server.secret not in r.out, f"{args} printed the secret\n{r}"
    metrics = [k for k in store.server.keys(store.bucket, "checkpoints/") if "metrics" in k]
    assert metrics, "no metrics file in the bucket"
    for k in metrics:
        assert store.server.secret.encode() not in store.server.get(store.bucket, k)
