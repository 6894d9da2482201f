"""data_loader fails clearly (exit 1 with a message naming the problem, exit 2 for usage errors)
and changes nothing on: a folder that is not a Delta table, a table with deletion vectors, a
corrupt commit, a missing commit, schema conflicts, and VACUUM below the retention period."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pyarrow as pa
import pytest

import interop_lib as il


def _small(ids, extra_col: str | None = None, id_type=pa.int64()) -> pa.Table:
    cols = {"id": pa.array([i if id_type == pa.int64() else str(i) for i in ids], id_type),
            "s": pa.array([f"v{i}" for i in ids], pa.string())}
    if extra_col:
        cols[extra_col] = pa.array([i * 2 for i in ids], pa.int64())
    return pa.table(cols)


def _delta_rs_table(path, versions: int = 3) -> str:
    from deltalake import write_deltalake

    for v in range(versions):
        write_deltalake(str(path), _small(range(v * 10, v * 10 + 5)), mode="append")
    return str(path)


# --------------------------------------------------------------------------------------------
# Not a Delta table
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("verb", [["scan"], ["describe", "--json"], ["history", "--json"], ["files", "--json"]])
def test_not_a_delta_table(dl, tmp_path, verb):
    d = tmp_path / "plain_parquet_folder"
    il.write_parquet(_small(range(3)), d / "part-0.parquet")
    p = dl.run("table", verb[0], d, *verb[1:], check=False)
    assert p.returncode == 1, f"exit {p.returncode}: {il.output(p)}"
    assert re.search(r"not a delta table", il.output(p), re.I), f"message should say it is not a Delta table: {il.output(p)!r}"


def test_missing_path_is_an_error(dl, tmp_path):
    p = dl.run("table", "scan", tmp_path / "does_not_exist", check=False)
    assert p.returncode == 1, il.output(p)
    assert il.output(p).strip(), "no error message"


@pytest.mark.parametrize("args", [["table", "scan"], ["table", "write", "/tmp/x"], ["table", "frobnicate", "/tmp/x"],
                                  ["table", "scan", "/tmp/x", "--no-such-flag"]])
def test_usage_errors_exit_2(dl, args):
    p = dl.run(*args, check=False)
    assert p.returncode == 2, f"{args}: exit {p.returncode} (usage errors must exit 2): {il.output(p)}"


# --------------------------------------------------------------------------------------------
# Table features we do not implement (deletion vectors are supported: test_deletion_vectors.py)
# --------------------------------------------------------------------------------------------


def test_property_that_cannot_be_honoured_is_refused_before_any_write(dl, tmp_path):
    # Every table property that implies a feature is implemented now (change data feed, type
    # widening, ...); an unknown column mapping mode cannot be honoured on a new table, and
    # no mode can be switched on by a write to an existing one.
    src = il.write_parquet(_small(range(3)), tmp_path / "src.parquet")
    path = tmp_path / "t"
    prop = "delta.columnMapping.mode=bogus"
    p = dl.run("table", "write", path, "--source", src, "--property", prop, check=False)
    assert p.returncode == 1 and "delta.columnMapping.mode" in il.output(p), il.output(p)
    assert not path.exists(), "a refused create left files behind"
    dl.run("table", "write", path, "--source", src)
    before = il.file_tree(path)
    p = dl.run("table", "write", path, "--source", src, "--property", prop, check=False)
    assert p.returncode == 1 and "delta.columnMapping.mode" in il.output(p), il.output(p)
    assert il.file_tree(path) == before, "a refused write must not touch the table"
    p = dl.run("table", "write", path, "--source", src, "--property", "noequals", check=False)
    assert p.returncode == 2 and "KEY=VALUE" in il.output(p), il.output(p)  # a usage error


# --------------------------------------------------------------------------------------------
# Corrupt or missing log entries
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["truncate_last", "garbage_middle"])
def test_corrupt_commit_names_the_file(dl, tmp_path, damage):
    path = _delta_rs_table(tmp_path / "t", versions=3)
    victim = il.commit_path(path, 2 if damage == "truncate_last" else 1)
    text = victim.read_text()
    if damage == "truncate_last":
        victim.write_text(text[: len(text) // 2])  # cut in the middle of a JSON line
    else:
        victim.write_text('{"add": {"path": "x.parquet", "size": \n')
    for verb in (["scan"], ["describe", "--json"]):
        p = dl.run("table", verb[0], path, *verb[1:], check=False)
        assert p.returncode == 1, f"{verb}: exit {p.returncode}: {il.output(p)[:300]}"
        assert victim.name in il.output(p), f"{verb}: error must name {victim.name}: {il.output(p)!r}"


def test_missing_commit_names_the_version(dl, tmp_path):
    path = _delta_rs_table(tmp_path / "t", versions=4)
    il.commit_path(path, 1).unlink()
    pat = re.compile(r"version\D{0,20}\b1\b|0{19}1\.json", re.I)
    for extra in ([], ["--version", "3"], ["--version", "2"]):
        p = dl.run("table", "scan", path, *extra, check=False)
        assert p.returncode == 1, f"scan {extra} of a log with a gap must fail, exit {p.returncode}: {il.output(p)[:300]}"
        assert pat.search(il.output(p)), f"scan {extra}: error must name missing version 1: {il.output(p)!r}"


# --------------------------------------------------------------------------------------------
# Schema conflicts
# --------------------------------------------------------------------------------------------


def test_type_conflict_names_the_column(dl, tmp_path):
    path = _delta_rs_table(tmp_path / "t", versions=1)
    src = il.write_parquet(_small(range(3), id_type=pa.string()), tmp_path / "bad.parquet")
    for evo in ([], ["--schema-evolution", "add_new_columns"]):
        p = dl.run("table", "write", path, "--source", src, *evo, check=False)
        assert p.returncode == 1, f"writing a string into long column id must fail ({evo}): {il.output(p)}"
        assert re.search(r"\bid\b", il.output(p)), f"error must name column id: {il.output(p)!r}"
    assert il.commit_versions(path) == [0]


def test_new_column_without_evolution_names_the_column(dl, tmp_path):
    path = _delta_rs_table(tmp_path / "t", versions=1)
    src = il.write_parquet(_small(range(3), extra_col="brand_new_col"), tmp_path / "new.parquet")
    p = dl.run("table", "write", path, "--source", src, check=False)
    assert p.returncode == 1, il.output(p)
    assert "brand_new_col" in il.output(p), il.output(p)
    assert il.commit_versions(path) == [0]
    dl.run("table", "write", path, "--source", src, "--schema-evolution", "add_new_columns")
    assert il.commit_versions(path) == [0, 1]
    assert il.read_delta_rs(path).schema == {"id": "long", "s": "string", "brand_new_col": "long"}


# --------------------------------------------------------------------------------------------
# VACUUM
# --------------------------------------------------------------------------------------------


def test_vacuum_retention(dl, spark, tmp_path):
    from deltalake import write_deltalake

    path = str(tmp_path / "t")
    write_deltalake(path, _small(range(0, 5)))
    write_deltalake(path, _small(range(100, 103)), mode="overwrite")  # tombstones v0's files
    v0_files = {il.file_abs_path(path, p) for p in il.replay_log(path, 0).adds}
    live = {il.file_abs_path(path, p) for p in il.replay_log(path).adds}
    assert v0_files and not (v0_files & live)
    keep = [Path(path) / "_ignored" / "keep.txt", Path(path) / ".hidden"]
    for k in keep:
        k.parent.mkdir(exist_ok=True)
        k.write_text("not table data")
    log_before = {f: (Path(path) / "_delta_log" / f).read_bytes() for f in os.listdir(Path(path) / "_delta_log")}
    before = il.file_tree(path)

    p = dl.run("table", "vacuum", path, "--retention-hours", "0", check=False)
    assert p.returncode == 2, f"vacuum below the retention period without --force is a usage error (exit 2): {il.output(p)}"
    assert re.search(r"retention", il.output(p), re.I), il.output(p)
    assert il.file_tree(path) == before

    p = dl.run("table", "vacuum", path)  # default retention (7 days): nothing is old enough
    assert il.file_tree(path) == before, "default-retention vacuum deleted fresh files"

    p = dl.run("table", "vacuum", path, "--retention-hours", "0", "--force", "--dry-run")
    assert il.file_tree(path) == before, "--dry-run deleted files"
    for f in v0_files:
        assert f.name in p.stdout, f"dry run does not list {f.name}: {p.stdout!r}"

    dl.run("table", "vacuum", path, "--retention-hours", "0", "--force")
    assert not any(f.exists() for f in v0_files), "tombstoned files survived vacuum --force"
    assert all(f.exists() for f in live), "vacuum deleted live files"
    assert all(k.exists() for k in keep), "vacuum touched _/. prefixed paths"
    # VACUUM may log VACUUM START/END commits (Spark and delta-rs do), but never alters the log.
    log_after = {f: (Path(path) / "_delta_log" / f).read_bytes() for f in os.listdir(Path(path) / "_delta_log")}
    assert {f: b for f, b in log_after.items() if f in log_before} == log_before, "vacuum changed or removed log files"
    exp = il.snapshot_from_arrow(_small(range(100, 103)))
    il.assert_same(il.read_spark(spark, path), exp, "spark after vacuum")
    il.assert_same(il.read_delta_rs(path), exp, "delta-rs after vacuum")


# --------------------------------------------------------------------------------------------
# Writer obligations on tables Spark created: NOT NULL, appendOnly, CHECK constraints,
# column mapping (implement them or refuse; never write data that breaks them)
# --------------------------------------------------------------------------------------------


def _spark_table(spark, path, ddl_cols, props=None, partitioned_by=None):
    tbl = f"CREATE TABLE delta.`{path}` ({ddl_cols}) USING delta"
    if partitioned_by:
        tbl += f" PARTITIONED BY ({partitioned_by})"
    if props:
        tbl += " TBLPROPERTIES (" + ", ".join(f"'{k}' = '{v}'" for k, v in props.items()) + ")"
    spark.sql(tbl)
    spark.sql(f"INSERT INTO delta.`{path}` VALUES (1, 'a'), (2, 'b')")
    return path


def test_not_null_column_enforced(dl, spark, tmp_path):
    path = _spark_table(spark, str(tmp_path / "t"), "id BIGINT NOT NULL, s STRING")
    versions = il.commit_versions(path)
    bad = pa.table({"id": pa.array([3, None], pa.int64()), "s": pa.array(["c", "d"])})
    p = dl.run("table", "write", path, "--source", il.write_parquet(bad, tmp_path / "bad.parquet"), check=False)
    assert p.returncode == 1, f"a null in NOT NULL column id must be refused: exit {p.returncode} {il.output(p)}"
    assert re.search(r"\bid\b", il.output(p)), f"error must name column id: {il.output(p)!r}"
    assert il.commit_versions(path) == versions
    good = pa.table({"id": pa.array([3, 4], pa.int64()), "s": pa.array(["c", None])})
    dl.run("table", "write", path, "--source", il.write_parquet(good, tmp_path / "good.parquet"))
    schema = json.loads(il.replay_log(path).metadata["schemaString"])
    assert schema["fields"][0]["nullable"] is False, "the NOT NULL flag was lost"
    exp = il.snapshot_from_arrow(pa.table({"id": [1, 2, 3, 4], "s": ["a", "b", "c", None]}))
    il.assert_same(il.read_spark(spark, path), exp, "spark after data_loader append to a NOT NULL table")


def test_append_only_table(dl, spark, tmp_path):
    path = _spark_table(spark, str(tmp_path / "t"), "id BIGINT, s STRING", {"delta.appendOnly": "true"})
    versions = il.commit_versions(path)
    p = dl.run("table", "delete", path, "--where", "id = 1", check=False)
    assert p.returncode == 1 and "appendOnly" in il.output(p), f"delete on an appendOnly table: exit {p.returncode} {il.output(p)!r}"
    src = il.write_parquet(pa.table({"id": pa.array([3], pa.int64()), "s": ["c"]}), tmp_path / "n.parquet")
    p = dl.run("table", "write", path, "--source", src, "--mode", "overwrite", check=False)
    assert p.returncode == 1 and "appendOnly" in il.output(p), f"overwrite of an appendOnly table: exit {p.returncode} {il.output(p)!r}"
    assert il.commit_versions(path) == versions, "a refused operation committed"
    dl.run("table", "write", path, "--source", src)
    il.assert_same(il.read_spark(spark, path), il.snapshot_from_arrow(pa.table({"id": [1, 2, 3], "s": ["a", "b", "c"]})),
                   "spark after append to an appendOnly table")


def test_check_constraint_never_violated(dl, spark, tmp_path):
    path = _spark_table(spark, str(tmp_path / "t"), "id BIGINT, s STRING")
    spark.sql(f"ALTER TABLE delta.`{path}` ADD CONSTRAINT id_positive CHECK (id > 0)")
    versions = il.commit_versions(path)
    bad = il.write_parquet(pa.table({"id": pa.array([5, -1], pa.int64()), "s": ["e", "f"]}), tmp_path / "bad.parquet")
    p = dl.run("table", "write", path, "--source", bad, check=False)
    assert p.returncode == 1, f"a row violating CHECK (id > 0) was accepted: exit {p.returncode}"
    assert il.commit_versions(path) == versions
    good = il.write_parquet(pa.table({"id": pa.array([5], pa.int64()), "s": ["e"]}), tmp_path / "good.parquet")
    p = dl.run("table", "write", path, "--source", good, check=False)
    if p.returncode == 0:  # constraints implemented: the valid row is there for Spark
        il.assert_same(il.read_spark(spark, path),
                       il.snapshot_from_arrow(pa.table({"id": [1, 2, 5], "s": ["a", "b", "e"]})), "spark")
        assert "delta.constraints.id_positive" in il.replay_log(path).metadata["configuration"]
    else:  # or refused as a whole, naming the feature
        assert p.returncode == 1 and re.search(r"checkConstraints|constraint", il.output(p), re.I), il.output(p)
        assert il.commit_versions(path) == versions


def test_column_mapping_table_read_correctly_or_refused(dl, spark, tmp_path):
    """A Spark table with column mapping (name mode) and a renamed column: data_loader must read
    it by physical name exactly as Spark does, or refuse naming columnMapping (never return
    nulls for the renamed/partition columns)."""
    path = str(tmp_path / "t")
    spark.sql(f"CREATE TABLE delta.`{path}` (id BIGINT, s STRING, p STRING) USING delta PARTITIONED BY (p) "
              f"TBLPROPERTIES ('delta.columnMapping.mode' = 'name', 'delta.minReaderVersion' = '2', "
              f"'delta.minWriterVersion' = '5')")
    spark.sql(f"INSERT INTO delta.`{path}` VALUES (1, 'a', 'x y'), (2, 'b', NULL)")
    spark.sql(f"ALTER TABLE delta.`{path}` RENAME COLUMN s TO s_renamed")
    spark.sql(f"INSERT INTO delta.`{path}` VALUES (3, 'c', 'x y')")
    expected = il.read_spark(spark, path)
    assert expected.schema == {"id": "long", "s_renamed": "string", "p": "string"}
    p = dl.run("table", "scan", path, "--output", tmp_path / "o.parquet", check=False)
    if p.returncode == 0:
        import pyarrow.parquet as pq
        il.assert_same(il.snapshot_from_arrow(pq.read_table(tmp_path / "o.parquet")), expected,
                       "data_loader scan of a column-mapping table")
    else:
        assert p.returncode == 1 and "columnMapping" in il.output(p), f"exit {p.returncode}: {il.output(p)!r}"
    versions = il.commit_versions(path)
    src = il.write_parquet(pa.table({"id": pa.array([4], pa.int64()), "s_renamed": ["d"],
                                     "p": pa.array([None], pa.string())}),
                           tmp_path / "n.parquet")
    w = dl.run("table", "write", path, "--source", src, check=False)
    if w.returncode == 0:
        got = il.read_spark(spark, path)
        want = il.snapshot_from_arrow(pa.table({"id": [1, 2, 3, 4], "s_renamed": ["a", "b", "c", "d"],
                                                "p": ["x y", None, "x y", None]}))
        il.assert_same(got, want, "spark after data_loader append to a column-mapping table")
    else:
        assert w.returncode == 1 and "columnMapping" in il.output(w), f"exit {w.returncode}: {il.output(w)!r}"
        assert il.commit_versions(path) == versions


# --------------------------------------------------------------------------------------------
# More table features: implement them or refuse naming the feature (never silently wrong)
# --------------------------------------------------------------------------------------------


def _ids_table(ids) -> pa.Table:
    return pa.table({"id": pa.array(list(ids), pa.int64())})


def _refused(p, feature: str) -> bool:
    """False when the command succeeded; True when it was refused naming `feature` (asserted;
    `feature` is a regex, e.g. the protocol feature name or a plain-words spelling of it)."""
    if p.returncode == 0:
        return False
    assert p.returncode == 1 and re.search(feature, il.output(p), re.I), \
        f"expected success or a refusal naming {feature}: exit {p.returncode} {il.output(p)!r}"
    print(f"refused ({' '.join(map(str, p.args[1:3]))}): {il.output(p).strip()}")
    return True


# In-commit timestamps and v2 checkpoints are implemented: test_ict_v2_checkpoint.py.


@pytest.mark.parametrize("feature", ["variantType", "madeUpReaderFeature"])
def test_unsupported_feature_scan_and_write_refused(dl, tmp_path, feature):
    """A reader feature we cannot read: scan and write fail naming the feature and the table, and
    the write changes nothing."""
    path = tmp_path / "t"
    src = il.write_parquet(_small(range(3)), tmp_path / "src.parquet")
    dl.run("table", "write", path, "--source", src)
    protocol = {"protocol": {"minReaderVersion": 3, "minWriterVersion": 7, "readerFeatures": [feature],
                             "writerFeatures": [feature]}}
    il.commit_path(path, 1).write_text(json.dumps({"commitInfo": {"operation": "UPGRADE PROTOCOL"}}) + "\n" +
                                       json.dumps(protocol) + "\n")
    p = dl.run("table", "scan", path, "--output", tmp_path / "o.parquet", check=False)
    assert p.returncode == 1 and feature in il.output(p) and str(path) in il.output(p), il.output(p)
    before = il.file_tree(path)
    p = dl.run("table", "write", path, "--source", src, check=False)
    assert p.returncode == 1 and feature in il.output(p) and str(path) in il.output(p), il.output(p)
    assert il.file_tree(path) == before, "a refused write must not touch the table"


def test_change_data_feed_table(dl, spark, tmp_path):
    path = str(tmp_path / "t")
    spark.sql(f"CREATE TABLE delta.`{path}` (id BIGINT, s STRING) USING delta "
              f"TBLPROPERTIES ('delta.enableChangeDataFeed' = 'true')")
    spark.sql(f"INSERT INTO delta.`{path}` VALUES (1, 'a'), (2, 'b'), (3, 'c')")
    src = il.write_parquet(pa.table({"id": pa.array([4], pa.int64()), "s": ["d"]}), tmp_path / "n.parquet")
    w = dl.run("table", "write", path, "--source", src, check=False)
    if not _refused(w, r"changeDataFeed|change data feed"):
        ch = spark.read.format("delta").option("readChangeFeed", "true").option("startingVersion", 2).load(path)
        assert sorted((r["id"], r["_change_type"]) for r in ch.collect()) == [(4, "insert")]
    v = il.commit_versions(path)[-1]
    d = dl.run("table", "delete", path, "--where", "id = 2", check=False)
    if _refused(d, r"changeDataFeed|change data feed"):
        assert il.commit_versions(path)[-1] == v
        return
    ch = spark.read.format("delta").option("readChangeFeed", "true").option("startingVersion", v + 1).load(path)
    assert sorted((r["id"], r["s"], r["_change_type"]) for r in ch.collect()) == [(2, "b", "delete")], \
        "copy-on-write delete on a CDF table must write cdc files with the deleted rows"


def test_generated_column_table(dl, spark, tmp_path):
    path = str(tmp_path / "t")
    from delta.tables import DeltaTable

    DeltaTable.create(spark).location(path).addColumn("id", "BIGINT") \
        .addColumn("g", "BIGINT", generatedAlwaysAs="id * 2").execute()
    spark.range(1, 2).write.format("delta").mode("append").save(path)
    assert il.replay_log(path).protocol.get("minWriterVersion", 0) >= 4
    versions = il.commit_versions(path)
    wrong = pa.table({"id": pa.array([5], pa.int64()), "g": pa.array([11], pa.int64())})
    p = dl.run("table", "write", path, "--source", il.write_parquet(wrong, tmp_path / "wrong.parquet"), check=False)
    assert p.returncode == 1, "a value contradicting the generation expression (g = id * 2) was accepted"
    assert il.commit_versions(path) == versions
    p = dl.run("table", "write", path, "--source", il.write_parquet(_ids_table([3]), tmp_path / "ids.parquet"), check=False)
    if _refused(p, r"generatedColumns|generated column"):
        assert il.commit_versions(path) == versions
        return
    rows = sorted((r["id"], r["g"]) for r in spark.read.format("delta").load(path).collect())
    assert rows == [(1, 2), (3, 6)], f"generated column not computed: {rows}"


def test_identity_column_table(dl, spark, tmp_path):
    path = str(tmp_path / "t")
    from delta.tables import DeltaTable, IdentityGenerator

    DeltaTable.create(spark).location(path).addColumn("k", "BIGINT", generatedAlwaysAs=IdentityGenerator()) \
        .addColumn("s", "STRING").execute()
    spark.createDataFrame([("a",), ("b",)], "s string").write.format("delta").mode("append").save(path)
    versions = il.commit_versions(path)
    src = il.write_parquet(pa.table({"s": ["c", "d"]}), tmp_path / "s.parquet")
    p = dl.run("table", "write", path, "--source", src, check=False)
    if _refused(p, r"identityColumns|identity column"):
        assert il.commit_versions(path) == versions
        return
    # Spark continues from the high-water mark data_loader must have advanced.
    spark.createDataFrame([("e",)], "s string").write.format("delta").mode("append").save(path)
    ks = [r["k"] for r in spark.read.format("delta").load(path).collect()]
    assert None not in ks and len(set(ks)) == len(ks) == 5, f"identity values must be unique and non-null: {ks}"
