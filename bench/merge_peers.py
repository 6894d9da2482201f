"""Peer side of bench/merge_bench.py: SCD2 and upsert with Spark + delta-spark and with delta-rs.

Run by the driver in its own process (so its peak RSS can be sampled alone):

    merge_peers.py {spark|spark_dv|deltars} --dim DIR --batch DIR TASK=TABLE_PATH [TASK=TABLE_PATH ...]

TASK is setup_scd2 / setup_upsert (build the table from the dimension files) or scd2 / upsert
(apply the batch to an existing table). One JSON line per task on stdout: {"task", "seconds"};
Spark also reports "jvm_start" (session start, never part of a task's time).
"""
import argparse
import glob
import json
import sys
import time

KEY = "id"
SEQ = "updated_at"
TRACKED = ["name", "email", "address", "city", "country", "phone", "age", "score",
           "loyalty_points", "balance", "credit_limit", "discount", "rating", "birth_date",
           "signup_date", "last_login", "is_active"]
DATA = [KEY, SEQ, "op"] + TRACKED  # the 20 source columns
SCD2_COLS = ["effective_date", "end_date", "is_current"]


def changed(a, b):
    """SQL: some tracked column of a differs from b's, NULL-safe (Spark and DataFusion both)."""
    return "(" + " OR ".join(f"({a}.{c} IS DISTINCT FROM {b}.{c})" for c in TRACKED) + ")"


# --------------------------------------------------------------------------------------------
# Spark + delta-spark
# --------------------------------------------------------------------------------------------


def spark_session():
    from delta import configure_spark_with_delta_pip
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master("local[2]")
        .appName("data_loader-merge-bench")
        .config("spark.driver.memory", "4g")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        # Two cores: 200 shuffle partitions would only add task overhead (AQE coalesces anyway).
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog",
                "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.databricks.delta.snapshotPartitions", "2")
    )
    spark = configure_spark_with_delta_pip(builder).getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def spark_setup(spark, dim, path, scd2, dv=False):
    from pyspark.sql import functions as F

    df = spark.read.parquet(*sorted(glob.glob(f"{dim}/*.parquet")))
    if scd2:
        df = (df.withColumn("effective_date", F.col(SEQ))
              .withColumn("end_date", F.lit(None).cast("timestamp"))
              .withColumn("is_current", F.lit(True)))
    df.write.format("delta").save(path)
    if dv:  # MERGE then marks changed rows deleted instead of rewriting their files
        spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES "
                  "('delta.enableDeletionVectors' = 'true')")


def spark_scd2_sql(path):
    """The staged-updates MERGE (Delta docs' SCD2 example) as the original loader would run it.

    Rows keyed by merge_key close the matching current version (a tracked change or a delete,
    newer than the current version); rows with a NULL merge_key never match and insert the new
    version of a changed key; new keys match nothing and insert. Changes not newer than the
    current version (re-deliveries, out-of-order rows) do nothing: MERGE cannot place them.
    """
    cols = ", ".join(DATA + SCD2_COLS)
    vals = ", ".join([f"s.{c}" for c in DATA] + [f"s.{SEQ}", "NULL", "true"])
    return f"""
MERGE INTO delta.`{path}` t
USING (
  SELECT s.{KEY} AS merge_key, s.* FROM batch s
  UNION ALL
  SELECT NULL AS merge_key, s.* FROM batch s
  JOIN delta.`{path}` c ON s.{KEY} = c.{KEY} AND c.is_current
  WHERE s.op <> 'D' AND s.{SEQ} > c.{SEQ} AND {changed('s', 'c')}
) s
ON t.{KEY} = s.merge_key AND t.is_current
WHEN MATCHED AND s.{SEQ} > t.{SEQ} AND (s.op = 'D' OR {changed('s', 't')}) THEN
  UPDATE SET is_current = false, end_date = s.{SEQ}
WHEN NOT MATCHED AND s.op <> 'D' THEN
  INSERT ({cols}) VALUES ({vals})
"""


def spark_upsert_sql(path):
    return f"""
MERGE INTO delta.`{path}` t
USING batch s
ON t.{KEY} = s.{KEY}
WHEN MATCHED AND s.op = 'D' THEN DELETE
WHEN MATCHED THEN UPDATE SET *
WHEN NOT MATCHED AND s.op <> 'D' THEN INSERT *
"""


def run_spark(args, tasks):
    t = time.perf_counter()
    spark = spark_session()
    spark.range(1).count()  # the JVM and the session are up
    emit({"task": "jvm_start", "seconds": time.perf_counter() - t})
    for task, path in tasks:
        t = time.perf_counter()
        if task.startswith("setup_"):
            spark_setup(spark, args.dim, path, task == "setup_scd2", args.system == "spark_dv")
        else:
            spark.read.parquet(*sorted(glob.glob(f"{args.batch}/*.parquet"))) \
                .createOrReplaceTempView("batch")
            sql = spark_scd2_sql(path) if task == "scd2" else spark_upsert_sql(path)
            spark.sql(sql)
        emit({"task": task, "seconds": time.perf_counter() - t})
    spark.stop()


# --------------------------------------------------------------------------------------------
# delta-rs
# --------------------------------------------------------------------------------------------


def rs_setup(dim, path, scd2):
    import pyarrow as pa
    import pyarrow.dataset as ds
    from deltalake import write_deltalake

    table = ds.dataset(sorted(glob.glob(f"{dim}/*.parquet")), format="parquet").to_table()
    if scd2:
        seq = table.column(SEQ)
        table = (table.append_column("effective_date", seq)
                 .append_column("end_date", pa.nulls(len(table), seq.type))
                 .append_column("is_current", pa.repeat(pa.scalar(True), len(table))))
    write_deltalake(path, table)


def null_safe_differs(a, b):
    import pyarrow.compute as pc

    ne = pc.fill_null(pc.not_equal(a, b), False)
    return pc.or_(ne, pc.xor(pc.is_null(a), pc.is_null(b)))


def rs_scd2(batch_dir, path):
    """Staged union (Delta docs' SCD2 pattern) through DeltaTable.merge, one commit.

    The new versions of changed keys are found by joining the batch with the current rows
    (pyarrow), then staged with a NULL merge_key so that they never match and get inserted.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds
    from deltalake import DeltaTable

    batch = ds.dataset(sorted(glob.glob(f"{batch_dir}/*.parquet")), format="parquet").to_table()
    dt = DeltaTable(path)
    current = dt.to_pyarrow_dataset().to_table(
        columns=[KEY, SEQ] + TRACKED,
        filter=(pc.field("is_current") == True) & pc.field(KEY).isin(batch.column(KEY)))  # noqa: E712
    cur = current.rename_columns([f"c_{c}" for c in current.column_names])
    joined = batch.join(cur, KEY, f"c_{KEY}", join_type="inner")
    mask = pc.and_(pc.not_equal(joined.column("op"), "D"),
                   pc.greater(joined.column(SEQ), joined.column(f"c_{SEQ}")))
    differs = null_safe_differs(joined.column(TRACKED[0]), joined.column(f"c_{TRACKED[0]}"))
    for c in TRACKED[1:]:
        differs = pc.or_(differs, null_safe_differs(joined.column(c), joined.column(f"c_{c}")))
    new_versions = joined.filter(pc.and_(mask, differs)).select(batch.column_names)
    key_type = batch.schema.field(KEY).type
    staged = pa.concat_tables([
        batch.add_column(0, "merge_key", batch.column(KEY)),
        new_versions.add_column(0, "merge_key", pa.nulls(len(new_versions), key_type)),
    ])
    inserts = {c: f"s.{c}" for c in DATA}
    inserts.update({"effective_date": f"s.{SEQ}", "is_current": "true"})
    (dt.merge(staged, f"t.{KEY} = s.merge_key AND t.is_current = true",
              source_alias="s", target_alias="t")
     .when_matched_update({"is_current": "false", "end_date": f"s.{SEQ}"},
                          predicate=f"s.{SEQ} > t.{SEQ} AND (s.op = 'D' OR {changed('s', 't')})")
     .when_not_matched_insert(inserts, predicate="s.op <> 'D'")
     .execute())


def rs_upsert(batch_dir, path):
    import pyarrow.dataset as ds
    from deltalake import DeltaTable

    batch = ds.dataset(sorted(glob.glob(f"{batch_dir}/*.parquet")), format="parquet").to_table()
    (DeltaTable(path).merge(batch, f"t.{KEY} = s.{KEY}", source_alias="s", target_alias="t")
     .when_matched_delete("s.op = 'D'")
     .when_matched_update_all()
     .when_not_matched_insert_all("s.op <> 'D'")
     .execute())


def run_deltars(args, tasks):
    # Imports are not part of any task's time (Spark's session start is not either).
    import deltalake  # noqa: F401
    import pyarrow.compute  # noqa: F401
    import pyarrow.dataset  # noqa: F401

    for task, path in tasks:
        t = time.perf_counter()
        if task.startswith("setup_"):
            rs_setup(args.dim, path, task == "setup_scd2")
        elif task == "scd2":
            rs_scd2(args.batch, path)
        else:
            rs_upsert(args.batch, path)
        emit({"task": task, "seconds": time.perf_counter() - t})


def emit(obj):
    print(json.dumps(obj), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("system", choices=["spark", "spark_dv", "deltars"])
    ap.add_argument("--dim", required=True)
    ap.add_argument("--batch", required=True)
    ap.add_argument("tasks", nargs="+", help="TASK=TABLE_PATH")
    args = ap.parse_args()
    tasks = [tuple(t.split("=", 1)) for t in args.tasks]
    for task, _ in tasks:
        if task not in ("setup_scd2", "setup_upsert", "scd2", "upsert"):
            sys.exit(f"unknown task {task!r}")
    (run_deltars if args.system == "deltars" else run_spark)(args, tasks)


if __name__ == "__main__":
    main()
