#!/usr/bin/env python3
"""Orderly against PostgreSQL's own limit, side by side in one run (issue 8).

    python3 bench/bench.py [full|quick]      (make bench / make bench-quick)

1. starts a throwaway PostgreSQL (bench/pg.sh, fixed configuration), migrates, loads 1,000 SKUs and 100,000 orders
   (bench/load.sql);
2./4. per endpoint (create, get, list): pgbench with the statements Orderly issues (bench/pgbench/*.sql, prepared,
   as many connections as Orderly's pool), closed loop; Orderly under wrk (bench/wrk/*.lua), closed loop; then both
   at a fixed rate of half of Orderly's peak for that endpoint (pgbench -R; wrk paced by bench/wrk/common.lua), with
   latency measured from the scheduled start (no coordinated omission on either side);
5. RSS of Orderly at idle and its peak under load, start-to-ready time (median of 5 starts), image size;
6. appends to bench/RESULTS.md and prints the BENCH line (medians over the rounds).

Topology (BENCH_TOPOLOGY): `split` (default) gives PostgreSQL the first half of the CPUs and the client side the
rest, in both measurements: pgbench there, or Orderly and wrk there. That is the shape of production, where the
database has a machine of its own, and it makes "PostgreSQL's own limit" the limit of a fixed share of the machine,
the same for both. `shared` lets everything float over all CPUs, so the load generator and the service compete with
the database (the figures before 2026-11-28 06:00 were taken that way).

PgBouncer (BENCH_PGBOUNCER=1): a second Orderly runs through PgBouncer in transaction pooling mode
(scripts/pgbouncer-test.sh, ORDERLY_DB_TRANSACTION_POOLER=true) and each phase measures it right after the direct
one, so the BENCH line also gives Orderly-through-PgBouncer / Orderly-direct from the same run (pooler_*_ratio).
PgBouncer runs on the client side's CPUs, beside Orderly, as a sidecar or a node-local pooler would.

Environment: ORDERLY_BIN (default: cargo build --release, target/release/orderly), ORDERLY_DB_MAX_CONNECTIONS
(pool size, default 10 as in Orderly's config), BENCH_PG_PORT (55450), BENCH_API_PORT (38471: the API, the next
port admin, and the two after for the PgBouncer instance), BENCH_PGBOUNCER_PORT (56450), BENCH_ROUNDS,
BENCH_TOPOLOGY (split), BENCH_PGBOUNCER (off).
"""
import os, platform, re, shutil, statistics, subprocess, sys, tempfile, threading, time, urllib.request

# bench/scale.py imports this file for its helpers; run as a script, the first argument is the mode.
MODE = sys.argv[1] if __name__ == "__main__" and len(sys.argv) > 1 else "full"
DUR, ROUNDS, WARM = {"full": (20, 3, 3), "quick": (6, 1, 2)}[MODE]
ROUNDS = int(os.environ.get("BENCH_ROUNDS", ROUNDS))
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
POOL = int(os.environ.get("ORDERLY_DB_MAX_CONNECTIONS", "10"))
PG_PORT = os.environ.get("BENCH_PG_PORT", "55450")
API_PORT = int(os.environ.get("BENCH_API_PORT", "38471"))
DB = f"postgres://postgres@127.0.0.1:{PG_PORT}/postgres"
API = f"http://127.0.0.1:{API_PORT}"
PACED_CONNS = POOL  # fixed rate: as many connections as pgbench has clients, one per wrk thread
TOPOLOGY = os.environ.get("BENCH_TOPOLOGY", "split")
POOLER = os.environ.get("BENCH_PGBOUNCER", "") not in ("", "0")
POOLER_PORT = os.environ.get("BENCH_PGBOUNCER_PORT", "56450")
POOLER_API = f"http://127.0.0.1:{API_PORT + 2}"
POOLER_DIR = f"/tmp/orderly-bench-pgbouncer-{POOLER_PORT}"
CPUS = sorted(os.sched_getaffinity(0))
if TOPOLOGY == "split" and len(CPUS) >= 2:
    DB_CPUS, APP_CPUS = CPUS[: len(CPUS) // 2], CPUS[len(CPUS) // 2:]
else:
    TOPOLOGY, DB_CPUS, APP_CPUS = "shared", CPUS, CPUS
# The values Orderly binds as parameters in a create, passed to pgbench as variables (bench/pgbench/create.vars).
CREATE_VARS = [f"-D{line.rstrip(chr(10))}" for line in open(os.path.join(BENCH, "pgbench", "create.vars"), encoding="utf-8")
               if line.strip() and not line.startswith("#")]
ENV = dict(os.environ, ORDERLY_DATABASE_URL=DB, ORDERLY_JWT_SECRET="bench-secret-0123456789abcdef0123456789abcdef",
           ORDERLY_LISTEN=f"127.0.0.1:{API_PORT}", ORDERLY_ADMIN_LISTEN=f"127.0.0.1:{API_PORT + 1}",
           ORDERLY_MIGRATE_ON_START="false", ORDERLY_DB_MAX_CONNECTIONS=str(POOL), BENCH_DIR=BENCH,
           # One staff token is the whole load: measure the service, not its per-principal limit. The open-orders
           # cap stays on (its per-customer lock and count are part of placing) but so high that it never refuses
           # the benchmark's 10,000 customers' pending card orders.
           ORDERLY_RATE_LIMIT_STAFF_PER_SEC="0", ORDERLY_MAX_OPEN_UNPAID_ORDERS_PER_CUSTOMER="1000000")


def on(cpus, cmd):
    """`cmd` pinned to `cpus` (children inherit the affinity: PostgreSQL's backends, wrk's threads)."""
    return ["taskset", "-c", ",".join(map(str, cpus)), *cmd]


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=isinstance(cmd, str), check=True, text=True, capture_output=True, cwd=ROOT,
                          env=kw.pop("env", ENV), **kw).stdout


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def binary():
    if os.environ.get("ORDERLY_BIN"):
        return os.environ["ORDERLY_BIN"]
    log("cargo build --release")
    subprocess.run(["cargo", "build", "--release", "--locked", "--quiet"], check=True, cwd=ROOT)
    return os.path.join(ROOT, "target/release/orderly")


def rss_kb(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(rf"{field}:\s+(\d+)", f.read()).group(1))


def require_free_ports():
    """Stops at once, naming the port, when another program holds one the benchmark needs."""
    ports = {"BENCH_PG_PORT": int(PG_PORT), "BENCH_API_PORT": API_PORT, "BENCH_API_PORT+1": API_PORT + 1}
    if POOLER:
        ports.update({"BENCH_API_PORT+2": API_PORT + 2, "BENCH_API_PORT+3": API_PORT + 3,
                      "BENCH_PGBOUNCER_PORT": int(POOLER_PORT)})
    for name, port in ports.items():
        out = subprocess.run(["ss", "-Htlnp", f"sport = :{port}"], capture_output=True, text=True).stdout.strip()
        if out:
            holder = re.search(r'users:\(\("([^"]+)",pid=(\d+)', out)
            by = f" by {holder.group(1)} (pid {holder.group(2)})" if holder else ""
            raise SystemExit(f"bench: port {port} ({name}) is already in use{by}; stop that program or set {name}")


def ready(api=API, timeout=0.2):
    admin = int(api.rsplit(":", 1)[1]) + 1
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{admin}/readyz", timeout=timeout) as r:
            return r.status == 200
    except Exception:
        return False


def start_orderly(bin_, env=None, api=API):
    t0 = time.monotonic()
    # Request logs (stdout) are discarded; anything on stderr (a panic) is kept.
    with open(os.path.join(tempfile.gettempdir(), "bench-orderly.stderr"), "ab") as err:
        p = subprocess.Popen(on(APP_CPUS, [bin_, "serve"]), env=env or ENV, stdout=subprocess.DEVNULL, stderr=err)
    while not ready(api=api):
        if p.poll() is not None or time.monotonic() - t0 > 30:
            raise SystemExit("orderly did not become ready")
        time.sleep(0.001)
    return p, (time.monotonic() - t0) * 1000


def stop(p):
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()


def pgbench(script, rate=None):
    cmd = on(APP_CPUS, ["pgbench", "-n", "-M", "prepared", "-c", str(POOL), "-j", "2", "-T", str(DUR),
                        *(CREATE_VARS if script == "create" else []), "-f", f"bench/pgbench/{script}.sql"])
    logdir = tempfile.mkdtemp(prefix="bench-pgb-")
    if rate:
        cmd += ["-R", f"{rate:.1f}", "--log", "--log-prefix", f"{logdir}/tx"]
    out = sh(cmd + [DB])
    tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
    failed = int(re.search(r"number of failed transactions: (\d+)", out).group(1))
    res = {"rps": tps, "bad": failed}
    if rate:  # per-transaction log: column 3 is the latency in us, from the scheduled start under -R
        lats = sorted(int(line.split()[2]) / 1000 for fn in os.listdir(logdir) for line in open(f"{logdir}/{fn}"))
        res.update(p50=pct(lats, 0.50), p99=pct(lats, 0.99), p999=pct(lats, 0.999))
    shutil.rmtree(logdir)
    return res


def pct(xs, p):
    return xs[max(0, int(len(xs) * p + 0.999999) - 1)]


def wrk(script, token, rate=None, dur=DUR, api=API, extra=None):
    env = dict(ENV, BENCH_TOKEN=token, BENCH_NONCE=str(time.time_ns() % 10**9), **(extra or {}))
    if rate:
        env.update(BENCH_RATE=f"{rate:.1f}", BENCH_CONNS=str(PACED_CONNS))
        shape = ["-t", str(PACED_CONNS), "-c", str(PACED_CONNS)]
    else:
        shape = ["-t", "2", "-c", str(POOL * 4)]
    out = sh(on(APP_CPUS, ["wrk", *shape, "-d", f"{dur}s", "--timeout", "10s", "-s", f"bench/wrk/{script}.lua", api]), env=env)
    m = dict(re.findall(r"(\w+)=([\d.]+)", out.split("WRK", 1)[1]))
    return {"rps": float(m["rps"]), "p50": float(m["p50_ms"]), "p99": float(m["p99_ms"]), "p999": float(m["p999_ms"]),
            "bad": int(m["bad_status"]) + int(m["socket_errors"])}


def settle(db=DB):
    """Before each measured phase, vacuum and checkpoint, so that no phase (pgbench's or Orderly's) pays for the dead
    rows and dirty pages of the one before."""
    sh(["psql", "-q", db, "-c", "VACUUM ANALYZE", "-c", "CHECKPOINT"])


class RssSampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.on = pid, 0, False

    def run(self):
        while True:
            if self.on:
                self.peak = max(self.peak, rss_kb(self.pid))
            time.sleep(0.2)


def start_pooled(bin_):
    """PgBouncer in front of the benchmark's PostgreSQL, and a second Orderly through it (BENCH_PGBOUNCER)."""
    env = dict(ENV, ORDERLY_TEST_PGBOUNCER_PORT=POOLER_PORT, ORDERLY_TEST_PGBOUNCER_DIR=POOLER_DIR)
    base = sh(on(APP_CPUS, ["scripts/pgbouncer-test.sh", "start", PG_PORT]), env=env).strip()
    env = dict(ENV, ORDERLY_DATABASE_URL=f"{base}/postgres", ORDERLY_DB_TRANSACTION_POOLER="true",
               ORDERLY_LISTEN=f"127.0.0.1:{API_PORT + 2}", ORDERLY_ADMIN_LISTEN=f"127.0.0.1:{API_PORT + 3}")
    p, _ = start_orderly(bin_, env, POOLER_API)
    return p


def stop_pooled(p):
    stop(p)
    sh(["scripts/pgbouncer-test.sh", "stop"], env=dict(ENV, ORDERLY_TEST_PGBOUNCER_DIR=POOLER_DIR))


def main():
    require_free_ports()
    bin_ = binary()
    log(f"PostgreSQL on {PG_PORT}, load")
    sh(on(DB_CPUS, ["bench/pg.sh", "start"]), env=dict(ENV, BENCH_PG_PORT=PG_PORT))
    pooled = None
    try:
        sh([bin_, "migrate"])
        sh(["psql", "-q", DB, "-f", "bench/load.sql"])
        sh([bin_, "migrate"])  # seals the loaded events into their hash chains
        sh(["psql", "-q", DB, "-c", "CHECKPOINT"])
        token = sh([bin_, "token", "--sub", "ops-1", "--scope", "orders:read orders:write catalog:write stock:write"]).split()[-1]
        ready_ms = []
        for _ in range(5):
            p, ms = start_orderly(bin_)
            ready_ms.append(ms)
            stop(p)
        p, _ = start_orderly(bin_)
        if POOLER:
            pooled = start_pooled(bin_)
        time.sleep(1)
        idle_mb = rss_kb(p.pid) / 1024
        sampler = RssSampler(p.pid)
        sampler.start()
        rows = []
        try:
            for rnd in range(1, ROUNDS + 1):
                for ep in ("get", "list", "create"):  # reads first, on the database as loaded (or as the last round left it)
                    log(f"round {rnd}: {ep}")
                    settle()
                    pg_peak = pgbench(ep)
                    settle()
                    wrk(ep, token, dur=WARM)  # warm: pool connections, statement caches
                    sampler.on = True
                    o_peak = wrk(ep, token)
                    half = o_peak["rps"] / 2
                    settle()
                    o_paced = wrk(ep, token, rate=half)
                    sampler.on = False
                    settle()
                    pg_paced = pgbench(ep, rate=half)
                    b_peak = b_paced = None
                    if pooled:
                        settle()
                        wrk(ep, token, dur=WARM, api=POOLER_API)
                        b_peak = wrk(ep, token, api=POOLER_API)
                        settle()
                        b_paced = wrk(ep, token, rate=half, api=POOLER_API)
                    if p.poll() is not None:
                        raise SystemExit(f"orderly exited with {p.returncode} during {ep}; see "
                                         f"{tempfile.gettempdir()}/bench-orderly.stderr")
                    rows.append({"round": rnd, "ep": ep, "pg": pg_peak, "o": o_peak, "half": half, "pgp": pg_paced, "op": o_paced,
                                 "b": b_peak, "bp": b_paced})
        finally:
            rss_hwm = rss_kb(p.pid, "VmHWM") / 1024
            stop(p)
    finally:
        if pooled:
            stop_pooled(pooled)
        sh(["bench/pg.sh", "stop"], env=dict(ENV, BENCH_PG_PORT=PG_PORT))
    report(rows, statistics.median(ready_ms), ready_ms, idle_mb, sampler.peak / 1024, rss_hwm)


def report(rows, ready_med, ready_all, idle_mb, load_mb, hwm_mb):
    def per(ep, f):
        return [f(r) for r in rows if r["ep"] == ep]
    ratio = {ep: per(ep, lambda r: r["o"]["rps"] / r["pg"]["rps"]) for ep in ("create", "get", "list")}
    p99x = per("create", lambda r: r["op"]["p99"] / r["pgp"]["p99"])
    med = statistics.median
    try:
        image = "%.1f MB" % (int(sh("docker image inspect orderly:dev --format '{{.Size}}'")) / 1e6)
    except Exception:
        image = "n/a (no orderly:dev image)"
    bench = ("BENCH create_tps=%.0f pgbench_create_tps=%.0f create_ratio=%.2f get_ratio=%.2f list_ratio=%.2f "
             "p99_ms=%.1f rss_mb=%.1f ready_ms=%.0f") % (
        med(per("create", lambda r: r["o"]["rps"])), med(per("create", lambda r: r["pg"]["rps"])),
        med(ratio["create"]), med(ratio["get"]), med(ratio["list"]), med(per("create", lambda r: r["op"]["p99"])),
        load_mb, ready_med)
    pooled = {ep: per(ep, lambda r: r["b"]["rps"] / r["o"]["rps"]) for ep in ("create", "get", "list")} if POOLER else None
    if pooled:
        bench += " pooler_create_ratio=%.2f pooler_get_ratio=%.2f pooler_list_ratio=%.2f pooler_p99_ms=%.1f" % (
            med(pooled["create"]), med(pooled["get"]), med(pooled["list"]),
            med(per("create", lambda r: r["bp"]["p99"])))
    commit = sh("git rev-parse --short HEAD").strip() + (" (dirty)" if sh("git status --porcelain -- src Cargo.lock").strip() else "")
    cpu = re.search(r"model name\s*:\s*(.*)", open("/proc/cpuinfo").read()).group(1)
    mem = int(re.search(r"MemTotal:\s+(\d+)", open("/proc/meminfo").read()).group(1)) / 2**20
    lines = [f"\n## {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: `python3 bench/bench.py {MODE}`\n",
             f"- machine: {os.cpu_count()} CPUs ({cpu}), {mem:.0f} GiB, Linux {platform.release()}, shared with other jobs",
             f"- commit: {commit}; binary: {os.environ.get('ORDERLY_BIN', 'target/release/orderly (built now)')}; "
             f"pool/pgbench connections: {POOL}; {ROUNDS} round(s) of {DUR} s per phase; "
             f"topology: {TOPOLOGY} (PostgreSQL on CPU {','.join(map(str, DB_CPUS))}, pgbench or Orderly + wrk on CPU "
             f"{','.join(map(str, APP_CPUS))}); "
             f"peak: wrk -t2 -c{POOL * 4}, pgbench -c{POOL} -j2 -M prepared; fixed rate: wrk -t{PACED_CONNS} -c{PACED_CONNS} paced, pgbench -R",
             f"- {bench}",
             f"- ratios per round: create {fmt(ratio['create'])}, get {fmt(ratio['get'])}, list {fmt(ratio['list'])}; "
             f"create p99 at half peak, Orderly/pgbench: {fmt(p99x)}",
             *([f"- through PgBouncer (transaction mode, on the client CPUs), Orderly req/s over Orderly direct per round: "
                f"create {fmt(pooled['create'])}, get {fmt(pooled['get'])}, list {fmt(pooled['list'])}; create p99 at "
                f"the same half-peak rate: {fmt(per('create', lambda r: r['bp']['p99']))} ms"] if pooled else []),
             f"- RSS idle {idle_mb:.1f} MB, peak under load {load_mb:.1f} MB (VmHWM {hwm_mb:.1f} MB); "
             f"ready after start: {', '.join('%.0f' % x for x in ready_all)} ms; image orderly:dev {image}\n",
             "| round | endpoint | pgbench req/s | Orderly req/s | ratio | rate (half peak) | pgbench p50/p99 ms | Orderly p50/p99 ms | errors pg/O |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append("| %d | %s | %.0f | %.0f | %.2f | %.0f | %.1f / %.1f | %.1f / %.1f | %d / %d |" % (
            r["round"], r["ep"], r["pg"]["rps"], r["o"]["rps"], r["o"]["rps"] / r["pg"]["rps"], r["half"],
            r["pgp"]["p50"], r["pgp"]["p99"], r["op"]["p50"], r["op"]["p99"],
            r["pg"]["bad"] + r["pgp"]["bad"], r["o"]["bad"] + r["op"]["bad"]))
    with open(os.path.join(BENCH, "RESULTS.md"), "a") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines[1:]), file=sys.stderr)
    print(bench)


def fmt(xs):
    return " / ".join("%.2f" % x for x in xs)


if __name__ == "__main__":
    main()
