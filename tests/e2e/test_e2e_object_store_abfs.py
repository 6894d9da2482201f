"""abfss:// (ADLS Gen2 URIs) end to end on Azurite, which serves only the Blob API: sources,
tables, tracker and checkpoints all at abfss://container@devstoreaccount1.dfs.core.windows.net/...
The storage layer and the engine (DuckDB's azure extension, through the az:// spelling of the
same blobs) reach them through the Blob endpoint, as delta-rs does."""
from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import DeltaTable

from e2e_lib import to_yaml
from object_stores import AZURITE_ACCOUNT

TABLES = ("customers", "transactions", "events")
DROP = ("_load_timestamp", "_batch_id", "_source_file", "effective_date", "end_date",
        "_rescued_data")


def sorted_rows(table) -> list[tuple]:
    cols = [c for c in table.column_names if c not in DROP]
    return sorted(tuple((k, str(r[k])) for k in cols) for r in table.select(cols).to_pylist())


def parquet_bytes(columns: dict) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table(columns), buf)
    return buf.getvalue()


def store_options(server, **extra) -> dict:
    """The key and endpoint only: the account comes from the URI's authority."""
    options = {k: v for k, v in server.storage_options().items()
               if k != "azure_storage_account_name"}
    return options | extra


def demo_configs(dl_bin: str, tmp_path: Path, base: str, options: dict) -> tuple[Path, Path]:
    """The demo config on local disk, and the same with every path below `base`."""
    local = tmp_path / "local"
    local.mkdir()
    r = subprocess.run([dl_bin, "create-example-config", "--output", str(local / "c.yaml"),
                        "--base-dir", str(local)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    text = (local / "c.yaml").read_text()
    remote = tmp_path / "abfss.yaml"
    remote.write_text(text.replace(str(local), base) + "\nstorage_options:\n" + "".join(
        f"  {k}: {json.dumps(v)}\n" for k, v in options.items()))
    return local / "c.yaml", remote


def run(dl_bin: str, config: Path, *args) -> subprocess.CompletedProcess:
    return subprocess.run([dl_bin, *args, "--config", str(config)], capture_output=True,
                          text=True, timeout=300)


def test_demo_on_abfss_loads_once_and_matches_a_local_load(dl_bin, demo_gen, azure_server,
                                                           tmp_path):
    bucket = azure_server.new_bucket()
    base = f"abfss://{bucket}@{AZURITE_ACCOUNT}.dfs.core.windows.net/demo"
    local_cfg, abfss_cfg = demo_configs(dl_bin, tmp_path, base, store_options(azure_server))
    local = local_cfg.parent
    subprocess.run([demo_gen, str(local), "2", "0"], check=True, capture_output=True)
    sources = [f for f in sorted((local / "raw").rglob("*")) if f.is_file()]
    for f in sources:
        azure_server.put(bucket, "demo/raw/" + str(f.relative_to(local / "raw")), f.read_bytes())

    r = run(dl_bin, abfss_cfg, "run")
    assert r.returncode == 0, r.stdout + r.stderr
    assert run(dl_bin, local_cfg, "run").returncode == 0

    def log_keys() -> dict[str, list[str]]:
        return {n: [k for k in azure_server.keys(bucket, f"demo/processed/analytics/{n}/_delta_log/")
                    if k.endswith(".json")] for n in TABLES}

    first = log_keys()
    assert all(first.values()), first
    # The second run finds nothing new: no commit anywhere.
    r = run(dl_bin, abfss_cfg, "run")
    assert r.returncode == 0, r.stdout + r.stderr
    assert log_keys() == first

    options = azure_server.deltalake_options()
    for name in TABLES:
        uri = f"{base}/processed/analytics/{name}"
        on_store = DeltaTable(uri, storage_options=options)
        on_disk = DeltaTable(str(local / "processed" / "analytics" / name))
        assert sorted_rows(on_store.to_pyarrow_table()) == sorted_rows(
            on_disk.to_pyarrow_table()), name
        # add.path stays relative to the table root: no scheme, container or account in it.
        blobs = set(azure_server.keys(bucket, f"demo/processed/analytics/{name}/"))
        for key in first[name]:
            for line in azure_server.get(bucket, key).decode().splitlines():
                add = json.loads(line).get("add")
                if add:
                    assert "://" not in add["path"] and bucket not in add["path"], add["path"]
                    blob = f"demo/processed/analytics/{name}/{unquote(add['path'])}"
                    assert blob in blobs, (blob, sorted(blobs))
        # The audit column names each source as the config spells it (abfss://...).
        files = set(on_store.to_pyarrow_table().column("_source_file").to_pylist())
        assert files and all(f.startswith(f"{base}/raw/") for f in files), files
    # The tracker (on abfss too) counts each file's rows as the local run does.
    def completed(uri: str, prefix: str, **kw) -> list[tuple]:
        rows = DeltaTable(uri, **kw).to_pyarrow_table().to_pylist()
        return sorted((r["table_name"], r["file_path"][len(prefix):], r["rows_loaded"])
                      for r in rows if r["status"] == "completed")

    tracker = "processed/metadata/file_processing_tracker"
    ours = completed(f"{base}/{tracker}", f"{base}/raw/", storage_options=options)
    assert ours and sum(n or 0 for _, _, n in ours) > 0, ours
    assert ours == completed(str(local / tracker), f"{local}/raw/")
    # The same table through the short form (the account from the options) reads the same.
    short = DeltaTable(f"abfss://{bucket}/demo/processed/analytics/events",
                       storage_options=options)
    assert short.to_pyarrow_table().num_rows == DeltaTable(
        f"{base}/processed/analytics/events", storage_options=options).to_pyarrow_table().num_rows


def test_another_account_in_the_options_is_a_config_error_naming_both(dl_bin, azure_server,
                                                                      tmp_path):
    bucket = azure_server.new_bucket()
    base = f"abfss://{bucket}@{AZURITE_ACCOUNT}.dfs.core.windows.net/demo"
    options = store_options(azure_server, azure_storage_account_name="someoneelse")
    _, abfss_cfg = demo_configs(dl_bin, tmp_path, base, options)
    for cmd in ("validate", "run"):
        r = run(dl_bin, abfss_cfg, cmd)
        assert r.returncode == 2, f"{cmd}: {r.returncode}\n{r.stdout}{r.stderr}"
        out = r.stdout + r.stderr
        for part in (AZURITE_ACCOUNT, "azure_storage_account_name", "someoneelse"):
            assert part in out, out
        assert azure_server.secret not in out
    assert not azure_server.keys(bucket, "demo/")  # nothing was written


def test_a_corrupt_source_is_named_by_its_abfss_path_and_the_rest_of_its_batch_loads(
        dl_bin, azure_server, tmp_path):
    """DuckDB reads abfss:// sources as az://...; its error must still name the bad file as the
    config spells it, so that file alone fails and the others load in the same batch. Before,
    no file of the batch was found in the error and the batch was split in halves."""
    bucket = azure_server.new_bucket()
    base = f"abfss://{bucket}@{AZURITE_ACCOUNT}.dfs.core.windows.net"
    good = {}
    for i, name in enumerate("acd"):
        key = f"raw/t/{name}.parquet"
        azure_server.put(bucket, key, parquet_bytes({"id": [i, i + 10]}))
        good[f"{base}/{key}"] = 2
    # Last in the batch: not among the files the error's context lists.
    azure_server.put(bucket, "raw/t/e.parquet", b"PAR1 this is not a parquet file PAR1")
    bad = f"{base}/raw/t/e.parquet"
    cfg = tmp_path / "c.yaml"
    cfg.write_text(to_yaml({
        "raw_data_path": f"{base}/raw", "processed_data_path": f"{base}/processed",
        "checkpoint_path": f"{base}/checkpoints", "retry_attempts": 0,
        "storage_options": store_options(azure_server),
        "tables": [{"table_name": "t", "database_name": "e2e", "file_format": "parquet",
                    "source_path_pattern": f"{base}/raw/t/*.parquet",
                    "loading_strategy": "append"}]}) + "\n")

    r = run(dl_bin, cfg, "run", "--log-format", "json")
    assert r.returncode == 1, r.stdout + r.stderr
    records = [json.loads(line) for line in r.stderr.splitlines() if line.startswith("{")]
    failed = [x for x in records if x["msg"] == "file failed"]
    assert [x["file"] for x in failed] == [bad], records
    assert f"in file '{bad}'" in failed[0]["error"], failed
    # One attempt of the whole batch, then one commit of the good files: no halving.
    assert not [x for x in records if x["msg"].startswith("isolating bad files")], records
    committed = [x for x in records if x["msg"] == "batch committed"]
    assert [(x["table"], x["files"]) for x in committed] == [("e2e.t", 3)], records

    options = azure_server.deltalake_options()
    table = DeltaTable(f"{base}/processed/e2e/t", storage_options=options).to_pyarrow_table()
    by_file: dict[str, int] = {}
    for f in table.column("_source_file").to_pylist():
        by_file[f] = by_file.get(f, 0) + 1
    assert by_file == good
    tracker = DeltaTable(f"{base}/processed/metadata/file_processing_tracker",
                         storage_options=options).to_pyarrow_table().to_pylist()
    status = {r["file_path"]: r for r in tracker if r["table_name"] == "e2e.t"}
    assert status[bad]["status"] == "failed" and bad in status[bad]["error_message"], status[bad]
    assert {f for f, r in status.items() if r["status"] == "completed"} == set(good), status
