"""Unity Catalog names and registration, end to end: the real data_loader against
uc_api_server.UnityCatalogStandIn (a loopback server implementing exactly the Unity Catalog
REST endpoints data_loader calls; the open-source server cannot be installed from a package
registry here, see that module's docstring)."""
from __future__ import annotations

import json
from pathlib import Path

from deltalake import DeltaTable

from e2e_lib import write_parquet
from uc_api_server import UnityCatalogStandIn

TOKEN = "dapi-uc-secret-0123456789abcdef"


def uc_config(env, url: str | None, db: str = "Sales", table: str = "Orders", **extra):
    entry = env.table_entry(table, "orders/*.parquet", "parquet")
    entry["database_name"] = db
    cfg = {"use_unity_catalog": True, "default_catalog": "Prod"}
    if url:
        cfg["unity_catalog_url"] = url
    cfg.update(extra)
    return env.write_config([entry], **cfg)


def no_secret_anywhere(env, result, secret: str):
    assert secret not in result.out, f"the token is in the output\n{result}"
    for f in env.root.rglob("*"):
        if f.is_file() and f.suffix in (".json", ".prom", ".yaml", ".crc", ".txt", ""):
            assert secret not in f.read_text(errors="replace"), f"the token is in {f}"


def test_registers_external_delta_table_with_lower_case_three_level_name(env, monkeypatch):
    monkeypatch.setenv("UC_TOKEN", TOKEN)
    write_parquet(env.raw / "orders" / "a.parquet", {"id": [1, 2], "amount": [1.5, 2.5]})
    with UnityCatalogStandIn(token=TOKEN) as uc:
        uc_config(env, uc.url, enable_metrics=True)
        r = env.load("--log-level", "DEBUG")
        # Storage: <processed>/<catalog>/<schema>/<table>, in Unity Catalog's lower case.
        root = env.processed / "prod" / "sales" / "orders"
        assert (root / "_delta_log").is_dir(), r
        assert DeltaTable(str(root)).to_pyarrow_table().num_rows == 2
        assert set(uc.catalogs) == {"prod"}
        assert set(uc.schemas) == {"prod.sales"}
        info = uc.tables["prod.sales.orders"]
        assert info["table_type"] == "EXTERNAL"
        assert info["data_source_format"] == "DELTA"
        assert info["storage_location"] == f"file://{root}"
        cols = {c["name"]: c for c in info["columns"]}
        delta_fields = [f.name for f in DeltaTable(str(root)).schema().fields]
        assert [c["name"] for c in info["columns"]] == delta_fields
        assert cols["id"]["type_name"] == "LONG" and cols["id"]["type_text"] == "bigint"
        assert cols["amount"]["type_name"] == "DOUBLE"
        assert cols["_source_file"]["type_text"] == "string"
        assert [c["position"] for c in info["columns"]] == list(range(len(delta_fields)))
        assert json.loads(cols["id"]["type_json"])["type"] == "long"
        # Every call carried the bearer token; the token is nowhere in output, logs, metrics.
        assert uc.requests and all(
            q["headers"].get("Authorization") == f"Bearer {TOKEN}" for q in uc.requests)
        no_secret_anywhere(env, r, TOKEN)
        assert "prod.sales.orders" in r.out

        # A rerun with nothing new changes nothing in the catalog.
        posts = len(uc.calls("POST"))
        env.load()
        assert len(uc.calls("POST")) == posts
        assert uc.calls("DELETE") == []


def test_schema_evolution_updates_the_registered_columns(env, monkeypatch):
    monkeypatch.delenv("UC_TOKEN", raising=False)
    monkeypatch.delenv("DATABRICKS_TOKEN", raising=False)
    write_parquet(env.raw / "orders" / "a.parquet", {"id": [1]})
    with UnityCatalogStandIn() as uc:
        uc_config(env, uc.url)
        env.load()
        before = [c["name"] for c in uc.tables["prod.sales.orders"]["columns"]]
        assert "region" not in before
        write_parquet(env.raw / "orders" / "b.parquet", {"id": [2], "region": ["eu"]})
        r = env.load()
        after = uc.tables["prod.sales.orders"]["columns"]
        names = [c["name"] for c in after]
        assert names == [f.name for f in DeltaTable(str(env.processed / "prod/sales/orders"))
                         .schema().fields]
        assert "region" in names and set(before) < set(names)
        assert "columns updated" in r.out
        # The entry was replaced (DELETE then POST): the OSS update call cannot set columns.
        assert [q["method"] for q in uc.calls(prefix="/api/2.1/unity-catalog/tables")][-2:] == [
            "DELETE", "POST"]
        assert all("Authorization" not in q["headers"] for q in uc.requests)


def test_explicit_catalog_schema_database_name(env):
    write_parquet(env.raw / "orders" / "a.parquet", {"id": [1]})
    with UnityCatalogStandIn() as uc:
        uc_config(env, uc.url, db="Dev.Raw", table="events")
        env.load()
        assert (env.processed / "dev" / "raw" / "events" / "_delta_log").is_dir()
        assert set(uc.tables) == {"dev.raw.events"}
        assert set(uc.catalogs) == {"dev"}


def test_a_concurrent_registration_of_the_same_table_is_fine(env):
    write_parquet(env.raw / "orders" / "a.parquet", {"id": [1]})
    with UnityCatalogStandIn() as uc:
        uc_config(env, uc.url)
        env.load()
        registered = dict(uc.tables["prod.sales.orders"])
        # Next run: another loader "creates" the entry between our GET (404) and our POST.
        uc.hide_once.add("prod.sales.orders")
        write_parquet(env.raw / "orders" / "b.parquet", {"id": [2]})
        r = env.load()  # POST answers 409; the entry is ours and current: exit 0
        assert "result=unchanged" in r.out, r
        assert uc.calls("POST", "/api/2.1/unity-catalog/tables")[-1]["body"]["name"] == "orders"
        assert uc.tables["prod.sales.orders"] == registered


def test_catalog_unreachable_keeps_the_data_and_exits_1(env):
    from loopback_http import closed_port
    write_parquet(env.raw / "orders" / "a.parquet", {"id": [1, 2, 3]})
    uc_config(env, f"http://127.0.0.1:{closed_port()}", notification_retries=1,
              notification_backoff_ms=5)
    r = env.load(expect=1)
    assert "Unity Catalog registration failed" in r.out and "prod.sales.orders" in r.out, r
    root = env.processed / "prod" / "sales" / "orders"
    assert DeltaTable(str(root)).to_pyarrow_table().num_rows == 3


def test_table_registered_elsewhere_is_left_alone(env):
    write_parquet(env.raw / "orders" / "a.parquet", {"id": [1]})
    with UnityCatalogStandIn() as uc:
        uc.catalogs["prod"] = {"name": "prod"}
        uc.schemas["prod.sales"] = {"name": "sales", "catalog_name": "prod"}
        foreign = {"name": "orders", "catalog_name": "prod", "schema_name": "sales",
                   "table_type": "EXTERNAL", "storage_location": "s3://other/orders",
                   "columns": []}
        uc.tables["prod.sales.orders"] = dict(foreign)
        uc_config(env, uc.url)
        r = env.load(expect=1)
        assert "s3://other/orders" in r.out and "left alone" in r.out, r
        assert uc.tables["prod.sales.orders"] == foreign
        assert uc.calls("DELETE") == []


def test_unity_catalog_name_rules_are_config_errors(env):
    entry = env.table_entry("t" * 256, "x/*.parquet", "parquet")
    env.write_config([entry], use_unity_catalog=True, default_catalog="prod")
    r = env.run("validate")
    assert r.rc == 2, r
    assert "tables[0].table_name" in r.out and "at most 255" in r.out, r
    entry = env.table_entry("t", "x/*.parquet", "parquet")
    env.write_config([entry], use_unity_catalog=True)  # no catalog anywhere
    r = env.run("validate")
    assert r.rc == 2 and "tables[0].database_name" in r.out and "default_catalog" in r.out, r


def test_registered_columns_match_what_spark_sees(env, spark):
    """type_text is Spark's type string (simpleString) and type_json Spark's StructField JSON,
    for every column of a table with nested and parameterized types (Spark reads the loaded table)."""
    import datetime
    import decimal

    import pyarrow as pa

    schema = pa.schema([
        ("id", pa.int64()), ("small", pa.int16()), ("tiny", pa.int8()), ("n", pa.int32()),
        ("f", pa.float32()), ("amount", pa.decimal128(10, 2)), ("day", pa.date32()),
        ("ts", pa.timestamp("us", tz="UTC")), ("flag", pa.bool_()), ("blob", pa.binary()),
        ("tags", pa.list_(pa.string())),
        ("point", pa.struct([("x", pa.float64()), ("label", pa.string())])),
        ("attrs", pa.map_(pa.string(), pa.int64())),
    ])
    row = {"id": [1], "small": [2], "tiny": [3], "n": [4], "f": [1.5],
           "amount": [decimal.Decimal("12.34")], "day": [datetime.date(2026, 1, 2)],
           "ts": [datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)],
           "flag": [True], "blob": [b"\x00\x01"], "tags": [["a", "b"]],
           "point": [{"x": 1.0, "label": "p"}], "attrs": [[("k", 1)]]}
    write_parquet(env.raw / "orders" / "a.parquet", row, schema=schema)
    with UnityCatalogStandIn() as uc:
        uc_config(env, uc.url)
        env.load()
        info = uc.tables["prod.sales.orders"]
    df = spark.read.format("delta").load(str(env.processed / "prod" / "sales" / "orders"))
    spark_fields = {f.name: f for f in df.schema.fields}
    assert [c["name"] for c in info["columns"]] == [f.name for f in df.schema.fields]
    for c in info["columns"]:
        f = spark_fields[c["name"]]
        assert c["type_text"] == f.dataType.simpleString(), (c["name"], c["type_text"])
        assert json.loads(c["type_json"]) == json.loads(f.json()), c["name"]
        assert c["nullable"] == f.nullable, c["name"]
    amount = next(c for c in info["columns"] if c["name"] == "amount")
    assert (amount["type_precision"], amount["type_scale"]) == (10, 2)
