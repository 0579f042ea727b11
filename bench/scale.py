#!/usr/bin/env python3
"""Orderly at a million orders, against the same measurements at 100,000, in one run (`make bench-scale`; not a test).

1. One throwaway PostgreSQL (bench/pg.sh, RESULTS.md "Method"), two databases: 100,000 orders (the size of `make
   bench`'s data set) and BENCH_SCALE_ORDERS (1,000,000), both from bench/scale.sql (three lines per order, Arabic
   and English names in the variants people type, phones in three countries, ten years of dates, 10 orders a
   customer). `orderly migrate` then fills their search keys with Orderly's own normaliser (timed: it is what an
   upgrade costs).
2. Per data set, one Orderly (split topology, as bench.py): create, get and list at their peak (wrk closed loop,
   BENCH_SCALE_SECONDS each after a warm-up); then at a fixed BENCH_SCALE_RATE requests/s, get by id and search by
   a name prefix, by a phone in one of its forms and by an order-number fragment (queries drawn from the loaded
   orders), each for its p99; then the CSV export of the newest 100,000 orders (rows/s, and Orderly's peak RSS
   against its idle RSS).
3. The plans of one search of each kind on the large set, with timings and buffers (auto_explain, as EXPLAIN
   (ANALYZE, BUFFERS) would print them), for where the database spends its time.
4. Appends the figures, the goals and the plans to bench/RESULTS.md and prints the BENCH-SCALE line.

Environment: as bench.py (ORDERLY_BIN, BENCH_PG_PORT, BENCH_API_PORT, BENCH_TOPOLOGY), BENCH_SCALE_ORDERS
(1000000), BENCH_SCALE_SECONDS (10), BENCH_SCALE_RATE (100), and BENCH_PG_SHARED_BUFFERS (bench/pg.sh, 512MB):
a million orders are about 3 GB of tables and indexes, six times the default, so the default run measures a
database short of memory and `BENCH_PG_SHARED_BUFFERS=4GB` one sized for its data (docs/scaling.md).
"""
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as b  # noqa: E402  (the shared helpers, topology and settings)

LARGE = int(os.environ.get("BENCH_SCALE_ORDERS", "1000000"))
SETS = [("small", 100_000), ("large", LARGE)]
SECONDS = int(os.environ.get("BENCH_SCALE_SECONDS", "10"))
RATE = float(os.environ.get("BENCH_SCALE_RATE", "100"))
EXPORTED = 100_000
GOALS = {"throughput": 0.9, "search_over_get": 3.0, "search_large_over_small": 1.5, "export_rows_s": 50_000,
         "export_rss": 2.0}


def url(db):
    return b.DB.rsplit("/", 1)[0] + "/" + db


def psql(db, *args):
    return b.sh(["psql", "-qtAX", url(db), *args])


def load(name, orders):
    """Creates and loads one data set; returns the seconds `orderly migrate` took to fill its search keys."""
    db = f"scale_{name}"
    b.sh(["psql", "-q", b.DB, "-c", f"DROP DATABASE IF EXISTS {db}", "-c", f"CREATE DATABASE {db}"])
    env = dict(b.ENV, ORDERLY_DATABASE_URL=url(db))
    b.sh([BIN, "migrate"], env=env)
    b.log(f"{name}: loading {orders:,} orders")
    b.sh(["psql", "-q", url(db), "-v", f"orders={orders}", "-v", f"customers={orders // 10}", "-f", "bench/scale.sql"])
    started = time.monotonic()
    b.sh([BIN, "migrate"], env=env)
    fill = time.monotonic() - started
    b.log(f"{name}: search keys filled in {fill:.0f} s")
    b.settle(url(db))
    return fill


def draw_queries(name, path_of):
    """Files of URL-encoded `q` values that find existing orders: one per kind."""
    db = f"scale_{name}"
    rows = psql(db, "-F", "\t", "-c",
                "SELECT number, ship_to->>'phone', ship_to->>'name' FROM orders TABLESAMPLE SYSTEM (1) LIMIT 2000")
    rng = random.Random(7)
    kinds = {"name": [], "phone": [], "number": []}
    for line in rows.splitlines():
        number, phone, name = line.split("\t")
        # As customer service types it: the first name as the customer said it (the service folds it), and the
        # start of the family name proper (`al-` / `ال` is in most family names, so it is not what tells them apart).
        first, family = name.split()[0], name.split()[-1].split("-")[-1]
        kinds["name"].append(f"{first} {family[:4]}")
        digits = phone.lstrip("+")
        national = digits[3:]
        forms = [phone, "00" + digits, national, f"+{digits[:3]} {national[:4]} {national[4:]}",
                 national.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))]
        kinds["phone"].append(rng.choice(forms))
        kinds["number"].append(number[-7:])
    for kind, queries in kinds.items():
        with open(path_of(kind), "w") as f:
            f.write("\n".join(urllib.parse.quote(q) for q in queries) + "\n")


def sizes(name):
    """How big the data set is on disk, against shared_buffers (bench/pg.sh): what decides whether reads hit memory."""
    got = psql(f"scale_{name}", "-F", "\t", "-c",
               "SELECT pg_relation_size('orders') / 1048576.0, pg_indexes_size('orders') / 1048576.0, "
               "pg_total_relation_size('order_lines') / 1048576.0, "
               "(SELECT avg(pg_column_size(o.*)) FROM orders o TABLESAMPLE SYSTEM (1)), "
               "(SELECT avg(pg_column_size(o.search_tokens)) FROM orders o TABLESAMPLE SYSTEM (1))")
    keys = ("orders_heap_mb", "orders_indexes_mb", "lines_mb", "order_row_bytes", "tokens_bytes")
    return dict(zip(keys, (float(v or 0) for v in got.strip().split("\t"))))


class Rss(threading.Thread):
    """Samples a process's RSS every 50 ms while `on`."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.on = pid, 0, False

    def run(self):
        while True:
            if self.on:
                self.peak = max(self.peak, b.rss_kb(self.pid))
            time.sleep(0.05)


def export(name, token, pid):
    """The newest EXPORTED orders as CSV: (rows per second, peak RSS / idle RSS)."""
    since = psql(f"scale_{name}", "-c",
                 f"SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM orders "
                 f"ORDER BY created_at DESC OFFSET {EXPORTED - 1} LIMIT 1").strip()
    idle = b.rss_kb(pid)
    sampler = Rss(pid)
    sampler.start()
    sampler.on = True
    out = os.path.join(tempfile.gettempdir(), "bench-scale-export.csv")
    started = time.monotonic()
    subprocess.run(["curl", "-sf", "-o", out, "-H", f"Authorization: Bearer {token}",
                    f"{b.API}/v1/orders/export.csv?created_from={urllib.parse.quote(since)}"], check=True)
    seconds = time.monotonic() - started
    sampler.on = False
    with open(out, "rb") as f:
        rows = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b"")) - 1
    os.remove(out)
    if rows != EXPORTED * 3:
        raise SystemExit(f"{name}: the export had {rows} rows, not {EXPORTED * 3}")
    return rows / seconds, max(sampler.peak, idle) / idle, idle / 1024


def blocks(db):
    """The database's shared-buffer hits and reads (from the kernel's page cache or the disk) so far."""
    got = psql(db, "-F", "\t", "-c", f"SELECT blks_hit, blks_read FROM pg_stat_database WHERE datname = '{db}'")
    hit, read = got.strip().split("\t")
    return int(hit), int(read)


def measure(name, orders, token, queries):
    db = f"scale_{name}"
    env = dict(b.ENV, ORDERLY_DATABASE_URL=url(db))
    p, _ = b.start_orderly(BIN, env)
    try:
        extra = {"BENCH_ORDERS": str(orders), "BENCH_CUSTOMERS": str(orders // 10)}
        out = {}
        for ep in ("get", "list", "create"):
            b.log(f"{name}: {ep} at its peak")
            b.settle(url(db))
            b.wrk(ep, token, dur=b.WARM, extra=extra)
            before = blocks(db)
            out[ep] = b.wrk(ep, token, dur=SECONDS, extra=extra)["rps"]
            time.sleep(1.5)  # backends report their block counts when idle, at most once a second
            hit, read = (after - first for after, first in zip(blocks(db), before))
            out[f"{ep}_hit_pct"] = 100.0 * hit / max(1, hit + read)
            out[f"{ep}_reads_per_req"] = read / max(1.0, out[ep] * SECONDS)
        b.settle(url(db))
        b.log(f"{name}: latency at {RATE:.0f} requests/s")
        out["get_p99"] = b.wrk("get", token, rate=RATE, dur=SECONDS, extra=extra)["p99"]
        for kind in ("name", "phone", "number"):
            q = {"BENCH_QUERIES": queries(kind)}
            b.wrk("search", token, dur=b.WARM, extra=q)
            res = b.wrk("search", token, rate=RATE, dur=SECONDS, extra=q)
            if res["bad"]:
                raise SystemExit(f"{name}: {res['bad']} failed searches by {kind}")
            out[f"search_{kind}_p99"] = res["p99"]
        b.log(f"{name}: export of the newest {EXPORTED:,} orders")
        out["export_rows_s"], out["export_rss"], out["idle_mb"] = export(name, token, p.pid)
        return out
    finally:
        b.stop(p)


def explain(name, queries, token):
    """The plans of the statements Orderly sends for one search of each kind, with their timings and buffers: the
    database's auto_explain logs them (the bench cluster's server.log), for where it spends its time."""
    db = f"scale_{name}"
    b.sh(["psql", "-q", url(db),
          "-c", f"ALTER DATABASE {db} SET session_preload_libraries = 'auto_explain'",
          "-c", f"ALTER DATABASE {db} SET auto_explain.log_min_duration = 0",
          "-c", f"ALTER DATABASE {db} SET auto_explain.log_analyze = on",
          "-c", f"ALTER DATABASE {db} SET auto_explain.log_buffers = on"])
    log_file = f"/tmp/orderly-bench-pg-{b.PG_PORT}/server.log"
    start = os.path.getsize(log_file)
    p, _ = b.start_orderly(BIN, dict(b.ENV, ORDERLY_DATABASE_URL=url(db)))
    asked = {}
    try:
        for kind in ("name", "phone", "number"):
            with open(queries(kind)) as f:
                encoded = f.readline().strip()
            asked[kind] = urllib.parse.unquote(encoded)
            b.sh(["curl", "-sf", "-o", "/dev/null", "-H", f"Authorization: Bearer {token}", f"{b.API}/v1/orders?q={encoded}"])
    finally:
        b.stop(p)
        b.sh(["psql", "-q", url(db), "-c", f"ALTER DATABASE {db} RESET ALL"])
    with open(log_file, encoding="utf-8", errors="replace") as f:
        f.seek(start)
        entries = f.read().split("LOG:  duration: ")
    searches = [e for e in entries if "search_tokens @>" in e or "search_phone = ANY" in e]
    return {kind: (asked[kind], "duration: " + plan) for kind, plan in zip(("name", "phone", "number"), searches)}


def main():
    global BIN
    b.require_free_ports()
    BIN = b.binary()
    b.log(f"PostgreSQL on {b.PG_PORT}")
    b.sh(b.on(b.DB_CPUS, ["bench/pg.sh", "start"]), env=dict(b.ENV, BENCH_PG_PORT=b.PG_PORT))
    work = tempfile.mkdtemp(prefix="bench-scale-")
    try:
        fill = {name: load(name, n) for name, n in SETS}
        token = b.sh([BIN, "token", "--sub", "ops-1", "--scope",
                      "orders:read orders:write catalog:write stock:write"]).split()[-1]
        results = {}
        for name, n in SETS:
            path_of = lambda kind, name=name: os.path.join(work, f"{name}-{kind}.txt")  # noqa: E731
            draw_queries(name, path_of)
            results[name] = measure(name, n, token, path_of)
            results[name].update(sizes(name))
        plans = explain("large", lambda kind: os.path.join(work, f"large-{kind}.txt"), token)
    finally:
        b.sh(["bench/pg.sh", "stop"], env=dict(b.ENV, BENCH_PG_PORT=b.PG_PORT))
    report(results, fill, plans)


def report(r, fill, plans):
    small, large = r["small"], r["large"]
    ratio = {ep: large[ep] / small[ep] for ep in ("create", "get", "list")}
    search = {k: (large[f"search_{k}_p99"] / large["get_p99"], large[f"search_{k}_p99"] / small[f"search_{k}_p99"])
              for k in ("name", "phone", "number")}
    g = GOALS
    checks = [
        ("create, get, list throughput at 1M / at 100k", ", ".join(f"{ep} {ratio[ep]:.2f}" for ep in ratio),
         f">= {g['throughput']}", all(v >= g["throughput"] for v in ratio.values())),
        ("search p99 / get-by-id p99 (1M)", ", ".join(f"{k} {v[0]:.2f}x" for k, v in search.items()),
         f"<= {g['search_over_get']}x", all(v[0] <= g["search_over_get"] for v in search.values())),
        ("search p99 at 1M / at 100k", ", ".join(f"{k} {v[1]:.2f}x" for k, v in search.items()),
         f"<= {g['search_large_over_small']}x", all(v[1] <= g["search_large_over_small"] for v in search.values())),
        ("export of 100,000 orders (1M set)", f"{large['export_rows_s']:,.0f} rows/s, peak RSS {large['export_rss']:.2f}x idle",
         f">= {g['export_rows_s']:,} rows/s, < {g['export_rss']}x",
         large["export_rows_s"] >= g["export_rows_s"] and large["export_rss"] < g["export_rss"]),
    ]
    line = ("BENCH-SCALE orders=%d create_ratio=%.2f get_ratio=%.2f list_ratio=%.2f get_p99_ms=%.1f "
            "name_p99_ms=%.1f phone_p99_ms=%.1f number_p99_ms=%.1f name_vs_get=%.2f phone_vs_get=%.2f "
            "number_vs_get=%.2f name_1m_vs_100k=%.2f phone_1m_vs_100k=%.2f number_1m_vs_100k=%.2f "
            "export_rows_s=%.0f export_rss_x=%.2f fill_orders_s=%.0f") % (
        LARGE, ratio["create"], ratio["get"], ratio["list"], large["get_p99"], large["search_name_p99"],
        large["search_phone_p99"], large["search_number_p99"], search["name"][0], search["phone"][0],
        search["number"][0], search["name"][1], search["phone"][1], search["number"][1], large["export_rows_s"],
        large["export_rss"], LARGE / fill["large"])
    commit = b.sh("git rev-parse --short HEAD").strip()
    lines = [f"\n## {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: `python3 bench/scale.py` (make bench-scale)\n",
             f"- commit {commit}; binary {os.environ.get('ORDERLY_BIN', 'target/release/orderly (built now)')}; "
             f"topology {b.TOPOLOGY}; shared_buffers {os.environ.get('BENCH_PG_SHARED_BUFFERS', '512MB')}; "
             f"{SECONDS} s per phase; latency at {RATE:.0f} requests/s (wrk paced, Poisson)",
             f"- {line}",
             f"- `orderly migrate` filled the search keys of {LARGE:,} orders in {fill['large']:.0f} s "
             f"({LARGE / fill['large']:,.0f} orders/s); of 100,000 in {fill['small']:.0f} s",
             "",
             "| figure | measured | goal | met |",
             "|---|---|---|---|",
             *[f"| {what} | {got} | {goal} | {'yes' if ok else 'no'} |" for what, got, goal, ok in checks],
             "",
             "| | 100k | 1M |",
             "|---|---|---|",
             *[f"| {k} | {small[k]:.1f} | {large[k]:.1f} |" for k in
               ("create", "get", "list", "get_p99", "search_name_p99", "search_phone_p99", "search_number_p99",
                "export_rows_s", "export_rss", "idle_mb", "orders_heap_mb", "orders_indexes_mb", "lines_mb",
                "order_row_bytes", "tokens_bytes", "get_hit_pct", "list_hit_pct", "create_hit_pct",
                "get_reads_per_req", "list_reads_per_req", "create_reads_per_req")],
             "",
             "Plans at 1M (auto_explain with analyze and buffers), one search of each kind:",
             ""]
    for kind, (q, plan) in plans.items():
        lines += [f"`q={q}` ({kind}):", "", "```", plan.strip(), "```", ""]
    with open(os.path.join(b.BENCH, "RESULTS.md"), "a") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines[1:]), file=sys.stderr)
    print(line)


if __name__ == "__main__":
    main()
