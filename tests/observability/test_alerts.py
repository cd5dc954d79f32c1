"""The documented alert rules load, and name only metrics the application exports (or
Prometheus's own ``up``): an alert on a misspelt metric would never fire."""

from __future__ import annotations

import re

import yaml

from agora.observability.metrics import EXPORTED
from support.fixtures import ROOT

RULES = ROOT / "deploy/prometheus/alerts.yml"
#: A histogram is exported as these series.
_HISTOGRAM_SERIES = re.compile(r"_(bucket|count|sum)$")


def test_every_alert_names_exported_metrics_and_is_documented() -> None:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert {rule["alert"] for rule in rules} >= {
        "AgoraNotReady",
        "AgoraHigh5xxRate",
        "AgoraVoteLatencyHigh",
        "AgoraJobsFailing",
        "AgoraQueueBacklog",
    }
    documented = (ROOT / "deploy/README.md").read_text(encoding="utf-8")
    for rule in rules:
        assert rule["labels"]["severity"] in ("page", "ticket"), rule["alert"]
        assert f"`{rule['alert']}`" in documented, rule["alert"]
        names = set(re.findall(r"\bagora_[a-z_]+", rule["expr"]))
        assert names or rule["expr"].startswith("up{"), rule["alert"]
        for name in names:
            assert _HISTOGRAM_SERIES.sub("", name) in EXPORTED, (
                rule["alert"],
                name,
            )
