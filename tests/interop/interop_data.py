"""Deterministic test data with every type the interop suite covers."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Iterable

import pyarrow as pa

UTC = dt.timezone.utc

# Partition values that need Hive escaping and/or URI encoding in add.path, plus null.
# ('' is not used: Delta treats an empty partition value as null.)
PARTS = ["a/b", "x y", "%", "=", "ünï©ødé €", None, "a%20b:c#", "plain"]
DATES = [dt.date(2024, 1, 1), dt.date(1999, 12, 31), None, dt.date(2024, 2, 29)]
# LONG_STRING is longer than the 32-character prefix Delta writers keep in string min/max stats.
LONG_STRING = "long-" + "ł" * 40 + "-end"
STRINGS = ["héllo wörld", "日本語", "emoji 🎉", "", "plain", None, "quote'\"", "tab\tnl\n", LONG_STRING]

STRUCT_T = pa.struct([("a", pa.int64()), ("b", pa.string())])

BASE_FIELDS = [
    pa.field("id", pa.int64()),
    pa.field("i32", pa.int32()),
    pa.field("i16", pa.int16()),
    pa.field("i8", pa.int8()),
    pa.field("f32", pa.float32()),
    pa.field("f64", pa.float64()),
    pa.field("dec", pa.decimal128(10, 2)),
    pa.field("s", pa.string()),
    pa.field("bin", pa.binary()),
    pa.field("flag", pa.bool_()),
    pa.field("d", pa.date32()),
    pa.field("ts", pa.timestamp("us", tz="UTC")),
    pa.field("ntz", pa.timestamp("us")),
    pa.field("arr", pa.list_(pa.int64())),
    pa.field("m", pa.map_(pa.string(), pa.int64())),
    pa.field("st", STRUCT_T),
    pa.field("part", pa.string()),
]
EXTRA_FIELDS = [pa.field("extra_s", pa.string()), pa.field("extra_l", pa.int64())]


def schema(extra: bool = False) -> pa.Schema:
    return pa.schema(BASE_FIELDS + (EXTRA_FIELDS if extra else []))


def _row(i: int, extra: bool) -> dict:
    ts_base = dt.datetime(2024, 3, 10, 1, 59, 59, 123456, tzinfo=UTC)
    if i % 10 == 0:
        ts = dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC) - dt.timedelta(seconds=i)
    else:
        ts = ts_base + dt.timedelta(seconds=i * 3601, microseconds=i)
    ntz = dt.datetime(2013, 7, 5, 17, 1, 0, 123456) + dt.timedelta(days=i, microseconds=7 * i)
    f64 = i / 3.0
    if i % 7 == 2:
        f64 = float("nan")
    elif i % 19 == 1:
        f64 = float("-inf")
    r = {
        "id": i,
        "i32": None if i % 11 == 5 else i * 7 - 300,
        "i16": None if i % 13 == 7 else (i * 3) % 30000 - 15000,
        "i8": None if i % 9 == 4 else (i % 250) - 125,
        "f32": None if i % 10 == 3 else (float("inf") if i % 17 == 0 else i * 0.5 - 3.25),
        "f64": None if i % 10 == 6 else f64,
        "dec": None if i % 12 == 1 else Decimal(i * 101 - 5000) / Decimal(100),
        "s": STRINGS[i % len(STRINGS)],
        "bin": None if i % 6 == 5 else bytes([i % 256, 0, 255, 10]),
        "flag": None if i % 5 == 4 else (i % 3 == 0),
        "d": DATES[i % len(DATES)],
        "ts": None if i % 9 == 8 else ts,
        "ntz": None if i % 8 == 7 else ntz,
        "arr": [[i, i + 1, None], [], None][i % 3],
        "m": [[("k" + str(i), i), ("n", None)], [], None][i % 3],
        "st": [{"a": i, "b": "s" + str(i)}, None, {"a": None, "b": None}, {"a": -i, "b": "ü"}][i % 4],
        "part": PARTS[i % len(PARTS)],
    }
    if extra:
        r["extra_s"] = None if i % 4 == 1 else f"x{i}-ß"
        r["extra_l"] = None if i % 5 == 2 else i * 1000
    return r


def make_batch(ids: Iterable[int], extra: bool = False) -> pa.Table:
    rows = [_row(i, extra) for i in ids]
    return pa.Table.from_pylist(rows, schema=schema(extra))
