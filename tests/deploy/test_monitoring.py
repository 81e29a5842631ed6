"""Monitoring as code (deploy/monitoring): promtool accepts the Prometheus config and the alert
rules and the rules' unit tests pass; the rules and the Grafana dashboard only use series the
app exports; Grafana's provisioning points at the dashboards; the public Caddy site never
forwards /metrics, and Caddy's own metrics listen apart."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest
import yaml

from bitchange.config import PROJECT_ROOT
from bitchange.ops import metrics

MONITORING = PROJECT_ROOT / "deploy" / "monitoring"
DASHBOARD = MONITORING / "grafana" / "dashboards" / "bitchange.json"
COMPOSE = PROJECT_ROOT / "docker-compose.monitoring.yml"
# Read from the database at scrape time (metrics.ExchangeCollector).
COLLECTED = {
    "bitchange_database_up", "bitchange_open_orders", "bitchange_pending_withdrawals",
    "bitchange_outbox_backlog", "bitchange_outbox_failed",
    "bitchange_outbox_oldest_pending_age_seconds", "bitchange_ledger_reconcile_ok",
    "bitchange_ledger_reconcile_last_success_timestamp_seconds",
    "bitchange_job_last_success_timestamp_seconds", "bitchange_backup_configured",
    "bitchange_backup_last_success_timestamp_seconds", "bitchange_backup_age_seconds",
    "bitchange_scheduler_enabled", "bitchange_scheduler_leader", "bitchange_disk_free_bytes",
    "bitchange_disk_size_bytes",
}


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    if not shutil.which("promtool"):
        pytest.fail("promtool is not installed (Debian package `prometheus`)")
    return subprocess.run(["promtool", *args], cwd=MONITORING, capture_output=True, text=True,
                          timeout=120, check=False)


def exported() -> set[str]:
    """Every series name the app can export."""
    names = set(COLLECTED)
    for item in vars(metrics).values():
        if hasattr(item, "_type") and hasattr(item, "_name"):
            name = item._name
            if item._type == "counter":
                names.add(f"{name}_total")
            elif item._type == "histogram":
                names |= {f"{name}_bucket", f"{name}_count", f"{name}_sum"}
            else:
                names.add(name)
    return names


def used_in(expression: str) -> set[str]:
    return set(re.findall(r"\bbitchange_[a-z_]+", expression))


def test_promtool_checks_the_config_and_the_rules():
    config = _promtool("check", "config", "prometheus.yml")
    assert config.returncode == 0, config.stdout + config.stderr
    rules = _promtool("check", "rules", "alerts.yml")
    assert rules.returncode == 0, rules.stdout + rules.stderr
    assert "SUCCESS: 11 rules found" in rules.stdout


def test_the_alert_rules_unit_tests_pass():
    done = _promtool("test", "rules", "alerts_test.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_the_alerts_cover_the_operations_plan():
    rules = yaml.safe_load((MONITORING / "alerts.yml").read_text())["groups"][0]["rules"]
    by_name = {rule["alert"]: rule["expr"] for rule in rules}
    assert "26 * 3600" in by_name["BitchangeBackupStale"]
    assert "bitchange_ledger_reconcile_ok == 0" in by_name["BitchangeReconcileFailed"]
    assert "delta(bitchange_outbox_backlog" in by_name["BitchangeOutboxBacklogGrowing"]
    assert 'status=~"5.."' in by_name["BitchangeHighErrorRate"]
    assert "bitchange_scheduler_leader" in by_name["BitchangeNoSchedulerLeader"]
    assert "predict_linear(bitchange_disk_free_bytes" in by_name["BitchangeDiskFilling"]
    assert by_name["BitchangeNodeDown"] == 'up{job="bitchange"} == 0'
    unknown = set().union(*map(used_in, by_name.values())) - exported()
    assert unknown == set()


def test_the_dashboard_shows_only_exported_series():
    dashboard = json.loads(DASHBOARD.read_text())
    expressions = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = set().union(*map(used_in, expressions))
    assert used - exported() == set()
    for wanted in ("bitchange_order_placement_seconds_bucket", "bitchange_match_seconds_bucket",
                   "bitchange_trades_total", "bitchange_open_orders",
                   "bitchange_pending_withdrawals", "bitchange_ledger_reconcile_ok",
                   "bitchange_outbox_backlog", "bitchange_backup_age_seconds",
                   "bitchange_job_runs_total", "bitchange_logins_total",
                   "bitchange_live_screens", "bitchange_api_stream_clients",
                   "bitchange_http_requests_total", "bitchange_rate_limited_total"):
        assert wanted in used, wanted
    assert {p["datasource"]["uid"] for p in dashboard["panels"]} == {"bitchange-prometheus"}
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def test_grafana_provisioning_and_the_compose_file():
    datasource = yaml.safe_load((MONITORING / "grafana" / "provisioning" / "datasources" /
                                 "prometheus.yml").read_text())["datasources"][0]
    assert datasource["uid"] == "bitchange-prometheus"
    assert datasource["url"] == "http://prometheus:9090"
    provider = yaml.safe_load((MONITORING / "grafana" / "provisioning" / "dashboards" /
                               "bitchange.yml").read_text())["providers"][0]
    compose = yaml.safe_load(COMPOSE.read_text())["services"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in compose["grafana"]["volumes"]}
    assert mounts[provider["options"]["path"]] == "./deploy/monitoring/grafana/dashboards"
    for service in ("prometheus", "grafana"):
        for volume in compose[service]["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (PROJECT_ROOT / source).exists(), source
        assert all(port.startswith("127.0.0.1:") for port in compose[service]["ports"])
    scrape = yaml.safe_load((MONITORING / "prometheus.yml").read_text())["scrape_configs"]
    jobs = {job["job_name"]: job for job in scrape}
    assert jobs["bitchange"]["metrics_path"] == "/metrics"
    assert jobs["caddy"]["static_configs"][0]["targets"] == ["caddy:9180"]


def test_the_public_site_never_forwards_metrics():
    done = subprocess.run(["caddy", "adapt", "--config", str(PROJECT_ROOT / "Caddyfile"),
                           "--adapter", "caddyfile"],
                          env={**os.environ, "DOMAIN": "exchange.example.com"},
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    servers = json.loads(done.stdout)["apps"]["http"]["servers"]
    public = next(s for s in servers.values() if s["listen"] == [":443"])
    routes = public["routes"][0]["handle"][0]["routes"]  # the site's handle blocks, in order
    paths = [[p for m in r.get("match", []) for p in m.get("path", [])] for r in routes]
    blocked = paths.index(["/metrics*"])
    assert '"status_code": 404' in json.dumps(routes[blocked]["handle"])
    assert "reverse_proxy" not in json.dumps(routes[blocked]["handle"])
    assert all("/metrics*" not in p for p in paths[:blocked])  # nothing proxies it before
    assert public["read_header_timeout"] == 10 * 10**9 and public["max_header_bytes"] == 32000
    assert "write_timeout" not in public  # it would end the WebSocket
    own = next(s for s in servers.values() if s["listen"] == [":9180"])
    assert '"handler": "metrics"' in json.dumps(own)
