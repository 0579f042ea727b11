#!/usr/bin/env python3
"""Runs the AnalysisTemplate of a rendered manifest against a Prometheus, the way an Argo Rollouts AnalysisRun does.

  canary-analysis.py RENDERED.yaml --prometheus URL [--arg NAME=VALUE ...] [--canary-hash H] [--stable-hash H]
                     [--interval 5s] [--count N] [--initial-delay 10s]

The queries come from `promrule.py analysis RENDERED --json`, so the text evaluated here is the text Argo evaluates;
only the values of {{args.x}} differ. --canary-hash and --stable-hash fill the args that the Rollout takes from
`podTemplateHashValue: Latest` and `Stable`. --interval, --count and --initial-delay replace each metric's schedule
(a rehearsal cannot wait 5 x 1 m); the queries and conditions are never changed.

Each measurement is judged like Argo does: failure condition first, then success; with only a success condition a
false one is a failure, with only a failure condition a false one is a success; both false is inconclusive. A query
that errors, or a condition that cannot be evaluated (result[0] of an empty result), is an error. A metric fails
when its failures exceed failureLimit (default 0), is inconclusive past inconclusiveLimit (default 0), errors past
consecutiveErrorLimit (default 4); the run stops at the first metric that ends other than successful.

Exit: 0 successful (promote), 1 failed or error (abort), 2 inconclusive (e.g. no traffic: a human decides).
"""
import argparse
import ast
import json
import math
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
OK, FAILED, INCONCLUSIVE, ERROR = "Successful", "Failed", "Inconclusive", "Error"


def duration(text):
    """Argo durations: 30s, 1m, 1m30s, 500ms, 2h."""
    if text in (None, ""):
        return 0.0
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", str(text))
    if not parts or "".join(n + u for n, u in parts) != str(text):
        sys.exit(f"canary-analysis: bad duration {text!r}")
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * scale[u] for n, u in parts)


def rollout_hash_args(docs):
    """Names of the args a Rollout fills from the canary (Latest) and stable pod-template-hash."""
    latest, stable = set(), set()
    for rollout in (d for d in docs if d.get("kind") == "Rollout"):
        canary = rollout["spec"]["strategy"].get("canary", {})
        blocks = [canary.get("analysis") or {}] + [s["analysis"] for s in canary.get("steps", []) if "analysis" in s]
        for arg in (a for b in blocks for a in b.get("args", [])):
            which = arg.get("valueFrom", {}).get("podTemplateHashValue")
            (latest if which == "Latest" else stable if which == "Stable" else set()).add(arg["name"])
    return latest, stable


# ---- Argo's condition language (expr): the subset AnalysisTemplates use ------------------------------------------
ALLOWED = (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.Compare, ast.Eq,
           ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Name, ast.Load, ast.Constant, ast.Subscript, ast.Call,
           ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div)
FUNCS = {"len": len, "isNaN": math.isnan, "isInf": lambda x, s=0: math.isinf(x), "abs": abs, "float": float}


def to_python(condition):
    text = condition.replace("&&", " and ").replace("||", " or ")
    text = re.sub(r"!(?!=)", " not ", text)
    text = re.sub(r"\btrue\b", "True", re.sub(r"\bfalse\b", "False", re.sub(r"\bnil\b", "None", text)))
    tree = ast.parse(text.strip(), mode="eval")
    for node in ast.walk(tree):
        if not isinstance(node, ALLOWED):
            raise ValueError(f"unsupported in condition {condition!r}: {type(node).__name__}")
        if isinstance(node, ast.Name) and node.id not in FUNCS and node.id not in ("result", "True", "False", "None"):
            raise ValueError(f"unknown name {node.id!r} in condition {condition!r}")
    return compile(tree, "<condition>", "eval")


def holds(code, result):
    value = eval(code, {"__builtins__": {}}, dict(FUNCS, result=result))  # noqa: S307 (whitelisted AST)
    if not isinstance(value, bool):
        raise ValueError(f"condition gave {value!r}, not a boolean")
    return value


def judge(metric, result):
    success, failure = metric.get("success"), metric.get("failure")
    ok = holds(success, result) if success else None
    bad = holds(failure, result) if failure else None
    if ok is None and bad is None:
        return OK
    if bad is None:
        bad = not ok
    if ok is None:
        ok = not bad
    return FAILED if bad else OK if ok else INCONCLUSIVE


# ---- Prometheus ---------------------------------------------------------------------------------------------------
def query(prometheus, text):
    url = prometheus.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": text})
    with urllib.request.urlopen(url, timeout=10) as reply:
        body = json.load(reply)
    if body.get("status") != "success":
        raise RuntimeError(body.get("error", "query failed"))
    data = body["data"]
    if data["resultType"] == "scalar":
        return float(data["result"][1])
    if data["resultType"] == "vector":
        return [float(s["value"][1]) for s in data["result"]]
    raise RuntimeError(f"unsupported result type {data['resultType']}")


def measure(metric, prometheus):
    try:
        result = query(prometheus, metric["query"])
    except Exception as e:  # noqa: BLE001: any query failure is an Error measurement, as in Argo
        return ERROR, f"query error: {e}"
    try:
        return judge(metric, result), result
    except Exception as e:  # noqa: BLE001: e.g. result[0] of an empty result
        return ERROR, f"{result} ({type(e).__name__}: {e})"


def settle(m):
    """The metric's phase after its latest measurement, or None while it goes on."""
    if m["failed"] > m["failureLimit"]:
        return FAILED
    if m["inconclusive"] > m["inconclusiveLimit"]:
        return INCONCLUSIVE
    if m["consecutiveErrors"] > m["consecutiveErrorLimit"]:
        return ERROR
    if m["taken"] >= m["count"]:
        return OK
    return None


def load_metrics(args):
    docs = [d for d in yaml.safe_load_all(open(args.rendered)) if d]
    latest, stable = rollout_hash_args(docs)
    overrides = list(args.arg)
    if args.canary_hash:
        overrides += [f"{name}={args.canary_hash}" for name in sorted(latest)]
    if args.stable_hash:
        overrides += [f"{name}={args.stable_hash}" for name in sorted(stable)]
    cmd = [sys.executable, os.path.join(HERE, "promrule.py"), "analysis", args.rendered, "--json"]
    cmd += [x for kv in overrides for x in ("--arg", kv)]
    queries = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    specs = {f"{t['metadata']['name']}/{m['name']}": m
             for t in docs if t.get("kind") == "AnalysisTemplate" for m in t["spec"]["metrics"]}
    metrics = []
    for key, q in queries.items():
        spec = specs[key]
        count = args.count or spec.get("count") or (1 if not spec.get("interval") else 5)
        metrics.append({
            "name": key, "query": q["query"],
            "success": to_python(q["successCondition"]) if q.get("successCondition") else None,
            "failure": to_python(q["failureCondition"]) if q.get("failureCondition") else None,
            "interval": duration(args.interval) if args.interval else duration(spec.get("interval")),
            "count": int(count),
            "initialDelay": duration(args.initial_delay) if args.initial_delay is not None
            else duration(spec.get("initialDelay")),
            "failureLimit": int(spec.get("failureLimit", 0)),
            "inconclusiveLimit": int(spec.get("inconclusiveLimit", 0)),
            "consecutiveErrorLimit": int(spec.get("consecutiveErrorLimit", 4)),
            "taken": 0, "failed": 0, "inconclusive": 0, "consecutiveErrors": 0, "phase": None,
        })
    if not metrics:
        sys.exit("canary-analysis: the AnalysisTemplate has no metrics")
    return metrics


def run(metrics, prometheus):
    start = time.monotonic()
    for m in metrics:
        m["next"] = start + m["initialDelay"]
        print(f"ANALYSIS metric={m['name']} query={json.dumps(' '.join(m['query'].split()))}", flush=True)
    while True:
        pending = [m for m in metrics if m["phase"] is None]
        if not pending:
            return metrics
        m = min(pending, key=lambda x: x["next"])
        time.sleep(max(0.0, m["next"] - time.monotonic()))
        phase, value = measure(m, prometheus)
        m["taken"] += 1
        m["failed"] += phase == FAILED
        m["inconclusive"] += phase == INCONCLUSIVE
        m["consecutiveErrors"] = m["consecutiveErrors"] + 1 if phase == ERROR else 0
        m["phase"] = settle(m)
        m["next"] += m["interval"]
        print(f"ANALYSIS metric={m['name']} measurement={m['taken']}/{m['count']} value={value} -> {phase}"
              + (f"; metric {m['phase']}" if m["phase"] else ""), flush=True)
        if m["phase"] in (FAILED, ERROR, INCONCLUSIVE):
            return metrics  # Argo terminates the run at the first metric that cannot succeed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("rendered")
    parser.add_argument("--prometheus", required=True)
    parser.add_argument("--arg", action="append", default=[], help="NAME=VALUE for an AnalysisTemplate arg")
    parser.add_argument("--canary-hash")
    parser.add_argument("--stable-hash")
    parser.add_argument("--interval")
    parser.add_argument("--count", type=int)
    parser.add_argument("--initial-delay")
    args = parser.parse_args()
    metrics = run(load_metrics(args), args.prometheus)
    phases = [m["phase"] for m in metrics if m["phase"]]
    verdict = (FAILED if FAILED in phases or ERROR in phases else INCONCLUSIVE if INCONCLUSIVE in phases else OK)
    print(f"ANALYSIS result={verdict} " + " ".join(f"{m['name']}={m['phase'] or 'Terminated'}" for m in metrics))
    sys.exit({OK: 0, FAILED: 1, INCONCLUSIVE: 2}[verdict])


if __name__ == "__main__":
    main()
