#!/usr/bin/env bash
# Offline check of the Kubernetes deployment (run by `make test` and `make check-deploy`):
#  - every file of deploy/config/ and deploy/config/templates/ is in a ConfigMap
#    (deploy/config/kustomization.yaml), so a new rule file or template reaches the cluster;
#  - each overlay renders with `kubectl kustomize` (no cluster needed);
#  - the rendered objects hold no Secret: secrets are only referenced, never in git;
#  - every object validates: core kinds strictly against Kubernetes' OpenAPI schemas, custom
#    resources (RabbitMQ, CloudNativePG, KEDA, Prometheus operator) against the JSON schemas
#    of ../shared/schemas, through ../shared/tools/validate-manifests (../shared/README.md).
# kubectl and the PyPI package kubernetes-validate come with `deploy/local/stack.sh install`
# (kubectl from the machine's package registry: Debian's own kubernetes-client is too old).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
root=$(cd "$here/../.." && pwd -P)
# CI clones the repository beside shared/; a developer's checkout has it at the same place.
shared=${ISMS_SHARED_DIR:-$root/../shared}
validator=$shared/tools/validate-manifests
[[ -f $validator ]] || { echo "k8s-check: no $validator (../shared beside the repository)" >&2; exit 1; }

if ! command -v kubectl >/dev/null || ! python3 -c 'import kubernetes_validate, yaml, jsonschema' 2>/dev/null; then
    "$root/deploy/local/stack.sh" install
fi
command -v kubectl >/dev/null || { echo "k8s-check: kubectl is missing (apt-get install kubectl; Kustomize 5 needed)" >&2; exit 1; }

python3 - "$root/deploy/config" <<'PY'
import pathlib, sys, yaml
config = pathlib.Path(sys.argv[1])
listed = set()
for generator in yaml.safe_load((config / "kustomization.yaml").read_text())["configMapGenerator"]:
    listed.update(generator.get("files", []))
present = {p.name for p in config.glob("*.yaml") if p.name != "kustomization.yaml"}
present |= {f"templates/{p.name}" for p in (config / "templates").iterdir() if p.is_file()}
missing, stale = sorted(present - listed), sorted(listed - present)
for name in missing:
    print(f"k8s-check: deploy/config: {name} is in no ConfigMap of deploy/config/kustomization.yaml", file=sys.stderr)
for name in stale:
    print(f"k8s-check: deploy/config/kustomization.yaml lists {name}, which does not exist", file=sys.stderr)
sys.exit(1 if missing or stale else 0)
PY

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
status=0
for overlay in dev prod; do
    rendered=$out/$overlay.yaml
    kubectl kustomize "$here/overlays/$overlay" >"$rendered"
    if grep -qE '^kind: Secret$' "$rendered"; then
        echo "k8s-check: overlays/$overlay renders a Secret: reference Secrets the operator creates instead" >&2
        status=1
    fi
    report=$out/$overlay.txt
    if python3 "$validator" --schema-dir "$shared/schemas" "$rendered" >"$report"; then :; else status=1; fi
    grep -v '^ok ' "$report" | grep -v ' failed$' >&2 || true
    ok=$(grep -c '^ok ' "$report" || true)
    crd=$(grep -c '^ok .*\[crd schema' "$report" || true)
    failed=$(grep -c '^FAIL ' "$report" || true)
    echo "k8s-check: overlays/$overlay: $((ok + failed)) objects, $ok valid ($((ok - crd)) core strict, $crd custom resources), $failed failed"
done
exit $status
