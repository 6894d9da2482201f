"""The Parquet codec of a table's data files: Databricks' table property
`delta.compression.codec` (Databricks Runtime 16+ honours it for every writer; a config sets it
with `table_properties`). Every data file the loader or a `table` command writes into such a
table uses it, and the table reads the same everywhere."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from e2e_lib import (LoaderEnv, assert_loaded_exactly, csv_rows, read_delta, write_csv,
                     write_parquet)

CODEC = {"delta.compression.codec": "zstd"}


def live_files(root: Path) -> list[Path]:
    """The data files the table's log names live (replayed from its JSON commits)."""
    live: set[str] = set()
    for commit in sorted((root / "_delta_log").glob("*.json")):
        for line in commit.read_text().splitlines():
            action = json.loads(line)
            if "add" in action:
                live.add(action["add"]["path"])
            elif "remove" in action:
                live.discard(action["remove"]["path"])
    return [root / p for p in sorted(live)]


def codecs(root: Path) -> dict[str, set[str]]:
    """Every live data file's name -> the codecs of its column chunks."""
    out = {}
    for f in live_files(root):
        md = pq.ParquetFile(f).metadata
        out[f.name] = {md.row_group(g).column(c).compression
                       for g in range(md.num_row_groups) for c in range(md.num_columns)}
    return out


def test_appends_write_the_tables_codec_and_every_reader_reads_them(env: LoaderEnv):
    files = {write_csv(env.raw / f"f{i}.csv", "id,part\n" + "".join(
        f"{j},{j % 2}\n" for j in range(i * 100, i * 100 + 50))): 50 for i in range(3)}
    env.write_config([env.table_entry("t", "*.csv", "csv", max_files_per_batch=2,
                                      partition_columns=["part"], table_properties=CODEC)])
    env.load()
    assert_loaded_exactly(env, "t", files)
    got = codecs(env.table_path("t"))  # 2 batches x 2 partitions
    assert len(got) == 4 and all(c == {"ZSTD"} for c in got.values()), got
    assert all(name.endswith(".zstd.parquet") for name in got), got
    # The table itself says so, for the next writer (Databricks included).
    r = env.run("table", "describe", env.table_path("t"), "--json", config=False)
    assert r.rc == 0, str(r)
    assert json.loads(r.stdout)["properties"]["delta.compression.codec"] == "zstd"
    assert read_delta(env.table_path("t")).num_rows == 150


def test_an_existing_tables_codec_is_kept_by_merge_optimize_and_delete(env: LoaderEnv):
    """The property set on a table written before (snappy files): later writes of every kind
    use it, the old files stay as they are until rewritten."""
    write_parquet(env.raw / "a1.parquet", {"id": [1, 2], "v": ["a", "b"]})
    write_parquet(env.raw / "a2.parquet", {"id": [3], "v": ["c"]})
    entry = env.table_entry("t", "*.parquet", "parquet", loading_strategy="merge",
                            primary_keys=["id"], max_files_per_batch=1)
    env.write_config([entry])
    env.load()
    assert set().union(*codecs(env.table_path("t")).values()) == {"SNAPPY"}
    write_parquet(env.raw / "b.parquet", {"id": [3, 4], "v": ["C", "d"]})
    env.write_config([dict(entry, table_properties={"delta.compression.codec": "GZIP"})])
    env.load()
    got = codecs(env.table_path("t"))
    assert {"SNAPPY"} in got.values() and {"GZIP"} in got.values(), got
    r = env.run("table", "optimize", env.table_path("t"), config=False)
    assert r.rc == 0, str(r)
    assert list(codecs(env.table_path("t")).values()) == [{"GZIP"}]
    assert all(n.endswith(".gz.parquet") for n in codecs(env.table_path("t")))
    r = env.run("table", "delete", env.table_path("t"), "--where", "id = 1", config=False)
    assert r.rc == 0, str(r)
    assert all(c == {"GZIP"} for c in codecs(env.table_path("t")).values())
    rows = sorted((r["id"], r["v"]) for r in read_delta(env.table_path("t")).to_pylist())
    assert rows == [(2, "b"), (3, "C"), (4, "d")]


def test_a_codec_the_loader_does_not_write_is_refused_naming_the_key(env: LoaderEnv):
    write_csv(env.raw / "f.csv", csv_rows(0, 5))
    env.write_config([env.table_entry("t", "*.csv", "csv",
                                      table_properties={"delta.compression.codec": "brotli"})])
    r = env.run("validate")
    assert r.rc == 2, str(r)
    assert "table_properties" in r.out and "delta.compression.codec" in r.out, str(r)
    assert "brotli" in r.out
    assert not env.table_path("t").exists()


def test_a_table_whose_property_holds_an_unknown_codec_fails_alone(env: LoaderEnv):
    """A table another writer gave a codec the loader does not write: its batch fails naming
    the table and the property; the other table loads."""
    write_csv(env.raw / "a" / "f.csv", csv_rows(0, 5))
    write_csv(env.raw / "b" / "f.csv", csv_rows(0, 5))
    env.write_config([env.table_entry("a", "a/*.csv", "csv"), env.table_entry("b", "b/*.csv", "csv")])
    env.load()
    commit = env.table_path("a") / "_delta_log" / f"{1:020d}.json"
    first = (env.table_path("a") / "_delta_log" / f"{0:020d}.json").read_text().splitlines()
    md = next(json.loads(line) for line in first if "metaData" in line)
    md["metaData"]["configuration"]["delta.compression.codec"] = "lzo"
    commit.write_text(json.dumps(md) + "\n")
    write_csv(env.raw / "a" / "g.csv", csv_rows(10, 5))
    write_csv(env.raw / "b" / "g.csv", csv_rows(10, 5))
    r = env.run("run")
    assert r.rc == 1, str(r)
    assert "delta.compression.codec" in r.out and "'lzo'" in r.out, str(r)
    assert read_delta(env.table_path("b")).num_rows == 10
    assert read_delta(env.table_path("a")).num_rows == 5
