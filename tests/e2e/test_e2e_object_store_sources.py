"""Object storage, more sources and mixes (issue 13): a Delta table on a store as a source,
`**` globs and csv/json on a store, raw files in a bucket with tables and state on local disk,
a `table:` dependency on a store, an object deleted between listing and load, and the
pre-commit check's listing (its requests, and a rewrite it catches)."""
from __future__ import annotations

import json
import os
import subprocess

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from e2e_lib import read_delta, to_yaml, wait_for
from test_e2e_object_store import DB, s3env, store  # noqa: F401  (fixtures; store: per store)


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


def test_dependencies_on_a_table_and_a_flag_given_by_their_uris(store):
    """`table:<uri>` (a table on a store, named by its location as `table:/abs/path` names a
    local one) was refused at run time as not a name (exit 3 on every run, validate passed);
    it is met once the table exists, as `file:<uri>` is once the flag object exists."""
    store.put_parquet("raw/down/a.parquet", {"id": [1]})
    upstream = store.server.uri(store.bucket, "lake/up")
    flag = store.server.uri(store.bucket, "flags/ready")
    store.write_config([store.table_entry("down", "down/*.parquet")],
                       upstream_dependencies=[f"table:{upstream}", f"file:{flag}"])
    assert store.run("validate").rc == 0
    r = store.run("run")
    assert r.rc == 3, str(r)
    assert f"table:{upstream} (no Delta table at {upstream})" in r.stderr, str(r)
    assert f"file:{flag} (no file at {flag})" in r.stderr, str(r)
    write_deltalake(upstream, pa.table({"id": [1]}), storage_options=store.server.deltalake_options())
    store.put("flags/ready", b"")
    store.load()
    assert store.read("down").num_rows == 1


def test_a_source_prefix_that_does_not_exist_is_a_warning_in_the_run_and_in_status(store):
    """A source prefix with no object is a warning in the run's summary and its metrics, and
    in `status` (text and --json), which said nothing: a typo in a prefix looked like a table
    whose files had not arrived yet. A prefix that exists, and a literal key naming one
    object, are no warning."""
    store.put_parquet("raw/here/a.parquet", {"id": [1]})
    one = store.put_parquet("raw/one/x.parquet", {"id": [2]})
    gone = f"{store.raw}/nothere/*.parquet"
    store.write_config([store.table_entry("here", "here/*.parquet"),
                        store.table_entry("one", "one/x.parquet"),
                        store.table_entry("gone", "nothere/*.parquet")])
    want = f"source_path_pattern {gone}: its base directory does not exist"
    r = store.load()
    assert f"warning: [{DB}.gone] {want}" in r.stdout, str(r)
    r = store.run("status")
    assert r.rc == 0 and f"  warning: {want}" in r.stdout, str(r)
    assert r.stdout.count("its base directory does not exist") == 1, str(r)
    r = store.run("status", "--json")
    tables = {t["table"]: t for t in json.loads(r.stdout)["tables"]}
    assert tables[f"{DB}.gone"]["source_warnings"] == [want], tables
    assert tables[f"{DB}.here"]["source_warnings"] == [], tables
    assert tables[f"{DB}.one"]["source_warnings"] == [], tables
    assert store.rows_by_file("one") == {one: 1}


def run_holding_the_commit(env, tmp_path, change, what="the commit to be held"):
    """`run` with the first commit held (after its batch's files were read) while change()
    runs, then let go. Returns the exit code and the output."""
    release = tmp_path / "release"
    run_env = dict(os.environ, DL_TEST_PAUSE_BEFORE_COMMIT=str(release))
    p = subprocess.Popen(env.cmd("run"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=run_env)
    try:
        wait_for(lambda: (tmp_path / "release.waiting").exists() or p.poll() is not None, 120,
                 what=what)
        change()
        release.write_text("")
        out, err = p.communicate(timeout=180)
    finally:
        if p.poll() is None:
            p.kill()
    return p.returncode, out + err


def run_changing_a_file_before_the_commit(env, tmp_path, table, change):
    """Loads 12 one-row csv files raw/<table>/f00..f11 with the commit held while change()
    alters f05. Expects exit 1 naming f05 as changed; returns the files and the output."""
    files = [env.put(f"raw/{table}/f{i:02}.csv", f"id\n{i}\n".encode()) for i in range(12)]
    env.write_config([env.table_entry(table, f"{table}/*.csv", "csv")])
    rc, out = run_holding_the_commit(env, tmp_path, change)
    assert rc == 1, f"exit {rc}\n{out}"
    assert f"{files[5]} changed while it was being loaded" in out, out
    return files, out


def test_an_object_deleted_between_listing_and_load_fails_alone(store, tmp_path):
    """Table `a`'s commit is held until table `b`'s planned source object is deleted; `b`'s
    file then fails on its own, named, and everything else loads."""
    a_files = [store.put_parquet(f"raw/a/p{i}.parquet", {"id": [i]}) for i in range(2)]
    gone = store.put_parquet("raw/b/gone.parquet", {"id": [1]})
    kept = store.put_parquet("raw/b/kept.parquet", {"id": [2]})
    store.write_config([store.table_entry("a", "a/*.parquet"),
                        store.table_entry("b", "b/*.parquet", max_files_per_batch=1)],
                       max_parallel_jobs=1)
    rc, output = run_holding_the_commit(
        store, tmp_path, lambda: store.server.delete(store.bucket, "raw/b/gone.parquet"),
        what="the first commit to be held")
    assert rc == 1, f"exit {rc}\n{output}"
    assert gone in output, f"the deleted object is not named\n{output}"
    assert store.rows_by_file("a") == {f: 1 for f in a_files}
    assert store.rows_by_file("b") == {kept: 1}


def test_the_pre_commit_check_lists_the_directory_instead_of_a_head_per_file(store):
    """Before a batch commits, the check that no source file changed while it was read takes a
    directory's files from one listing of it: our own client sends no HEAD per source file
    (it sent one each, 45 HEADs for these 40 files)."""
    n = 40
    files = [store.put(f"raw/s/f{i:03}.csv", f"id,v\n{i},x\n".encode()) for i in range(n)]
    store.write_config([store.table_entry("s", "s/*.csv", "csv")])
    store.load()
    assert store.rows_by_file("s") == {f: 1 for f in files}
    [key] = [k for k in store.server.keys(store.bucket, "checkpoints/metrics/")
             if k.endswith(".json")]
    req = json.loads(store.server.get(store.bucket, key))["storage_requests"]
    assert req["head"] < 10, req


def test_a_file_rewritten_while_its_batch_was_read_is_caught_through_the_listing(store, tmp_path):
    """The commit is held after the batch's 12 files were read; one of them is rewritten
    (another size) meanwhile. The check before the commit, which lists the directory, sees it:
    that file fails, named, and the other 11 load."""
    files, out = run_changing_a_file_before_the_commit(
        store, tmp_path, "r", lambda: store.put("raw/r/f05.csv", b"id\n5\n55\n"))
    assert store.rows_by_file("r") == {f: 1 for i, f in enumerate(files) if i != 5}


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


def overwrite_in_place(s3env, key: str, data: bytes) -> None:
    """Put `data` over the object `key` (same size) so that only its ETag tells: versitygw's
    LastModified is its file's mtime, set back to the old one (an overwrite within the same
    second looks just like this on a store with second-resolution times)."""
    path = s3env.server.dir / s3env.bucket / key
    before = path.stat()
    head = s3env.server.client.head_object(Bucket=s3env.bucket, Key=key)
    s3env.put(key, data)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = s3env.server.client.head_object(Bucket=s3env.bucket, Key=key)
    assert (after["ContentLength"], after["LastModified"]) == (head["ContentLength"],
                                                               head["LastModified"])
    assert after["ETag"] != head["ETag"], "the store kept the ETag of an overwritten object"


def test_an_object_overwritten_with_the_same_size_and_mtime_is_a_new_version(s3env):
    """Size and modification time alone miss an overwrite in place within the same second:
    the ETag tells. Without allow_overwrites the new version is skipped with a warning naming
    the file; with it, the new version is loaded (once)."""
    kept = s3env.put("raw/w/a.csv", b"id,v\n1,old\n")
    reloaded = s3env.put("raw/o/a.csv", b"id,v\n1,old\n")
    s3env.write_config([s3env.table_entry("w", "w/*.csv", "csv"),
                        s3env.table_entry("o", "o/*.csv", "csv", allow_overwrites=True)])
    s3env.load()
    w_version = s3env.delta("w").version()
    overwrite_in_place(s3env, "raw/w/a.csv", b"id,v\n1,new\n")
    overwrite_in_place(s3env, "raw/o/a.csv", b"id,v\n1,new\n")
    r = s3env.load()
    assert s3env.delta("w").version() == w_version, "a modified object was reloaded"
    warn = [line for line in r.stderr.splitlines() if kept in line and "allow_overwrites" in line]
    assert warn and "ETag" in warn[0], f"no warning naming the object and its ETag\n{r}"
    assert sorted(s3env.read("o").column("v").to_pylist()) == ["new", "old"]
    o_version = s3env.delta("o").version()
    s3env.load()  # the new version is loaded once
    assert s3env.delta("o").version() == o_version
    assert s3env.rows_by_file("o") == {reloaded: 2}


def test_an_object_overwritten_in_place_while_its_batch_was_read_does_not_commit(s3env, tmp_path):
    """Same size, same (whole-second) time, other content: only the ETag tells. Rewritten while
    the batch's commit is held, after its files were read: the check before the commit sees
    it through the directory's listing, that file fails, named, and the other 11 load."""
    files, out = run_changing_a_file_before_the_commit(
        s3env, tmp_path, "e", lambda: overwrite_in_place(s3env, "raw/e/f05.csv", b"id\n9\n"))
    assert "ETag" in out, out
    assert s3env.rows_by_file("e") == {f: 1 for i, f in enumerate(files) if i != 5}


def test_a_tracker_without_the_etag_column_still_loads_and_gains_it(s3env):
    """A tracker as versions before the file_etag column wrote it (the same table without that
    column): the files it records as loaded stay loaded, though their listing now has ETags,
    and the next append adds the column."""
    first = s3env.put_parquet("raw/m/a.parquet", {"id": [1]})
    s3env.write_config([s3env.table_entry("m", "m/*.parquet")])
    s3env.load()
    so = s3env.server.deltalake_options()
    tracker = f"{s3env.processed}/metadata/file_processing_tracker"
    old = DeltaTable(tracker, storage_options=so).to_pyarrow_table().drop_columns(["file_etag"])
    write_deltalake(tracker, old, mode="overwrite", schema_mode="overwrite",
                    partition_by=["table_name"], storage_options=so)
    assert "file_etag" not in DeltaTable(tracker, storage_options=so).schema().to_arrow().names
    version = s3env.delta("m").version()
    s3env.load()
    assert s3env.delta("m").version() == version, "a tracked file was loaded again"
    second = s3env.put_parquet("raw/m/b.parquet", {"id": [2]})
    s3env.load()
    assert s3env.rows_by_file("m") == {first: 1, second: 1}
    rows = DeltaTable(tracker, storage_options=so).to_pyarrow_table().to_pylist()
    etags = {r["file_path"]: r["file_etag"] for r in rows if r["status"] == "completed"}
    assert etags[first] is None and etags[second], etags


def test_keys_with_glob_characters_are_loaded_as_exactly_those_objects(store):
    """Keys with '*', '[', ']' and '?' (in raw_data_path, in the directories below it, in the
    names) are read as exactly those objects, never as patterns: beside each lies an object
    its key would match as one. Tables and the tracker live below glob characters too, and a
    merge rewrites the table's files there."""
    base = "la nd[1]"  # a literal directory, next to "la nd1" with the same names
    ids = iter(range(0, 10_000, 100))
    want = {}
    for key in ("f.csv", "g/st*.csv", "g/stZ.csv", "g/stY.csv", "q?/qq?.csv", "q?/qqz.csv",
                "qq/qqz.csv", "brk[1]/x[1].csv"):
        start = next(ids)
        want[store.put(f"{base}/{key}", csv_text(start))] = 10
        store.put(f"la nd1/{key.replace('[1]', '1')}", csv_text(5000 + start))
    raw = store.server.uri(store.bucket, base)
    entries = [{"table_name": "all", "database_name": DB, "source_path_pattern": "**/*.csv",
                "file_format": "csv", "loading_strategy": "append"},
               {"table_name": "dim", "database_name": DB, "source_path_pattern": "g/*.csv",
                "file_format": "csv", "loading_strategy": "merge", "primary_keys": ["k"]}]
    store.write_config(entries, raw_data_path=raw,
                       processed_data_path=store.server.uri(store.bucket, "pro[c]*"),
                       checkpoint_path=store.server.uri(store.bucket, "chk[1]?"))
    r = store.load()
    assert "2 tables, 11 files loaded, 0 failed, 0 skipped, 110 rows" in r.out, r
    got = read_table(store, "pro[c]*/e2e/all")
    by_file: dict[str, int] = {}
    for row in got:
        by_file[row["_source_file"]] = by_file.get(row["_source_file"], 0) + 1
    assert by_file == want
    assert sorted(row["id"] for row in got) == sorted(
        i for start in range(0, 800, 100) for i in range(start, start + 10))
    # A second run: nothing new (the tracker below chk[1]? is read); a changed key merges.
    store.load()
    store.put(f"{base}/g/stX.csv", csv_text(7000, k_from=100))  # the keys of g/st*.csv again
    r = store.load()
    assert "2 tables, 2 files loaded, 0 failed, 0 skipped, 20 rows" in r.out, r
    dim = read_table(store, "pro[c]*/e2e/dim")
    assert len(dim) == 30, dim
    star = f"{raw}/g/st*.csv"
    assert sum(1 for row in dim if row["_source_file"] == star) == 0
    assert sum(1 for row in dim if row["_source_file"] == f"{raw}/g/stX.csv") == 10


def csv_text(start: int, k_from: int | None = None) -> bytes:
    """Ten rows `k,id`: ids start.., keys k_from.. (default: the ids)."""
    k0 = start if k_from is None else k_from
    return ("k,id\n" + "".join(f"{k0 + i},{start + i}\n" for i in range(10))).encode()


def read_table(store, key: str) -> list[dict]:
    uri = store.server.uri(store.bucket, key)
    return DeltaTable(uri, storage_options=store.server.deltalake_options()).to_pyarrow_table().to_pylist()
