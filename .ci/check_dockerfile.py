"""Static checks of a Dockerfile without Docker.

Usage: check_dockerfile.py DOCKERFILE [CONTEXT]

CONTEXT defaults to the current directory (the build context used by
docker-compose.yml). The file is parsed with the BuildKit parser (Python
package `dockerfile`), then checked for:
  - known instructions with arguments, FROM before everything but ARG;
  - unique stage names; COPY --from / RUN --mount from= naming an earlier
    stage (or an image reference);
  - exec (JSON) form for ENTRYPOINT and CMD;
  - a non-root USER in the final stage;
  - COPY/ADD sources that exist in the context and are not excluded by
    .dockerignore.
"""

from __future__ import annotations

import glob
import re
import sys
from pathlib import Path

import dockerfile

KNOWN = {name.upper() for name in dockerfile.all_cmds()}


def dockerignore_patterns(context: Path) -> list[tuple[bool, re.Pattern[str]]]:
    path = context / ".dockerignore"
    if not path.is_file():
        return []
    patterns = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        line = line.lstrip("!").strip().strip("/")
        regex = ""
        i = 0
        while i < len(line):
            if line.startswith("**/", i):
                regex += "(?:.*/)?"
                i += 3
            elif line.startswith("**", i):
                regex += ".*"
                i += 2
            elif line[i] == "*":
                regex += "[^/]*"
                i += 1
            elif line[i] == "?":
                regex += "[^/]"
                i += 1
            else:
                regex += re.escape(line[i])
                i += 1
        patterns.append((negated, re.compile(f"{regex}(?:/.*)?")))
    return patterns


def is_ignored(relative: str, patterns: list[tuple[bool, re.Pattern[str]]]) -> bool:
    ignored = False
    for negated, regex in patterns:
        if regex.fullmatch(relative):
            ignored = not negated
    return ignored


def main() -> int:
    if len(sys.argv) not in (2, 3):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    path = Path(sys.argv[1])
    context = Path(sys.argv[2] if len(sys.argv) == 3 else ".").resolve()
    errors: list[str] = []

    try:
        commands = dockerfile.parse_file(str(path))
    except (OSError, dockerfile.GoIOError, dockerfile.GoParseError) as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 1

    ignore = dockerignore_patterns(context)
    stages: list[str] = []
    seen_from = False
    final_user: str | None = None

    for command in commands:
        where = f"{path}:{command.start_line}"
        cmd = command.cmd.upper()
        if cmd not in KNOWN:
            errors.append(f"{where}: unknown instruction {command.cmd}")
            continue
        if not any(v.strip() for v in command.value) and not command.heredocs:
            errors.append(f"{where}: {cmd} without arguments")
            continue
        if cmd == "FROM":
            seen_from = True
            final_user = None
            value = list(command.value)
            if len(value) == 3 and value[1].upper() == "AS":
                name = value[2].lower()
                if name in stages:
                    errors.append(f"{where}: duplicate stage name {name}")
                stages.append(name)
            elif len(value) == 1:
                stages.append(f"#{len(stages)}")
            else:
                errors.append(f"{where}: malformed FROM")
            continue
        if not seen_from and cmd != "ARG":
            errors.append(f"{where}: {cmd} before the first FROM")
        if cmd == "USER":
            final_user = command.value[0]
        if cmd in ("ENTRYPOINT", "CMD") and not command.json:
            errors.append(f"{where}: use the exec (JSON array) form for {cmd}")

        flags = dict(f.lstrip("-").split("=", 1) if "=" in f else (f.lstrip("-"), "") for f in command.flags)
        references = []
        if cmd in ("COPY", "ADD") and "from" in flags:
            references.append(flags["from"])
        for flag in command.flags:
            if flag.startswith("--mount="):
                options = dict(o.split("=", 1) for o in flag[len("--mount=") :].split(",") if "=" in o)
                if "from" in options:
                    references.append(options["from"])
        for reference in references:
            earlier = stages[:-1]
            if reference.lower() in earlier or (reference.isdigit() and int(reference) < len(earlier)):
                continue
            if reference.lower() == stages[-1]:
                errors.append(f"{where}: stage {reference} refers to itself")
            elif not any(c in reference for c in ":/."):
                errors.append(f"{where}: --from={reference} names no earlier stage")

        if cmd in ("COPY", "ADD") and "from" not in flags and not command.heredocs:
            sources = list(command.value[:-1])
            for source in sources:
                if "://" in source or source.startswith("$"):
                    continue
                relative = source.lstrip("/").rstrip("/") or "."
                matches = [relative] if relative == "." else glob.glob(relative, root_dir=context)
                if not matches:
                    errors.append(f"{where}: {cmd} source {source} not found in the build context")
                for match in matches:
                    if match != "." and is_ignored(match, ignore):
                        errors.append(f"{where}: {cmd} source {match} is excluded by .dockerignore")

    if not seen_from:
        errors.append(f"{path}: no FROM instruction")
    if final_user is None or final_user.split(":")[0] in ("root", "0"):
        errors.append(f"{path}: the final stage should switch to a non-root USER")

    for required in ("Cargo.toml", "Cargo.lock"):
        if is_ignored(required, ignore):
            errors.append(f".dockerignore excludes {required}, which the build needs")

    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    if errors:
        return 1
    print(f"{path}: ok ({len(stages)} stages, {len(commands)} instructions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
