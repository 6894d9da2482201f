"""Type widening in a `run`: a source file whose column is wider than the table's widens the
column when the table allows it (table_properties delta.enableTypeWidening) and schema
evolution is on, for append and merge alike; without the property that file alone fails,
naming the column and both types, and the others load."""
from __future__ import annotations

import json

import pyarrow as pa

import interop_lib as il
from e2e_lib import LoaderEnv, assert_file_failed, assert_loaded_exactly, write_parquet


def ids(path, values, t) -> object:
    return write_parquet(path, {"id": pa.array(values, t), "name": [f"n{v}" for v in values]})


def type_changes(path) -> dict:
    md = il.replay_log(path).metadata
    return {f["name"]: f["metadata"].get("delta.typeChanges") for f in
            json.loads(md["schemaString"])["fields"]}


def test_wider_file_fails_alone_without_the_property(env: LoaderEnv):
    g1 = ids(env.raw / "t" / "a.parquet", [1, 2], pa.int32())
    env.write_config([env.table_entry("t", "t/*.parquet", "parquet")])
    env.load()
    g2 = ids(env.raw / "t" / "b.parquet", [3], pa.int32())
    bad = ids(env.raw / "t" / "c.parquet", [5_000_000_000], pa.int64())
    r = env.run("run")
    assert r.rc == 1, str(r)
    assert_file_failed(env, r, "t", bad,
                       r"column id has type integer in the table but long.*enableTypeWidening")
    assert_loaded_exactly(env, "t", {g1: 2, g2: 1})
    assert all(v is None for v in type_changes(env.table_path("t")).values())


def test_append_and_merge_widen_with_the_property(env: LoaderEnv):
    props = {"delta.enableTypeWidening": True}
    ids(env.raw / "a" / "1.parquet", [1, 2], pa.int32())
    ids(env.raw / "m" / "1.parquet", [1, 2], pa.int32())
    env.write_config([
        env.table_entry("a", "a/*.parquet", "parquet", table_properties=props),
        env.table_entry("m", "m/*.parquet", "parquet", loading_strategy="merge",
                        primary_keys=["id"], audit_columns=False, table_properties=props)])
    env.load()
    ids(env.raw / "a" / "2.parquet", [5_000_000_000], pa.int64())
    ids(env.raw / "m" / "2.parquet", [2, 5_000_000_000], pa.int64())
    env.load()
    for name, want in [("a", [1, 2, 5_000_000_000]), ("m", [1, 2, 5_000_000_000])]:
        path = env.table_path(name)
        assert type_changes(path)["id"] == [{"fromType": "integer", "toType": "long"}], name
        tbl = env.read(name)
        assert tbl.schema.field("id").type == pa.int64(), name
        assert sorted(tbl.column("id").to_pylist()) == want, name
        protocol = il.replay_log(path).protocol
        assert "typeWidening" in protocol["readerFeatures"], protocol


def test_scd2_widens_and_reads_the_older_versions(env: LoaderEnv):
    """SCD2 rewrites the files holding a changed key: the older, narrower files are read in
    the widened type, and the closed version keeps its value."""
    def batch(name, rows, t):
        write_parquet(env.raw / "d" / name, {
            "id": pa.array([r[0] for r in rows], pa.int64()), "a": [r[1] for r in rows],
            "seq": pa.array([r[2] for r in rows], pa.int64()),
            "b": pa.array([r[3] for r in rows], t)})

    batch("1.parquet", [(1, "x", 1, 10), (2, "y", 1, 20)], pa.int32())
    env.write_config([env.table_entry("d", "d/*.parquet", "parquet", loading_strategy="scd2",
                                      primary_keys=["id"], sequence_column="seq",
                                      audit_columns=False,
                                      table_properties={"delta.enableTypeWidening": True})])
    env.load()
    batch("2.parquet", [(1, "z", 2, 5_000_000_000)], pa.int64())
    env.load()
    path = env.table_path("d")
    assert type_changes(path)["b"] == [{"fromType": "integer", "toType": "long"}]
    tbl = env.read("d")
    assert tbl.schema.field("b").type == pa.int64()
    got = sorted((r["id"], r["a"], r["b"], r["is_current"]) for r in tbl.to_pylist())
    assert got == [(1, "x", 10, False), (1, "z", 5_000_000_000, True), (2, "y", 20, True)], got


def test_widened_delta_source(env: LoaderEnv):
    """A Delta source whose column was widened: its older files are read in the new type, and
    the target (allowing it) widens too."""
    source = env.root / "source"

    def write_source(name, values, t, *extra):
        f = ids(env.root / name, values, t)
        r = env.run("table", "write", source, "--source", f, *extra, config=False)
        assert r.rc == 0, str(r)

    write_source("s1.parquet", [1, 2], pa.int32(), "--property", "delta.enableTypeWidening=true")
    entry = env.table_entry("t", "unused", "delta",
                            table_properties={"delta.enableTypeWidening": True})
    entry["source_path_pattern"] = str(source)
    env.write_config([entry])
    env.load()
    write_source("s2.parquet", [5_000_000_000], pa.int64(), "--schema-evolution", "add_new_columns")
    assert type_changes(source)["id"] == [{"fromType": "integer", "toType": "long"}]
    env.load()
    assert type_changes(env.table_path("t"))["id"] == [{"fromType": "integer", "toType": "long"}]
    assert sorted(env.read("t").column("id").to_pylist()) == [1, 2, 5_000_000_000]
