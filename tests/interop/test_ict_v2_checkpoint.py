"""In-commit timestamps and v2 checkpoints, both ways, with Spark 4.1 + Delta 4.1 (fixture
`spark41`; the `readers` comparison adds the in-process Spark 3.5 + Delta 3.3, delta-rs and
DuckDB).

- Spark creates a table with `delta.checkpointPolicy = v2` and checkpoints it (UUID-named
  checkpoint with sidecars): data_loader reads it as Spark does, appends to it, writes its own
  v2 checkpoint, and Spark, DuckDB and delta-rs read the result.
- Spark creates a table with `delta.enableInCommitTimestamps`, or enables them on an existing
  table: data_loader appends with monotonic in-commit timestamps that Spark's DESCRIBE HISTORY
  shows, and time travel by timestamp agrees with Spark's.
- data_loader creates a table with both features; the other engines read it.
- A commit without its in-commit timestamp after the enablement is a CorruptLog error naming the
  table and the version.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa

import interop_lib as il


def _ids(ids) -> pa.Table:
    return pa.table({"id": pa.array(list(ids), pa.int64())})


def _expected(ids) -> il.Snapshot:
    return il.snapshot_from_arrow(_ids(sorted(ids)))


def _out(p) -> str:
    return (p.stdout or "") + (p.stderr or "")


def _log_names(path) -> list[str]:
    return sorted(os.listdir(Path(path) / "_delta_log"))


def _uuid_checkpoints(path) -> list[str]:
    return [n for n in _log_names(path) if n.count(".") == 3 and ".checkpoint." in n]


def _ict(path, version) -> int:
    first = il.read_commit(path, version)[0]
    assert "commitInfo" in first, f"version {version}: commitInfo must be the first action: {first}"
    assert "inCommitTimestamp" in first["commitInfo"], first
    return first["commitInfo"]["inCommitTimestamp"]


def _spark_history_ms(spark41, path) -> dict[int, int]:
    rows = spark41.rows(f"DESCRIBE HISTORY delta.`{path}`")
    return {r["version"]: int(round(r["timestamp"].timestamp() * 1000)) for r in rows}


def _append(dl, path, ids, tmp_path, *props):
    src = il.write_parquet(_ids(ids), tmp_path / f"src_{min(ids)}_{len(ids)}.parquet")
    args = ["table", "write", path, "--source", src]
    for p in props:
        args += ["--property", p]
    dl.run(*args)


def _check_readers(readers, dl, path, ids, header, delta_rs_notes: list[str]):
    mm = il.Mismatches()
    exp = _expected(ids)
    for name, read in readers.items():
        if name == "delta-rs":
            try:
                got = read(path)
                if il.diff_snapshots(got, exp):
                    mm.add(f"delta-rs read wrong rows: {il.diff_snapshots(got, exp)}")
                delta_rs_notes.append("reads")
            except Exception as e:  # noqa: BLE001 - a refusal must name the feature
                if "v2Checkpoint" not in str(e) and "inCommitTimestamp" not in str(e):
                    mm.add(f"delta-rs failed without naming the feature: {e}")
                delta_rs_notes.append(f"refuses: {str(e)[:200]}")
            continue
        mm.check(name, lambda: read(path), exp)
    mm.check("data_loader", lambda: dl.scan(path), exp)
    mm.assert_none(header)


def test_spark_v2_checkpoint_with_sidecars_read_append_checkpoint(dl, spark41, readers, tmp_path):
    path = str(tmp_path / "t")
    spark41.sql(f"CREATE TABLE delta.`{path}` (id BIGINT) USING delta "
              f"TBLPROPERTIES ('delta.checkpointPolicy' = 'v2', 'delta.checkpointInterval' = '3')")
    for i in range(4):
        spark41.sql(f"INSERT INTO delta.`{path}` VALUES ({i}), ({i + 100})")
    spark41.sql(f"DELETE FROM delta.`{path}` WHERE id = 100")
    ids = [0, 1, 2, 3, 101, 102, 103]
    names = _log_names(path)
    assert _uuid_checkpoints(path), f"precondition: Spark wrote a UUID-named checkpoint: {names}"
    sidecars = os.listdir(Path(path) / "_delta_log" / "_sidecars")
    assert sidecars, "precondition: Spark's v2 checkpoint has sidecars"
    last = json.loads((Path(path) / "_delta_log" / "_last_checkpoint").read_text())
    assert last["version"] == 3 and "v2Checkpoint" in last, last

    il.assert_same(dl.scan(path), il.read_spark41(spark41, path), "data_loader scan of Spark's v2 table")
    il.assert_same(dl.scan(path), _expected(ids), "data_loader scan")
    # Only the checkpoint and the commits after it: drop the commits it covers.
    for v in range(3):
        os.remove(il.commit_path(path, v))
    il.assert_same(dl.scan(path, version=4), il.read_spark41(spark41, path, version=4), "version 4")

    _append(dl, path, [7], tmp_path)
    ids.append(7)
    il.assert_same(il.read_spark41(spark41, path), _expected(ids), "spark after our append")
    dl.run("table", "checkpoint", path)
    # Version 6 is also the interval's: the append checkpointed it already, `table checkpoint`
    # adds a second UUID-named one.
    ours = [n for n in _uuid_checkpoints(path) if n.startswith(f"{il.commit_versions(path)[-1]:020d}")]
    assert len(ours) == 2 and all(n.endswith(".parquet") for n in ours), f"our v2 checkpoints: {_log_names(path)}"
    assert not (Path(path) / "_delta_log" / f"{il.commit_versions(path)[-1]:020d}.checkpoint.parquet").exists()
    # Our checkpoint alone: commits before it deleted.
    for v in il.commit_versions(path)[:-1]:
        os.remove(il.commit_path(path, v))
    notes: list[str] = []
    _check_readers(readers, dl, path, ids, "readers of our v2 checkpoint", notes)
    print(f"delta-rs on a v2-checkpoint table: {notes}")
    spark41.sql(f"INSERT INTO delta.`{path}` VALUES (8)")
    il.assert_same(dl.scan(path), _expected(ids + [8]), "data_loader after Spark appended again")


def test_spark_ict_table_append_history_and_time_travel(dl, spark41, tmp_path):
    path = str(tmp_path / "t")
    spark41.sql(f"CREATE TABLE delta.`{path}` (id BIGINT) USING delta "
              f"TBLPROPERTIES ('delta.enableInCommitTimestamps' = 'true')")
    spark41.sql(f"INSERT INTO delta.`{path}` VALUES (1)")
    _append(dl, path, [2], tmp_path)
    _append(dl, path, [3], tmp_path)
    spark41.sql(f"INSERT INTO delta.`{path}` VALUES (4)")
    icts = [_ict(path, v) for v in range(5)]
    assert icts == sorted(set(icts)), f"in-commit timestamps must increase: {icts}"
    assert _spark_history_ms(spark41, path) == dict(enumerate(icts)), "DESCRIBE HISTORY shows our ICTs"
    hist = {h["version"]: il.parse_ts_ms(h["timestamp"]) for h in dl.history(path)}
    assert hist == dict(enumerate(icts))
    il.assert_same(il.read_spark41(spark41, path), _expected([1, 2, 3, 4]), "spark")
    il.assert_same(il.read_delta_rs(path), _expected([1, 2, 3, 4]), "delta-rs (a writer feature only)")
    for v, ids in ((1, [1]), (2, [1, 2]), (3, [1, 2, 3])):
        ts = il.ms_to_iso(icts[v])
        il.assert_same(dl.scan(path, timestamp=ts), _expected(ids), f"data_loader as of {ts}")
        il.assert_same(il.read_spark41(spark41, path, timestamp=ts), _expected(ids), f"spark as of {ts}")


def test_ict_enabled_on_existing_tables_by_spark_and_by_us(dl, spark41, tmp_path):
    for who in ("spark", "data_loader"):
        path = str(tmp_path / who)
        _append(dl, path, [1], tmp_path)
        _append(dl, path, [2], tmp_path)
        if who == "spark":
            spark41.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ('delta.enableInCommitTimestamps' = 'true')")
            _append(dl, path, [3], tmp_path)
        else:
            _append(dl, path, [3], tmp_path, "delta.enableInCommitTimestamps=true")
        _append(dl, path, [4], tmp_path)
        enable = 2
        conf = il.replay_log(path).metadata["configuration"]
        assert conf.get("delta.inCommitTimestampEnablementVersion") == str(enable), (who, conf)
        assert conf.get("delta.inCommitTimestampEnablementTimestamp") == str(_ict(path, enable)), (who, conf)
        assert "inCommitTimestamp" in il.replay_log(path).protocol.get("writerFeatures", [])
        last = il.commit_versions(path)[-1]
        icts = {v: _ict(path, v) for v in range(enable, last + 1)}
        assert list(icts.values()) == sorted(set(icts.values())), (who, icts)
        shist = _spark_history_ms(spark41, path)
        assert {v: shist[v] for v in icts} == icts, (who, shist, icts)
        il.assert_same(il.read_spark41(spark41, path), _expected([1, 2, 3, 4]), f"spark ({who} enabled)")
        # Time travel on both sides of the enablement, compared with Spark.
        for ts in (il.ms_to_iso(icts[enable]), il.ms_to_iso(icts[last]), il.ms_to_iso(icts[enable] - 1)):
            il.assert_same(dl.scan(path, timestamp=ts), il.read_spark41(spark41, path, timestamp=ts),
                           f"as of {ts} ({who} enabled)")


def test_we_create_tables_with_both_features(dl, spark41, readers, tmp_path):
    path = str(tmp_path / "t")
    _append(dl, path, [1, 2], tmp_path, "delta.enableInCommitTimestamps=true", "delta.checkpointPolicy=v2",
            "delta.checkpointInterval=3")
    proto = il.replay_log(path).protocol
    assert {"inCommitTimestamp", "v2Checkpoint"} <= set(proto.get("writerFeatures", [])), proto
    assert "v2Checkpoint" in proto.get("readerFeatures", []), proto
    for i in range(3, 6):
        _append(dl, path, [i], tmp_path)
    assert _uuid_checkpoints(path), f"the automatic checkpoint at version 3 is v2: {_log_names(path)}"
    assert not any(n.endswith(".checkpoint.parquet") for n in _log_names(path)), _log_names(path)
    icts = [_ict(path, v) for v in il.commit_versions(path)]
    assert icts == sorted(set(icts)), icts
    conf = il.replay_log(path).metadata["configuration"]
    assert "delta.inCommitTimestampEnablementVersion" not in conf, "created with ICT: no enablement"
    notes: list[str] = []
    _check_readers(readers, dl, path, range(1, 6), "readers of our ICT + v2-checkpoint table", notes)
    print(f"delta-rs on our ICT + v2-checkpoint table: {notes}")
    assert _spark_history_ms(spark41, path) == dict(enumerate(icts))
    spark41.sql(f"INSERT INTO delta.`{path}` VALUES (6)")
    assert _ict(path, len(icts)) > icts[-1]
    il.assert_same(dl.scan(path), _expected(range(1, 7)), "data_loader after Spark's append")


def test_missing_or_decreasing_ict_is_corrupt_log(dl, tmp_path):
    path = str(tmp_path / "t")
    _append(dl, path, [1], tmp_path, "delta.enableInCommitTimestamps=true")
    _append(dl, path, [2], tmp_path)
    commit = il.commit_path(path, 1)
    actions = [json.loads(line) for line in commit.read_text().splitlines() if line]
    for damage in ("missing", "decreasing"):
        ci = dict(actions[0]["commitInfo"])
        if damage == "missing":
            del ci["inCommitTimestamp"]
        else:
            ci["inCommitTimestamp"] = _ict(path, 0) - 1
        commit.write_text("\n".join(json.dumps(a) for a in [{"commitInfo": ci}] + actions[1:]) + "\n")
        for args in (["table", "scan", path, "--output", tmp_path / "o.parquet"],
                     ["table", "write", path, "--source", il.write_parquet(_ids([3]), tmp_path / "n.parquet")]):
            p = dl.run(*args, check=False)
            assert p.returncode == 1, (damage, args[1], _out(p))
            assert path in _out(p) and "version 1" in _out(p) and "inCommitTimestamp" in _out(p).replace(
                "in-commit timestamp", "inCommitTimestamp"), (damage, _out(p))
        assert il.commit_versions(path) == [0, 1]
