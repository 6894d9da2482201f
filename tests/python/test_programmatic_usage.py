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


# The original's "Cluster Mode Features" snippets: Resource Management, Unity Catalog
# Integration, Job Dependencies and Orchestration.

def test_resource_management_snippet(ws_pair):
    api, cli = ws_pair
    config_dict = make_data(api)
    cli.write_config(make_data(cli))
    from data_loader.config.table_config import DataLoaderConfig
    from data_loader.cluster import ClusterConfig, ClusterDataProcessor

    processor = ClusterDataProcessor(
        ClusterConfig.from_base_config(base_config=DataLoaderConfig(**config_dict)))

    # --- the snippet -------------------------------------------------------------------
    # Monitor cluster resources
    resources = processor.resource_manager.get_cluster_resources()
    health = processor.resource_manager.get_health_status()

    # Get optimization recommendations
    recommendations = processor.resource_manager.get_optimization_recommendations()
    # ------------------------------------------------------------------------------------

    shown = cli.cli("cluster-status", "--json")
    assert shown.returncode == 0, shown.stderr
    want = json.loads(shown.stdout)
    assert resources["resources"] == want["resources"]
    assert resources["environment"]["kind"] == want["environment"]["kind"]
    assert resources["environment"]["cpu_cores"] == want["environment"]["cpu_cores"]
    assert [d["label"] for d in resources["disks"]] == [d["label"] for d in want["disks"]]
    assert health.to_dict() == want["health"]
    assert recommendations == want["recommendations"]


def test_unity_catalog_integration_snippet(ws_pair):
    api, cli = ws_pair
    config_dict = make_data(api)  # database_name "sales": no catalog of its own
    cli.write_config(make_data(cli) | {"default_catalog": "production"})
    from data_loader.config.table_config import DataLoaderConfig
    from data_loader.cluster import ClusterConfig, ClusterDataProcessor

    base_config = DataLoaderConfig(**config_dict)
    # --- the snippet -------------------------------------------------------------------
    # Enable Unity Catalog support
    cluster_config = ClusterConfig.from_base_config(
        base_config=base_config,
        use_unity_catalog=True,
        default_catalog="production"
    )

    # Tables automatically use: catalog.schema.table format
    # ------------------------------------------------------------------------------------
    processor = ClusterDataProcessor(cluster_config)
    assert processor.validate_cluster_configuration()["errors"] == []
    results = processor.process_all_tables()
    assert results.exit_code == 0, results
    assert {t.table for t in results.tables} == {"production.sales.customers",
                                                 "production.sales.orders"}
    assert comparable_run(results.to_dict()) == comparable_run(
        cli_run(cli, "run-cluster", "--unity-catalog"))
    for name in ("customers", "orders"):
        assert stable_rows(api.read(name, "production/sales")) == stable_rows(
            cli.read(name, "production/sales"))
    # The base config is unchanged: without Unity Catalog its tables stay sales.<name>.
    assert base_config.get_table_config("orders").name == "sales.orders"


def test_job_dependencies_snippet(ws_pair, tmp_path):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    posts = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            posts.append((self.path, json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    api, _ = ws_pair
    config_dict = make_data(api)
    flag = tmp_path / "ready.flag"
    from data_loader.config import ConfigError
    from data_loader.config.table_config import DataLoaderConfig
    from data_loader.cluster import ClusterConfig, ClusterDataProcessor

    base_config = DataLoaderConfig(**config_dict)
    try:
        # --- the snippet (its targets: a flag file and a webhook on loopback) -------------
        cluster_config = ClusterConfig(
            base_config=base_config,
            enable_job_dependencies=True,
            upstream_dependencies=[
                f"file:{flag}"
            ],
            downstream_notifications=[
                f"webhook:http://127.0.0.1:{server.server_port}/hooks/loader"
            ]
        )
        # ---------------------------------------------------------------------------------
        processor = ClusterDataProcessor(cluster_config)
        unmet = processor.process_all_tables()
        assert unmet.exit_code == 3 and unmet.totals.files_loaded == 0, unmet
        assert posts == []  # unmet dependencies do not notify
        flag.write_text("")
        done = processor.process_all_tables()
        assert done.exit_code == 0 and done.totals.files_loaded == 4, done
        assert [(p, b["status"], b["totals"]["files_loaded"]) for p, b in posts] == [
            ("/hooks/loader", "success", 4)]
    finally:
        server.shutdown()
    # Disabled: the base config's own dependencies are not checked either.
    gated = DataLoaderConfig(**(config_dict | {"upstream_dependencies": [f"file:{flag}.no"]}))
    off = ClusterConfig(base_config=gated, enable_job_dependencies=False)
    assert ClusterDataProcessor(off).process_all_tables().exit_code == 0
    # An entry the loader cannot check is refused naming the key, as in a config file.
    try:
        ClusterConfig(base_config=base_config, upstream_dependencies=["hdfs://nn/ready"])
    except ConfigError as e:
        assert e.key == "upstream_dependencies" and e.line is None, e.problems
    else:
        raise AssertionError("an upstream dependency without a kind was accepted")
