#!/usr/bin/env python3
"""The legacy import against PostgreSQL's own COPY of the same rows (`make bench-import`; not a test).

    python3 bench/import.py          (BENCH_IMPORT_ORDERS=50000 for a quick run)

1. the release binary: ORDERLY_BIN, else target/release/orderly when it is newer than every source (src/,
   migrations/, Cargo.toml, Cargo.lock), else `cargo build --release --locked` (which waits for the cargo lock);
2. an export of BENCH_IMPORT_ORDERS (default 1,000,000) orders, `scripts/legacy_export.py --no-faults --encoding
   utf-8`, cached under BENCH_IMPORT_CACHE (/tmp/orderly-legacy-export) keyed by its parameters and reused;
3. PostgreSQL (bench/pg.sh, the configuration of RESULTS.md "Method"), a fresh database: `orderly import legacy
   --encoding utf-8` timed (wall clock), under `/usr/bin/time -v` (peak RSS, user + sys), with the progress log
   lines (ORDERLY_LOG_LEVEL=info) timestamped as they arrive to split the run into its phases, and the CPU of
   PostgreSQL (the postmaster's own, its reaped children's, its live children's, from /proc) per phase;
4. the COPY baseline on the same server: the tables the import filled are dumped with `COPY ... TO` (text, the
   format the import sends), the import is run again (6.), the tables are truncated (committed on its own, so that
   wal_level=minimal cannot skip the WAL of the load), checkpointed, and loaded back with `COPY ... FROM` the
   server-side files in one transaction, every index and constraint in place. ratio = COPY s / import s;
5. SQLite: the same export into a fresh file: wall time, orders/s, peak RSS;
6. the rerun: the same import again on the same PostgreSQL database (after VACUUM ANALYZE, CHECKPOINT); it must
   report 0 created, 0 updated;
7. writes bench/import-results.json, appends a section to bench/RESULTS.md, prints the BENCH-IMPORT line.

Topology (BENCH_TOPOLOGY, as bench/bench.py): `split` (default) pins PostgreSQL to the first half of the CPUs and
the importer (and psql) to the other half, so the database has the same share of the machine in the import and in
its own COPY; `shared` lets everything float. The SQLite import is not pinned (its store is in-process).

Environment: ORDERLY_BIN, BENCH_IMPORT_ORDERS (1000000), BENCH_IMPORT_SEED (1), BENCH_IMPORT_CACHE,
BENCH_PG_PORT (55450), BENCH_TOPOLOGY (split), BENCH_IMPORT_BATCH (the importer's hidden --batch-size, default its
own), BENCH_IMPORT_RECORD=0 (do not append to RESULTS.md nor write import-results.json: for development).
"""
import glob, json, os, platform, re, shutil, signal, subprocess, sys, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
GENERATOR = os.path.join(ROOT, "scripts", "legacy_export.py")
ORDERS = int(os.environ.get("BENCH_IMPORT_ORDERS", "1000000"))
SEED = int(os.environ.get("BENCH_IMPORT_SEED", "1"))
CACHE = os.environ.get("BENCH_IMPORT_CACHE", "/tmp/orderly-legacy-export")
PG_PORT = os.environ.get("BENCH_PG_PORT", "55450")
PG_DIR = f"/tmp/orderly-bench-pg-{PG_PORT}"  # bench/pg.sh's data directory
ADMIN_DB = f"postgres://postgres@127.0.0.1:{PG_PORT}/postgres"
DB_NAME = "orderly_import_bench"
DB = f"postgres://postgres@127.0.0.1:{PG_PORT}/{DB_NAME}"
BATCH = os.environ.get("BENCH_IMPORT_BATCH")
RECORD = os.environ.get("BENCH_IMPORT_RECORD", "1") != "0"
LOGS = "/tmp/orderly-bench-import-logs"  # the last run's importer logs, kept for a look afterwards
TOPOLOGY = os.environ.get("BENCH_TOPOLOGY", "split")
CPUS = sorted(os.sched_getaffinity(0))
if TOPOLOGY == "split" and len(CPUS) >= 2:
    DB_CPUS, APP_CPUS = CPUS[: len(CPUS) // 2], CPUS[len(CPUS) // 2:]
else:
    TOPOLOGY, DB_CPUS, APP_CPUS = "shared", CPUS, CPUS
# The tables an import fills, in an order their foreign keys accept.
TABLES = ["legacy_runs", "products", "product_prices", "stock", "orders", "order_lines", "order_events", "legacy_orders"]
TICK = os.sysconf("SC_CLK_TCK")
RUNNING = []  # the import in progress (its /usr/bin/time process), ended if the benchmark is interrupted
BASE_ENV = {k: v for k, v in os.environ.items() if not k.startswith("ORDERLY_")}
BASE_ENV.update(ORDERLY_LOG_LEVEL="info")
PG_ENV = dict(BASE_ENV, ORDERLY_DATABASE_URL=DB)


def log(msg):
    print(f"[bench-import {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def on(cpus, cmd):
    return ["taskset", "-c", ",".join(map(str, cpus)), *cmd]


def sh(cmd, env=None, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, cwd=ROOT, env=env or BASE_ENV, **kw).stdout


def psql(*args, db=DB):
    return sh(on(APP_CPUS, ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-At", db, *args]))


# ------------------------------------------------------------------------------------------------ /proc

def proc_stat(pid):
    """(utime + stime, cutime + cstime) in seconds, or None once the process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICK, (int(fields[13]) + int(fields[14])) / TICK


def ppid_of(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return None


def postmaster():
    with open(os.path.join(PG_DIR, "postmaster.pid")) as f:
        return int(f.readline())


def pg_cpu():
    """CPU seconds PostgreSQL has used so far: the postmaster's own and its reaped children's (every backend that
    has exited, autovacuum workers included), plus what its live children (backends, checkpointer, writers) have
    used. Differences of this are the database's CPU over an interval."""
    pm = postmaster()
    own, reaped = proc_stat(pm)
    total = own + reaped
    for d in os.listdir("/proc"):
        if d.isdigit() and ppid_of(int(d)) == pm:
            s = proc_stat(int(d))
            if s:
                total += s[0]
    return total


def machine_cpu():
    """(busy, steal) CPU seconds of the whole machine so far, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = v[:8]
    return (user + nice + system + irq + softirq) / TICK, steal / TICK


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            m = re.search(r"VmRSS:\s+(\d+)", f.read())
        return int(m.group(1)) if m else 0
    except (FileNotFoundError, ProcessLookupError):
        return 0


# --------------------------------------------------------------------------------------------- preparation

def binary():
    if os.environ.get("ORDERLY_BIN"):
        return os.environ["ORDERLY_BIN"], "ORDERLY_BIN"
    path = os.path.join(ROOT, "target/release/orderly")
    sources = [p for pat in ("src/**/*", "migrations/**/*", "build.rs", "Cargo.toml", "Cargo.lock")
               for p in glob.glob(os.path.join(ROOT, pat), recursive=True) if os.path.isfile(p)]
    newest = max(os.path.getmtime(p) for p in sources)
    if os.path.exists(path) and os.path.getmtime(path) > newest:
        log("target/release/orderly is newer than every source: reused")
        return path, "target/release/orderly (reused, newer than the sources)"
    log("cargo build --release --locked (waits if another build holds the cargo lock; 6-9 min from clean)")
    subprocess.run(["cargo", "build", "--release", "--locked"], check=True, cwd=ROOT)
    return path, "target/release/orderly (built now)"


def export_dir():
    """The cached export for these parameters, generated when missing or incomplete."""
    while not os.path.exists(GENERATOR):
        log(f"waiting for {os.path.relpath(GENERATOR, ROOT)} (polling every minute)")
        time.sleep(60)
    params = {"orders": ORDERS, "seed": SEED, "encoding": "utf-8", "faults": False}
    out = os.path.join(CACHE, f"orders{ORDERS}-seed{SEED}-utf-8-nofaults")
    marker = os.path.join(out, ".complete")
    if os.path.exists(marker):
        with open(marker) as f:
            done = json.load(f)
        if done.get("params") == params:
            log(f"export reused: {out}")
            return out, done
    log(f"generating {ORDERS} orders into {out}")
    shutil.rmtree(out, ignore_errors=True)
    partial = out + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    os.makedirs(CACHE, exist_ok=True)
    t0 = time.monotonic()
    subprocess.run([sys.executable, GENERATOR, "--out", partial, "--orders", str(ORDERS), "--seed", str(SEED),
                    "--no-faults", "--encoding", "utf-8"], check=True, cwd=ROOT)
    with open(os.path.join(partial, "expected.json"), encoding="utf-8") as f:
        exp = json.load(f)
    gen = exp["generator"]
    if (gen["orders"], gen["seed"], gen["encoding"], bool(gen["faults"])) != (ORDERS, SEED, "utf-8", False):
        raise SystemExit(f"the generator wrote {gen}, not {params}")
    done = {"params": params, "generated_s": round(time.monotonic() - t0, 1),
            "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "export": exp["export"], "accepted": exp["orders"]["accepted"], "rejected": exp["orders"]["rejected"]}
    with open(os.path.join(partial, ".complete"), "w") as f:
        json.dump(done, f, indent=1)
    os.rename(partial, out)
    return out, done


def ensure_time():
    if os.access("/usr/bin/time", os.X_OK):
        return
    if os.getuid() == 0 and shutil.which("apt-get"):
        log("installing the `time` package")
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "time"], check=True,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"), stdout=subprocess.DEVNULL)
    else:
        raise SystemExit("the benchmark needs /usr/bin/time (Debian package `time`)")


# ------------------------------------------------------------------------------------------------ the import

class Run:
    """One `orderly import legacy` under /usr/bin/time -v, its log lines timestamped and phases measured."""

    PHASES = ("read", "orders", "finish")

    def __init__(self, label, bin_, export, env, cpus, report, pg):
        self.label, self.bin, self.export, self.env, self.cpus, self.report, self.pg = \
            label, bin_, export, env, cpus, report, pg

    def cpu_now(self, pid):
        s = proc_stat(pid)
        return {"t": time.monotonic(), "orderly": s[0] if s else None,
                "pg": pg_cpu() if self.pg else 0.0, "machine": machine_cpu()}

    def run(self):
        os.makedirs(LOGS, exist_ok=True)
        timefile = os.path.join(LOGS, f"{self.label}.time")
        logfile = os.path.join(LOGS, f"{self.label}.log")
        cmd = [self.bin, "import", "legacy", "--from", self.export, "--encoding", "utf-8", "--report", self.report]
        if BATCH:
            cmd += ["--batch-size", BATCH]
        if self.cpus:
            cmd = on(self.cpus, cmd)
        self.command = " ".join(cmd)
        before = {"t": time.monotonic(), "pg": pg_cpu() if self.pg else 0.0, "machine": machine_cpu()}
        t0 = time.monotonic()
        p = subprocess.Popen(["/usr/bin/time", "-v", "-o", timefile, *cmd], env=self.env, cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=open(logfile + ".stderr", "w"), text=True, bufsize=1)
        RUNNING.append(p)
        pid = None
        for _ in range(2000):  # /usr/bin/time's child, which taskset turns into orderly
            try:
                with open(f"/proc/{p.pid}/task/{p.pid}/children") as f:
                    kids = f.read().split()
            except FileNotFoundError:
                kids = [d for d in os.listdir("/proc") if d.isdigit() and ppid_of(int(d)) == p.pid]
            if kids:
                pid = int(kids[0])
                break
            if p.poll() is not None:
                break
            time.sleep(0.001)
        phase = ["read"]
        peak = {ph: 0 for ph in self.PHASES}
        marks = {"start": before}
        series = []  # (seconds since start, orders written) from the progress lines of the orders phase
        stop = threading.Event()

        def sample():
            while not stop.is_set() and pid:
                kb = rss_kb(pid)
                peak[phase[0]] = max(peak[phase[0]], kb)
                time.sleep(0.1)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        summary = None
        slow = []  # sqlx's warnings for statements over 1 s: (seconds since start, elapsed s, statement summary)
        with open(logfile, "w") as out:
            for line in p.stdout:
                now = time.monotonic()
                out.write(f"{now - t0:.3f} {line}")
                if line.startswith("import finished") or line.startswith("dry run"):
                    summary = line.strip()
                    continue
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                if "elapsed_secs" in ev and "summary" in ev:
                    slow.append((round(now - t0, 1), round(ev["elapsed_secs"], 1), ev["summary"]))
                ph, done, total = ev.get("phase"), ev.get("done"), ev.get("total")
                if ph == "orders":
                    m = re.search(r"written (\d+)", ev.get("message", ""))
                    if m:
                        series.append((round(now - t0, 3), int(m.group(1))))
                if ph in ("reading", "orders") and done is not None and done == total:
                    key = "read_done" if ph == "reading" else "orders_done"
                    if key not in marks and pid:
                        marks[key] = self.cpu_now(pid)
                        phase[0] = "orders" if ph == "reading" else "finish"
        rc = p.wait()
        wall = time.monotonic() - t0
        RUNNING.remove(p)
        stop.set()
        time.sleep(0.5)  # let the postmaster reap the import's backends, so their CPU is in its cutime
        marks["end"] = {"t": time.monotonic() - 0.5, "pg": pg_cpu() if self.pg else 0.0, "machine": machine_cpu()}
        tv = open(timefile).read()
        if rc != 0:
            raise SystemExit(f"{self.label}: orderly exited with {rc}; see {logfile}(.stderr) and {timefile}:\n"
                             + open(logfile + ".stderr").read()[-2000:])
        num = lambda pat: float(re.search(pat, tv).group(1))
        user, system = num(r"User time \(seconds\): ([\d.]+)"), num(r"System time \(seconds\): ([\d.]+)")
        with open(os.path.join(self.report, "reconciliation.json")) as f:
            rep = json.load(f)
        res = {"wall_s": wall, "peak_rss_mb": num(r"Maximum resident set size \(kbytes\): (\d+)") / 1024,
               "orderly_user_s": user, "orderly_sys_s": system, "orders": rep["orders"],
               "checksums_match": rep["checksums_match"], "totals_minor": rep["totals_minor"],
               "summary": summary, "command": self.command, "log": logfile, "slow_statements": slow}
        res["orders_per_s"] = rep["orders"]["accepted"] / wall
        res["pg_cpu_s"] = marks["end"]["pg"] - before["pg"]
        busy = marks["end"]["machine"][0] - before["machine"][0]
        res["steal_s"] = marks["end"]["machine"][1] - before["machine"][1]
        res["other_cpu_s"] = busy - user - system - res["pg_cpu_s"]
        # Phases: start (store, migrations, digest) + reading and partitioning; transform and write of the orders
        # (batch by batch, one after the other); products, stock and the report.
        bounds = [("read", "start", "read_done"), ("orders", "read_done", "orders_done"), ("finish", "orders_done", "end")]
        res["phases"] = {}
        if "read_done" in marks and "orders_done" in marks:
            cpu_o = {"start": 0.0, "read_done": marks["read_done"]["orderly"],
                     "orders_done": marks["orders_done"]["orderly"], "end": user + system}
            for ph, a, b in bounds:
                res["phases"][ph] = {
                    "wall_s": marks[b]["t"] - marks[a]["t"],
                    "orderly_cpu_s": cpu_o[b] - cpu_o[a],
                    "pg_cpu_s": marks[b]["pg"] - marks[a]["pg"],
                    "peak_rss_mb": peak[ph] / 1024,
                }
        if len(series) >= 10:  # write rate over the first and the last fifth of the orders phase
            n = len(series) // 5
            rate = lambda pts: (pts[-1][1] - pts[0][1]) / max(pts[-1][0] - pts[0][0], 1e-9)
            res["orders_phase_rate_first_fifth"] = rate(series[: n + 1])
            res["orders_phase_rate_last_fifth"] = rate(series[-n - 1:])
        res["series"] = series
        return res


# ------------------------------------------------------------------------------------------- the COPY baseline

def copy_dump(dumpdir):
    counts = {}
    for t in TABLES:
        out = psql("-c", f"COPY {t} TO '{dumpdir}/{t}.copy'")
        counts[t] = int(re.search(r"COPY (\d+)", out).group(1))
    size = sum(os.path.getsize(f"{dumpdir}/{t}.copy") for t in TABLES)
    return counts, size


def copy_load(dumpdir, counts):
    psql("-c", f"TRUNCATE {', '.join(TABLES)}")  # committed on its own: the load below is WAL-logged
    psql("-c", "CHECKPOINT")
    script = ["\\timing on", "BEGIN;"] + [f"COPY {t} FROM '{dumpdir}/{t}.copy';" for t in TABLES] + ["COMMIT;"]
    pg0, m0 = pg_cpu(), machine_cpu()
    t0 = time.monotonic()
    out = sh(on(APP_CPUS, ["psql", "-X", "-v", "ON_ERROR_STOP=1", DB]), input="\n".join(script) + "\n")
    wall = time.monotonic() - t0
    time.sleep(0.5)
    pg_s = pg_cpu() - pg0
    busy = machine_cpu()[0] - m0[0]
    loaded = [int(x) for x in re.findall(r"^COPY (\d+)", out, re.M)]
    ms = [float(x) for x in re.findall(r"^Time: ([\d.]+) ms", out, re.M)]
    if loaded != [counts[t] for t in TABLES]:
        raise SystemExit(f"COPY FROM loaded {loaded}, the dump had {counts}")
    per_table = {t: ms[i + 1] / 1000 for i, t in enumerate(TABLES)}  # ms[0] is BEGIN, ms[-1] COMMIT
    rows = sum(counts.values())
    return {"wall_s": wall, "rows": rows, "rows_per_s": rows / wall, "per_table_s": per_table,
            "commit_s": ms[-1] / 1000, "pg_cpu_s": pg_s, "other_cpu_s": busy - pg_s}


# ----------------------------------------------------------------------------------------------------- main

def stop_running():
    """Ends an import this benchmark started and that is still running (after an interrupt): /usr/bin/time and its
    child, orderly, by their ids."""
    for p in RUNNING:
        kids = [d for d in os.listdir("/proc") if d.isdigit() and ppid_of(int(d)) == p.pid]
        for pid in [int(k) for k in kids] + [p.pid]:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()


def pg_in_use():
    try:
        pid = postmaster()
    except (FileNotFoundError, ValueError):
        return False
    return os.path.exists(f"/proc/{pid}")


def main():
    ensure_time()
    built, bin_note = binary()
    export, gen = export_dir()
    files = ["ORDERS.csv", "ORDER_ITEMS.csv", "PAYMENTS.csv", "PRODUCTS.csv"]
    export_bytes = sum(os.path.getsize(os.path.join(export, f)) for f in files)
    if pg_in_use():
        raise SystemExit(f"a PostgreSQL is already running in {PG_DIR} (make bench?); set BENCH_PG_PORT to another port")
    shutil.rmtree(LOGS, ignore_errors=True)
    res = {"orders_requested": ORDERS, "seed": SEED, "export_dir": export, "export_bytes": export_bytes,
           "export_rows": gen["export"], "expected_accepted": gen["accepted"], "binary": bin_note,
           "topology": TOPOLOGY, "db_cpus": DB_CPUS, "app_cpus": APP_CPUS, "batch_size": BATCH or "default (1000)",
           "loadavg_start": open("/proc/loadavg").read().split()[:3]}
    started = time.gmtime()
    res["commit"] = sh(["git", "rev-parse", "--short", "HEAD"]).strip()
    if sh(["git", "status", "--porcelain", "--", "src", "migrations", "Cargo.toml", "Cargo.lock"]).strip():
        res["commit"] += " (dirty)"
    # A private copy of the binary: a cargo build during the run (the tree is shared) must not swap it between runs.
    bin_ = os.path.join(tempfile.gettempdir(), f"orderly-bench-import-bin-{os.getpid()}")
    shutil.copy2(built, bin_)
    work = tempfile.mkdtemp(prefix="orderly-bench-import-")  # reports (with the importer's spill files), SQLite file
    try:
        measure(res, bin_, export, work)
    finally:
        stop_running()
        shutil.rmtree(work, ignore_errors=True)
        os.remove(bin_)
    res["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    res["checks"] = checks(res)
    report(res, started)
    if res["checks"]:
        raise SystemExit("checks failed: " + "; ".join(res["checks"]))


def measure(res, bin_, export, work):
    dumpdir = tempfile.mkdtemp(prefix="orderly-bench-import-copy-")  # written and read by the server
    if os.getuid() == 0:
        shutil.chown(dumpdir, "postgres", "postgres")
    try:
        log(f"PostgreSQL on {PG_PORT} (CPU {','.join(map(str, DB_CPUS))})")
        sh(on(DB_CPUS, ["bench/pg.sh", "start"]), env=dict(BASE_ENV, BENCH_PG_PORT=PG_PORT))
        psql("-c", f"CREATE DATABASE {DB_NAME}", db=ADMIN_DB)
        psql("-c", "CHECKPOINT")

        log(f"PostgreSQL import of {ORDERS} orders")
        res["pg"] = Run("pg", bin_, export, PG_ENV, APP_CPUS, os.path.join(work, "report-pg"), pg=True).run()
        log(f"  {res['pg']['wall_s']:.1f} s, {res['pg']['orders_per_s']:.0f} orders/s, "
            f"peak RSS {res['pg']['peak_rss_mb']:.1f} MB: {res['pg']['summary']}")
        res["pg_db_mb"] = int(psql("-c", f"SELECT pg_database_size('{DB_NAME}')")) / 2**20

        log("COPY TO: dumping the tables the import filled")
        psql("-c", "CHECKPOINT")
        counts, dump_bytes = copy_dump(dumpdir)
        res["copy_rows_by_table"], res["copy_dump_bytes"] = counts, dump_bytes

        log("rerun of the import on the same database")
        psql("-c", "VACUUM ANALYZE")
        psql("-c", "CHECKPOINT")
        res["rerun"] = Run("pg-rerun", bin_, export, PG_ENV, APP_CPUS, os.path.join(work, "report-rerun"), pg=True).run()
        log(f"  {res['rerun']['wall_s']:.1f} s: {res['rerun']['summary']}")

        log("COPY FROM: truncate, checkpoint, load the dump back in one transaction")
        res["copy"] = copy_load(dumpdir, counts)
        res["copy_ratio"] = res["copy"]["wall_s"] / res["pg"]["wall_s"]
        log(f"  {res['copy']['wall_s']:.1f} s ({res['copy']['rows_per_s']:.0f} rows/s); ratio {res['copy_ratio']:.2f}")
    finally:
        stop_running()
        shutil.rmtree(dumpdir, ignore_errors=True)
        sh(["bench/pg.sh", "stop"], env=dict(BASE_ENV, BENCH_PG_PORT=PG_PORT))
    log("SQLite import")
    sqlite_env = dict(BASE_ENV, ORDERLY_SQLITE_PATH=os.path.join(work, "import.db"))
    res["sqlite"] = Run("sqlite", bin_, export, sqlite_env, None, os.path.join(work, "report-sqlite"), pg=False).run()
    res["sqlite_db_mb"] = sum(os.path.getsize(p) for p in glob.glob(os.path.join(work, "import.db*"))) / 2**20
    log(f"  {res['sqlite']['wall_s']:.1f} s, {res['sqlite']['orders_per_s']:.0f} orders/s, "
        f"peak RSS {res['sqlite']['peak_rss_mb']:.1f} MB: {res['sqlite']['summary']}")


def checks(res):
    bad = []
    for k in ("pg", "sqlite"):
        o = res[k]["orders"]
        if o["accepted"] != res["expected_accepted"] or o["created"] != o["accepted"] or o["rejected"]:
            bad.append(f"{k}: {res[k]['summary']} (expected {res['expected_accepted']} accepted and created)")
        if not res[k]["checksums_match"] or any(s["source"] != s["orderly"] for s in res[k]["totals_minor"].values()):
            bad.append(f"{k}: checksums or totals do not match")
    o = res["rerun"]["orders"]
    if o["created"] or o["updated"] or o["unchanged"] != res["expected_accepted"]:
        bad.append(f"rerun: {res['rerun']['summary']} (expected 0 created, 0 updated)")
    return bad


def report(res, started):
    pg, sq, rr, cp = res["pg"], res["sqlite"], res["rerun"], res["copy"]
    rows = res["export_rows"]
    line = ("BENCH-IMPORT orders=%d pg_orders_per_s=%.0f copy_ratio=%.2f pg_peak_rss_mb=%.1f "
            "sqlite_orders_per_s=%.0f sqlite_peak_rss_mb=%.1f") % (
        pg["orders"]["accepted"], pg["orders_per_s"], res["copy_ratio"], pg["peak_rss_mb"], sq["orders_per_s"],
        sq["peak_rss_mb"])
    res["bench_line"] = line
    commit = res["commit"]
    cpu = re.search(r"model name\s*:\s*(.*)", open("/proc/cpuinfo").read()).group(1)
    mem = int(re.search(r"MemTotal:\s+(\d+)", open("/proc/meminfo").read()).group(1)) / 2**20
    res["machine"] = f"{os.cpu_count()} CPUs ({cpu}), {mem:.0f} GiB, Linux {platform.release()}, shared with other jobs"
    cmd = "make bench-import" + (f" (BENCH_IMPORT_ORDERS={ORDERS})" if ORDERS != 1000000 else "")
    when = time.strftime("%Y-%m-%d %H:%M UTC", started)
    res["started"] = when

    def cpu(r):
        # other = the machine's busy time (/proc/stat) less Orderly's and PostgreSQL's; under heavy system-call load
        # the machine's counter has come out below the process's own, so a negative figure is shown as n/a.
        other = f"{r['other_cpu_s']:.1f} s" if r["other_cpu_s"] >= 0 else f"n/a ({r['other_cpu_s']:.1f} s)"
        return (f"Orderly {r['orderly_user_s'] + r['orderly_sys_s']:.1f} s (user {r['orderly_user_s']:.1f}, sys "
                f"{r['orderly_sys_s']:.1f}), PostgreSQL {r.get('pg_cpu_s', 0):.1f} s, other processes "
                f"{other}, steal {r['steal_s']:.1f} s")

    def slow(r):
        return "; ".join(f"{e:.1f} s `{q}` at {t:.0f} s" for t, e, q in r["slow_statements"]) or "none"

    def phases(r):
        names = {"read": "start + digest + read/partition", "orders": "transform + write orders",
                 "finish": "products, stock, report"}
        return ["| %s | %s | %.1f | %.1f | %.1f | %.1f |" % (label, names[k], v["wall_s"], v["orderly_cpu_s"],
                                                         v["pg_cpu_s"], v["peak_rss_mb"])
                for label, r_ in r for k, v in r_["phases"].items()]

    lines = [
        f"\n## {when}: legacy import, `{cmd}` (`python3 bench/import.py`)\n",
        f"- machine: {res['machine']}; load average {' '.join(res['loadavg_start'])} at the start, "
        f"{' '.join(res['loadavg_end'])} at the end",
        f"- commit at the start: {commit}; binary: {res['binary']}; topology: {TOPOLOGY} (PostgreSQL on CPU "
        f"{','.join(map(str, DB_CPUS))}, the importer and psql on CPU {','.join(map(str, APP_CPUS))}; the SQLite "
        f"import unpinned); batch size {res['batch_size']}; PostgreSQL as bench/pg.sh (Method)",
        f"- export: `scripts/legacy_export.py --orders {ORDERS} --seed {SEED} --no-faults --encoding utf-8`: "
        f"{rows['orders_rows']:,} orders, {rows['items_rows']:,} items, {rows['payments_rows']:,} payments, "
        f"{rows['products_rows']} product rows; {res['export_bytes'] / 1e6:.0f} MB on disk (the four CSV files)",
        f"- `{line}`",
        f"- PostgreSQL import: **{pg['wall_s']:.1f} s**, **{pg['orders_per_s']:,.0f} orders/s**, peak RSS "
        f"**{pg['peak_rss_mb']:.1f} MB** (goal < 300); CPU: {cpu(pg)}; database {res['pg_db_mb']:.0f} MB after it",
        f"- COPY baseline (same server, same tables, indexes and constraints, one transaction, text files written by "
        f"`COPY ... TO`, {res['copy_dump_bytes'] / 1e6:.0f} MB): **{cp['wall_s']:.1f} s**, {cp['rows']:,} rows, "
        f"{cp['rows_per_s']:,.0f} rows/s ({pg['orders']['accepted'] / cp['wall_s']:,.0f} orders/s); "
        f"PostgreSQL CPU {cp['pg_cpu_s']:.1f} s; per table: "
        + ", ".join(f"{t} {s:.1f}" for t, s in cp["per_table_s"].items()) + f" s, commit {cp['commit_s']:.1f} s",
        f"- **ratio COPY / import: {res['copy_ratio']:.2f}** (goal >= 0.5)",
        f"- SQLite import: **{sq['wall_s']:.1f} s**, **{sq['orders_per_s']:,.0f} orders/s**, peak RSS "
        f"**{sq['peak_rss_mb']:.1f} MB**; CPU: {cpu(sq)}; file {res['sqlite_db_mb']:.0f} MB",
        f"- rerun on the same PostgreSQL database: **{rr['wall_s']:.1f} s** ({rr['orders_per_s']:,.0f} orders/s), "
        f"created {rr['orders']['created']}, updated {rr['orders']['updated']}, unchanged {rr['orders']['unchanged']}; "
        f"peak RSS {rr['peak_rss_mb']:.1f} MB; CPU: {cpu(rr)}",
    ]
    if "orders_phase_rate_first_fifth" in pg:
        lines.append(f"- PostgreSQL import, orders phase: {pg['orders_phase_rate_first_fifth']:,.0f} orders/s over "
                     f"its first fifth, {pg['orders_phase_rate_last_fifth']:,.0f} over its last")
    lines.append(f"- statements over 1 s (sqlx's warnings): PostgreSQL import {slow(pg)}; rerun {slow(rr)}; "
                 f"SQLite {slow(sq)}")
    if res["checks"]:
        lines.append(f"- **checks failed**: {'; '.join(res['checks'])}")
    lines += ["", "| run | phase | wall s | Orderly CPU s | PostgreSQL CPU s | Orderly peak RSS MB |",
              "|---|---|---|---|---|---|"]
    lines += phases([("PostgreSQL", pg), ("rerun", rr), ("SQLite", sq)])
    text = "\n".join(lines) + "\n"
    print(text, file=sys.stderr)
    if RECORD:
        with open(os.path.join(BENCH, "RESULTS.md"), "a") as f:
            f.write(text)
        for r in (pg, sq, rr):
            r.pop("log", None)
        with open(os.path.join(BENCH, "import-results.json"), "w") as f:
            json.dump(res, f, indent=1)
            f.write("\n")
    print(line)


def on_signal(signum, _frame):
    raise SystemExit(f"stopped by signal {signum}")


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    main()
