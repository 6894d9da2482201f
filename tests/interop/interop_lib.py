"""Helpers shared by the interop tests: value canonicalisation, snapshot comparison, the four
table readers (Spark + delta-spark, delta-rs, DuckDB, data_loader) and a tiny Delta log replay.

Every reader returns a `Snapshot`: the table's logical schema as {column: delta type string}
and its rows as canonical JSON strings, sorted.  Two snapshots are equal exactly when the
schemas agree and the row multisets agree, so comparisons are independent of row order,
column order, Arrow string/list flavours and timestamp units.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import glob
import json
import math
import os
import re
import shutil
import subprocess
import urllib.parse
import uuid
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

UTC = dt.timezone.utc

# --------------------------------------------------------------------------------------------
# Types
# --------------------------------------------------------------------------------------------


def delta_type_of_arrow(t: pa.DataType) -> str:
    """Arrow type -> Delta (Spark) type string, e.g. 'map<string,long>'."""
    if pa.types.is_dictionary(t):
        return delta_type_of_arrow(t.value_type)
    if pa.types.is_int8(t):
        return "byte"
    if pa.types.is_int16(t):
        return "short"
    if pa.types.is_int32(t):
        return "integer"
    if pa.types.is_int64(t):
        return "long"
    if pa.types.is_float32(t):
        return "float"
    if pa.types.is_float64(t):
        return "double"
    if pa.types.is_decimal(t):
        return f"decimal({t.precision},{t.scale})"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "string"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return "binary"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_date32(t) or pa.types.is_date64(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamp" if t.tz is not None else "timestamp_ntz"
    if pa.types.is_map(t):
        return f"map<{delta_type_of_arrow(t.key_type)},{delta_type_of_arrow(t.item_type)}>"
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_list_view(t):
        return f"array<{delta_type_of_arrow(t.value_type)}>"
    if pa.types.is_struct(t):
        inner = ",".join(f"{t.field(i).name}:{delta_type_of_arrow(t.field(i).type)}" for i in range(t.num_fields))
        return f"struct<{inner}>"
    if pa.types.is_null(t):
        return "void"
    return f"UNMAPPED[{t}]"


def delta_type_of_json(t: Any) -> str:
    """Delta schema JSON type (string or dict) -> the same type string format."""
    if isinstance(t, str):
        m = re.fullmatch(r"decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)", t)
        if m:
            return f"decimal({m.group(1)},{m.group(2)})"
        return {"int": "integer", "bigint": "long", "tinyint": "byte", "smallint": "short"}.get(t, t)
    kind = t["type"]
    if kind == "array":
        return f"array<{delta_type_of_json(t['elementType'])}>"
    if kind == "map":
        return f"map<{delta_type_of_json(t['keyType'])},{delta_type_of_json(t['valueType'])}>"
    if kind == "struct":
        return "struct<" + ",".join(f"{f['name']}:{delta_type_of_json(f['type'])}" for f in t["fields"]) + ">"
    raise AssertionError(f"unknown Delta type {t!r}")


def schema_of_delta_json(schema: dict) -> dict[str, str]:
    assert schema.get("type") == "struct", schema
    return {f["name"]: delta_type_of_json(f["type"]) for f in schema["fields"]}


def _plain_type(t: pa.DataType) -> pa.DataType:
    """Map Arrow type flavours onto one representative (string, list, us timestamps...)."""
    if pa.types.is_dictionary(t):
        return _plain_type(t.value_type)
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_large_binary(t) or pa.types.is_binary_view(t) or pa.types.is_fixed_size_binary(t):
        return pa.binary()
    if pa.types.is_timestamp(t):
        return pa.timestamp("us", tz=t.tz)
    if pa.types.is_date64(t):
        return pa.date32()
    if pa.types.is_map(t):
        return pa.map_(_plain_type(t.key_type), _plain_type(t.item_type))
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_list_view(t):
        return pa.list_(_plain_type(t.value_type))
    if pa.types.is_struct(t):
        return pa.struct([pa.field(t.field(i).name, _plain_type(t.field(i).type)) for i in range(t.num_fields)])
    return t


def plain_table(tbl: pa.Table) -> pa.Table:
    cols = []
    for name, col in zip(tbl.column_names, tbl.columns):
        target = _plain_type(col.type)
        if pa.types.is_dictionary(col.type):
            col = pc.cast(col, col.type.value_type)
        if target != col.type:
            col = col.cast(target)
        cols.append(col)
    return pa.Table.from_arrays(cols, names=tbl.column_names)


# --------------------------------------------------------------------------------------------
# Values and snapshots
# --------------------------------------------------------------------------------------------


def canon_value(v: Any, t: pa.DataType) -> Any:
    """A JSON-able canonical form of one Arrow value (after plain_table)."""
    if v is None:
        return None
    if pa.types.is_floating(t):
        f = float(v)
        if math.isnan(f):
            return "NaN"
        if math.isinf(f):
            return "+Inf" if f > 0 else "-Inf"
        return f
    if pa.types.is_timestamp(t):
        if t.tz is None:
            assert v.tzinfo is None
            return "NTZ:" + v.isoformat(timespec="microseconds")
        return "TS:" + v.astimezone(UTC).isoformat(timespec="microseconds")
    if pa.types.is_date32(t):
        return "D:" + v.isoformat()
    if pa.types.is_decimal(t):
        d = v.normalize()
        return "DEC:" + format(d, "f")
    if pa.types.is_binary(t):
        return "B:" + bytes(v).hex()
    if pa.types.is_map(t):
        out = {}
        for k, val in v:
            out[json.dumps(canon_value(k, t.key_type), sort_keys=True)] = canon_value(val, t.item_type)
        return {"MAP": sorted(out.items())}
    if pa.types.is_list(t):
        return [canon_value(x, t.value_type) for x in v]
    if pa.types.is_struct(t):
        return {t.field(i).name: canon_value(v.get(t.field(i).name), t.field(i).type) for i in range(t.num_fields)}
    if pa.types.is_boolean(t):
        return bool(v)
    if pa.types.is_integer(t):
        return int(v)
    return v


@dataclasses.dataclass
class Snapshot:
    schema: dict[str, str]
    rows: list[str]  # canonical JSON of each row, sorted

    @property
    def num_rows(self) -> int:
        return len(self.rows)

    def row_dicts(self) -> list[dict]:
        return [json.loads(r) for r in self.rows]


def snapshot_from_arrow(tbl: pa.Table, schema_override: dict[str, str] | None = None) -> Snapshot:
    tbl = plain_table(tbl)
    types = {n: tbl.schema.field(n).type for n in tbl.column_names}
    rows = []
    for r in tbl.to_pylist():
        rows.append(json.dumps({k: canon_value(v, types[k]) for k, v in r.items()}, sort_keys=True, ensure_ascii=False))
    rows.sort()
    schema = schema_override if schema_override is not None else {n: delta_type_of_arrow(types[n]) for n in tbl.column_names}
    return Snapshot(schema=dict(schema), rows=rows)


def diff_snapshots(actual: Snapshot, expected: Snapshot, limit: int = 6) -> str:
    """'' when equal, otherwise a readable description of the differences."""
    problems = []
    if actual.schema != expected.schema:
        only_a = {k: v for k, v in actual.schema.items() if expected.schema.get(k) != v}
        only_e = {k: v for k, v in expected.schema.items() if actual.schema.get(k) != v}
        problems.append(f"schema differs: actual-only {only_a} vs expected {only_e}")
    ca, ce = Counter(actual.rows), Counter(expected.rows)
    if ca != ce:
        missing = list((ce - ca).elements())
        extra = list((ca - ce).elements())
        msg = f"rows differ: actual {actual.num_rows} rows, expected {expected.num_rows}; " \
              f"{len(missing)} expected rows missing, {len(extra)} unexpected rows"
        if missing:
            msg += "\n    missing e.g.: " + "\n                  ".join(missing[:limit])
        if extra:
            msg += "\n    unexpected e.g.: " + "\n                     ".join(extra[:limit])
        problems.append(msg)
    return "\n  ".join(problems)


def assert_same(actual: Snapshot, expected: Snapshot, label: str) -> None:
    d = diff_snapshots(actual, expected)
    assert not d, f"{label}:\n  {d}"


class Mismatches:
    """Collects comparison failures so one test reports every reader/version that is wrong."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def check(self, label: str, fn: Callable[[], Snapshot], expected: Snapshot) -> Snapshot | None:
        try:
            got = fn()
        except Exception as e:  # noqa: BLE001 - a reader crashing is a mismatch to report
            self.items.append(f"{label}: reader raised {type(e).__name__}: {str(e)[:1500]}")
            return None
        d = diff_snapshots(got, expected)
        if d:
            self.items.append(f"{label}:\n  {d}")
        return got

    def add(self, msg: str) -> None:
        self.items.append(msg)

    def assert_none(self, header: str = "") -> None:
        if self.items:
            raise AssertionError((header + "\n" if header else "") + f"{len(self.items)} mismatch(es):\n- " + "\n- ".join(self.items))


# --------------------------------------------------------------------------------------------
# Spark session
# --------------------------------------------------------------------------------------------


# The S3A connector for the object-store tests (tests/e2e/test_e2e_object_store_spark.py): the
# hadoop-aws matching pyspark 3.5's bundled Hadoop 3.3.4; it pulls aws-java-sdk-bundle (~280 MB,
# resolved once into the Ivy cache).  Endpoints and keys are set per bucket at run time
# (`configure_s3a`), so the session itself stays store-agnostic.
SPARK_EXTRA_PACKAGES = ["org.apache.hadoop:hadoop-aws:3.3.4"]


def make_spark():
    """local[2] Spark + delta-spark (+ S3A) session: UTC, no UI, 2 shuffle partitions, quiet
    logs."""
    from delta import configure_spark_with_delta_pip
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master("local[2]")
        .appName("data_loader-interop")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        # Delta's log replay defaults to 50 partitions: far too many tasks for tiny test tables.
        .config("spark.databricks.delta.snapshotPartitions", "2")
        .config("spark.sql.sources.parallelPartitionDiscovery.parallelism", "2")
    )
    session = configure_spark_with_delta_pip(builder, extra_packages=SPARK_EXTRA_PACKAGES).getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def configure_s3a(spark, bucket: str, endpoint: str, access_key: str, secret_key: str) -> None:
    """Point Spark's s3a:// at an S3-compatible server for one bucket (per-bucket keys, so tests
    sharing the session do not clash): path-style, plain HTTP.

    Directory markers are kept: by default S3A deletes the parent "directory" markers after
    every write, and versitygw's posix backend refuses to delete a non-empty directory object
    (DeleteObjects answers ErrDirectoryNotEmpty), which S3A retries for minutes per write.
    Fewer retries make any other failure surface quickly."""
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    conf.set("fs.s3a.impl", "org.apache.hadoop.fs.s3a.S3AFileSystem")
    for key, value in {"endpoint": endpoint, "endpoint.region": "us-east-1",
                       "path.style.access": "true", "connection.ssl.enabled": "false",
                       "access.key": access_key, "secret.key": secret_key,
                       "directory.marker.retention": "keep", "retry.limit": "2",
                       "attempts.maximum": "2"}.items():
        conf.set(f"fs.s3a.bucket.{bucket}.{key}", value)


# --------------------------------------------------------------------------------------------
# Readers
# --------------------------------------------------------------------------------------------


def read_spark(spark, path: str | os.PathLike, version: int | None = None, timestamp: str | None = None) -> Snapshot:
    from pyspark.sql.pandas.types import to_arrow_schema

    r = spark.read.format("delta")
    if version is not None:
        r = r.option("versionAsOf", int(version))
    if timestamp is not None:
        r = r.option("timestampAsOf", timestamp)
    df = r.load(str(path))
    batches = df._collect_as_arrow()  # keeps null structs and maps exact (unlike toPandas)
    arrow_schema = to_arrow_schema(df.schema)
    tbl = pa.Table.from_batches(batches, schema=arrow_schema) if batches else arrow_schema.empty_table()
    schema = schema_of_delta_json(df.schema.jsonValue())
    return snapshot_from_arrow(tbl, schema_override=schema)


def read_spark41(spark41, path: str | os.PathLike, version: int | None = None,
                 timestamp: str | None = None) -> Snapshot:
    """Spark 4.1 + Delta 4.1 (the `spark41` fixture's Connect client) reads the table."""
    tbl, spark_schema = spark41.read(path, version=version, timestamp=timestamp)
    return snapshot_from_arrow(tbl, schema_override=schema_of_delta_json(spark_schema))


def read_delta_rs(path: str | os.PathLike, version: int | None = None) -> Snapshot:
    from deltalake import DeltaTable

    t = DeltaTable(str(path), version=version) if version is not None else DeltaTable(str(path))
    return snapshot_from_arrow(t.to_pyarrow_table())


# DuckDB: the `delta` extension cannot be downloaded from DuckDB's extension host here (only package
# registries are reachable), but the PyPI package `duckdb-extension-delta` ships the same signed
# binary; we LOAD it from there.  If it is not installed, the DuckDB check falls back to reading
# the data files of the snapshot (listed by deltalake's DeltaTable.file_uris()) with read_parquet
# plus the partition values: that still checks DuckDB can read our Parquet files, but not DuckDB's
# Delta log handling (see read_duckdb_files).  INTEROP_DUCKDB_MODE
# selects: auto (default: extension if loadable, else files), extension (required), files.
_DUCKDB_EXT: list[str | None] = []


def duckdb_delta_extension_path() -> str | None:
    if _DUCKDB_EXT:
        return _DUCKDB_EXT[0]
    found = None
    try:
        import duckdb_extension_delta  # type: ignore

        import duckdb

        cands = glob.glob(os.path.join(os.path.dirname(duckdb_extension_delta.__file__), "extensions",
                                       f"{duckdb.__version__ if duckdb.__version__.startswith('v') else 'v' + duckdb.__version__}",
                                       "delta.duckdb_extension"))
        cands = cands or glob.glob(os.path.join(os.path.dirname(duckdb_extension_delta.__file__), "extensions", "*",
                                                "delta.duckdb_extension"))
        found = cands[0] if cands else None
    except ImportError:
        found = None
    _DUCKDB_EXT.append(found)
    return found


def duckdb_mode() -> str:
    mode = os.environ.get("INTEROP_DUCKDB_MODE", "auto")
    assert mode in ("auto", "extension", "files"), f"bad INTEROP_DUCKDB_MODE={mode}"
    if mode == "auto":
        return "extension" if _duckdb_connect_with_delta(probe=True) is not None else "files"
    return mode


_DUCKDB_CON: list = []


def _duckdb_connect_with_delta(probe: bool = False):
    """One shared connection (loading the 70 MB extension takes ~2 s); callers must not close it."""
    if _DUCKDB_CON:
        return _DUCKDB_CON[0]
    con = _duckdb_new_connection(probe)
    if con is not None:
        _DUCKDB_CON.append(con)
    return con


def _duckdb_new_connection(probe: bool):
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    try:
        con.execute("LOAD delta")  # installed in ~/.duckdb already?
        return con
    except Exception:  # noqa: BLE001
        pass
    ext = duckdb_delta_extension_path()
    if ext:
        try:
            con.execute(f"LOAD '{ext}'")
            return con
        except Exception:  # noqa: BLE001
            if not probe:
                raise
    try:
        con.execute("INSTALL delta")
        con.execute("LOAD delta")
        return con
    except Exception:  # noqa: BLE001
        if probe:
            return None
        raise


def _sql_str(s: str) -> str:
    return "'" + str(s).replace("'", "''") + "'"


def read_duckdb(path: str | os.PathLike, version: int | None = None) -> Snapshot:
    mode = duckdb_mode()
    if mode == "files":
        return read_duckdb_files(path, version)
    con = _duckdb_connect_with_delta().cursor()
    try:
        if version is None:
            tbl = con.execute(f"SELECT * FROM delta_scan({_sql_str(path)})").fetch_arrow_table()
        else:
            # delta_scan() of extension 1.4.4 has no version parameter; an attached table does.
            alias = "tt_" + uuid.uuid4().hex[:12]
            con.execute(f"ATTACH {_sql_str(path)} AS {alias} (TYPE delta)")
            try:
                tbl = con.execute(f"SELECT * FROM {alias} AT (VERSION => {int(version)})").fetch_arrow_table()
            finally:
                con.execute(f"DETACH {alias}")
    finally:
        con.close()
    return snapshot_from_arrow(tbl)


def read_duckdb_files(path: str | os.PathLike, version: int | None = None) -> Snapshot:
    """FALLBACK DuckDB reader, used only when the delta extension cannot be loaded: DuckDB's
    read_parquet over the files of the snapshot as listed by deltalake's DeltaTable.file_uris(),
    plus the partition values delta-rs parsed from the log.  Checks that DuckDB reads our Parquet
    files, NOT DuckDB's own Delta log handling."""
    import duckdb
    from deltalake import DeltaTable

    dtab = DeltaTable(str(path), version=version) if version is not None else DeltaTable(str(path))
    uris = dtab.file_uris()
    adds = pa.table(dtab.get_add_actions(flatten=True))
    assert adds.num_rows == len(uris)
    schema = schema_of_delta_json(json.loads(dtab.schema().to_json()))
    pcols = list(dtab.metadata().partition_columns)
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    pieces = []
    for i, uri in enumerate(uris):
        fpath = urllib.parse.unquote(uri[len("file://"):]) if uri.startswith("file://") else uri
        t = con.execute(f"SELECT * FROM read_parquet({_sql_str(fpath)}, hive_partitioning = false)").fetch_arrow_table()
        for c in pcols:
            val = adds.column(f"partition.{c}")[i]
            t = t.append_column(c, pa.array([val.as_py()] * t.num_rows, val.type))
        t = plain_table(t)
        for name in t.column_names:  # INT96 is read as a naive TIMESTAMP
            col = t.column(name)
            if schema.get(name) == "timestamp" and pa.types.is_timestamp(col.type) and col.type.tz is None:
                t = t.set_column(t.column_names.index(name), name, col.cast(pa.timestamp("us", tz="UTC")))
        pieces.append(t)
    con.close()
    tbl = pa.concat_tables(pieces, promote_options="permissive") if pieces else pa.table({})
    n = tbl.num_rows
    cols = {name: (tbl.column(name) if name in tbl.column_names else pa.nulls(n)) for name in schema}
    return snapshot_from_arrow(pa.table(cols), schema_override=schema)


def read_dl(dl, path: str | os.PathLike, version: int | None = None, timestamp: str | None = None,
            out_dir: str | os.PathLike | None = None) -> Snapshot:
    out = Path(out_dir or "/tmp") / f"dl_scan_{uuid.uuid4().hex}.parquet"
    args = ["table", "scan", str(path), "--output", str(out)]
    if version is not None:
        args += ["--version", str(version)]
    if timestamp is not None:
        args += ["--timestamp", timestamp]
    dl.run(*args)
    try:
        tbl = pq.read_table(out)
    finally:
        if out.exists():
            out.unlink()
    return snapshot_from_arrow(tbl)


# --------------------------------------------------------------------------------------------
# Minimal Delta log replay (JSON commits only; for checking files/metadata independently)
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class LogSnapshot:
    version: int
    adds: dict[str, dict]
    metadata: dict
    protocol: dict
    commit_infos: dict[int, dict]


def commit_path(table: str | os.PathLike, version: int) -> Path:
    return Path(table) / "_delta_log" / f"{version:020d}.json"


def commit_versions(table: str | os.PathLike) -> list[int]:
    out = []
    for p in (Path(table) / "_delta_log").iterdir():
        if re.fullmatch(r"\d{20}\.json", p.name):
            out.append(int(p.name[:20]))
    return sorted(out)


def read_commit(table: str | os.PathLike, version: int) -> list[dict]:
    with open(commit_path(table, version), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _file_key(action: dict) -> str:
    """A logical file is (path, deletion vector id); files without a DV are keyed by path."""
    dv = action.get("deletionVector")
    if not dv:
        return action["path"]
    return (f'{action["path"]}#{dv["storageType"]}{dv["pathOrInlineDv"]}'
            f'@{dv.get("offset")}')


def replay_log(table: str | os.PathLike, version: int | None = None) -> LogSnapshot:
    versions = commit_versions(table)
    assert versions, f"no commits in {table}"
    if version is None:
        version = versions[-1]
    assert versions[: version + 1] == list(range(version + 1)), \
        f"replay_log needs all JSON commits 0..{version}, found {versions}"
    adds: dict[str, dict] = {}
    metadata: dict = {}
    protocol: dict = {}
    infos: dict[int, dict] = {}
    for v in range(version + 1):
        for action in read_commit(table, v):
            if "add" in action:
                adds[_file_key(action["add"])] = action["add"]
            elif "remove" in action:
                adds.pop(_file_key(action["remove"]), None)
            elif "metaData" in action:
                metadata = action["metaData"]
            elif "protocol" in action:
                protocol = action["protocol"]
            elif "commitInfo" in action:
                infos[v] = action["commitInfo"]
    return LogSnapshot(version=version, adds=adds, metadata=metadata, protocol=protocol, commit_infos=infos)


def deletion_vector_count(table: str | os.PathLike) -> int:
    """Live files of the table's latest version that carry a deletion vector."""
    return sum(1 for a in replay_log(table).adds.values() if a.get("deletionVector"))


def file_abs_path(table: str | os.PathLike, add_path: str) -> Path:
    return Path(table) / urllib.parse.unquote(add_path)


# --------------------------------------------------------------------------------------------
# Misc
# --------------------------------------------------------------------------------------------


def write_parquet(tbl: pa.Table, path: str | os.PathLike) -> str:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(tbl, str(path))
    return str(path)


def concat(tables: Sequence[pa.Table]) -> pa.Table:
    """Concatenate expected tables, adding null columns for columns missing in older ones."""
    return pa.concat_tables(list(tables), promote_options="default")


def filter_rows(tbl: pa.Table, delete_if: Callable[[dict], bool]) -> pa.Table:
    keep = [not bool(delete_if(r)) for r in tbl.to_pylist()]
    return tbl.filter(pa.array(keep, pa.bool_()))


def copy_table(src: str | os.PathLike, dst: str | os.PathLike) -> str:
    shutil.copytree(src, dst)
    return str(dst)


def ms_to_iso(ms: float) -> str:
    return dt.datetime.fromtimestamp(ms / 1000.0, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_ts_ms(v: Any) -> int:
    """A history timestamp as epoch ms: accepts an int (ms) or an ISO-8601 string."""
    if isinstance(v, (int, float)):
        return int(v)
    s = str(v).replace("Z", "+00:00")
    d = dt.datetime.fromisoformat(s)
    if d.tzinfo is None:
        d = d.replace(tzinfo=UTC)
    return int(round(d.timestamp() * 1000))


# --------------------------------------------------------------------------------------------
# Change data feed
# --------------------------------------------------------------------------------------------

CHANGE_META = ("_change_type", "_commit_version", "_commit_timestamp")


def _change_ms(v: Any) -> int:
    if isinstance(v, dt.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=UTC)
        return int(round(v.timestamp() * 1000))
    return parse_ts_ms(v)


def canon_changes(rows: list[dict], columns: list[str]) -> list[tuple]:
    """Change rows as sorted tuples: `columns`, then change type, commit version and commit
    timestamp (epoch ms)."""
    out = []
    for r in rows:
        out.append(tuple(r[c] for c in columns) +
                   (r["_change_type"], int(r["_commit_version"]), _change_ms(r["_commit_timestamp"])))
    return sorted(out, key=repr)


def dl_changes(dl, path, start: int, end: int | None = None) -> list[dict]:
    """`data_loader table changes PATH --from START [--to END]` as rows."""
    out = Path(dl.scratch) / f"changes_{start}_{end}_{abs(hash(str(path)))}.parquet"
    args = ["table", "changes", str(path), "--from", str(start), "--output", str(out)]
    if end is not None:
        args += ["--to", str(end)]
    dl.run(*args)
    try:
        return pq.read_table(out).to_pylist()
    finally:
        out.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------
# `data_loader run` over one table
# --------------------------------------------------------------------------------------------


class Loader:
    """`data_loader run` over one table entry (config as JSON, which YAML reads): each `load`
    writes one Parquet file into the raw folder and runs the loader over it."""

    def __init__(self, dl, root: Path, entry: dict):
        self.dl = dl
        self.raw = root / "raw"
        self.raw.mkdir(parents=True, exist_ok=True)
        self.table = root / "processed" / "db" / entry["table_name"]
        self.config = root / "config.yaml"
        cfg = {"raw_data_path": str(self.raw), "processed_data_path": str(root / "processed"),
               "checkpoint_path": str(root / "checkpoints"), "max_parallel_jobs": 1,
               "retry_attempts": 0, "enable_metrics": False,
               "tables": [{"database_name": "db", "file_format": "parquet",
                           "source_path_pattern": str(self.raw / "*.parquet"),
                           "audit_columns": False, **entry}]}
        self.config.write_text(json.dumps(cfg))
        self.n = 0

    def load(self, table: pa.Table, check: bool = True) -> subprocess.CompletedProcess:
        self.n += 1
        pq.write_table(table, self.raw / f"b{self.n:03d}.parquet")
        return self.dl.run("run", "--config", self.config, check=check)

    def version(self) -> int:
        return commit_versions(self.table)[-1]


# --------------------------------------------------------------------------------------------
# Processes, files, row tracking
# --------------------------------------------------------------------------------------------


def output(p: subprocess.CompletedProcess) -> str:
    """A finished process's stdout and stderr together."""
    return (p.stdout or "") + (p.stderr or "")


def file_tree(path: str | os.PathLike) -> dict[str, int]:
    """Every file under `path` (relative path -> size): to show that nothing was written."""
    out = {}
    for root, _, files in os.walk(path):
        for f in files:
            fp = os.path.join(root, f)
            out[os.path.relpath(fp, path)] = os.path.getsize(fp)
    return out


def row_ids_sql(path: str | os.PathLike, keys: Sequence[str]) -> str:
    """A Spark query of each row's `keys` with its row id (rid) and row commit version (rcv)."""
    return (f"SELECT {', '.join(keys)}, _metadata.row_id AS rid, "
            f"_metadata.row_commit_version AS rcv FROM delta.`{path}`")


def row_ids_of(rows: Iterable[dict], keys: Sequence[str]) -> dict[Any, tuple[int, int]]:
    """row_ids_sql's rows as key -> (row id, row commit version); the key is the one column's
    value, or a tuple for several. Keys and row ids must be unique."""
    rows = list(rows)
    out = {(r[keys[0]] if len(keys) == 1 else tuple(r[k] for k in keys)): (r["rid"], r["rcv"])
           for r in rows}
    assert len(out) == len(rows), f"duplicate keys {keys} in {rows}"
    assert len({v[0] for v in out.values()}) == len(rows), f"duplicate row ids in {rows}"
    return out


def row_id_high_water_mark(path: str | os.PathLike) -> int:
    """The `delta.rowTracking` domain's rowIdHighWaterMark (-1 without one)."""
    hwm = -1
    for v in commit_versions(path):
        for a in read_commit(path, v):
            d = a.get("domainMetadata")
            if d and d["domain"] == "delta.rowTracking":
                hwm = json.loads(d["configuration"])["rowIdHighWaterMark"]
    return hwm


def added_row_ids(path: str | os.PathLike, version: int, column: str = "id") -> dict[Any, tuple[int, int]]:
    """`column` value -> (baseRowId + position, defaultRowCommitVersion) of the rows of the files
    commit `version` added, from the log and the data files alone (`column` as the files name
    it: its physical name on a column-mapped table)."""
    out = {}
    for action in read_commit(path, version):
        add = action.get("add")
        if not add:
            continue
        assert "baseRowId" in add and "defaultRowCommitVersion" in add, f"add without row ids: {add}"
        values = pq.read_table(file_abs_path(path, add["path"]), columns=[column]).column(column)
        for pos, v in enumerate(values.to_pylist()):
            out[v] = (add["baseRowId"] + pos, add["defaultRowCommitVersion"])
    return out


def scd2_snapshot(rows: Sequence[tuple], value: str = "label") -> Snapshot:
    """SCD2 versions (id, `value`, seq, effective_date, end_date, is_current) as a Snapshot."""
    cols = list(zip(*rows))
    return snapshot_from_arrow(pa.table({
        "id": pa.array(cols[0], pa.int64()), value: pa.array(cols[1], pa.string()),
        "seq": pa.array(cols[2], pa.int64()), "effective_date": pa.array(cols[3], pa.int64()),
        "end_date": pa.array(cols[4], pa.int64()), "is_current": pa.array(cols[5], pa.bool_())}))
