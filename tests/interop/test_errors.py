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


def _out(p) -> str:
    return (p.stdout or "") + (p.stderr or "")


def _tree(path) -> dict[str, int]:
    out = {}
    for root, _, files in os.walk(path):
        for f in files:
            fp = os.path.join(root, f)
            out[os.path.relpath(fp, path)] = os.path.getsize(fp)
    return out


# --------------------------------------------------------------------------------------------
# Not a Delta table
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("verb", [["scan"], ["describe", "--json"], ["history", "--json"], ["files", "--json"]])
def test_not_a_delta_table(dl, tmp_path, verb):
    d = tmp_path / "plain_parquet_folder"
    il.write_parquet(_small(range(3)), d / "part-0.parquet")
    p = dl.run("table", verb[0], d, *verb[1:], check=False)
    assert p.returncode == 1, f"exit {p.returncode}: {_out(p)}"
    assert re.search(r"not a delta table", _out(p), re.I), f"message should say it is not a Delta table: {_out(p)!r}"


def test_missing_path_is_an_error(dl, tmp_path):
    p = dl.run("table", "scan", tmp_path / "does_not_exist", check=False)
    assert p.returncode == 1, _out(p)
    assert _out(p).strip(), "no error message"


@pytest.mark.parametrize("args", [["table", "scan"], ["table", "write", "/tmp/x"], ["table", "frobnicate", "/tmp/x"],
                                  ["table", "scan", "/tmp/x", "--no-such-flag"]])
def test_usage_errors_exit_2(dl, args):
    p = dl.run(*args, check=False)
    assert p.returncode == 2, f"{args}: exit {p.returncode} (usage errors must exit 2): {_out(p)}"


# --------------------------------------------------------------------------------------------
# Deletion vectors
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dv_table(spark, tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("dv") / "table")
    spark.sql(f"CREATE TABLE delta.`{path}` (id BIGINT, s STRING) USING delta "
              f"TBLPROPERTIES ('delta.enableDeletionVectors' = 'true')")
    spark.range(0, 200).selectExpr("id", "cast(id as string) as s").coalesce(1) \
        .write.format("delta").mode("append").save(path)
    spark.sql(f"DELETE FROM delta.`{path}` WHERE id % 10 = 3")
    dvs = [a["add"]["deletionVector"] for v in il.commit_versions(path) for a in il.read_commit(path, v)
           if "add" in a and a["add"].get("deletionVector")]
    assert dvs, "precondition: Spark's DELETE wrote a deletion vector"
    return path


def test_deletion_vectors_scan_refused(dl, dv_table):
    p = dl.run("table", "scan", dv_table, check=False)
    assert p.returncode == 1, f"scan of a table with deletion vectors must be refused (exit {p.returncode}): {_out(p)[:500]}"
    assert "deletionVectors" in _out(p), f"message must name the deletionVectors feature: {_out(p)!r}"


def test_deletion_vectors_write_refused(dl, dv_table, tmp_path):
    before = _tree(dv_table)
    src = il.write_parquet(_small(range(1000, 1003)), tmp_path / "new.parquet")
    p = dl.run("table", "write", dv_table, "--source", src, check=False)
    assert p.returncode == 1, f"write to a table with deletion vectors must be refused (exit {p.returncode})"
    assert "deletionVectors" in _out(p), f"message must name the deletionVectors feature: {_out(p)!r}"
    assert _tree(dv_table) == before, "a refused write must not touch the table"


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
        assert p.returncode == 1, f"{verb}: exit {p.returncode}: {_out(p)[:300]}"
        assert victim.name in _out(p), f"{verb}: error must name {victim.name}: {_out(p)!r}"


def test_missing_commit_names_the_version(dl, tmp_path):
    path = _delta_rs_table(tmp_path / "t", versions=4)
    il.commit_path(path, 1).unlink()
    pat = re.compile(r"version\D{0,20}\b1\b|0{19}1\.json", re.I)
    for extra in ([], ["--version", "3"], ["--version", "2"]):
        p = dl.run("table", "scan", path, *extra, check=False)
        assert p.returncode == 1, f"scan {extra} of a log with a gap must fail, exit {p.returncode}: {_out(p)[:300]}"
        assert pat.search(_out(p)), f"scan {extra}: error must name missing version 1: {_out(p)!r}"


# --------------------------------------------------------------------------------------------
# Schema conflicts
# --------------------------------------------------------------------------------------------


def test_type_conflict_names_the_column(dl, tmp_path):
    path = _delta_rs_table(tmp_path / "t", versions=1)
    src = il.write_parquet(_small(range(3), id_type=pa.string()), tmp_path / "bad.parquet")
    for evo in ([], ["--schema-evolution", "add_new_columns"]):
        p = dl.run("table", "write", path, "--source", src, *evo, check=False)
        assert p.returncode == 1, f"writing a string into long column id must fail ({evo}): {_out(p)}"
        assert re.search(r"\bid\b", _out(p)), f"error must name column id: {_out(p)!r}"
    assert il.commit_versions(path) == [0]


def test_new_column_without_evolution_names_the_column(dl, tmp_path):
    path = _delta_rs_table(tmp_path / "t", versions=1)
    src = il.write_parquet(_small(range(3), extra_col="brand_new_col"), tmp_path / "new.parquet")
    p = dl.run("table", "write", path, "--source", src, check=False)
    assert p.returncode == 1, _out(p)
    assert "brand_new_col" in _out(p), _out(p)
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
    before = _tree(path)

    p = dl.run("table", "vacuum", path, "--retention-hours", "0", check=False)
    assert p.returncode == 1, f"vacuum below the retention period without --force must be refused: {_out(p)}"
    assert re.search(r"retention", _out(p), re.I), _out(p)
    assert _tree(path) == before

    p = dl.run("table", "vacuum", path)  # default retention (7 days): nothing is old enough
    assert _tree(path) == before, "default-retention vacuum deleted fresh files"

    p = dl.run("table", "vacuum", path, "--retention-hours", "0", "--force", "--dry-run")
    assert _tree(path) == before, "--dry-run deleted files"
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
