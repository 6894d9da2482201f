"""Runs in the Spark Connect venv (pyspark 4.1.0 with its Connect client); driven by
tests/spark_connect/client.py from the pytest venv, whose pyspark is 3.5. Talks to a 3.5
server too.

    connect_worker.py REMOTE

Reads one JSON request a line on stdin, answers one JSON line on stdout:
  {"op": "sql", "sql": S, "out": FILE}                      run S, its result to FILE
  {"op": "read", "path": P, "version": V, "timestamp": T, "out": FILE}   a Delta table
Results go to FILE as an Arrow IPC stream; the answer carries the Spark schema as JSON
({"schema": ...}) or the error ({"error": "Class: message"}). stdout carries nothing else.
"""
import json
import sys


def answer(obj) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def run(spark, req):
    import pyarrow as pa

    if req["op"] == "sql":
        df = spark.sql(req["sql"])
    elif req["op"] == "read":
        r = spark.read.format("delta")
        if req.get("version") is not None:
            r = r.option("versionAsOf", int(req["version"]))
        if req.get("timestamp") is not None:
            r = r.option("timestampAsOf", req["timestamp"])
        df = r.load(req["path"])
    else:
        raise ValueError(f"unknown op {req['op']!r}")
    tbl = df.toArrow()
    with pa.OSFile(req["out"], "wb") as f, pa.ipc.new_stream(f, tbl.schema) as w:
        w.write_table(tbl)
    return {"schema": df.schema.jsonValue(), "rows": tbl.num_rows}


def speak_spark35() -> None:
    """A Spark 3.5 server (DL_SPARK_SERVER_FLAVOR=3.5) has no SqlCommand.input, which this
    client sends: the statement goes in the older `sql` field there."""
    from pyspark.sql.connect import plan, proto

    def command(self, session):
        cmd = proto.Command()
        cmd.sql_command.sql = self._query
        return cmd

    plan.SQL.command = command


def main():
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.remote(sys.argv[1]).getOrCreate()
    if spark.version.startswith("3."):
        speak_spark35()
    answer({"ready": spark.version})
    for line in sys.stdin:
        req = json.loads(line)
        try:
            answer(run(spark, req))
        except Exception as e:  # noqa: BLE001 - the caller raises it with the statement
            answer({"error": f"{type(e).__name__}: {e}"})


if __name__ == "__main__":
    main()
