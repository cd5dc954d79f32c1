"""The deploy files, checked offline (no Docker engine, no cluster here): the Kubernetes
manifests against the Kubernetes API's schemas (kubernetes-validate, strict: an unknown
field fails), the compose file against the Compose Specification's schema (the copy
check-jsonschema ships), and both against what the rest of deploy/ says."""

from __future__ import annotations

import json
import re
import shlex
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from support.fixtures import ROOT

DEPLOY = ROOT / "deploy"
KUBERNETES_VERSION = "1.30"  # CronJob.spec.timeZone is GA from 1.27


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def _manifests() -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        for doc in _documents(path):
            found[(doc["kind"], doc["metadata"]["name"])] = doc
    return found


@pytest.mark.parametrize(
    "path", sorted((DEPLOY / "kubernetes").glob("*.yaml")), ids=lambda path: path.name
)
def test_kubernetes_manifests_are_valid(path: Path) -> None:
    documents = _documents(path)
    assert documents
    for document in documents:
        try:
            kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
        except jsonschema.ValidationError as error:  # kubernetes-validate raises a subclass
            pytest.fail(f"{path.name}: {document['kind']} {document['metadata']['name']}: {error}")


def _pod(workload: dict[str, Any]) -> dict[str, Any]:
    spec = workload["spec"]
    if workload["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    pod: dict[str, Any] = spec["template"]["spec"]
    return pod


def test_kubernetes_workloads_are_probed_bounded_and_kept_available() -> None:
    manifests = _manifests()
    web = manifests[("Deployment", "agora-web")]
    (container,) = _pod(web)["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    # Redis away must not take every node out of service: voting goes on without it.
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz?optional=redis"
    assert web["spec"]["replicas"] >= 2
    budget = manifests[("PodDisruptionBudget", "agora-web")]
    assert budget["spec"]["selector"]["matchLabels"] == web["spec"]["selector"]["matchLabels"]
    assert budget["spec"]["minAvailable"] == 1
    service = manifests[("Service", "agora-web")]
    assert service["spec"]["selector"] == web["spec"]["selector"]["matchLabels"]
    ingress = manifests[("Ingress", "agora")]
    hosts = {rule["host"] for rule in ingress["spec"]["rules"]}
    assert any(host.startswith("*.") for host in hosts), hosts  # every commune's sub-domain
    for (kind, name), workload in manifests.items():
        if kind in ("Deployment", "Job", "CronJob"):
            for container in _pod(workload)["containers"]:
                resources_ = container["resources"]
                assert resources_["requests"]["cpu"] and resources_["limits"]["memory"], name


def test_kubernetes_runs_the_daily_commands_of_the_systemd_timer() -> None:
    unit = (DEPLOY / "systemd" / "agora-daily.service").read_text(encoding="utf-8")
    daily = {
        tuple(shlex.split(line.removeprefix("ExecStart="))[1:])
        for line in unit.splitlines()
        if line.startswith("ExecStart=")
    }
    scheduled = {
        tuple(_pod(doc)["containers"][0]["args"][1:])
        for (kind, _), doc in _manifests().items()
        if kind == "CronJob" and doc["metadata"]["labels"]["app.kubernetes.io/component"] == "daily"
    }
    assert daily and scheduled == daily


def _compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    return document


def test_compose_file_follows_the_compose_specification() -> None:
    schema = json.loads(
        resources.files("check_jsonschema.builtin_schemas.vendor")
        .joinpath("compose-spec.json")
        .read_text(encoding="utf-8")
    )
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(_compose())
    ]
    assert not errors, "\n".join(errors)


def test_compose_runs_two_app_nodes_behind_nginx_with_a_replica() -> None:
    services = _compose()["services"]
    assert {
        "db",
        "db-replica",
        "redis",
        "migrate",
        "web-1",
        "web-2",
        "worker",
        "nginx",
        "backup",
    } <= (set(services))
    assert services["worker"]["deploy"]["replicas"] == 2
    # nginx balances exactly the sockets the two app nodes bind.
    bound = {
        socket
        for name in ("web-1", "web-2")
        for socket in re.findall(r"unix:(\S+)", services[name]["environment"]["GUNICORN_CMD_ARGS"])
    }
    upstream = (DEPLOY / "nginx" / "compose-upstream.conf").read_text(encoding="utf-8")
    assert set(re.findall(r"^server unix:(\S+)", upstream, re.MULTILINE)) == bound
    assert len(bound) == 2
    mounts = {volume.split(":")[1] for volume in services["nginx"]["volumes"]}
    assert "/etc/nginx/snippets/agora-upstream.conf" in mounts
    # The replica is cloned from the primary, and the backup dumps as the backup role.
    assert "pg_basebackup --host=db" in services["db-replica"]["entrypoint"][-1]
    assert "agora_backup@db" in services["backup"]["environment"]["AGORA_BACKUP_DATABASE_URL"]
