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
    ("network_policy", "a policy letting anything reach every pod", lambda d: d.append(
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "allow-all", "labels": {
            "app.kubernetes.io/name": "orderly", "app.kubernetes.io/component": "network"}},
         "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{}]}})),
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


def cluster(docs):
    return kind(docs, "Cluster")["spec"]


def db_policy(docs, name="orderly-db"):
    return kind(docs, "NetworkPolicy", name)["spec"]


def database_url(obj):
    return next(e for e in c0(obj)["env"] if e["name"] == "ORDERLY_DATABASE_URL")["valueFrom"]["secretKeyRef"]


def service_role(docs):
    """The managed role the server connects as (components/cloudnative-pg: orderly_svc)."""
    return next(ro for ro in cluster(docs)["managed"]["roles"] if ro["name"] == "orderly_svc")


# Where the render has no CloudNativePG Cluster (staging: an external database, one URL in orderly-secrets).
EXTERNAL_DATABASE_MUTATIONS = [
    ("migration", "the Job migrates another database than the server's", lambda d: database_url(kind(d, "Job")).update(
        key="other-database-url")),
]


# Where the render has a CloudNativePG Cluster (production, through components/cloudnative-pg).
DATABASE_MUTATIONS = [
    ("database", "production without its Cluster", lambda d: d.remove(kind(d, "Cluster"))),
    ("database", "PostgreSQL by major version only", lambda d: cluster(d).update(imageName="ghcr.io/cloudnative-pg/postgresql:15")),
    ("database", "two instances", lambda d: cluster(d).update(instances=2)),
    ("database", "asynchronous replication", lambda d: cluster(d)["postgresql"].pop("synchronous")),
    ("database", "synchronous only while standbys are healthy", lambda d: cluster(d)["postgresql"]["synchronous"].update(
        dataDurability="preferred")),
    ("database", "no synchronous standby required", lambda d: cluster(d)["postgresql"]["synchronous"].update(number=0)),
    ("database", "both standbys synchronous (no spare)", lambda d: cluster(d)["postgresql"]["synchronous"].update(number=2)),
    ("database", "the legacy synchronous fields", lambda d: cluster(d).update(minSyncReplicas=1, maxSyncReplicas=1)),
    ("database", "anti-affinity only preferred", lambda d: cluster(d)["affinity"].update(podAntiAffinityType="preferred")),
    ("database", "no anti-affinity", lambda d: cluster(d)["affinity"].update(enablePodAntiAffinity=False)),
    ("database", "no backups", lambda d: cluster(d).pop("backup")),
    ("database", "no backup retention", lambda d: cluster(d)["backup"].pop("retentionPolicy")),
    ("database", "no backup credentials", lambda d: cluster(d)["backup"]["barmanObjectStore"].pop("s3Credentials")),
    ("database", "a backup key inline in the Cluster's environment", lambda d: cluster(d).update(
        env=[{"name": "AWS_SECRET_ACCESS_KEY", "value": "wJalrXUtnFEMI"}])),
    ("database", "backup credentials in the endpoint URL", lambda d: cluster(d)["backup"]["barmanObjectStore"].update(
        endpointURL="https://AKIA0:wJalrXUtnFEMI@s3.example.com")),
    ("database", "no PodMonitor", lambda d: d.remove(kind(d, "PodMonitor"))),
    ("database", "the PodMonitor scrapes PgBouncer too", lambda d: kind(d, "PodMonitor")["spec"]["selector"]["matchLabels"].pop(
        "cnpg.io/podRole")),
    ("database", "default metrics off", lambda d: cluster(d)["monitoring"].update(disableDefaultQueries=True)),
    ("database", "the server still reads orderly-secrets", lambda d: database_url(workload(d)).update(
        name="orderly-secrets", key="database-url")),
    ("database", "the Job reads another key of the app Secret", lambda d: database_url(kind(d, "Job")).update(key="host")),
    # The roles: the owner migrates, the server connects as orderly_svc, a member of orderly_app.
    ("database", "the server connects as the owner (orderly-db-app)", lambda d: database_url(workload(d)).update(
        name="orderly-db-app")),
    ("database", "the Job migrates as the service role", lambda d: database_url(kind(d, "Job")).update(
        name="orderly-db-service")),
    ("database", "the server's Secret belongs to no managed role", lambda d: database_url(workload(d)).update(
        name="orderly-db-other")),
    ("database", "the server reads the service Secret's password, not its uri", lambda d: database_url(workload(d)).update(
        key="password")),
    ("database", "no managed roles", lambda d: cluster(d).pop("managed")),
    ("database", "the service role without inRoles", lambda d: service_role(d).pop("inRoles")),
    ("database", "the service role in another role than orderly_app", lambda d: service_role(d).update(
        inRoles=["pg_read_all_data"])),
    ("database", "the service role cannot log in", lambda d: service_role(d).update(login=False)),
    ("database", "the service role is to be dropped", lambda d: service_role(d).update(ensure="absent")),
    ("database", "the service role is a superuser", lambda d: service_role(d).update(superuser=True)),
    ("database", "the service role may create roles", lambda d: service_role(d).update(createrole=True)),
    ("database", "the service role may create databases", lambda d: service_role(d).update(createdb=True)),
    ("database", "the service role bypasses row security", lambda d: service_role(d).update(bypassrls=True)),
    ("database", "the service role does not inherit orderly_app", lambda d: service_role(d).update(inherit=False)),
    ("database", "the service role is the owner", lambda d: service_role(d).update(name="orderly")),
    ("database", "the service role's password is disabled", lambda d: service_role(d).update(disablePassword=True)),
    ("database", "the service role without a password Secret", lambda d: service_role(d).pop("passwordSecret")),
    ("database", "the service role's passwordSecret is not a Secret reference", lambda d: service_role(d).update(
        passwordSecret="orderly-db-service")),
    ("database", "the service role's connections unlimited", lambda d: service_role(d).pop("connectionLimit")),
    ("database", "the service role's connectionLimit below the pods' pools", lambda d: service_role(d).update(
        connectionLimit=200)),
    ("database", "the service role's connectionLimit leaves the owner no connection", lambda d: service_role(d).update(
        connectionLimit=300)),
    ("database", "maxReplicas raised without the connectionLimit", lambda d: kind(d, "HorizontalPodAutoscaler")[
        "spec"].update(maxReplicas=30)),
    ("database", "the pool per pod raised without the connectionLimit", lambda d: config(d).update(
        ORDERLY_DB_MAX_CONNECTIONS="20")),
    ("database", "the service role's Secret in the render", lambda d: d.append(
        {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/basic-auth", "metadata": {
            "name": "orderly-db-service", "labels": {"app.kubernetes.io/name": "orderly",
                                                     "app.kubernetes.io/component": "database"}},
         "stringData": {"username": "orderly_svc", "password": "x"}})),
    ("database", "the bootstrap no longer creates orderly_app", lambda d: cluster(d)["bootstrap"]["initdb"].pop(
        "postInitApplicationSQL")),
    ("database", "the database URL is optional", lambda d: database_url(workload(d)).update(optional=True)),
    ("database", "the server in transaction-pooler mode on the -rw Service", lambda d: config(d).update(
        ORDERLY_DB_TRANSACTION_POOLER="true")),
    ("database", "the Pooler in session mode", lambda d: kind(d, "Pooler")["spec"]["pgbouncer"].update(poolMode="session")),
    ("database_network", "Orderly's egress still goes to namespace postgres", lambda d: kind(d, "NetworkPolicy", "orderly")[
        "spec"]["egress"][1].update(to=[{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "postgres"}}}])),
    ("database_network", "PostgreSQL open to every namespace", lambda d: db_policy(d)["ingress"].append(
        {"from": [{"namespaceSelector": {}}], "ports": [{"port": 5432, "protocol": "TCP"}]})),
    ("database_network", "no replication between the instances", lambda d: db_policy(d)["ingress"].pop(1)),
    ("database_network", "the operator cannot reach the status port", lambda d: db_policy(d)["ingress"][2].update(
        ports=[{"port": 5432, "protocol": "TCP"}])),
    ("database_network", "no metrics scrape", lambda d: db_policy(d)["ingress"].pop(3)),
    ("database_network", "the instances may connect anywhere", lambda d: db_policy(d)["egress"].append({})),
    ("database_network", "the instances cannot reach the API server", lambda d: db_policy(d)["egress"][2]["ports"].pop(1)),
    ("database_network", "PgBouncer has no DNS", lambda d: db_policy(d, "orderly-db-pooler-rw")["egress"].pop(1)),
    ("database_network", "PgBouncer open to every pod of the namespace", lambda d: db_policy(d, "orderly-db-pooler-rw")[
        "ingress"][0]["from"][0]["podSelector"].update(matchLabels={})),
]


def self_test(overlay, docs, check, rule_names):
    mutations = MUTATIONS + (CANARY_MUTATIONS if overlay == "production" else [])
    mutations += DATABASE_MUTATIONS if any(d["kind"] == "Cluster" for d in docs) else EXTERNAL_DATABASE_MUTATIONS
    everything = MUTATIONS + CANARY_MUTATIONS + DATABASE_MUTATIONS + EXTERNAL_DATABASE_MUTATIONS
    missed = [f"self-test: rule {name} has no deliberate regression here" for name in rule_names
              if name not in {rid for rid, _, _ in everything}]
    for rule_id, what, mutate in mutations:
        mutated = copy.deepcopy(docs)
        mutate(mutated)
        if rule_id not in {rid for rid, _ in check(overlay, mutated)}:
            missed.append(f"self-test: rule {rule_id} did not notice: {what}")
    print(f"{overlay}: {len(mutations)} deliberate regressions, {len(mutations) - len(missed)} caught")
    return missed
