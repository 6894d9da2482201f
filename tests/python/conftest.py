"""Fixtures of the Python package's tests (scripts/test_python.sh runs them in a fresh venv
that installed the built wheel).

- The package under test must be the installed wheel, never the source tree: a wrong
  `data_loader` FAILS the session.
- `dl_bin`: the data_loader executable ($DATA_LOADER_BIN), the reference the package's
  results are compared with; `demo_gen`: the demo data generator beside it.
- `demo`: a directory with the example config and two batches of demo files.
"""
from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

os.environ["TZ"] = "UTC"


def pytest_sessionstart(session):
    import data_loader

    site = Path(sysconfig.get_paths()["platlib"]).resolve()
    where = Path(data_loader.__file__).resolve()
    if site not in where.parents:
        pytest.exit(f"data_loader comes from {where}, not from the installed wheel in {site}",
                    returncode=3)


@pytest.fixture(scope="session")
def dl_bin() -> str:
    binary = os.environ.get("DATA_LOADER_BIN", "")
    if not (binary and os.access(binary, os.X_OK)):
        pytest.fail(f"set DATA_LOADER_BIN to the data_loader executable (got {binary!r})",
                    pytrace=False)
    return binary


@pytest.fixture(scope="session")
def demo_gen(dl_bin) -> str:
    gen = str(Path(dl_bin).parent / "dl_demo_gen")
    if not os.access(gen, os.X_OK):
        pytest.fail(f"demo generator not found: {gen}", pytrace=False)
    return gen


def python_cli(*args: str, cwd=None, env=None) -> subprocess.CompletedProcess:
    """`python -m data_loader.main ARGS` with this venv's Python."""
    return subprocess.run([sys.executable, "-m", "data_loader.main", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def exe_cli(dl_bin: str, *args: str, cwd=None, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([dl_bin, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


def make_demo(dl_bin: str, demo_gen: str, base: Path, batches: int = 2) -> Path:
    """The example config with its data under `base`; returns the config's path."""
    base.mkdir(parents=True, exist_ok=True)
    config = base / "config.yaml"
    p = exe_cli(dl_bin, "create-example-config", "--output", str(config), "--base-dir", str(base))
    assert p.returncode == 0, p.stderr
    subprocess.run([demo_gen, str(base), str(batches), "0"], check=True, capture_output=True)
    return config


@pytest.fixture
def demo(tmp_path, dl_bin, demo_gen) -> Path:
    return make_demo(dl_bin, demo_gen, tmp_path / "demo")
