"""Command line: --config-json (YAML, the original's escaped-newline form, JSON), validate errors
(exit 2 naming key and line), --log-format json, --help, --version, the original's example
config."""
from __future__ import annotations

import json
import re

import pytest

from e2e_lib import LoaderEnv, assert_loaded_exactly, csv_rows, write_csv, write_parquet


def small_source(env: LoaderEnv):
    f = write_csv(env.raw / "t" / "a.csv", csv_rows(1, 5))
    return f


# -- --config-json -----------------------------------------------------------------------------

def test_config_json_inline_yaml_escaped_newlines(env: LoaderEnv):
    """The original's documented form: --config-json 'raw_data_path: /mnt/raw/\\n...' (a literal
    backslash-n between lines)."""
    f = small_source(env)
    lines = [f"raw_data_path: {env.raw}", f"processed_data_path: {env.processed}",
             f"checkpoint_path: {env.checkpoints}", "retry_backoff_ms: 5", "enable_metrics: false",
             "tables:", "  - table_name: t", "    database_name: e2e",
             f"    source_path_pattern: {env.raw}/t/*.csv", "    file_format: csv"]
    text = "\\n".join(lines)
    assert "\n" not in text
    r = env.run("run", "--config-json", text, config=None)
    assert r.rc == 0, str(r)
    assert_loaded_exactly(env, "t", {f: 5})


def test_config_json_inline_multiline_yaml(env: LoaderEnv):
    f = small_source(env)
    text = (f"raw_data_path: {env.raw}\nprocessed_data_path: {env.processed}\n"
            f"checkpoint_path: {env.checkpoints}\nenable_metrics: false\ntables:\n"
            f"  - table_name: t\n    database_name: e2e\n    source_path_pattern: t/*.csv\n"
            f"    file_format: csv\n")
    r = env.run("run", "--config-json", text, config=None)
    assert r.rc == 0, str(r)
    assert_loaded_exactly(env, "t", {f: 5})


def test_config_json_inline_json(env: LoaderEnv):
    f = small_source(env)
    cfg = env.config_dict([env.table_entry("t", "t/*.csv", "csv")])
    r = env.run("run", "--config-json", json.dumps(cfg), config=None)
    assert r.rc == 0, str(r)
    assert_loaded_exactly(env, "t", {f: 5})
    r = env.run("status", "--json", "--config-json", json.dumps(cfg), config=None)
    assert r.rc == 0 and json.loads(r.stdout)["tables"][0]["rows_loaded"] == 5, str(r)


def test_config_and_config_json_together_is_usage_error(env: LoaderEnv):
    env.write_config([env.table_entry("t", "t/*.csv", "csv")])
    r = env.run("run", "--config-json", "{}")
    assert r.rc == 2, str(r)


def test_run_without_config_is_usage_error(env: LoaderEnv):
    r = env.run("run", config=None)
    assert r.rc == 2 and "--config" in r.out, str(r)


# -- validate: exit 2 naming the key and the line -----------------------------------------------

GOOD_TABLE = """\
tables:
  - table_name: t
    database_name: e2e
    source_path_pattern: /tmp/nowhere/*.csv
    file_format: csv
"""


def header(env: LoaderEnv) -> str:
    return (f"raw_data_path: {env.raw}\nprocessed_data_path: {env.processed}\n"
            f"checkpoint_path: {env.checkpoints}\n")


# (name, config text builder, key that must be named, line that must be named)
BAD_CONFIGS = {
    "unknown_key": (lambda e: header(e) + "max_paralel_jobs: 4\n" + GOOD_TABLE,
                    "max_paralel_jobs", 4),
    "unknown_table_key": (lambda e: header(e) + GOOD_TABLE + "    partition_colums: [a]\n",
                          "partition_colums", 9),
    "wrong_type": (lambda e: header(e) + "retry_attempts: three\n" + GOOD_TABLE,
                   "retry_attempts", 4),
    "wrong_type_list": (lambda e: header(e) + GOOD_TABLE + "    partition_columns: 7\n",
                        "partition_columns", 9),
    "missing_required_global": (lambda e: f"raw_data_path: {e.raw}\ncheckpoint_path: x\n" + GOOD_TABLE,
                                "processed_data_path", None),
    "missing_required_table_key": (
        lambda e: header(e) + "tables:\n  - table_name: t\n    database_name: e2e\n"
                              "    file_format: csv\n",
        "source_path_pattern", 5),
    "scd2_without_primary_keys": (lambda e: header(e) + GOOD_TABLE + "    loading_strategy: scd2\n",
                                  "primary_keys", 5),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_validate_names_key_and_line(env: LoaderEnv, case):
    build, key, line = BAD_CONFIGS[case]
    env.config_path.write_text(build(env))
    r = env.run("validate")
    assert r.rc == 2, f"validate should exit 2 for {case}\n{r}"
    assert key in r.out, f"the error does not name '{key}'\n{r}"
    if line is not None:
        assert re.search(rf"config\.yaml:{line}\b", r.out), (
            f"the error does not name line {line} of config.yaml\n{env.config_path.read_text()}\n{r}")
    # run refuses the same config before doing any work.
    r = env.run("run")
    assert r.rc == 2 and key in r.out, str(r)
    assert not env.processed.exists(), "run with an invalid config touched processed_data_path"


def test_validate_reports_every_problem(env: LoaderEnv):
    env.config_path.write_text(header(env) + "bogus: 1\nretry_attempts: many\n" + GOOD_TABLE
                               + "    loading_strategy: scd2\n")
    r = env.run("validate")
    assert r.rc == 2
    for key in ("bogus", "retry_attempts", "primary_keys"):
        assert key in r.out, f"{key} not reported\n{r}"


def test_validate_good_config(env: LoaderEnv):
    env.config_path.write_text(header(env) + GOOD_TABLE)
    r = env.run("validate")
    assert r.rc == 0, str(r)
    assert "e2e.t" in r.stdout and str(env.processed / "e2e" / "t") in r.stdout, r.stdout


# -- logging, help, version ---------------------------------------------------------------------

def test_log_format_json(env: LoaderEnv):
    f = small_source(env)
    write_csv(env.raw / "bad" / "b.csv", b"id,name\n1,\xff\xfe\n")
    env.write_config([env.table_entry("t", "t/*.csv", "csv"),
                      env.table_entry("bad", "bad/*.csv", "csv")])
    r = env.run("run", "--log-format", "json")
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert lines, str(r)
    records = []
    for line in lines:
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            raise AssertionError(f"stderr line is not JSON: {line!r}\n{r}")
        assert list(rec)[:3] == ["ts", "level", "msg"], rec
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", rec["ts"]), rec
        records.append(rec)
    committed = [x for x in records if x["msg"] == "batch committed"]
    assert committed and committed[0]["table"] == "e2e.t" and committed[0]["rows"] == 5, records
    failed = [x for x in records if x["level"] == "error" and x.get("file") == str(
        env.raw / "bad" / "b.csv")]
    assert failed, f"no JSON error record naming the bad file: {records}"
    assert_loaded_exactly(env, "t", {f: 5})


COMMANDS = [[], ["run"], ["status"], ["validate"], ["create-example-config"], ["table"],
            ["table", "describe"], ["table", "history"], ["table", "files"], ["table", "scan"],
            ["table", "write"], ["table", "delete"], ["table", "optimize"], ["table", "vacuum"],
            ["table", "checkpoint"], ["table", "restore"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: "_".join(c) or "main")
def test_help(env: LoaderEnv, command):
    r = env.run(*command, "--help", config=None)
    assert r.rc == 0, str(r)
    assert "Usage" in r.stdout and "--help" in r.stdout, r.stdout


def test_help_run_lists_options(env: LoaderEnv):
    r = env.run("run", "--help", config=None)
    for opt in ("--config", "--config-json", "--tables", "--dry-run", "--optimize", "--vacuum",
                "--log-level", "--log-format", "--watch", "--interval"):
        assert opt in r.stdout, f"run --help does not list {opt}"


def test_version(env: LoaderEnv):
    r = env.run("--version", config=None)
    assert r.rc == 0, str(r)
    assert re.search(r"data_loader \d+\.\d+\.\d+", r.stdout), r.stdout


def test_unknown_command_is_usage_error(env: LoaderEnv):
    r = env.run("frobnicate", config=None)
    assert r.rc == 2, str(r)


# -- the original description's example config ---------------------------------------------------

ORIGINAL_EXAMPLE = """\
raw_data_path: /mnt/raw/
processed_data_path: /mnt/processed/
checkpoint_path: /mnt/checkpoints/
file_tracker_table: file_processing_tracker
file_tracker_database: metadata
max_parallel_jobs: 4
retry_attempts: 3
timeout_minutes: 60
log_level: INFO
enable_metrics: true
tables:
  - table_name: customers
    database_name: analytics
    source_path_pattern: /mnt/raw/customers/*.parquet
    loading_strategy: scd2
    primary_keys:
      - customer_id
    tracking_columns:
      - name
      - email
      - address
    file_format: parquet
    schema_evolution: true
    partition_columns:
      - date_partition
  - table_name: transactions
    database_name: analytics
    source_path_pattern: /mnt/raw/transactions/*.parquet
    loading_strategy: append
    file_format: parquet
    schema_evolution: true
    partition_columns:
      - transaction_date
"""


def test_original_example_config(env: LoaderEnv):
    """Copied verbatim from ../shared/reference/original-description.md, /mnt/* pointed at
    tmp dirs: both tables load; customers (scd2, partitioned by date_partition) keeps its
    history when a tracked column changes in a second run."""
    text = (ORIGINAL_EXAMPLE.replace("/mnt/raw/", f"{env.raw}/")
            .replace("/mnt/processed/", f"{env.processed}/")
            .replace("/mnt/checkpoints/", f"{env.checkpoints}/"))
    env.config_path.write_text(text)
    import datetime as dt
    write_parquet(env.raw / "customers" / "c1.parquet", {
        "customer_id": [1, 2], "name": ["a", "b"], "email": ["a@x", "b@x"],
        "address": ["s1", "s2"], "date_partition": ["2024-01-01", "2024-01-01"]})
    tx = []
    for i in range(2):
        tx.append(write_parquet(env.raw / "transactions" / f"t{i}.parquet", {
            "transaction_id": [i * 10 + k for k in range(4)], "amount": [1.5, 2.5, 3.5, 4.5],
            "transaction_date": [dt.date(2024, 1, 1 + k % 2) for k in range(4)]}))
    r = env.run("validate")
    assert r.rc == 0, str(r)
    assert "2 table" in r.stdout
    env.load()
    env.DB = "analytics"
    assert_loaded_exactly(env, "transactions", {f: 4 for f in tx})
    write_parquet(env.raw / "customers" / "c2.parquet", {
        "customer_id": [2], "name": ["b"], "email": ["new@x"], "address": ["s2"],
        "date_partition": ["2024-01-01"]})
    env.load()
    rows = sorted(env.read("customers").to_pylist(),
                  key=lambda r: (r["customer_id"], r["effective_date"]))
    assert [(r["customer_id"], r["email"], r["is_current"]) for r in rows] == [
        (1, "a@x", True), (2, "b@x", False), (2, "new@x", True)], rows
    assert rows[1]["end_date"] == rows[2]["effective_date"] == rows[2]["_load_timestamp"], rows
    assert rows[0]["end_date"] is None and rows[2]["end_date"] is None, rows
    status = env.status()
    assert status["analytics.customers"]["files"]["completed"] == 2
    assert status["analytics.transactions"]["files"]["completed"] == 2
    assert (env.checkpoints / "metrics" / "latest.prom").is_file()
