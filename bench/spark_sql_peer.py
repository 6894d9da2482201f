"""The hand-typed side of bench/spark_engine_bench.py: the same work as `data_loader run` with
`engine: spark`, typed as a user would into pyspark's Spark Connect client, against the same
server. Runs in the client venv the driver makes (pyspark[connect] 4.1.0).

    spark_sql_peer.py REMOTE TASK [key=value ...]

TASK: append_parquet raw=GLOB out=PATH | append_csv raw=GLOB out=PATH |
      append_csv_lines raw=GLOB out=PATH |
      setup_upsert dim=DIR out=PATH | setup_scd2 dim=DIR out=PATH |
      upsert batch=DIR out=PATH | scd2 batch=DIR out=PATH
Prints one JSON line: {"task", "seconds", "connect_seconds"}; opening the session is never part
of a task's time.
"""
import json
import sys
import time
import uuid
from pathlib import Path

from merge_peers import SEQ, spark_scd2_sql, spark_upsert_sql


def with_audit(df):
    """The loader's three default audit columns, as a user would add them."""
    from pyspark.sql import functions as F

    return df.select("*", F.col("_metadata.file_path").alias("_source_file"),
                     F.current_timestamp().alias("_load_timestamp"),
                     F.lit(str(uuid.uuid4())).alias("_batch_id"))


def run(spark, task, a):
    from pyspark.sql import functions as F

    if task == "append_parquet":
        with_audit(spark.read.parquet(a["raw"])).write.format("delta").save(a["out"])
    elif task == "append_csv":
        # Read as RFC 4180, as the loader reads csv on Spark (and DuckDB by default): a doubled
        # quote escapes a quote, a line break inside quotes stays in its value.
        df = (spark.read.option("header", True).option("inferSchema", True)
              .option("escape", '"').option("multiLine", True).csv(a["raw"]))
        with_audit(df).write.format("delta").save(a["out"])
    elif task == "append_csv_lines":
        # The same files known to hold a row per line (the loader's `multi_line: false`).
        df = (spark.read.option("header", True).option("inferSchema", True)
              .option("escape", '"').option("mode", "FAILFAST").csv(a["raw"]))
        with_audit(df).write.format("delta").save(a["out"])
    elif task in ("setup_upsert", "setup_scd2"):
        df = spark.read.parquet(a["dim"])
        if task == "setup_scd2":
            df = (df.withColumn("effective_date", F.col(SEQ))
                  .withColumn("end_date", F.lit(None).cast("timestamp"))
                  .withColumn("is_current", F.lit(True)))
        df.write.format("delta").save(a["out"])
    elif task in ("upsert", "scd2"):
        spark.read.parquet(a["batch"]).createOrReplaceTempView("batch")
        spark.sql(spark_upsert_sql(a["out"]) if task == "upsert" else spark_scd2_sql(a["out"]))
    else:
        raise SystemExit(f"unknown task {task}")


def main():
    from pyspark.sql import SparkSession

    remote, task = sys.argv[1], sys.argv[2]
    args = dict(kv.split("=", 1) for kv in sys.argv[3:])
    t = time.perf_counter()
    spark = SparkSession.builder.remote(remote).getOrCreate()
    if spark.version.startswith("3."):  # DL_SPARK_SERVER_FLAVOR=3.5
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "spark_connect"))
        from connect_worker import speak_spark35

        speak_spark35()
    spark.sql("SELECT 1").collect()
    connect = time.perf_counter() - t
    t = time.perf_counter()
    run(spark, task, args)
    print(json.dumps({"task": task, "seconds": time.perf_counter() - t,
                      "connect_seconds": connect}))


if __name__ == "__main__":
    main()
