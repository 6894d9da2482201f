"""Data for bench/merge_bench.py: a dimension of `rows` keys (20 columns: key, sequence, op,
17 tracked columns of mixed types, some NULL) as parquet files, and one change batch."""
import duckdb

# One row per key i, a pure function of i; `seq` is the row's sequence value (updated_at).
ROW = """
    i::BIGINT AS id, {seq} AS updated_at, 'I' AS op,
    'name ' || i AS name, 'user' || i || '@example.com' AS email,
    (i % 9973) || ' Main Street' AS address, 'city ' || (i % 1000) AS city,
    ['DE', 'FR', 'US', 'GB', 'NL', 'ES', 'IT', 'PL'][(i % 8) + 1] AS country,
    CASE WHEN i % 10 = 0 THEN NULL ELSE '+49 ' || (100000 + i % 900000) END AS phone,
    (18 + i % 70)::INTEGER AS age, (i % 1000)::INTEGER AS score,
    (i * 7 % 100000)::BIGINT AS loyalty_points, ((i % 100000) / 100)::DECIMAL(18, 2) AS balance,
    CASE WHEN i % 7 = 0 THEN NULL ELSE ((i % 50) * 1000)::DECIMAL(18, 2) END AS credit_limit,
    ((i % 30) / 100)::DOUBLE AS discount, ((i % 50) / 10)::DOUBLE AS rating,
    DATE '1950-01-01' + (i % 20000)::INTEGER AS birth_date,
    DATE '2015-01-01' + (i % 3000)::INTEGER AS signup_date,
    TIMESTAMPTZ '2023-01-01 00:00:00+00' + to_seconds(i % 31536000) AS last_login,
    i % 3 <> 0 AS is_active
"""
# Dimension versions lie in the first half of 2024; the batch's changes are newer.
DIM_SEQ = "TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds((i * 37) % 15552000)"
NEW_SEQ = "TIMESTAMPTZ '2024-09-01 00:00:00+00' + to_seconds(i % 86400)"


def generate(work, rows, batch, files):
    """Write work/dim/*.parquet and work/batch/batch.parquet; return the batch's composition."""
    counts = {"changed": batch // 2, "new": batch // 10, "deleted": batch // 20,
              "out_of_order": batch // 100}
    counts["unchanged"] = batch - sum(counts.values())
    if batch - counts["new"] > rows:
        raise SystemExit("--batch needs at most --rows existing keys")
    (work / "dim").mkdir()
    (work / "batch").mkdir()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"CREATE TABLE dim AS SELECT {ROW.format(seq=DIM_SEQ)} FROM range({rows}) t(i)")
    per = -(-rows // files)
    for f in range(files):
        con.execute(f"COPY (SELECT * FROM dim WHERE id >= {f * per} AND id < {(f + 1) * per} "
                    f"ORDER BY id) TO '{work}/dim/dim_{f:03}.parquet' (FORMAT parquet)")
    # Existing keys drawn at random; r is a key's rank in that draw, which picks its category.
    con.execute("CREATE TABLE picks AS SELECT id, row_number() OVER (ORDER BY hash(id + 42)) - 1 "
                f"AS r FROM dim QUALIFY r < {batch - counts['new']}")
    c, d, o = counts["changed"], counts["deleted"], counts["out_of_order"]
    seq = NEW_SEQ.replace("i %", "d.id %")
    con.execute(f"""CREATE TABLE batch AS
        SELECT d.* REPLACE ({seq} AS updated_at, 'U' AS op, d.address || ' (moved)' AS address,
               (d.score + 1)::INTEGER AS score, (d.balance + 10)::DECIMAL(18, 2) AS balance,
               d.last_login + INTERVAL 1 DAY AS last_login)
          FROM dim d JOIN picks p USING (id) WHERE r < {c}
        UNION ALL
        SELECT d.* REPLACE ({seq} AS updated_at, 'D' AS op)
          FROM dim d JOIN picks p USING (id) WHERE r >= {c} AND r < {c + d}
        UNION ALL
        SELECT d.* REPLACE (d.updated_at - INTERVAL 1 DAY AS updated_at, 'U' AS op,
               'old ' || d.city AS city)
          FROM dim d JOIN picks p USING (id) WHERE r >= {c + d} AND r < {c + d + o}
        UNION ALL
        SELECT d.* FROM dim d JOIN picks p USING (id) WHERE r >= {c + d + o}
        UNION ALL
        SELECT {ROW.format(seq=NEW_SEQ)} FROM range({rows}, {rows + counts['new']}) t(i)""")
    con.execute(f"COPY (SELECT * FROM batch ORDER BY hash(id + 7)) TO "
                f"'{work}/batch/batch.parquet' (FORMAT parquet)")
    got = con.execute("SELECT count(*), count(DISTINCT id) FROM batch").fetchone()
    assert got == (batch, batch), got
    return counts
