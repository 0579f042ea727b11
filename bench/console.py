#!/usr/bin/env python3
"""The console's server-side cost (`make bench-console`; not a test): an order with 50 events rendered as the
console's order page, against the same order as the API's JSON, in one run.

The embedded default (SQLite in a temporary directory), one Orderly on the application CPUs (bench.py's split
topology). Each path is asked by one closed-loop connection for BENCH_CONSOLE_SECONDS (5) after a warm-up:
requests/s and wrk's p50/p99, and the server's own time per request from its histogram
(`http_server_request_duration_seconds` sum over count for the route, before and after). The figures that matter
are the ratios to the API's get in the same run; the issue's bar is a render under 50 ms and a page under 100 KB.
Appends to bench/RESULTS.md and prints the BENCH-CONSOLE line.
"""
import json
import os
import re
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as b  # noqa: E402

SECONDS = int(os.environ.get("BENCH_CONSOLE_SECONDS", "5"))
ADMIN = f"http://127.0.0.1:{b.API_PORT + 1}"


def call(method, path, token, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{b.API}{path}", data=data, method=method,
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                                          **(headers or {})})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


def seed(token, customer):
    """An order of three units whose history has 50 events: placed, authorised, then captured a fils at a time."""
    call("PUT", "/v1/products/OUD-ROYAL-50", token,
         {"name_en": "Royal oud 50 ml", "name_ar": "عود ملكي ٥٠ مل", "tax_class": "standard",
          "prices": [{"amount_minor": 1235, "currency": "KWD"}], "active": True})
    call("PUT", "/v1/stock/OUD-ROYAL-50", token, {"on_hand": 100})
    order = call("POST", "/v1/orders", customer,
                 {"currency": "KWD", "payment_method": "card",
                  "ship_to": {"name": "فاطمة الكندري", "line1": "Block 2, Street 5", "city": "Kuwait City",
                              "country": "KW", "phone": "+96550000000"},
                  "lines": [{"sku": "OUD-ROYAL-50", "quantity": 3}]}, {"Idempotency-Key": "bench-console-1"})
    step = 0

    def command(action, body):
        nonlocal order, step
        step += 1
        order = call("POST", f"/v1/orders/{order['id']}/{action}", token, body,
                     {"If-Match": f"\"{order['version']}\"", "Idempotency-Key": f"bench-console-step-{step}"})

    command("payment/authorize", {"amount_minor": 3705, "provider_ref": "psp-bench"})
    while order["version"] < 50:
        command("payment/capture", {"amount_minor": 1})
    events = call("GET", f"/v1/orders/{order['id']}/events", token)
    return order["id"], len(events["items"])


def server_ms(route):
    """The server's total seconds and count of requests for a route, from its histogram."""
    with urllib.request.urlopen(f"{ADMIN}/metrics", timeout=5) as r:
        text = r.read().decode()
    got = {}
    for kind in ("sum", "count"):
        total = 0.0
        for line in text.splitlines():
            if line.startswith(f"http_server_request_duration_seconds_{kind}{{") and f'http_route="{route}"' in line:
                total += float(line.rsplit(" ", 1)[1])
        got[kind] = total
    return got["sum"], got["count"]


def measure(name, path, route, token):
    env = dict(b.ENV, BENCH_TOKEN=token, BENCH_PATH=path, BENCH_NONCE="1")
    shape = ["wrk", "-t", "1", "-c", "1", "--timeout", "10s", "-s", "bench/wrk/path.lua", b.API]
    b.sh(b.on(b.APP_CPUS, [*shape[:1], "-d", "2s", *shape[1:]]), env=env)
    s0, n0 = server_ms(route)
    out = b.sh(b.on(b.APP_CPUS, [*shape[:1], "-d", f"{SECONDS}s", *shape[1:]]), env=env)
    s1, n1 = server_ms(route)
    m = dict(re.findall(r"(\w+)=([\d.]+)", out.split("WRK", 1)[1]))
    if int(m["bad_status"]) + int(m["socket_errors"]):
        raise SystemExit(f"{name}: failed requests")
    req = urllib.request.Request(f"{b.API}{path}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        size = len(r.read())
    return {"rps": float(m["rps"]), "p50": float(m["p50_ms"]), "p99": float(m["p99_ms"]),
            "server_ms": 1000 * (s1 - s0) / max(1, n1 - n0), "bytes": size}


def main():
    b.require_free_ports()
    binary = b.binary()
    work = tempfile.mkdtemp(prefix="bench-console-")
    env = {k: v for k, v in b.ENV.items() if k != "ORDERLY_DATABASE_URL"}
    env.update(ORDERLY_SQLITE_PATH=os.path.join(work, "orderly.db"), ORDERLY_MIGRATE_ON_START="true")
    token = b.sh([binary, "token", "--sub", "ops-1", "--scope",
                  "orders:read orders:write catalog:write stock:write"], env=env).split()[-1]
    customer = b.sh([binary, "token", "--sub", "cust-42", "--scope", "orders:read:own orders:write:own"],
                    env=env).split()[-1]
    p, _ = b.start_orderly(binary, env)
    try:
        order_id, events = seed(token, customer)
        rows = {
            "api_get": measure("api_get", f"/v1/orders/{order_id}", "/v1/orders/{id}", token),
            "console_order": measure("console_order", f"/console/orders/{order_id}", "/console/orders/{id}", token),
            "console_orders": measure("console_orders", "/console/orders", "/console/orders", token),
        }
    finally:
        b.stop(p)
    base = rows["api_get"]
    page = rows["console_order"]
    line = ("BENCH-CONSOLE events=%d order_page_server_ms=%.2f order_page_p99_ms=%.2f order_page_kb=%.1f "
            "orders_page_server_ms=%.2f orders_page_kb=%.1f order_page_vs_api_get=%.2f") % (
        events, page["server_ms"], page["p99"], page["bytes"] / 1024, rows["console_orders"]["server_ms"],
        rows["console_orders"]["bytes"] / 1024, page["server_ms"] / max(1e-9, base["server_ms"]))
    commit = b.sh("git rev-parse --short HEAD").strip()
    lines = [f"\n## {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: `python3 bench/console.py` (make bench-console)\n",
             f"- commit {commit}; SQLite; one closed-loop connection per path, {SECONDS} s after 2 s of warm-up; "
             f"server time from the service's own histogram; an order with {events} events",
             f"- {line}",
             "- bars: a page under 100 KB, rendered in under 50 ms server-side",
             "",
             "| path | req/s | p50 ms | p99 ms | server ms per request | bytes | server time / API get |",
             "|---|---|---|---|---|---|---|",
             *[f"| {name} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['server_ms']:.2f} | {r['bytes']:,} | "
               f"{r['server_ms'] / max(1e-9, base['server_ms']):.2f} |" for name, r in rows.items()]]
    with open(os.path.join(b.BENCH, "RESULTS.md"), "a") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines[1:]), file=sys.stderr)
    print(line)


if __name__ == "__main__":
    main()
