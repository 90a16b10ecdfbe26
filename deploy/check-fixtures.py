#!/usr/bin/env python3
"""Validates the golden contract fixtures against their JSON Schemas, offline.

Fixture  Tests/ContractsTests/Fixtures/<name>.json
Schema   Shared/Contracts/Schemas/<name>.schema.json   (the payload: CloudEvents `data`)

A fixture that is a whole CloudEvents envelope (it has `specversion`) is validated in two
parts: its `data` against <name>.schema.json (unless that schema itself describes the
envelope), and the envelope against an envelope schema if one exists
(envelope.schema.json or cloudevent(s).schema.json). Every schema is checked against its
metaschema; `$ref`s between schema files resolve by file name or `$id`.
Skips cleanly (exit 0) while either folder does not exist yet.
"""
import json
import pathlib
import sys

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "Shared/Contracts/Schemas"
FIXTURES = ROOT / "Tests/ContractsTests/Fixtures"
ENVELOPE_NAMES = ("envelope", "cloudevent", "cloudevents")


def main() -> int:
    fixtures = sorted(FIXTURES.glob("*.json")) if FIXTURES.is_dir() else []
    schema_files = sorted(SCHEMAS.glob("*.schema.json")) if SCHEMAS.is_dir() else []
    if not fixtures or not schema_files:
        print("check-fixtures: no fixtures or schemas yet: skipped")
        return 0

    errors: list[str] = []
    schemas: dict[str, dict] = {}
    registry = Registry()
    for path in schema_files:
        name = path.name[: -len(".schema.json")]
        try:
            schema = json.loads(path.read_text())
            jsonschema.validators.validator_for(schema).check_schema(schema)
        except (ValueError, jsonschema.SchemaError) as error:
            errors.append(f"{path.relative_to(ROOT)}: not a valid JSON Schema: {error}")
            continue
        schemas[name] = schema
        resource = Resource.from_contents(schema, default_specification=DRAFT202012)
        registry = registry.with_resource(path.name, resource)
        registry = registry.with_resource(path.resolve().as_uri(), resource)
        if isinstance(schema.get("$id"), str):
            registry = registry.with_resource(schema["$id"], resource)

    envelope = next((schemas[n] for n in ENVELOPE_NAMES if n in schemas), None)

    def validate(instance, schema, what: str) -> None:
        cls = jsonschema.validators.validator_for(schema)
        validator = cls(schema, registry=registry, format_checker=cls.FORMAT_CHECKER)
        for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            errors.append(f"{what}: {where}: {error.message}")

    checked = 0
    for path in fixtures:
        name = path.stem
        what = str(path.relative_to(ROOT))
        try:
            fixture = json.loads(path.read_text())
        except ValueError as error:
            errors.append(f"{what}: not JSON: {error}")
            continue
        schema = schemas.get(name)
        if schema is None:
            if name in ENVELOPE_NAMES:
                continue
            errors.append(f"{what}: no schema Shared/Contracts/Schemas/{name}.schema.json")
            continue
        is_envelope = isinstance(fixture, dict) and "specversion" in fixture
        describes_envelope = "specversion" in schema.get("properties", {})
        if is_envelope and not describes_envelope:
            validate(fixture.get("data"), schema, f"{what} (data)")
            if envelope is not None:
                validate(fixture, envelope, f"{what} (envelope)")
        else:
            validate(fixture, schema, what)
        checked += 1

    for error in errors:
        print(f"check-fixtures: {error}", file=sys.stderr)
    print(f"check-fixtures: {checked} fixtures against {len(schemas)} schemas, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
