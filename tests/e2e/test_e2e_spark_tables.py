"""`table_properties` and `clustering_columns` on the Spark engine: a table Spark creates comes
out with the properties, protocol features and clustering the DuckDB engine gives it, in the
batch's own commit (txn + our metadata); an existing table gets the properties it lacks, and
what the DuckDB engine refuses on an existing table (row tracking, column mapping, another
clustering) is refused the same way before anything is written."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

from e2e_lib import LoaderEnv, assert_loaded_exactly, csv_rows, read_delta, write_csv
from test_e2e_spark_append import (commit_infos, commits, rows,  # noqa: F401
                                   spark_remote, write_configs)

PROPERTIES = {"delta.enableDeletionVectors": True, "delta.enableRowTracking": True,
              "delta.columnMapping.mode": "name"}
# Protocol features the properties and clustering enable (Spark adds legacy ones of its own,
# e.g. invariants and appendOnly, that DuckDB's tables need not list).
FEATURES = {"deletionVectors", "rowTracking", "columnMapping", "clustering", "domainMetadata"}


def describe(env: LoaderEnv, root: Path) -> dict:
    r = subprocess.run([env.bin, "table", "describe", str(root), "--json"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def clustering(root: Path, described: dict) -> list | None:
    """The clustering columns of the latest delta.clustering domain metadata in the log, by
    their logical names (the domain holds physical names under column mapping)."""
    logical = {f["metadata"].get("delta.columnMapping.physicalName", f["name"]): f["name"]
               for f in described["schema"]["fields"]}
    found = None
    for c in sorted((root / "_delta_log").glob("*.json")):
        for line in c.read_text().splitlines():
            d = json.loads(line).get("domainMetadata")
            if d and d["domain"] == "delta.clustering":
                found = None if d["removed"] else [
                    [logical.get(p, p) for p in path]
                    for path in json.loads(d["configuration"])["clusteringColumns"]]
    return found


def features(d: dict) -> set[str]:
    p = d["protocol"]
    return set(p.get("readerFeatures", [])) | set(p.get("writerFeatures", []))


def duck_root(env: LoaderEnv, name: str = "t") -> Path:
    return env.root / "duck" / "processed" / env.DB / name


def test_new_table_with_properties_and_clustering_like_duckdb(env: LoaderEnv, spark41):
    files = {write_csv(env.raw / f"f{i}.csv", csv_rows(i * 100, 4, f"f{i}")): 4 for i in range(3)}
    entry = env.table_entry("t", "*.csv", "csv", max_files_per_batch=2,
                            table_properties=PROPERTIES, clustering_columns=["id"])
    _, duck_cfg = write_configs(env, entry)
    env.load()
    assert_loaded_exactly(env, "t", files)
    # The first commit creates the table WITH the first batch, exactly once like any batch.
    infos = commit_infos(env)
    assert len(infos) == 2, infos
    assert infos[0]["operation"] == "CREATE TABLE AS SELECT"
    assert all("dataLoader" in json.loads(i["userMetadata"]) for i in infos)
    first = [json.loads(line) for line in commits(env)[0].read_text().splitlines()]
    assert [a["txn"]["version"] for a in first if "txn" in a] == [1]
    version = env.version("t")
    env.load()  # a rerun loads nothing
    assert env.version("t") == version
    duck_run = env.run("run", config=duck_cfg)
    assert duck_run.rc == 0, str(duck_run)
    ours, theirs = describe(env, env.table_path("t")), describe(env, duck_root(env))
    for d in (ours, theirs):
        for key, value in PROPERTIES.items():
            assert d["properties"][key] == str(value).lower(), (key, d["properties"])
        assert FEATURES <= features(d), d["protocol"]
    assert clustering(env.table_path("t"), ours) == clustering(duck_root(env), theirs) == [["id"]]
    assert rows(env.read("t")) == rows(read_delta(duck_root(env)))
    # Spark reads it too (column mapping, deletion vectors, row tracking all in place).
    got = spark41.rows("SELECT count(*) AS n, count(DISTINCT id) AS k "
                       f"FROM delta.`{env.table_path('t')}`")
    assert got == [{"n": 12, "k": 12}]


def test_new_table_with_properties_only_like_duckdb(env: LoaderEnv, spark41):
    """Without clustering the table is created by a plain write (the properties as its delta.*
    options): a directory holding files (a killed attempt's, or the SCD2 change store) does not
    stop it; a key outside delta.* follows in a commit of its own."""
    files = {write_csv(env.raw / f"f{i}.csv", csv_rows(i * 100, 4, f"f{i}")): 4 for i in range(2)}
    props = dict(PROPERTIES, **{"owner.team": "ingest"})
    entry = env.table_entry("t", "*.csv", "csv", table_properties=props)
    _, duck_cfg = write_configs(env, entry)
    # What an attempt killed before its commit leaves: a data file and no log.
    env.table_path("t").mkdir(parents=True)
    (env.table_path("t") / "part-00000-left-behind.snappy.parquet").write_bytes(b"PAR1")
    env.load()
    assert_loaded_exactly(env, "t", files)
    infos = commit_infos(env)
    assert [("dataLoader" in i.get("userMetadata", "")) for i in infos] == [True, False], infos
    version = env.version("t")
    env.load()  # a rerun loads nothing and finds every property set
    assert env.version("t") == version
    assert env.run("run", config=duck_cfg).rc == 0
    ours, theirs = describe(env, env.table_path("t")), describe(env, duck_root(env))
    for d in (ours, theirs):
        for key, value in props.items():
            assert d["properties"][key] == str(value).lower(), (key, d["properties"])
        assert FEATURES - {"clustering"} <= features(d), d["protocol"]
    assert rows(env.read("t")) == rows(read_delta(duck_root(env)))
    got = spark41.rows(f"SELECT count(*) AS n FROM delta.`{env.table_path('t')}`")
    assert got == [{"n": 8}]


def test_existing_table_gets_new_properties_like_duckdb(env: LoaderEnv, spark41):
    write_csv(env.raw / "a.csv", csv_rows(0, 3, "a"))
    entry = env.table_entry("t", "*.csv", "csv")
    _, duck_cfg = write_configs(env, entry)
    env.load()
    assert env.run("run", config=duck_cfg).rc == 0
    # The config gains properties: the next batch's table gets them on both engines.
    write_csv(env.raw / "b.csv", csv_rows(10, 3, "b"))
    props = {"delta.enableDeletionVectors": True, "delta.logRetentionDuration": "interval 60 days"}
    _, duck_cfg = write_configs(env, dict(entry, table_properties=props))
    env.load()
    assert env.run("run", config=duck_cfg).rc == 0
    ours, theirs = describe(env, env.table_path("t")), describe(env, duck_root(env))
    for d in (ours, theirs):
        assert d["properties"]["delta.enableDeletionVectors"] == "true"
        assert d["properties"]["delta.logRetentionDuration"] == "interval 60 days"
        assert "deletionVectors" in features(d), d["protocol"]
    assert rows(env.read("t")) == rows(read_delta(duck_root(env)))
    # The properties' commit carries no batch; the batch's commit is the one with our txn.
    infos = commit_infos(env)
    assert [("dataLoader" in i.get("userMetadata", "")) for i in infos] == [True, False, True]
    version = env.version("t")
    env.load()  # the rerun finds the properties set and the file loaded: no commit
    assert env.version("t") == version
    assert spark41.rows(f"SELECT count(*) AS n FROM delta.`{env.table_path('t')}`") == [{"n": 6}]


def test_what_a_write_cannot_change_is_refused_like_duckdb(env: LoaderEnv):
    write_csv(env.raw / "a.csv", csv_rows(0, 3, "a"))
    entry = env.table_entry("t", "*.csv", "csv")
    _, duck_cfg = write_configs(env, entry)
    env.load()
    assert env.run("run", config=duck_cfg).rc == 0
    write_csv(env.raw / "b.csv", csv_rows(10, 3, "b"))
    version = env.version("t")
    for extra, named in [({"table_properties": {"delta.enableRowTracking": True}},
                          "delta.enableRowTracking"),
                         ({"table_properties": {"delta.columnMapping.mode": "name"}},
                          "delta.columnMapping.mode"),
                         ({"clustering_columns": ["id"]}, "not clustered")]:
        _, duck_cfg = write_configs(env, dict(entry, **extra))
        spark_run, duck_run = env.run("run"), env.run("run", config=duck_cfg)
        assert spark_run.rc == duck_run.rc != 0, (str(spark_run), str(duck_run))
        for r in (spark_run, duck_run):
            assert named in r.out, str(r)
        assert env.version("t") == version, "nothing may be written"


def test_the_tables_codec_is_written_by_spark_too(env: LoaderEnv):
    """delta.compression.codec (Databricks' property) on a table: Apache Spark's Delta ignores
    it, so the Spark engine writes its batches with the session's codec set to it."""
    from test_e2e_compression import codecs
    write_csv(env.raw / "a.csv", csv_rows(0, 3, "a"))
    entry = env.table_entry("t", "*.csv", "csv", table_properties={"delta.compression.codec": "zstd"})
    env.write_config([dict(entry, engine="duckdb")])
    env.load()
    write_csv(env.raw / "b.csv", csv_rows(10, 3, "b"))
    env.write_config([dict(entry, engine="spark")])
    env.load()
    got = codecs(env.table_path("t"))
    assert len(got) >= 2 and all(c == {"ZSTD"} for c in got.values()), got
    # A table without the property: the server's own codec (snappy here), not the last one set.
    write_csv(env.raw / "u" / "a.csv", csv_rows(0, 3, "a"))
    env.write_config([dict(entry, engine="spark"),
                      dict(env.table_entry("u", "u/*.csv", "csv"), engine="spark")])
    env.load()
    assert set().union(*codecs(env.table_path("u")).values()) == {"SNAPPY"}
    # Apache Spark's Delta refuses to set the property (Databricks takes it): the table fails
    # naming it, nothing is created, the other tables load.
    write_csv(env.raw / "v" / "a.csv", csv_rows(0, 3, "a"))
    write_csv(env.raw / "u" / "b.csv", csv_rows(10, 3, "b"))
    env.write_config([dict(env.table_entry("u", "u/*.csv", "csv"), engine="spark"),
                      dict(entry, table_name="v", source_path_pattern=str(env.raw / "v/*.csv"),
                           engine="spark")])
    r = env.run("run")
    assert r.rc == 1, str(r)
    assert "delta.compression.codec" in r.out, str(r)
    assert not env.is_delta("v")
    assert env.read("u").num_rows == 6
