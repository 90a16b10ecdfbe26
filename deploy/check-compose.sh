#!/usr/bin/env bash
# Offline consistency of the container deployment with Package.swift:
#  - every docker-compose.yml service that runs the isms image runs an executable product,
#  - every service executable (all products but the `isms` tool) has a compose service,
#  - the Dockerfile ships exactly the executable products.
# The Compose Specification itself is checked by check-jsonschema (make check-deploy).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="${PATH}${PATH:+:}/opt/swift/usr/bin"

manifest=$(mktemp)
trap 'rm -f "$manifest"' EXIT
swift package dump-package >"$manifest"

python3 - "$manifest" docker-compose.yml deploy/Dockerfile <<'PY'
import json, re, shlex, sys
import yaml

manifest, compose_path, dockerfile_path = sys.argv[1:4]
products = {p["name"] for p in json.load(open(manifest))["products"] if "executable" in p["type"]}
# Tools, not services: `isms` runs as a one-shot (migrate, import); the benchmark is not shipped.
tools = {"isms", "isms-bench"}
not_shipped = {"isms-bench"}
compose = yaml.safe_load(open(compose_path))
errors = []

def programs(service):
    """The programs a service runs: the command's first word, or each word after && ; when it is a shell script."""
    command = service.get("command", [])
    entrypoint = service.get("entrypoint", [])
    words = lambda v: shlex.split(v) if isinstance(v, str) else [str(w) for w in v]
    argv = words(entrypoint) + words(command)
    if not argv:
        return []
    if argv[0] in ("sh", "/bin/sh", "bash", "/bin/bash") and "-c" in argv:
        script = " ".join(argv[argv.index("-c") + 1:])
        return [shlex.split(part)[0] for part in re.split(r"&&|;|\|\|", script) if part.strip()]
    return [argv[0]]

ours = {name: s for name, s in compose["services"].items()
        if "build" in s or str(s.get("image", "")).split(":")[0].endswith("isms")}
if not ours:
    errors.append("no service in docker-compose.yml runs the isms image")
long_running = set()
for name, service in ours.items():
    progs = programs(service)
    if not progs:
        errors.append(f"service {name}: no command")
    for prog in progs:
        prog = prog.rsplit("/", 1)[-1]
        if prog not in products:
            errors.append(f"service {name}: runs {prog!r}, which is not an executable product of Package.swift")
        elif prog not in tools:
            long_running.add(prog)
for product in sorted(products - tools - long_running):
    errors.append(f"executable product {product!r} has no service in docker-compose.yml")

dockerfile = open(dockerfile_path).read()
match = re.search(r'^ARG PRODUCTS="([^"]*)"', dockerfile, re.M)
shipped = set(match.group(1).split()) if match else set()
if shipped != products - not_shipped:
    errors.append(f"deploy/Dockerfile PRODUCTS {sorted(shipped)} != executable products {sorted(products - not_shipped)}")

for e in errors:
    print(f"check-compose: {e}", file=sys.stderr)
if errors:
    sys.exit(1)
print(f"check-compose: {len(ours)} services, {len(products)} executable products: consistent")
PY
