"""data_loader.table: scan/describe/history from the installed wheel equal the CLI's
`table scan --format parquet` / `table describe --json` / `table history --json` on the same
tables, rows arrive through the Arrow C stream interface, and errors name the table.

Run with a venv where the built wheel is installed (plus pytest and pyarrow), from outside
python/ so the package comes from site-packages:
    /tmp/venv/bin/python -m pytest -q -p no:cacheprovider --import-mode=importlib tests/python
"""
from __future__ import annotations

import datetime as dt
import decimal
import json
import os
import pathlib
import subprocess
import sys
import threading
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import data_loader
from data_loader import table

REPO = pathlib.Path(__file__).resolve().parents[2]


def test_package_is_the_installed_wheel():
    assert "site-packages" in data_loader.__file__, data_loader.__file__


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """The command line of the installed package (the CLI's own code, in a fresh process)."""
    r = subprocess.run([sys.executable, "-m", "data_loader.main", *map(str, args)],
                       capture_output=True, text=True)
    if check:
        assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r


def cli_scan(path, tmp_path, *args: str) -> pa.Table:
    out = tmp_path / f"scan_{time.monotonic_ns()}.parquet"
    cli("table", "scan", path, "--format", "parquet", "--output", out, *args)
    return pq.read_table(out)


def many_types(first_id: int) -> pa.Table:
    utc = dt.timezone.utc
    n = 3
    ids = list(range(first_id, first_id + n))
    return pa.table({
        "id": pa.array(ids, pa.int64()),
        "i8": pa.array([1, None, -128], pa.int8()),
        "i16": pa.array([300, -2, None], pa.int16()),
        "i32": pa.array([None, 70000, -1], pa.int32()),
        "f32": pa.array([1.5, None, -0.25], pa.float32()),
        "f64": pa.array([2.5, 1e300, None], pa.float64()),
        "flag": pa.array([True, None, False]),
        "price": pa.array([decimal.Decimal("12.34"), None, decimal.Decimal("-0.01")],
                          pa.decimal128(10, 2)),
        "big": pa.array([decimal.Decimal("12345678901234567890.123456"), None,
                         decimal.Decimal("0.000001")], pa.decimal128(38, 6)),
        "name": pa.array(["a", None, "ünïcødé ✓"]),
        "raw": pa.array([b"\x00\x01", None, b""], pa.binary()),
        "day": pa.array([dt.date(2024, 2, 29), None, dt.date(1970, 1, 1)]),
        "ts": pa.array([dt.datetime(2024, 1, 1, 12, 30, 1, 123456, tzinfo=utc), None,
                        dt.datetime(1999, 12, 31, 23, 59, 59, tzinfo=utc)],
                       pa.timestamp("us", tz="UTC")),
        "local": pa.array([dt.datetime(2024, 1, 1, 1, 2, 3, 456789), None,
                           dt.datetime(1900, 1, 1)], pa.timestamp("us")),  # timestamp_ntz
        "point": pa.array([{"x": 1, "tags": ["p", None]}, None, {"x": None, "tags": []}],
                          pa.struct([("x", pa.int32()), ("tags", pa.list_(pa.string()))])),
        "nums": pa.array([[1, 2, None], None, []], pa.list_(pa.int64())),
        "attrs": pa.array([[("k", "v")], None, []], pa.map_(pa.string(), pa.string())),
    })


@pytest.fixture(scope="module")
def typed_table(tmp_path_factory) -> pathlib.Path:
    """A table with many types, written by the CLI in two commits (versions 0 and 1)."""
    root = tmp_path_factory.mktemp("typed")
    path = root / "typed"
    for version, first_id in enumerate((0, 100)):
        src = root / f"src{version}.parquet"
        pq.write_table(many_types(first_id), src)
        cli("table", "write", path, "--source", src)
        time.sleep(0.05)  # distinct commit times for time travel
    return path


def by_id(t: pa.Table) -> pa.Table:
    return t.sort_by("id")


def test_scan_equals_the_cli_scan_with_every_type(typed_table, tmp_path):
    got = table.scan(typed_table)
    want = cli_scan(typed_table, tmp_path)
    assert got.num_rows == 6
    assert got.schema.names == want.schema.names
    for name in got.schema.names:
        assert got.schema.field(name).type == want.schema.field(name).type, name
    assert by_id(got).equals(by_id(want))
    # and the values are the ones written (not just the same as the CLI's)
    written = pa.concat_tables([many_types(0), many_types(100)])
    assert by_id(got).select(["id", "price", "big", "ts", "local", "day", "point", "nums"]).to_pylist() \
        == written.select(["id", "price", "big", "ts", "local", "day", "point", "nums"]).to_pylist()
    assert got.schema.field("ts").type == pa.timestamp("us", tz="UTC")
    assert got.schema.field("local").type == pa.timestamp("us")


def test_scan_arrives_through_the_arrow_c_stream(typed_table):
    from data_loader import _native

    handle = _native.table_scan(str(typed_table), None, None, None, None, None, [])
    capsule = handle.__arrow_c_stream__()
    assert type(capsule).__name__ == "PyCapsule"
    with pytest.raises(ValueError, match="already consumed"):
        handle.__arrow_c_stream__()
    reader = pa.RecordBatchReader._import_from_c_capsule(capsule)
    assert reader.read_all().num_rows == 6
    # A stream dropped unread, taken or not, is released by its capsule or its handle.
    unread = _native.table_scan(str(typed_table), None, None, None, None, None, [])
    unread.__arrow_c_stream__()
    del unread
    _native.table_scan(str(typed_table), None, None, None, None, None, [])


def test_scan_batches_streams(tmp_path):
    src = tmp_path / "big.parquet"
    pq.write_table(pa.table({"id": pa.array(range(100_000), pa.int64())}), src)
    path = tmp_path / "big"
    cli("table", "write", path, "--source", src)
    reader = table.scan_batches(path)
    sizes = [b.num_rows for b in reader]
    assert sum(sizes) == 100_000
    assert len(sizes) > 1  # batches, not one materialized table


def test_time_travel_by_version_and_timestamp(typed_table, tmp_path):
    v0 = table.scan(typed_table, version=0)
    assert sorted(v0.column("id").to_pylist()) == [0, 1, 2]
    assert by_id(v0).equals(by_id(cli_scan(typed_table, tmp_path, "--version", "0")))
    first_commit = table.describe(typed_table, version=0).last_commit
    for ts in (first_commit, first_commit.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"):
        at = table.scan(typed_table, timestamp=ts)
        assert sorted(at.column("id").to_pylist()) == [0, 1, 2]
    assert table.scan(typed_table, version=1).num_rows == 6


def test_columns_and_where(typed_table, tmp_path):
    got = table.scan(typed_table, columns=["name", "id"], where="id >= 100 AND i32 IS NOT NULL")
    want = cli_scan(typed_table, tmp_path, "--columns", "name,id", "--where",
                    "id >= 100 AND i32 IS NOT NULL")
    assert got.schema.names == ["name", "id"]
    assert by_id(got).equals(by_id(want))
    assert sorted(got.column("id").to_pylist()) == [101, 102]
    assert table.scan(typed_table, where="point.x = 1", columns=["id"]).num_rows == 2
    assert table.scan(typed_table, limit=4).num_rows == 4


@pytest.mark.parametrize("where", ["id = (SELECT 1)", "getenv('HOME') IS NOT NULL",
                                   "id = 1) UNION SELECT * FROM read_text('/etc/hostname') --"])
def test_a_hostile_where_is_refused_as_the_cli_refuses_it(typed_table, where):
    with pytest.raises(ValueError, match="where: "):
        table.scan(typed_table, where=where)
    r = cli("table", "scan", typed_table, "--where", where, check=False)
    assert r.returncode == 2 and "--where: " in r.stderr


def test_an_unknown_column_is_refused_naming_it(typed_table):
    with pytest.raises(ValueError, match=f"no column 'nope' in {typed_table}"):
        table.scan(typed_table, columns=["id", "nope"])


def test_a_table_written_by_delta_rs(tmp_path):
    py = os.environ.get("DL_DELTARS_PYTHON", str(REPO / ".venv" / "bin" / "python"))
    if not pathlib.Path(py).exists():
        pytest.skip(f"no python with deltalake at {py} (set DL_DELTARS_PYTHON)")
    path = tmp_path / "drs"
    script = f"""
import datetime as dt, decimal, pyarrow as pa
from deltalake import write_deltalake
t = pa.table({{
    "id": pa.array([1, 2, 3], pa.int64()),
    "amount": pa.array([decimal.Decimal("1.10"), None, decimal.Decimal("-3.30")], pa.decimal128(12, 2)),
    "ts": pa.array([dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc), None,
                    dt.datetime(2024, 5, 2, tzinfo=dt.timezone.utc)], pa.timestamp("us", tz="UTC")),
    "region": ["eu", "us", "eu"],
    "info": pa.array([{{"a": 1}}, {{"a": None}}, None], pa.struct([("a", pa.int32())])),
}})
write_deltalake({str(path)!r}, t, partition_by=["region"])
write_deltalake({str(path)!r}, t.slice(0, 1), mode="append", partition_by=["region"])
"""
    subprocess.run([py, "-c", script], check=True)
    got = table.scan(path)
    want = cli_scan(path, tmp_path)
    assert got.num_rows == 4
    assert got.sort_by([("id", "ascending"), ("region", "ascending")]).equals(
        want.sort_by([("id", "ascending"), ("region", "ascending")]))
    assert sorted(table.scan(path, version=0, where="region = 'eu'").column("id").to_pylist()) \
        == [1, 3]
    d = table.describe(path)
    assert d.version == 1 and d.partition_columns == ["region"]
    assert [h.version for h in table.history(path)] == [1, 0]


def cli_json(*args):
    return json.loads(cli(*args, "--json").stdout)


def test_describe_equals_the_cli_json(typed_table):
    for version in (None, 0):
        extra = () if version is None else ("--version", str(version))
        want = cli_json("table", "describe", typed_table, *extra)
        got = table.describe(typed_table, version=version)
        assert got.path == want["path"] and got.version == want["version"]
        assert got.id == want["id"] and got.name == want["name"]
        assert got.schema == want["schema"]
        assert got.partition_columns == want["partition_columns"]
        p = want["protocol"]
        assert (got.protocol.min_reader_version, got.protocol.min_writer_version,
                got.protocol.reader_features, got.protocol.writer_features) == (
            p["minReaderVersion"], p["minWriterVersion"], p.get("readerFeatures"),
            p.get("writerFeatures"))
        assert got.properties == want["properties"]
        assert (got.num_files, got.size_bytes, got.created_time) == (
            want["num_files"], want["size_bytes"], want["created_time"])
        assert got.last_commit.tzinfo is not None
        assert got.last_commit.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" == want["last_commit"]


def test_history_equals_the_cli_json(typed_table):
    for limit in (None, 1):
        extra = () if limit is None else ("--limit", str(limit))
        want = cli_json("table", "history", typed_table, *extra)
        got = table.history(typed_table, limit=limit)
        assert len(got) == len(want) == (limit or 2)
        for g, w in zip(got, want):
            assert g.version == w["version"]
            assert g.timestamp.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" == w["timestamp"]
            assert (g.operation, g.operation_parameters, g.operation_metrics, g.engine_info) == (
                w["operation"], w["operationParameters"], w["operationMetrics"], w["engineInfo"])


def test_errors_name_the_table(tmp_path, typed_table):
    missing = tmp_path / "no_such_table"
    for call in (lambda: table.scan(missing), lambda: table.describe(missing),
                 lambda: table.history(missing)):
        with pytest.raises(FileNotFoundError, match=str(missing)):
            call()
    # A version past the latest has no commit file: FileNotFoundError, as for a missing table.
    with pytest.raises(FileNotFoundError, match=f"version 7 of {typed_table} does not exist"):
        table.scan(typed_table, version=7)
    with pytest.raises(ValueError, match=str(typed_table)):
        table.describe(typed_table, version=-3)
    with pytest.raises(ValueError, match="not an ISO-8601 time"):
        table.scan(typed_table, timestamp="yesterday")


def test_other_threads_run_while_a_scan_reads(tmp_path):
    src = tmp_path / "big.parquet"
    pq.write_table(pa.table({"id": pa.array(range(2_000_000), pa.int64()),
                             "s": pa.array([f"row {i}" for i in range(2_000_000)])}), src)
    path = tmp_path / "big"
    cli("table", "write", path, "--source", src)
    ticks = []
    done = threading.Event()

    def ticker():
        while not done.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.001)

    th = threading.Thread(target=ticker)
    th.start()
    t0 = time.monotonic()
    try:
        rows = table.scan(path, where="id % 3 = 0").num_rows
    finally:
        done.set()
        th.join()
    elapsed = time.monotonic() - t0
    assert rows == 666_667
    # The ticker kept running during the scan (about one tick a millisecond); had the scan
    # held the GIL, it could not have ticked until the scan returned.
    during = [t for t in ticks if t0 <= t <= t0 + elapsed]
    assert len(during) >= min(50, elapsed * 100), (elapsed, len(during))


def test_a_data_file_that_cannot_be_read_is_an_error_naming_the_table(tmp_path):
    src = tmp_path / "a.parquet"
    pq.write_table(many_types(0), src)
    path = tmp_path / "gone"
    cli("table", "write", path, "--source", src)
    for f in path.glob("*.parquet"):
        f.unlink()
    # RuntimeError when the scan cannot start, pyarrow's OSError when a batch cannot be read.
    with pytest.raises((RuntimeError, OSError), match=str(path)):
        table.scan(path)
