"""A config the loader refuses raises ConfigError naming each problem's key (and line)."""
from __future__ import annotations

import pytest

from data_loader.config import ConfigError, DataLoaderConfig, load_config_from_file

GOOD_TABLE = """\
  - table_name: customers
    database_name: sales
    source_path_pattern: {raw}/customers/*.parquet
    loading_strategy: append
    file_format: parquet
"""


def config_text(raw, second_table: str) -> str:
    return (f"raw_data_path: {raw}\nprocessed_data_path: {raw}/../processed\n"
            f"checkpoint_path: {raw}/../checkpoints\ntables:\n"
            + GOOD_TABLE.format(raw=raw) + second_table)


def test_error_from_a_file_carries_key_and_line_as_the_cli_says(tmp_path):
    bad = """\
  - table_name: orders
    database_name: sales
    source_path_pattern: /data/orders/*.csv
    loading_strategy: scd3
    file_format: csv
"""
    path = tmp_path / "config.yaml"
    path.write_text(config_text(tmp_path / "raw", bad))
    with pytest.raises(ConfigError) as e:
        load_config_from_file(path)
    assert isinstance(e.value, ValueError)
    assert e.value.key == "tables[1].loading_strategy"
    assert e.value.line == 13  # the line of `loading_strategy: scd3`
    assert path.read_text().splitlines()[12].strip() == "loading_strategy: scd3"
    assert "scd3" in e.value.problems[0].message
    # The command line names the same problem: exit 2, the same message.
    import subprocess, sys
    p = subprocess.run([sys.executable, "-m", "data_loader.main", "validate", "--config",
                        str(path)], capture_output=True, text=True)
    assert p.returncode == 2
    assert str(e.value) in p.stderr


def test_every_problem_is_reported(tmp_path):
    bad = """\
  - table_name: orders
    database_name: sales
    source_path_pattern: /data/orders/*.csv
    loading_strategy: merge
    file_format: xml
    max_files_per_bach: 3
"""
    with pytest.raises(ConfigError) as e:
        DataLoaderConfig.from_yaml(config_text(tmp_path, bad), source="inline.yaml")
    keys = {(p.key, p.line) for p in e.value.problems}
    assert ("tables[1].file_format", 14) in keys
    assert ("tables[1].max_files_per_bach", 15) in keys
    unknown = [p for p in e.value.problems if p.line == 15][0]
    assert "max_files_per_bach" in unknown.message and "max_files_per_batch" in unknown.message
    assert str(e.value).startswith("inline.yaml:")


def test_error_from_a_dict_carries_the_key_path(tmp_path):
    config_dict = {
        "raw_data_path": str(tmp_path),
        "processed_data_path": str(tmp_path / "processed"),
        "checkpoint_path": str(tmp_path / "checkpoints"),
        "tables": [{"table_name": "t", "database_name": "d", "loading_strategy": "append",
                    "file_format": "parquet", "source_path_pattern": str(tmp_path / "*.parquet"),
                    "max_files_per_batch": -1}],
    }
    with pytest.raises(ConfigError) as e:
        DataLoaderConfig(**config_dict)
    assert e.value.key == "tables[0].max_files_per_batch"
    assert e.value.line is None  # a dict has no lines
    assert str(e.value).startswith("<dict>: tables[0].max_files_per_batch: ")
    del config_dict["checkpoint_path"]
    config_dict["tables"][0]["max_files_per_batch"] = 2
    with pytest.raises(ConfigError) as e:
        DataLoaderConfig.from_dict(config_dict)
    assert e.value.key == "checkpoint_path"


def test_sql_fragments_are_checked_as_the_cli_does(tmp_path):
    bad = """\
  - table_name: orders
    database_name: sales
    source_path_pattern: /data/orders/*.parquet
    loading_strategy: merge
    primary_keys: [id]
    file_format: parquet
    merge_condition: "source.id = (SELECT 1)"
"""
    with pytest.raises(ConfigError) as e:
        DataLoaderConfig.from_yaml(config_text(tmp_path, bad))
    assert e.value.key == "tables[1].merge_condition"
    assert e.value.line == 10  # where the table entry starts


def test_a_good_config_gives_typed_tables(tmp_path):
    config = DataLoaderConfig.from_yaml(config_text(tmp_path, ""))
    t = config.get_table_config("customers")
    assert (t.table_name, t.database_name, t.name) == ("customers", "sales", "sales.customers")
    assert (t.loading_strategy, t.file_format) == ("append", "parquet")
    assert t.raw["table_name"] == "customers"
    assert [x.name for x in config.tables] == ["sales.customers"]
    with pytest.raises(KeyError, match="sales.customers"):
        config.get_table_config("nope")
