#!/usr/bin/env python3
"""Validates FHIR Bundles (JSON files) against the FHIR R4 resource models of fhir.resources.

Usage: validate_fhir.py BUNDLE.json [...]

fhir.resources generates its models from the FHIR StructureDefinitions; its R4B package is FHIR
4.3, the technical correction of R4 (4.0.1) with the same Bundle, Organization and Location. The
models check resource types, element names and types, cardinality and the primitive formats
(id, dateTime, uri); they do not check codes against their value sets.
"""

import sys

from fhir.resources.R4B.bundle import Bundle


def main(paths):
    if not paths:
        sys.exit("usage: validate_fhir.py BUNDLE.json [...]")
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        try:
            bundle = Bundle.model_validate_json(text)
        except Exception as error:  # pydantic's ValidationError names every invalid element
            sys.exit(f"{path}: not a valid FHIR R4 Bundle:\n{error}")
        kinds = sorted({entry.resource.get_resource_type() for entry in bundle.entry or []})
        print(f"{path}: valid FHIR Bundle ({len(bundle.entry or [])} entries: {', '.join(kinds)})")


if __name__ == "__main__":
    main(sys.argv[1:])
