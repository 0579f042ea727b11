#!/usr/bin/env python3
"""Summary of a rehearsal run: reads the load client's counts and the rehearsal's event log, prints a table per
phase and per replica replacement, then the REHEARSAL line, and exits non-zero if an assertion fails.

  summary.py WORK_DIR        (reads WORK_DIR/wrk.out and WORK_DIR/events.tsv)

events.tsv lines are `epoch_seconds<TAB>kind<TAB>name<TAB>detail`, kinds: phase_start, phase_end, canary (name =
release, detail = promoted|rolled_back), window_start / window_end (a canary's time in the load balancer), step
(detail = text), replica_ready / replica_sigterm / replica_out / replica_exit (name = container, detail = value).

failed_requests counts non-2xx responses outside the windows of canaries that the analysis rolled back (their
failures are what the analysis is there to contain; the window is rounded outward to whole seconds because the load
client counts per second), plus every transport error (connect, read, write, timeout) wherever it happened.
"""
import collections
import math
import os
import sys


def read_wrk(path):
    buckets, codes, summary = {}, {}, None
    for line in open(path):
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "B":
            buckets[int(parts[1])] = (int(parts[2]), int(parts[3]))
        elif parts[0] == "C":
            codes[int(parts[1])] = int(parts[2])
        elif parts[0] == "S":
            keys = ("requests", "connect", "read", "write", "timeout", "p50_us", "p99_us", "max_us")
            summary = dict(zip(keys, map(int, parts[1:9])), seconds=float(parts[9]))
    if summary is None:
        sys.exit(f"summary: no wrk summary in {path} (did wrk die?)")
    return buckets, codes, summary


def read_events(path):
    events = []
    for line in open(path):
        t, kind, name, detail = (line.rstrip("\n").split("\t") + ["", "", ""])[:4]
        events.append((float(t), kind, name, detail))
    return events


def count(buckets, start, end):
    """Requests and non-2xx in the whole seconds that start in [start, end)."""
    seconds = [s for s in buckets if start <= s + 0.5 < end]
    return sum(buckets[s][0] for s in seconds), sum(buckets[s][1] for s in seconds)


def main():
    work = sys.argv[1]
    buckets, codes, wrk = read_wrk(os.path.join(work, "wrk.out"))
    events = read_events(os.path.join(work, "events.tsv"))
    t0 = events[0][0]

    # Phases.
    starts = {n: t for t, k, n, _ in events if k == "phase_start"}
    ends = {n: t for t, k, n, _ in events if k == "phase_end"}
    rows = []
    for name, start in sorted(starts.items(), key=lambda kv: kv[1]):
        end = ends.get(name, start)
        n, failed = count(buckets, start, end)
        rows.append((name, f"{start - t0:7.1f}", f"{end - start:6.1f}", str(n), str(failed),
                     f"{n / max(end - start, 1e-9):6.0f}"))
    print_table("phases (times in s from the rehearsal's start)",
                ("phase", "start", "length", "requests", "non-2xx", "req/s"), rows)

    # Replica replacements.
    replica = collections.defaultdict(dict)
    for t, kind, name, detail in events:
        if kind.startswith("replica_"):
            replica[name][kind[8:]] = (t, detail)
    rows = []
    for name, e in replica.items():
        ready, term, out, ext = (e.get(k) for k in ("ready", "sigterm", "out", "exit"))
        rows.append((name, f"{ready[0] - t0:.1f}" if ready else "-", f"{term[0] - t0:.1f}" if term else "-",
                     f"{(out[0] - term[0]) * 1000:.0f}" if out and term else "-",
                     f"{(ext[0] - term[0]) * 1000:.0f}" if ext and term else "-", ext[1] if ext else "running"))
    print_table("replicas (ready = in rotation; out = load balancer stopped sending after SIGTERM)",
                ("container", "ready at", "SIGTERM at", "out after ms", "exit after ms", "exit code"), rows)

    # The canaries and their windows.
    outcomes = {n: d for _, k, n, d in events if k == "canary"}
    verdicts = {n: d for _, k, n, d in events if k == "analysis"}
    images = {n: d for _, k, n, d in events if k == "image"}
    print_table("releases (pushed to the local registry, rendered and run by digest)",
                ("release", "image", "analysis exit", "outcome"),
                [(n, images[n], verdicts.get(n, "-"), outcomes.get(n, "-")) for n in images])
    windows = {}
    for t, kind, name, _ in events:
        if kind == "window_start":
            windows[name] = [t, None]
        elif kind == "window_end":
            windows[name][1] = t
    excluded = [(math.floor(s), math.ceil(e)) for n, (s, e) in windows.items()
                if outcomes.get(n) in ("rolled_back", "inconclusive")]
    inside = lambda s: any(a <= s < b for a, b in excluded)  # noqa: E731
    contained = sum(f for s, (_, f) in buckets.items() if inside(s))
    non2xx_outside = sum(f for s, (_, f) in buckets.items() if not inside(s))
    transport = wrk["connect"] + wrk["read"] + wrk["write"] + wrk["timeout"]
    failed = non2xx_outside + transport
    p99_ms = wrk["p99_us"] / 1000

    print(f"\nstatus codes: {', '.join(f'{c}={n}' for c, n in sorted(codes.items()))}")
    print(f"transport errors: connect={wrk['connect']} read={wrk['read']} write={wrk['write']} "
          f"timeout={wrk['timeout']}; latency p50={wrk['p50_us'] / 1000:.1f} ms p99={p99_ms:.1f} ms "
          f"max={wrk['max_us'] / 1000:.1f} ms over {wrk['seconds']:.0f} s")
    print(f"non-2xx inside rolled-back canary windows (contained by the analysis): {contained}")

    # Which canary is which is known only here, for the report: the rehearsal ran both the same way.
    good = outcomes.get("v3-good", "missing")
    bad = outcomes.get("v3-bad", "missing")
    print(f"\nREHEARSAL requests={wrk['requests']} failed_requests={failed} p99_ms={p99_ms:.1f} "
          f"canary_good={good} canary_bad={bad}")

    problems = []
    if wrk["requests"] == 0:
        problems.append("no requests were made")
    if failed:
        problems.append(f"{failed} failed requests outside the bad canary's window ({transport} transport errors)")
    if good != "promoted":
        problems.append(f"the good canary was {good}, not promoted")
    if bad != "rolled_back":
        problems.append(f"the bad canary was {bad}, not rolled back")
    for name, e in replica.items():
        if "sigterm" in e and e.get("exit", (0, ""))[1] != "0":
            problems.append(f"{name} exited {e.get('exit', (0, 'never'))[1]} after SIGTERM")
    problems += [d for _, k, _, d in events if k == "problem"]
    for p in problems:
        print(f"REHEARSAL FAILED: {p}")
    sys.exit(1 if problems else 0)


def print_table(title, header, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)] if rows else [len(h) for h in header]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths))  # noqa: E731
    print(f"\n{title}\n{line(header)}\n{line('-' * w for w in widths)}")
    for row in rows:
        print(line(row))


if __name__ == "__main__":
    main()
