"""The alerting rules and the dashboard that ship with the project name only metrics the application exports.

A parser reads each PromQL expression's metric names (what remains once strings, label
matchers, ranges, grouping clauses, functions and keywords are taken out) and checks each
against the sample names of ``observability.instruments`` and the scrape-time collector. Where
``promtool`` is installed (Debian's ``prometheus`` package) the rules also pass ``promtool check rules``.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from observability import instruments
from observability.collector import _families
from projections.runtime.status import ConsumerHealth, State

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "orders.json"
REQUIRED_ALERTS = {
    "OrdersConsumerStuck", "OrdersConsumerLagHigh", "OrdersConsumerParkedStreams", "OrdersRestoreDetected",
    "OrdersWebhookEndpointDisabled", "OrdersHttpErrorRate",
}  # fmt: skip
_SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created"), "gauge": ("",)}
_KEYWORDS = {
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "inf",
    "nan",
}


def exported_samples() -> set[str]:
    """Every sample name the application can expose under ``orders_``."""
    names = set()
    for metric in vars(instruments).values():
        if isinstance(metric, MetricWrapperBase):
            names |= {metric._name + suffix for suffix in _SUFFIXES[metric._type]}
    row = ConsumerHealth(
        name="c", kind="projection", position=0, timeline=1, current_timeline=1, head=0, lag_events=0,
        lag_seconds=0.0, events_applied=0, last_applied_at=None, heartbeat_at=None, parked=0, last_error=None,
        state=State.IDLE,
    )  # fmt: skip
    for family in _families([row]):
        names |= {family.name + suffix for suffix in _SUFFIXES[family.type]}
    names.add("orders_consumer_status_up")
    return names


def metric_names(expression: str) -> set[str]:
    text = re.sub(r'"(?:[^"\\]|\\.)*"', "", expression)  # strings (label values, legends)
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges, $__rate_interval
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)  # grouping labels
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        name = match.group(0)
        if text[match.end() :].lstrip().startswith("(") or name.lower() in _KEYWORDS:
            continue  # a function or an operator keyword
        names.add(name)
    return names


def alert_rules() -> list[dict]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def dashboard_expressions() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel["targets"]]


def test_the_parser_finds_metric_names_and_nothing_else():
    expression = (
        'sum by (le, route) (rate(orders_x_bucket{route=~"a|b"}[5m])) / on(job) orders_y > bool 0.5 and orders_z'
    )
    assert metric_names(expression) == {"orders_x_bucket", "orders_y", "orders_z"}


def test_every_required_alert_is_there_with_a_summary():
    rules = alert_rules()
    assert {rule["alert"] for rule in rules} >= REQUIRED_ALERTS
    for rule in rules:
        assert rule["annotations"]["summary"] and rule["labels"]["severity"] in {"page", "warning"}


@pytest.mark.parametrize("source", ["alerts", "dashboard"])
def test_every_expression_names_only_exported_metrics(source):
    expressions = [rule["expr"] for rule in alert_rules()] if source == "alerts" else dashboard_expressions()
    exported = exported_samples()
    assert expressions
    for expression in expressions:
        names = metric_names(expression)
        assert names, expression
        assert names <= exported, (expression, names - exported)


def test_the_rules_pass_promtool_where_it_is_installed():
    promtool = shutil.which("promtool")
    if promtool is None:  # the parser tests above still ran; promtool adds PromQL's own syntax check
        return
    result = subprocess.run([promtool, "check", "rules", str(ALERTS)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
