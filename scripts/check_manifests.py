#!/usr/bin/env python3
"""Lints and renders helm/switchboard, then checks what a cluster would receive.

Runs in the venv made by scripts/check-deploy.sh (helm-python-sdk embeds Helm v4, so no helm
binary is needed; PyYAML parses the manifests). Renders the chart with its default values, with
values-production.yaml and with a few overrides, and checks the invariants the deployment
depends on: the right subcommand, ports, probes and secret-sourced URLs on every Deployment, the
migration hook, config checksums that really follow the ConfigMap, and for production a PDB and
an HPA per component and a TLS Ingress with WebSocket timeouts. Prints nothing and exits 0 when
every check holds; otherwise prints each failure and exits 1.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

ROOT = Path(__file__).resolve().parent.parent
CHART = ROOT / "helm" / "switchboard"
RELEASE, NAMESPACE = "switchboard", "chat"

# Kubernetes name -> (values block, subcommand).
COMPONENTS = {
    "gateway": ("gateway", "gateway"),
    "agent-management": ("agentManagement", "agents"),
    "conversation-history": ("conversationHistory", "history"),
    "routing": ("routing", "routing"),
    "integrations": ("integrations", "integrations"),
}
# The README's default ports, which the chart's default values keep.
DEFAULT_PORTS = {
    "gateway": {"port": 8080},
    "agent-management": {"grpcPort": 50051, "metricsPort": 9101},
    "conversation-history": {"grpcPort": 50052, "metricsPort": 9102},
    "routing": {"grpcPort": 50053, "metricsPort": 9103},
    "integrations": {"grpcPort": 50054, "metricsPort": 9104},
}
# Where the gateway (and routing) find each service, from the ConfigMap.
URL_ENV = {
    "agent-management": "SWITCHBOARD_AGENTS_URL",
    "conversation-history": "SWITCHBOARD_HISTORY_URL",
    "routing": "SWITCHBOARD_ROUTING_URL",
    "integrations": "SWITCHBOARD_INTEGRATIONS_URL",
}
# nginx keeps a proxied WebSocket open only this long without traffic (server pings every 20 s).
MIN_WS_TIMEOUT_SECS = 300

failures: list[str] = []


def check(condition: bool, message: str) -> bool:
    """Records `message` as a failure unless `condition` holds; returns `condition`."""
    if not condition:
        failures.append(message)
    return condition


class Render:
    """One rendering of the chart: its objects by (kind, name) and the raw template outputs."""

    def __init__(self, label: str, values: dict[str, Any] | None) -> None:
        self.label = label
        self.values: dict[str, Any] = {}
        self.files: dict[str, str] = {}
        self.objects: dict[tuple[str, str], dict[str, Any]] = {}
        with helm.Chart.load(CHART) as chart:
            self.chart = chart.metadata
            self.values = chart.merge_values(values)
            self.files = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
        for path, text in sorted(self.files.items()):
            if path.endswith("NOTES.txt"):
                continue
            for doc in yaml.safe_load_all(text):
                if not doc:
                    continue
                kind, name = doc.get("kind"), (doc.get("metadata") or {}).get("name")
                if not check(bool(kind and name and doc.get("apiVersion")),
                             f"{label}: {path}: object without apiVersion/kind/metadata.name"):
                    continue
                check((kind, name) not in self.objects, f"{label}: {kind} {name} rendered twice")
                self.objects[(kind, name)] = doc

    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        obj = self.objects.get((kind, name))
        check(obj is not None, f"{self.label}: no {kind} {name}")
        return obj

    def of_kind(self, kind: str) -> dict[str, dict[str, Any]]:
        return {name: obj for (k, name), obj in self.objects.items() if k == kind}

    def component_values(self, component: str) -> dict[str, Any]:
        return self.values[COMPONENTS[component][0]]

    def template_text(self, template: str) -> str:
        return self.files.get(f"{CHART.name}/templates/{template}", "")


def lint(label: str, values: dict[str, Any] | None) -> None:
    report = helm.lint(CHART, values, strict=True, namespace=NAMESPACE)
    for message in report.get("messages", []):
        # 1 = info (e.g. "icon is recommended"); warnings fail like errors.
        check(message.get("severity", 3) < 2,
              f"lint {label}: {message.get('path')}: {message.get('error')}")
    for error in report.get("errors") or []:
        failures.append(f"lint {label}: {error}")


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in container.get("env") or []}


def check_secret_ref(r: Render, where: str, env: dict[str, dict[str, Any]], name: str,
                     key: str) -> None:
    ref = ((env.get(name) or {}).get("valueFrom") or {}).get("secretKeyRef")
    if check(ref is not None, f"{where}: {name} must come from a secretKeyRef"):
        secret = r.values["existingSecret"] or f"{RELEASE}-urls"
        check(ref.get("name") == secret and ref.get("key") == r.values["secretKeys"][key],
              f"{where}: {name} reads {ref}, expected Secret {secret} key "
              f"{r.values['secretKeys'][key]}")
        check(not ref.get("optional"), f"{where}: {name} must not be optional")


def check_deployment(r: Render, component: str, config: dict[str, str]) -> None:
    name = f"{RELEASE}-{component}"
    where = f"{r.label}: Deployment {name}"
    dep = r.get("Deployment", name)
    if dep is None:
        return
    v = r.component_values(component)
    command = COMPONENTS[component][1]
    pod = dep["spec"]["template"]
    spec = pod["spec"]
    containers = spec.get("containers") or []
    if not check(len(containers) == 1, f"{where}: expected one container"):
        return
    c = containers[0]
    env = env_of(c)

    # Image and command.
    tag = r.values["image"]["tag"] or r.chart["appVersion"]
    check(c.get("image") == f"{r.values['image']['repository']}:{tag}",
          f"{where}: image {c.get('image')!r}, expected tag {tag!r}")
    check(c.get("args") == [command], f"{where}: args {c.get('args')}, expected [{command!r}]")

    # Selector and labels.
    labels = pod["metadata"].get("labels") or {}
    selector = dep["spec"]["selector"]["matchLabels"]
    check(all(labels.get(k) == val for k, val in selector.items()),
          f"{where}: pod labels do not match the selector")
    check(selector.get("app.kubernetes.io/component") == component,
          f"{where}: selector lacks app.kubernetes.io/component={component}")

    # Replicas: fixed unless an HPA owns them.
    if v["hpa"]["enabled"]:
        check("replicas" not in dep["spec"], f"{where}: replicas set although an HPA scales it")
    else:
        check(dep["spec"].get("replicas") == v["replicaCount"],
              f"{where}: replicas {dep['spec'].get('replicas')} != replicaCount")

    # Resources.
    resources = c.get("resources") or {}
    check(bool((resources.get("requests") or {}).get("cpu"))
          and bool((resources.get("requests") or {}).get("memory")),
          f"{where}: needs cpu and memory requests")
    check(bool((resources.get("limits") or {}).get("memory")), f"{where}: needs a memory limit")

    # Settings: shared ConfigMap, secrets by reference, the real variable names.
    check({"configMapRef": {"name": f"{RELEASE}-config"}} in (c.get("envFrom") or []),
          f"{where}: does not load ConfigMap {RELEASE}-config")
    check_secret_ref(r, where, env, "SWITCHBOARD_NATS_URL", "natsUrl")
    for item in env.values():
        check("postgres://" not in str(item.get("value", ""))
              and "nats://" not in str(item.get("value", "")),
              f"{where}: {item['name']} carries a literal URL; use the Secret")
    ports = {p["name"]: p["containerPort"] for p in c.get("ports") or []}
    annotations = pod["metadata"].get("annotations") or {}

    if component == "gateway":
        port = v["service"]["port"]
        check(env.get("SWITCHBOARD_HTTP_ADDR", {}).get("value") == f"0.0.0.0:{port}",
              f"{where}: SWITCHBOARD_HTTP_ADDR must be 0.0.0.0:{port}")
        check(ports.get("http") == port, f"{where}: container port http must be {port}")
        check("SWITCHBOARD_DATABASE_URL" not in env, f"{where}: the gateway needs no database")
        for kind in ("readinessProbe", "livenessProbe", "startupProbe"):
            probe = c.get(kind) or {}
            get = probe.get("httpGet") or {}
            check(get.get("path") == "/healthz" and get.get("port") in ("http", port),
                  f"{where}: {kind} must be httpGet /healthz on the http port, got {probe}")
        metrics_port = port
    else:
        grpc_port, metrics_port = v["service"]["grpcPort"], v["service"]["metricsPort"]
        check(env.get("SWITCHBOARD_GRPC_ADDR", {}).get("value") == f"0.0.0.0:{grpc_port}",
              f"{where}: SWITCHBOARD_GRPC_ADDR must be 0.0.0.0:{grpc_port}")
        check(env.get("SWITCHBOARD_METRICS_ADDR", {}).get("value") == f"0.0.0.0:{metrics_port}",
              f"{where}: SWITCHBOARD_METRICS_ADDR must be 0.0.0.0:{metrics_port}")
        check(ports.get("grpc") == grpc_port and ports.get("metrics") == metrics_port,
              f"{where}: container ports {ports}, expected grpc {grpc_port}, metrics {metrics_port}")
        check(env.get("SWITCHBOARD_MIGRATE_ON_START", {}).get("value") == "false",
              f"{where}: SWITCHBOARD_MIGRATE_ON_START must be \"false\" (the Job migrates)")
        check_secret_ref(r, where, env, "SWITCHBOARD_DATABASE_URL", "databaseUrl")
        for kind in ("readinessProbe", "livenessProbe", "startupProbe"):
            probe = c.get(kind) or {}
            check((probe.get("grpc") or {}).get("port") == grpc_port
                  and not (probe.get("grpc") or {}).get("service"),
                  f"{where}: {kind} must be a grpc probe on port {grpc_port}, got {probe}")
    check(all(k in (c.get(p) or {}) for p in ("readinessProbe", "livenessProbe")
              for k in ("periodSeconds", "failureThreshold")),
          f"{where}: probes need periodSeconds and failureThreshold")

    # Config rollout and scraping.
    config_text = r.template_text("configmap.yaml")
    check(annotations.get("checksum/config") == hashlib.sha256(config_text.encode()).hexdigest(),
          f"{where}: checksum/config missing or not the ConfigMap's sha256")
    if r.values["metrics"]["podAnnotations"]:
        check(annotations.get("prometheus.io/scrape") == "true"
              and annotations.get("prometheus.io/port") == str(metrics_port)
              and annotations.get("prometheus.io/path") == "/metrics",
              f"{where}: prometheus.io annotations must point at :{metrics_port}/metrics")

    # Security and shutdown.
    psc, csc = spec.get("securityContext") or {}, c.get("securityContext") or {}
    check(psc.get("runAsNonRoot") is True, f"{where}: pod must run as non-root")
    check(csc.get("readOnlyRootFilesystem") is True, f"{where}: root filesystem must be read-only")
    check(csc.get("allowPrivilegeEscalation") is False, f"{where}: privilege escalation allowed")
    grace = int(config.get("SWITCHBOARD_SHUTDOWN_GRACE_SECS", "10"))
    check(spec.get("terminationGracePeriodSeconds", 30) > grace,
          f"{where}: terminationGracePeriodSeconds must exceed the drain time ({grace} s)")

    # The Service in front of it.
    svc = r.get("Service", name)
    if svc is not None:
        check(svc["spec"]["selector"] == selector, f"{r.label}: Service {name} selects other pods")
        svc_ports = {p["name"]: p for p in svc["spec"]["ports"]}
        wanted = ["http"] if component == "gateway" else ["grpc", "metrics"]
        for port_name in wanted:
            p = svc_ports.get(port_name)
            check(p is not None and p.get("port") == ports.get(port_name)
                  and p.get("targetPort") in (port_name, ports.get(port_name)),
                  f"{r.label}: Service {name} port {port_name} does not reach the container")


def check_config(r: Render) -> dict[str, str]:
    cm = r.get("ConfigMap", f"{RELEASE}-config")
    data = (cm or {}).get("data") or {}
    check(data.get("SWITCHBOARD_LOG_FORMAT") == "json", f"{r.label}: logs must be JSON")
    for component, var in URL_ENV.items():
        grpc_port = r.component_values(component)["service"]["grpcPort"]
        check(data.get(var) == f"http://{RELEASE}-{component}:{grpc_port}",
              f"{r.label}: ConfigMap {var}={data.get(var)!r}, expected the {component} Service")
    for secretish in ("SWITCHBOARD_DATABASE_URL", "SWITCHBOARD_NATS_URL",
                      "SWITCHBOARD_BOOTSTRAP_PASSWORD"):
        check(secretish not in data, f"{r.label}: {secretish} belongs in the Secret")
    return data


def check_migrations(r: Render) -> None:
    job = r.get("Job", f"{RELEASE}-migrate")
    if job is None:
        return
    where = f"{r.label}: Job {RELEASE}-migrate"
    annotations = job["metadata"].get("annotations") or {}
    hooks = {h.strip() for h in annotations.get("helm.sh/hook", "").split(",")}
    check(hooks == {"pre-install", "pre-upgrade"},
          f"{where}: helm.sh/hook must be pre-install,pre-upgrade, got {hooks}")
    containers = job["spec"]["template"]["spec"]["containers"]
    c = containers[0]
    check(c.get("args") == ["migrate"], f"{where}: args must be [\"migrate\"]")
    tag = r.values["image"]["tag"] or r.chart["appVersion"]
    check(c.get("image") == f"{r.values['image']['repository']}:{tag}",
          f"{where}: runs {c.get('image')}, not the release's image")
    check(job["spec"]["template"]["spec"].get("restartPolicy") in ("Never", "OnFailure"),
          f"{where}: needs restartPolicy Never or OnFailure")
    check_secret_ref(r, where, env_of(c), "SWITCHBOARD_DATABASE_URL", "databaseUrl")
    check("envFrom" not in c, f"{where}: a pre-install hook cannot rely on the ConfigMap")
    # The chart's own Secret must exist before the Job runs.
    secret = r.objects.get(("Secret", f"{RELEASE}-urls"))
    if r.values["existingSecret"]:
        check(secret is None, f"{r.label}: Secret rendered although existingSecret is set")
    elif check(secret is not None, f"{r.label}: no Secret {RELEASE}-urls"):
        sa = secret["metadata"].get("annotations") or {}
        check({h.strip() for h in sa.get("helm.sh/hook", "").split(",")} >= hooks
              and int(sa.get("helm.sh/hook-weight", "0"))
              < int(annotations.get("helm.sh/hook-weight", "0")),
              f"{r.label}: Secret {RELEASE}-urls must be a hook created before the Job")
        data = secret.get("stringData") or {}
        check(data.get(r.values["secretKeys"]["databaseUrl"]) == r.values["postgres"]["url"]
              and data.get(r.values["secretKeys"]["natsUrl"]) == r.values["nats"]["url"],
              f"{r.label}: Secret {RELEASE}-urls does not hold postgres.url and nats.url")


def check_scaling(r: Render) -> None:
    for component in COMPONENTS:
        name, v = f"{RELEASE}-{component}", r.component_values(component)
        selector = ((r.objects.get(("Deployment", name)) or {}).get("spec") or {}).get(
            "selector", {}).get("matchLabels")
        pdb = r.objects.get(("PodDisruptionBudget", name))
        if v["pdb"]["enabled"]:
            if check(pdb is not None, f"{r.label}: no PodDisruptionBudget {name}"):
                check(pdb["apiVersion"] == "policy/v1", f"{r.label}: PDB {name} not policy/v1")
                check(pdb["spec"]["selector"]["matchLabels"] == selector,
                      f"{r.label}: PDB {name} selects other pods")
                check(("minAvailable" in pdb["spec"]) != ("maxUnavailable" in pdb["spec"]),
                      f"{r.label}: PDB {name} needs exactly one of minAvailable/maxUnavailable")
        else:
            check(pdb is None, f"{r.label}: PDB {name} rendered although pdb.enabled is false")
        hpa = r.objects.get(("HorizontalPodAutoscaler", name))
        if v["hpa"]["enabled"]:
            if check(hpa is not None, f"{r.label}: no HorizontalPodAutoscaler {name}"):
                spec = hpa["spec"]
                check(hpa["apiVersion"] == "autoscaling/v2", f"{r.label}: HPA {name} not v2")
                check(spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                                 "name": name},
                      f"{r.label}: HPA {name} scales {spec['scaleTargetRef']}")
                check(1 <= spec["minReplicas"] <= spec["maxReplicas"],
                      f"{r.label}: HPA {name} min/max replicas out of order")
                check(bool(spec.get("metrics")), f"{r.label}: HPA {name} has no metrics")
        else:
            check(hpa is None, f"{r.label}: HPA {name} rendered although hpa.enabled is false")


def check_ingress(r: Render) -> None:
    ingresses = r.of_kind("Ingress")
    ing_values = r.values["gateway"]["ingress"]
    if not ing_values["enabled"]:
        check(not ingresses, f"{r.label}: Ingress rendered although gateway.ingress.enabled=false")
        return
    ing = r.get("Ingress", f"{RELEASE}-gateway")
    if ing is None:
        return
    where = f"{r.label}: Ingress {RELEASE}-gateway"
    annotations = ing["metadata"].get("annotations") or {}
    for key in ("nginx.ingress.kubernetes.io/proxy-read-timeout",
                "nginx.ingress.kubernetes.io/proxy-send-timeout"):
        value = str(annotations.get(key, "0")).rstrip("s")
        check(value.isdigit() and int(value) >= MIN_WS_TIMEOUT_SECS,
              f"{where}: {key} must be at least {MIN_WS_TIMEOUT_SECS} s for WebSockets")
    for rule in ing["spec"].get("rules") or []:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            check(backend["name"] == f"{RELEASE}-gateway"
                  and backend["port"] in ({"name": "http"},
                                          {"number": r.values["gateway"]["service"]["port"]}),
                  f"{where}: path {path['path']} does not reach the gateway Service")
    check(bool(ing["spec"].get("rules")), f"{where}: no rules")


def check_render(r: Render) -> None:
    config = check_config(r)
    for component in COMPONENTS:
        check_deployment(r, component, config)
    check(set(r.of_kind("Deployment")) == {f"{RELEASE}-{c}" for c in COMPONENTS},
          f"{r.label}: Deployments {sorted(r.of_kind('Deployment'))}")
    check_migrations(r)
    check_scaling(r)
    check_ingress(r)


def main() -> int:
    production = yaml.safe_load((CHART / "values-production.yaml").read_text())
    lint("defaults", None)
    lint("values-production.yaml", production)

    try:
        default = Render("defaults", None)
        prod = Render("values-production.yaml", production)
        tagged = Render("image.tag=9.9.9", {"image": {"tag": "9.9.9"}})
        changed = Render("config.rustLog=debug", {"config": {"rustLog": "debug"}})
        ingress = Render("gateway.ingress.enabled=true", {"gateway": {"ingress": {"enabled": True}}})
        bare = Render("existingSecret, no migrations, ServiceMonitors",
                      {"existingSecret": "mine", "migrations": {"enabled": False},
                       "metrics": {"serviceMonitor": {"enabled": True}}})
    except (helm.HelmError, yaml.YAMLError) as error:
        for failure in failures:
            print(f"check_manifests: {failure}", file=sys.stderr)
        print(f"check_manifests: cannot render the chart: {error}", file=sys.stderr)
        return 1

    for r in (default, prod, tagged, changed, ingress):
        check_render(r)

    # Defaults: image tag = appVersion, nothing production-only switched on.
    dep = default.objects.get(("Deployment", f"{RELEASE}-gateway"), {})
    image = dep.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [{}])[0]
    check(image.get("image", "").endswith(f":{default.chart['appVersion']}"),
          f"defaults: image tag must default to appVersion {default.chart['appVersion']}")
    check(not default.of_kind("HorizontalPodAutoscaler") and not default.of_kind("Ingress"),
          "defaults: no HPA or Ingress unless enabled")
    for component, ports in DEFAULT_PORTS.items():
        service = default.component_values(component)["service"]
        check(all(service.get(k) == port for k, port in ports.items()),
              f"defaults: {component} ports {service}, expected the README's {ports}")

    # Production: every component has a PDB and an HPA, TLS Ingress, an existing Secret.
    for component in COMPONENTS:
        check((("PodDisruptionBudget", f"{RELEASE}-{component}") in prod.objects)
              and (("HorizontalPodAutoscaler", f"{RELEASE}-{component}") in prod.objects),
              f"values-production.yaml: {component} needs a PDB and an HPA")
    ing = prod.objects.get(("Ingress", f"{RELEASE}-gateway"), {})
    check(bool(ing.get("spec", {}).get("tls")), "values-production.yaml: the Ingress needs TLS")
    check(bool(prod.values["existingSecret"]) and not prod.of_kind("Secret"),
          "values-production.yaml: URLs must come from existingSecret")

    # The checksum follows the ConfigMap, so a config change rolls pods.
    def checksum(r: Render) -> str:
        pod = r.objects[("Deployment", f"{RELEASE}-routing")]["spec"]["template"]
        return pod["metadata"]["annotations"].get("checksum/config", "")
    check(checksum(default) != checksum(changed), "checksum/config ignores a config change")

    # existingSecret and migrations off: every secretKeyRef names it, services migrate at start.
    for component in COMPONENTS:
        dep = bare.objects.get(("Deployment", f"{RELEASE}-{component}"))
        if not check(dep is not None, f"existingSecret render: no {component} Deployment"):
            continue
        env = env_of(dep["spec"]["template"]["spec"]["containers"][0])
        refs = [e["valueFrom"]["secretKeyRef"]["name"] for e in env.values()
                if "secretKeyRef" in (e.get("valueFrom") or {})]
        check(bool(refs) and set(refs) == {"mine"},
              f"existingSecret render: {component} reads Secrets {refs}")
        if component != "gateway":
            check(env.get("SWITCHBOARD_MIGRATE_ON_START", {}).get("value") == "true",
                  f"migrations off: {component} must migrate on start")
    check(not bare.of_kind("Job") and not bare.of_kind("Secret"),
          "existingSecret render: no Job when migrations are off, no chart Secret")

    # ServiceMonitors scrape the port that serves /metrics.
    monitors = bare.of_kind("ServiceMonitor")
    check(not default.of_kind("ServiceMonitor"), "defaults: ServiceMonitor rendered")
    for component in COMPONENTS:
        name = f"{RELEASE}-{component}"
        monitor, svc = monitors.get(name), bare.objects.get(("Service", name))
        if check(monitor is not None and svc is not None, f"ServiceMonitor render: no {name}"):
            port = "http" if component == "gateway" else "metrics"
            check(monitor["spec"]["selector"]["matchLabels"].items()
                  <= svc["metadata"]["labels"].items()
                  and [e.get("port") for e in monitor["spec"]["endpoints"]] == [port]
                  and port in {p["name"] for p in svc["spec"]["ports"]},
                  f"ServiceMonitor {name} must select its Service and scrape port {port}")

    for failure in failures:
        print(f"check_manifests: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
