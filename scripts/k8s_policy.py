#!/usr/bin/env python3
"""Policy test on rendered manifests: every zero-downtime, hardening and wiring rule of deploy/k8s (issue 6).

  k8s_policy.py [--self-test] OVERLAY=RENDERED.yaml...    e.g. staging=/tmp/s.yaml production=/tmp/p.yaml

Each rule below yields what is wrong with the render. --self-test then breaks each rule on purpose
(scripts/k8s_policy_mutations.py) and fails unless that very rule notices. Needs PyYAML.
"""
import math
import os
import re
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RULE_SOURCE = "deploy/monitoring/prometheusrule.yaml"
DATABASE_URL = "ORDERLY_DATABASE_URL"
REQUIRED_SECRETS = {"database_url"}  # the others (nats_url) may be absent: the relay is then off
# Tokens are verified against the JWKS URL: no key material in the pods (ADR 0009; see base/config.env).
UNSET_ON_PURPOSE = {"jwt_secret", "jwt_jwks_file", "jwt_public_key_file", "jwt_private_key_file", "jwt_key_id"}
SIGNING_MATERIAL = ("ORDERLY_JWT_SECRET", "ORDERLY_JWT_PRIVATE_KEY_FILE")
EGRESS = {("UDP", 53), ("TCP", 53), ("TCP", 5432), ("TCP", 4222), ("TCP", 443)}
RULES = []


def rule(fn):
    RULES.append(fn)
    return fn


class Render:
    def __init__(self, overlay, docs):
        self.overlay, self.docs = overlay, docs
        servers = [d for d in docs if d["kind"] in ("Deployment", "Rollout")]
        self.workload = servers[0] if len(servers) == 1 else None
        jobs = [d for d in docs if d["kind"] == "Job"]
        self.job = jobs[0] if len(jobs) == 1 else None
        self.pods = [o for o in (self.workload, self.job) if o]

    def all(self, kind):
        return [d for d in self.docs if d["kind"] == kind]

    def one(self, kind, name=None):
        found = [d for d in self.all(kind) if name in (None, d["metadata"]["name"])]
        return found[0] if len(found) == 1 else None

    def config(self):
        names = {e["configMapRef"]["name"] for o in self.pods for c in containers(o) for e in c.get("envFrom", [])}
        maps = [d for d in self.all("ConfigMap") if d["metadata"]["name"] in names]
        return maps[0].get("data", {}) if len(maps) == 1 else {}


def containers(obj):
    return obj["spec"]["template"]["spec"]["containers"]


def pod_labels(obj):
    return obj["spec"]["template"]["metadata"].get("labels", {})


def matches(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def port_number(container, port):
    named = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    return named.get(port, port)


def quantity(value):
    m = re.fullmatch(r"([0-9.]+)(m|Ki|Mi|Gi|Ti|k|M|G|T)?", str(value))
    scale = {None: 1, "m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "M": 1e6,
             "G": 1e9, "T": 1e12}
    return float(m.group(1)) * scale[m.group(2)] if m else None


@rule
def labels(r):
    for d in r.docs:
        lab = d["metadata"].get("labels", {})
        if lab.get("app.kubernetes.io/name") != "orderly" or "app.kubernetes.io/component" not in lab:
            yield f"{d['kind']}/{d['metadata']['name']}: needs app.kubernetes.io/name=orderly and a component label"
    if r.workload and r.workload["metadata"]["labels"].get("app.kubernetes.io/component") != "server":
        yield "the workload must be component=server (the pipeline applies it last)"
    if r.job and r.job["metadata"]["labels"].get("app.kubernetes.io/component") != "migration":
        yield "the migration Job must be component=migration (the pipeline applies it first)"


@rule
def workload_kind(r):
    want = "Rollout" if r.overlay == "production" else "Deployment"
    if not r.workload or r.workload["kind"] != want:
        yield f"{r.overlay} must run exactly one {want} and no other Deployment or Rollout"
    elif "replicas" in r.workload["spec"]:
        yield "the workload sets spec.replicas: the HPA owns the count, and each apply would reset it"


@rule
def rolling(r):
    w = r.workload or {"kind": "", "spec": {}}
    strategy = w["spec"].get("strategy", {})
    if w["kind"] == "Deployment":
        rolling_update = strategy.get("rollingUpdate", {})
        if strategy.get("type") != "RollingUpdate" or str(rolling_update.get("maxUnavailable")) not in ("0", "0%"):
            yield "Deployment: RollingUpdate with maxUnavailable 0"
    elif str(strategy.get("canary", {}).get("maxUnavailable")) not in ("0", "0%"):
        yield "Rollout: canary.maxUnavailable must be 0"


@rule
def service(r):
    svc = r.one("Service", "orderly")
    if not svc or not r.workload:
        yield "a Service `orderly` for the workload"
        return
    sel = svc["spec"].get("selector", {})
    if not matches(sel, pod_labels(r.workload)):
        yield "the Service selector does not select the server pods"
    if r.job and matches(sel, pod_labels(r.job)):
        yield "the Service selector also selects migration Job pods"
    ports = {p["name"]: port_number(containers(r.workload)[0], p["targetPort"]) for p in svc["spec"]["ports"]}
    if ports != {"http": 8080, "admin": 9090}:
        yield f"Service ports must be http->8080 and admin->9090, got {ports}"


@rule
def hpa(r):
    h = r.one("HorizontalPodAutoscaler")
    if not h or h["apiVersion"] != "autoscaling/v2" or not r.workload:
        yield "one autoscaling/v2 HorizontalPodAutoscaler"
        return
    ref, w = h["spec"]["scaleTargetRef"], r.workload
    if (ref.get("apiVersion"), ref.get("kind"), ref.get("name")) != (w["apiVersion"], w["kind"], w["metadata"]["name"]):
        yield f"HPA targets {ref}, not the workload"
    if h["spec"].get("minReplicas", 1) < 2 or h["spec"]["maxReplicas"] < h["spec"].get("minReplicas", 1):
        yield "HPA: minReplicas at least 2 and maxReplicas at least that"
    kinds = {(m["type"], (m.get("resource") or m.get("pods", {}).get("metric", {})).get("name")) for m in h["spec"].get("metrics", [])}
    if ("Resource", "cpu") not in kinds or not any(t == "Pods" and "requests_per_second" in (n or "") for t, n in kinds):
        yield "HPA metrics: CPU and a per-pod request-rate Pods metric"
    behavior = h["spec"].get("behavior", {})
    if not behavior.get("scaleUp", {}).get("policies") or not behavior.get("scaleDown", {}).get("policies"):
        yield "HPA behavior: scaleUp and scaleDown policies"
    elif behavior["scaleDown"].get("stabilizationWindowSeconds", 300) < 60:
        yield "HPA scaleDown needs a stabilization window of a minute or more"


@rule
def pdb(r):
    p = r.one("PodDisruptionBudget")
    if not p or p["spec"].get("maxUnavailable") != 1 or "minAvailable" in p["spec"]:
        yield "a PodDisruptionBudget with maxUnavailable: 1"
    elif not r.workload or not matches(p["spec"]["selector"].get("matchLabels"), pod_labels(r.workload)):
        yield "the PodDisruptionBudget does not select the server pods"


@rule
def spread(r):
    if not r.workload:
        return
    hash_key = "rollouts-pod-template-hash" if r.workload["kind"] == "Rollout" else "pod-template-hash"
    constraints = r.workload["spec"]["template"]["spec"].get("topologySpreadConstraints", [])
    for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname"):
        c = next((c for c in constraints if c["topologyKey"] == key), None)
        if not c or c.get("whenUnsatisfiable") != "ScheduleAnyway":
            yield f"topologySpreadConstraints over {key} with ScheduleAnyway"
        elif not matches(c.get("labelSelector", {}).get("matchLabels"), pod_labels(r.workload)):
            yield f"the {key} spread does not select the server pods"
        elif c.get("matchLabelKeys") != [hash_key]:
            yield f"the {key} spread should use matchLabelKeys [{hash_key}] for a {r.workload['kind']}"


@rule
def network_policy(r):
    pols = r.all("NetworkPolicy")
    deny = [p for p in pols if p["spec"].get("podSelector") == {} and set(p["spec"].get("policyTypes", [])) ==
            {"Ingress", "Egress"} and not p["spec"].get("ingress") and not p["spec"].get("egress")]
    if not deny:
        yield "a default-deny NetworkPolicy (podSelector {}, Ingress and Egress, no rules)"
    if any(not p["spec"].get("podSelector", {}).get("matchLabels") for p in pols if p not in deny):
        yield "a NetworkPolicy other than the default deny selects every pod of the namespace"
    # Orderly's own policies, i.e. those selecting its pods. The database's (components/cloudnative-pg) are checked
    # by database_network.
    allow = [p for p in pols if p not in deny and any(
        matches(p["spec"]["podSelector"].get("matchLabels"), pod_labels(obj)) for obj in r.pods)]
    for obj in r.pods:
        if not any(matches(p["spec"]["podSelector"].get("matchLabels"), pod_labels(obj)) for p in allow):
            yield f"no NetworkPolicy admits the traffic of {obj['kind']} pods"
    ingress, egress = set(), set()
    for p in allow:
        for rule_ in p["spec"].get("ingress", []):
            peers = rule_.get("from") or [{}]
            for peer in peers:
                ns = peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
                if not ns or "ipBlock" in peer or "podSelector" in peer and not ns:
                    yield "every ingress rule must name its source namespace"
                for port in rule_.get("ports") or [{"port": "any"}]:
                    ingress.add((ns, port["port"]))
        for rule_ in p["spec"].get("egress", []):
            if not rule_.get("to") or not rule_.get("ports"):
                yield "every egress rule must name its destination and ports"
            for port in rule_.get("ports") or []:
                egress.add((port.get("protocol", "TCP"), port.get("port")))
    if {port for _, port in ingress} != {"http", "admin"} or ("monitoring", "admin") not in ingress:
        yield f"ingress must be the API port from the ingress controller, admin from monitoring; got {sorted(map(str, ingress))}"
    if egress != EGRESS:
        yield f"egress must be exactly DNS (53 UDP+TCP), PostgreSQL 5432, NATS 4222 and the IdP on 443; got {sorted(map(str, egress))}"


@rule
def service_account(r):
    sa = r.one("ServiceAccount")
    if not sa or sa.get("automountServiceAccountToken") is not False:
        yield "a ServiceAccount with automountServiceAccountToken: false"
    for obj in r.pods:
        spec = obj["spec"]["template"]["spec"]
        if not sa or spec.get("serviceAccountName") != sa["metadata"]["name"] or spec.get("automountServiceAccountToken") is not False:
            yield f"{obj['kind']}: use the ServiceAccount and automountServiceAccountToken: false"


@rule
def pod_security(r):
    ns = r.one("Namespace")
    if not ns or ns["metadata"].get("labels", {}).get("pod-security.kubernetes.io/enforce") != "restricted":
        yield "the Namespace must enforce the restricted Pod Security Standard"
    for obj in r.pods:
        spec, where = obj["spec"]["template"]["spec"], obj["kind"]
        pod_sc = spec.get("securityContext", {})
        if any(spec.get(k) for k in ("hostNetwork", "hostPID", "hostIPC")) or any("hostPath" in v for v in spec.get("volumes", [])):
            yield f"{where}: no host namespaces or hostPath"
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for c in containers(obj):
            sc = {**pod_sc, **c.get("securityContext", {})}
            if not (sc.get("runAsNonRoot") is True and sc.get("runAsUser") == 10001 and sc.get("runAsGroup") == 10001):
                yield f"{where}/{c['name']}: runAsNonRoot, uid and gid 10001"
            if sc.get("readOnlyRootFilesystem") is not True or sc.get("allowPrivilegeEscalation") is not False or sc.get("privileged"):
                yield f"{where}/{c['name']}: read-only root filesystem, no privilege escalation, not privileged"
            caps = c.get("securityContext", {}).get("capabilities", {})
            if caps.get("drop") != ["ALL"] or caps.get("add"):
                yield f"{where}/{c['name']}: capabilities drop [ALL], add none"
            if sc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
                yield f"{where}/{c['name']}: seccompProfile RuntimeDefault"
            mounts = {m["mountPath"]: volumes.get(m["name"], {}) for m in c.get("volumeMounts", [])}
            if any("emptyDir" not in mounts.get(path, {}) for path in ("/data", "/tmp")):
                yield f"{where}/{c['name']}: emptyDir volumes at /data and /tmp"


@rule
def resources(r):
    for obj in r.pods:
        for c in containers(obj):
            req, lim = c.get("resources", {}).get("requests", {}), c.get("resources", {}).get("limits", {})
            for res in ("cpu", "memory"):
                if res not in req or res not in lim or quantity(lim[res]) < quantity(req[res]):
                    yield f"{obj['kind']}/{c['name']}: {res} request and limit (limit >= request)"


def probe_target(container, probe):
    get = container.get(probe, {}).get("httpGet", {})
    return get.get("path"), port_number(container, get.get("port"))


@rule
def probes(r):
    if not r.workload:
        return
    c = containers(r.workload)[0]
    if probe_target(c, "readinessProbe") != ("/readyz", 9090):
        yield "readinessProbe: GET /readyz on the admin port 9090"
    if probe_target(c, "livenessProbe") != ("/healthz", 9090):
        yield "livenessProbe: GET /healthz on the admin port 9090"


def prestop_seconds(r):
    pre = containers(r.workload)[0].get("lifecycle", {}).get("preStop", {})
    return pre.get("sleep", {}).get("seconds") if set(pre) == {"sleep"} else None


@rule
def prestop(r):
    if r.workload and not prestop_seconds(r):
        yield "lifecycle.preStop.sleep (native, Kubernetes 1.30+), not exec or httpGet"


@rule
def grace(r):
    if not r.workload:
        return
    cfg = r.config()
    try:
        delay, drain = int(cfg["ORDERLY_SHUTDOWN_DELAY_MS"]), int(cfg["ORDERLY_DRAIN_TIMEOUT_MS"])
        request_timeout = int(cfg["ORDERLY_REQUEST_TIMEOUT_MS"])
    except (KeyError, ValueError):
        yield "ORDERLY_SHUTDOWN_DELAY_MS, ORDERLY_DRAIN_TIMEOUT_MS and ORDERLY_REQUEST_TIMEOUT_MS in the ConfigMap"
        return
    need = (prestop_seconds(r) or 0) + (delay + drain) / 1000
    period = r.workload["spec"]["template"]["spec"].get("terminationGracePeriodSeconds", 30)
    if period <= need:
        yield f"terminationGracePeriodSeconds {period} must exceed preStop + delay + drain = {need:g} s"
    if request_timeout > drain:
        yield "ORDERLY_REQUEST_TIMEOUT_MS above ORDERLY_DRAIN_TIMEOUT_MS: a draining request could be cut off"


def env_sources(obj):
    c = containers(obj)[0]
    return ([e["configMapRef"]["name"] for e in c.get("envFrom", [])],
            {e["name"]: e.get("valueFrom", {}).get("secretKeyRef") for e in c.get("env", [])})


@rule
def migration(r):
    j, w = r.job, r.workload
    if not j or not w:
        yield "a migration Job next to the workload"
        return
    c, spec = containers(j)[0], j["spec"]
    if c.get("args") != ["migrate"] or c.get("command"):
        yield "the Job runs the image's entrypoint with args [migrate]"
    if c["image"] != containers(w)[0]["image"]:
        yield "the Job must run the same image as the server"
    (job_maps, job_env), (server_maps, server_env) = env_sources(j), env_sources(w)
    others = lambda env: {k: v for k, v in env.items() if k != DATABASE_URL}
    if job_maps != server_maps or others(job_env) != others(server_env):
        yield "the Job must get the same ConfigMap and Secret settings as the server (the database URL aside)"
    # The database URL: with a CloudNativePG Cluster, the Job connects as the owner and the server as a role that
    # is not, and the rule `database` checks both. Without one (staging), both read the one URL of orderly-secrets.
    if not secret_ref(job_env.get(DATABASE_URL)):
        yield "the Job needs ORDERLY_DATABASE_URL from a Secret (secretKeyRef)"
    elif not r.all("Cluster") and job_env[DATABASE_URL] != server_env.get(DATABASE_URL):
        yield "without a CloudNativePG Cluster, the Job must migrate the database the server uses (the same URL)"
    if spec["template"]["spec"].get("restartPolicy") != "Never" or "backoffLimit" not in spec or "activeDeadlineSeconds" not in spec:
        yield "the Job: restartPolicy Never, a backoffLimit and an activeDeadlineSeconds"
    if r.config().get("ORDERLY_MIGRATE_ON_START") != "false":
        yield "ORDERLY_MIGRATE_ON_START must be false: only the Job migrates"


def settings():
    """Every setting name (FIELDS in src/config/names.rs), and which of them are secrets (the Option<SecretString>
    fields of the Config struct in src/config/mod.rs). Fails loudly if either moves."""
    names_rs = open(os.path.join(REPO, "src/config/names.rs")).read()
    found = re.search(r"const FIELDS: &\[&str\] = &\[(.*?)\];", names_rs, re.S)
    if not found:
        sys.exit("k8s_policy: FIELDS not found in src/config/names.rs (moved? update settings())")
    secrets = set(re.findall(r"pub (\w+): Option<SecretString>", open(os.path.join(REPO, "src/config/mod.rs")).read()))
    if not secrets:
        sys.exit("k8s_policy: no Option<SecretString> settings found in src/config/mod.rs (moved? update settings())")
    return re.findall(r'"(\w+)"', found.group(1)), secrets


@rule
def config(r):
    if not r.workload:
        return
    cfg, (_, env) = r.config(), env_sources(r.workload)
    names, secrets = settings()
    for name in names:
        var = "ORDERLY_" + name.upper()
        if name in secrets:
            if name in UNSET_ON_PURPOSE and var not in cfg and var not in env:
                continue
            if var in cfg or not env.get(var):
                yield f"{var} must come from a Secret (secretKeyRef), never the ConfigMap"
            elif name in REQUIRED_SECRETS and env[var].get("optional"):
                yield f"{var} is required: its secretKeyRef must not be optional"
        elif name not in UNSET_ON_PURPOSE and var not in cfg:
            yield f"setting {name} is not wired: {var} is missing from the ConfigMap"
    known = {"ORDERLY_" + n.upper() for n in names}
    for key in cfg:
        if key not in known:
            yield f"ConfigMap key {key} is not a setting Orderly reads (a typo is silently ignored)"
    if cfg.get("ORDERLY_ENV") != "production":
        yield "ORDERLY_ENV must be production"
    ports = {p["name"]: p["containerPort"] for p in containers(r.workload)[0].get("ports", [])}
    for var, port in (("ORDERLY_LISTEN", "http"), ("ORDERLY_ADMIN_LISTEN", "admin")):
        if cfg.get(var, "").rpartition(":")[2] != str(ports.get(port)):
            yield f"{var} does not listen on the container's {port} port"


def nginx_size(value):
    m = re.fullmatch(r"([0-9]+)([kKmMgG]?)", str(value))
    return int(m.group(1)) * {"": 1, "k": 2**10, "m": 2**20, "g": 2**30}[m.group(2).lower()] if m else None


@rule
def ingress(r):
    """The public entrance (components/ingress-nginx): API port only, TLS, and limits that match Orderly's."""
    ing = r.one("Ingress")
    if not ing:
        yield "one Ingress for ingress-nginx in front of the API"
        return
    spec, notes = ing["spec"], ing["metadata"].get("annotations", {})
    nginx = lambda key: notes.get(f"nginx.ingress.kubernetes.io/{key}")
    if spec.get("ingressClassName") != "nginx":
        yield "the Ingress needs ingressClassName nginx"
    backends = [(p["backend"].get("service", {}).get("name"), p["backend"].get("service", {}).get("port", {}).get("name"))
                for rule_ in spec.get("rules", []) for p in rule_.get("http", {}).get("paths", [])]
    if not backends or set(backends) != {("orderly", "http")}:
        yield f"every Ingress path must go to Service orderly, port http (never admin); got {backends}"
    hosts = {rule_.get("host") for rule_ in spec.get("rules", [])}
    tls_hosts = {h for t in spec.get("tls", []) if t.get("secretName") for h in t.get("hosts", [])}
    if None in hosts or not hosts <= tls_hosts or nginx("force-ssl-redirect") != "true":
        yield "every Ingress host needs TLS (a secretName) and force-ssl-redirect"
    cfg = r.config()
    if nginx_size(nginx("proxy-body-size")) != int(cfg.get("ORDERLY_MAX_BODY_BYTES", "0") or 0):
        yield "proxy-body-size must equal ORDERLY_MAX_BODY_BYTES"
    request_s = int(cfg.get("ORDERLY_REQUEST_TIMEOUT_MS", "0") or 0) / 1000
    for key in ("proxy-read-timeout", "proxy-send-timeout"):
        if not str(nginx(key) or "").isdigit() or int(nginx(key)) <= request_s:
            yield f"{key} must exceed ORDERLY_REQUEST_TIMEOUT_MS, so Orderly's 503 reaches the client, not a 504"
    for key in ("limit-rps", "limit-connections"):
        if not str(nginx(key) or "").isdigit() or int(nginx(key)) < 1:
            yield f"the Ingress needs a positive {key}"


@rule
def tokens(r):
    """Tokens are checked against the identity provider's JWKS over HTTPS; no pod holds a key that signs them."""
    if not r.workload:
        return
    cfg = r.config()
    if not cfg.get("ORDERLY_JWT_JWKS_URL", "").startswith("https://"):
        yield "ORDERLY_JWT_JWKS_URL must be the identity provider's https:// JWKS"
    for obj in r.pods:
        _, env = env_sources(obj)
        for var in SIGNING_MATERIAL:
            if var in env or var in cfg:
                yield f"{obj['kind']} holds token signing material ({var}); verify against the JWKS instead"


@rule
def service_monitor(r):
    sm, svc = r.one("ServiceMonitor"), r.one("Service", "orderly")
    if not sm or not svc:
        yield "a ServiceMonitor for the Service"
        return
    if not matches(sm["spec"]["selector"].get("matchLabels"), svc["metadata"].get("labels", {})):
        yield "the ServiceMonitor does not select the Service"
    if svc["metadata"]["labels"].get(sm["spec"].get("jobLabel", ""), svc["metadata"]["name"]) != "orderly":
        yield "the scrape job must be named orderly (rules and dashboard select job=\"orderly\")"
    ep = sm["spec"]["endpoints"][0]
    if ep.get("port") != "admin" or ep.get("path", "/metrics") != "/metrics":
        yield "the ServiceMonitor scrapes the admin port's /metrics"
    if not any(rl.get("sourceLabels") == ["__meta_kubernetes_pod_label_rollouts_pod_template_hash"] and
               rl.get("targetLabel") == "rollouts_pod_template_hash" for rl in ep.get("relabelings", [])):
        yield "the ServiceMonitor must copy the rollouts-pod-template-hash pod label (canary analysis needs it)"


@rule
def prometheus_rule(r):
    rules_ = r.all("PrometheusRule")
    source = yaml.safe_load(open(os.path.join(REPO, RULE_SOURCE)))
    if len(rules_) != 1 or rules_[0]["spec"] != source["spec"]:
        yield f"the rendered PrometheusRule must be {RULE_SOURCE}, unchanged"


@rule
def images(r):
    kustomization = os.path.join(REPO, "deploy/k8s/overlays", r.overlay, "kustomization.yaml")
    entries = yaml.safe_load(open(kustomization)).get("images", []) if os.path.exists(kustomization) else []
    if not any(e.get("newTag") not in (None, "", "latest") or e.get("digest") for e in entries):
        yield f"{r.overlay}: pin the image by tag in kustomization.yaml `images:`"
    for obj in r.pods:
        image = containers(obj)[0]["image"]
        if not re.fullmatch(r"[\w.\-/:]+/[\w.\-]+(:(?!latest$)[\w.\-]+)?(@sha256:[0-9a-f]{64})?", image) or \
                ":" not in image.rpartition("/")[2] and "@" not in image:
            yield f"{obj['kind']}: image {image} must come from a registry with a tag (not latest) or a digest"


@rule
def canary(r):
    if r.overlay != "production" or not r.workload or r.workload["kind"] != "Rollout":
        return
    spec = r.workload["spec"]
    can = spec["strategy"].get("canary", {})
    steps = can.get("steps", [])
    weights = [s["setWeight"] for s in steps if "setWeight" in s]
    if weights[:3] != [10, 25, 50]:
        yield f"canary steps should be 10%, 25%, 50%; got {weights}"
    for i, step in enumerate(steps):
        if "setWeight" in step and not (i + 1 < len(steps) and "pause" in steps[i + 1]):
            yield f"canary step {i} (setWeight {step['setWeight']}) is not followed by a pause"
    analysis = can.get("analysis", {})
    names = {t["metadata"]["name"] for t in r.all("AnalysisTemplate")}
    templates = [t.get("templateName") for t in analysis.get("templates", [])]
    if not templates or not set(templates) <= names:
        yield "background analysis with AnalysisTemplates that exist in the render"
    if analysis.get("startingStep", 0) > 1:
        yield "analysis must start with the first canary step (startingStep 0 or 1)"
    if not any(a.get("valueFrom", {}).get("podTemplateHashValue") == "Latest" for a in analysis.get("args", [])):
        yield "the analysis needs the canary's pod template hash (podTemplateHashValue: Latest)"
    if spec.get("progressDeadlineAbort") is not True:
        yield "progressDeadlineAbort: true, so pods that never get ready abort the rollout"


@rule
def analysis_template(r):
    if r.overlay != "production" or not r.workload:
        return
    analysis = r.workload["spec"].get("strategy", {}).get("canary", {}).get("analysis", {})
    hash_args = [a["name"] for a in analysis.get("args", []) if a.get("valueFrom", {}).get("podTemplateHashValue") == "Latest"]
    passed = {a["name"] for a in analysis.get("args", [])}
    queries = []
    for t in r.all("AnalysisTemplate"):
        for arg in t["spec"].get("args", []):
            if "value" not in arg and "valueFrom" not in arg and arg["name"] not in passed:
                yield f"{t['metadata']['name']}: argument {arg['name']} has no value and the Rollout passes none"
        for m in t["spec"]["metrics"]:
            where, q = f"{t['metadata']['name']}/{m['name']}", m.get("provider", {}).get("prometheus", {}).get("query", "")
            queries.append(q)
            for selector in re.findall(r"http_server_request_duration_seconds_\w+\{(?:[^{}]|\{\{[^}]*\}\})*\}", q):
                if not any(f'rollouts_pod_template_hash="{{{{args.{a}}}}}"' in selector for a in hash_args):
                    yield f"{where}: every series must be the canary's (rollouts_pod_template_hash); {selector[:60]}..."
            for cond in ("successCondition", "failureCondition"):
                if not m.get(cond, "").replace(" ", "").startswith("len(result)>0&&"):
                    yield f"{where}: {cond} must start with `len(result) > 0 &&` (empty result = inconclusive)"
            if not isinstance(m.get("failureLimit"), int) or not isinstance(m.get("inconclusiveLimit"), int):
                yield f"{where}: explicit failureLimit and inconclusiveLimit"
    if not any("histogram_quantile(0.99" in q.replace(" ", "") for q in queries):
        yield "the analysis must judge p99 latency"
    if not any('http_response_status_code!~"5.."' in q for q in queries):
        yield "the analysis must judge the success rate (non-5xx share)"


# The labels CloudNativePG puts on the pods it creates (pkg/specs/pods.go, jobs.go and pgbouncer/deployments.go of
# the release whose CRDs are in deploy/k8s/crds). The rules below test selectors against them.
def cnpg_instance_labels(cluster):
    name = cluster["metadata"]["name"]
    return {"cnpg.io/cluster": name, "cnpg.io/instanceName": f"{name}-1", "cnpg.io/podRole": "instance",
            "app.kubernetes.io/name": "postgresql", "app.kubernetes.io/instance": name,
            "app.kubernetes.io/component": "database", "app.kubernetes.io/managed-by": "cloudnative-pg"}


def cnpg_job_labels(cluster):
    """The operator's initdb, join and recovery Jobs: a new standby copies the primary over 5432."""
    labels = {k: v for k, v in cnpg_instance_labels(cluster).items() if k != "cnpg.io/podRole"}
    return {**labels, "cnpg.io/jobRole": "join"}


def cnpg_pooler_labels(pooler):
    cluster = pooler["spec"]["cluster"]["name"]
    return {"cnpg.io/cluster": cluster, "cnpg.io/poolerName": pooler["metadata"]["name"], "cnpg.io/podRole": "pooler",
            "app.kubernetes.io/name": "postgresql", "app.kubernetes.io/instance": cluster,
            "app.kubernetes.io/component": "pooler", "app.kubernetes.io/managed-by": "cloudnative-pg"}


CREDENTIAL_NAME = re.compile(r"(?i)(password|passwd|secret|token|access_?key|credential|private_?key)")


def inline_credentials(node, where="spec"):
    """Places in an object that hold a credential as a literal: an env-like {name, value} whose name looks like a
    credential, or a URL with user:password@."""
    if isinstance(node, dict):
        if isinstance(node.get("name"), str) and "value" in node and CREDENTIAL_NAME.search(node["name"]):
            yield f"{where}: {node['name']} has a literal value"
        for k, v in node.items():
            if isinstance(v, str) and re.match(r"^[a-z][a-z0-9+.-]*://[^/@\s]+:[^/@\s]*@", v):
                yield f"{where}.{k}: a URL with a password in it"
            else:
                yield from inline_credentials(v, f"{where}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from inline_credentials(v, f"{where}[{i}]")


def secret_ref(ref):
    return isinstance(ref, dict) and bool(ref.get("name")) and bool(ref.get("key"))


# Migration 0004 grants the role orderly_app SELECT and INSERT only on order_events and audit_log (docs/operations.md,
# "Database roles"). The server must connect as a login role that is a member of it, never as the owner.
APP_ROLE = "orderly_app"
ROLE_POWERS = ("superuser", "createrole", "createdb", "replication", "bypassrls")
RESERVED_ROLES = {"postgres", "streaming_replica", "cnpg_pooler_pgbouncer"}
# Connections max_connections must keep beyond the service role's connectionLimit: superuser_reserved_connections
# (3), the owner's migration Job, the operator, the metrics exporter and PgBouncer's authentication user.
CONNECTION_RESERVE = 10


def surge(workload, replicas):
    """Extra pods a rollout may add at `replicas`: maxSurge of the Deployment's rollingUpdate or the Rollout's canary
    (25% when unset), rounded up as the controllers do."""
    strategy = workload["spec"].get("strategy", {})
    value = (strategy.get("canary") or strategy.get("rollingUpdate") or {}).get("maxSurge", "25%")
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(replicas * int(value[:-1]) / 100)
    return int(value)


def password_secret(role):
    ref = role.get("passwordSecret")
    return ref.get("name") if isinstance(ref, dict) else None


def database_roles(r, c):
    """Who connects to the Cluster as whom. The migration Job as the owner, through the operator's Secret
    <cluster>-app (key uri, the -rw Service). The server as a managed login role in orderly_app, with no power beyond
    it, whose password Secret (created by the platform, with a key uri) is where its URL comes from. The two never
    share a Secret, so the service can add history but never change or delete it."""
    name, spec = c["metadata"]["name"], c["spec"]
    bootstrap = spec.get("bootstrap", {})
    owner = next((b["owner"] for b in bootstrap.values() if isinstance(b, dict) and b.get("owner")), "app")
    owner_secret = f"{name}-app"
    job_ref = env_sources(r.job)[1].get(DATABASE_URL) if r.job else None
    server_ref = env_sources(r.workload)[1].get(DATABASE_URL) if r.workload else None
    if r.job and ({k: (job_ref or {}).get(k) for k in ("name", "key")} != {"name": owner_secret, "key": "uri"}
                  or job_ref.get("optional")):
        yield (f"Job: ORDERLY_DATABASE_URL must come from Secret {owner_secret}, key uri (the owner migrates, over the "
               f"-rw Service), not optional; got {job_ref}")
    server_secret = (server_ref or {}).get("name")
    if r.workload:
        kind = r.workload["kind"]
        if not secret_ref(server_ref) or server_ref.get("key") != "uri" or server_ref.get("optional"):
            yield (f"{kind}: ORDERLY_DATABASE_URL must come from key uri of the service role's Secret, not optional; "
                   f"got {server_ref}")
        if server_ref and server_secret == owner_secret:
            yield (f"{kind}: ORDERLY_DATABASE_URL from {owner_secret}: the server must never connect as the owner "
                   f"`{owner}`, or it can change and delete history")
        elif server_ref and server_ref == job_ref:
            yield (f"{kind}: ORDERLY_DATABASE_URL from {server_secret}, as the migration Job's: the two must differ "
                   f"(only the Job connects as the owner)")

    # The managed roles. A role in orderly_app with a login is a candidate for the server.
    roles = spec.get("managed", {}).get("roles") or []
    members = [ro for ro in roles if ro.get("ensure", "present") == "present" and ro.get("login") is True and
               APP_ROLE in (ro.get("inRoles") or [])]
    if not members:
        yield (f"Cluster {name}: spec.managed.roles must declare a login role in {APP_ROLE} (ensure present, login, "
               f"inRoles [{APP_ROLE}]) for the server to connect as")
    for ro in members:
        where = f"Cluster {name}: managed role {ro.get('name')}"
        if ro.get("name") in {owner} | RESERVED_ROLES:
            yield f"{where}: the server's role must be neither the owner `{owner}` nor one the operator reserves"
        powers = [p for p in ROLE_POWERS if ro.get(p)]
        if powers:
            yield f"{where}: no {', '.join(powers)}; it gets its privileges from {APP_ROLE} only"
        if ro.get("inherit") is False:
            yield f"{where}: inherit must stay true, or it holds none of {APP_ROLE}'s privileges (Orderly sets no role)"
        ps = ro.get("passwordSecret")
        if not isinstance(ps, dict) or not ps.get("name") or set(ps) != {"name"}:
            yield f"{where}: its password from a Secret (passwordSecret: {{name: ...}}); got {ps!r}"
        elif ro.get("disablePassword"):
            yield f"{where}: disablePassword leaves it no password, and the server cannot log in"
    service = [ro for ro in members if password_secret(ro) == server_secret]
    if r.workload and members and not service:
        yield (f"{r.workload['kind']}: ORDERLY_DATABASE_URL comes from {server_secret}, which is the passwordSecret of "
               f"no managed login role in {APP_ROLE} (have: {[ro.get('name') for ro in members]})")
    for ro in service:
        where = f"Cluster {name}: managed role {ro.get('name')}"
        hpa = r.one("HorizontalPodAutoscaler")
        try:
            pool = int(r.config()["ORDERLY_DB_MAX_CONNECTIONS"])
            ceiling = int(spec.get("postgresql", {}).get("parameters", {}).get("max_connections", "100"))
        except (KeyError, ValueError):
            yield "ORDERLY_DB_MAX_CONNECTIONS in the ConfigMap and an integer max_connections, to size the role's connections"
            continue
        pods = hpa["spec"]["maxReplicas"] + surge(r.workload, hpa["spec"]["maxReplicas"]) if hpa else 0
        limit = ro.get("connectionLimit", -1)
        if not isinstance(limit, int) or limit == -1:
            yield (f"{where}: a connectionLimit (got {limit}, unlimited), so the server can never take the "
                   "connections the owner's migration and the operator need")
        elif limit < pods * pool:
            yield (f"{where}: connectionLimit {limit} below what the server may open: (maxReplicas + surge) {pods} x "
                   f"ORDERLY_DB_MAX_CONNECTIONS {pool} = {pods * pool}")
        elif limit + CONNECTION_RESERVE > ceiling:
            yield (f"{where}: connectionLimit {limit} must leave {CONNECTION_RESERVE} of max_connections {ceiling} to "
                   "the owner's migration, the operator and the exporter (raise max_connections, or move to the Pooler)")
    # The password Secrets are the platform's: never in the repository, so never in the render.
    platform = {owner_secret, server_secret} | {password_secret(ro) for ro in roles}
    for d in r.all("Secret"):
        if d["metadata"]["name"] in platform:
            yield f"Secret/{d['metadata']['name']} is rendered: the platform creates it, credentials stay out of git"
    # A new database: orderly_app must exist before the role can join it, and neither the owner (no CREATEROLE) nor
    # migration 0004 can create it. A recovery brings it along with the data.
    initdb = bootstrap.get("initdb")
    if initdb is not None:
        sql = "; ".join(stmt for k in ("postInitSQL", "postInitApplicationSQL", "postInitTemplateSQL")
                        for stmt in initdb.get(k) or [])
        if not re.search(rf"(?i)\bcreate\s+role\s+\"?{APP_ROLE}\"?(\s|;|$)", sql):
            yield (f"Cluster {name}: bootstrap.initdb must create the role {APP_ROLE} (postInitApplicationSQL), or "
                   "migration 0004 fails and the managed role cannot join it")


@rule
def database(r):
    """Where the render has a CloudNativePG Cluster (components/cloudnative-pg), it is highly available, backed up
    and monitored, and Orderly reaches its primary: the migration Job as the owner through the operator's Secret, the
    server as a managed role in orderly_app (database_roles). Production must have one. Staging
    keeps an external database (orderly-secrets' database-url), so without a Cluster there is nothing to check
    there; the rule keys on the Cluster rather than on the overlay's name so that an overlay adopting the component
    is held to it at once."""
    clusters = r.all("Cluster")
    if not clusters:
        if r.overlay == "production":
            yield "production runs PostgreSQL as a CloudNativePG Cluster (components/cloudnative-pg); none rendered"
        return
    if len(clusters) != 1:
        yield f"one CloudNativePG Cluster for Orderly, got {len(clusters)}"
        return
    c = clusters[0]
    name, spec = c["metadata"]["name"], c["spec"]
    if not re.fullmatch(r"[\w.\-/]+:\d+\.\d+[\w.\-]*(@sha256:[0-9a-f]{64})?", spec.get("imageName", "")):
        yield f"Cluster {name}: imageName pinned to a full PostgreSQL version (major.minor tag, or a digest)"
    instances = spec.get("instances", 1)
    if instances < 3:
        yield f"Cluster {name}: at least 3 instances (a primary and two standbys), got {instances}"
    sync = spec.get("postgresql", {}).get("synchronous")
    if "minSyncReplicas" in spec or "maxSyncReplicas" in spec:
        yield f"Cluster {name}: synchronous replication through postgresql.synchronous, not min/maxSyncReplicas"
    if not sync:
        yield f"Cluster {name}: synchronous replication (postgresql.synchronous), or a failover loses acknowledged commits"
    else:
        number = sync.get("number", 0)
        if number < 1 or sync.get("dataDurability", "required") != "required":
            yield f"Cluster {name}: every commit waits for at least one standby (number >= 1, dataDurability required)"
        elif number > instances - 2:
            yield (f"Cluster {name}: {number} synchronous standbys out of {instances - 1} leave none spare, so losing "
                   "one standby stops every write")
    affinity = spec.get("affinity", {})
    if affinity.get("enablePodAntiAffinity") is False or affinity.get("podAntiAffinityType") != "required" or \
            affinity.get("topologyKey") not in ("kubernetes.io/hostname", "topology.kubernetes.io/zone"):
        yield f"Cluster {name}: required pod anti-affinity over nodes (or zones), so one node takes out one instance"
    backup = spec.get("backup", {})
    store = backup.get("barmanObjectStore") or {}
    if not store.get("destinationPath"):
        yield f"Cluster {name}: WAL archiving and base backups to object storage (backup.barmanObjectStore)"
    else:
        if not backup.get("retentionPolicy"):
            yield f"Cluster {name}: a backup retentionPolicy"
        s3 = store.get("s3Credentials")
        others = [k for k in ("azureCredentials", "googleCredentials") if store.get(k)]
        if not others and not (s3 and (s3.get("inheritFromIAMRole") is True or
                                       all(secret_ref(s3.get(k)) for k in ("accessKeyId", "secretAccessKey")))):
            yield f"Cluster {name}: object store credentials from a Secret (s3Credentials secret refs) or the IAM role"
    for obj in [c] + r.all("Pooler"):
        for found in inline_credentials(obj["spec"]):
            yield f"{obj['kind']}/{obj['metadata']['name']}: credentials belong in a Secret; {found}"
    instance = cnpg_instance_labels(c)
    poolers = [p for p in r.all("Pooler") if p["spec"].get("cluster", {}).get("name") == name]
    monitors = [m for m in r.all("PodMonitor")
                if matches(m["spec"].get("selector", {}).get("matchLabels"), instance)
                and any(e.get("port") == "metrics" for e in m["spec"].get("podMetricsEndpoints", []))]
    if not monitors and spec.get("monitoring", {}).get("enablePodMonitor") is not True:
        yield f"Cluster {name}: a PodMonitor scraping the instances' `metrics` port"
    if any(matches(m["spec"]["selector"].get("matchLabels"), cnpg_pooler_labels(p)) for m in monitors for p in poolers):
        yield f"the PodMonitor for {name} also selects the PgBouncer pods (select cnpg.io/podRole: instance)"
    if spec.get("monitoring", {}).get("disableDefaultQueries"):
        yield f"Cluster {name}: keep the default monitoring queries (replication lag, WAL archiver)"
    for p in r.all("Pooler"):
        ps = p["spec"]
        if ps.get("cluster", {}).get("name") != name or ps.get("type", "rw") != "rw" or \
                ps.get("pgbouncer", {}).get("poolMode") != "transaction" or ps.get("instances", 1) < 2:
            yield f"Pooler/{p['metadata']['name']}: for {name}, type rw, poolMode transaction, at least 2 instances"
    yield from database_roles(r, c)
    if r.workload and r.config().get("ORDERLY_DB_TRANSACTION_POOLER") != "false":
        yield "ORDERLY_DB_TRANSACTION_POOLER must be false: the URL reaches the primary itself, not PgBouncer"


EXTERNAL = None  # an address outside the pod network: the API server, the object store


def selects(selector, labels):
    """A LabelSelector's matchLabels against a pod's labels; {} selects every pod."""
    return all(labels.get(k) == v for k, v in (selector or {}).get("matchLabels", {}).items())


def peer_admits(peer, policy_ns, endpoint):
    ns, labels = endpoint
    if "ipBlock" in peer:
        return ns is EXTERNAL  # this model keeps ipBlock rules for what is outside the pod network
    if ns is EXTERNAL:
        return False
    ns_ok = ns == policy_ns if "namespaceSelector" not in peer else \
        selects(peer["namespaceSelector"], {"kubernetes.io/metadata.name": ns})
    return ns_ok and ("podSelector" not in peer or selects(peer["podSelector"], labels))


def port_admits(ports, port, protocol):
    return not ports or any(p.get("protocol", "TCP") == protocol and (
        "port" not in p or p["port"] == port or p["port"] <= port <= p.get("endPort", p["port"])) for p in ports
        if isinstance(p.get("port", 0), int))


def admitted(policies, ns, direction, pod, peer, port, protocol):
    """Whether NetworkPolicies of namespace ns let `pod` (labels) receive from (Ingress) or send to (Egress) `peer`."""
    rules_key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    selecting = [p for p in policies if selects(p["spec"]["podSelector"], pod) and direction in (
        p["spec"].get("policyTypes") or ["Ingress"] + (["Egress"] if "egress" in p["spec"] else []))]
    return not selecting or any(
        port_admits(rule_.get("ports"), port, protocol) and
        (not rule_.get(peers_key) or any(peer_admits(x, ns, peer) for x in rule_[peers_key]))
        for p in selecting for rule_ in p["spec"].get(rules_key, []))


@rule
def database_network(r):
    """Under the default deny, the traffic a CloudNativePG Cluster needs gets through, and nothing else reaches it."""
    clusters = r.all("Cluster")
    if len(clusters) != 1:
        return
    c, pols = clusters[0], r.all("NetworkPolicy")
    if any(p["spec"]["podSelector"].get("matchExpressions") or any(
            peer.get(k, {}).get("matchExpressions") for rule_ in p["spec"].get("ingress", []) + p["spec"].get("egress", [])
            for peer in rule_.get("from", []) + rule_.get("to", []) for k in ("podSelector", "namespaceSelector"))
           for p in pols):
        yield "NetworkPolicies: use matchLabels (this test does not model matchExpressions)"
    ns = c["metadata"].get("namespace")
    inst, job = (ns, cnpg_instance_labels(c)), (ns, cnpg_job_labels(c))
    poolers = [(ns, cnpg_pooler_labels(p)) for p in r.all("Pooler")
               if p["spec"].get("cluster", {}).get("name") == c["metadata"]["name"]]
    orderly = {o["kind"]: (ns, pod_labels(o)) for o in r.pods}
    operator, prometheus = ("cnpg-system", {"app.kubernetes.io/name": "cloudnative-pg"}), ("monitoring", {"app": "prometheus"})
    dns, outside = ("kube-system", {"k8s-app": "kube-dns"}), (EXTERNAL, {})
    must = [(f"Orderly's {k} pods to the instances", o, inst, 5432, "TCP") for k, o in orderly.items()]
    must += [(f"Orderly's {k} pods to PgBouncer", o, p, 5432, "TCP") for k, o in orderly.items() for p in poolers]
    must += [("PgBouncer to the instances", p, inst, 5432, "TCP") for p in poolers]
    must += [("replication between the instances", inst, inst, 5432, "TCP"),
             ("the instances' status to each other", inst, inst, 8000, "TCP"),
             ("a new standby's join Job to the primary", job, inst, 5432, "TCP"),
             ("the operator to the instances' status", operator, inst, 8000, "TCP"),
             ("Prometheus to the instances' metrics", prometheus, inst, 9187, "TCP"),
             ("the instances to DNS", inst, dns, 53, "UDP"), ("the instances to DNS over TCP", inst, dns, 53, "TCP"),
             ("the instances to the API server and the object store", inst, outside, 443, "TCP"),
             ("the instances to the API server on 6443", inst, outside, 6443, "TCP")]
    for p in poolers:
        must += [("PgBouncer to DNS", p, dns, 53, "UDP"), ("PgBouncer to the API server", p, outside, 443, "TCP"),
                 ("PgBouncer to the API server on 6443", p, outside, 6443, "TCP")]
    for what, src, dst, port, proto in must:
        for direction, here, there in (("Egress", src, dst), ("Ingress", dst, src)):
            if here[0] == ns and not admitted(pols, ns, direction, here[1], there, port, proto):
                yield f"NetworkPolicy: {what} ({proto} {port}) is not allowed ({direction.lower()} side)"
    # The database's side only: another pod's own egress (denied by default) must not be what keeps it out.
    stranger, neighbour = ("ingress", {"app.kubernetes.io/name": "ingress-nginx"}), (ns, {"app": "debug"})
    must_not = [("Ingress", inst, stranger, 5432, "another namespace to the instances"),
                ("Ingress", inst, neighbour, 5432, "another pod of the namespace to the instances"),
                ("Ingress", inst, prometheus, 5432, "the monitoring namespace to PostgreSQL itself"),
                ("Egress", inst, outside, 5432, "the instances to PostgreSQL servers elsewhere"),
                ("Egress", inst, next(iter(orderly.values()), neighbour), 8080, "the instances to Orderly's API")]
    for p in poolers:
        must_not += [("Ingress", p, stranger, 5432, "another namespace to PgBouncer"),
                     ("Ingress", p, neighbour, 5432, "another pod of the namespace to PgBouncer"),
                     ("Egress", p, outside, 5432, "PgBouncer to PostgreSQL servers elsewhere")]
    for direction, pod, peer, port, what in must_not:
        if admitted(pols, ns, direction, pod[1], peer, port, "TCP"):
            yield f"NetworkPolicy: {what} (TCP {port}) must not be allowed"


def check(overlay, docs):
    r = Render(overlay, docs)
    return [(fn.__name__, msg) for fn in RULES for msg in fn(r)]


def no_second_rule_copy():
    """Alert and SLO recording rules exist in exactly one file."""
    found = []
    for root, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in (".git", "target", "node_modules")]
        for f in files:
            path = os.path.relpath(os.path.join(root, f), REPO)
            if f.endswith((".yaml", ".yml", ".json")) and path != RULE_SOURCE:
                text = open(os.path.join(root, f), errors="ignore").read()
                if re.search(r"""(^|\s|")alert"?:\s*"?Orderly|record"?:\s*"?orderly_slo:""", text):
                    found.append(path)
    return found


def main():
    args = sys.argv[1:]
    self_test = "--self-test" in args
    renders = dict(a.split("=", 1) for a in args if a != "--self-test")
    failures = [f"another copy of the rules: {p} (the only one is {RULE_SOURCE})" for p in no_second_rule_copy()]
    for overlay, path in renders.items():
        docs = [d for d in yaml.safe_load_all(open(path)) if d]
        failures += [f"{overlay}: [{rid}] {msg}" for rid, msg in check(overlay, docs)]
        if self_test and not failures:
            from k8s_policy_mutations import self_test as run_self_test
            failures += [f"{overlay}: {msg}" for msg in run_self_test(overlay, docs, check, [f.__name__ for f in RULES])]
    if failures:
        sys.exit("k8s_policy: FAILED\n  " + "\n  ".join(failures))
    print(f"policy OK for {', '.join(renders)}: {len(RULES)} rules" + (", each shown to catch its regression" if self_test else ""))


if __name__ == "__main__":
    main()
