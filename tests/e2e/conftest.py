"""Fixtures of the end-to-end suite; they and the helpers live in e2e_lib.py (a uniquely named
module, so it never clashes with tests/interop's conftest when `pytest tests` runs both)."""
from e2e_lib import demo_gen, dl_bin, env, spark  # noqa: F401  (pytest fixtures)
from object_stores import azure_server, s3_server  # noqa: F401,E402  (session-wide servers)
