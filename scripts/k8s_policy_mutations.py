"""Regressions that scripts/k8s_policy.py must catch, one or more per rule: its --self-test applies each to a copy
of the rendered manifests and fails unless the named rule reports it. A policy that cannot fail proves nothing.
"""
import copy


def kind(docs, k, name=None):
    return next(d for d in docs if d["kind"] == k and name in (None, d["metadata"]["name"]))


def workload(docs):
    return next(d for d in docs if d["kind"] in ("Deployment", "Rollout"))


def pod(obj):
    return obj["spec"]["template"]["spec"]


def c0(obj):
    return pod(obj)["containers"][0]


def config(docs):
    return next(d for d in docs if d["kind"] == "ConfigMap")["data"]


def set_max_unavailable(docs, value):
    w = workload(docs)
    strategy = w["spec"]["strategy"]
    (strategy["rollingUpdate"] if w["kind"] == "Deployment" else strategy["canary"])["maxUnavailable"] = value


def canary(docs):
    return workload(docs)["spec"]["strategy"]["canary"]


def metric(docs, i=0):
    return kind(docs, "AnalysisTemplate")["spec"]["metrics"][i]


NGINX = "nginx.ingress.kubernetes.io/"


def nginx(docs):
    return kind(docs, "Ingress")["metadata"]["annotations"]


def ingress_paths(docs):
    return kind(docs, "Ingress")["spec"]["rules"][0]["http"]["paths"]


MUTATIONS = [
    ("labels", "the Job loses its component label", lambda d: kind(d, "Job")["metadata"]["labels"].pop("app.kubernetes.io/component")),
    ("workload_kind", "the workload sets replicas", lambda d: workload(d)["spec"].update(replicas=3)),
    ("rolling", "maxUnavailable 1", lambda d: set_max_unavailable(d, 1)),
    ("service", "the Service selects the migration Job", lambda d: kind(d, "Service")["spec"].update(selector={"app.kubernetes.io/name": "orderly"})),
    ("service", "the Service's http port goes to the admin port", lambda d: kind(d, "Service")["spec"]["ports"][0].update(targetPort="admin")),
    ("hpa", "minReplicas 1", lambda d: kind(d, "HorizontalPodAutoscaler")["spec"].update(minReplicas=1)),
    ("hpa", "no request-rate metric", lambda d: kind(d, "HorizontalPodAutoscaler")["spec"]["metrics"].pop(1)),
    ("hpa", "no scale-down behaviour", lambda d: kind(d, "HorizontalPodAutoscaler")["spec"]["behavior"].pop("scaleDown")),
    ("hpa", "the HPA scales something else", lambda d: kind(d, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"].update(name="other")),
    ("pdb", "maxUnavailable 2", lambda d: kind(d, "PodDisruptionBudget")["spec"].update(maxUnavailable=2)),
    ("spread", "zone spread is DoNotSchedule", lambda d: pod(workload(d))["topologySpreadConstraints"][0].update(whenUnsatisfiable="DoNotSchedule")),
    ("spread", "no node spread", lambda d: pod(workload(d))["topologySpreadConstraints"].pop(1)),
    ("network_policy", "no default deny", lambda d: d.remove(kind(d, "NetworkPolicy", "default-deny"))),
    ("network_policy", "egress to anywhere", lambda d: kind(d, "NetworkPolicy", "orderly")["spec"]["egress"].append({})),
    ("network_policy", "ingress from any namespace", lambda d: kind(d, "NetworkPolicy", "orderly")["spec"]["ingress"][0].update({"from": [{"namespaceSelector": {}}]})),
    ("network_policy", "egress to another port", lambda d: kind(d, "NetworkPolicy", "orderly")["spec"]["egress"][1]["ports"][0].update(port=443)),
    ("service_account", "a token is mounted", lambda d: pod(workload(d)).update(automountServiceAccountToken=True)),
    ("service_account", "the ServiceAccount mounts tokens", lambda d: kind(d, "ServiceAccount").update(automountServiceAccountToken=True)),
    ("pod_security", "writable root filesystem", lambda d: c0(workload(d))["securityContext"].update(readOnlyRootFilesystem=False)),
    ("pod_security", "capabilities kept", lambda d: c0(workload(d))["securityContext"].pop("capabilities")),
    ("pod_security", "runs as root", lambda d: c0(workload(d))["securityContext"].update(runAsUser=0)),
    ("pod_security", "no seccomp profile", lambda d: pod(workload(d))["securityContext"].pop("seccompProfile")),
    ("pod_security", "the Job may escalate privileges", lambda d: c0(kind(d, "Job"))["securityContext"].update(allowPrivilegeEscalation=True)),
    ("pod_security", "/tmp is not an emptyDir", lambda d: c0(workload(d))["volumeMounts"].pop(1)),
    ("pod_security", "the Namespace stops enforcing restricted", lambda d: kind(d, "Namespace")["metadata"]["labels"].pop("pod-security.kubernetes.io/enforce")),
    ("resources", "no memory limit", lambda d: c0(workload(d))["resources"]["limits"].pop("memory")),
    ("resources", "a limit below its request", lambda d: c0(kind(d, "Job"))["resources"]["limits"].update(cpu="10m")),
    ("probes", "readiness on /healthz", lambda d: c0(workload(d))["readinessProbe"]["httpGet"].update(path="/healthz")),
    ("probes", "liveness on the API port", lambda d: c0(workload(d))["livenessProbe"]["httpGet"].update(port="http")),
    ("prestop", "preStop by exec", lambda d: c0(workload(d))["lifecycle"].update(preStop={"exec": {"command": ["sleep", "5"]}})),
    ("grace", "grace period 20 s", lambda d: pod(workload(d)).update(terminationGracePeriodSeconds=20)),
    ("grace", "drain timeout 40 s", lambda d: config(d).update(ORDERLY_DRAIN_TIMEOUT_MS="40000")),
    ("grace", "request timeout above the drain timeout", lambda d: config(d).update(ORDERLY_REQUEST_TIMEOUT_MS="30000")),
    ("migration", "the Job serves instead of migrating", lambda d: c0(kind(d, "Job")).update(args=["serve"])),
    ("migration", "the Job runs another image", lambda d: c0(kind(d, "Job")).update(image="registry.example.com/orderly/orderly:0.0.9")),
    ("migration", "pods migrate on start", lambda d: config(d).update(ORDERLY_MIGRATE_ON_START="true")),
    ("migration", "the Job misses a secret", lambda d: c0(kind(d, "Job"))["env"].pop(0)),
    ("config", "a setting is not wired", lambda d: config(d).pop("ORDERLY_LOG_LEVEL")),
    ("tokens", "the JWKS over plain HTTP", lambda d: config(d).update(ORDERLY_JWT_JWKS_URL="http://idp.example.com/jwks.json")),
    ("tokens", "a shared secret in the Job", lambda d: c0(kind(d, "Job"))["env"].append(
        {"name": "ORDERLY_JWT_SECRET", "valueFrom": {"secretKeyRef": {"name": "orderly-secrets", "key": "jwt-secret"}}})),
    ("config", "the database URL in the ConfigMap", lambda d: config(d).update(ORDERLY_DATABASE_URL="postgres://x")),
    ("config", "a misspelt setting", lambda d: config(d).update(ORDERLY_DRAIN_TIMEOUT="20000")),
    ("config", "the database URL is optional", lambda d: c0(workload(d))["env"][0]["valueFrom"]["secretKeyRef"].update(optional=True)),
    ("config", "development mode", lambda d: config(d).update(ORDERLY_ENV="development")),
    ("config", "the admin listener on another port", lambda d: config(d).update(ORDERLY_ADMIN_LISTEN="0.0.0.0:9091")),
    ("service_monitor", "no template-hash relabeling", lambda d: kind(d, "ServiceMonitor")["spec"]["endpoints"][0].pop("relabelings")),
    ("service_monitor", "scrapes the API port", lambda d: kind(d, "ServiceMonitor")["spec"]["endpoints"][0].update(port="http")),
    ("prometheus_rule", "a rule edited in the render", lambda d: kind(d, "PrometheusRule")["spec"]["groups"][0]["rules"][0].update(expr="vector(1)")),
    ("ingress", "the Ingress exposes the admin port", lambda d: ingress_paths(d)[0]["backend"]["service"]["port"].update(name="admin")),
    ("ingress", "no TLS", lambda d: kind(d, "Ingress")["spec"].pop("tls")),
    ("ingress", "a body size above Orderly's", lambda d: nginx(d).update({NGINX + "proxy-body-size": "1m"})),
    ("ingress", "nginx times out before Orderly", lambda d: nginx(d).update({NGINX + "proxy-read-timeout": "5"})),
    ("ingress", "no rate limit", lambda d: nginx(d).pop(NGINX + "limit-rps")),
    ("images", "the image is :latest", lambda d: c0(workload(d)).update(image="registry.example.com/orderly/orderly:latest")),
    ("images", "the image has no tag", lambda d: c0(kind(d, "Job")).update(image="orderly")),
]

CANARY_MUTATIONS = [
    ("canary", "no pause after 10%", lambda d: canary(d)["steps"].pop(1)),
    ("canary", "weights 20/50", lambda d: canary(d).update(steps=[{"setWeight": 20}, {"pause": {}}, {"setWeight": 50}, {"pause": {}}])),
    ("canary", "no background analysis", lambda d: canary(d).pop("analysis")),
    ("canary", "analysis from step 4", lambda d: canary(d)["analysis"].update(startingStep=4)),
    ("canary", "no canary hash argument", lambda d: canary(d)["analysis"]["args"].pop(0)),
    ("canary", "no abort on progress deadline", lambda d: workload(d)["spec"].update(progressDeadlineAbort=False)),
    ("analysis_template", "success without the len guard", lambda d: metric(d).update(successCondition="result[0] >= 0.99")),
    ("analysis_template", "a query over every pod", lambda d: metric(d)["provider"]["prometheus"].update(
        query=metric(d)["provider"]["prometheus"]["query"].replace(',rollouts_pod_template_hash="{{args.canary-hash}}"', "", 1))),
    ("analysis_template", "no inconclusive limit", lambda d: metric(d, 1).pop("inconclusiveLimit")),
    ("analysis_template", "no latency metric", lambda d: kind(d, "AnalysisTemplate")["spec"]["metrics"].pop(1)),
]


def self_test(overlay, docs, check, rule_names):
    mutations = MUTATIONS + (CANARY_MUTATIONS if overlay == "production" else [])
    missed = [f"self-test: rule {name} has no deliberate regression here" for name in rule_names
              if name not in {rid for rid, _, _ in MUTATIONS + CANARY_MUTATIONS}]
    for rule_id, what, mutate in mutations:
        mutated = copy.deepcopy(docs)
        mutate(mutated)
        if rule_id not in {rid for rid, _ in check(overlay, mutated)}:
            missed.append(f"self-test: rule {rule_id} did not notice: {what}")
    print(f"{overlay}: {len(mutations)} deliberate regressions, {len(mutations) - len(missed)} caught")
    return missed
