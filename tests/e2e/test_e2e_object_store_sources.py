"""Object storage, more sources and mixes (issue 13): a Delta table on a store as a source,
`**` globs and csv/json on a store, raw files in a bucket with tables and state on local disk,
a `table:` dependency on a store, and an object deleted between listing and load."""
from __future__ import annotations

import os
import subprocess

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from e2e_lib import read_delta, to_yaml, wait_for
from test_e2e_object_store import DB, store  # noqa: F401  (fixture, parametrized per store)


def test_a_delta_table_on_a_store_is_a_source(store):
    source = store.server.uri(store.bucket, "lake/src")
    so = store.server.deltalake_options()
    write_deltalake(source, pa.table({"id": [1, 2], "v": ["a", "b"]}), storage_options=so)
    store.write_config([{"table_name": "copy", "database_name": DB,
                         "source_path_pattern": source, "file_format": "delta",
                         "loading_strategy": "append", "audit_columns": {"enabled": False}}])
    store.load()
    write_deltalake(source, pa.table({"id": [3], "v": ["c"]}), storage_options=so,
                    mode="append")
    store.load()
    store.load()  # nothing new
    got = sorted(store.read("copy").to_pylist(), key=lambda r: r["id"])
    assert got == [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}, {"id": 3, "v": "c"}]


def test_recursive_globs_and_text_formats_on_a_store(store):
    csvs = [store.put(f"raw/c/2026/{m:02d}/d{d}/x.csv", f"id,m\n{m * 10 + d},{m}\n".encode())
            for m in (1, 2) for d in (1, 2)]
    store.put("raw/c/2026/01/d1/notes.txt", b"not a csv")
    store.put("raw/c/2026/01/_hidden/y.csv", b"id,m\n999,9\n")
    jsons = [store.put(f"raw/j/{i}.json", f'{{"id": {i}, "tag": "t{i}"}}\n'.encode())
             for i in range(3)]
    store.write_config([store.table_entry("c", "c/**/*.csv", "csv"),
                        store.table_entry("j", "j/*.json", "json")])
    store.load()
    assert store.rows_by_file("c") == {f: 1 for f in csvs}
    assert store.rows_by_file("j") == {f: 1 for f in jsons}


def test_raw_files_in_a_bucket_tables_and_state_on_local_disk(store, tmp_path):
    files = [store.put_parquet(f"raw/m/p{i}.parquet", {"id": [i]}) for i in range(3)]
    processed, checkpoints = tmp_path / "processed", tmp_path / "checkpoints"
    store.write_config([store.table_entry("m", "m/*.parquet")],
                       processed_data_path=str(processed), checkpoint_path=str(checkpoints))
    store.load()
    store.load()
    t = read_delta(processed / DB / "m")
    assert sorted(t.column("_source_file").to_pylist()) == sorted(files)
    assert not store.server.keys(store.bucket, "processed/"), "tables went to the bucket"
    assert DeltaTable(str(processed / "metadata" / "file_processing_tracker")).version() >= 0


def test_a_table_dependency_on_a_store(store):
    store.put_parquet("raw/up/a.parquet", {"id": [1]})
    store.put_parquet("raw/down/a.parquet", {"id": [1]})
    upstream = store.table_uri("up")
    store.write_config([store.table_entry("down", "down/*.parquet")],
                       upstream_dependencies=[f"table:{DB}.up"])
    r = store.run("run")
    assert r.rc == 3, f"an upstream table that does not exist yet is unmet (exit 3)\n{r}"
    write_deltalake(upstream, pa.table({"id": [1]}), storage_options=store.server.deltalake_options())
    store.load()
    assert store.read("down").num_rows == 1


def test_an_object_deleted_between_listing_and_load_fails_alone(store, tmp_path):
    """Table `a`'s commit is held until table `b`'s planned source object is deleted; `b`'s
    file then fails on its own, named, and everything else loads."""
    a_files = [store.put_parquet(f"raw/a/p{i}.parquet", {"id": [i]}) for i in range(2)]
    gone = store.put_parquet("raw/b/gone.parquet", {"id": [1]})
    kept = store.put_parquet("raw/b/kept.parquet", {"id": [2]})
    store.write_config([store.table_entry("a", "a/*.parquet"),
                        store.table_entry("b", "b/*.parquet", max_files_per_batch=1)],
                       max_parallel_jobs=1)
    release = tmp_path / "release"
    env = dict(os.environ, DL_TEST_PAUSE_BEFORE_COMMIT=str(release))
    p = subprocess.Popen(store.cmd("run"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env)
    try:
        wait_for(lambda: (tmp_path / "release.waiting").exists() or p.poll() is not None, 120,
                 what="the first commit to be held")
        store.server.delete(store.bucket, "raw/b/gone.parquet")
        release.write_text("")
        out, err = p.communicate(timeout=180)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 1, f"exit {p.returncode}\n{out}\n{err}"
    assert gone in out + err, f"the deleted object is not named\n{out}\n{err}"
    assert store.rows_by_file("a") == {f: 1 for f in a_files}
    assert store.rows_by_file("b") == {kept: 1}


def test_keys_with_spaces_plus_percent_and_unicode_load_once(store):
    """A key is the file's identity as listed, and the engine reads that very object: spaces,
    '+', '%', '&', '=' and non-ASCII names load once, and a rerun finds nothing new."""
    names = ["a b.parquet", "a+b.parquet", "100%25.parquet", "50%.parquet", "x=1&y.parquet",
             "ünï cödé.parquet"]
    files = [store.put_parquet(f"raw/s/{n}", {"id": [i]}) for i, n in enumerate(names)]
    store.write_config([store.table_entry("s", "s/*.parquet")])
    store.load()
    store.load()  # nothing new: the tracker knows every key as the listing spells it
    assert store.rows_by_file("s") == {f: 1 for f in files}
    assert sorted(store.read("s").column("id").to_pylist()) == list(range(len(names)))
