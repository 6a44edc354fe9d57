#!/usr/bin/env python3
"""Checks the observability files against docs/operations.md and docker-compose.yml.

- The Grafana dashboard (deploy/grafana/dashboards/*.json) parses, uses the provisioned
  datasource, and every PromQL query names only metrics of the metric table in
  docs/operations.md (after stripping _bucket/_sum/_count), uses them as their type allows
  (counters and histograms inside rate()/increase(), gauges not) and groups or filters only by
  their documented labels. The alert rules' queries get the same metric and label checks.
- Grafana's provisioning and the collector config are wired the way docker-compose.yml mounts
  them.
- Stages Prometheus's files into STAGE_DIR with the layout the prometheus container sees (from
  docker-compose.yml's mounts), rewriting absolute rule_files paths, so that
  `promtool check config STAGE_DIR/etc/prometheus/prometheus.yml` also loads the rules.

Usage: check_observability.py STAGE_DIR. Prints nothing and exits 0 when everything holds.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "operations.md"
COMPOSE = ROOT / "docker-compose.yml"
DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
PROVISIONING = ROOT / "deploy" / "grafana" / "provisioning"
ALERTS = ROOT / "deploy" / "prometheus-alerts.yml"
COLLECTOR = ROOT / "deploy" / "otel-collector.yml"

# What the SLO dashboard must show (docs/operations.md, "Dashboards").
REQUIRED_ON_DASHBOARD = {
    "switchboard_message_delivery_seconds", "switchboard_ws_ack_seconds",
    "switchboard_routing_queue_length", "switchboard_routing_oldest_wait_seconds",
    "switchboard_routing_queue_wait_seconds", "switchboard_routing_assignments_total",
    "switchboard_routing_requeues_total", "switchboard_outbox_lag_seconds",
    "switchboard_outbox_publish_failures_total", "switchboard_ws_resumes_total",
    "switchboard_ws_slow_consumer_closes_total", "switchboard_ws_connections",
    "switchboard_ws_frames_received_total", "switchboard_ws_frames_sent_total",
    "switchboard_grpc_server_requests_total", "switchboard_grpc_server_request_duration_seconds",
    "switchboard_db_pool_connections", "switchboard_agent_status_changes_total",
    "switchboard_webhook_deliveries_total", "switchboard_webhook_delivery_seconds",
    "switchboard_webhook_backlog",
}
# Labels every series has, or that histogram_quantile needs.
ALWAYS_LABELS = {"le", "job", "instance", "__name__"}
METRIC = re.compile(r"\b(switchboard_[a-z0-9_]+)\b")
RATE_FUNCS = ("rate(", "irate(", "increase(")

failures: list[str] = []


def check(condition: bool, message: str) -> bool:
    if not condition:
        failures.append(message)
    return condition


def documented_metrics() -> dict[str, tuple[str, set[str]]]:
    """Returns {metric: (type, labels)} from the metric table of docs/operations.md."""
    row = re.compile(r"^\|\s*`(switchboard_[a-z0-9_]+)`\s*\|\s*(\w+)\s*\|([^|]*)\|")
    metrics = {}
    for line in DOCS.read_text().splitlines():
        m = row.match(line)
        if m:
            metrics[m.group(1)] = (m.group(2), set(re.findall(r"`(\w+)`", m.group(3))))
    check(len(metrics) >= 10, f"{DOCS.name}: found only {len(metrics)} metrics in the table")
    return metrics


def base_name(name: str, metrics: dict[str, tuple[str, set[str]]]) -> tuple[str, str]:
    """Returns (documented name, suffix) of a series name, e.g. (x_seconds, _bucket)."""
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name[: -len(suffix)] in metrics:
            return name[: -len(suffix)], suffix
    return name, ""


def check_query(where: str, expr: str, legend: str,
                metrics: dict[str, tuple[str, set[str]]]) -> set[str]:
    """Checks one PromQL expression; returns the documented metrics it uses."""
    used: set[str] = set()
    labels: set[str] = set(ALWAYS_LABELS)
    for m in METRIC.finditer(expr):
        name, suffix = base_name(m.group(1), metrics)
        if not check(name in metrics, f"{where}: {m.group(1)} is not in {DOCS.name}'s metric table"):
            continue
        used.add(name)
        kind, metric_labels = metrics[name]
        labels |= metric_labels
        before = expr[: m.start()].rstrip()
        in_rate = before.endswith(RATE_FUNCS)
        if kind == "histogram":
            check(suffix != "", f"{where}: histogram {name} needs _bucket, _sum or _count")
            check(in_rate, f"{where}: {m.group(1)} must be inside rate()/increase()")
        elif kind == "counter":
            check(in_rate, f"{where}: counter {name} must be inside rate()/increase()")
        elif kind == "gauge":
            check(not in_rate, f"{where}: gauge {name} cannot go through rate()")
    for group in re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", expr):
        for label in filter(None, (x.strip() for x in group.split(","))):
            check(label in labels, f"{where}: groups by {label!r}, not a label of {sorted(used)}")
    for matchers in re.findall(r"\{([^}]*)\}", expr):
        for label in re.findall(r"(\w+)\s*(?:=~|!~|!=|=)", matchers):
            check(label in labels, f"{where}: filters on {label!r}, not a label of {sorted(used)}")
    for label in re.findall(r"\{\{\s*(\w+)\s*\}\}", legend):
        check(label in labels, f"{where}: legend uses {label!r}, not a label of {sorted(used)}")
    return used


def walk_panels(panels: list[dict[str, Any]]):
    for panel in panels:
        yield panel
        yield from walk_panels(panel.get("panels") or [])


def check_dashboards(metrics: dict[str, tuple[str, set[str]]], datasource_uid: str) -> None:
    files = sorted(DASHBOARDS.glob("*.json"))
    check(bool(files), f"no dashboard in {DASHBOARDS}")
    for path in files:
        try:
            dashboard = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            failures.append(f"{path.name}: not JSON: {error}")
            continue
        check(bool(dashboard.get("uid")) and bool(dashboard.get("title")),
              f"{path.name}: needs uid and title")
        check(int(dashboard.get("schemaVersion", 0)) >= 36, f"{path.name}: schemaVersion < 36")
        used: set[str] = set()
        ids: set[int] = set()
        for panel in walk_panels(dashboard.get("panels") or []):
            where = f"{path.name}: panel {panel.get('title')!r}"
            check(panel.get("id") not in ids, f"{where}: duplicate id {panel.get('id')}")
            ids.add(panel.get("id"))
            check({"h", "w", "x", "y"} <= set(panel.get("gridPos") or {}), f"{where}: no gridPos")
            if panel.get("type") in ("row", "text"):
                continue
            check((panel.get("datasource") or {}).get("uid") == datasource_uid,
                  f"{where}: datasource must be uid {datasource_uid!r}")
            targets = panel.get("targets") or []
            check(bool(targets), f"{where}: no queries")
            for target in targets:
                check((target.get("datasource") or {}).get("uid", datasource_uid) == datasource_uid,
                      f"{where}: query datasource must be uid {datasource_uid!r}")
                expr = target.get("expr", "")
                if check(bool(expr.strip()), f"{where}: empty query"):
                    used |= check_query(where, expr, target.get("legendFormat", ""), metrics)
        for name in sorted(REQUIRED_ON_DASHBOARD - used):
            if path.stem == "switchboard":
                failures.append(f"{path.name}: no panel shows {name}")


def check_alerts(metrics: dict[str, tuple[str, set[str]]]) -> None:
    rules = yaml.safe_load(ALERTS.read_text())
    for group in rules.get("groups") or []:
        for rule in group.get("rules") or []:
            where = f"{ALERTS.name}: {rule.get('alert') or rule.get('record')}"
            check_query(where, str(rule.get("expr", "")), "", metrics)


def compose_mounts(compose: dict[str, Any], service: str) -> dict[str, Path]:
    """Returns {container path: host path} of a service's bind mounts."""
    mounts = {}
    for volume in (compose["services"].get(service) or {}).get("volumes") or []:
        parts = volume.split(":")
        if len(parts) >= 2 and parts[0].startswith("."):
            mounts[parts[1]] = (ROOT / parts[0]).resolve()
    return mounts


def check_grafana(compose: dict[str, Any]) -> str:
    """Checks the provisioning files against the grafana service; returns the datasource uid."""
    mounts = compose_mounts(compose, "grafana")
    check(mounts.get("/etc/grafana/provisioning") == PROVISIONING.resolve(),
          "docker-compose.yml: grafana must mount deploy/grafana/provisioning at /etc/grafana/provisioning")
    sources = yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yml").read_text())
    prometheus = [d for d in sources.get("datasources") or [] if d.get("type") == "prometheus"]
    uid = prometheus[0].get("uid", "") if prometheus else ""
    check(uid == "prometheus", "grafana datasource: a prometheus datasource with uid 'prometheus'")
    url = prometheus[0].get("url", "") if prometheus else ""
    host = re.sub(r"^https?://", "", url).split(":")[0].split("/")[0]
    check(host in compose["services"], f"grafana datasource: {url} is not a compose service")
    providers = yaml.safe_load((PROVISIONING / "dashboards" / "switchboard.yml").read_text())
    for provider in providers.get("providers") or []:
        path = (provider.get("options") or {}).get("path", "")
        check(mounts.get(path) == DASHBOARDS.resolve(),
              f"grafana dashboards provider reads {path}, where compose does not mount "
              "deploy/grafana/dashboards")
    home = (compose["services"]["grafana"].get("environment") or {}).get(
        "GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
    if home:
        folder, _, name = home.rpartition("/")
        check(mounts.get(folder) is not None and (mounts[folder] / name).is_file(),
              f"grafana home dashboard {home} is not a mounted file")
    return uid


def check_collector(compose: dict[str, Any]) -> None:
    config = yaml.safe_load(COLLECTOR.read_text())
    mounts = compose_mounts(compose, "otel-collector")
    check(COLLECTOR.resolve() in mounts.values(), "docker-compose.yml: otel-collector must mount "
          "deploy/otel-collector.yml")
    pipelines = (config.get("service") or {}).get("pipelines") or {}
    traces = pipelines.get("traces") or {}
    for section in ("receivers", "processors", "exporters"):
        for name in traces.get(section) or []:
            check(name in (config.get(section) or {}), f"{COLLECTOR.name}: {section} {name} undefined")
    protocols = ((config.get("receivers") or {}).get("otlp") or {}).get("protocols") or {}
    check(str((protocols.get("grpc") or {}).get("endpoint", "")).endswith(":4317")
          and str((protocols.get("http") or {}).get("endpoint", "")).endswith(":4318"),
          f"{COLLECTOR.name}: OTLP must listen on 4317 (gRPC) and 4318 (HTTP)")
    exporters = traces.get("exporters") or []
    check("debug" in exporters, f"{COLLECTOR.name}: traces should also go to the debug exporter")
    jaeger = [e for e in exporters if e.split("/")[0] in ("otlp", "otlphttp")
              and "jaeger" in str((config["exporters"].get(e) or {}).get("endpoint", ""))]
    check(bool(jaeger) and "jaeger" in compose["services"],
          f"{COLLECTOR.name}: traces must be exported to the jaeger service over OTLP")


def stage_prometheus(compose: dict[str, Any], stage: Path) -> None:
    mounts = compose_mounts(compose, "prometheus")
    config_path = "/etc/prometheus/prometheus.yml"
    if not check(config_path in mounts, f"docker-compose.yml: prometheus must mount {config_path}"):
        return
    for container_path, host_path in mounts.items():
        target = stage / container_path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(host_path.read_text())
    config = yaml.safe_load(mounts[config_path].read_text())
    rewritten = []
    for rule_file in config.get("rule_files") or []:
        check(not rule_file.startswith("/") or rule_file in mounts,
              f"prometheus.yml loads {rule_file}, which compose does not mount")
        rewritten.append(str(stage / rule_file.lstrip("/")) if rule_file.startswith("/") else rule_file)
    config["rule_files"] = rewritten
    (stage / config_path.lstrip("/")).write_text(yaml.safe_dump(config, sort_keys=False))


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    compose = yaml.safe_load(COMPOSE.read_text())
    metrics = documented_metrics()
    uid = check_grafana(compose)
    check_dashboards(metrics, uid or "prometheus")
    check_alerts(metrics)
    check_collector(compose)
    stage_prometheus(compose, Path(sys.argv[1]))
    for failure in failures:
        print(f"check_observability: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
