"""The original description's "Programmatic Usage" snippets, one test each, with paths
adapted; what they return equals what the command line says about the same data."""
from __future__ import annotations

import json

from conftest import (comparable_run, comparable_status, stable_rows, write_customers,
                      write_orders)


def make_data(ws) -> dict:
    write_customers(ws.raw, 0, 50, "customers_1.parquet")
    write_customers(ws.raw, 40, 30, "customers_2.parquet")  # 10 changed keys
    write_orders(ws.raw, 0, 100, "orders_1.parquet")
    write_orders(ws.raw, 100, 100, "orders_2.parquet")
    return ws.config_dict([
        ws.table("customers", "customers/*.parquet", strategy="scd2",
                 primary_keys=["customer_id"], tracking_columns=["name", "email"],
                 max_files_per_batch=1),
        ws.table("orders", "orders/*.parquet"),
    ])


def metrics_files(ws) -> set:
    return set((ws.root / "checkpoints" / "metrics").glob("run-*.json"))


def cli_run(ws, *args) -> dict:
    """Run the command line; the metrics file its run wrote."""
    before = metrics_files(ws)
    p = ws.cli(*args)
    assert p.returncode == 0, p.stderr
    (new,) = metrics_files(ws) - before
    return json.loads(new.read_text())


def metrics_of(ws, run_id: str) -> dict:
    (path,) = [p for p in metrics_files(ws) if run_id in p.name]
    return json.loads(path.read_text())


def live_facts_removed(status: dict) -> dict:
    """cluster-status without what is measured live (free disk, available memory) or differs
    between two loads of the same rows (the Parquet files' sizes: load times, batch ids)."""
    for d in status["disks"]:
        d.pop("free_bytes")
    for t in status["tables"]:
        t.pop("data_bytes")
    status["environment"]["host"].pop("memory_available_bytes")
    status["environment"]["container"].pop("memory_usage_bytes")
    return status


def test_standard_mode_snippet(ws_pair):
    api, cli = ws_pair
    config_dict = make_data(api)
    cli.write_config(make_data(cli))

    # --- the snippet -------------------------------------------------------------------
    from data_loader.config.table_config import DataLoaderConfig
    from data_loader.core.processor import DataProcessor

    # Load configuration
    config = DataLoaderConfig(**config_dict)

    # Initialize processor
    processor = DataProcessor(config)

    # Process all tables
    results = processor.process_all_tables()

    # Process specific table
    table_config = config.get_table_config("customers")
    table_result = processor.process_table(table_config)

    # Check status
    status = processor.get_processing_status()
    # ------------------------------------------------------------------------------------

    assert results.exit_code == 0, results
    assert results.totals.files_loaded == 4
    assert table_config.loading_strategy == "scd2" and table_config.primary_keys == ["customer_id"]
    assert [t.table for t in table_result.tables] == ["sales.customers"]
    assert table_result.totals.files_loaded == 0  # nothing new since
    # The run's result is its metrics file, field for field, plus the exit code.
    assert results.to_dict()["run_id"] != table_result.run_id
    for r in (results, table_result):
        written = metrics_of(api, r.run_id)
        got = r.to_dict()
        assert {k: got[k] for k in written} == written

    # The command line on the same data: the same runs, tables and status.
    assert comparable_run(results.to_dict()) == comparable_run(cli_run(cli, "run"))
    assert comparable_run(table_result.to_dict()) == comparable_run(
        cli_run(cli, "run", "--tables", "customers"))
    shown = cli.cli("status", "--json")
    assert shown.returncode == 0, shown.stderr
    assert comparable_status(status.to_dict(), api.root) == comparable_status(
        json.loads(shown.stdout), cli.root)
    assert status.table("customers").files.completed == 2
    for name in ("customers", "orders"):
        assert stable_rows(api.read(name)) == stable_rows(cli.read(name))


def test_cluster_mode_snippet(ws_pair):
    api, cli = ws_pair
    # use_unity_catalog needs catalog.schema names: the database is `main.sales`.
    config_dict = make_data(api)
    for t in config_dict["tables"]:
        t["database_name"] = "main.sales"
    cfg = make_data(cli)
    for t in cfg["tables"]:
        t["database_name"] = "main.sales"
    cli.write_config(cfg)

    # --- the snippet -------------------------------------------------------------------
    from data_loader.config.table_config import DataLoaderConfig
    from data_loader.cluster import ClusterConfig, ClusterDataProcessor, DatabricksEnvironment

    # Load base configuration
    base_config = DataLoaderConfig(**config_dict)

    # Detect Databricks environment and create cluster configuration
    environment = DatabricksEnvironment.detect_environment()
    cluster_config = ClusterConfig.from_base_config(
        base_config=base_config,
        environment=environment,
        enable_cluster_optimizations=True,
        use_unity_catalog=True
    )

    # Initialize cluster processor
    processor = ClusterDataProcessor(cluster_config)

    # Validate cluster configuration
    validation = processor.validate_cluster_configuration()
    if not validation['valid']:
        raise ValueError(f"Configuration invalid: {validation['errors']}")

    # Process with cluster optimizations
    results = processor.process_all_tables()

    # Get comprehensive cluster status
    cluster_status = processor.get_cluster_status()
    # ------------------------------------------------------------------------------------

    assert results.exit_code == 0, results
    assert results.command == "run-cluster"
    assert {t.table for t in results.tables} == {"main.sales.customers", "main.sales.orders"}
    assert comparable_run(results.to_dict()) == comparable_run(
        cli_run(cli, "run-cluster", "--unity-catalog"))

    shown = cli.cli("cluster-status", "--json")
    assert shown.returncode == 0, shown.stderr
    want = json.loads(json.dumps(json.loads(shown.stdout)).replace(str(cli.root), "<root>"))
    got = json.loads(json.dumps(cluster_status.to_dict()).replace(str(api.root), "<root>"))
    assert got.pop("critical") is False
    got.pop("text")
    assert live_facts_removed(got) == live_facts_removed(want)
    assert environment.kind == cluster_status.environment.kind
    assert cluster_status.health.status in ("ok", "warning")
    # Before the run: valid; its warnings are the health findings of that moment.
    assert validation["valid"] is True and validation["errors"] == []
    assert all(isinstance(w, str) for w in validation["warnings"])
    for name in ("customers", "orders"):
        assert base_config.get_table_config(name).path == str(
            api.root / "processed" / "main" / "sales" / name)
        assert stable_rows(api.read(name, "main/sales")) == stable_rows(
            cli.read(name, "main/sales"))
