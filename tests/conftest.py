"""Fixtures shared by every suite under tests/: `spark_connect`, one local Spark Connect
server with Delta for the whole session (tests/spark_connect/server.py)."""
from spark_connect.server import spark_connect  # noqa: F401
