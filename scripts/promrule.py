#!/usr/bin/env python3
"""Turns the PromQL held in Orderly's deploy artifacts into Prometheus rule files, so promtool can check it.

  promrule.py rules PROMETHEUSRULE.yaml          the PrometheusRule's spec: a plain rule file (the one source)
  promrule.py dashboard DASHBOARD.json           one recording rule per panel target and per variable query
  promrule.py analysis RENDERED.yaml [--arg K=V] [--json]
                                                 each AnalysisTemplate query with Argo's {{args.x}} filled in;
                                                 --json prints the queries and conditions instead (for the
                                                 rollout rehearsal, so it evaluates the very same text)
  promrule.py names METRICS.txt RULEFILE...      every metric a rule file reads is exposed by Orderly, is `up`,
                                                 or is recorded by one of the rule files given
  promrule.py lint RULEFILE RUNBOOK.md TESTFILE...
                                                 every alert: severity page|ticket, summary, description, a
                                                 runbook_url whose anchor is a heading of the runbook, and a
                                                 promtool case that fires it and one that expects it quiet

promtool checks syntax only; `names` is what catches a misspelt metric name. Needs PyYAML.
"""
import argparse
import json
import re
import sys

import yaml

# Grafana's built-in variables, replaced by values of the same kind before promtool sees the query.
GRAFANA_BUILTINS = {
    "__rate_interval": "5m", "__interval": "1m", "__range": "1h",
    "__interval_ms": "60000", "__range_s": "3600", "__range_ms": "3600000",
}
# A pod-template-hash as Argo passes it, for args that come from `podTemplateHashValue`.
SAMPLE_HASH = "6d8f7c9b5"


def die(msg):
    sys.exit(f"promrule: {msg}")


def dump(groups):
    yaml.safe_dump({"groups": groups}, sys.stdout, sort_keys=False, width=1000)


def rules(path):
    docs = [d for d in yaml.safe_load_all(open(path)) if d]
    found = [d for d in docs if d.get("kind") == "PrometheusRule"]
    if len(found) != 1:
        die(f"{path}: expected exactly one PrometheusRule, found {len(found)}")
    dump(found[0]["spec"]["groups"])


def grafana_substitute(expr, variables, where):
    def value(match):
        name = next(g for g in match.groups() if g)
        if name in GRAFANA_BUILTINS:
            return GRAFANA_BUILTINS[name]
        if name in variables:
            return variables[name]
        die(f"{where}: unknown dashboard variable ${name}")

    # `$1` and the like are label_replace capture groups, which Grafana leaves alone too.
    return re.sub(r"\$\{([A-Za-z_]\w*)(?::\w+)?\}|\[\[([A-Za-z_]\w*)\]\]|\$([A-Za-z_]\w*)", value, expr)


def dashboard(path):
    board = json.load(open(path))
    variables, var_queries = {}, []
    for var in board.get("templating", {}).get("list", []):
        kind = var.get("type")
        if kind == "query":
            # A regex that matches anything is what "All" sends; the query itself is checked below.
            variables[var["name"]] = var.get("allValue") or ".*"
            query = var.get("query")
            query = query.get("query") if isinstance(query, dict) else query
            var_queries.append((f"variable {var['name']}", query))
        elif kind in ("custom", "constant", "interval", "textbox"):
            variables[var["name"]] = str(var.get("query", "")).split(",")[0].strip() or "x"
        elif kind == "datasource":
            variables[var["name"]] = "prometheus"
    exprs = []

    def panels(items):
        for panel in items:
            yield panel
            yield from panels(panel.get("panels", []))

    for panel in panels(board.get("panels", [])):
        if panel.get("type") in ("row", "text"):
            continue
        targets = panel.get("targets") or die(f"panel {panel.get('title')!r} has no queries")
        for target in targets:
            expr = target.get("expr") or die(f"panel {panel.get('title')!r} has a target without expr")
            exprs.append((f"panel {panel.get('title')!r}", expr))
    for where, query in var_queries:
        match = re.fullmatch(r"\s*label_values\((.*),\s*\w+\s*\)\s*", query or "", re.S)
        if not match:
            die(f"{where}: only label_values(<selector>, <label>) queries are supported")
        exprs.append((where, match.group(1)))
    if not exprs:
        die(f"{path}: no queries found")
    rules_out = [
        {"record": f"dashboard:expr_{i}:check", "expr": grafana_substitute(e, variables, w)}
        for i, (w, e) in enumerate(exprs)
    ]
    print(f"# {len(rules_out)} expressions from {path}", file=sys.stderr)
    dump([{"name": "dashboard-exprs", "rules": rules_out}])


def analysis(path, overrides, as_json):
    docs = [d for d in yaml.safe_load_all(open(path)) if d]
    templates = [d for d in docs if d.get("kind") == "AnalysisTemplate"]
    if not templates:
        die(f"{path}: no AnalysisTemplate")
    # Values the Rollouts pass; valueFrom is resolved the way Argo would at run time.
    passed = {}
    for rollout in (d for d in docs if d.get("kind") == "Rollout"):
        canary = rollout["spec"]["strategy"].get("canary", {})
        blocks = [canary.get("analysis") or {}] + [s["analysis"] for s in canary.get("steps", []) if "analysis" in s]
        for block in blocks:
            for arg in block.get("args", []):
                source = arg.get("valueFrom", {})
                if "value" in arg:
                    passed[arg["name"]] = arg["value"]
                elif "podTemplateHashValue" in source:
                    passed[arg["name"]] = SAMPLE_HASH
                elif source.get("fieldRef", {}).get("fieldPath") == "metadata.namespace":
                    passed[arg["name"]] = rollout["metadata"].get("namespace", "default")
    out, groups = {}, []
    for template in templates:
        name = template["metadata"]["name"]
        values = {a["name"]: a["value"] for a in template["spec"].get("args", []) if "value" in a}
        values.update(passed)
        values.update(overrides)
        rules_out = []
        for metric in template["spec"]["metrics"]:
            query = metric["provider"]["prometheus"]["query"]

            def value(match, metric=metric):
                arg = match.group(1)
                if arg not in values:
                    die(f"{name}/{metric['name']}: no value for {{{{args.{arg}}}}}")
                return values[arg]

            query = re.sub(r"\{\{\s*args\.([\w-]+)\s*\}\}", value, query)
            if "{{" in query:
                die(f"{name}/{metric['name']}: unsupported template in query")
            out[f"{name}/{metric['name']}"] = {
                "query": query,
                "successCondition": metric.get("successCondition"),
                "failureCondition": metric.get("failureCondition"),
            }
            record = re.sub(r"\W", "_", f"analysis:{name}:{metric['name']}")
            rules_out.append({"record": record, "expr": query})
        groups.append({"name": f"analysis-{name}", "rules": rules_out})
    if as_json:
        json.dump(out, sys.stdout, indent=2)
        print()
    else:
        dump(groups)


KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "offset",
            "bool", "inf", "nan", "start", "end"}


def metric_names(expr):
    expr = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)  # string literals
    expr = re.sub(r"\{[^}]*\}", " ", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", " ", expr)  # ranges and subqueries
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    expr = re.sub(r"#[^\n]*", " ", expr)  # comments
    names = set()
    for match in re.finditer(r"(?<![\w.])([a-zA-Z_:][\w:]*)(\s*\()?", expr):
        if not match.group(2) and match.group(1).lower() not in KEYWORDS:
            names.add(match.group(1))
    return names


def names(metrics_file, rule_files):
    known = {"up"}
    for line in open(metrics_file):
        fields = line.split("#")[0].split()
        if not fields:
            continue
        name, kind = fields
        known.add(name)
        if kind == "histogram":
            known.update(name + s for s in ("_bucket", "_count", "_sum"))
    loaded = [yaml.safe_load(open(f)) for f in rule_files]
    all_rules = [r for doc in loaded for g in doc["groups"] for r in g["rules"]]
    known.update(r["record"] for r in all_rules if "record" in r)
    bad = []
    for rule in all_rules:
        unknown = metric_names(rule["expr"]) - known
        if unknown:
            bad.append(f"{rule.get('record') or rule.get('alert')}: unknown metric(s) {sorted(unknown)}")
    if bad:
        die("\n  " + "\n  ".join(bad))
    print(f"metric names OK in {len(all_rules)} rules")


def anchor(heading):
    """The anchor GitHub and GitLab give a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def lint(rule_file, runbook, test_files):
    alerts = [r for g in yaml.safe_load(open(rule_file))["groups"] for r in g["rules"] if "alert" in r]
    anchors = {anchor(line.lstrip("#")) for line in open(runbook) if line.startswith("#")}
    fires, quiet = set(), set()
    for path in test_files:
        for test in yaml.safe_load(open(path))["tests"]:
            for case in test.get("alert_rule_test", []):
                (fires if case.get("exp_alerts") else quiet).add(case["alertname"])
    bad = []
    for rule in alerts:
        name, labels, notes = rule["alert"], rule.get("labels", {}), rule.get("annotations", {})
        if labels.get("severity") not in ("page", "ticket"):
            bad.append(f"{name}: severity must be page or ticket")
        for key in ("summary", "description", "runbook_url"):
            if not notes.get(key):
                bad.append(f"{name}: no {key} annotation")
        target = notes.get("runbook_url", "").rpartition("#")[2]
        if not notes.get("runbook_url", "").split("#")[0].endswith("docs/operations.md") or target not in anchors:
            bad.append(f"{name}: runbook_url must point at a heading of {runbook} (#{target} is not one)")
        if name not in fires:
            bad.append(f"{name}: no promtool case fires it")
        if name not in quiet:
            bad.append(f"{name}: no promtool case expects it quiet")
    if bad:
        die("\n  " + "\n  ".join(bad))
    print(f"{len(alerts)} alerts: labels, annotations, runbook anchors and test coverage OK")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("rules").add_argument("file")
    sub.add_parser("dashboard").add_argument("file")
    a = sub.add_parser("analysis")
    a.add_argument("file")
    a.add_argument("--arg", action="append", default=[], help="NAME=VALUE, overrides what the Rollout passes")
    a.add_argument("--json", action="store_true")
    n = sub.add_parser("names")
    n.add_argument("metrics")
    n.add_argument("rule_files", nargs="+")
    lt = sub.add_parser("lint")
    lt.add_argument("rule_file")
    lt.add_argument("runbook")
    lt.add_argument("test_files", nargs="+")
    args = parser.parse_args()
    if args.cmd == "rules":
        rules(args.file)
    elif args.cmd == "dashboard":
        dashboard(args.file)
    elif args.cmd == "analysis":
        analysis(args.file, dict(kv.split("=", 1) for kv in args.arg), args.json)
    elif args.cmd == "names":
        names(args.metrics, args.rule_files)
    else:
        lint(args.rule_file, args.runbook, args.test_files)


if __name__ == "__main__":
    main()
