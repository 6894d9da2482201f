"""The loader on object storage (issue 13): sources, table, tracker and checkpoints on a local
S3 server (versitygw on loopback), peers writing to the same server in the same run.

- large append: N parquet files of M rows loaded by `data_loader run` vs DuckDB's bare
  `COPY (SELECT * FROM read_parquet('s3://...')) TO 's3://...' (FORMAT parquet)` (python
  duckdb + the httpfs extension wheel) vs delta-rs `write_deltalake` of the same files
  (goal: within 1.3x of the COPY, faster than delta-rs);
- small files: N csv files of 100 rows, files/s including listing and tracking (goal >= 500);
- no-op rerun over the N tracked files (goal < 2 s);
- requests: one more run of each case through a counting loopback proxy (every HTTP request
  by method and key), split into ours (the run's metrics, `storage_requests`) and DuckDB's
  data-file requests, and by where they go (source files, table data, Delta log, tracker...).
  The timed runs go straight to the server; only the counted runs pay for the proxy.

    .venv/bin/python bench/s3_bench.py [--small-files 10000] [--large-files 20]
        [--large-rows 1000000] [--reps 3] [--quick] [--no-doc] [--small-only]

--quick: 1,000 small files, 4 x 200,000 rows, one rep (about a minute). DATA_LOADER_BIN: the
binary to measure (default build/data_loader).
"""
import argparse
import collections
import concurrent.futures
import json
import os
import pathlib
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

import duckdb
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from common import BUILD, ROOT, update_doc, write_large_parquet

sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from object_stores import (S3_ACCESS_KEY, S3_SECRET_KEY, FaultProxy,  # noqa: E402
                           S3Server, duckdb_with)

DL = os.environ.get("DATA_LOADER_BIN") or BUILD / "data_loader"
DB, TABLE = "bench", "t"


class Bench:
    def __init__(self, server: S3Server, work: pathlib.Path):
        self.s3, self.work = server, work
        self.bucket = server.new_bucket()
        self.runs = 0

    def uri(self, key):
        return self.s3.uri(self.bucket, key)

    def upload(self, files: list[pathlib.Path], prefix: str) -> None:
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda f: self.s3.client.upload_file(
                str(f), self.bucket, f"{prefix}/{f.name}"), files))

    def config(self, pattern, fmt, endpoint=None, extra=""):
        """A fresh table, tracker and checkpoints (new prefixes) unless `extra` says so."""
        self.runs += 1
        opts = self.s3.storage_options(endpoint or self.s3.endpoint)
        lines = [f"raw_data_path: {self.uri('raw')}",
                 f"processed_data_path: {self.uri(f'out{self.runs}')}",
                 f"checkpoint_path: {self.uri(f'state{self.runs}')}",
                 "enable_metrics: true", "log_level: WARNING", "max_parallel_jobs: 2",
                 "storage_options:"] + [f"  {k}: \"{v}\"" for k, v in opts.items()] + [
                 "tables:", f"  - table_name: {TABLE}", f"    database_name: {DB}",
                 f"    source_path_pattern: \"{self.uri('raw/' + pattern)}\"",
                 f"    file_format: {fmt}", "    max_files_per_batch: 5000",
                 "    max_bytes_per_batch: 8GiB"]
        path = self.work / f"run{self.runs}.yaml"
        path.write_text("\n".join(lines) + "\n" + extra)
        return path

    def with_endpoint(self, cfg: pathlib.Path, endpoint: str) -> pathlib.Path:
        out = cfg.with_name(cfg.stem + "_proxy.yaml")
        out.write_text(cfg.read_text().replace(self.s3.endpoint, endpoint))
        return out

    def metrics(self, cfg: pathlib.Path) -> dict:
        """The newest run metrics file of this config's checkpoint_path."""
        state = next(l.split(": ", 1)[1] for l in cfg.read_text().splitlines()
                     if l.startswith("checkpoint_path:"))
        prefix = state.split(f"{self.bucket}/", 1)[1] + "/metrics/"
        keys = sorted(k for k in self.s3.keys(self.bucket, prefix) if k.endswith(".json"))
        body = self.s3.client.get_object(Bucket=self.bucket, Key=keys[-1])["Body"].read()
        return json.loads(body)

    def duck(self, endpoint=None):
        con = duckdb_with("httpfs")
        port = urllib.parse.urlparse(endpoint or self.s3.endpoint).port
        con.execute(f"CREATE OR REPLACE SECRET dl_s3 (TYPE s3, KEY_ID '{S3_ACCESS_KEY}', SECRET "
                    f"'{S3_SECRET_KEY}', ENDPOINT '127.0.0.1:{port}', URL_STYLE 'path', "
                    f"USE_SSL false, REGION 'us-east-1')")
        return con

    def arrow_fs(self):
        return pafs.S3FileSystem(access_key=S3_ACCESS_KEY, secret_key=S3_SECRET_KEY,
                                 endpoint_override=self.s3.endpoint, scheme="http",
                                 region="us-east-1")


def run_loader(cfg) -> float:
    t = time.perf_counter()
    p = subprocess.run([str(DL), "run", "--config", str(cfg)], capture_output=True, text=True)
    took = time.perf_counter() - t
    if p.returncode != 0:
        raise RuntimeError(f"data_loader run failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return took


def median(xs):
    return statistics.median(xs)


def cpu_seconds(server: S3Server) -> float:
    """CPU seconds used so far by this process, its waited-for children (the loader) and the
    S3 server: on a shared machine a steadier measure of the work than wall time."""
    own = sum(getattr(resource.getrusage(who), f) for who in
              (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN) for f in ("ru_utime", "ru_stime"))
    stat = pathlib.Path(f"/proc/{server.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return own + (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


# -- where requests go ----------------------------------------------------------------------

def kind(method: str, path: str) -> str:
    query = urllib.parse.urlparse(path).query
    if method == "GET" and "list-type" in query:
        return "LIST"
    if method == "POST" and "delete" in query:
        return "DELETE (batch)"
    if method == "POST" or (method == "PUT" and "uploadId" in query):
        return "PUT (multipart)"
    return method


def place(bucket: str, path: str) -> str:
    key = urllib.parse.unquote(urllib.parse.urlparse(path).path).split(f"/{bucket}/", 1)[-1]
    query = urllib.parse.urlparse(path).query
    if "prefix=" in query:  # a listing: where it lists
        key = urllib.parse.unquote(urllib.parse.parse_qs(query).get("prefix", [""])[0])
    if key.startswith("raw/"):
        return "source files"
    if "/metadata/file_processing_tracker" in key:
        return "tracker log" if "_delta_log" in key else "tracker data"
    if "_delta_log" in key:
        return "table log"
    if key.startswith("state"):
        return "checkpoints, metrics, run state"
    if key.startswith("out") or key.startswith("duck") or key.startswith("rs"):
        return "table data"
    return "other: " + key[:40]


def counted(bench: Bench, fn) -> tuple[collections.Counter, collections.Counter]:
    """Run fn(proxy endpoint) through a fresh counting proxy: requests by kind and by place."""
    proxy = FaultProxy(bench.s3.port)
    try:
        fn(proxy.endpoint)
        reqs = list(proxy.requests)
    finally:
        proxy.stop()
    kinds = collections.Counter(kind(m, p) for m, p in reqs)
    where = collections.Counter(f"{place(bench.bucket, p)}: {kind(m, p)}" for m, p in reqs)
    return kinds, where


# -- the cases --------------------------------------------------------------------------------

ZSTD_TABLE = "    table_properties:\n      delta.compression.codec: zstd\n"

def large_append(bench: Bench, n, rows, reps):
    local = bench.work / "large"
    write_large_parquet(local, n, rows)
    files = sorted(local.glob("*.parquet"))
    bench.upload(files, "raw/large")
    shutil.rmtree(local)
    src = bench.uri("raw/large/*.parquet")
    out = {"ours": [], "ours_bare": [], "ours_zstd": [], "duck": [], "rs": [], "rs_zstd": []}
    cpu = {k: [] for k in out}  # CPU seconds of each rep, client and server

    def timed(key, fn):
        c = cpu_seconds(bench.s3)
        took = fn()
        cpu[key].append(cpu_seconds(bench.s3) - c)
        out[key].append(took)

    def duck_copy(con, rep):
        t = time.perf_counter()
        con.execute(f"COPY (SELECT * FROM read_parquet('{src}')) TO "
                    f"'{bench.uri(f'duck{rep}/out.parquet')}' (FORMAT parquet)")
        return time.perf_counter() - t

    for rep in range(reps):
        timed("ours", lambda: run_loader(bench.config("large/*.parquet", "parquet")))
        timed("ours_bare", lambda: run_loader(bench.config(
            "large/*.parquet", "parquet", extra="    audit_columns: false\n")))
        timed("ours_zstd", lambda: run_loader(bench.config(
            "large/*.parquet", "parquet", extra=ZSTD_TABLE)))
        con = bench.duck()  # (opened and its extensions loaded outside the measure)
        timed("duck", lambda: duck_copy(con, rep))
        timed("rs", lambda: delta_rs(bench, f"rs{rep}"))
        timed("rs_zstd", lambda: delta_rs(bench, f"rsz{rep}", "ZSTD"))
    out["cpu"] = cpu
    # Requests of one more run of ours and of the COPY, through the counting proxy.
    cfg = bench.config("large/*.parquet", "parquet")
    ours_req = counted(bench, lambda ep: run_loader(bench.with_endpoint(cfg, ep)))
    metrics = bench.metrics(cfg)
    duck_req = counted(bench, lambda ep: bench.duck(ep).execute(
        f"COPY (SELECT * FROM read_parquet('{src}')) TO '{bench.uri('duckc/out.parquet')}' "
        "(FORMAT parquet)"))
    return out, ours_req, metrics, duck_req


def delta_rs(bench: Bench, prefix: str, compression: str = "SNAPPY") -> float:
    from deltalake import WriterProperties, write_deltalake

    t = time.perf_counter()
    data = ds.dataset(f"{bench.bucket}/raw/large/", format="parquet", filesystem=bench.arrow_fs())
    write_deltalake(bench.uri(prefix), data.scanner().to_reader(), mode="append",
                    storage_options=bench.s3.deltalake_options(),
                    writer_properties=WriterProperties(compression=compression))
    return time.perf_counter() - t


def small_files(bench: Bench, n, reps):
    local = bench.work / "small"
    local.mkdir()
    files = []
    for i in range(n):  # plain text: quicker than any writer for 100-row files
        rows = "".join(f"{j},name {j},{j * 1.5},2024-01-{1 + j % 30:02}\n"
                       for j in range(i * 100, i * 100 + 100))
        files.append(local / f"f{i:06}.csv")
        files[-1].write_text("id,name,amount,day\n" + rows)
    bench.upload(files, "raw/small")
    shutil.rmtree(local)
    load, rerun, duck = [], [], []
    for rep in range(reps):
        cfg = bench.config("small/*.csv", "csv")
        load.append(run_loader(cfg))
        rerun.append(run_loader(cfg))
        # The peer: DuckDB reads the same files in one read_csv and writes one Parquet file.
        con = bench.duck()
        t = time.perf_counter()
        con.execute(f"COPY (SELECT * FROM read_csv('{bench.uri('raw/small/*.csv')}')) TO "
                    f"'{bench.uri(f'ducksmall{rep}/out.parquet')}' (FORMAT parquet)")
        duck.append(time.perf_counter() - t)
    cfg = bench.config("small/*.csv", "csv")
    load_req = counted(bench, lambda ep: run_loader(bench.with_endpoint(cfg, ep)))
    load_metrics = bench.metrics(cfg)
    # The no-op rerun through another proxy: same table, tracker and state.
    rerun_req = counted(bench, lambda ep: run_loader(bench.with_endpoint(cfg, ep)))
    rerun_metrics = bench.metrics(cfg)
    return load, rerun, load_req, load_metrics, rerun_req, rerun_metrics, duck


# -- the report -------------------------------------------------------------------------------

def ours_vs_duckdb(kinds: collections.Counter, metrics: dict) -> str:
    """Our client's requests (the run's metrics) and the rest (DuckDB's, through httpfs)."""
    ours = metrics["storage_requests"]
    total = sum(kinds.values())
    return (f"{total:,} in all; ours {ours['total']:,} (LIST {ours['list']:,}, GET "
            f"{ours['get']:,}, HEAD {ours['head']:,}, PUT {ours['put']:,}, DELETE "
            f"{ours['delete']:,}), DuckDB's data-file I/O {total - ours['total']:,}")


def where_table(rows: list[tuple[str, collections.Counter, int]]) -> list[str]:
    places = sorted({p for _, where, _ in rows for p in where})
    md = ["| where: request | " + " | ".join(name for name, _, _ in rows) + " |",
          "|---|" + "---|" * len(rows)]
    for p in places:
        cells = []
        for _, where, files in rows:
            c = where.get(p, 0)
            cells.append(f"{c:,} ({c / files:.2f}/file)" if c and files else f"{c:,}")
        md.append(f"| {p} | " + " | ".join(cells) + " |")
    totals = [f"{sum(w.values()):,} ({sum(w.values()) / f:.2f}/file)" if f else
              f"{sum(w.values()):,}" for _, w, f in rows]
    md.append("| **total** | " + " | ".join(totals) + " |")
    return md


def git_commit():
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain",
                            "--untracked-files=no", "src"],
                           capture_output=True, text=True).stdout.strip()
    return head + (" + uncommitted src changes" if dirty else "")


def large_rows(args, large) -> list[str]:
    out, nl = large[0], args.large_files
    ours, bare = median(out["ours"]), median(out["ours_bare"])
    duck, rs = median(out["duck"]), median(out["rs"])
    zstd, rs_zstd = median(out["ours_zstd"]), median(out["rs_zstd"])
    return [f"| large append: {nl} parquet x {args.large_rows:,} rows, with the 3 audit columns "
            f"(default) | {ours:.2f} | DuckDB COPY S3 -> S3: {duck:.2f}; delta-rs "
            f"write_deltalake S3 -> S3: {rs:.2f} | {ours / duck:.2f}x DuckDB's time, "
            f"{ours / rs:.2f}x delta-rs's time | <= 1.3x DuckDB's time, below delta-rs's time |",
            f"| same, without audit columns (what the peers write) | {bare:.2f} | same | "
            f"{bare / duck:.2f}x DuckDB's time, {bare / rs:.2f}x delta-rs's time | same |",
            f"| with the 3 audit columns, zstd (`delta.compression.codec: zstd`) | {zstd:.2f} | "
            f"delta-rs with zstd: {rs_zstd:.2f} | {zstd / rs_zstd:.2f}x delta-rs's time with zstd, "
            f"{zstd / ours:.2f}x ours with snappy | - |"]


def large_cpu(large) -> list[str]:
    cpu = {k: median(v) for k, v in large[0]["cpu"].items()}
    return ["", "Large append, CPU seconds per run (median; the process and its children plus the "
            f"S3 server, which share the cores): ours {cpu['ours']:.2f}, without audit columns "
            f"{cpu['ours_bare']:.2f}, with zstd {cpu['ours_zstd']:.2f}, DuckDB's COPY "
            f"{cpu['duck']:.2f}, delta-rs {cpu['rs']:.2f} (with zstd {cpu['rs_zstd']:.2f}) "
            f"(ours {cpu['ours'] / cpu['rs']:.2f}x delta-rs's, {cpu['ours'] / cpu['duck']:.2f}x "
            "the COPY's)."]


def report(args, large, small):
    import deltalake

    if small is None:  # --large-only
        reps = "; ".join(f"{k} {', '.join(f'{x:.2f}' for x in v)}"
                         for k, v in large[0].items() if k != "cpu")
        return "\n".join(large_rows(args, large) + large_cpu(large) +
                          ["", "Every rep's seconds: " + reps])
    s_load, s_rerun, (s_kinds, s_where), s_metrics, (r_kinds, r_where), r_metrics, s_duck = small
    n, nl = args.small_files, args.large_files
    load, rerun, duck = median(s_load), median(s_rerun), median(s_duck)
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    md = [f"Measured on commit `{git_commit()}` ({time.strftime('%Y-%m-%d %H:%M', time.gmtime())}"
          f" UTC), {platform.machine()}, {os.cpu_count()} cores, {ram:.0f} GiB RAM; versitygw "
          f"v1.8.0 (posix backend on local disk) on loopback; DuckDB {duckdb.__version__} + "
          f"httpfs wheel, delta-rs (deltalake) {deltalake.__version__}; median of {args.reps} "
          "rep(s), peers in the same run. Everything of ours on S3: sources, table, tracker, "
          "checkpoints and metrics.", "",
          "| case | data_loader (s) | peer (s) | ratio | goal |", "|---|---|---|---|---|"]
    md += large_rows(args, large) if large else []
    md += [f"| {n:,} small csv files x 100 rows (listing, tracking, commits) | {load:.2f} "
           f"({n / load:,.0f} files/s) | DuckDB COPY of read_csv('*.csv') S3 -> S3: {duck:.2f} "
           f"({n / duck:,.0f} files/s) | {load / duck:.2f}x DuckDB | >= 500 files/s |",
           f"| no-op rerun over the {n:,} tracked files | {rerun:.2f} | - | - | < 2 s |"]
    md += large_cpu(large) if large else []
    md += ["", "Requests per run, counted by a loopback proxy in front of the server (one extra run "
           "of each case; every HTTP request, ours and DuckDB's):", ""]
    if large:
        _, (l_kinds, l_where), l_metrics, (d_kinds, d_where) = large
        md.append(f"- large append ({nl} files): {ours_vs_duckdb(l_kinds, l_metrics)}; DuckDB's "
                  f"bare COPY: {sum(d_kinds.values()):,}.")
    md += [f"- {n:,} small files: {ours_vs_duckdb(s_kinds, s_metrics)}.",
           f"- no-op rerun: {ours_vs_duckdb(r_kinds, r_metrics)}.", ""]
    places = [(f"large append ({nl} files)", l_where, nl),
              ("DuckDB COPY (large)", d_where, nl)] if large else []
    md += where_table(places + [(f"{n:,} small files", s_where, n),
                                ("no-op rerun", r_where, n)])
    reps = ([(k, v) for k, v in large[0].items() if k != "cpu"] if large else []) + [
        ("small", s_load), ("small_duck", s_duck), ("rerun", s_rerun)]
    md += ["", "Every rep's seconds: " + "; ".join(
        f"{k} {', '.join(f'{x:.2f}' for x in v)}" for k, v in reps)]
    return "\n".join(md)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--small-files", type=int, default=10_000)
    ap.add_argument("--large-files", type=int, default=20)
    ap.add_argument("--large-rows", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="small sizes, one rep")
    ap.add_argument("--no-doc", action="store_true", help="print only, leave the doc alone")
    ap.add_argument("--small-only", action="store_true",
                    help="only the small-file cases (for iterating; implies --no-doc)")
    ap.add_argument("--large-only", action="store_true",
                    help="only the large append (for iterating; implies --no-doc)")
    args = ap.parse_args()
    if args.quick:
        args.small_files, args.large_files, args.large_rows, args.reps = 1000, 4, 200_000, 1
    work = pathlib.Path(tempfile.mkdtemp(prefix="dl_bench_s3_"))
    server = S3Server()
    try:
        bench = Bench(server, work)
        small = None if args.large_only else small_files(bench, args.small_files, args.reps)
        large = None if args.small_only else large_append(bench, args.large_files,
                                                          args.large_rows, args.reps)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    text = report(args, large, small)
    print(text)
    if not args.no_doc and not args.small_only and not args.large_only:
        update_doc("s3", "## Object storage (S3)\n\nReproduce: `.venv/bin/python bench/s3_bench.py`"
                   " (`--quick`: a smoke run in about a minute)\n\n" + text)


if __name__ == "__main__":
    main()
