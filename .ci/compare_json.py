"""Compare two JSON documents semantically (key order and formatting ignored).

Usage: compare_json.py EXPECTED ACTUAL

Exits 0 when equal; otherwise prints up to 20 differing paths and exits 1.
"""

import json
import sys
from typing import Any, Iterator

LIMIT = 20


def differences(a: Any, b: Any, path: str = "$") -> Iterator[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            child = f"{path}.{key}"
            if key not in b:
                yield f"{child}: missing in the actual document"
            elif key not in a:
                yield f"{child}: not in the expected document"
            else:
                yield from differences(a[key], b[key], child)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for index, (x, y) in enumerate(zip(a, b)):
            yield from differences(x, y, f"{path}[{index}]")
    elif a != b or type(a) is not type(b):
        yield f"{path}: {json.dumps(a)[:80]} != {json.dumps(b)[:80]}"


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    documents = []
    for name in sys.argv[1:]:
        with open(name, encoding="utf-8") as fh:
            documents.append(json.load(fh))
    found = list(differences(*documents))
    for line in found[:LIMIT]:
        print(f"    {line}", file=sys.stderr)
    if len(found) > LIMIT:
        print(f"    ... and {len(found) - LIMIT} more", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
