"""Column mapping (delta.columnMapping.mode name and id) on tables Spark creates.

Per mode, Spark creates a partitioned table with a nested struct, renames a top-level and a
nested column and drops a column (the files keep the old physical names), and, in id mode with
deletion vectors, deletes a row in place. Then:
- data_loader's `table scan` returns exactly Spark's rows and schema; `describe`, `files`
  (partition values under display names) and `history` work;
- `table write --schema-evolution add_new_columns` appends a new column: the data files name
  columns physically and carry the ids as Parquet field ids, partition values and stats are
  keyed by physical name, the new column gets the next id and a col-<uuid> physical name and
  maxColumnId rises; the protocol is unchanged;
- a `run` with loading_strategy merge updates and inserts rows;
- our `table rename-column` (top-level and nested) and `drop-column` commit metadata only, and
  dropping a partition column is refused;
- Spark then reads exactly the modelled rows, its DESCRIBE HISTORY lists our commits, and
  data_loader reads the same rows as Spark, also when loading the table as a Delta source.
"""
from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import interop_lib as il
from e2e_lib import LoaderEnv

ST = pa.struct([("x_new", pa.int32()), ("y", pa.string())])
SCHEMA = pa.schema([("id", pa.int64()), ("s_new", pa.string()), ("st", ST), ("p", pa.string())])
EVOLVED = SCHEMA.append(pa.field("extra", pa.string()))


def _rows(rows: list[tuple], schema: pa.Schema = EVOLVED) -> pa.Table:
    cols = list(zip(*rows))
    return pa.table({f.name: pa.array(list(c), f.type) for f, c in zip(schema, cols)}, schema=schema)


def _spark_table(spark, path: str, mode: str) -> None:
    props = f"'delta.columnMapping.mode' = '{mode}'"
    if mode == "name":
        props += ", 'delta.minReaderVersion' = '2', 'delta.minWriterVersion' = '5'"
    else:  # table features, with deletion vectors as Databricks tables have them
        props += ", 'delta.enableDeletionVectors' = 'true'"
    t = f"delta.`{path}`"
    spark.sql(f"CREATE TABLE {t} (id BIGINT, s STRING, gone INT, st STRUCT<x: INT, y: STRING>, "
              f"p STRING) USING delta PARTITIONED BY (p) TBLPROPERTIES ({props})")
    spark.sql(f"INSERT INTO {t} VALUES (1, 'a', 10, named_struct('x', 1, 'y', 'one'), 'x y'), "
              f"(2, 'b', 20, NULL, NULL), (3, 'c', 30, named_struct('x', 3, 'y', NULL), 'q'), "
              f"(9, 'z', 90, NULL, 'q')")
    spark.sql(f"ALTER TABLE {t} RENAME COLUMN s TO s_new")
    spark.sql(f"ALTER TABLE {t} RENAME COLUMN st.x TO x_new")
    spark.sql(f"ALTER TABLE {t} DROP COLUMN gone")
    spark.sql(f"INSERT INTO {t} VALUES (4, 'd', named_struct('x_new', 4, 'y', 'four'), 'q')")
    spark.sql(f"DELETE FROM {t} WHERE id = 9")


def _fields(schema_string: str) -> dict[str, dict]:
    return {f["name"]: f for f in json.loads(schema_string)["fields"]}


def _cm(field: dict) -> tuple[int, str]:
    return (field["metadata"]["delta.columnMapping.id"],
            field["metadata"]["delta.columnMapping.physicalName"])


@pytest.mark.parametrize("mode", ["name", "id"])
def test_column_mapped_spark_table_read_appended_and_merged(env: LoaderEnv, spark, mode: str):
    path = env.table_path("t")
    path.parent.mkdir(parents=True, exist_ok=True)
    _spark_table(spark, str(path), mode)
    log0 = il.replay_log(path)
    if mode == "id":
        assert il.deletion_vector_count(path) > 0, "Spark's DELETE should have written a DV"
    fields0 = _fields(log0.metadata["schemaString"])
    physical = {name: _cm(f)[1] for name, f in fields0.items()}
    assert physical["s_new"] != "s_new" and physical["p"] != "p"

    # -- read ---------------------------------------------------------------------------------
    # Spark 3.5 stores the NULL inserted into st as a struct of NULLs (it reads it back so too).
    base = [(1, "a", {"x_new": 1, "y": "one"}, "x y"), (2, "b", {"x_new": None, "y": None}, None),
            (3, "c", {"x_new": 3, "y": None}, "q"), (4, "d", {"x_new": 4, "y": "four"}, "q")]
    spark_view = il.read_spark(spark, path)
    il.assert_same(spark_view, il.snapshot_from_arrow(_rows(base, SCHEMA), spark_view.schema),
                   "Spark's read of its own table (test model)")
    il.assert_same(il.read_dl(env_dl(env), path, out_dir=env.root), spark_view,
                   f"data_loader scan of a {mode}-mode table")
    described = env_json(env, "table", "describe", str(path), "--json")
    assert [c["name"] for c in described["schema"]["fields"]] == ["id", "s_new", "st", "p"]
    files = env_json(env, "table", "files", str(path), "--json")
    assert files and all(set(f["partitionValues"]) == {"p"} for f in files), files

    # -- append with a new column ---------------------------------------------------------------
    appended = [(5, "e", {"x_new": 5, "y": "five"}, "x y", "new"), (6, None, None, None, None)]
    src = il.write_parquet(_rows(appended), env.root / "append.parquet")
    r = env.run("table", "write", str(path), "--source", src, "--schema-evolution",
                "add_new_columns", config=False)
    assert r.rc == 0, str(r)
    log1 = il.replay_log(path)
    assert log1.protocol == log0.protocol, "the protocol must not change"
    fields1 = _fields(log1.metadata["schemaString"])
    for name in fields0:
        assert fields1[name] == fields0[name], f"column {name} must keep its metadata"
    new_id, new_physical = _cm(fields1["extra"])
    max_before = int(log0.metadata["configuration"]["delta.columnMapping.maxColumnId"])
    assert new_id == max_before + 1 and new_physical.startswith("col-"), fields1["extra"]
    assert log1.metadata["configuration"]["delta.columnMapping.maxColumnId"] == str(new_id)
    ours = [a for p, a in log1.adds.items() if p not in log0.adds]
    assert ours, "the append added no file"
    ids = {physical[n]: _cm(fields1[n])[0] for n in ("id", "s_new", "st")}
    ids[new_physical] = new_id
    for add in ours:
        assert set(add["partitionValues"]) == {physical["p"]}, add["partitionValues"]
        stats = json.loads(add["stats"])
        assert set(stats["nullCount"]) == set(ids), stats
        schema = pq.read_schema(il.file_abs_path(path, add["path"]))
        assert set(schema.names) == set(ids), schema.names
        for name, want in ids.items():
            assert schema.field(name).metadata[b"PARQUET:field_id"] == str(want).encode()
        nested = schema.field(physical["st"]).type
        assert nested.field(0).name == _cm(fields1["st"]["type"]["fields"][0])[1]

    # -- merge through the loader -----------------------------------------------------------------
    merged_in = [(1, "A", {"x_new": 10, "y": "ten"}, "x y", "m1"), (7, "g", None, "q", None)]
    (env.raw / "t").mkdir(parents=True, exist_ok=True)
    il.write_parquet(_rows(merged_in), env.raw / "t" / "b0.parquet")
    env.write_config([env.table_entry("t", "t/*.parquet", "parquet", loading_strategy="merge",
                                      primary_keys=["id"], audit_columns=False)])
    env.load()

    # -- our rename and drop (metadata only) ------------------------------------------------------
    for args in (["rename-column", "--column", "s_new", "--to", "label"],
                 ["rename-column", "--column", "st.y", "--to", "why"],
                 ["drop-column", "--column", "extra"]):
        r = env.run("table", args[0], str(path), *args[1:], config=False)
        assert r.rc == 0, str(r)
    r = env.run("table", "drop-column", str(path), "--column", "p", config=False)
    assert r.rc == 2 and "it is a partition column" in r.out, str(r)

    # -- Spark reads our commits ------------------------------------------------------------------
    final = pa.schema([("id", pa.int64()), ("label", pa.string()),
                       ("st", pa.struct([("x_new", pa.int32()), ("why", pa.string())])),
                       ("p", pa.string())])

    def renamed(row):  # st.y is now st.why; extra is gone
        st = None if row[2] is None else {"x_new": row[2]["x_new"], "why": row[2]["y"]}
        return (row[0], row[1], st, row[3])

    want = _rows([renamed(r) for r in [merged_in[0]] + base[1:] + appended + [merged_in[1]]], final)
    spark.catalog.clearCache()
    after = il.read_spark(spark, path)
    il.assert_same(after, il.snapshot_from_arrow(want, after.schema),
                   "Spark after data_loader's append and merge")
    il.assert_same(il.read_dl(env_dl(env), path, out_dir=env.root), after,
                   "data_loader after its own append and merge")
    history = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").collect()
    assert history[0]["version"] == max(il.commit_versions(path)), history[0]
    assert len(history) == len(il.commit_versions(path))

    # -- the table as a Delta source (file_format: delta) -----------------------------------------
    copy = env.table_entry("copy", "unused", "delta", audit_columns=False)
    copy["source_path_pattern"] = str(path)
    env.write_config([copy])
    env.load()
    il.assert_same(il.snapshot_from_arrow(env.read("copy")), after,
                   "a column-mapped table loaded as a Delta source")


class _Dl:
    def __init__(self, env: LoaderEnv):
        self.env = env

    def run(self, *args):
        r = self.env.run(*args, config=False)
        assert r.rc == 0, str(r)
        return r


def env_dl(env: LoaderEnv) -> _Dl:
    return _Dl(env)


def env_json(env: LoaderEnv, *args):
    r = env.run(*args, config=False)
    assert r.rc == 0, str(r)
    return json.loads(r.stdout)


def test_new_table_with_column_mapping_and_mode_changes_refused(env: LoaderEnv, spark):
    """A table we create with delta.columnMapping.mode=name maps every column (Spark reads it);
    a write cannot switch an existing table's mode (its files name columns as they are)."""
    rows = _rows([(1, "a", {"x_new": 1, "y": "b"}, "p 1", "e"), (2, None, None, None, None)])
    src = il.write_parquet(rows, env.root / "src.parquet")
    path = env.root / "ours"
    r = env.run("table", "write", str(path), "--source", src, "--partition-by", "p",
                "--property", "delta.columnMapping.mode=name", config=False)
    assert r.rc == 0, str(r)
    log = il.replay_log(path)
    assert (log.protocol["minReaderVersion"], log.protocol["minWriterVersion"]) == (2, 5)
    fields = _fields(log.metadata["schemaString"])
    ids = sorted(_cm(f)[0] for f in fields.values())
    assert log.metadata["configuration"]["delta.columnMapping.maxColumnId"] == "7", ids  # 5 + 2 nested
    assert all(set(a["partitionValues"]) == {_cm(fields["p"])[1]} for a in log.adds.values())
    il.assert_same(il.read_spark(spark, path), il.snapshot_from_arrow(rows),
                   "Spark's read of a column-mapped table data_loader created")

    for table, mode in ((path, "id"), (env.root / "plain", "name")):
        if mode == "name":  # a plain table first
            assert env.run("table", "write", str(table), "--source", src, config=False).rc == 0
        before = il.commit_versions(table)
        r = env.run("table", "write", str(table), "--source", src, "--property",
                    f"delta.columnMapping.mode={mode}", config=False)
        assert r.rc == 1 and "delta.columnMapping.mode" in r.out, str(r)
        assert il.commit_versions(table) == before
