"""Fixtures shared by every suite under tests/: `spark_connect`, one local Spark Connect
server with Delta for the whole session (tests/spark_connect/server.py), and `spark41`, pyspark
4.1's Connect client on it (tests/spark_connect/client.py)."""
from spark_connect.client import spark41  # noqa: F401
from spark_connect.server import spark_connect  # noqa: F401
