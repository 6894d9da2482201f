"""The wheel carries DuckDB's storage extensions: a table on S3 (versitygw on loopback, from
scripts/install_test_servers.sh) loads through the installed package."""
from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
from deltalake import DeltaTable

from conftest import python_cli

REPO = Path(__file__).resolve().parents[2]
KEY, SECRET = "wheeltestkey", "wheeltestsecret123"


def test_the_engine_loads_the_extensions_inside_the_package():
    import data_loader

    where = Path(os.environ["DATA_LOADER_DUCKDB_EXTENSIONS"])
    assert where == Path(data_loader.__file__).parent / "duckdb_extensions"
    assert (where / "httpfs.duckdb_extension").is_file()
    assert (where / "azure.duckdb_extension").is_file()


@pytest.fixture
def versitygw(tmp_path):
    binary = os.environ.get("DL_VERSITYGW") or str(REPO / "third_party" / "bin" / "versitygw")
    if not os.access(binary, os.X_OK):
        pytest.fail(f"versitygw not found at {binary}: run scripts/install_test_servers.sh",
                    pytrace=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = tmp_path / "s3"
    (root / "lake").mkdir(parents=True)  # the posix backend's buckets are folders
    proc = subprocess.Popen([binary, "--access", KEY, "--secret", SECRET, "--port",
                             f"127.0.0.1:{port}", "posix", str(root)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert proc.poll() is None and time.time() < deadline, "versitygw did not start"
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


def test_a_table_on_s3_loads_through_the_wheel(demo, versitygw):
    options = {"aws_access_key_id": KEY, "aws_secret_access_key": SECRET,
               "aws_region": "us-east-1", "aws_endpoint_url": versitygw, "aws_allow_http": "true"}
    text = demo.read_text().replace(f'processed_data_path: "{demo.parent}/processed"',
                                    "processed_data_path: s3://lake/processed")
    assert "s3://lake/processed" in text
    text += "storage_options:\n" + "".join(f"  {k}: {v}\n" for k, v in options.items())
    demo.write_text(text)
    p = python_cli("run", "--config", str(demo))
    assert p.returncode == 0, p.stderr
    assert "6 files loaded" in p.stdout
    upper = {k.upper(): v for k, v in options.items()}
    table = DeltaTable("s3://lake/processed/analytics/transactions",
                       storage_options={**upper, "aws_conditional_put": "etag"})
    assert table.to_pyarrow_table().num_rows == 2000
    p = python_cli("run", "--config", str(demo))
    assert p.returncode == 0 and "0 files loaded" in p.stdout
