#!/usr/bin/env python3
"""Validates FHIR Bundles (JSON files) as FHIR R4.

Usage: validate_fhir.py [--schema fhir.schema.json] BUNDLE.json [...]

With --schema, each Bundle is first validated against the FHIR R4 JSON Schema (the one HL7
publishes with the specification, `fhir.schema.json`, draft-06) with jsonschema; a copy of the
Bundle with an element FHIR does not define is then validated too and must be refused, so that a
schema that accepts anything cannot pass the check.

Then against the FHIR resource models of fhir.resources: its R4B package is FHIR 4.3, the
technical correction of R4 (4.0.1) with the same Bundle, Organization and Location. The models
check resource types, element names and types, cardinality and the primitive formats (id,
dateTime, uri); neither check holds codes against their value sets.
"""

import copy
import json
import sys

import jsonschema
from fhir.resources.R4B.bundle import Bundle

SCHEMA_ID = "http://hl7.org/fhir/json-schema/4.0"


def schema_errors(validator, document):
    return sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))


def check_schema(validator, path, bundle):
    errors = schema_errors(validator, bundle)
    if errors:
        # The schema is a oneOf over every resource type: name the deepest reason.
        best = jsonschema.exceptions.best_match(errors)
        where = "/".join(str(p) for p in best.absolute_path) or "(root)"
        sys.exit(f"{path}: not valid against the FHIR R4 JSON Schema: {where}: {best.message[:500]}")
    entries = bundle.get("entry") or []
    organization = next(
        (e["resource"] for e in entries if e.get("resource", {}).get("resourceType") == "Organization"),
        None,
    )
    if organization is None:
        sys.exit(f"{path}: the Bundle lists no Organization to check the schema with")
    broken = copy.deepcopy(bundle)
    for entry in broken["entry"]:
        if entry["resource"].get("resourceType") == "Organization":
            entry["resource"]["agbCode"] = organization["identifier"][0]["value"]
            break
    if not schema_errors(validator, broken):
        sys.exit(f"{path}: the schema accepted an Organization with an undefined element")
    print(f"{path}: valid against the FHIR R4 JSON Schema ({SCHEMA_ID})")


def main(argv):
    schema = None
    if argv[:1] == ["--schema"]:
        if len(argv) < 2:
            sys.exit("usage: validate_fhir.py [--schema fhir.schema.json] BUNDLE.json [...]")
        with open(argv[1], encoding="utf-8") as handle:
            schema = json.load(handle)
        if schema.get("id") != SCHEMA_ID:
            sys.exit(f"{argv[1]}: not the FHIR R4 JSON Schema (id {schema.get('id')!r})")
        argv = argv[2:]
    if not argv:
        sys.exit("usage: validate_fhir.py [--schema fhir.schema.json] BUNDLE.json [...]")
    validator = jsonschema.Draft6Validator(schema) if schema is not None else None
    for path in argv:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        if validator is not None:
            check_schema(validator, path, json.loads(text))
        try:
            bundle = Bundle.model_validate_json(text)
        except Exception as error:  # pydantic's ValidationError names every invalid element
            sys.exit(f"{path}: not a valid FHIR R4 Bundle:\n{error}")
        kinds = sorted({entry.resource.get_resource_type() for entry in bundle.entry or []})
        print(f"{path}: valid FHIR Bundle ({len(bundle.entry or [])} entries: {', '.join(kinds)})")


if __name__ == "__main__":
    main(sys.argv[1:])
