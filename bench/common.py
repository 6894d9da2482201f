"""Shared helpers for the benchmark drivers: timing, and updating docs/benchmarks.md."""
import pathlib
import re
import statistics
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
DOC = ROOT / "docs" / "benchmarks.md"


def timed(fn, reps):
    """Run fn() reps times; return (median, min) seconds."""
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times)


def update_doc(section, markdown):
    """Replace the text between <!-- section:start --> and <!-- section:end --> markers."""
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    start, end = f"<!-- {section}:start -->", f"<!-- {section}:end -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    if start in text:
        text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(text)


def write_large_parquet(raw, n, rows):
    """The large-append input: n parquet files of `rows` rows each (5 columns) under raw."""
    import duckdb

    raw.mkdir(parents=True)
    con = duckdb.connect()
    for i in range(n):
        con.execute(f"COPY (SELECT {i} * {rows} + r AS id, 'customer ' || (r % 100000) AS name, "
                    f"(r % 10000) / 100.0 AS amount, TIMESTAMP '2024-01-01' + "
                    f"INTERVAL (r) SECOND AS ts, r % 7 AS kind FROM range({rows}) t(r)) "
                    f"TO '{raw}/part{i:03}.parquet' (FORMAT parquet)")
