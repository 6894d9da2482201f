"""One place, many spellings (exactly-once and self-ingestion on versitygw and Azurite): a
bucket spelled with another scheme of its store (s3a:// for s3://; azure:// or
abfss://container@<the configured account>.dfs.core.windows.net for az://), or with `//` after
the bucket, is the same place. Before: a rerun under another spelling loaded every file again,
the loader ingested its own metrics from a checkpoint_path spelled differently than
raw_data_path, a source reading its own table passed `validate`, and `s3://b//proc` was
another (empty) table."""
from __future__ import annotations

import re

from deltalake import DeltaTable

from object_stores import AZURITE_ACCOUNT
from test_e2e_object_store import DB, store  # noqa: F401  (fixture: one bucket per store)


def spellings(store, prefix: str) -> list[str]:
    """The same prefix of the test's bucket under each scheme (and slash) its store accepts."""
    b = store.bucket
    if store.server.scheme == "s3":
        return [f"s3a://{b}/{prefix}", f"s3://{b}/{prefix}/", f"s3a://{b}//{prefix}",
                f"s3://{b}/{prefix}"]
    return [f"az://{b}/{prefix}", f"azure://{b}/{prefix}",
            f"abfss://{b}@{AZURITE_ACCOUNT}.dfs.core.windows.net/{prefix}",
            f"abfs://{b}/{prefix}/"]


def files_loaded(result) -> int:
    m = re.search(r"(\d+) files loaded", result.stdout)
    assert m, str(result)
    return int(m.group(1))


def tracker_paths(store) -> list[str]:
    t = DeltaTable(f"{store.processed}/metadata/file_processing_tracker",
                   storage_options=store.server.deltalake_options())
    return sorted(r["file_path"] for r in t.to_pyarrow_table().to_pylist())


def csv_table(pattern: str = "*.csv") -> dict:
    return {"table_name": "t", "database_name": DB, "source_path_pattern": pattern,
            "file_format": "csv", "loading_strategy": "append"}


def test_a_rerun_under_another_spelling_of_the_bucket_loads_nothing(store):
    for i in range(3):
        store.put(f"land/f{i}.csv", ("id\n" + "".join(f"{i * 10 + j}\n" for j in range(10))).encode())
    raws, processed = spellings(store, "land"), spellings(store, "processed")
    store.write_config([csv_table()], raw_data_path=raws[0], processed_data_path=processed[0])
    assert files_loaded(store.load()) == 3
    first = tracker_paths(store)
    assert len(first) == 3 and all(p.startswith(raws[0].rstrip("/") + "/") for p in first), first
    versions = store.log_versions("t")

    for raw, proc in zip(raws[1:], processed[1:]):
        store.write_config([csv_table()], raw_data_path=raw, processed_data_path=proc)
        r = store.load()
        assert files_loaded(r) == 0, f"{raw}: every file loaded again\n{r}"
        assert store.read("t").num_rows == 30, raw
        assert store.log_versions("t") == versions, raw
        # Old records keep the spelling they were written with; nothing is recorded twice.
        assert tracker_paths(store) == first, raw

    # A new file under the last spelling loads once, under that spelling.
    store.put("land/f3.csv", b"id\n99\n")
    assert files_loaded(store.load()) == 1
    assert files_loaded(store.load()) == 0
    assert store.read("t").num_rows == 31


def test_commits_under_one_spelling_rebuild_a_lost_tracker_under_another(store):
    """Reconciliation reads commitInfo's sourceFiles, written under the spelling of the run
    that committed: a tracker lost after loads under one spelling is rebuilt by a run under
    another, which loads nothing."""
    for i in range(2):
        store.put(f"land/f{i}.csv", f"id\n{i}\n".encode())
    raws = spellings(store, "land")
    store.write_config([csv_table()], raw_data_path=raws[0])
    assert files_loaded(store.load()) == 2
    for key in store.server.keys(store.bucket, "processed/metadata/"):
        store.server.delete(store.bucket, key)
    store.write_config([csv_table()], raw_data_path=raws[-1])
    r = store.load()
    assert files_loaded(r) == 0, str(r)
    assert "reconciled loads the tracker missed" in r.stderr, str(r)
    assert store.read("t").num_rows == 2
    # The rebuilt records say what the commits say (the first run's spelling).
    assert tracker_paths(store) == [f"{raws[0]}/f{i}.csv" for i in range(2)]


def test_checkpoint_path_under_another_spelling_is_never_a_source(store):
    """raw_data_path is the whole bucket under one scheme, checkpoint_path below it under
    another: the metrics and orchestration state written there are not source files."""
    b, azure = store.bucket, store.server.scheme != "s3"
    raw = f"azure://{b}" if azure else f"s3a://{b}"
    base = f"az://{b}" if azure else f"s3://{b}"
    store.put("land/a.json", b'{"id": 1}\n')
    table = {"table_name": "t", "database_name": DB, "source_path_pattern": "**/*.json",
             "file_format": "json", "loading_strategy": "append"}
    store.write_config([table], raw_data_path=raw, processed_data_path=f"{base}/proc",
                       checkpoint_path=f"{base}/ckpt", enable_metrics=True)
    assert store.run("validate").rc == 0
    assert files_loaded(store.load()) == 1
    assert any(k.endswith(".json") for k in store.server.keys(b, "ckpt/metrics/")), \
        "no metrics were written: the test would prove nothing"
    for _ in range(2):
        r = store.load()
        assert files_loaded(r) == 0, f"the loader ingested its own state\n{r}"
    t = DeltaTable(f"{base}/proc/{DB}/t", storage_options=store.server.deltalake_options())
    assert t.to_pyarrow_table().column("_source_file").to_pylist() == [f"{raw}/land/a.json"]

    # A source inside checkpoint_path is refused outright, under any spelling.
    table["source_path_pattern"] = f"{raw}/ckpt/**/*.json"
    store.write_config([table], raw_data_path=raw, processed_data_path=f"{base}/proc",
                       checkpoint_path=f"{base}/ckpt")
    r = store.run("validate")
    assert r.rc == 2 and "reads checkpoint_path" in r.stderr, str(r)


def test_a_source_reading_its_own_table_under_another_spelling_is_refused(store):
    processed = spellings(store, "proc")
    for pattern in [f"{p.rstrip('/')}/{DB}/t/*.parquet" for p in processed]:
        table = csv_table(pattern) | {"file_format": "parquet"}
        store.write_config([table], processed_data_path=processed[-1])
        r = store.run("validate")
        assert r.rc == 2, f"{pattern}\n{r}"
        assert "(its own target): every run would load its own output again" in r.stderr, str(r)
    assert not store.server.keys(store.bucket, "proc/")


def test_a_double_slash_after_the_bucket_is_the_same_table(store):
    """processed_data_path `<scheme>://bucket//proc` is `<scheme>://bucket/proc`, as the docs
    promise for config locations: before, it was the key prefix "/proc/" (on versitygw every
    commit collided with the real table's version 0 and the batch was deferred forever; on
    Azurite the run failed)."""
    scheme, b = store.server.scheme, store.bucket
    for i in range(2):
        store.put(f"land/f{i}.csv", f"id\n{i}\n".encode())
    store.write_config([csv_table()], raw_data_path=f"{scheme}://{b}/land",
                       processed_data_path=f"{scheme}://{b}/proc")
    assert files_loaded(store.load()) == 2
    versions = store.log_versions_of(f"proc/{DB}/t")

    store.write_config([csv_table()], raw_data_path=f"{scheme}://{b}/land",
                       processed_data_path=f"{scheme}://{b}//proc",
                       checkpoint_path=f"{scheme}://{b}//checkpoints/")
    r = store.load()
    assert files_loaded(r) == 0, str(r)
    assert "deferred" not in r.out, str(r)
    assert store.log_versions_of(f"proc/{DB}/t") == versions
    status = store.run("status")
    assert status.rc == 0 and "no table yet" not in status.out, str(status)
    store.put("land/f2.csv", b"id\n2\n")
    assert files_loaded(store.load()) == 1
    t = DeltaTable(f"{scheme}://{b}/proc/{DB}/t", storage_options=store.server.deltalake_options())
    assert sorted(t.to_pyarrow_table().column("id").to_pylist()) == [0, 1, 2]
    assert not [k for k in store.server.keys(b) if k.startswith("/")], "a '/proc' prefix was written"
